# The request id reaches the error log: with conf/cartevo-log.conf
# included (as the test configuration does), each error-log line of a
# request carries [req <its X-Request-Id>]. A document whose file went
# missing is a 500 with one such line. The shipped access-log format
# "cartevo" carries the request, company and customer ids of a create, a
# read and an error answer, and none of the customer's personal data.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;

plan tests => 13;

expect_error_log(qr/\[req logid-[0-9]+\].* CC01002: document file [0-9a-f]{32} is missing$/);
my $c = company();
my $t = token($c);
my $res = create_customer(token => $t);
my $id = json_of($res)->{data}{id};
my $name = psql("SELECT storage_name FROM customer_documents WHERE customer_id = '$id' AND side = 'front'");
unlink "$ENV{CARTEVO_DOCUMENT_DIR}/$name" or die "unlink: $!";
my $rid = 'logid-' . unique_suffix();
my $g = ua()->get(base_url() . "/customers/$id/documents/front", bearer($t), 'X-Request-Id' => $rid);
is($g->code, 500, 'a missing file: 500');
is($g->header('X-Request-Id'), $rid, 'the answer carries the request id');
my $log = Apache::Test::vars('t_logs') . '/error_log';
my @lines;
for (1 .. 50) {
    open my $fh, '<', $log or die "$log: $!";
    @lines = grep { /CC01002/ && /\Q$rid\E/ } <$fh>;
    last if @lines;
    select undef, undef, undef, 0.1;
}
is(scalar @lines, 1, 'one error-log line of that request');
like($lines[0] // '', qr/\[req \Q$rid\E\]/, 'it carries [req <X-Request-Id>]');

# The access log (format "cartevo", t/conf/extra.conf.in): one line per
# request, written when it ends.
sub access_line {
    my ($rid) = @_;
    my $log = Apache::Test::vars('t_logs') . '/cartevo_access_log';
    for (1 .. 50) {
        if (open my $fh, '<', $log) {
            my @l = grep { /req=\Q$rid\E / } <$fh>;
            return $l[0] if @l;
        }
        select undef, undef, undef, 0.1;
    }
    return '';
}

my %f = valid_fields();
my $crid = 'create-' . unique_suffix();
my $cres = create_customer(token => $t, fields => \%f, headers => ['X-Request-Id' => $crid]);
is($cres->code, 201, 'a create with a request id');
my $cid = json_of($cres)->{data}{id};
my $line = access_line($crid);
like($line, qr/ 201 .* company=\Q$c->{company_id}\E customer=\Q$cid\E$/,
    'the create: its company and new customer');
my @pii = grep { defined && length > 3 } @f{qw(first_name last_name email identification_number phone_number)};
ok(!(grep { index($line, $_) >= 0 } @pii), 'no personal data in the line');

my $grid = 'get-' . unique_suffix();
my $gres = ua()->get(base_url() . "/customers/$cid", bearer($t), 'X-Request-Id' => $grid);
is($gres->code, 200, 'a read');
like(access_line($grid), qr/ 200 .* company=\Q$c->{company_id}\E customer=\Q$cid\E$/,
    'the read: company and customer');

my $nrid = 'nf-' . unique_suffix();
my $nf = ua()->get(base_url() . '/customers/00000000-0000-4000-8000-000000000000', bearer($t),
    'X-Request-Id' => $nrid);
is($nf->code, 404, 'an unknown customer');
like(access_line($nrid), qr/ 404 .* company=\Q$c->{company_id}\E customer=-$/,
    'a 404: the company, no customer');

my $arid = 'anon-' . unique_suffix();
my $anon = ua()->get(base_url() . "/customers/$cid", 'X-Request-Id' => $arid);
is($anon->code, 401, 'no token');
like(access_line($arid), qr/ 401 .* company=- customer=-$/, 'a 401: neither id');
