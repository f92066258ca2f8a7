# SIGHUP (decisions.md 4) on a daemon serving the suite's socket, under
# load: four reloads while 60 customers are created and decided lose and
# duplicate nothing (one outcome event per customer, every event received
# exactly once); a changed setting takes effect (min_width raised: the
# next customer is REJECTED, LOW_RESOLUTION; lowered again: APPROVED); a
# setting that needs a restart (workers) keeps its running value and is
# logged as such; an invalid configuration, or a new key file the daemon
# cannot read, changes nothing.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT doc_bytes);
use Cartevo::Kycd;
use Cartevo::Load ();
use File::Temp ();
use IO::Socket::UNIX ();
use JSON::PP ();

my $sock = $ENV{CARTEVO_DAEMON_SOCKET};
my $d;
my $parent = $$;
END {
    local $?;
    if ($$ == $parent) {
        stop_daemon($d) if $d && $d->{pid};
        start_main() unless -S $sock && IO::Socket::UNIX->new(Peer => $sock);
    }
}
stop_main();
$d = start_daemon(socket => $sock, sweep_interval => 1, webhook_poll_interval => 0.1);
open my $fh, '<', $d->{conf} or die;
my @base = <$fh>;
close $fh;
sub write_conf {
    my (%kv) = @_;
    my @l = grep { my ($k) = /^\s*(\w+)/; !($k && exists $kv{$k}) } @base;
    open my $out, '>', "$d->{conf}.new" or die;
    print $out @l, map { "$_\n" } map { defined $kv{$_} ? "$_ = $kv{$_}" : $_ } sort keys %kv;
    close $out;
    rename "$d->{conf}.new", $d->{conf} or die;
}
sub hup_and_wait {
    my ($what) = @_;
    my $n = () = daemon_log($d) =~ /$what/g;
    kill 'HUP', $d->{pid};
    return wait_until(sub { (() = daemon_log($d) =~ /$what/g) > $n }, 10);
}

my $c = company();
my $t = token($c);
my $hook = stub_server(sub { HTTP::Response->new(200) });
system("\"$ENV{CARTEVO_CTL}\" --db \"$ENV{CARTEVO_DB}\" webhook set $c->{company_id} $hook->{url} >/dev/null") == 0
    or die 'webhook set';

# 1. Reloads under load.
my $tmp = File::Temp->newdir;
my $run = Cartevo::Load::start(base => base_url(), token => $t,
    jpeg => doc_bytes('id-front.jpg'), n => 60, concurrency => 4, tag => "reload$$",
    out => "$tmp/r");
my @changes = ({ retry_base => 1 }, { webhook_poll_interval => 0.2, workers => 3 },
    { retry_base => 2 }, { webhook_poll_interval => 0.1 });
for my $i (0 .. $#changes) {
    ok(wait_until(sub { Cartevo::Load::progress($run) >= 12 * ($i + 1) }, 60), 'load running');
    write_conf(%{ $changes[$i] });
    ok(hup_and_wait(qr/info: reloaded/), 'reload ' . ($i + 1) . ' logged');
}
my $recs = Cartevo::Load::wait_all($run);
my @ids = map { $_->{id} } grep { $_->{status} == 201 } @$recs;
is(scalar @ids, 60, 'every create answered 201');
ok(wait_until(sub { !(sql_rows("SELECT count(*) FROM kyc_jobs j JOIN customers c ON c.id = j.customer_id "
    . "WHERE c.company_id = '$c->{company_id}' AND j.state <> 'done'"))[0][0] }, 60), 'every job done');
my ($outcomes) = sql_rows("SELECT count(*), count(DISTINCT customer_id) FROM outbox_events "
    . "WHERE company_id = '$c->{company_id}' AND event IN ('customer.kyc_approved', 'customer.kyc_rejected')");
is_deeply($outcomes, [60, 60], 'one outcome event per customer');
my ($events) = sql_rows("SELECT count(*) FROM outbox_events WHERE company_id = '$c->{company_id}'");
ok(wait_until(sub { stub_requests($hook) >= $events->[0] }, 30), "all $events->[0] events received");
my %seen;
$seen{ $_->{headers}{'x-cartevo-event-id'} }++ for stub_requests($hook);
is(scalar(keys %seen), $events->[0], 'each event received');
is_deeply([grep { $seen{$_} > 1 } keys %seen], [], 'none twice');
like(daemon_log($d), qr/reload: workers changed; it needs a restart/, 'workers: needs a restart, logged');

# 2. A changed setting takes effect.
sub decided {
    my $id = json_of(create_customer(token => $t))->{data}{id};
    return wait_until(sub { my (undef, $g) = get_json("/customers/$id", $t);
        $g && $g->{data}{kyc_status} ne 'PENDING' ? $g->{data} : undef }, 20);
}
write_conf(min_width => 5000, min_height => 5000);
ok(hup_and_wait(qr/info: reloaded/), 'min_width raised, reloaded');
my $g = decided();
is($g->{kyc_status} . ' ' . ($g->{kyc_reason} // ''), 'REJECTED LOW_RESOLUTION', 'the next customer: LOW_RESOLUTION');
write_conf();
ok(hup_and_wait(qr/info: reloaded/), 'min_width back, reloaded');
is(decided()->{kyc_status}, 'APPROVED', 'the next customer: APPROVED');

# 3. An invalid configuration changes nothing.
write_conf('no_such_key = 1' => undef);
ok(hup_and_wait(qr/reload: the configuration is not valid; nothing changed/), 'invalid: refused, logged');
ok(kill(0, $d->{pid}), 'the daemon runs on');
write_conf(verify_api_key_file => "$ENV{CARTEVO_STATE}/kycd/no-such-key$$");
ok(hup_and_wait(qr/reload: a new API key file cannot be read; nothing changed/),
    'an unreadable new key file: refused, logged');
is(decided()->{kyc_status}, 'APPROVED', 'and decides as before');
stub_stop($hook);
is(stop_daemon($d), 0, 'clean exit');
start_main();
done_testing();
