#!/bin/bash
# Requests shared between concurrent verifications, read from the real
# docker-registry's access log and the token server's own log, with a
# registry 200 ms away (tests/tools/delay_proxy.py on loopback, bytes
# untouched) so that concurrent reviews really overlap:
#
#   tokens     four reviews of four distinct images of one repository, at
#              once, on four workers, against a registry with token auth:
#              one token request for the repository's scope, not one per
#              worker; the next review reuses it (no token request)
#   coalesced  four reviews at once of four tags naming one signed image
#              (distinct verdicts, the same evidence): the .sig tag is
#              probed with one HEAD, the signature manifest fetched once by
#              the digest that HEAD named (never by the tag), its payload
#              blob once
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_token.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_registry_economy" "docker-registry not installed"; exit 0; }
command -v nghttpd >/dev/null || { skip "t_registry_economy" "nghttpd not installed"; exit 0; }
command -v python3 >/dev/null || { skip "t_registry_economy" "python3 not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"
DELAY_MS=200
N=4

# Pushes go to a plain registry; the token registry serves the same storage.
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
PLAIN=$REG
make_key good || { notok "keys"; exit 1; }
signed_image() { # REPO TAG: prints the digest
	local d
	d=$(make_image "$1" "$2") || return 1
	sig_payload "$REG/$1" "$d" >"$T/pl.$2" || return 1
	push_sig "$1" "$d" "$(sig_layer "$1" "$T/pl.$2" "$T/good.key")" >"$T/sigm.$2" || return 1
	echo "$d"
}
for i in $(seq 1 $N); do
	signed_image tok/app "d$i" >/dev/null || { notok "push image d$i"; exit 1; }
done
DS=$(signed_image tok/app s1) || { notok "push image s1"; exit 1; }
for i in $(seq 2 $N); do
	push_manifest tok/app "s$i" "$T/last-manifest.json" "$MT_OCI_MANIFEST" >/dev/null ||
		{ notok "tag s$i"; exit 1; }
done
SIG_BLOB=$(sha256_of "$T/pl.s1")
SIG_MAN=$(cat "$T/sigm.s1")

token_signer || { notok "token signer"; exit 1; }
TOKEN_VERBOSE=1 token_server token "$(jq -cn --arg t "$(jwt_token tok/app pull)" '{token: $t, expires_in: 300}')" ||
	{ notok "token server starts" "$(cat "$T/token-server.err")"; exit 1; }
TOKEN_REG_ACCESSLOG=false registry_start_token "$PLAIN" token ||
	{ notok "token registry starts" "$(tail -3 "$T"/registry-token-*.err)"; exit 1; }
PROXY_PORT=$(free_port)
bg delay-proxy python3 "$TOP/tests/tools/delay_proxy.py" "$PROXY_PORT" "${REG##*:}" "$DELAY_MS"
wait_tcp "$PROXY_PORT" 10 || { notok "delay proxy starts" "$(cat "$T/delay-proxy.err")"; exit 1; }
FAR="127.0.0.1:$PROXY_PORT"
ok "token registry $REG, $DELAY_MS ms away as $FAR"

mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<EOP
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: economy}
spec:
  trust:
    keys:
      good: {path: $T/good.pub}
  images:
    - name: tok
      match: ["$FAR/tok/**"]
      verify: [{cosign: {key: good}}]
      tlog: optional
  registries:
    - host: "$FAR"
      caFile: $PKI/ca.pem
    - host: "127.0.0.1:$TOKEN_PORT"
      caFile: $PKI/ca.pem
EOP

# ours METHOD PATH_ERE [STATUS]: provgate's requests to the registry so far
# (answered with STATUS)
ours() { grep -E '"provgate"$' "$TOKREG_LOG" | grep -cE "\"$1 $2 HTTP/[0-9.]+\" ${3:-[0-9]+} "; }
# token requests for tok/app's pull scope so far
tokens() { grep -cE ':path: /token\?.*scope=repository%3Atok%2Fapp%3Apull' "$T/token-server.out"; }

# reviews TAG...: one review per tag, all at once; sets ALLOWED (one per line)
reviews() {
	local t pids=()
	for t in "$@"; do
		jq -cn --arg i "$FAR/tok/app:$t" '{apiVersion: "v1", kind: "Pod", metadata: {name: "p"},
			spec: {containers: [{name: "c", image: $i}]}}' >"$T/pod.$t.json"
		mkreview "$T/pod.$t.json" default CREATE >"$T/rv.$t.json"
	done
	for t in "$@"; do
		pgcurl --data-binary @"$T/rv.$t.json" -o "$T/resp.$t.json" "$PG_URL/validate" &
		pids+=($!)
	done
	wait "${pids[@]}"
	ALLOWED=$(for t in "$@"; do jq -r '.response.allowed' "$T/resp.$t.json" 2>/dev/null || echo none; done | sort | uniq -c | awk '{printf "%s%s×%s", (NR>1?" ":""), $2, $1}')
}

start_provgate "$T/pol" --workers $N || { notok "provgate starts" "$(tail -3 "$T/provgate.err")"; exit 1; }

# --- tokens: one per scope, shared by the workers -------------------------------------
reviews d1 d2 d3 d4
expect_eq "$N distinct images at once: all allowed" "$ALLOWED" "true×$N"
expect_eq "... their .sig tags: one HEAD each, no GET" \
	"$(ours HEAD '/v2/tok/app/manifests/sha256-[0-9a-f]{64}\.sig' 200)/$(ours GET '/v2/tok/app/manifests/sha256-[0-9a-f]{64}\.sig')" $N/0
expect_eq "... their signature manifests: one GET each, by digest" \
	"$(for i in $(seq 1 $N); do ours GET "/v2/tok/app/manifests/$(cat "$T/sigm.d$i")" 200; done | awk '{s += $1} END {print s}')" $N
expect_eq "... one token request for the repository's scope, not one per worker" "$(tokens)" 1
echo "# registry 401s for the $N reviews: $(grep -E '"provgate"$' "$TOKREG_LOG" | grep -cE '" 401 ')"
reviews s1
expect_eq "the next review: allowed" "$ALLOWED" "true×1"
expect_eq "... with the token already held: no token request" "$(tokens)" 1

kill "$PG_PID" 2>/dev/null
wait "$PG_PID" 2>/dev/null
mv "$T/provgate.err" "$T/provgate.1.err"
mv "$T/provgate.out" "$T/provgate.1.out"

# --- coalesced: one GET per evidence for concurrent verifications ----------------------
start_provgate "$T/pol" --workers $N || { notok "provgate restarts" "$(tail -3 "$T/provgate.err")"; exit 1; }
sig0=$(ours HEAD "/v2/tok/app/manifests/sha256-${DS#sha256:}\\.sig" 200)
man0=$(ours GET "/v2/tok/app/manifests/$SIG_MAN")
blob0=$(ours GET "/v2/tok/app/blobs/$SIG_BLOB")
reviews s1 s2 s3 s4
expect_eq "$N tags of one image at once: all allowed" "$ALLOWED" "true×$N"
expect_eq "... each tag resolved with its own HEAD" "$(ours HEAD '/v2/tok/app/manifests/s[1-4]' 200)" $((N + 1))
echo "# registry 401s for the $N reviews in the new process: $(ours HEAD '/v2/tok/app/manifests/s[1-4]' 401) HEAD, $(grep -E '"provgate"$' "$TOKREG_LOG" | grep -cE '" 401 ') in all"
expect_eq "... no GET of the image's manifest by a tag" "$(ours GET '/v2/tok/app/manifests/s[1-4]')" 0
expect_eq "... the .sig tag: one HEAD for all $N" \
	"$(($(ours HEAD "/v2/tok/app/manifests/sha256-${DS#sha256:}\\.sig" 200) - sig0))" 1
expect_eq "... the signature manifest: one GET for all $N, by digest" \
	"$(($(ours GET "/v2/tok/app/manifests/$SIG_MAN") - man0))" 1
expect_eq "... no GET of the .sig tag" "$(ours GET "/v2/tok/app/manifests/sha256-${DS#sha256:}\\.sig")" 0
expect_eq "... the signature payload blob: one GET for all $N" \
	"$(($(ours GET "/v2/tok/app/blobs/$SIG_BLOB") - blob0))" 1
expect_eq "... a new process: one more token request" "$(tokens)" 2
kill "$PG_PID" 2>/dev/null
wait "$PG_PID" 2>/dev/null

if grep -qE 'Sanitizer|runtime error|ThreadSanitizer' "$T"/provgate*.err; then
	notok "no sanitizer report" "$(grep -hE 'Sanitizer|runtime error' "$T"/provgate*.err | head -3)"
else
	ok "no sanitizer report"
fi
