# Hostile inputs at the HTTP level (../shared/design/hostile-inputs.md)
# that the other files do not already cover: each gets its exact status
# and message, and nothing is left behind. The parser's own unit tests
# cover the framing cases byte by byte; these prove the module wires them.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;

my $c = company();
my $t = token($c);
my %f = valid_fields();
my @fields = field_parts(%f);
my @docs = (['id_document_front', demo_doc('id-front.jpg'), 'front.jpg', 'image/jpeg'],
            ['id_document_back', demo_doc('id-back.png'), 'back.png', 'image/png']);

# A hand-made body: the parts, with a raw $extra spliced before the close.
sub body_with {
    my ($extra_parts, $mutate) = @_;
    my ($b, $body) = multipart_body(@fields, @docs, @{ $extra_parts || [] });
    $body = $mutate->($b, $body) if $mutate;
    return ($b, $body);
}

sub reject {
    my ($name, $status, $message, %post) = @_;
    my $snap = snapshot($c);
    my ($res) = post_form(token => $t, %post);
    api_error_is($res, $status, $message, undef, $name);
    nothing_left($snap, $name);
}

# Content-Encoding: the body is refused unread, whatever it holds.
{
    my ($b, $body) = body_with();
    reject('gzip request body', 415, 'Content-Encoding is not supported',
        body => $body, content_type => "multipart/form-data; boundary=$b",
        headers => ['Content-Encoding' => 'gzip']);
}

# More than 64 parts.
reject('65 parts', 400, 'Malformed multipart body: too many parts',
    parts => [@fields, @docs, map { ["x$_", 'v'] } 1 .. 49]);

# A preamble over 1 KiB.
{
    my ($b, $body) = body_with(undef, sub { ('P' x 2000) . "\r\n" . $_[1] });
    reject('2000-byte preamble', 400, 'Malformed multipart body: preamble too large',
        body => $body, content_type => "multipart/form-data; boundary=$b");
}

# A part whose header block is over 8 KiB (many unknown headers of 1000
# bytes: each line is under the 1 KiB line cap).
{
    my ($b, $body) = body_with(undef, sub {
        my ($bd, $x) = @_;
        my $hdrs = join '', map { "X-Pad-$_: " . ('h' x 990) . "\r\n" } 1 .. 9;
        $x =~ s/(name="first_name"\r\n)/$1$hdrs/;
        return $x;
    });
    reject('9 KB of part headers', 400, 'Malformed multipart body: part headers too large',
        body => $body, content_type => "multipart/form-data; boundary=$b");
}

# Content-Transfer-Encoding: base64 is refused, never stored encoded.
{
    my ($b, $body) = body_with(undef, sub {
        my ($bd, $x) = @_;
        $x =~ s/(name="city"\r\n)/$1Content-Transfer-Encoding: base64\r\n/;
        return $x;
    });
    reject('base64 part', 400,
        'Malformed multipart body: unsupported content-transfer-encoding',
        body => $body, content_type => "multipart/form-data; boundary=$b");
}

# Folded part header, and a header without a colon.
{
    my ($b, $body) = body_with(undef, sub {
        my ($bd, $x) = @_;
        $x =~ s/(name="city")\r\n/$1\r\n\tcontinued\r\n/;
        return $x;
    });
    reject('folded part header', 400, 'Malformed multipart body: folded part header',
        body => $body, content_type => "multipart/form-data; boundary=$b");
}

# Request Content-Type parameters.
{
    my ($b, $body) = body_with();
    reject('two boundary parameters', 400, 'Malformed multipart body: duplicate boundary',
        body => $body, content_type => "multipart/form-data; boundary=$b; boundary=$b");
    reject('a 2 KiB Content-Type', 400, 'Malformed multipart body: content-type too long',
        body => $body, content_type => "multipart/form-data; boundary=$b; x=" . ('a' x 2048));
    reject('whitespace around =', 400,
        'Malformed multipart body: whitespace around equals sign',
        body => $body, content_type => "multipart/form-data; boundary = $b");
}

# A client filename is never a path: a traversal name stores under a
# random name inside the document directory, and nothing appears outside.
{
    my ($b, $body) = multipart_body(@fields,
        ['id_document_front', demo_doc('id-front.jpg'), '../../../../tmp/cc-evil.jpg', 'image/jpeg'],
        ['id_document_back', demo_doc('id-back.png'), "..\\..\\cc-evil2.png", 'image/png']);
    unlink '/tmp/cc-evil.jpg';
    my ($res, $d) = post_form(token => $t, body => $body,
        content_type => "multipart/form-data; boundary=$b");
    is($res->code, 201, 'traversal filenames: created');
    ok(!-e '/tmp/cc-evil.jpg', 'nothing written at the client path');
    my $names = psql("SELECT string_agg(storage_name, ',') FROM customer_documents"
        . " WHERE customer_id = '" . ($d->{data}{id} // '00000000-0000-0000-0000-000000000000') . "'");
    like($names, qr/^[0-9a-f]{32},[0-9a-f]{32}$/, 'stored under random names');
}

done_testing();
