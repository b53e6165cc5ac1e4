#!/bin/bash
# verify-chart against the shared Helm vectors (../shared/vectors/helm and
# helm-real), each with the result its README states; success output is
# compared line for line with helm verify's.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"

# provgate's temporary GnuPG homes go here, so we can check none is left.
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"
H="$VECTORS/helm"
R="$VECTORS/helm-real"
TEST_UID="Helm Testing (This key should only be used for testing. DO NOT TRUST.) <helm-testing@helm.sh>"
TEST_FPR=5E615389B53CA37F0EE60BD3843BBF981FC18762
HASHTEST=sha256:c6841b3a895f1444a6738b5d04564a57e860ce42f8519c3be807fb6d9bee7888
SIGNTEST=sha256:e5ef611620fb97704d8751c16bab17fedb68883bfb0edc76f78a70e9173f9b55

# verified NAME WANT_STDOUT ARGS...: exit 0 and exactly that output
verified() {
	local n=$1 want=$2 out rc
	shift 2
	out=$("$PG" verify-chart "$@" 2>"$T/err"); rc=$?
	if [ $rc -ne 0 ]; then notok "$n" "exit $rc: $(cat "$T/err")"; return; fi
	expect_eq "$n" "$out" "$want"
}
# refused NAME WANT_EXIT ERROR_TEXT ARGS...: that exit and "Error: TEXT" on stderr
refused() {
	local n=$1 code=$2 want=$3 out rc
	shift 3
	out=$("$PG" verify-chart "$@" 2>"$T/err"); rc=$?
	if [ $rc -ne "$code" ]; then notok "$n" "exit $rc (want $code): $out $(cat "$T/err")"; return; fi
	if [ -n "$out" ]; then notok "$n" "printed on stdout: $out"; return; fi
	# curl says how long a refused connect took ("after 0 ms"): on a busy
	# machine that is 1 ms or more, so the figure is not compared
	expect_eq "$n" "$(head -1 "$T/err" | sed 's/ after [0-9]* ms:/ after N ms:/')" \
		"Error: $(sed 's/ after [0-9]* ms:/ after N ms:/' <<<"$want")"
}
ok_lines() { printf 'Signed by: %s\nUsing Key With Fingerprint: %s\nChart Hash Verified: %s' "$1" "$2" "$3"; }

if [ ! -f "$H/hashtest-1.2.3.tgz" ]; then
	skip "helm vectors" "no $H"
else
	verified "hashtest with its Helm-made prov (x/crypto layout)" \
		"$(ok_lines "$TEST_UID" $TEST_FPR $HASHTEST)" \
		"$H/hashtest-1.2.3.tgz" --keyring "$H/helm-test-key.pub"
	verified "signtest prints exactly what pkg/cmd/verify_test.go expects" \
		"$(ok_lines "$TEST_UID" $TEST_FPR $SIGNTEST)" \
		"$H/signtest-0.1.0.tgz" --keyring "$H/helm-test-key.pub"
	verified "msgblock.yaml.asc (GnuPG clearsign) as the prov" \
		"$(ok_lines "$TEST_UID" $TEST_FPR $HASHTEST)" \
		"$H/hashtest-1.2.3.tgz" --prov "$H/msgblock.yaml.asc" --keyring "$H/helm-test-key.pub"
	refused "msgblock.yaml.tampered fails at the signature" 1 \
		"openpgp: invalid signature: RSA verification failure" \
		"$H/hashtest-1.2.3.tgz" --prov "$H/msgblock.yaml.tampered" --keyring "$H/helm-test-key.pub"
	verified "hashtest with the mixed RSA+Ed25519 keyring" \
		"$(ok_lines "$TEST_UID" $TEST_FPR $HASHTEST)" \
		"$H/hashtest-1.2.3.tgz" --keyring "$H/helm-mixed-keyring.pub"
	verified "signtest with the mixed RSA+Ed25519 keyring" \
		"$(ok_lines "$TEST_UID" $TEST_FPR $SIGNTEST)" \
		"$H/signtest-0.1.0.tgz" --keyring "$H/helm-mixed-keyring.pub"
	verified "synthetic go-crypto v1 layout (blank line, no CRC)" \
		"$(ok_lines "$TEST_UID" $TEST_FPR $HASHTEST)" \
		"$H/synthetic-go-crypto-v1-layout/hashtest-1.2.3.tgz" --keyring "$H/helm-test-key.pub"
	refused "derived sha-mismatch: signature ok, hash differs" 1 \
		"sha256 sum does not match for hashtest-1.2.3.tgz: \"$HASHTEST\" != \"sha256:417d0fef6f0e9fdfbab0cf5ea5fd7f45030be7396ae0142f896bafb62e6f6324\"" \
		"$H/derived/sha-mismatch/hashtest-1.2.3.tgz" --keyring "$H/helm-test-key.pub"
	refused "derived name-mismatch: no SHA for the saved name" 1 \
		'provenance does not contain a SHA for a file named "signtest-0.1.0.tgz"' \
		"$H/derived/name-mismatch/signtest-0.1.0.tgz" --keyring "$H/helm-test-key.pub"
	# A copy of the archive under another name breaks verification (Helm
	# looks up the name the archive is saved under).
	cp "$H/hashtest-1.2.3.tgz" "$T/renamed-1.2.3.tgz"
	refused "renamed archive" 1 'provenance does not contain a SHA for a file named "renamed-1.2.3.tgz"' \
		"$T/renamed-1.2.3.tgz" --prov "$H/hashtest-1.2.3.tgz.prov" --keyring "$H/helm-test-key.pub"
	# Several --keyring files: the signer is found in any of them.
	if [ -f "$R/zigbee2mqtt-1.4.0/pubkey.gpg" ]; then
		verified "two keyrings, signer in the second" \
			"$(ok_lines "$TEST_UID" $TEST_FPR $HASHTEST)" \
			"$H/hashtest-1.2.3.tgz" --keyring "$R/zigbee2mqtt-1.4.0/pubkey.gpg" --keyring "$H/helm-test-key.pub"
		refused "keyring without 843BBF981FC18762 (armored)" 1 \
			"openpgp: signature made by unknown entity" \
			"$H/hashtest-1.2.3.tgz" --keyring "$R/zigbee2mqtt-1.4.0/pubkey.gpg"
		gpg --dearmor <"$R/zigbee2mqtt-1.4.0/pubkey.gpg" >"$T/zigbee.bin" 2>/dev/null
		refused "keyring without 843BBF981FC18762 (dearmored)" 1 \
			"openpgp: signature made by unknown entity" \
			"$H/signtest-0.1.0.tgz" --keyring "$T/zigbee.bin"
	else
		skip "unknown-key keyring" "no helm-real vectors"
	fi
	# Armored copy of the binary test key.
	if gpg --enarmor <"$H/helm-test-key.pub" >/dev/null 2>&1; then
		{ echo "-----BEGIN PGP PUBLIC KEY BLOCK-----"; echo; base64 -w 64 "$H/helm-test-key.pub"; \
		  echo "-----END PGP PUBLIC KEY BLOCK-----"; } >"$T/helm-test-key.asc"
		verified "armored helm test key" "$(ok_lines "$TEST_UID" $TEST_FPR $HASHTEST)" \
			"$H/hashtest-1.2.3.tgz" --keyring "$T/helm-test-key.asc"
	fi
	# Local-input errors exit 2, in helm verify's order.
	refused "missing archive" 2 "stat $T/nope.tgz: no such file or directory" \
		"$T/nope.tgz" --keyring "$H/helm-test-key.pub"
	refused "not a .tgz" 2 "chart must be a tgz file" "$H/msgblock.yaml" --keyring "$H/helm-test-key.pub"
	refused "a directory" 2 "unpacked charts cannot be verified" "$H/derived" --keyring "$H/helm-test-key.pub"
	refused "missing prov" 2 "could not load provenance file $T/renamed-1.2.3.tgz.prov: stat $T/renamed-1.2.3.tgz.prov: no such file or directory" \
		"$T/renamed-1.2.3.tgz" --keyring "$H/helm-test-key.pub"
	refused "missing keyring" 2 "failed to load keyring: cannot read $T/none.gpg: No such file or directory" \
		"$H/hashtest-1.2.3.tgz" --keyring "$T/none.gpg"
	out=$("$PG" verify-chart "$H/hashtest-1.2.3.tgz" 2>&1); rc=$?
	expect_eq "no --keyring is a usage error" "$rc" 2
	refused "a keyring that is not OpenPGP" 1 \
		"failed to load keyring: openpgp: invalid data: tag byte does not have MSB set" \
		"$H/hashtest-1.2.3.tgz" --keyring "$H/msgblock.yaml"
	refused "oci:// registry that does not answer" 1 \
		"cannot reach 127.0.0.1: Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server" \
		"oci://127.0.0.1:1/charts/x:1.0.0" --keyring "$H/helm-test-key.pub"
fi

# Real published charts: armored Ed25519 (OpenPGP.js, blank-line layout, no
# CRC, dash-escaped lines) and binary RSA-4096 (GnuPG via helm-sign).
real() {
	local dir=$1 ring=$2 uid=$3 fpr=$4 sum=$5 name
	name=$(basename "$dir")
	if [ ! -f "$R/$dir/$name.tgz" ]; then skip "real $name" "no vector"; return; fi
	verified "real $name" "$(ok_lines "$uid" "$fpr" "sha256:$sum")" \
		"$R/$dir/$name.tgz" --keyring "$R/$dir/$ring"
}
if [ ! -d "$R" ]; then
	skip "helm-real vectors" "no $R"
else
	real zigbee2mqtt-1.4.0 pubkey.gpg "Sironite Helm Charts <low.bus0777@sironite.com>" \
		DC68D659797D8ED232E71BAB9192D5FBBAF93022 429c76a8fd9b6eb890f1b1fd2653a294c0e1bb0c8475f986f4cbc1239c947b7e
	real pritunl-zero-0.3.3 pubring.gpg "Kacper Karczmarzyk <kacper@karczmarzyk.me>" \
		F81881FAF41751368A6AB6BF9B50CF408ED73162 966dfb6d5cd57173e183615d017a777c7e30e6968413b38eed559d5585a348ff
	real query-0.21.0 siakhooi-helm.gpg "siakhooi-helm <siakhooi@gmail.com>" \
		4395F47BB059F8783078EB7948DE866C93D1D81F 03b3235e1e84163c1ba61560ab1234da19fc1f5ce4426462ec91ef45bef12876
	# The armored pritunl key, dearmored as Helm would need it.
	if [ -f "$R/pritunl-zero-0.3.3/pubring.gpg" ]; then
		gpg --dearmor <"$R/pritunl-zero-0.3.3/pubring.gpg" >"$T/pritunl.bin" 2>/dev/null
		verified "real pritunl-zero with the dearmored key" \
			"$(ok_lines "Kacper Karczmarzyk <kacper@karczmarzyk.me>" F81881FAF41751368A6AB6BF9B50CF408ED73162 sha256:966dfb6d5cd57173e183615d017a777c7e30e6968413b38eed559d5585a348ff)" \
			"$R/pritunl-zero-0.3.3/pritunl-zero-0.3.3.tgz" --keyring "$T/pritunl.bin"
	fi
fi
# Nothing of ours left behind: temporary GnuPG homes and agents.
left=$(ls -A "$T/tmp" | wc -l)
expect_eq "no temporary GnuPG home left" "$left" 0
