#!/bin/sh
# Runs every test of provgate and ends with one line: "N passed, N failed, N skipped".
#   unit:        $BUILD/tests/test_*     (cmocka; counts from its summary lines)
#   integration: tests/integration/t_*.sh (print "ok - ", "not ok - ", "skip - " lines)
# A test binary or script that dies without reporting counts as one failure.
# TESTS=pattern limits which files run (shell glob on the file name).
# TEST_KIND=unit or integration runs only that kind (make unit, make integration).
# TEST_JOBS=N integration scripts at once (default: the number of cores, at least 2).
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
now_ms() { echo $(($(date +%s%N) / 1000000)); }

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

for t in "$BUILD"/tests/test_*; do
	[ "$kind" = integration ] && break
	[ -x "$t" ] || continue
	n=$(basename "$t")
	case "$n" in $pat) ;; *) continue ;; esac
	log="$logdir/$n.log"
	t0=$(now_ms)
	"$t" >"$log" 2>&1
	rc=$?
	count "$log" "$n" $rc unit $(($(now_ms) - t0))
done

# Integration scripts run TEST_JOBS at a time (default: the number of cores,
# at least 2): most of their time is spent waiting on the servers they start
# and on short-lived openssl/gpg/jq processes, and each picks its own ports
# and temporary directories.  The slowest scripts start first (their last
# durations, from $logdir/<name>.secs) so one long script does not finish
# alone at the end.  Results are counted in name order afterwards, so the
# output does not depend on which finished first.  TEST_JOBS=1 runs them one
# after another.
ncpu=$(nproc 2>/dev/null || echo 2)
[ "$ncpu" -ge 2 ] 2>/dev/null || ncpu=2
jobs=${TEST_JOBS:-$ncpu}
case "$jobs" in '' | *[!0-9]* | 0) jobs=1 ;; esac
names=""
for t in tests/integration/t_*.sh; do
	[ "$kind" = unit ] && break
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	case "$n" in $pat) ;; *) continue ;; esac
	names="$names $n"
	rm -f "$logdir/$n.log" "$logdir/$n.rc" "$logdir/$n.ms"
done
if [ -n "$names" ]; then
	# shellcheck disable=SC2086
	for n in $names; do
		printf '%s %s\n' "$(cat "$logdir/$n.secs" 2>/dev/null || echo 0)" "$n"
	done | sort -rn | cut -d' ' -f2 | xargs -P "$jobs" -I{} sh -c '
		t0=$(date +%s%N)
		bash "tests/integration/$1.sh" >"$2/$1.log" 2>&1 </dev/null
		echo $? >"$2/$1.rc"
		echo $((($(date +%s%N) - t0) / 1000000)) >"$2/$1.ms"' _ {} "$logdir"
fi
for n in $names; do
	rc=$(cat "$logdir/$n.rc" 2>/dev/null || echo 125)
	ms=$(cat "$logdir/$n.ms" 2>/dev/null || echo 0)
	echo $((ms / 1000)) >"$logdir/$n.secs"
	count "$logdir/$n.log" "$n" "$rc" integration "$ms"
done

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
