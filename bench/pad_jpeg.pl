#!/usr/bin/perl
# pad_jpeg.pl IN OUT SIZE: a valid JPEG of exactly SIZE bytes, made by
# inserting COM segments after SOI (decoders skip them), for upload tests
# and benchmarks that need big documents that still pass every check.
use strict;
use warnings;

my ($in, $out, $size) = @ARGV;
die "usage: pad_jpeg.pl IN OUT SIZE\n" unless defined $size;
open my $fh, '<:raw', $in or die "$in: $!";
my $jpeg = do { local $/; <$fh> };
close $fh;
die "$in: not a JPEG\n" unless substr($jpeg, 0, 2) eq "\xFF\xD8";
my $need = $size - length $jpeg;
die "SIZE too small\n" if $need < 0 || ($need > 0 && $need < 4);
my $pad = '';
while ($need > 0) {
    # A segment is FF FE + 2-byte length (which counts itself) + data.
    my $chunk = $need > 65537 ? 65537 : $need;
    $chunk = $need - 4 if $need - $chunk > 0 && $need - $chunk < 4;
    my $data = $chunk - 4;
    $pad .= "\xFF\xFE" . pack('n', $data + 2) . ('C' x $data);
    $need -= $chunk;
}
open my $o, '>:raw', $out or die "$out: $!";
print $o substr($jpeg, 0, 2), $pad, substr($jpeg, 2);
close $o;
