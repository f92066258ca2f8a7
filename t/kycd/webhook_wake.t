# An outcome wakes the webhook dispatcher at once, also when it is busy
# delivering at that moment: with a 30 s poll interval, the enrollment
# outcome (committed while customer.created and kyc_approved are still
# being delivered to a slow receiver) must go out within seconds, not at
# the next poll. And customer.created, dispatched after the verdict, still
# shows the customer as created.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use Time::HiRes ();

plan tests => 4;

my $hook = stub_server(sub { Time::HiRes::sleep(1); HTTP::Response->new(200) });
my $issuer = stub_server(sub {
    my ($req) = @_;
    Time::HiRes::sleep(0.5);
    my $b = JSON::PP::decode_json($req->content);
    return HTTP::Response->new(201, 'Created', ['Content-Type' => 'application/json'],
        '{"id":"iss_' . substr($b->{id}, 0, 8) . '"}');
}, tls => 1);
my $c = company();
my $t = token($c);
qx{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}" webhook set $c->{company_id} $hook->{url}};
my $parent = $$;
my $k;
END {
    local $?;
    if ($$ == $parent) {
        if ($k && $k->{pid}) { stop_daemon($k); start_main(); }
        stub_stop($_) for grep { $_ } $hook, $issuer;
    }
}
stop_main();
$k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, enroll_provider => 'http',
    issuer_url => $issuer->{url}, ca_file => $issuer->{ca}, webhook_poll_interval => 30);
# Let the start-up rounds of the dispatcher pass: it now naps for 30 s.
Time::HiRes::sleep(1);
my $res = create_customer(token => $t, query => 'enroll=true');
my $id = json_of($res)->{data}{id};
my @events;
ok(wait_until(sub {
    @events = map { JSON::PP::decode_json($_->{body})->{event} } stub_requests($hook);
    @events >= 3
}, 12), 'three events delivered without waiting for the poll');
is_deeply([sort @events], [qw(customer.created customer.enrolled customer.kyc_approved)],
          'created, approved, enrolled');
# customer.created was dispatched only after the outcomes had committed
# (the dispatcher was asleep), yet it describes the customer as created.
my ($created) = grep { $_->{event} eq 'customer.created' }
    map { JSON::PP::decode_json($_->{body}) } stub_requests($hook);
my $cd = $created ? $created->{data} : {};
is_deeply([@$cd{qw(id kyc_status kyc_reason enrollment_status issuer_customer_id)}],
          [$id, 'PENDING', undef, 'NOT_ENROLLED', undef],
          'customer.created carries the customer as created');
is(stop_daemon($k), 0, 'clean exit');
start_main();
