#!/usr/bin/env bash
# Verification benchmarks (not run by `make test`):
#  1. cold `provgate verify-image` (a new process each time: no token,
#     manifest or trust-root cache) against a loopback docker-registry with
#     TLS, key-based (with a Rekor SET) and keyless (Fulcio-like chain, SCT,
#     SET): p50 and p99 over BENCH_RUNS runs (default 50);
#  2. `provgate verify-bundle` over the sigstore-conformance bundles against
#     sigstore-js (npm "sigstore", installed into $BUILD/bench-node) in the
#     same run:
#       whole process — one CLI call per bundle vs one `node` one-shot per
#                       bundle (mean wall time per call);
#       in-process    — bundle_bench.c (libprovgate.a, pg_sigstore_verify_bundle)
#                       vs a node loop, every bundle BENCH_ROUNDS times
#                       (default 20), trust roots parsed once in both.
#     Ratios are sigstore-js time / provgate time (target: >= 10 in-process).
# Prints markdown tables.  Only loopback addresses; every process stopped
# by PID (lib.sh).
set -u
. "$(dirname "$0")/../integration/lib.sh" >/dev/null
. "$TOP/tests/integration/lib_registry.sh"
. "$TOP/tests/integration/lib_keyless.sh"
B="$TOP/tests/bench"
RUNS=${BENCH_RUNS:-50}
ROUNDS=${BENCH_ROUNDS:-20}
CASES="$VECTORS/sigstore-conformance/test/assets/bundle-verify"
PROD_ROOT="$VECTORS/sigstore-conformance/default-trust-roots/production-trusted_root.json"
DEF_ID="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
DEF_ISS="https://token.actions.githubusercontent.com"
mkdir -p "$BUILD/bench"
[ -x "$PG" ] || { echo "build $PG first (make)"; exit 1; }
now_ns() { date +%s%N; }
pct() { # P < file of numbers (ms): the P-th percentile, nearest rank
	sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.2f", a[i]}'
}
mean() { awk '{s+=$1} END {printf "%.2f", s/NR}'; }

# ---- 1. cold verify-image ---------------------------------------------------
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"
registry_start >/dev/null || { echo "docker-registry did not start"; exit 1; }
keyless_setup && make_key good || { echo "test keys / CA failed"; exit 1; }
ID=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
fulcio_cert alice "URI:$ID" "$ISS" || exit 1
DK=$(make_image bench/key v1) && sig_payload "$REG/bench/key" "$DK" >"$T/pk" &&
	L=$(key_sig_layer_tlog bench/key "$T/pk" good) && push_sig bench/key "$DK" "$L" >/dev/null || exit 1
DL=$(make_image bench/keyless v1) && sig_payload "$REG/bench/keyless" "$DL" >"$T/pl" &&
	L=$(keyless_sig_layer bench/keyless "$T/pl" alice) && push_sig bench/keyless "$DL" "$L" >/dev/null || exit 1
KEYCMD=("$PG" verify-image "$REG/bench/key:v1" --key "$T/good.pub" --trusted-root "$KL_ROOT" --ca-file "$PKI/ca.pem")
KLCMD=("$PG" verify-image "$REG/bench/keyless:v1" --certificate-identity "$ID" \
	--certificate-oidc-issuer "$ISS" --trusted-root "$KL_ROOT" --ca-file "$PKI/ca.pem")
"${KEYCMD[@]}" >/dev/null 2>&1 && "${KLCMD[@]}" >/dev/null 2>&1 || { echo "verify-image does not verify the bench images"; exit 1; }
for kind in key keyless; do
	: >"$T/lat.$kind"
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_ns)
		if [ $kind = key ]; then "${KEYCMD[@]}" >/dev/null 2>&1; else "${KLCMD[@]}" >/dev/null 2>&1; fi
		t1=$(now_ns)
		echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$T/lat.$kind"
	done
done
echo "### cold \`provgate verify-image\`, loopback registry with TLS ($RUNS runs each)"
echo
echo "| signature | p50 ms | p99 ms | mean ms |"
echo "|---|---:|---:|---:|"
for kind in key keyless; do
	printf '| %s | %s | %s | %s |\n' "$([ $kind = key ] && echo "key + Rekor SET" || echo "keyless (chain, SCT, SET)")" \
		"$(pct 50 <"$T/lat.$kind")" "$(pct 99 <"$T/lat.$kind")" "$(mean <"$T/lat.$kind")"
done
echo

# ---- 2. verify-bundle vs sigstore-js ---------------------------------------
if [ ! -d "$CASES" ]; then
	echo "conformance bundles not found under $CASES: bundle benchmark skipped"
	exit 0
fi
MAN="$T/cases.tsv"
: >"$MAN"
for d in "$CASES"/*/; do
	d=${d%/}
	[ -f "$d/bundle.sigstore.json" ] || continue
	name=$(basename "$d")
	art="$d/artifact"; [ -f "$art" ] || art="$CASES/a.txt"
	root="$d/trusted_root.json"; [ -f "$root" ] || root="$PROD_ROOT"
	want=pass; case "$name" in *_fail) want=fail ;; esac
	if [ -f "$d/key.pub" ]; then
		printf '%s\t%s\t%s\t%s\tkey\t%s\t-\t%s\n' "$name" "$d/bundle.sigstore.json" "$art" "$root" "$d/key.pub" "$want" >>"$MAN"
	else
		id=$DEF_ID; iss=$DEF_ISS
		[ -f "$d/identity" ] && id=$(cat "$d/identity")
		[ -f "$d/issuer" ] && iss=$(cat "$d/issuer")
		printf '%s\t%s\t%s\t%s\tid\t%s\t%s\t%s\n' "$name" "$d/bundle.sigstore.json" "$art" "$root" "$id" "$iss" "$want" >>"$MAN"
	fi
done
NCASES=$(wc -l <"$MAN")

# the reference: sigstore-js from npm, installed once into $BUILD/bench-node
NODE_DIR="$BUILD/bench-node"
JS=""
if command -v node >/dev/null && command -v npm >/dev/null; then
	if [ ! -d "$NODE_DIR/node_modules/@sigstore/verify" ]; then
		mkdir -p "$NODE_DIR"
		(cd "$NODE_DIR" && timeout 300 npm install --no-audit --no-fund --silent sigstore >npm.log 2>&1)
	fi
	[ -d "$NODE_DIR/node_modules/@sigstore/verify" ] && JS="$B/sigstore_js_verify.js"
fi
[ -n "$JS" ] || echo "reference unavailable: sigstore-js could not be installed (npm install sigstore failed); provgate figures only"
export NODE_PATH="$NODE_DIR/node_modules"

# whole process: one call per bundle
pg_one() { # manifest line fields -> provgate verify-bundle
	if [ "$5" = key ]; then
		"$PG" verify-bundle --bundle "$2" --key "$6" --trusted-root "$4" "$3"
	else
		"$PG" verify-bundle --bundle "$2" --certificate-identity "$6" --certificate-oidc-issuer "$7" \
			--trusted-root "$4" "$3"
	fi
}
: >"$T/wp.pg"; : >"$T/wp.js"
pg_agree=0 js_agree=0
while IFS=$'\t' read -r name bundle art root mode who iss want; do
	t0=$(now_ns); pg_one "$name" "$bundle" "$art" "$root" "$mode" "$who" "$iss" >/dev/null 2>&1; rc=$?; t1=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$T/wp.pg"
	{ [ $rc = 0 ] && [ "$want" = pass ]; } || { [ $rc != 0 ] && [ "$want" = fail ]; } && pg_agree=$((pg_agree + 1))
	if [ -n "$JS" ]; then
		t0=$(now_ns); node "$JS" one "$bundle" "$art" "$root" "$mode" "$who" "$iss" >/dev/null 2>&1; rc=$?; t1=$(now_ns)
		echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$T/wp.js"
		{ [ $rc = 0 ] && [ "$want" = pass ]; } || { [ $rc != 0 ] && [ "$want" = fail ]; } && js_agree=$((js_agree + 1))
	fi
done <"$MAN"

# in-process
cc -O2 -std=c17 -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -I"$TOP/webhook" \
	$(pkg-config --cflags jansson openssl) -o "$BUILD/bench/bundle_bench" "$B/bundle_bench.c" \
	"$BUILD/libprovgate.a" $(pkg-config --libs libh2o-evloop jansson yaml-0.1 libcurl openssl gpgme) \
	-lz -lpthread -lm || exit 1
"$BUILD/bench/bundle_bench" "$MAN" 2 >/dev/null # warm the page cache
ip_pg=$("$BUILD/bench/bundle_bench" "$MAN" "$ROUNDS")
ip_js=""
[ -n "$JS" ] && ip_js=$(node "$JS" loop "$MAN" "$ROUNDS" 2>&1)
field() { awk -v k="$1" '{for (i=1;i<NF;i++) if ($i==k) print $(i+1)}' <<<"$2"; }
ratio() { [ -n "$2" ] && echo "scale=1; $2 / $1" | bc || echo "n/a"; }

echo "### \`verify-bundle\` over $NCASES sigstore-conformance bundles vs sigstore-js $( [ -n "$JS" ] && jq -r .version "$NODE_DIR/node_modules/sigstore/package.json")"
echo
echo "| measure | provgate | sigstore-js | ratio (js / provgate) |"
echo "|---|---:|---:|---:|"
pg_wp=$(mean <"$T/wp.pg"); js_wp=""
[ -n "$JS" ] && js_wp=$(mean <"$T/wp.js")
printf '| whole process, mean ms per call | %s | %s | %s |\n' "$pg_wp" "${js_wp:-n/a}" "$(ratio "$pg_wp" "$js_wp")"
pg_us=$(field per_verify_us "$ip_pg"); js_us=$(field per_verify_us "$ip_js")
printf '| in-process, µs per verification (%s rounds) | %s | %s | %s |\n' "$ROUNDS" "$pg_us" "${js_us:-n/a}" "$(ratio "$pg_us" "$js_us")"
printf '| verdicts agreeing with the suite (whole process) | %s/%s | %s |  |\n' "$pg_agree" "$NCASES" "$([ -n "$JS" ] && echo "$js_agree/$NCASES" || echo n/a)"
printf '| verdicts agreeing with the suite (in-process) | %s/%s | %s |  |\n' "$(field agree "$ip_pg")" "$NCASES" \
	"$([ -n "$JS" ] && echo "$(field agree "$ip_js")/$NCASES" || echo n/a)"
echo
if [ -n "$js_us" ] && [ -n "$pg_us" ]; then
	if [ "$(echo "$js_us >= 10 * $pg_us" | bc)" = 1 ]; then
		echo "in-process target (provgate >= 10x faster): met"
	else
		echo "in-process target (provgate >= 10x faster): NOT met"
	fi
fi
