#!/bin/bash
# Registry token (Bearer) auth against a real docker-registry configured
# with `auth: token`: the anonymous flow 401 -> WWW-Authenticate Bearer
# realm/service/scope -> GET realm -> {"token": ...} -> retry with
# Authorization: Bearer, through verify-image and review.  The token is a
# JWT pre-signed with openssl (RS256, x5c) and served as a static file by
# nghttpd at the realm path.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_token.sh"
source "$(dirname "$0")/lib_review.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_token_auth" "docker-registry not installed"; exit 0; }
command -v nghttpd >/dev/null || { skip "t_token_auth" "nghttpd not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

# Pushes go to a plain registry; the token registry serves the same storage.
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
PLAIN=$REG
make_key good || { notok "keys"; exit 1; }
D_APP=$(make_image tok/app v1) && sig_payload "$REG/tok/app" "$D_APP" >"$T/p1" &&
	L=$(sig_layer tok/app "$T/p1" "$T/good.key") && push_sig tok/app "$D_APP" "$L" >/dev/null
D_OTHER=$(make_image tok/other v1) && sig_payload "$REG/tok/other" "$D_OTHER" >"$T/p2" &&
	L=$(sig_layer tok/other "$T/p2" "$T/good.key") && push_sig tok/other "$D_OTHER" "$L" >/dev/null
[[ $D_APP == sha256:* && $D_OTHER == sha256:* ]] || { notok "push images"; exit 1; }

token_signer || { notok "token signer"; exit 1; }
token_server token "$(jq -cn --arg t "$(jwt_token tok/app pull)" '{token: $t, expires_in: 300}')" &&
	token_server access "$(jq -cn --arg t "$(jwt_token tok/app pull)" '{access_token: $t}')" &&
	token_server expired "$(jq -cn --arg t "$(jwt_token tok/app pull $(($(date +%s) - 600)))" '{token: $t}')" &&
	token_server wrongaud "$(jq -cn --arg t "$(jwt_token tok/app pull "" "" someone-else)" '{token: $t}')" &&
	token_server refused '' && rm -f "$T/token-www/refused" ||
	{ notok "token server starts" "$(cat "$T/token-server.err")"; exit 1; }
registry_start_token "$PLAIN" token || { notok "token registry starts" "$(tail -3 "$T"/registry-token-*.err)"; exit 1; }
TOKREG=$REG
ok "token-auth registry on $TOKREG, realm https://127.0.0.1:$TOKEN_PORT/token"

# The registry really demands a token, and really accepts ours.
REG=$TOKREG
hdr=$(reg_curl -o /dev/null -D - "https://$TOKREG/v2/tok/app/manifests/v1" | tr -d '\r')
expect_match "anonymous request challenged with Bearer" "$hdr" \
	"^HTTP/[0-9.]+ 401"
expect_match "challenge names realm, service and scope" "$(grep -i '^www-authenticate' <<<"$hdr")" \
	"Bearer realm=\"https://127\\.0\\.0\\.1:$TOKEN_PORT/token\",service=\"$TOKEN_SERVICE\",scope=\"repository:tok/app:pull\""
code=$(reg_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(jwt_token tok/app pull)" \
	-H "Accept: $MT_OCI_MANIFEST" "https://$TOKREG/v2/tok/app/manifests/v1")
expect_eq "the pre-signed JWT is accepted by distribution" "$code" 200

vi() { # NAME ARGS...: verify-image; sets OUT ERR RC
	local n=$1
	shift
	OUT=$("$PG" verify-image "$@" 2>"$T/$n.err")
	RC=$?
	ERR=$(cat "$T/$n.err")
}
KEYARGS=(--key "$T/good.pub" --insecure-ignore-tlog --ca-file "$PKI/ca.pem")

vi anon "$TOKREG/tok/app:v1" "${KEYARGS[@]}"
expect_eq "verify-image through anonymous Bearer flow: exit" "$RC" 0
expect_match "verify-image through anonymous Bearer flow: digest" "$OUT" "^Digest: $D_APP$"

vi bydigest "$TOKREG/tok/app@$D_APP" "${KEYARGS[@]}"
expect_eq "verify-image by digest with a token: exit" "$RC" 0

# The token grants tok/app only: tok/other stays closed.
vi scope "$TOKREG/tok/other:v1" "${KEYARGS[@]}"
expect_eq "token without access to the repository: exit" "$RC" 1
expect_match "token without access to the repository: reason" "$ERR" "HTTP 401"

# Token answered as access_token instead of token.
registry_start_token "$PLAIN" access || { notok "second token registry"; exit 1; }
vi access "$REG/tok/app:v1" "${KEYARGS[@]}"
expect_eq "realm answering {\"access_token\": ...}: exit" "$RC" 0

# An expired token, a token for another audience: the registry refuses them.
registry_start_token "$PLAIN" expired || { notok "expired-token registry"; exit 1; }
vi expired "$REG/tok/app:v1" "${KEYARGS[@]}"
expect_eq "expired token: exit" "$RC" 1
expect_match "expired token: reason" "$ERR" "HTTP 401"
registry_start_token "$PLAIN" wrongaud || { notok "wrong-audience registry"; exit 1; }
vi wrongaud "$REG/tok/app:v1" "${KEYARGS[@]}"
expect_eq "token for another audience: exit" "$RC" 1

# A realm that answers 404.
registry_start_token "$PLAIN" refused || { notok "no-token registry"; exit 1; }
vi refused "$REG/tok/app:v1" "${KEYARGS[@]}"
expect_eq "realm without a token: exit" "$RC" 1
expect_match "realm without a token: reason" "$ERR" "token server for $REG answered HTTP 404"

# --- review: the token realm is a host too, and must be allowed by policy ---
policy() { # DIR EXTRA_REGISTRY_LINES
	mkdir -p "$1"
	cat >"$1/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: token
spec:
  trust:
    keys:
      good: {path: $T/good.pub}
  images:
    - name: tok
      match: ["$TOKREG/tok/**"]
      verify:
        - cosign: {key: good}
      tlog: optional
  registries:
    - host: "$TOKREG"
      caFile: $PKI/ca.pem
$2
EOF
}
policy "$T/pol-ok" "    - host: \"127.0.0.1:$TOKEN_PORT\"
      caFile: $PKI/ca.pem"
policy "$T/pol-norealm" ""
pod() {
	jq -cn --arg i "$1" '{apiVersion: "v1", kind: "Pod", metadata: {name: "tok"},
		spec: {containers: [{name: "c", image: $i}]}}' >"$T/pod.json"
	mkreview "$T/pod.json" default CREATE >"$T/rv.json"
}
pod "$TOKREG/tok/app:v1"
out=$("$PG" review --policy "$T/pol-ok" "$T/rv.json" 2>"$T/review.log")
expect_eq "review through the Bearer flow: allowed" "$(jq -r .response.allowed <<<"$out")" true
if jq -e --arg d "$D_APP" '[.response.auditAnnotations[] | select(contains($d))] | length == 1' <<<"$out" >/dev/null; then
	ok "review through the Bearer flow: digest in auditAnnotations"
else
	notok "review through the Bearer flow: digest in auditAnnotations" "$(jq -c .response <<<"$out")"
fi
out=$("$PG" review --policy "$T/pol-norealm" "$T/rv.json" 2>/dev/null)
expect_match "review: token realm on a host the policy does not name is never contacted" \
	"$(review_summary "$out")" "^false.*refusing to contact 127\\.0\\.0\\.1:$TOKEN_PORT"
pod "$TOKREG/tok/other:v1"
out=$("$PG" review --policy "$T/pol-ok" "$T/rv.json" 2>/dev/null)
expect_match "review: repository the token does not grant" "$(review_summary "$out")" "^false.*HTTP 401"
