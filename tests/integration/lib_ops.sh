# Helpers for the operability tests (t_ops_*.sh): a real registry with
# signed images, policies written on the fly, `provgate serve` with its own
# certificate files, reviews over HTTP/2, metrics and log lookups.  Source
# after lib.sh, lib_registry.sh, lib_review.sh and lib_server.sh.
#
#   ops_registry          registry + keys a, b, c ($T/{a,b,c}.{key,pub}) and
#                         images, digests in D_SIGNED (app/signed:1, key a),
#                         D_OTHER (app/other:1, key b), D_TEAM (team/x:1, key c)
#   ops_policy MODE "KEYS" [TEAM_KEY] [KEYDIR]
#                         a policy on stdout: rule "apps" over $REG/app/** with
#                         the cosign keys named in KEYS (a, b, c), rule "team"
#                         over $REG/team/** with TEAM_KEY when given, pause
#                         allowUnsigned, kube-system exempt.  Key paths are
#                         KEYDIR/<k>.pub (default $T; "." = relative)
#   put FILE              stdin to FILE atomically (write aside, rename)
#   ops_serve NAME POLICY [serve args...]
#                         provgate serve with a copy of the test certificate
#                         in $T/NAME-tls (cert.pem, key.pem); sets PORT_<NAME>,
#                         URL, PID_<NAME>; the last one started is "current"
#   review NAME IMAGE [NS] [CURL ARGS...]
#                         Pod review over HTTP/2 against $URL, uid "NAME";
#                         sets RESP (response JSON), ALLOWED, TEXT
#   metric 'SERIES'       value of one exact series in /metrics of $URL (0 if absent)
#   logline UID           the admission log lines of the current server with that uid
#   ops_stop NAME...      SIGTERM each server; ok when it exits 0 within 6 s
#                         with no sanitizer report on its stderr
#   poll SECS CMD...      run CMD every 100 ms until it succeeds or SECS pass;
#                         prints the milliseconds it took
ops_registry() {
	registry_start || return 1
	make_key a && make_key b && make_key c || return 1
	D_SIGNED=$(ops_signed_image app/signed 1 a) &&
		D_OTHER=$(ops_signed_image app/other 1 b) &&
		D_TEAM=$(ops_signed_image team/x 1 c)
}

# ops_signed_image REPO TAG KEY: push an image and its legacy signature
ops_signed_image() {
	local dg l
	dg=$(make_image "$1" "$2") || return 1
	sig_payload "$REG/$1" "$dg" >"$T/payload.$$"
	l=$(sig_layer "$1" "$T/payload.$$" "$T/$3.key") && push_sig "$1" "$dg" "$l" >/dev/null || return 1
	echo "$dg"
}

ops_policy() {
	local mode=$1 keys=$2 team=${3:-} kd=${4:-$T} k pfx
	pfx="$kd/"
	[ "$kd" = . ] && pfx=""
	cat <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: ops
spec:
  mode: $mode
  exemptNamespaces: [kube-system]
  trust:
    keys:
EOF
	for k in $keys $team; do
		echo "      $k: {path: $pfx$k.pub}"
	done
	cat <<EOF
  images:
    - name: apps
      match: ["$REG/app/**"]
      verify:
EOF
	for k in $keys; do
		echo "        - cosign: {key: $k}"
	done
	echo "      tlog: optional"
	if [ -n "$team" ]; then
		cat <<EOF
    - name: team
      match: ["$REG/team/**"]
      verify:
        - cosign: {key: $team}
      tlog: optional
EOF
	fi
	cat <<EOF
    - name: pause
      match: ["registry.k8s.io/pause:*"]
      allowUnsigned: true
  registries:
    - host: $REG
      caFile: $PKI/ca.pem
EOF
}

# put FILE: stdin becomes FILE in one rename.  The temporary file is made
# outside the watched directory: a watcher that scans between the write and
# the rename would otherwise see a new entry and reload the old policy once
# more (seen as an extra good load on a busy machine).
put() {
	local f=$1
	cat >"$T/.put.tmp" && mv -f "$T/.put.tmp" "$f"
}

ops_serve() {
	local name=$1 pol=$2 port
	shift 2
	test_pki || return 1
	mkdir -p "$T/$name-tls"
	cp "$PKI/server.pem" "$T/$name-tls/cert.pem"
	cp "$PKI/server.key" "$T/$name-tls/key.pem"
	port=$(free_port)
	bg "$name" "$PG" serve --policy "$pol" --tls-cert "$T/$name-tls/cert.pem" \
		--tls-key "$T/$name-tls/key.pem" --listen "127.0.0.1:$port" --ca-file "$PKI/ca.pem" "$@"
	printf -v "PID_$name" '%s' "${PIDS[-1]}"
	printf -v "PORT_$name" '%s' "$port"
	URL="https://127.0.0.1:$port"
	CUR=$name
	wait_tcp "$port" 10
}

pod_json() { # NAME IMAGE
	jq -n --arg n "$1" --arg i "$2" \
		'{apiVersion: "v1", kind: "Pod", metadata: {name: $n},
		  spec: {containers: [{name: "main", image: $i}]}}'
}

review() {
	local name=$1 img=$2 ns=${3:-default}
	shift 3 2>/dev/null || shift $#
	pod_json "$name" "$img" >"$T/pod.$name.json"
	mkreview "$T/pod.$name.json" "$ns" CREATE v1 "$name" >"$T/review.$name.json"
	RESP=$(pgcurl --http2 "$@" -H 'Content-Type: application/json' \
		--data-binary @"$T/review.$name.json" "$URL/validate")
	ALLOWED=$(jq -r '.response.allowed' <<<"$RESP" 2>/dev/null)
	TEXT=$(jq -r '.response.status.message // ((.response.warnings // []) | join("; "))' <<<"$RESP" 2>/dev/null)
}

metric() {
	pgcurl "$URL/metrics" | awk -v s="$1" '$1 == s {print $2; f=1} END {if (!f) print 0}'
}

logline() {
	grep -F "\"uid\":\"$1\"" "$T/$CUR.out"
}

poll() {
	local secs=$1 t0
	shift
	t0=$(date +%s%N)
	while :; do
		if "$@" >/dev/null 2>&1; then
			echo $(( ($(date +%s%N) - t0) / 1000000 ))
			return 0
		fi
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge $((secs * 1000)) ] && return 1
		sleep 0.1
	done
}

ops_stop() {
	local name pid rc i
	for name in "$@"; do
		pid=PID_$name
		pid=${!pid}
		kill -TERM "$pid" 2>/dev/null
		rc=timeout
		for i in $(seq 1 120); do
			if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; rc=$?; break; fi
			sleep 0.05
		done
		if [ "$rc" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$T/$name.err"; then
			ok "server $name exits 0 on SIGTERM, no sanitizer report"
		else
			notok "server $name exits 0 on SIGTERM, no sanitizer report" \
				"rc=$rc $(grep -E -A8 'Sanitizer|runtime error' "$T/$name.err" | head -20)"
		fi
	done
}
