#!/bin/bash
# OCI Helm charts signed with cosign: a chart pushed to a real
# docker-registry the way `helm push` stores it (config
# application/vnd.cncf.helm.config.v1+json, one layer
# application/vnd.cncf.helm.chart.content.v1.tar+gzip), its manifest digest
# signed like an image (legacy .sig with a Rekor SET, made with openssl),
# named by an Argo CD Application (scheme-less repoURL host/path, chart,
# targetRevision) and by a Flux OCIRepository (oci://host/path/name, tag),
# and decided by a chart rule with a cosign verifier — through `provgate
# review` and the real server.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_chart_oci_cosign" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
keyless_setup || { notok "test Sigstore"; exit 1; }
make_key good && make_key other || { notok "keys"; exit 1; }

MT_HELM_CONFIG=application/vnd.cncf.helm.config.v1+json
MT_HELM_CHART=application/vnd.cncf.helm.chart.content.v1.tar+gzip

# push_chart REPO NAME VERSION: a chart archive as helm push stores it;
# prints the manifest digest
push_chart() {
	local repo=$1 name=$2 ver=$3 d="$T/chart.$2.$3.$RANDOM"
	mkdir -p "$d/$name/templates"
	printf 'apiVersion: v2\nname: %s\nversion: %s\ndescription: test chart\ntype: application\n' "$name" "$ver" >"$d/$name/Chart.yaml"
	printf 'replicas: 1\n' >"$d/$name/values.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/$name/templates/cm.yaml"
	tar -C "$d" -czf "$d/$name-$ver.tgz" "$name" || return 1
	printf '{"name":"%s","version":"%s","description":"test chart","apiVersion":"v2","type":"application"}' "$name" "$ver" >"$d/config.json"
	push_blob "$repo" "$d/config.json" >/dev/null && push_blob "$repo" "$d/$name-$ver.tgz" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s],"annotations":{"org.opencontainers.image.title":"%s","org.opencontainers.image.version":"%s"}}' \
		"$MT_OCI_MANIFEST" "$(desc_of "$d/config.json" "$MT_HELM_CONFIG")" \
		"$(desc_of "$d/$name-$ver.tgz" "$MT_HELM_CHART")" "$name" "$ver" >"$d/manifest.json"
	push_manifest "$repo" "$ver" "$d/manifest.json" "$MT_OCI_MANIFEST"
}

# sign_chart REPO DIGEST KEY: cosign legacy signature with a Rekor SET
sign_chart() {
	local f="$T/pl.${1//\//_}" l
	sig_payload "$REG/$1" "$2" >"$f"
	l=$(key_sig_layer_tlog "$1" "$f" "$3") && push_sig "$1" "$2" "$l" >/dev/null
}

D_WEB=$(push_chart charts/web web 1.2.3) && sign_chart charts/web "$D_WEB" good
D_API=$(push_chart charts/api api 0.1.0) && sign_chart charts/api "$D_API" other
D_RAW=$(push_chart charts/raw raw 2.0.0)
# keyless, Sigstore bundles as referrers: DSSE in-toto (cosign v3) is
# accepted; a messageSignature (blob) bundle over the manifest bytes is not
ID=https://github.com/acme/charts/.github/workflows/release.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
fulcio_cert alice "URI:$ID" "$ISS" || { notok "Fulcio-like leaf"; exit 1; }
D_KLD=$(push_chart klcharts/dsse dsse 1.0.0) && sigstore_bundle_dsse alice "$D_KLD" >"$T/kld.json" &&
	push_bundle_referrer klcharts/dsse "$D_KLD" "$T/kld.json" >/dev/null
D_KLM=$(push_chart klcharts/msg msg 1.0.0) &&
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST" -o "$T/klm.manifest" "https://$REG/v2/klcharts/msg/manifests/$D_KLM" &&
	sigstore_bundle_message alice "$T/klm.manifest" >"$T/klm.json" &&
	push_bundle_referrer klcharts/msg "$D_KLM" "$T/klm.json" >/dev/null
for v in D_WEB D_API D_RAW D_KLD D_KLM; do
	[[ ${!v} == sha256:* ]] || { notok "push OCI charts" "$v is empty"; exit 1; }
done
ok "push OCI charts (helm media types) and cosign signatures"

# The registry serves it as a Helm chart: config and layer media types.
m=$(reg_curl -H "Accept: $MT_OCI_MANIFEST" "https://$REG/v2/charts/web/manifests/1.2.3")
expect_eq "chart manifest media types" "$(jq -r '[.config.mediaType, .layers[0].mediaType] | join(" ")' <<<"$m")" \
	"$MT_HELM_CONFIG $MT_HELM_CHART"

# verify-image verifies an OCI chart like any artifact (same code path the
# chart rule will use).
vout=$("$PG" verify-image "$REG/charts/web:1.2.3" --key "$T/good.pub" --trusted-root "$KL_ROOT" \
	--ca-file "$PKI/ca.pem" 2>&1)
expect_match "verify-image on an OCI chart" "$vout" "^Digest: $D_WEB"

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: charts
spec:
  mode: enforce
  trust:
    keys:
      good: {path: $T/good.pub}
    roots:
      test-sigstore: {path: $KL_ROOT}
  charts:
    - name: oci-charts
      match: ["oci://$REG/charts/**"]
      verify:
        - cosign: {key: good}
    - name: oci-charts-keyless
      match: ["oci://$REG/klcharts/**"]
      verify:
        - cosign: {keyless: {root: test-sigstore, issuer: "$ISS", subject: "$ID"}}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
check "policy loads" "$PG" policy check "$POL"

argo_app() { # NAME REPOURL CHART REV
	jq -cn --arg n "$1" --arg r "$2" --arg c "$3" --arg v "$4" '{apiVersion: "argoproj.io/v1alpha1",
		kind: "Application", metadata: {name: $n},
		spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
		       source: {repoURL: $r, chart: $c, targetRevision: $v}}}'
}
flux_oci() { # NAME URL TAG
	jq -cn --arg n "$1" --arg u "$2" --arg t "$3" '{apiVersion: "source.toolkit.fluxcd.io/v1beta2",
		kind: "OCIRepository", metadata: {name: $n},
		spec: {interval: "10m", url: $u, ref: {tag: $t}}}'
}

# name|object json|namespace|allowed|ERE on the message|digest recorded
cases() {
	cat <<EOF
argo scheme-less repoURL, signed chart|$(argo_app web "$REG/charts" web 1.2.3)|argocd|true|^$|$D_WEB
argo oci:// repoURL, signed chart|$(argo_app web2 "oci://$REG/charts" web 1.2.3)|argocd|true|^$|$D_WEB
argo chart signed by another key|$(argo_app api "$REG/charts" api 0.1.0)|argocd|false|signature does not verify with the given key|
argo unsigned chart|$(argo_app raw "$REG/charts" raw 2.0.0)|argocd|false|no signatures found for $REG/charts/raw@$D_RAW|
argo chart version that does not exist|$(argo_app web3 "$REG/charts" web 9.9.9)|argocd|false|not found|
flux OCIRepository, signed chart|$(flux_oci web "oci://$REG/charts/web" 1.2.3)|flux-system|true|^$|$D_WEB
argo keyless chart, DSSE in-toto bundle|$(argo_app kd "$REG/klcharts" dsse 1.0.0)|argocd|true|^$|$D_KLD
argo keyless chart, messageSignature bundle refused|$(argo_app km "$REG/klcharts" msg 1.0.0)|argocd|false|bundle holds a message signature \\(a blob signature\\)|
flux OCIRepository, unsigned chart|$(flux_oci raw "oci://$REG/charts/raw" 2.0.0)|flux-system|false|no signatures found|
EOF
}
run_case() { # WHERE NAME WANT RE DIGEST OUT LOG
	local sum got text
	sum=$(review_summary "$6" 2>/dev/null)
	got=${sum%%$'\t'*}
	text=${sum#*$'\t'}
	if [ "$got" != "$3" ]; then
		notok "$1: $2" "allowed=$got want $3: $text"
	elif ! [[ $text =~ $4 ]]; then
		notok "$1: $2" "message [$text] does not match /$4/"
	elif [ -n "$5" ] && ! jq -e --arg d "$5" '[.response.auditAnnotations[] | select(contains($d))] | length > 0' <<<"$6" >/dev/null; then
		notok "$1: $2" "digest $5 not in auditAnnotations $(jq -c .response.auditAnnotations <<<"$6")"
	elif [ -n "$5" ] && ! jq -e --arg d "$5" '[.references[] | select(.digest == $d)] | length > 0' <<<"$7" >/dev/null 2>&1; then
		notok "$1: $2" "digest $5 not in the admission log: ${7:0:300}"
	else
		ok "$1: $2"
	fi
}

i=0
while IFS='|' read -r name obj ns want re dg; do
	i=$((i + 1))
	printf '%s' "$obj" >"$T/obj.$i.json"
	mkreview "$T/obj.$i.json" "$ns" CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$POL" "$T/rv.$i.json" 2>"$T/log.$i")
	run_case review "$name" "$want" "$re" "$dg" "$out" "$(tail -n 1 "$T/log.$i")"
done < <(cases)

if start_provgate "$POL"; then
	i=0
	while IFS='|' read -r name obj ns want re dg; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		run_case server "$name" "$want" "$re" "$dg" "$out" "$(grep -F "\"uid-$i\"" "$T/provgate.out" | tail -n 1)"
	done < <(cases)
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi

# Whatever the wiring, a chart on a host no rule names is denied by policy.
printf '%s' "$(argo_app stray "127.0.0.1:1/charts" web 1.2.3)" >"$T/stray.json"
mkreview "$T/stray.json" argocd CREATE >"$T/rv.stray.json"
out=$("$PG" review --policy "$POL" "$T/rv.stray.json" 2>/dev/null)
expect_match "chart on a host no rule names" "$(review_summary "$out")" "^false.*no policy rule matches oci://127\\.0\\.0\\.1:1/charts/web"
