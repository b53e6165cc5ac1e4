# provgate serve on SIGTERM, with a review still waiting on a stalled
# registry: it stops accepting at once (its listeners close), answers the
# waiting review with a deny — an AdmissionReview with the review's uid,
# never a dropped connection — after the grace period, and exits 0.
#
# Until the loops' control messages were real h2o messages, none of this
# happened: h2o 2.2 only wakes a loop for an empty message and never calls
# the receiver, so the server kept accepting for the whole grace period,
# dropped the waiting request unanswered and always slept the full drain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_badserver.sh"

command -v jq >/dev/null || { skip "shutdown" "jq not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
badserver_start || { notok "badserver starts" "$(cat "$T"/badserver.err 2>/dev/null)"; exit 1; }
bad_policy "$T/pol"
# The review deadline (9 s) is longer than the shutdown grace (3 s): the
# review is still waiting when the grace ends, so only the shutdown answers it.
start_provgate "$T/pol" --threads 2 --workers 2 --timeout-ms 9000 ||
	{ notok "server starts" "$(tail -3 "$T/provgate.err")"; exit 1; }
ok "server starts"

bad_review "$T/hang.json" "127.0.0.1:$BAD_MAIN/hang/app:v1"
uid=$(jq -r .request.uid "$T/hang.json")
# Connections the stalled registry had before (badserver_start's own probe).
before=$(bad_count main)
pgcurl -o "$T/hang.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$T/hang.json" "$PG_URL/validate" >"$T/hang.code" 2>"$T/hang.curl" &
cpid=$!
PIDS+=("$cpid")
for _ in $(seq 1 200); do
	[ "$(bad_count main)" -gt "$before" ] 2>/dev/null && break
	sleep 0.05
done
check "the review reached the stalled registry" test "$(bad_count main)" -gt "$before"

kill -TERM "$PG_PID"
t0=$(now_ms)
# Listeners close when the loops take the stop command: a new connection is
# refused long before the grace period (3 s) ends.
refused=no
for _ in $(seq 1 20); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
		refused=yes
		break
	fi
	sleep 0.05
done
expect_eq "SIGTERM: new connections are refused within 1 s" "$refused" yes

wait "$cpid"
expect_eq "the waiting review is answered with HTTP 200" "$(cat "$T/hang.code")" 200
expect_eq "the answer is an AdmissionReview for that review's uid" \
	"$(jq -r '.response.uid' "$T/hang.out" 2>/dev/null)" "$uid"
expect_eq "the answer denies" "$(jq -r '.response.allowed' "$T/hang.out" 2>/dev/null)" false
expect_match "the answer says why" "$(jq -r '.response.status.message' "$T/hang.out" 2>/dev/null)" \
	'timed out'
ms=$(($(now_ms) - t0))
# Not before the grace period: the review had its chance to finish.
check "answered after the 3 s grace period (${ms} ms)" test "$ms" -ge 2900

rc=124
for _ in $(seq 1 100); do
	if ! kill -0 "$PG_PID" 2>/dev/null; then
		wait "$PG_PID"
		rc=$?
		break
	fi
	sleep 0.05
done
expect_eq "the server exits 0" "$rc" 0
# The worker still waiting on the stalled registry is cancelled: the exit
# does not wait out the review's 9 s deadline.
ms=$(($(now_ms) - t0))
check "the server exits without waiting out the stalled verification (${ms} ms)" test "$ms" -lt 7000
expect_eq "the denial is logged as one admission line" \
	"$(grep -F "\"$uid\"" "$T/provgate.out" | jq -r 'select(.msg == "admission") | .allowed' 2>/dev/null)" false
