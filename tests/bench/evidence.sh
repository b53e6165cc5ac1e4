# Benchmarks of the newer evidence kinds (bash; sourced by run.sh after
# lib.sh, lib_server.sh, lib_review.sh, lib_registry.sh, lib_keyless.sh and
# lib_bench.sh; or run on its own: `bash tests/bench/evidence.sh`, which
# prints only its rows).
#
# A real docker-registry on loopback (TLS) holds
#   - a Notation-signed image: a JWS envelope by tests/tools/nvsign with a
#     test-made RSA-3072 leaf and an `openssl ts` RFC 3161 token, pushed as
#     a referrer (artifactType application/vnd.cncf.notary.signature) with
#     the referrers tag-schema index, verified by a `notation` rule (ca and
#     tsa stores, trusted identity, strict);
#   - an attested image: an SLSA v1 statement in a Sigstore bundle referrer
#     signed by a Fulcio-like leaf with GitHub claims and logged in the test
#     Rekor, verified by a `github:` preset rule.
# Measured here, in one server (--threads 1 --workers 1), one review at a
# time over the worker's warm registry connection:
#   cold       each review names a tag never seen before (a fresh cache
#              entry, a full verification: tag resolution, referrers,
#              signature manifest, envelope or bundle blob, the checks)
#   cached     the same review hammered by h2load 10x10 after one
#              verification (reviews/s)
#   requests   registry requests per cold verification, by method
#   reference  a cosign key-signed image, cold, in the same server and
#              run (the machine's load moves all three alike)

bench_evidence() {
	local pol="$T/epol" d i files=() afiles=() rfiles=() l0 f out
	mkdir -p "$DOCKER_CONFIG" "$T/ev/nv" "$T/ev/att" "$T/ev/ref"
	if [ -z "${REG:-}" ]; then
		registry_start || { row "evidence bench registry" "did not start"; return 1; }
	fi
	[ -x "$NVSIGN" ] || { EV_NA="$NVSIGN missing (make $NVSIGN)"; return 1; }
	# --- Notation ---------------------------------------------------------
	nv_pki "$T/ev/pki" || { EV_NA="test Notation PKI failed"; return 1; }
	d=$(make_image nvbench/app v1) || return 1
	cp "$T/last-manifest.json" "$T/ev/nv-manifest.json"
	f="$T/ev/nv.jws"
	ASAN_OPTIONS=detect_leaks=0 "$NVSIGN" --format jws --key "$T/ev/pki/leaf.key" --chain "$T/ev/pki/chain.pem" \
		--media-type "$(jq -r .mediaType "$T/ev/nv-manifest.json")" --digest "$d" \
		--size "$(stat -c %s "$T/ev/nv-manifest.json")" --out "$f" --tsa-cmd "$(nv_tsa_cmd "$T/ev/pki")" ||
		{ EV_NA="nvsign failed"; return 1; }
	push_nv_sig nvbench/app "$d" "$f" application/jose+json >/dev/null || return 1
	# --- attestation ------------------------------------------------------
	if [ -z "${KL_ROOT:-}" ]; then
		keyless_setup || { EV_NA="test Sigstore failed"; return 1; }
	fi
	gh_cert evbench "https://github.com/myorg/ci/.github/workflows/release.yml@refs/heads/main" \
		myorg myorg/app refs/heads/main github-hosted || { EV_NA="GitHub-claims leaf failed"; return 1; }
	d=$(make_image attbench/app v1) || return 1
	cp "$T/last-manifest.json" "$T/ev/att-manifest.json"
	att_statement "$T/ev/st" "$d" myorg/app refs/heads/main || return 1
	att_bundle evbench "$T/ev/st" >"$T/ev/st.bundle" || return 1
	push_bundle_referrer attbench/app "$d" "$T/ev/st.bundle" >/dev/null || return 1

	# --- reference: a cosign key-signed image, same server, same load ------
	make_key evref || return 1
	d=$(make_image evref/app v1) || return 1
	cp "$T/last-manifest.json" "$T/ev/ref-manifest.json"
	sig_payload "$REG/evref/app" "$d" >"$T/ev/ref.payload"
	push_sig evref/app "$d" "$(sig_layer evref/app "$T/ev/ref.payload" "$T/evref.key")" >/dev/null || return 1

	mkdir -p "$pol"
	cat >"$pol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: bench-evidence}
spec:
  mode: enforce
  trust:
    certs:
      acme: {path: $T/ev/pki/ca.pem}
      acme-tsa: {path: $T/ev/pki/tsa-root.pem}
    roots:
      test-sigstore: {path: $KL_ROOT}
    keys:
      evref: {path: $T/evref.pub}
  images:
    - name: reference
      match: ["$REG/evref/**"]
      verify: [{cosign: {key: evref}}]
      tlog: optional
    - name: notation
      match: ["$REG/nvbench/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["x509.subject: C=US, ST=WA, O=acme"]}
    - name: attested
      match: ["$REG/attbench/**"]
      verify:
        - github:
            root: test-sigstore
            owner: myorg
            repo: myorg/app
            signerWorkflow: myorg/ci/.github/workflows/release.yml
            sourceRef: refs/heads/main
            denySelfHostedRunners: true
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
	for i in $(seq 1 "$COLD_N"); do
		push_manifest nvbench/app "c$i" "$T/ev/nv-manifest.json" "$MT_OCI_MANIFEST" >/dev/null || return 1
		pod_review "$REG/nvbench/app:c$i" >"$T/ev/nv/r$i.json"
		files+=("$T/ev/nv/r$i.json")
		push_manifest attbench/app "c$i" "$T/ev/att-manifest.json" "$MT_OCI_MANIFEST" >/dev/null || return 1
		pod_review "$REG/attbench/app:c$i" >"$T/ev/att/r$i.json"
		afiles+=("$T/ev/att/r$i.json")
		push_manifest evref/app "c$i" "$T/ev/ref-manifest.json" "$MT_OCI_MANIFEST" >/dev/null || return 1
		pod_review "$REG/evref/app:c$i" >"$T/ev/ref/r$i.json"
		rfiles+=("$T/ev/ref/r$i.json")
	done
	pod_review "$REG/nvbench/app:v1" >"$T/ev/nv-cached.json"
	pod_review "$REG/attbench/app:v1" >"$T/ev/att-cached.json"

	start_provgate "$pol" --threads 1 --workers 1 >/dev/null || { EV_NA="provgate did not start"; return 1; }
	pgcurl "$PG_URL/healthz" >/dev/null
	# one warm-up verification each (registry connection, policy state)
	pgcurl --data-binary @"$T/ev/nv-cached.json" "$PG_URL/validate" >"$T/ev/nv-first.out"
	pgcurl --data-binary @"$T/ev/att-cached.json" "$PG_URL/validate" >"$T/ev/att-first.out"
	if [ "$(jq -r .response.allowed "$T/ev/nv-first.out")" != true ] ||
		[ "$(jq -r .response.allowed "$T/ev/att-first.out")" != true ]; then
		EV_NA="setup: first reviews not allowed: $(jq -c .response.status "$T/ev/nv-first.out" "$T/ev/att-first.out" | tr '\n' ' ')"
		pg_stop
		return 1
	fi
	l0=$(wc -l <"$REG_LOG")
	curl_reviews "$T/ev/nv.times" "$T/ev/nv" "${files[@]}"
	EV_NV_OK=$(cat "$T"/ev/nv/*.out | jq -r .response.allowed | grep -c true)
	EV_NV_MISS=$(grep -c "\"ref\":\"$REG/nvbench/app:c[0-9]*\".*\"cached\":false" "$T/provgate.out")
	EV_NV_P=$(p50_p99_ms "$T/ev/nv.times")
	reg_methods "$l0" "$EV_NV_MISS" EV_NV_BYMETHOD EV_NV_PULLS EV_NV_TAGGETS 'nvbench/app/manifests/c[0-9]+'
	l0=$(wc -l <"$REG_LOG")
	curl_reviews "$T/ev/att.times" "$T/ev/att" "${afiles[@]}"
	EV_ATT_OK=$(cat "$T"/ev/att/*.out | jq -r .response.allowed | grep -c true)
	EV_ATT_MISS=$(grep -c "\"ref\":\"$REG/attbench/app:c[0-9]*\".*\"cached\":false" "$T/provgate.out")
	EV_ATT_P=$(p50_p99_ms "$T/ev/att.times")
	reg_methods "$l0" "$EV_ATT_MISS" EV_ATT_BYMETHOD EV_ATT_PULLS EV_ATT_TAGGETS 'attbench/app/manifests/c[0-9]+'
	curl_reviews "$T/ev/ref.times" "$T/ev/ref" "${rfiles[@]}"
	EV_REF_OK=$(cat "$T"/ev/ref/*.out | jq -r .response.allowed | grep -c true)
	EV_REF_P=$(p50_p99_ms "$T/ev/ref.times")
	# cached verdicts: the first review's verdict, hammered
	h2load -n 1000 -c 10 -m 10 -d "$T/ev/nv-cached.json" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
	out=$(h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$T/ev/nv-cached.json" -H 'content-type: application/json' "$PG_URL/validate" 2>&1)
	EV_NV_CACHED="$(h2rate <<<"$out") (failed: $(h2fail <<<"$out"))"
	out=$(h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$T/ev/att-cached.json" -H 'content-type: application/json' "$PG_URL/validate" 2>&1)
	EV_ATT_CACHED="$(h2rate <<<"$out") (failed: $(h2fail <<<"$out"))"
	pg_stop
}

evidence_rows() {
	if [ -n "${EV_NA:-}" ]; then
		row "Notation / attestation measures" "n/a: $EV_NA"
		return
	fi
	row "cold Notation-signed image (JWS, RSA-3072 leaf, RFC 3161 token) via server, new tag each, p50 / p99 (ms; $COLD_N reviews, $(na "${EV_NV_OK:-}") allowed, $(na "${EV_NV_MISS:-}") cache misses; target p50 < 10)" \
		"$(na "${EV_NV_P:-}")"
	row "requests per cold Notation verification by method (registry log)" \
		"$(na "${EV_NV_BYMETHOD:-}"); pulls $(na "${EV_NV_PULLS:-}"); by-tag GETs $(na "${EV_NV_TAGGETS:-}")"
	row "cached Notation verdict, h2 TLS 10x10, --threads 1 (reviews/s)" "$(na "${EV_NV_CACHED:-}")"
	row "cold attested image (github preset: bundle referrer, Fulcio-like chain, SET, claims) via server, new tag each, p50 / p99 (ms; $COLD_N reviews, $(na "${EV_ATT_OK:-}") allowed, $(na "${EV_ATT_MISS:-}") cache misses; target p50 < 15)" \
		"$(na "${EV_ATT_P:-}")"
	row "requests per cold attestation verification by method (registry log)" \
		"$(na "${EV_ATT_BYMETHOD:-}"); pulls $(na "${EV_ATT_PULLS:-}"); by-tag GETs $(na "${EV_ATT_TAGGETS:-}")"
	row "cached attested verdict, h2 TLS 10x10, --threads 1 (reviews/s)" "$(na "${EV_ATT_CACHED:-}")"
	row "reference in the same server and run: cold cosign key-signed image (legacy .sig), new tag each, p50 / p99 (ms; $COLD_N reviews, $(na "${EV_REF_OK:-}") allowed)" \
		"$(na "${EV_REF_P:-}")"
}

# On its own: `bash tests/bench/evidence.sh` (BENCH_SECONDS as for run.sh).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	. "$(dirname "$0")/../integration/lib.sh" >/dev/null
	. "$(dirname "$0")/../integration/lib_server.sh"
	. "$(dirname "$0")/../integration/lib_review.sh"
	. "$(dirname "$0")/../integration/lib_registry.sh"
	. "$(dirname "$0")/../integration/lib_keyless.sh"
	. "$(dirname "$0")/../integration/lib_attest.sh"
	. "$(dirname "$0")/../integration/lib_notation.sh"
	. "$(dirname "$0")/lib_bench.sh"
	. "$(dirname "$0")/verified.sh" # pod_review, reg_methods
	SECS=${BENCH_SECONDS:-5}
	COLD_N=$((SECS * 20))
	export DOCKER_CONFIG="$T/docker"
	bench_evidence || echo "bench: evidence part incomplete: ${EV_NA:-}" >&2
	evidence_rows
	echo
	echo "| measure ($(nproc) cores, ${SECS}s runs) | value |"
	echo "|---|---|"
	printf '%s\n' "${ROWS[@]}"
fi
