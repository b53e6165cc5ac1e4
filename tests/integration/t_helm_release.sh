#!/bin/bash
# Helm release Secrets, all of them, whole (issue 10.9): every Secret Helm
# reads as a release (owner=helm label with a `release` key, or the
# sh.helm.release.v1.* name, whatever its type) is checked; the manifests the
# release records (what `helm rollback`/`upgrade` apply) may hold only
# objects of the verified chart's templates (subcharts packed and unpacked
# included), and every image in them (hooks too, and in any kind with a pod
# template, as at top level) must pass the image rules.
# The release JSON must read the same to Helm (Go's case-insensitive keys),
# and its manifests the same to go-yaml (merge keys, tags).
#
# Real components: a chart repository over HTTPS (nghttpd) with a chart
# signed by gpg, a real docker-registry with a cosign-signed and an unsigned
# image; through `provgate review` and the server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_server.sh"

for tool in gpg gpg-connect-agent tar nghttpd jq gzip /usr/bin/docker-registry; do
	command -v $tool >/dev/null || { skip "helm release manifests" "$tool not installed"; exit 0; }
done
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
export HOME="$T/home" GNUPGHOME="$T/gnupg" TMPDIR="$T/tmp" DOCKER_CONFIG="$T/nocfg"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$TMPDIR" "$DOCKER_CONFIG"
test_pki || { notok "test pki"; exit 1; }
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
make_key good || { notok "keys"; exit 1; }
exec 3>&2 2>"$T/tools.err"
gpg --batch --passphrase '' --quick-gen-key "Chart Signer <rel@provgate.test>" ed25519 sign never
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export rel@provgate.test >"$T/charts.gpg"
FPR=$(gpg --with-colons --list-keys rel@provgate.test | awk -F: '/^fpr/{print $10; exit}')
exec 2>&3

# --- images: one signed, one not -------------------------------------------
D_SIGNED=$(make_image apps/signed v1) && sig_payload "$REG/apps/signed" "$D_SIGNED" >"$T/pl" &&
	push_sig apps/signed "$D_SIGNED" "$(sig_layer apps/signed "$T/pl" "$T/good.key")" >/dev/null &&
	make_image apps/unsigned v1 >/dev/null || { notok "push images"; exit 1; }
SIGNED="$REG/apps/signed:v1"
UNSIGNED="$REG/apps/unsigned:v1"

# --- the chart: templates, a partial, a hook, a packed and an unpacked subchart
R="$T/repo/charts"; S="$T/src"; C="$S/relweb"
mkdir -p "$R" "$C/templates" "$C/charts/side/templates" "$S/sub/templates"
printf 'apiVersion: v2\ndescription: release chart\nname: relweb\nversion: 1.0.0\n' >"$C/Chart.yaml"
printf 'replicas: 1\n' >"$C/values.yaml"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: {{ .Values.image }}\n' >"$C/templates/deploy.yaml"
printf '{{- define "relweb.name" -}}relweb{{- end -}}\n' >"$C/templates/_helpers.tpl"
printf 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pre\n  annotations: {"helm.sh/hook": pre-install}\nspec:\n  template:\n    spec:\n      containers:\n      - name: pre\n        image: {{ .Values.image }}\n' >"$C/templates/hook-job.yaml"
printf 'apiVersion: v2\nname: side\nversion: 0.2.0\n' >"$C/charts/side/Chart.yaml"
printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: side\n' >"$C/charts/side/templates/svc.yaml"
printf 'apiVersion: v2\nname: sub\nversion: 0.1.0\n' >"$S/sub/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n' >"$S/sub/templates/cm.yaml"
tar -C "$S" -czf "$C/charts/sub-0.1.0.tgz" sub
tar -C "$S" -czf "$R/relweb-1.0.0.tgz" relweb
{ cat "$C/Chart.yaml"; printf '\n...\nfiles:\n  relweb-1.0.0.tgz: sha256:%s\n' "$(sha256sum "$R/relweb-1.0.0.tgz" | cut -d' ' -f1)"; } |
	gpg --batch --yes -u "$FPR" --clearsign >"$R/relweb-1.0.0.tgz.prov" 2>/dev/null
printf 'apiVersion: v1\nentries:\n  relweb:\n  - name: relweb\n    version: 1.0.0\n    apiVersion: v2\n    urls:\n    - relweb-1.0.0.tgz\n' >"$R/index.yaml"
PORT=$(free_port)
bg nghttpd nghttpd -d "$T/repo" "$PORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$PORT" 10 || { notok "chart repository starts" "$(cat "$T/nghttpd.err")"; exit 1; }
REPO="https://127.0.0.1:$PORT/charts"

mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: releases}
spec:
  mode: enforce
  trust:
    keys:
      good: {path: $T/good.pub}
    keyrings:
      charts: {path: $T/charts.gpg}
  images:
    - name: apps
      match: ["$REG/apps/**"]
      verify:
        - cosign: {key: good}
      tlog: optional
  charts:
    - name: team
      match: ["$REPO/**"]
      repository: $REPO
      chartNames: ["relweb"]
      verify:
        - prov: {keyring: charts}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
YAML
"$PG" policy check "$T/pol" >"$T/pc.out" 2>&1 && ok "policy loads" || { notok "policy loads" "$(cat "$T/pc.out")"; exit 1; }

# Rendered documents as Helm writes them into the release's manifest.
doc() { # SOURCE-or-"" BODY
	if [ -n "$1" ]; then printf -- '---\n# Source: %s\n%s\n' "$1" "$2"; else printf -- '---\n%s\n' "$2"; fi
}
deploy() { printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: rel\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: %s' "$1"; }
job() { printf 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pre\n  annotations: {"helm.sh/hook": pre-install}\nspec:\n  template:\n    spec:\n      containers:\n      - name: pre\n        image: %s' "$1"; }
CM=$'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub'
SVC=$'apiVersion: v1\nkind: Service\nmetadata:\n  name: side'
CRB=$'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: pwn\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: default}]'
FAITHFUL="$(doc relweb/templates/deploy.yaml "$(deploy "$SIGNED")")
$(doc relweb/charts/sub/templates/cm.yaml "$CM")
$(doc relweb/charts/side/templates/svc.yaml "$SVC")"
HOOK_OK=$(jq -cn --arg m "$(job "$SIGNED")" '[{name: "pre", kind: "Job", path: "relweb/templates/hook-job.yaml", manifest: $m, events: ["pre-install"]}]')

# secret TYPE LABELS-json NAME MANIFEST HOOKS-json [TEMPLATE-TAMPER] [JQ-EDIT]
#   a Secret with data.release encoded as the API shows it; JQ-EDIT rewrites
#   the release JSON before it is encoded (keys Helm reads another way)
TPLS="[]"
for f in deploy.yaml _helpers.tpl hook-job.yaml; do
	TPLS=$(jq -c --arg n "templates/$f" --arg d "$(base64 -w0 <"$C/templates/$f")" '. + [{name: $n, data: $d}]' <<<"$TPLS")
done
TPLS_TAMPERED=$(jq -c --arg d "$(printf 'kind: ClusterRoleBinding\n' | base64 -w0)" '.[0].data = $d' <<<"$TPLS")
secret() {
	local type=$1 labels=$2 name=$3 man=$4 hooks=$5 tamper=${6:-} edit=${7:-.} tpls=$TPLS
	[ -n "$tamper" ] && tpls=$TPLS_TAMPERED
	jq -cn --argjson t "$tpls" --arg m "$man" --argjson h "$hooks" '{name: "rel", namespace: "web", version: 1,
		info: {status: "deployed"},
		chart: {metadata: {apiVersion: "v2", description: "release chart", name: "relweb", version: "1.0.0"},
			templates: $t, files: [], values: {replicas: 1}},
		config: {image: "x"}, manifest: $m, hooks: $h}' | jq -c --arg e "${EVIL:-}" "$edit" | gzip -c | base64 -w0 | base64 -w0 >"$T/rel.b64"
	jq -cn --rawfile d "$T/rel.b64" --arg ty "$type" --argjson l "$labels" --arg n "$name" '{apiVersion: "v1", kind: "Secret",
		metadata: {name: $n, labels: $l}, data: {release: ($d | rtrimstr("\n"))}}
		| if $ty == "" then . else .type = $ty end'
}
HL='{"owner":"helm","name":"rel","status":"deployed","version":"1"}'
RN=sh.helm.release.v1.rel.v1
# What a smuggled key carries: an unsigned image and an object of no template.
EVIL="$(doc relweb/templates/deploy.yaml "$(deploy "$UNSIGNED")")
$(doc "" "$CRB")"
# release EDIT: the faithful release (signed images, hook) rewritten by EDIT
release() { secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL" "$HOOK_OK" "" "$1"; }
# manifest MANIFEST: a release of the chart's templates holding MANIFEST
manifest() { secret helm.sh/release.v1 "$HL" $RN "$1" "$HOOK_OK"; }
# podt APIVERSION KIND IMAGE: an object of deploy.yaml with a pod template
podt() { doc relweb/templates/deploy.yaml "$(printf 'apiVersion: %s\nkind: %s\nmetadata:\n  name: rel\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: %s' "$1" "$2" "$3")"; }
# A Deployment whose container is written by YAML go-yaml resolves (merge
# keys, tags): ydeploy KIND-LINE CONTAINER-LINES (indented 8)
ydeploy() { doc relweb/templates/deploy.yaml "$(printf 'apiVersion: apps/v1\n%s\nmetadata:\n  name: rel\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n%s' "$1" "$2")"; }

# name|object|want|ERE (on the message when denied, on the annotations when allowed)
cases() {
	cat <<EOF
faithful release (helm.sh/release.v1): chart, subcharts, hook and signed images verified|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL" "$HOOK_OK")|true|release://release allow rule=team.*$REG/apps/signed:v1 allow rule=apps digest=$D_SIGNED
faithful release in an Opaque Secret labelled owner=helm: allowed (near miss)|$(secret Opaque "$HL" rel-any "$FAITHFUL" "$HOOK_OK")|true|release://release allow rule=team
Opaque Secret labelled owner=helm with a changed template: checked and denied|$(secret Opaque "$HL" rel-any "$FAITHFUL" "$HOOK_OK" tamper)|false|differs from the verified archive: templates/deploy.yaml
untyped, unlabelled Secret named sh.helm.release.v1.*: checked and denied|$(secret "" '{}' $RN "$FAITHFUL" "$HOOK_OK" tamper)|false|differs from the verified archive
a Secret Helm never reads as a release (no owner=helm, other name): not a release|$(secret Opaque '{"app":"x"}' not-helm "$FAITHFUL" "$HOOK_OK" tamper)|true|^
manifest object with no # Source: line: denied|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL
$(doc "" "$CRB")" "$HOOK_OK")|false|names no template.*ClusterRoleBinding|ClusterRoleBinding.*names no template
manifest object from a template the chart does not have: denied|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL
$(doc relweb/templates/rbac.yaml "$CRB")" "$HOOK_OK")|false|ClusterRoleBinding pwn comes from relweb/templates/rbac.yaml, which is not a template
object hidden after a '--- ' line inside a sourced document: denied|$(secret helm.sh/release.v1 "$HL" $RN "$(doc relweb/templates/deploy.yaml "$(deploy "$SIGNED")
--- # more
$CRB")" "$HOOK_OK")|false|names no template
manifest object claiming a partial (_helpers.tpl): denied|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL
$(doc relweb/templates/_helpers.tpl "$CRB")" "$HOOK_OK")|false|_helpers.tpl, which is not a template
manifest object from a subchart template that does not exist: denied|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL
$(doc relweb/charts/sub/templates/nope.yaml "$CM")" "$HOOK_OK")|false|charts/sub/templates/nope.yaml, which is not a template
manifest with an unsigned image: denied, naming it and where|$(secret helm.sh/release.v1 "$HL" $RN "$(doc relweb/templates/deploy.yaml "$(deploy "$UNSIGNED")")" "$HOOK_OK")|false|$REG/apps/unsigned:v1 deny: no signatures found
manifest with an image no rule matches: denied|$(secret helm.sh/release.v1 "$HL" $RN "$(doc relweb/templates/deploy.yaml "$(deploy docker.io/library/nginx:1.25)")" "$HOOK_OK")|false|docker.io/library/nginx:1.25 deny: no policy rule matches
an unsigned image inside a List's items: denied|$(secret helm.sh/release.v1 "$HL" $RN "$(doc relweb/templates/deploy.yaml "apiVersion: v1
kind: List
items:
- $(deploy "$UNSIGNED" | sed '2,$s/^/  /')")" "$HOOK_OK")|false|$REG/apps/unsigned:v1 deny
hook with an unsigned image: denied|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL" "$(jq -cn --arg m "$(job "$UNSIGNED")" '[{name: "pre", kind: "Job", path: "relweb/templates/hook-job.yaml", manifest: $m}]')")|false|$REG/apps/unsigned:v1 deny
Helm reads JSON keys case-insensitively, last wins: a later "Manifest" is denied|$(release '. + {Manifest: $e}')|false|release has the key "Manifest" where Helm reads "manifest"
only a "MANIFEST" key (nothing under "manifest"): denied|$(release 'del(.manifest) + {MANIFEST: $e}')|false|release has the key "MANIFEST" where Helm reads "manifest"
"manife\u017ft" (LONG S folds to s) is Helm's manifest too: denied|$(release '. + {"manife\u017ft": $e}')|false|key "manifeſt" where Helm reads "manifest"
a second hooks list spelled "Hooks": denied|$(release '. + {Hooks: [{name: "pre", path: "relweb/templates/evil.yaml", manifest: $e}]}')|false|key "Hooks" where Helm reads "hooks"
a second chart spelled "Chart": denied|$(release '. + {Chart: (.chart | .metadata.version = "6.6.6")}')|false|key "Chart" where Helm reads "chart"
a hook's manifest spelled "Manifest" in hooks[0]: denied|$(release '.hooks[0] += {Manifest: $e}')|false|key "hooks\[0\]\.Manifest" where Helm reads "hooks\[0\]\.manifest"
a template's data spelled "DATA" in chart.templates[0]: denied|$(release '.chart.templates[0] += {DATA: "a2luZDogQ2x1c3RlclJvbGVCaW5kaW5nCg=="}')|false|key "chart\.templates\[0\]\.DATA" where Helm reads "chart\.templates\[0\]\.data"
chart.metadata "\u212AubeVersion" (KELVIN SIGN folds to k): denied|$(release '.chart.metadata += {"\u212AubeVersion": ">=99"}')|false|key "chart\.metadata\.KubeVersion" where Helm reads "chart\.metadata\.kubeVersion"
chart.metadata.version spelled twice ("Version" too): denied|$(release '.chart.metadata += {Version: "6.6.6"}')|false|key "chart\.metadata\.Version" where Helm reads "chart\.metadata\.version"
the user's values (config) may hold any keys, "Manifest" too: allowed (near miss)|$(release '.config += {Manifest: $e, MANIFEST: 1, "manife\u017ft": 2}')|true|release://release allow rule=team.*$REG/apps/signed:v1 allow
keys no Helm field folds to ("manifests", "Manifest_", "hook"): allowed (near miss)|$(release '. + {manifests: $e, Manifest_: $e, hook: [{manifest: $e}]}')|true|release://release allow rule=team.*$REG/apps/signed:v1 allow
a YAML merge key gives the container its image (go-yaml merges <<): denied|$(manifest "$(ydeploy 'kind: Deployment' "        <<: {image: \"$UNSIGNED\"}")")|false|release manifest relweb/templates/deploy.yaml: unsupported YAML: merge key \(<<\) at line 12
kind: !!binary RGVwbG95bWVudA== is a Deployment to go-yaml: denied|$(manifest "$(ydeploy 'kind: !!binary RGVwbG95bWVudA==' "        image: $UNSIGNED")")|false|unsupported YAML: tag "tag:yaml.org,2002:binary" at line 4
a !!binary key is "image" to go-yaml: denied|$(manifest "$(ydeploy 'kind: Deployment' "        !!binary aW1hZ2U=: $UNSIGNED")")|false|unsupported YAML: tag "tag:yaml.org,2002:binary" at line 12
the verbatim form !<tag:yaml.org,2002:binary> is !!binary too: denied|$(manifest "$(ydeploy 'kind: !<tag:yaml.org,2002:binary> RGVwbG95bWVudA==' "        image: $UNSIGNED")")|false|unsupported YAML: tag "tag:yaml.org,2002:binary" at line 4
core tags (!!str, !!int, !!map, the full tag:yaml.org,2002 form) and "<<" as a value: allowed (near miss)|$(manifest "$(ydeploy 'kind: !!str Deployment' "        image: !<tag:yaml.org,2002:str> $SIGNED
        args: !!seq [\"<<\", !!int 1]
        env: [!!map {name: A, value: <<}]")")|true|release://release allow rule=team.*$REG/apps/signed:v1 allow rule=apps digest=$D_SIGNED
an Argo Rollout (a kind outside the table) with an unsigned image: denied, as at top level|$(manifest "$(podt argoproj.io/v1alpha1 Rollout "$UNSIGNED")")|false|$REG/apps/unsigned:v1 deny: no signatures found.*release manifest relweb/templates/deploy.yaml: spec.template.spec.containers\[0\]
a Knative Service (not the core Service) with an unsigned image: denied|$(manifest "$(podt serving.knative.dev/v1 Service "$UNSIGNED")")|false|$REG/apps/unsigned:v1 deny: no signatures found
a Secret of another API group with a pod template: read, not skipped as a core Secret: denied|$(manifest "$(podt example.com/v1 Secret "$UNSIGNED")")|false|$REG/apps/unsigned:v1 deny: no signatures found
an Argo Rollout with the signed image, no hooks: allowed, its image verified (near miss)|$(secret helm.sh/release.v1 "$HL" $RN "$(podt argoproj.io/v1alpha1 Rollout "$SIGNED")" '[]')|true|release://release allow rule=team.*$REG/apps/signed:v1 allow rule=apps digest=$D_SIGNED
hook whose path is not a template: denied|$(secret helm.sh/release.v1 "$HL" $RN "$FAITHFUL" "$(jq -cn --arg m "$(job "$SIGNED")" '[{name: "pre", kind: "Job", path: "relweb/templates/evil.yaml", manifest: $m}]')")|false|release hook: Job pre comes from relweb/templates/evil.yaml
EOF
}

check_out() { # WHERE NAME WANT RE OUT LOG
	local got text
	# one jq: allowed, and the annotations (allowed) or the message (denied)
	text=$(jq -r '[(.response.allowed|tostring), (if .response.allowed then
		[.response.auditAnnotations // {} | .[]] | join("; ") else .response.status.message // "" end)]
		| join("\u001f")' <<<"$5" 2>/dev/null)
	split_fields "$text" got text
	if [ "$got" = "$3" ] && [[ $text =~ $4 ]]; then ok "$1: $2"; else notok "$1: $2" "allowed=$got: $text ${6:0:300}"; fi
}

# the cases are made once (each is several jq, gzip and base64 runs); the
# server reads the same review files
cases >"$T/cases"
i=0
while IFS='|' read -r name obj want re; do
	i=$((i + 1))
	printf '%s' "$obj" >"$T/obj.$i.json"
	mkreview "$T/obj.$i.json" web CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" --timeout-ms 15000 "$T/rv.$i.json" 2>"$T/log.$i")
	check_out review "$name" "$want" "$re" "$out" "$(tail -c 300 "$T/log.$i")"
done <"$T/cases"
# The admission log names each image of the release with where it was found.
if jq -e --arg d "$D_SIGNED" '[.references[] | select(.type == "image" and .digest == $d and (.where | startswith("release manifest relweb/templates/deploy.yaml")))] | length == 1' \
	<(tail -n 1 "$T/log.1") >/dev/null 2>&1; then ok "review: the log names the release's image, its digest and its template"; else
	notok "review: the log names the release's image, its digest and its template" "$(tail -n 1 "$T/log.1" | head -c 600)"; fi

if start_provgate "$T/pol" --ca-file "$PKI/ca.pem" --workers 2 --timeout-ms 15000; then
	i=0
	while IFS='|' read -r name obj want re; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		check_out server "$name" "$want" "$re" "$out" "$(grep -F "\"uid-$i\"" "$T/provgate.out" | tail -n 1)"
	done <"$T/cases"
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi
