# The fetch phase against a local HTTPS server whose certificate is made
# at test time (the daemon trusts its CA through ca_file, and lists the
# server in allow_targets): documents fetched, stored like uploads and
# enrolled; redirects followed and each re-checked (one to an unlisted
# loopback port is refused with no connection there); 404, TLS failure,
# too large (by Content-Length and as bytes arrive) and wrong type end
# DOCUMENT_FETCH_FAILED at once; 503 is retried, then ends the same way;
# the upload gate and the usual verification give UNREADABLE and
# LOW_RESOLUTION; no URL path or query reaches the log.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use Digest::SHA qw(sha256_hex);
use JSON::PP ();

plan tests => 51;

sub slurp { local $/; open my $f, '<:raw', $_[0] or die "$_[0]: $!"; return <$f> }

my $mkdoc = "$ENV{CARTEVO_ROOT}/t/tools/mkdoc";
my %doc = (front => slurp(doc_path('id-front.jpg')), back => slurp(doc_path('id-back.png')));
for ([small => 300, 200], [mid => 600, 400]) {
    my $f = fixture('', '.jpg');
    system($mkdoc, 'jpeg', $_->[1], $_->[2], 5, $f) == 0 or die 'mkdoc';
    $doc{ $_->[0] } = slurp($f);
}
$doc{corrupt} = substr($doc{front}, 0, int(length($doc{front}) / 2));
my $big = 10485760;

my $pki = tls_pki();
my $probe = probe_listen('127.0.0.1') or die "listen: $!";
my $other = $probe->sockport;
my $srv = https_server(sub {
    my ($target, $n) = @_;
    my ($path) = $target =~ m{\A([^?]*)};
    my %jpeg = ('Content-Type' => 'image/jpeg');
    return (200, [%jpeg], $doc{front}) if $path =~ m{^/(front\.jpg|s3/.*)$};
    return (200, ['Content-Type' => 'image/png'], $doc{back}) if $path eq '/back.png';
    return (200, [%jpeg], $doc{$1}) if $path =~ m{^/(small|mid|corrupt)\.jpg$};
    return (302, [Location => '/hop2'], 'moved') if $path eq '/hop1';
    return (307, [Location => '/front.jpg?again=1'], '') if $path eq '/hop2';
    return (302, [Location => '/loop'], '') if $path eq '/loop';
    return (302, [Location => "https://127.0.0.1:$other/x"], '') if $path eq '/away';
    return (404, [], 'not here') if $path eq '/missing';
    return (200, [%jpeg], "\xff\xd8\xff" . ("\0" x $big)) if $path eq '/big';
    return (200, [%jpeg], "\xff\xd8\xff" . ("\0" x $big), no_length => 1) if $path eq '/stream';
    return (200, ['Content-Type' => 'text/html'], "<html>hi</html>\n" x 10) if $path eq '/html';
    return ($n == 1 ? 503 : 200, [%jpeg], $n == 1 ? 'busy' : $doc{front}) if $path eq '/flaky';
    return (503, [], 'down') if $path eq '/down';
    return (404, [], '');
}, cert => $pki->{cert}, key => $pki->{key});
my $rogue = https_server(sub { (200, [], $doc{front}) },
    cert => $pki->{rogue_cert}, key => $pki->{rogue_key});
my $base = $srv->{base};

my $c = company();
my $t = token($c);
my $hook = stub_server(sub { HTTP::Response->new(204) });
qx{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}" webhook set $c->{company_id} $hook->{url}};
stop_main();
my $k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, sweep_interval => 0.2,
    ca_file => $pki->{ca}, allow_targets => "127.0.0.1:$srv->{port}, 127.0.0.1:$rogue->{port}," . stub_targets(),
    retry_base => 0.2, retry_max => 0.4, max_attempts => 3, fetch_timeout => 10);

# enroll(front => URL, back => URL, type => T) -> the settled customer
sub enroll {
    my (%a) = @_;
    my $type = $a{type} // 'NIN';
    my %f = valid_fields(id_document_type => $type,
        $type eq 'PASSPORT' ? (identification_number => 'A' . substr(unique_suffix(), -8)) : ());
    my ($id, $job) = url_customer(company_id => $c->{company_id}, fields => \%f,
        front => $a{front}, back => $a{back});
    poke($k->{socket}, $job);
    my $d = wait_until(sub {
        my (undef, $gd) = get_json("/customers/$id", $t);
        $gd && $gd->{data}{kyc_status} ne 'PENDING'
            && $gd->{data}{enrollment_status} ne 'PENDING' ? $gd->{data} : undef
    }, 30) || { id => $id };
    ($d->{_job}) = sql_rows("SELECT state, attempts FROM kyc_jobs WHERE id = $job");
    $d->{_docs} = [sql_rows("SELECT side, mime_type, size_bytes, encode(sha256, 'hex'),"
        . " format, document_id IS NOT NULL, width FROM customer_documents"
        . " WHERE customer_id = '$id' ORDER BY side DESC")];
    return $d;
}

sub fetch_failed {
    my ($d, $re, $name) = @_;
    is("$d->{kyc_status} " . ($d->{kyc_reason} // ''), 'REJECTED DOCUMENT_FETCH_FAILED', $name);
    like($d->{kyc_reason_message} // '', $re, "$name: reason message");
}

# Enroll through the HTTPS server: stored like an upload, then verified
# and enrolled as usual.
my $d = enroll(front => "$base/front.jpg", back => "$base/back.png");
is($d->{kyc_status}, 'APPROVED', 'fetched documents approved');
is($d->{enrollment_status}, 'ENROLLED', 'and enrolled');
is($d->{image}, "$base/front.jpg", 'image echoes the caller URL');
is_deeply([map { [@$_[0, 1, 2, 3, 4, 5]] } @{ $d->{_docs} }],
    [['front', 'image/jpeg', length $doc{front}, sha256_hex($doc{front}), 'plain', 't'],
     ['back', 'image/png', length $doc{back}, sha256_hex($doc{back}), 'plain', 't']],
    'document rows: type, size, sha256, format and document id');
my ($name) = sql_rows("SELECT storage_name FROM customer_documents WHERE customer_id = '$d->{id}'"
    . " AND side = 'front'");
is(slurp("$ENV{CARTEVO_DOCUMENT_DIR}/$name->[0]"), $doc{front}, 'stored bytes are the served bytes');
my $res = ua()->get(base_url() . "/customers/$d->{id}/documents/back", Authorization => "Bearer $t");
is($res->code, 200, 'GET documents/back answers once fetched');
ok($res->content eq $doc{back}, 'with the fetched bytes');
is($d->{_job}[0], 'done', 'job done');

# The same through the API: POST /customers/enroll, the module's poke.
$res = ua()->post(base_url() . '/customers/enroll', Authorization => "Bearer $t",
    'Content-Type' => 'application/json',
    Content => JSON::PP::encode_json({ valid_fields(),
        id_document_front_url => "$base/front.jpg?X-Amz-Signature=SECRETSIG",
        id_document_back_url => "$base/back.png" }));
is($res->code, 201, 'POST /customers/enroll: 201') or diag($res->content);
my $api_id = (json_of($res) // {})->{data}{id} // '';
my $ad = wait_until(sub {
    my (undef, $gd) = get_json("/customers/$api_id", $t);
    $gd && $gd->{data}{enrollment_status} =~ /^(ENROLLED|FAILED)$/ ? $gd->{data} : undef
}, 30) || {};
is("$ad->{kyc_status} $ad->{enrollment_status}", 'APPROVED ENROLLED',
   'enrolled by URL through the API');
$res = ua()->get(base_url() . "/customers/$api_id/documents/front", Authorization => "Bearer $t");
ok($res->code == 200 && $res->content eq $doc{front}, 'its front is served once fetched');
ok(wait_until(sub { grep { my $b = JSON::PP::decode_json($_->{body});
    $b->{event} eq 'customer.enrolled' && $b->{data}{id} eq $api_id } stub_requests($hook) }, 10),
   'customer.enrolled delivered');

# Redirects: each hop is re-checked; relative and absolute Locations.
$d = enroll(type => 'PASSPORT', front => "$base/hop1");
is($d->{kyc_status}, 'APPROVED', 'two redirects on the listed server are followed');
is(scalar @{ $d->{_docs} }, 1, 'a passport: the front only');
$d = enroll(type => 'PASSPORT', front => "$base/loop");
fetch_failed($d, qr/redirects too often/, 'more than 3 redirects');
$d = enroll(type => 'PASSPORT', front => "$base/away");
fetch_failed($d, qr/address is not allowed/, 'a redirect to an unlisted loopback port');
ok(!probe_connected($probe), 'no connection reached that port');
is($d->{_job}[1], 1, 'refused on the first attempt');

# Failures that cannot succeed: at once, with the webhook.
$d = enroll(type => 'PASSPORT', front => "$base/missing?X-Amz-Signature=SECRETSIG");
fetch_failed($d, qr/server answered 404/, 'a 404');
is_deeply($d->{_job}, ['done', 1], '404: done on the first attempt');
is(scalar @{ $d->{_docs} }, 0, '404: no document row');
my $missing_id = $d->{id};
my $ev = wait_until(sub {
    (grep { my $b = JSON::PP::decode_json($_->{body});
            $b->{event} eq 'customer.kyc_rejected' && $b->{data}{id} eq $missing_id }
        stub_requests($hook))[0]
}, 10);
ok($ev, 'customer.kyc_rejected delivered for a failed fetch');
is($ev && JSON::PP::decode_json($ev->{body})->{data}{kyc_reason}, 'DOCUMENT_FETCH_FAILED',
   'webhook carries DOCUMENT_FETCH_FAILED');
$d = enroll(type => 'PASSPORT', front => "$base/big");
fetch_failed($d, qr/too large/, 'over 10 MiB by Content-Length');
is($d->{_job}[1], 1, 'too large: first attempt');
$d = enroll(type => 'PASSPORT', front => "$base/stream");
fetch_failed($d, qr/too large/, 'over 10 MiB as bytes arrive (no Content-Length)');
$d = enroll(type => 'PASSPORT', front => "$base/html");
fetch_failed($d, qr/not a JPEG, PNG or PDF/, 'wrong type by content');
$d = enroll(type => 'PASSPORT', front => "https://127.0.0.1:$rogue->{port}/front.jpg");
fetch_failed($d, qr/TLS failed/, 'an untrusted certificate');
is($d->{_job}[1], 1, 'TLS failure: first attempt');
my @rogue_hits = grep { $_->{path} } stub_requests($rogue);
is(scalar @rogue_hits, 0, 'no request was sent over the untrusted connection');

# Transient failures: retried with the job backoff.
$d = enroll(type => 'PASSPORT', front => "$base/flaky");
is($d->{kyc_status}, 'APPROVED', '503 then 200: approved');
is(scalar(grep { ($_->{path} // '') eq '/flaky' } stub_requests($srv)), 2, 'two requests');
$d = enroll(type => 'PASSPORT', front => "$base/down");
fetch_failed($d, qr/server answered 503/, 'always 503: the same end once attempts are spent');
is_deeply($d->{_job}, ['done', 3], 'after max_attempts (3), done, not failed');
is(scalar(grep { ($_->{path} // '') eq '/down' } stub_requests($srv)), 3, 'three requests');

# The upload gate (structure, 400x250), then the usual verification.
$d = enroll(type => 'PASSPORT', front => "$base/small.jpg");
is($d->{kyc_reason}, 'LOW_RESOLUTION', 'under the 400x250 gate: LOW_RESOLUTION');
like($d->{kyc_reason_message}, qr/300x200 pixels; at least 400x250/, 'gate sizes in the message');
is(scalar @{ $d->{_docs} }, 0, 'a gated document is not stored');
$d = enroll(type => 'PASSPORT', front => "$base/mid.jpg");
like($d->{kyc_reason_message} // '', qr/600x400 pixels; at least 674x425/,
     'past the gate, verification judges 674x425');
$d = enroll(type => 'PASSPORT', front => "$base/corrupt.jpg");
is($d->{kyc_reason}, 'UNREADABLE', 'a truncated JPEG: UNREADABLE');

# A presigned URL's path and query never reach the log or last_error.
my $log = daemon_log($k);
unlike($log, qr{SECRETSIG|/missing|X-Amz}, 'no path or query in the daemon log');
like($log, qr{https://127\.0\.0\.1: HTTP 404}, 'the log names scheme and host');
my @errs = sql_rows("SELECT coalesce(string_agg(last_error, ' '), '') FROM kyc_jobs");
unlike($errs[0][0], qr{SECRETSIG|/missing}, 'nor last_error');

stop_daemon($k);
start_main();
stub_stop($_) for $srv, $rogue, $hook;
