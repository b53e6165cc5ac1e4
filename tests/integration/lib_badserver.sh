# The misbehaving registry (tests/tools/badserver.c) for fault and SSRF tests
# (bash; source after lib.sh and lib_review.sh).
#
#   badserver_start      start it with the test PKI; sets BAD_MAIN, BAD_OTHER,
#                        BAD_PLAIN (ports) and BAD_STATS (counts file);
#                        BAD_UPSTREAM=HOST:PORT (a registry) enables the
#                        flip/flop proxy modes
#   bad_count NAME       connections so far on listener NAME (main,
#                        main_plain, other, plain), or flips (manifest-by-tag
#                        requests the flip/flop proxy answered)
#   bad_policy DIR [EXTRA_HOST...]
#                        a policy whose only image rule and registries entry
#                        is 127.0.0.1:$BAD_MAIN (plus rules for EXTRA_HOSTs)
#   bad_review FILE IMAGE   an AdmissionReview of a Pod running IMAGE
#   now_ms               wall clock in milliseconds
BADSERVER="$BUILD/tools/badserver"

badserver_start() {
	test_pki || return 1
	[ -x "$BADSERVER" ] || return 1
	local d="$T/bad.${#PIDS[@]}" i
	mkdir -p "$d"
	bg badserver "$BADSERVER" --cert "$PKI/server.pem" --key "$PKI/server.key" \
		--ports "$d/ports" --stats "$d/stats" ${BAD_UPSTREAM:+--upstream "$BAD_UPSTREAM"} --lifetime 900
	for i in $(seq 1 100); do [ -s "$d/ports" ] && break; sleep 0.05; done
	[ -s "$d/ports" ] || return 1
	BAD_MAIN=$(sed -n 's/.*main=\([0-9]*\).*/\1/p' "$d/ports")
	BAD_OTHER=$(sed -n 's/.*other=\([0-9]*\).*/\1/p' "$d/ports")
	BAD_PLAIN=$(sed -n 's/.*plain=\([0-9]*\).*/\1/p' "$d/ports")
	BAD_STATS="$d/stats"
	wait_tcp "$BAD_MAIN" 5
}

bad_count() { tr ' ' '\n' <"$BAD_STATS" | sed -n "s/^$1=//p"; }

bad_policy() {
	local dir=$1 h
	shift
	mkdir -p "$dir"
	[ -f "$T/bad-key.pub" ] || {
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/bad-key.key" 2>/dev/null &&
			openssl pkey -in "$T/bad-key.key" -pubout -out "$T/bad-key.pub" 2>/dev/null
	}
	{
		cat <<POL
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: hostile}
spec:
  mode: enforce
  trust:
    keys:
      k: {path: $T/bad-key.pub}
  images:
    - name: bad
      match: ["127.0.0.1:$BAD_MAIN/**"$(for h in "$@"; do printf ', "%s/**"' "$h"; done)]
      verify:
        - cosign: {key: k}
      tlog: optional
  registries:
    - host: 127.0.0.1:$BAD_MAIN
      caFile: $PKI/ca.pem
POL
		for h in "$@"; do
			printf '    - host: %s\n      caFile: %s\n' "$h" "$PKI/ca.pem"
		done
	} >"$dir/policy.yaml"
}

bad_review() {
	jq --arg i "$2" '.spec.containers[0].image = $i' "$FIX/objects/pod-apps.json" >"$1.obj"
	mkreview "$1.obj" default CREATE >"$1"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
