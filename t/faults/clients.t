# Slow and aborting clients beside normal load, on a private stack: a
# client that stalls in the body is answered 408 in the envelope once
# RequestReadTimeout (body=20,MinRate=500 as shipped) expires; one that
# sends slowly but above the minimum rate gets its 201; clients that
# vanish at random points (in the head, in a field, inside a document)
# leave no row and no file; and the normal load is answered 201 all along.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT doc_bytes wait_until read_until_eof);
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Reconcile ();
use File::Temp ();
use HTTP::Request::Common ();
use IO::Socket::INET ();
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $st = Cartevo::Stack->new(name => 'faults-clients', offset => 3)->up;
my ($token) = $st->token;
my $jpeg = doc_bytes('id-front.jpg');
my $tmp = File::Temp->newdir;
my ($port) = $st->base =~ m{:(\d+)/};

# A whole create request as bytes, for clients that send it themselves.
sub raw_create {
    my ($k) = @_;
    my %f = Cartevo::Load::fields_for('raw', $k);
    my $req = HTTP::Request::Common::POST($st->base . '/customers',
        Content_Type => 'form-data',
        Content => [ (map { $_ => $f{$_} } sort keys %f),
            id_document_front => [undef, 'f.jpg', 'Content-Type' => 'image/jpeg',
                Content => Cartevo::Load::jpeg_variant($jpeg, "raw/$k/f")],
            id_document_back => [undef, 'b.jpg', 'Content-Type' => 'image/jpeg',
                Content => Cartevo::Load::jpeg_variant($jpeg, "raw/$k/b")] ]);
    return ("POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        . "Authorization: Bearer $token\r\nContent-Type: " . $req->header('Content-Type')
        . "\r\nContent-Length: " . length($req->content) . "\r\n\r\n" . $req->content, $f{email});
}

# The answer on a Connection: close socket (not recorded for
# t/zz_openapi.t: this stack's httpd is not the suite's, whose access log
# names each answer's request).
sub answer_of {
    my ($s) = @_;
    my ($buf) = read_until_eof($s, 60);
    my ($status) = $buf =~ m{\AHTTP/1\.\d (\d{3})};
    my ($body) = $buf =~ /\r\n\r\n(.*)\z/s;
    return ($status // 0, $body // '');
}

sub connect_api {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 60);
    die "connect: $!" unless $s;
    return $s;
}

# In a child: runs $code and exits with its result (a small integer).
sub in_child {
    my ($code) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) { POSIX::_exit($code->() // 0) }
    return $pid;
}

my $load = Cartevo::Load::start(base => $st->base, token => $token, jpeg => $jpeg,
    n => 160, concurrency => 4, tag => 'clients', out => "$tmp/l", pause => 0.05);

# Clients that vanish: 40 requests cut at random offsets, half closed
# plainly, half reset (SO_LINGER 0).
my @abort = map { my $i = $_; in_child(sub {
    srand($i);
    my ($bytes) = raw_create(1000 + $i);
    my $s = connect_api();
    my $cut = int(rand(length $bytes));
    print $s substr($bytes, 0, $cut);
    Time::HiRes::sleep(rand(0.3));
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $i % 2;
    close $s;
    return 0;
}) } 1 .. 40;

# A client that stalls early in the body: 408 from the request timeout.
my $stall = in_child(sub {
    my ($bytes) = raw_create(2000);
    my $s = connect_api();
    # Early in the body: MinRate adds a second per 500 bytes received.
    print $s substr($bytes, 0, index($bytes, "\r\n\r\n") + 4 + 300);
    my ($status, $body) = answer_of($s);
    my $ok = $status == 408 && $body =~ /"statusCode":\s*408/;
    print STDERR "# stalled client: $status $body\n" unless $ok;
    return $ok ? 0 : 1;
});

# A slow client above MinRate: 32 KiB/s, a 201 in a few seconds.
my ($slow_bytes, $slow_email) = raw_create(3000);
my $slow = in_child(sub {
    my $s = connect_api();
    for (my $o = 0; $o < length $slow_bytes; $o += 8192) {
        print $s substr($slow_bytes, $o, 8192);
        Time::HiRes::sleep(0.25);
    }
    my ($status) = answer_of($s);
    return $status == 201 ? 0 : 1;
});

waitpid($_, 0) for @abort;
waitpid($slow, 0);
is($? >> 8, 0, 'a slow client above the minimum rate gets its 201');
waitpid($stall, 0);
is($? >> 8, 0, 'a stalled client gets 408 in the envelope');
my $recs = Cartevo::Load::wait_all($load);
is(scalar(grep { $_->{status} == 201 } @$recs), 160, 'the normal load: every create a 201');
sleep 1;
my ($fig, $bad) = Cartevo::Reconcile::check(db => $st->db, docdir => $st->docdir,
    records => $recs, allowed => [201]);
is_deeply($bad, [], 'reconciled: ' . Cartevo::Reconcile::figures_line($fig))
    or diag(join("\n", @$bad[0 .. ($#$bad < 20 ? $#$bad : 20)]));
is($fig->{rows}, 161, 'rows: the load and the slow client, none for the others');
is($fig->{orphans_for_sweeper}, 0, 'no file left by the clients that vanished or stalled');
$st->down;
done_testing();
