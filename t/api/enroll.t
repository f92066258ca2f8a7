# POST /customers/enroll, the module's side: the JSON body rules (Content-
# Type, Content-Encoding, 64 KiB, the strict flat object, null, types,
# UTF-8, repeated and unknown keys), the URL rules, the 201 echoing the
# caller's URLs, what is written (no document rows yet, a fetch job that
# enrolls), 409s shared with the multipart endpoint, and Idempotency-Key
# scoped by path. The daemon's fetch is t/kycd/fetch*.t.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT raw_request);
use JSON::PP ();

plan tests => 105;

my $J = JSON::PP->new->canonical;
my $c = company();
my $t = token($c);
my $FRONT = 'https://docs.example.invalid/kyc/front.jpg?X-Amz-Signature=abc';
my $BACK = 'https://docs.example.invalid/kyc/back.png';

sub enroll_fields {
    my %over = @_;
    my %f = (valid_fields(), id_document_front_url => $FRONT,
             id_document_back_url => $BACK);
    @f{keys %over} = values %over;    # undef is sent as JSON null
    return \%f;
}

# post_enroll(body => hashref|raw string, token =>, ct =>, headers => [],
#             query => '')
sub post_enroll {
    my %a = (token => $t, ct => 'application/json', @_);
    my $body = ref $a{body} ? $J->encode($a{body}) : $a{body};
    my $req = HTTP::Request->new(POST => base_url() . '/customers/enroll'
                                 . ($a{query} ? "?$a{query}" : ''));
    $req->header(Authorization => "Bearer $a{token}") if $a{token};
    $req->header('Content-Type' => $a{ct}) if defined $a{ct};
    my @h = @{ $a{headers} || [] };
    while (my ($k, $v) = splice @h, 0, 2) { $req->header($k => $v) }
    $req->content($body);
    return ua()->request($req);
}

sub field_error {
    my ($body, $field, $message, $name) = @_;
    my $res = post_enroll(body => $body);
    return api_error_is($res, 400, $message, [[$field, $message]], $name);
}

# ---- the 201 --------------------------------------------------------------
my $created;
{
    my $f = enroll_fields();
    my $res = post_enroll(body => $f, query => 'enroll=false');
    is($res->code, 201, 'enroll: 201');
    my $d = json_of($res);
    $created = $d->{data};
    is($d->{message}, 'Customer created successfully', 'message');
    my @keys = qw(id first_name last_name country email street city state
      postal_code phone_country_code phone_number identification_number type
      number image photo date_of_birth is_active created_at updated_at);
    is_deeply([sort keys %$created], [sort @keys], 'the data of POST /customers');
    is($created->{image}, $FRONT, 'image echoes the front URL');
    is($created->{photo}, $BACK, 'photo echoes the back URL');
    is($created->{email}, $f->{email}, 'fields as sent');
    my $id = $created->{id};
    is(psql("SELECT count(*) FROM customer_documents WHERE customer_id = '$id'"), 0,
       'no document row before the fetch');
    is(psql("SELECT enroll || ' ' || phase FROM kyc_jobs WHERE customer_id = '$id'"),
       'true fetch', 'a fetch job that always enrolls (the query string is ignored)');
    is(psql("SELECT count(*) FROM outbox_events WHERE customer_id = '$id' AND event = 'customer.created'"),
       1, 'customer.created queued with the customer');
    my ($g, $gd) = get_json("/customers/$id", $t);
    is($gd->{data}{image}, $FRONT, 'GET: image is the caller URL');
    is($gd->{data}{photo}, $BACK, 'GET: photo is the caller URL');
    my ($lr, $ld) = get_json('/customers?limit=100', $t);
    my ($item) = grep { $_->{id} eq $id } @{ $ld->{data} };
    is($item && $item->{image}, $FRONT, 'list: image is the caller URL');
}

# ---- documents are ours only once fetched ------------------------------------
SKIP: {
    my $id = $created->{id};
    skip 'the daemon already fetched it', 2
        if psql("SELECT count(*) FROM customer_documents WHERE customer_id = '$id'") > 0;
    my ($r1, $d1) = get_json("/customers/$id/documents/front", $t);
    api_error_is($r1, 404, 'Document not found', undef, 'front: 404 until fetched');
    my ($r2) = get_json("/customers/$id/documents/back", $t);
    api_error_is($r2, 404, 'Document not found', undef, 'back: 404 until fetched');
}

# ---- documents by type --------------------------------------------------------
{
    my $u = unique_suffix();
    my $res = post_enroll(body => enroll_fields(id_document_type => 'PASSPORT',
        identification_number => 'P' . substr($u, -7), id_document_back_url => 'not even a URL'));
    is($res->code, 201, "PASSPORT: the back URL is ignored, whatever it holds");
    is(json_of($res)->{data}{photo}, undef, 'PASSPORT: photo null');
    my $id = json_of($res)->{data}{id};
    is(psql("SELECT coalesce(back_url, 'NULL') FROM customers WHERE id = '$id'"), 'NULL',
       'PASSPORT: no back URL kept');
    my $f = enroll_fields(id_document_type => 'VOTERS_CARD', identification_number => "VC/$u");
    delete $f->{id_document_back_url};
    $res = post_enroll(body => $f);
    is($res->code, 201, 'VOTERS_CARD without a back: 201');
    is(json_of($res)->{data}{photo}, undef, 'VOTERS_CARD: photo null');
    $f = enroll_fields(id_document_type => 'VOTERS_CARD', identification_number => "VD/$u");
    $f->{id_document_back_url} = undef;
    is(post_enroll(body => $f)->code, 201, 'a null back URL counts as missing');
    for my $type ('NIN', 'DRIVERS_LICENSE') {
        my $g = enroll_fields(id_document_type => $type,
            $type eq 'NIN' ? () : (identification_number => "DL$u"));
        delete $g->{id_document_back_url};
        field_error($g, 'id_document_back_url', "id_document_back_url is required for $type",
                    "$type without a back URL");
    }
}

# ---- Content-Type, Content-Encoding, size ------------------------------------------
my $CTM = 'Content-Type must be application/json';
for my $ct (undef, 'text/plain', 'application/jsonx', 'application/json; charset=latin1',
            'application/json; foo=bar', 'multipart/form-data; boundary=x',
            'application/json; charset=utf-8; x=y', 'application/x-www-form-urlencoded') {
    my $res = post_enroll(body => enroll_fields(), ct => $ct);
    api_error_is($res, 415, $CTM, undef, 'Content-Type ' . ($ct // 'missing') . ': 415');
}
for my $ct ('APPLICATION/JSON', 'application/json; charset=utf-8', 'Application/Json;charset=UTF-8') {
    my $res = post_enroll(body => enroll_fields(), ct => $ct);
    is($res->code, 201, "Content-Type $ct: accepted");
}
{
    my $res = post_enroll(body => enroll_fields(), headers => ['Content-Encoding' => 'gzip']);
    api_error_is($res, 415, 'Content-Encoding is not supported', undef, 'gzip: 415');
    my $big = enroll_fields(first_name => 'J' x (64 * 1024));
    $res = post_enroll(body => $big);
    api_error_is($res, 413, 'Request body too large', undef, 'over 64 KiB declared: 413');
    my $body = $J->encode($big);
    my ($st, $h, $raw) = raw_request(send => "POST /api/v1/customers/enroll HTTP/1.1\r\n"
        . "Host: x\r\nConnection: close\r\nAuthorization: Bearer $t\r\n"
        . "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        . sprintf('%x', length $body) . "\r\n$body\r\n0\r\n\r\n");
    is($st, 413, 'over 64 KiB chunked: 413');
    is(json_text($raw)->{message}, 'Request body too large', 'chunked: the message');
    my $fit = enroll_fields(street => 'S' x 255, postal_code => 'P' x 255);
    is(post_enroll(body => $fit)->code, 201, 'a body well under 64 KiB is fine');
}

# ---- malformed bodies -----------------------------------------------------------
for my $raw ('', ' ', '[]', '"x"', '1', 'null', '{', '{"a":1,}', '{"a" 1}', "{'a':'b'}",
             '{"a":"b"} x', '{"a":"b"}{}', "\xef\xbb\xbf{}", '{"a":01}', '{"a":tru}',
             '{"a":"\\x"}', "{\"a\":\"b\x01\"}") {
    my $res = post_enroll(body => $raw);
    (my $shown = $raw) =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    api_error_is($res, 400, 'Malformed JSON body', undef, "malformed '$shown': 400");
}

# ---- null, types, UTF-8 ----------------------------------------------------------
field_error(enroll_fields(first_name => undef), 'first_name', 'first_name is required', 'null is missing');
field_error(enroll_fields(first_name => ''), 'first_name', 'first_name is required', 'empty is missing');
field_error(enroll_fields(first_name => 12345), 'first_name', 'first_name must be a string', 'a number');
field_error(enroll_fields(city => JSON::PP::true), 'city', 'city must be a string', 'a boolean');
field_error(enroll_fields(state => { a => 'b' }), 'state', 'state must be a string', 'an object');
field_error(enroll_fields(street => ['x']), 'street', 'street must be a string', 'an array');
field_error(enroll_fields(id_document_front_url => 7), 'id_document_front_url',
            'id_document_front_url must be a string', 'a URL that is a number');
{
    my $raw = $J->encode(enroll_fields());
    (my $sur = $raw) =~ s/"first_name":"John"/"first_name":"Jo\\ud800hn"/;
    my $res = post_enroll(body => $sur);
    api_error_is($res, 400, 'first_name must be valid UTF-8', [['first_name', 'first_name must be valid UTF-8']],
                 'a lone surrogate');
    (my $bad = $raw) =~ s/"first_name":"John"/"first_name":"Jo\xc3\x28hn"/;
    $res = post_enroll(body => $bad);
    api_error_is($res, 400, 'first_name must be valid UTF-8', [['first_name', 'first_name must be valid UTF-8']],
                 'invalid UTF-8 bytes');
    (my $pair = $raw) =~ s/"first_name":"John"/"first_name":"Jo\\ud83d\\ude00hn"/;
    is(post_enroll(body => $pair)->code, 201, 'a surrogate pair is one character');
    (my $esc = $J->encode(enroll_fields())) =~ s/"last_name":"Doe"/"last_name":"D\\u006fe"/;
    $res = post_enroll(body => $esc);
    is(json_of($res)->{data}{last_name}, 'Doe', 'escapes are decoded');
}

# ---- URL rules ------------------------------------------------------------------
my $HM = 'id_document_front_url must be an https URL';
for my $u ('http://docs.example.com/a.jpg', 'ftp://x/y', 'https://', 'https:///a',
           'https://user:pw@docs.example.com/a', 'https://docs.example.invalid:0/a',
           'docs.example.com/a.jpg', 'https://docs example.com/a', '//docs.example.com/a') {
    field_error(enroll_fields(id_document_front_url => $u), 'id_document_front_url', $HM, "front '$u'");
}
{
    my $long = 'https://docs.example.invalid/' . ('a' x (2049 - 29));
    is(length $long, 2049, 'a 2049-byte URL');
    field_error(enroll_fields(id_document_front_url => $long), 'id_document_front_url',
                'id_document_front_url must be at most 2048 characters', 'too long');
    my $max = substr($long, 0, 2048);
    is(post_enroll(body => enroll_fields(id_document_front_url => $max))->code, 201, '2048 bytes: fine');
    my $f = enroll_fields();
    delete $f->{id_document_front_url};
    field_error($f, 'id_document_front_url', 'id_document_front_url is required', 'front missing');
    field_error(enroll_fields(id_document_back_url => 'http://x/y'), 'id_document_back_url',
                'id_document_back_url must be an https URL', 'back not https');
    is(post_enroll(body => enroll_fields(id_document_front_url => 'HTTPS://Docs.Example.invalid:8443/a?b#c'))->code,
       201, 'scheme in any case, a port, a query and a fragment');
}

# ---- unknown, repeated, ignored keys, and the order of the errors list --------------
field_error(enroll_fields(foo => 'x'), 'foo', 'foo is not allowed', 'an unknown key');
field_error(enroll_fields(enroll => 'true'), 'enroll', 'enroll is not allowed', 'enroll is not a body key');
field_error(enroll_fields(id_document_front => 'x'), 'id_document_front', 'id_document_front is not allowed',
            'the multipart file name is not a key here');
is(post_enroll(body => enroll_fields(number => 5, image => 'x', photo => undef))->code, 201,
   'number, image and photo are accepted and ignored, whatever their type');
{
    my $raw = $J->encode(enroll_fields());
    (my $dup = $raw) =~ s/^\{/{"email":"other\@example.com",/;
    my $res = post_enroll(body => $dup);
    api_error_is($res, 400, 'email must not be repeated', [['email', 'email must not be repeated']],
                 'a repeated key');
    my %f = %{ enroll_fields(first_name => 'Jo', id_document_front_url => 'http://x/y') };
    my $body = '{"zz":"1",' . substr($J->encode(\%f), 1);
    $body =~ s/\}$/,"first_name":"Again"}/;
    $res = post_enroll(body => $body);
    api_error_is($res, 400, 'first_name must be at least 3 characters',
        [['first_name', 'first_name must be at least 3 characters'],
         ['id_document_front_url', $HM], ['zz', 'zz is not allowed'],
         ['first_name', 'first_name must not be repeated']],
        'fields, then documents, then unknown and repeated keys in body order');
}

# ---- precedence, 409s, auth -----------------------------------------------------
{
    my $res = post_enroll(body => enroll_fields(), token => undef);
    api_error_is($res, 401, 'Unauthorized', undef, 'no token: 401');
    my $p = company(kyb => 'PENDING');
    $res = post_enroll(body => enroll_fields(), token => token($p), ct => 'text/plain');
    api_error_is($res, 403, 'Company KYB status must be APPROVED', undef, '403 before 415');
    $res = post_enroll(body => '{', ct => 'text/plain');
    api_error_is($res, 415, $CTM, undef, '415 before malformed');
    my %m = valid_fields();
    is(create_customer(token => $t, fields => \%m)->code, 201, 'a multipart customer');
    $res = post_enroll(body => enroll_fields(email => uc $m{email}));
    api_error_is($res, 409, 'Customer with this email already exists', undef,
                 'enroll collides with a multipart customer: 409 email');
    $res = post_enroll(body => enroll_fields(identification_number => $m{identification_number}));
    api_error_is($res, 409, 'Customer with this identification_number already exists', undef, '409 number');
    $res = post_enroll(body => enroll_fields(first_name => 'Jo', email => $m{email}));
    is($res->code, 400, 'field errors before 409');
    for my $m ('GET', 'PUT', 'DELETE') {
        my $r = ua()->request(HTTP::Request->new($m => base_url() . '/customers/enroll', [bearer($t)]));
        ok($r->code == 405 && ($r->header('Allow') // '') eq 'POST', "$m /customers/enroll: 405 Allow POST");
    }
}

# ---- Idempotency-Key, scoped by path ------------------------------------------------
{
    my $k = 'enroll-' . unique_suffix();
    my $f = enroll_fields();
    my $first = post_enroll(body => $f, headers => ['Idempotency-Key' => $k]);
    is($first->code, 201, 'enroll with a key');
    my $again = post_enroll(body => $f, headers => ['Idempotency-Key' => $k]);
    is($again->header('Idempotent-Replayed'), 'true', 'replayed');
    is($again->content, $first->content, 'same bytes');
    my $other = post_enroll(body => { %$f, id_document_front_url => $FRONT . '&v=2' },
                            headers => ['Idempotency-Key' => $k]);
    api_error_is($other, 409, 'Idempotency-Key was already used with a different request', undef,
                 'another URL is another request');
    my $m = create_customer(token => $t, headers => ['Idempotency-Key' => $k]);
    is($m->code, 201, 'the same key on POST /customers is another key');
    ok(!defined $m->header('Idempotent-Replayed'), 'not a replay of the enroll');
    my $pp = { %$f, id_document_type => 'PASSPORT', identification_number => 'Q' . substr(unique_suffix(), -7),
               email => 'pp.' . unique_suffix() . '@example.com' };
    my $k2 = 'pp-' . unique_suffix();
    is(post_enroll(body => $pp, headers => ['Idempotency-Key' => $k2])->code, 201, 'passport with a key');
    my $pp2 = post_enroll(body => { %$pp, id_document_back_url => 'https://elsewhere.example.invalid/b' },
                          headers => ['Idempotency-Key' => $k2]);
    is($pp2->header('Idempotent-Replayed'), 'true', "a passport's back URL is not fingerprinted");
}

# The documents above live at example URLs that can never be fetched; park
# their jobs so that the daemon's later tests do not work through them
# (t/kycd/fetch*.t fetch for real).
END {
    local $?;
    psql("UPDATE kyc_jobs SET state = 'failed', last_error = 'parked by t/api/enroll.t', "
         . "lease_owner = NULL, lease_until = NULL WHERE phase = 'fetch' "
         . "AND state IN ('queued', 'running')") if $ENV{CARTEVO_DB};
}
