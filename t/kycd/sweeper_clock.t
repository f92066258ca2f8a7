# The sweeper judges a file's age by the document directory's own clock
# (the mtime of a probe it writes there), not the node's (decisions.md 1):
# a daemon whose clock runs two days ahead (libfaketime) must not take a
# fresh orphan for an old one, while a file that is old by the
# directory's clock is still removed, and no probe file is left behind.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use POSIX ();

my $lib = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
plan skip_all => "needs $lib (Debian's faketime)" unless -e $lib;

my $dir = $ENV{CARTEVO_DOCUMENT_DIR};
my $fresh = 'c' x 31 . '1';
my $old = 'c' x 31 . '2';
for my $f ($fresh, $old) {
    open my $fh, '>', "$dir/$f" or die "$dir/$f: $!";
    print $fh 'x';
    close $fh;
}
my $t = time - 44100;
utime $t, $t, "$dir/$old";

my $d;
{
    # Under ./dev test --sanitize the ASan runtime must come first.
    local $ENV{LD_PRELOAD} = join ':', grep { $_ } $ENV{CARTEVO_HTTPD_PRELOAD}, $lib;
    local $ENV{FAKETIME} = '+2d';
    # File times as the file system stamps them (libfaketime would shift
    # them too): the node's clock is wrong, the directory's is not.
    local $ENV{NO_FAKE_STAT} = 1;
    $d = start_daemon(sweep_interval => 60, orphan_sweep_interval => 0.2,
        orphan_min_age => 44040);
}
# The daemon does run two days ahead: its log lines are stamped so.
my ($stamp) = `head -1 $d->{log}` =~ /\A(\d{4}-\d\d-\d\d)T/;
is($stamp, POSIX::strftime('%Y-%m-%d', gmtime(time + 2 * 86400)),
    'the daemon runs with its clock two days ahead');
ok(wait_until(sub { !-e "$dir/$old" }, 10),
    'a file old by the directory clock is removed');
ok(-e "$dir/$fresh", 'a fresh orphan is kept although the node clock calls it two days old');
opendir my $dh, $dir or die;
is(scalar(grep { /\A\.clock-probe-/ } readdir $dh), 0, 'no probe file left behind');
closedir $dh;
stop_daemon($d);
unlink "$dir/$fresh";
done_testing();
