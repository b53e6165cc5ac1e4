# Start `provgate serve` on a free loopback port (bash; source after lib.sh).
#   start_provgate POLICY_DIR [extra serve args...]  sets PG_PORT, PG_URL, PG_PID
#   pgcurl ARGS...   curl against it, trusting the test CA
start_provgate() {
	local pol=$1; shift
	test_pki || return 1
	PG_PORT=$(free_port)
	PG_URL="https://127.0.0.1:$PG_PORT"
	bg provgate "$PG" serve --policy "$pol" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
		--listen "127.0.0.1:$PG_PORT" "$@"
	PG_PID=${PIDS[-1]}
	wait_tcp "$PG_PORT" ${PG_START_SECS:-10}
}
pgcurl() { curl -sS --cacert "$PKI/ca.pem" --max-time 20 "$@"; }
