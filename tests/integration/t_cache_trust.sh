#!/bin/bash
# Every byte of trust material a verdict depended on is in its cache key
# (issue 17.2).  The default trusted root — the policy's only trust.roots
# entry, used by key verifiers for `tlog: required` and by keyless
# verifiers without `root:` — is replaced under a running `provgate serve`
# (as an operator withdraws a compromised key): first without the Rekor
# key, then with the Rekor key back but without the Fulcio CA.  After each
# reload the next review of an image whose allow is cached is verified
# afresh (no `cached` in the log line) and decided by the new root.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_cache_trust" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
keyless_setup || { notok "test Sigstore (CA, Rekor, CT log)"; exit 1; }
make_key good || { notok "keys"; exit 1; }
ID=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
fulcio_cert alice "URI:$ID" "$ISS" || { notok "Fulcio-like leaf"; exit 1; }

# The root the server reads: a copy, replaced by rename (a new inode).
ROOT="$T/trust/trusted_root.json"
mkdir -p "$T/trust"
cp "$KL_ROOT" "$ROOT"
put_root() { jq "$1" "$KL_ROOT" >"$ROOT.tmp" && mv "$ROOT.tmp" "$ROOT"; }

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: trust-cache}
spec:
  mode: enforce
  trust:
    keys:
      good: {path: $T/good.pub}
    roots:
      default: {path: $ROOT}
  images:
    - name: key-tlog
      match: ["$REG/key/**"]
      verify: [{cosign: {key: good}}]
    - name: keyless-default-root
      match: ["$REG/kl/**"]
      verify: [{cosign: {keyless: {issuer: "$ISS", subject: "$ID"}}}]
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF

D_KEY=$(make_image key/app v1) && sig_payload "$REG/key/app" "$D_KEY" >"$T/pl.key" &&
	L=$(key_sig_layer_tlog key/app "$T/pl.key" good) && push_sig key/app "$D_KEY" "$L" >/dev/null
D_KL=$(make_image kl/app v1) && sig_payload "$REG/kl/app" "$D_KL" >"$T/pl.kl" &&
	L=$(keyless_sig_layer kl/app "$T/pl.kl" alice) && push_sig kl/app "$D_KL" "$L" >/dev/null
[[ $D_KEY == sha256:* && $D_KL == sha256:* ]] || { notok "push images and signatures"; exit 1; }
ok "push images and signatures (key + Rekor SET, keyless)"

N=0
# review IMAGE: POST a Pod review; sets OUT (response) and LOG (log line)
review() {
	N=$((N + 1))
	jq -cn --arg i "$1" '{apiVersion: "v1", kind: "Pod", metadata: {name: "p"},
		spec: {containers: [{name: "c", image: $i}]}}' >"$T/pod.$N.json"
	mkreview "$T/pod.$N.json" default CREATE v1 "uid-$N" >"$T/rv.$N.json"
	OUT=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$N.json" "$PG_URL/validate")
	LOG=$(grep -F "\"uid-$N\"" "$T/provgate.out" | tail -n 1)
}
allowed() { jq -r .response.allowed <<<"$OUT"; }
cached() { jq -r '.references[0].cached // false' <<<"$LOG"; }
# expect NAME ALLOWED CACHED [ERE on the message]
expect() {
	local msg
	msg=$(jq -r '.response.status.message // ""' <<<"$OUT")
	if [ "$(allowed)" != "$2" ] || [ "$(cached)" != "$3" ]; then
		notok "$1" "allowed=$(allowed) cached=$(cached), want $2/$3: ${msg:0:300}"
	elif [ -n "${4:-}" ] && ! [[ $msg =~ $4 ]]; then
		notok "$1" "message [$msg] does not match /$4/"
	else
		ok "$1"
	fi
}
reloads() { grep -c '"msg":"policy reloaded"' "$T/provgate.err"; }
# wait_reload BEFORE: until a reload after BEFORE was logged (3 s)
wait_reload() {
	local i
	for i in $(seq 1 30); do
		[ "$(reloads)" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

start_provgate "$POL" --workers 2 --reload-ms 200 || { notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"; exit 1; }
ok "provgate serve starts"

review "$REG/key/app:v1"; expect "key + tlog: allowed" true false
review "$REG/key/app:v1"; expect "key + tlog: second review from the cache" true true
review "$REG/kl/app:v1"; expect "keyless, default root: allowed" true false
review "$REG/kl/app:v1"; expect "keyless, default root: second review from the cache" true true

# 1. The Rekor key withdrawn from the default root.
sleep 1.1 # the file's mtime must be able to differ
R=$(reloads)
# The operator rotates to another log key (a root with no log at all no
# longer loads while rules say tlog: required, and the last good policy
# would stay in force).
put_root ".tlogs = [$(_kl_log_json "$KL/rogue.key" https://rekor-next.test.invalid)]"
wait_reload "$R" && ok "root with another Rekor key: policy reloaded" ||
	notok "root with another Rekor key: policy reloaded" "$(tail -3 "$T/provgate.err")"
review "$REG/key/app:v1"
expect "Rekor key withdrawn: cached key image verified afresh and denied" false false \
	"Rekor bundle is from a log not in the trusted root"
review "$REG/kl/app:v1"
expect "Rekor key withdrawn: cached keyless image verified afresh and denied" false false \
	"Rekor bundle is from a log not in the trusted root"

# 2. The Rekor key back, the Fulcio CA withdrawn.
sleep 1.1
R=$(reloads)
# ... and then to another CA (a keyless rule needs a root with one).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/O=provgate-test/CN=next-fulcio-root" -keyout "$T/nextca.key" -out "$T/nextca.pem" \
	-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
put_root ".certificateAuthorities[0].certChain.certificates = [{rawBytes: \"$(openssl x509 -in "$T/nextca.pem" -outform DER | base64 -w0)\"}]"
wait_reload "$R" && ok "root with another Fulcio CA: policy reloaded" ||
	notok "root with another Fulcio CA: policy reloaded" "$(tail -3 "$T/provgate.err")"
review "$REG/key/app:v1"
expect "Fulcio CA withdrawn: key image (Rekor key back) verified afresh and allowed" true false
review "$REG/kl/app:v1"
expect "Fulcio CA withdrawn: keyless image verified afresh and denied" false false \
	"kl/app:v1 deny: .*(certificate authorit|chain)"

# 3. The original root again: the same trust bytes, the same cache key, so
# the allow made under exactly these bytes may be served again.
sleep 1.1
R=$(reloads)
cp "$KL_ROOT" "$ROOT.tmp" && mv "$ROOT.tmp" "$ROOT"
wait_reload "$R" || notok "original root: policy reloaded" "$(tail -3 "$T/provgate.err")"
review "$REG/kl/app:v1"; expect "original root back: keyless image allowed (verdict made under these bytes)" true true
