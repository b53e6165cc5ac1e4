#!/bin/bash
# provgate serve against a real registry: /metrics counters move by exactly
# the reviews sent, one JSON admission-log line per review with the fields
# DESIGN §4 lists, auditAnnotations on a deny, and audit mode (allowed, with
# warnings, logged as "audit-deny").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_ops.sh"

[ -x /usr/bin/docker-registry ] || { skip "operability metrics" "docker-registry not installed"; exit 0; }
export DOCKER_CONFIG="$T/nocfg"
mkdir -p "$DOCKER_CONFIG" "$T/pol" "$T/audit"
ops_registry || { notok "registry with signed images" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
ops_policy enforce a | put "$T/pol/policy.yaml"
ops_serve s1 "$T/pol" || { notok "server starts" "$(cat "$T/s1.err")"; exit 1; }
ok "server starts against a registry on $REG"

# d SERIES: how much SERIES moved since the snapshot taken by snap()
declare -A M0
SERIES=(
	'provgate_reviews_total{decision="allow",reason=""}'
	'provgate_reviews_total{decision="deny",reason="policy"}'
	'provgate_reviews_total{decision="deny",reason="verify"}'
	'provgate_reviews_total{decision="deny",reason="notfound"}'
	'provgate_reviews_total{decision="exempt",reason=""}'
	'provgate_review_duration_seconds_count'
	'provgate_verification_duration_seconds_count{kind="image",result="verified"}'
	'provgate_verification_duration_seconds_count{kind="image",result="failed"}'
	'provgate_cache_requests_total{result="hit"}'
	'provgate_cache_requests_total{result="miss"}'
)
snap() {
	local m s
	m=$(pgcurl "$URL/metrics")
	for s in "${SERIES[@]}"; do
		M0[$s]=$(awk -v s="$s" '$1 == s {print $2; f=1} END {if (!f) print 0}' <<<"$m")
	done
}
# deltas "SERIES=N ..." : every listed series moved by N, all others by 0
deltas() {
	local name=$1 want s m got bad=""
	shift
	declare -A W=()
	for want in "$@"; do W[${want%=*}]=${want##*=}; done
	m=$(pgcurl "$URL/metrics")
	for s in "${SERIES[@]}"; do
		got=$(awk -v s="$s" '$1 == s {print $2; f=1} END {if (!f) print 0}' <<<"$m")
		got=$((got - M0[$s]))
		[ "$got" = "${W[$s]:-0}" ] || bad="$bad $s moved $got (want ${W[$s]:-0});"
	done
	if [ -z "$bad" ]; then ok "$name"; else notok "$name" "$bad"; fi
}

A='provgate_reviews_total{decision="allow",reason=""}'
DP='provgate_reviews_total{decision="deny",reason="policy"}'
DV='provgate_reviews_total{decision="deny",reason="verify"}'
DN='provgate_reviews_total{decision="deny",reason="notfound"}'
EX='provgate_reviews_total{decision="exempt",reason=""}'
N='provgate_review_duration_seconds_count'
VOK='provgate_verification_duration_seconds_count{kind="image",result="verified"}'
VBAD='provgate_verification_duration_seconds_count{kind="image",result="failed"}'
HIT='provgate_cache_requests_total{result="hit"}'
MISS='provgate_cache_requests_total{result="miss"}'

snap
review unmatched docker.io/library/nginx:1.25
expect_eq "unmatched image denied" "$ALLOWED" false
deltas "metrics: a policy deny counts deny/policy once" "$DP=1" "$N=1"

snap
review pause registry.k8s.io/pause:3.9
expect_eq "pause allowed unsigned" "$ALLOWED" true
deltas "metrics: an allowUnsigned allow counts allow once, no verification" "$A=1" "$N=1"

snap
review signed "$REG/app/signed:1"
expect_eq "signed image allowed" "$ALLOWED" true
deltas "metrics: a verified image counts allow, one verification, one cache miss" \
	"$A=1" "$N=1" "$VOK=1" "$MISS=1"

snap
review signed-again "$REG/app/signed:1"
expect_eq "signed image allowed again" "$ALLOWED" true
deltas "metrics: the same image again is a cache hit, no verification" "$A=1" "$N=1" "$HIT=1"

snap
review other "$REG/app/other:1"
expect_eq "image signed by an untrusted key denied" "$ALLOWED" false
expect_match "untrusted key: reason" "$TEXT" "$REG/app/other:1 deny: no signature of .*@$D_OTHER verified"
deltas "metrics: a failed verification counts deny/verify and a failed verification" \
	"$DV=1" "$N=1" "$VBAD=1" "$MISS=1"
DENY_RESP=$RESP

snap
review missing "$REG/app/nothere:1"
expect_eq "image that does not exist denied" "$ALLOWED" false
deltas "metrics: a missing image counts deny/notfound" "$DN=1" "$N=1" "$VBAD=1" "$MISS=1"

snap
review exempt "$REG/app/other:1" kube-system
expect_eq "exempt namespace allowed" "$ALLOWED" true
deltas "metrics: an exempt namespace counts exempt, no verification" "$EX=1" "$N=1"

# --- auditAnnotations on a deny ------------------------------------------------
if jq -e --arg r "$REG/app/other:1 deny rule=apps digest=$D_OTHER: " '
	.response.auditAnnotations.decision == "deny"
	and (.response.auditAnnotations["ref-0"] | startswith($r))
	and (.response.auditAnnotations | keys | all(test("/") | not))
	and .response.status.code == 403' <<<"$DENY_RESP" >/dev/null; then
	ok "auditAnnotations on a deny: decision, reference, rule, digest, reason; no '/' in keys"
else
	notok "auditAnnotations on a deny" "$(jq -c .response <<<"$DENY_RESP")"
fi

# --- one JSON log line per review --------------------------------------------------
n_rev=7
n_lines=$(grep -c '"msg":"admission"' "$T/s1.out")
expect_eq "one admission log line per review" "$n_lines" "$n_rev"
if jq -e . "$T/s1.out" >/dev/null 2>&1 && ! grep -qv '^{.*}$' "$T/s1.out"; then
	ok "stdout holds only JSON lines"
else
	notok "stdout holds only JSON lines" "$(grep -v '^{.*}$' "$T/s1.out" | head -3)"
fi
bad=""
for u in unmatched pause signed signed-again other missing exempt; do
	c=$(logline "$u" | wc -l)
	[ "$c" = 1 ] || bad="$bad $u:$c"
done
if [ -z "$bad" ]; then ok "exactly one log line for each review's uid"; else notok "exactly one log line for each review's uid" "$bad"; fi
# The fields DESIGN §4 lists, with the values of the reviews above.
log_has() { # NAME UID JQ-EXPR
	local l
	l=$(logline "$2")
	if [ -n "$l" ] && jq -e --arg reg "$REG" --arg ds "$D_SIGNED" --arg dother "$D_OTHER" "$3" <<<"$l" >/dev/null 2>&1; then
		ok "$1"
	else
		notok "$1" "$l"
	fi
}
log_has "log: time, uid, namespace, kind, name, operation, user, duration" signed '
	(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")) and .uid == "signed"
	and .namespace == "default" and .kind == "Pod" and .name == "signed"
	and .operation == "CREATE" and .user == "kubernetes-admin"
	and (.duration_ms | type) == "number" and .duration_ms >= 0'
log_has "log: verified reference with digest, rule, decision, reason, signer" signed '
	.decision == "allow" and .allowed == true and (.references | length) == 1
	and .references[0].ref == ($reg + "/app/signed:1") and .references[0].digest == $ds
	and .references[0].rule == "apps" and .references[0].decision == "allow"
	and (.references[0].reason | test("^verified by rule apps"))
	and (.references[0].signer | type) == "string" and .references[0].cached == false'
log_has "log: cached verdict marked cached" signed-again '.references[0].cached == true and .references[0].digest == $ds'
log_has "log: denied reference with digest, rule and reason" other '
	.decision == "deny" and .allowed == false and .references[0].digest == $dother
	and .references[0].rule == "apps" and .references[0].decision == "deny"
	and (.references[0].reason | test("no signature of .* verified"))'
log_has "log: unmatched reference names no rule" unmatched '
	.references[0].rule == "" and .references[0].decision == "deny"
	and (.references[0].reason | test("^no policy rule matches docker.io/library/nginx:1.25$"))'
log_has "log: allowUnsigned logged as allow-unverified" pause '
	.decision == "allow" and .references[0].decision == "allow-unverified" and .references[0].rule == "pause"'
log_has "log: exempt namespace logged as exempt" exempt '.decision == "exempt" and .allowed == true and .namespace == "kube-system"'
if grep -q '"msg":"admission"' "$T/s1.err"; then notok "no admission lines on stderr"; else ok "no admission lines on stderr"; fi

# --- policy load metrics at start; no reload without a change ------------------------
expect_eq "metrics: one good policy load at start" "$(metric 'provgate_policy_loads_total{result="ok"}')" 1
ts=$(metric provgate_policy_last_good_load_timestamp_seconds)
now=$(date +%s)
if [ "$ts" -gt $((now - 120)) ] && [ "$ts" -le "$now" ]; then ok "metrics: last good load timestamp is recent"; else notok "metrics: last good load timestamp" "$ts vs $now"; fi
# Files appearing beside the policy directory (in its parent) are not a
# change of the policy: no reload, no log line.
for i in 1 2 3; do echo x >"$T/sibling.$i"; sleep 0.5; done
sleep 1.2
expect_eq "no reload when only the policy directory's parent changes" \
	"$(metric 'provgate_policy_loads_total{result="ok"}')" 1
expect_eq "no 'policy reloaded' log without a change" "$(grep -c 'policy reloaded' "$T/s1.err")" 0

# --- audit mode --------------------------------------------------------------------------
ops_policy audit a | put "$T/audit/policy.yaml"
ops_serve s2 "$T/audit" || { notok "audit server starts" "$(cat "$T/s2.err")"; exit 1; }
AD='provgate_reviews_total{decision="audit-deny",reason="verify"}'
SERIES+=("$AD")
snap
review audit-other "$REG/app/other:1"
expect_eq "audit mode: untrusted key allowed" "$ALLOWED" true
if jq -e --arg w "provgate audit: would deny $REG/app/other:1: no signature of " '
	(.response.warnings | length) == 1 and (.response.warnings[0] | startswith($w))
	and .response.status == null and .response.auditAnnotations.decision == "audit-deny"' <<<"$RESP" >/dev/null; then
	ok "audit mode: warning 'would deny' and audit-deny annotation"
else
	notok "audit mode: warning" "$(jq -c .response <<<"$RESP")"
fi
log_has "audit mode: logged as audit-deny (would deny), reference denied" audit-other '
	.decision == "audit-deny" and .allowed == true and .mode == "audit"
	and .references[0].decision == "deny" and .references[0].digest == $dother'
deltas "audit mode: metrics count audit-deny, not allow or deny" "$AD=1" "$N=1" "$VBAD=1" "$MISS=1"
review audit-signed "$REG/app/signed:1"
if [ "$ALLOWED" = true ] && jq -e --arg d "$D_SIGNED" '(.response.warnings | length) == 1
	and (.response.warnings[0] | startswith("provgate: tag ") and contains("verified as " + $d))
	and .response.auditAnnotations.decision == "allow"' <<<"$RESP" >/dev/null; then
	ok "audit mode: a verified image is a plain allow, its only warning names the verified digest"
else
	notok "audit mode: verified image" "$(jq -c .response <<<"$RESP")"
fi

ops_stop s1 s2
