# The module's poke when the daemon's listen backlog is full: connect()
# on a Unix socket says EAGAIN, which means "busy", not "in progress"; the
# poke tries again within its budget (1 s in the test configuration) and
# reaches the daemon once it drains its backlog. A fake daemon with a
# backlog of 1, filled up before the create, drains it after 300 ms.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use Errno qw(EAGAIN);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use IO::Select ();
use Socket qw(AF_UNIX SOCK_STREAM pack_sockaddr_un);
use IO::Socket::UNIX ();
use Time::HiRes ();
use POSIX ();

plan tests => 4;

my $sock = $ENV{CARTEVO_DAEMON_SOCKET};
my $c = company();
my $t = token($c);
stop_main();
unlink $sock;
my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $sock, Listen => 1)
    or die "listen: $!";
chmod 0666, $sock;    # httpd's children are another user

# Fill the backlog with connections that are never accepted (yet).
my (@fill, $full);
for (1 .. 16) {
    socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
    fcntl($s, F_SETFL, fcntl($s, F_GETFL, 0) | O_NONBLOCK);
    if (!connect($s, pack_sockaddr_un($sock))) {
        $full = 1 if $! == EAGAIN;
        last;
    }
    push @fill, $s;
}
ok($full, 'the backlog is full: a further connect says EAGAIN');

pipe(my $rd, my $wr) or die;
my $pid = fork // die "fork: $!";
if (!$pid) {
    close $rd;
    Time::HiRes::sleep(0.3);
    # Drain: accept everything for 3 s and keep what is said.
    my $sel = IO::Select->new($l);
    my $end = Time::HiRes::time() + 3;
    my @conns;
    while (Time::HiRes::time() < $end) {
        for my $h ($sel->can_read(0.05)) {
            if ($h == $l) { my $a = $l->accept; $sel->add($a) if $a; next }
            my $n = sysread($h, my $buf, 256);
            if ($n) { syswrite $wr, $buf } else { $sel->remove($h); close $h }
        }
    }
    POSIX::_exit(0);
}
close $wr;
my $res = create_customer(token => $t);
is($res->code, 201, 'created while the backlog is full');
my $id = json_of($res)->{data}{id};
my ($job) = sql_rows("SELECT id FROM kyc_jobs WHERE customer_id = '$id'");
waitpid $pid, 0;
my $said = do { local $/; <$rd> } // '';
like($said, qr/^CCWAKE\/1 $job->[0]\n/m, 'the poke reached the daemon once it drained its backlog');
close $_ for @fill;
close $l;
unlink $sock;
start_main();
ok(wait_until(sub { sql_rows("SELECT 1 FROM kyc_jobs WHERE id = $job->[0] AND state = 'done'") }, 30),
   'the real daemon then does the job');
