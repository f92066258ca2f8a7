# The database becomes unreachable: every endpoint answers 503 "Service
# temporarily unavailable" with Retry-After, nothing is left on disk, and
# once PostgreSQL is back (started exactly as ./dev starts it) creates
# work again.
#
# With CartevoAuthCacheSeconds 1 (t/conf/extra.conf.in) and a 2 s wait
# after the stop, the credential check itself needs the database.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT document_names wait_until customers_of);
use JSON::PP ();
use Apache::Test ();
use LWP::UserAgent ();
use HTTP::Request::Common ();

my $PGBIN = '/usr/lib/postgresql/15/bin';
my $STATE = $ENV{CARTEVO_STATE};
plan skip_all => 'needs root and CARTEVO_STATE (./dev test)'
    unless $> == 0 && $STATE && -d "$STATE/pg/data";
my ($PG_PORT) = $ENV{CARTEVO_DB} =~ m{:(\d+)/};

sub pg_ctl {
    my (@args) = @_;
    system('runuser', '-u', 'postgres', '--', "$PGBIN/pg_ctl", @args) == 0;
}

# As start_pg in ./dev.
sub start_pg {
    return pg_ctl('-w', '-D', "$STATE/pg/data", '-l', "$STATE/pg/log", '-o',
        "-k $STATE/pgsock -p $PG_PORT -c listen_addresses=127.0.0.1 "
        . '-c log_error_verbosity=terse -c max_connections=200', 'start');
}
sub stop_pg { return pg_ctl('-D', "$STATE/pg/data", '-m', 'fast', 'stop') }
sub pg_running { return system("runuser -u postgres -- $PGBIN/pg_ctl -D $STATE/pg/data status >/dev/null 2>&1") == 0 }

# Whatever happens below, the database is running again afterwards.
my $stopped = 0;
END { start_pg() if $stopped && !pg_running() }

# What a database outage legitimately writes to the error log (the
# recovery after the restart must write nothing: checked below).
expect_error_log(qr/\[cartevo_customers:error\].* CC00202: no database connection$/);
expect_error_log(qr/\[cartevo_customers:error\].* CC00302: credential lookup failed$/);
expect_error_log(qr/\[cartevo_customers:error\].* CC00401: client lookup failed$/);
expect_error_log(qr/\[dbd:error\].* AH00629: Can't connect to pgsql: connection to server at "127\.0\.0\.1", port \d+ failed: Connection refused/);
expect_error_log(qr/\[dbd:error\].* AH02655: Failed to acquire DBD connection from pool!$/);
expect_error_log(qr/\[dbd:error\].* AH00639: DBD \[pgsql\] Error: connection to server at "127\.0\.0\.1", port \d+ failed: Connection refused/);
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
sub error_lines_from {
    my ($offset) = @_;
    open my $fh, '<', $error_log or die "$error_log: $!";
    seek $fh, $offset, 0;
    return grep { /:(?:error|crit|alert|emerg)\]/ } <$fh>;
}

# create_customer() through a given (keep-alive) user agent.
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

sub unavailable {
    my ($res, $name) = @_;
    my $d = json_of($res);
    ok($res->code == 503 && $d && !$d->{success} && $d->{statusCode} == 503
        && $d->{message} eq 'Service temporarily unavailable'
        && $d->{error} eq 'Service Unavailable', "$name: 503 envelope")
        or diag($res->code . ' ' . $res->content);
    like($res->header('Retry-After') // '', qr/\A[1-9]\d*\z/, "$name: Retry-After in seconds");
}

my $c = company();
my $t = token($c);
my $r = create_customer(token => $t);
is($r->code, 201, 'before: a create works');
my $id = json_of($r)->{data}{id};

# Keep-alive clients pin httpd processes whose pooled database connections
# go stale with the restart; after it they must work again (they once
# answered 401/500 for good: server-side prepared statements were lost
# when the driver reset the connection).
my @ka = map { LWP::UserAgent->new(keep_alive => 1, timeout => 30) } 1 .. 3;
for my $i (0 .. $#ka) {
    my $g = $ka[$i]->get(base_url() . "/customers/$id", bearer($t));
    my $p = create_via($ka[$i], $t);
    ok($g->code == 200 && $p->code == 201, "before: keep-alive client $i reads and creates");
}
# A request that needs no database keeps those connections open.
my $ping = sub { $_->get(base_url() . '/no-such-endpoint') for @ka };
my @before = document_names();

ok(stop_pg(), 'PostgreSQL stopped');
$stopped = 1;
$ping->();
sleep 2;    # > CartevoAuthCacheSeconds: the credential state must be fetched

unavailable(create_customer(token => $t), 'POST /customers');
unavailable(ua()->get(base_url() . "/customers/$id", bearer($t)), 'GET /customers/{id}');
unavailable(ua()->get(base_url() . "/customers/$id/documents/front", bearer($t)), 'GET document');
unavailable(ua()->post(base_url() . '/auth/token', 'Content-Type' => 'application/json',
    Content => JSON::PP->new->encode({ client_id => $c->{client_id}, client_key => $c->{client_key} })),
    'POST /auth/token');
unavailable(create_customer(token => $t, front => fixture('x' x 100000, '.jpg')), 'POST /customers again');
unavailable($ka[0]->get(base_url() . "/customers/$id", bearer($t)), 'keep-alive client 0: GET');
unavailable(create_via($ka[0], $t), 'keep-alive client 0: POST');
$ping->();

my %before = map { $_ => 1 } @before;
my $new = sub { join ',', grep { !$before{$_} } document_names() };
wait_until(sub { $new->() eq '' });
is($new->(), '', 'no document file left behind');

ok(start_pg(), 'PostgreSQL started again as ./dev starts it');
$stopped = 0;
my $log_from = -s $error_log;
is(customers_of($c->{company_id}), 1 + @ka, 'nothing was created during the outage');

for my $i (1 .. 3) {
    $r = create_customer(token => $t);
    is($r->code, 201, "after: create $i works") or diag($r->code . ' ' . $r->content);
}
my ($g) = get_json("/customers/$id", $t);
is($g->code, 200, 'after: GET works');
for my $i (0 .. $#ka) {
    for my $round (1 .. 2) {
        my $gg = $ka[$i]->get(base_url() . "/customers/$id", bearer($t));
        is($gg->code, 200, "after: keep-alive client $i GET ($round)") or diag($gg->content);
        my $p = create_via($ka[$i], $t);
        is($p->code, 201, "after: keep-alive client $i create ($round)") or diag($p->content);
    }
}
is(customers_of($c->{company_id}), 1 + @ka + 3 + 2 * @ka, 'every create after the restart stored');
my @after = error_lines_from($log_from);
ok(!@after, 'after the restart: no [error] line in the log') or diag(join '', @after);

done_testing();
