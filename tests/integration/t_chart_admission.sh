#!/bin/bash
# Charts through admission (review and the real server): Argo CD
# Applications, Flux HelmRelease (HelmRepository looked up through a real
# HTTPS API endpoint) and Helm release Secrets, against a chart repository
# served over real HTTPS on loopback, with charts signed here by gpg.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"

for tool in gpg gpg-connect-agent tar nghttpd jq gzip; do
	command -v $tool >/dev/null || { skip "chart admission" "$tool not installed"; exit 0; }
done
export HOME="$T/home" GNUPGHOME="$T/gnupg" TMPDIR="$T/tmp"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$TMPDIR"
test_pki || { notok "test pki"; exit 1; }
R="$T/repo/charts"; mkdir -p "$R" "$T/src"
exec 3>&2 2>"$T/tools.err"

gpg --batch --passphrase '' --quick-gen-key "Chart Signer <charts@provgate.test>" ed25519 sign never
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export charts@provgate.test >"$T/charts.gpg"
FPR=$(gpg --with-colons --list-keys charts@provgate.test | awk -F: '/^fpr/{print $10; exit}')

tpl='kind: Deployment
metadata:
  name: {{ .Release.Name }}
'
# chart NAME VERSION: packaged into $R, sources kept in $T/src/NAME-VERSION
chart() {
	local n=$1 v=$2 s="$T/src/$1-$2"
	mkdir -p "$s/$n/templates"
	printf 'apiVersion: v2\nappVersion: "1.0"\ndescription: chart %s\nname: %s\nversion: %s\n' "$n" "$n" "$v" >"$s/$n/Chart.yaml"
	printf 'replicas: 2\nimage: nginx\n' >"$s/$n/values.yaml"
	printf '%s' "$tpl" >"$s/$n/templates/deployment.yaml"
	tar -C "$s" -czf "$R/$n-$v.tgz" "$n"
}
sign() { # NAME VERSION
	local f="$R/$1-$2.tgz"
	{ cat "$T/src/$1-$2/$1/Chart.yaml"; printf '\n...\nfiles:\n  %s: sha256:%s\n' "$1-$2.tgz" "$(sha256sum "$f" | cut -d' ' -f1)"; } |
		gpg --batch --yes -u "$FPR" --clearsign >"$f.prov"
}
chart team-web 1.2.3; sign team-web 1.2.3
chart team-web 1.1.0; sign team-web 1.1.0
chart team-bad 1.0.0; sign team-bad 1.0.0
printf 'x' >>"$R/team-bad-1.0.0.tgz"     # archive changed after signing
chart team-unsigned 0.1.0
{
	echo "apiVersion: v1"; echo "entries:"
	for c in team-web:1.2.3 team-web:1.1.0 team-bad:1.0.0 team-unsigned:0.1.0; do
		n=${c%%:*}; v=${c#*:}
		printf '  %s:\n  - name: %s\n    version: %s\n    apiVersion: v2\n    urls:\n    - %s-%s.tgz\n' "$n" "$n" "$v" "$n" "$v"
	done
} | awk '!seen[$0]++ || !/^  [a-z-]+:$/' >"$R/index.yaml"

PORT=$(free_port)
bg nghttpd nghttpd -d "$T/repo" "$PORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$PORT" 10 || { notok "chart repository starts" "$(cat "$T/nghttpd.err")"; exit 1; }
REPO="https://127.0.0.1:$PORT/charts"
# A second real HTTPS server that no rule names: it must never be contacted.
FPORT=$(free_port)
bg forbidden nghttpd -v -d "$T/repo" "$FPORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$FPORT" 10
: >"$T/forbidden.out" # wait_tcp's probe connection is not a request

mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: charts}
spec:
  mode: enforce
  trust:
    keyrings:
      charts: {path: $T/charts.gpg}
  charts:
    - name: team
      match: ["$REPO/**"]
      repository: $REPO
      chartNames: ["team-*"]
      verify:
        - prov: {keyring: charts}
YAML
exec 2>&3

argo() { # REPO CHART REV -> object file
	jq -n --arg r "$1" --arg c "$2" --arg v "$3" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
		metadata: {name: "app", namespace: "argocd"},
		spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
		       source: {repoURL: $r, chart: $c, targetRevision: $v}}}' >"$T/obj.json"
}
decide() { # NAME WANT(true|false) REGEX [review args...]
	local name=$1 want=$2 re=$3 out sum got text
	shift 3
	mkreview "$T/obj.json" "${NS:-argocd}" CREATE v1 "uid-$name" >"$T/in.json"
	out=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" --timeout-ms 8000 "$@" "$T/in.json" 2>"$T/log")
	[ -n "${DEBUG_REVIEW:-}" ] && cat "$T/log" >&2
	sum=$(review_summary "$out"); got=${sum%%$'\t'*}; text=${sum#*$'\t'}
	[ "$want" = true ] && text=$(jq -r '.response.auditAnnotations | to_entries | map(.value) | join("; ")' <<<"$out")
	if [ "$got" = "$want" ] && [[ $text =~ $re ]]; then ok "$name"; else notok "$name" "allowed=$got: $text $(tail -c 300 "$T/log")"; fi
}

TGZSUM=$(sha256sum "$R/team-web-1.2.3.tgz" | cut -d' ' -f1)
argo "$REPO" team-web 1.2.3
decide "argo: signed chart allowed, archive digest recorded" true "allow rule=team digest=sha256:$TGZSUM: verified by rule team.*Chart Signer"
argo "$REPO/" team-web ">=1.0.0 <2.0.0"
decide "argo: a semver range is denied (Argo CD resolves it again later; t_chart_gitops covers allowVersionRanges)" false 'version range ">=1.0.0 <2.0.0" of chart team-web is resolved again by Argo CD later'
argo "$REPO/" team-web 1.2.3
decide "argo: repoURL with a trailing / is the same repository" true "digest=sha256:$TGZSUM"
argo "$REPO" team-bad 1.0.0
decide "argo: tampered archive denied with Helm's reason" false 'sha256 sum does not match for team-bad-1.0.0.tgz'
argo "$REPO" team-unsigned 0.1.0
decide "argo: chart without provenance denied" false 'team-unsigned.*(prov|provenance)'
argo "$REPO" team-nope 9.9.9
decide "argo: chart missing from the index denied" false 'team-nope.*not found'
argo "https://127.0.0.1:$FPORT/charts" team-web 1.2.3
decide "argo: repository no rule matches denied" false "no policy rule matches https://127.0.0.1:$FPORT/charts/team-web"
# the repository's CA from the policy's registries entry, without --ca-file
mkdir -p "$T/pol2"
sed 's/^  charts:/  registries:\n    - host: "127.0.0.1:'"$PORT"'"\n      caFile: '"${PKI//\//\\/}"'\/ca.pem\n  charts:/' "$T/pol/policy.yaml" >"$T/pol2/policy.yaml"
argo "$REPO" team-web 1.2.3
mkreview "$T/obj.json" argocd CREATE v1 uid-ca >"$T/in.json"
out=$("$PG" review --policy "$T/pol2" --timeout-ms 8000 "$T/in.json" 2>"$T/log")
expect_eq "argo: chart repository trusted through registries[].caFile" "$(jq -r .response.allowed <<<"$out")" true
out=$("$PG" review --policy "$T/pol" --timeout-ms 8000 "$T/in.json" 2>"$T/log")
expect_match "argo: without a CA for the repository the chart is denied (TLS)" "$(jq -r .response.status.message <<<"$out")" 'certificate|SSL|TLS'
if grep -q HEADERS "$T/forbidden.out"; then notok "no request sent to an unmatched repository" "$(head -5 "$T/forbidden.out")"; else ok "no request sent to an unmatched repository"; fi

# --- Helm release Secrets --------------------------------------------------
# release NAME VERSION TEMPLATE -> Secret object with data.release encoded as
# the API shows it: base64(base64(gzip(release JSON)))
release() {
	local n=$1 v=$2 t=$3
	jq -n --arg n "$n" --arg v "$v" --arg t "$(printf '%s' "$t" | base64 -w0)" '{name: "rel", namespace: "web", version: 1,
		info: {status: "pending-install"},
		chart: {metadata: {apiVersion: "v2", appVersion: "1.0", description: ("chart " + $n), name: $n, version: $v},
			templates: [{name: "templates/deployment.yaml", data: $t}], files: [],
			values: {replicas: 2, image: "nginx"}},
		config: {}, manifest: ""}' | gzip -c | base64 -w0 | base64 -w0 >"$T/rel.b64"
	jq -n --rawfile d "$T/rel.b64" '{apiVersion: "v1", kind: "Secret", type: "helm.sh/release.v1",
		metadata: {name: "sh.helm.release.v1.rel.v1", namespace: "web", labels: {owner: "helm", name: "rel", version: "1"}},
		data: {release: ($d | rtrimstr("\n"))}}' >"$T/obj.json"
}
NS=web
release team-web 1.2.3 "$tpl"
decide "release Secret of a signed chart allowed" true "allow rule=team digest=sha256:$TGZSUM"
release team-web 1.2.3 "${tpl/Deployment/Deploymenu}"
decide "release Secret with a template changed by one byte denied, naming it" false 'differs from the verified archive: templates/deployment.yaml'
release other-chart 1.0.0 "$tpl"
decide "release Secret of a chart no rule names denied" false 'no policy rule names chart other-chart'
release team-bad 1.0.0 "$tpl"
decide "release Secret of a tampered chart denied" false 'sha256 sum does not match'

# --- Flux HelmRelease: the HelmRepository comes from the Kubernetes API -----
jq -n '{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: {name: "web", namespace: "apps"},
	spec: {interval: "5m", chart: {spec: {chart: "team-web", version: "1.2.3",
	sourceRef: {kind: "HelmRepository", name: "team", namespace: "flux-system"}}}}}' >"$T/obj.json"
NS=apps
decide "flux: outside a cluster the HelmRepository cannot be looked up: deny with that reason" false 'not running in a cluster'
API="$T/api/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/helmrepositories"
mkdir -p "$API"
jq -n --arg u "$REPO" '{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository",
	metadata: {name: "team", namespace: "flux-system"}, spec: {url: $u, interval: "10m"}}' >"$API/team"
echo "test-token" >"$T/sa-token"
APORT=$(free_port)
bg api nghttpd -d "$T/api" "$APORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$APORT" 10
export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$APORT
export PROVGATE_KUBE_TOKEN_FILE="$T/sa-token" PROVGATE_KUBE_CA_FILE="$PKI/ca.pem"
decide "flux: HelmRelease through its HelmRepository (API lookup) allowed" true "digest=sha256:$TGZSUM"
jq '.spec.chart.spec.sourceRef.name = "missing"' "$T/obj.json" >"$T/o2" && mv "$T/o2" "$T/obj.json"
decide "flux: HelmRepository that does not exist denied" false 'HelmRepository flux-system/missing not found'
# HelmRelease.chartRef -> HelmChart -> HelmRepository, all through the API
HC="$T/api/apis/source.toolkit.fluxcd.io/v1/namespaces/apps/helmcharts"
mkdir -p "$HC" "$T/api/apis/source.toolkit.fluxcd.io/v1/namespaces/apps/helmrepositories"
cp "$API/team" "$T/api/apis/source.toolkit.fluxcd.io/v1/namespaces/apps/helmrepositories/team"
jq -n '{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmChart", metadata: {name: "apps-web", namespace: "apps"},
	spec: {chart: "team-web", version: "1.1.0", sourceRef: {kind: "HelmRepository", name: "team"}}}' >"$HC/apps-web"
jq -n '{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: {name: "web", namespace: "apps"},
	spec: {interval: "5m", chartRef: {kind: "HelmChart", name: "apps-web"}}}' >"$T/obj.json"
OLDSUM=$(sha256sum "$R/team-web-1.1.0.tgz" | cut -d' ' -f1)
decide "flux: HelmRelease chartRef to a HelmChart (two API lookups) allowed" true "digest=sha256:$OLDSUM"
# a HelmChart object itself names its HelmRepository in its own namespace
cp "$HC/apps-web" "$T/obj.json"
decide "flux: HelmChart through its HelmRepository allowed" true "digest=sha256:$OLDSUM"
jq '.spec.sourceRef.kind = "GitRepository"' "$HC/apps-web" >"$T/obj.json"
decide "flux: HelmChart from a GitRepository denied (no provenance to check)" false 'charts from a Flux GitRepository \(apps/team\) carry no provenance'
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

# --- the same through the real server (verification on a worker) ----------
if start_provgate "$T/pol" --ca-file "$PKI/ca.pem" --workers 2; then
	argo "$REPO" team-web 1.2.3
	mkreview "$T/obj.json" argocd CREATE v1 uid-s1 >"$T/in.json"
	out=$(pgcurl --http2 --data-binary @"$T/in.json" "$PG_URL/validate")
	expect_eq "server: signed chart allowed" "$(jq -r .response.allowed <<<"$out")" true
	out=$(pgcurl --http2 --data-binary @"$T/in.json" "$PG_URL/validate")
	if jq -e '.response.allowed' <<<"$out" >/dev/null &&
		grep -c '"cached":true' "$T/provgate.out" | grep -q '^1$'; then
		ok "server: second review of the chart answered from the cache"
	else
		notok "server: second review of the chart answered from the cache" "$(tail -2 "$T/provgate.out")"
	fi
	argo "$REPO" team-bad 1.0.0
	mkreview "$T/obj.json" argocd CREATE v1 uid-s2 >"$T/in.json"
	out=$(pgcurl --http2 --data-binary @"$T/in.json" "$PG_URL/validate")
	expect_match "server: tampered chart denied" "$(jq -r .response.status.message <<<"$out")" 'sha256 sum does not match'
else
	notok "server starts" "$(cat "$T/provgate.err")"
fi
