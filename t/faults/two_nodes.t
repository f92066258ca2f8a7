# Two nodes on one PostgreSQL and one document directory, each with its
# own httpd and daemon (decisions.md 1; README "Several nodes"): creates
# through both all succeed; the same customer sent to both at once makes
# one 201 and one 409; an idempotent retry that lands on the other node
# replays the first answer byte for byte; every job (poked on either
# node) reaches one outcome and both daemons take part; every event is
# delivered; answers, rows and files reconcile.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT doc_bytes);
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Reconcile ();
use File::Temp ();
use HTTP::Request::Common ();
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $na = Cartevo::Stack->new(name => 'faults-node-a', offset => 5);
my $hookport = $na->receiver_port;
my $extra = join("\n", 'sweep_interval = 0.5', 'webhook_poll_interval = 0.1',
    "allow_targets = 127.0.0.1:$hookport");
$na->{kycd_extra} = $extra;
$na->up;
my $nb = Cartevo::Stack->new(name => 'faults-node-b', offset => 6, share => $na, kycd_extra => $extra)->up;
is($nb->db, $na->db, 'one database');
is($nb->docdir, $na->docdir, 'one document directory');
isnt($nb->base, $na->base, 'two httpd instances');
my ($token, $kv) = $na->token;
my $hook = $na->receiver_start;
system("\"$ENV{CARTEVO_CTL}\" --db \"" . $na->db . "\" webhook set $kv->{company_id} $hook >/dev/null") == 0
    or BAIL_OUT('webhook set failed');
my $tmp = File::Temp->newdir;
my $jpeg = doc_bytes('id-front.jpg');

# 1. Creates through both nodes at once.
my @runs = map { Cartevo::Load::start(base => $_->[0]->base, token => $token, jpeg => $jpeg,
    n => 40, concurrency => 3, tag => "node$_->[1]$$", out => "$tmp/$_->[1]") } ([$na, 'a'], [$nb, 'b']);
my @recs = map { @{ Cartevo::Load::wait_all($_) } } @runs;
is(scalar(grep { $_->{status} == 201 } @recs), 80, 'creates through both nodes: 80 answered 201');

# 2. The same customer sent to both nodes at once, five times.
my $json = JSON::PP->new;
sub post_to {
    my ($node, $fields, @headers) = @_;
    my $req = HTTP::Request::Common::POST($node->base . '/customers', Content_Type => 'form-data',
        Content => [ (map { $_ => $fields->{$_} } sort keys %$fields),
            id_document_front => [doc_path('id-front.jpg')],
            id_document_back => [doc_path('id-back.png')] ]);
    $req->header(Authorization => "Bearer $token", @headers);
    return LWP::UserAgent->new(timeout => 60)->request($req);
}
for my $i (1 .. 5) {
    my %f = valid_fields();
    my @pids;
    for my $node ($na, $nb) {
        my $pid = fork // die;
        if (!$pid) {
            my $r = post_to($node, \%f);
            open my $fh, '>', "$tmp/dup$i-" . ($node == $na ? 'a' : 'b') or POSIX::_exit(1);
            print $fh $r->code;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    my @codes = sort map { local @ARGV = "$tmp/dup$i-$_"; scalar <> } qw(a b);
    is("@codes", '201 409', "duplicate pair $i across the nodes: one 201, one 409");
}

# 3. An idempotent retry that lands on the other node.
my %f = valid_fields();
my $key = "two-nodes-$$";
my $first = post_to($na, \%f, 'Idempotency-Key' => $key);
is($first->code, 201, 'idempotent create on node a: 201');
my $again = post_to($nb, \%f, 'Idempotency-Key' => $key);
is($again->code, 201, 'its retry on node b: 201');
is($again->content, $first->content, 'the same answer, byte for byte');
is($again->header('Idempotent-Replayed'), 'true', 'marked as replayed');
is($na->psql("SELECT count(*) FROM customers WHERE email = '$f{email}'"), 1, 'one customer');

# 4. Jobs and events, and who worked.
is($na->drain_jobs(120), 0, 'every job finished');
is($na->drain_webhooks(120), 0, 'every event delivered');
my ($fig, $bad) = Cartevo::Reconcile::check(db => $na->db, docdir => $na->docdir,
    records => \@recs, allowed => [201], jobs => 1, received => $na->receiver_counts);
is_deeply($bad, [], 'reconciled: ' . Cartevo::Reconcile::figures_line($fig))
    or diag(join("\n", @$bad[0 .. ($#$bad < 20 ? $#$bad : 20)]));
for my $node ($na, $nb) {
    my $log = do { local (@ARGV, $/) = $node->env('KYCD_LOG'); <> };
    my $n = () = $log =~ /: claimed \(attempt/g;
    ok($n > 0, $node->base . "'s daemon claimed jobs ($n)");
}
$na->receiver_stop;
$nb->down;
$na->down;
done_testing();
