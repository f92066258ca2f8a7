# Document storage full: 507 "Insufficient storage", and nothing left
# behind. A small tmpfs is mounted over the document directory for the
# duration of the test (needs root, as ./dev test runs).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;

my $dir = $ENV{CARTEVO_DOCUMENT_DIR};
my ($uid, $gid) = (stat $dir)[4, 5];
if ($> != 0 || system('mount', '-t', 'tmpfs', '-o',
        "size=128k,mode=0770,uid=$uid,gid=$gid", 'tmpfs', $dir) != 0) {
    plan skip_all => 'cannot mount a tmpfs over the document directory';
}
plan tests => 6;
expect_error_log(qr/CC00801: cannot write a document file/);

my $c = company();
my $t = token($c);
my $customers = count_rows('customers');

# 600 KB does not fit in 128 KB: the write fails while streaming.
my $big = fixture(do {
    open my $fh, '<:raw', doc_path('id-front.jpg') or die $!;
    local $/; my $j = <$fh>; $j }, '.jpg');
system('perl', "$ENV{CARTEVO_ROOT}/bench/pad_jpeg.pl", doc_path('id-front.jpg'),
       $big, 600_000) == 0 or die 'pad_jpeg';
my $res = create_customer(token => $t, front => $big);
my $d = json_of($res);
error_is($res->code, $d, 507, 'Insufficient storage', 'disk full while streaming');
is($d->{error}, 'Insufficient Storage', 'reason');
is(count_rows('customers'), $customers, 'no customer row');
is(document_files(), 0, 'no file left on the full filesystem');

system('umount', $dir) == 0 or die "umount $dir";
$res = create_customer(token => $t);
is($res->code, 201, 'space back: creates work again');
ok(document_files() >= 2, 'documents stored again');
