package Cartevo::Kycd;
# Helpers for the cartevo-kycd tests (t/kycd): extra daemon instances with
# their own config and socket, the main daemon that ./dev test started
# (stopped and restarted by tests that need the database to themselves),
# stub HTTP servers on loopback that record what they receive, and an
# independent check of webhook signatures (Digest::SHA, not OpenSSL).
use strict;
use warnings;

use Exporter 'import';
use Digest::SHA qw(hmac_sha256_hex);
use HTTP::Daemon ();
use HTTP::Response ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ':sys_wait_h';
use Time::HiRes qw(sleep time);

our @EXPORT = qw(start_daemon stop_daemon kill9 stop_main start_main
  stub_server stub_stop stub_requests stub_requests_for wait_until
  verify_signature
  free_port sql_rows);

my $json = JSON::PP->new->canonical;
my $n = 0;
my $state = $ENV{CARTEVO_STATE} or die "CARTEVO_STATE not set (run ./dev test)";
my $main_pidfile = "$state/kycd/kycd.pid";
my $main_conf = $ENV{CARTEVO_KYCD_CONF};

sub wait_until {
    my ($cond, $timeout) = @_;
    my $end = time + ($timeout // 15);
    while (time < $end) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.05;
    }
    return $cond->();
}

sub sql_rows {
    my ($sql) = @_;
    my $out = qx{psql -X -q -At -F '|' "$ENV{CARTEVO_DB}" -c "$sql"};
    die "psql failed: $sql" if $?;
    return map { [split /\|/, $_, -1] } split /\n/, $out;
}

sub _conf_lines {
    open my $fh, '<', $main_conf or die "$main_conf: $!";
    my @l = grep { /\S/ && !/^\s*#/ } <$fh>;
    chomp @l;
    return @l;
}

sub _spawn {
    my ($conf, $log) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', $log or die;
        open STDERR, '>&', \*STDOUT or die;
        exec $ENV{CARTEVO_KYCD}, '--config', $conf, '--foreground';
        die "exec: $!";
    }
    return $pid;
}

sub _wait_socket {
    my ($d) = @_;
    wait_until(sub { -S $d->{socket} || !kill(0, $d->{pid}) }, 10);
    die "daemon did not start: " . `tail -3 $d->{log}` unless -S $d->{socket};
}

# start_daemon(key => value, ...): a daemon with the main config plus
# these settings; its own socket unless socket => PATH is given.
sub start_daemon {
    my (%over) = @_;
    $n++;
    my $tag = "t$$-$n";
    $over{socket} //= "$state/kycd/$tag.sock";
    my @lines = grep { my ($k) = /^\s*(\w+)/; !exists $over{$k} } _conf_lines();
    push @lines, map { "$_ = $over{$_}" } sort keys %over;
    my $conf = "$state/kycd/$tag.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh join("\n", @lines), "\n";
    close $fh;
    my $d = { conf => $conf, log => "$state/kycd/$tag.log",
              socket => $over{socket} };
    $d->{pid} = _spawn($conf, $d->{log});
    _wait_socket($d);
    return $d;
}

# SIGTERM and wait; returns the exit status (-1 on timeout).
sub stop_daemon {
    my ($d) = @_;
    return 0 unless $d && $d->{pid};
    kill 'TERM', $d->{pid};
    my $st = -1;
    wait_until(sub { my $r = waitpid($d->{pid}, WNOHANG); $st = $? if $r > 0; $r != 0 }, 20);
    delete $d->{pid};
    return $st;
}

sub kill9 {
    my ($d) = @_;
    kill 'KILL', $d->{pid};
    waitpid($d->{pid}, 0);
    delete $d->{pid};
}

# The main daemon is not our child: signal it by pid file and poll.
sub stop_main {
    open my $fh, '<', $main_pidfile or return;
    my $pid = <$fh>;
    chomp $pid;
    kill 'TERM', $pid;
    wait_until(sub { !kill(0, $pid) }, 20) or die "main daemon did not stop";
    unlink $main_pidfile;
}

sub start_main {
    my $pid = _spawn($main_conf, "$state/kycd/kycd.log");
    open my $fh, '>', $main_pidfile or die;
    print $fh "$pid\n";
    close $fh;
    my $sock = $ENV{CARTEVO_DAEMON_SOCKET};
    wait_until(sub { -S $sock }, 10) or die "main daemon did not restart";
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die;
    my $p = $s->sockport;
    close $s;
    return $p;
}

# stub_server(sub { my ($req, $n) = @_; return HTTP::Response }, port => P)
# Forks a loopback HTTP server; every request is recorded (method, path,
# headers, body) as one JSON line in a file before the handler answers.
sub stub_server {
    my ($handler, %o) = @_;
    $n++;
    my $log = "$state/kycd/stub$$-$n.jsonl";
    unlink $log;
    my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $o{port} // 0,
                              ReuseAddr => 1, Listen => 20)
        or die "stub: $!";
    my $port = $d->sockport;
    my $pid = fork // die;
    if ($pid == 0) {
        # A client that gave up (or was killed) must not kill the stub.
        $SIG{PIPE} = 'IGNORE';
        my $count = 0;
        while (my $c = $d->accept) {
            while (my $r = $c->get_request) {
                $count++;
                my %h = map { lc($_) => scalar $r->header($_) } $r->header_field_names;
                open my $fh, '>>', $log or die;
                print $fh $json->encode({ method => $r->method, path => $r->uri->path,
                    headers => \%h, body => $r->content, at => time }), "\n";
                close $fh;
                my $res = $handler->($r, $count);
                $c->send_response($res) if $res;
                last;
            }
            $c->close;
        }
        exit 0;
    }
    close $d;
    return { pid => $pid, port => $port, log => $log,
             url => "http://127.0.0.1:$port/hook" };
}

sub stub_stop {
    my ($s) = @_;
    kill 'KILL', $s->{pid};
    waitpid($s->{pid}, 0);
}

# Requests a verifier stub received for one customer: a daemon may also
# be working through jobs other tests left due, so tests that time a kill
# or a signal wait for their own customer's call.
sub stub_requests_for {
    my ($s, $customer_id) = @_;
    my @r = grep {
        my $b = eval { $json->decode($_->{body}) };
        $b && ($b->{customer_id} // '') eq $customer_id
    } stub_requests($s);
    return scalar @r;
}

sub stub_requests {
    my ($s) = @_;
    my @r;
    if (open my $fh, '<', $s->{log}) {
        @r = map { $json->decode($_) } <$fh>;
    }
    return wantarray ? @r : scalar @r;
}

# Independent check of X-Cartevo-Signature for a recorded request.
sub verify_signature {
    my ($req, $secret) = @_;
    my $h = $req->{headers}{'x-cartevo-signature'} // return 0;
    my ($t, $v1) = $h =~ /\At=(\d+),v1=([0-9a-f]{64})\z/ or return 0;
    return 0 if abs(time - $t) > 300;
    return hmac_sha256_hex("$t.$req->{body}", $secret) eq $v1;
}

1;
