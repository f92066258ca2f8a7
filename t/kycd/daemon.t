# The daemon as a process: socket permissions, hostile wake-up lines,
# SIGTERM finishing the in-flight job, and the sweeper removing old files
# that no row references (and nothing else).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use IO::Socket::UNIX ();
use Time::HiRes ();

plan tests => 15;

# orphan_min_age may not be set below the longest request httpd allows
# (about 12.2 h): a daemon told less does not start, and says which key.
{
    my $conf = "$ENV{CARTEVO_STATE}/kycd/floor$$.conf";
    open my $fh, '>', $conf or die;
    print $fh "database = $ENV{CARTEVO_DB}\norphan_min_age = 3600\n";
    close $fh;
    my $out = qx{"$ENV{CARTEVO_KYCD}" --config "$conf" --foreground 2>&1};
    is($? >> 8, 2, 'orphan_min_age 3600: the daemon refuses to start (exit 2)');
    like($out, qr/orphan_min_age must be a number from 44040/, 'and names the key and its floor');
    unlink $conf;
}

my $d = start_daemon(sweep_interval => 60, orphan_sweep_interval => 0.2,
    orphan_min_age => 44040);
my @st = stat $d->{socket};
is(sprintf('%04o', $st[2] & 07777), '0660', 'socket is 0660');
SKIP: {
    skip 'not root', 2 unless $> == 0;
    is(scalar getgrgid($st[5]), 'cartevo', 'socket group is the shared group');
    my @p = split ' ', `ps -o user= -p $d->{pid}`;
    is($p[0], 'cartevo-kycd', 'daemon dropped to its own user');
}
for my $junk ("CCWAKE/2 5\n", "CCWAKE/1 -1\n", "x" x 500, "CCWAKE/1 99999999999999999999\n") {
    my $s = IO::Socket::UNIX->new(Peer => $d->{socket}) or die "connect: $!";
    print $s $junk;
    close $s;
}
Time::HiRes::sleep(0.3);
ok(kill(0, $d->{pid}), 'malformed wake-up lines are ignored');

# Sweeper.
my $dir = $ENV{CARTEVO_DOCUMENT_DIR};
my $old = time - 44100;
my ($ref) = sql_rows("SELECT storage_name FROM customer_documents LIMIT 1");
my @make = ('0' x 31 . 'a', '.tmp-' . '1' x 32, '0' x 31 . 'b', 'README');
for my $f (@make) {
    open my $fh, '>', "$dir/$f" or die; print $fh 'x'; close $fh;
}
utime $old, $old, "$dir/$make[0]", "$dir/$make[1]", "$dir/$make[3]";
utime $old, $old, "$dir/$ref->[0]" if $ref;
ok(wait_until(sub { !-e "$dir/$make[0]" && !-e "$dir/$make[1]" }, 10), 'old orphans removed');
ok(-e "$dir/$make[2]", 'a fresh orphan is kept (its request may still commit)');
ok(-e "$dir/$make[3]", 'names that are not ours are left alone');
ok(!$ref || -e "$dir/$ref->[0]", 'an old file that a row references is kept');
unlink "$dir/$make[2]", "$dir/$make[3]";
is(stop_daemon($d), 0, 'SIGTERM: exit 0');
ok(!-e $d->{socket}, 'socket removed on exit');

# SIGTERM while a job is in flight: the job is finished, not abandoned.
my $verifier = stub_server(sub {
    Time::HiRes::sleep(1.5);
    HTTP::Response->new(200, 'OK', ['Content-Type' => 'application/json'], '{"decision":"APPROVED"}');
}, tls => 1);
stop_main();
my $k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, verify_provider => 'http',
    verify_url => $verifier->{url}, ca_file => $verifier->{ca});
my $t = token(company());
my $id = json_of(create_customer(token => $t))->{data}{id};
ok(wait_until(sub { stub_requests_for($verifier, $id) >= 1 }, 10), 'the job is in flight');
is(stop_daemon($k), 0, 'SIGTERM with a job in flight: exit 0');
my ($j) = sql_rows("SELECT state, lease_owner IS NULL OR state = 'done' FROM kyc_jobs WHERE customer_id = '$id'");
is($j->[0], 'done', 'the in-flight job was finished before exit');
start_main();
stub_stop($verifier);
