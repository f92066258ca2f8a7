# Runs last: no personal data, token, client key or secret in any log the
# stack wrote during the run. The needles are this run's own values
# (t/lib/Cartevo/Test.pm, "Values that must never reach a log": a sentinel
# per test process in the free-text fields, each unique email and
# identification number, every client key and access token), plus every
# webhook secret in the database and the token-signing secret. The logs:
# httpd's error and access logs, every daemon log of the run, and
# PostgreSQL's log. Not searched: t/logs/openapi_responses.jsonl (the
# suite's own record of response bodies, not a log of the stack).
use strict;
use warnings;
use Test::More;
use Apache::Test ();
use lib 't/lib';
use Cartevo::Test qw(psql secret_key);

plan tests => 3;

my $logs = Apache::Test::vars('t_logs');
my @needles;
if (open my $fh, '<', "$logs/needles.txt") {
    chomp(@needles = <$fh>);
}
ok(@needles >= 100, scalar(@needles) . ' values of this run to look for (the test cannot pass empty)');
push @needles, grep { length >= 8 } split /\n/,
    psql("SELECT webhook_secret FROM companies WHERE webhook_secret IS NOT NULL");
push @needles, secret_key();
my %seen;
@needles = grep { !$seen{$_}++ } @needles;

my @files = grep { -f } ("$logs/error_log", "$logs/access_log",
    glob("$ENV{CARTEVO_STATE}/kycd/*.log"), "$ENV{CARTEVO_STATE}/pg/log");
ok(scalar(grep { /kycd/ } @files) >= 1 && scalar(grep { /error_log/ } @files) == 1,
   'httpd, daemon and PostgreSQL logs are searched: ' . scalar(@files) . ' files');

# One pass per file, all needles in one alternation.
my $re = join '|', map { quotemeta } sort { length $b <=> length $a } @needles;
$re = qr/($re)/;
my @hits;
for my $f (@files) {
    open my $fh, '<', $f or next;
    while (my $l = <$fh>) {
        next unless $l =~ $re;
        (my $shown = $l) =~ s/\Q$1\E/<<HIT>>/g;
        push @hits, "$f:$.: " . substr($shown, 0, 300);
        last if @hits > 20;
    }
}
ok(!@hits, 'no value of this run in any log') or diag(join '', map { "$_\n" } @hits);
