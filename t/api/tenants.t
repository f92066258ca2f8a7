# Tenant isolation on every endpoint, with two companies A and B: reads,
# documents, the list, enroll, idempotency keys and webhooks. Nothing of
# A's is visible to, collides with, or is delivered to B.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use Cartevo::Test qw(:DEFAULT wait_until);
use Cartevo::Kycd qw(stub_server stub_stop stub_requests);
use JSON::PP ();

plan tests => 20;

my $J = JSON::PP->new->canonical;
my $ctl = qq{"$ENV{CARTEVO_CTL}" --db "$ENV{CARTEVO_DB}"};
my ($a, $b) = (company(), company());
my ($ta, $tb) = (token($a), token($b));
my ($hook_a, $hook_b) = (stub_server(sub { HTTP::Response->new(200) }),
                         stub_server(sub { HTTP::Response->new(200) }));
END { local $?; stub_stop($_) for grep { $_ } $hook_a, $hook_b }
qx{$ctl webhook set $a->{company_id} $hook_a->{url}};
qx{$ctl webhook set $b->{company_id} $hook_b->{url}};

sub enroll {
    my ($t, %f) = @_;
    my $req = HTTP::Request->new(POST => base_url() . '/customers/enroll',
        [Authorization => "Bearer $t", 'Content-Type' => 'application/json'],
        $J->encode({ %f, id_document_front_url => 'https://docs.example.invalid/f.jpg',
                     id_document_back_url => 'https://docs.example.invalid/b.jpg' }));
    return ua()->request($req);
}

my %fa = valid_fields();
my $ra = create_customer(token => $ta, fields => \%fa, headers => ['Idempotency-Key' => 'shared-key']);
is($ra->code, 201, 'A creates a customer');
my $ida = json_of($ra)->{data}{id};
my %fe = valid_fields();
my $re = enroll($ta, %fe);
is($re->code, 201, 'A enrolls a customer by URL');
my $ide = json_of($re)->{data}{id};

# ---- reads and documents ---------------------------------------------------
for my $path ("/customers/$ida", "/customers/$ide", "/customers/$ida/documents/front",
              "/customers/$ida/documents/back") {
    my ($res) = get_json($path, $tb);
    api_error_is($res, 404, 'Customer not found', undef, "B: GET $path is 404");
}

# ---- the list ----------------------------------------------------------------
{
    my ($res, $d) = get_json('/customers?limit=100', $tb);
    ok(!grep({ $_->{id} eq $ida || $_->{id} eq $ide } @{ $d->{data} }), "A's customers are not in B's list");
    is($d->{meta}{total}, 0, "B's total counts only B's");
}

# ---- uniqueness is per company, on both POSTs ------------------------------------
{
    my $rb = create_customer(token => $tb, fields => \%fa);
    is($rb->code, 201, "B may hold A's email and number (multipart)");
    my $eb = enroll($tb, %fe);
    is($eb->code, 201, "B may hold A's email and number (enroll)");
}

# ---- idempotency keys ---------------------------------------------------------
{
    my %fb = valid_fields();
    my $rb = create_customer(token => $tb, fields => \%fb, headers => ['Idempotency-Key' => 'shared-key']);
    is($rb->code, 201, "B's use of A's key creates B's customer");
    ok(!defined $rb->header('Idempotent-Replayed'), 'not a replay of A');
    isnt(json_of($rb)->{data}{id}, $ida, "B never receives A's customer");
    my $again = create_customer(token => $ta, fields => \%fa, headers => ['Idempotency-Key' => 'shared-key']);
    is(json_of($again)->{data}{id}, $ida, "A's key still replays A's customer");
    is($again->header('Idempotent-Replayed'), 'true', 'A: replayed');
}

# ---- webhooks -------------------------------------------------------------------
{
    my %ids_a = ($ida => 1, $ide => 1);
    ok(wait_until(sub { grep({ (eval { $J->decode($_->{body}) } || {})->{event} eq 'customer.created' }
                              stub_requests($hook_a)) >= 2 }, 30),
       "A's receiver got A's customer.created events");
    ok(wait_until(sub { scalar(stub_requests($hook_b)) >= 3 }, 30), "B's receiver got B's events");
    my @a_custs = map { (eval { $J->decode($_->{body}) } || {})->{data}{id} // '' } stub_requests($hook_a);
    my @b_custs = map { (eval { $J->decode($_->{body}) } || {})->{data}{id} // '' } stub_requests($hook_b);
    ok(!grep({ !$ids_a{$_} } @a_custs), "A's receiver got only A's customers");
    ok(!grep({ $ids_a{$_} } @b_custs), "B's receiver never got A's customers");
    is(psql("SELECT count(*) FROM webhook_deliveries w JOIN outbox_events o ON o.id = w.event_id "
            . "WHERE o.company_id <> w.company_id"), 0, 'every delivery belongs to its event\'s company');
}

# t/api/enroll.t parks jobs whose documents can never be fetched; so does this.
END {
    local $?;
    psql("UPDATE kyc_jobs SET state = 'failed', last_error = 'parked by t/api/tenants.t', "
         . "lease_owner = NULL, lease_until = NULL WHERE phase = 'fetch' "
         . "AND state IN ('queued', 'running')") if $ENV{CARTEVO_DB};
}
