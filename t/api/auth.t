# POST /auth/token, Bearer checks, revocation, KYB gating, company
# scoping and X-Request-Id (api-contract.md "Authentication",
# "Idempotency and request ids").
#
# Tokens are also forged here with Digest::SHA from the secret file: an
# implementation independent of the module's, so "valid" and "invalid"
# are decided by the contract, not by the code under test.
#
# Relies on CartevoAuthCacheSeconds 1 (t/conf/extra.conf.in): after a
# revocation or a KYB change the tests wait 2 seconds, longer than the
# cache, and then require the new state.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT ctl jwt_forge jwt_parts secret_key b64url
  raw_connect read_response read_until_eof wait_until customers_of);
use Digest::SHA ();
use JSON::PP ();
use MIME::Base64 ();

my $CACHE_WAIT = 2;    # > CartevoAuthCacheSeconds
my $UUID4 = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;

sub post_token {
    my ($body, %h) = @_;
    return ua()->post(base_url() . '/auth/token',
        'Content-Type' => 'application/json', %h, Content => $body);
}

sub envelope_ok {
    my ($res, $status, $message, $reason, $name) = @_;
    my $d = json_of($res);
    my $ok = $res->code == $status && $d && ref $d eq 'HASH'
        && JSON::PP::is_bool($d->{success}) && !$d->{success}
        && $d->{statusCode} == $status && $d->{message} eq $message
        && $d->{error} eq $reason;
    ok($ok, $name) or diag($res->code . ' ' . $res->content);
}

# ---- POST /auth/token ----------------------------------------------------
my $A = company();
my $res = post_token(JSON::PP->new->encode(
    { client_id => $A->{client_id}, client_key => $A->{client_key} }));
is($res->code, 200, 'token: 200');
like($res->header('Content-Type'), qr{^application/json}, 'token: JSON');
my $tk = json_of($res);
is_deeply([sort keys %$tk], [qw(access_token expires_in token_type)],
    'token: not enveloped, exactly access_token/token_type/expires_in');
is($tk->{token_type}, 'Bearer', 'token_type Bearer');
like($res->content, qr/"expires_in"\s*:\s*3600[,}\s]/, 'expires_in is the number 3600');
my $tokA = $tk->{access_token};
like($tokA, qr/\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\z/, 'compact JWS, base64url, unpadded');
my ($jh, $jc, $jsig, $jin) = jwt_parts($tokA);
is_deeply($jh, { alg => 'HS256', typ => 'JWT' }, 'header: HS256 JWT');
is(Digest::SHA::hmac_sha256($jin, secret_key()), $jsig,
    'signature is HMAC-SHA256 of header.payload with the secret');
is_deeply([sort keys %$jc], [sort qw(sub companyId clientId iat exp)], 'claims: exactly sub, companyId, clientId, iat, exp');
is($jc->{sub}, $A->{client_id}, 'sub = client id');
is($jc->{clientId}, $A->{client_id}, 'clientId = client id');
is($jc->{companyId}, $A->{company_id}, 'companyId = company');
ok($jc->{iat} =~ /\A\d+\z/ && abs($jc->{iat} - time) < 300, 'iat: integer seconds, now');
is($jc->{exp}, $jc->{iat} + 3600, 'exp = iat + 3600');

my $B = company();
for my $case (
    [ 'wrong key', { client_id => $A->{client_id}, client_key => $B->{client_key} } ],
    [ 'unknown client', { client_id => 'cli_' . ('0' x 32), client_key => $A->{client_key} } ],
    [ 'client id of another format', { client_id => 'nobody', client_key => 'x' } ],
    [ 'missing client_key', { client_id => $A->{client_id} } ],
    [ 'missing client_id', { client_key => $A->{client_key} } ],
    [ 'empty object', {} ],
    [ 'client_key not a string', { client_id => $A->{client_id}, client_key => 12345 } ],
    [ 'client_id null', { client_id => undef, client_key => $A->{client_key} } ],
    # \u0000 is a valid JSON string character: a C string would stop
    # there and compare only the part before it.
    [ 'key with a NUL and more after it',
      { client_id => $A->{client_id}, client_key => "$A->{client_key}\0junk" } ],
    [ 'client id with a NUL and more after it',
      { client_id => "$A->{client_id}\0junk", client_key => $A->{client_key} } ],
) {
    envelope_ok(post_token(JSON::PP->new->encode($case->[1])), 401,
        'Invalid client credentials', 'Unauthorized', "token: $case->[0] -> 401");
}
for my $case (
    [ 'not JSON', 'client_id=x&client_key=y' ],
    [ 'truncated JSON', '{"client_id": "' . $A->{client_id} . '", "client_key": ' ],
    [ 'trailing garbage', JSON::PP->new->encode({ client_id => $A->{client_id}, client_key => $A->{client_key} }) . 'xyz' ],
    [ 'empty body', '' ],
) {
    my $r = post_token($case->[1]);
    my $d = json_of($r);
    ok($r->code == 400 && $d && !$d->{success} && $d->{statusCode} == 400
        && $d->{error} eq 'Bad Request' && length $d->{message},
        "token: $case->[0] -> 400 envelope") or diag($r->code . ' ' . $r->content);
}
{
    my $r = post_token('[]');
    ok($r->code == 400 || $r->code == 401, 'token: JSON array -> 400/401, not 200/500')
        or diag($r->code);
}

# ---- Bearer: the forged control token must work --------------------------
my $now = time;
my %claimsA = (sub => $A->{client_id}, clientId => $A->{client_id},
               companyId => $A->{company_id}, iat => $now, exp => $now + 3600);
my $forged = jwt_forge(claims => \%claimsA);
$res = create_customer(token => $forged);
is($res->code, 201, 'a token forged with the secret (Digest::SHA) is accepted')
    or diag($res->content);
my $custA = json_of($res)->{data}{id};
$res = create_customer(token => $tokA);
is($res->code, 201, 'the issued token creates');

# ---- Bearer: every malformed / forged / expired variant is a 401 -----------
my ($h64, $p64, $s64) = split /\./, $tokA;
my $flip = sub { my $s = shift; substr($s, 5, 1) = substr($s, 5, 1) eq 'A' ? 'B' : 'A'; $s };
my $json = JSON::PP->new->canonical;
my @bad = (
    [ 'no Authorization header', undef ],
    [ 'Basic credentials', 'Basic ' . MIME::Base64::encode_base64("$A->{client_id}:$A->{client_key}", '') ],
    [ 'Basic scheme carrying the JWT', "Basic $tokA" ],
    [ 'the bare JWT, no scheme', $tokA ],
    [ 'Bearer with no token', 'Bearer' ],
    [ 'Bearer and a space only', 'Bearer ' ],
    [ 'malformed: one segment', 'Bearer abcdef' ],
    [ 'malformed: two segments', "Bearer $h64.$p64" ],
    [ 'malformed: four segments', "Bearer $tokA.$s64" ],
    [ 'malformed: not base64url', "Bearer $h64.$p64!.$s64" ],
    [ 'malformed: empty signature', "Bearer $h64.$p64." ],
    [ 'tampered payload: other company',
      'Bearer ' . join '.', $h64, b64url($json->encode({ %claimsA, companyId => $B->{company_id} })), $s64 ],
    [ 'tampered payload: longer exp',
      'Bearer ' . join '.', $h64, b64url($json->encode({ %$jc, exp => $jc->{exp} + 86400 })), $s64 ],
    [ 'tampered signature', "Bearer $h64.$p64." . $flip->($s64) ],
    [ 'signed with another secret', 'Bearer ' . jwt_forge(claims => \%claimsA, key => 'another-secret-' . ('x' x 40)) ],
    [ 'signed with the hex-decoded secret', 'Bearer ' . jwt_forge(claims => \%claimsA, key => pack('H*', secret_key())) ],
    [ 'expired an hour ago', 'Bearer ' . jwt_forge(claims => { %claimsA, iat => $now - 7200, exp => $now - 3600 }) ],
    [ 'expired a minute ago', 'Bearer ' . jwt_forge(claims => { %claimsA, iat => $now - 3660, exp => $now - 60 }) ],
    [ 'no exp claim', 'Bearer ' . jwt_forge(claims => { map { $_ => $claimsA{$_} } grep { $_ ne 'exp' } keys %claimsA }) ],
    [ 'exp as a string', 'Bearer ' . jwt_forge(claims => { %claimsA, exp => '' . ($now + 3600) }) ],
    [ 'alg none, no signature', 'Bearer ' . jwt_forge(claims => \%claimsA, alg => 'none') ],
    [ 'alg NONE, no signature', 'Bearer ' . jwt_forge(claims => \%claimsA, alg => 'none', header => { alg => 'NONE', typ => 'JWT' }) ],
    [ 'alg none with an HS256 signature', 'Bearer ' . do {
        my $in = jwt_forge(claims => \%claimsA, alg => 'none');
        $in =~ s/\.\z//;    # "header.payload"
        "$in." . b64url(Digest::SHA::hmac_sha256($in, secret_key())) } ],
    [ 'HS384 signed with the secret', 'Bearer ' . jwt_forge(claims => \%claimsA, alg => 'HS384') ],
    [ 'no alg in the header', 'Bearer ' . jwt_forge(claims => \%claimsA, header => { typ => 'JWT' }) ],
    [ 'sub differs from clientId', 'Bearer ' . jwt_forge(claims => { %claimsA, sub => $B->{client_id} }) ],
    [ 'companyId of another company (validly signed)', 'Bearer ' . jwt_forge(claims => { %claimsA, companyId => $B->{company_id} }) ],
    [ 'unknown client (validly signed)', 'Bearer ' . jwt_forge(claims => { %claimsA, sub => 'cli_' . ('0' x 32), clientId => 'cli_' . ('0' x 32) }) ],
);
my $before_files = document_files();
my $before_rows = customers_of($A->{company_id});
for my $b (@bad) {
    my ($name, $auth) = @$b;
    my @h = defined $auth ? (headers => [Authorization => $auth]) : ();
    envelope_ok(create_customer(@h), 401, 'Unauthorized', 'Unauthorized', "POST /customers, $name -> 401");
    for my $path ("/customers/$custA", "/customers/$custA/documents/front") {
        my $r = ua()->get(base_url() . $path, defined $auth ? (Authorization => $auth) : ());
        envelope_ok($r, 401, 'Unauthorized', 'Unauthorized', "GET $path, $name -> 401");
    }
}
is(customers_of($A->{company_id}), $before_rows, 'no customer created by any refused request');
is(wait_until(sub { document_files() == $before_files }), 1, 'no document file left by any refused request');

# ---- KYB: PENDING / REJECTED companies may read but not create --------------
{
    my $P = company(kyb => 'PENDING');
    my $tp = token($P);
    envelope_ok(create_customer(token => $tp), 403,
        'Company KYB status must be APPROVED', 'Forbidden', 'PENDING company: POST -> 403');
    my ($g) = get_json('/customers/' . '0' x 8 . '-0000-4000-8000-' . '0' x 12, $tp);
    envelope_ok($g, 404, 'Customer not found', 'Not Found', 'PENDING company: GET is authenticated (404, not 401/403)');
    is(customers_of($P->{company_id}), 0, 'PENDING company: nothing created');
    refused_before_body($tp, 403, 'Company KYB status must be APPROVED', 'PENDING');
}

{
    my $K = company();
    my $tk2 = token($K);
    my $r = create_customer(token => $tk2);
    is($r->code, 201, 'KYB: created while APPROVED');
    my $id = json_of($r)->{data}{id};
    for my $status (qw(PENDING REJECTED)) {
        ctl('company', 'kyb', $K->{company_id}, $status);
        sleep $CACHE_WAIT;
        envelope_ok(create_customer(token => $tk2), 403,
            'Company KYB status must be APPROVED', 'Forbidden', "KYB $status: POST -> 403");
        my ($g, $gd) = get_json("/customers/$id", $tk2);
        is($g->code, 200, "KYB $status: GET /customers/{id} still 200");
        my $doc = ua()->get(base_url() . "/customers/$id/documents/front", bearer($tk2));
        is($doc->code, 200, "KYB $status: GET its document still 200");
        refused_before_body($tk2, 403, 'Company KYB status must be APPROVED', $status);
    }
    is(customers_of($K->{company_id}), 1, 'KYB: no customer created while not APPROVED');
    ctl('company', 'kyb', $K->{company_id}, 'APPROVED');
    sleep $CACHE_WAIT;
    is(create_customer(token => $tk2)->code, 201, 'KYB back to APPROVED: creates again');
}

# ---- revoked credential ------------------------------------------------------
{
    my $R = company();
    my $tr = token($R);
    my $r = create_customer(token => $tr);
    is($r->code, 201, 'revocation: created before');
    my $id = json_of($r)->{data}{id};
    my $out = ctl('credentials', 'revoke', $R->{client_id});
    is($out->{client_id}, $R->{client_id}, 'revocation: cartevoctl revoked it');
    sleep $CACHE_WAIT;
    envelope_ok(create_customer(token => $tr), 401, 'Unauthorized', 'Unauthorized',
        'revoked: POST with a still unexpired token -> 401');
    envelope_ok((get_json("/customers/$id", $tr))[0], 401, 'Unauthorized', 'Unauthorized',
        'revoked: GET -> 401');
    envelope_ok(ua()->get(base_url() . "/customers/$id/documents/front", bearer($tr)),
        401, 'Unauthorized', 'Unauthorized', 'revoked: GET document -> 401');
    envelope_ok(post_token(JSON::PP->new->encode(
        { client_id => $R->{client_id}, client_key => $R->{client_key} })),
        401, 'Invalid client credentials', 'Unauthorized', 'revoked: no new token');
    my $new = ctl('credentials', 'issue', $R->{company_id});
    ok($new->{client_id} && $new->{client_key}, 'revocation: a new credential issued');
    my $tn = token({ %$R, %$new });
    my ($g) = get_json("/customers/$id", $tn);
    is($g->code, 200, 'the new credential reads the company\'s customer');
}

# ---- company scoping ------------------------------------------------------------
{
    my $tB = token($B);
    for my $path ("/customers/$custA", "/customers/$custA/documents/front",
                  "/customers/$custA/documents/back") {
        my $r = ua()->get(base_url() . $path, bearer($tB));
        envelope_ok($r, 404, 'Customer not found', 'Not Found', "other company: GET $path -> 404 Customer not found");
        unlike($r->content, qr/\Q$custA\E|John|example\.com/, "other company: $path reveals nothing");
    }
    my $unknown = '3f2b8c1e-5a4d-4e6f-9a7b-1c2d3e4f5a6b';
    for my $path ("/customers/$unknown", "/customers/$unknown/documents/front",
                  '/customers/not-a-uuid', '/customers/not-a-uuid/documents/back') {
        envelope_ok(ua()->get(base_url() . $path, bearer($tokA)), 404,
            'Customer not found', 'Not Found', "GET $path -> 404 Customer not found");
    }
    my ($g) = get_json("/customers/$custA", $tokA);
    is($g->code, 200, 'the owner still reads it');
}

# ---- X-Request-Id ------------------------------------------------------------------
{
    my $long = 'a' x 128;
    for my $id ('abc-123', 'A.b_c:d-9', $long) {
        my $r = ua()->get(base_url() . "/customers/$custA", bearer($tokA), 'X-Request-Id' => $id);
        is($r->header('X-Request-Id'), $id, "X-Request-Id '" . substr($id, 0, 16) . "' echoed on 200");
    }
    my $r = create_customer(headers => ['X-Request-Id' => 'req-401']);
    is($r->header('X-Request-Id'), 'req-401', 'X-Request-Id echoed on a 401');
    $r = create_customer(token => $tokA, headers => ['X-Request-Id' => 'req:201.x']);
    is($r->code . ' ' . ($r->header('X-Request-Id') // ''), '201 req:201.x', 'X-Request-Id echoed on a 201');
    $r = post_token('{}', 'X-Request-Id' => 'tok_1');
    is($r->header('X-Request-Id'), 'tok_1', 'X-Request-Id echoed by /auth/token');
    my %seen;
    for my $bad ('a' x 129, 'has space', 'semi;colon', 'slash/x', "caf\xc3\xa9", '') {
        my $rr = ua()->get(base_url() . "/customers/$custA", bearer($tokA), 'X-Request-Id' => $bad);
        my $got = $rr->header('X-Request-Id') // '';
        like($got, $UUID4, 'invalid X-Request-Id (' . length($bad) . ' bytes) replaced by a UUIDv4');
        $seen{$got}++;
    }
    my $none = ua()->get(base_url() . "/customers/$custA", bearer($tokA));
    like($none->header('X-Request-Id') // '', $UUID4, 'no X-Request-Id: a UUIDv4');
    $seen{ $none->header('X-Request-Id') // '' }++;
    is(scalar(keys %seen), 7, 'a new id each time');
}

done_testing();

# A refused POST with a 20 MB Content-Length of which only 64 KiB are
# sent: the answer must come without the rest of the body, and the
# server must close the connection (it does not drain 20 MB).
sub refused_before_body {
    my ($token, $status, $message, $label) = @_;
    my %f = valid_fields();
    my ($b, $body) = multipart_body(map { [$_, $f{$_}] } sort keys %f);
    my $s = raw_connect();
    print $s "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Authorization: Bearer $token\r\n"
        . "Content-Type: multipart/form-data; boundary=$b\r\n"
        . "Content-Length: 20000000\r\n\r\n"
        . substr($body . ('x' x 65536), 0, 65536);
    my ($st, $h, $rb, $raw) = read_response($s, 30);
    my $d = eval { JSON::PP->new->decode($rb) };
    ok($st == $status && $d && $d->{message} eq $message,
        "$label: $status answered with 64 KiB of a 20 MB body sent") or diag($raw);
    is(lc($h->{connection} // ''), 'close', "$label: Connection: close");
    my (undef, $eof) = read_until_eof($s, 30);
    ok($eof, "$label: the server closes the connection");
    close $s;
}
