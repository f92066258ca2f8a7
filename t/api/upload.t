# The upload path of POST /customers as a client sees it: chunked bodies
# (tiny chunks that split the boundary), Expect: 100-continue (and its
# refusal without a 100), documents returned byte for byte with the
# sniffed type, a PDF front, a client that aborts mid-upload, and a
# document of exactly the 10 MiB limit.
use strict;
use warnings;
use Test::More;
use List::Util ();
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT raw_connect read_response read_until
  read_until_eof http_head_parse wait_until document_names customers_of
  doc_bytes);
use Digest::SHA ();
use JSON::PP ();

my $front = doc_bytes('id-front.jpg');
my $back = doc_bytes('id-back.png');
my $pdf = doc_bytes('id-front.pdf');
my $LIMIT = 10485760;

my $c = company();
my $t = token($c);

sub parts_for {
    my (%o) = @_;
    my %f = valid_fields(%{ $o{fields} || {} });
    return ((map { [$_, $f{$_}] } sort keys %f),
        ['id_document_front', $o{front} // $front, 'front', $o{front_type} // 'image/jpeg'],
        (exists $o{back} && !defined $o{back} ? ()
            : ['id_document_back', $o{back} // $back, 'back', $o{back_type} // 'image/png']));
}

sub head_for {
    my (%o) = @_;
    my $h = "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    $h .= "Authorization: Bearer $o{token}\r\n" if $o{token};
    $h .= "Content-Type: $o{ct}\r\n" if $o{ct};
    $h .= "Content-Length: $o{length}\r\n" if defined $o{length};
    $h .= "Transfer-Encoding: chunked\r\n" if $o{chunked};
    $h .= "Expect: 100-continue\r\n" if $o{expect};
    $h .= "Connection: close\r\n\r\n";
    return $h;
}

sub get_doc {
    my ($id, $side) = @_;
    my $r = ua()->get(base_url() . "/customers/$id/documents/$side", bearer($t));
    return $r;
}

sub docs_match {
    my ($label, $id, %want) = @_;
    for my $side (sort keys %want) {
        my ($bytes, $type) = @{ $want{$side} };
        my $r = get_doc($id, $side);
        is($r->code, 200, "$label: GET documents/$side 200");
        ok($r->content eq $bytes, "$label: $side returned byte for byte ("
            . length($bytes) . ' bytes)') or diag('got ' . length($r->content) . ' bytes');
        is($r->header('Content-Type'), $type, "$label: $side Content-Type $type");
        is($r->header('X-Content-Type-Options'), 'nosniff', "$label: $side nosniff");
    }
}

sub created_id {
    my ($label, $status, $body) = @_;
    my $d = eval { JSON::PP->new->decode($body) };
    ok($status == 201 && $d && $d->{success} && $d->{data}{id}, "$label: 201")
        or diag("$status $body");
    return $d && $d->{data} ? $d->{data}{id} : '';
}

# ---- chunked request bodies -------------------------------------------------
{
    my ($b, $body) = multipart_body(parts_for());
    my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
        unpack('(a4096)*', $body)) . "0\r\n\r\n";
    my ($st, $h, $rb) = raw_request(send => head_for(token => $t, chunked => 1,
        ct => "multipart/form-data; boundary=$b") . $chunked);
    my $id = created_id('chunked, 4 KiB chunks', $st, $rb);
    docs_match('chunked', $id, front => [$front, 'image/jpeg'], back => [$back, 'image/png']);
}
{
    # Chunks of 1-3 bytes around every delimiter and in the text fields,
    # larger ones inside the files, each written separately.
    my ($b, $body) = multipart_body(parts_for());
    my @near;
    my $pos = 0;
    while ((my $i = index($body, "--$b", $pos)) >= 0) {
        push @near, [$i - 8, $i + length($b) + 8];
        $pos = $i + 1;
    }
    # Everything before the first file's data is small text fields.
    my $files_from = index($body, "\r\n\r\n", index($body, 'name="id_document_front"'));
    my @chunks;
    my $k = 0;
    for (my $i = 0; $i < length $body;) {
        my $tiny = $i < $files_from || grep { $i >= $_->[0] && $i <= $_->[1] } @near;
        my $n = 1 + $k++ % 3;
        if (!$tiny) {
            # A large chunk, but never past the start of the next window.
            my $next = List::Util::min(grep { $_ > $i } map { $_->[0] } @near);
            $n = 997 + $k % 3000;
            $n = $next - $i if defined $next && $next - $i < $n;
        }
        push @chunks, substr($body, $i, $n);
        $i += $n;
    }
    my $tiny = grep { length $_ <= 3 } @chunks;
    my ($st, $h, $rb) = raw_request(send => sub {
        my $s = shift;
        $s->autoflush(1);
        print $s head_for(token => $t, chunked => 1,
            ct => "multipart/form-data; boundary=$b");
        print $s sprintf("%x\r\n%s\r\n", length $_, $_) for @chunks;
        print $s "0\r\n\r\n";
    });
    my $id = created_id("chunked, $tiny chunks of 1-3 bytes splitting the delimiters", $st, $rb);
    docs_match('tiny chunks', $id, front => [$front, 'image/jpeg'], back => [$back, 'image/png']);
}

# ---- Expect: 100-continue -------------------------------------------------------
{
    my ($b, $body) = multipart_body(parts_for());
    my $s = raw_connect();
    print $s head_for(token => $t, expect => 1, length => length $body,
        ct => "multipart/form-data; boundary=$b");
    $s->flush;
    my ($buf) = read_until($s, sub { $_[0] =~ /\r\n\r\n/ }, 30);
    like($buf, qr{\AHTTP/1\.1 100 Continue\r\n\r\n\z}, '100-continue: the server asks for the body first');
    print $s $body;
    $s->flush;
    my ($st, $h, $rb) = read_response($s, 60);
    my $id = created_id('100-continue: then 201', $st, $rb);
    close $s;
    docs_match('100-continue', $id, front => [$front, 'image/jpeg']);
}
{
    my $P = company(kyb => 'PENDING');
    my $tp = token($P);
    my ($b, $body) = multipart_body(parts_for());
    for my $case (
        [ 'no token', 401, 'Unauthorized', token => undef, ct => "multipart/form-data; boundary=$b" ],
        [ 'bad token', 401, 'Unauthorized', token => "$t.x", ct => "multipart/form-data; boundary=$b" ],
        [ 'KYB PENDING', 403, 'Company KYB status must be APPROVED', token => $tp,
          ct => "multipart/form-data; boundary=$b" ],
        [ 'text/plain', 415, 'Content-Type must be multipart/form-data', token => $t, ct => 'text/plain' ],
        [ 'no Content-Type', 415, 'Content-Type must be multipart/form-data', token => $t ],
    ) {
        my ($label, $status, $message, %o) = @$case;
        my $s = raw_connect();
        print $s head_for(%o, expect => 1, length => 20000000);
        $s->flush;
        my ($buf, $eof) = read_until_eof($s, 30);
        close $s;
        my ($st, $h, $rb) = http_head_parse($buf);
        my $d = eval { JSON::PP->new->decode($rb // '') };
        ok(($st // 0) == $status && $d && $d->{message} eq $message,
            "100-continue refused ($label): final $status at once") or diag($buf);
        unlike($buf, qr{HTTP/1\.1 100}, "100-continue refused ($label): no 100 sent");
        is(lc($h && $h->{connection} // ''), 'close', "100-continue refused ($label): Connection: close");
        ok($eof, "100-continue refused ($label): the connection closes without the body");
    }
}

# ---- sniffed types, not declared ones ----------------------------------------------
{
    my $r = create_customer(token => $t,
        front => fixture($front, '.png'), back => fixture($back, '.pdf'));
    my $id = created_id('files named .png/.pdf', $r->code, $r->content);
    docs_match('misnamed', $id, front => [$front, 'image/jpeg'], back => [$back, 'image/png']);

    my ($b, $body) = multipart_body(parts_for(front_type => 'application/pdf',
        back_type => 'image/jpeg'));
    my ($st, $h, $rb) = raw_request(send => head_for(token => $t, length => length $body,
        ct => "multipart/form-data; boundary=$b") . $body);
    $id = created_id('declared types swapped', $st, $rb);
    docs_match('declared types swapped', $id, front => [$front, 'image/jpeg'], back => [$back, 'image/png']);

    ($b, $body) = multipart_body(parts_for(front_type => 'application/octet-stream',
        back_type => 'text/plain'));
    ($st, $h, $rb) = raw_request(send => head_for(token => $t, length => length $body,
        ct => "multipart/form-data; boundary=$b") . $body);
    $id = created_id('declared octet-stream / text/plain', $st, $rb);
    docs_match('declared generic', $id, front => [$front, 'image/jpeg'], back => [$back, 'image/png']);
}

# ---- a PDF front ---------------------------------------------------------------------
{
    my $files = document_files();
    my $r = create_customer(token => $t, front => doc_path('id-front.pdf'),
        back => doc_path('id-back.png'),
        fields => { valid_fields(id_document_type => 'PASSPORT',
            identification_number => 'A' . substr(unique_suffix(), -7)) });
    my $id = created_id('PDF front (PASSPORT)', $r->code, $r->content);
    my $d = json_of($r);
    is($d && $d->{data}{photo}, undef, 'PASSPORT: photo null, the back is not kept');
    docs_match('PDF', $id, front => [$pdf, 'application/pdf']);
    my $g = get_doc($id, 'back');
    is($g->code . ' ' . (eval { json_of($g)->{message} } // ''), '404 Document not found',
        'PASSPORT: documents/back is 404 Document not found');
    is(wait_until(sub { document_files() == $files + 1 }) && document_files(), $files + 1,
        'PASSPORT: exactly one file stored');

    $r = create_customer(token => $t, front => doc_path('id-front.pdf'), back => doc_path('id-front.jpg'));
    $id = created_id('PDF front, NIN with a JPEG back', $r->code, $r->content);
    docs_match('PDF + JPEG', $id, front => [$pdf, 'application/pdf'], back => [$front, 'image/jpeg']);
}

# ---- a client that aborts mid-upload ----------------------------------------------------
{
    my $A = company();
    my $ta = token($A);
    my @before = document_names();
    my $big = pad_jpeg($front, 5 * 1024 * 1024);
    my ($b, $body) = multipart_body(parts_for(front => $big));
    my $s = raw_connect();
    $s->autoflush(1);
    print $s head_for(token => $ta, length => length $body,
        ct => "multipart/form-data; boundary=$b");
    print $s substr($body, 0, int(length($body) / 2));
    my $tmp = wait_until(sub { grep { /^\.tmp-/ } document_names() }, 30);
    ok($tmp, 'abort: the server was spooling the document (a .tmp- file exists)');
    close $s;
    my %before = map { $_ => 1 } @before;
    my $new = sub { join ',', grep { !$before{$_} } document_names() };
    wait_until(sub { $new->() eq '' }, 30);
    is($new->(), '', 'abort: no file left in the document directory');
    ok(!grep({ /^\.tmp-/ } document_names()), 'abort: no .tmp- file');
    is(customers_of($A->{company_id}), 0, 'abort: no row');
    is(create_customer(token => $ta)->code, 201, 'abort: the next create works');
}

# ---- a document of exactly 10 MiB -----------------------------------------------------
{
    my $big = pad_jpeg($front, $LIMIT);
    is(length $big, $LIMIT, 'a valid JPEG padded with COM segments to 10,485,760 bytes');
    my $r = create_customer(token => $t, front => fixture($big, '.jpg'));
    my $id = created_id('10 MiB front', $r->code, $r->content);
    is(psql("SELECT size_bytes || ' ' || encode(sha256, 'hex') FROM customer_documents "
            . "WHERE customer_id = '$id' AND side = 'front'"),
        "$LIMIT " . Digest::SHA::sha256_hex($big), '10 MiB: size and SHA-256 recorded');
    my $name = psql("SELECT storage_name FROM customer_documents WHERE customer_id = '$id' AND side = 'front'");
    ok(Cartevo::Test::slurp("$ENV{CARTEVO_DOCUMENT_DIR}/$name") eq $big, '10 MiB: the stored file matches byte for byte');
    docs_match('10 MiB', $id, front => [$big, 'image/jpeg']);
}

done_testing();

# A valid JPEG grown to $total bytes by COM segments right after SOI.
sub pad_jpeg {
    my ($jpg, $total) = @_;
    my $pad = $total - length $jpg;
    my $segs = '';
    my $i = 0;
    while ($pad > 0) {
        my $n = $pad > 65537 ? 65537 : $pad;
        $n -= 4 if $pad - $n > 0 && $pad - $n < 4;
        die "cannot pad by $pad" if $n < 4;
        $segs .= "\xFF\xFE" . pack('n', $n - 2) . chr(65 + $i++ % 26) x ($n - 4);
        $pad -= $n;
    }
    return substr($jpg, 0, 2) . $segs . substr($jpg, 2);
}
