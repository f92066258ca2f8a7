package Cartevo::Reconcile;
# Reconciles what clients were answered (Cartevo::Load records) with the
# database and the document directory, after faults:
# - every 201 has its row and both documents, the files' SHA-256 equal to
#   the bytes sent and to the row;
# - every other answer is an allowed status (the caller says which; 0 is a
#   connection that broke without an answer) and, for 503, the envelope
#   with Retry-After; a row written for it anyway (a commit whose answer
#   was lost) is complete, like any row;
# - every row has its files with matching SHA-256;
# - every file in the directory has a row, or is one the sweeper takes
#   (".tmp-*" or 32 hex characters, no row), counted as a spool (".tmp-*",
#   a request that died with its process), kept (the bytes of a create
#   that got no 201 and has no row: its row's absence could not be
#   proven) or unexplained;
# - optionally, every job reached exactly one outcome and every event was
#   delivered at least once.
# Returns a hash of figures and a list of problems (empty when all hold).
use strict;
use warnings;
use Digest::SHA ();

sub _rows {
    my ($db, $sql) = @_;
    my $out = qx{psql -X -q -At -F '|' "$db" -c "$sql"};
    die "psql failed: $sql" if $?;
    return map { [split /\|/, $_, -1] } split /\n/, $out;
}

sub _file_sha {
    my ($path) = @_;
    return -f $path ? Digest::SHA->new(256)->addfile($path)->hexdigest : '';
}

# { customer_id => { email, docs => { side => [name, sha] } } }
sub _customers {
    my ($db) = @_;
    my %c;
    for my $r (_rows($db, 'SELECT c.id, c.email, d.side, d.storage_name, '
            . "encode(d.sha256, 'hex') FROM customers c "
            . 'LEFT JOIN customer_documents d ON d.customer_id = c.id')) {
        my ($id, $email, $side, $name, $sha) = @$r;
        $c{$id}{email} = $email;
        $c{$id}{docs}{$side} = [$name, $sha] if $side ne '';
    }
    return \%c;
}

sub _check_answers {
    my ($a, $recs, $cust, $fig, $bad) = @_;
    my %by_email = map { $cust->{$_}{email} => $_ } keys %$cust;
    my %allowed = map { $_ => 1 } @{ $a->{allowed} // [201, 503] };
    for my $r (@$recs) {
        $fig->{"status_$r->{status}"}++;
        my $row = $by_email{ $r->{email} };
        if ($r->{status} == 201) {
            my $c = $r->{id} && $cust->{ $r->{id} };
            if (!$c) { push @$bad, "201 for $r->{email} without its row"; next }
            for my $side (qw(front back)) {
                my $d = $c->{docs}{$side};
                push @$bad, "201 $r->{id}: $side row missing" unless $d;
                next unless $d;
                push @$bad, "201 $r->{id}: $side sha differs from the bytes sent"
                    unless $d->[1] eq $r->{"sha_$side"};
            }
            next;
        }
        push @$bad, "status $r->{status} not allowed ($r->{email})"
            unless $allowed{ $r->{status} };
        if ($r->{status} == 503
            && !($r->{envelope} && ($r->{retry_after} // '') =~ /\A[1-9]\d*\z/
                 && ($r->{message} // '') eq 'Service temporarily unavailable')) {
            push @$bad, "503 without the envelope or Retry-After ($r->{email})";
        }
        if ($row) {
            $fig->{committed_without_201}++;
            for my $side (qw(front back)) {
                my $d = $cust->{$row}{docs}{$side};
                push @$bad, "row $row (answered $r->{status}): $side sha differs"
                    if $d && $d->[1] ne $r->{"sha_$side"};
            }
        }
    }
}

# A file without a row is explained when it holds the bytes of a create
# that got no 201 and has no row: kept because the module could not prove
# the row absent (the database was unreachable), the sweeper's to take.
sub _unanswered_shas {
    my ($a, $cust) = @_;
    my %rowmail = map { $cust->{$_}{email} => 1 } keys %$cust;
    my %sha;
    for my $r (@{ $a->{records} }) {
        next if $r->{status} == 201 || $rowmail{ $r->{email} };
        $sha{ $r->{sha_front} } = $sha{ $r->{sha_back} } = 1;
    }
    return \%sha;
}

sub _check_disk {
    my ($a, $cust, $fig, $bad) = @_;
    my $kept = _unanswered_shas($a, $cust);
    my %named;
    for my $id (keys %$cust) {
        for my $side (qw(front back)) {
            my $d = $cust->{$id}{docs}{$side};
            if (!$d) { push @$bad, "row $id has no $side document"; next }
            $named{ $d->[0] } = 1;
            my $sha = _file_sha("$a->{docdir}/$d->[0]");
            push @$bad, "row $id: $side file " . ($sha ? 'differs' : 'missing')
                unless $sha eq $d->[1];
        }
    }
    opendir my $dh, $a->{docdir} or die "$a->{docdir}: $!";
    for my $f (grep { !/\A\.\.?\z/ } readdir $dh) {
        next if $named{$f};
        if ($f !~ /\A(?:\.tmp-.*|[0-9a-f]{32})\z/) {
            push @$bad, "unexpected file $f";
            next;
        }
        $fig->{orphans_for_sweeper}++;
        if ($f =~ /\A\.tmp-/) { $fig->{orphans_spool}++ }
        elsif ($kept->{ _file_sha("$a->{docdir}/$f") }) { $fig->{orphans_kept}++ }
        else { $fig->{orphans_unexplained}++ }
    }
    closedir $dh;
    $fig->{rows} = scalar keys %$cust;
    $fig->{$_} //= 0 for qw(orphans_for_sweeper orphans_spool orphans_kept
        orphans_unexplained);
    $fig->{files} = scalar keys %named;
}

sub _check_jobs {
    my ($a, $fig, $bad) = @_;
    my ($open) = _rows($a->{db}, "SELECT count(*) FROM kyc_jobs WHERE state IN ('queued', 'running')");
    push @$bad, "$open->[0] jobs still open" if $open->[0];
    for my $r (_rows($a->{db}, 'SELECT j.id, j.state, count(e.id) FROM kyc_jobs j '
            . "LEFT JOIN outbox_events e ON e.job_id = j.id AND e.event IN "
            . "('customer.kyc_approved', 'customer.kyc_rejected') GROUP BY j.id, j.state")) {
        my ($id, $state, $n) = @$r;
        $fig->{"jobs_$state"}++;
        push @$bad, "job $id ($state) has $n verification outcomes" if $n != 1;
    }
    my ($nojob) = _rows($a->{db}, 'SELECT count(*) FROM customers c WHERE NOT EXISTS '
        . '(SELECT 1 FROM kyc_jobs j WHERE j.customer_id = c.id)');
    push @$bad, "$nojob->[0] customers without a job" if $nojob->[0];
}

# received: { event_id => times the receiver saw it }
sub _check_webhooks {
    my ($a, $fig, $bad) = @_;
    my %seen = %{ $a->{received} };
    for my $r (_rows($a->{db}, 'SELECT e.id, coalesce(d.state, \'none\') FROM outbox_events e '
            . 'LEFT JOIN webhook_deliveries d ON d.event_id = e.id')) {
        my ($id, $state) = @$r;
        $fig->{events}++;
        $fig->{"deliveries_$state"}++;
        my $n = $seen{$id} // 0;
        push @$bad, "event $id never received ($state)" unless $n;
        $fig->{duplicate_receipts} += $n - 1 if $n > 1;
    }
    $fig->{duplicate_receipts} //= 0;
}

# check(db =>, docdir =>, records => [...], allowed => [statuses],
#       jobs => 1, received => {...})
sub check {
    my (%a) = @_;
    my (%fig, @bad);
    my $cust = _customers($a{db});
    _check_answers(\%a, $a{records}, $cust, \%fig, \@bad);
    _check_disk(\%a, $cust, \%fig, \@bad);
    _check_jobs(\%a, \%fig, \@bad) if $a{jobs};
    _check_webhooks(\%a, \%fig, \@bad) if $a{received};
    $fig{answers} = scalar @{ $a{records} };
    return (\%fig, \@bad);
}

sub figures_line {
    my ($fig) = @_;
    return join(', ', map { "$_=$fig->{$_}" } sort keys %$fig);
}

1;
