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
    return $json->decode($res->decoded_content)->{access_token};
}

sub bearer { return (Authorization => "Bearer $_[0]") }

sub json_of {
    my ($res) = @_;
    my $body = $res->content;
    my $d = eval { $json->decode($body) };
    return $d;
}

# A valid set of text fields (a unique email and NIN each call).
sub valid_fields {
    my %over = @_;
    my $u = unique_suffix();
    my $nin = substr(sprintf('%011d', $u % 100000000000), 0, 11);
    my %f = (
        first_name => 'John', last_name => 'Doe',
        email => "john.$u\@example.com", country => 'Nigeria',
        street => '123 Main Street', city => 'Lagos', state => 'Lagos State',
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
sub http_head_parse {
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
        sub { my @r = http_head_parse($_[0]); scalar @r }, $timeout);
    my ($st, $h, $body) = http_head_parse($buf);
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

1;
