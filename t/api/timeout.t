# A body that stalls past RequestReadTimeout (body=20 in conf/cartevo.conf)
# is answered 408 in the error envelope with the message "Request timeout"
# (as httpd's own 408s, mapped in dispatch.c), for both POST endpoints,
# and the connection closes. Both requests stall at the same time, so
# the file takes one timeout, not two.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT raw_connect read_response document_names wait_until);
use JSON::PP ();

my $c = company();
my $t = token($c);
my @before = document_names();

my %f = valid_fields();
my ($b, $body) = multipart_body((map { [$_, $f{$_}] } sort keys %f),
    ['id_document_front', doc_bytes_or_x(), 'front.jpg', 'image/jpeg']);
sub doc_bytes_or_x { return "\xff\xd8\xff" . ('x' x 100) }

my $up = raw_connect();
print $up "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    . "Authorization: Bearer $t\r\n"
    . "Content-Type: multipart/form-data; boundary=$b\r\n"
    . 'Content-Length: ' . (length($body) + 1000) . "\r\n\r\n" . $body;
$up->flush;
my $tok = raw_connect();
print $tok "POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    . "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"client_id\":";
$tok->flush;

for my $case ([ 'POST /customers', $up ], [ 'POST /auth/token', $tok ]) {
    my ($label, $s) = @$case;
    my ($st, $h, $rb, $raw) = read_response($s, 60);
    my $d = eval { JSON::PP->new->decode($rb) };
    ok($st == 408 && $d && $d->{statusCode} == 408 && $d->{message} eq 'Request timeout'
        && $d->{error} eq 'Request Timeout', "$label: stalled body -> 408 Request timeout")
        or diag($raw);
    is(lc($h->{connection} // ''), 'close', "$label: Connection: close");
    close $s;
}
my %before = map { $_ => 1 } @before;
my $new = sub { join ',', grep { !$before{$_} } document_names() };
wait_until(sub { $new->() eq '' });
is($new->(), '', 'no document file left behind');

done_testing();
