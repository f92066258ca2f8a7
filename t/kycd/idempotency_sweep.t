# The sweeper deletes idempotency keys older than 24 hours (the contract
# keeps them at least that long), in batches, and leaves younger ones,
# including a claim still in progress.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;

plan tests => 4;

my $c = company();
my $co = $c->{company_id};
my $fp = "decode(repeat('ab', 32), 'hex')";
sub keys_like { (sql_rows("SELECT count(*) FROM idempotency_keys WHERE key LIKE '$_[0]%'"))[0][0] }
my $tag = "sweep$$-" . time;
# 2,500 expired keys (more than two batches of 1,000), one just inside
# the 24 hours, one fresh claim without an answer yet.
sql_rows("INSERT INTO idempotency_keys (company_id, method, path, key, fingerprint,"
    . " claim_token, claimed_until, status, body, created_at)"
    . " SELECT '$co', 'POST', '/customers', '$tag-old-' || i, $fp, 't', now(), 201, '{}',"
    . " now() - interval '25 hours' FROM generate_series(1, 2500) i");
sql_rows("INSERT INTO idempotency_keys (company_id, method, path, key, fingerprint,"
    . " claim_token, claimed_until, status, body, created_at) VALUES"
    . " ('$co', 'POST', '/customers', '$tag-young', $fp, 't', now(), 201, '{}',"
    . "  now() - interval '23 hours'),"
    . " ('$co', 'POST', '/customers', '$tag-claim', $fp, 't', now() + interval '1 minute',"
    . "  NULL, NULL, now())");
is(keys_like("$tag-old-"), 2500, 'expired keys inserted');

my $k = start_daemon(sweep_interval => 60, orphan_sweep_interval => 0.2);
ok(wait_until(sub { keys_like("$tag-old-") == 0 }, 15), 'keys older than 24 hours removed');
is(keys_like("$tag-young"), 1, 'a key 23 hours old stays');
is(keys_like("$tag-claim"), 1, 'a claim in progress stays');
stop_daemon($k);
