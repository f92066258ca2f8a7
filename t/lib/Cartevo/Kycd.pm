package Cartevo::Kycd;
# Helpers for the cartevo-kycd tests (t/kycd): extra daemon instances with
# their own config and socket, the main daemon that ./dev test started
# (stopped and restarted by tests that need the database to themselves),
# stub HTTP servers on loopback that record what they receive (plain http
# on the ports ./dev test lists in allow_targets, for webhooks; https with
# a CA made at test time, for verify_url and issuer_url), an
# independent check of webhook signatures (Digest::SHA, not OpenSSL), and
# for the fetch phase: a CA and certificates made at test time, an HTTPS
# document server, listeners that must see no connection, and customers
# enrolled by URL inserted as the module inserts them.
use strict;
use warnings;

use Exporter 'import';
use Digest::SHA qw(hmac_sha256_hex);
use HTTP::Daemon ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::IP ();
use IO::Socket::SSL ();
use IO::Socket::UNIX ();
use JSON::PP ();
use POSIX ':sys_wait_h';
use Time::HiRes qw(sleep time);

our @EXPORT = qw(start_daemon stop_daemon kill9 stop_main start_main
  stub_server stub_stop stub_requests stub_requests_for wait_until
  stub_port stub_targets
  verify_signature
  free_port sql_rows
  tls_pki https_server probe_listen probe_connected url_customer poke
  daemon_log);

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
    # One metrics listener per address: the main daemon's is its own.
    my @lines = grep { my ($k) = /^\s*(\w+)/; !exists $over{$k} && $k ne 'metrics_listen' }
        _conf_lines();
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

# Webhook receivers are tenant URLs (decisions.md 3): the daemon connects
# to a loopback http one only when allow_targets lists it. ./dev test
# lists a small range of ports derived from its CARTEVO_TEST_PORT (so
# parallel suites never share one) in the shared daemon's allow_targets
# and passes the range here; daemons started by tests inherit it.
my ($pool_lo, $pool_hi) = ($ENV{CARTEVO_STUB_PORTS} // '') =~ /\A(\d+)-(\d+)\z/
    or die "CARTEVO_STUB_PORTS not set (run ./dev test)";

# The allow_targets entries of the range, for a test that sets its own.
sub stub_targets {
    return join ',', map { "127.0.0.1:$_" } $pool_lo .. $pool_hi;
}

# A listed port that nothing listens on now (for a receiver started later).
sub stub_port {
    for my $p ($pool_lo .. $pool_hi) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                      Listen => 1, ReuseAddr => 1) or next;
        close $s;
        return $p;
    }
    die "no free stub port in $pool_lo-$pool_hi";
}

sub _stub_listen {
    my (%o) = @_;
    my @ports = defined $o{port} ? ($o{port}) : $o{tls} ? (0) : ($pool_lo .. $pool_hi);
    for my $p (@ports) {
        my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                  ReuseAddr => 1, Listen => 20);
        return $d if $d;
    }
    die "stub: no port to listen on: $!";
}

# HTTP::Daemon's connection with TLS under it: IO::Socket::SSL's tied
# handle does the reads and writes that HTTP::Daemon's request parsing and
# send_response make.
{
    package Cartevo::Kycd::TLSConn;
    our @ISA = ('IO::Socket::SSL', 'HTTP::Daemon::ClientConn');
}

my $stub_pki;

# stub_server(sub { my ($req, $n) = @_; return HTTP::Response },
#             port => P, path => '/p', tls => 1)
# Forks a loopback HTTP server; every request is recorded (method, path,
# headers, body) as one JSON line in a file before the handler answers.
# Only requests for its own path (unique unless given) are its. Without
# port, plain http takes a free port of the listed range. tls => 1:
# https on any port, its certificate from a CA made for this test file
# (the returned ca, for the daemon's ca_file).
sub stub_server {
    my ($handler, %o) = @_;
    $n++;
    my $log = "$state/kycd/stub$$-$n.jsonl";
    unlink $log;
    $stub_pki //= tls_pki() if $o{tls};
    my $d = _stub_listen(%o);
    my $port = $d->sockport;
    my $path = $o{path} // "/hook/$$-$n";
    my $pid = fork // die;
    if ($pid == 0) {
        # A client that gave up (or was killed) must not kill the stub.
        $SIG{PIPE} = 'IGNORE';
        my $count = 0;
        while (my $c = $d->accept) {
            if ($o{tls}) {
                Cartevo::Kycd::TLSConn->start_SSL($c, SSL_server => 1,
                    SSL_cert_file => $stub_pki->{cert}, SSL_key_file => $stub_pki->{key},
                    Timeout => 10) or do { close $c; next };
            }
            while (my $r = $c->get_request) {
                # A listed port serves one test file after another: a
                # delivery still due to an earlier stub's URL is taken
                # (so it stops), not counted as this stub's.
                if ($r->uri->path ne $path) {
                    $c->send_response(HTTP::Response->new(200));
                    last;
                }
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
             ca => $o{tls} ? $stub_pki->{ca} : undef,
             url => ($o{tls} ? 'https' : 'http') . "://127.0.0.1:$port$path" };
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

# ---- the fetch phase -------------------------------------------------

# Runs a command quietly (openssl chatters on stderr); dies on failure.
sub _run {
    my @cmd = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "failed: @cmd" if $?;
}

# A CA, a leaf for 127.0.0.1 / ::1 / localhost signed by it, and a
# self-signed leaf nobody trusts, made now with openssl. The directory and
# the CA are readable by the daemon's service user.
sub tls_pki {
    $n++;
    my $dir = "$state/kycd/pki$$-$n";
    mkdir $dir or die "$dir: $!";
    chmod 0755, $dir;
    my $ext = "$dir/leaf.ext";
    open my $fh, '>', $ext or die;
    print $fh "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n"
        . "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    close $fh;
    _run(qw(openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cartevo-test-ca),
        -keyout => "$dir/ca.key", -out => "$dir/ca.pem");
    _run(qw(openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1),
        -keyout => "$dir/leaf.key", -out => "$dir/leaf.csr");
    _run(qw(openssl x509 -req -days 2 -CAcreateserial),
        -in => "$dir/leaf.csr", -CA => "$dir/ca.pem", -CAkey => "$dir/ca.key",
        -extfile => $ext, -out => "$dir/leaf.pem");
    _run(qw(openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1),
        -addext => 'subjectAltName=IP:127.0.0.1',
        -keyout => "$dir/rogue.key", -out => "$dir/rogue.pem");
    chmod 0644, "$dir/ca.pem";
    return { ca => "$dir/ca.pem", cert => "$dir/leaf.pem", key => "$dir/leaf.key",
             rogue_cert => "$dir/rogue.pem", rogue_key => "$dir/rogue.key" };
}

sub _http_reply {
    my ($c, $status, $headers, $body, %o) = @_;
    my $h = "HTTP/1.1 $status X\r\nConnection: close\r\n";
    $h .= "Content-Length: " . length($body) . "\r\n" unless $o{no_length};
    for (my $i = 0; $i < @$headers; $i += 2) {
        $h .= "$headers->[$i]: $headers->[$i + 1]\r\n";
    }
    print $c "$h\r\n";
    for (my $off = 0; $off < length $body; $off += 65536) {
        print $c substr($body, $off, 65536) or last;
    }
}

# https_server(sub { my ($path_and_query, $count_for_path) = @_;
#                    return ($status, [headers], $body, no_length => 1) },
#              cert => PEM, key => PEM)
# Forks an HTTPS server on 127.0.0.1; every connection and every request
# (its path and query) is recorded as a JSON line before it is answered.
sub https_server {
    my ($handler, %o) = @_;
    $n++;
    my $log = "$state/kycd/https$$-$n.jsonl";
    unlink $log;
    my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0,
                                Listen => 20, ReuseAddr => 1) or die "https: $!";
    my $port = $l->sockport;
    my $pid = fork // die;
    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        my %count;
        my $note = sub {
            open my $fh, '>>', $log or die;
            print $fh $json->encode({ @_, at => time }), "\n";
            close $fh;
        };
        while (1) {
            my $c = $l->accept or next;
            $note->(conn => 1);
            IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => $o{cert},
                SSL_key_file => $o{key}, Timeout => 10) or do { close $c; next };
            my $req = '';
            while ($req !~ /\r\n\r\n/ && length $req < 65536) {
                my $r = sysread($c, my $buf, 4096) or last;
                $req .= $buf;
            }
            my ($target) = $req =~ m{\AGET (\S+) HTTP/1\.[01]\r\n} or do { close $c; next };
            my ($path) = $target =~ m{\A([^?]*)};
            $note->(path => $target);
            _http_reply($c, $handler->($target, ++$count{$path}));
            $c->close(SSL_fast_shutdown => 1);
        }
    }
    close $l;
    return { pid => $pid, port => $port, log => $log,
             base => "https://127.0.0.1:$port" };
}

# A listening TCP socket that is never accepted from: the kernel still
# completes a client's handshake, so a pending connection shows as
# readable (probe_connected).
sub probe_listen {
    my ($host, $port) = @_;
    return IO::Socket::IP->new(LocalHost => $host, LocalPort => $port // 0,
                               Listen => 16, ReuseAddr => 1, V6Only => 1);
}

sub probe_connected {
    my ($sock) = @_;
    return scalar IO::Select->new($sock)->can_read(0);
}

sub _psql_list {
    my ($sql) = @_;
    open my $ph, '-|', 'psql', '-X', '-q', '-At', '-F', '|', '-v', 'ON_ERROR_STOP=1',
        $ENV{CARTEVO_DB}, '-c', $sql or die "psql: $!";
    my @rows = map { chomp; [split /\|/, $_, -1] } <$ph>;
    close $ph or die "psql failed: $sql";
    return @rows;
}

sub _lit {
    my ($v) = @_;
    return 'NULL' unless defined $v;
    $v =~ s/'/''/g;
    return "'$v'";
}

# url_customer(company_id => C, front => URL, back => URL|undef,
#              type => 'NIN', fields => {valid_fields}) -> (customer, job)
# The rows POST /customers/enroll writes (src/module/db.c,
# CC_SQL_CREATE_URL): the customer with its URLs, no document rows, a job
# in phase fetch that enrolls, and customer.created.
sub url_customer {
    my (%a) = @_;
    my %f = %{ $a{fields} };
    $f{id_document_type} = $a{type} if $a{type};
    my $back = $f{id_document_type} eq 'PASSPORT' ? undef : $a{back};
    my @cols = qw(first_name last_name email country street city state
        postal_code country_iso_code country_phone_code phone_number
        identification_number id_document_type date_of_birth);
    my $vals = join ', ', map { _lit($f{$_}) } @cols;
    $cols[9] = 'phone_country_code';
    my $co = _lit($a{company_id});
    my ($row) = _psql_list("WITH c AS (INSERT INTO customers (id, company_id, "
        . join(', ', @cols) . ", front_url, back_url) VALUES (gen_random_uuid(), "
        . "$co, $vals, " . _lit($a{front}) . ', ' . _lit($back) . ") RETURNING id), "
        . "j AS (INSERT INTO kyc_jobs (customer_id, enroll, phase) "
        . "SELECT id, true, 'fetch' FROM c RETURNING id), "
        . "o AS (INSERT INTO outbox_events (id, company_id, customer_id, event) "
        . "SELECT gen_random_uuid(), $co, id, 'customer.created' FROM c) "
        . "SELECT c.id, j.id FROM c, j");
    return @$row;
}

# The module's wake-up line for a job (cc_wire.h).
sub poke {
    my ($socket, $job) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $socket) or return 0;
    print $s "CCWAKE/1 $job\n";
    close $s;
    return 1;
}

sub daemon_log {
    my ($d) = @_;
    open my $fh, '<', $d->{log} or return '';
    local $/;
    return scalar <$fh>;
}

1;
