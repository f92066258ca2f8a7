package Cartevo::DbProxy;
# A TCP relay between httpd and PostgreSQL that a test can cut: cut()
# closes the httpd side of every connection relayed so far and keeps the
# PostgreSQL side open and unread, as a network partition does. httpd's
# connection is lost while its backend lives on and may still commit;
# connections made after the cut are relayed normally.
use strict;
use warnings;
use IO::Socket::INET ();
use IO::Select ();
use POSIX ();

sub start {
    my ($class, %a) = @_;    # listen => port, to => port
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $a{listen}, Listen => 64, ReuseAddr => 1)
        or die "relay: listen on $a{listen}: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid) {
        close $l;
        return bless { pid => $pid }, $class;
    }
    setpgrp(0, 0);
    $SIG{USR1} = 'IGNORE';
    $SIG{CHLD} = 'IGNORE';
    while (1) {
        my $c = $l->accept or next;
        my $k = fork();
        if (defined $k && $k == 0) {
            close $l;
            _relay($c, $a{to});
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _write_all {
    my ($h, $buf) = @_;
    while (length $buf) {
        my $n = syswrite($h, $buf);
        return 0 unless $n;
        substr($buf, 0, $n, '');
    }
    return 1;
}

sub _relay {
    my ($c, $to) = @_;
    my $cut = 0;
    local $SIG{USR1} = sub { $cut = 1 };
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $to)
        or return;
    my $sel = IO::Select->new($c, $s);
    while (!$cut) {
        for my $h ($sel->can_read(0.2)) {
            my $n = sysread($h, my $buf, 65536);
            return if !$n;
            _write_all($h == $c ? $s : $c, $buf) or return;
        }
    }
    close $c;
    sleep 1 while 1;
}

sub cut { my ($self) = @_; kill 'USR1', -$self->{pid} }

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'KILL', -$self->{pid};
    waitpid($self->{pid}, 0);
    $self->{pid} = 0;
}

sub DESTROY { $_[0]->stop }

1;
