#!/usr/bin/env bash
# sigstore-conformance bundle-verification cases against `provgate verify-bundle`,
# driven the way the suite's own client harness drives a client
# (test/assets/bundle-verify/<case>/, see the vectors' README):
#   artifact   default ../a.txt          identity default: the beacon workflow
#   issuer     default GitHub Actions    key.pub  -> --key mode
#   trusted_root.json default: the production root (default-trust-roots/)
# A case whose name ends in _fail must exit non-zero; any other must exit 0.
# Every case runs twice: artifact path, then "sha256:<hex>" digest.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
source "$(dirname "$0")/lib.sh"

CONF="$VECTORS/sigstore-conformance"
CASES="$CONF/test/assets/bundle-verify"
PROD_ROOT="$CONF/default-trust-roots/production-trusted_root.json"
DEF_IDENTITY="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
DEF_ISSUER="https://token.actions.githubusercontent.com"

if [ ! -d "$CASES" ] || [ ! -f "$PROD_ROOT" ]; then
	skip "conformance" "vectors not found under $CONF"
	exit 0
fi
if [ ! -x "$PG" ]; then
	notok "conformance" "$PG not built"
	exit 1
fi

run_case() { # $1 = case dir, $2 = form (path|digest)
	local d=$1 form=$2 name artifact root target args=() rc want
	name=$(basename "$d")
	artifact="$d/artifact"
	[ -f "$artifact" ] || artifact="$CASES/a.txt"
	root="$d/trusted_root.json"
	[ -f "$root" ] || root="$PROD_ROOT"
	if [ -f "$d/key.pub" ]; then
		args=(--key "$d/key.pub")
	else
		local id=$DEF_IDENTITY iss=$DEF_ISSUER
		[ -f "$d/identity" ] && id=$(cat "$d/identity")
		[ -f "$d/issuer" ] && iss=$(cat "$d/issuer")
		args=(--certificate-identity "$id" --certificate-oidc-issuer "$iss")
	fi
	if [ "$form" = digest ]; then
		target="sha256:$(sha256sum "$artifact" | cut -d' ' -f1)"
	else
		target=$artifact
	fi
	"$PG" verify-bundle --bundle "$d/bundle.sigstore.json" "${args[@]}" \
		--trusted-root "$root" "$target" >"$T/out" 2>"$T/err"
	rc=$?
	case "$name" in *_fail) want=fail ;; *) want=pass ;; esac
	if [ "$want" = pass ] && [ $rc -eq 0 ]; then
		ok "conformance $name ($form)"
	elif [ "$want" = fail ] && [ $rc -eq 1 ]; then
		ok "conformance $name ($form)"
	elif [ "$want" = fail ] && [ $rc -ne 0 ]; then
		# Rejected, but as a usage error: the suite accepts any non-zero
		# status, we expect the verifier itself to say no.
		notok "conformance $name ($form)" "exit $rc (want 1): $(head -c 300 "$T/err")"
	else
		notok "conformance $name ($form)" "exit $rc, want $want: $(head -c 300 "$T/err")"
	fi
}

# The protocol's own edges: usage errors and unreadable input are 2, not 1.
HP="$CASES/happy-path-v0.3"
cli_rc() { "$PG" verify-bundle "$@" >/dev/null 2>"$T/err"; echo $?; }
expect_eq "verify-bundle without an artifact is a usage error" \
	"$(cli_rc --bundle "$HP/bundle.sigstore.json" --key "$HP/bundle.sigstore.json")" 2
expect_eq "verify-bundle with both --key and an identity is a usage error" \
	"$(cli_rc --bundle "$HP/bundle.sigstore.json" --key x --certificate-identity i \
		--certificate-oidc-issuer u --trusted-root "$PROD_ROOT" "$CASES/a.txt")" 2
expect_eq "verify-bundle with an unreadable bundle exits 2" \
	"$(cli_rc --bundle "$T/missing.json" --certificate-identity "$DEF_IDENTITY" \
		--certificate-oidc-issuer "$DEF_ISSUER" --trusted-root "$PROD_ROOT" "$CASES/a.txt")" 2
expect_eq "verify-bundle with no trusted root exits 2" \
	"$(PROVGATE_TRUSTED_ROOT= cli_rc --bundle "$HP/bundle.sigstore.json" \
		--certificate-identity "$DEF_IDENTITY" --certificate-oidc-issuer "$DEF_ISSUER" \
		"$CASES/a.txt")" 2
expect_eq "verify-bundle reads the root from \$PROVGATE_TRUSTED_ROOT" \
	"$(PROVGATE_TRUSTED_ROOT=$PROD_ROOT cli_rc --bundle "$HP/bundle.sigstore.json" \
		--certificate-identity "$DEF_IDENTITY" --certificate-oidc-issuer "$DEF_ISSUER" \
		"$CASES/a.txt")" 0
expect_eq "verify-bundle rejects the wrong identity" \
	"$(cli_rc --bundle "$HP/bundle.sigstore.json" --certificate-identity "$DEF_IDENTITY.x" \
		--certificate-oidc-issuer "$DEF_ISSUER" --trusted-root "$PROD_ROOT" "$CASES/a.txt")" 1
expect_match "verify-bundle explains a rejection" "$(cat "$T/err")" '^Error: certificate identity'

n=0
for d in "$CASES"/*/; do
	d=${d%/}
	[ -f "$d/bundle.sigstore.json" ] || continue
	n=$((n + 1))
	run_case "$d" path
	run_case "$d" digest
done
[ $n -gt 0 ] || notok "conformance" "no cases found in $CASES"
