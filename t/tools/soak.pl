#!/usr/bin/perl
# ./dev soak N: N creates at concurrency 32, every one with distinct
# fields and document bytes, on a private stack (Cartevo::Stack) with a
# webhook receiver, while httpd children and the daemon are killed with
# -9 at random and PostgreSQL restarts once (half-way). Then it drains the
# jobs and webhooks and reconciles from the database and the disk
# (Cartevo::Reconcile): every 201 has its row and documents with matching
# SHA-256; every row has its files; every file has a row or is one the
# sweeper takes (counted by kind); every job reached exactly one outcome;
# every event was delivered at least once, with duplicates counted and
# bounded by the deliveries that can be in flight when the daemon is
# killed or PostgreSQL restarts (webhook_workers each).
# Prints the figures; exits 1 when any check fails.
use strict;
use warnings;
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Reconcile ();
use File::Temp ();
use Time::HiRes ();

my $n = shift // 10000;
my $concurrency = 32;
my $workers = 4;
$| = 1;
srand($ENV{CARTEVO_SOAK_SEED} // time);

my $st = Cartevo::Stack->new(name => 'soak');
$st->{kycd_extra} = join("\n", 'lease_seconds = 3', 'sweep_interval = 0.5',
    'retry_base = 0.2', 'retry_max = 1', 'webhook_backoff_base = 0.2',
    'webhook_backoff_max = 1', 'webhook_poll_interval = 0.1',
    "webhook_workers = $workers", 'allow_targets = 127.0.0.1:' . $st->receiver_port);
$st->up;
my ($token, $kv) = $st->token;
my $hook = $st->receiver_start;
system("\"$ENV{CARTEVO_CTL}\" --db \"" . $st->db . "\" webhook set $kv->{company_id} $hook >/dev/null") == 0
    or die "webhook set failed\n";
open my $jfh, '<', "$ENV{CARTEVO_ROOT}/conf/demo/id-front.jpg" or die "demo: $!";
binmode $jfh;
my $jpeg = do { local $/; <$jfh> };
my $tmp = File::Temp->newdir;

print "soak: $n creates at concurrency $concurrency on " . $st->base . "\n";
my $t0 = Time::HiRes::time();
my $run = Cartevo::Load::start(base => $st->base, token => $token, jpeg => $jpeg,
    n => $n, concurrency => $concurrency, tag => "soak$$", out => "$tmp/load");
my %kills = (httpd_child => 0, kycd => 0, pg_restart => 0);
# Chaos until the load ends: every 1-4 s kill an httpd child or the daemon.
my %done;
while (1) {
    my $live = grep { !$done{$_} && (waitpid($_, 1) == 0 || !($done{$_} = 1)) } @{ $run->{pids} };
    last unless $live;
    Time::HiRes::sleep(1 + rand(3));
    my $p = Cartevo::Load::progress($run);
    if (!$kills{pg_restart} && $p >= $n / 2) {
        $st->pg_restart('fast') or die "PostgreSQL did not restart\n";
        $kills{pg_restart}++;
        print "soak: PostgreSQL restarted at $p answers\n";
    } elsif (rand() < 0.5) {
        my @c = $st->httpd_children;
        if (@c) { kill 'KILL', $c[int rand @c]; $kills{httpd_child}++ }
    } else {
        $st->kycd_kill9 and $kills{kycd}++;
        Time::HiRes::sleep(0.2 + rand(1.5));
        $st->kycd_start;
    }
}
my $recs = Cartevo::Load::wait_all($run);
my $secs = Time::HiRes::time() - $t0;
printf "soak: %d answers in %.1f s (%.0f/s); kills: %s\n", scalar @$recs, $secs,
    @$recs / $secs, join(', ', map { "$_=$kills{$_}" } sort keys %kills);
my $open = $st->drain_jobs(600);
my $undelivered = $st->drain_webhooks(600);
print "soak: drained (open jobs $open, undelivered events $undelivered)\n";
my ($fig, $bad) = Cartevo::Reconcile::check(db => $st->db, docdir => $st->docdir,
    records => $recs, allowed => [201, 503, 0], jobs => 1,
    received => $st->receiver_counts);
push @$bad, "answers: " . scalar(@$recs) . " of $n" if @$recs != $n;
# A delivery made but not recorded: the daemon died, or its database
# connection did (the restart), between the receiver's 2xx and the commit.
my $interruptions = $kills{kycd} + $kills{pg_restart};
push @$bad, "duplicates $fig->{duplicate_receipts} exceed $workers per interruption ($interruptions)"
    if $fig->{duplicate_receipts} > $workers * $interruptions;
print "soak: $_=$fig->{$_}\n" for sort keys %$fig;
$st->receiver_stop;
$st->down;
if (@$bad) {
    print "soak: FAILED (" . scalar(@$bad) . " problems)\n";
    print "  $_\n" for @$bad[0 .. ($#$bad < 30 ? $#$bad : 30)];
    exit 1;
}
print "soak: every check passed\n";
