# Webhook endpoints are tenant URLs (decisions.md 3): https and a globally
# reachable address, unless allow_targets lists them. A URL that breaks
# the rule ends its delivery failed with the reason, on the first attempt
# and before any connection (listeners on the refused addresses must see
# none); a redirect is never followed; and verify_url / issuer_url that
# are not https stop the daemon at start, naming the key.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use POSIX ':sys_wait_h';

plan tests => 17;

my $ctl = qq{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}"};

# A company with this webhook URL (set as cartevoctl sets it, or written
# straight into the row, as a URL stored before the rule would be) and one
# customer, whose customer.created is then delivered.
sub company_with_hook {
    my ($url, %o) = @_;
    my $c = company();
    my $set = $o{raw} ? 'https://example.invalid/hook' : $url;
    qx{$ctl webhook set $c->{company_id} '$set'};
    die "webhook set $set failed" if $?;
    psql("UPDATE companies SET webhook_url = '$url' WHERE id = '$c->{company_id}'")
        if $o{raw};
    create_customer(token => token($c));
    return $c->{company_id};
}

sub settled {
    my ($cid) = @_;
    return wait_until(sub {
        my ($r) = sql_rows("SELECT state, attempts, coalesce(last_error, '') FROM webhook_deliveries"
            . " WHERE company_id = '$cid' AND state <> 'pending'");
        $r;
    }, 15);
}

# 1. https to a loopback address that allow_targets does not list.
my $v4 = probe_listen('127.0.0.2') or die "listen: $!";
my $cid = company_with_hook('https://127.0.0.2:' . $v4->sockport . '/hook');
my $r = settled($cid);
is($r && $r->[0], 'failed', 'a private address: failed');
is($r && $r->[1], 1, 'on the first attempt (no retry can succeed)');
like($r && $r->[2], qr/refused.*127\.0\.0\.2.*loopback/, 'the reason names the refusal');
ok(!probe_connected($v4), 'no connection was made');

# 2. A name that resolves only to loopback: refused on the addresses.
my $v4b = probe_listen('127.0.0.1') or die "listen: $!";
$cid = company_with_hook('https://localhost:' . $v4b->sockport . '/hook');
$r = settled($cid);
is($r && $r->[0], 'failed', 'a name of private addresses: failed');
like($r && $r->[2], qr/refused.*loopback/, 'with the refusal');
ok(!probe_connected($v4b), 'no connection was made');

# 3. http:// to a target allow_targets does not list, stored directly.
my $plain = probe_listen('127.0.0.1') or die "listen: $!";
$cid = company_with_hook('http://127.0.0.1:' . $plain->sockport . '/hook', raw => 1);
$r = settled($cid);
is($r && $r->[0], 'failed', 'http to an unlisted target: failed');
like($r && $r->[2], qr/refused.*not https/, 'the reason says it is not https');
ok(!probe_connected($plain), 'no connection was made');

# 4. A listed receiver that redirects: not followed, never delivered.
my $target = stub_server(sub { HTTP::Response->new(200) });
my $redir = stub_server(sub { HTTP::Response->new(302, 'Found', [Location => $target->{url}]) });
$cid = company_with_hook($redir->{url});
ok(wait_until(sub { stub_requests($redir) >= 2 }, 15), 'the redirecting receiver is tried again');
my ($d) = sql_rows("SELECT state, coalesce(last_error, '') FROM webhook_deliveries WHERE company_id = '$cid'");
isnt($d->[0], 'delivered', 'a redirect is not a delivery');
like($d->[1], qr/HTTP 302/, 'last_error is the redirect status');
is(scalar stub_requests($target), 0, 'the redirect target saw nothing');
psql("UPDATE webhook_deliveries SET state = 'failed' WHERE company_id = '$cid'");
stub_stop($_) for $target, $redir;

# 5. Operator URLs must be https: a config error at start, naming the key.
my $dir = "$ENV{CARTEVO_STATE}/kycd";
sub start_with {
    my (%set) = @_;
    open my $in, '<', $ENV{CARTEVO_KYCD_CONF} or die;
    # Not the main daemon's metrics address, which it holds.
    my @l = grep { my ($k) = /^\s*(\w+)/; !($k && (exists $set{$k} || $k eq 'metrics_listen')) } <$in>;
    my $conf = "$dir/rules$$.conf";
    open my $out, '>', $conf or die;
    print $out @l, map { "$_ = $set{$_}\n" } sort keys %set;
    close $out;
    my $log = "$dir/rules$$.log";
    unlink $log;
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>', $log or die;
        open STDERR, '>&', \*STDOUT or die;
        exec $ENV{CARTEVO_KYCD}, '--config', $conf, '--foreground';
        die "exec: $!";
    }
    my $st;
    wait_until(sub { my $w = waitpid($pid, WNOHANG); $st = $? if $w > 0; $w != 0 }, 10);
    unless (defined $st) { kill 'KILL', $pid; waitpid($pid, 0); }
    return ($st, scalar `cat $log`);
}
my ($st, $log) = start_with(socket => "$dir/rules$$.sock", verify_provider => 'http',
    verify_url => 'http://127.0.0.1:1/verify');
ok(defined $st && $st != 0, 'verify_url http://: the daemon does not start');
like($log, qr/verify_url must be an https:\/\/ URL/, 'naming verify_url');
($st, $log) = start_with(socket => "$dir/rules$$.sock", enroll_provider => 'http',
    issuer_url => 'http://10.0.0.1/issue');
like($log, qr/issuer_url must be an https:\/\/ URL/, 'naming issuer_url');
