# Schema versions (decisions.md 4), on a private stack: a database a newer
# release migrated (version 99) is found by every httpd child and by the
# daemon when they reconnect (a PostgreSQL restart ends every session):
# the API answers 503 "Service temporarily unavailable" with Retry-After
# while it lasts, each child and the daemon log the version, the
# supported range and the fix at most once a minute, cartevoctl migrate
# refuses the newer database, and once the version is back in range the
# API and the daemon resume by themselves (no httpd or daemon restart).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT api_error_is doc_bytes wait_until);
use Cartevo::Stack ();
use Cartevo::Load ();
use Cartevo::Prom ();
use File::Temp ();
use LWP::UserAgent ();

plan skip_all => 'needs root (./dev test)' unless $> == 0;

my $st = Cartevo::Stack->new(name => 'faults-schema', offset => 4);
$st->{kycd_extra} = join("\n", 'sweep_interval = 0.5', 'retry_base = 0.2', 'retry_max = 1');
$st->up;
my ($token) = $st->token;
my $httpd = $st->httpd_pid;
my $kycd = $st->kycd_pid;
my $tmp = File::Temp->newdir;
# No keep-alive: each request on a new connection, spread over children.
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
my $unknown = $st->base . '/customers/00000000-0000-4000-8000-000000000000';
sub lookup { return $ua->get($unknown, Authorization => "Bearer $token") }

is(lookup()->code, 404, 'in range: an unknown customer is a 404');
(my $murl = $st->base) =~ s{/api/v1$}{/metrics};
sub db_errors {
    my $p = Cartevo::Prom::parse($ua->get($murl)->content);
    return Cartevo::Prom::value($p, 'cartevo_db_errors_total');
}
my $errors0 = db_errors();
my $mark = -s $st->env('ERROR_LOG') // 0;
my $kmark = -s $st->env('KYCD_LOG') // 0;

$st->psql("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
ok($st->pg_restart, 'PostgreSQL restarted: every session reconnects');
my @res = map { lookup() } 1 .. 24;
my @not503 = grep { $_->code != 503 } @res;
is(scalar(@not503), 0, 'version 99: every request answered 503')
    or diag(join(', ', map { $_->code } @not503));
api_error_is($res[-1], 503, 'Service temporarily unavailable', undef, 'the 503 envelope');
is($res[-1]->header('Retry-After'), '5', 'with Retry-After');
my $create = Cartevo::Load::wait_all(Cartevo::Load::start(base => $st->base, token => $token,
    jpeg => doc_bytes('id-front.jpg'), n => 3, concurrency => 1, tag => 'schema99',
    out => "$tmp/c99"));
is(scalar(grep { $_->{status} == 503 } @$create), 3, 'creates answered 503 too');
is($st->psql('SELECT count(*) FROM customers'), '0', 'and nothing was written');
my $counted = db_errors() - $errors0;
ok($counted >= 27, "each refused request counted in cartevo_db_errors_total ($counted)");

my $want = qr/schema version 99, this build supports (\d+)\.\.(\d+): run cartevoctl migrate/;
ok(wait_until(sub { _lines($st->env('KYCD_LOG'), $kmark, $want) >= 1 }, 20),
    'the daemon logged the version, the range and the fix');
my %per_child;
open my $log, '<', $st->env('ERROR_LOG') or die "error log: $!";
seek $log, $mark, 0;
while (<$log>) {
    $per_child{$1}++ if /CC00207: $want/ && /\[pid (\d+)/;
}
ok(scalar(keys %per_child) >= 1, 'the children logged it with CC00207 ('
    . scalar(keys %per_child) . ' children)');
is_deeply([grep { $per_child{$_} > 1 } keys %per_child], [], 'at most once a minute per child');
is(_lines($st->env('KYCD_LOG'), $kmark, $want), 1, 'the daemon: once a minute');

my $db = $st->db;
my $out = qx{"$ENV{CARTEVO_CTL}" --db "$db" migrate --dir "$ENV{CARTEVO_ROOT}/conf/schema" 2>&1};
isnt($? >> 8, 0, 'cartevoctl migrate refuses the newer database');
like($out, qr/schema version 99, newer than this cartevoctl/, 'and says why');

# Back in range: no restart of anything.
$st->psql('DELETE FROM schema_migrations WHERE version = 99');
ok(wait_until(sub { lookup()->code == 404 }, 20), 'the API resumed by itself');
my $after = Cartevo::Load::wait_all(Cartevo::Load::start(base => $st->base, token => $token,
    jpeg => doc_bytes('id-front.jpg'), n => 2, concurrency => 1, tag => 'schema3',
    out => "$tmp/c3"));
is(scalar(grep { $_->{status} == 201 } @$after), 2, 'creates answered 201 again');
is($st->drain_jobs(60), 0, 'the daemon resumed: their KYC jobs finished');
is($st->httpd_pid, $httpd, 'httpd was not restarted');
is($st->kycd_pid, $kycd, 'the daemon was not restarted');
$st->down;
done_testing();

# Lines matching re in file after byte offset from.
sub _lines {
    my ($file, $from, $re) = @_;
    open my $fh, '<', $file or return 0;
    seek $fh, $from, 0;
    return scalar grep { /$re/ } <$fh>;
}
