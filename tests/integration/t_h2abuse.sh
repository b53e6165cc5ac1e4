#!/bin/bash
# HTTP/2 abuse against `provgate serve` (h2o 2.2.5, which predates the
# upstream "rapid reset" fix): tests/tools/h2flood runs (a) a HEADERS +
# RST_STREAM flood and (b) thousands of concurrent streams past
# --max-streams, while an ordinary client (curl --http2) keeps asking.
# Asserts: every ordinary request is answered, the server survives, its
# peak RSS stays under the bound; prints peak CPU% and RSS.  Then
# --http1-only: no h2 is negotiated at all, and HTTP/1.1 clients are served.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"

# 4 s per mode: long enough for thousands of resets or streams and a dozen
# ordinary requests beside them (H2FLOOD_SECONDS=30 for a long soak).
FLOOD_S=${H2FLOOD_SECONDS:-4}
CONNS=4
# Peak RSS bound.  ASan's shadow memory and quarantine make its RSS
# meaningless against this bound; it gets a loose one.
if [ -n "${SANITIZE:-}" ]; then RSS_MAX_KB=$((1024 * 1024)); else RSS_MAX_KB=$((64 * 1024)); fi
H2FLOOD="$BUILD/tools/h2flood"
[ -x "$H2FLOOD" ] || { notok "h2flood built" "$H2FLOOD missing"; exit 1; }
command -v curl >/dev/null && curl -V | grep -q HTTP2 || { skip "t_h2abuse" "curl without HTTP/2"; exit 0; }

mkreview "$FIX/objects/pod-nginx.json" default CREATE >"$T/review.json"
start_provgate "$FIX/policy/enforce" --threads 2 --workers 2 --max-streams 100 ||
	{ notok "server starts" "$(tail -3 "$T/provgate.err")"; exit 1; }
ok "server starts (pid $PG_PID)"
TCK=$(getconf CLK_TCK)

# sample PID SECONDS OUTFILE: every 0.2 s, CPU% over the interval and RSS;
# writes "peak_cpu peak_rss_kb" (bounded loop).
sample() {
	local pid=$1 n=$(($2 * 5 + 10)) i=0 t0 t1 c0 c1 cpu peak_cpu=0 rss peak_rss=0
	c0=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || return
	t0=$(date +%s%N)
	while [ $i -lt "$n" ]; do
		sleep 0.2
		c1=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || break
		t1=$(date +%s%N)
		cpu=$(((c1 - c0) * 100 * 1000000000 / TCK / (t1 - t0 + 1)))
		rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
		[ "$cpu" -gt "$peak_cpu" ] && peak_cpu=$cpu
		[ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
		c0=$c1 t0=$t1 i=$((i + 1))
		[ -f "$T/sample.stop" ] && break
	done
	echo "$peak_cpu $peak_rss" >"$3"
}

# normal_client SECONDS: ordinary h2 requests during the flood; prints
# "asked answered max_ms".
normal_client() {
	local end=$(($(date +%s) + $1)) asked=0 answered=0 max=0 ms code i=0
	while [ "$(date +%s)" -lt "$end" ] && [ $i -lt 200 ]; do
		i=$((i + 1))
		asked=$((asked + 1))
		code=$(pgcurl --http2 --max-time 5 -o /dev/null -w '%{http_code} %{time_total}' "$PG_URL/healthz")
		ms=$(awk '{printf "%d", $2 * 1000}' <<<"$code")
		[ "${code%% *}" = 200 ] && answered=$((answered + 1))
		[ "$ms" -gt "$max" ] && max=$ms
		asked=$((asked + 1))
		out=$(pgcurl --http2 --max-time 5 -H 'Content-Type: application/json' --data-binary @"$T/review.json" "$PG_URL/validate")
		[ "$(jq -r .response.allowed <<<"$out" 2>/dev/null)" = false ] && answered=$((answered + 1))
		sleep 0.2
	done
	echo "$asked $answered $max"
}

for mode in reset streams; do
	path=/healthz
	[ $mode = streams ] && path=/validate
	rm -f "$T/sample.stop"
	sample "$PG_PID" $((FLOOD_S + 2)) "$T/peak-$mode" &
	spid=$!
	"$H2FLOOD" --port "$PG_PORT" --mode $mode --seconds "$FLOOD_S" --conns $CONNS --path $path >"$T/flood-$mode.out" 2>&1 &
	fpid=$!
	sleep 0.5
	read -r asked answered maxms < <(normal_client $((FLOOD_S - 1)))
	wait "$fpid"
	touch "$T/sample.stop"
	wait "$spid"
	read -r pcpu prss <"$T/peak-$mode"
	echo "# $mode flood: $(cat "$T/flood-$mode.out")"
	echo "# $mode flood: provgate peak CPU ${pcpu}% (of one core), peak RSS $((prss / 1024)) MiB; normal client $answered/$asked answered, slowest ${maxms} ms"
	expect_eq "$mode flood: every normal h2 request answered" "$answered" "$asked"
	check "$mode flood: the flood ran" grep -q "headers=[1-9]" "$T/flood-$mode.out"
	if [ "$prss" -lt "$RSS_MAX_KB" ]; then ok "$mode flood: peak RSS $((prss / 1024)) MiB < $((RSS_MAX_KB / 1024)) MiB"; else notok "$mode flood: RSS bound" "peak $((prss / 1024)) MiB"; fi
	check "$mode flood: server still running" kill -0 "$PG_PID"
	expect_eq "$mode flood: healthz afterwards" "$(pgcurl --http2 "$PG_URL/healthz")" ok
done
expect_match "streams flood: excess streams refused by the server" "$(cat "$T/flood-streams.out")" "server_rst=[1-9]"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PG_PID/status")
echo "# provgate VmHWM after both floods: $((hwm / 1024)) MiB"
if grep -qE 'Sanitizer|runtime error' "$T/provgate.err"; then notok "server: sanitizer report" "$(grep -m3 -E 'Sanitizer|runtime error' "$T/provgate.err")"; fi

# --- --http1-only: h2 is never negotiated, so neither flood applies ---
start_provgate "$FIX/policy/enforce" --http1-only ||
	{ notok "http1-only server starts" "$(tail -3 "$T/provgate.err")"; exit 1; }
"$H2FLOOD" --port "$PG_PORT" --mode reset --seconds 1 --conns 1 >"$T/flood-h1.out" 2>&1
expect_eq "--http1-only: h2flood finds no h2 (exit 3)" "$?" 3
v=$(pgcurl --http2 -o /dev/null -w '%{http_version}' "$PG_URL/healthz")
expect_eq "--http1-only: curl --http2 is answered over HTTP/1.1" "$v" 1.1
out=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/review.json" "$PG_URL/validate")
expect_eq "--http1-only: reviews answered" "$(jq -r .response.allowed <<<"$out")" false

# --- out of file descriptors: connections are shed, the loop does not spin ---
# A server allowed 64 descriptors, 150 idle TCP connections held open: what
# it cannot accept it accepts with its reserve descriptor and closes (an
# EMFILE left pending keeps the listener readable: the loop spun at 100%).
PG_REAL=$PG
printf '#!/bin/sh\nulimit -n 64\nexec %s "$@"\n' "$PG_REAL" >"$T/pg-fd64"
chmod +x "$T/pg-fd64"
PG="$T/pg-fd64" start_provgate "$FIX/policy/enforce" --threads 1 --workers 1 ||
	{ notok "fd-limited server starts" "$(tail -3 "$T/provgate.err")"; exit 1; }
PG=$PG_REAL
held=()
for i in $(seq 1 150); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PG_PORT" 2>/dev/null && held+=("$fd")
done
sleep 0.5
c0=$(awk '{print $14 + $15}' "/proc/$PG_PID/stat")
sleep 2
c1=$(awk '{print $14 + $15}' "/proc/$PG_PID/stat")
cpu=$(((c1 - c0) * 100 / TCK / 2))
echo "# out of descriptors: ${#held[@]} connections held, provgate CPU ${cpu}% over 2 s"
if [ "$cpu" -lt 50 ]; then ok "out of descriptors: the loop does not spin (${cpu}% CPU)"; else
	notok "out of descriptors: the loop does not spin" "${cpu}% CPU over 2 s"; fi
for fd in "${held[@]}"; do exec {fd}>&-; done
sleep 0.3
m=$(pgcurl --http2 "$PG_URL/metrics")
expect_match "out of descriptors: connections shed and counted" "$m" 'provgate_connections_shed_total [1-9]'
out=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/review.json" "$PG_URL/validate")
expect_eq "out of descriptors: once they close, reviews are answered" "$(jq -r .response.allowed <<<"$out")" false
