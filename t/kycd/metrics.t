# The daemon's Prometheus metrics on metrics_listen (./dev test gives the
# main daemon one; CARTEVO_KYCD_METRICS_URL): the exposition parses
# strictly (Cartevo::Prom); an approval and a rejection through the API
# move the outcome counters (with the rejection's reason), the job
# duration histogram and the webhook deliveries; the job gauges are the
# database's, and the database is reported up.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use Cartevo::Prom ();
use LWP::UserAgent ();

my $url = $ENV{CARTEVO_KYCD_METRICS_URL} or plan skip_all => 'no CARTEVO_KYCD_METRICS_URL';
my $ua = LWP::UserAgent->new(timeout => 10);
sub scrape {
    my $res = $ua->get($url);
    die 'scrape: ' . $res->status_line unless $res->code == 200;
    return ($res, Cartevo::Prom::parse($res->content));
}
sub v { my ($p, $name, %l) = @_; return Cartevo::Prom::value($p, $name, %l) }

my ($res, $before) = scrape();
like($res->header('Content-Type'), qr{^text/plain; version=0\.0\.4}, 'text exposition format');
is($ua->get($url =~ s{/metrics$}{/other}r)->code, 404, 'only /metrics is served');
my %types = (cartevo_kyc_jobs => 'gauge', cartevo_kyc_oldest_due_job_age_seconds => 'gauge',
    cartevo_kyc_job_duration_seconds => 'histogram', cartevo_kyc_outcomes_total => 'counter',
    cartevo_provider_errors_total => 'counter', cartevo_webhook_deliveries_total => 'counter',
    cartevo_webhook_delivery_duration_seconds => 'histogram', cartevo_kyc_database_up => 'gauge');
is($before->{types}{$_}, $types{$_}, "$_ is a $types{$_}") for sort keys %types;
is(v($before, 'cartevo_kyc_database_up'), 1, 'the database is up');
ok(v($before, 'cartevo_kyc_oldest_due_job_age_seconds') >= 0, 'the oldest due job age is a number');

my $c = company();
my $t = token($c);
my $hook = stub_server(sub { HTTP::Response->new(200) });
system("\"$ENV{CARTEVO_CTL}\" --db \"$ENV{CARTEVO_DB}\" webhook set $c->{company_id} $hook->{url} >/dev/null") == 0
    or die 'webhook set';
my $ok = json_of(create_customer(token => $t))->{data}{id};
# Above the module's 400x250 gate, below the daemon's 674x425.
my $small = fixture(mkdoc('jpeg', 500, 300, 7), '.jpg');
my $low = json_of(create_customer(token => $t, front => $small))->{data}{id};
ok($ok && $low, 'two customers created');
my %want = ($ok => 'APPROVED', $low => 'REJECTED');
for my $id (sort keys %want) {
    my $s = wait_until(sub { my ($r, $d) = get_json("/customers/$id", $t);
        $d && $d->{data}{kyc_status} ne 'PENDING' ? $d->{data}{kyc_status} : undef }, 20);
    is($s, $want{$id}, "customer decided: $want{$id}");
}
ok(wait_until(sub { stub_requests($hook) >= 4 }, 20), 'four webhooks received');

my $after;
sub dv { my ($name, %l) = @_; return v($after, $name, %l) - v($before, $name, %l) }
wait_until(sub { (undef, $after) = scrape();
    dv('cartevo_webhook_deliveries_total', outcome => 'delivered') >= 4 }, 10);
cmp_ok(dv('cartevo_kyc_outcomes_total', outcome => 'approved', reason => 'none'), '>=', 1,
    'outcomes: an approval');
cmp_ok(dv('cartevo_kyc_outcomes_total', outcome => 'rejected', reason => 'LOW_RESOLUTION'), '>=', 1,
    'outcomes: a rejection for LOW_RESOLUTION');
cmp_ok(dv('cartevo_kyc_job_duration_seconds_count'), '>=', 2, 'two job runs timed');
ok(dv('cartevo_kyc_job_duration_seconds_sum') > 0, 'their durations summed');
cmp_ok(dv('cartevo_webhook_deliveries_total', outcome => 'delivered'), '>=', 4, 'four deliveries counted');
cmp_ok(dv('cartevo_webhook_delivery_duration_seconds_count'), '>=', 4, 'and timed');
is(dv('cartevo_provider_errors_total', provider => 'verifier'), 0, 'no verifier error');

my ($jobs) = sql_rows("SELECT count(*) FROM kyc_jobs WHERE state = 'done'");
my $gauge = v($after, 'cartevo_kyc_jobs', state => 'done');
ok(abs($gauge - $jobs->[0]) <= 2, "jobs done: gauge $gauge, database $jobs->[0]");
stub_stop($hook);
done_testing();
