#!/bin/bash
# Issue 10 items 3-6, through `provgate review` and the real server, against
# a chart repository served over real HTTPS (nghttpd) and a real
# docker-registry (TLS, loopback), charts signed here by gpg:
#   3  what the GitOps tool deploys: OCIRepository digest > semver > tag >
#      latest; version ranges denied unless allowVersionRanges (then verified
#      now, with a warning); Argo CD's native OCI source (no chart)
#   4  HelmRepository (default and oci types) URL matched on CREATE/UPDATE
#   5  the archive is the chart asked for: file name, .prov metadata and
#      Chart.yaml name/version (index.yaml is unauthenticated)
#   6  chart URLs parsed and normalised before they are matched
# Every attack has its near miss that must still be allowed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_registry.sh"

for tool in gpg gpg-connect-agent tar nghttpd jq gzip docker-registry curl; do
	command -v $tool >/dev/null || { skip "chart gitops" "$tool not installed"; exit 0; }
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

# chart NAME VERSION [CHARTYAML_NAME CHARTYAML_VERSION]: sources in
# $T/src/NAME-VERSION, archive $R/NAME-VERSION.tgz whose Chart.yaml says the
# optional other name/version
chart() {
	local n=$1 v=$2 cn=${3:-$1} cv=${4:-$2} s="$T/src/$1-$2"
	mkdir -p "$s/$cn/templates"
	printf 'apiVersion: v2\ndescription: chart %s\nname: %s\nversion: %s\n' "$cn" "$cn" "$cv" >"$s/$cn/Chart.yaml"
	printf 'kind: ConfigMap\n' >"$s/$cn/templates/cm.yaml"
	tar -C "$s" -czf "$R/$n-$v.tgz" "$cn"
}
# sign FILE.tgz META_NAME META_VERSION: a .prov signed by the trusted key,
# its metadata naming META_NAME/META_VERSION, its files: entry FILE.tgz
sign() {
	local f="$R/$1"
	{ printf 'apiVersion: v2\nname: %s\nversion: %s\n' "$2" "$3"
	  printf '\n...\nfiles:\n  %s: sha256:%s\n' "$1" "$(sha256sum "$f" | cut -d' ' -f1)"; } |
		gpg --batch --yes -u "$FPR" --clearsign >"$f.prov"
}
chart team-web 1.2.3; sign team-web-1.2.3.tgz team-web 1.2.3
chart team-web 1.1.0; sign team-web-1.1.0.tgz team-web 1.1.0
chart team-web 2.0.0-rc.1; sign team-web-2.0.0-rc.1.tgz team-web 2.0.0-rc.1
chart team-b 1.0.0; sign team-b-1.0.0.tgz team-b 1.0.0        # validly signed chart B
chart team-a 1.0.0; sign team-a-1.0.0.tgz team-a 1.0.0        # near miss: chart A itself
# a signed archive whose file name says A but whose .prov metadata and
# Chart.yaml say B (a legitimately signed chart renamed on the server)
chart team-p 1.0.0 team-b 1.0.0; sign team-p-1.0.0.tgz team-b 1.0.0
# .prov says C 1.0.0 (signed, file name C), the archive's Chart.yaml says D
chart team-c 1.0.0 team-d 1.0.0; sign team-c-1.0.0.tgz team-c 1.0.0
# file name and .prov say 1.0.1, Chart.yaml says 1.0.0
chart team-v 1.0.1 team-v 1.0.0; sign team-v-1.0.1.tgz team-v 1.0.1
entry() { # NAME VERSION URL
	printf '  - name: %s\n    version: %s\n    apiVersion: v2\n    urls:\n    - %s\n' "$1" "$2" "$3"
}
{
	echo "apiVersion: v1"; echo "entries:"
	echo "  team-web:"
	entry team-web 1.2.3 team-web-1.2.3.tgz; entry team-web 1.1.0 team-web-1.1.0.tgz
	entry team-web 2.0.0-rc.1 team-web-2.0.0-rc.1.tgz
	echo "  team-a:"
	entry team-a 1.0.0 team-a-1.0.0.tgz
	# the attack of the issue: A 1.0.0 mapped to B's validly signed archive
	entry team-a 1.0.1 team-b-1.0.0.tgz
	echo "  team-p:"; entry team-p 1.0.0 team-p-1.0.0.tgz
	echo "  team-c:"; entry team-c 1.0.0 team-c-1.0.0.tgz
	echo "  team-v:"; entry team-v 1.0.1 team-v-1.0.1.tgz
} >"$R/index.yaml"

PORT=$(free_port)
bg nghttpd nghttpd -d "$T/repo" "$PORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$PORT" 10 || { notok "chart repository starts" "$(cat "$T/nghttpd.err")"; exit 1; }
REPO="https://127.0.0.1:$PORT/charts"
# a second HTTPS server no rule names: it must never be contacted
FPORT=$(free_port)
bg forbidden nghttpd -v -d "$T/repo" "$FPORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$FPORT" 10
: >"$T/forbidden.out"
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }

# --- OCI charts in the real registry ----------------------------------------
MT_HELM_CONFIG=application/vnd.cncf.helm.config.v1+json
MT_HELM_CONTENT=application/vnd.cncf.helm.chart.content.v1.tar+gzip
MT_HELM_PROV=application/vnd.cncf.helm.chart.provenance.v1.prov
# push_oci NAME TAG [unsigned|tampered|META_VERSION]: prints the manifest digest
push_oci() {
	local n=$1 v=$2 mode=${3:-signed} d="$T/oci-$1-$2" cv=$2
	case "$mode" in signed | unsigned | tampered) ;; *) cv=$mode ;; esac
	mkdir -p "$d/src/$n/templates"
	printf 'apiVersion: v2\ndescription: oci %s\nname: %s\nversion: %s\n' "$n" "$n" "$cv" >"$d/src/$n/Chart.yaml"
	printf 'kind: ConfigMap\n' >"$d/src/$n/templates/cm.yaml"
	tar -C "$d/src" -czf "$d/c.tgz" "$n"
	printf '{"apiVersion":"v2","name":"%s","version":"%s"}' "$n" "$cv" >"$d/config.json"
	{ cat "$d/src/$n/Chart.yaml"; printf '\n...\nfiles:\n  %s-%s.tgz: sha256:%s\n' "$n" "$v" "$(sha256sum "$d/c.tgz" | cut -d' ' -f1)"; } |
		gpg --batch --yes -u "$FPR" --clearsign >"$d/prov" 2>/dev/null
	[ "$mode" = tampered ] && printf ' ' >>"$d/c.tgz"
	push_blob "charts/$n" "$d/config.json" >/dev/null && push_blob "charts/$n" "$d/c.tgz" >/dev/null || return 1
	local layers
	layers=$(desc_of "$d/c.tgz" "$MT_HELM_CONTENT")
	if [ "$mode" != unsigned ]; then
		push_blob "charts/$n" "$d/prov" >/dev/null || return 1
		layers="$layers,$(desc_of "$d/prov" "$MT_HELM_PROV")"
	fi
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" "$MT_HELM_CONFIG")" "$layers" >"$d/manifest.json"
	push_manifest "charts/$n" "$v" "$d/manifest.json" "$MT_OCI_MANIFEST"
}
OCI_GOOD=$(push_oci web 1.0.0) || { notok "push OCI chart"; exit 1; }
push_oci web 1.0.1 tampered >/dev/null
push_oci web latest >/dev/null
push_oci web 2.0.0 1.0.0 >/dev/null   # tag 2.0.0, prov for web-2.0.0.tgz, but it says 1.0.0
push_oci web 1.2.0 >/dev/null
push_oci web 1.2.1-rc.1 tampered >/dev/null   # a prerelease: no plain range picks it
push_oci web v1.3.0 >/dev/null
push_oci web 1.3.0 >/dev/null                 # same precedence as v1.3.0
push_oci lit 1.4.0 >/dev/null
push_oci lit 1.4.x unsigned >/dev/null        # a tag spelled like a range
exec 2>&3

policy() { # DIR ALLOW_RANGES(true|false)
	mkdir -p "$1"
	cat >"$1/policy.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: gitops}
spec:
  trust:
    keyrings:
      charts: {path: $T/charts.gpg}
  charts:
    - name: team
      match: ["$REPO/**", "https://localhost:$PORT/charts/**", "https://c.example.test/charts/**"]
      allowVersionRanges: $2
      repository: $REPO
      chartNames: ["team-*"]
      verify:
        - prov: {keyring: charts}
    - name: oci
      match: ["oci://$REG/charts/**"]
      allowVersionRanges: $2
      verify:
        - prov: {keyring: charts}
YAML
}
policy "$T/strict" false
policy "$T/ranges" true

# review NAME WANT REGEX POLICY [OP]: $T/obj.json through `provgate review`;
# answer_of JSON: GOT (allowed) and text (status message | warnings |
# annotations), read with one jq; text is the caller's local.
answer_of() {
	local all
	all=$(jq -r '[(.response.allowed|tostring), (.response.status.message // "") + " | " +
		((.response.warnings // []) | join("; ")) + " | " + ([.response.auditAnnotations[]] | join("; "))]
		| join("\u001f")' <<<"$1" 2>/dev/null)
	split_fields "$all" GOT text
}

# REGEX is matched against the status message, the warnings and the
# annotations; the log line is in $T/log.  OLD=FILE (in $T): the oldObject.
review() {
	local name=$1 want=$2 re=$3 pol=$4 op=${5:-CREATE} out text
	mkreview "$T/obj.json${OLD:+<$OLD}" "${NS:-apps}" "$op" v1 "uid-x" >"$T/in.json"
	out=$("$PG" review --policy "$pol" --ca-file "$PKI/ca.pem" --timeout-ms 8000 "$T/in.json" 2>"$T/log")
	cat "$T/log" >>"$T/reviews.err" # scanned for sanitizer reports at exit
	printf '%s' "$out" >"$T/out.json"
	answer_of "$out"
	if [ "$GOT" = "$want" ] && [[ $text =~ $re ]]; then ok "$name"; else notok "$name" "$text"; fi
}
argo() { # REPO CHART [REV]
	jq -n --arg r "$1" --arg c "$2" --arg v "${3:-}" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
		metadata: {name: "app", namespace: "argocd"},
		spec: {source: ({repoURL: $r, chart: $c} + (if $v == "" then {} else {targetRevision: $v} end))}}' >"$T/obj.json"
}
argo_oci() { # URL [REV]: Argo CD >= 3.1 native OCI source, no chart (path "." inside the artifact)
	jq -n --arg r "$1" --arg v "${2:-}" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
		metadata: {name: "app", namespace: "argocd"},
		spec: {source: ({repoURL: $r, path: "."} + (if $v == "" then {} else {targetRevision: $v} end))}}' >"$T/obj.json"
}
ocirepo() { # JSON-REF
	jq -n --arg u "oci://$REG/charts/web" --argjson r "$1" '{apiVersion: "source.toolkit.fluxcd.io/v1beta2",
		kind: "OCIRepository", metadata: {name: "w"}, spec: ({url: $u, interval: "5m"} + (if $r == null then {} else {ref: $r} end))}' >"$T/obj.json"
}
logref() { jq -c '.references[0] | {chart, version, digest}' "$T/log" 2>/dev/null | tail -1; }
sum() { echo "sha256:$(sha256sum "$R/$1" | cut -d' ' -f1)"; }

# --- item 5: the chart that was asked for -----------------------------------
argo "$REPO" team-a 1.0.0
review "binding: chart A 1.0.0, signed, all names agree: allowed (near miss)" true "digest=$(sum team-a-1.0.0.tgz)" "$T/strict"
argo "$REPO" team-a 1.0.1
review "binding: index maps A 1.0.1 to B's validly signed archive: denied" false \
	'team-a 1.0.1: the archive is team-b-1.0.0.tgz, not team-a-1.0.1.tgz' "$T/strict"
argo "$REPO" team-p 1.0.0
review "binding: archive named A, signed .prov metadata says B: denied" false \
	'team-p 1.0.0: its provenance is signed for chart team-b 1.0.0' "$T/strict"
argo "$REPO" team-c 1.0.0
review "binding: .prov says C, the archive's Chart.yaml says D: denied" false \
	"team-c 1.0.0: the archive's Chart.yaml says chart team-d 1.0.0" "$T/strict"
argo "$REPO" team-v 1.0.1
review "binding: file name and .prov say 1.0.1, Chart.yaml says 1.0.0: denied" false \
	"team-v 1.0.1: the archive's Chart.yaml says chart team-v 1.0.0" "$T/strict"
argo "$REPO" team-web 1.2.3
review "log: chart name, version and digest of a chart reference" true 'allow' "$T/strict"
expect_eq "log: chart, version, digest recorded" "$(logref)" \
	"{\"chart\":\"team-web\",\"version\":\"1.2.3\",\"digest\":\"$(sum team-web-1.2.3.tgz)\"}"

# --- item 3: ranges ------------------------------------------------------------
argo "$REPO" team-web ">=1.0.0 <2.0.0"
review "range: Argo targetRevision range denied by default, saying why" false \
	'version range ">=1.0.0 <2.0.0" of chart team-web is resolved again by Argo CD later.*allowVersionRanges: true on rule team' "$T/strict"
review "range: with allowVersionRanges resolved now, verified, warned" true \
	"digest=$(sum team-web-1.2.3.tgz).*" "$T/ranges"
expect_match "range: the warning says later versions are not covered" \
	"$(jq -r '.response.warnings[0]' "$T/out.json")" 'was resolved and verified now.*versions Argo CD resolves later are not covered'
expect_eq "range: the log records the version it resolved to" "$(logref)" \
	"{\"chart\":\"team-web\",\"version\":\"1.2.3\",\"digest\":\"$(sum team-web-1.2.3.tgz)\"}"
argo "$REPO" team-web 1.2
review "range: a partial version (1.2) is a range too" false 'version range "1.2" of chart team-web' "$T/strict"
argo "$REPO" team-web
review "range: no targetRevision (the newest) denied" false 'no version \(the newest\) for chart team-web' "$T/strict"
review "range: no targetRevision with allowVersionRanges: newest stable (not the rc)" true \
	"digest=$(sum team-web-1.2.3.tgz)" "$T/ranges"
argo "$REPO" team-web 1.1.0
review "range: an exact version has no warning (near miss)" true '^ \|  \|' "$T/strict"

# Flux OCIRepository: precedence and ranges
ocirepo "{\"tag\": \"1.0.1\", \"digest\": \"$OCI_GOOD\"}"
review "flux OCIRepository digest + tag: the digest wins (signed), not the tampered tag" true \
	"digest=sha256:" "$T/strict"
ocirepo '{"tag": "1.0.1"}'
review "flux OCIRepository the same tag alone: tampered, denied (near miss)" false 'sha256 sum does not match' "$T/strict"
ocirepo '{"tag": "1.0.0"}'
review "flux OCIRepository tag 1.0.0 allowed" true "allow" "$T/strict"
ocirepo '{"tag": "1.0.0", "semver": ">=1.0.0"}'
review "flux OCIRepository semver (wins over tag) is a range: denied" false \
	'version range ">=1.0.0" of chart web is resolved again by Flux later' "$T/strict"
review "flux OCIRepository semver with allowVersionRanges: the highest tag (2.0.0) verified, its binding fails" false \
	'web 2.0.0: its provenance is signed for chart web 1.0.0' "$T/ranges"
ocirepo '{"semver": "1.2.x"}'
review "flux OCIRepository semver 1.2.x with allowVersionRanges: tag 1.2.0 from the tag list, not the rc, warned" true \
	'versions Flux resolves later are not covered.*/charts/web:1.2.x allow' "$T/ranges"
expect_eq "flux OCIRepository semver: the log records the tag it resolved to" "$(jq -r '.references[0].version' "$T/log")" 1.2.0
# Argo CD and helm pull a tag spelled exactly like the range before they
# resolve it: with such a tag the pick is not certain.
argo "oci://$REG/charts" lit 1.4.x
review "argo OCI range 1.4.x, allowVersionRanges, and a tag named 1.4.x: denied" false \
	'version range "1.4.x" of .* is also a tag of that name' "$T/ranges"
argo "oci://$REG/charts" lit "~1.4.0"
review "argo OCI range ~1.4.0, allowVersionRanges, no tag of that name: 1.4.0 verified (near miss)" true \
	'/charts/lit:~1.4.0 allow' "$T/ranges"
# Flux applies ref.semverFilter before it picks; provgate does not, so the
# tag it would verify (1.2.0) need not be Flux's (here the rc): refused.
ocirepo '{"semver": "1.2.x", "semverFilter": ".*-rc.*"}'
review "flux OCIRepository semver with a semverFilter, allowVersionRanges: denied, Flux's pick is not ours" false \
	'spec.ref.semverFilter, which provgate does not apply' "$T/ranges"
ocirepo '{"semver": "1.2.x", "semverFilter": ""}'
review "flux OCIRepository semver with an empty semverFilter: as without one, allowed (near miss)" true \
	'/charts/web:1.2.x allow' "$T/ranges"
ocirepo '{"semver": "~1.3.0"}'
review "flux OCIRepository semver matching two tags of equal precedence (1.3.0, v1.3.0): denied, not guessed" false \
	'several tags have the precedence' "$T/ranges"
# ref.semver is a constraint even when it looks like one version: Flux's
# "1.3.0" matches the tags 1.3.0 and v1.3.0 and takes whichever the
# registry lists first (both are here; only the tag form is a pin)
ocirepo '{"semver": "1.3.0"}'
review "flux OCIRepository semver that looks like one version (1.3.0) is a range: denied" false \
	'version range "1.3.0" of chart web is resolved again by Flux later' "$T/strict"
review "flux OCIRepository semver 1.3.0 with allowVersionRanges: tags 1.3.0 and v1.3.0 both match, denied" false \
	'version range "1.3.0" of .*several tags have the precedence' "$T/ranges"
ocirepo '{"tag": "1.3.0"}'
review "flux OCIRepository tag 1.3.0: one tag, pinned, allowed (near miss)" true '/charts/web:1.3.0 allow rule=oci' "$T/strict"
ocirepo '{"semver": "1.2.0"}'
review "flux OCIRepository semver 1.2.0 with allowVersionRanges: the one matching tag verified, warned (near miss)" true \
	'versions Flux resolves later are not covered.*/charts/web:1.2.0 allow' "$T/ranges"
# UPDATE: the same text as a tag, then as a range, is not "unchanged"
ocirepo '{"tag": "1.2"}'
cp "$T/obj.json" "$T/old.json"
ocirepo '{"semver": "1.2"}'
OLD=old.json review "flux OCIRepository UPDATE tag 1.2 -> semver 1.2: a new range, checked, denied" false \
	'version range "1.2" of chart web is resolved again by Flux later' "$T/strict" UPDATE
ocirepo '{"tag": "1.0.0"}'
cp "$T/obj.json" "$T/old.json"
ocirepo '{"semver": "1.0.0"}'
OLD=old.json review "flux OCIRepository UPDATE tag 1.0.0 -> semver 1.0.0: checked, denied" false \
	'version range "1.0.0" of chart web is resolved again by Flux later' "$T/strict" UPDATE
ocirepo '{"tag": "1.0.0"}'
OLD=old.json review "flux OCIRepository UPDATE keeping tag 1.0.0: references unchanged, skipped (near miss)" true \
	'skip; references unchanged' "$T/strict" UPDATE
ocirepo '{"semver": "1.2.x"}'
cp "$T/obj.json" "$T/old.json"
OLD=old.json review "flux OCIRepository UPDATE keeping semver 1.2.x: references unchanged, skipped (near miss)" true \
	'skip; references unchanged' "$T/strict" UPDATE
ocirepo null
review "flux OCIRepository without ref (latest) denied" false 'no version \(the newest\) for chart web' "$T/strict"
review "flux OCIRepository without ref, allowVersionRanges: latest verified, warned" true \
	'versions Flux resolves later are not covered' "$T/ranges"
ocirepo '{"tag": "2.0.0"}'
review "flux OCIRepository tag 2.0.0 whose chart says 1.0.0 (signed for the tag's file name): denied" false \
	'web 2.0.0: its provenance is signed for chart web 1.0.0' "$T/strict"
argo "$REG/charts" web ">=1.0.0"
review "argo OCI range denied" false 'resolved again by Argo CD later' "$T/strict"
argo "$REG/charts" web ">=1.2.0 <1.3.0"
review "argo OCI range with allowVersionRanges: 1.2.0 (not the tampered rc) allowed with the warning" true \
	'versions Argo CD resolves later are not covered' "$T/ranges"
expect_eq "argo OCI range: the log records the tag it resolved to" "$(jq -r '.references[0].version' "$T/log")" 1.2.0
argo "$REG/charts" web "~1.0.1"
review "argo OCI range with allowVersionRanges resolving to the tampered 1.0.1: denied" false \
	'sha256 sum does not match' "$T/ranges"
argo "$REG/charts" web HEAD
review "argo OCI chart at HEAD, allowVersionRanges: denied, saying it is no version and no range" false \
	'web:HEAD: "HEAD" is neither one version nor a version range, pin a tag or digest' "$T/ranges"
# Argo CD native OCI source (3.1+): repoURL oci://host/path/name, no chart,
# targetRevision a tag, digest or constraint; before, not a reference at all
argo_oci "oci://$REG/charts/web" 1.0.0
review "argo native OCI source, signed 1.0.0: allowed (near miss)" true "digest=$OCI_GOOD" "$T/strict"
expect_eq "argo native OCI source: the log records chart, version and digest" "$(logref)" \
	"{\"chart\":\"web\",\"version\":\"1.0.0\",\"digest\":\"$OCI_GOOD\"}"
argo_oci "oci://$REG/charts/web" "$OCI_GOOD"
review "argo native OCI source pinned by digest: allowed (near miss)" true "digest=$OCI_GOOD" "$T/strict"
argo_oci "oci://127.0.0.1:$FPORT/charts/web" 1.0.0
review "argo native OCI source on a host no rule names: denied, located at its repoURL" false \
	"no policy rule matches oci://127.0.0.1:$FPORT/charts/web:1.0.0 \[at spec.source.repoURL\]" "$T/strict"
argo_oci "oci://$REG/charts/web" 1.0.1
review "argo native OCI source, tampered tag: denied" false 'sha256 sum does not match' "$T/strict"
argo_oci "oci://$REG/charts/web" ">=1.2.0 <1.3.0"
review "argo native OCI source, range: denied without allowVersionRanges" false \
	'version range ">=1.2.0 <1.3.0" of chart web is resolved again by Argo CD later' "$T/strict"
review "argo native OCI source, range with allowVersionRanges: 1.2.0 verified, warned" true \
	'versions Argo CD resolves later are not covered' "$T/ranges"
expect_eq "argo native OCI source, range: the log records the tag it resolved to" "$(jq -r '.references[0].version' "$T/log")" 1.2.0
argo_oci "oci://$REG/charts/web"
review "argo native OCI source without targetRevision: denied" false 'no version \(the newest\) for chart web' "$T/strict"
review "argo native OCI source without targetRevision, allowVersionRanges: still denied" false \
	'names no version: pin a tag or digest' "$T/ranges"
argo_oci "oci://$REG/charts/web" HEAD
review "argo native OCI source at HEAD: denied" false 'version range "HEAD" of chart web' "$T/strict"
review "argo native OCI source at HEAD, allowVersionRanges: still denied" false \
	"\"HEAD\" is neither one version nor a version range, pin a tag or digest" "$T/ranges"
jq -n --arg g "https://127.0.0.1:$FPORT/git" --arg o "oci://$REG/charts/web" '{apiVersion: "argoproj.io/v1alpha1",
	kind: "Application", metadata: {name: "app"}, spec: {sources: [{repoURL: $g, path: "k8s", targetRevision: "HEAD"},
	{repoURL: $o, path: ".", targetRevision: "1.0.1"}]}}' >"$T/obj.json"
review "argo native OCI source in spec.sources[], tampered: denied at its repoURL" false \
	'sha256 sum does not match.*spec.sources\[1\].repoURL' "$T/strict"
jq '.spec.sources[1].targetRevision = "1.0.0"' "$T/obj.json" >"$T/obj2.json" && mv "$T/obj2.json" "$T/obj.json"
review "argo native OCI source in spec.sources[], signed, beside a git source: allowed (near miss)" true \
	"digest=$OCI_GOOD" "$T/strict"
expect_eq "argo native OCI source in spec.sources[]: its one reference (the git source is none)" "$(jq -c '[.references[].where]' "$T/log")" \
	'["spec.sources[1].repoURL"]'
cp "$T/obj.json" "$T/old.json"
OLD=old.json review "argo native OCI source unchanged on UPDATE: skipped as unchanged (near miss)" true \
	'references unchanged' "$T/strict" UPDATE
# the old object's one chart kept, a native OCI source added: not "unchanged"
argo "$REG/charts" web 1.0.0
cp "$T/obj.json" "$T/old.json"
jq --arg o "oci://127.0.0.1:$FPORT/charts/web" '.spec.sources = [.spec.source, {repoURL: $o, path: ".", targetRevision: "1.0.0"}]
	| del(.spec.source)' "$T/old.json" >"$T/obj.json"
OLD=old.json review "argo native OCI source added on UPDATE beside the old chart: checked, denied" false \
	"no policy rule matches oci://127.0.0.1:$FPORT/charts/web:1.0.0 \\[at spec.sources\\[1\\].repoURL\\]" "$T/strict" UPDATE

# Flux HelmRelease through its HelmRepository (real HTTPS API endpoint)
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
hr() { jq -n --arg v "$1" '{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: {name: "web"},
	spec: {interval: "5m", chart: {spec: ({chart: "team-web",
	sourceRef: {kind: "HelmRepository", name: "team", namespace: "flux-system"}} + (if $v == "" then {} else {version: $v} end))}}}' >"$T/obj.json"; }
hr 1.2.x
review "flux HelmRelease version range denied" false 'version range "1.2.x" of chart team-web is resolved again by Flux later' "$T/strict"
review "flux HelmRelease version range with allowVersionRanges: verified, warned" true \
	"digest=$(sum team-web-1.2.3.tgz).*|.*versions Flux resolves later are not covered" "$T/ranges"
hr 1.1.0
review "flux HelmRelease exact version allowed (near miss)" true "digest=$(sum team-web-1.1.0.tgz)" "$T/strict"
# HelmRelease.chartRef -> OCIRepository (API lookup): the same precedence
OR="$T/api/apis/source.toolkit.fluxcd.io/v1/namespaces/apps/ocirepositories"
mkdir -p "$OR"
# one object per case (nghttpd caches files it served)
chartref() { # OCIREPOSITORY-NAME REF-JSON
	jq -n --arg u "oci://$REG/charts/web" --arg n "$1" --argjson r "$2" '{apiVersion: "source.toolkit.fluxcd.io/v1",
		kind: "OCIRepository", metadata: {name: $n, namespace: "apps"}, spec: {url: $u, ref: $r}}' >"$OR/$1"
	jq -n --arg n "$1" '{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: {name: "web"},
		spec: {interval: "5m", chartRef: {kind: "OCIRepository", name: $n}}}' >"$T/obj.json"
}
chartref w1 "{\"tag\": \"1.0.1\", \"digest\": \"$OCI_GOOD\"}"
review "flux HelmRelease chartRef -> OCIRepository digest + tampered tag: the digest wins" true 'allow rule=oci' "$T/strict"
chartref w2 '{"tag": "1.0.1"}'
review "flux HelmRelease chartRef -> OCIRepository tampered tag alone: denied (near miss)" false 'sha256 sum does not match' "$T/strict"
chartref w3 '{"tag": "1.0.0", "semver": "1.2.x"}'
review "flux HelmRelease chartRef -> OCIRepository semver range: denied" false 'version range "1.2.x" of chart web is resolved again by Flux later' "$T/strict"
review "flux HelmRelease chartRef -> OCIRepository semver range, allowVersionRanges: 1.2.0 verified, warned" true \
	'versions Flux resolves later are not covered' "$T/ranges"
# A name the URL would read as another path ("." is the collection, ".."
# the namespace's parent) is no Kubernetes name: refused before any lookup.
jq -n '{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: {name: "web"},
	spec: {interval: "5m", chartRef: {kind: "OCIRepository", name: "w1", namespace: ".."}}}' >"$T/obj.json"
review "flux HelmRelease chartRef to an OCIRepository in namespace \"..\": refused, no lookup" false \
	'invalid Flux source reference OCIRepository/\.\./w1' "$T/strict"
chartref w4 '{"semver": "1.2.x", "semverFilter": ".*-rc.*"}'
review "flux HelmRelease chartRef -> OCIRepository semver with a semverFilter, allowVersionRanges: denied" false \
	'spec.ref.semverFilter, which provgate does not apply' "$T/ranges"
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

# --- item 4: HelmRepository of every type ------------------------------------
helmrepo() { # URL [TYPE]
	jq -n --arg u "$1" --arg t "${2:-}" '{apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository",
		metadata: {name: "team", namespace: "flux-system"}, spec: ({url: $u, interval: "10m"} + (if $t == "" then {} else {type: $t} end))}' >"$T/obj.json"
}
NS=flux-system
helmrepo "$REPO"
review "HelmRepository (default type) URL a rule matches: allowed on CREATE" true 'source allowed by rule team' "$T/strict"
helmrepo "https://127.0.0.1:$FPORT/charts"
review "HelmRepository (default type) URL no rule matches: denied" false "no policy rule matches https://127.0.0.1:$FPORT/charts/\*" "$T/strict"
review "HelmRepository re-pointed on UPDATE to an unmatched URL: denied" false 'no policy rule matches' "$T/strict" UPDATE
helmrepo "$REPO" default
review "HelmRepository type default, matching URL, UPDATE: allowed" true 'source allowed' "$T/strict" UPDATE
helmrepo "oci://$REG/charts" oci
review "HelmRepository type oci, URL a rule matches: allowed" true 'source allowed by rule oci' "$T/strict"
helmrepo "oci://127.0.0.1:$FPORT/charts" oci
review "HelmRepository type oci, unmatched URL: denied" false "no policy rule matches oci://127.0.0.1:$FPORT/charts" "$T/strict" UPDATE
helmrepo "$REPO" oci
review "HelmRepository type changed to oci with an https URL: denied" false 'is not an oci:// registry URL' "$T/strict" UPDATE
helmrepo "https://127.0.0.1:$PORT@127.0.0.1:$FPORT/charts"
review "HelmRepository URL with userinfo: denied" false 'user information' "$T/strict"
NS=apps

# --- item 6: URL tricks (Argo repoURL) ----------------------------------------
trick() { # NAME WANT REGEX REPOURL
	argo "$4" team-web 1.2.3
	review "url: $1" "$2" "$3" "$T/strict"
}
trick "userinfo https://good@evil denied" false 'user information \(user@host\) not accepted' \
	"https://127.0.0.1:$PORT@127.0.0.1:$FPORT/charts"
trick "query ? denied" false 'query \(\?\) not accepted' "https://127.0.0.1:$FPORT/?.127.0.0.1:$PORT/charts"
trick "fragment # denied" false 'fragment \(#\) not accepted' "https://127.0.0.1:$FPORT/#127.0.0.1:$PORT/charts"
trick "%2e%2e denied" false 'percent-encoded characters are not accepted' "$REPO/%2e%2e/charts"
trick "backslash denied" false 'backslash' "https://127.0.0.1:$FPORT\\@127.0.0.1:$PORT/charts"
trick "/../ removed before matching: lands on the rule's repository, allowed" true \
	"digest=$(sum team-web-1.2.3.tgz)" "https://127.0.0.1:$PORT/elsewhere/../charts/"
expect_match "url: the normalised URL is what is logged" "$(jq -r '.references[0].ref' "$T/log")" "^$REPO/team-web\$"
trick "/../ leaving the rule's path: denied" false "no policy rule matches https://127.0.0.1:$PORT/other/team-web" \
	"$REPO/../other"
trick "upper-case scheme and host normalised, allowed" true "digest=$(sum team-web-1.2.3.tgz)" \
	"HTTPS://LOCALHOST:$PORT/charts"
expect_match "url: the lower-cased host is what is logged" "$(jq -r '.references[0].ref' "$T/log")" \
	"^https://localhost:$PORT/charts/team-web\$"
trick ":443 dropped: matches the rule written without a port (then fails to fetch)" false \
	'https://c.example.test/charts/team-web deny rule=team' "https://C.Example.Test:443/charts"
if grep -q HEADERS "$T/forbidden.out"; then notok "no request sent to an unmatched host" "$(head -5 "$T/forbidden.out")"; else ok "no request sent to an unmatched host"; fi
# policy check refuses chart patterns that cannot match a normalised URL
mkdir -p "$T/badpol"
sed 's#"https://c.example.test/charts/\*\*"#"https://c.example.test:443/charts/**"#' "$T/strict/policy.yaml" >"$T/badpol/policy.yaml"
out=$("$PG" policy check "$T/badpol" 2>&1); rc=$?
if [ $rc = 2 ] && [[ $out =~ 'cannot match a normalised chart URL: the default port :443' ]]; then ok "policy check refuses a pattern with :443"; else notok "policy check refuses a pattern with :443" "rc=$rc $out"; fi
out=$("$PG" policy check "$T/ranges" 2>&1)
expect_match "policy check accepts allowVersionRanges" "$out" 'policy OK'

# --- the same through the real server --------------------------------------
if start_provgate "$T/ranges" --ca-file "$PKI/ca.pem" --workers 2; then
	srv() { # NAME WANT REGEX [OP]
		local out text
		mkreview "$T/obj.json" "${NS:-apps}" "${4:-CREATE}" v1 "uid-s" >"$T/in.json"
		out=$(pgcurl --http2 --data-binary @"$T/in.json" "$PG_URL/validate")
		answer_of "$out"
		if [ "$GOT" = "$2" ] && [[ $text =~ $3 ]]; then ok "server: $1"; else notok "server: $1" "$text"; fi
	}
	argo "$REPO" team-a 1.0.1
	srv "index maps A to B's signed archive: denied" false 'the archive is team-b-1.0.0.tgz, not team-a-1.0.1.tgz'
	argo "$REPO" team-a 1.0.0
	srv "chart A itself allowed" true "digest=$(sum team-a-1.0.0.tgz)"
	argo "$REPO" team-web "1.x"
	srv "range allowed by the rule, with the warning" true 'versions Argo CD resolves later are not covered'
	srv "range resolved again, not answered from the cache" true 'versions Argo CD resolves later are not covered'
	if grep '"uid":"uid-s"' "$T/provgate.out" | tail -1 | grep -q '"cached":false'; then ok "server: a range verdict is never cached"; else notok "server: a range verdict is never cached" "$(tail -1 "$T/provgate.out")"; fi
	ocirepo "{\"tag\": \"1.0.1\", \"digest\": \"$OCI_GOOD\"}"
	srv "OCIRepository digest wins over the tampered tag" true 'allow'
	argo_oci "oci://$REG/charts/web" 1.0.1
	srv "Argo CD native OCI source, tampered tag: denied" false 'sha256 sum does not match'
	ocirepo '{"tag": "1.3.0"}'
	srv "OCIRepository tag 1.3.0 allowed (its verdict is cached)" true '/charts/web:1.3.0 allow'
	ocirepo '{"semver": "1.3.0"}'
	srv "OCIRepository semver 1.3.0 next: a range, not the tag's cached verdict, denied (1.3.0 and v1.3.0)" false \
		'several tags have the precedence'
	NS=flux-system
	helmrepo "https://127.0.0.1:$FPORT/charts"
	srv "HelmRepository re-pointed to an unmatched URL denied" false 'no policy rule matches' UPDATE
	NS=apps
	argo "https://127.0.0.1:$PORT@127.0.0.1:$FPORT/charts" team-web 1.2.3
	srv "userinfo URL denied" false 'user information'
else
	notok "server starts" "$(cat "$T/provgate.err")"
fi
