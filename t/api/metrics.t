# The module's Prometheus metrics (SetHandler cartevo-metrics, mounted at
# /metrics by t/conf/extra.conf.in): the exposition parses strictly
# (Cartevo::Prom), and a known set of requests moves exactly the series
# it should, by route template, method and status: the duration
# histogram's count with it, the uploaded document bytes by the bytes
# sent, and the rejected documents by reason. Counting happens after each
# answer is sent, so the deltas are awaited, then compared exactly.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT wait_until);
use Cartevo::Prom ();
use Apache::Test ();

my $port = Apache::Test::vars('port');
my $metrics = "http://127.0.0.1:$port/metrics";

sub scrape {
    my $res = ua()->get($metrics);
    die 'scrape: ' . $res->status_line unless $res->code == 200;
    return ($res, Cartevo::Prom::parse($res->content));
}

my ($res, $before) = scrape();
like($res->header('Content-Type'), qr{^text/plain; version=0\.0\.4}, 'text exposition format');
is($res->header('Cache-Control'), 'no-store', 'not cached');
is(ua()->post($metrics)->code, 405, 'POST to the metrics is a 405');
for my $f (qw(cartevo_http_requests_total cartevo_upload_bytes_total
              cartevo_documents_rejected_total cartevo_db_errors_total)) {
    is($before->{types}{$f}, 'counter', "$f is a counter");
}
is($before->{types}{cartevo_http_request_duration_seconds}, 'histogram', 'durations are a histogram');

my $token = token(company());
my $unknown = '/customers/00000000-0000-4000-8000-000000000000';
get_json($unknown, $token) for 1 .. 3;
get_json('/customers?limit=0', $token);
ua()->post(base_url() . $unknown, Authorization => "Bearer $token");
get_json('/nowhere', $token);
my $ok = create_customer(token => $token);
is($ok->code, 201, 'a create');
my $sent = -s doc_path('id-front.jpg');
$sent += -s doc_path('id-back.png');
my $bogus = 'not an image at all, just text';
my ($r415) = post_form(token => $token, parts => [field_parts(valid_fields()),
    ['id_document_front', $bogus, 'front.jpg', 'image/jpeg']]);
is($r415->code, 415, 'an unsupported document');
my $small = mkdoc('png', 100, 100, 1);
my $back = Cartevo::Test::demo_doc('id-back.png');
my ($r422) = post_form(token => $token, parts => [field_parts(valid_fields()),
    ['id_document_front', $small, 'front.png', 'image/png'],
    ['id_document_back', $back, 'back.png', 'image/png']]);
is($r422->code, 422, 'a document too small');
$sent += length($bogus) + length($small) + length($back);

# company() + token() made one POST /auth/token (200).
my %want = (
    '/auth/token POST 200' => 1,
    '/customers/{id} GET 404' => 3,
    '/customers GET 400' => 1,
    '/customers/{id} POST 405' => 1,
    'unmatched GET 404' => 1,
    '/customers POST 201' => 1,
    '/customers POST 415' => 1,
    '/customers POST 422' => 1,
);
my $after;
sub delta_of {
    my ($k) = @_;
    my ($e, $m, $s) = split / /, $k;
    my %l = (endpoint => $e, method => $m, status => $s);
    return Cartevo::Prom::value($after, 'cartevo_http_requests_total', %l)
        - Cartevo::Prom::value($before, 'cartevo_http_requests_total', %l);
}
wait_until(sub { (undef, $after) = scrape(); !grep { delta_of($_) < $want{$_} } keys %want }, 10);
is(delta_of($_), $want{$_}, "requests_total $_ +$want{$_}") for sort keys %want;
my $total = 0;
$total += $_->{value} for @{ $after->{samples}{cartevo_http_requests_total} };
$total -= $_->{value} for @{ $before->{samples}{cartevo_http_requests_total} };
is($total, 10, 'and nothing else was counted (the scrapes are not)');

sub dv {
    my ($name, %l) = @_;
    return Cartevo::Prom::value($after, $name, %l) - Cartevo::Prom::value($before, $name, %l);
}
is(dv('cartevo_http_request_duration_seconds_count', endpoint => '/customers/{id}'), 4,
    'histogram count of /customers/{id}');
is(dv('cartevo_http_request_duration_seconds_count', endpoint => '/customers'), 4,
    'histogram count of /customers');
ok(dv('cartevo_http_request_duration_seconds_sum', endpoint => '/customers') > 0, 'durations summed');
is(dv('cartevo_upload_bytes_total'), $sent, "upload bytes: the $sent document bytes sent");
is(dv('cartevo_documents_rejected_total', reason => 'unsupported_type'), 1, 'rejected: unsupported_type');
is(dv('cartevo_documents_rejected_total', reason => 'too_small'), 1, 'rejected: too_small');
is(dv('cartevo_documents_rejected_total', reason => 'unreadable'), 0, 'rejected: unreadable unchanged');
is(dv('cartevo_db_errors_total'), 0, 'no database error');
done_testing();
