# Runs last: fails the suite on any [error] (or worse) line in httpd's
# error log that no test declared with expect_error_log().
use strict;
use warnings;
use Test::More;
use Apache::Test ();

plan tests => 1;
my $logs = Apache::Test::vars('t_logs');
my @expected;
if (open my $e, '<', "$logs/expected_errors") {
    chomp(@expected = <$e>);
}
my @bad;
open my $fh, '<', "$logs/error_log" or die "error_log: $!";
while (my $l = <$fh>) {
    next unless $l =~ /:(?:error|crit|alert|emerg)\]/;
    next if grep { $l =~ /$_/ } @expected;
    push @bad, $l;
}
ok(!@bad, 'no unexpected [error] lines') or diag(join '', @bad[0 .. ($#bad > 19 ? 19 : $#bad)]);
