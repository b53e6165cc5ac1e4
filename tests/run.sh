#!/bin/sh
# Runs every test of provgate and ends with one line: "N passed, N failed, N skipped".
#   unit:        $BUILD/tests/test_*     (cmocka; counts from its summary lines)
#   integration: tests/integration/t_*.sh (print "ok - ", "not ok - ", "skip - " lines)
# A test binary or script that dies without reporting counts as one failure.
# TESTS=pattern limits which files run (shell glob on the file name).
# TEST_KIND=unit or integration runs only that kind (make unit, make integration).
# TEST_JOBS=N tests at once (default: twice the number of cores; cores + 1 under SANITIZE).
# Each line shows the seconds the binary or script took, so the slow ones are
# easy to find (they are also in $BUILD/test-logs/<name>.secs).
set -u
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
pass=0 fail=0 skip=0
ranlogs=""
failed_names=""
logdir="$BUILD/test-logs"
mkdir -p "$logdir"
pat=${TESTS:-*}
kind=${TEST_KIND:-all}
case "$kind" in all | unit | integration) ;; *) echo "run.sh: TEST_KIND must be unit, integration or all" >&2; exit 2 ;; esac

count() { # $1 = log file, $2 = name, $3 = exit code, $4 = kind, $5 = milliseconds
	p=0 f=0 s=0
	if [ "$4" = unit ]; then
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
	else
		p=$(grep -c '^ok - ' "$1")
		f=$(grep -c '^not ok - ' "$1")
		s=$(grep -c '^skip - ' "$1")
	fi
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "not ok - $2 exited with status $3 without reporting a failure" >>"$1"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	ranlogs="$ranlogs $1"
	[ "$f" -gt 0 ] && failed_names="$failed_names $2"
	ms=${5:-0}
	printf '%-40s %4d passed %4d failed %4d skipped %4d.%ds\n' "$2" "$p" "$f" "$s" \
		$((ms / 1000)) $((ms % 1000 / 100))
	if [ "$f" -gt 0 ]; then
		grep -E '^(not ok - |\[  FAILED  \]|\[  ERROR   \])|ERROR|Assert|runtime error|AddressSanitizer|^#   ' "$1" | head -40 | sed 's/^/    /'
	fi
}

# Unit binaries and integration scripts run TEST_JOBS at a time (default:
# twice the number of cores; under SANITIZE, the number of cores + 1) from one pool: a script spends much of its time
# waiting on the servers it starts and on short-lived openssl, gpg, curl and
# jq processes, so one script per core leaves the cores idle half the time;
# each picks its own ports and temporary directories.  The slowest start first (their last durations, kept in
# $logdir/<name>.secs) so one long script does not finish alone at the end.
# Results are counted in name order afterwards (unit binaries first), so the
# output does not depend on which finished first.  TEST_JOBS=1 runs them one
# after another.
#
# A script whose first 40 lines say "# sanitizers: skip" exercises no C of
# ours that the plain suite does not (document and manifest checks): under
# SANITIZE it is not run.  One that says "# tsan: skip" runs only one-threaded
# CLI commands (no `provgate serve`), so ThreadSanitizer has no race to find
# there: it is not run under SANITIZE=tsan (ASan/UBSan still run it).  A note
# names the scripts not run; they are not counted.
ncpu=$(nproc 2>/dev/null || echo 1)
[ "$ncpu" -ge 1 ] 2>/dev/null || ncpu=1
# Under a sanitizer every process is 2-5x slower and timing-bound checks
# (deadlines plus slack) have less room: one job per core plus one there (an
# ASan run with twice the cores once pushed a 1.5 s review deadline past its
# slack; one per core left a core idle a third of the time, tests waiting on
# their servers; cores + 1 kept them busy: ASan 134 s -> 110 s, TSan 139 s ->
# 97 s on 2 cores, 5 sanitizer runs without a miss).
if [ -n "${SANITIZE:-}" ]; then
	jobs=${TEST_JOBS:-$((ncpu + 1))}
else
	jobs=${TEST_JOBS:-$((2 * ncpu))}
fi
case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac
items=""
notrun=""
if [ "$kind" != integration ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		case "$n" in $pat) ;; *) continue ;; esac
		items="$items u:$n"
	done
fi
if [ "$kind" != unit ]; then
	for t in tests/integration/t_*.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		case "$n" in $pat) ;; *) continue ;; esac
		if { [ -n "${SANITIZE:-}" ] && head -40 "$t" | grep -q '^# sanitizers: skip'; } ||
			{ [ "${SANITIZE:-}" = tsan ] && head -40 "$t" | grep -q '^# tsan: skip'; }; then
			notrun="$notrun $n"
			continue
		fi
		items="$items i:$n"
	done
fi
for it in $items; do
	rm -f "$logdir/${it#?:}.log" "$logdir/${it#?:}.rc" "$logdir/${it#?:}.ms"
done
if [ -n "$items" ]; then
	# shellcheck disable=SC2086
	for it in $items; do
		# A suite's own last durations, else the plain suite's (a clean
		# clone runs `make test` before the sanitizer suites), else, on a
		# clean clone, a script's size in KB: the long scripts are the
		# slow ones, and they should not start last.
		printf '%s %s\n' "$(cat "$logdir/${it#?:}.secs" 2>/dev/null ||
			cat "build/test-logs/${it#?:}.secs" 2>/dev/null ||
			{ [ "${it%%:*}" = i ] && echo $(($(wc -c <"tests/integration/${it#?:}.sh") / 1000)); } ||
			echo 0)" "$it"
	done | sort -k1,1rn -k2,2 | cut -d' ' -f2 | xargs -P "$jobs" -I{} sh -c '
		n=${1#?:}
		t0=$(date +%s%N)
		case "$1" in
		u:*) "$3/tests/$n" >"$2/$n.log" 2>&1 </dev/null ;;
		*) bash "tests/integration/$n.sh" >"$2/$n.log" 2>&1 </dev/null ;;
		esac
		echo $? >"$2/$n.rc"
		echo $((($(date +%s%N) - t0) / 1000000)) >"$2/$n.ms"' _ {} "$logdir" "$BUILD"
fi
for it in $items; do
	n=${it#?:}
	rc=$(cat "$logdir/$n.rc" 2>/dev/null || echo 125)
	ms=$(cat "$logdir/$n.ms" 2>/dev/null || echo 0)
	echo $((ms / 1000)) >"$logdir/$n.secs"
	case "$it" in u:*) k=unit ;; *) k=integration ;; esac
	count "$logdir/$n.log" "$n" "$rc" "$k" "$ms"
done
[ -n "$notrun" ] && echo "note: not run under SANITIZE=$SANITIZE (their '# sanitizers:' or '# tsan:' line says why):$notrun"

[ -n "$failed_names" ] && echo "failed:$failed_names (logs in $logdir)"
# Vector suites skip quietly when the shared vectors are absent: say so, and
# how to run them, so a green summary is not mistaken for a full run.
vec=${PROVGATE_VECTORS:-$top/../shared/vectors}
# shellcheck disable=SC2086
vskipped=$( [ -n "$ranlogs" ] && grep -l -i -E '^skip - .*(vector|conformance)|^\[  SKIPPED \]' $ranlogs 2>/dev/null |
	sed 's|.*/||; s|\.log$||' | tr '\n' ' ' | sed 's/ $//')
if [ ! -d "$vec" ]; then
	echo "note: shared test vectors not found at $vec: the vector suites were skipped${vskipped:+ (in: $vskipped)}."
	echo "      Run them with: PROVGATE_VECTORS=/path/to/shared/vectors make test"
elif [ -n "$vskipped" ]; then
	echo "note: some vector cases were skipped (in: $vskipped); see $logdir."
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
