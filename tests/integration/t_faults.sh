#!/bin/bash
# Hostile and failing registries: every failure ends in a deny with its own
# reason, within the deadline, and the server keeps serving afterwards.
#
# The registry is tests/tools/badserver (modes picked by repository name,
# see badserver.c) and the fetch fault layer (PROVGATE_FAULTS, fetch.h) on
# top of its one well-behaved mode.  A fault matrix (case, reason, ms to
# deny) is printed as "# " lines.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_badserver.sh"

TIMEOUT_MS=1500
# Time to deny may exceed the deadline by process start-up and the loop's
# margin, never by a stalled fetch.
SLACK_MS=1000

[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
badserver_start || { notok "badserver starts" "$(cat "$T"/badserver.err 2>/dev/null | tail -3)"; exit 1; }
ok "badserver listening (main $BAD_MAIN, other $BAD_OTHER, plain $BAD_PLAIN)"
bad_policy "$T/pol"
R="127.0.0.1:$BAD_MAIN"

# case|repository mode|PROVGATE_FAULTS|reason (ERE)
cases() {
	cat <<CASES
baseline-no-signature|ok||no signatures found for $R/ok/app@sha256:
hang|hang||127\.0\.0\.1 did not answer in time
slowloris|slowloris||127\.0\.0\.1 did not answer in time
reset-mid-response|reset||cannot reach 127\.0\.0\.1: .*(reset|Recv failure|transfer closed|SSL)
status-500|s500||registry $R answered HTTP 500
status-429-retry-after|s429||registry rate limit: registry $R is rate-limiting requests \(HTTP 429\) and asks to wait 120 s, past the deadline
redirect-loop|loop||too many redirects fetching https://$R/v2/loop/
redirect-http-other-port|redirhttp||refusing http:// URL for 127\.0\.0\.1
redirect-http-same-host|redirself||refusing http:// URL for 127\.0\.0\.1
redirect-file|redirfile||refusing file:// URL "file:///etc/passwd"
redirect-metadata|redirmeta||refusing to contact 169\.254\.169\.254: no policy rule or registry names this host
redirect-other-port|redirport||refusing to contact 127\.0\.0\.1:$BAD_OTHER: no policy rule or registry names this host
token-realm-unlisted|realm||getting a token for $R: refusing to contact 127\.0\.0\.1:$BAD_OTHER
gzip-bomb|gzip||sent a body with Content-Encoding "gzip", which was not asked for
oversized-manifest|big||manifest $R/big/app:v1 is larger than 4194304 bytes
oversized-headers|bighdr||response headers from 127\.0\.0\.1 are larger than 65536 bytes
oversized-token|bigtoken||getting a token for $R: the token server's response is larger than 65536 bytes
bearer-on-second-challenge-line|multiauth||getting a token for $R: the token server's response is larger than 65536 bytes
oversized-blob|bigblob||no signature of .* verified \(1 found\): .*(larger than|Maximum file size)
wrong-content-type|ctype||differs from Content-Type "text/html"
digest-mismatch|digest||registry says its digest is sha256:0{64} but the bytes received hash to sha256:
digest-lie-in-head|digesthead||no signatures found for $R/digesthead/app@sha256:0{64}
fault-fail-1st|ok|fail:1|injected fault: request 1 \(https://$R/v2/ok/app/manifests/v1\) failed
fault-fail-2nd|ok|fail:2|looking for cosign signatures: injected fault: request 2 .*\.sig\) failed
fault-fail-all|ok|failall|injected fault: request 1
fault-delay|ok|delay:3000|injected delay of 3000 ms: .* did not answer in time
fault-truncate|nohead|truncate:100|manifest is not a JSON object
fault-corrupt|nohead|corrupt:1|registry says its digest is sha256:[0-9a-f]{64} but the bytes received hash to
CASES
}

MATRIX=()
while IFS='|' read -r name mode faults re; do
	bad_review "$T/$name.json" "$R/$mode/app:v1"
	t0=$(now_ms)
	if [ -n "$faults" ]; then
		out=$(PROVGATE_FAULTS="$faults" "$PG" review --policy "$T/pol" --timeout-ms $TIMEOUT_MS "$T/$name.json" 2>"$T/$name.err")
	else
		out=$("$PG" review --policy "$T/pol" --timeout-ms $TIMEOUT_MS "$T/$name.json" 2>"$T/$name.err")
	fi
	rc=$?
	ms=$(($(now_ms) - t0))
	msg=$(jq -r '.response.status.message // ""' <<<"$out" 2>/dev/null)
	reason=${msg#*"$mode/app:v1 deny: "}
	expect_eq "review $name: denied (exit 1)" "$rc" 1
	expect_match "review $name: reason" "$msg" "$re"
	if [ "$ms" -le $((TIMEOUT_MS + SLACK_MS)) ]; then ok "review $name: denied in $ms ms"; else notok "review $name: denied in time" "$ms ms > $((TIMEOUT_MS + SLACK_MS))"; fi
	if grep -qE 'Sanitizer|runtime error' "$T/$name.err"; then notok "review $name: sanitizer report" "$(grep -m3 -E 'Sanitizer|runtime error' "$T/$name.err")"; fi
	MATRIX+=("$(printf '%-26s %6s ms  %s' "$name" "$ms" "${reason:0:150}")")
done < <(cases)

# Nothing the redirects and realms pointed at was contacted.
expect_eq "no connection reached the other-port listener" "$(bad_count other)" 0
expect_eq "no connection reached the plain-http listener" "$(bad_count plain)" 0
expect_eq "no plain-http connection reached the registry port" "$(bad_count main_plain)" 0

# --- the same through the server: denies in time, server keeps serving ---
start_provgate "$T/pol" --timeout-ms $TIMEOUT_MS --workers 2 ||
	{ notok "server starts" "$(tail -3 "$T/provgate.err")"; exit 1; }
ok "server starts"
for mode in hang slowloris reset s500 s429 gzip big digest redirport bighdr multiauth; do
	bad_review "$T/srv-$mode.json" "$R/$mode/app:v1"
	t0=$(now_ms)
	out=$(pgcurl -H 'Content-Type: application/json' --data-binary @"$T/srv-$mode.json" "$PG_URL/validate")
	ms=$(($(now_ms) - t0))
	allowed=$(jq -r '.response.allowed' <<<"$out" 2>/dev/null)
	msg=$(jq -r '.response.status.message // ""' <<<"$out" 2>/dev/null)
	expect_eq "server $mode: denied" "$allowed" false
	expect_match "server $mode: reason names the image" "$msg" "$mode/app:v1"
	if [ "$ms" -le $((TIMEOUT_MS + 500)) ]; then ok "server $mode: answered in $ms ms"; else notok "server $mode: answered in time" "$ms ms"; fi
	MATRIX+=("$(printf '%-26s %6s ms  %s' "server-$mode" "$ms" "${msg#*deny: }")")
	expect_eq "server healthz after $mode" "$(pgcurl "$PG_URL/healthz")" ok
done
# A 429 keeps its own reason and is never cached: the same review again is
# not answered from the cache, and says "registry rate limit" again.
out=$(pgcurl -H 'Content-Type: application/json' --data-binary @"$T/srv-s429.json" "$PG_URL/validate")
expect_match "server s429 again: its own reason" "$(jq -r '.response.status.message // ""' <<<"$out")" "registry rate limit"
expect_eq "server s429 again: not answered from the cache" \
	"$(grep -F "s429/app:v1" "$T/provgate.out" | tail -1 | jq -r '.references[0].cached' 2>/dev/null)" false
expect_eq "server s429: RateLimit-Limit / -Remaining in the per-host gauges" \
	"$(pgcurl "$PG_URL/metrics" | awk -v h="$R" '$1 == "provgate_registry_ratelimit_limit{host=\"" h "\"}" || $1 == "provgate_registry_ratelimit_remaining{host=\"" h "\"}" {printf "%s ", $2}')" "100 0 "
expect_eq "server s429: never cached (no cache hit at all)" \
	"$(pgcurl "$PG_URL/metrics" | awk '$1 == "provgate_cache_requests_total{result=\"hit\"}" {print $2}')" 0
# Ten stalled reviews at once (more than the workers): all answered by the
# loop-side deadline, and the server is still healthy.
par=()
for i in $(seq 1 10); do
	pgcurl -o "$T/par-$i.out" -H 'Content-Type: application/json' --data-binary @"$T/srv-hang.json" "$PG_URL/validate" &
	par+=($!)
done
wait "${par[@]}"
n=0
for i in $(seq 1 10); do [ "$(jq -r '.response.allowed' "$T/par-$i.out" 2>/dev/null)" = false ] && n=$((n + 1)); done
expect_eq "server: 10 concurrent stalled reviews all denied" "$n" 10
expect_eq "server healthz after concurrent stalls" "$(pgcurl "$PG_URL/healthz")" ok
check "server process still running" kill -0 "$PG_PID"
if grep -qE 'Sanitizer|runtime error' "$T/provgate.err"; then notok "server: sanitizer report" "$(grep -m3 -E 'Sanitizer|runtime error' "$T/provgate.err")"; fi

echo "# fault matrix (timeout ${TIMEOUT_MS} ms): case, ms to deny, reason"
for l in "${MATRIX[@]}"; do echo "# $l"; done
