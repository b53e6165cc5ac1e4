#!/bin/bash
# The SSRF guard, observed from the other side: badserver's "other" (TLS,
# another port) and "plain" (http) listeners play forbidden targets and
# count every connection they accept.  Each case must be denied with the
# guard's reason and leave their counters at zero; two positive controls at
# the end show the counters do move when a policy does allow the target.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_badserver.sh"

[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
badserver_start || { notok "badserver starts" "$(tail -3 "$T/badserver.err" 2>/dev/null)"; exit 1; }
ok "badserver listening (main $BAD_MAIN, forbidden: other $BAD_OTHER, plain $BAD_PLAIN)"
R="127.0.0.1:$BAD_MAIN"
bad_policy "$T/pol"

# run NAME POLICY_DIR IMAGE REGEX [FAULTS]: provgate review must deny with REGEX.
run() {
	local name=$1 pol=$2 img=$3 re=$4 faults=${5:-} out rc msg
	bad_review "$T/$name.json" "$img"
	out=$(PROVGATE_FAULTS="$faults" "$PG" review --policy "$pol" --timeout-ms 2000 "$T/$name.json" 2>"$T/$name.err")
	rc=$?
	msg=$(jq -r '.response.status.message // ""' <<<"$out" 2>/dev/null)
	expect_eq "$name: denied" "$rc" 1
	expect_match "$name: reason" "$msg" "$re"
	echo "# $name: ${msg#*deny: }"
}
zero() { # NAME: both forbidden listeners and the plain-on-TLS counter are 0
	expect_eq "$1: connections to forbidden listener 'other'" "$(bad_count other)" 0
	expect_eq "$1: connections to forbidden listener 'plain'" "$(bad_count plain)" 0
	expect_eq "$1: plain-http connections to the registry port" "$(bad_count main_plain)" 0
}

run unlisted-host "$T/pol" "127.0.0.1:$BAD_OTHER/x/app:v1" "no policy rule matches 127\.0\.0\.1:$BAD_OTHER/x/app:v1"
zero unlisted-host
run redirect-unlisted-port "$T/pol" "$R/redirport/app:v1" "refusing to contact 127\.0\.0\.1:$BAD_OTHER: no policy rule or registry names this host"
zero redirect-unlisted-port
run redirect-http-listed-host "$T/pol" "$R/redirself/app:v1" "refusing http:// URL for 127\.0\.0\.1"
zero redirect-http-listed-host
run redirect-http-other "$T/pol" "$R/redirhttp/app:v1" "refusing http:// URL for 127\.0\.0\.1"
zero redirect-http-other
run redirect-file "$T/pol" "$R/redirfile/app:v1" "refusing file:// URL"
run redirect-metadata "$T/pol" "$R/redirmeta/app:v1" "refusing to contact 169\.254\.169\.254"
run token-realm-unlisted "$T/pol" "$R/realm/app:v1" "getting a token for $R: refusing to contact 127\.0\.0\.1:$BAD_OTHER"
zero token-realm-unlisted

# A name a rule allows, resolving to an unspecified address (0.0.0.0 is
# this host on Linux, so a miss would land on the forbidden listener).
bad_policy "$T/pol-dns" "evil.test:$BAD_OTHER"
run resolves-to-unspecified "$T/pol-dns" "evil.test:$BAD_OTHER/x/app:v1" \
	"refusing to connect to evil\.test: it resolves to 0\.0\.0\.0, a link-local, metadata or unspecified address" \
	"resolve:evil.test:$BAD_OTHER:0.0.0.0"
zero resolves-to-unspecified
run resolves-to-mapped-unspecified "$T/pol-dns" "evil.test:$BAD_OTHER/x/app:v1" \
	"refusing to connect to evil\.test: it resolves to ::ffff:0\.0\.0\.0" \
	"resolve:evil.test:$BAD_OTHER:[::ffff:0.0.0.0]"
zero resolves-to-mapped-unspecified

# An unspecified literal reached only through a host glob: refused, a glob
# does not name it.
mkdir -p "$T/pol-glob"
sed "s|match: \[\"127.0.0.1:$BAD_MAIN/\*\*\"\]|match: [\"127.0.0.1:$BAD_MAIN/**\", \"*:$BAD_OTHER/**\"]|" \
	"$T/pol/policy.yaml" >"$T/pol-glob/policy.yaml"
run glob-reaches-unspecified "$T/pol-glob" "0.0.0.0:$BAD_OTHER/x/app:v1" \
	"refusing to contact link-local or metadata address 0\.0\.0\.0: no rule names it exactly"
zero glob-reaches-unspecified
echo "# forbidden-listener connections after every refusal case: other=$(bad_count other) plain=$(bad_count plain) main_plain=$(bad_count main_plain)"

# --- positive controls: the counters do count ---
bad_policy "$T/pol-exact" "0.0.0.0:$BAD_OTHER"
run named-exactly-is-contacted "$T/pol-exact" "0.0.0.0:$BAD_OTHER/x/app:v1" "cannot reach 0\.0\.0\.0|certificate|SSL"
if [ "$(bad_count other)" -ge 1 ]; then ok "a rule naming 0.0.0.0:PORT exactly reaches it (other=$(bad_count other))"; else notok "positive control: named address contacted" "other=$(bad_count other)"; fi
{
	cat "$T/pol/policy.yaml"
	printf '    - host: 127.0.0.1:%s\n      plainHTTP: true\n' "$BAD_PLAIN"
} | sed "s|match: \[\"127.0.0.1:$BAD_MAIN/\*\*\"\]|match: [\"127.0.0.1:$BAD_MAIN/**\", \"127.0.0.1:$BAD_PLAIN/**\"]|" >"$T/pol-plain.yaml"
mkdir -p "$T/pol-plain" && mv "$T/pol-plain.yaml" "$T/pol-plain/policy.yaml"
run plainhttp-registry-is-contacted "$T/pol-plain" "127.0.0.1:$BAD_PLAIN/x/app:v1" "127\.0\.0\.1:$BAD_PLAIN"
if [ "$(bad_count plain)" -ge 1 ]; then ok "plainHTTP: true registry reached over http (plain=$(bad_count plain))"; else notok "positive control: plainHTTP registry contacted" "plain=$(bad_count plain)"; fi
