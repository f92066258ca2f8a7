# PostgreSQL stopped under load and started again, then restarted (an
# immediate shutdown, as a crash) under load, on a private stack
# (Cartevo::Stack): every answer is a 201 or the contract's 503 envelope
# with Retry-After, nothing is lost or left behind (Cartevo::Reconcile:
# every 201 has its row and files, every row its files, and the only files
# without a row are those of creates answered 503 whose connection died
# with the server, kept for the sweeper because their row's absence could
# not be proven then), and creates work again without restarting httpd.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT doc_bytes wait_until);
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Reconcile ();
use File::Temp ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $st = Cartevo::Stack->new(name => 'faults-pg', offset => 0)->up;
my ($token) = $st->token;
my $httpd = $st->httpd_pid;
my $tmp = File::Temp->newdir;
my $jpeg = doc_bytes('id-front.jpg');

sub load {
    my ($tag, $n) = @_;
    return Cartevo::Load::start(base => $st->base, token => $token, jpeg => $jpeg,
        n => $n, concurrency => 8, tag => $tag, out => "$tmp/$tag");
}

# 1. Stopped (fast) for 3 s, then started.
my $run = load('stop', 400);
ok(wait_until(sub { Cartevo::Load::progress($run) >= 60 }, 60), 'stop: load running');
ok($st->pg_stop('fast'), 'stop: PostgreSQL stopped under load');
sleep 3;
ok($st->pg_start, 'stop: PostgreSQL started again');
my $recs = Cartevo::Load::wait_all($run);

# 2. Restarted with an immediate shutdown (crash recovery) under load.
my $run2 = load('restart', 400);
ok(wait_until(sub { Cartevo::Load::progress($run2) >= 60 }, 60), 'restart: load running');
ok($st->pg_restart('immediate'), 'restart: PostgreSQL restarted under load');
push @$recs, @{ Cartevo::Load::wait_all($run2) };

my $n503 = grep { $_->{status} == 503 } @$recs;
my $n201 = grep { $_->{status} == 201 } @$recs;
ok($n503 > 0, "the outage was seen ($n503 answers of 503)");
ok($n201 > 0, "$n201 creates succeeded");

# Recovery without restarting httpd: the same master, and creates work.
is($st->httpd_pid, $httpd, 'httpd was not restarted');
my $after = Cartevo::Load::start(base => $st->base, token => $token, jpeg => $jpeg,
    n => 16, concurrency => 4, tag => 'after', out => "$tmp/after");
my $arecs = Cartevo::Load::wait_all($after);
is(scalar(grep { $_->{status} == 201 } @$arecs), 16, 'after: every create is a 201');
push @$recs, @$arecs;

# Pool cleanups run just after the last byte of an answer.
sleep 1;
my ($fig, $bad) = Cartevo::Reconcile::check(db => $st->db, docdir => $st->docdir,
    records => $recs, allowed => [201, 503]);
is_deeply($bad, [], 'reconciled: ' . Cartevo::Reconcile::figures_line($fig))
    or diag(join("\n", @$bad[0 .. ($#$bad < 20 ? $#$bad : 20)]));
# In-flight inserts whose connection died with the server cannot be
# proven uncommitted while it is down: their files stay for the sweeper.
is($fig->{orphans_unexplained} + $fig->{orphans_spool}, 0,
    "every orphan file ($fig->{orphans_for_sweeper}) belongs to a create answered 503 without a row");
ok($fig->{orphans_for_sweeper} <= 2 * $n503, 'at most two files per 503');

$st->down;
done_testing();
