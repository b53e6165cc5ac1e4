#!/bin/bash
# verify-chart against charts packaged and signed here, at test time, by the
# real tools: gpg (RSA with a signing subkey, Ed25519), sq (Sequoia) and rnp;
# then the https URL and --repo forms against a chart repository served over
# real HTTPS (nghttpd, HTTP/2 over TLS) on loopback.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"

for tool in gpg gpg-connect-agent tar openssl; do
	command -v $tool >/dev/null || { skip "signed charts" "$tool not installed"; exit 0; }
done
# Every tool works in $T: never the user's ~/.gnupg, ~/.rnp or Sequoia store.
export HOME="$T/home" GNUPGHOME="$T/gnupg"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$T/tmp"
export TMPDIR="$T/tmp"
W="$T/w"
mkdir -p "$W"
cd "$W" || exit 1

# gpg starts its own agent; stop it by its PID when the test ends.
agent_pid() {
	local p
	p=$(gpg-connect-agent --homedir "$GNUPGHOME" 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}')
	[ -n "$p" ] && PIDS+=("$p")
}

# chart NAME VERSION DIR: a chart directory packaged as DIR/NAME-VERSION.tgz
chart() {
	local n=$1 v=$2 d=$3
	mkdir -p "$d/src/$n/templates"
	printf 'apiVersion: v2\nappVersion: "1.0"\ndescription: test chart %s\nname: %s\nversion: %s\n' "$n" "$n" "$v" >"$d/src/$n/Chart.yaml"
	printf 'replicas: 2\nimage: nginx\n' >"$d/src/$n/values.yaml"
	printf 'kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/src/$n/templates/deployment.yaml"
	tar -C "$d/src" -czf "$d/$n-$v.tgz" "$n"
}
# block TGZ [FILENAME]: the Helm provenance plaintext for TGZ
block() {
	local tgz=$1 fname=${2:-$(basename "$1")} dir name
	dir=$(dirname "$tgz"); name=$(ls "$dir/src")
	cat "$dir/src/$name/Chart.yaml"
	printf '\n...\nfiles:\n  %s: sha256:%s\n' "$fname" "$(sha256sum "$tgz" | cut -d' ' -f1)"
}
fpr_of() { gpg --with-colons --list-keys "$1" | awk -F: '/^fpr/{print $10; exit}'; }
lines() { printf 'Signed by: %s\nUsing Key With Fingerprint: %s\nChart Hash Verified: sha256:%s' "$1" "$2" "$(sha256sum "$3" | cut -d' ' -f1)"; }
verified() {
	local n=$1 want=$2 out rc
	shift 2
	out=$("$PG" verify-chart "$@" 2>"$T/err"); rc=$?
	if [ $rc -ne 0 ]; then notok "$n" "exit $rc: $(cat "$T/err")"; return; fi
	expect_eq "$n" "$out" "$want"
}
refused() {
	local n=$1 code=$2 re=$3 out rc
	shift 3
	out=$("$PG" verify-chart "$@" 2>"$T/err"); rc=$?
	if [ $rc -ne "$code" ]; then notok "$n" "exit $rc (want $code): $out $(cat "$T/err")"; return; fi
	expect_match "$n" "$(cat "$T/err")" "$re"
}

# --- keys -----------------------------------------------------------------
gpg --batch --passphrase '' --quick-gen-key "RSA Signer <rsa@provgate.test>" rsa3072 cert never 2>/dev/null
agent_pid
RSA=$(fpr_of rsa@provgate.test)
gpg --batch --passphrase '' --quick-add-key "$RSA" rsa2048 sign never 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key "Ed Signer <ed@provgate.test>" ed25519 sign never 2>/dev/null
ED=$(fpr_of ed@provgate.test)
gpg --batch --passphrase '' --quick-gen-key "Other <other@provgate.test>" ed25519 sign never 2>/dev/null
gpg --batch --passphrase '' --faked-system-time 20200101T000000 \
	--quick-gen-key "Expired <old@provgate.test>" rsa2048 sign 1d 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key "Revoked <rev@provgate.test>" ed25519 sign never 2>/dev/null
REV=$(fpr_of rev@provgate.test)
exec 2>"$T/tools.err" # gpg's trustdb chatter; failures show in the results
gpg --export rsa@provgate.test >rsa.pub
gpg --export --armor ed@provgate.test >ed.asc
gpg --export other@provgate.test >other.pub
gpg --export old@provgate.test >old.pub

if [ -z "$RSA" ] || [ -z "$ED" ]; then notok "gpg key generation" "no keys"; exit 1; fi

# --- gpg, RSA primary + RSA signing subkey ----------------------------------
chart demo 1.0.0 "$W/rsa"
block "$W/rsa/demo-1.0.0.tgz" | gpg --batch --yes -u "$RSA" --digest-algo SHA512 --clearsign >"$W/rsa/demo-1.0.0.tgz.prov"
verified "gpg RSA signing subkey: primary fingerprint printed" \
	"$(lines "RSA Signer <rsa@provgate.test>" "$RSA" "$W/rsa/demo-1.0.0.tgz")" \
	"$W/rsa/demo-1.0.0.tgz" --keyring rsa.pub

# --- gpg, Ed25519, armored keyring ------------------------------------------
chart demo 1.0.0 "$W/ed"
block "$W/ed/demo-1.0.0.tgz" | gpg --batch --yes -u "$ED" --clearsign >"$W/ed/demo-1.0.0.tgz.prov"
verified "gpg Ed25519, armored keyring" \
	"$(lines "Ed Signer <ed@provgate.test>" "$ED" "$W/ed/demo-1.0.0.tgz")" \
	"$W/ed/demo-1.0.0.tgz" --keyring ed.asc
verified "two keyrings (binary + armored)" \
	"$(lines "Ed Signer <ed@provgate.test>" "$ED" "$W/ed/demo-1.0.0.tgz")" \
	"$W/ed/demo-1.0.0.tgz" --keyring rsa.pub --keyring ed.asc

# --- sq (Sequoia) -------------------------------------------------------------
if command -v sq >/dev/null; then
	sq key generate --userid "SQ Signer <sq@provgate.test>" --export sq.key 2>/dev/null
	sq key extract-cert sq.key >sq.pub
	SQF=$(sq inspect sq.pub 2>/dev/null | awk '/Fingerprint:/{print $2; exit}')
	chart sqc 2.0.0 "$W/sq"
	block "$W/sq/sqc-2.0.0.tgz" | sq sign --cleartext-signature --signer-key sq.key >"$W/sq/sqc-2.0.0.tgz.prov"
	verified "sq cleartext signature" "$(lines "SQ Signer <sq@provgate.test>" "$SQF" "$W/sq/sqc-2.0.0.tgz")" \
		"$W/sq/sqc-2.0.0.tgz" --keyring sq.pub
else
	skip "sq cleartext signature" "sq not installed"
fi

# --- rnp ----------------------------------------------------------------------
if command -v rnp >/dev/null; then
	mkdir -p "$T/rnp"
	rnpkeys --homedir "$T/rnp" --generate-key --userid "RNP Signer <rnp@provgate.test>" --password '' >/dev/null 2>&1
	rnpkeys --homedir "$T/rnp" --export-key rnp@provgate.test >rnp.asc 2>/dev/null
	RNPF=$(gpg --show-keys --with-colons rnp.asc 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
	chart rnpc 3.0.0 "$W/rnp"
	block "$W/rnp/rnpc-3.0.0.tgz" >"$W/rnp/block"
	rnp --homedir "$T/rnp" --clearsign "$W/rnp/block" --output "$W/rnp/rnpc-3.0.0.tgz.prov" --password '' >/dev/null 2>&1
	verified "rnp cleartext signature" "$(lines "RNP Signer <rnp@provgate.test>" "$RNPF" "$W/rnp/rnpc-3.0.0.tgz")" \
		"$W/rnp/rnpc-3.0.0.tgz" --keyring rnp.asc
else
	skip "rnp cleartext signature" "rnp not installed"
fi

# --- failures -------------------------------------------------------------------
D="$W/rsa"
cp "$D/demo-1.0.0.tgz" "$W/t.tgz"; printf 'x' >>"$W/t.tgz"
mkdir -p "$W/tamper"; cp "$W/t.tgz" "$W/tamper/demo-1.0.0.tgz"; cp "$D/demo-1.0.0.tgz.prov" "$W/tamper/"
refused "tampered archive" 1 '^Error: sha256 sum does not match for demo-1.0.0.tgz: "sha256:[0-9a-f]{64}" != "sha256:[0-9a-f]{64}"$' \
	"$W/tamper/demo-1.0.0.tgz" --keyring rsa.pub
sed 's/^description: .*/description: evil/' "$D/demo-1.0.0.tgz.prov" >"$W/tampered.prov"
refused "tampered .prov text" 1 '^Error: openpgp: invalid signature: RSA verification failure$' \
	"$D/demo-1.0.0.tgz" --prov "$W/tampered.prov" --keyring rsa.pub
refused "unknown key" 1 '^Error: openpgp: signature made by unknown entity$' \
	"$D/demo-1.0.0.tgz" --keyring other.pub
block "$D/demo-1.0.0.tgz" other-1.0.0.tgz | gpg --batch --yes -u "$RSA" --clearsign >"$W/wrongname.prov"
refused "wrong file name in files:" 1 '^Error: provenance does not contain a SHA for a file named "demo-1.0.0.tgz"$' \
	"$D/demo-1.0.0.tgz" --prov "$W/wrongname.prov" --keyring rsa.pub
# gpgv never compares a signature's creation time with now; Helm 4 takes a
# signature from the future as expired.  Within the skew (a minute) it counts.
block "$D/demo-1.0.0.tgz" | gpg --batch --yes -u "$RSA" --faked-system-time 20400101T000000 --clearsign >"$W/future.prov"
refused "signature made in the future (2040)" 1 '^Error: openpgp: signature expired: it was made in the future \(2040-01-01T00:00:[0-9]{2}Z\)$' \
	"$D/demo-1.0.0.tgz" --prov "$W/future.prov" --keyring rsa.pub
block "$D/demo-1.0.0.tgz" | gpg --batch --yes -u "$RSA" --faked-system-time "$(date -u -d '+1 minute' +%Y%m%dT%H%M%S)" \
	--clearsign >"$W/soon.prov"
"$PG" verify-chart "$D/demo-1.0.0.tgz" --prov "$W/soon.prov" --keyring rsa.pub >/dev/null 2>&1
expect_eq "signature a minute ahead (clock skew): verified (near miss)" "$?" 0
block "$D/demo-1.0.0.tgz" >"$W/unsigned.prov"
refused "no signature" 1 '^Error: signature block not found$' \
	"$D/demo-1.0.0.tgz" --prov "$W/unsigned.prov" --keyring rsa.pub
printf 'apiVersion: v2\nname: demo\n' | gpg --batch --yes -u "$RSA" --clearsign >"$W/noparts.prov"
refused "signed block without the ... separator" 1 '^Error: message block must have at least two parts$' \
	"$D/demo-1.0.0.tgz" --prov "$W/noparts.prov" --keyring rsa.pub
head -c 700 "$D/demo-1.0.0.tgz.prov" >"$W/truncated.prov"
refused "truncated .prov" 1 '^Error: signature block not found' \
	"$D/demo-1.0.0.tgz" --prov "$W/truncated.prov" --keyring rsa.pub
block "$D/demo-1.0.0.tgz" | gpg --batch --yes --faked-system-time 20200101T000100 -u old@provgate.test \
	--clearsign >"$W/expired.prov" 2>/dev/null
refused "expired key" 1 '^Error: openpgp: key expired$' \
	"$D/demo-1.0.0.tgz" --prov "$W/expired.prov" --keyring old.pub
block "$D/demo-1.0.0.tgz" | gpg --batch --yes -u "$REV" --clearsign >"$W/revoked.prov"
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$REV.rev" >"$W/rev.asc"
gpg --batch --import "$W/rev.asc" 2>/dev/null
gpg --export rev@provgate.test >revoked.pub
refused "revoked key" 1 '^Error: openpgp: signature made by revoked key$' \
	"$D/demo-1.0.0.tgz" --prov "$W/revoked.prov" --keyring revoked.pub
mkdir -p "$W/big"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$W/big/big-1.0.0.tgz"
cp "$D/demo-1.0.0.tgz.prov" "$W/big/big-1.0.0.tgz.prov"
refused "oversized archive" 1 'larger than 16777216 bytes' "$W/big/big-1.0.0.tgz" --keyring rsa.pub

# --- a chart repository over HTTPS (nghttpd, h2) --------------------------------
if ! command -v nghttpd >/dev/null; then
	skip "https chart repository" "nghttpd not installed"
	exit 0
fi
test_pki || { notok "test PKI" "openssl failed"; exit 0; }
REPO="$W/www/repo"
mkdir -p "$REPO/charts"
for v in 1.0.0 1.2.0 1.3.0-rc.1 2.0.0; do
	chart web "$v" "$W/web$v"
	block "$W/web$v/web-$v.tgz" | gpg --batch --yes -u "$RSA" --clearsign >"$W/web$v/web-$v.tgz.prov"
	cp "$W/web$v/web-$v.tgz" "$W/web$v/web-$v.tgz.prov" "$REPO/charts/"
done
# A chart whose .prov is missing on the server.
chart noprov 1.0.0 "$W/noprov"; cp "$W/noprov/noprov-1.0.0.tgz" "$REPO/charts/"
# Relative URLs (resolved against the repository URL) and one absolute.
PORT=$(free_port)
{
	echo "apiVersion: v1"
	echo "entries:"
	echo "  web:"
	for v in 1.0.0 2.0.0 1.3.0-rc.1 1.2.0; do
		echo "  - name: web"
		echo "    version: $v"
		if [ "$v" = 2.0.0 ]; then
			echo "    urls: [https://127.0.0.1:$PORT/repo/charts/web-$v.tgz]"
		else
			echo "    urls:"
			echo "    - charts/web-$v.tgz"
		fi
	done
	echo "  noprov:"
	echo "  - {name: noprov, version: 1.0.0, urls: [charts/noprov-1.0.0.tgz]}"
	echo "generated: \"2026-01-01T00:00:00Z\""
} >"$REPO/index.yaml"
bg nghttpd nghttpd --address=127.0.0.1 -d "$W/www" "$PORT" "$PKI/server.key" "$PKI/server.pem"
if ! wait_tcp "$PORT" 10; then notok "nghttpd starts" "$(cat "$T/nghttpd.err")"; exit 0; fi
U="https://127.0.0.1:$PORT/repo"
web() { lines "RSA Signer <rsa@provgate.test>" "$RSA" "$W/web$1/web-$1.tgz"; }
verified "https chart URL (h2)" "$(web 1.2.0)" "$U/charts/web-1.2.0.tgz" --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "https without the test CA" 1 '^Error: cannot reach 127.0.0.1' "$U/charts/web-1.2.0.tgz" --keyring rsa.pub
refused "https chart URL, 404" 1 'failed to fetch https://127.0.0.1:[0-9]+/repo/charts/nope-1.0.0.tgz : 404' \
	"$U/charts/nope-1.0.0.tgz" --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "https chart without a .prov" 1 'failed to fetch provenance "https://127.0.0.1:[0-9]+/repo/charts/noprov-1.0.0.tgz.prov"' \
	"$U/charts/noprov-1.0.0.tgz" --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "http:// refused" 1 'only https' "http://127.0.0.1:$PORT/repo/charts/web-1.2.0.tgz" --keyring rsa.pub
verified "--repo exact version, relative url" "$(web 1.0.0)" --repo "$U" --version 1.0.0 web --keyring rsa.pub --ca-file "$PKI/ca.pem"
verified "--repo ^1.0 picks newest 1.x release (not the rc)" "$(web 1.2.0)" --repo "$U/" --version '^1.0' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
verified "--repo ~1.3.0-0 admits the prerelease" "$(web 1.3.0-rc.1)" --repo "$U" --version '~1.3.0-0' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
# Masterminds checks prereleases per term: "<2" names none, so the rc is out.
verified "--repo >=1.0.0-0 <2: each term must admit prereleases" "$(web 1.2.0)" --repo "$U" --version '>=1.0.0-0 <2' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
verified "--repo no version: newest, absolute url" "$(web 2.0.0)" --repo "$U" web --keyring rsa.pub --ca-file "$PKI/ca.pem"
verified "--repo ~1.0 || >=2" "$(web 2.0.0)" --repo "$U" --version '~1.0 || >=2' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
verified "--repo 1.x, <1.2" "$(web 1.0.0)" --repo "$U" --version '1.x, <1.2' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "--repo no matching version" 1 'chart "web" version "\^3.0" not found in https://127.0.0.1:[0-9]+/repo repository' \
	--repo "$U" --version '^3.0' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "--repo unknown chart" 1 'chart "nope" not found in' --repo "$U" --version 1.0.0 nope --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "--repo bad constraint" 1 'improper constraint' --repo "$U" --version '>>1' web --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "--repo without index.yaml" 1 'is not a valid chart repository or cannot be reached' \
	--repo "https://127.0.0.1:$PORT/empty" web --keyring rsa.pub --ca-file "$PKI/ca.pem"
refused "--repo, unknown signer" 1 'openpgp: signature made by unknown entity' --repo "$U" --version 1.0.0 web --keyring other.pub --ca-file "$PKI/ca.pem"
left=$(ls -A "$T/tmp" | wc -l)
expect_eq "no temporary GnuPG home left" "$left" 0
