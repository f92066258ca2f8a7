# The database connection is lost under a create whose credential check
# came from the per-process cache (as it does in production for 30 s):
# the insert is then the first statement on a dead pooled connection. The
# answer is the contract's 503 with Retry-After (the database was not
# reachable), not a 500; nothing is left behind, and the next create on
# the same (reset) connection works.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT document_names wait_until customers_of);
use LWP::UserAgent ();
use HTTP::Request::Common ();
use Time::HiRes ();

# Kills the database sessions of httpd's children (no application_name;
# psql and the daemon set one), as a failover or a restart does.
sub kill_httpd_sessions {
    return psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        . "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        . "AND backend_type = 'client backend' AND application_name = ''");
}

sub create_via {
    my ($ua, $token) = @_;
    my %f = valid_fields();
    my $req = HTTP::Request::Common::POST(base_url() . '/customers',
        Content_Type => 'form-data',
        Content => [ (map { $_ => $f{$_} } sort keys %f),
            id_document_front => [doc_path('id-front.jpg')],
            id_document_back => [doc_path('id-back.png')] ]);
    $req->header(Authorization => "Bearer $token");
    return $ua->request($req);
}

my $c = company();
my $t = token($c);
# Keep-alive: every request below is served by the same httpd child, so
# the create finds the credential in that child's cache.
my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
my $r = create_via($ua, $t);
is($r->code, 201, 'before: a create works') or diag($r->content);
my $id = json_of($r)->{data}{id};

for my $round (1 .. 3) {
    # Past CartevoAuthCacheSeconds (1 in the tests): the GET refreshes the
    # cache, so the create right after it sends no credential query.
    Time::HiRes::sleep(1.1);
    my $g = $ua->get(base_url() . "/customers/$id", bearer($t));
    is($g->code, 200, "round $round: GET fills the credential cache");
    my @before = document_names();
    my $customers = customers_of($c->{company_id});
    ok(kill_httpd_sessions() > 0, "round $round: httpd's database sessions killed");

    my $p = create_via($ua, $t);
    my $d = json_of($p);
    ok($p->code == 503 && $d && $d->{message} eq 'Service temporarily unavailable'
        && $d->{error} eq 'Service Unavailable',
        "round $round: create on the lost connection: 503") or diag($p->code . ' ' . $p->content);
    like($p->header('Retry-After') // '', qr/\A[1-9]\d*\z/, "round $round: Retry-After");
    is(customers_of($c->{company_id}), $customers, "round $round: no row");
    my %before = map { $_ => 1 } @before;
    my $new = sub { join ',', grep { !$before{$_} } document_names() };
    wait_until(sub { $new->() eq '' });
    is($new->(), '', "round $round: no document file left behind");

    my $again = create_via($ua, $t);
    is($again->code, 201, "round $round: the next create works") or diag($again->content);
}

done_testing();
