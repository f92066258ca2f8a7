#!/usr/bin/perl
# bench/decode_ceiling.pl: the decode-bound ceiling of ./dev bench's daemon
# scenario (d). Runs the daemon's decoder exactly as the daemon does (this
# binary exec'd with --check-document, the document on stdin, no
# environment, a new process per document) on the given documents in
# turn, WORKERS at a time, for SECONDS, and prints
#   decode_ceiling docs=N seconds=S docs_per_s=R cpu_ms_per_doc=C verdicts=...
#   bench/decode_ceiling.pl KYCD SECONDS WORKERS TYPE:FILE...
use strict;
use warnings;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time);

my ($kycd, $secs, $workers, @docs) = @ARGV;
die "usage: $0 KYCD SECONDS WORKERS TYPE:FILE...\n" unless @docs;
# The daemon's default limits (src/kycd/config.c).
my @limits = (768, 20, 50000000);

# One decoder on one document; returns its verdict's first word.
sub decode_one {
    my ($type, $file) = @_;
    my $parent = $$;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        open STDIN, '<', $file or POSIX::_exit(120);
        open STDOUT, '>&', $w or POSIX::_exit(121);
        %ENV = ();
        { no warnings 'exec'; exec { $kycd } 'cartevo-kycd', '--check-document', $type, @limits, $parent; }
        POSIX::_exit(122);
    }
    close $w;
    my $line = <$r> // '';
    close $r;
    waitpid($pid, 0);
    my ($word) = split ' ', $line;
    return $word // "exit" . ($? >> 8);
}

my $t0 = time;
my @kids;
for my $k (1 .. $workers) {
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        my ($n, %v) = (0);
        while (time - $t0 < $secs) {
            for my $d (@docs) {
                my ($type, $file) = split /:/, $d, 2;
                $v{"$type=" . decode_one($type, $file)}++;
                $n++;
            }
        }
        my @t = times;
        printf $w "%d %.3f %s\n", $n, $t[2] + $t[3], join(',', map {"$_:$v{$_}"} sort keys %v);
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    push @kids, [$pid, $r];
}
my ($docs, $cpu, %verdicts) = (0, 0);
for my $k (@kids) {
    my ($pid, $r) = @$k;
    my $line = <$r> // "0 0 ";
    waitpid($pid, 0);
    my ($n, $c, $v) = split ' ', $line;
    $docs += $n;
    $cpu += $c;
    for (split /,/, $v // '') { my ($key, $cnt) = split /:/; $verdicts{$key} += $cnt; }
}
my $el = time - $t0;
printf "decode_ceiling docs=%d seconds=%.2f docs_per_s=%.1f cpu_ms_per_doc=%.2f verdicts=%s\n",
    $docs, $el, $docs / $el, $docs ? $cpu * 1000 / $docs : 0,
    join(',', map {"$_:$verdicts{$_}"} sort keys %verdicts);
