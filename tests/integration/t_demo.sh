#!/bin/bash
# `make demo` completes: tests/demo/demo.sh exits 0 within a minute, prints
# the decision table with every row it promises, ends with its summary line,
# and leaves neither processes nor its temporary directory behind.
. "$(dirname "$0")/lib.sh"

for tool in /usr/bin/docker-registry nghttpd gpg jq; do
	command -v "$tool" >/dev/null || { skip "make demo" "$tool not installed"; exit 0; }
done

t0=$(date +%s)
timeout 90 bash "$TOP/tests/demo/demo.sh" >"$T/demo.out" 2>"$T/demo.err"
rc=$?
secs=$(($(date +%s) - t0))
if [ "$rc" = 0 ]; then ok "demo exits 0"; else notok "demo exits 0" "rc=$rc: $(tail -15 "$T/demo.out") $(tail -5 "$T/demo.err")"; fi
if [ "$secs" -lt 60 ]; then ok "demo finishes in under a minute (${secs} s)"; else notok "demo finishes in under a minute" "${secs} s"; fi
# has_line NAME ERE: some line of the demo's output matches
has_line() {
	if grep -Eq -- "$2" "$T/demo.out"; then ok "$1"; else notok "$1" "no line matches /$2/"; fi
}
has_line "demo prints the table header" '^OBJECT +REFERENCE +DECISION +REASON$'
has_line "demo summary line" '^demo: all 7 decisions as expected in [0-9.]+ s$'
expect_match "demo summary is the last line, exactly" "$(tail -1 "$T/demo.out")" '^demo: all 7 decisions'

# One row per case, with the decision the demo promises.
row() { # NAME OBJECT-RE DECISION-RE REASON-RE
	has_line "demo row: $1" "^$2 +[^ ]+ +$3 +$4"
}
row "signed image allowed" 'Pod default/signed-app' 'allow' 'verified by rule demo-images'
row "unsigned image denied" 'Pod default/unsigned-app' 'deny' 'no signatures found for '
row "unmatched image denied" 'Pod default/stray' 'deny' 'no policy rule matches docker\.io/library/nginx:1\.25'
row "pause allowed unverified" 'Pod default/sandbox' 'allow-unverified' 'allowed unverified by rule pause'
row "signed chart verified" 'Application argocd/signed-chart' 'allow' 'verified by rule demo-charts'
row "unsigned chart denied" 'Application argocd/unsigned-chart' 'deny' '.'
row "exempt namespace" 'Pod kube-system/system-agent' 'exempt' 'namespace exempt'
if grep -q UNEXPECTED "$T/demo.out"; then notok "demo: no unexpected row" "$(grep UNEXPECTED "$T/demo.out")"; else ok "demo: no unexpected row"; fi

# Cleanup: the PIDs and the directory the demo announced are gone.
dir=$(sed -n 's/^demo: working in //p' "$T/demo.out")
pids=$(sed -n 's/^demo: pids //p' "$T/demo.out")
if [ -n "$dir" ] && [ ! -e "$dir" ]; then ok "demo removed its temporary directory"; else notok "demo removed its temporary directory" "[$dir]"; fi
alive=""
for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
if [ -n "$pids" ] && [ -z "$alive" ]; then ok "demo stopped every process it started ($(wc -w <<<"$pids"))"; else notok "demo stopped every process it started" "pids=[$pids] alive=[$alive]"; fi

# KEEP=1: the registry, the chart repository and provgate stay up, and the
# printed next commands work against them; then stopped here by their PIDs.
KEEP=1 timeout 90 bash "$TOP/tests/demo/demo.sh" >"$T/keep.out" 2>"$T/keep.err"
rc=$?
kpids=$(sed -n 's/^demo: pids //p' "$T/keep.out")
kdir=$(sed -n 's/^demo: working in //p' "$T/keep.out")
for p in $kpids; do PIDS+=("$p"); done # lib.sh stops them at exit, whatever happens
expect_eq "demo KEEP=1 exits 0 and prints the next commands" \
	"$rc $(grep -c -E '^(Next commands to try:|Stop everything:)$' "$T/keep.out")" "0 2"
alive=0
for p in $kpids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
expect_eq "demo KEEP=1 leaves every process running" "$alive" "$(wc -w <<<"$kpids")"
cmd=$(grep -E '^  .*/provgate verify-chart ' "$T/keep.out" | sed 's/^  //')
if [ -n "$cmd" ] && out=$(bash -c "$cmd" 2>&1) && grep -q '^Chart Hash Verified: sha256:' <<<"$out"; then
	ok "demo KEEP=1: the printed verify-chart command verifies against the running repository"
else
	notok "demo KEEP=1: the printed verify-chart command" "[$cmd] $out"
fi
cmd=$(grep -E '^  curl .*/validate' "$T/keep.out" | sed 's/^  //; s/ | jq .response$//')
expect_eq "demo KEEP=1: the printed review command is answered by the running provgate" \
	"$(bash -c "$cmd" 2>/dev/null | jq -r .response.allowed)" "true"
for p in $kpids; do kill "$p" 2>/dev/null; done
[ -n "$kdir" ] && [ -d "$kdir" ] && rm -rf "$kdir"
