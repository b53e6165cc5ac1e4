#!/bin/bash
# The verdict cache, end to end: `provgate serve` against a real
# docker-registry over TLS, with key-signed images made here.  What the
# registry really served is read from its access log (one Combined Log
# Format line per request), so "answered from the cache" means "no new GET
# of the signature manifest", not just a counter.
#
#   hit            second review of a verified image: cache hit, no fetch
#   pre-verify     a Deployment's verdicts answer the Pod its controller makes
#   policy change  new key bytes -> new rule fingerprint -> verified again
#   TTLs           positive, negative, tag (each 4 s here) expire and re-check
#   not cached     unreachable registry and timeouts are re-tried next review
#   byte bound     a tiny --cache-bytes evicts the least recently used
#   coalescing     N concurrent reviews of one uncached image: one fetch; and
#                  with the registry frozen (SIGSTOP) every review is still
#                  answered "timed out" by its deadline
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_registry.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_cache" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
make_key good && make_key other && make_key third || { notok "keys"; exit 1; }

# signed_image REPO TAG KEY...: push an image, sign it with each KEY (one
# layer each, as `cosign sign` run once per key would); prints the digest.
signed_image() {
	local repo=$1 tag=$2 d k layers=() i=0
	shift 2
	d=$(make_image "$repo" "$tag") || return 1
	for k in "$@"; do
		sig_payload "$REG/$repo" "$d" | sed "s/\"optional\":null/\"optional\":{\"n\":\"$i\"}/" >"$T/pl.$i"
		layers+=("$(sig_layer "$repo" "$T/pl.$i" "$T/$k.key")") || return 1
		i=$((i + 1))
	done
	[ $# -eq 0 ] || push_sig "$repo" "$d" "${layers[@]}" >/dev/null || return 1
	echo "$d"
}

# policy DIR KEYNAME: one rule for $REG/app/**, cosign key KEYNAME.
policy() {
	mkdir -p "$1"
	# written beside the directory, renamed in: the watcher never sees half
	cat >"$T/policy.yaml.tmp" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: cache-test}
spec:
  trust:
    keys:
      signer: {path: $T/$2.pub}
  images:
    - name: apps
      match: ["$REG/app/**"]
      verify: [{cosign: {key: signer}}]
      tlog: optional
  charts:
    - name: charts
      match: ["oci://$REG/charts/**"]
      verify: [{cosign: {key: signer}}]
      tlog: optional
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
	mv "$T/policy.yaml.tmp" "$1/policy.yaml"
}

# serve POLICY_KEY ARGS...: (re)start provgate with a fresh cache.
serve() {
	local key=$1
	shift
	if [ -n "${PG_PID:-}" ]; then
		kill "$PG_PID" 2>/dev/null
		wait "$PG_PID" 2>/dev/null
		# keep each server's output (sanitizer reports come at exit)
		mv "$T/provgate.err" "$T/provgate.$SRV.err"
		mv "$T/provgate.out" "$T/provgate.$SRV.out"
	fi
	SRV=$((${SRV:-0} + 1))
	policy "$T/pol$SRV" "$key"
	start_provgate "$T/pol$SRV" "$@" || { notok "provgate starts ($*)" "$(tail -3 "$T/provgate.err")"; exit 1; }
}

# object files: a Pod, and a Deployment whose template is that Pod's spec
pod_obj() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d4b9c-x2x"},"spec":{"containers":[{"name":"web","image":"%s"}]}}' "$1"
}
app_obj() { # an Argo CD Application of the OCI chart $REG/charts/web at version $1
	printf '{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":"web"},"spec":{"project":"default","source":{"repoURL":"oci://%s/charts","chart":"web","targetRevision":"%s"}}}' "$REG" "$1"
}
deploy_obj() {
	printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"%s"}]}}}}' "$1"
}

# review IMAGE [deploy]: one review; sets ALLOWED, MSG, LAST (its log line).
review() {
	local kind=${2:-pod} resp n
	"${kind}_obj" "$1" >"$T/obj.json"
	mkreview "$T/obj.json" default CREATE >"$T/review.json"
	n=$(wc -l <"$T/provgate.out")
	resp=$(pgcurl --data-binary @"$T/review.json" "$PG_URL/validate")
	# one jq for both fields
	resp=$(jq -r '[(.response.allowed|tostring),
		(.response.status.message // .response.auditAnnotations["ref-0"] // "")] | join("\u001f")' \
		<<<"$resp" 2>/dev/null)
	split_fields "$resp" ALLOWED MSG
	LAST=$(tail -n +"$((n + 1))" "$T/provgate.out" | tail -1)
}
cached() { jq -r '.references[0].cached' <<<"$LAST"; }
# sigs DIGEST: lookups of the legacy signature of DIGEST so far (each
# verification probes the .sig tag with one HEAD, then GETs the manifest by
# the digest the HEAD named)
sigs() { reg_heads "/v2/app/[a-z0-9/]+/manifests/sha256-${1#sha256:}\\.sig"; }
metric() { pgcurl "$PG_URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
hits() { metric 'provgate_cache_requests_total{result="hit"}'; }

DA=$(signed_image app/a v1 good other) &&
	DB=$(signed_image app/b v1 good) &&
	DN=$(signed_image app/neg v1 other) &&
	DT=$(signed_image app/t v1 good) &&
	DK=$(signed_image app/k v1 good) &&
	DW=$(signed_image app/w v1 good) || { notok "push signed images"; exit 1; }
# oci_chart TAG SEED: a chart manifest as helm push stores it; its digest
oci_chart() {
	local d="$T/chart.$2"
	mkdir -p "$d/web"
	printf 'apiVersion: v2\nname: web\nversion: 1.2.3\ndescription: %s\n' "$2" >"$d/web/Chart.yaml"
	tar -C "$d" -czf "$d/c.tgz" web && printf '{"name":"web","version":"1.2.3","apiVersion":"v2"}' >"$d/config.json" &&
		push_blobs charts/web "$d/config.json" "$d/c.tgz" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" application/vnd.cncf.helm.config.v1+json)" \
		"$(desc_of "$d/c.tgz" application/vnd.cncf.helm.chart.content.v1.tar+gzip)" >"$d/m.json"
	push_manifest charts/web "$1" "$d/m.json" "$MT_OCI_MANIFEST"
}
DC=$(oci_chart 1.2.3 signed) && sig_payload "$REG/charts/web" "$DC" >"$T/pchart" &&
	L=$(sig_layer charts/web "$T/pchart" "$T/good.key") && push_sig charts/web "$DC" "$L" >/dev/null ||
	{ notok "push a signed OCI chart"; exit 1; }
ok "registry $REG with signed images"

# --- hit ----------------------------------------------------------------------
serve good --reload-ms 100
review "$REG/app/a:v1"
expect_eq "first review verifies" "$ALLOWED/$(cached)" "true/false"
expect_eq "first review fetched the signature once" "$(sigs "$DA")" 1
h0=$(hits)
review "$REG/app/a:v1"
expect_eq "second review allowed from the cache" "$ALLOWED/$(cached)" "true/true"
expect_eq "cache hit counter moved" "$(hits)" "$((h0 + 1))"
expect_eq "no new signature fetch for the cached review" "$(sigs "$DA")" 1
expect_match "cached answer still names the verified digest" "$MSG" "digest=$DA"

# --- pre-verification: Deployment first, then its Pod ------------------------
review "$REG/app/b:v1" deploy
expect_eq "Deployment verified" "$ALLOWED/$(cached)" "true/false"
expect_eq "Deployment fetched the signature" "$(sigs "$DB")" 1
h0=$(hits)
review "$REG/app/b:v1" pod
expect_eq "the controller's Pod is answered from the Deployment's verdict" "$ALLOWED/$(cached)" "true/true"
expect_eq "Pod: cache hit" "$(hits)" "$((h0 + 1))"
expect_eq "Pod: no new signature fetch" "$(sigs "$DB")" 1

# --- policy change: new key bytes re-verify --------------------------------------
loads=$(metric 'provgate_policy_loads_total{result="ok"}')
policy "$T/pol$SRV" other
for _ in $(seq 1 100); do
	[ "$(metric 'provgate_policy_loads_total{result="ok"}')" != "$loads" ] && break
	sleep 0.05
done
check "policy with the other key reloaded" test "$(metric 'provgate_policy_loads_total{result="ok"}')" != "$loads"
review "$REG/app/a:v1"
expect_eq "after a key change the image is verified again" "$ALLOWED/$(cached)" "true/false"
expect_eq "key change: a new signature fetch" "$(sigs "$DA")" 2
review "$REG/app/b:v1"
expect_eq "key change: the old key's allow is not served" "$ALLOWED/$(cached)" "false/false"
expect_match "key change: b is denied under the new key" "$MSG" "verif"

# --- positive and negative TTLs (the tag TTL stays at its 30 s default: a
#     tag's verdict may not outlive the positive or negative TTL) ------------
# the good signature app/neg gets later, its payload blob pushed now
LG=$(sig_payload "$REG/app/neg" "$DN" >"$T/pfix" && sig_layer app/neg "$T/pfix" "$T/good.key")
# 4 s: the eight reviews before the sleep must all fall inside the TTL,
# also on a loaded 2-core machine under a sanitizer (1 s was not enough).
serve good --cache-ttl-ms 4000 --cache-negative-ttl-ms 4000
review "$REG/app/a@$DA"
n0=$(sigs "$DA")
review "$REG/app/a@$DA"
expect_eq "TTL: digest reference cached" "$ALLOWED/$(cached)/$(sigs "$DA")" "true/true/$n0"
review "$REG/app/a:v1"
review "$REG/app/a:v1"
expect_eq "TTL: tag reference cached" "$ALLOWED/$(cached)" "true/true"
n1=$(sigs "$DA")
review "$REG/app/neg:v1"
expect_eq "bad signature denied" "$ALLOWED/$(cached)" "false/false"
expect_match "bad signature: reason" "$MSG" "app/neg.*(no signature|verif)"
nn=$(sigs "$DN")
review "$REG/app/neg:v1"
expect_eq "bad signature: denial answered from the negative cache" "$ALLOWED/$(cached)/$(sigs "$DN")" "false/true/$nn"
# Fix the signature while the denial is cached: seen only after the TTL.
push_sig app/neg "$DN" "$LG" >/dev/null
review "$REG/app/neg:v1"
expect_eq "fixed signature: still denied within the negative TTL" "$ALLOWED/$(cached)" "false/true"
sleep 4.2
review "$REG/app/a@$DA"
expect_eq "positive TTL expired: digest verified again" "$ALLOWED/$(cached)" "true/false"
review "$REG/app/a:v1"
expect_eq "positive TTL expired: tag verified again" "$ALLOWED/$(cached)" "true/false"
expect_eq "expired verdicts fetched the signature again" "$(sigs "$DA")" "$((n1 + 2))"
review "$REG/app/neg:v1"
expect_eq "negative TTL expired: re-checked, now allowed" "$ALLOWED/$(cached)" "true/false"
expect_eq "negative TTL expired: a new signature fetch" "$(sigs "$DN")" "$((nn + 1))"

# --- tag TTL: a tag expires, the same image by digest stays --------------------
#     An OCI chart named by tag is a tag too: re-pushed unsigned, it is
#     denied once the tag TTL is over, not after the positive TTL.
serve good --cache-tag-ttl-ms 4000
review 1.2.3 app
review 1.2.3 app
expect_eq "tag TTL: OCI chart by tag verified, then cached" "$ALLOWED/$(cached)" "true/true"
oci_chart 1.2.3 unsigned >/dev/null || notok "re-push the chart tag unsigned"
review "$REG/app/a:v1"
review "$REG/app/a@$DA"
n0=$(sigs "$DA")
sleep 4.2
review 1.2.3 app
expect_eq "tag TTL: the re-pushed unsigned chart tag is verified again and denied" "$ALLOWED/$(cached)" "false/false"
expect_match "tag TTL: the chart's deny names the new digest" "$MSG" "no signatures found for $REG/charts/web@sha256:"
review "$REG/app/a@$DA"
expect_eq "tag TTL: the digest reference is still cached" "$ALLOWED/$(cached)" "true/true"
review "$REG/app/a:v1"
expect_eq "tag TTL: the tag reference is resolved and verified again" "$ALLOWED/$(cached)" "true/false"
expect_eq "tag TTL: one new signature fetch" "$(sigs "$DA")" "$((n0 + 1))"

# --- not cached: unreachable registry, then back --------------------------------
serve good --timeout-ms 3000
kill "$REG_PID"
wait "$REG_PID" 2>/dev/null
review "$REG/app/t:v1"
expect_eq "registry down: denied" "$ALLOWED" false
expect_match "registry down: reason says it cannot be reached" "$MSG" "cannot reach|unreachable|refused|timed out"
registry_restart || { notok "registry restarts"; exit 1; }
review "$REG/app/t:v1"
expect_eq "registry back: verified (the failure was not cached)" "$ALLOWED/$(cached)" "true/false"
expect_eq "registry back: the signature was fetched" "$(sigs "$DT")" 1

# --- eviction under the byte bound -----------------------------------------------
# e1..e20: twenty tags of one signed manifest, twenty cache keys.
DE=$(signed_image app/e e0 good) || notok "push app/e"
for i in $(seq 1 20); do
	push_manifest app/e "e$i" "$T/last-manifest.json" "$MT_OCI_MANIFEST" >/dev/null
done
serve good --cache-bytes 2048
for i in $(seq 1 20); do review "$REG/app/e:e$i"; done
expect_eq "byte bound: 20 distinct tags verified, 20 fetches" "$(sigs "$DE")" 20
check "byte bound: evictions counted" test "$(metric provgate_cache_evictions_total)" -gt 0
check "byte bound: accounted bytes within --cache-bytes" test "$(metric provgate_cache_bytes)" -le 2048
review "$REG/app/e:e20"
expect_eq "byte bound: the most recent entry is still cached" "$(cached)/$(sigs "$DE")" "true/20"
review "$REG/app/e:e1"
expect_eq "byte bound: the earliest entry was evicted and re-verified" "$ALLOWED/$(cached)/$(sigs "$DE")" "true/false/21"

# --- coalescing: N concurrent reviews of one uncached image, one fetch ------------
N=200
serve good --workers 4 --timeout-ms 8000
pod_obj "$REG/app/k:v1" >"$T/obj.json"
mkreview "$T/obj.json" default CREATE >"$T/k.json"
h2load -n $N -c 20 -m 10 -d "$T/k.json" -H 'content-type: application/json' "$PG_URL/validate" >"$T/h2load.out" 2>&1
expect_match "coalescing: h2load answered all $N" "$(cat "$T/h2load.out")" "$N succeeded, 0 failed"
expect_eq "coalescing: $N reviews allowed" "$(grep -c "\"ref\":\"$REG/app/k:v1\".*\"decision\":\"allow\"" "$T/provgate.out")" "$N"
expect_eq "coalescing: exactly one signature fetch for $N concurrent reviews" "$(sigs "$DK")" 1
expect_eq "coalescing: one tag resolution (a HEAD, no GET)" \
	"$(reg_heads "/v2/app/k/manifests/v1")/$(reg_gets "/v2/app/k/manifests/v1")" 1/0
check "coalescing: waiters counted" test "$(metric provgate_cache_coalesced_total)" -gt 0

# --- a frozen registry: waiters keep their own deadline --------------------------
TMO=1500
serve good --workers 4 --timeout-ms $TMO
pod_obj "$REG/app/w:v1" >"$T/obj.json"
mkreview "$T/obj.json" default CREATE >"$T/w.json"
review "$REG/app/a:v1" # warm the workers' connection to the registry
kill -STOP "$REG_PID"
for i in $(seq 1 8); do
	curl -sS --cacert "$PKI/ca.pem" --max-time 10 -o "$T/w.$i.out" -w '%{time_total}\n' \
		--data-binary @"$T/w.json" "$PG_URL/validate" >"$T/w.$i.time" 2>&1 &
	WP[$i]=$!
done
for i in $(seq 1 8); do wait "${WP[$i]}"; done
kill -CONT "$REG_PID"
slow=0 notimeout=0
for i in $(seq 1 8); do
	t=$(cat "$T/w.$i.time")
	awk -v t="$t" -v d=$TMO 'BEGIN {exit !(t * 1000 <= d + 700)}' || slow=$((slow + 1))
	if ! jq -e '.response.allowed == false and (.response.status.message | test("timed out|did not answer in time"))' \
		"$T/w.$i.out" >/dev/null 2>&1; then
		notimeout=$((notimeout + 1))
		# diagnostics for a rare failure seen once in a clean-clone run
		echo "# frozen review $i: time $(cat "$T/w.$i.time" 2>/dev/null | tr '\n' ' ') answer: $(head -c 400 "$T/w.$i.out" 2>/dev/null)"
	fi
done
expect_eq "frozen registry: all 8 answered within --timeout-ms (+0.7 s)" "$slow" 0
expect_eq "frozen registry: all 8 denied as timed out" "$notimeout" 0
review "$REG/app/w:v1"
[ -n "$ALLOWED" ] || echo "# thawed review: no answer; server alive: $(kill -0 "$PG_PID" 2>/dev/null && echo yes || echo no); stderr: $(tail -c 400 "$T/provgate.err")"
expect_eq "registry thawed: the timeout was not cached, image verified" "$ALLOWED/$(cached)" "true/false"

kill "$PG_PID" 2>/dev/null
wait "$PG_PID" 2>/dev/null
if grep -qE 'Sanitizer|runtime error' "$T"/provgate*.err; then
	notok "no sanitizer report" "$(grep -hE 'Sanitizer|runtime error' "$T"/provgate*.err | head -3)"
else
	ok "no sanitizer report from any server"
fi
