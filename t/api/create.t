# The success path of POST /customers and GET /customers/{id}: exact shape.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;

plan tests => 19;

my $c = company();
my $t = token($c);
my %f = valid_fields();
my $res = create_customer(token => $t, fields => \%f);
is($res->code, 201, 'created');
is($res->header('X-Content-Type-Options'), 'nosniff', 'JSON answers are not sniffed either');
my $d = json_of($res);
is_deeply([sort keys %$d], [qw(data message statusCode success)], 'envelope');
is($d->{message}, 'Customer created successfully', 'message');
my @keys = qw(id first_name last_name country email street city state
  postal_code phone_country_code phone_number identification_number type
  number image photo date_of_birth is_active created_at updated_at);
is_deeply([sort keys %{ $d->{data} }], [sort @keys], 'exactly the documented data');
my $x = $d->{data};
like($x->{id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'uuid v4');
is($x->{phone_country_code}, '+234', 'phone_country_code echoes country_phone_code');
is($x->{date_of_birth}, '1990-01-15T00:00:00.000Z', 'date_of_birth');
like($x->{created_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'timestamp');
is($x->{image}, base_url() . "/customers/$x->{id}/documents/front", 'image url');
is($x->{photo}, base_url() . "/customers/$x->{id}/documents/back", 'photo url');

my ($g, $gd) = get_json("/customers/$x->{id}", $t);
is($g->code, 200, 'GET');
is($gd->{message}, 'Customer retrieved successfully', 'GET message');
is($gd->{data}{kyc_status}, 'PENDING', 'kyc_status');
# SQL NULLs are JSON nulls, not empty strings.
ok(exists $gd->{data}{kyc_reason} && !defined $gd->{data}{kyc_reason}, 'kyc_reason null');
ok(exists $gd->{data}{kyc_reason_message} && !defined $gd->{data}{kyc_reason_message}, 'kyc_reason_message null');
ok(exists $gd->{data}{issuer_customer_id} && !defined $gd->{data}{issuer_customer_id}, 'issuer_customer_id null');
is($gd->{data}{enrollment_status}, 'NOT_ENROLLED', 'enrollment_status');
is(psql("SELECT count(*) FROM kyc_jobs j JOIN outbox_events o USING (customer_id) WHERE j.customer_id = '$x->{id}' AND o.event = 'customer.created'"),
   1, 'job and outbox event in the same transaction');
