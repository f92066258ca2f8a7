# A stored document is young when its row is committed, however long ago
# its part ended: the daemon's sweeper removes unreferenced files older
# than orphan_min_age by mtime, and the front's spool is not written while
# a slow client sends the back. Here the body pauses 3 s after the front.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT raw_connect read_response doc_bytes);
use JSON::PP ();
use Time::HiRes ();

my $c = company();
my $t = token($c);
my %f = valid_fields();
my ($b, $body) = multipart_body((map { [$_, $f{$_}] } sort keys %f),
    ['id_document_front', doc_bytes('id-front.jpg'), 'front.jpg', 'image/jpeg'],
    ['id_document_back', doc_bytes('id-back.png'), 'back.png', 'image/png']);
my $cut = index($body, 'name="id_document_back"');
$cut = rindex($body, "--$b", $cut) + 2 + length($b) + 2;    # after the delimiter line

my $s = raw_connect();
print $s "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    . "Authorization: Bearer $t\r\n"
    . "Content-Type: multipart/form-data; boundary=$b\r\n"
    . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n"
    . substr($body, 0, $cut);
$s->flush;
sleep 3;
my $resumed = Time::HiRes::time();
print $s substr($body, $cut);
$s->flush;
my ($st, $h, $rb) = read_response($s, 30);
close $s;
is($st, 201, 'created after a pause between the documents') or diag($rb);
my $id = eval { JSON::PP->new->decode($rb)->{data}{id} } // '00000000-0000-4000-8000-000000000000';
my $name = psql("SELECT storage_name FROM customer_documents WHERE customer_id = '$id' AND side = 'front'");
my $mtime = (Time::HiRes::stat("$ENV{CARTEVO_DOCUMENT_DIR}/$name"))[9];
ok(defined $mtime && $mtime >= $resumed - 0.5,
    'the front file was touched when it was made durable, not when its part ended')
    or diag(sprintf('mtime %.3f, body resumed at %.3f', $mtime // 0, $resumed));

done_testing();
