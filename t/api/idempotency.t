# Idempotency-Key on POST /customers: the header rule and its place in the
# precedence, replays byte for byte, other fingerprints, stored 409s,
# validation failures never stored, ignored inputs left out of the
# fingerprint, claims that expire, another company's keys, and 16
# concurrent retries of one key.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT document_names customers_of doc_bytes
  race_requests raw_request);

plan tests => 55;

my $KM = 'Idempotency-Key must be 1-255 printable ASCII characters';
my $c = company();
my $t = token($c);

sub create_with_key {
    my ($key, %a) = @_;
    return create_customer(token => $t, %a,
        headers => [defined $key ? ('Idempotency-Key' => $key) : (),
                    @{ $a{headers} || [] }]);
}

sub key { return 'k-' . unique_suffix() }

# ---- the header ---------------------------------------------------------------
for my $case (['empty', ''], ['256 bytes', 'k' x 256], ['a space', 'a b'],
              ['a tab', "a\tb"], ['non-ASCII', "caf\xc3\xa9"]) {
    # (A DEL or a control character never reaches the module: httpd
    # refuses such a header line itself.)
    my $res = create_with_key($case->[1]);
    api_error_is($res, 400, $KM, undef, "key with $case->[0]: 400, no errors list");
}
{
    my %f = valid_fields();
    my ($b, $body) = multipart_body((map { [$_, $f{$_}] } sort keys %f));
    my ($st, $h, $raw) = raw_request(send =>
        "POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Authorization: Bearer $t\r\nIdempotency-Key: one\r\nIdempotency-Key: two\r\n"
        . "Content-Type: multipart/form-data; boundary=$b\r\nContent-Length: "
        . length($body) . "\r\n\r\n$body");
    is($st, 400, 'two Idempotency-Key headers: 400');
    is(json_text($raw)->{message}, $KM, 'two headers: the key message');
}
{
    my $res = create_customer(headers => ['Idempotency-Key' => '']);
    api_error_is($res, 401, 'Unauthorized', undef, 'no token and a bad key: 401 first');
    my $p = company(kyb => 'PENDING');
    $res = create_customer(token => token($p), headers => ['Idempotency-Key' => '']);
    api_error_is($res, 403, 'Company KYB status must be APPROVED', undef, 'KYB and a bad key: 403 first');
    my $req = HTTP::Request->new(POST => base_url() . '/customers',
        [Authorization => "Bearer $t", 'Content-Type' => 'text/plain',
         'Idempotency-Key' => 'a b'], 'x');
    $res = ua()->request($req);
    api_error_is($res, 400, $KM, undef, 'a bad key wins over a bad Content-Type');
    my $long = '!' . ('~' x 253) . 'z';
    $res = create_with_key($long);
    is($res->code, 201, '255 printable bytes (0x21-0x7E) are a valid key');
}

# ---- a replay -------------------------------------------------------------------
{
    my $k = key();
    my %f = valid_fields();
    my $first = create_with_key($k, fields => \%f, headers => ['X-Request-Id' => 'first-1']);
    is($first->code, 201, 'first: 201');
    ok(!defined $first->header('Idempotent-Replayed'), 'first: not a replay');
    my @files = document_names();
    my $again = create_with_key($k, fields => \%f, headers => ['X-Request-Id' => 'again-2']);
    is($again->code, 201, 'retry: 201');
    is($again->header('Idempotent-Replayed'), 'true', 'retry: Idempotent-Replayed: true');
    is($again->content, $first->content, 'retry: the same body bytes');
    is($again->header('X-Request-Id'), 'again-2', "retry: the new request's X-Request-Id");
    is($again->header('Content-Type'), 'application/json', 'retry: JSON');
    is(customers_of($c->{company_id}) + 0, 2, 'one customer for two requests (plus the 255-byte one)');
    is(join(',', sort(document_names())), join(',', sort @files), 'the retry left no file');
    my $id = json_of($first)->{data}{id};
    is(psql("SELECT customer_id FROM idempotency_keys WHERE key = '$k'"), $id,
       'the key is bound to its customer');

    # Ignored inputs are not part of the fingerprint.
    my $ign = create_with_key($k, fields => { %f, number => 'whatever' },
                              parts => [image => 'x', photo => 'y']);
    is($ign->code, 201, 'number / image / photo added: still the same request');
    is($ign->header('Idempotent-Replayed'), 'true', 'ignored inputs: replayed');

    my $other = create_with_key($k, fields => { %f, city => 'Abuja' });
    api_error_is($other, 409, 'Idempotency-Key was already used with a different request',
                 undef, 'another field value: 409');
    my $otherfile = create_with_key($k, fields => \%f, back => fixture(mkdoc('png', 800, 500, 7), '.png'));
    api_error_is($otherfile, 409, 'Idempotency-Key was already used with a different request',
                 undef, 'other file bytes: 409');
    my $enroll = create_with_key($k, fields => \%f, query => 'enroll=true');
    api_error_is($enroll, 409, 'Idempotency-Key was already used with a different request',
                 undef, 'enroll=true differs from no enroll: 409');
    my $nokey = create_customer(token => $t, fields => \%f);
    api_error_is($nokey, 409, 'Customer with this email already exists', undef,
                 'without the key the same body is a duplicate');
}

# ---- a passport's back is ignored -------------------------------------------------
{
    my $k = key();
    my %f = valid_fields(id_document_type => 'PASSPORT', identification_number => 'A' . substr(unique_suffix(), -8));
    my $first = create_with_key($k, fields => \%f, back => undef);
    is($first->code, 201, 'passport without a back: 201');
    my $again = create_with_key($k, fields => \%f);
    is($again->header('Idempotent-Replayed'), 'true', "a passport's back does not change the request");
    is($again->content, $first->content, 'passport: same body');
}

# ---- a stored 409, validation failures never stored ------------------------------------
{
    my %f = valid_fields();
    is(create_customer(token => $t, fields => \%f)->code, 201, 'a customer to collide with');
    my $k = key();
    my %dup = valid_fields(email => $f{email});
    my $first = create_with_key($k, fields => \%dup);
    api_error_is($first, 409, 'Customer with this email already exists', undef, 'duplicate: 409');
    my $again = create_with_key($k, fields => \%dup);
    is($again->code, 409, 'the duplicate 409 is replayed');
    is($again->header('Idempotent-Replayed'), 'true', 'replayed 409: header');
    is($again->content, $first->content, 'replayed 409: same bytes');

    my $k2 = key();
    my %bad = valid_fields(first_name => 'Jo');
    my $v = create_with_key($k2, fields => \%bad);
    is($v->code, 400, 'a validation failure: 400');
    my $v2 = create_with_key($k2, fields => \%bad);
    ok($v2->code == 400 && !defined $v2->header('Idempotent-Replayed'), 'a 400 is never replayed');
    is(psql("SELECT count(*) FROM idempotency_keys WHERE key = '$k2'"), 0, 'no key row for a 400');
    my $ok = create_with_key($k2);
    is($ok->code, 201, 'the same key then creates');
    ok(!defined $ok->header('Idempotent-Replayed'), 'and is not a replay');

    my $k3 = key();
    my $jpg = doc_bytes('id-front.jpg');
    my $unreadable = create_with_key($k3, front => fixture(substr($jpg, 0, length($jpg) / 2), '.jpg'));
    is($unreadable->code, 422, 'a 422');
    is(psql("SELECT count(*) FROM idempotency_keys WHERE key = '$k3'"), 0, 'no key row for a 422');
}

# ---- claims in progress, and claims that expired --------------------------------------
{
    my $k = key();
    my %f = valid_fields();
    my $first = create_with_key($k, fields => \%f);
    is($first->code, 201, 'a completed key');
    psql("UPDATE idempotency_keys SET status = NULL, body = NULL, claimed_until = now() + interval '1 minute' WHERE key = '$k'");
    my $busy = create_with_key($k, fields => \%f);
    api_error_is($busy, 409, 'A request with this Idempotency-Key is still in progress', undef,
                 'a live claim: 409 in progress');
    my $busy_other = create_with_key($k, fields => { %f, city => 'Kano' });
    api_error_is($busy_other, 409, 'Idempotency-Key was already used with a different request',
                 undef, 'a live claim of another request: 409 different');
    psql("UPDATE idempotency_keys SET claimed_until = now() - interval '1 second' WHERE key = '$k'");
    my $late = create_with_key($k, fields => \%f);
    api_error_is($late, 409, 'Customer with this email already exists', undef,
                 'an expired claim is taken over (and this one finds the customer)');
    is(psql("SELECT status FROM idempotency_keys WHERE key = '$k'"), 409, 'the new answer is stored');
}

# ---- another company, another key space ----------------------------------------------
{
    my $k = key();
    my %f = valid_fields();
    is(create_with_key($k, fields => \%f)->code, 201, 'A uses a key');
    my $o = company();
    my $res = create_customer(token => token($o), fields => \%f,
                              headers => ['Idempotency-Key' => $k]);
    is($res->code, 201, "B's identical key and body create B's own customer");
    ok(!defined $res->header('Idempotent-Replayed'), "B's answer is not A's replay");
}

# ---- 16 concurrent retries of one key ------------------------------------------------
{
    my $r = company();
    my $rt = token($r);
    my $k = key();
    my %f = valid_fields();
    my ($b, $body) = multipart_body((map { [$_, $f{$_}] } sort keys %f),
        ['id_document_front', doc_bytes('id-front.jpg'), 'f.jpg', 'image/jpeg'],
        ['id_document_back', doc_bytes('id-back.png'), 'b.png', 'image/png']);
    my $req = "POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Authorization: Bearer $rt\r\nIdempotency-Key: $k\r\n"
        . "Content-Type: multipart/form-data; boundary=$b\r\nContent-Length: "
        . length($body) . "\r\n\r\n$body";
    my ($ready, @res) = race_requests(($req) x 16);
    is($ready, 16, '16 retries in flight together');
    my @orig = grep { $_->[0] == 201 && $_->[3] eq '' } @res;
    my @replayed = grep { $_->[0] == 201 && $_->[3] eq 'true' } @res;
    my @busy = grep { $_->[0] == 409 && $_->[1] eq 'A request with this Idempotency-Key is still in progress' } @res;
    ok(@orig == 1 && @orig + @replayed + @busy == 16,
       'one 201, every other answer the replayed 201 or the in-progress 409')
        or diag(join '; ', map { "$_->[0] $_->[1] $_->[3]" } @res);
    ok(!grep({ $_->[4] ne $orig[0][4] } @replayed), 'every replay has the same bytes');
    is(customers_of($r->{company_id}) + 0, 1, 'one customer');
    my $after = create_customer(token => $rt, fields => \%f, headers => ['Idempotency-Key' => $k]);
    is($after->header('Idempotent-Replayed'), 'true', 'after the race: replayed');
}
