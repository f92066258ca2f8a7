package Cartevo::Stack;
# A private stack (PostgreSQL, httpd with the module, cartevo-kycd) that
# a fault test or the soak may stop, restart, kill and reload without
# touching the suite's: `./dev stack NAME up` starts it the way ./dev
# starts the suite's, from an empty database, and this object drives it.
# Ports: the suite's httpd port + 40 + offset for httpd, that + 20000 for
# PostgreSQL, so parallel runs on other ports never collide.
use strict;
use warnings;
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes ();

my $PGBIN = '/usr/lib/postgresql/15/bin';

sub _dev {
    my ($self, @args) = @_;
    local $ENV{CARTEVO_STACK_PORT} = $self->{port};
    local $ENV{CARTEVO_STACK_PG_PORT} = $self->{pg_port};
    local $ENV{CARTEVO_STACK_KYCD_EXTRA} = $self->{kycd_extra} // '';
    local $ENV{CARTEVO_STACK_SHARE} = $self->{share} ? $self->{share}->env('STATE') : '';
    my $out = qx{"$ENV{CARTEVO_ROOT}/dev" stack $self->{name} @args 2>>"$self->{devlog}"};
    die "./dev stack $self->{name} @args failed (see $self->{devlog})" if $?;
    return $out;
}

# new(name => 'faults-pg', offset => N, kycd_extra => "k = v\n...",
#     share => $first): with share, a second node of $first's stack (its
#     PostgreSQL, documents and token secret; its own httpd and daemon).
sub new {
    my ($class, %a) = @_;
    my $port = ($ENV{CARTEVO_STACK_PORT} // ($ENV{CARTEVO_PORT} // 8529) + 40)
        + ($a{offset} // 0);
    # Below the ephemeral range (32768-60999): an outgoing connection's
    # local port can never be holding it when PostgreSQL binds.
    my $self = bless { name => $a{name}, kycd_extra => $a{kycd_extra},
        port => $port, pg_port => $ENV{CARTEVO_STACK_PG_PORT} // $port + 20000 }, $class;
    if ($a{share}) {
        $self->{share} = $a{share};
        $self->{pg_port} = $a{share}{pg_port};
    }
    $self->{devlog} = "/tmp/cartevo-stack-$a{name}-$$.log";
    return $self;
}

sub up {
    my ($self) = @_;
    my %env = $self->_dev('up') =~ /^(\w+)=(.*)$/mg;
    $self->{env} = \%env;
    $self->{up} = 1;
    return $self;
}

sub down {
    my ($self) = @_;
    return unless $self->{up};
    $self->pg_start unless $self->{share} || $self->pg_running;
    $self->_dev('down');
    $self->{up} = 0;
}

sub DESTROY {
    my ($self) = @_;
    local $?;
    eval { $self->receiver_stop; $self->down };
}

sub env { return $_[0]{env}{ $_[1] } }
sub base { return $_[0]{env}{BASE} }
sub db { return $_[0]{env}{DB} }
sub docdir { return $_[0]{env}{DOCDIR} }

sub psql {
    my ($self, $sql) = @_;
    my $db = $self->db;
    my $out = qx{psql -X -q -At "$db" -c "$sql"};
    die "psql failed: $sql" if $?;
    chomp $out;
    return $out;
}

# A company with APPROVED KYB and a token for it.
sub token {
    my ($self) = @_;
    my $db = $self->db;
    my $out = qx{"$ENV{CARTEVO_CTL}" --db "$db" company create "Stack $self->{name} $$" --kyb APPROVED};
    die 'company create failed' if $?;
    my %kv = $out =~ /^(\w+)=(.*)$/mg;
    my $res = LWP::UserAgent->new(timeout => 30)->post($self->base . '/auth/token',
        'Content-Type' => 'application/json',
        Content => JSON::PP->new->encode({ client_id => $kv{client_id},
            client_key => $kv{client_key} }));
    die 'token: ' . $res->status_line unless $res->code == 200;
    $self->{company_id} = $kv{company_id};
    return (JSON::PP->new->decode($res->content)->{access_token}, \%kv);
}

sub _pg_ctl {
    my ($self, @args) = @_;
    my @cmd = ("$PGBIN/pg_ctl", '-s', @args);
    unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
    return system(@cmd) == 0;
}

sub pg_running {
    my ($self) = @_;
    my $d = $self->env('PGDATA');
    my $cmd = "$PGBIN/pg_ctl -D $d status >/dev/null 2>&1";
    $cmd = "runuser -u postgres -- $cmd" if $> == 0;
    return system($cmd) == 0;
}

# As start_pg in ./dev.
sub pg_start {
    my ($self) = @_;
    my ($d, $port) = ($self->env('PGDATA'), $self->env('PG_PORT'));
    return $self->_pg_ctl('-w', '-D', $d, '-l', $self->env('PGLOG'), '-o',
        '-k ' . $self->env('PGSOCK') . " -p $port -c listen_addresses=127.0.0.1 "
        . '-c log_error_verbosity=terse -c max_connections=200', 'start');
}

sub pg_stop {
    my ($self, $mode) = @_;
    return $self->_pg_ctl('-w', '-D', $self->env('PGDATA'), '-m', $mode // 'fast', 'stop');
}

sub pg_restart {
    my ($self, $mode) = @_;
    return $self->pg_stop($mode) && $self->pg_start;
}

sub _pid_of {
    my ($file) = @_;
    open my $fh, '<', $file or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub httpd_pid { return _pid_of($_[0]->env('HTTPD_PIDFILE')) }

sub httpd_children {
    my ($self) = @_;
    my $ppid = $self->httpd_pid or return ();
    return grep { /\S/ } split /\n/, `pgrep -P $ppid`;
}

sub graceful { my ($self) = @_; $self->_dev('graceful') }

sub kycd_pid { return _pid_of($_[0]->env('KYCD_PIDFILE')) }

sub kycd_kill9 {
    my ($self) = @_;
    my $pid = $self->kycd_pid or return 0;
    kill 'KILL', $pid;
    for (1 .. 100) { last unless kill 0, $pid; Time::HiRes::sleep(0.05) }
    return 1;
}

sub kycd_start { my ($self) = @_; $self->_dev('kycd-start') }

# A webhook receiver on loopback (port: the stack's + 1000, listed in
# the daemon's allow_targets by the caller): one line per request received
# with its X-Cartevo-Event-Id, then 200. receiver_counts() reads them.
sub receiver_port { return $_[0]{port} + 1000 }

sub receiver_start {
    my ($self) = @_;
    require HTTP::Daemon;
    require HTTP::Response;
    my $log = "$self->{env}{STATE}/received.log";
    unlink $log;
    my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $self->receiver_port,
        ReuseAddr => 1, Listen => 64) or die "receiver: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        while (my $c = $d->accept) {
            while (my $r = $c->get_request) {
                open my $fh, '>>', $log or POSIX::_exit(1);
                print $fh(($r->header('X-Cartevo-Event-Id') // 'none') . "\n");
                close $fh;
                $c->send_response(HTTP::Response->new(200, 'OK', [], 'ok'));
            }
            $c->close;
        }
        POSIX::_exit(0);
    }
    close $d;
    $self->{receiver} = { pid => $pid, log => $log };
    return 'http://127.0.0.1:' . $self->receiver_port . '/hook';
}

sub receiver_counts {
    my ($self) = @_;
    my %n;
    open my $fh, '<', $self->{receiver}{log} or return \%n;
    while (<$fh>) { chomp; $n{$_}++ }
    return \%n;
}

sub receiver_stop {
    my ($self) = @_;
    my $r = delete $self->{receiver} or return;
    kill 'KILL', $r->{pid};
    waitpid($r->{pid}, 0);
}

# Waits until every event has a delivered delivery (or timeout); returns
# how many are not yet delivered.
sub drain_webhooks {
    my ($self, $timeout) = @_;
    my $end = time + ($timeout // 60);
    while (1) {
        my $left = $self->psql('SELECT count(*) FROM outbox_events e WHERE NOT EXISTS '
            . "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.state = 'delivered')");
        return $left if !$left || time > $end;
        Time::HiRes::sleep(0.25);
    }
}

# Waits until the daemon has no open job (or timeout); returns the count.
sub drain_jobs {
    my ($self, $timeout) = @_;
    my $end = time + ($timeout // 60);
    my $open;
    while (1) {
        $open = $self->psql("SELECT count(*) FROM kyc_jobs WHERE state IN ('queued', 'running')");
        return $open if !$open || time > $end;
        Time::HiRes::sleep(0.25);
    }
}

1;
