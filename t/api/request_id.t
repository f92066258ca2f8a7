# The request id reaches the error log: with conf/cartevo-log.conf
# included (as the test configuration does), each error-log line of a
# request carries [req <its X-Request-Id>]. A document whose file went
# missing is a 500 with one such line.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;

plan tests => 4;

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
