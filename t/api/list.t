# GET /customers: paging, order, totals, another company's customers never
# listed, items exactly as GET /customers/{id}, the strict page / limit
# rules, and a count that does not make concurrent creates of one company
# queue behind one row lock.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT wait_until);
use JSON::PP ();
use POSIX ();

plan tests => 63;

my $canon = JSON::PP->new->canonical;
my $N = 23;

sub list {
    my ($t, $query) = @_;
    my ($res, $d) = get_json('/customers' . (defined $query ? "?$query" : ''), $t);
    return ($res, $d);
}

sub ids { return join ',', map { $_->{id} } @{ $_[0]{data} || [] } }

# ---- auth ------------------------------------------------------------------
{
    my ($res) = list(undef);
    api_error_is($res, 401, 'Unauthorized', undef, 'no token: 401');
}

my $a = company();
my $ta = token($a);
my $b = company();
my $tb = token($b);

# ---- an empty company --------------------------------------------------------
{
    my ($res, $d) = list($ta);
    is($res->code, 200, 'empty company: 200');
    is($d->{message}, 'Customers retrieved successfully', 'message');
    is_deeply([sort keys %$d], [qw(data message meta statusCode success)], 'envelope');
    is_deeply($d->{data}, [], 'data is []');
    is($canon->encode($d->{meta}), '{"limit":10,"page":1,"total":0,"totalPages":0}',
       'meta of an empty company: totalPages 0');
}

# ---- N customers in A, 2 in B --------------------------------------------------
my @created;    # oldest first
for (1 .. $N) {
    my $res = create_customer(token => $ta);
    die 'create failed: ' . $res->code unless $res->code == 201;
    push @created, json_of($res)->{data}{id};
}
my @b_ids = map { json_of(create_customer(token => $tb))->{data}{id} } 1 .. 2;
my @newest = reverse @created;

{
    my ($res, $d) = list($ta);
    is($res->code, 200, 'page 1: 200');
    is(ids($d), join(',', @newest[0 .. 9]), 'page 1 is the 10 newest, newest first');
    is($canon->encode($d->{meta}), qq({"limit":10,"page":1,"total":$N,"totalPages":3}), 'meta page 1');
    ($res, $d) = list($ta, 'page=3');
    is(ids($d), join(',', @newest[20 .. 22]), 'page 3 holds the last 3');
    is($d->{meta}{totalPages}, 3, 'totalPages = ceil(23 / 10)');
    ($res, $d) = list($ta, 'page=4');
    is($res->code, 200, 'a page past the end: 200');
    is_deeply($d->{data}, [], 'a page past the end: data []');
    is($d->{meta}{total}, $N, 'a page past the end still has the total');
    ($res, $d) = list($ta, 'page=999999999&limit=100');
    is($res->code, 200, 'the largest page: 200');
    is_deeply($d->{data}, [], 'the largest page: data []');
    ($res, $d) = list($ta, 'limit=100');
    is(ids($d), join(',', @newest), 'limit=100: everything, newest first');
    is($d->{meta}{totalPages}, 1, 'limit=100: one page');
    ($res, $d) = list($ta, 'limit=7&page=4');
    is(ids($d), join(',', @newest[21 .. 22]), 'limit=7 page=4: the last 2');
    is($canon->encode($d->{meta}), qq({"limit":7,"page":4,"total":$N,"totalPages":4}), 'meta limit 7');
    ($res, $d) = list($ta, 'limit=1&page=23');
    is(ids($d), $created[0], 'limit=1 page=23: the oldest');
    ($res, $d) = list($ta, 'foo=bar&page=2&x');
    is(ids($d), join(',', @newest[10 .. 19]), 'unknown parameters are ignored');
    ($res, $d) = list($tb, 'limit=100');
    is(ids($d), join(',', reverse @b_ids), "B sees only B's customers");
    is($d->{meta}{total}, 2, "B's total");
    my %a_ids = map { $_ => 1 } @created;
    ok(!grep({ $a_ids{$_->{id}} } @{ $d->{data} }), "A's customers never in B's list");
}

# ---- items exactly as GET /customers/{id} ------------------------------------
{
    # The daemon moves new customers on; compare once their jobs are done.
    wait_until(sub {
        psql("SELECT count(*) FROM kyc_jobs j JOIN customers c ON c.id = j.customer_id "
             . "WHERE c.company_id = '$a->{company_id}' AND j.state IN ('queued', 'running')") == 0
    }, 60);
    my ($res, $d) = list($ta, 'limit=100');
    my $same = 0;
    for my $item (@{ $d->{data} }) {
        my (undef, $g) = get_json("/customers/$item->{id}", $ta);
        $same++ if $canon->encode($g->{data}) eq $canon->encode($item);
    }
    is($same, $N, 'every item equals its GET /customers/{id} object');
    my @keys = sort keys %{ $d->{data}[0] };
    ok((grep { $_ eq 'kyc_status' } @keys) && (grep { $_ eq 'country_iso_code' } @keys),
       'items are the full object');
}

# ---- ties on created_at are broken by creation order ----------------------------
{
    my $in = join ',', map { "'$_'" } @created[0 .. 4];
    psql("UPDATE customers SET created_at = '2020-01-01T00:00:00Z' WHERE id IN ($in)");
    my ($res, $d) = list($ta, 'limit=100');
    my @got = map { $_->{id} } @{ $d->{data} };
    is(join(',', @got[$N - 5 .. $N - 1]), join(',', reverse @created[0 .. 4]),
       'equal created_at: the oldest, newest seq first');
}

# ---- page and limit rules ---------------------------------------------------------
my $PM = 'page must be a positive integer';
my $LM = 'limit must be between 1 and 100';
for my $q ('page=0', 'page=-1', 'page=01', 'page=1.5', 'page=abc', 'page=',
           'page', 'page=1234567890', 'page=%31', 'page=+1', 'page=1&page=1',
           'page=2&limit=10&page=3', 'page=1%00') {
    my ($res) = list($ta, $q);
    api_error_is($res, 400, $PM, [['page', $PM]], "?$q: 400 page");
}
for my $q ('limit=0', 'limit=101', 'limit=1000', 'limit=01', 'limit=abc',
           'limit=', 'limit', 'limit=10&limit=10', 'limit=-5', 'limit=1e2') {
    my ($res) = list($ta, $q);
    api_error_is($res, 400, $LM, [['limit', $LM]], "?$q: 400 limit");
}
{
    my ($res) = list($ta, 'limit=0&page=0');
    api_error_is($res, 400, $PM, [['page', $PM], ['limit', $LM]], 'both bad: page first, both listed');
    ($res) = list($ta, 'Page=0&LIMIT=0');
    is($res->code, 200, 'names are case-sensitive: Page and LIMIT are unknown, ignored');
}

# ---- methods ------------------------------------------------------------------------
{
    my $res = ua()->head(base_url() . '/customers', bearer($ta));
    is($res->code, 200, 'HEAD /customers: 200');
    is($res->content, '', 'HEAD: no body');
    $res = ua()->delete(base_url() . '/customers', bearer($ta));
    api_error_is($res, 405, 'Method not allowed', undef, 'DELETE /customers: 405');
    is($res->header('Allow'), 'GET, HEAD, POST', 'Allow on /customers');
    $res = ua()->get(base_url() . '/customers/enroll', bearer($ta));
    api_error_is($res, 405, 'Method not allowed', undef, 'GET /customers/enroll: 405');
    is($res->header('Allow'), 'POST', 'Allow on /customers/enroll');
}

# ---- the total is exact, and one company's creates do not queue on it ----------------
{
    is(psql("SELECT sum(n) FROM customer_counts WHERE company_id = '$a->{company_id}'"),
       psql("SELECT count(*) FROM customers WHERE company_id = '$a->{company_id}'"),
       'the spread count equals count(*)');
    # Another session inserts a customer of A and holds its transaction
    # open; a create through the API must not wait for it.
    my $u = unique_suffix();
    my $sql = "BEGIN; INSERT INTO customers (id, company_id, first_name, last_name, email, country, street, city, state, postal_code, country_iso_code, phone_country_code, phone_number, identification_number, id_document_type, date_of_birth) VALUES (gen_random_uuid(), '$a->{company_id}', 'Held', 'Open', 'held.$u\@example.com', 'Nigeria', 'Street', 'City', 'State', '100001', 'NG', '+234', '801', 'H$u', 'VOTERS_CARD', '1990-01-01'); SELECT pg_sleep(15); COMMIT;";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        exec 'psql', '-X', '-q', '-At', $ENV{CARTEVO_DB}, '-c', $sql;
        exit 1;
    }
    wait_until(sub {
        psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(15)%' AND state = 'active' AND pid <> pg_backend_pid()") == 1
    }, 10);
    my $res = create_customer(token => $ta);
    is($res->code, 201, 'a create while another transaction of the company is open');
    ok(kill(0, $pid) && waitpid($pid, POSIX::WNOHANG()) == 0,
       'it answered before the other transaction ended');
    waitpid $pid, 0;
    my ($r2, $d) = list($ta);
    is($d->{meta}{total}, $N + 2, 'both counted once committed');
}
