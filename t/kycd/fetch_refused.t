# The fetch phase's address rule without connecting anywhere but
# loopback: listeners on 127.0.0.1 and ::1 that are never accepted from
# must see no connection while a daemon fetches every spelling of a
# loopback address (and a plain http URL); each job ends REJECTED /
# DOCUMENT_FETCH_FAILED on its first attempt with a customer.kyc_rejected
# event. A last URL that allow_targets lists does connect, which shows
# the listeners would have seen the others.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;

my $v4 = probe_listen('127.0.0.1') or die "listen: $!";
my $port = $v4->sockport;
my $v6 = probe_listen('::1', $port);
my $control = probe_listen('127.0.0.1') or die "listen: $!";
my $cport = $control->sockport;

my @urls = (
    "https://127.0.0.1:$port/front.jpg",
    "https://2130706433:$port/front.jpg",
    "https://0x7f000001:$port/front.jpg",
    "https://0x7f.1:$port/front.jpg",
    "https://0177.0.0.1:$port/front.jpg",
    "https://127.1:$port/front.jpg",
    "https://localhost:$port/front.jpg",
    "https://[::ffff:127.0.0.1]:$port/front.jpg",
    "https://[::ffff:7f00:1]:$port/front.jpg",
    "https://[::127.0.0.1]:$port/front.jpg",
    "https://[::1]:$port/front.jpg",
    "https://[0:0:0:0:0:0:0:1]:$port/front.jpg",
    # listed, but only with this exact host and port
    "https://2130706433:$cport/front.jpg",
    "https://localhost:$cport/front.jpg",
    # not https
    "http://127.0.0.1:$port/front.jpg",
);
plan tests => 4 * @urls + 4;

stop_main();
my $k = start_daemon(socket => $ENV{CARTEVO_DAEMON_SOCKET}, sweep_interval => 0.2,
    allow_targets => "127.0.0.1:$cport", max_attempts => 1,
    fetch_connect_timeout => 1, fetch_timeout => 3);
my $c = company();
my $t = token($c);

sub settle {
    my ($id) = @_;
    return wait_until(sub {
        my ($r) = sql_rows("SELECT c.kyc_status, c.kyc_reason, c.kyc_reason_message,"
            . " j.state, j.attempts FROM customers c JOIN kyc_jobs j ON j.customer_id = c.id"
            . " WHERE c.id = '$id' AND c.kyc_status <> 'PENDING'");
        $r
    }, 15) || [];
}

for my $url (@urls) {
    my ($id, $job) = url_customer(company_id => $c->{company_id}, front => $url,
        type => 'PASSPORT', fields => { valid_fields(id_document_type => 'PASSPORT',
            identification_number => 'A' . substr(unique_suffix(), -8)) });
    poke($k->{socket}, $job);
    my $r = settle($id);
    my $name = $url =~ s/:\d+\/front\.jpg//r;
    is("$r->[0] $r->[1]", 'REJECTED DOCUMENT_FETCH_FAILED', "$name: DOCUMENT_FETCH_FAILED");
    like($r->[2], $url =~ /^http:/ ? qr/not https/ : qr/address is not allowed/,
         "$name: the reason, without the URL");
    is("$r->[3] $r->[4]", 'done 1', "$name: at once, on the first attempt");
    ok(!probe_connected($v4) && !($v6 && probe_connected($v6)) && !probe_connected($control),
       "$name: no connection seen");
}
my @events = sql_rows("SELECT count(*) FROM outbox_events e JOIN customers c"
    . " ON c.id = e.customer_id WHERE c.company_id = '$c->{company_id}'"
    . " AND e.event = 'customer.kyc_rejected'");
is($events[0][0], scalar @urls, 'one customer.kyc_rejected per refused fetch');
unlike(daemon_log($k), qr/front\.jpg/, 'no URL path in the daemon log');

# The control: the listed target is connected to (the TLS handshake then
# times out: a transient failure, and with max_attempts 1 the end).
my ($id, $job) = url_customer(company_id => $c->{company_id},
    front => "https://127.0.0.1:$cport/front.jpg", type => 'PASSPORT',
    fields => { valid_fields(id_document_type => 'PASSPORT',
        identification_number => 'A' . substr(unique_suffix(), -8)) });
poke($k->{socket}, $job);
my $r = settle($id);
ok(probe_connected($control), 'a listed target is connected to');
like($r->[2] // '', qr/timed out|could not be reached/, 'and fails as a transient failure');
stop_daemon($k);
start_main();
