package Cartevo::Test;
# Helpers that keep the .t files short: companies and tokens through the
# real CLI and API, multipart requests through LWP or raw sockets, and
# database / document-directory checks for "nothing left behind".
use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use HTTP::Request::Common ();
use IO::Socket::INET ();
use JSON::PP ();
use LWP::UserAgent ();
use File::Temp ();
use Time::HiRes ();
use Fcntl ();

our @EXPORT = qw(base_url company token valid_fields create_customer
  json_of ua raw_request doc_path fixture expect_error_log psql
  document_files count_rows unique_suffix bearer get_json multipart_body
  error_is post_form field_parts demo_doc mkdoc count_customers snapshot
  nothing_left api_error_is reason_of today_utc json_text
  away_from_midnight);
# Additive helpers, imported on request.
our @EXPORT_OK = qw(ctl secret_key b64url b64url_decode jwt_forge jwt_parts
  document_names wait_until raw_connect read_until read_response
  read_until_eof http_head_parse doc_bytes customers_of slurp
  race_requests);

my $json = JSON::PP->new->canonical;
my $counter = 0;

sub base_url {
    my $port = Apache::Test::vars('port');
    return "http://127.0.0.1:$port/api/v1";
}

sub ua {
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    return $ua;
}

sub unique_suffix {
    $counter++;
    my ($s, $us) = Time::HiRes::gettimeofday();
    return sprintf('%d%06d%d%d', $s, $us, $$, $counter);
}

sub ctl {
    my @args = @_;
    my $out = qx{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}" @args};
    die "cartevoctl @args failed ($?)" if $?;
    my %kv = $out =~ /^(\w+)=(.*)$/mg;
    needle(@kv{grep { /key|secret/ } keys %kv});
    return \%kv;
}

# company(kyb => 'APPROVED') -> { company_id, client_id, client_key }
sub company {
    my %o = (kyb => 'APPROVED', @_);
    return ctl("company", "create", "'Test Co " . unique_suffix() . "'",
        "--kyb", $o{kyb});
}

sub token {
    my ($c) = @_;
    my $res = ua()->post(base_url() . '/auth/token',
        'Content-Type' => 'application/json',
        Content => $json->encode({ client_id => $c->{client_id},
                                   client_key => $c->{client_key} }));
    die "token: " . $res->status_line unless $res->code == 200;
    my $t = $json->decode($res->decoded_content)->{access_token};
    needle($t);
    return $t;
}

sub bearer { return (Authorization => "Bearer $_[0]") }

sub json_of {
    my ($res) = @_;
    my $body = $res->content;
    my $d = eval { $json->decode($body) };
    return $d;
}

# ---- Values that must never reach a log ------------------------------------
# Personal data and secrets of this run: a sentinel per test process in the
# free-text fields, the unique email and number of each valid_fields call,
# and every client key and access token the helpers see. Each is appended
# to t/logs/needles.txt; t/zz_secrets.t searches every log the stack wrote
# for all of them (and for the webhook secrets in the database).
my $SENTINEL = sprintf('Snt%08x%04x', int(rand(2**32)), $$ & 0xffff);
my %needled;

sub needle {
    my (@v) = @_;
    my $file = Apache::Test::vars('t_logs') . '/needles.txt';
    @v = grep { defined && length >= 8 && !$needled{$_}++ } @v;
    return unless @v;
    if (open my $fh, '>>', $file) {
        print $fh "$_\n" for @v;
        close $fh;
    }
}

# A valid set of text fields (a unique email and NIN each call).
sub valid_fields {
    my %over = @_;
    my $u = unique_suffix();
    my $nin = substr(sprintf('%011d', $u % 100000000000), 0, 11);
    needle($SENTINEL, "john.$u\@example.com", $nin);
    my %f = (
        first_name => 'John', last_name => 'Doe',
        email => "john.$u\@example.com", country => 'Nigeria',
        street => "123 Main Street $SENTINEL", city => "Lagos $SENTINEL",
        state => 'Lagos State',
        postal_code => '100001', country_iso_code => 'NG',
        country_phone_code => '+234', phone_number => '8012345678',
        identification_number => $nin, id_document_type => 'NIN',
        date_of_birth => '1990-01-15',
    );
    @f{keys %over} = values %over;
    delete $f{$_} for grep { !defined $f{$_} } keys %f;
    return %f;
}

sub doc_path {
    my ($name) = @_;
    return "$ENV{CARTEVO_ROOT}/conf/demo/$name";
}

# Writes bytes to a temporary file that lives until the test ends.
my @keep;
sub fixture {
    my ($bytes, $suffix) = @_;
    my $fh = File::Temp->new(SUFFIX => $suffix // '.bin');
    binmode $fh;
    print $fh $bytes;
    close $fh;
    push @keep, $fh;
    return $fh->filename;
}

# create_customer(token => T, fields => {..}, front => path|undef,
#                 back => path|undef, query => 'enroll=true',
#                 parts => [extra name => value pairs],
#                 headers => [name => value pairs])
sub create_customer {
    my %a = @_;
    my @content;
    my %f = %{ $a{fields} || { valid_fields() } };
    push @content, map { $_ => $f{$_} } sort keys %f;
    my $front = exists $a{front} ? $a{front} : doc_path('id-front.jpg');
    my $back = exists $a{back} ? $a{back} : doc_path('id-back.png');
    push @content, id_document_front => [$front] if defined $front;
    push @content, id_document_back => [$back] if defined $back;
    push @content, @{ $a{parts} } if $a{parts};
    my $url = base_url() . '/customers' . ($a{query} ? "?$a{query}" : '');
    my $req = HTTP::Request::Common::POST($url,
        Content_Type => 'form-data', Content => \@content);
    $req->header(Authorization => "Bearer $a{token}") if $a{token};
    # headers => [name => value, ...]: extra or overriding request headers.
    my @h = @{ $a{headers} || [] };
    while (my ($k, $v) = splice @h, 0, 2) { $req->header($k => $v) }
    return ua()->request($req);
}

sub get_json {
    my ($path, $token) = @_;
    my $res = ua()->get(base_url() . $path,
        $token ? (Authorization => "Bearer $token") : ());
    return ($res, json_of($res));
}

# Builds a multipart body by hand: parts are [name, value, filename?,
# content-type?]; returns (boundary, body).
sub multipart_body {
    my (@parts) = @_;
    my $b = 'xYzZY' . unique_suffix();
    my $body = '';
    for my $p (@parts) {
        my ($name, $value, $filename, $ct) = @$p;
        $body .= "--$b\r\nContent-Disposition: form-data; name=\"$name\"";
        $body .= "; filename=\"$filename\"" if defined $filename;
        $body .= "\r\n";
        $body .= "Content-Type: $ct\r\n" if defined $ct;
        $body .= "\r\n$value\r\n";
    }
    $body .= "--$b--\r\n";
    return ($b, $body);
}

# Sends raw bytes (head + body, or a callback that writes) and returns
# (status, headers-hashref, body). Used for framing, chunked uploads and
# Expect: 100-continue, which LWP cannot shape byte for byte.
sub raw_request {
    my (%a) = @_;
    my $port = Apache::Test::vars('port');
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 30) or die "connect: $!";
    binmode $s;
    if (ref $a{send} eq 'CODE') { $a{send}->($s) }
    else { print $s $a{send} }
    local $/;
    my $resp = '';
    my $buf;
    while (sysread($s, $buf, 65536)) { $resp .= $buf; }
    close $s;
    # Skip interim 100 responses.
    $resp =~ s/\AHTTP\/1\.1 100 [^\r\n]*\r\n\r\n//;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{\AHTTP/1\.\d (\d{3})};
    my %h;
    for my $l (split /\r\n/, $head // '') {
        $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*)$/;
    }
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/\A([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/\A\r\n//;
        }
        $body = $out;
    }
    _record_raw('raw_request', ref $a{send} eq 'CODE' ? undef : $a{send},
        $status, \%h, $body);
    return ($status // 0, \%h, $body);
}

# Tests that provoke error-log lines declare them here; t/zz_error_log.t
# fails the run on any [error] line not declared.
sub expect_error_log {
    my ($re) = @_;
    my $file = Apache::Test::vars('t_logs') . '/expected_errors';
    open my $fh, '>>', $file or die "$file: $!";
    print $fh "$re\n";
    close $fh;
}

sub psql {
    my ($sql) = @_;
    my $out = qx{psql -X -q -At "$ENV{CARTEVO_DB}" -c "$sql"};
    die "psql failed: $sql" if $?;
    chomp $out;
    return $out;
}

sub count_rows { return psql("SELECT count(*) FROM $_[0]") }

# Files in the document directory, temporary ones included.
sub document_files {
    opendir my $d, $ENV{CARTEVO_DOCUMENT_DIR} or die "docdir: $!";
    my @f = grep { !/^\.\.?$/ } readdir $d;
    closedir $d;
    return scalar @f;
}

# error_is($res_or_status, $json, status, message) as one test.
sub error_is {
    my ($code, $d, $status, $message, $name) = @_;
    my $ok = $code == $status && $d && !$d->{success}
        && $d->{statusCode} == $status && $d->{message} eq $message;
    Test::More::ok($ok, $name // "$status $message")
        or Test::More::diag("got $code " . ($d ? $json->encode($d) : 'non-JSON'));
    return $ok;
}

# ---- additions for the error and field suites -----------------------

my %REASON = (400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden',
    404 => 'Not Found', 405 => 'Method Not Allowed', 409 => 'Conflict',
    413 => 'Payload Too Large', 415 => 'Unsupported Media Type',
    422 => 'Unprocessable Entity', 500 => 'Internal Server Error',
    503 => 'Service Unavailable', 507 => 'Insufficient Storage');
sub reason_of { return $REASON{ $_[0] } }

# The body as JSON decoded from UTF-8 (characters, unlike json_of), or
# undef. Takes a response or raw bytes.
my $json_utf8 = JSON::PP->new->utf8->canonical;
sub json_text {
    my ($r) = @_;
    my $body = ref $r ? $r->content : $r;
    return scalar eval { $json_utf8->decode($body // '') };
}

# Date rules compare with the server's UTC date: a test that computes a
# date from today sleeps past midnight first if it is less than 30 s away,
# so that the test and the server agree on what today is.
sub away_from_midnight {
    my $left = 86400 - time() % 86400;
    sleep($left + 1) if $left < 30;
}

# Today's UTC date as (year, month, day).
sub today_utc {
    my @t = gmtime();
    return ($t[5] + 1900, $t[4] + 1, $t[3]);
}

# Text fields as multipart_body() parts, in a stable order.
sub field_parts {
    my (%f) = @_;
    return map { [$_, $f{$_}] } sort keys %f;
}

sub demo_doc {
    my ($name) = @_;
    open my $fh, '<:raw', doc_path($name) or die "$name: $!";
    local $/;
    return scalar <$fh>;
}

# mkdoc(png|jpeg, W, H, SEED) or mkdoc('pdf'): a generated document's
# bytes, made by t/tools/mkdoc (built with the project).
my %mkdoc_cache;
sub mkdoc {
    my (@args) = @_;
    my $key = join ',', @args;
    return $mkdoc_cache{$key} if exists $mkdoc_cache{$key};
    my $tmp = File::Temp->new(SUFFIX => ".$args[0]");
    close $tmp;
    my $tool = "$ENV{CARTEVO_ROOT}/t/tools/mkdoc";
    system($tool, @args, $tmp->filename) == 0 or die "mkdoc @args failed";
    open my $fh, '<:raw', $tmp->filename or die $!;
    local $/;
    return $mkdoc_cache{$key} = <$fh>;
}

# post_form(token => T, parts => [[name, value, filename?, ct?], ...],
#           query => 'enroll=1', content_type => '...' (undef: no header;
#           default multipart/form-data with the body's boundary),
#           body => raw bytes instead of parts, headers => [k => v, ...])
# -> ($response, $decoded_json_or_undef)
sub post_form {
    my (%a) = @_;
    my ($b, $body) = defined $a{body} ? ('unused', $a{body})
                                      : multipart_body(@{ $a{parts} || [] });
    my $req = HTTP::Request->new(POST => base_url() . '/customers'
        . (defined $a{query} ? "?$a{query}" : ''));
    if (!exists $a{content_type}) {
        $req->header('Content-Type' => "multipart/form-data; boundary=$b");
    }
    elsif (defined $a{content_type}) {
        my $ct = $a{content_type};
        $ct =~ s/\{boundary\}/$b/g;
        $req->header('Content-Type' => $ct);
    }
    $req->header(Authorization => "Bearer $a{token}") if defined $a{token};
    my @h = @{ $a{headers} || [] };
    while (my ($k, $v) = splice @h, 0, 2) { $req->header($k => $v) }
    $req->content($body);
    $req->header('Content-Length' => length $body);
    my $res = ua()->request($req);
    return ($res, json_text($res));
}

sub count_customers {
    my ($company_id) = @_;
    return psql("SELECT count(*) FROM customers WHERE company_id = '$company_id'");
}

# State to compare after a rejected request: the company's customers and
# the files (temporary ones included) in the document directory.
sub snapshot {
    my ($c) = @_;
    return { company => $c, rows => count_customers($c->{company_id}),
             files => document_files() };
}

# One test: nothing was left behind since $snap. A spool file is removed by
# a pool cleanup that may run just after the answer reached the client, so
# the file count is given a moment to settle; a file that stays fails.
sub nothing_left {
    my ($snap, $name) = @_;
    my $files = document_files();
    for (1 .. 50) {
        last if $files == $snap->{files};
        Time::HiRes::sleep(0.1);
        $files = document_files();
    }
    my $rows = count_customers($snap->{company}{company_id});
    my $ok = Test::More::ok($rows == $snap->{rows} && $files == $snap->{files},
        ($name // 'request') . ': nothing left behind');
    Test::More::diag("customers $snap->{rows} -> $rows, files $snap->{files} -> $files")
        unless $ok;
    return $ok;
}

# One test: the exact error envelope. $errors is the exact "errors" list
# ([[field, message], ...]) for a validation 400, or undef when the answer
# must have no "errors" member. Checks status, JSON content type, the
# exact member set, success, statusCode, message, error (the reason), and
# that message is the first entry's message.
sub api_error_is {
    my ($res, $status, $message, $errors, $name) = @_;
    my $d = ref $res eq 'HASH' ? $res->{json} : json_text($res);
    my $code = ref $res eq 'HASH' ? $res->{status} : $res->code;
    my $ctype = ref $res eq 'HASH' ? $res->{headers}{'content-type'}
                                   : $res->header('Content-Type');
    my @why;
    push @why, "status $code" if $code != $status;
    push @why, 'content type ' . ($ctype // 'none')
        unless ($ctype // '') =~ m{^application/json\b};
    if (ref $d ne 'HASH') {
        push @why, 'body is not a JSON object';
    }
    else {
        my @keys = sort keys %$d;
        my @want = sort(qw(success statusCode message error),
                        $errors ? 'errors' : ());
        push @why, "members @keys" if "@keys" ne "@want";
        push @why, 'success not false'
            if !defined $d->{success} || !JSON::PP::is_bool($d->{success})
               || $d->{success};
        push @why, 'statusCode' if ($d->{statusCode} // '') ne $status;
        push @why, 'message' if ($d->{message} // '') ne $message;
        push @why, 'error reason' if ($d->{error} // '') ne ($REASON{$status} // '?');
        if ($errors) {
            my $got = $d->{errors};
            my $want = [map { { field => $_->[0], message => $_->[1] } } @$errors];
            push @why, 'errors list'
                unless ref $got eq 'ARRAY'
                    && $json->encode($got) eq $json->encode($want);
            push @why, 'message is not the first entry'
                unless @$errors && $errors->[0][1] eq $message;
        }
    }
    my $ok = Test::More::ok(!@why, $name // "$status $message");
    unless ($ok) {
        Test::More::diag('wrong: ' . join(', ', @why));
        Test::More::diag('got ' . $code . ' ' . (ref $d ? $json_utf8->encode($d)
            : substr((ref $res eq 'HASH' ? $res->{body} : $res->content) // '', 0, 300)));
        Test::More::diag('want ' . $status . ' ' . $message
            . ($errors ? ' ' . $json_utf8->encode($errors) : ''));
    }
    return $ok;
}


# ---- additive helpers -----------------------------------------------------

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    my $b = <$fh>;
    close $fh;
    return $b;
}

sub doc_bytes { return slurp(doc_path($_[0])) }

# The HS256 secret exactly as the module uses it: the file's bytes, a
# trailing newline removed.
sub secret_key {
    my $k = slurp($ENV{CARTEVO_TOKEN_SECRET_FILE});
    $k =~ s/[\r\n]+\z//;
    return $k;
}

sub b64url {
    my ($bytes) = @_;
    require MIME::Base64;
    my $s = MIME::Base64::encode_base64($bytes, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

sub b64url_decode {
    my ($s) = @_;
    require MIME::Base64;
    $s =~ tr{-_}{+/};
    $s .= '=' x ((4 - length($s) % 4) % 4);
    return MIME::Base64::decode_base64($s);
}

# (header, claims, signature bytes, signing input) of a compact JWT.
sub jwt_parts {
    my ($t) = @_;
    my ($h, $c, $sig) = split /\./, $t, -1;
    return ($json->decode(b64url_decode($h)), $json->decode(b64url_decode($c)),
            b64url_decode($sig // ''), "$h.$c");
}

# jwt_forge(claims => {...}, alg => 'HS256'|'HS384'|'none',
#           header => {...}, key => bytes): a token made with Digest::SHA,
# independently of the module. The header defaults to {alg, typ: JWT},
# the key to the real secret.
sub jwt_forge {
    my %a = @_;
    require Digest::SHA;
    my $alg = $a{alg} // 'HS256';
    my $header = $a{header} // { alg => $alg, typ => 'JWT' };
    my $key = exists $a{key} ? $a{key} : secret_key();
    my $input = b64url($json->encode($header)) . '.'
        . b64url($json->encode($a{claims}));
    my $sig = $alg eq 'HS256' ? Digest::SHA::hmac_sha256($input, $key)
            : $alg eq 'HS384' ? Digest::SHA::hmac_sha384($input, $key)
            : '';
    needle("$input." . b64url($sig));
    return "$input." . b64url($sig);
}

# Names in the document directory (temporary ".tmp-*" ones included).
sub document_names {
    opendir my $d, $ENV{CARTEVO_DOCUMENT_DIR} or die "docdir: $!";
    my @f = sort grep { !/^\.\.?$/ } readdir $d;
    closedir $d;
    return @f;
}

# Polls $cond until it is true or $timeout seconds passed; returns its
# last value. For state that settles just after a response (a request
# pool's cleanups run after its last byte is sent); never to time things.
sub wait_until {
    my ($cond, $timeout) = @_;
    my $end = Time::HiRes::time() + ($timeout // 15);
    while (1) {
        my $v = $cond->();
        return $v if $v || Time::HiRes::time() > $end;
        Time::HiRes::sleep(0.05);
    }
}

sub customers_of {
    my ($company_id) = @_;
    return psql("SELECT count(*) FROM customers WHERE company_id = '$company_id'");
}

sub raw_connect {
    my (%a) = @_;
    my $port = $a{port} // Apache::Test::vars('port');
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 30) or die "connect: $!";
    binmode $s;
    return $s;
}

# Reads from $s until $pred->($buffer) is true, EOF, or $timeout seconds
# pass without data; returns (buffer, eof_seen).
sub read_until {
    my ($s, $pred, $timeout) = @_;
    require IO::Select;
    my $sel = IO::Select->new($s);
    my $buf = '';
    while (!$pred->($buf)) {
        last unless $sel->can_read($timeout // 30);
        my $n = sysread($s, my $chunk, 65536);
        return ($buf, 1) if !$n;    # EOF (0) or error (undef, e.g. a reset)
        $buf .= $chunk;
    }
    return ($buf, 0);
}

sub read_until_eof {
    my ($s, $timeout) = @_;
    return read_until($s, sub { 0 }, $timeout);
}

# Parses one response at the start of $buf: (status, headers, body, rest),
# or () while incomplete. The body is framed by Content-Length.
# Tests that parse a buffer themselves get the answer recorded here (see
# "Recording" below); read_response() parses with _head_parse(), which does
# not record, and records once.
sub http_head_parse {
    my @r = _head_parse(@_);
    _record_raw('http_head_parse', undef, @r[0 .. 2]) if @r;
    return @r;
}

sub _head_parse {
    my ($buf) = @_;
    my $i = index($buf, "\r\n\r\n");
    return () if $i < 0;
    my $head = substr($buf, 0, $i);
    my $rest = substr($buf, $i + 4);
    my ($status) = $head =~ m{\AHTTP/1\.\d (\d{3})};
    my %h;
    for my $l (split /\r\n/, $head) {
        $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*)$/;
    }
    my $body = $rest;
    if (defined $h{'content-length'}) {
        return () if length($rest) < $h{'content-length'};
        $body = substr($rest, 0, $h{'content-length'});
        $rest = substr($rest, $h{'content-length'});
    }
    return ($status, \%h, $body, $rest);
}

# Reads one complete response from $s: (status, headers, body, raw, eof).
sub read_response {
    my ($s, $timeout) = @_;
    my ($buf, $eof) = read_until($s,
        sub { my @r = _head_parse($_[0]); scalar @r }, $timeout);
    my ($st, $h, $body) = _head_parse($buf);
    _record_raw('read_response', undef, $st, $h, $body // $buf);
    return ($st // 0, $h // {}, $body // $buf, $buf, $eof);
}

# Sends raw requests concurrently: each child has its own connection,
# sends all but the last byte, reports ready and waits; the parent
# releases them together by closing a pipe. Returns (how many were in
# flight, [status, message, data.id, Idempotent-Replayed, md5 of the
# body] per answer).
sub race_requests {
    my (@requests) = @_;
    require Digest::MD5;
    require POSIX;
    pipe(my $ready_r, my $ready_w) or die "pipe: $!";
    pipe(my $go_r, my $go_w) or die "pipe: $!";
    pipe(my $res_r, my $res_w) or die "pipe: $!";
    my @pids;
    for my $req (@requests) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $_ for $ready_r, $go_w, $res_r;
            my $line = "0\tchild failed\t\t\t\n";
            eval {
                my $s = raw_connect();
                print $s substr($req, 0, -1);
                $s->flush;
                syswrite $ready_w, 'r';
                sysread $go_r, my $x, 1;    # EOF when the parent closes
                print $s substr($req, -1);
                $s->flush;
                my ($st, $h, $body) = read_response($s, 120);
                my $d = eval { JSON::PP->new->decode($body) } || {};
                $line = join("\t", $st, $d->{message} // '',
                             ($d->{data} && $d->{data}{id}) // '',
                             $h->{'idempotent-replayed'} // '',
                             Digest::MD5::md5_hex($body // '')) . "\n";
                close $s;
            };
            syswrite $res_w, $line;    # < PIPE_BUF: one atomic write
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    close $_ for $ready_w, $go_r, $res_w;
    my $ready = 0;
    while ($ready < @requests) {
        my $n = sysread $ready_r, my $buf, 64;
        last unless $n;
        $ready += $n;
    }
    close $go_w;    # go
    my @out;
    while (my $l = <$res_r>) {
        chomp $l;
        push @out, [split /\t/, $l, -1];
    }
    waitpid $_, 0 for @pids;
    return ($ready, @out);
}

# ---- Recording (for t/zz_openapi.t) -----------------------------------------
# Every answer this suite receives from httpd is appended, one JSON object a
# line, to t/logs/openapi_responses.jsonl; t/zz_openapi.t validates them
# against openapi.yaml. Three paths are covered:
#  - LWP: every LWP::UserAgent made after this file is loaded (ua() and the
#    agents tests make themselves) gets a response_done handler, which sees
#    each response with its request (redirect hops included). Only requests
#    to httpd's port are recorded; responses LWP makes up itself (its
#    "Client-Warning: Internal response") are recorded as such.
#  - raw sockets: raw_request() (its request line read from the bytes it
#    sent, when they were bytes), read_response() and http_head_parse().
#    Where the request is not known here (a callback sender, raw_connect()
#    sockets written by the test), t/logs/openapi_access_log (t/conf/
#    extra.conf.in) names it by the answer's X-Request-Id.
# Recording never fails a test: any error in it is ignored.
my @REC_MOUNTS = ('/api/v1', '/api/min');    # conf/cartevo.conf, t/conf/extra.conf.in
my %REC_DOC_TYPES = map { $_ => 1 } qw(image/jpeg image/png application/pdf);
my $rec_json = JSON::PP->new->utf8->canonical;

sub _rec_write {
    my ($rec) = @_;
    eval {
        my $file = Apache::Test::vars('t_logs') . '/openapi_responses.jsonl';
        my $line = $rec_json->encode($rec) . "\n";
        # O_APPEND and one write: lines from forked children do not mix.
        sysopen my $fh, $file, Fcntl::O_WRONLY() | Fcntl::O_APPEND() | Fcntl::O_CREAT()
            or die "$file: $!";
        syswrite $fh, $line;
        close $fh;
        1;
    };
}

# The request target split into mount, path below it and query.
sub _rec_target {
    my ($rec, $target) = @_;
    return unless defined $target;
    my ($path, $query) = $target =~ /\A([^?#]*)(?:\?([^#]*))?/;
    $rec->{target} = $target;
    $rec->{query} = $query;
    $rec->{mount} = undef;
    $rec->{path} = $path;
    for my $m (@REC_MOUNTS) {
        if (substr($path, 0, length $m) eq $m) {
            $rec->{mount} = $m;
            $rec->{path} = substr($path, length $m);
            last;
        }
    }
}

sub _rec_body {
    my ($rec, $body, $ctype) = @_;
    $body //= '';
    $rec->{body_len} = length $body;
    my ($type) = lc($ctype // '') =~ m{\A\s*([^;\s]+)};
    # Document bytes are not validated (only their type): not kept.
    return if $REC_DOC_TYPES{ $type // '' } || length $body > 1048576;
    my $text = $body;
    if (utf8::decode($text)) { $rec->{body} = $text }
    else { require MIME::Base64; $rec->{body_b64} = MIME::Base64::encode_base64($body, '') }
}

sub _record_raw {
    my ($source, $sent, $status, $headers, $body) = @_;
    eval {
        my %h = %{ $headers || {} };
        my $rec = { source => $source, test => $0, pid => $$,
                    status => ($status // 0) + 0, headers => \%h,
                    content_type => $h{'content-type'} };
        if (defined $sent && $sent =~ /\A([!#-'*+.0-9A-Z^_`a-z|~-]+) (\S+) HTTP\/\d\.\d\r?\n/) {
            $rec->{method} = $1;
            _rec_target($rec, $2);
        }
        elsif (defined $sent) {
            # Bytes that are not a request line httpd could parse.
            $rec->{request_line} = substr($sent =~ /\A([^\r\n]*)/ ? $1 : '', 0, 200);
        }
        _rec_body($rec, $body, $h{'content-type'});
        _rec_write($rec);
        1;
    };
}

sub _record_lwp {
    my ($res) = @_;
    eval {
        my $req = $res->request or return 1;
        my $uri = $req->uri;
        my $port = Apache::Test::vars('port');
        return 1 unless eval { $uri->host } && $uri->host =~ /\A(?:127\.0\.0\.1|localhost)\z/
            && $uri->port == $port;
        my %h;
        for my $name ($res->headers->header_field_names) {
            next if $name =~ /\AClient-/i;    # LWP's own notes
            $h{lc $name} = scalar $res->header($name);
        }
        my $rec = { source => 'lwp', test => $0, pid => $$, method => $req->method,
                    status => $res->code + 0, headers => \%h,
                    content_type => $h{'content-type'} };
        $rec->{lwp_internal} = JSON::PP::true()
            if ($res->header('Client-Warning') // '') eq 'Internal response';
        _rec_target($rec, $uri->path_query);
        _rec_body($rec, $res->content, $h{'content-type'});
        _rec_write($rec);
        1;
    };
}

{
    no warnings 'redefine';
    my $new = \&LWP::UserAgent::new;
    *LWP::UserAgent::new = sub {
        my $ua = $new->(@_);
        eval { $ua->add_handler(response_done => \&_record_lwp) };
        return $ua;
    };
}

1;
