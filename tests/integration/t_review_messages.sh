#!/bin/bash
# Deny messages a person can act on (issue 15 item 4), through `provgate
# review` against a real docker-registry and a real chart repository: each
# denied reference names its field path, the rule and the trust entry, says
# what to do, is told once however often the object repeats it, and the
# message ends with where the policy lives.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_review.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_review_messages" "docker-registry not installed"; exit 0; }
for tool in gpg gpg-connect-agent nghttpd jq tar; do
	command -v $tool >/dev/null || { skip "t_review_messages" "$tool not installed"; exit 0; }
done
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg" HOME="$T/home" GNUPGHOME="$T/gnupg" TMPDIR="$T/tmp"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$TMPDIR"

registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
keyless_setup || { notok "test Sigstore (CA, Rekor, CT log)"; exit 1; }
make_key good && make_key other || { notok "keys"; exit 1; }
ISS=https://token.actions.githubusercontent.com
ID=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main

# A chart repository with a chart that has no .prov.
gpg --batch --passphrase '' --quick-gen-key "Chart Signer <charts@provgate.test>" ed25519 sign never 2>/dev/null
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export charts@provgate.test >"$T/charts.gpg" 2>/dev/null
R="$T/repo/charts"; mkdir -p "$R" "$T/src/plain/templates"
printf 'apiVersion: v2\nname: plain\nversion: 1.0.0\n' >"$T/src/plain/Chart.yaml"
printf 'kind: ConfigMap\n' >"$T/src/plain/templates/cm.yaml"
tar -C "$T/src" -czf "$R/plain-1.0.0.tgz" plain
printf 'apiVersion: v1\nentries:\n  plain:\n  - name: plain\n    version: 1.0.0\n    apiVersion: v2\n    urls:\n    - plain-1.0.0.tgz\n' >"$R/index.yaml"
PORT=$(free_port)
bg nghttpd nghttpd -d "$T/repo" "$PORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$PORT" 10 || { notok "chart repository starts" "$(cat "$T/nghttpd.err")"; exit 1; }
REPO="https://127.0.0.1:$PORT/charts"

# Images: unsigned; key-signed (with a Rekor SET) under key and keyless rules.
D_UNSIGNED=$(make_image key/unsigned v1)
keysigned() { # REPO KEY
	local d
	d=$(make_image "$1" v1) || return 1
	sig_payload "$REG/$1" "$d" >"$T/pl.${1//\//_}"
	push_sig "$1" "$d" "$(key_sig_layer_tlog "$1" "$T/pl.${1//\//_}" "$2")" >/dev/null || return 1
	echo "$d"
}
D_KL=$(keysigned kl/keysigned good) && D_WRONG=$(keysigned key/wrongkey other) ||
	{ notok "images pushed"; exit 1; }
[ -n "$D_UNSIGNED" ] || { notok "images pushed"; exit 1; }

POL="$T/pol"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: messages}
spec:
  mode: enforce
  trust:
    keys:
      release-key: {path: $T/good.pub}
    keyrings:
      charts: {path: $T/charts.gpg}
    roots:
      test-sigstore: {path: $KL_ROOT}
  images:
    - name: pause
      match: ["registry.k8s.io/pause:*"]
      allowUnsigned: true
    - name: signed-by-key
      match: ["$REG/key/**"]
      verify:
        - cosign: {key: release-key}
    - name: gha
      match: ["$REG/kl/**"]
      verify:
        - cosign:
            keyless: {root: test-sigstore, issuer: $ISS, subject: $ID}
  charts:
    - name: team
      match: ["$REPO/**"]
      verify:
        - prov: {keyring: charts}
EOF
out=$("$PG" policy check "$POL" 2>&1) || { notok "policy loads" "$out"; exit 1; }

pod() { # IMAGE... -> $T/obj.json, one container per image
	jq -n '{apiVersion: "v1", kind: "Pod", metadata: {name: "web"},
		spec: {containers: [$ARGS.positional | to_entries[] | {name: "c\(.key)", image: .value}]}}' \
		--args "$@" >"$T/obj.json"
}
# msg NAME [review args...]: the status.message of a CREATE review of $T/obj.json
msg() {
	local name=$1 out
	shift
	mkreview "$T/obj.json" default CREATE v1 "uid-$name" >"$T/in.json"
	out=$("$PG" review --policy "$POL" --timeout 8s "$@" "$T/in.json" 2>"$T/log.$name")
	jq -r '.response.status.message // ""' <<<"$out"
}
has() { # NAME TEXT FIXED-STRING...
	local name=$1 text=$2 s
	shift 2
	for s in "$@"; do
		case $text in *"$s"*) ;; *) notok "$name" "no [$s] in [$text]"; return 1 ;; esac
	done
	ok "$name"
}

# Field path of an init container; no rule: add one; where the policy lives.
jq -n '{apiVersion: "v1", kind: "Pod", metadata: {name: "web"},
	spec: {containers: [{name: "p", image: "registry.k8s.io/pause:3.9"}],
	       initContainers: [{name: "init", image: "docker.io/evil/init:1"}]}}' >"$T/obj.json"
m=$(msg norule --ca-file "$PKI/ca.pem")
has "no rule: field path, what to do, policy directory" "$m" \
	'docker.io/evil/init:1 deny: no policy rule matches docker.io/evil/init:1 [at spec.initContainers[0].image (container init)]' \
	'add a spec.images rule whose match covers it' "(policy: directory $POL)"
m=$(PROVGATE_POLICY_SOURCE="ConfigMap provgate/provgate-policy" msg cmsource --ca-file "$PKI/ca.pem")
case $m in *"(policy: ConfigMap provgate/provgate-policy)") ok "the message ends with the policy's ConfigMap" ;;
*) notok "the message ends with the policy's ConfigMap" "$m" ;; esac

# Unsigned image, written three times in a Deployment: once in the message,
# naming the first two paths and counting the rest; rule and trust entry.
jq -n --arg i "$REG/key/unsigned:v1" '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "web"},
	spec: {template: {spec: {containers: [{name: "pause", image: "registry.k8s.io/pause:3.9"},
		{name: "app", image: $i}, {name: "sidecar", image: $i}],
		initContainers: [{name: "init", image: $i}]}}}}' >"$T/obj.json"
m=$(msg unsigned --ca-file "$PKI/ca.pem")
has "unsigned image: paths, rule, trust entry, cosign sign" "$m" \
	"$REG/key/unsigned:v1 deny: no signatures found" \
	'[at spec.template.spec.initContainers[0].image (container init) and spec.template.spec.containers[1].image (container app) and 1 more place; rule signed-by-key; trust cosign key release-key]' \
	'unsigned: sign it with `cosign sign --key` (the private key of cosign key release-key) or `notation sign`'
n=$(grep -o "$REG/key/unsigned:v1 deny" <<<"$m" | wc -l)
expect_eq "a reference written three times is told once" "$n" 1
# the log line and the annotations keep their shape: one entry per reference
if jq -e '(.references | length) == 2 and (.references[] | has("where") and has("rule") and has("reason"))
	and ([.references[] | select(.path == "spec.template.spec.initContainers[0].image (container init)" and .places == 3)] | length) == 1' \
	"$T/log.unsigned" >/dev/null; then
	ok "admission log line: one entry per reference, fields kept, path and places added"
else
	notok "admission log line: one entry per reference, fields kept, path and places added" "$(cat "$T/log.unsigned")"
fi

# Key-signed, but the rule wants a Fulcio certificate.
pod "$REG/kl/keysigned:v1"
m=$(msg keyless --ca-file "$PKI/ca.pem")
has "key-signed under a keyless rule" "$m" \
	"[at spec.containers[0].image (container c0); rule gha; trust keyless issuer $ISS root test-sigstore]" \
	"key-signed, but rule gha wants a Fulcio certificate from issuer $ISS"

# Signed with another key than the rule's.
pod "$REG/key/wrongkey:v1"
m=$(msg wrongkey --ca-file "$PKI/ca.pem")
has "signed with another key" "$m" 'signed, but not by the key the rule trusts — sign with the private key of cosign key release-key'

# The registry's CA is not known: no --ca-file, no registries[].caFile.
pod "$REG/key/unsigned:v1"
m=$(msg noca)
has "registry CA unknown" "$m" "registry CA unknown — set registries[].caFile for $REG"

# A chart without .prov, named by an Argo CD Application.
jq -n --arg r "$REPO" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: {name: "app"},
	spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
	       source: {repoURL: $r, chart: "plain", targetRevision: "1.0.0"}}}' >"$T/obj.json"
m=$(msg noprov --ca-file "$PKI/ca.pem")
has "chart without .prov" "$m" '[at spec.source.chart; rule team; trust keyring charts]' \
	'this chart has no .prov — publish one with `helm package --sign`'
