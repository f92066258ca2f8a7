# Two daemons on one database drain a backlog together; no job is done
# twice: one verifier call, one attempt and one outcome event per job.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use Time::HiRes ();

my $N = 20;
plan tests => 6;

my $verifier = stub_server(sub {
    Time::HiRes::sleep(0.1);
    return HTTP::Response->new(200, 'OK', ['Content-Type' => 'application/json'],
        '{"decision":"APPROVED"}');
}, tls => 1);
my $c = company();
my $t = token($c);
stop_main();
my @ids;
for (1 .. $N) {
    my $res = create_customer(token => $t);
    push @ids, json_of($res)->{data}{id} if $res->code == 201;
}
is(scalar @ids, $N, "$N customers created while no daemon runs");
my $in = join(',', map { "'$_'" } @ids);
my %cfg = (verify_provider => 'http', verify_url => $verifier->{url}, ca_file => $verifier->{ca},
    sweep_interval => 0.2, workers => 4);
my $a = start_daemon(%cfg);
my $b = start_daemon(%cfg);
ok(wait_until(sub { (sql_rows("SELECT count(*) FROM kyc_jobs WHERE customer_id IN ($in) AND state = 'done'"))[0][0] == $N }, 60),
   'all jobs done');
my %calls;
$calls{ JSON::PP::decode_json($_->{body})->{customer_id} }++ for stub_requests($verifier);
is_deeply([grep { ($calls{$_} // 0) != 1 } @ids], [], 'one verifier call per customer');
my ($r) = sql_rows("SELECT count(*) FILTER (WHERE attempts <> 1), count(DISTINCT split_part(lease_owner, '#', 1)) FROM kyc_jobs WHERE customer_id IN ($in)");
is($r->[0], 0, 'every job claimed once');
diag("jobs split across $r->[1] daemon(s)");
cmp_ok($r->[1], '==', 2, 'both daemons worked');
($r) = sql_rows("SELECT count(*) FROM (SELECT job_id FROM outbox_events WHERE customer_id IN ($in) AND job_id IS NOT NULL GROUP BY job_id HAVING count(*) <> 1) x");
is($r->[0], 0, 'one outcome event per job');
stop_daemon($_) for $a, $b;
start_main();
stub_stop($verifier);
