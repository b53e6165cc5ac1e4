#!/usr/bin/env bash
# The throughput part of `make bench` alone (BENCH_ONLY=throughput, or run
# directly): pure-policy reviews (allowUnsigned) and cached verified-image
# reviews through `provgate serve`, each against the jansson parse floor of
# the same review, ROUNDS rounds (default 3) of floor then server,
# interleaved, so that a busy moment on a shared machine moves both sides
# of a ratio alike.  Prints best-of and median of each, the ratio of the
# medians and the per-round ratios, and the load average at the start and
# the end.
#
# BENCH_SECONDS (default 5) is the length of each timed run.  With
# PERF=1 the server's threads are sampled with `perf record` during one
# extra pure and one extra cached run, and the top symbols printed.
set -u
. "$(dirname "$0")/../integration/lib.sh" >/dev/null
. "$(dirname "$0")/../integration/lib_server.sh"
. "$(dirname "$0")/../integration/lib_registry.sh"
B="$TOP/tests/bench"
. "$B/lib_bench.sh"
SECS=${BENCH_SECONDS:-5}
ROUNDS=${ROUNDS:-3}
CORES=$(nproc)
REVIEW="$B/deployment-review.json"
export DOCKER_CONFIG="$T/docker"
export TMPDIR="$T/tmp"
mkdir -p "$BUILD/bench" "$TMPDIR" "$DOCKER_CONFIG"
cc -O2 -o "$BUILD/bench/parse_floor" "$B/parse_floor.c" -ljansson -lpthread || exit 1
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# median of the numbers given (the lower middle one for an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

# CPU seconds (user + system) PID has used so far
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# rounds NAME REVIEWFILE: ROUNDS x (floor, then h2load), results in
# FL_<NAME>, PG_<NAME> (rates), FLC_<NAME> (floor CPU us per parse),
# PGC_<NAME> (server + client CPU us per review; arrays) and FAIL_<NAME>
rounds() {
	local name=$1 rv=$2 i f out r c0 c1 fl=() pg=() flc=() pgc=() fail=0 TIMEFORMAT='cpu %U %S'
	h2load -n 2000 -c 10 -m 10 -d "$rv" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
	for i in $(seq 1 "$ROUNDS"); do
		f=$("$BUILD/bench/parse_floor" "$rv" "$CORES" "$SECS")
		c0=$(cpu_of "$PG_PID")
		out=$({ time h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$rv" -H 'content-type: application/json' "$PG_URL/validate"; } 2>&1)
		c1=$(cpu_of "$PG_PID")
		r=$(h2rate <<<"$out")
		n=$(h2ok <<<"$out")
		fl+=("$(awk '{print $2}' <<<"$f")") flc+=("$(awk '{print $4}' <<<"$f")") pg+=("${r:-0}")
		pgc+=("$(awk -v c0="$c0" -v c1="$c1" -v n="${n:-0}" '/^cpu / {if (n > 0) printf "%.2f", (c1 - c0 + $2 + $3) * 1e6 / n; else print 0}' <<<"$out")")
		fail=$((fail + $(h2fail <<<"$out" | grep -E '^[0-9]+$' || echo 0)))
	done
	eval "FL_$name=(\"\${fl[@]}\") PG_$name=(\"\${pg[@]}\") FLC_$name=(\"\${flc[@]}\") PGC_$name=(\"\${pgc[@]}\") FAIL_$name=$fail"
}

report() {
	local name=$1 label=$2 target=$3 i per=""
	local -n fl="FL_$name" pg="PG_$name" flc="FLC_$name" pgc="PGC_$name" fail="FAIL_$name"
	for i in "${!fl[@]}"; do per="$per $(ratio "${pg[$i]}" "${fl[$i]}")"; done
	row "$label: reviews/s best / median (failed: $fail)" "$(maxof "${pg[@]}") / $(median "${pg[@]}")"
	row "$label: parse floor best / median" "$(maxof "${fl[@]}") / $(median "${fl[@]}")"
	row "$label / floor, best of $ROUNDS" "$(ratio "$(maxof "${pg[@]}")" "$(maxof "${fl[@]}")")"
	row "$label / floor, medians of $ROUNDS (target >= $target)" "$(ratio "$(median "${pg[@]}")" "$(median "${fl[@]}")")"
	row "$label / floor, each round" "${per# }"
	row "$label: CPU per review, server + h2load (us, median) / floor CPU per parse (us, median) = what the cores allow" \
		"$(median "${pgc[@]}") / $(median "${flc[@]}") = $(ratio "$(median "${flc[@]}")" "$(median "${pgc[@]}")")"
}

# perf_run NAME REVIEWFILE: one h2load run with perf sampling the server
perf_run() {
	command -v perf >/dev/null || { echo "perf: not installed" >&2; return 0; }
	perf record -o "$T/perf-$1.data" -p "$PG_PID" -- sleep "$SECS" >/dev/null 2>"$T/perf-$1.err" &
	local pp=$!
	h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$2" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
	wait "$pp"
	echo "== perf, $1: by library =="
	perf report -i "$T/perf-$1.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -15
	echo "== perf, $1: by symbol (self, top 50) =="
	perf report -i "$T/perf-$1.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -50
	[ -n "${PERF_KEEP:-}" ] && cp "$T/perf-$1.data" "$PERF_KEEP-$1.data"
	return 0
}

# --- pure --------------------------------------------------------------------
start_provgate "$B/policy" --threads "$CORES" --workers 2 >/dev/null || { cat "$T/provgate.err"; exit 1; }
pgcurl --data-binary @"$REVIEW" "$PG_URL/validate" | jq -e '.response.allowed == true' >/dev/null ||
	{ echo "bench review is not allowed by the bench policy"; exit 1; }
rounds pure "$REVIEW"
[ "${PERF:-0}" = 1 ] && perf_run pure "$REVIEW"
pg_stop

# --- cached verified image ---------------------------------------------------
pol="$T/bpol"
if registry_start && make_key bench && d=$(make_image app/bench v1) &&
	sig_payload "$REG/app/bench" "$d" >"$T/bench.payload" &&
	push_sig app/bench "$d" "$(sig_layer app/bench "$T/bench.payload" "$T/bench.key")" >/dev/null; then
	mkdir -p "$pol"
	cat >"$pol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: bench-verified}
spec:
  mode: enforce
  trust:
    keys:
      bench: {path: $T/bench.pub}
  images:
    - name: apps
      match: ["$REG/app/**"]
      verify: [{cosign: {key: bench}}]
      tlog: optional
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
	jq -c --arg img "$REG/app/bench:v1" '(.. | objects | select(has("image")) | .image) |= $img' \
		"$REVIEW" >"$T/verified-review.json"
	start_provgate "$pol" --threads "$CORES" --workers 2 >/dev/null || { cat "$T/provgate.err"; exit 1; }
	pgcurl --data-binary @"$T/verified-review.json" "$PG_URL/validate" >/dev/null
	pgcurl --data-binary @"$T/verified-review.json" "$PG_URL/validate" | jq -e '.response.allowed == true' >/dev/null &&
		tail -1 "$T/provgate.out" | grep -q '"cached":true' ||
		{ echo "cached setup failed"; tail -3 "$T/provgate.out"; exit 1; }
	rounds cached "$T/verified-review.json"
	[ "${PERF:-0}" = 1 ] && perf_run cached "$T/verified-review.json"
	pg_stop
	report cached "cached verified image" 0.7x
else
	echo "registry set-up failed: cached reviews not measured" >&2
fi
report pure "pure decision" 0.75x
echo
echo "| throughput ($CORES cores, ${SECS}s runs, load $load0 -> $(cut -d' ' -f1-3 /proc/loadavg)) | value |"
echo "|---|---|"
printf '%s\n' "${ROWS[@]}"
