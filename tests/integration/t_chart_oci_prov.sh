#!/bin/bash
# OCI charts with Helm provenance: a chart pushed to a real docker-registry
# (TLS, loopback) as Helm does — config, content layer, provenance layer —
# verified by verify-chart oci:// and through admission (Argo CD with a
# scheme-less repoURL, Flux OCIRepository).
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_registry.sh"

for tool in gpg gpg-connect-agent tar jq docker-registry; do
	command -v $tool >/dev/null || { skip "OCI charts" "$tool not installed"; exit 0; }
done
export HOME="$T/home" GNUPGHOME="$T/gnupg" TMPDIR="$T/tmp"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$TMPDIR"
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
exec 3>&2 2>"$T/tools.err"
gpg --batch --passphrase '' --quick-gen-key "OCI Chart Signer <oci@provgate.test>" ed25519 sign never
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export oci@provgate.test >"$T/charts.gpg"
gpg --batch --passphrase '' --quick-gen-key "Stranger <x@provgate.test>" ed25519 sign never
gpg --export x@provgate.test >"$T/other.gpg"
FPR=$(gpg --with-colons --list-keys oci@provgate.test | awk -F: '/^fpr/{print $10; exit}')
exec 2>&3

MT_HELM_CONFIG=application/vnd.cncf.helm.config.v1+json
MT_HELM_CONTENT=application/vnd.cncf.helm.chart.content.v1.tar+gzip
MT_HELM_PROV=application/vnd.cncf.helm.chart.provenance.v1.prov
# push_chart NAME VERSION [signed|unsigned|tampered]
push_chart() {
	local n=$1 v=$2 mode=${3:-signed} d="$T/c-$1-$2"
	mkdir -p "$d/src/$n/templates"
	printf 'apiVersion: v2\ndescription: oci chart %s\nname: %s\nversion: %s\n' "$n" "$n" "$v" >"$d/src/$n/Chart.yaml"
	printf 'kind: ConfigMap\n' >"$d/src/$n/templates/cm.yaml"
	tar -C "$d/src" -czf "$d/$n-$v.tgz" "$n"
	printf '{"apiVersion":"v2","name":"%s","version":"%s"}' "$n" "$v" >"$d/config.json"
	{ cat "$d/src/$n/Chart.yaml"; printf '\n...\nfiles:\n  %s-%s.tgz: sha256:%s\n' "$n" "$v" "$(sha256sum "$d/$n-$v.tgz" | cut -d' ' -f1)"; } |
		gpg --batch --yes -u "$FPR" --clearsign >"$d/prov" 2>/dev/null
	[ "$mode" = tampered ] && printf ' ' >>"$d/$n-$v.tgz"
	push_blob "charts/$n" "$d/config.json" >/dev/null && push_blob "charts/$n" "$d/$n-$v.tgz" >/dev/null || return 1
	local layers
	layers=$(desc_of "$d/$n-$v.tgz" "$MT_HELM_CONTENT")
	if [ "$mode" != unsigned ]; then
		push_blob "charts/$n" "$d/prov" >/dev/null || return 1
		layers="$layers,$(desc_of "$d/prov" "$MT_HELM_PROV")"
	fi
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" "$MT_HELM_CONFIG")" "$layers" >"$d/manifest.json"
	push_manifest "charts/$n" "$v" "$d/manifest.json" "$MT_OCI_MANIFEST" >"$d/manifest.digest"
	sha256sum "$d/$n-$v.tgz" | cut -d' ' -f1
}
GOOD=$(push_chart web 1.0.0) || { notok "push OCI chart"; exit 1; }
# Admission names an OCI chart by the one digest its tag resolved to: the
# manifest's (which binds the archive verified against the provenance).
GOOD_M=$(cat "$T/c-web-1.0.0/manifest.digest")
push_chart plain 1.0.0 unsigned >/dev/null
push_chart bad 1.0.0 tampered >/dev/null

out=$("$PG" verify-chart "oci://$REG/charts/web:1.0.0" --keyring "$T/charts.gpg" --ca-file "$PKI/ca.pem" 2>"$T/err")
expect_eq "verify-chart oci:// prints helm verify's lines" "$out" \
	"$(printf 'Signed by: OCI Chart Signer <oci@provgate.test>\nUsing Key With Fingerprint: %s\nChart Hash Verified: sha256:%s' "$FPR" "$GOOD")"
"$PG" verify-chart "oci://$REG/charts/web:1.0.0" --keyring "$T/other.gpg" --ca-file "$PKI/ca.pem" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 1 ] && grep -q 'signature made by unknown entity' "$T/err"; then ok "verify-chart oci:// unknown key refused"; else notok "verify-chart oci:// unknown key refused" "rc=$rc $(cat "$T/err")"; fi
"$PG" verify-chart "oci://$REG/charts/bad:1.0.0" --keyring "$T/charts.gpg" --ca-file "$PKI/ca.pem" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 1 ] && grep -q 'sha256 sum does not match for bad-1.0.0.tgz' "$T/err"; then ok "verify-chart oci:// tampered archive refused"; else notok "verify-chart oci:// tampered archive refused" "rc=$rc $(cat "$T/err")"; fi

mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: oci-charts}
spec:
  trust:
    keyrings:
      charts: {path: $T/charts.gpg}
  charts:
    - name: oci-team
      match: ["oci://$REG/charts/**"]
      verify:
        - prov: {keyring: charts}
YAML
review() { # NAME WANT REGEX OBJECT-JSON
	local name=$1 want=$2 re=$3 out text
	printf '%s' "$4" >"$T/obj.json"
	mkreview "$T/obj.json" apps CREATE v1 "uid-x" >"$T/in.json"
	out=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" --timeout-ms 8000 "$T/in.json" 2>"$T/log")
	text=$(jq -r '(.response.status.message // "") + " " + ([.response.auditAnnotations[]] | join("; "))' <<<"$out")
	if [ "$(jq -r .response.allowed <<<"$out")" = "$want" ] && [[ $text =~ $re ]]; then ok "$name"; else notok "$name" "$text"; fi
}
argo() { jq -nc --arg r "$1" --arg c "$2" --arg v "$3" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
	metadata: {name: "a"}, spec: {source: {repoURL: $r, chart: $c, targetRevision: $v}}}'; }
review "argo OCI (scheme-less repoURL) signed chart allowed" true "digest=$GOOD_M" "$(argo "$REG/charts" web 1.0.0)"
review "argo OCI chart without a provenance layer denied" false 'has no provenance' "$(argo "$REG/charts" plain 1.0.0)"
review "argo OCI tampered chart denied" false 'sha256 sum does not match' "$(argo "oci://$REG/charts" bad 1.0.0)"
review "argo OCI chart tag that does not exist denied" false 'charts/web.*(not found|404|unknown)' "$(argo "$REG/charts" web 9.9.9)"
review "flux OCIRepository signed chart allowed" true "digest=$GOOD_M" \
	"$(jq -nc --arg u "oci://$REG/charts/web" '{apiVersion: "source.toolkit.fluxcd.io/v1beta2", kind: "OCIRepository",
	metadata: {name: "w"}, spec: {url: $u, ref: {tag: "1.0.0"}}}')"
