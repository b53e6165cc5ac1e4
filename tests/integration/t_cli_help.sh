#!/bin/bash
# Every verb answers --help (and `provgate help VERB`) on stdout with exit 0,
# and describes every flag its source parses: the flags are read from the
# verb's file in webhook/cli/ (pg_cli_opt names, strcmp'd flags, getopt_long
# option tables), so a flag added without help fails here.
. "$(dirname "$0")/lib.sh"
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }

# flags_of FILE: every --flag the verb's source parses
flags_of() {
	{
		grep -oE '"--[a-z0-9-]+"' "$1" | tr -d '"'
		# getopt_long tables: {"name", required_argument|no_argument|optional_argument, ...}
		grep -oE '\{"[a-z0-9-]+", *(required|no|optional)_argument' "$1" | sed -E 's/^\{"([^"]+)".*/--\1/'
	} | grep -vx -- '--help' | sort -u
}
for pair in serve:serve review:review verify-chart:verify_chart verify-image:verify_image \
	verify-bundle:verify_bundle verify-notation:verify_notation \
	verify-attestation:verify_attestation policy:policy; do
	verb=${pair%%:*}
	src="$TOP/webhook/cli/${pair#*:}.c"
	out=$("$PG" "$verb" --help 2>"$T/err")
	rc=$?
	expect_eq "$verb --help: exit 0, nothing on stderr" "$rc $(wc -c <"$T/err")" "0 0"
	expect_match "$verb --help: usage line" "$out" "^usage: provgate $verb"
	missing=""
	n=0
	for f in $(flags_of "$src"); do
		n=$((n + 1))
		grep -qE -- "(^|[ |(\\[])$f([ =\\[]|$)" <<<"$out" || missing+=" $f"
	done
	expect_eq "$verb --help describes every flag its source parses ($n)" "${missing:-none}" "none"
	expect_eq "provgate help $verb is the same text" "$("$PG" help "$verb" 2>&1)" "$out"
	expect_eq "$verb -h is the same text" "$("$PG" "$verb" -h 2>&1)" "$out"
done
out=$("$PG" version --help)
expect_eq "version --help exit 0" "$?" "0"
# near miss: an unknown verb is still a usage error, and --help is not
# swallowed as a positional argument of a known verb elsewhere
"$PG" frobnicate --help >/dev/null 2>&1
expect_eq "unknown verb --help: exit 2" "$?" "2"
"$PG" help frobnicate >/dev/null 2>&1
expect_eq "help for an unknown verb: exit 2" "$?" "2"
# the flag scan itself finds flags (it could otherwise pass vacuously)
expect_eq "flag scan finds serve's --metrics-listen and verify-image's --allow-http-registry" \
	"$(flags_of "$TOP/webhook/cli/serve.c" | grep -c -- '--metrics-listen') $(flags_of "$TOP/webhook/cli/verify_image.c" | grep -c -- '--allow-http-registry')" "1 1"
