# Helm .prov chart benchmarks (bash; sourced by run.sh after lib.sh,
# lib_server.sh, lib_review.sh and lib_bench.sh).
#
# One chart, "web" (Chart.yaml, values, a Deployment and 20 ConfigMaps of
# ~2.7 KB random text: a ~60 KB archive, in the range of real application
# charts), packaged here in many versions and clearsigned by gpg (Ed25519)
# the way `helm package --sign` does it (plaintext: Chart.yaml, "...",
# files: {web-V.tgz: sha256:...}).  index.yaml lists every version; nghttpd
# serves the repository over HTTP/2 + TLS on loopback.  Measured:
#   cli      `provgate verify-chart https://.../web-1.0.0.tgz`, a new
#            process each time (fetch tgz + .prov, gpgme, sha256), p50/p99;
#   local    `provgate verify-chart web-1.0.0.tgz` (local file) against
#            `gpgv` + `sha256sum` doing the same work (signature, then the
#            archive's hash), runs interleaved in the same loop, mean wall
#            time per verification and the ratio provgate / reference, in
#            three rounds: the median round is reported, every round's
#            ratio in CHART_LOCAL_ROUNDS (target <= 2, #14 item 5);
#   cold     Argo CD Applications through the server (1 loop thread, 1
#            worker), one at a time over one client connection.  Each
#            review names a chart version no review has named before: the
#            verdict cache key is (chart location, version, rule
#            fingerprint), so every one is a miss and goes the whole way
#            (index.yaml, tgz and .prov fetched over the worker's warm
#            connection, gpgme, sha256).  Checked, not assumed: every
#            measured review's admission log line must say "cached":false;
#   cold-cli the same through `provgate review`, a new process per review
#            (and again a new version each, so nothing could be reused);
#   cached   one Application reviewed again and again one at a time after
#            its first verification: the server-side time of each cached
#            admission (the admission log's duration_ms of the lines that
#            say "cached":true), p50/p99; target < 0.2 ms.
#
# Sets CHART_CLI, CHART_LOCAL_PG, CHART_LOCAL_REF (mean s of the median
# round), CHART_LOCAL_ROUNDS (each round's ratio), CHART_COLD,
# CHART_COLD_OK, CHART_COLD_MISS, CHART_RCLI, CHART_RCLI_OK,
# CHART_RCLI_MISS, CHART_CACHED, CHART_CACHED_N, or CHART_NA (why not).

# chart_pkg VERSION: package and sign web-VERSION into the repository
chart_pkg() {
	local v=$1 s="$CW/src-$1" f="$CW/www/repo/charts/web-$1.tgz"
	mkdir -p "$s/web/templates"
	printf 'apiVersion: v2\nappVersion: "1.0"\ndescription: bench chart\nname: web\nversion: %s\n' "$v" >"$s/web/Chart.yaml"
	printf 'replicas: 2\nimage: nginx\n' >"$s/web/values.yaml"
	cp "$CW"/tpl/*.yaml "$s/web/templates/"
	tar -C "$s" -czf "$f" web || return 1
	{
		cat "$s/web/Chart.yaml"
		printf '\n...\nfiles:\n  web-%s.tgz: sha256:%s\n' "$v" "$(sha256sum "$f" | cut -d' ' -f1)"
	} | gpg --homedir "$CW/gnupg" --batch --yes -u charts@provgate.test --clearsign >"$f.prov" 2>/dev/null || return 1
	printf '  - name: web\n    version: %s\n    apiVersion: v2\n    digest: %s\n    urls: [charts/web-%s.tgz]\n' \
		"$v" "$(sha256sum "$f" | cut -d' ' -f1)" "$v" >>"$CW/index.entries"
}

# chart_app_review VERSION OUT: an AdmissionReview of an Argo CD
# Application naming web at VERSION in the bench repository
chart_app_review() {
	jq -n --arg r "$CHART_URL" --arg v "$1" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
		metadata: {name: "web"}, spec: {project: "default",
		destination: {server: "https://kubernetes.default.svc", namespace: "web"},
		source: {repoURL: $r, chart: "web", targetRevision: $v}}}' >"$CW/app.obj.json"
	mkreview "$CW/app.obj.json" argocd CREATE >"$2"
}

chart_ref_verify() { # what verify-chart does, by the reference tools
	GNUPGHOME="$CW/gnupg-v" gpgv --keyring "$CW/charts.gpg" "$CW/www/repo/charts/web-1.0.0.tgz.prov" &&
		sha256sum "$CW/www/repo/charts/web-1.0.0.tgz"
}

chart_review_one() { # REVIEW: `provgate review`, output next to it
	"$PG" review --policy "$CW/pol" --ca-file "$PKI/ca.pem" "$1" >"$1.out" 2>"$1.log"
}

bench_chart() {
	local port i out bad files=()
	CW="$T/chartw"
	for i in gpg gpgv gpg-connect-agent nghttpd; do
		command -v $i >/dev/null || { CHART_NA="$i is not installed"; return 0; }
	done
	mkdir -p -m 700 "$CW/gnupg" "$CW/gnupg-v"
	mkdir -p "$CW/www/repo/charts" "$CW/tpl" "$CW/cold" "$CW/rcli"
	gpg --homedir "$CW/gnupg" --batch --passphrase '' --quick-gen-key "Bench Charts <charts@provgate.test>" \
		ed25519 sign never >/dev/null 2>&1
	# gpg started an agent for that home: stop it by its PID at exit
	i=$(gpg-connect-agent --homedir "$CW/gnupg" 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}')
	[ -n "$i" ] && PIDS+=("$i")
	gpg --homedir "$CW/gnupg" --export charts@provgate.test >"$CW/charts.gpg" 2>/dev/null
	printf 'kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' >"$CW/tpl/deployment.yaml"
	for i in $(seq 1 20); do
		printf 'kind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  k: "%s"\n' "$i" \
			"$(head -c 2000 /dev/urandom | base64 -w0)" >"$CW/tpl/cm$i.yaml"
	done
	: >"$CW/index.entries"
	chart_pkg 1.0.0 || { CHART_NA="packaging or signing the chart failed"; return 0; }
	for i in $(seq 1 "$CHART_N"); do
		chart_pkg "1.1.$i" && chart_pkg "1.2.$i" || { CHART_NA="packaging or signing failed"; return 0; }
	done
	{
		printf 'apiVersion: v1\nentries:\n  web:\n'
		cat "$CW/index.entries"
		printf 'generated: "2024-01-01T00:00:00Z"\n'
	} >"$CW/www/repo/index.yaml"
	port=$(free_port)
	CHART_URL="https://127.0.0.1:$port/repo"
	bg chartrepo nghttpd --address=127.0.0.1 -d "$CW/www" "$port" "$PKI/server.key" "$PKI/server.pem"
	wait_tcp "$port" 10 || { CHART_NA="nghttpd did not start"; return 0; }

	# --- cli: verify-chart of the https URL, new process each --------------------
	if ! "$PG" verify-chart "$CHART_URL/charts/web-1.0.0.tgz" --keyring "$CW/charts.gpg" \
		--ca-file "$PKI/ca.pem" >"$CW/vc.out" 2>&1; then
		CHART_NA="verify-chart failed: $(tail -1 "$CW/vc.out")"
		return 0
	fi
	timed_runs "$CW/cli.times" "$CHART_N" "$PG" verify-chart "$CHART_URL/charts/web-1.0.0.tgz" \
		--keyring "$CW/charts.gpg" --ca-file "$PKI/ca.pem" && CHART_CLI=$(p50_p99_ms "$CW/cli.times")

	# --- local: verify-chart vs gpgv + sha256sum, interleaved ------------------
	# Three rounds of CHART_N pairs; the round with the median ratio is
	# reported (a busy machine moves single rounds by tens of percent).
	if chart_ref_verify >/dev/null 2>&1; then
		local round rounds=() pg ref
		bad=0
		for round in 1 2 3; do
			: >"$CW/local.pg"
			: >"$CW/local.ref"
			for i in $(seq 1 "$CHART_N"); do
				time_one "$CW/local.pg" "$PG" verify-chart "$CW/www/repo/charts/web-1.0.0.tgz" \
					--keyring "$CW/charts.gpg" || bad=1
				time_one "$CW/local.ref" chart_ref_verify || bad=1
			done
			pg=$(mean "$CW/local.pg")
			ref=$(mean "$CW/local.ref")
			rounds+=("$(awk -v a="$pg" -v b="$ref" 'BEGIN {printf "%.3f %s %s", a / b, a, b}')")
		done
		if [ $bad = 0 ]; then
			CHART_LOCAL_ROUNDS=$(printf '%s\n' "${rounds[@]}" | awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $1}')
			read -r _ CHART_LOCAL_PG CHART_LOCAL_REF < <(printf '%s\n' "${rounds[@]}" | sort -n | sed -n 2p)
		fi
	fi

	# --- cold: through the server, a new version per review ----------------------
	mkdir -p "$CW/pol"
	cat >"$CW/pol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: bench-charts}
spec:
  trust:
    keyrings:
      charts: {path: $CW/charts.gpg}
  charts:
    - name: web
      match: ["$CHART_URL/**"]
      verify: [{prov: {keyring: charts}}]
EOF
	chart_app_review 1.0.0 "$CW/app.review.json"
	out=$("$PG" review --policy "$CW/pol" --ca-file "$PKI/ca.pem" "$CW/app.review.json" 2>&1)
	if [ "$(jq -r '.response.allowed' <<<"$out" 2>/dev/null | tail -1)" != true ]; then
		CHART_NA="the chart review was denied: $(jq -r '.response.status.message // empty' <<<"$out" 2>/dev/null | tr '\n|' '  ' | cut -c1-160)"
		return 0
	fi
	for i in $(seq 1 "$CHART_N"); do
		chart_app_review "1.1.$i" "$CW/cold/r$i.json"
		files+=("$CW/cold/r$i.json")
	done
	start_provgate "$CW/pol" --threads 1 --workers 1 --ca-file "$PKI/ca.pem" >/dev/null || {
		CHART_NA="provgate did not start"
		return 0
	}
	pgcurl "$PG_URL/healthz" >/dev/null
	curl_reviews "$CW/cold.times" "$CW/cold" "${files[@]}"
	CHART_COLD=$(p50_p99_ms "$CW/cold.times")
	CHART_COLD_OK=$(cat "$CW"/cold/*.out | jq -r .response.allowed | grep -c true)
	CHART_COLD_MISS=$(grep '"kind":"Application"' "$T/provgate.out" | grep -c '"cached":false')

	# --- cached: the same Application again and again, server-side time -------------
	chart_app_review 1.0.0 "$CW/cached.json"
	pgcurl --data-binary @"$CW/cached.json" "$PG_URL/validate" >/dev/null
	h2load -n $((SECS * 400)) -c 1 -m 1 -d "$CW/cached.json" -H 'content-type: application/json' \
		"$PG_URL/validate" >/dev/null 2>&1
	grep '"kind":"Application"' "$T/provgate.out" | grep '"cached":true' | jq -r .duration_ms >"$CW/cached.ms"
	CHART_CACHED_N=$(wc -l <"$CW/cached.ms")
	[ "$CHART_CACHED_N" -gt 0 ] && CHART_CACHED="$(pct "$CW/cached.ms" 0.50 | awk '{printf "%.3f", $1}') / $(pct "$CW/cached.ms" 0.99 | awk '{printf "%.3f", $1}')"
	pg_stop

	# --- cold-cli: `provgate review`, new process and new version each ----------------
	: >"$CW/rcli.times"
	for i in $(seq 1 "$CHART_N"); do
		chart_app_review "1.2.$i" "$CW/rcli/r$i.json"
		time_one "$CW/rcli.times" chart_review_one "$CW/rcli/r$i.json"
	done
	CHART_RCLI=$(p50_p99_ms "$CW/rcli.times")
	CHART_RCLI_OK=$(cat "$CW"/rcli/*.out | jq -r .response.allowed | grep -c true)
	CHART_RCLI_MISS=$(cat "$CW"/rcli/*.log | grep '"kind":"Application"' | grep -c '"cached":false')
}
