# The credential is checked again once the body is read: an upload that
# outlives its token, its credential or its company's KYB approval creates
# nothing (401 / 403), on both POSTs, and leaves nothing behind. The test
# configuration caches credentials for 1 s (CartevoAuthCacheSeconds).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT raw_connect read_response jwt_forge doc_bytes ctl
  customers_of document_names);
use JSON::PP ();

plan tests => 12;

my $J = JSON::PP->new->canonical;

sub multipart_request {
    my ($token) = @_;
    my %f = valid_fields();
    my ($b, $body) = multipart_body((map { [$_, $f{$_}] } sort keys %f),
        ['id_document_front', doc_bytes('id-front.jpg'), 'f.jpg', 'image/jpeg'],
        ['id_document_back', doc_bytes('id-back.png'), 'b.png', 'image/png']);
    return "POST /api/v1/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Authorization: Bearer $token\r\n"
        . "Content-Type: multipart/form-data; boundary=$b\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
}

sub enroll_request {
    my ($token) = @_;
    my $body = $J->encode({ valid_fields(),
        id_document_front_url => 'https://docs.example.invalid/f.jpg',
        id_document_back_url => 'https://docs.example.invalid/b.jpg' });
    return "POST /api/v1/customers/enroll HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Authorization: Bearer $token\r\nContent-Type: application/json\r\n"
        . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
}

# Sends all but the last byte, runs $meanwhile, then the last byte.
sub slow_send {
    my ($req, $meanwhile) = @_;
    my $s = raw_connect();
    print $s substr($req, 0, -1);
    $s->flush;
    $meanwhile->();
    print $s substr($req, -1);
    $s->flush;
    my ($st, $h, $body) = read_response($s, 30);
    return ($st, json_text($body) // {});
}

# ---- a token that expires while the body arrives -----------------------------
for my $kind ('multipart', 'enroll') {
    my $c = company();
    my $now = time;
    my $tok = jwt_forge(claims => { sub => $c->{client_id}, clientId => $c->{client_id},
        companyId => $c->{company_id}, iat => $now, exp => $now + 2 });
    my $req = $kind eq 'multipart' ? multipart_request($tok) : enroll_request($tok);
    my ($st, $d) = slow_send($req, sub { sleep 3 });
    is($st, 401, "$kind: a token that expired during the upload: 401");
    is($d->{message} // '', 'Unauthorized', "$kind: the message");
    is(customers_of($c->{company_id}) + 0, 0, "$kind: nothing was created");
}

# ---- a credential revoked, and KYB withdrawn, while the body arrives ------------
{
    my $c = company();
    my $t = token($c);
    my ($st, $d) = slow_send(multipart_request($t), sub {
        ctl('credentials', 'revoke', $c->{client_id});
        select undef, undef, undef, 1.5;    # past the 1 s cache
    });
    is($st, 401, 'a credential revoked during the upload: 401');
    is(customers_of($c->{company_id}) + 0, 0, 'revoked: nothing was created');
}
{
    my $c = company();
    my $t = token($c);
    my ($st, $d) = slow_send(multipart_request($t), sub {
        ctl('company', 'kyb', $c->{company_id}, 'REJECTED');
        select undef, undef, undef, 1.5;
    });
    is($st, 403, 'KYB withdrawn during the upload: 403');
    is($d->{message} // '', 'Company KYB status must be APPROVED', 'KYB: the message');
}
{
    my $c = company();
    my $t = token($c);
    my ($st) = slow_send(enroll_request($t), sub {
        ctl('company', 'kyb', $c->{company_id}, 'PENDING');
        select undef, undef, undef, 1.5;
    });
    is($st, 403, 'enroll: KYB withdrawn during the body: 403');
}
{
    # The snapshot of the document directory is global: check it last.
    my @tmp = grep { /^\.tmp-/ } document_names();
    is(scalar @tmp, 0, 'no spool left behind');
}
