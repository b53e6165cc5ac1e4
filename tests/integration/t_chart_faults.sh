#!/bin/bash
# Hostile and failing chart repositories: classic HTTPS repositories
# (index.yaml, archive, .prov) and OCI charts, served by the misbehaving
# loopback server (tests/tools/badserver: mode picked by the path's first
# component).  Every case ends in a deny with its own reason within the
# deadline, and nothing reaches the listener no rule names.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_badserver.sh"

TIMEOUT_MS=1500
SLACK_MS=500
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
badserver_start || { notok "badserver starts" "$(tail -3 "$T"/badserver.err 2>/dev/null)"; exit 1; }
R="127.0.0.1:$BAD_MAIN"
# never used: every case fails before the signature, but a policy's keyring
# must be a real OpenPGP keyring to load at all
cp "$TOP/policy/examples/trust/charts.gpg" "$T/k.gpg"
mkdir -p "$T/pol"
cat >"$T/pol/p.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: chart-faults}
spec:
  trust:
    keyrings: {k: {path: $T/k.gpg}}
  charts:
    - name: bad
      match: ["https://$R/**", "oci://$R/**"]
      verify: [{prov: {keyring: k}}]
  registries:
    - host: $R
      caFile: $PKI/ca.pem
YAML

# case|repoURL|chart|reason (ERE)
cases() {
	cat <<CASES
repo-hang|https://$R/repo/hang|web|127\.0\.0\.1 did not answer in time
repo-slowloris|https://$R/repo/slowloris|web|127\.0\.0\.1 did not answer in time
repo-500|https://$R/repo/s500|web|(500|not a valid chart repository)
repo-redirect-loop|https://$R/repo/loop|web|too many redirects
repo-redirect-http|https://$R/repo/redirhttp|web|refusing http:// URL
repo-redirect-file|https://$R/repo/redirfile|web|refusing file:// URL
repo-redirect-metadata|https://$R/repo/redirmeta|web|refusing to contact 169\.254\.169\.254
repo-redirect-other-port|https://$R/repo/redirport|web|refusing to contact 127\.0\.0\.1:$BAD_OTHER
repo-gzip-bomb|https://$R/repo/gzip|web|Content-Encoding
repo-5MiB-garbage-index|https://$R/repo/big|web|cannot parse index\.yaml
oci-hang|$R/hang|web|127\.0\.0\.1 did not answer in time
oci-500|$R/s500|web|HTTP 500
oci-redirect-metadata|$R/redirmeta|web|refusing to contact 169\.254\.169\.254
oci-oversized-manifest|$R/big|web|larger than 4194304 bytes
oci-digest-mismatch|$R/digest|web|digest
CASES
}

other0=$(bad_count other)
while IFS='|' read -r name repo chart re; do
	jq -n --arg r "$repo" --arg c "$chart" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
		metadata: {name: "a"}, spec: {source: {repoURL: $r, chart: $c, targetRevision: "1.0.0"}}}' >"$T/obj.json"
	mkreview "$T/obj.json" argocd CREATE v1 "uid-$name" >"$T/in.json"
	t0=$(now_ms)
	out=$("$PG" review --policy "$T/pol" --timeout-ms $TIMEOUT_MS "$T/in.json" 2>"$T/log"); rc=$?
	ms=$(( $(now_ms) - t0 ))
	msg=$(jq -r '.response.status.message // ""' <<<"$out" 2>/dev/null)
	echo "# $name | ${ms} ms | $msg"
	if [ $rc = 1 ] && [[ $msg =~ $re ]] && [ $ms -le $((TIMEOUT_MS + SLACK_MS)) ]; then
		ok "chart fault $name: denied in ${ms} ms with its reason"
	else
		notok "chart fault $name" "rc=$rc ${ms} ms: $msg $(tail -c 300 "$T/log")"
	fi
done < <(cases)
expect_eq "no connection reached the listener no rule names" "$(bad_count other)" "$other0"
