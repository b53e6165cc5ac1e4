#!/bin/bash
# README.md's usage block is the verbs' help text (`provgate help`, from
# webhook/cli/help.c): tests/readme_usage.sh --check fails when they differ.
. "$(dirname "$0")/lib.sh"
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
out=$(sh "$TOP/tests/readme_usage.sh" --check "$PG" 2>&1)
expect_eq "README usage block is provgate help's text" "$?" 0 || echo "$out" | head -20 | sed 's/^/# /'
# the check can fail: a README with one usage line changed is refused
mkdir -p "$T/r/tests"
cp "$TOP/tests/readme_usage.sh" "$T/r/tests/"
sed 's/^    provgate version$/    provgate version --frobnicate/' "$TOP/README.md" >"$T/r/README.md"
sh "$T/r/tests/readme_usage.sh" --check "$PG" >/dev/null 2>&1
expect_eq "a README whose usage block differs fails the check" "$?" 1
# and the block names every verb
missing=""
for v in serve review verify-chart verify-image verify-bundle verify-notation verify-attestation policy; do
	grep -q "^    provgate $v " "$TOP/README.md" || missing+=" $v"
done
expect_eq "README usage names every verb" "${missing:-none}" none
