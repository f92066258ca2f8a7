# A lease is one claim, not one daemon: when a worker's lease runs out and
# another worker of the same daemon re-claims the job, the first worker's
# late result must not touch the job. Here worker A's verifier call hangs
# past the 3 s lease and then fails (a retry that, as the last attempt,
# would end the job failed); worker B re-claimed the job meanwhile and its
# call approves. Only B's outcome may be committed.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use Time::HiRes ();

plan tests => 5;

# Only this test's customer (last_name Fencing) is slow: the daemon may
# first work through jobs other tests left due.
my %seen;
my $verifier = stub_server(sub {
    my ($req) = @_;
    my $b = eval { JSON::PP::decode_json($req->content) } || {};
    my $ok = HTTP::Response->new(200, 'OK', ['Content-Type' => 'application/json'],
        '{"decision":"APPROVED"}');
    return $ok unless ($b->{last_name} // '') eq 'Fencing';
    if (!$seen{ $b->{customer_id} }++) {
        Time::HiRes::sleep(4.5);
        return HTTP::Response->new(500);
    }
    Time::HiRes::sleep(0.5);
    return $ok;
}, tls => 1);
my $t = token(company());
my $parent = $$;
my $k;
# A failing check must not leave the stub or the daemon running (the stub
# holds the harness's pipe open); the stub child runs END blocks too.
END {
    local $?; # stub_stop's waitpid must not become the exit status
    if ($$ == $parent && $verifier) {
        if ($k && $k->{pid}) { stop_daemon($k); start_main(); }
        stub_stop($verifier);
    }
}
stop_main();
$k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, verify_provider => 'http',
    verify_url => $verifier->{url}, ca_file => $verifier->{ca}, lease_seconds => 3, max_attempts => 2,
    retry_base => 60, sweep_interval => 0.2, workers => 2);
my $res = create_customer(token => $t, fields => { valid_fields(last_name => 'Fencing') });
my $id = json_of($res)->{data}{id};
ok(wait_until(sub { stub_requests_for($verifier, $id) >= 2 }, 15),
   'the job was re-claimed after its lease ran out');
ok(wait_until(sub { (sql_rows("SELECT kyc_status FROM customers WHERE id = '$id'"))[0][0] ne 'PENDING' }, 15),
   'the customer was decided');
my ($j) = sql_rows("SELECT j.state, j.attempts, c.kyc_status FROM kyc_jobs j JOIN customers c ON c.id = j.customer_id WHERE c.id = '$id'");
is_deeply($j, ['done', 2, 'APPROVED'], 'the live claim decided; the stale one changed nothing');
my ($ev) = sql_rows("SELECT count(*) FROM outbox_events WHERE customer_id = '$id' AND job_id IS NOT NULL");
is($ev->[0], 1, 'one outcome event');
is(stop_daemon($k), 0, 'clean exit');
start_main();
