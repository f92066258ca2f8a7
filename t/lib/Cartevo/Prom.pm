package Cartevo::Prom;
# A strict reader of the Prometheus text exposition format (0.0.4), for
# the metrics tests: every line is a # HELP, a # TYPE or a sample of a
# family whose TYPE came first; label values are quoted with \\, \" and
# \n escapes; histograms have cumulative buckets ending at +Inf equal to
# _count. parse() dies naming the first line that breaks a rule.
use strict;
use warnings;

my $NAME = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $VALUE = qr/[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN)/;

sub _labels {
    my ($s, $line) = @_;
    my %l;
    while (length $s) {
        $s =~ s/^($NAME)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)// or die "bad labels: $line\n";
        die "repeated label $1: $line\n" if exists $l{$1};
        $l{$1} = $2;
    }
    return \%l;
}

sub _family {
    my ($name, $types) = @_;
    return $name if $types->{$name};
    (my $base = $name) =~ s/_(?:bucket|sum|count)$//;
    return $base if ($types->{$base} // '') eq 'histogram';
    return;
}

sub _check_histograms {
    my ($p) = @_;
    for my $f (grep { $p->{types}{$_} eq 'histogram' } keys %{ $p->{types} }) {
        my %series;
        for my $s (@{ $p->{samples}{"${f}_bucket"} // [] }) {
            my %l = %{ $s->{labels} };
            my $le = delete $l{le} // die "$f bucket without le\n";
            push @{ $series{ _key(\%l) } }, [$le, $s->{value}];
        }
        for my $k (keys %series) {
            my @b = @{ $series{$k} };
            die "$f\{$k}: last bucket is not +Inf\n" unless $b[-1][0] eq '+Inf';
            for my $i (1 .. $#b) {
                die "$f\{$k}: buckets not ascending\n"
                    unless $b[$i][0] eq '+Inf' || $b[$i][0] > $b[$i - 1][0];
                die "$f\{$k}: buckets not cumulative\n" if $b[$i][1] < $b[$i - 1][1];
            }
            my ($count) = grep { _key($_->{labels}) eq $k }
                @{ $p->{samples}{"${f}_count"} // [] };
            die "$f\{$k}: no _count\n" unless $count;
            die "$f\{$k}: +Inf bucket != _count\n" unless $count->{value} == $b[-1][1];
        }
    }
}

sub _key { my ($l) = @_; return join ',', map { "$_=$l->{$_}" } sort keys %$l }

sub parse {
    my ($text) = @_;
    my $p = { types => {}, help => {}, samples => {} };
    die "no trailing newline\n" unless $text =~ /\n\z/;
    for my $line (split /\n/, $text) {
        if ($line =~ /^# HELP ($NAME) (.+)$/) {
            die "second HELP for $1\n" if $p->{help}{$1}++;
        }
        elsif ($line =~ /^# TYPE ($NAME) (counter|gauge|histogram|summary|untyped)$/) {
            die "second TYPE for $1\n" if $p->{types}{$1};
            die "TYPE for $1 after its samples\n" if $p->{samples}{$1};
            $p->{types}{$1} = $2;
        }
        elsif ($line =~ /^($NAME)(?:\{(.*)\})? ($VALUE)$/) {
            my ($name, $labels, $value) = ($1, $2 // '', $3);
            die "sample before TYPE: $line\n" unless _family($name, $p->{types});
            my $l = _labels($labels, $line);
            die "duplicate series: $line\n"
                if grep { _key($_->{labels}) eq _key($l) } @{ $p->{samples}{$name} // [] };
            push @{ $p->{samples}{$name} }, { labels => $l, value => $value };
        }
        else {
            die "not a metrics line: $line\n";
        }
    }
    _check_histograms($p);
    return $p;
}

# The value of the series with exactly these labels (0 when absent).
sub value {
    my ($p, $name, %labels) = @_;
    my $k = _key(\%labels);
    my ($s) = grep { _key($_->{labels}) eq $k } @{ $p->{samples}{$name} // [] };
    return $s ? $s->{value} : 0;
}

1;
