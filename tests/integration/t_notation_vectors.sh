#!/bin/bash
# verify-notation (offline form) against the shared Notation vectors
# (../shared/vectors/notation, 28 real envelopes from the Notary Project's
# test data): every case at its suggested time with the result and failing
# step its expect.json states, then every level and user-metadata variant
# the vectors give, a few time near-misses, and trust-store symlinks.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"

N="$VECTORS/notation/cases"
if [ ! -d "$N" ]; then
	skip "notation vectors" "no $N"
	exit 0
fi
command -v jq >/dev/null || { skip "notation vectors" "jq missing"; exit 0; }

# fields CASE_DIR: expect.json's fields as F_* variables, read with one jq
# per case and kept in E (a jq process costs ~15 ms, and the cases are
# read some 200 times below).
declare -A E
fields() {
	local d=$1
	if [ -z "${E[$d]+x}" ]; then
		E[$d]=$(jq -r '[.verify.kind, .verify.targetArtifact.digest,
			(.verify.artifactReference // "localhost:5000/vectors/any"),
			(.verify.trustPolicyName // ""), .verify.targetArtifact.mediaType,
			(.verify.targetArtifact.size | tostring), .verify.verificationTime.suggested,
			.expected.result, (.expected.failedValidation // "")] | join("\u001f")' "$d/expect.json")
	fi
	split_fields "${E[$d]}" F_KIND F_DG F_REF F_TPN F_AMT F_SIZE F_AT F_RESULT F_STEP
}

# run CASE_DIR CONFIG_DIR AT [extra args...]: sets $rc, $out (stdout+stderr)
run() {
	local d=$1 cfg=$2 at=$3 ref extra=()
	shift 3
	fields "$d"
	ref="${F_REF%@*}@$F_DG"
	[ "$F_KIND" = blob ] && extra=(--policy-name "$F_TPN")
	out=$("$PG" verify-notation --config "$cfg" --envelope "$d/envelope.sig" \
		--media-type "$(<"$d/media-type")" --artifact "$ref" \
		--artifact-media-type "$F_AMT" --artifact-size "$F_SIZE" \
		--at "$at" "${extra[@]}" "$@" 2>&1)
	rc=$?
}

# judge NAME WANT(pass|fail) STEP: checks $rc/$out
judge() {
	local n=$1 want=$2 step=$3
	if [ "$want" = pass ]; then
		if [ $rc -eq 0 ] && grep -q '^Successfully verified signature for ' <<<"$out"; then
			ok "$n"; return 0
		fi
		notok "$n" "want pass, exit $rc: $out"; return 1
	fi
	if [ $rc -ne 1 ]; then notok "$n" "want fail ($step), exit $rc: $out"; return 1; fi
	if [ -n "$step" ] && ! grep -q "^Error: .*: $step: " <<<"$out"; then
		notok "$n" "failed, but not at $step: $out"; return 1
	fi
	ok "$n"
}

total=0 good=0
for d in "$N"/*/; do
	d=${d%/}
	c=$(basename "$d")
	total=$((total + 1))
	fields "$d"
	at=$F_AT want=$F_RESULT step=$F_STEP
	run "$d" "$d" "$at"
	judge "vector $c: $want${step:+ at $step}" "$want" "$step" && good=$((good + 1))
done
expect_eq "vector count: $good of $total cases give their expected result" "$good/$total" "$total/$total"

# The admitted descriptor near misses (what a registry lying in a HEAD's
# Content-Type or Content-Length would produce): one passing image case with
# the artifact's size off by one, then another media type, must fail; the
# same case as given passed above.
for d in "$N"/*/; do
	d=${d%/}
	fields "$d"
	[ "$F_RESULT" = pass ] || continue
	[ "$F_KIND" = blob ] && continue
	c=$(basename "$d")
	at=$F_AT sz=$F_SIZE amt=$F_AMT
	run "$d" "$d" "$at" --artifact-size "$((sz + 1))"
	judge "vector $c: artifact size off by one fails" fail targetArtifact
	run "$d" "$d" "$at" --artifact-media-type application/vnd.oci.image.index.v1+json
	if [ "$amt" = application/vnd.oci.image.index.v1+json ]; then
		run "$d" "$d" "$at" --artifact-media-type application/vnd.oci.image.manifest.v1+json
	fi
	judge "vector $c: another artifact media type fails" fail targetArtifact
	break
done

# Levels: the same envelope under strict, permissive and audit, as the
# vectors' "levels" say (policy copied with only the level changed).
for d in "$N"/*/; do
	d=${d%/}
	c=$(basename "$d")
	jq -e .levels "$d/expect.json" >/dev/null 2>&1 || continue
	fields "$d"
	at=$F_AT result=$F_RESULT
	for lvl in strict permissive audit; do
		w=$(jq -r ".levels.$lvl // empty" "$d/expect.json")
		[ -n "$w" ] || continue
		case "$w" in pass*) want=pass ;; *) want=fail ;; esac
		cfg="$T/lvl-$c-$lvl"
		rm -rf "$cfg"
		cp -R "$d" "$cfg"
		jq ".trustPolicies[].signatureVerification.level = \"$lvl\"" \
			"$d/trustpolicy.oci.json" >"$cfg/trustpolicy.oci.json"
		run "$d" "$cfg" "$at"
		judge "level $lvl: $c $want" "$want" ""
		if [ "$want" = pass ] && [ "$lvl" != strict ] && [ "$result" = fail ]; then
			expect_match "level $lvl: $c logs the failure it does not enforce" "$out" '^Warning: '
		fi
	done
done

# User-metadata variants.
for d in "$N"/*/; do
	d=${d%/}
	c=$(basename "$d")
	nv=$(jq '.variants // [] | length' "$d/expect.json")
	[ "$nv" -gt 0 ] || continue
	fields "$d"
	at=$F_AT
	for i in $(seq 0 $((nv - 1))); do
		want=$(jq -r ".variants[$i].result" "$d/expect.json")
		mapfile -t kv < <(jq -r ".variants[$i].userMetadata | to_entries[] | \"--user-metadata\n\(.key)=\(.value)\"" "$d/expect.json")
		run "$d" "$d" "$at" "${kv[@]}"
		judge "metadata variant $i of $c: $want" "$want" \
			"$([ "$want" = fail ] && echo userMetadata)"
	done
done

# Time near-misses: the expired signature passes before its expiry; a
# chain without a timestamp fails once it has expired; the time-stamped one
# still passes then (the timestamp, not the clock, decides).
d="$N/jws-x509-expired"
run "$d" "$d" 2022-07-29T23:58:00Z
judge "expired signature passes one minute before its expiry" pass ""
run "$d" "$d" 2022-07-29T23:59:00Z
judge "expired signature fails at its expiry" fail expiry
d="$N/jws-x509-no-timestamp-no-tsa-store"
run "$d" "$d" 2033-05-10T04:55:13Z
judge "no timestamp: fails one second after the chain expires" fail authenticTimestamp
run "$d" "$d" 2033-05-10T04:55:12Z
judge "no timestamp: passes at the chain's last second" pass ""
d="$N/jws-x509-timestamp-valid"
run "$d" "$d" 2040-01-01T00:00:00Z
judge "time-stamped signature still passes after the chain expired" pass ""

# Trust stores are trust decisions: a symlinked store or file is refused.
d="$N/jws-x509-valid"
cfg="$T/symlink-store"
cp -R "$d" "$cfg"
mv "$cfg/truststore/x509/ca/valid-trust-store" "$cfg/real-store"
ln -s ../../../real-store "$cfg/truststore/x509/ca/valid-trust-store"
run "$d" "$cfg" 2025-06-01T00:00:00Z
judge "symlinked trust store directory is refused" fail ""
expect_match "symlinked store: the reason names it" "$out" 'symlink'
cfg="$T/symlink-file"
cp -R "$d" "$cfg"
ln -s "$(pwd)/$d/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem" \
	"$cfg/truststore/x509/ca/valid-trust-store/link.pem" 2>/dev/null ||
	ln -s "$d/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem" \
		"$cfg/truststore/x509/ca/valid-trust-store/link.pem"
run "$d" "$cfg" 2025-06-01T00:00:00Z
judge "symlinked certificate file is refused" fail ""

# Wrong envelope media type and a scope that matches no policy.
run "$d" "$d" 2025-06-01T00:00:00Z --media-type application/cose
judge "JWS envelope read as COSE fails integrity" fail integrity
cfg="$T/scope"
cp -R "$d" "$cfg"
jq '.trustPolicies[0].registryScopes = ["registry.acme-rockets.io/software/other"]' \
	"$d/trustpolicy.oci.json" >"$cfg/trustpolicy.oci.json"
run "$d" "$cfg" 2025-06-01T00:00:00Z
judge "artifact outside every registry scope is refused" fail ""
expect_match "scope: the reason says no policy applies" "$out" 'no applicable trust policy'
