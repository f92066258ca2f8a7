# kill -9 of the daemon in the middle of a job, then a restart: the job's
# lease expires, another daemon claims it and it completes exactly once
# (one terminal change, one outcome event); provider calls may repeat.
# The lease (5 s) outlasts the hung call (2 s), so only the kill explains
# the second claim.
# While no daemon runs, the module keeps answering 201.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use Time::HiRes ();

plan tests => 11;

# The first call for each customer hangs (A dies meanwhile); per customer,
# because a daemon may first work through jobs other tests left due.
my %seen;
my $verifier = stub_server(sub {
    my ($req, $n) = @_;
    my $cid = eval { JSON::PP::decode_json($req->content)->{customer_id} } // '';
    Time::HiRes::sleep(2) unless $seen{$cid}++;
    return HTTP::Response->new(200, 'OK', ['Content-Type' => 'application/json'],
        '{"decision":"APPROVED"}');
}, tls => 1);
my %cfg = (socket => $ENV{CARTEVO_DAEMON_SOCKET}, verify_provider => 'http',
    verify_url => $verifier->{url}, ca_file => $verifier->{ca}, lease_seconds => 5, sweep_interval => 0.2);

my $c = company();
my $t = token($c);
stop_main();
my $a = start_daemon(%cfg);
my $res = create_customer(token => $t);
my $id1 = json_of($res)->{data}{id};
# Generous: A may first meet jobs other tests left due, each of whose
# first calls hangs 2 s too (4 workers).
ok(wait_until(sub { stub_requests_for($verifier, $id1) >= 1 }, 40), 'daemon A is calling the verifier');
kill9($a);
my ($job1) = sql_rows("SELECT id, state, lease_owner IS NOT NULL FROM kyc_jobs WHERE customer_id = '$id1'");
is_deeply([@$job1[1, 2]], ['running', 't'], 'job left running with a lease');

$res = create_customer(token => $t);
is($res->code, 201, 'module answers 201 while the daemon is down');
my $id2 = json_of($res)->{data}{id};
my ($job2) = sql_rows("SELECT state FROM kyc_jobs WHERE customer_id = '$id2'");
is($job2->[0], 'queued', 'its job waits in the database');

my $b = start_daemon(%cfg);
for my $id ($id1, $id2) {
    ok(wait_until(sub { (sql_rows("SELECT kyc_status FROM customers WHERE id = '$id'"))[0][0] eq 'APPROVED' }, 20),
       "customer approved after the restart");
}
# At least a second claim: more are possible when B's single-threaded stub
# verifier is busy with jobs other tests left due and B's lease lapses;
# whatever the count, the outcome below is applied exactly once.
my ($j) = sql_rows("SELECT state, attempts >= 2 FROM kyc_jobs WHERE id = $job1->[0]");
is_deeply($j, ['done', 't'], 'job 1 done after a second claim');
my ($ev) = sql_rows("SELECT count(*) FROM outbox_events WHERE job_id = $job1->[0]");
is($ev->[0], 1, 'exactly one outcome event for the job');
my ($any) = sql_rows("SELECT count(*) FROM outbox_events WHERE customer_id = '$id1' AND event LIKE 'customer.kyc_%'");
is($any->[0], 1, 'exactly one kyc outcome event for the customer');
my @calls = grep { JSON::PP::decode_json($_->{body})->{customer_id} eq $id1 } stub_requests($verifier);
cmp_ok(scalar @calls, '>=', 2, 'the provider call was repeated (at-least-once)');
is(stop_daemon($b), 0, 'clean exit');
start_main();
stub_stop($verifier);
