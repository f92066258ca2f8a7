# "cartevoctl deliveries replay ID" while the daemon is sending that very
# delivery: the attempt in flight keeps its lease, so its 2xx is recorded
# and the delivery is not sent a second time.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use JSON::PP ();
use Time::HiRes ();

plan tests => 4;

my $ctl = qq{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}"};
my $hook = stub_server(sub { Time::HiRes::sleep(2); HTTP::Response->new(200) });
my $parent = $$;
END { local $?; stub_stop($hook) if $$ == $parent }
my $c = company();
my $t = token($c);
qx{$ctl webhook set $c->{company_id} $hook->{url}};
create_customer(token => $t);
ok(wait_until(sub { stub_requests($hook) >= 1 }, 15), 'a delivery is in flight');
my $eid = (stub_requests($hook))[0]{headers}{'x-cartevo-event-id'};
my ($did) = sql_rows("SELECT id FROM webhook_deliveries WHERE event_id = '$eid'");
like(qx{$ctl deliveries replay $did->[0]}, qr/^replayed=$did->[0]$/m, 'replayed while in flight');
my $cid = $c->{company_id};
ok(wait_until(sub { (sql_rows("SELECT count(*) FROM webhook_deliveries WHERE company_id = '$cid' AND state = 'delivered'"))[0][0] == 2 }, 20),
   'both events delivered');
Time::HiRes::sleep(1);
my %n;
$n{ $_->{headers}{'x-cartevo-event-id'} }++ for stub_requests($hook);
is($n{$eid}, 1, 'the replayed delivery was sent once: its 2xx was recorded');
