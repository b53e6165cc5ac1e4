# Cold verification of a Helm chart's .prov (bash; sourced by run.sh).
#
# A chart packaged and clearsigned here by gpg (Ed25519), served with its
# .prov and index.yaml by nghttpd (HTTP/2 over TLS) on loopback.  Measured:
#   verify-chart https://.../web-1.0.0.tgz, a new process each time (fetch
#   tgz + .prov, gpg verification through gpgme, sha256 of the archive);
#   the same chart through `provgate review` of an Argo CD Application, if
#   chart verification is wired into reviews in this build (detected: a
#   review that answers "verification not available" means it is not).

bench_chart() {
	local w="$T/chartw" port fpr i out
	command -v gpg >/dev/null && command -v nghttpd >/dev/null || {
		CHART_CLI="n/a (gpg or nghttpd missing)"
		return 0
	}
	mkdir -p -m 700 "$T/gnupg" "$T/tmp"
	mkdir -p "$w/src/web/templates" "$T/www/repo/charts"
	gpg --homedir "$T/gnupg" --batch --passphrase '' --quick-gen-key "Bench Charts <charts@provgate.test>" \
		ed25519 sign never >/dev/null 2>&1
	# gpg started an agent for that home: stop it by its PID at exit
	i=$(gpg-connect-agent --homedir "$T/gnupg" 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}')
	[ -n "$i" ] && PIDS+=("$i")
	gpg --homedir "$T/gnupg" --export charts@provgate.test >"$T/charts.gpg" 2>/dev/null
	printf 'apiVersion: v2\nappVersion: "1.0"\ndescription: bench chart\nname: web\nversion: %s\n' 1.0.0 >"$w/src/web/Chart.yaml"
	printf 'replicas: 2\nimage: nginx\n' >"$w/src/web/values.yaml"
	printf 'kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' >"$w/src/web/templates/deployment.yaml"
	tar -C "$w/src" -czf "$T/www/repo/charts/web-1.0.0.tgz" web
	{
		cat "$w/src/web/Chart.yaml"
		printf '\n...\nfiles:\n  web-1.0.0.tgz: sha256:%s\n' "$(sha256sum "$T/www/repo/charts/web-1.0.0.tgz" | cut -d' ' -f1)"
	} | gpg --homedir "$T/gnupg" --batch --yes -u charts@provgate.test --clearsign \
		>"$T/www/repo/charts/web-1.0.0.tgz.prov" 2>/dev/null
	port=$(free_port)
	CHART_URL="https://127.0.0.1:$port/repo"
	printf 'apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.0.0\n    digest: %s\n    urls: [charts/web-1.0.0.tgz]\ngenerated: "2024-01-01T00:00:00Z"\n' \
		"$(sha256sum "$T/www/repo/charts/web-1.0.0.tgz" | cut -d' ' -f1)" >"$T/www/repo/index.yaml"
	bg chartrepo nghttpd --address=127.0.0.1 -d "$T/www" "$port" "$PKI/server.key" "$PKI/server.pem"
	wait_tcp "$port" 10 || { CHART_CLI="n/a (nghttpd did not start)"; return 0; }

	if ! TMPDIR="$T/tmp" "$PG" verify-chart "$CHART_URL/charts/web-1.0.0.tgz" --keyring "$T/charts.gpg" \
		--ca-file "$PKI/ca.pem" >"$T/vc.out" 2>&1; then
		CHART_CLI="n/a (verify-chart failed: $(tail -1 "$T/vc.out"))"
		return 0
	fi
	TMPDIR="$T/tmp" timed_runs "$T/chart.times" "$CHART_N" "$PG" verify-chart \
		"$CHART_URL/charts/web-1.0.0.tgz" --keyring "$T/charts.gpg" --ca-file "$PKI/ca.pem" ||
		{ CHART_CLI="n/a (a verify-chart run failed)"; return 0; }
	CHART_CLI="$(pct "$T/chart.times" 0.50 | ms_of_s) / $(pct "$T/chart.times" 0.99 | ms_of_s)"

	# Through a review: wired yet?
	mkdir -p "$T/cpol"
	cat >"$T/cpol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: bench-charts}
spec:
  trust:
    keyrings:
      charts: {path: $T/charts.gpg}
  charts:
    - name: web
      match: ["$CHART_URL/**"]
      verify: [{prov: {keyring: charts}}]
  registries:
    - host: "127.0.0.1:$port"
      caFile: $PKI/ca.pem
EOF
	printf '{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":"web"},"spec":{"project":"default","destination":{"server":"https://kubernetes.default.svc","namespace":"web"},"source":{"repoURL":"%s","chart":"web","targetRevision":"1.0.0"}}}' \
		"$CHART_URL" >"$T/app.obj.json"
	mkreview "$T/app.obj.json" argocd CREATE >"$T/app.review.json"
	out=$(TMPDIR="$T/tmp" "$PG" review --policy "$T/cpol" "$T/app.review.json" 2>&1)
	if printf '%s' "$out" | grep -q 'verification not available'; then
		CHART_REVIEW="n/a: chart verification is not wired into reviews in this build"
	elif [ "$(jq -r '.response.allowed' <<<"$out" 2>/dev/null)" != true ]; then
		CHART_REVIEW="n/a: the chart review was denied: $(jq -r '.response.status.message' <<<"$out" 2>/dev/null | cut -c1-160)"
	else
		TMPDIR="$T/tmp" timed_runs "$T/chartrv.times" "$CHART_N" "$PG" review --policy "$T/cpol" "$T/app.review.json"
		CHART_REVIEW="$(pct "$T/chartrv.times" 0.50 | ms_of_s) / $(pct "$T/chartrv.times" 0.99 | ms_of_s)"
	fi
}
