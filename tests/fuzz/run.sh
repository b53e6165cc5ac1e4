#!/bin/sh
# make fuzz: build every libFuzzer target (tests/fuzz/fuzz_*.c) against the
# webhook's modules and run each for FUZZ_SECONDS seconds.
#
#   FUZZ_SECONDS=30          time per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS="fuzz_ref"  only these targets (space or comma separated)
#   FUZZ_JOBS=2              targets run at once (default: the number of cores;
#                            libFuzzer itself uses one core per target)
#
# Objects: every webhook/*/*.c but main.c, built with clang
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/obj and archived;
# each target links that archive with -fsanitize=fuzzer,address,undefined.
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
PKGS="libh2o-evloop jansson yaml-0.1 libcurl openssl gpgme"
# shellcheck disable=SC2086
pkg_cflags=$(pkg-config --cflags $PKGS) || { echo "fuzz: pkg-config failed for $PKGS" >&2; exit 2; }
# shellcheck disable=SC2086
pkg_libs=$(pkg-config --libs $PKGS) || exit 2

# The Makefile's -D/-I flags.  _FORTIFY_SOURCE is left out: its checked
# string functions bypass ASan's interceptors and hide overflows from it.
# -fno-sanitize-recover makes a UBSan report stop the run like a crash.
CFLAGS="-std=c17 -g -O1 -Wall -Wextra -fno-omit-frame-pointer -D_GNU_SOURCE \
-DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -DH2O_USE_LIBUV=0 -Iwebhook $pkg_cflags \
-fno-sanitize-recover=undefined"
OBJ_SAN="-fsanitize=fuzzer-no-link,address,undefined"
LINK_SAN="-fsanitize=fuzzer,address,undefined"

mkdir -p "$out/obj" "$out/logs" "$out/artifacts" "$out/corpus-run" || exit 2

# --- objects and archive (rebuilt when a source or any header is newer) ---
newest_hdr=$(ls -t webhook/*/*.h webhook/*.h 2>/dev/null | head -1)
objs=""
for src in webhook/*/*.c; do
	[ -f "$src" ] || continue
	obj="$out/obj/${src#webhook/}"
	obj="${obj%.c}.o"
	objs="$objs $obj"
	if [ -f "$obj" ] && [ ! "$src" -nt "$obj" ] &&
		{ [ -z "$newest_hdr" ] || [ ! "$newest_hdr" -nt "$obj" ]; }; then
		continue
	fi
	mkdir -p "$(dirname "$obj")"
	# shellcheck disable=SC2086
	$CC $CFLAGS $OBJ_SAN -c -o "$obj" "$src" || { echo "fuzz: compiling $src failed" >&2; exit 2; }
done
lib="$out/libprovgate-fuzz.a"
rm -f "$lib"
# shellcheck disable=SC2086
ar rcs "$lib" $objs || exit 2

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

# Link every target first (a link failure stops everything), then run them
# $jobs at a time, then report in target order.
for t in $targets; do
	src="tests/fuzz/$t.c"
	[ -f "$src" ] || { echo "fuzz: no such target $t ($src)" >&2; exit 2; }
	# shellcheck disable=SC2086
	$CC $CFLAGS $LINK_SAN -o "$out/$t" "$src" "$lib" $pkg_libs -lz -lpthread -lm ||
		{ echo "fuzz: linking $t failed" >&2; exit 2; }
done

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
