# Start-up benchmark (bash; sourced by run.sh after lib.sh, lib_server.sh
# and lib_bench.sh).
#
# With failurePolicy: Fail a webhook pod that is slow to become ready
# blocks deployments during rollouts and node loss.  Measured here, READY_N
# times: from just before exec to the first GET /readyz answered 200, with
# the shipped example policies (policy/examples) whose keyless root is
# replaced by the Sigstore public-good trusted_root.json of the shared
# vectors when they are present (the size and shape of a real one); the
# resident set at that moment; and the server-side duration_ms of the first
# and the second review after start (the first must not pay for set-up
# done lazily).  ready_probe.c starts the server and polls /readyz every
# 0.2 ms over TLS, so the figure includes at most one handshake.
#
# Sets READY_P50, READY_MAX, READY_RSS (KiB), READY_ROOT (which root),
# FIRST_MS, SECOND_MS, or READY_NA (why not).

bench_ready() {
	local pol="$T/ready-policy" i ms first second vec
	vec=${PROVGATE_VECTORS:-$TOP/../shared/vectors}/sigstore-conformance/default-trust-roots/production-trusted_root.json
	rm -rf "$pol"
	cp -R "$TOP/policy/examples" "$pol" || { READY_NA="cannot copy policy/examples"; return 1; }
	if [ -f "$vec" ]; then
		cp "$vec" "$pol/trust/example.trusted_root.json"
		READY_ROOT="public-good production root"
	else
		READY_ROOT="example root (shared vectors absent)"
	fi
	"$PG" policy check "$pol" >/dev/null 2>&1 || { READY_NA="policy/examples do not pass policy check"; return 1; }
	: >"$T/ready.times"
	for i in $(seq 1 "$READY_N"); do
		test_pki || return 1
		PG_PORT=$(free_port)
		PG_URL="https://127.0.0.1:$PG_PORT"
		# ready_probe execs the server and polls /readyz itself (a curl per
		# poll would add its own start-up to the figure)
		"$BUILD/bench/ready_probe" "$PG_PORT" sh -c 'exec "$0" serve --policy "$1" --tls-cert "$2" --tls-key "$3" --listen "127.0.0.1:$4" --threads 1 --workers 2 >"$5" 2>"$6"' \
			"$PG" "$pol" "$PKI/server.pem" "$PKI/server.key" "$PG_PORT" "$T/provgate.out" "$T/provgate.err" >"$T/ready.one"
		read -r ms PG_PID <"$T/ready.one"
		PIDS+=("$PG_PID")
		if [ "$ms" = timeout ]; then
			READY_NA="not ready after 10 s"
			pg_stop
			return 1
		fi
		awk -v ms="$ms" 'BEGIN {printf "%.6f\n", ms / 1000}' >>"$T/ready.times"
		if [ "$i" = 1 ]; then
			READY_RSS=$(rss_kib "$PG_PID" VmRSS)
			pgcurl --data-binary @"$REVIEW" "$PG_URL/validate" >/dev/null
			pgcurl --data-binary @"$REVIEW" "$PG_URL/validate" >/dev/null
			first=$(grep -o '"duration_ms":[0-9.]*' "$T/provgate.out" | tail -2 | head -1 | cut -d: -f2)
			second=$(grep -o '"duration_ms":[0-9.]*' "$T/provgate.out" | tail -1 | cut -d: -f2)
			FIRST_MS=$(awk -v v="$first" 'BEGIN {printf "%.3f", v}')
			SECOND_MS=$(awk -v v="$second" 'BEGIN {printf "%.3f", v}')
		fi
		pg_stop
	done
	READY_P50=$(pct "$T/ready.times" 0.50 | ms_of_s)
	READY_MAX=$(sort -g "$T/ready.times" | tail -1 | ms_of_s)
}
