# Where the API is mounted: the <Location> that sets the handler. A
# second mount (/api/min, t/conf/extra.conf.in) has only SetHandler in its
# section and a nested <Location /api/min/customers> that sets
# CartevoMaxFileSize 20000; a <Location /> with a module directive comes
# after /api/v1. Every route must still be found, relative to its mount.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use JSON::PP ();
use HTTP::Request::Common ();

my $json = JSON::PP->new;
my $port = Apache::Test::vars('port');
my $min = "http://127.0.0.1:$port/api/min";

my $c = company();
my $r = ua()->post("$min/auth/token", 'Content-Type' => 'application/json',
    Content => $json->encode({ client_id => $c->{client_id}, client_key => $c->{client_key} }));
is($r->code, 200, 'POST /api/min/auth/token: 200') or diag($r->content);
my $t = eval { $json->decode($r->content)->{access_token} } // token($c);

# Created through /api/v1 (the shipped mount; its section is followed by
# <Location /> with a module directive).
$r = create_customer(token => $t);
is($r->code, 201, 'POST /api/v1/customers: 201') or diag($r->content);
my $id = json_of($r)->{data}{id} // 'none';

my $g = ua()->get("$min/customers/$id", bearer($t));
my $d = json_of($g);
is($g->code, 200, 'GET /api/min/customers/{id}: 200') or diag($g->content);
is($d && $d->{data}{image}, "$min/customers/$id/documents/front",
    'links are built on the mount the request came in on');
$g = ua()->get("$min/customers/$id/documents/back", bearer($t));
is($g->code, 200, 'GET /api/min/customers/{id}/documents/back: 200');

# The nested section's CartevoMaxFileSize 20000 applies under /api/min.
my %f = valid_fields(id_document_type => 'PASSPORT',
    identification_number => 'P' . substr(unique_suffix(), -7));
my $req = HTTP::Request::Common::POST("$min/customers", Content_Type => 'form-data',
    Content => [ %f, id_document_front => [doc_path('id-front.jpg')] ]);
$req->header(Authorization => "Bearer $t");
$r = ua()->request($req);
error_is($r->code, json_of($r), 413, 'File too large', 'POST /api/min/customers: the nested limit applies');

%f = valid_fields(id_document_type => 'PASSPORT',
    identification_number => 'P' . substr(unique_suffix(), -7));
$req = HTTP::Request::Common::POST("$min/customers", Content_Type => 'form-data',
    Content => [ %f, id_document_front => [doc_path('id-front.pdf')] ]);
$req->header(Authorization => "Bearer $t");
$r = ua()->request($req);
is($r->code, 201, 'POST /api/min/customers with a small PDF: 201') or diag($r->content);

$g = ua()->get("$min/no-such-endpoint", bearer($t));
error_is($g->code, json_of($g), 404, 'Not found', 'unknown path under /api/min: 404 envelope');
$g = ua()->get("$min/customers/$id/auth/token", bearer($t));
is($g->code, 404, 'a route is only found right under its mount');

# A RewriteRule inside the mount (/api/min/people -> /api/min/customers,
# t/conf/extra.conf.in) is an internal redirect that is not our error
# path: it is answered as the request it was rewritten to.
$g = ua()->get("$min/people?limit=1", bearer($t));
is($g->code, 200, 'a rewritten request inside the mount: 200, not 500') or diag($g->content);
is(json_of($g) && json_of($g)->{message}, 'Customers retrieved successfully', 'it is the list');
# (The module's own error path, httpd's redirect to <mount>/.error, is
# t/api/timeout.t's 408 and t/api/hostile.t's framing errors.)

done_testing();
