# Shared helpers for integration tests (bash).  Source it first.
#
#   ok NAME / notok NAME WHY / skip NAME WHY     report one result
#   check NAME CMD...            ok if CMD succeeds
#   expect_eq NAME GOT WANT      ok if equal, else shows both
#   expect_match NAME TEXT RE    ok if TEXT matches the extended regex
#   bg NAME CMD...               start CMD in the background; its PID is
#                                killed (and waited for) when the test exits
#   wait_tcp PORT [SECONDS]      wait until 127.0.0.1:PORT accepts
#   free_port                    an unused loopback port
#   test_key OUT SPEC NAME       a private key (SPEC rsa:BITS or ec, PKCS#8 PEM)
#                                into OUT, made once per NAME and SPEC and
#                                kept in $PG_TESTCACHE (default build/testcache)
#   split_fields STR NAME...     STR's 0x1f-separated fields (what a jq filter
#                                ending in join("\u001f") prints) into NAME...
#   test_pki                     a test CA + server cert for 127.0.0.1 and
#                                localhost in $PKI (ca.pem, server.pem, server.key)
#
# Only loopback addresses are used.  Every process started with bg is
# stopped by its PID on exit, even when the test fails.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
PG="$BUILD/provgate"
VECTORS=${PROVGATE_VECTORS:-$TOP/../shared/vectors}
FIX="$TOP/tests/fixtures"
T=$(mktemp -d "${TMPDIR:-/tmp}/pgtest.XXXXXX")
PIDS=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TOP/tests/lsan.supp:print_suppressions=0}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	sanitizer_scan
	rm -rf "$T"
}

# After every process started here has stopped: any sanitizer report in
# their stderr files fails the test, with the report's first frames, so a
# race seen once in CI says where it was.
sanitizer_scan() {
	local f
	for f in "$T"/*.err "$T"/*.stderr; do
		[ -f "$f" ] || continue
		grep -qE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$f" || continue
		notok "sanitizer report in $(basename "$f")" \
			"$(grep -m1 -E 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$f")"
		grep -A40 -m1 -E 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$f" |
			grep -E '^ *#[0-9]+ |^(READ|WRITE|freed|previously|  (Read|Write|Previous|Location))' |
			grep -vE 'libsanitizer|compiler-rt' | head -24 | sed 's/^/#   /'
	done
}
trap cleanup EXIT

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1${2:+: $2}"; }
skip() { echo "skip - $1${2:+: $2}"; }
check() { local n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else notok "$n" "command failed: $*"; fi; }
expect_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else notok "$1" "got [$2] want [$3]"; fi
}
expect_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else notok "$1" "[$2] does not match /$3/"; fi
}
bg() { local n=$1; shift; "$@" >"$T/$n.out" 2>"$T/$n.err" & PIDS+=($!); }
wait_tcp() {
	local port=$1 secs=${2:-10} i=0
	while [ $i -lt $((secs * 20)) ]; do
		(exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
# A port below the kernel's ephemeral range (32768 up by default): a port in
# that range, free when probed, could become some connection's source port
# before the server binds it ("Address already in use", seen once in CI).
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 21000 ] 2>/dev/null || lo=32768
	while :; do
		p=$((20000 + RANDOM % (lo - 20000)))
		(exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }
	done
}
# One jq that prints every field a check needs, joined by 0x1f, is one
# process instead of one per field (a jq start is ~15 ms).  The last NAME
# takes the rest, newlines included; names a short STR lacks are set empty.
split_fields() { # STR NAME...
	local _sf_s=$1
	shift
	while [ $# -gt 1 ]; do
		if [[ $_sf_s == *$'\x1f'* ]]; then
			printf -v "$1" '%s' "${_sf_s%%$'\x1f'*}"
			_sf_s=${_sf_s#*$'\x1f'}
		else
			printf -v "$1" '%s' "$_sf_s"
			_sf_s=""
		fi
		shift
	done
	printf -v "$1" '%s' "$_sf_s"
}

# RSA key generation is the slowest step of several PKIs (about 0.3-1 s a
# 3072-bit key, more under load): keys are made once and kept in the
# test cache, shared by the plain and sanitizer suites.  Certificates,
# dates and signatures are still made by every run.  NAME keeps keys that a
# test needs distinct (a second, untrusted root) apart.
test_key() { # OUT SPEC NAME
	local dir f tmp
	dir="${PG_TESTCACHE:-$TOP/build/testcache}/keys"
	f="$dir/$3-${2/:/-}.key"
	if [ ! -s "$f" ]; then
		mkdir -p "$dir" || return 1
		tmp="$f.tmp.$$"
		case "$2" in
		rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$tmp" 2>/dev/null ;;
		ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp" 2>/dev/null ;;
		*) echo "test_key: unknown key spec $2" >&2; return 1 ;;
		esac || { rm -f "$tmp"; return 1; }
		mv -f "$tmp" "$f" || return 1
	fi
	cp "$f" "$1" && chmod 600 "$1"
}

test_pki() {
	PKI="$BUILD/testpki"
	if [ ! -f "$PKI/server.pem" ]; then
		mkdir -p "$PKI.tmp.$$"
		( cd "$PKI.tmp.$$" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
			-subj "/CN=provgate test CA" -keyout ca.key -out ca.pem 2>/dev/null &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext.cnf &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 3650 -extfile ext.cnf -out server.pem 2>/dev/null ) || return 1
		mv -T "$PKI.tmp.$$" "$PKI" 2>/dev/null || rm -rf "$PKI.tmp.$$"
	fi
}
