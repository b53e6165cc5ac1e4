#!/bin/bash
# Junk referrers cannot exhaust the evidence budget (issue 17.3), against a
# real docker-registry: anyone who may push to a repository can attach
# junk "Sigstore bundle" referrers to a digest.  Each evidence source has
# its own budget (PG_VERIFY_SIGS_MAX = 64), the one-GET legacy .sig is read
# first and fetching stops once the rule is satisfied; a budget that cut
# the search short is never a definite (cached) deny.  Through `provgate
# review` and the server:
#   64 / 1000 junk referrers in front of a valid .sig      allowed, no
#                                                           referrer fetched
#   1000 junk referrers in front of a valid bundle, no .sig denied as "not a
#                                                           final answer",
#                                                           not cached
#   9 junk referrers in front of a valid bundle             allowed
#   5 junk referrers, nothing valid                         definite deny,
#                                                           cached
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_evidence_budget" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
keyless_setup || { notok "test Sigstore (CA, Rekor, CT log)"; exit 1; }
make_key good || { notok "keys"; exit 1; }
ID=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
fulcio_cert alice "URI:$ID" "$ISS" || { notok "Fulcio-like leaf"; exit 1; }

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: budgets}
spec:
  mode: enforce
  trust:
    keys:
      good: {path: $T/good.pub}
    roots:
      test-sigstore: {path: $KL_ROOT}
  images:
    - name: key
      match: ["$REG/key/**"]
      verify: [{cosign: {key: good}}]
      tlog: optional
    - name: keyless
      match: ["$REG/kl/**"]
      verify: [{cosign: {keyless: {root: test-sigstore, issuer: "$ISS", subject: "$ID"}}}]
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF

printf '{}' >"$T/empty.json"
printf '{"mediaType":"%s","verificationMaterial":{},"dsseEnvelope":{}}' "$MT_BUNDLE" >"$T/junk-bundle.json"
EMPTY_DG=$(sha256_of "$T/empty.json")

# subject_of REPO DIGEST: SUBJ_SIZE, the size of REPO@DIGEST's manifest
# (fetched once per subject; no subshell: SUBJ_* are kept), and the empty
# config blob pushed to REPO.
subject_of() {
	[ "${SUBJ_OF:-}" = "$1@$2" ] && return 0
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST, $MT_OCI_INDEX" -o "$T/subj" \
		"https://$REG/v2/$1/manifests/$2" || return 1
	SUBJ_SIZE=$(stat -c %s "$T/subj")
	SUBJ_OF="$1@$2"
	push_blob "$1" "$T/empty.json" >/dev/null
}

# referrer_file DIGEST BUNDLE_DESC N: write a bundle referrer manifest of
# DIGEST (subject_of first; N makes it unique) to REF_FILE, its digest in
# REF_DG and its descriptor for the index in REF_DESC.  Nothing is pushed.
referrer_file() {
	local m
	REF_FILE="$T/ref.$RANDOM.$3.json"
	m=$(printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[%s],"subject":{"mediaType":"%s","digest":"%s","size":%s},"annotations":{"n":"%s"}}' \
		"$MT_OCI_MANIFEST" "$MT_BUNDLE" "$EMPTY_DG" "$2" "$MT_OCI_MANIFEST" "$1" "$SUBJ_SIZE" "$3")
	printf '%s' "$m" >"$REF_FILE"
	REF_DG=$(sha256_of "$REF_FILE")
	REF_DESC=$(printf '{"mediaType":"%s","digest":"%s","size":%s,"artifactType":"%s"}' \
		"$MT_OCI_MANIFEST" "$REF_DG" "${#m}" "$MT_BUNDLE")
}

# referrer REPO DIGEST BUNDLE_FILE N: push one such referrer (the bundle
# blob must be pushed); REF_DESC as above.
referrer() {
	subject_of "$1" "$2" || return 1
	referrer_file "$2" "$(desc_of "$3" "$MT_BUNDLE")" "$4"
	push_manifest "$1" "$REF_DG" "$REF_FILE" "$MT_OCI_MANIFEST" >/dev/null
}

# junk_referrers REPO DIGEST N [LAST_DESC]: the sha256-<hex> tag-schema
# index listing N junk bundle referrers, then LAST_DESC if given.  The
# registry accepts only existing manifests in an index: past 64 the list
# cycles through the 64 junk manifests pushed (each listed entry is one
# more referrer to examine all the same).  The referrers and the index go
# in one curl process (the referrers first).
junk_referrers() {
	local repo=$1 digest=$2 n=$3 last=${4:-} i descs=() junk=() m=() f="$T/idx.$RANDOM" jd
	push_blob "$repo" "$T/junk-bundle.json" >/dev/null || return 1
	subject_of "$repo" "$digest" || return 1
	jd=$(desc_of "$T/junk-bundle.json" "$MT_BUNDLE")
	for i in $(seq 1 $((n < 64 ? n : 64))); do
		referrer_file "$digest" "$jd" "junk-$i"
		junk+=("$REF_DESC")
		m+=("$REF_DG" "$REF_FILE" "$MT_OCI_MANIFEST")
	done
	for i in $(seq 0 $((n - 1))); do
		descs+=("${junk[$((i % 64))]}")
	done
	[ -n "$last" ] && descs+=("$last")
	{
		printf '{"schemaVersion":2,"mediaType":"%s","manifests":[' "$MT_OCI_INDEX"
		(IFS=,; printf '%s' "${descs[*]}")
		printf ']}'
	} >"$f"
	_reg_push "$repo" 0 "${m[@]}" "sha256-${digest#sha256:}" "$f" "$MT_OCI_INDEX"
}

# key_signed REPO: an image with a valid .sig (key good); prints the digest
key_signed() {
	local d
	d=$(make_image "$1" v1) || return 1
	sig_payload "$REG/$1" "$d" >"$T/pl.${1//\//_}"
	push_sig "$1" "$d" "$(sig_layer "$1" "$T/pl.${1//\//_}" "$T/good.key")" >/dev/null || return 1
	echo "$d"
}

D64=$(key_signed key/junk64) && junk_referrers key/junk64 "$D64" 64 || notok "push key/junk64"
D1000=$(key_signed key/junk1000) && junk_referrers key/junk1000 "$D1000" 1000 || notok "push key/junk1000"
DB1000=$(make_image kl/junk1000 v1) && sigstore_bundle_dsse alice "$DB1000" >"$T/b1000.json" &&
	push_blob kl/junk1000 "$T/b1000.json" >/dev/null &&
	referrer kl/junk1000 "$DB1000" "$T/b1000.json" valid &&
	junk_referrers kl/junk1000 "$DB1000" 1000 "$REF_DESC" ||
	notok "push kl/junk1000"
DB9=$(make_image kl/junk9 v1) && sigstore_bundle_dsse alice "$DB9" >"$T/b9.json" &&
	push_blob kl/junk9 "$T/b9.json" >/dev/null &&
	referrer kl/junk9 "$DB9" "$T/b9.json" valid &&
	junk_referrers kl/junk9 "$DB9" 9 "$REF_DESC" ||
	notok "push kl/junk9"
DJ5=$(make_image kl/junk5 v1) && junk_referrers kl/junk5 "$DJ5" 5 || notok "push kl/junk5"
for v in D64 D1000 DB1000 DB9 DJ5; do
	[[ ${!v:-} == sha256:* ]] || { notok "push images, signatures and junk referrers" "$v is empty"; exit 1; }
done
ok "push images, signatures and junk referrers"

# name|image|allowed|ERE on the message
cases() {
	cat <<EOF
64 junk referrers in front of a valid .sig|$REG/key/junk64:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$
1000 junk referrers in front of a valid .sig|$REG/key/junk1000:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$
1000 junk referrers in front of a valid bundle, no .sig|$REG/kl/junk1000:v1|false|verified among the 64 examined; more were not examined \\(at most 64 per source\\), so this is not a final answer
9 junk referrers in front of a valid bundle|$REG/kl/junk9:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$
5 junk referrers, nothing valid|$REG/kl/junk5:v1|false|no signature of .*kl/junk5@$DJ5 verified \\(5 found\\)
EOF
}

judge() { # WHERE NAME WANT RE OUT
	local sum got text
	sum=$(review_summary "$5" 2>/dev/null)
	got=${sum%%$'\t'*}
	text=${sum#*$'\t'}
	if [ "$got" != "$3" ]; then
		notok "$1: $2" "allowed=$got want $3: ${text:0:300}"
	elif ! [[ $text =~ $4 ]]; then
		notok "$1: $2" "message [${text:0:400}] does not match /$4/"
	else
		ok "$1: $2"
	fi
}

i=0
while IFS='|' read -r name img want re; do
	i=$((i + 1))
	jq -cn --arg i "$img" '{apiVersion: "v1", kind: "Pod", metadata: {name: "p"},
		spec: {containers: [{name: "c", image: $i}]}}' >"$T/pod.$i.json"
	mkreview "$T/pod.$i.json" default CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$POL" "$T/rv.$i.json" 2>"$T/rvlog.$i")
	judge review "$name" "$want" "$re" "$out"
done < <(cases)

# A valid .sig satisfies the rule: no referrer listing, no referrer fetched.
n=$(reg_gets "/v2/key/junk(64|1000)/manifests/sha256-[0-9a-f]{64}")
expect_eq "review: a valid .sig satisfies the rule before any referrer is listed" "$n" 0
# (the tag-schema index itself is fetched by the digest its HEAD named: not a referrer)
IDX1000=$(reg_curl -sI -H "Accept: $MT_OCI_INDEX" "https://$REG/v2/kl/junk1000/manifests/sha256-${DB1000#sha256:}" |
	tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
n=$(($(reg_gets "/v2/kl/junk1000/manifests/sha256:[0-9a-f]{64}") - $(reg_gets "/v2/kl/junk1000/manifests/$DB1000") -
	$(reg_gets "/v2/kl/junk1000/manifests/${IDX1000:-none}")))
check "review: at most 64 referrers of kl/junk1000 fetched ($n)" test "$n" -le 64 -a "$n" -gt 0

if start_provgate "$POL" --workers 2; then
	ok "provgate serve starts"
	i=0
	while IFS='|' read -r name img want re; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		judge server "$name" "$want" "$re" "$out"
	done < <(cases)
	# second reviews: what may be cached is; a budget-cut deny is not
	cached() { grep -F "\"uid-$1\"" "$T/provgate.out" | tail -n 1 | jq -r '.references[0].cached // false'; }
	for i in 1 3 5; do
		pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate" >/dev/null
	done
	expect_eq "server: allow behind 64 junk referrers cached" "$(cached 1)" true
	expect_eq "server: budget-cut deny (1000 junk) not cached, verified afresh" "$(cached 3)" false
	expect_eq "server: definite deny (5 junk, nothing valid) cached" "$(cached 5)" true
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi
