# `apachectl graceful` under load, on a private stack: every request whose
# connection httpd accepted gets a complete answer (a 201 here: nothing
# else is wrong with these creates), none is cut, nothing is lost, and the
# new generation of children serves on. Each create has its own
# connection, as a reload closes idle keep-alive connections (a client
# may then see a reset before it sent anything, which is not an answer
# lost). The module's metrics count every one of them exactly: the
# shared memory outlives each generation of children. A directive changed
# before a graceful restart takes effect, and so does its removal.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT doc_bytes wait_until);
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Reconcile ();
use Cartevo::Prom ();
use File::Temp ();
use LWP::UserAgent ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $st = Cartevo::Stack->new(name => 'faults-graceful', offset => 1)->up;
my ($token) = $st->token;
my $tmp = File::Temp->newdir;
my $run = Cartevo::Load::start(base => $st->base, token => $token,
    jpeg => doc_bytes('id-front.jpg'), n => 300, concurrency => 8,
    tag => 'graceful', out => "$tmp/g", keep_alive => 0);
my %before = map { $_ => 1 } $st->httpd_children;
for my $i (1 .. 3) {
    my $at = 60 * $i;
    ok(wait_until(sub { Cartevo::Load::progress($run) >= $at }, 60),
        "reload $i: $at creates answered");
    $st->graceful;
}
my $recs = Cartevo::Load::wait_all($run);
my @new = grep { !$before{$_} } $st->httpd_children;
ok(@new > 0, 'a new generation of children serves');
is(scalar(grep { $_->{status} == 201 } @$recs), 300, 'every create got its 201')
    or diag(join(', ', map { "$_->{k}: $_->{status}" } grep { $_->{status} != 201 } @$recs));
sleep 1;
my ($fig, $bad) = Cartevo::Reconcile::check(db => $st->db, docdir => $st->docdir,
    records => $recs, allowed => [201]);
is_deeply($bad, [], 'reconciled: ' . Cartevo::Reconcile::figures_line($fig))
    or diag(join("\n", @$bad[0 .. ($#$bad < 20 ? $#$bad : 20)]));
is($fig->{orphans_for_sweeper}, 0, 'no orphan file');

(my $murl = $st->base) =~ s{/api/v1$}{/metrics};
my $m = Cartevo::Prom::parse(LWP::UserAgent->new(timeout => 30)->get($murl)->content);
is(Cartevo::Prom::value($m, 'cartevo_http_requests_total', endpoint => '/customers',
    method => 'POST', status => '201'), 300, 'metrics: 300 creates counted across three reloads');
my $n = 0;
$n += $_->{value} for grep { $_->{labels}{endpoint} eq '/customers' }
    @{ $m->{samples}{cartevo_http_requests_total} };
is(Cartevo::Prom::value($m, 'cartevo_http_request_duration_seconds_count',
    endpoint => '/customers'), $n, "metrics: a duration for each of the $n requests to /customers");
is(Cartevo::Prom::value($m, 'cartevo_http_requests_total', endpoint => '/auth/token',
    method => 'POST', status => '200'), 1, 'metrics: the token request from before the reloads');

# A changed directive: a smaller CartevoMaxFileSize for the mount.
my $local = $st->env('STATE') . '/httpd/local.conf';
sub one_create {
    my ($tag) = @_;
    my $r = Cartevo::Load::wait_all(Cartevo::Load::start(base => $st->base, token => $token,
        jpeg => doc_bytes('id-front.jpg'), n => 1, concurrency => 1, tag => $tag,
        out => "$tmp/$tag"));
    return $r->[0];
}
open my $lf, '>', $local or die "$local: $!";
print $lf "<Location /api/v1>\n    CartevoMaxFileSize 20000\n</Location>\n";
close $lf;
$st->graceful;
my $small = wait_until(sub { my $r = one_create("limit$$" . int(rand 1e9)); $r->{status} == 413 ? $r : undef }, 20);
ok($small, 'after graceful: CartevoMaxFileSize 20000 answers 413 to the 116 KB document');
unlink $local;
$st->graceful;
ok(wait_until(sub { one_create("nolimit$$" . int(rand 1e9))->{status} == 201 }, 20),
    'after graceful without it: 201 again');
$st->down;
done_testing();
