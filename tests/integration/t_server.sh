# provgate serve: the decision table over real TLS with HTTP/2 and HTTP/1.1,
# health endpoints, bad input, TLS version floor, metrics, clean shutdown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"

if ! start_provgate "$FIX/policy/enforce" --threads 2 --workers 2 --timeout-ms 3000; then
	notok "server starts" "$(cat "$T/provgate.err")"; exit 1
fi
ok "server starts"

proto_check() { # name proto-flag expected-http-version
	local v
	v=$(pgcurl "$2" -o /dev/null -w '%{http_version}' "$PG_URL/healthz")
	expect_eq "server speaks $1" "$v" "$3"
}
proto_check h2 --http2 2
proto_check http/1.1 --http1.1 1.1

for proto in --http2 --http1.1; do
	while IFS='|' read -r name obj ns op ver pol want re; do
		[ "$pol" = enforce ] || continue
		# one review file per case, made on the first pass, sent on both
		[ -f "$T/in.$name.json" ] ||
			mkreview "$FIX/objects/$obj" "$ns" "$op" "$ver" "uid-$name" >"$T/in.$name.json"
		out=$(pgcurl "$proto" -H 'Content-Type: application/json' --data-binary @"$T/in.$name.json" "$PG_URL/validate")
		review_fields "$out"
		got=$RV_ALLOWED text=$RV_TEXT
		if [ "$got" = "$want" ] && [[ $text =~ $re ]] &&
			[ "$RV_UID" = "uid-$name" ] && [ "$RV_API" = "admission.k8s.io/$ver" ]; then
			ok "server $proto $name"
		else
			notok "server $proto $name" "got allowed=$got [$text] from $(head -c 300 <<<"$out")"
		fi
	done < <(review_cases)
done

# malformed objects with a readable uid: HTTP 200, allowed:false, the reason
# (a 400 would be admitted by failurePolicy: Ignore)
n_mal=0
while IFS='|' read -r name re; do
	n_mal=$((n_mal + 1))
	code=$(pgcurl --http2 -o "$T/o" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$T/mal/$name.json" "$PG_URL/validate")
	sum=$(review_text "$(cat "$T/o")" 2>/dev/null)
	got=${sum%%$'\t'*}; text=${sum#*$'\t'}
	if [ "$code" = 200 ] && [ "$got" = false ] && [[ $text =~ $re ]] &&
		[ "$(jq -r .response.uid "$T/o")" = "uid-$name" ]; then
		ok "server malformed $name: 200, denied with reason"
	else
		notok "server malformed $name: 200, denied with reason" "HTTP $code allowed=$got [$text] $(head -c 200 "$T/o")"
	fi
done < <(malformed_reviews "$T/mal")
{ printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"object":'; printf '[%.0s' $(seq 3000); printf ']%.0s' $(seq 3000); printf '}}'; } >"$T/deep-nouid.json"
code=$(pgcurl --http1.1 -o "$T/o" -w '%{http_code}' --data-binary @"$T/deep-nouid.json" "$PG_URL/validate")
if [ "$code" = 400 ] && jq -e '.error|test("not an AdmissionReview")' "$T/o" >/dev/null; then ok "server too deep without uid 400"; else notok "server too deep without uid 400" "$code $(cat "$T/o")"; fi

# malformed bodies: HTTP 400 with a JSON error, and the server keeps serving
code=$(pgcurl --http2 -o "$T/o" -w '%{http_code}' --data-binary '{"kind":' "$PG_URL/validate")
if [ "$code" = 400 ] && jq -e '.error|test("not an AdmissionReview")' "$T/o" >/dev/null; then ok "server malformed JSON 400"; else notok "server malformed JSON 400" "$code $(cat "$T/o")"; fi
code=$(pgcurl --http1.1 -o "$T/o" -w '%{http_code}' --data-binary '[1,2,3]' "$PG_URL/validate")
expect_eq "server non-object JSON 400" "$code" 400
head -c 4000000 /dev/zero | tr '\0' ' ' >"$T/big"
code=$(pgcurl --http1.1 -o /dev/null -w '%{http_code}' --data-binary @"$T/big" "$PG_URL/validate")
expect_eq "server oversized body (not a review) 413" "$code" 413
# A review past the 3 MiB it parses, under --max-body (6 MiB): what the API
# server sends for a 600 KB object full of '<' (escaped as \u003c).  Denied
# for its uid, not an HTTP error that failurePolicy: Ignore would admit.
head -c 3300000 /dev/zero | tr '\0' 'x' >"$T/huge.v"
jq -cn --rawfile v "$T/huge.v" '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
	request: {uid: "uid-huge", kind: {group: "", version: "v1", kind: "Pod"}, operation: "CREATE", namespace: "default",
	object: {apiVersion: "v1", kind: "Pod", metadata: {name: "p"}, spec: {containers: [{name: "c", image: "nginx",
	env: [{name: "A", value: $v}]}]}}}}' >"$T/huge.json"
code=$(pgcurl --http2 -o "$T/o" -w '%{http_code}' --data-binary @"$T/huge.json" "$PG_URL/validate")
if [ "$code" = 200 ] && jq -e '.response.uid == "uid-huge" and .response.allowed == false and
	(.response.status.message | test("larger than provgate reads"))' "$T/o" >/dev/null; then
	ok "server review over 3 MiB: denied with its uid (200)"; else
	notok "server review over 3 MiB: denied with its uid" "$code $(head -c 300 "$T/o")"; fi
code=$(pgcurl -o /dev/null -w '%{http_code}' "$PG_URL/validate")
expect_eq "server GET /validate 405" "$code" 405
code=$(pgcurl -o /dev/null -w '%{http_code}' "$PG_URL/nope")
expect_eq "server unknown path 404" "$code" 404
expect_eq "server healthz after bad input" "$(pgcurl "$PG_URL/healthz")" "ok"
r=$(pgcurl -w '%{http_code}' "$PG_URL/readyz")
expect_match "server readyz" "$r" "^ready"

# metrics moved with the decisions above
m=$(pgcurl "$PG_URL/metrics")
deny=$(awk -F' ' '/^provgate_reviews_total\{decision="deny",reason="policy"\}/ {print $2}' <<<"$m")
allow=$(awk -F' ' '/^provgate_reviews_total\{decision="allow",reason=""\}/ {print $2}' <<<"$m")
if [ "${deny:-0}" -ge 10 ] && [ "${allow:-0}" -ge 2 ]; then ok "server metrics count decisions"; else notok "server metrics count decisions" "deny=$deny allow=$allow"; fi
expect_match "server metrics histogram" "$m" 'provgate_review_duration_seconds_count [1-9]'
# registry.example.com cannot be reached from here: counted by host
fe=$(awk '/^provgate_fetch_errors_total\{host="registry.example.com"\}/ {print $2}' <<<"$m")
if [ "${fe:-0}" -ge 1 ]; then ok "server metrics fetch errors by host"; else notok "server metrics fetch errors by host" "$(grep fetch_errors <<<"$m")"; fi

# TLS floor: 1.1 refused, 1.2 accepted (same client, so the test can fail).
# A completed handshake prints "Cipher is <name>"; a refused one "(NONE)".
handshake() { echo | openssl s_client -connect "127.0.0.1:$PG_PORT" "$@" 2>&1 | grep -Eo 'Cipher is [^ ]+' | head -1; }
c11=$(handshake -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
c12=$(handshake -tls1_2 -CAfile "$PKI/ca.pem")
expect_eq "server refuses TLS 1.1" "$c11" "Cipher is (NONE)"
if [ -n "$c12" ] && [ "$c12" != "Cipher is (NONE)" ]; then ok "server accepts TLS 1.2 ($c12)"; else notok "server accepts TLS 1.2" "$c12"; fi

# one JSON log line per review on stdout
n_logs=$(grep -c '"msg":"admission"' "$T/provgate.out")
n_bad=$(grep -vc '^{.*}$' "$T/provgate.out")
n_want=$(( 2 * $(review_cases | grep -c '|enforce|') + n_mal + 1 )) # + the review over 3 MiB
if [ "$n_logs" = "$n_want" ] && [ "$n_bad" = 0 ] && jq -e . "$T/provgate.out" >/dev/null 2>&1; then ok "server one JSON log line per review"; else notok "server one JSON log line per review" "lines=$n_logs want $n_want, non-json=$n_bad"; fi

# SIGTERM: exits 0 within 5 s
t0=$(date +%s%N)
kill -TERM "$PG_PID"
rc=124
for _ in $(seq 1 100); do
	if ! kill -0 "$PG_PID" 2>/dev/null; then wait "$PG_PID"; rc=$?; break; fi
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$rc" = 0 ] && [ "$ms" -lt 5000 ]; then ok "server clean shutdown on SIGTERM (${ms} ms)"; else notok "server clean shutdown on SIGTERM" "rc=$rc after ${ms} ms: $(tail -3 "$T/provgate.err")"; fi
