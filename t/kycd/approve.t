# The vertical slice: a customer created through the API is claimed at
# once on the module's poke (not at the next sweep: the dev daemon sweeps
# every 60 s), approved by the local provider, and the company's receiver
# gets customer.created and customer.kyc_approved, correctly signed.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();

plan tests => 21;

my $c = company();
my $t = token($c);
my $hook = stub_server(sub { HTTP::Response->new(200) });
my $out = qx{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}" webhook set $c->{company_id} $hook->{url}};
my ($secret) = $out =~ /^webhook_secret=(\S+)$/m;
ok($secret, 'webhook set prints the secret');

my $res = create_customer(token => $t);
is($res->code, 201, 'created');
my $id = json_of($res)->{data}{id};

my $d = wait_until(sub {
    my ($g, $gd) = get_json("/customers/$id", $t);
    $gd && $gd->{data}{kyc_status} ne 'PENDING' ? $gd->{data} : undef
}, 10);
is($d->{kyc_status}, 'APPROVED', 'APPROVED within seconds');
ok(exists $d->{kyc_reason} && !defined $d->{kyc_reason}, 'no reason (null)');
ok(exists $d->{kyc_reason_message} && !defined $d->{kyc_reason_message}, 'no reason message (null)');
is($d->{enrollment_status}, 'NOT_ENROLLED', 'not enrolled without enroll=true');

my ($row) = sql_rows("SELECT extract(epoch FROM first_claimed_at - created_at) * 1000, state, attempts FROM kyc_jobs WHERE customer_id = '$id'");
cmp_ok($row->[0], '<', 100, "poked job claimed within 100 ms ($row->[0] ms; sweep is 60 s)");
is($row->[1], 'done', 'job done');
is($row->[2], 1, 'one attempt');
diag("poke-to-claim latency: $row->[0] ms");

my @got = @{ wait_until(sub { my @r = stub_requests($hook); @r >= 2 ? \@r : undef }, 10) || [] };
is(scalar @got, 2, 'two deliveries');
my %by = map { JSON::PP::decode_json($_->{body})->{event} => $_ } @got;
for my $ev (qw(customer.created customer.kyc_approved)) {
    my $r = $by{$ev};
    ok($r && verify_signature($r, $secret), "$ev signature verifies");
    my $b = JSON::PP::decode_json($r->{body});
    is_deeply([sort keys %$b], [qw(created_at data event id)], "$ev body shape");
    is($r->{headers}{'x-cartevo-event-id'}, $b->{id}, "$ev X-Cartevo-Event-Id");
}
my $ap = JSON::PP::decode_json($by{'customer.kyc_approved'}{body});
is($ap->{data}{id}, $id, 'data is the customer');
is($ap->{data}{kyc_status}, 'APPROVED', 'data shows the outcome');
ok(exists $ap->{data}{kyc_reason} && !defined $ap->{data}{kyc_reason}, 'webhook kyc_reason is null');
ok(exists $ap->{data}{issuer_customer_id} && !defined $ap->{data}{issuer_customer_id}, 'webhook issuer_customer_id is null');
is($ap->{data}{image}, base_url() . "/customers/$id/documents/front", 'image URL from public_base_url');
stub_stop($hook);
