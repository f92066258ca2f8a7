# A daemon that got SIGTERM stops listening at once, then finishes its
# in-flight job: a replacement can start on the same socket meanwhile, and
# the old daemon's exit does not remove the replacement's socket.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test;
use Cartevo::Kycd;
use IO::Socket::UNIX ();
use JSON::PP ();
use POSIX ':sys_wait_h';
use Time::HiRes ();

plan tests => 6;

my $verifier = stub_server(sub {
    my ($req) = @_;
    my $b = eval { JSON::PP::decode_json($req->content) } || {};
    Time::HiRes::sleep(3) if ($b->{last_name} // '') eq 'Handover';
    HTTP::Response->new(200, 'OK', ['Content-Type' => 'application/json'], '{"decision":"APPROVED"}');
}, tls => 1);
my $t = token(company());
my $sock = $ENV{CARTEVO_DAEMON_SOCKET};
my %cfg = (socket => $sock, verify_provider => 'http', verify_url => $verifier->{url}, ca_file => $verifier->{ca});
my $parent = $$;
my ($old, $new);
END {
    local $?;
    if ($$ == $parent) {
        stop_daemon($_) for grep { $_ && $_->{pid} } $old, $new;
        start_main() unless -S $sock && IO::Socket::UNIX->new(Peer => $sock);
        stub_stop($verifier);
    }
}
stop_main();
$old = start_daemon(%cfg);
my $id = json_of(create_customer(token => $t, fields => { valid_fields(last_name => 'Handover') }))->{data}{id};
ok(wait_until(sub { stub_requests_for($verifier, $id) >= 1 }, 10), 'the old daemon has a job in flight');
kill 'TERM', $old->{pid};
Time::HiRes::sleep(0.5);
ok(kill(0, $old->{pid}), 'the old daemon is still finishing its job');
$new = start_daemon(%cfg);
ok(wait_until(sub { `cat $new->{log}` =~ /info: started/ }, 10), 'a replacement starts on the same socket meanwhile');
ok(wait_until(sub { waitpid($old->{pid}, WNOHANG) > 0 }, 10), 'the old daemon exits');
delete $old->{pid};
ok(IO::Socket::UNIX->new(Peer => $sock), "the replacement's socket survives the old daemon's exit");
is(stop_daemon($new), 0, 'clean exit');
start_main();
