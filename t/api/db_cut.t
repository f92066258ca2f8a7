# httpd's database connection is lost while its backend lives on (a relay
# between them is cut: a network partition). "No such row" from a new
# session then proves nothing: the backend may still commit. The module
# must terminate that exact backend and see it gone before it removes the
# files; whatever the backend did is then final.
# - A create waiting on a lock: terminated, so it never commits; the 503
#   leaves nothing behind, also after the lock is released.
# - A create whose commit waits for a synchronous standby (committed
#   locally, not yet visible): terminated, its commit becomes visible and
#   the files stay with the row; the customer and its documents are served.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT wait_until raw_connect read_response doc_bytes);
use Cartevo::DbProxy ();
use Apache::Test ();
use HTTP::Request::Common ();
use Digest::SHA ();

my ($pg_port) = $ENV{CARTEVO_DB} =~ m{\@127\.0\.0\.1:(\d+)/};
my $vport = Apache::Test::config()->{vhosts}{cartevo_dbproxy}{port}
    or BAIL_OUT('no cartevo_dbproxy vhost');
# This file's own sessions never wait for the (absent) standby.
local $ENV{PGOPTIONS} = '-c synchronous_commit=local';

sub superuser_sql {
    my ($sql) = @_;
    my $out = qx{psql -X -q -At -h 127.0.0.1 -p $pg_port -U postgres -d postgres -c "$sql"};
    die "psql (postgres) failed: $sql" if $?;
    chomp $out;
    return $out;
}

sub standby_names {
    my ($v) = @_;
    superuser_sql("ALTER SYSTEM SET synchronous_standby_names = '$v'");
    superuser_sql('SELECT pg_reload_conf()');
    ok(wait_until(sub { psql('SHOW synchronous_standby_names') eq $v }, 10),
        "synchronous_standby_names = '$v' in effect");
}

# The create through the relayed vhost, sent now and answered later.
sub send_create {
    my ($token, $fields) = @_;
    my $req = HTTP::Request::Common::POST("http://127.0.0.1:$vport/api/v1/customers",
        Content_Type => 'form-data',
        Content => [ (map { $_ => $fields->{$_} } sort keys %$fields),
            id_document_front => [doc_path('id-front.jpg')],
            id_document_back => [doc_path('id-back.png')] ]);
    my $s = raw_connect(port => $vport);
    print $s "POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Connection: close\r\nAuthorization: Bearer $token\r\n"
        . 'Content-Type: ' . $req->header('Content-Type') . "\r\n"
        . 'Content-Length: ' . length($req->content) . "\r\n\r\n" . $req->content;
    return $s;
}

sub backend_waiting {
    my ($what) = @_;
    return wait_until(sub {
        psql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            . "AND $what AND backend_type = 'client backend' LIMIT 1") }, 15);
}

sub customer_with {
    my ($email) = @_;
    return psql("SELECT id FROM customers WHERE email = '$email'");
}

my $relay = Cartevo::DbProxy->start(listen => $ENV{CARTEVO_DBPROXY_PORT}, to => $pg_port);
my $c = company();
my $t = token($c);

# 1. Lost while the insert waits on a lock.
{
    my $before = snapshot($c);
    my %f = valid_fields();
    open my $lock, '|-', "psql -X -q \"$ENV{CARTEVO_DB}\" >/dev/null" or die "psql: $!";
    select((select($lock), $| = 1)[0]);
    print $lock "BEGIN;\nLOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE;\n";
    ok(wait_until(sub { psql("SELECT count(*) FROM pg_locks WHERE granted "
        . "AND relation = 'customers'::regclass AND mode = 'ShareRowExclusiveLock'") }),
        'lock: customers locked by another session');
    my $s = send_create($t, \%f);
    my $pid = backend_waiting("wait_event_type = 'Lock'");
    ok($pid, 'lock: the insert waits');
    $relay->cut;
    my ($st, $h, $body) = read_response($s, 60);
    my $d = json_of(HTTP::Response->new($st, '', [], $body));
    is($st, 503, 'lock: 503 when the connection is lost') or diag($body);
    is($d && $d->{message}, 'Service temporarily unavailable', 'lock: the contract message');
    is(psql("SELECT count(*) FROM pg_stat_activity WHERE pid = $pid"), 0,
        'lock: the waiting backend was terminated');
    print $lock "ROLLBACK;\n";
    close $lock;
    # Were the backend alive, its insert would commit now, files gone.
    sleep 1;
    is(customer_with($f{email}), '', 'lock: the insert never committed');
    nothing_left($before, 'lock');
}

# 2. Lost while the commit waits for a synchronous standby.
{
    my %f = valid_fields();
    standby_names('cartevo_absent_standby');
    my $s = send_create($t, \%f);
    my $pid = backend_waiting("wait_event = 'SyncRep'");
    ok($pid, 'sync: the commit waits for the standby');
    is(customer_with($f{email}), '', 'sync: the row is not visible yet');
    $relay->cut;
    my ($st, $h, $body) = read_response($s, 60);
    standby_names('');
    is($st, 503, 'sync: 503 when the connection is lost') or diag($body);
    like($h->{'retry-after'} // '', qr/\A[1-9]\d*\z/, 'sync: Retry-After');
    my $id = customer_with($f{email});
    ok($id, 'sync: the commit became visible once its backend was gone');
    my $rows = psql("SELECT side || ' ' || storage_name || ' ' || encode(sha256, 'hex') "
        . "FROM customer_documents WHERE customer_id = '$id' ORDER BY side");
    my @docs = split /\n/, $rows;
    is(scalar @docs, 2, 'sync: both document rows');
    for my $line (@docs) {
        my ($side, $name, $sha) = split / /, $line;
        my $path = "$ENV{CARTEVO_DOCUMENT_DIR}/$name";
        ok(-f $path, "sync: the $side file is kept");
        is(-f $path ? Digest::SHA->new(256)->addfile($path)->hexdigest : '', $sha,
            "sync: the $side file matches its row");
    }
    my ($g, $gd) = get_json("/customers/$id", $t);
    is($g->code, 200, 'sync: GET serves the customer');
    my $doc = ua()->get(base_url() . "/customers/$id/documents/front", bearer($t));
    is($doc->code, 200, 'sync: the front document is served');
    ok($doc->content eq doc_bytes('id-front.jpg'), 'sync: byte for byte');
}

$relay->stop;
done_testing();
