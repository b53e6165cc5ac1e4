# Helpers for the benchmark scripts (bash; source after lib.sh).
#
#   h2rate / h2fail / h2ok      h2load output on stdin -> req/s, failed, succeeded
#   pct FILE P                  the P-th percentile (0..1) of the numbers in FILE
#   ms_of_s                     seconds on stdin -> milliseconds (1 decimal; n/a stays n/a)
#   row LABEL VALUE             add one row to the table printed at the end
#   ratio A B                   "A/B x" or n/a
#   ms1 S / mib KIB             seconds -> ms, KiB -> MiB (1 decimal) or n/a
#   pg_stop                     stop the provgate started last (by PID), wait
#   rss_kib PID FIELD           VmRSS or VmHWM of PID in KiB
#   time_one OUT CMD...         run CMD once (output discarded), append its
#                               wall time (s) to OUT; returns CMD's status
#   timed_runs OUT N CMD...     run CMD N times; seconds per run into OUT;
#                               returns non-zero if any run failed
#   mean FILE                   the mean of the numbers in FILE
#   p50_p99_ms FILE             "p50 / p99" in ms of the seconds in FILE
#   na VALUE                    VALUE, or n/a when empty

ROWS=()
row() { ROWS+=("| $1 | $2 |"); }

h2rate() {
	awk '/^finished in/ {for (i=1;i<=NF;i++) if ($i ~ /req\/s/) {gsub(",","",$(i-1)); print $(i-1)}}'
}
h2fail() { awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /failed/) {print $i; exit}}'; }
h2ok() { awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /succeeded/) {print $i; exit}}'; }

pct() {
	sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {
		if (NR == 0) { print "n/a"; exit }
		i = int(NR * p + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print a[i] }'
}
ms_of_s() { awk '{ if ($1 ~ /^[0-9.]+$/) printf "%.1f", $1 * 1000; else print "n/a" }'; }

# best max|min A B: the larger (rates) or smaller (times) of two numbers,
# either of which may be empty
best() { awk -v w="$1" -v a="$2" -v b="$3" 'BEGIN { if (a == "" || (b != "" && (w == "max" ? b + 0 > a + 0 : b + 0 < a + 0))) print b; else print a }'; }
# median3 A B C: the middle one of three numbers (empty ones sort first)
median3() { printf '%s\n' "${1:-0}" "${2:-0}" "${3:-0}" | sort -g | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2fx", a / b; else print "n/a" }'; }

pg_stop() {
	[ -n "${PG_PID:-}" ] || return 0
	kill "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=""
}

rss_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
ms1() { awk -v s="$1" 'BEGIN { if (s == "") print "n/a"; else printf "%.1f", s * 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }

time_one() {
	local out=$1 t0 t1 rc
	shift
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	rc=$?
	t1=$(date +%s%N)
	awk -v us="$(((t1 - t0) / 1000))" 'BEGIN {printf "%.6f\n", us / 1e6}' >>"$out"
	return $rc
}

timed_runs() {
	local out=$1 n=$2 i bad=0
	shift 2
	: >"$out"
	for i in $(seq 1 "$n"); do
		time_one "$out" "$@" || bad=1
	done
	return $bad
}

mean() { awk '{s += $1} END { if (NR) printf "%.6f", s / NR; else print "" }' "$1"; }
p50_p99_ms() { echo "$(pct "$1" 0.50 | ms_of_s) / $(pct "$1" 0.99 | ms_of_s)"; }
na() { [ -n "${1:-}" ] && echo "$1" || echo "n/a"; }

# One review per file, sequentially over one reused TLS connection; prints
# each request's total time (s) to OUT and each response to DIR/N.out.
#   curl_reviews OUT DIR FILE...
curl_reviews() {
	local out=$1 dir=$2 f i=0
	shift 2
	{
		for f in "$@"; do
			i=$((i + 1))
			[ $i -gt 1 ] && echo next
			printf 'url = "%s/validate"\ncacert = "%s"\nheader = "content-type: application/json"\n' "$PG_URL" "$PKI/ca.pem"
			printf 'data-binary = "@%s"\noutput = "%s/%d.out"\nwrite-out = "%%{time_total}\\n"\nmax-time = 30\nsilent\n' "$f" "$dir" "$i"
		done
	} >"$dir/curl.cfg"
	curl -K "$dir/curl.cfg" >"$out"
}
