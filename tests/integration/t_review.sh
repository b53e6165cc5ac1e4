# provgate review: the shared decision table through the CLI (exit codes,
# response shape, reasons), plus malformed input.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"

while IFS='|' read -r name obj ns op ver pol want re; do
	mkreview "$FIX/objects/$obj" "$ns" "$op" "$ver" "uid-$name" >"$T/in.json"
	out=$("$PG" review --policy "$FIX/policy/$pol" --timeout-ms 3000 "$T/in.json" 2>"$T/log")
	rc=$?
	want_rc=1; [ "$want" = true ] && want_rc=0
	review_fields "$out"
	got_allowed=$RV_ALLOWED text=$RV_TEXT
	if [ "$rc" != "$want_rc" ] || [ "$got_allowed" != "$want" ]; then
		notok "review $name" "exit $rc allowed=$got_allowed, want allowed=$want: $text"
		continue
	fi
	if ! [[ $text =~ $re ]]; then
		notok "review $name" "reason [$text] does not match /$re/"
		continue
	fi
	uid=$RV_UID av=$RV_API
	if [ "$uid" != "uid-$name" ] || [ "$av" != "admission.k8s.io/$ver" ]; then
		notok "review $name" "uid=$uid apiVersion=$av"
		continue
	fi
	# one admission-log line, naming the uid and the decision
	if [ "$(wc -l <"$T/log")" != 1 ] || ! jq -e --arg u "uid-$name" '.uid == $u and (.decision|type) == "string"' "$T/log" >/dev/null; then
		notok "review $name" "admission log line missing or wrong: $(head -c 300 "$T/log")"
		continue
	fi
	ok "review $name"
done < <(review_cases)

# audit annotations carry a decision per reference, with prefix-less keys
mkreview "$FIX/objects/pod-multi.json" default CREATE >"$T/in.json"
out=$("$PG" review --policy "$FIX/policy/enforce" "$T/in.json" 2>/dev/null)
if jq -e '.response.auditAnnotations.decision == "deny"
	and (.response.auditAnnotations | keys | all(test("/") | not))
	and ([.response.auditAnnotations | to_entries[] | select(.key|startswith("ref-"))] | length) == 2' <<<"$out" >/dev/null; then
	ok "review auditAnnotations per reference"
else
	notok "review auditAnnotations per reference" "$(jq -c .response.auditAnnotations <<<"$out")"
fi

# deduplicated: the same image twice in one pod is one reference
if jq -e '[.response.auditAnnotations | to_entries[] | select(.value|test("pause:3.9"))] | length == 1' <<<"$out" >/dev/null; then
	ok "review deduplicates identical images"
else
	notok "review deduplicates identical images" "$(jq -c .response.auditAnnotations <<<"$out")"
fi

# malformed input: exit 2 and an Error line
printf '{"kind": "AdmissionReview", "apiVersion": ' >"$T/bad.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/bad.json" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && grep -q '^Error: not an AdmissionReview' "$T/err"; then ok "review malformed JSON exit 2"; else notok "review malformed JSON exit 2" "rc=$rc $(cat "$T/err")"; fi
# A plain object is wrapped as a CREATE review (t_review_objects); one
# without apiVersion is neither that nor an AdmissionReview.
echo '{"kind":"Pod"}' >"$T/bad2.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/bad2.json" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && grep -q 'not a Kubernetes object: apiVersion and kind are required' "$T/err"; then ok "review non-review JSON exit 2"; else notok "review non-review JSON exit 2" "rc=$rc $(cat "$T/err")"; fi
echo '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}}' >"$T/bad3.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/bad3.json" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && grep -q 'no uid' "$T/err"; then ok "review request without uid exit 2"; else notok "review request without uid exit 2" "rc=$rc $(cat "$T/err")"; fi
"$PG" review --policy "$T/nonexistent" "$T/bad3.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "review unreadable policy exit 2" "$rc" 2
"$PG" review --policy "$FIX/policy/enforce" "$T/missing.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "review unreadable input exit 2" "$rc" 2

# kinds outside the table: the decision is skip, with its reason, in the
# audit annotations and the log line — never a silent allow
mkreview "$FIX/objects/configmap.json" default CREATE v1 uid-cm >"$T/in.json"
out=$("$PG" review --policy "$FIX/policy/enforce" "$T/in.json" 2>"$T/log")
if jq -e '.response.allowed == true and .response.auditAnnotations.decision == "skip"
	and .response.auditAnnotations.reason == "kind not checked"' <<<"$out" >/dev/null &&
	jq -e '.decision == "skip" and .reason == "kind not checked" and .kind == "ConfigMap"' "$T/log" >/dev/null; then
	ok "review unknown kind: skip, kind not checked (annotation and log)"
else
	notok "review unknown kind: skip, kind not checked (annotation and log)" "$out $(cat "$T/log")"
fi

# image volumes are located by name in the log line
mkreview "$FIX/objects/pod-image-volume.json" default CREATE v1 uid-vol >"$T/in.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/in.json" >/dev/null 2>"$T/log"
if jq -e '[.references[] | select(.ref == "docker.io/evil/tools:1" and .where == "spec.volumes[tools]"
	and .decision == "deny")] | length == 1' "$T/log" >/dev/null; then
	ok "review image volume logged at spec.volumes[tools]"
else
	notok "review image volume logged at spec.volumes[tools]" "$(cat "$T/log")"
fi

# an UPDATE with unchanged references is logged as skipped, with the reason
mkreview "$FIX/objects/replicaset-scaled.json<replicaset.json" default UPDATE v1 uid-scale >"$T/in.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/in.json" >/dev/null 2>"$T/log"; rc=$?
if [ $rc = 0 ] && jq -e '.decision == "skip" and .reason == "references unchanged" and .allowed' "$T/log" >/dev/null; then
	ok "review UPDATE unchanged references logged as skip"
else
	notok "review UPDATE unchanged references logged as skip" "rc=$rc $(cat "$T/log")"
fi

# malformed objects with a readable uid: answered allowed:false with the
# reason (exit 1, like any deny), never "not an AdmissionReview" (exit 2)
while IFS='|' read -r name re; do
	out=$("$PG" review --policy "$FIX/policy/enforce" "$T/mal/$name.json" 2>"$T/log")
	rc=$?
	sum=$(review_text "$out" 2>/dev/null)
	got=${sum%%$'\t'*}; text=${sum#*$'\t'}
	if [ $rc = 1 ] && [ "$got" = false ] && [[ $text =~ $re ]] &&
		[ "$(jq -r .response.uid <<<"$out")" = "uid-$name" ] &&
		jq -e '.decision == "deny" and (.reason|type) == "string"' "$T/log" >/dev/null; then
		ok "review malformed $name: denied with reason"
	else
		notok "review malformed $name: denied with reason" "rc=$rc allowed=$got [$text] $(head -c 300 "$T/log")"
	fi
done < <(malformed_reviews "$T/mal")

# too deep, but not an AdmissionReview (no uid, or another kind): still exit 2
{ printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"object":'; printf '[%.0s' $(seq 3000); printf ']%.0s' $(seq 3000); printf '}}'; } >"$T/deep-nouid.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/deep-nouid.json" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 2 ] && grep -q '^Error: not an AdmissionReview' "$T/err"; then ok "review too deep without uid exit 2"; else notok "review too deep without uid exit 2" "rc=$rc $(cat "$T/err")"; fi
{ printf '{"kind":"Pod","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","object":'; printf '[%.0s' $(seq 3000); printf ']%.0s' $(seq 3000); printf '}}'; } >"$T/deep-pod.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/deep-pod.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "review too deep, not a review kind, exit 2" "$rc" 2
# truncated after the uid: a syntax error, not a parser limit
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","object":{' >"$T/trunc.json"
"$PG" review --policy "$FIX/policy/enforce" "$T/trunc.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "review truncated body with uid exit 2" "$rc" 2
# audit mode: a malformed object is admitted with a warning, like any would-be deny
out=$("$PG" review --policy "$FIX/policy/audit" "$T/mal/containers-not-array.json" 2>"$T/log"); rc=$?
if [ $rc = 0 ] && jq -e '.response.allowed and (.response.warnings[0] | test("would deny Pod: spec\\.containers is not an array"))' <<<"$out" >/dev/null &&
	jq -e '.decision == "audit-deny"' "$T/log" >/dev/null; then
	ok "review audit mode: malformed object warned, admitted"
else
	notok "review audit mode: malformed object warned, admitted" "rc=$rc $out"
fi
