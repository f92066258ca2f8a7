package Cartevo::Load;
# Load for the fault tests (t/faults/) and ./dev soak: concurrent clients,
# each its own process with a keep-alive connection, creating customers
# whose fields and document bytes are all distinct, and recording every
# answer (status, id, Retry-After, whether the body is the contract's
# envelope, the SHA-256 of the bytes sent) for Cartevo::Reconcile.
use strict;
use warnings;
use Digest::SHA ();
use HTTP::Request::Common ();
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes ();

my $json = JSON::PP->new->canonical;

# The demo JPEG with a comment segment right after SOI: the image (and the
# quality gate's verdict) is unchanged, the bytes and SHA-256 are new.
sub jpeg_variant {
    my ($jpeg, $tag) = @_;
    my $payload = "cartevo-load $tag";
    return substr($jpeg, 0, 2) . "\xFF\xFE" . pack('n', length($payload) + 2)
        . $payload . substr($jpeg, 2);
}

sub fields_for {
    my ($tag, $k) = @_;
    # Distinct for every k below 100,000 within a tag.
    my $n = sprintf('%011d', 10000000000
        + (unpack('N', Digest::SHA::sha256($tag)) % 899999) * 100000 + $k);
    return (first_name => 'Load', last_name => "Client$k",
        email => "load.$tag.$k\@example.com", country => 'Nigeria',
        street => '1 Main Street', city => 'Lagos', state => 'Lagos State',
        postal_code => '100001', country_iso_code => 'NG',
        country_phone_code => '+234', phone_number => '8012345678',
        identification_number => $n, id_document_type => 'NIN',
        date_of_birth => '1990-01-15');
}

# One create; returns the record of its answer.
sub create_one {
    my ($ua, $a, $k) = @_;
    my %f = fields_for($a->{tag}, $k);
    my $front = jpeg_variant($a->{jpeg}, "$a->{tag}/$k/front");
    my $back = jpeg_variant($a->{jpeg}, "$a->{tag}/$k/back");
    my $req = HTTP::Request::Common::POST("$a->{base}/customers",
        Content_Type => 'form-data',
        Content => [ (map { $_ => $f{$_} } sort keys %f),
            id_document_front => [undef, 'front.jpg',
                'Content-Type' => 'image/jpeg', Content => $front],
            id_document_back => [undef, 'back.jpg',
                'Content-Type' => 'image/jpeg', Content => $back] ]);
    $req->header(Authorization => "Bearer $a->{token}");
    my $t0 = Time::HiRes::time();
    my $res = $ua->request($req);
    my $d = eval { $json->decode($res->decoded_content // '') };
    # LWP reports a broken connection as its own 500 with this header.
    my $client_err = ($res->header('Client-Warning') // '') eq 'Internal response';
    return { k => $k, email => $f{email},
        status => $client_err ? 0 : $res->code,
        id => ($d && ref $d->{data} eq 'HASH') ? $d->{data}{id} : undef,
        message => $d ? $d->{message} : undef,
        envelope => ($d && exists $d->{success} && exists $d->{statusCode}
            && exists $d->{message}) ? 1 : 0,
        retry_after => scalar $res->header('Retry-After'),
        sha_front => Digest::SHA::sha256_hex($front),
        sha_back => Digest::SHA::sha256_hex($back),
        ms => int((Time::HiRes::time() - $t0) * 1000) };
}

# start(base =>, token =>, jpeg => bytes, n => creates, concurrency =>,
#       tag =>, out => dir, pause => seconds between creates, keep_alive =>
#       0 for a new connection per create)
# Forks the clients and returns their pids at once; wait() collects the
# records.
sub start {
    my (%a) = @_;
    mkdir $a{out};
    my @pids;
    for my $w (0 .. $a{concurrency} - 1) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            my $ua = LWP::UserAgent->new(keep_alive => $a{keep_alive} // 1,
                timeout => 120);
            open my $fh, '>', "$a{out}/w$w.jsonl" or POSIX::_exit(2);
            select((select($fh), $| = 1)[0]);
            for (my $k = $w; $k < $a{n}; $k += $a{concurrency}) {
                print $fh $json->encode(create_one($ua, \%a, $k)), "\n";
                Time::HiRes::sleep($a{pause}) if $a{pause};
            }
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    return { pids => \@pids, out => $a{out} };
}

sub wait_all {
    my ($run) = @_;
    waitpid($_, 0) for @{ $run->{pids} };
    my @rec;
    for my $f (glob("$run->{out}/w*.jsonl")) {
        open my $fh, '<', $f or die "$f: $!";
        push @rec, map { $json->decode($_) } grep { /\S/ } <$fh>;
    }
    return \@rec;
}

# How many records so far (for starting a fault part-way through).
sub progress {
    my ($run) = @_;
    my $n = 0;
    for my $f (glob("$run->{out}/w*.jsonl")) {
        open my $fh, '<', $f or next;
        $n++ while <$fh>;
    }
    return $n;
}

1;
