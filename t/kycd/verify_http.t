# The http verification provider through a stub: the request carries the
# documents (base64, byte-exact) and fields with the API key from a file;
# a 500 is retried with backoff; a REJECTED answer becomes
# PROVIDER_REJECTED with the provider's message.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use MIME::Base64 ();

plan tests => 10;

my $verifier = stub_server(sub {
    my ($req, $n) = @_;
    return HTTP::Response->new(500) if $n == 1;
    my $b = JSON::PP::decode_json($req->content);
    my $d = $b->{last_name} eq 'Reject'
        ? '{"decision":"REJECTED","message":"Face does not match the document"}'
        : '{"decision":"APPROVED"}';
    return HTTP::Response->new(200, 'OK', ['Content-Type' => 'application/json'], $d);
}, tls => 1);
my $keyfile = fixture("verifier-key-456\n", '.key');
chmod 0644, $keyfile;
stop_main();
my $k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, verify_provider => 'http',
    verify_url => $verifier->{url}, ca_file => $verifier->{ca}, verify_api_key_file => $keyfile,
    retry_base => 0.2, sweep_interval => 0.2);
my $t = token(company());

sub settle {
    my ($id) = @_;
    return wait_until(sub {
        my (undef, $gd) = get_json("/customers/$id", $t);
        $gd && $gd->{data}{kyc_status} ne 'PENDING' ? $gd->{data} : undef
    }, 20) || {};
}

my $id = json_of(create_customer(token => $t))->{data}{id};
my $d = settle($id);
is($d->{kyc_status}, 'APPROVED', 'approved after a 500 was retried');
my @calls = stub_requests($verifier);
is(scalar @calls, 2, 'two calls');
my $b = JSON::PP::decode_json($calls[-1]{body});
is($calls[-1]{headers}{authorization}, 'Bearer verifier-key-456', 'API key from the file');
is($b->{customer_id}, $id, 'customer id');
is($b->{id_document_type}, 'NIN', 'document type');
my %docs = map { $_->{side} => $_ } @{ $b->{documents} };
local $/;
open my $f, '<:raw', doc_path('id-front.jpg') or die;
is(MIME::Base64::decode_base64($docs{front}{content_base64}), <$f>, 'front bytes exact');
is($docs{back}{mime_type}, 'image/png', 'back mime type');
my ($j) = sql_rows("SELECT attempts FROM kyc_jobs WHERE customer_id = '$id'");
is($j->[0], 2, 'two attempts recorded');

$id = json_of(create_customer(token => $t, fields => { valid_fields(last_name => 'Reject') }))->{data}{id};
$d = settle($id);
is($d->{kyc_reason}, 'PROVIDER_REJECTED', 'PROVIDER_REJECTED');
is($d->{kyc_reason_message}, 'Face does not match the document', 'provider message kept');
stop_daemon($k);
start_main();
stub_stop($verifier);
