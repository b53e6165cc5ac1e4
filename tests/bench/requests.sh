# Registry requests per cold verification, by kind of evidence (bash;
# sourced by run.sh after lib.sh, lib_server.sh, lib_review.sh,
# lib_registry.sh, lib_keyless.sh, lib_bench.sh and verified.sh, whose
# reg_methods it shares).
#
# A registry of its own (access log on), the test Sigstore of
# lib_keyless.sh, and REQ_N distinct artifacts of each kind:
#   legacy    a cosign key signature (simple signing, sha256-<hex>.sig tag)
#   keyless   a cosign keyless signature in the .sig tag (Fulcio-like leaf,
#             chain, Rekor SET)
#   bundle    a Sigstore bundle v0.3 (DSSE, keyless) as an OCI referrer,
#             found through the sha256-<hex> tag schema (distribution 2.8
#             has no referrers API)
#   attest    a GitHub build-provenance attestation (bundle v0.3 referrer)
#             under a `github:` verifier
#   notation  a Notation JWS signature (referrer) under a `notation:`
#             verifier (needs $BUILD/tools/nvsign: built here when missing)
#   ocichart  an OCI Helm chart (as `helm push` stores it) with a cosign
#             key signature, named by an Argo CD Application
# One server, one worker, one review at a time, each naming an artifact
# no review has named before (checked: the admission log says
# "cached":false).  For each kind: requests by method per verification,
# manifest GETs per verification (what Docker Hub counts as pulls), GETs of
# the artifact's own manifest by tag (target 0), and manifest GETs answered
# 404 (a pull spent on absent evidence: target 0; absent evidence is probed
# with HEAD).  The one 404 a process spends on the referrers API is in the
# first kind that asks it and shown apart.
#
# Sets REQ_<KIND>_BYMETHOD, _PULLS, _TAGGETS, _GET404, _OK, _MISS, and REQ_NA
# (why not) or REQ_<KIND>_NA.

REQ_KINDS="legacy keyless bundle attest notation ocichart"

bench_requests() {
	local pol="$T/rpol" i k d st e f files l0 n r404 wf
	local MT_HELM_CONFIG=application/vnd.cncf.helm.config.v1+json
	local MT_HELM_CHART=application/vnd.cncf.helm.chart.content.v1.tar+gzip
	REQ_N=${REQ_N:-5}
	. "$TOP/tests/integration/lib_attest.sh"
	. "$TOP/tests/integration/lib_notation.sh"
	registry_start || { REQ_NA="registry did not start"; return 1; }
	keyless_setup || { REQ_NA="test Sigstore setup failed"; return 1; }
	wf=https://github.com/myorg/ci/.github/workflows/release.yml@refs/heads/main
	fulcio_cert rq "URI:$BKL_ID" "$BKL_ISS" && gh_cert rqgh "$wf" myorg myorg/app refs/heads/main github-hosted &&
		make_key rqkey || { REQ_NA="certificates and keys failed"; return 1; }
	[ -x "$NVSIGN" ] || make -s -C "$TOP" "BUILD=$BUILD" "$NVSIGN" >/dev/null 2>&1
	mkdir -p "$T/req"
	for i in $(seq 1 "$REQ_N"); do
		# cosign key signature, legacy .sig tag
		d=$(make_image legacy/app "k$i") && sig_payload "$REG/legacy/app" "$d" >"$T/req/k$i" &&
			push_sig legacy/app "$d" "$(sig_layer legacy/app "$T/req/k$i" "$T/rqkey.key")" >/dev/null ||
			{ REQ_legacy_NA="push failed"; }
		# cosign keyless signature, legacy .sig tag
		d=$(make_image keyless/app "l$i") && sig_payload "$REG/keyless/app" "$d" >"$T/req/l$i" &&
			push_sig keyless/app "$d" "$(keyless_sig_layer keyless/app "$T/req/l$i" rq)" >/dev/null ||
			{ REQ_keyless_NA="push failed"; }
		# bundle v0.3 referrer, keyless
		d=$(make_image bundle/app "b$i") && sigstore_bundle_dsse rq "$d" >"$T/req/b$i.json" &&
			push_bundle_referrer bundle/app "$d" "$T/req/b$i.json" >/dev/null ||
			{ REQ_bundle_NA="push failed"; }
		# attestation
		d=$(make_image attest/app "a$i") && att_statement "$T/req/st$i" "$d" myorg/app refs/heads/main \
			https://slsa.dev/provenance/v1 && att_bundle rqgh "$T/req/st$i" "" >"$T/req/a$i.json" &&
			push_bundle_referrer attest/app "$d" "$T/req/a$i.json" >/dev/null ||
			{ REQ_attest_NA="push failed"; }
		# OCI chart, cosign key signature
		d=$(req_push_chart charts/web web "1.0.$i") && sig_payload "$REG/charts/web" "$d" >"$T/req/pc$i" &&
			push_sig charts/web "$d" "$(sig_layer charts/web "$T/req/pc$i" "$T/rqkey.key")" >/dev/null ||
			{ REQ_ocichart_NA="push failed"; }
	done
	if [ -x "$NVSIGN" ] && nv_pki "$T/req/nv" >/dev/null 2>&1; then
		for i in $(seq 1 "$REQ_N"); do
			d=$(make_image nv/app "n$i") && f="$T/req/nv$i.m" &&
				reg_curl -f -H "Accept: $MT_OCI_MANIFEST" -o "$f" "https://$REG/v2/nv/app/manifests/$d" &&
				ASAN_OPTIONS=detect_leaks=0 "$NVSIGN" --format jws --key "$T/req/nv/leaf.key" \
					--chain "$T/req/nv/chain.pem" --media-type "$MT_OCI_MANIFEST" --digest "$d" \
					--size "$(stat -c %s "$f")" --out "$T/req/nv$i.jws" >/dev/null 2>&1 &&
				push_nv_sig nv/app "$d" "$T/req/nv$i.jws" application/jose+json >/dev/null ||
				{ REQ_notation_NA="signing or push failed"; }
		done
	else
		REQ_notation_NA="no nvsign ($NVSIGN) or test Notation PKI"
	fi
	mkdir -p "$pol"
	cat >"$pol/policy.yaml" <<EOP
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: bench-requests}
spec:
  mode: enforce
  trust:
    keys:
      rqkey: {path: $T/rqkey.pub}
    roots:
      test-sigstore: {path: $KL_ROOT}
    certs:
      acme: {path: $T/req/nv/ca.pem}
  images:
    - name: legacy
      match: ["$REG/legacy/**"]
      verify: [{cosign: {key: rqkey}}]
      tlog: optional
    - name: keyless
      match: ["$REG/keyless/**"]
      verify:
        - cosign:
            keyless: {root: test-sigstore, issuer: $BKL_ISS, subject: $BKL_ID}
      tlog: required
    - name: bundle
      match: ["$REG/bundle/**"]
      verify:
        - cosign:
            keyless: {root: test-sigstore, issuer: $BKL_ISS, subject: $BKL_ID}
      tlog: required
    - name: attest
      match: ["$REG/attest/**"]
      verify:
        - github: {root: test-sigstore, owner: myorg, repo: myorg/app,
                   signerWorkflow: myorg/ci/.github/workflows/release.yml, sourceRef: refs/heads/main}
    - name: notation
      match: ["$REG/nv/**"]
      verify:
        - notation: {ca: [acme], identities: ["*"]}
  charts:
    - name: oci-charts
      match: ["oci://$REG/charts/**"]
      verify: [{cosign: {key: rqkey}}]
      tlog: optional
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOP
	if [ -n "${REQ_notation_NA:-}" ]; then
		# no certificate file: drop the notation rule and its trust
		sed -i -e '/certs:/,/acme:/d' -e '/- name: notation/,/identities/d' "$pol/policy.yaml"
	fi
	"$PG" policy check "$pol" >"$T/req/check.out" 2>&1 || { REQ_NA="bench policy rejected: $(tail -1 "$T/req/check.out")"; return 1; }
	start_provgate "$pol" --threads 1 --workers 1 >/dev/null || { REQ_NA="provgate did not start"; return 1; }
	pgcurl "$PG_URL/healthz" >/dev/null
	REQ_REFERRERS_404=""
	REQ_REFERRERS_KIND=""
	for k in $REQ_KINDS; do
		local na_var="REQ_${k}_NA"
		[ -n "${!na_var:-}" ] && continue
		mkdir -p "$T/req/$k"
		files=()
		for i in $(seq 1 "$REQ_N"); do
			f="$T/req/$k/r$i.json"
			case $k in
			legacy) pod_review "$REG/legacy/app:k$i" >"$f" ;;
			keyless) pod_review "$REG/keyless/app:l$i" >"$f" ;;
			bundle) pod_review "$REG/bundle/app:b$i" >"$f" ;;
			attest) pod_review "$REG/attest/app:a$i" >"$f" ;;
			notation) pod_review "$REG/nv/app:n$i" >"$f" ;;
			ocichart)
				jq -cn --arg r "oci://$REG/charts" --arg v "1.0.$i" '{apiVersion: "argoproj.io/v1alpha1",
					kind: "Application", metadata: {name: "web"},
					spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
					       source: {repoURL: $r, chart: "web", targetRevision: $v}}}' >"$T/req/app.json"
				mkreview "$T/req/app.json" argocd CREATE >"$f"
				;;
			esac
			files+=("$f")
		done
		l0=$(wc -l <"$REG_LOG")
		n=$(wc -l <"$T/provgate.out")
		curl_reviews "$T/req/$k.times" "$T/req/$k" "${files[@]}"
		printf -v "REQ_${k}_OK" '%s' "$(cat "$T/req/$k"/*.out | jq -r .response.allowed | grep -c true)"
		printf -v "REQ_${k}_MISS" '%s' "$(tail -n +"$((n + 1))" "$T/provgate.out" | grep -c '"cached":false')"
		# the referrers API's one 404 per process: counted apart, with
		# the first kind that asked (key-signed .sig images never do)
		r404=$(tail -n +"$((l0 + 1))" "$REG_LOG" | grep '"provgate"$' | grep -cE '"GET /v2/[^ ]*/referrers/[^ ]* HTTP/[0-9.]+" 404 ')
		REQ_REFERRERS_404=$((${REQ_REFERRERS_404:-0} + r404))
		[ "$r404" -gt 0 ] && [ -z "${REQ_REFERRERS_KIND:-}" ] && REQ_REFERRERS_KIND=$k
		printf -v "REQ_${k}_GET404" '%s' "$(tail -n +"$((l0 + 1))" "$REG_LOG" | grep '"provgate"$' |
			grep -cE '"GET /v2/[^ ]*/manifests/[^ ]* HTTP/[0-9.]+" 404 ')"
		case $k in
		legacy) e='legacy/app/manifests/k[0-9]+' ;;
		keyless) e='keyless/app/manifests/l[0-9]+' ;;
		bundle) e='bundle/app/manifests/b[0-9]+' ;;
		attest) e='attest/app/manifests/a[0-9]+' ;;
		notation) e='nv/app/manifests/n[0-9]+' ;;
		ocichart) e='charts/web/manifests/1\.0\.[0-9]+' ;;
		esac
		reg_methods "$l0" "$REQ_N" "REQ_${k}_BYMETHOD" "REQ_${k}_PULLS" "REQ_${k}_TAGGETS" "$e"
	done
	pg_stop
}

# req_push_chart REPO NAME VERSION: a chart archive as helm push stores it
# (config + one chart layer, title/version annotations); prints the digest
req_push_chart() {
	local repo=$1 name=$2 ver=$3 d="$T/req/chart.$2.$3"
	mkdir -p "$d/$name/templates"
	printf 'apiVersion: v2\nname: %s\nversion: %s\ndescription: bench chart\ntype: application\n' "$name" "$ver" >"$d/$name/Chart.yaml"
	printf 'replicas: 1\n' >"$d/$name/values.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/$name/templates/cm.yaml"
	tar -C "$d" -czf "$d/$name-$ver.tgz" "$name" || return 1
	printf '{"name":"%s","version":"%s","description":"bench chart","apiVersion":"v2","type":"application"}' "$name" "$ver" >"$d/config.json"
	push_blob "$repo" "$d/config.json" >/dev/null && push_blob "$repo" "$d/$name-$ver.tgz" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s],"annotations":{"org.opencontainers.image.title":"%s","org.opencontainers.image.version":"%s"}}' \
		"$MT_OCI_MANIFEST" "$(desc_of "$d/config.json" "$MT_HELM_CONFIG")" \
		"$(desc_of "$d/$name-$ver.tgz" "$MT_HELM_CHART")" "$name" "$ver" >"$d/manifest.json"
	push_manifest "$repo" "$ver" "$d/manifest.json" "$MT_OCI_MANIFEST"
}

# req_rows: the table rows (run.sh)
req_rows() {
	local k label na_var bm pl tg nf ok miss
	if [ -n "${REQ_NA:-}" ]; then
		row "requests per cold verification, per kind of evidence" "n/a: $REQ_NA"
		return
	fi
	for k in $REQ_KINDS; do
		case $k in
		legacy) label="key-signed legacy (.sig tag)" ;;
		keyless) label="keyless legacy (.sig tag, Fulcio chain, SET)" ;;
		bundle) label="bundle v0.3 referrer (keyless)" ;;
		attest) label="attestation (GitHub build provenance, bundle referrer)" ;;
		notation) label="Notation (JWS referrer)" ;;
		ocichart) label="OCI chart (Argo CD Application, cosign key)" ;;
		esac
		na_var="REQ_${k}_NA" bm="REQ_${k}_BYMETHOD" pl="REQ_${k}_PULLS" tg="REQ_${k}_TAGGETS"
		nf="REQ_${k}_GET404" ok="REQ_${k}_OK" miss="REQ_${k}_MISS"
		if [ -n "${!na_var:-}" ]; then
			row "requests per cold verification by method, $label" "n/a: ${!na_var}"
		else
			row "requests per cold verification by method, $label ($REQ_N reviews, ${!ok:-?} allowed, ${!miss:-?} cache misses; pulls = manifest GETs per verification; by-tag GETs of the artifact's manifest and manifest GETs answered 404 in all, target 0)" \
				"$(na "${!bm:-}"); pulls $(na "${!pl:-}"); by-tag GETs $(na "${!tg:-}"); 404 GETs $(na "${!nf:-}")"
		fi
	done
	row "referrers API 404s for the whole run (one per process; in the first kind that asks, ${REQ_REFERRERS_KIND:-none})" "$(na "${REQ_REFERRERS_404:-}")"
}
