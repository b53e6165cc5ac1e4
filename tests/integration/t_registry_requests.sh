#!/bin/bash
# What provgate asks a registry for, read from the real docker-registry's
# access log (one Combined Log Format line per request, user agent
# "provgate" for ours):
#
#   tag by HEAD    a cold key-signed image admitted by tag: the tag is
#                  resolved with HEAD, never a GET of the image's manifest by
#                  its tag (Docker Hub counts every manifest GET as a pull);
#                  the server and `provgate review` alike
#   referrers      docker-registry has no referrers API: two unsigned images
#                  in one process cost one 404 on /referrers/, then the tag
#                  schema, probed with HEAD (no GET of an absent
#                  sha256-<hex> tag); a new process asks once again
#   near misses    the key-signed image is still allowed; an image signed
#                  for another digest is still denied
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_registry.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_registry_requests" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
make_key good || { notok "keys"; exit 1; }

# signed_image REPO TAG: an image with one key signature; prints its digest.
signed_image() {
	local d
	d=$(make_image "$1" "$2") || return 1
	sig_payload "$REG/$1" "$d" >"$T/pl.json" || return 1
	push_sig "$1" "$d" "$(sig_layer "$1" "$T/pl.json" "$T/good.key")" >/dev/null || return 1
	echo "$d"
}
mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: requests}
spec:
  trust:
    keys:
      signer: {path: $T/good.pub}
  images:
    - name: apps
      match: ["$REG/app/**"]
      verify: [{cosign: {key: signer}}]
      tlog: optional
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF

DA=$(signed_image app/a v1) && DC=$(signed_image app/c v1) &&
	DU=$(make_image app/u1 v1) && DV=$(make_image app/u2 v1) && DW=$(make_image app/u3 v1) &&
	DX=$(make_image app/x v1) || { notok "push images"; exit 1; }
# app/x: a signature whose payload names app/a's digest, pushed as x's .sig
sig_payload "$REG/app/x" "$DA" >"$T/plx.json" &&
	push_sig app/x "$DX" "$(sig_layer app/x "$T/plx.json" "$T/good.key")" >/dev/null ||
	{ notok "push the misdirected signature"; exit 1; }
ok "registry $REG with images"

# ours METHOD PATH_ERE: provgate's requests of that method and path so far
ours() { grep -E '"provgate"$' "$REG_LOG" | grep -cE "\"$1 $2 HTTP/[0-9.]+\""; }

pod_obj() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"%s"}]}}' "$1"
}
review() {
	pod_obj "$1" >"$T/obj.json"
	mkreview "$T/obj.json" default CREATE >"$T/review.json"
	RESP=$(pgcurl --data-binary @"$T/review.json" "$PG_URL/validate")
	ALLOWED=$(jq -r '.response.allowed' <<<"$RESP")
	MSG=$(jq -r '.response.status.message // ""' <<<"$RESP")
}

start_provgate "$T/pol" || { notok "provgate starts" "$(tail -3 "$T/provgate.err")"; exit 1; }

# --- tag by HEAD ----------------------------------------------------------------
review "$REG/app/a:v1"
expect_eq "key-signed image by tag: allowed" "$ALLOWED" true
expect_eq "tag resolved with one HEAD" "$(ours HEAD /v2/app/a/manifests/v1)" 1
expect_eq "no GET of the image's manifest by its tag" "$(ours GET /v2/app/a/manifests/v1)" 0
expect_eq "no GET of the image's manifest by its digest either" "$(ours GET "/v2/app/a/manifests/$DA")" 0
expect_eq "the signature manifest: one GET" "$(ours GET "/v2/app/a/manifests/sha256-${DA#sha256:}\\.sig")" 1
expect_eq "the key-signed image never asked the referrers API" "$(ours GET '/v2/app/[a-z0-9]+/referrers/.*')" 0
# the same parse as the bench's "requests per cold verification by method" row
echo "# cold key-signed verification, provgate's requests by method:$(grep '"provgate"$' "$REG_LOG" |
	sed -n 's/.*"\([A-Z]*\) \/v2\/[^ ]* HTTP\/[0-9.]*".*/\1/p' | sort | uniq -c | awk '{printf " %s %s", $2, $1}')"

# the attack: a valid signature, but over another digest
review "$REG/app/x:v1"
expect_eq "signature over another digest: denied" "$ALLOWED" false
expect_match "  ... naming the digest mismatch" "$MSG" "app/x@$DX|$DX"

# --- referrers: one 404 per host per process --------------------------------------
review "$REG/app/u1:v1"
expect_eq "unsigned image: denied" "$ALLOWED" false
expect_match "  ... no signatures found" "$MSG" "no signatures found"
review "$REG/app/u2:v1"
expect_eq "second unsigned image: denied" "$ALLOWED" false
expect_eq "registry without referrers API asked once for two images" \
	"$(ours GET '/v2/app/[a-z0-9]+/referrers/.*')" 1
expect_eq "tag-schema fallback probed with HEAD for both" \
	"$(ours HEAD '/v2/app/u[12]/manifests/sha256-[0-9a-f]{64}')" 2
expect_eq "no GET of an absent tag-schema tag" \
	"$(ours GET '/v2/app/u[12]/manifests/sha256-[0-9a-f]{64}')" 0
expect_eq "no GET of the unsigned images' manifests by tag" "$(ours GET '/v2/app/u[12]/manifests/v1')" 0

kill "$PG_PID" 2>/dev/null
wait "$PG_PID" 2>/dev/null
mv "$T/provgate.err" "$T/provgate.1.err"
mv "$T/provgate.out" "$T/provgate.1.out"

# a new process remembers nothing: it asks once again
start_provgate "$T/pol" || { notok "provgate restarts" "$(tail -3 "$T/provgate.err")"; exit 1; }
review "$REG/app/u3:v1"
expect_eq "new process: unsigned image denied" "$ALLOWED" false
expect_eq "new process asked the referrers API once more" "$(ours GET '/v2/app/[a-z0-9]+/referrers/.*')" 2
kill "$PG_PID" 2>/dev/null
wait "$PG_PID" 2>/dev/null

# --- offline `provgate review`: the same economy ------------------------------------
pod_obj "$REG/app/c:v1" >"$T/objc.json"
mkreview "$T/objc.json" default CREATE >"$T/reviewc.json"
out=$("$PG" review --policy "$T/pol" "$T/reviewc.json" 2>"$T/review-cli.stderr")
expect_eq "provgate review: key-signed image by tag allowed" "$(jq -r '.response.allowed' <<<"$out")" true
expect_eq "provgate review: tag resolved with HEAD" "$(ours HEAD /v2/app/c/manifests/v1)" 1
expect_eq "provgate review: no GET of the manifest by tag" "$(ours GET /v2/app/c/manifests/v1)" 0

if grep -qE 'Sanitizer|runtime error' "$T"/provgate*.err "$T/review-cli.stderr"; then
	notok "no sanitizer report" "$(grep -hE 'Sanitizer|runtime error' "$T"/provgate*.err | head -3)"
else
	ok "no sanitizer report"
fi
