#!/bin/sh
# The README's usage block is generated from the verbs' help texts
# (webhook/cli/help.c, printed by `provgate help`), never edited by hand:
#
#   sh tests/readme_usage.sh PROVGATE           rewrite the block (make readme-usage)
#   sh tests/readme_usage.sh --check PROVGATE   exit 1, with a diff, when it differs
#
# The block sits between the two marker lines below in README.md.
set -u
cd "$(dirname "$0")/.." || exit 2
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
pg=${1:-build/provgate}
begin='<!-- usage: generated from `provgate help` by `make readme-usage`; edit webhook/cli/help.c -->'
end='<!-- end of usage -->'
tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp" "$tmp.block" "$tmp.readme"' EXIT
"$pg" help >"$tmp" || { echo "readme_usage: $pg help failed" >&2; exit 2; }
# the verbs' lines, as an indented Markdown code block
sed -n '/^verbs:$/,$p' "$tmp" | sed '1d; s/^/  /' >"$tmp.block"
[ -s "$tmp.block" ] || { echo "readme_usage: no usage lines from $pg help" >&2; exit 2; }
grep -qxF "$begin" README.md && grep -qxF "$end" README.md ||
	{ echo "readme_usage: README.md lacks the usage markers" >&2; exit 2; }
awk -v b="$begin" -v e="$end" -v f="$tmp.block" '
	$0 == b { print; print ""; while ((getline l < f) > 0) print l; print ""; skip = 1; next }
	$0 == e { skip = 0 }
	!skip' README.md >"$tmp.readme"
if [ $check = 1 ]; then
	diff -u README.md "$tmp.readme" && exit 0
	echo "readme_usage: README.md's usage block differs from \`provgate help\`: run make readme-usage" >&2
	exit 1
fi
cat "$tmp.readme" >README.md
