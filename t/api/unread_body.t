# Requests under the mount that carry a body their handler never reads
# (an unknown path, GET with a body) are answered at once and their
# connection closes: httpd must not first drain up to LimitRequestBody,
# nor send "100 Continue" to ask for a body nobody wants.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT raw_connect read_response read_until_eof);
use JSON::PP ();

my $c = company();
my $t = token($c);
my $id = '6f1c7c1e-3a47-4c1b-9a59-0f6d1f2b7c11';

for my $case (
    [ 'POST unknown path', 'POST', '/api/v1/no-such-endpoint', $t, 404, 'Not found' ],
    [ 'POST /customers/{id}/documents/x', 'POST', "/api/v1/customers/$id/documents/x", $t,
      404, 'Not found' ],
    [ 'GET with a body, no token', 'GET', "/api/v1/customers/$id", undef, 401, 'Unauthorized' ],
    [ 'GET with a body', 'GET', "/api/v1/customers/$id", $t, 404, 'Customer not found' ],
    [ 'GET document with a body', 'GET', "/api/v1/customers/$id/documents/front", $t,
      404, 'Customer not found' ],
) {
    my ($label, $method, $path, $token, $status, $message) = @$case;
    for my $expect (0, 1) {
        my $l = $label . ($expect ? ' (Expect: 100-continue)' : '');
        my $s = raw_connect();
        print $s "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            . ($token ? "Authorization: Bearer $token\r\n" : '')
            . "Content-Type: application/octet-stream\r\n"
            . ($expect ? "Expect: 100-continue\r\n" : '')
            . "Content-Length: 20000000\r\n\r\n"
            . ($expect ? '' : 'x' x 65536);
        $s->flush;
        my ($st, $h, $rb, $raw) = read_response($s, 10);
        my $d = eval { JSON::PP->new->decode($rb) };
        ok($st == $status && $d && $d->{message} eq $message,
            "$l: $status at once, without the body") or diag($raw);
        unlike($raw, qr{\AHTTP/1\.1 100}, "$l: no 100 Continue");
        is(lc($h->{connection} // ''), 'close', "$l: Connection: close");
        my (undef, $eof) = read_until_eof($s, 10);
        ok($eof, "$l: the server closes the connection");
        close $s;
    }
}

# Without a body, keep-alive is kept (nothing to drain).
{
    my $s = raw_connect();
    print $s "GET /api/v1/customers/$id HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Authorization: Bearer $t\r\n\r\n";
    $s->flush;
    my ($st, $h) = read_response($s, 10);
    is($st, 404, 'GET without a body: 404');
    isnt(lc($h->{connection} // ''), 'close', 'GET without a body: keep-alive kept');
    close $s;
}

done_testing();
