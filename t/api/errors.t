# POST /customers and the read endpoints: every error of the source's
# table and of the contract's messages table, with the exact envelope
# (status, message, error reason, and the exact "errors" list of a 400),
# and the precedence when two conditions apply at once. After every
# rejected create: no customers row and no file left behind.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Apache::Test ();
use IO::Socket::INET ();
use Time::HiRes ();
use JSON::PP ();

plan tests => 146;

my $LIMIT = 10_485_760;          # CartevoMaxFileSize, 10 MiB
my $BODY_LIMIT = 22_020_096;     # LimitRequestBody of the shipped conf

my $c = company();
my $t = token($c);
my $jpg = demo_doc('id-front.jpg');
my $png = demo_doc('id-back.png');
my $pdf = demo_doc('id-front.pdf');
my $gif = "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        . "!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00"
        . "\x00\x02\x02D\x01\x00;";

# The parts of a create request: valid_fields() with overrides, a front
# and a back (JPEG and PNG unless given; undef leaves the part out), and
# extra parts appended.
sub parts {
    my (%a) = @_;
    my %f = valid_fields(%{ $a{fields} || {} });
    my @p = field_parts(%f);
    my $front = exists $a{front} ? $a{front} : $jpg;
    my $back = exists $a{back} ? $a{back} : $png;
    push @p, ['id_document_front', $front, 'front.bin', 'application/octet-stream']
        if defined $front;
    push @p, ['id_document_back', $back, 'back.bin', 'application/octet-stream']
        if defined $back;
    push @p, @{ $a{extra} } if $a{extra};
    return \@p;
}

# Two tests: the exact error, and nothing left behind.
# $args: post_form() arguments plus company => (default $c), form =>
# {parts() arguments}; token defaults to $t.
sub reject {
    my ($name, $args, $status, $message, $errors) = @_;
    my %a = %$args;
    my $co = delete $a{company} // $c;
    my $form = delete $a{form} || {};
    $a{token} = $t unless exists $a{token};
    $a{parts} = parts(%$form) unless exists $a{parts} || exists $a{body};
    my $snap = snapshot($co);
    my ($res, $d) = post_form(%a);
    api_error_is($res, $status, $message, $errors, $name);
    nothing_left($snap, $name);
    return ($res, $d);
}

sub create_ok {
    my ($name, $args) = @_;
    my %a = %$args;
    my $form = delete $a{form} || {};
    $a{token} = $t unless exists $a{token};
    $a{parts} = parts(%$form) unless exists $a{parts};
    my ($res, $d) = post_form(%a);
    is($res->code, 201, $name)
        or diag(substr($res->content, 0, 400));
    return ($res, $d);
}

# A JPEG of exactly $n bytes: the demo JPEG followed by NUL padding, which
# the gate accepts after EOI (scanners pad that way).
sub jpeg_of_size { my ($n) = @_; return $jpg . ("\0" x ($n - length $jpg)) }

sub ymd { sprintf '%04d-%02d-%02d', @_ }

sub is_leap { my $y = shift; ($y % 4 == 0 && $y % 100 != 0) || $y % 400 == 0 }

# ---- 400: field validation (source table row 1) -----------------------
reject('400 first_name too short',
    { form => { fields => { first_name => 'Jo' } } },
    400, 'first_name must be at least 3 characters',
    [['first_name', 'first_name must be at least 3 characters']]);

# ---- 400: under 18 (source table row 2) --------------------------------
{
    # Someone whose 18th birthday is tomorrow (UTC).
    away_from_midnight();
    my @tm = gmtime(time + 86400);
    my ($y, $m, $d) = ($tm[5] + 1900 - 18, $tm[4] + 1, $tm[3]);
    ($m, $d) = (3, 1) if $m == 2 && $d == 29 && !is_leap($y);
    reject('400 under 18 (18th birthday tomorrow)',
        { form => { fields => { date_of_birth => ymd($y, $m, $d) } } },
        400, 'Customer must be 18 or older',
        [['date_of_birth', 'Customer must be 18 or older']]);
}

# ---- 409: duplicates (source table rows 3 and 4) ------------------------
my $u = unique_suffix();
my $email = "Dup.$u\@Example.com";
my $nin = substr(sprintf('%011d', ($u * 7) % 100000000000), 0, 11);
my ($first_res, $first) = create_ok('first customer created',
    { form => { fields => { email => $email, identification_number => $nin } } });
my $first_id = $first->{data}{id};

reject('409 email duplicate ignoring case',
    { form => { fields => { email => lc $email } } },
    409, 'Customer with this email already exists');
reject('409 email duplicate in upper case',
    { form => { fields => { email => uc $email } } },
    409, 'Customer with this email already exists');
reject('409 identification_number duplicate with spaces and hyphens',
    { form => { fields => { identification_number =>
        substr($nin, 0, 3) . '-' . substr($nin, 3, 4) . ' ' . substr($nin, 7) } } },
    409, 'Customer with this identification_number already exists');
reject('409 identification_number duplicate under another document type',
    { form => { fields => { identification_number => $nin,
                            id_document_type => 'VOTERS_CARD' } } },
    409, 'Customer with this identification_number already exists');
{
    my $vc = 'AB' . ($u % 1000000) . 'CD';
    create_ok('voters card customer created',
        { form => { fields => { identification_number => $vc,
                                id_document_type => 'VOTERS_CARD' } } });
    my $vc2 = lc $vc;
    substr($vc2, 2, 0) = '-';
    substr($vc2, 5, 0) = ' ';
    reject('409 identification_number duplicate ignoring case',
        { form => { fields => { identification_number => $vc2,
                                id_document_type => 'VOTERS_CARD' } } },
        409, 'Customer with this identification_number already exists');
}
reject('409 both duplicate: email wins',
    { form => { fields => { email => $email, identification_number => $nin } } },
    409, 'Customer with this email already exists');
{
    my $c2 = company();
    my $t2 = token($c2);
    create_ok('another company may reuse the email and the number',
        { token => $t2, form => { fields => { email => $email,
                                              identification_number => $nin } } });
}

# ---- 413: File too large (source table row 5) ---------------------------
{
    my ($res, $d) = create_ok('a front of exactly 10,485,760 bytes is accepted',
        { form => { front => jpeg_of_size($LIMIT) } });
    my $id = $d->{data}{id} // 'none';
    is(psql("SELECT size_bytes FROM customer_documents WHERE customer_id = '$id' AND side = 'front'"),
       $LIMIT, 'stored at its full size');
}
reject('413 front of 10,485,761 bytes',
    { form => { front => jpeg_of_size($LIMIT + 1) } },
    413, 'File too large');
reject('413 back of 10,485,761 bytes',
    { form => { back => $png . ("\0" x ($LIMIT + 1 - length $png)) } },
    413, 'File too large');
reject('413 a passport back is size-limited although never stored',
    { form => { fields => { id_document_type => 'PASSPORT',
                            identification_number => 'A' . ($u % 10000000) },
                back => jpeg_of_size($LIMIT + 1) } },
    413, 'File too large');

# ---- 415: Unsupported file type (source table row 6) --------------------
reject('415 GIF front', { form => { front => $gif } },
    415, 'Unsupported file type');
reject('415 text front', { form => { front => "just some text\r\n" x 10 } },
    415, 'Unsupported file type');
reject('415 PDF with junk before %PDF', { form => { front => "junk\n$pdf" } },
    415, 'Unsupported file type');
reject('415 GIF back', { form => { back => $gif } },
    415, 'Unsupported file type');
# A passport's back is ignored: never type-checked, never stored; only the
# exact value PASSPORT says it is one.
create_ok('a GIF back of a PASSPORT is ignored',
    { form => { fields => { id_document_type => 'PASSPORT',
                            identification_number => 'G' . ($u % 10000000) },
                back => $gif } });
create_ok('an empty back of a PASSPORT is ignored',
    { form => { fields => { id_document_type => 'PASSPORT',
                            identification_number => 'H' . ($u % 10000000) },
                back => '' } });
reject('a GIF back with id_document_type passport (not exact) is type-checked',
    { form => { fields => { id_document_type => 'passport',
                            identification_number => 'J' . ($u % 10000000) },
                back => $gif } },
    415, 'Unsupported file type');
reject('415 declared image/jpeg is not trusted',
    { form => { front => undef,
                extra => [['id_document_front', $gif, 'id.jpg', 'image/jpeg']] } },
    415, 'Unsupported file type');

# ---- 422: KYC document unreadable (source table row 7) ------------------
my $UNREADABLE = 'KYC document unreadable';
reject('422 truncated JPEG', { form => { front => substr($jpg, 0, length($jpg) / 2) } },
    422, $UNREADABLE);
reject('422 truncated PNG', { form => { back => substr($png, 0, length($png) - 100) } },
    422, $UNREADABLE);
reject('422 PNG with data after IEND', { form => { back => "${png}trailer" } },
    422, $UNREADABLE);
{
    (my $no_eof = $pdf) =~ s/%%EOF\s*\z//;
    reject('422 PDF without %%EOF', { form => { front => $no_eof } },
        422, $UNREADABLE);
}
reject('422 PNG of 399x250', { form => { back => mkdoc('png', 399, 250, 3) } },
    422, $UNREADABLE);
reject('422 JPEG of 400x249', { form => { front => mkdoc('jpeg', 400, 249, 4) } },
    422, $UNREADABLE);
create_ok('a JPEG of exactly 400x250 is accepted',
    { form => { front => mkdoc('jpeg', 400, 250, 5) } });
create_ok('a PNG of 250x400 (portrait) is accepted',
    { form => { back => mkdoc('png', 250, 400, 6) } });
create_ok('a PDF front is accepted', { form => { front => $pdf } });

# ---- 415: request Content-Type -------------------------------------------
my $CT = 'Content-Type must be multipart/form-data';
reject('415 no Content-Type', { content_type => undef }, 415, $CT);
reject('415 application/x-www-form-urlencoded',
    { content_type => 'application/x-www-form-urlencoded' }, 415, $CT);
reject('415 multipart/mixed with a boundary',
    { content_type => 'multipart/mixed; boundary={boundary}' }, 415, $CT);
reject('415 text/plain', { content_type => 'text/plain' }, 415, $CT);
reject('415 application/json', { content_type => 'application/json',
    body => '{"first_name":"John"}' }, 415, $CT);

# ---- 400: malformed multipart framing -------------------------------------
my $MB = 'Malformed multipart body: ';
reject('400 missing boundary', { content_type => 'multipart/form-data' },
    400, "${MB}missing boundary");
reject('400 empty boundary', { content_type => 'multipart/form-data; boundary=' },
    400, "${MB}empty boundary");
reject('400 two boundary parameters',
    { content_type => 'multipart/form-data; boundary={boundary}; boundary=other' },
    400, "${MB}duplicate boundary");
{
    my ($b, $body) = multipart_body(@{ parts() });
    (my $open = $body) =~ s/--\Q$b\E--\r\n\z//;
    reject('400 missing close-delimiter',
        { content_type => "multipart/form-data; boundary=$b", body => $open },
        400, "${MB}final boundary missing");
    (my $lf = $body) =~ s/\r\n/\n/g;
    reject('400 LF-only line endings',
        { content_type => "multipart/form-data; boundary=$b", body => $lf },
        400, "${MB}delimiters and part headers must end with crlf");
    reject('400 empty body',
        { content_type => "multipart/form-data; boundary=$b", body => '' },
        400, "${MB}empty body");
}

# ---- 401 and 403 -----------------------------------------------------------
reject('401 without a token', { token => undef }, 401, 'Unauthorized');
reject('401 with a garbage token', { token => 'not.a.jwt' }, 401, 'Unauthorized');
my $pending = company(kyb => 'PENDING');
my $pt = token($pending);
reject('403 company KYB PENDING', { company => $pending, token => $pt },
    403, 'Company KYB status must be APPROVED');

# ---- 405 --------------------------------------------------------------------
sub method_not_allowed {
    my ($method, $path, $allow_re, $name) = @_;
    my $snap = snapshot($c);
    my $req = HTTP::Request->new($method => base_url() . $path);
    $req->header(Authorization => "Bearer $t");
    $req->header('Content-Length' => 0);
    my $res = ua()->request($req);
    api_error_is($res, 405, 'Method not allowed', undef, $name);
    my $allow = $res->header('Allow') // '';
    ok($allow =~ $allow_re && $allow !~ /\b\Q$method\E\b/, "$name: Allow '$allow'");
    nothing_left($snap, $name);
}
method_not_allowed('PUT', '/customers', qr/^(?=.*\bPOST\b)[A-Z, ]+$/, '405 PUT /customers');
method_not_allowed('DELETE', "/customers/$first_id", qr/^(?=.*\bGET\b)[A-Z, ]+$/,
    '405 DELETE /customers/{id}');
method_not_allowed('POST', "/customers/$first_id", qr/^(?=.*\bGET\b)[A-Z, ]+$/,
    '405 POST /customers/{id}');
method_not_allowed('PATCH', "/customers/$first_id/documents/front",
    qr/^(?=.*\bGET\b)[A-Z, ]+$/, '405 PATCH /customers/{id}/documents/front');

# ---- 404 --------------------------------------------------------------------
sub not_found {
    my ($path, $message, $name, $token) = @_;
    my ($res) = get_json($path, $token // $t);
    api_error_is($res, 404, $message, undef, $name);
}
my $unknown = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
not_found("/customers/$unknown", 'Customer not found', '404 unknown id');
not_found('/customers/not-a-uuid', 'Customer not found', '404 malformed id');
not_found('/customers/' . uc($first_id) . 'x', 'Customer not found', '404 id with junk');
not_found("/customers/$unknown/documents/front", 'Customer not found',
    '404 document of an unknown customer');
not_found('/customers/not-a-uuid/documents/front', 'Customer not found',
    '404 document of a malformed id');
{
    my $c3 = company();
    my $t3 = token($c3);
    not_found("/customers/$first_id", 'Customer not found',
        "404 another company's customer", $t3);
    not_found("/customers/$first_id/documents/front", 'Customer not found',
        "404 another company's customer's document", $t3);
}
{
    my ($res, $d) = create_ok('voters card customer without a back',
        { form => { fields => { id_document_type => 'VOTERS_CARD',
                                identification_number => 'VC' . unique_suffix() },
                    back => undef } });
    my $id = $d->{data}{id} // 'none';
    is($d->{data}{photo}, undef, 'photo is null');
    not_found("/customers/$id/documents/back", 'Document not found',
        '404 Document not found for a missing back');
    my ($g) = get_json("/customers/$id/documents/front", $t);
    is($g->code, 200, 'its front is there');
}

# ---- 413: whole body over LimitRequestBody -------------------------------
{
    my $snap = snapshot($c);
    my $b = 'xYzZYbig' . unique_suffix();
    my $len = $BODY_LIMIT + 1;
    my $t0 = Time::HiRes::time();
    # Only the head is sent: the answer must come without the body.
    my ($status, $h, $body) = timed_raw(
        "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Authorization: Bearer $t\r\n"
        . "Content-Type: multipart/form-data; boundary=$b\r\n"
        . "Content-Length: $len\r\n\r\n");
    api_error_is(raw_res($status, $h, $body),
        413, 'Request body too large', undef, '413 Request body too large');
    ok(Time::HiRes::time() - $t0 < 5, 'answered without the body');
    is(lc($h->{connection} // ''), 'close', 'connection closed');
    nothing_left($snap, '413 Request body too large');
}
{
    # A body of exactly LimitRequestBody bytes is read (and refused for its
    # padding field only); one byte more is the 413, even when sent whole.
    my $mark = "\0PAD\0";
    my ($b, $body) = multipart_body(@{ parts(front => jpeg_of_size($LIMIT),
        back => jpeg_of_size($LIMIT), extra => [['padding', $mark]]) });
    my $pad = $BODY_LIMIT - (length($body) - length($mark));
    (my $exact = $body) =~ s/\Q$mark\E/'p' x $pad/e;
    (my $over = $body) =~ s/\Q$mark\E/'p' x ($pad + 1)/e;
    is(length $exact, $BODY_LIMIT, 'a body of exactly LimitRequestBody bytes');
    reject('a body of exactly LimitRequestBody bytes is read',
        { content_type => "multipart/form-data; boundary=$b", body => $exact },
        400, 'padding is not allowed', [['padding', 'padding is not allowed']]);
    reject('413 one byte over LimitRequestBody, sent whole',
        { content_type => "multipart/form-data; boundary=$b", body => $over },
        413, 'Request body too large');
}
{
    my $snap = snapshot($c);
    my ($b, $body) = multipart_body(@{ parts(front => jpeg_of_size($LIMIT),
        back => jpeg_of_size($LIMIT), extra => [['padding', 'p' x 2_000_000]]) });
    my ($status, $h, $rbody) = timed_raw(sub {
        my ($s) = @_;
        print $s "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            . "Authorization: Bearer $t\r\n"
            . "Content-Type: multipart/form-data; boundary=$b\r\n"
            . "Transfer-Encoding: chunked\r\n\r\n";
        local $SIG{PIPE} = 'IGNORE';
        for (my $o = 0; $o < length $body; $o += 65536) {
            my $chunk = substr($body, $o, 65536);
            last unless print $s sprintf("%x\r\n", length $chunk), $chunk, "\r\n";
        }
        print $s "0\r\n\r\n";
    });
    # httpd's filter produces this 413; the module's internal redirect
    # answers it in the envelope.
    api_error_is(raw_res($status, $h, $rbody),
        413, 'Request body too large', undef, '413 chunked body over the limit');
    nothing_left($snap, '413 chunked body over the limit');
}

# ---- precedence: 401 > 403 > 415 CT > 400 framing > 413 > 415 > 400 > 422 > 409
{
    # The signature's second-to-last character: the last one's low bits
    # are padding, which a flip may leave the decoded signature unchanged.
    (my $bad = $pt) =~ s/(.)(.)$/($1 eq 'A' ? 'B' : 'A') . $2/e;
    reject('401 before 403 (badly signed token of a PENDING company)',
        { company => $pending, token => $bad }, 401, 'Unauthorized');
    reject('403 before 415 Content-Type', { company => $pending, token => $pt,
        content_type => 'text/plain' }, 403, 'Company KYB status must be APPROVED');
    reject('401 before 415 Content-Type', { token => undef, content_type => undef },
        401, 'Unauthorized');
    my ($b, $body) = multipart_body(@{ parts() });
    (my $lf = $body) =~ s/\r\n/\n/g;
    reject('415 Content-Type before 400 framing (LF-only body)',
        { content_type => "multipart/mixed; boundary=$b", body => $lf }, 415, $CT);
    reject('415 Content-Type before 400 framing (no boundary)',
        { content_type => 'multipart/mixed' }, 415, $CT);
    # A framing error ahead of a document over the limit.
    my $big = jpeg_of_size($LIMIT + 1);
    my $bb = 'xYzZYpre' . unique_suffix();
    my $framed = "--$bb\r\nContent-Disposition: form-data; name=\"first_name\"\r\n"
        . "Content-Disposition: form-data; name=\"last_name\"\r\n\r\nJohn\r\n"
        . "--$bb\r\nContent-Disposition: form-data; name=\"id_document_front\"; "
        . "filename=\"f.jpg\"\r\n\r\n$big\r\n--$bb--\r\n";
    reject('400 framing before 413 File too large',
        { content_type => "multipart/form-data; boundary=$bb", body => $framed },
        400, "${MB}duplicate content-disposition");
    reject('400 framing (empty boundary) before 413 File too large',
        { content_type => 'multipart/form-data; boundary=', form => { front => $big } },
        400, "${MB}empty boundary");
    reject('413 before 415 sniffed type (an oversized GIF)',
        { form => { front => $gif . ("\0" x ($LIMIT + 1 - length $gif)) } },
        413, 'File too large');
    reject('413 before 415 sniffed type (GIF front, oversized back)',
        { form => { front => $gif, back => jpeg_of_size($LIMIT + 1) } },
        413, 'File too large');
    reject('415 sniffed type before 400 fields',
        { form => { front => $gif, back => undef,
                    fields => { first_name => undef, email => 'nope' } } },
        415, 'Unsupported file type');
    reject('400 fields before 422',
        { form => { front => substr($jpg, 0, 1000), fields => { first_name => 'Jo' } } },
        400, 'first_name must be at least 3 characters',
        [['first_name', 'first_name must be at least 3 characters']]);
    reject('400 fields before 409',
        { form => { fields => { email => $email, last_name => 'Do' } } },
        400, 'last_name must be at least 3 characters',
        [['last_name', 'last_name must be at least 3 characters']]);
    reject('422 before 409',
        { form => { front => substr($jpg, 0, 1000),
                    fields => { email => $email, identification_number => $nin } } },
        422, $UNREADABLE);
    reject('409 email before 409 identification_number (differently written)',
        { form => { fields => { email => uc $email,
                                identification_number => join('-', $nin =~ /(...)(....)(....)/) } } },
        409, 'Customer with this email already exists');
}

# raw_request()'s answer in the form api_error_is() takes.
sub raw_res {
    my ($status, $h, $body) = @_;
    return { status => $status, headers => $h, body => $body,
             json => json_text($body) };
}

# Sends a raw request and reads the answer, giving up after 20 s.
sub timed_raw {
    my ($send) = @_;
    my @r;
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 20;
    @r = eval { raw_request(send => $send) };
    alarm 0;
    return @r ? @r : (0, {}, $@);
}
