# der_resign.pl CERT.der CAKEY OUT.der: sign an edited certificate's TBSCertificate
# again with CAKEY (an EC or RSA key; sha256, the signature algorithm field kept),
# for tests that need a certificate openssl will not issue (a NUL in a name).
# Lengths are kept: edit bytes in place.
use strict;
my ($in, $key, $out) = @ARGV;
open my $f, '<:raw', $in or die; local $/; my $d = <$f>; close $f;
sub tl { my ($s, $o) = @_; my $l = ord substr($s, $o + 1, 1); my $h = 2;
	if ($l & 0x80) { my $n = $l & 0x7f; $l = 0; $l = $l * 256 + ord substr($s, $o + 2 + $_, 1) for 0 .. $n - 1; $h += $n }
	return ($h, $l) }
sub len { my $l = shift; return chr $l if $l < 128; my $b = ''; while ($l) { $b = chr($l & 255) . $b; $l >>= 8 } chr(0x80 | length $b) . $b }
my ($h0) = tl($d, 0);
my ($h1, $l1) = tl($d, $h0); my $tbs = substr($d, $h0, $h1 + $l1);
my ($h2, $l2) = tl($d, $h0 + $h1 + $l1); my $alg = substr($d, $h0 + $h1 + $l1, $h2 + $l2);
open my $t, '>:raw', "$out.tbs" or die; print $t $tbs; close $t;
my $sig = `openssl dgst -sha256 -sign $key $out.tbs`; die "sign" if $?;
my $bs = "\x03" . len(1 + length $sig) . "\x00" . $sig;
my $body = $tbs . $alg . $bs;
open my $o, '>:raw', $out or die; print $o "\x30" . len(length $body) . $body; close $o;
