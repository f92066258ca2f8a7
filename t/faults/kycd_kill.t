# The daemon killed with -9 under load, twice, and started again, on a
# private stack with a webhook receiver: every create is answered 201 (the
# poke of a dead daemon fails quietly: jobs are durable), every job reaches
# exactly one outcome, every event is delivered at least once, and
# duplicate deliveries are no more than the attempts that can be in flight
# at a kill (webhook_workers per kill). An unreachable daemon is warned
# about (CC00701) at most once a minute per httpd child, the rest at debug.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT doc_bytes wait_until);
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Reconcile ();
use File::Temp ();
use Time::Local ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $workers = 4;
my $st = Cartevo::Stack->new(name => 'faults-kycd', offset => 2);
$st->{kycd_extra} = join("\n", 'lease_seconds = 2', 'sweep_interval = 0.5',
    'retry_base = 0.2', 'retry_max = 1', 'webhook_backoff_base = 0.2',
    'webhook_backoff_max = 1', 'webhook_poll_interval = 0.1',
    "webhook_workers = $workers", 'allow_targets = 127.0.0.1:' . $st->receiver_port);
$st->up;
my ($token, $kv) = $st->token;
my $hook = $st->receiver_start;
system("\"$ENV{CARTEVO_CTL}\" --db \"" . $st->db . "\" webhook set $kv->{company_id} $hook >/dev/null") == 0
    or BAIL_OUT('webhook set failed');

my $tmp = File::Temp->newdir;
my $run = Cartevo::Load::start(base => $st->base, token => $token,
    jpeg => doc_bytes('id-front.jpg'), n => 240, concurrency => 6,
    tag => 'kycd', out => "$tmp/k");
for my $at (60, 150) {
    ok(wait_until(sub { Cartevo::Load::progress($run) >= $at }, 90), "$at creates answered");
    ok($st->kycd_kill9, "daemon killed with -9 at $at");
    sleep 1;
    $st->kycd_start;
    ok($st->kycd_pid && kill(0, $st->kycd_pid), 'daemon started again');
}
my $recs = Cartevo::Load::wait_all($run);
is(scalar(grep { $_->{status} == 201 } @$recs), 240, 'every create got its 201');
is($st->drain_jobs(180), 0, 'every job finished');
is($st->drain_webhooks(120), 0, 'every event delivered');
my ($fig, $bad) = Cartevo::Reconcile::check(db => $st->db, docdir => $st->docdir,
    records => $recs, allowed => [201], jobs => 1, received => $st->receiver_counts);
is_deeply($bad, [], 'reconciled: ' . Cartevo::Reconcile::figures_line($fig))
    or diag(join("\n", @$bad[0 .. ($#$bad < 20 ? $#$bad : 20)]));
ok($fig->{duplicate_receipts} <= 2 * $workers,
    "duplicates ($fig->{duplicate_receipts}) within the attempts in flight at two kills");
$st->receiver_stop;

# With the daemon gone, more creates: their pokes fail too.
ok($st->kycd_kill9, 'daemon killed with -9 for the warning check');
my $more = Cartevo::Load::wait_all(Cartevo::Load::start(base => $st->base, token => $token,
    jpeg => doc_bytes('id-front.jpg'), n => 12, concurrency => 3, tag => 'kycdwarn',
    out => "$tmp/w"));
is(scalar(grep { $_->{status} == 201 } @$more), 12, 'creates with no daemon: 201');
# This stack's children only (the state directory outlives a run).
my %mine = map { $_ => 1 } $st->httpd_children;
my %at;
open my $log, '<', $st->env('STATE') . '/httpd/error.log' or die "error.log: $!";
while (<$log>) {
    next unless /CC00701/;
    my ($y, $mo, $d, $h, $mi, $sec, $pid) =
        /^\[(\d+)-(\d+)-(\d+) (\d+):(\d+):([\d.]+)\].*\[pid (\d+):/ or next;
    next unless $mine{$pid};
    push @{ $at{$pid} }, Time::Local::timegm(0, $mi, $h, $d, $mo - 1, $y) + $sec;
}
my @close = grep { my $t = $at{$_}; grep { $t->[$_] - $t->[$_ - 1] < 60 } 1 .. $#$t } keys %at;
ok(scalar(keys %at) >= 1, 'the unreachable daemon was warned about (' . scalar(keys %at) . ' children)');
is_deeply(\@close, [], 'at most one warning a minute per child');
$st->down;
done_testing();
