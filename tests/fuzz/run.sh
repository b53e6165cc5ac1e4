#!/bin/sh
# make fuzz: build every libFuzzer target (tests/fuzz/fuzz_*.c) against the
# webhook's modules and run each for FUZZ_SECONDS seconds.
#
#   FUZZ_SECONDS=30          time per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS="fuzz_ref"  only these targets (space or comma separated)
#   FUZZ_JOBS=2              targets run at once (default: the number of cores;
#                            libFuzzer itself uses one core per target)
#
# The targets are built by the Makefile's fuzz variant (`make SANITIZE=fuzz
# fuzz-targets`: clang, -fsanitize=fuzzer-no-link,address,undefined objects in
# build/fuzz/obj, each target linked with -fsanitize=fuzzer,address,undefined);
# this script only builds them through make and runs them.
# Each target starts from its committed seed corpus tests/fuzz/corpus/<target>/,
# copied to build/fuzz/corpus-run/<target>/ so new inputs never land in git.
# Optional per target: tests/fuzz/<target>.dict (libFuzzer dictionary).
#
# Prints one line per target (executions, crashed or not) and exits non-zero
# if any target crashed (crash, leak, UBSan report or timeout).  A crashing
# input is kept under build/fuzz/artifacts/<target>/; once fixed, copy it into
# the target's seed corpus so it stays a regression test.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

secs=${FUZZ_SECONDS:-30}
case "$secs" in '' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (make deps installs clang)" >&2; exit 2; }

out=build/fuzz
mkdir -p "$out/logs" "$out/artifacts" "$out/corpus-run" || exit 2

# --- targets ---
if [ -n "${FUZZ_TARGETS:-}" ]; then
	targets=$(echo "$FUZZ_TARGETS" | tr ',' ' ')
else
	targets=""
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && targets="$targets $(basename "$f" .c)"
	done
fi
[ -n "$(echo "$targets" | tr -d ' ')" ] || { echo "fuzz: no targets in tests/fuzz/" >&2; exit 2; }

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac

# Build every target first (a build failure stops everything), then run them
# $jobs at a time, then report in target order.
for t in $targets; do
	[ -f "tests/fuzz/$t.c" ] || { echo "fuzz: no such target $t (tests/fuzz/$t.c)" >&2; exit 2; }
done
# Parallel compiles, unless a calling make already shares its jobserver.
case "${MAKEFLAGS:-}" in *jobserver*) mj="" ;; *) mj="-j$(nproc 2>/dev/null || echo 2)" ;; esac
# shellcheck disable=SC2086
${MAKE:-make} $mj --no-print-directory SANITIZE=fuzz BUILD="$out" FUZZ_CC="$CC" \
	FUZZ_TARGETS="$(echo $targets)" fuzz-targets || { echo "fuzz: building the targets failed" >&2; exit 2; }

run_target() { # $1 = target; writes $out/logs/$1.log and $out/logs/$1.rc
	t=$1
	run="$out/corpus-run/$t"
	art="$out/artifacts/$t"
	rm -rf "$run"
	mkdir -p "$run" "$art"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -R "tests/fuzz/corpus/$t/." "$run/"
	else
		echo "fuzz: warning: $t has no seed corpus (tests/fuzz/corpus/$t/)" >&2
	fi
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	# shellcheck disable=SC2086
	"$out/$t" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$art/" \
		$dict "$run" >"$out/logs/$t.log" 2>&1
	echo $? >"$out/logs/$t.rc"
}

running=0
for t in $targets; do
	rm -f "$out/logs/$t.rc"
	run_target "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

crashed=0
for t in $targets; do
	log="$out/logs/$t.log"
	rc=$(cat "$out/logs/$t.rc" 2>/dev/null || echo 125)
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	if [ -z "$execs" ]; then # a crash ends the run before the final stats
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
	fi
	execs=${execs:-0}
	if [ "$rc" -eq 0 ]; then
		printf '%-24s %12s execs in %ss, no crash\n' "$t" "$execs" "$secs"
	else
		crashed=1
		printf '%-24s %12s execs, CRASHED (exit %s; log %s)\n' "$t" "$execs" "$rc" "$log"
		grep -E 'ERROR: |runtime error|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'
	fi
done
exit $crashed
