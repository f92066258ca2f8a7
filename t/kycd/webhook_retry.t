# Webhook delivery when the receiver is down: attempts back off and the
# events arrive once the receiver is up (once per attempt, never lost).
# With a short retry window a delivery ends failed, is listed by
# "cartevoctl deliveries list --failed", and is delivered on replay, with
# the same id and body on every attempt.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();

plan tests => 16;

my $ctl = qq{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}"};
my $c = company();
my $t = token($c);
my $port = stub_port();
my $out = qx{$ctl webhook set $c->{company_id} http://127.0.0.1:$port/hook/retry-$$};
my ($secret) = $out =~ /^webhook_secret=(\S+)$/m;

# 1. Receiver down, then up (the dev daemon: backoff base 0.2 s, max 1 s).
my $res = create_customer(token => $t);
my $id = json_of($res)->{data}{id};
my $cid = $c->{company_id};
ok(wait_until(sub { (sql_rows("SELECT count(*) FROM webhook_deliveries WHERE company_id = '$cid' AND attempts >= 3 AND state = 'pending'"))[0][0] == 2 }, 20),
   'both events retried while the receiver is down');
my ($err) = sql_rows("SELECT last_error FROM webhook_deliveries WHERE company_id = '$cid' LIMIT 1");
like($err->[0], qr/connect/i, 'last_error says why');
my $hook = stub_server(sub { HTTP::Response->new(200) }, port => $port, path => "/hook/retry-$$");
ok(wait_until(sub { (sql_rows("SELECT count(*) FROM webhook_deliveries WHERE company_id = '$cid' AND state = 'delivered'"))[0][0] == 2 }, 20),
   'delivered once the receiver is up');
my @got = stub_requests($hook);
my %n;
$n{ $_->{headers}{'x-cartevo-event-id'} }++ for @got;
is(scalar @got, 2, 'each event received exactly once');
is_deeply([sort map { JSON::PP::decode_json($_->{body})->{event} } @got],
          [qw(customer.created customer.kyc_approved)], 'both events');
ok(!(grep { !verify_signature($_, $secret) } @got), 'signatures verify');
stub_stop($hook);

# 2. Failed state and replay, on a daemon with a 1.5 s retry window.
stop_main();
my $k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, webhook_retry_window => 1.5);
my $flag = "$ENV{CARTEVO_STATE}/kycd/hook-ok-$$";
unlink $flag;
my $hook2 = stub_server(sub { HTTP::Response->new(-e $flag ? 200 : 500) });
my $c2 = company();
my $t2 = token($c2);
$out = qx{$ctl webhook set $c2->{company_id} $hook2->{url}};
($secret) = $out =~ /^webhook_secret=(\S+)$/m;
$res = create_customer(token => $t2);
my $cid2 = $c2->{company_id};
ok(wait_until(sub { (sql_rows("SELECT count(*) FROM webhook_deliveries WHERE company_id = '$cid2' AND state = 'failed'"))[0][0] == 2 }, 20),
   'deliveries end failed after the retry window');
my @ids = map { $_->[0] } sql_rows("SELECT id FROM webhook_deliveries WHERE company_id = '$cid2' ORDER BY id");
my $list = qx{$ctl deliveries list --failed};
ok(!(grep { $list !~ /^$_\tfailed\t/m } @ids), 'deliveries list --failed shows them');
unlike($list, qr/whsec_/, 'no secret in the listing');
my $before = stub_requests($hook2);
cmp_ok($before, '>=', 4, "several attempts were made ($before)");
system("touch $flag");
my $rep = qx{$ctl deliveries replay --all-failed};
is_deeply([sort { $a <=> $b } $rep =~ /^replayed=(\d+)$/mg], [@ids], 'replay --all-failed');
ok(wait_until(sub { (sql_rows("SELECT count(*) FROM webhook_deliveries WHERE company_id = '$cid2' AND state = 'delivered'"))[0][0] == 2 }, 20),
   'delivered after the replay');
my %bodies;
$bodies{ $_->{headers}{'x-cartevo-event-id'} }{ $_->{body} }++ for stub_requests($hook2);
is(scalar keys %bodies, 2, 'two event ids over all attempts');
ok(!(grep { keys %{ $bodies{$_} } != 1 } keys %bodies), 'one body per event id across attempts');
ok(!(grep { !verify_signature($_, $secret) } stub_requests($hook2)), 'every attempt signed');
system("$ctl deliveries replay 999999999 >/dev/null 2>&1");
is($? >> 8, 1, 'replay of an unknown delivery fails');
stop_daemon($k);
start_main();
stub_stop($hook2);
unlink $flag;
