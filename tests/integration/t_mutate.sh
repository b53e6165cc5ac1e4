#!/bin/bash
# Tags move (issue 10.11): every admitted tag is answered with a warning that
# names the verified digest, and the optional POST /mutate pins each verified
# tag of a Pod to tag@sha256:<verified digest> with a JSONPatch — through the
# real server (HTTP/2 and HTTP/1.1) against a real registry, and through
# `provgate review --mutate`.  Unverified images, images allowed unsigned,
# non-Pod kinds, exempt namespaces and UPDATEs are never patched.  Also the
# plain-HTTP metrics listener (--metrics-listen: /metrics, /healthz, /readyz) and the
# serving-certificate expiry metric.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_ops.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_mutate" "docker-registry not installed"; exit 0; }
export DOCKER_CONFIG="$T/nocfg"
mkdir -p "$DOCKER_CONFIG" "$T/pol"
ops_registry || { notok "registry with signed images" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
ops_policy enforce a | put "$T/pol/policy.yaml"
MPORT=$(free_port)
ops_serve s1 "$T/pol" --metrics-listen "127.0.0.1:$MPORT" || { notok "server starts" "$(cat "$T/s1.err")"; exit 1; }
wait_tcp "$MPORT" 10 || notok "metrics listener up" "$(cat "$T/s1.err")"
ok "server starts against a registry on $REG, metrics on :$MPORT"

S="$REG/app/signed:1"   # signed with key a: verified
O="$REG/app/other:1"    # signed with key b, not trusted: not verified
P="registry.k8s.io/pause:3.9" # allowUnsigned: admitted, not verified

# The Pod: the verified tag in a container, an init container and an image
# volume; an already pinned image, an unverified one, an unsigned-allowed one.
jq -n --arg s "$S" --arg o "$O" --arg p "$P" --arg pin "$REG/app/signed@$D_SIGNED" '
	{apiVersion: "v1", kind: "Pod", metadata: {name: "mix"},
	 spec: {initContainers: [{name: "init", image: $s}],
		containers: [{name: "a", image: $pin}, {name: "b", image: $s},
			     {name: "c", image: $o}, {name: "d", image: $p}],
		volumes: [{name: "cfg", configMap: {name: "x"}},
			  {name: "data", image: {reference: $s, pullPolicy: "IfNotPresent"}}]}}' >"$T/mix.json"
mkreview "$T/mix.json" default CREATE v1 mix >"$T/mix.review"

# patch_of RESP: the decoded JSONPatch (compact), or "none"
patch_of() {
	local p
	p=$(jq -r '.response.patch // empty' <<<"$1")
	if [ -z "$p" ]; then echo none; else base64 -d <<<"$p" | jq -c .; fi
}
# apply PATCH OBJFILE: the object with the patch applied (RFC 6901 pointers
# decoded here independently: ~1 is "/", ~0 is "~"; every target must exist
# and hold a string, as "replace" requires)
apply() {
	jq -c --argjson ops "$1" '
		reduce $ops[] as $o (.;
			($o.path | ltrimstr("/") | split("/")
			 | map(gsub("~1"; "/") | gsub("~0"; "~") | (tonumber? // .))) as $p
			| if $o.op == "replace" and (getpath($p) | type) == "string"
			  then setpath($p; $o.value) else error("bad op \($o)") end)' "$2"
}

want=$(jq -c -n --arg v "$S@$D_SIGNED" '[
	{op: "replace", path: "/spec/containers/1/image", value: $v},
	{op: "replace", path: "/spec/initContainers/0/image", value: $v},
	{op: "replace", path: "/spec/volumes/1/image/reference", value: $v}]')
for proto in http2 http1.1; do
	R=$(pgcurl --$proto -H 'Content-Type: application/json' --data-binary @"$T/mix.review" "$URL/mutate")
	expect_eq "mutate ($proto): allowed, uid echoed, patchType JSONPatch" \
		"$(jq -r '[.apiVersion, .kind, .response.uid, .response.allowed, .response.patchType] | join(" ")' <<<"$R")" \
		"admission.k8s.io/v1 AdmissionReview mix true JSONPatch"
	expect_eq "mutate ($proto): exactly the verified tags are pinned (containers, init, image volume)" \
		"$(patch_of "$R")" "$want"
done
got=$(apply "$(patch_of "$R")" "$T/mix.json" 2>&1)
expect_eq "mutate: the patch applies; only the verified tag changed" \
	"$(jq -c '[.spec.initContainers[].image, .spec.containers[].image, .spec.volumes[1].image.reference]' <<<"$got")" \
	"$(jq -c -n --arg v "$S@$D_SIGNED" --arg pin "$REG/app/signed@$D_SIGNED" --arg o "$O" --arg p "$P" \
		'[$v, $pin, $v, $o, $p, $v]')"
expect_eq "mutate: log line says how many images were pinned" \
	"$(logline mix | jq -r 'select(.msg == "mutate") | .pinned' | tail -1)" "3"

# The pinned Pod (what the API server hands /validate after /mutate) is
# denied for the untrusted image only; with it removed, allowed by digest.
apply "$(patch_of "$R")" "$T/mix.json" | jq '.spec.containers |= map(select(.name != "c"))' >"$T/pinned.json"
mkreview "$T/pinned.json" default CREATE v1 pinned >"$T/pinned.review"
V=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/pinned.review" "$URL/validate")
expect_eq "validate: the pinned Pod is allowed, with no tag warning left for the pinned images" \
	"$(jq -r '[.response.allowed, ((.response.warnings // []) | map(select(test("verified as"))) | length)] | join(" ")' <<<"$V")" "true 0"

# The unverified image alone: no patch, allowed by /mutate, denied by /validate.
jq -n --arg o "$O" '{apiVersion: "v1", kind: "Pod", metadata: {name: "bad"}, spec: {containers: [{name: "c", image: $o}]}}' >"$T/bad.json"
mkreview "$T/bad.json" default CREATE v1 bad >"$T/bad.review"
R=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/bad.review" "$URL/mutate")
expect_eq "mutate: an image that does not verify is not patched (allowed, no patch)" \
	"$(jq -r '[.response.allowed, (.response.patch // "none"), (.response.patchType // "none")] | join(" ")' <<<"$R")" "true none none"
V=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/bad.review" "$URL/validate")
expect_eq "validate: the same image is denied" "$(jq -r .response.allowed <<<"$V")" "false"

# Warnings: every admitted tag names its verified digest (enforce mode).
jq -n --arg s "$S" '{apiVersion: "v1", kind: "Pod", metadata: {name: "w"}, spec: {containers: [{name: "c", image: $s}]}}' >"$T/w.json"
mkreview "$T/w.json" default CREATE v1 w >"$T/w.review"
V=$(pgcurl --http1.1 -H 'Content-Type: application/json' --data-binary @"$T/w.review" "$URL/validate")
expect_eq "validate: admitted tag gets a warning with the verified digest" \
	"$(jq -r '[.response.allowed, (.response.warnings | length), (.response.warnings[0] | contains("'"$D_SIGNED"'"))] | join(" ")' <<<"$V")" "true 1 true"

# Not a Pod, exempt namespace, UPDATE: no patch (GitOps-owned objects must
# not drift; a running container's image is not rewritten).
jq -n --arg s "$S" '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "dep"},
	spec: {template: {spec: {containers: [{name: "c", image: $s}]}}}}' >"$T/dep.json"
mkreview "$T/dep.json" default CREATE v1 dep >"$T/dep.review"
mkreview "$T/w.json" kube-system CREATE v1 exempt >"$T/exempt.review"
mkreview "$T/w.json" default UPDATE v1 upd >"$T/upd.review"
for c in dep exempt upd; do
	R=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/$c.review" "$URL/mutate")
	expect_eq "mutate: $c is allowed and not patched" \
		"$(jq -r '[.response.uid, .response.allowed, (.response.patch // "none")] | join(" ")' <<<"$R")" "$c true none"
done

# From the cache: the second mutate of the same tag is answered without a
# new verification.
h0=$(metric 'provgate_cache_requests_total{result="hit"}')
v0=$(metric 'provgate_verification_duration_seconds_count{kind="image",result="verified"}')
R=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/w.review" "$URL/mutate")
h1=$(metric 'provgate_cache_requests_total{result="hit"}')
v1=$(metric 'provgate_verification_duration_seconds_count{kind="image",result="verified"}')
expect_eq "mutate: a verified tag is pinned from the cache (hit, no new verification)" \
	"$(patch_of "$R" | jq -r '.[0].value') $((h1 - h0)) $((v1 - v0))" "$S@$D_SIGNED 1 0"

# Bad input: GET is 405, a body that is not an AdmissionReview is 400.
expect_eq "mutate: GET is 405" "$(pgcurl -o /dev/null -w '%{http_code}' "$URL/mutate")" "405"
expect_eq "mutate: not an AdmissionReview is 400" \
	"$(pgcurl -o /dev/null -w '%{http_code}' --data-binary '{"kind":"Pod"}' "$URL/mutate")" "400"

# A patch past its 6 MiB bound (40000 containers of the verified image): the
# Pod is admitted unpatched with a warning, not answered 500.
jq -cn --arg s "$S" '{apiVersion: "v1", kind: "Pod", metadata: {name: "many"},
	spec: {containers: [range(40000) | {name: "c\(.)", image: $s}]}}' >"$T/many.json"
mkreview "$T/many.json" default CREATE v1 uid-many >"$T/many.review"
code=$(pgcurl -o "$T/many.out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$T/many.review" "$URL/mutate")
expect_eq "mutate: a patch past its bound: 200, allowed, no patch, a warning" \
	"$code $(jq -r '[.response.uid, .response.allowed, (.response.patch // "none"), (.response.warnings[0] | test("no image was pinned"))] | join(" ")' "$T/many.out" 2>/dev/null)" \
	"200 uid-many true none true"

# Offline: `provgate review --mutate` gives the same patch.
R=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" --mutate "$T/mix.review" 2>"$T/rv.err")
rc=$?
expect_eq "review --mutate: exit 0, the same patch as the server" "$rc $(patch_of "$R")" "0 $want"
R=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" --mutate "$T/bad.review" 2>"$T/rv.err")
expect_eq "review --mutate: no patch for an unverified image" "$(patch_of "$R")" "none"
R=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" "$T/w.review" 2>"$T/rv.err")
expect_match "review: the admitted tag's warning names the digest" "$(jq -r '.response.warnings[0]' <<<"$R")" \
	"tag $S verified as $D_SIGNED"

# ---------------------------------------------------- metrics listener
M="http://127.0.0.1:$MPORT"
m=$(curl -sS --max-time 10 "$M/metrics")
expect_match "metrics listener: plain HTTP GET /metrics" "$m" '^# HELP provgate_'
expect_match "metrics listener: mutations counted" "$m" 'provgate_mutations_total\{result="patched"\} [1-9]'
na=$(date -d "$(openssl x509 -in "$PKI/server.pem" -noout -enddate | cut -d= -f2)" +%s)
expect_eq "metrics: serving certificate notAfter" \
	"$(awk '$1 == "provgate_tls_certificate_not_after_timestamp_seconds" {print $2}' <<<"$m")" "$na"
expect_eq "metrics listener: no admission endpoint in plain HTTP (/validate 404)" \
	"$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --data-binary @"$T/w.review" "$M/validate")" "404"
expect_eq "metrics listener: POST /metrics is 405" \
	"$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --data-binary x "$M/metrics")" "405"
# The kubelet's probes bring no client certificate: with --client-ca they
# go to the plain listener, which answers health as the TLS one does.
expect_eq "metrics listener: /healthz for the kubelet's probes (200)" \
	"$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$M/healthz")" "200"
expect_match "metrics listener: /readyz says ready" "$(curl -sS --max-time 10 "$M/readyz")" "^ready"
expect_eq "metrics listener: /mutate is not served there (404)" \
	"$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --data-binary @"$T/w.review" "$M/mutate")" "404"
expect_eq "TLS listener still serves /metrics" "$(pgcurl -o /dev/null -w '%{http_code}' "$URL/metrics")" "200"
"$PG" serve --policy "$T/pol" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
	--listen 127.0.0.1:18443 --metrics-listen 0.0.0.0:18443 >/dev/null 2>"$T/same.err"
rc=$?
expect_eq "serve: --metrics-listen on the --listen port is refused (exit 2)" "$rc" "2"

ops_stop s1
