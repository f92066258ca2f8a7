#!/usr/bin/perl
# bench/receiver.pl: the webhook receiver of ./dev bench's daemon scenario
# (d): answers every request 204 at once, counts them in its log.
#   bench/receiver.pl PORT PIDFILE
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $pidfile) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
    Listen => 128, ReuseAddr => 1) or die "receiver: listen $port: $!";
open my $fh, '>', $pidfile or die "receiver: $pidfile: $!";
print $fh "$$\n";
close $fh;
$SIG{PIPE} = 'IGNORE';
while (my $c = $srv->accept) {
    my ($head, $len) = ('', 0);
    while (defined(my $line = <$c>)) {
        $head .= $line;
        $len = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
        last if $line eq "\r\n";
    }
    read($c, my $body, $len) if $len;
    print $c "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    close $c;
}
