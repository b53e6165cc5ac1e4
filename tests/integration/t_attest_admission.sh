#!/bin/bash
# Build-provenance attestations at admission (issue 13), end to end: images
# in a real docker-registry with SLSA attestations made as
# actions/attest-build-provenance (bundle referrers, tag-schema fallback)
# and cosign attest (legacy sha256-<hex>.att) make them, signed by the test
# Fulcio CA with GitHub claim extensions and logged in the test Rekor;
# decided by a `github:` preset rule and a cosign rule with attestations --
# through `provgate review` and through the real server, which must agree.
# Every attack has its near miss that must still be admitted.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_attest.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_attest_admission" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
keyless_setup || { notok "test Sigstore (CA, Rekor, CT log)"; exit 1; }
WF=https://github.com/myorg/ci/.github/workflows/release.yml@refs/heads/main
gh_cert rel "$WF" myorg myorg/app refs/heads/main github-hosted &&
	gh_cert selfhosted "$WF" myorg myorg/app refs/heads/main self-hosted &&
	gh_cert dev "$WF" myorg myorg/app refs/heads/dev github-hosted &&
	gh_cert otherwf "https://github.com/myorg/ci/.github/workflows/nightly.yml@refs/heads/main" \
		myorg myorg/app refs/heads/main github-hosted &&
	gh_cert evil "https://github.com/evil/ci/.github/workflows/release.yml@refs/heads/main" \
		evil evil/app refs/heads/main github-hosted ||
	{ notok "Fulcio-like leaves with GitHub claims"; exit 1; }
if openssl x509 -in "$KL/rel.pem" -noout -text | grep -q "1.3.6.1.4.1.57264.1.11"; then
	ok "registry on $REG, test CA with GitHub claim extensions, Rekor"
else
	notok "leaf carries the claim extensions" "$(openssl x509 -in "$KL/rel.pem" -noout -text | head -40)"
fi

# attested REPO CERT [STATEMENT_ARGS...] [-- MODE]: an image with one
# attestation bundle referrer; prints the image digest
attested() {
	local repo=$1 cert=$2 mode="" dg st args=()
	shift 2
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then mode=$2; break; fi
		args+=("$1"); shift
	done
	dg=$(make_image "$repo" v1) || return 1
	st="$T/st.$RANDOM$RANDOM"
	att_statement "$st" "${SUBJ:-$dg}" "${args[@]:-myorg/app}" "${REF:-refs/heads/main}" \
		"${PT:-https://slsa.dev/provenance/v1}" || return 1
	att_bundle "$cert" "$st" "$mode" >"$st.bundle" || return 1
	push_bundle_referrer "$repo" "$dg" "$st.bundle" >/dev/null || return 1
	echo "$dg"
}

D_OK=$(attested gh/app rel)
D_SELF=$(attested gh/selfhosted selfhosted)
D_DEV=$(REF=refs/heads/dev attested gh/dev dev)
D_WF=$(attested gh/otherwf otherwf)
D_EVIL=$(attested gh/evil evil)
D_TYPE=$(PT=https://spdx.dev/Document attested gh/type rel)
D_SUBJ=$(SUBJ=sha256:1111111111111111111111111111111111111111111111111111111111111111 attested gh/subject rel)
D_CONTRA=$(attested gh/contra rel myorg/other)
D_TAMPER=$(attested gh/tamper rel myorg/app -- tamper)
D_NOSET=$(attested gh/noset rel myorg/app -- noset)
D_NONE=$(make_image gh/none v1)
# the cosign rule: a path condition on the predicate's workflow path
D_CO=$(attested co/app rel)
dg=$(make_image co/wrongpath v1) && att_statement "$T/wp" "$dg" myorg/app refs/heads/main \
	https://slsa.dev/provenance/v1 .github/workflows/other.yml &&
	att_bundle rel "$T/wp" >"$T/wp.bundle" && push_bundle_referrer co/wrongpath "$dg" "$T/wp.bundle" >/dev/null &&
	D_CO_PATH=$dg
# legacy .att
D_LEG=$(make_image legacy/app v1) && att_statement "$T/leg" "$D_LEG" myorg/app refs/heads/main &&
	push_att_legacy legacy/app "$D_LEG" rel "$T/leg" >/dev/null
D_LEG_T=$(make_image legacy/tamper v1) && att_statement "$T/legt" "$D_LEG_T" myorg/app refs/heads/main &&
	push_att_legacy legacy/tamper "$D_LEG_T" rel "$T/legt" tamper >/dev/null
D_LEG_SELF=$(make_image legacy/selfhosted v1) && att_statement "$T/legs" "$D_LEG_SELF" myorg/app refs/heads/main &&
	push_att_legacy legacy/selfhosted "$D_LEG_SELF" selfhosted "$T/legs" >/dev/null
# RFC 3161: an entry without SET needs a TSA stamp (and one suffices)
att_tsa_setup || { notok "test TSA"; exit 1; }
D_TSA=$(attested tsa/app rel myorg/app -- noset+tsa)
D_TSA_NOSET=$(attested tsa/noset rel myorg/app -- noset)
D_TSA_SET=$(attested tsa/set rel myorg/app -- tsa)
for v in D_TSA D_TSA_NOSET D_TSA_SET D_OK D_SELF D_DEV D_WF D_EVIL D_TYPE D_SUBJ D_CONTRA D_TAMPER D_NOSET D_NONE D_CO D_CO_PATH D_LEG D_LEG_T D_LEG_SELF; do
	[ -n "${!v:-}" ] || { notok "test images pushed" "$v empty"; exit 1; }
done
ok "attested test images pushed (referrers and legacy .att)"

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: attestations
spec:
  mode: enforce
  trust:
    roots:
      test-sigstore: {path: $KL_ROOT}
  images:
    - name: gh
      match: ["$REG/gh/**", "$REG/legacy/**"]
      verify:
        - github:
            root: test-sigstore
            owner: myorg
            repo: myorg/app
            signerWorkflow: myorg/ci/.github/workflows/release.yml
            sourceRef: refs/heads/main
            denySelfHostedRunners: true
    - name: co
      match: ["$REG/co/**"]
      verify:
        - cosign:
            keyless:
              root: test-sigstore
              issuer: $GH_ISS
              subjectRegExp: '^https://github\.com/myorg/ci/'
            attestations:
              - predicateType: https://slsa.dev/provenance/v1
                conditions:
                  - {path: /predicate/buildDefinition/externalParameters/workflow/path, equals: .github/workflows/build.yml}
                  - {cert: sourceRepositoryURI, equals: https://github.com/myorg/app}
                  - {cert: runnerEnvironment, in: [github-hosted]}
    - name: tsa
      match: ["$REG/tsa/**"]
      verify:
        - github: {root: with-tsa, owner: myorg, repo: myorg/app, signerRepo: myorg/ci, sourceRef: refs/heads/main}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
sed -i "s|      test-sigstore: {path: $KL_ROOT}|      test-sigstore: {path: $KL_ROOT}\n      with-tsa: {path: $KL_ROOT_TSA}|" "$POL/policy.yaml"
out=$("$PG" policy check "$POL" 2>&1)
expect_eq "policy with a github: entry and cosign attestations loads" "$out" \
	"policy OK: 1 document, 3 image rules, 0 chart rules, mode enforce"

cases() {
	cat <<EOF
github preset: release workflow on main, GitHub-hosted|$REG/gh/app:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)?$|$D_OK
self-hosted runner|$REG/gh/selfhosted:v1|false|certificate claim runnerEnvironment is "self-hosted"|
built from refs/heads/dev|$REG/gh/dev:v1|false|certificate claim sourceRepositoryRef is "refs/heads/dev"|
another workflow signed|$REG/gh/otherwf:v1|false|certificate identity ".*nightly.yml@refs/heads/main" does not match|
another organisation signed|$REG/gh/evil:v1|false|certificate identity "https://github.com/evil/|
wrong predicate type|$REG/gh/type:v1|false|predicate type is https://spdx.dev/Document, not https://slsa.dev/provenance/v1|
wrong subject digest|$REG/gh/subject:v1|false|no subject of the statement has digest $D_SUBJ|
predicate contradicts the certificate|$REG/gh/contra:v1|false|predicate says source repository https://github.com/myorg/other, the certificate https://github.com/myorg/app|
tampered payload|$REG/gh/tamper:v1|false|DSSE signature does not verify|
inclusion proof without SET, no TSA: no authenticated time|$REG/gh/noset:v1|false|no authenticated time|
no attestation at all|$REG/gh/none:v1|false|no attestations found for $D_NONE|
cosign attestations: conditions hold|$REG/co/app:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)?$|$D_CO
cosign attestations: path condition fails|$REG/co/wrongpath:v1|false|statement /predicate/buildDefinition/externalParameters/workflow/path is ".github/workflows/other.yml"|
legacy .att from the release workflow|$REG/legacy/app:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)?$|$D_LEG
legacy .att tampered|$REG/legacy/tamper:v1|false|DSSE signature does not verify|
legacy .att from a self-hosted runner|$REG/legacy/selfhosted:v1|false|runnerEnvironment is "self-hosted"|
no SET but an RFC 3161 stamp from a trusted TSA|$REG/tsa/app:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)?$|$D_TSA
no SET and no stamp, under the same root|$REG/tsa/noset:v1|false|no authenticated time|
SET and an RFC 3161 stamp|$REG/tsa/set:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)?$|$D_TSA_SET
EOF
}

pod_for() {
	jq -cn --arg n "$1" --arg imgs "$2" '{apiVersion: "v1", kind: "Pod",
		metadata: {name: $n}, spec: {containers: [$imgs | split(",") | to_entries[] |
		{name: "c\(.key)", image: .value}]}}'
}

# judge WHERE NAME WANT RE DIGEST OUT LOGLINE: decision, reason, and for an
# allowed image the attestation named in the annotations and the log line
judge() {
	local where=$1 name=$2 want=$3 re=$4 dg=$5 out=$6 log=$7 sum got text inann inlog
	# one jq: allowed, the attestation named in auditAnnotations, the
	# attestation allowed in the log line, the message (as review_summary
	# escapes it)
	sum=$(jq -r --arg d "$dg" --arg log "$log" '[(.response.allowed|tostring),
		([(.response.auditAnnotations // {})[] | select(contains($d) and contains("attestation sha256:") and contains("https://slsa.dev/provenance/v1") and contains("source=https://github.com/myorg/app@refs/heads/main") and contains("builder=https://github.com/actions/runner/github-hosted"))] | length > 0 | tostring),
		(($log | fromjson? // {}) as $l | ($l.allowed == true and ([($l.references // [])[] | select(.digest == $d and .decision == "allow" and ((.signer // "") | startswith("attestation sha256:")))] | length == 1)) | tostring),
		([.response.status.message // ((.response.warnings // []) | join("; "))] | @tsv)]
		| join("\u001f")' <<<"$out" 2>/dev/null)
	split_fields "$sum" got inann inlog text
	if [ "$got" != "$want" ]; then
		notok "$where: $name" "allowed=$got want $want: $text"
		return
	fi
	if ! [[ $text =~ $re ]]; then
		notok "$where: $name" "message [$text] does not match /$re/"
		return
	fi
	if [ -n "$dg" ]; then
		if [ "$inann" != true ]; then
			notok "$where: $name" "attestation not named in auditAnnotations $(jq -c .response.auditAnnotations <<<"$out")"
			return
		fi
		if [ "$inlog" != true ]; then
			notok "$where: $name" "attestation not in the admission log line: ${log:0:600}"
			return
		fi
	fi
	ok "$where: $name"
}

i=0
while IFS='|' read -r name imgs want re dg; do
	i=$((i + 1))
	pod_for "case-$i" "$imgs" >"$T/pod.$i.json"
	mkreview "$T/pod.$i.json" default CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$POL" "$T/rv.$i.json" 2>"$T/rvlog.$i")
	rc=$?
	want_rc=1; [ "$want" = true ] && want_rc=0
	if [ "$rc" != "$want_rc" ]; then
		notok "review: $name" "exit $rc, want $want_rc: $(head -c 600 "$T/rvlog.$i") $(review_summary "$out")"
		continue
	fi
	judge review "$name" "$want" "$re" "$dg" "$out" "$(tail -n 1 "$T/rvlog.$i")"
done < <(cases)

if start_provgate "$POL" --workers 2; then
	ok "provgate serve starts"
	i=0
	while IFS='|' read -r name imgs want re dg; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		log=$(grep -F "\"uid-$i\"" "$T/provgate.out" | tail -n 1)
		judge server "$name" "$want" "$re" "$dg" "$out" "$log"
	done < <(cases)
	if grep -qE 'Sanitizer|runtime error' "$T/provgate.err"; then
		notok "server: no sanitizer report" "$(grep -E 'Sanitizer|runtime error' "$T/provgate.err" | head -3)"
	else
		ok "server: no sanitizer report"
	fi
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi

# 3. the online verb: the same discovery and checks from the command line
# va NAME WANT_EXIT IMAGE ARGS...
va() {
	local n=$1 want=$2 img=$3 rc
	shift 3
	VA_OUT=$("$PG" verify-attestation "$img" --trusted-root "$KL_ROOT" --ca-file "$PKI/ca.pem" "$@" 2>"$T/va.err"); rc=$?
	if [ "$rc" -eq "$want" ]; then ok "verify-attestation: $n"; else notok "verify-attestation: $n" "exit $rc, want $want: $(cat "$T/va.err") $VA_OUT"; fi
}
GHF=(--owner myorg --repo myorg/app --signer-workflow myorg/ci/.github/workflows/release.yml --source-ref refs/heads/main --deny-self-hosted-runners)
va "github flags, bundle referrer" 0 "$REG/gh/app:v1" "${GHF[@]}"
expect_match "verify-attestation: prints the digest and the attestation" "$(tr '\n' ' ' <<<"$VA_OUT")" \
	"Digest: $D_OK.*Attestation: attestation sha256:[0-9a-f]{64} https://slsa.dev/provenance/v1 builder="
va "github flags, legacy .att" 0 "$REG/legacy/app@$D_LEG" "${GHF[@]}"
va "self-hosted runner" 1 "$REG/gh/selfhosted:v1" "${GHF[@]}"
va "--type another predicate" 1 "$REG/gh/app:v1" "${GHF[@]}" --type https://spdx.dev/Document
va "--type of the statement that is there" 0 "$REG/gh/type:v1" "${GHF[@]}" --type https://spdx.dev/Document
va "--condition on the predicate" 0 "$REG/co/app:v1" --certificate-identity "$WF" \
	--certificate-oidc-issuer "$GH_ISS" --condition /predicate/buildDefinition/externalParameters/workflow/path=.github/workflows/build.yml
va "--condition that fails" 1 "$REG/co/wrongpath:v1" --certificate-identity "$WF" \
	--certificate-oidc-issuer "$GH_ISS" --condition /predicate/buildDefinition/externalParameters/workflow/path=.github/workflows/build.yml
va "--certificate-claim that fails" 1 "$REG/gh/dev:v1" --certificate-identity "$WF" \
	--certificate-oidc-issuer "$GH_ISS" --certificate-claim sourceRepositoryRef=refs/heads/main
va "IMAGE with --bundle is a usage error" 2 "$REG/gh/app:v1" "${GHF[@]}" --bundle /dev/null

# 4. the documented example policy, as written (its first rule; the second
# needs the release key of another example file), pointed at this registry
EX="$T/example"
mkdir -p "$EX"
sed -e "s|ghcr.io/myorg/\*\*|$REG/gh/**|" -e "s|path: trust/example.trusted_root.json|path: $KL_ROOT|" \
	-e '/- name: myorg-tools-cosign-attest/,$d' "$TOP/policy/examples/60-images-attestations.yaml" >"$EX/policy.yaml"
printf '  registries:\n    - host: "%s"\n      caFile: %s\n' "$REG" "$PKI/ca.pem" >>"$EX/policy.yaml"
# the root it names is defined by 20-images-keyless-github.yaml: here, the test root
printf 'apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata: {name: root}\nspec:\n  trust:\n    roots:\n      public-good: {path: %s}\n' \
	"$KL_ROOT" >"$EX/00-root.yaml"
expect_eq "example policy: policy check" "$("$PG" policy check "$EX" 2>&1)" \
	"policy OK: 2 documents, 1 image rule, 0 chart rules, mode enforce"
ex_case() {
	local name=$1 img=$2 want=$3 re=$4 out
	pod_for "ex" "$img" >"$T/ex.pod.json"
	mkreview "$T/ex.pod.json" default CREATE v1 "uid-ex" >"$T/ex.rv.json"
	out=$("$PG" review --policy "$EX" "$T/ex.rv.json" 2>/dev/null)
	judge "example policy" "$name" "$want" "$re" "" "$out" ""
}
ex_case "release workflow, main, GitHub-hosted" "$REG/gh/app:v1" true '^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)?$'
ex_case "self-hosted runner" "$REG/gh/selfhosted:v1" false 'runnerEnvironment is "self-hosted"'
ex_case "built from dev" "$REG/gh/dev:v1" false 'sourceRepositoryRef is "refs/heads/dev"'
ex_case "nightly workflow" "$REG/gh/otherwf:v1" false 'nightly.yml@refs/heads/main" does not match'
ex_case "another organisation" "$REG/gh/evil:v1" false 'does not match'
ex_case "no attestation" "$REG/gh/none:v1" false 'no attestations found'
