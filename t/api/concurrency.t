# Duplicates under concurrency: 16 creates that collide on the email, or
# on the identification number written 16 different ways, are released
# together; the unique indexes must let exactly one through, the others
# answer 409, and the losers' documents must not stay on disk.
#
# race_requests (Cartevo::Test) sends every request but its last byte on
# its own connection, then releases them all at once, so the 16 requests
# reach the database together.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT wait_until document_names customers_of
  doc_bytes race_requests);

plan tests => 2 * 8;

my $N = 16;
my $front = doc_bytes('id-front.jpg');
my $back = doc_bytes('id-back.png');

sub request_bytes {
    my ($token, %f) = @_;
    my ($b, $body) = multipart_body(
        (map { [$_, $f{$_}] } sort keys %f),
        ['id_document_front', $front, 'front.jpg', 'image/jpeg'],
        ['id_document_back', $back, 'back.png', 'image/png'],
    );
    my $head = "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Authorization: Bearer $token\r\n"
        . "Content-Type: multipart/form-data; boundary=$b\r\n"
        . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n";
    return $head . $body;
}

sub summary {
    my %n;
    $n{"$_->[0] $_->[1]"}++ for @_;
    return join '; ', map { "$n{$_} x $_" } sort keys %n;
}

sub check_race {
    my ($label, $company, $requests, $conflict_message, $row_sql) = @_;
    my @before = document_names();
    my ($ready, @res) = race_requests(@$requests);
    is($ready, $N, "$label: all $N requests were in flight before the release");
    is(scalar @res, $N, "$label: $N answers");
    my @won = grep { $_->[0] == 201 } @res;
    my @lost = grep { $_->[0] == 409 && $_->[1] eq $conflict_message } @res;
    ok(@won == 1 && @lost == $N - 1,
        "$label: exactly one 201 and fifteen 409 '$conflict_message'")
        or diag(summary(@res));
    is(customers_of($company->{company_id}), 1, "$label: exactly one customer row");
    is(psql($row_sql), 1, "$label: the row is the colliding one");
    my $id = @won ? $won[0][2] : '';
    my @stored = $id =~ /\A[0-9a-f-]{36}\z/
        ? split /\n/, psql("SELECT storage_name FROM customer_documents WHERE customer_id = '$id' ORDER BY 1")
        : ();
    is(scalar @stored, 2, "$label: the winner has its two documents");
    my %before = map { $_ => 1 } @before;
    my $grown = sub { join ',', sort grep { !$before{$_} } document_names() };
    my $want = join ',', sort @stored;
    wait_until(sub { $grown->() eq $want });
    is($grown->(), $want, "$label: the document directory grew by exactly the winner's files");
    ok(!grep({ /^\.tmp-/ } document_names()), "$label: no temporary file left");
}

# ---- one email -------------------------------------------------------------
{
    my $c = company();
    my $t = token($c);
    my $email = 'race.' . unique_suffix() . '@example.com';
    my @req = map {
        request_bytes($t, valid_fields(email => $email,
            identification_number => sprintf('%011d', 20000000000 + $_)))
    } 1 .. $N;
    check_race('same email', $c, \@req, 'Customer with this email already exists',
        "SELECT count(*) FROM customers WHERE company_id = '$c->{company_id}' AND email = '$email'");
}

# ---- one identification number, written 16 ways ------------------------------
{
    my $c = company();
    my $t = token($c);
    my @forms = ('AB123456789012CD', 'ab123456789012cd', 'Ab123456789012cD',
        'aB123456789012Cd', 'AB 1234 5678 9012 CD', 'ab-1234-5678-9012-cd',
        'AB-123456789012-CD', 'ab 123456789012 cd',
        'A B 1 2 3 4 5 6 7 8 9 0 1 2 C D', 'a-b-1-2-3-4-5-6-7-8-9-0-1-2-c-d',
        'AB1234-5678-9012CD', 'ab1234 5678 9012cd', 'AB 123-456-789-012 CD',
        'Ab-1234 5678-9012 cD', 'aB12345678901 2Cd', 'AB12 3456 7890 12CD');
    my %distinct = map { $_ => 1 } @forms;
    die 'forms must be distinct' unless keys %distinct == $N;
    my @req = map { request_bytes($t, valid_fields(identification_number => $_)) } @forms;
    check_race('same identification number', $c, \@req,
        'Customer with this identification_number already exists',
        "SELECT count(*) FROM customers WHERE company_id = '$c->{company_id}' "
        . "AND upper(translate(identification_number, ' -', '')) = 'AB123456789012CD'");
}
