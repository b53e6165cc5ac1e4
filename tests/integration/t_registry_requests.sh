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
#   absent evidence  probed with HEAD before any GET: the key-signed image's
#                  .sig tag is one HEAD, then one GET of the signature
#                  manifest by the digest the HEAD named (never by the tag);
#                  a cold image signed only with a Sigstore bundle (v0.3,
#                  keyless, tag-schema referrer) makes no GET of its absent
#                  .sig tag: its manifest GETs (Docker Hub's pulls) are the
#                  tag-schema index and the bundle manifest, both by digest;
#                  an image without attestations under a `github:` rule:
#                  its absent .att tag is one HEAD, no GET
#   no digest on HEAD  through tests/tools/header_proxy.py (nodcd), a
#                  registry whose HEAD names no Docker-Content-Digest: the
#                  signed image still verifies (GET by tag, as before), its
#                  HEAD and GET of the .sig on one connection
#   lying HEAD     through header_proxy.py (liehead), the .sig tag's HEAD
#                  names digest A and the GET of A returns the tag's real
#                  bytes: refused ("hash to"), the image denied; the HEAD
#                  and the GET by digest on one connection
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_registry_requests" "docker-registry not installed"; exit 0; }
command -v python3 >/dev/null || { skip "t_registry_requests" "python3 not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
make_key good || { notok "keys"; exit 1; }
BKL_ID=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
BKL_ISS=https://token.actions.githubusercontent.com
keyless_setup && fulcio_cert rq "URI:$BKL_ID" "$BKL_ISS" || { notok "test Sigstore"; exit 1; }

# signed_image REPO TAG: an image with one key signature; prints its digest
# (the .sig manifest's digest: sigm DIGEST).
signed_image() {
	local d
	d=$(make_image "$1" "$2") || return 1
	sig_payload "$REG/$1" "$d" >"$T/pl.json" || return 1
	push_sig "$1" "$d" "$(sig_layer "$1" "$T/pl.json" "$T/good.key")" >"$T/sigm.${d#sha256:}" || return 1
	echo "$d"
}
sigm() { cat "$T/sigm.${1#sha256:}"; }

# header_proxy MODE: a front for $REG (tests/tools/header_proxy.py); sets
# HP (127.0.0.1:PORT) and HP_LOG
header_proxy() {
	local port
	port=$(free_port)
	HP_LOG="$T/hp-$1.log"
	: >"$HP_LOG"
	bg "hp-$1" python3 "$TOP/tests/tools/header_proxy.py" "$port" "${REG##*:}" \
		"$PKI/server.pem" "$PKI/server.key" "$PKI/ca.pem" "$1" "$HP_LOG"
	wait_tcp "$port" 10 || return 1
	HP="127.0.0.1:$port"
}
# conn_of LOG METHOD PATH: the connection number of that request in a proxy log
conn_of() { awk -v m="$2" -v p="$3" '$2 == m && $3 == p {print $1; exit}' "$1"; }
header_proxy nodcd && NODCD=$HP NODCD_LOG=$HP_LOG &&
	header_proxy liehead && LIE=$HP LIE_LOG=$HP_LOG ||
	{ notok "header proxies start" "$(cat "$T"/hp-*.err)"; exit 1; }
mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: requests}
spec:
  trust:
    keys:
      signer: {path: $T/good.pub}
    roots:
      test-sigstore: {path: $KL_ROOT}
  images:
    - name: apps
      match: ["$REG/app/**", "$NODCD/app/**", "$LIE/app/**"]
      verify: [{cosign: {key: signer}}]
      tlog: optional
    - name: bundles
      match: ["$REG/bundle/**"]
      verify:
        - cosign:
            keyless: {root: test-sigstore, issuer: $BKL_ISS, subject: $BKL_ID}
      tlog: required
    - name: attested
      match: ["$REG/att/**"]
      verify:
        - github: {root: test-sigstore, owner: acme, repo: acme/app}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
    - host: "$NODCD"
      caFile: $PKI/ca.pem
    - host: "$LIE"
      caFile: $PKI/ca.pem
EOF

DA=$(signed_image app/a v1) && DC=$(signed_image app/c v1) &&
	DU=$(make_image app/u1 v1) && DV=$(make_image app/u2 v1) && DW=$(make_image app/u3 v1) &&
	DX=$(make_image app/x v1) && DN=$(signed_image app/n v1) && DL=$(signed_image app/l v1) &&
	DB=$(make_image bundle/b v1) && DT=$(make_image att/u v1) || { notok "push images"; exit 1; }
sigstore_bundle_dsse rq "$DB" >"$T/b.json" && RB=$(push_bundle_referrer bundle/b "$DB" "$T/b.json") ||
	{ notok "push the bundle referrer"; exit 1; }
IB=$(reg_curl -sI -H "Accept: $MT_OCI_INDEX" "https://$REG/v2/bundle/b/manifests/sha256-${DB#sha256:}" |
	tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
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
expect_eq "the .sig tag probed with one HEAD" "$(ours HEAD "/v2/app/a/manifests/sha256-${DA#sha256:}\\.sig")" 1
expect_eq "no GET of the .sig tag" "$(ours GET "/v2/app/a/manifests/sha256-${DA#sha256:}\\.sig")" 0
expect_eq "the signature manifest: one GET, by the digest the HEAD named" "$(ours GET "/v2/app/a/manifests/$(sigm "$DA")")" 1
expect_eq "manifest GETs (pulls) of the verification: the signature manifest only" "$(ours GET '/v2/app/a/manifests/.*')" 1
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
expect_eq "no GET of their absent .sig tags" "$(ours GET '/v2/app/u[12]/manifests/sha256-[0-9a-f]{64}\.sig')" 0

# --- absent evidence: a bundle-only image ------------------------------------------
review "$REG/bundle/b:v1"
expect_eq "bundle-only image (keyless, tag-schema referrer): allowed" "$ALLOWED" true
expect_eq "  ... its absent .sig tag probed with one HEAD" "$(ours HEAD "/v2/bundle/b/manifests/sha256-${DB#sha256:}\\.sig")" 1
expect_eq "  ... and no GET of it" "$(ours GET "/v2/bundle/b/manifests/sha256-${DB#sha256:}\\.sig")" 0
expect_eq "  ... the tag-schema index: one HEAD, no GET by tag" \
	"$(ours HEAD "/v2/bundle/b/manifests/sha256-${DB#sha256:}")/$(ours GET "/v2/bundle/b/manifests/sha256-${DB#sha256:}")" 1/0
expect_eq "  ... manifest GETs: the index and the bundle manifest, by digest" \
	"$(ours GET '/v2/bundle/b/manifests/.*')/$(ours GET "/v2/bundle/b/manifests/$IB")/$(ours GET "/v2/bundle/b/manifests/$RB")" 2/1/1
echo "# cold bundle-only verification, provgate's requests by method:$(grep '"provgate"$' "$REG_LOG" |
	grep ' /v2/bundle/' | sed -n 's/.*"\([A-Z]*\) \/v2\/[^ ]* HTTP\/[0-9.]*".*/\1/p' | sort | uniq -c | awk '{printf " %s %s", $2, $1}')"

# --- absent evidence: an image without attestations --------------------------------
review "$REG/att/u:v1"
expect_eq "image without attestations under a github: rule: denied" "$ALLOWED" false
expect_match "  ... no attestations found" "$MSG" "no attestations found"
expect_eq "  ... its absent .att tag: one HEAD, no GET" \
	"$(ours HEAD "/v2/att/u/manifests/sha256-${DT#sha256:}\\.att")/$(ours GET "/v2/att/u/manifests/sha256-${DT#sha256:}\\.att")" 1/0
expect_eq "  ... no manifest GET at all (no pull spent on absent evidence)" "$(ours GET '/v2/att/u/manifests/.*')" 0

# --- a registry whose HEAD names no digest (nodcd proxy) ------------------------------
SIGTAG_N="/v2/app/n/manifests/sha256-${DN#sha256:}.sig"
review "$NODCD/app/n:v1"
expect_eq "HEAD without Docker-Content-Digest: signed image still allowed" "$ALLOWED" true
expect_eq "  ... the .sig: HEAD, then GET by tag (no digest to GET by)" \
	"$(grep -c " HEAD $SIGTAG_N 200$" "$NODCD_LOG")/$(grep -c " GET $SIGTAG_N 200$" "$NODCD_LOG")" 1/1
expect_eq "  ... both on one connection" "$(conn_of "$NODCD_LOG" HEAD "$SIGTAG_N")" "$(conn_of "$NODCD_LOG" GET "$SIGTAG_N")"

# --- the near miss: a HEAD naming other bytes (liehead proxy) -------------------------
SIGTAG_L="/v2/app/l/manifests/sha256-${DL#sha256:}.sig"
review "$LIE/app/l:v1"
expect_eq "HEAD of the .sig naming digest A, GET of A other bytes: denied" "$ALLOWED" false
expect_match "  ... the bytes refused for the digest the HEAD named" "$MSG" "by the digest its HEAD named.*hash to $(sigm "$DL")"
LIE_GET=$(awk '$2 == "GET" && $3 ~ /\/v2\/app\/l\/manifests\/sha256:/ && $3 !~ /'"${DL#sha256:}"'/ {print $3; exit}' "$LIE_LOG")
expect_eq "  ... the HEAD and the GET by digest on one connection" \
	"$(conn_of "$LIE_LOG" HEAD "$SIGTAG_L")" "$(conn_of "$LIE_LOG" GET "${LIE_GET:-none}")"
expect_eq "  ... no GET of the .sig tag" "$(grep -c " GET $SIGTAG_L " "$LIE_LOG")" 0

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
