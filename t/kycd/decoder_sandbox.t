# The decoding child of the local verifier: no environment (but the
# sanitizer's options), a process group of its own that the wall-clock
# timeout kills as a whole, no processes of its own (RLIMIT_NPROC 0), its
# seccomp filter in place before it reads (the probe of make check shows
# what the filter kills), no descriptor but its three, and stderr to a
# pipe of the daemon's, not the daemon's own stderr.
# To watch it mid-decode, the document's file is replaced by a FIFO that
# this test holds open and never writes: the decoder then waits on stdin
# until decode_timeout.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use POSIX ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $c = company();
my $t = token($c);
stop_main();
my $id = json_of(create_customer(token => $t))->{data}{id};
my ($doc) = sql_rows("SELECT storage_name FROM customer_documents "
    . "WHERE customer_id = '$id' AND side = 'front'");
my $path = "$ENV{CARTEVO_DOCUMENT_DIR}/$doc->[0]";
unlink $path or die "unlink: $!";
POSIX::mkfifo($path, 0666) or die "mkfifo: $!";
chmod 0666, $path;

my $d = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, decode_timeout => 3,
    sweep_interval => 0.2);
# Blocks until the daemon opens the FIFO to decode it.
open my $w, '>', $path or die "fifo: $!";
# Seen once it blocks in read(2) on fd 0 (/proc/PID/syscall "0 0x0 ..."):
# by then it has entered its sandbox, so what follows shows the state the
# input is read in, not a moment after exec.
my $pid = wait_until(sub {
    my ($p) = grep { /\S/ } split /\n/, `pgrep -P $d->{pid} -f -- --check-document`;
    return unless $p;
    my $sc = `cat /proc/$p/syscall 2>/dev/null` // '';
    $sc =~ /\A0 0x0 / ? $p : undef }, 15);
ok($pid, 'the decoder runs and waits on stdin');
SKIP: {
    skip 'no decoder seen', 11 unless $pid;
    my $env = do { local $/; open my $fh, '<', "/proc/$pid/environ" or die; <$fh> } // '';
    my @vars = grep { length && !/\A(?:ASAN|UBSAN)_OPTIONS=/ } split /\0/, $env;
    is_deeply(\@vars, [], 'no environment but the sanitizer options');
    my @stat = split ' ', (`cat /proc/$pid/stat` =~ /\)\s+(.*)/)[0];
    is($stat[2], $pid, 'a process group of its own');
    is($stat[3], $pid, 'a session of its own (no controlling terminal)');
    is($stat[4], 0, 'no controlling terminal');
    # Signals 1-31; glibc's posix_spawn leaves its own two (32, 33) ignored.
    my ($ign) = `cat /proc/$pid/status` =~ /^SigIgn:\s+([0-9a-f]+)$/m;
    is(hex(substr($ign // 'ffffffff', -8)) & 0x7fffffff, 0, 'no standard signal ignored');
    like(`cat /proc/$pid/limits`, qr/^Max processes\s+0\s+0\s/m, 'RLIMIT_NPROC 0');
    my $status = `cat /proc/$pid/status`;
    like($status, qr/^Seccomp:\s+2$/m, 'a seccomp filter before the first read');
    like($status, qr/^NoNewPrivs:\s+1$/m, 'no new privileges');
    my @fds = sort map { m{/(\d+)$} } glob("/proc/$pid/fd/*");
    is("@fds", '0 1 2', 'only stdin, stdout and stderr open');
    my ($err, $derr) = map { readlink($_) // '' } "/proc/$pid/fd/2", "/proc/$d->{pid}/fd/2";
    ok($err =~ /^pipe:/ && $err ne $derr, "stderr is a pipe of the daemon's ($err)");
    ok(wait_until(sub { !kill(0, $pid) }, 10), 'killed at the timeout');
}
close $w;
ok(wait_until(sub { (sql_rows("SELECT state FROM kyc_jobs WHERE customer_id = '$id'"))[0][0] eq 'done' }, 20),
    'the job reached its outcome');
stop_daemon($d);
unlink $path;

# The daemon killed with -9 mid-decode: its decoder must not live on
# (PR_SET_PDEATHSIG), though it uses no CPU and nobody times it out now.
# Then the document is put back and a new daemon finishes the job once
# the dead one's lease has expired.
my $id2 = json_of(create_customer(token => $t))->{data}{id};
my ($doc2) = sql_rows("SELECT storage_name FROM customer_documents "
    . "WHERE customer_id = '$id2' AND side = 'front'");
my $path2 = "$ENV{CARTEVO_DOCUMENT_DIR}/$doc2->[0]";
rename $path2, "$path2.keep" or die "rename: $!";
POSIX::mkfifo($path2, 0666) or die "mkfifo: $!";
chmod 0666, $path2;
my $d2 = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, decode_timeout => 60,
    lease_seconds => 3, sweep_interval => 0.2);
open my $w2, '>', $path2 or die "fifo: $!";
my $pid2 = wait_until(sub {
    my ($p) = grep { /\S/ } split /\n/, `pgrep -P $d2->{pid} -f -- --check-document`;
    $p }, 15);
ok($pid2, 'a second decoder runs');
kill9($d2);
ok(wait_until(sub { !kill(0, $pid2) || `cat /proc/$pid2/stat 2>/dev/null` =~ /\) Z/ }, 5),
    'the decoder dies with its daemon');
close $w2;
unlink $path2;
rename "$path2.keep", $path2 or die "rename back: $!";
my $d3 = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, sweep_interval => 0.2);
ok(wait_until(sub { (sql_rows("SELECT state FROM kyc_jobs WHERE customer_id = '$id2'"))[0][0] eq 'done' }, 30),
    'a new daemon finishes that job');
stop_daemon($d3);
start_main();
done_testing();
