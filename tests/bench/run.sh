#!/usr/bin/env bash
# make bench: pure-decision admission throughput against two references
# measured in the same run, on the same machine:
#   floor  — threads doing nothing but parsing the same review with jansson
#   nghttpd — a static file served at the same path over the same TLS + h2
# plus p99 latency with one request at a time and provgate's peak RSS.
# Prints one markdown table.  BENCH_SECONDS scales the runs (default 5).
set -u
. "$(dirname "$0")/../integration/lib.sh" >/dev/null
. "$(dirname "$0")/../integration/lib_server.sh"
B="$TOP/tests/bench"
SECS=${BENCH_SECONDS:-5}
CORES=$(nproc)
REVIEW="$B/deployment-review.json"
mkdir -p "$BUILD/bench"
cc -O2 -o "$BUILD/bench/parse_floor" "$B/parse_floor.c" -ljansson -lpthread || exit 1

h2rate() { # h2load output -> req/s
	awk '/^finished in/ {for (i=1;i<=NF;i++) if ($i ~ /req\/s/) {gsub(",","",$(i-1)); print $(i-1)}}'
}
h2fail() { awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /failed/) {print $i; exit}}'; }

floor=$("$BUILD/bench/parse_floor" "$REVIEW" "$CORES" "$SECS" | awk '{print $2}')

start_provgate "$B/policy" --threads "$CORES" --workers 2 >/dev/null || { echo "provgate did not start"; cat "$T/provgate.err"; exit 1; }
# check the review really is a pure allow
curl -sS --cacert "$PKI/ca.pem" --data-binary @"$REVIEW" "$PG_URL/validate" | jq -e '.response.allowed == true' >/dev/null \
	|| { echo "bench review is not allowed by the bench policy"; exit 1; }
h2load -n 2000 -c 10 -m 10 -d "$REVIEW" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
out=$(h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$REVIEW" -H 'content-type: application/json' "$PG_URL/validate" 2>&1)
pg_rate=$(h2rate <<<"$out"); pg_fail=$(h2fail <<<"$out")
h2load -n 3000 -c 1 -m 1 -d "$REVIEW" -H 'content-type: application/json' --log-file="$T/lat.log" "$PG_URL/validate" >/dev/null 2>&1
p50=$(awk '{print $3}' "$T/lat.log" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int(NR*0.50)]/1000}')
p99=$(awk '{print $3}' "$T/lat.log" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int(NR*0.99)]/1000}')
rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$PG_PID/status")

# reference server: the response body of a review as a static file
mkdir -p "$T/static"
curl -sS --cacert "$PKI/ca.pem" --data-binary @"$REVIEW" "$PG_URL/validate" >"$T/static/validate"
NPORT=$(free_port)
bg nghttpd nghttpd -d "$T/static" "$NPORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$NPORT" 10
h2load -n 2000 -c 10 -m 10 "https://127.0.0.1:$NPORT/validate" >/dev/null 2>&1
out=$(h2load -D "$SECS" -c 10 -m 10 -t 1 "https://127.0.0.1:$NPORT/validate" 2>&1)
ng_rate=$(h2rate <<<"$out")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
echo
echo "| measure ($CORES cores, review $(wc -c <"$REVIEW") B, ${SECS}s runs) | value |"
echo "|---|---|"
echo "| jansson parse floor ($CORES threads, parses/s) | $floor |"
echo "| nghttpd static file, h2 TLS 10x10 (req/s) | $ng_rate |"
echo "| provgate pure decision, h2 TLS 10x10 (reviews/s) | $pg_rate (failed: ${pg_fail:-?}) |"
echo "| provgate / parse floor (target >= 0.75x) | $(ratio "$pg_rate" "$floor") |"
echo "| provgate / nghttpd | $(ratio "$pg_rate" "$ng_rate") |"
echo "| one at a time p50 / p99 (ms, target p99 < 2) | $p50 / $p99 |"
echo "| provgate peak RSS (MiB, target < 32) | $rss |"
