#!/bin/bash
# Policy hot reload in provgate serve (default --reload-ms): a new policy
# written into the watched directory decides within 2 s; a policy that does
# not load is logged on stderr, shown in /readyz, counted as an error, and
# the last good policy keeps deciding; a ConfigMap-style mount (files that
# are symlinks through ..data -> ..<timestamp>/, swapped atomically the way
# the kubelet does it) is followed as well.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_ops.sh"

[ -x /usr/bin/docker-registry ] || { skip "policy reload" "docker-registry not installed"; exit 0; }
export DOCKER_CONFIG="$T/nocfg"
mkdir -p "$DOCKER_CONFIG" "$T/pol"
ops_registry || { notok "registry with signed images" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }

LOK='provgate_policy_loads_total{result="ok"}'
LERR='provgate_policy_loads_total{result="error"}'
allowed() { review "$1" "$2"; [ "$ALLOWED" = true ]; }
denied() { review "$1" "$2"; [ "$ALLOWED" = false ]; }
n=0
uid() { n=$((n + 1)); echo "r$n"; }

# --- a plain directory -------------------------------------------------------------
ops_policy enforce a | put "$T/pol/policy.yaml"
ops_serve s1 "$T/pol" || { notok "server starts" "$(cat "$T/s1.err")"; exit 1; }
review "$(uid)" "$REG/app/other:1"
expect_eq "image signed by key b denied while only key a is trusted" "$ALLOWED" false
expect_match "denied: no signature verified" "$TEXT" "no signature of .*@$D_OTHER verified"
ts0=$(metric provgate_policy_last_good_load_timestamp_seconds)
sleep 1.1 # the reload's timestamp must be able to differ

ops_policy enforce "a b" | put "$T/pol/policy.yaml"
if ms=$(poll 2 allowed "$(uid)" "$REG/app/other:1"); then
	ok "new policy (key b trusted) allows the denied image within 2 s (${ms} ms)"
else
	notok "new policy allows the denied image within 2 s" "$TEXT"
fi
expect_eq "reload counted as a good load" "$(metric "$LOK")" 2
ts1=$(metric provgate_policy_last_good_load_timestamp_seconds)
if [ "$ts1" -gt "$ts0" ]; then ok "last good load timestamp moved"; else notok "last good load timestamp moved" "$ts0 -> $ts1"; fi
check "reload logged on stderr" grep -q '"msg":"policy reloaded"' "$T/s1.err"

# A second file in the directory is merged in.
cat <<EOF | put "$T/pol/team.yaml"
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: team
spec:
  trust:
    keys:
      team-key: {path: $T/c.pub}
  images:
    - name: team
      match: ["$REG/team/**"]
      verify:
        - cosign: {key: team-key}
      tlog: optional
EOF
if ms=$(poll 2 allowed "$(uid)" "$REG/team/x:1"); then
	ok "a policy file added to the directory decides within 2 s (${ms} ms)"
else
	notok "a policy file added to the directory decides within 2 s" "$TEXT"
fi

# A trust file outside the policy directory (a mounted Secret, say) is
# watched too: rotating the key it holds takes effect within 2 s.
cp "$T/c.pub" "$T/c.pub.orig"
cp "$T/b.pub" "$T/c.pub.new" && mv "$T/c.pub.new" "$T/c.pub"
if ms=$(poll 2 denied "$(uid)" "$REG/team/x:1"); then
	ok "a key file outside the policy directory rotated: the old signer is denied within 2 s (${ms} ms)"
else
	notok "a key file outside the policy directory is watched" "$TEXT"
fi
mv "$T/c.pub.orig" "$T/c.pub"
if ms=$(poll 2 allowed "$(uid)" "$REG/team/x:1"); then
	ok "the key file restored: allowed again within 2 s (${ms} ms)"
else
	notok "the key file restored: allowed again" "$TEXT"
fi

# --- a policy that does not load ----------------------------------------------------
e0=$(metric "$LERR"); ok0=$(metric "$LOK"); ts0=$(metric provgate_policy_last_good_load_timestamp_seconds)
printf 'apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata: {name: ops}\nspec:\n  images:\n    - name: [oops\n' |
	put "$T/pol/policy.yaml"
readyz_says_failed() { pgcurl "$URL/readyz" | grep -q 'last policy load failed'; }
if ms=$(poll 2 readyz_says_failed); then
	ok "bad policy shown in /readyz within 2 s (${ms} ms)"
else
	notok "bad policy shown in /readyz" "$(pgcurl "$URL/readyz")"
fi
rz=$(pgcurl -w '\n%{http_code}' "$URL/readyz")
expect_match "/readyz names the file and keeps serving (200, last good policy in force)" "$rz" \
	"last policy load failed \\(last good policy in force\\): .*$T/pol/policy.yaml"
expect_eq "/readyz status while the last good policy is in force" "$(tail -1 <<<"$rz")" 200
expect_eq "bad policy counted: provgate_policy_loads_total{result=\"error\"} +1" "$(metric "$LERR")" $((e0 + 1))
expect_eq "bad policy not counted as a good load" "$(metric "$LOK")" "$ok0"
expect_eq "last good load timestamp unchanged" "$(metric provgate_policy_last_good_load_timestamp_seconds)" "$ts0"
errline=$(grep '"msg":"policy reload failed; the last good policy stays in force"' "$T/s1.err" | tail -1)
if jq -e '.level == "error" and (.detail | test("policy.yaml"))' <<<"$errline" >/dev/null 2>&1; then
	ok "bad policy logged on stderr as an error, naming the file"
else
	notok "bad policy logged on stderr" "$(tail -3 "$T/s1.err")"
fi
review "$(uid)" "$REG/app/other:1"
expect_eq "last good policy still decides: key b image allowed" "$ALLOWED" true
review "$(uid)" docker.io/library/nginx:1.25
expect_eq "last good policy still decides: unmatched image denied" "$ALLOWED" false
review "$(uid)" "$REG/team/x:1"
expect_eq "last good policy still decides: second file's rule" "$ALLOWED" true
sleep 1.2
expect_eq "a bad policy is not retried every tick" "$(metric "$LERR")" $((e0 + 1))

# A policy naming a key file that does not exist does not load either.
ops_policy enforce "a missing" | put "$T/pol/policy.yaml"
e1=$((e0 + 2))
errs_are() { [ "$(metric "$LERR")" = "$1" ]; }
if ms=$(poll 2 errs_are "$e1"); then ok "policy naming a missing key file rejected (${ms} ms)"; else notok "policy naming a missing key file rejected" "$(metric "$LERR")"; fi
expect_match "/readyz shows the missing key file" "$(pgcurl "$URL/readyz")" "missing\\.pub"
review "$(uid)" "$REG/app/other:1"
expect_eq "last good policy still decides after a second bad one" "$ALLOWED" true

# Fixed: the error goes away and the new policy decides.
ops_policy enforce a | put "$T/pol/policy.yaml"
readyz_clean() { ! pgcurl "$URL/readyz" | grep -q 'last policy load failed'; }
if ms=$(poll 2 readyz_clean); then ok "fixed policy clears /readyz within 2 s (${ms} ms)"; else notok "fixed policy clears /readyz" "$(pgcurl "$URL/readyz")"; fi
expect_eq "fixed policy counted as a good load" "$(metric "$LOK")" $((ok0 + 1))
review "$(uid)" "$REG/app/other:1"
expect_eq "fixed policy decides: key b no longer trusted" "$ALLOWED" false

# --- ConfigMap-style mount: ..data symlink swap --------------------------------------
# The kubelet's layout: CM/..<timestamp>/{policy.yaml,key.pub}, CM/..data ->
# ..<timestamp>, CM/policy.yaml -> ..data/policy.yaml; an update writes a new
# timestamped directory, renames a new ..data symlink over the old one, then
# removes the old directory.  Trust keys travel in the same ConfigMap and
# are named relative to the policy directory.
CM="$T/cm"
cm_version() { # DIRNAME TEAM_KEY: write a new version and swap ..data to it
	local v="$CM/$1" f
	mkdir -p "$v"
	cp "$T/a.pub" "$T/c.pub" "$v/"
	ops_policy enforce a "$2" . >"$v/policy.yaml"
	ln -sfn "$1" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
	for f in policy.yaml a.pub c.pub; do
		[ -L "$CM/$f" ] || ln -s "..data/$f" "$CM/$f"
	done
}
mkdir -p "$CM"
cm_version ..2026_01_01_00_00_00.000000001 ""
ops_serve s2 "$CM" || { notok "server on a ConfigMap-style directory starts" "$(cat "$T/s2.err")"; exit 1; }
ok "server on a ConfigMap-style directory starts"
review "$(uid)" "$REG/team/x:1"
expect_eq "ConfigMap v1: team image has no rule, denied" "$ALLOWED" false
expect_match "ConfigMap v1: reason" "$TEXT" "no policy rule matches $REG/team/x:1"
review "$(uid)" "$REG/app/signed:1"
expect_eq "ConfigMap v1: key from the ConfigMap (relative path) verifies" "$ALLOWED" true
cm_version ..2026_01_01_00_05_00.000000002 c
rm -rf "$CM/..2026_01_01_00_00_00.000000001"
if ms=$(poll 2 allowed "$(uid)" "$REG/team/x:1"); then
	ok "ConfigMap ..data swap: team image allowed within 2 s (${ms} ms)"
else
	notok "ConfigMap ..data swap: team image allowed within 2 s" "$TEXT"
fi
# The kubelet writes the new ..<timestamp> directory inside the volume before
# it swaps ..data: a scan in between reloads the old policy once more, which
# is harmless, so "at least one good reload" (not exactly one), and no error.
lok=$(metric "$LOK")
expect_eq "ConfigMap swap: a good reload, no error" "$([ "$lok" -ge 2 ] && echo ok || echo "$lok") $(metric "$LERR")" "ok 0"
# A swap to a version whose policy is broken keeps v2 in force.
v3="$CM/..2026_01_01_00_10_00.000000003"
mkdir -p "$v3"; cp "$T/a.pub" "$T/c.pub" "$v3/"
printf 'kind: ProvenancePolicy\napiVersion: provgate.dev/v1alpha1\nspec: {mode: sometimes}\n' >"$v3/policy.yaml"
ln -sfn "$(basename "$v3")" "$CM/..data_tmp"; mv -T "$CM/..data_tmp" "$CM/..data"
errs_are1() { [ "$(metric "$LERR")" = 1 ]; }
if ms=$(poll 2 errs_are1); then ok "ConfigMap swap to a broken policy counted as an error (${ms} ms)"; else notok "ConfigMap swap to a broken policy counted" "$(metric "$LERR")"; fi
review "$(uid)" "$REG/team/x:1"
expect_eq "ConfigMap: last good version still decides" "$ALLOWED" true

# --- a write that lands while a load is reading ----------------------------------------
# The test build holds each load open 800 ms after it read the directory
# (PROVGATE_TEST_LOAD_DELAY_MS): the first edit is being loaded when the
# second lands.  The second must not count as loaded with the first: the
# last word is the operator's, however long a load takes.
mkdir -p "$T/race"
ops_policy enforce a | put "$T/race/policy.yaml"
PG="$BUILD/tests/provgate-testnets" PROVGATE_TEST_LOAD_DELAY_MS=800 ops_serve s3 "$T/race" --reload 100ms ||
	{ notok "test-build server starts" "$(cat "$T/s3.err")"; exit 1; }
review "$(uid)" "$REG/app/other:1"
expect_eq "race: key b not trusted at first" "$ALLOWED" false
ops_policy enforce "a b" | put "$T/race/policy.yaml"
sleep 0.4
ops_policy enforce a | put "$T/race/policy.yaml"
if ms=$(poll 3 allowed "$(uid)" "$REG/app/other:1"); then
	ok "race: the first edit (key b trusted) is loaded (${ms} ms)"
else
	notok "race: the first edit is loaded" "$TEXT"
fi
if ms=$(poll 4 denied "$(uid)" "$REG/app/other:1"); then
	ok "race: the second edit, written during that load, is loaded next (${ms} ms)"
else
	notok "race: the second edit, written during that load, is loaded next" "still allowed: $TEXT"
fi
sleep 0.5
review "$(uid)" "$REG/app/other:1"
expect_eq "race: and stays in force" "$ALLOWED" false
check "race: a load took place after the second edit" test "$(grep -c '"msg":"policy reloaded"' "$T/s3.err")" -ge 2

ops_stop s1 s2 s3
