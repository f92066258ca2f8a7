# Enrollment: enroll=true with the sandbox issuer (the dev daemon), then
# the http issuer through a stub (a daemon of this test on the module's
# socket): a 503 is retried with backoff, 201 gives the issuer id, and a
# 409 "already enrolled" answer with an id counts as success.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();

plan tests => 14;

my $c = company();
my $t = token($c);
my $hook = stub_server(sub { HTTP::Response->new(200) });
my $out = qx{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}" webhook set $c->{company_id} $hook->{url}};
my ($secret) = $out =~ /^webhook_secret=(\S+)$/m;

sub settled {
    my ($id) = @_;
    return wait_until(sub {
        my (undef, $gd) = get_json("/customers/$id", $t);
        $gd && $gd->{data}{enrollment_status} =~ /^(ENROLLED|FAILED)$/ ? $gd->{data} : undef
    }, 20) || {};
}

my $res = create_customer(token => $t, query => 'enroll=true');
my $id = json_of($res)->{data}{id};
my $d = settled($id);
is($d->{kyc_status}, 'APPROVED', 'approved');
is($d->{enrollment_status}, 'ENROLLED', 'sandbox: ENROLLED');
like($d->{issuer_customer_id}, qr/^sbx_[0-9a-f]{24}$/, 'sandbox issuer id');
my $r = wait_until(sub {
    (grep { JSON::PP::decode_json($_->{body})->{event} eq 'customer.enrolled' } stub_requests($hook))[0]
}, 10);
ok($r && verify_signature($r, $secret), 'customer.enrolled delivered and signed');
is($r && JSON::PP::decode_json($r->{body})->{data}{issuer_customer_id}, $d->{issuer_customer_id},
   'webhook carries the issuer id');

# The http issuer, on a daemon of ours that owns the module's socket.
my $keyfile = fixture("issuer-key-123\n", '.key');
chmod 0644, $keyfile;
my $issuer = stub_server(sub {
    my ($req, $n) = @_;
    my $b = JSON::PP::decode_json($req->content);
    return HTTP::Response->new(503) if $n == 1;
    return HTTP::Response->new(409, 'Conflict', ['Content-Type' => 'application/json'],
        '{"id":"iss_existing","error":"already enrolled"}') if $b->{email} =~ /^again/;
    return HTTP::Response->new(201, 'Created', ['Content-Type' => 'application/json'],
        '{"id":"iss_' . substr($b->{id}, 0, 8) . '"}');
}, tls => 1);
stop_main();
my $k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, enroll_provider => 'http',
    issuer_url => $issuer->{url}, ca_file => $issuer->{ca}, issuer_api_key_file => $keyfile,
    retry_base => 0.2, sweep_interval => 0.2);

$res = create_customer(token => $t, query => 'enroll=true');
$id = json_of($res)->{data}{id};
$d = settled($id);
is($d->{enrollment_status}, 'ENROLLED', 'http: ENROLLED after a 503');
is($d->{issuer_customer_id}, 'iss_' . substr($id, 0, 8), 'issuer id from the answer');
my @calls = stub_requests($issuer);
is(scalar @calls, 2, 'one failed call, one retry');
is($calls[-1]{headers}{authorization}, 'Bearer issuer-key-123', 'API key from the file');
is($calls[-1]{headers}{'idempotency-key'}, $id, 'idempotency key is the customer id');

$res = create_customer(token => $t, query => 'enroll=true',
    fields => { valid_fields(email => 'again' . unique_suffix() . '@example.com') });
$id = json_of($res)->{data}{id};
$d = settled($id);
is($d->{enrollment_status}, 'ENROLLED', '409 already enrolled is success');
is($d->{issuer_customer_id}, 'iss_existing', 'with the existing issuer id');

$res = create_customer(token => $t);
$id = json_of($res)->{data}{id};
wait_until(sub { my (undef, $gd) = get_json("/customers/$id", $t); $gd->{data}{kyc_status} eq 'APPROVED' }, 10);
my (undef, $gd) = get_json("/customers/$id", $t);
is($gd->{data}{enrollment_status}, 'NOT_ENROLLED', 'no enroll flag, enroll_approved off: not enrolled');
is(stop_daemon($k), 0, 'SIGTERM: clean exit');
start_main();
stub_stop($_) for $hook, $issuer;
