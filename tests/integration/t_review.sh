# provgate review: the shared decision table through the CLI (exit codes,
# response shape, reasons), plus malformed input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"

while IFS='|' read -r name obj ns op ver pol want re; do
	mkreview "$FIX/objects/$obj" "$ns" "$op" "$ver" "uid-$name" >"$T/in.json"
	out=$("$PG" review --policy "$FIX/policy/$pol" --timeout-ms 3000 "$T/in.json" 2>"$T/log")
	rc=$?
	want_rc=1; [ "$want" = true ] && want_rc=0
	sum=$(review_summary "$out")
	got_allowed=${sum%%$'\t'*}
	text=${sum#*$'\t'}
	if [ "$rc" != "$want_rc" ] || [ "$got_allowed" != "$want" ]; then
		notok "review $name" "exit $rc allowed=$got_allowed, want allowed=$want: $text"
		continue
	fi
	if ! [[ $text =~ $re ]]; then
		notok "review $name" "reason [$text] does not match /$re/"
		continue
	fi
	uid=$(jq -r .response.uid <<<"$out"); av=$(jq -r .apiVersion <<<"$out")
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
