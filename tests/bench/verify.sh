# The verification CLI verbs, cold, and verify-bundle against sigstore-js
# (bash; sourced by run.sh after verified.sh, whose registry, bench key and
# test Sigstore (lib_keyless.sh) it reuses).
#
#   bench_verify_cli   `provgate verify-image`, a new process each time (no
#                      token, manifest or trust-root cache), against the
#                      loopback registry: a key-signed image with a Rekor
#                      SET (--key + --trusted-root) and the keyless bench
#                      image (chain, SCT, SET, identity); p50/p99 over
#                      CLI_N runs each, and how many verified.
#   bench_bundle       `provgate verify-bundle` over the sigstore-conformance
#                      bundles against sigstore-js (npm "sigstore",
#                      installed once into $BUILD/bench-node), in the same run:
#                        whole process: one CLI call per bundle vs one
#                          `node sigstore_js_verify.js one` per bundle (mean
#                          wall time per call);
#                        in-process: bundle_bench.c (pg_sigstore_verify_bundle
#                          from libprovgate.a) vs the node loop, every bundle
#                          BUNDLE_ROUNDS times, trust roots parsed once in both;
#                          three such runs each, interleaved, best of three.
#                      Ratios are sigstore-js / provgate (target >= 10x
#                      in-process), and how many verdicts agree with the suite.
#
# Sets VI_KEY, VI_KEY_OK, VI_KL, VI_KL_OK (or VI_NA), and BUNDLE_* (or
# BUNDLE_NA, JS_NA: why a figure is missing).

bench_verify_cli() {
	local d i keycmd klcmd
	[ -n "${REG:-}" ] && [ -n "${KL_ROOT:-}" ] || { VI_NA="the registry / test Sigstore did not come up"; return 0; }
	d=$(make_image app/tlog v1) || { VI_NA="pushing the image failed"; return 0; }
	sig_payload "$REG/app/tlog" "$d" >"$T/tlog.payload"
	push_sig app/tlog "$d" "$(key_sig_layer_tlog app/tlog "$T/tlog.payload" bench)" >/dev/null ||
		{ VI_NA="signing the image failed"; return 0; }
	# Its own keyless image on the registry of the moment (the evidence
	# and request benches start registries of their own after the one
	# verified.sh signed keyless/app in: REG is the last one started).
	fulcio_cert vi "URI:$BKL_ID" "$BKL_ISS" && d=$(make_image keyless/cli v1) &&
		sig_payload "$REG/keyless/cli" "$d" >"$T/vi-kl.payload" &&
		push_sig keyless/cli "$d" "$(keyless_sig_layer keyless/cli "$T/vi-kl.payload" vi)" >/dev/null ||
		{ VI_NA="keyless signing failed"; return 0; }
	keycmd=("$PG" verify-image "$REG/app/tlog:v1" --key "$T/bench.pub" --trusted-root "$KL_ROOT"
		--ca-file "$PKI/ca.pem")
	klcmd=("$PG" verify-image "$REG/keyless/cli:v1" --certificate-identity "$BKL_ID"
		--certificate-oidc-issuer "$BKL_ISS" --trusted-root "$KL_ROOT" --ca-file "$PKI/ca.pem")
	: >"$T/vi.key"
	: >"$T/vi.kl"
	VI_KEY_OK=0
	VI_KL_OK=0
	for i in $(seq 1 "$CLI_N"); do
		time_one "$T/vi.key" "${keycmd[@]}" && VI_KEY_OK=$((VI_KEY_OK + 1))
		time_one "$T/vi.kl" "${klcmd[@]}" && VI_KL_OK=$((VI_KL_OK + 1))
	done
	VI_KEY=$(p50_p99_ms "$T/vi.key")
	VI_KL=$(p50_p99_ms "$T/vi.kl")
}

# bundle_case_line DIR: one manifest line (see bundle_bench.c) for a case
bundle_case_line() {
	local d=$1 name art root want id iss
	name=$(basename "$d")
	art="$d/artifact"
	[ -f "$art" ] || art="$BUNDLE_CASES/a.txt"
	root="$d/trusted_root.json"
	[ -f "$root" ] || root="$BUNDLE_PROD_ROOT"
	want=pass
	case "$name" in *_fail) want=fail ;; esac
	if [ -f "$d/key.pub" ]; then
		printf '%s\t%s\t%s\t%s\tkey\t%s\t-\t%s\n' "$name" "$d/bundle.sigstore.json" "$art" "$root" "$d/key.pub" "$want"
	else
		id=$BUNDLE_DEF_ID
		iss=$BUNDLE_DEF_ISS
		[ -f "$d/identity" ] && id=$(cat "$d/identity")
		[ -f "$d/issuer" ] && iss=$(cat "$d/issuer")
		printf '%s\t%s\t%s\t%s\tid\t%s\t%s\t%s\n' "$name" "$d/bundle.sigstore.json" "$art" "$root" "$id" "$iss" "$want"
	fi
}

bundle_pg_one() { # manifest fields 2..7 -> provgate verify-bundle
	if [ "$4" = key ]; then
		"$PG" verify-bundle --bundle "$1" --key "$5" --trusted-root "$3" "$2"
	else
		"$PG" verify-bundle --bundle "$1" --certificate-identity "$5" --certificate-oidc-issuer "$6" \
			--trusted-root "$3" "$2"
	fi
}

# agrees RC WANT: the verdict matches the suite's expectation
agrees() { { [ "$1" = 0 ] && [ "$2" = pass ]; } || { [ "$1" != 0 ] && [ "$2" = fail ]; }; }

field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' <<<"$2"; }

bench_bundle() {
	local man="$T/cases.tsv" out d name bundle art root mode who iss want rc i js="" node_dir="$BUILD/bench-node"
	BUNDLE_CASES="$VECTORS/sigstore-conformance/test/assets/bundle-verify"
	BUNDLE_PROD_ROOT="$VECTORS/sigstore-conformance/default-trust-roots/production-trusted_root.json"
	BUNDLE_DEF_ID="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	BUNDLE_DEF_ISS="https://token.actions.githubusercontent.com"
	[ -d "$BUNDLE_CASES" ] || { BUNDLE_NA="sigstore-conformance bundles not found under $BUNDLE_CASES"; return 0; }
	: >"$man"
	for d in "$BUNDLE_CASES"/*/; do
		[ -f "$d/bundle.sigstore.json" ] && bundle_case_line "${d%/}" >>"$man"
	done
	BUNDLE_N=$(wc -l <"$man")

	# the reference: sigstore-js from npm, installed once (never committed:
	# it lives under build/)
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		JS_NA="node / npm not installed"
	else
		if [ ! -d "$node_dir/node_modules/@sigstore/verify" ]; then
			mkdir -p "$node_dir"
			(cd "$node_dir" && timeout 300 npm install --no-audit --no-fund --silent sigstore >npm.log 2>&1)
		fi
		if [ -d "$node_dir/node_modules/@sigstore/verify" ]; then
			js="$B/sigstore_js_verify.js"
			BUNDLE_JS_VERSION=$(jq -r .version "$node_dir/node_modules/sigstore/package.json")
		else
			JS_NA="\`npm install sigstore\` failed: $(tail -1 "$node_dir/npm.log" 2>/dev/null | tr '|' ' ' | cut -c1-120)"
		fi
	fi
	export NODE_PATH="$node_dir/node_modules"

	# whole process: one call per bundle, provgate and node interleaved
	: >"$T/wp.pg"
	: >"$T/wp.js"
	BUNDLE_PG_AGREE=0
	BUNDLE_JS_AGREE=0
	while IFS=$'\t' read -r name bundle art root mode who iss want; do
		time_one "$T/wp.pg" bundle_pg_one "$bundle" "$art" "$root" "$mode" "$who" "$iss"
		rc=$?
		agrees $rc "$want" && BUNDLE_PG_AGREE=$((BUNDLE_PG_AGREE + 1))
		[ -n "$js" ] || continue
		time_one "$T/wp.js" node "$js" one "$bundle" "$art" "$root" "$mode" "$who" "$iss"
		rc=$?
		agrees $rc "$want" && BUNDLE_JS_AGREE=$((BUNDLE_JS_AGREE + 1))
	done <"$man"
	BUNDLE_PG_WP=$(mean "$T/wp.pg")
	[ -n "$js" ] && BUNDLE_JS_WP=$(mean "$T/wp.js")

	# in-process
	if ! cc -O2 -std=c17 -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -I"$TOP/webhook" \
		$(pkg-config --cflags jansson openssl) -o "$BUILD/bench/bundle_bench" "$B/bundle_bench.c" \
		"$BUILD/libprovgate.a" $(pkg-config --libs libh2o-evloop jansson yaml-0.1 libcurl openssl gpgme) \
		-lz -lpthread -lm >"$T/bundle_cc.err" 2>&1; then
		BUNDLE_IP_NA="bundle_bench.c did not build: $(head -1 "$T/bundle_cc.err" | cut -c1-120)"
		return 0
	fi
	"$BUILD/bench/bundle_bench" "$man" 2 >/dev/null # warm the page cache
	[ -n "$js" ] && node "$js" loop "$man" 2 >/dev/null 2>&1 # the same warm-up
	# Three rounds each, interleaved, the best of each kept: on a shared
	# machine a busy moment slows whichever side happens to run in it, and
	# the best of three is the figure least touched by that.
	for i in 1 2 3; do
		out=$("$BUILD/bench/bundle_bench" "$man" "$BUNDLE_ROUNDS")
		BUNDLE_PG_US=$(best min "${BUNDLE_PG_US:-}" "$(field per_verify_us "$out")")
		BUNDLE_PG_IP_AGREE=$(field agree "$out")
		[ -n "$js" ] || continue
		out=$(node "$js" loop "$man" "$BUNDLE_ROUNDS" 2>&1)
		BUNDLE_JS_US=$(best min "${BUNDLE_JS_US:-}" "$(field per_verify_us "$out")")
		BUNDLE_JS_IP_AGREE=$(field agree "$out")
	done
}
