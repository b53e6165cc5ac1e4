#!/usr/bin/env bash
# Helm provenance benchmark:
#   1. cold `provgate verify-chart` of a local signed chart, against gpgv +
#      sha256sum doing the same work (signature, then archive hash), measured
#      in the same run, as a ratio of mean wall time per verification;
#   2. the server-side time of a cached chart admission (an Argo CD
#      Application whose chart verdict is in the cache), from the admission
#      log's duration_ms (target < 0.2 ms).
# Prints a markdown table.  CHART_BENCH_RUNS (default 30).
set -u
. "$(dirname "$0")/../integration/lib.sh" >/dev/null
. "$(dirname "$0")/../integration/lib_review.sh"
. "$(dirname "$0")/../integration/lib_server.sh"
RUNS=${CHART_BENCH_RUNS:-30}
export HOME="$T/home" GNUPGHOME="$T/gnupg" TMPDIR="$T/tmp"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$TMPDIR"
test_pki >/dev/null
R="$T/repo/charts"; mkdir -p "$R" "$T/src/bench/templates"
gpg --batch --passphrase '' --quick-gen-key "Bench <bench@provgate.test>" rsa3072 sign never 2>/dev/null
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export bench@provgate.test >"$T/k.gpg" 2>/dev/null
printf 'apiVersion: v2\nname: bench\nversion: 1.0.0\ndescription: bench chart\n' >"$T/src/bench/Chart.yaml"
for i in $(seq 1 20); do printf 'kind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  k: "%s"\n' "$i" "$(head -c 2000 /dev/urandom | base64 -w0)" >"$T/src/bench/templates/cm$i.yaml"; done
tar -C "$T/src" -czf "$R/bench-1.0.0.tgz" bench
{ cat "$T/src/bench/Chart.yaml"; printf '\n...\nfiles:\n  bench-1.0.0.tgz: sha256:%s\n' "$(sha256sum "$R/bench-1.0.0.tgz" | cut -d' ' -f1)"; } |
	gpg --batch --yes -u bench@provgate.test --digest-algo SHA512 --clearsign >"$R/bench-1.0.0.tgz.prov" 2>/dev/null
printf 'apiVersion: v1\nentries:\n  bench:\n  - name: bench\n    version: 1.0.0\n    urls:\n    - bench-1.0.0.tgz\n' >"$R/index.yaml"
"$PG" verify-chart "$R/bench-1.0.0.tgz" --keyring "$T/k.gpg" >/dev/null || { echo "bench chart does not verify"; exit 1; }

ms_per() { # RUNS CMD... -> mean ms per run
	local n=$1 t0 t1; shift
	t0=$(date +%s%N)
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; done
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / 1e6 / n }'
}
ref_verify() { gpgv --keyring "$T/k.gpg" "$R/bench-1.0.0.tgz.prov" && sha256sum "$R/bench-1.0.0.tgz"; }
pg_ms=$(ms_per "$RUNS" "$PG" verify-chart "$R/bench-1.0.0.tgz" --keyring "$T/k.gpg")
ref_ms=$(ms_per "$RUNS" ref_verify)

# cached chart admissions through the server
PORT=$(free_port)
bg nghttpd nghttpd -d "$T/repo" "$PORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$PORT" 10
mkdir -p "$T/pol"
cat >"$T/pol/p.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: bench}
spec:
  trust: {keyrings: {k: {path: $T/k.gpg}}}
  charts:
    - name: bench
      match: ["https://127.0.0.1:$PORT/**"]
      verify: [{prov: {keyring: k}}]
YAML
start_provgate "$T/pol" --ca-file "$PKI/ca.pem" >/dev/null || { echo "provgate did not start"; exit 1; }
jq -n --arg r "https://127.0.0.1:$PORT/charts" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
	metadata: {name: "b"}, spec: {source: {repoURL: $r, chart: "bench", targetRevision: "1.0.0"}}}' >"$T/app.json"
mkreview "$T/app.json" argocd CREATE >"$T/in.json"
cold=$(pgcurl --http2 --data-binary @"$T/in.json" "$PG_URL/validate" | tee "$T/cold.json" | jq -r .response.allowed)
[ "$cold" = true ] || { echo "chart admission not allowed: $(cat "$T/cold.json")"; exit 1; }
h2load -n 2000 -c 1 -m 1 -d "$T/in.json" "$PG_URL/validate" >/dev/null 2>&1
cached_ms=$(grep '"cached":true' "$T/provgate.out" | jq -r .duration_ms | sort -n | awk '{a[NR]=$1} END {printf "%.3f / %.3f", a[int(NR*0.5)], a[int(NR*0.99)]}')
cold_ms=$(grep '"cached":false' "$T/provgate.out" | head -1 | jq -r .duration_ms)

echo
echo "| chart measure ($RUNS runs) | value |"
echo "|---|---|"
echo "| provgate verify-chart, cold process (ms/verification) | $pg_ms |"
echo "| gpgv + sha256sum, same work (ms/verification) | $ref_ms |"
echo "| ratio provgate / (gpgv + sha256sum) | $(awk -v a="$pg_ms" -v b="$ref_ms" 'BEGIN {printf "%.2fx", a / b}') |"
echo "| server: first (uncached) chart admission (ms) | $cold_ms |"
echo "| server: cached chart admission p50 / p99 (ms, target < 0.2) | $cached_ms |"
