# The daemon starts as root and replaces a stale socket: only a socket.
# A regular file or a symlink at the configured path is a configuration
# mistake, and root must neither delete it nor chmod/chown through it.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use IO::Socket::UNIX ();
use POSIX ':sys_wait_h';

plan tests => 8;

my $dir = "$ENV{CARTEVO_STATE}/kycd";

# Runs a daemon on $path; its exit status, or undef if it kept running.
sub start_on {
    my ($path) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>>', "$dir/socket_path$$.log" or die;
        open STDERR, '>&', \*STDOUT or die;
        exec $ENV{CARTEVO_KYCD}, '--config', $ENV{CARTEVO_KYCD_CONF},
            '--socket', $path, '--metrics-listen=', '--foreground';
        die "exec: $!";
    }
    my $st;
    wait_until(sub { my $r = waitpid($pid, WNOHANG); $st = $? if $r > 0; $r != 0 }, 5);
    return $st if defined $st;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    return undef;
}

my $file = "$dir/not-a-socket$$";
open my $fh, '>', $file or die;
print $fh "keep me\n";
close $fh;
chmod 0600, $file;
my $st = start_on($file);
ok(defined $st && $st != 0, 'a regular file at the socket path: refused');
ok(-f $file && -s $file == 8, 'the file is left alone');

my $target = "$dir/target$$";
open $fh, '>', $target or die;
close $fh;
chmod 0600, $target;
my $link = "$dir/link$$.sock";
symlink $target, $link or die;
$st = start_on($link);
ok(defined $st && $st != 0, 'a symlink at the socket path: refused');
ok(-l $link, 'the symlink is left alone');
is(sprintf('%04o', (stat $target)[2] & 07777), '0600', 'its target is not chmodded');

# And a stale socket (a daemon killed with -9) is still replaced.
my $d = start_daemon();
kill9($d);
my $sock = $d->{socket};
ok(-S $sock && !IO::Socket::UNIX->new(Peer => $sock), 'kill -9 leaves a dead socket');
$d = start_daemon(socket => $sock);
ok(wait_until(sub { `cat $d->{log}` =~ /info: started/ }, 10)
   && IO::Socket::UNIX->new(Peer => $sock), 'a stale socket is replaced');
is(stop_daemon($d), 0, 'clean exit');
unlink $file, $link, $target, glob("$dir/socket_path*.log");
