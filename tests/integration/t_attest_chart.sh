#!/bin/bash
# Build-provenance attestations of OCI Helm charts (issue 13, "the same for
# OCI charts"): charts pushed to the real docker-registry as `helm push`
# stores them, each with an SLSA attestation bundle referrer whose subject
# is the chart manifest's digest, signed by the test Fulcio CA with GitHub
# claims and logged in the test Rekor; decided by chart rules with a
# `github:` preset and a cosign entry with `attestations:` conditions,
# through Argo CD Applications and Flux OCIRepositories, by `provgate
# review` and by the server: pass, wrong predicate type, failed condition,
# no attestation, and an attestation about another chart.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_attest.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_attest_chart" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
keyless_setup || { notok "test Sigstore (CA, Rekor, CT log)"; exit 1; }
WF=https://github.com/myorg/ci/.github/workflows/release.yml@refs/heads/main
gh_cert rel "$WF" myorg myorg/app refs/heads/main github-hosted ||
	{ notok "Fulcio-like leaf with GitHub claims"; exit 1; }
ok "registry on $REG, test CA with GitHub claim extensions, Rekor"

# push_chart REPO NAME VERSION: an OCI chart as helm push stores it; prints
# the manifest digest
push_chart() {
	local repo=$1 name=$2 ver=$3 d="$T/chart.$2.$3.$RANDOM"
	mkdir -p "$d/$name/templates"
	printf 'apiVersion: v2\nname: %s\nversion: %s\ndescription: test chart\ntype: application\n' "$name" "$ver" >"$d/$name/Chart.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/$name/templates/cm.yaml"
	tar -C "$d" -czf "$d/$name-$ver.tgz" "$name" || return 1
	printf '{"name":"%s","version":"%s","apiVersion":"v2","type":"application"}' "$name" "$ver" >"$d/config.json"
	push_blob "$repo" "$d/config.json" >/dev/null && push_blob "$repo" "$d/$name-$ver.tgz" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" application/vnd.cncf.helm.config.v1+json)" \
		"$(desc_of "$d/$name-$ver.tgz" application/vnd.cncf.helm.chart.content.v1.tar+gzip)" >"$d/manifest.json"
	push_manifest "$repo" "$ver" "$d/manifest.json" "$MT_OCI_MANIFEST"
}
# attested_chart REPO NAME VERSION [PREDICATE_TYPE [WORKFLOW_PATH [SUBJECT]]]
attested_chart() {
	local dg st
	dg=$(push_chart "$1" "$2" "$3") || return 1
	st="$T/st.$RANDOM$RANDOM"
	att_statement "$st" "${6:-$dg}" myorg/app refs/heads/main "${4:-https://slsa.dev/provenance/v1}" \
		"${5:-.github/workflows/build.yml}" || return 1
	att_bundle rel "$st" >"$st.bundle" || return 1
	push_bundle_referrer "$1" "$dg" "$st.bundle" >/dev/null || return 1
	echo "$dg"
}

D_OK=$(attested_chart gcharts/web web 1.0.0)
D_TYPE=$(attested_chart gcharts/spdx spdx 1.0.0 https://spdx.dev/Document)
D_NONE=$(push_chart gcharts/none none 1.0.0)
D_SUBJ=$(attested_chart gcharts/subject subject 1.0.0 "" "" \
	sha256:2222222222222222222222222222222222222222222222222222222222222222)
D_CO=$(attested_chart ccharts/web web 2.0.0)
D_COPATH=$(attested_chart ccharts/path path 2.0.0 "" .github/workflows/other.yml)
for v in D_OK D_TYPE D_NONE D_SUBJ D_CO D_COPATH; do
	[[ ${!v} == sha256:* ]] || { notok "charts and attestations pushed" "$v is empty"; exit 1; }
done
ok "charts and attestations pushed"

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: chart-attestations
spec:
  mode: enforce
  trust:
    roots:
      test-sigstore: {path: $KL_ROOT}
  charts:
    - name: gh-charts
      match: ["oci://$REG/gcharts/**"]
      verify:
        - github:
            root: test-sigstore
            owner: myorg
            repo: myorg/app
            signerWorkflow: myorg/ci/.github/workflows/release.yml
            sourceRef: refs/heads/main
            denySelfHostedRunners: true
    - name: co-charts
      match: ["oci://$REG/ccharts/**"]
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
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
out=$("$PG" policy check "$POL" 2>&1)
expect_eq "chart rules with github: and cosign attestations load" "$out" \
	"policy OK: 1 document, 0 image rules, 2 chart rules, mode enforce"

cases() {
	cat <<EOF
Argo CD, github preset, attested chart|argo:$REG/gcharts,web,1.0.0|true|verified|$D_OK
Flux OCIRepository, github preset, attested chart|flux:oci://$REG/gcharts/web,1.0.0|true|verified|$D_OK
wrong predicate type|argo:$REG/gcharts,spdx,1.0.0|false|predicate type is https://spdx.dev/Document, not https://slsa.dev/provenance/v1|
attestation about another digest|argo:$REG/gcharts,subject,1.0.0|false|no subject of the statement has digest $D_SUBJ|
no attestation|argo:$REG/gcharts,none,1.0.0|false|no attestations found for $D_NONE|
cosign attestations, conditions hold|argo:$REG/ccharts,web,2.0.0|true|verified|$D_CO
cosign attestations, path condition fails|argo:$REG/ccharts,path,2.0.0|false|statement /predicate/buildDefinition/externalParameters/workflow/path is ".github/workflows/other.yml"|
EOF
}

obj_for() {
	local n=$1 spec=$2 a b c
	case "$spec" in
	argo:*)
		IFS=, read -r a b c <<<"${spec#argo:}"
		jq -cn --arg n "n$n" --arg r "$a" --arg c "$b" --arg v "$c" '{apiVersion: "argoproj.io/v1alpha1",
			kind: "Application", metadata: {name: $n},
			spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
			       source: {repoURL: $r, chart: $c, targetRevision: $v}}}' >"$T/obj.$n.json"
		echo argocd ;;
	flux:*)
		IFS=, read -r a b <<<"${spec#flux:}"
		jq -cn --arg n "n$n" --arg u "$a" --arg t "$b" '{apiVersion: "source.toolkit.fluxcd.io/v1beta2",
			kind: "OCIRepository", metadata: {name: $n}, spec: {interval: "10m", url: $u, ref: {tag: $t}}}' >"$T/obj.$n.json"
		echo flux-system ;;
	esac
}

judge() {
	local where=$1 name=$2 want=$3 re=$4 dg=$5 out=$6 sum got text
	sum=$(review_summary "$out" 2>/dev/null)
	got=${sum%%$'\t'*}
	text=${sum#*$'\t'}
	if [ "$got" != "$want" ]; then
		notok "$where: $name" "allowed=$got want $want: $text"
		return
	fi
	if [ "$want" = false ] && ! [[ $text =~ $re ]]; then
		notok "$where: $name" "message [$text] does not match /$re/"
		return
	fi
	if [ -n "$dg" ] && ! jq -e --arg d "$dg" '[.response.auditAnnotations[] | select(contains($d) and contains("attestation sha256:") and contains("https://slsa.dev/provenance/v1"))] | length > 0' \
		<<<"$out" >/dev/null 2>&1; then
		notok "$where: $name" "attestation of $dg not named in auditAnnotations $(jq -c .response.auditAnnotations <<<"$out")"
		return
	fi
	ok "$where: $name"
}

i=0
while IFS='|' read -r name spec want re dg; do
	i=$((i + 1))
	ns=$(obj_for "$i" "$spec")
	mkreview "$T/obj.$i.json" "$ns" CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$POL" "$T/rv.$i.json" 2>"$T/rvlog.$i")
	judge review "$name" "$want" "$re" "$dg" "$out"
done < <(cases)

if start_provgate "$POL" --workers 2; then
	ok "provgate serve starts"
	i=0
	while IFS='|' read -r name spec want re dg; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		judge server "$name" "$want" "$re" "$dg" "$out"
	done < <(cases)
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi
