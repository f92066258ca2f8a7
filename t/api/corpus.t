# Third-party multipart bodies (/work/shared/corpus/multipart, see its
# INDEX.md) replayed against POST /customers with a valid token and the
# Content-Type each INDEX row names. The corpus is read in place, never
# copied into the repository.
#
#  - "must parse" (werkzeug and jetty browser captures, CRLF): well framed
#    but not customers -> 400 with the errors list: the 14 required text
#    fields and id_document_front in the contract's order, then the
#    capture's own field names as "x is not allowed" / "x must not be
#    repeated". A capture with more parts than the parser's cap of 64
#    (hostile-inputs.md F) is a framing error instead.
#  - "must reject" (python-multipart reject rows, formidable workarounds/*,
#    the LF-only werkzeug ie7_full_path_request) -> 400 "Malformed
#    multipart body: <reason>".
#  - go/nested-mime (multipart/mixed) -> 415.
#  - every other row: a 4xx error envelope, never a 5xx.
# Then: nothing left on disk or in the database, and the server still
# creates customers.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT slurp document_names wait_until customers_of);
use JSON::PP ();

my $CORPUS = "$ENV{CARTEVO_ROOT}/../shared/corpus/multipart";
plan skip_all => "no corpus at $CORPUS" unless -f "$CORPUS/INDEX.md";
$SIG{PIPE} = 'IGNORE';

my $MAX_PARTS = 64;    # cc_mp_limits_default()
my @REQUIRED = qw(first_name last_name email country street city state
  postal_code country_iso_code country_phone_code phone_number
  identification_number id_document_type date_of_birth);

# Field names the INDEX cannot list plainly: backslash-escaped quotes make
# one name each (hostile-inputs.md E), UTF-8 names are echoed as sent.
my $hello = "\x{3053}\x{3093}\x{306b}\x{3061}\x{306f}\x{4e16}\x{754c}";
my $hello_pct = '%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF%E4%B8%96%E7%95%8C';
my %NAMES = (
    'browser-capture-strange-quoting-apache-httpcomp.raw' => [
        'and "I" quote', 'and+%22I%22+quote', 'value"; what="whoa"',
        "other\";\twhat=\"Something\"" ],
    'browser-capture-unicode-names-apache-httpcomp.raw' => [ $hello, $hello_pct ],
    'browser-capture-unicode-names-jetty-client.raw' => [ $hello, $hello_pct ],
);

# ---- the INDEX rows ---------------------------------------------------------
my @rows;
open my $ix, '<', "$CORPUS/INDEX.md" or die "INDEX.md: $!";
while (my $l = <$ix>) {
    next unless $l =~ /^\| /;
    my @c = map { s/^\s+|\s+$//gr } split /(?<!\\)\|/, $l;
    next unless @c >= 5;
    my ($file, $bytes, $ct, $parts) = @c[1 .. 4];
    $file =~ s/\s*\(\+ \.yaml\)//;
    next unless $ct =~ /^`(.*)`$/;
    $ct = $1;
    next unless -f "$CORPUS/$file";
    $ct = undef if $ct eq '(none)';
    push @rows, { file => $file, ct => $ct, bytes => $bytes, parts => $parts };
}
close $ix;
# formidable's multi_video.upload is described in prose, not in a row.
push @rows, { file => 'formidable/multi_video.upload',
    ct => 'multipart/form-data; boundary=---------------------------10102754414578508781458777923',
    bytes => '1953781', parts => '' };

sub group {
    my ($r) = @_;
    my $f = $r->{file};
    return 'mixed' if $f eq 'go/nested-mime';
    return 'reject' if $f =~ m{^python-multipart/} && $r->{parts} =~ /\*\*reject\*\*/;
    return 'reject' if $f =~ m{^formidable/http/workarounds/};
    return 'reject' if $f eq 'werkzeug/ie7_full_path_request.http';
    return 'parse' if $f =~ m{^werkzeug/[^/]+/request\.http$} || $f =~ m{^jetty/browser-capture-.*\.raw$};
    return 'other';
}
my %n;
$n{ group($_) }++ for @rows;
my $jetty_captures = () = glob("$CORPUS/jetty/browser-capture-*.raw");
is($n{parse}, 5 + $jetty_captures, "INDEX: 5 werkzeug and $jetty_captures jetty browser captures");
is($n{reject}, 8 + 2 + 1, 'INDEX: 8 python-multipart reject rows, 2 formidable workarounds, ie7');
is($n{mixed}, 1, 'INDEX: go/nested-mime');

# The body to send: formidable .http files are whole requests.
sub body_of {
    my ($r) = @_;
    my $b = slurp("$CORPUS/$r->{file}");
    if ($r->{file} =~ m{^formidable/http/}) {
        $b =~ s/\A.*?\r?\n\r?\n//s or $b = '';
        my ($want) = $r->{bytes} =~ /\(body (\d+)\)/;
        die "$r->{file}: body is " . length($b) . " bytes, INDEX says $want"
            if defined $want && $want != length $b;
    }
    return $b;
}

my $c = company();
my $t = token($c);
my @before = document_names();

sub send_body {
    my ($r, $body) = @_;
    my $head = "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Authorization: Bearer $t\r\n"
        . (defined $r->{ct} ? "Content-Type: $r->{ct}\r\n" : '')
        . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n";
    my ($st, $h, $rb) = raw_request(send => $head . $body);
    return ($st, eval { JSON::PP->new->utf8->decode($rb) }, $rb);
}

sub envelope {
    my ($st, $d) = @_;
    return $d && ref $d eq 'HASH' && JSON::PP::is_bool($d->{success})
        && !$d->{success} && $d->{statusCode} == $st && length($d->{message} // '');
}

for my $r (@rows) {
    my $g = group($r);
    my $body = body_of($r);
    my ($st, $d, $raw) = send_body($r, $body);
    my $name = "$r->{file}";
    my ($count) = $r->{parts} =~ /^(\d+) parts:/;
    if ($g eq 'parse' && !($count && $count > $MAX_PARTS)) {
        my $ok = $st == 400 && envelope($st, $d) && $d->{error} eq 'Bad Request'
            && $d->{message} !~ /^Malformed/ && ref $d->{errors} eq 'ARRAY'
            && @{ $d->{errors} } && $d->{errors}[0]{message} eq $d->{message};
        ok($ok, "$name: parsed, 400 with an errors list") or diag("$st $raw");
        my @e = $ok ? @{ $d->{errors} } : ();
        my @req = map { "$_ is required" } @REQUIRED, 'id_document_front';
        is_deeply([map { "$_->{field}:$_->{message}" } @e[0 .. $#req]],
            [map { /^(\S+)/; "$1:$_" } @req],
            "$name: every required field reported, in the contract's order");
        my @rest = @e[@req .. $#e];
        my @names = $NAMES{$r->{file} =~ s{.*/}{}r}
            ? @{ $NAMES{$r->{file} =~ s{.*/}{}r} }
            : $r->{parts} =~ /(?:^(?:\d+ parts: )?|; )([A-Za-z0-9_-]+) [\[(]/g;
        my %listed = map { $_->{field} => $_->{message} } @rest;
        my @missing = grep {
            ($listed{$_} // '') ne "$_ is not allowed" && ($listed{$_} // '') ne "$_ must not be repeated"
        } @names;
        ok(@names && !@missing && !grep({ $_->{message} !~ /^\Q$_->{field}\E (?:is not allowed|must not be repeated)$/ } @rest),
            "$name: its own " . scalar(@names) . ' field names reported as not allowed')
            or diag(JSON::PP->new->encode(\@rest));
    }
    elsif ($g eq 'parse' || $g eq 'reject') {
        my $why = $g eq 'parse' ? "more than $MAX_PARTS parts" : 'must reject';
        ok($st == 400 && envelope($st, $d) && $d->{error} eq 'Bad Request'
            && $d->{message} =~ /^Malformed multipart body: \S/ && !$d->{errors},
            "$name ($why): 400 Malformed multipart body") or diag("$st $raw");
        like($d && $d->{message} // '', qr/part/, "$name: the reason names the part limit")
            if $g eq 'parse';
    }
    elsif ($g eq 'mixed') {
        ok($st == 415 && envelope($st, $d)
            && $d->{message} eq 'Content-Type must be multipart/form-data',
            "$name (multipart/mixed): 415") or diag("$st $raw");
    }
    else {
        ok($st >= 400 && $st < 500 && envelope($st, $d),
            "$name: a 4xx envelope ($st" . ($d && $d->{message} ? ": $d->{message}" : '') . ')')
            or diag("$st $raw");
    }
}

# ---- nothing left behind, and the server still works ---------------------------------
my %before = map { $_ => 1 } @before;
my $new = sub { join ',', grep { !$before{$_} } document_names() };
wait_until(sub { $new->() eq '' });
is($new->(), '', 'no file left in the document directory');
is(customers_of($c->{company_id}), 0, 'no customer row');
is(psql("SELECT count(*) FROM outbox_events WHERE company_id = '$c->{company_id}'"), 0, 'no outbox event');
is(create_customer(token => $t)->code, 201, 'the server still creates customers');

done_testing();
