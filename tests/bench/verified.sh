# Benchmarks that need evidence (bash; sourced by run.sh after lib.sh,
# lib_server.sh, lib_review.sh, lib_registry.sh, lib_keyless.sh and
# lib_bench.sh).
#
# A real docker-registry on loopback (TLS, access log on) holds a key-signed
# image, signed the way cosign signs (ECDSA P-256 over the simple-signing
# payload, legacy sha256-<hex>.sig tag), and a keyless-signed one: a leaf
# from the test Fulcio-like CA of lib_keyless.sh (embedded SCT from its CT
# log), certificate + chain + Rekor bundle (SET) annotations, verified
# against its trusted_root.json by a keyless rule (issuer + subject).
# Measured here:
#   cached     the same verified review hammered by h2load (after one
#              verification), and against the parse floor of that review
#   scaling    pure and cached reviews/s with 1, 2, 4 loop threads + workers
#   cold       one review at a time, each naming a tag never seen before
#              (a fresh cache entry, a full verification: tag resolution,
#              referrers, tag-schema fallback, .sig manifest, payload blob)
#              over the worker's warm registry connection, for the
#              key-signed image and then, in the same server, for the
#              keyless one (chain to the test Fulcio root, SCT, SET,
#              identity); and `provgate review` of the key-signed image, a
#              new process each time (cold everything)
#   herd       1000 concurrent reviews of one uncached image: how many HEADs
#              of its .sig tag and GETs of its signature manifest (by the
#              digest the HEAD named) the registry's access log shows
#   rss        peak RSS idle and after 100k cache entries (see fill_cache)
#   conns      registry connections opened for the cold run, and the HTTP
#              version the registry logged for provgate's requests

# the identity the keyless bench image is signed by (a GitHub Actions
# workflow, as most keyless-signed images are)
BKL_ID=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
BKL_ISS=https://token.actions.githubusercontent.com

bench_verified() {
	local pol="$T/bpol" d sm i n files=() klfiles=() out ok allowed
	mkdir -p "$DOCKER_CONFIG"
	registry_start || { row "registry" "did not start: $(tail -2 "$T"/registry-*.err)"; return 1; }
	make_key bench || return 1
	d=$(make_image app/bench v1) || return 1
	cp "$T/last-manifest.json" "$T/bench-manifest.json"
	sig_payload "$REG/app/bench" "$d" >"$T/bench.payload"
	push_sig app/bench "$d" "$(sig_layer app/bench "$T/bench.payload" "$T/bench.key")" >/dev/null || return 1
	BENCH_DIGEST=$d
	# keyless: the test Sigstore, one leaf for the bench identity
	keyless_setup && fulcio_cert bench "URI:$BKL_ID" "$BKL_ISS" || return 1
	d=$(make_image keyless/app v1) || return 1
	cp "$T/last-manifest.json" "$T/keyless-manifest.json"
	sig_payload "$REG/keyless/app" "$d" >"$T/keyless.payload"
	push_sig keyless/app "$d" "$(keyless_sig_layer keyless/app "$T/keyless.payload" bench)" >/dev/null || return 1
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
    roots:
      test-sigstore: {path: $KL_ROOT}
  images:
    - name: pause
      match: ["registry.k8s.io/pause:*"]
      allowUnsigned: true
    - name: apps
      match: ["$REG/app/**", "$REG/fill/**"]
      verify: [{cosign: {key: bench}}]
      tlog: optional
    - name: keyless
      match: ["$REG/keyless/**"]
      verify:
        - cosign:
            keyless: {root: test-sigstore, issuer: $BKL_ISS, subject: $BKL_ID}
      tlog: required
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
	# The bench Deployment with every container on the signed image.
	jq -c --arg img "$REG/app/bench:v1" '(.. | objects | select(has("image")) | .image) |= $img' \
		"$REVIEW" >"$T/verified-review.json"

	# --- cached ---------------------------------------------------------------
	start_provgate "$pol" --threads "$CORES" --workers 2 >/dev/null || return 1
	allowed=$(pgcurl --data-binary @"$T/verified-review.json" "$PG_URL/validate" | jq -r .response.allowed)
	pgcurl --data-binary @"$T/verified-review.json" "$PG_URL/validate" >/dev/null
	if [ "$allowed" != true ] || ! tail -1 "$T/provgate.out" | grep -q '"cached":true'; then
		row "cached verified image" "setup failed: first review allowed=$allowed, second not from the cache"
		pg_stop
		return 1
	fi
	h2load -n 2000 -c 10 -m 10 -d "$T/verified-review.json" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
	# Three rounds, each the floor then the server (the server idles while
	# the floor runs): best and median of each, and the ratio of the
	# medians, which one busy moment on a shared machine cannot move.
	local i f r fl=() ca=()
	CACHED_FAIL=0
	for i in 1 2 3; do
		f=$("$BUILD/bench/parse_floor" "$T/verified-review.json" "$CORES" "$SECS" | awk '{print $2}')
		out=$(h2load -D "$SECS" -c 10 -m 10 -t 1 -d "$T/verified-review.json" -H 'content-type: application/json' "$PG_URL/validate" 2>&1)
		r=$(h2rate <<<"$out")
		fl+=("$f") ca+=("$r")
		VFLOOR=$(best max "${VFLOOR:-}" "$f")
		CACHED_RATE=$(best max "${CACHED_RATE:-}" "$r")
		CACHED_FAIL=$((CACHED_FAIL + $(h2fail <<<"$out" | grep -E '^[0-9]+$' || echo 0)))
	done
	VFLOOR_MED=$(median3 "${fl[@]}")
	CACHED_MED=$(median3 "${ca[@]}")
	pg_stop

	# --- scaling ----------------------------------------------------------------
	for n in 1 2 4; do
		start_provgate "$pol" --threads $n --workers $n >/dev/null || return 1
		pgcurl --data-binary @"$T/verified-review.json" "$PG_URL/validate" >/dev/null
		h2load -n 1000 -c 10 -m 10 -d "$REVIEW" -H 'content-type: application/json' "$PG_URL/validate" >/dev/null 2>&1
		SCALE_PURE[$n]=$(h2load -D "$SCALE_SECS" -c 10 -m 10 -t 1 -d "$REVIEW" -H 'content-type: application/json' "$PG_URL/validate" 2>&1 | h2rate)
		SCALE_CACHED[$n]=$(h2load -D "$SCALE_SECS" -c 10 -m 10 -t 1 -d "$T/verified-review.json" -H 'content-type: application/json' "$PG_URL/validate" 2>&1 | h2rate)
		pg_stop
	done

	# --- cold, through the server -------------------------------------------------
	mkdir -p "$T/cold/kl"
	for i in $(seq 1 "$COLD_N"); do
		push_manifest app/bench "c$i" "$T/bench-manifest.json" "$MT_OCI_MANIFEST" >/dev/null || return 1
		pod_review "$REG/app/bench:c$i" >"$T/cold/r$i.json"
		files+=("$T/cold/r$i.json")
		push_manifest keyless/app "c$i" "$T/keyless-manifest.json" "$MT_OCI_MANIFEST" >/dev/null || return 1
		pod_review "$REG/keyless/app:c$i" >"$T/cold/kl/r$i.json"
		klfiles+=("$T/cold/kl/r$i.json")
	done
	start_provgate "$pol" --threads 1 --workers 1 >/dev/null || return 1
	pgcurl "$PG_URL/healthz" >/dev/null
	reg_ports >"$T/ports.before"
	n=$(grep -c "GET .* HTTP/" "$REG_LOG")
	l0=$(wc -l <"$REG_LOG")
	curl_reviews "$T/cold.times" "$T/cold" "${files[@]}"
	ok=$(cat "$T"/cold/*.out | jq -r .response.allowed | grep -c true)
	COLD_P50=$(pct "$T/cold.times" 0.50 | ms_of_s)
	COLD_P99=$(pct "$T/cold.times" 0.99 | ms_of_s)
	COLD_OK=$ok
	COLD_MISS=$(grep -c "\"ref\":\"$REG/app/bench:c[0-9]*\".*\"cached\":false" "$T/provgate.out")
	reg_ports >"$T/ports.after"
	COLD_CONNS=$(comm -13 <(sort "$T/ports.before") <(sort "$T/ports.after") | wc -l)
	COLD_REQS=$(($(grep -c "GET .* HTTP/" "$REG_LOG") - n))
	reg_methods "$l0" "$COLD_MISS" COLD_BYMETHOD COLD_PULLS COLD_TAGGETS 'app/bench/manifests/c[0-9]+'
	REG_HTTP=$(grep '"provgate"$' "$REG_LOG" | sed -n 's/.* \(HTTP\/[0-9.]*\)" .*/\1/p' | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
	# keyless, same server, same warm connection
	l0=$(wc -l <"$REG_LOG")
	curl_reviews "$T/coldkl.times" "$T/cold/kl" "${klfiles[@]}"
	COLDKL_OK=$(cat "$T"/cold/kl/*.out | jq -r .response.allowed | grep -c true)
	COLDKL_MISS=$(grep -c "\"ref\":\"$REG/keyless/app:c[0-9]*\".*\"cached\":false" "$T/provgate.out")
	COLDKL_P=$(p50_p99_ms "$T/coldkl.times")
	reg_methods "$l0" "$COLDKL_MISS" COLDKL_BYMETHOD COLDKL_PULLS COLDKL_TAGGETS 'keyless/app/manifests/c[0-9]+'

	pg_stop

	# --- cold, `provgate review` (new process, new TLS connection) ----------------
	for i in $(seq 1 "$CLI_N"); do
		push_manifest app/bench "cli$i" "$T/bench-manifest.json" "$MT_OCI_MANIFEST" >/dev/null || return 1
		pod_review "$REG/app/bench:cli$i" >"$T/cold/cli$i.json"
	done
	: >"$T/cli.times"
	CLI_OK=0
	for i in $(seq 1 "$CLI_N"); do
		local t0 t1
		t0=$(date +%s%N)
		"$PG" review --policy "$pol" "$T/cold/cli$i.json" >/dev/null 2>&1 && CLI_OK=$((CLI_OK + 1))
		t1=$(date +%s%N)
		awk -v us="$(((t1 - t0) / 1000))" 'BEGIN {printf "%.6f\n", us / 1e6}' >>"$T/cli.times"
	done
	CLI_P50=$(pct "$T/cli.times" 0.50 | ms_of_s)
	CLI_P99=$(pct "$T/cli.times" 0.99 | ms_of_s)

	# --- herd: 1000 concurrent reviews of one uncached image ---------------------
	d=$(make_image app/herd v1) || return 1
	sig_payload "$REG/app/herd" "$d" >"$T/herd.payload"
	sm=$(push_sig app/herd "$d" "$(sig_layer app/herd "$T/herd.payload" "$T/bench.key")") || return 1
	pod_review "$REG/app/herd:v1" >"$T/herd.json"
	start_provgate "$pol" --threads "$CORES" --workers 4 --queue 2048 >/dev/null || return 1
	pgcurl "$PG_URL/healthz" >/dev/null
	# 100 connections x 10 streams: all 1000 in flight at once
	out=$(h2load -n 1000 -c 100 -m 10 -t 1 -d "$T/herd.json" -H 'content-type: application/json' "$PG_URL/validate" 2>&1)
	HERD_OK=$(h2ok <<<"$out")
	HERD_ALLOWED=$(grep -c "\"ref\":\"$REG/app/herd:v1\".*\"decision\":\"allow\"" "$T/provgate.out")
	HERD_SIGS="$(reg_heads "/v2/app/herd/manifests/sha256-${d#sha256:}\\.sig") / $(reg_gets "/v2/app/herd/manifests/$sm")"
	HERD_TIME=$(awk '/^finished in/ {print $3}' <<<"$out" | tr -d ',')
	HERD_COALESCED=$(pgcurl "$PG_URL/metrics" | awk '$1 == "provgate_cache_coalesced_total" {print $2}')
	pg_stop

	# --- RSS idle and with 100k entries ----------------------------------------------
	fill_cache "$pol"
}

# reg_methods LINE0 N VAR_BYMETHOD VAR_PULLS VAR_TAGGETS TAG_PATH_ERE: from
# provgate's requests in REG_LOG after line LINE0, per verification (N):
# requests by method ("HEAD 1.0, GET 2.0"), manifest GETs (what Docker Hub
# counts as pulls), and GETs of the image's own manifest by tag (target 0).
reg_methods() {
	local l0=$1 n=$2 new
	new=$(tail -n +"$((l0 + 1))" "$REG_LOG" | grep '"provgate"$')
	[ "${n:-0}" -gt 0 ] 2>/dev/null || n=1
	printf -v "$3" '%s' "$(sed -n 's/.*"\([A-Z]*\) \/v2\/[^ ]* HTTP\/[0-9.]*".*/\1/p' <<<"$new" | sort | uniq -c |
		awk -v n="$n" '{printf "%s%s %.2f", sep, $2, $1 / n; sep=", "}')"
	printf -v "$4" '%s' "$(grep -cE '"GET /v2/[^ ]*/manifests/[^ ]* HTTP' <<<"$new" | awk -v n="$n" '{printf "%.2f", $1 / n}')"
	printf -v "$5" '%s' "$(grep -cE "\"GET /v2/$6 HTTP" <<<"$new")"
}

reg_ports() { # local ports of client sockets to the registry, any state
	ss -tanH "( dport = :${REG##*:} )" 2>/dev/null | awk '{split($4, a, ":"); print a[length(a)]}'
}

pod_review() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1"},"spec":{"containers":[{"name":"web","image":"%s"}]}}' "$1" >"$T/pod.obj.json"
	mkreview "$T/pod.obj.json" default CREATE
}

# Fill the cache with FILL_N real verdicts of real size.  Every entry goes
# the whole way a review goes (decode, policy match under the key rule,
# loop-side cache miss, worker, pg_verify_image against the loopback
# registry, pg_cache_put): the references name distinct sha256 digests the
# registry holds no signatures for, a definite "no signatures found"
# (~5 ms each), cached for the negative TTL (raised here so nothing expires
# during the fill).  That is the size of a real sha256 verdict (~270 B
# accounted).  Reviews of FILL_PER references go in two parallel streams,
# one per worker.  --cache-bytes is raised so the entry bound, not the byte
# bound, is what holds 100k.  About 3 minutes for 100k.
fill_cache() {
	local pol=$1 r per=${FILL_PER:-200} reviews half a b
	reviews=$(((FILL_N + per - 1) / per))
	start_provgate "$pol" --threads "$CORES" --workers 2 --timeout-ms 60000 \
		--cache-entries "$FILL_N" --cache-bytes $((512 << 20)) \
		--cache-negative-ttl-ms 3600000 >/dev/null || return 1
	pgcurl "$PG_URL/healthz" >/dev/null
	sleep 0.5
	RSS_IDLE=$(rss_kib "$PG_PID" VmHWM)
	mkdir -p "$T/fill" "$T/fill/a" "$T/fill/b"
	python3 - "$REG" "$T/fill" "$reviews" "$per" <<'PY' || return 1
import hashlib, json, sys
reg, out, reviews, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for r in range(reviews):
    cs = [{"name": "c%d" % i, "image": "%s/fill/app@sha256:%s" % (reg, hashlib.sha256(b"%d/%d" % (r, i)).hexdigest())}
          for i in range(per)]
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fill-%d" % r}, "spec": {"containers": cs}}
    json.dump(obj, open("%s/obj%d.json" % (out, r), "w"))
PY
	for r in $(seq 0 $((reviews - 1))); do
		mkreview "$T/fill/obj$r.json" default CREATE >"$T/fill/r$r.json"
	done
	half=$((reviews / 2))
	curl_reviews "$T/fill.a.times" "$T/fill/a" $(for r in $(seq 0 $((half - 1))); do echo "$T/fill/r$r.json"; done) &
	a=$!
	curl_reviews "$T/fill.b.times" "$T/fill/b" $(for r in $(seq "$half" $((reviews - 1))); do echo "$T/fill/r$r.json"; done) &
	b=$!
	wait "$a" "$b"
	FILL_ENTRIES=$(pgcurl "$PG_URL/metrics" | awk '$1 == "provgate_cache_entries" {print $2}')
	FILL_BYTES=$(pgcurl "$PG_URL/metrics" | awk '$1 == "provgate_cache_bytes" {print $2}')
	RSS_FULL_HWM=$(rss_kib "$PG_PID" VmHWM)
	RSS_FULL=$(rss_kib "$PG_PID" VmRSS)
	pg_stop
}
