# Webhook delivery threads: a receiver that hangs until the per-attempt
# timeout holds one delivery thread, not every company's webhooks. Company
# A's receiver sleeps 12 s (past webhook_timeout, 10 s) before answering;
# once a delivery thread is stuck on it, company B's customer.created must
# still arrive within seconds (with one delivery thread it would wait for
# A's timeout). SIGTERM then lets the stuck attempt finish and release its
# lease.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use Time::HiRes ();

plan tests => 7;

my $ctl = qq{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}"};
my $hang = stub_server(sub { sleep 12; HTTP::Response->new(200) });
my $fast = stub_server(sub { HTTP::Response->new(200) });
my ($ca, $cb) = (company(), company());
my ($ta, $tb) = (token($ca), token($cb));
qx{$ctl webhook set $ca->{company_id} $hang->{url}};
my $out = qx{$ctl webhook set $cb->{company_id} $fast->{url}};
my ($secret) = $out =~ /^webhook_secret=(\S+)$/m;
my $parent = $$;
my $k;
END {
    local $?;
    if ($$ == $parent) {
        if ($k && $k->{pid}) { stop_daemon($k); start_main(); }
        stub_stop($_) for grep { $_ } $hang, $fast;
    }
}
stop_main();
$k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, webhook_workers => 4,
                  webhook_timeout => 10);

# A's first delivery reaches its receiver: one delivery thread now waits
# up to 10 s for an answer.
create_customer(token => $ta);
ok(wait_until(sub { stub_requests($hang) >= 1 }, 15), "A's receiver is hanging on a delivery");

my $t0 = Time::HiRes::time();
my $res = create_customer(token => $tb);
my $idb = json_of($res)->{data}{id};
my @got;
ok(wait_until(sub {
    @got = grep { JSON::PP::decode_json($_->{body})->{event} eq 'customer.created' } stub_requests($fast);
    @got >= 1
}, 4), "B's customer.created arrives while A's receiver hangs");
my $took = Time::HiRes::time() - $t0;
cmp_ok($took, '<', 5, sprintf("within seconds (%.1f s), not after A's 10 s timeout", $took));
is(@got && JSON::PP::decode_json($got[0]{body})->{data}{id}, $idb, "B's customer");
ok(@got && verify_signature($got[0], $secret), 'signed with B\'s secret');

# SIGTERM: the attempt stuck on A finishes (times out) and is recorded,
# which releases its lease.
is(stop_daemon($k), 0, 'clean exit with an attempt in flight');
my $cid = $ca->{company_id};
is((sql_rows("SELECT count(*) FROM webhook_deliveries WHERE company_id = '$cid' AND lease_owner IS NOT NULL"))[0][0],
   0, "no lease left on A's deliveries");
start_main();
