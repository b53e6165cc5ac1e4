#!/usr/bin/env bash
# make bench: admission throughput and verification cost, printed as ONE
# markdown table.  Every figure is measured in the same run on the same
# machine, against references measured alongside:
#   floor   — threads doing nothing but parsing the same review with jansson
#   nghttpd — a static file served at the same path over the same TLS + h2
#   gpgv + sha256sum — the same work as verify-chart of a local chart
#   sigstore-js — npm "sigstore", verifying the same bundles
# Pure-policy reviews (allowUnsigned), cached verified-image reviews, loop
# thread / worker scaling, cold key-signed and keyless image latency (server
# and CLI), 1000 concurrent reviews of one uncached image (signature fetches
# the registry saw), peak RSS idle and with 100k cache entries, registry
# connection reuse, .prov charts (CLI, cold and cached through the server),
# and verify-bundle against sigstore-js; cold Notation-signed and attested
# images and their cached verdicts.  See verified.sh, evidence.sh, chart.sh
# and verify.sh for the methods.
#
# BENCH_SECONDS scales the timed runs and the run counts (default 5; the
# whole bench then takes about 5 minutes on 2 cores).  BENCH_ONLY=throughput
# runs only the pure and cached throughput against the floor (throughput.sh:
# ROUNDS interleaved rounds, medians, per-round ratios, CPU per review).  Only loopback
# addresses; every process is stopped by its PID (lib.sh).
set -u
if [ "${BENCH_ONLY:-}" = throughput ]; then
	exec bash "$(dirname "$0")/throughput.sh"
fi
. "$(dirname "$0")/../integration/lib.sh" >/dev/null
. "$(dirname "$0")/../integration/lib_server.sh"
. "$(dirname "$0")/../integration/lib_review.sh"
. "$(dirname "$0")/../integration/lib_registry.sh"
. "$(dirname "$0")/../integration/lib_keyless.sh"
. "$(dirname "$0")/../integration/lib_attest.sh"
. "$(dirname "$0")/../integration/lib_notation.sh"
B="$TOP/tests/bench"
. "$B/lib_bench.sh"
. "$B/verified.sh"
. "$B/chart.sh"
. "$B/verify.sh"
. "$B/ready.sh"
. "$B/evidence.sh"
. "$B/requests.sh"
SECS=${BENCH_SECONDS:-5}
SCALE_SECS=$(((SECS + 1) / 2))
COLD_N=$((SECS * 20))        # cold reviews through the server
CLI_N=$((SECS * 4))          # cold `provgate review` / verify-image processes
CHART_N=$((SECS * 4))        # chart versions (and runs) per chart measure
BUNDLE_ROUNDS=$((SECS * 4))  # in-process rounds over the conformance bundles
FILL_N=100000                # cache entries for the RSS figure
READY_N=$((SECS * 4))        # starts timed to /readyz 200
CORES=$(nproc)
REVIEW="$B/deployment-review.json"
export DOCKER_CONFIG="$T/docker" # never the user's ~/.docker/config.json
export TMPDIR="$T/tmp"           # gpgme's scratch homes and the like, removed at exit
mkdir -p "$BUILD/bench" "$TMPDIR"
cc -O2 -o "$BUILD/bench/parse_floor" "$B/parse_floor.c" -ljansson -lpthread || exit 1
cc -O2 -o "$BUILD/bench/ready_probe" "$B/ready_probe.c" -lssl -lcrypto || exit 1
declare -a SCALE_PURE SCALE_CACHED
t_start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

start_provgate "$B/policy" --threads "$CORES" --workers 2 >/dev/null || { echo "provgate did not start"; cat "$T/provgate.err"; exit 1; }
# check the review really is a pure allow
curl -sS --cacert "$PKI/ca.pem" --data-binary @"$REVIEW" "$PG_URL/validate" | jq -e '.response.allowed == true' >/dev/null \
	|| { echo "bench review is not allowed by the bench policy"; exit 1; }
h2load -n 2000 -c 10 -m 10 -d "$REVIEW" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
# The floor and the server, three runs each, interleaved (the server idles
# while the floor runs), the best of each kept: on a shared machine a busy
# moment slows whichever side happens to run in it.  Failed requests are
# summed over the three server runs.
# Also the CPU each side spends: server + h2load per review against the
# floor's per parse, the ratio the cores allow whatever else runs.
floor="" pg_rate="" pg_fail=0 floors=() pures=() fcpu=() pcpu=() per=""
for i in 1 2 3; do
	fo=$("$BUILD/bench/parse_floor" "$REVIEW" "$CORES" "$SECS")
	f=$(awk '{print $2}' <<<"$fo")
	floor=$(best max "$floor" "$f")
	c0=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$PG_PID/stat")
	out=$({ TIMEFORMAT='cpu %U %S'; time h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$REVIEW" -H 'content-type: application/json' "$PG_URL/validate"; } 2>&1)
	c1=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$PG_PID/stat")
	floors+=("$f") pures+=("$(h2rate <<<"$out")") fcpu+=("$(awk '{print $4}' <<<"$fo")")
	pcpu+=("$(awk -v c0="$c0" -v c1="$c1" -v n="$(h2ok <<<"$out")" '/^cpu / {if (n > 0) printf "%.2f", (c1 - c0 + $2 + $3) * 1e6 / n; else print 0}' <<<"$out")")
	per="$per $(ratio "${pures[-1]}" "$f")"
	pg_rate=$(best max "$pg_rate" "${pures[-1]}")
	n=$(h2fail <<<"$out")
	if [ -n "$n" ] && [ "$pg_fail" != "?" ]; then pg_fail=$((pg_fail + n)); else pg_fail="?"; fi
done
floor_med=$(median3 "${floors[@]}")
pg_med=$(median3 "${pures[@]}")
fcpu_med=$(median3 "${fcpu[@]}")
pcpu_med=$(median3 "${pcpu[@]}")
h2load -n 3000 -c 1 -m 1 -d "$REVIEW" -H 'content-type: application/json' --log-file="$T/lat.log" "$PG_URL/validate" >/dev/null 2>&1
p50=$(awk '{print $3}' "$T/lat.log" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int(NR*0.50)]/1000}')
p99=$(awk '{print $3}' "$T/lat.log" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int(NR*0.99)]/1000}')
rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$PG_PID/status")

# reference server: the response body of a review as a static file
mkdir -p "$T/static"
curl -sS --cacert "$PKI/ca.pem" --data-binary @"$REVIEW" "$PG_URL/validate" >"$T/static/validate"
NPORT=$(free_port)
bg nghttpd nghttpd --address=127.0.0.1 -d "$T/static" "$NPORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$NPORT" 10
h2load -n 2000 -c 10 -m 10 "https://127.0.0.1:$NPORT/validate" >/dev/null 2>&1
out=$(h2load -D "$SECS" -c 10 -m 10 -t 1 "https://127.0.0.1:$NPORT/validate" 2>&1)
ng_rate=$(h2rate <<<"$out")

pg_stop
kill "${PIDS[-1]}" 2>/dev/null # nghttpd

bench_ready || echo "bench: start-up part incomplete: ${READY_NA:-}" >&2
bench_verified || echo "bench: verified-image part incomplete" >&2
bench_evidence || echo "bench: Notation/attestation part incomplete: ${EV_NA:-}" >&2
bench_requests || echo "bench: request-count part incomplete: ${REQ_NA:-}" >&2
bench_verify_cli
bench_chart
bench_bundle

row "jansson parse floor, bench Deployment ($CORES threads, parses/s, best of 3)" "$floor"
row "nghttpd static file, h2 TLS 10x10 (req/s)" "$ng_rate"
row "pure decision (allowUnsigned), h2 TLS 10x10 (reviews/s, best of 3 interleaved with the floor)" "$pg_rate (failed: ${pg_fail:-?})"
row "pure / parse floor, best of 3 (target >= 0.75x)" "$(ratio "$pg_rate" "$floor")"
row "pure / parse floor, medians of 3 ($pg_med / $floor_med; target >= 0.75x)" "$(ratio "$pg_med" "$floor_med")"
row "pure / parse floor, each round (load at the start: $load0)" "${per# }"
row "pure: CPU per review, server + h2load / floor CPU per parse (us, medians of 3; the ratio the cores allow)" \
	"$pcpu_med / $fcpu_med = $(ratio "$fcpu_med" "$pcpu_med")"
row "pure / nghttpd" "$(ratio "$pg_rate" "$ng_rate")"
row "pure, one at a time p50 / p99 (ms, target p99 < 2)" "$p50 / $p99"
row "cached verified image (key-signed, same Deployment shape), 10x10 (reviews/s)" "$(na "${CACHED_RATE:-}") (failed: ${CACHED_FAIL:-?})"
row "cached verified / its parse floor, best of 3 ($(na "${VFLOOR:-}") parses/s; target >= 0.7x)" "$(ratio "${CACHED_RATE:-}" "${VFLOOR:-}")"
row "cached verified / its parse floor, medians of 3 ($(na "${CACHED_MED:-}") / $(na "${VFLOOR_MED:-}"); target >= 0.7x)" "$(ratio "${CACHED_MED:-}" "${VFLOOR_MED:-}")"
for n in 1 2 4; do
	row "--threads $n --workers $n: pure / cached verified (reviews/s, ${SCALE_SECS}s runs)" \
		"$(na "${SCALE_PURE[$n]:-}") / $(na "${SCALE_CACHED[$n]:-}")"
done
row "cold key-signed image via server, new tag each, p50 / p99 (ms; $COLD_N reviews, $(na "${COLD_OK:-}") allowed, $(na "${COLD_MISS:-}") cache misses)" \
	"$(na "${COLD_P50:-}") / $(na "${COLD_P99:-}")"
row "cold keyless image (Fulcio-like chain, SCT, SET, identity) via server, new tag each, p50 / p99 (ms; $COLD_N reviews, $(na "${COLDKL_OK:-}") allowed, $(na "${COLDKL_MISS:-}") cache misses)" \
	"$(na "${COLDKL_P:-}")"
row "requests per cold verification by method, key-signed legacy (registry log; manifest GETs = counted pulls; GETs of the image's manifest by tag, target 0)" \
	"$(na "${COLD_BYMETHOD:-}"); pulls $(na "${COLD_PULLS:-}"); by-tag GETs $(na "${COLD_TAGGETS:-}")"
row "requests per cold verification by method, keyless (same)" \
	"$(na "${COLDKL_BYMETHOD:-}"); pulls $(na "${COLDKL_PULLS:-}"); by-tag GETs $(na "${COLDKL_TAGGETS:-}")"
evidence_rows
req_rows
row "cold key-signed image, \`provgate review\` new process each, p50 / p99 (ms; $CLI_N runs, $(na "${CLI_OK:-}") allowed)" \
	"$(na "${CLI_P50:-}") / $(na "${CLI_P99:-}")"
if [ -n "${VI_NA:-}" ]; then
	row "cold \`provgate verify-image\`, new process each" "n/a: $VI_NA"
else
	row "cold \`provgate verify-image\` key + Rekor SET, new process each, p50 / p99 (ms; $CLI_N runs, ${VI_KEY_OK:-?} verified)" "$(na "${VI_KEY:-}")"
	row "cold \`provgate verify-image\` keyless (chain, SCT, SET), new process each, p50 / p99 (ms; $CLI_N runs, ${VI_KL_OK:-?} verified)" "$(na "${VI_KL:-}")"
fi
if [ -n "${CHART_NA:-}" ]; then
	row ".prov chart measures" "n/a: $CHART_NA"
fi
row "cold .prov chart, verify-chart https URL new process each, p50 / p99 (ms; $CHART_N runs)" "$(na "${CHART_CLI:-}")"
row "verify-chart local .tgz / gpgv + sha256sum, same work, interleaved (mean ms; $CHART_N runs each)" \
	"$(ms1 "${CHART_LOCAL_PG:-}") / $(ms1 "${CHART_LOCAL_REF:-}") = $(ratio "${CHART_LOCAL_PG:-}" "${CHART_LOCAL_REF:-}")"
row "cold .prov chart through review (Argo CD Application) via server, new chart version each, p50 / p99 (ms; $CHART_N reviews, $(na "${CHART_COLD_OK:-}") allowed, $(na "${CHART_COLD_MISS:-}") cache misses)" \
	"$(na "${CHART_COLD:-}")"
row "cold .prov chart through \`provgate review\`, new process and chart version each, p50 / p99 (ms; $CHART_N runs, $(na "${CHART_RCLI_OK:-}") allowed, $(na "${CHART_RCLI_MISS:-}") cache misses)" \
	"$(na "${CHART_RCLI:-}")"
row "cached .prov chart admission, server-side duration_ms p50 / p99 (ms; $(na "${CHART_CACHED_N:-}") reviews, target < 0.2)" \
	"$(na "${CHART_CACHED:-}")"
if [ -n "${BUNDLE_NA:-}" ]; then
	row "verify-bundle vs sigstore-js" "n/a: $BUNDLE_NA"
else
	js_label="sigstore-js ${BUNDLE_JS_VERSION:-}"
	js_na=${JS_NA:+n/a: $JS_NA}
	row "verify-bundle / $js_label whole process, $BUNDLE_N conformance bundles (mean ms per call)" \
		"$(ms1 "${BUNDLE_PG_WP:-}") / ${js_na:-$(ms1 "${BUNDLE_JS_WP:-}")}"
	row "whole process: sigstore-js / provgate (ratio)" "${js_na:-$(ratio "${BUNDLE_JS_WP:-}" "${BUNDLE_PG_WP:-}")}"
	row "verify-bundle / $js_label in-process (µs per verification, best of 3 interleaved runs of $BUNDLE_ROUNDS rounds)" \
		"$(na "${BUNDLE_PG_US:-${BUNDLE_IP_NA:+n/a: $BUNDLE_IP_NA}}") / ${js_na:-$(na "${BUNDLE_JS_US:-}")}"
	row "in-process: sigstore-js / provgate (ratio, target >= 10x)" "${js_na:-$(ratio "${BUNDLE_JS_US:-}" "${BUNDLE_PG_US:-}")}"
	row "verdicts agreeing with the suite: provgate whole / in-process, sigstore-js whole / in-process" \
		"$BUNDLE_PG_AGREE / $(na "${BUNDLE_PG_IP_AGREE:-}"), ${js_na:-${BUNDLE_JS_AGREE:-?} / $(na "${BUNDLE_JS_IP_AGREE:-}")} of $BUNDLE_N"
fi
row "1000 concurrent reviews of one uncached image: .sig tag HEADs / signature manifest GETs (by digest) in the registry log (target 1 / 1)" \
	"$(na "${HERD_SIGS:-}") (succeeded ${HERD_OK:-?}, allowed ${HERD_ALLOWED:-?}, coalesced waits ${HERD_COALESCED:-?}, ${HERD_TIME:-?})"
row "registry connections opened for $COLD_N cold verifications (1 worker) / GETs" "$(na "${COLD_CONNS:-}") / $(na "${COLD_REQS:-}")"
row "HTTP version of provgate's requests in the registry log" "$(na "${REG_HTTP:-}")"
if [ -n "${READY_NA:-}" ]; then
	row "start to /readyz 200" "n/a: $READY_NA"
else
	row "start to /readyz 200, policy/examples with the ${READY_ROOT:-?}, p50 / max (ms; $READY_N starts; target < 100)" "$(na "${READY_P50:-}") / $(na "${READY_MAX:-}")"
	row "RSS when first ready (MiB)" "$(mib "${READY_RSS:-}")"
	row "first / second review after start, server-side duration_ms (pure decision)" "$(na "${FIRST_MS:-}") / $(na "${SECOND_MS:-}")"
fi
row "peak RSS after start, idle (MiB)" "$(mib "${RSS_IDLE:-}")"
row "RSS with $FILL_N cache entries: peak / current (MiB; $(na "${FILL_ENTRIES:-}") entries, $(mib "$(awk -v b="${FILL_BYTES:-}" 'BEGIN { if (b != "") print b / 1024 }')") MiB accounted)" \
	"$(mib "${RSS_FULL_HWM:-}") / $(mib "${RSS_FULL:-}")"
row "provgate peak RSS, pure bench (MiB, target < 32)" "$rss"

echo
echo "| measure ($CORES cores, review $(wc -c <"$REVIEW") B, ${SECS}s runs, bench took $(($(date +%s) - t_start))s) | value |"
echo "|---|---|"
printf '%s\n' "${ROWS[@]}"
