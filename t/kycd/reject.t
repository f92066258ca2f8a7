# The local provider's rejections, end to end through the API: documents
# that pass the module's cheap gate (structure, 400x250) but fail the
# daemon's full checks end REJECTED with the contract's kyc_reason, and a
# customer.kyc_rejected webhook; a PDF passport is approved.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use Compress::Zlib ();
use JSON::PP ();

plan tests => 15;

sub png_uniform {
    my ($w, $h) = @_;
    my $chunk = sub {
        my ($type, $data) = @_;
        return pack('N', length $data) . $type . $data
            . pack('N', Compress::Zlib::crc32($type . $data));
    };
    my $raw = ("\0" . ("\xc8\xc8\xc8" x $w)) x $h;
    return "\x89PNG\r\n\x1a\n"
        . $chunk->('IHDR', pack('NNCCCCC', $w, $h, 8, 2, 0, 0, 0))
        . $chunk->('IDAT', Compress::Zlib::compress($raw))
        . $chunk->('IEND', '');
}

sub slurp { local $/; open my $f, '<:raw', $_[0] or die "$_[0]: $!"; return <$f> }

my $mkdoc = "$ENV{CARTEVO_ROOT}/t/tools/mkdoc";
my $low = fixture('', '.jpg');
system($mkdoc, 'jpeg', 600, 400, 3, $low) == 0 or die 'mkdoc';
my $blank = fixture(png_uniform(1012, 638), '.png');
my $jpg = slurp(doc_path('id-front.jpg'));
my $sos = index($jpg, "\xff\xda");
substr($jpg, $sos + 40000, 64) = "\xff\xd5" x 32; # bogus restart markers
my $corrupt = fixture($jpg, '.jpg');

my $c = company();
my $t = token($c);
my $hook = stub_server(sub { HTTP::Response->new(204) });
my $out = qx{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}" webhook set $c->{company_id} $hook->{url}};
my ($secret) = $out =~ /^webhook_secret=(\S+)$/m;

sub outcome {
    my (%a) = @_;
    my $res = create_customer(token => $t, %a);
    is($res->code, 201, "$a{name}: 201") or diag($res->content);
    my $id = json_of($res)->{data}{id} // return {};
    my $d = wait_until(sub {
        my (undef, $gd) = get_json("/customers/$id", $t);
        $gd && $gd->{data}{kyc_status} ne 'PENDING' ? $gd->{data} : undef
    }, 15);
    return $d || {};
}

my $d = outcome(name => 'low resolution', front => $low);
is($d->{kyc_reason}, 'LOW_RESOLUTION', 'LOW_RESOLUTION (600x400 < 674x425)');
like($d->{kyc_reason_message}, qr/600x400 pixels; at least 674x425/, 'message names the sizes');
my $rejected_id = $d->{id};

$d = outcome(name => 'blank', front => $blank);
is($d->{kyc_reason}, 'BLANK_IMAGE', 'uniform image: BLANK_IMAGE');

$d = outcome(name => 'corrupt scan data', front => $corrupt);
is($d->{kyc_reason}, 'UNREADABLE', 'undecodable JPEG: UNREADABLE');
is($d->{kyc_status}, 'REJECTED', 'REJECTED');

$d = outcome(name => 'blank back of a voters card', back => $blank,
    fields => { valid_fields(id_document_type => 'VOTERS_CARD',
                             identification_number => 'VC' . unique_suffix()) });
is($d->{kyc_reason}, 'BLANK_IMAGE', 'the back is checked too');
like($d->{kyc_reason_message}, qr/back/, 'message says which side');

$d = outcome(name => 'pdf passport', front => doc_path('id-front.pdf'), back => undef,
    fields => { valid_fields(id_document_type => 'PASSPORT',
                             identification_number => 'A' . substr(unique_suffix(), -8)) });
is($d->{kyc_status}, 'APPROVED', 'a well-formed PDF passport is approved');

my $r = wait_until(sub {
    (grep { JSON::PP::decode_json($_->{body})->{event} eq 'customer.kyc_rejected'
            && JSON::PP::decode_json($_->{body})->{data}{id} eq $rejected_id }
        stub_requests($hook))[0]
}, 10);
ok($r && verify_signature($r, $secret), 'customer.kyc_rejected delivered and signed');
is($r && JSON::PP::decode_json($r->{body})->{data}{kyc_reason}, 'LOW_RESOLUTION', 'with the reason');
stub_stop($hook);
