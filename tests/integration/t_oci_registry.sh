#!/bin/bash
# verify-image and the registry client against a real docker-registry over
# TLS: tag and index resolution, legacy .sig signatures made with openssl the
# way cosign makes them, bundle referrers through the tag-schema fallback
# (distribution 2.8 has no referrers API), Basic auth from a docker
# config.json, and the failures a user must be able to tell apart.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"

# vi NAME ARGS...: run verify-image, set OUT, ERR and RC.
vi() {
	# stderr kept in $T; any sanitizer report there fails the case below.
	local n=$1
	shift
	OUT=$("$PG" verify-image "$@" 2>"$T/$n.stderr")
	RC=$?
	ERR=$(cat "$T/$n.stderr")
	if grep -qE 'Sanitizer|runtime error' "$T/$n.stderr"; then
		notok "$n: no sanitizer report" "$(grep -E 'Sanitizer|runtime error' "$T/$n.stderr" | head -3)"
	fi
}

# expect_verified NAME DIGEST: RC 0 and the digest and signer reported.
expect_verified() {
	expect_eq "$1: exit status" "$RC" 0
	expect_match "$1: digest printed" "$OUT" "^Digest: $2$"
	expect_match "$1: signer printed" "$OUT" "^Signer: "
}

# expect_unverified NAME DIGEST: RC 1 and "no signature ... verified".
expect_unverified() {
	expect_eq "$1: exit status" "$RC" 1
	expect_match "$1: reason" "$ERR" "Error: no signature of .*@$2 verified"
}

[ -x /usr/bin/docker-registry ] || { skip "t_oci_registry" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }

registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
ok "registry starts on $REG with TLS"
CA=(--ca-file "$PKI/ca.pem")
KEYOPT() { echo --key "$T/$1.pub" --insecure-ignore-tlog; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg" # never the user's ~/.docker/config.json
make_key good && make_key other || { notok "keys"; exit 1; }

# --- a signed single-platform image ---
D1=$(make_image app/one v1) || { notok "push image"; exit 1; }
sig_payload "$REG/app/one" "$D1" >"$T/p1"
L1=$(sig_layer app/one "$T/p1" "$T/good.key") && push_sig app/one "$D1" "$L1" >/dev/null
check "push cosign-style signature" test -n "$L1"
vi good "$REG/app/one:v1" $(KEYOPT good) "${CA[@]}"
expect_verified "good key signature" "$D1"

vi bydigest "$REG/app/one@$D1" $(KEYOPT good) "${CA[@]}"
expect_verified "reference by digest" "$D1"

vi wrongkey "$REG/app/one:v1" $(KEYOPT other) "${CA[@]}"
expect_unverified "wrong key" "$D1"

# --- a multi-arch index, signed by its index digest as cosign does ---
DA=$(make_image app/multi amd64-only) && DB=$(make_image app/multi arm64-only) &&
	DI=$(make_index app/multi v2 "$DA" "$DB")
check "push multi-arch index" test -n "$DI"
sig_payload "$REG/app/multi" "$DI" >"$T/pi"
LI=$(sig_layer app/multi "$T/pi" "$T/good.key") && push_sig app/multi "$DI" "$LI" >/dev/null
vi index "$REG/app/multi:v2" $(KEYOPT good) "${CA[@]}"
expect_verified "multi-arch index signed by index digest" "$DI"
vi platform "$REG/app/multi@$DA" $(KEYOPT good) "${CA[@]}"
expect_eq "platform manifest of a signed index is not itself signed: exit" "$RC" 1
expect_match "platform manifest of a signed index: reason" "$ERR" "no signatures found for .*@$DA"

# --- several signature layers, one of them valid ---
D3=$(make_image app/three v1)
sig_payload "$REG/app/three" "$D3" >"$T/p3"
LBAD=$(sig_layer app/three "$T/p3" "$T/other.key")
sed 's/"optional":null/"optional":{"signer":"2"}/' "$T/p3" >"$T/p3b" # another payload, same claim
LGOOD=$(sig_layer app/three "$T/p3b" "$T/good.key")
push_sig app/three "$D3" "$LBAD" "$LGOOD" >/dev/null
vi several "$REG/app/three:v1" $(KEYOPT good) "${CA[@]}"
expect_verified "several signature layers, one valid" "$D3"

# --- a valid signature over a payload that claims another digest ---
D4=$(make_image app/four v1)
sig_payload "$REG/app/four" "$D1" >"$T/p4"
L4=$(sig_layer app/four "$T/p4" "$T/good.key") && push_sig app/four "$D4" "$L4" >/dev/null
vi otherdigest "$REG/app/four:v1" $(KEYOPT good) "${CA[@]}"
expect_unverified "payload claiming another digest" "$D4"

# --- the payload changed after signing ---
D5=$(make_image app/five v1)
sig_payload "$REG/app/five" "$D5" >"$T/p5signed"
sed 's/"optional":null/"optional":{"x":"y"}/' "$T/p5signed" >"$T/p5"
L5=$(sig_layer app/five "$T/p5" "$T/good.key" "$T/p5signed") && push_sig app/five "$D5" "$L5" >/dev/null
vi tampered "$REG/app/five:v1" $(KEYOPT good) "${CA[@]}"
expect_unverified "tampered payload" "$D5"

# --- nothing signed, nothing there ---
D6=$(make_image app/six v1)
vi nosig "$REG/app/six:v1" $(KEYOPT good) "${CA[@]}"
expect_eq "no signature at all: exit" "$RC" 1
expect_match "no signature at all: reason" "$ERR" "^Error: no signatures found for $REG/app/six@$D6$"

vi notag "$REG/app/six:nope" $(KEYOPT good) "${CA[@]}"
expect_eq "tag that does not exist: exit" "$RC" 1
expect_match "tag that does not exist: reason" "$ERR" "manifest $REG/app/six:nope not found"

vi norepo "$REG/app/never:v1" $(KEYOPT good) "${CA[@]}"
expect_eq "repository that does not exist: exit" "$RC" 1

# --- Sigstore bundle referrer, found through the sha256-<hex> tag schema ---
D7=$(make_image app/seven v1)
printf '{"mediaType":"%s","verificationMaterial":{},"dsseEnvelope":{}}' "$MT_BUNDLE" >"$T/bundle.json"
RD=$(push_bundle_referrer app/seven "$D7" "$T/bundle.json")
check "push bundle referrer + fallback index" test -n "$RD"
vi bundle "$REG/app/seven:v1" $(KEYOPT good) "${CA[@]}"
expect_eq "bundle referrer (not a valid bundle): exit" "$RC" 1
expect_match "bundle referrer discovered via tag fallback" "$ERR" "\\(1 found\\): Sigstore bundle $RD: "

# --- TLS: the registry's CA is not trusted without --ca-file ---
vi notrust "$REG/app/one:v1" $(KEYOPT good)
expect_eq "untrusted registry certificate: exit" "$RC" 1
expect_match "untrusted registry certificate: reason" "$ERR" "cannot reach 127.0.0.1"

# --- usage ---
vi usage1 "$REG/app/one:v1" "${CA[@]}"
expect_eq "no --key or identity: usage exit" "$RC" 2
vi usage2 "$REG/app/one:v1" --key "$T/missing.pub" --insecure-ignore-tlog "${CA[@]}"
expect_eq "unreadable key file: usage exit" "$RC" 2
vi usage3 "$REG/app/one:v1" --key "$T/good.pub" "${CA[@]}"
expect_eq "tlog required without --trusted-root: usage exit" "$RC" 2
vi usage4 "NOT A REF" --key "$T/good.pub" --insecure-ignore-tlog "${CA[@]}"
expect_eq "invalid image reference: usage exit" "$RC" 2

# --- a registry with htpasswd (Basic) auth, credentials from config.json ---
PUBREG=$REG
printf 'alice:%s\n' "$(htpasswd -nbB alice s3cret | cut -d: -f2)" >"$T/htpasswd"
registry_start "$T/htpasswd" || { notok "auth registry starts"; exit 1; }
ok "htpasswd registry starts on $REG"
REG_USER=alice REG_PASS=s3cret
DP=$(make_image priv/app v1)
sig_payload "$REG/priv/app" "$DP" >"$T/pp"
LP=$(sig_layer priv/app "$T/pp" "$T/good.key") && push_sig priv/app "$DP" "$LP" >/dev/null
check "push to auth registry" test -n "$LP"
REG_USER="" REG_PASS=""

mkdir -p "$T/nocfg" "$T/cfgauth" "$T/cfguser" "$T/cfgbad"
export DOCKER_CONFIG="$T/nocfg"
vi nocreds "$REG/priv/app:v1" $(KEYOPT good) "${CA[@]}"
expect_eq "auth registry without credentials: exit" "$RC" 1
expect_match "auth registry without credentials: reason" "$ERR" "requires credentials and none are configured"

printf '{"auths":{"https://%s":{"auth":"%s"}}}' "$REG" "$(printf alice:s3cret | base64 -w0)" >"$T/cfgauth/config.json"
export DOCKER_CONFIG="$T/cfgauth"
vi cfgauth "$REG/priv/app:v1" $(KEYOPT good) "${CA[@]}"
expect_verified "Basic auth from config.json \"auth\"" "$DP"

printf '{"auths":{"%s":{"username":"alice","password":"s3cret"}}}' "$REG" >"$T/cfguser/config.json"
export DOCKER_CONFIG="$T/cfguser"
vi cfguser "$REG/priv/app:v1" $(KEYOPT good) "${CA[@]}"
expect_verified "Basic auth from config.json username/password" "$DP"

printf '{"auths":{"%s":{"username":"alice","password":"wrong"}}}' "$REG" >"$T/cfgbad/config.json"
export DOCKER_CONFIG="$T/cfgbad"
vi cfgbad "$REG/priv/app:v1" $(KEYOPT good) "${CA[@]}"
expect_eq "wrong password: exit" "$RC" 1
expect_match "wrong password: reason" "$ERR" "refused access .*HTTP 401"

# A config with an entry for another host changes nothing for this one.
export DOCKER_CONFIG="$T/cfgauth"
vi otherhost "$PUBREG/app/six:v1" $(KEYOPT good) "${CA[@]}"
expect_match "config.json entry for another host: public registry unaffected" "$ERR" "no signatures found"
export DOCKER_CONFIG="$T/nocfg"

# Token (Bearer) auth against a real `auth: token` registry: t_token_auth.sh.
