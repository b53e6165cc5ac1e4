#!/bin/bash
# `provgate policy check DIR` against the shipped policies, the examples,
# broken fixtures and a ConfigMap-shaped mount: exit codes (0 valid, 2
# invalid or usage) and the FILE:LINE messages an operator reads.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 2

# run DIR...: sets out, err, rc
run() {
	out=$("$PG" policy "$@" 2>"$T/stderr")
	rc=$?
	err=$(cat "$T/stderr")
}

if [ ! -x "$PG" ]; then
	notok "provgate binary" "$PG not built"
	exit 1
fi

# --- the shipped policies ---
run check policy
expect_eq "policy/ exit 0" "$rc" 0
expect_eq "policy/ summary" "$out" "policy OK: 1 document, 0 image rules, 0 chart rules, mode enforce"
expect_eq "policy/ no stderr" "$err" ""

run check policy/examples
expect_eq "policy/examples exit 0" "$rc" 0
expect_match "policy/examples summary" "$out" '^policy OK: [0-9]+ documents?, [1-9][0-9]* image rules?, [1-9][0-9]* chart rules?, mode enforce$'

# the examples resolve trust paths against their directory, not the cwd
cp -r policy/examples "$T/examples"
out=$(cd / && "$PG" policy check "$T/examples" 2>&1)
expect_match "examples copied elsewhere, checked from /" "$out" '^policy OK: '

# --- broken fixtures ---
run check tests/fixtures/policy/bad-yaml
expect_eq "invalid YAML exit 2" "$rc" 2
expect_eq "invalid YAML message" "$err" \
	"Error: tests/fixtures/policy/bad-yaml/policy.yaml:9: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence"

run check tests/fixtures/policy/unknown-field
expect_eq "unknown field exit 2" "$rc" 2
expect_eq "unknown field message" "$err" \
	'Error: tests/fixtures/policy/unknown-field/policy.yaml:9: spec.images[0]: unknown field "allowUnsignd" (allowed: name, match, verify, require, tlog, requireDigest, allowUnsigned)'

run check tests/fixtures/policy/unknown-kind
expect_eq "unknown kind exit 2" "$rc" 2
expect_eq "unknown kind message" "$err" \
	'Error: tests/fixtures/policy/unknown-kind/policy.yaml:9: unknown kind "ConfigMap": a policy directory holds only ProvenancePolicy documents'
expect_eq "nothing on stdout when invalid" "$out" ""

# --- made-up directories ---
HDR=$'apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata:\n  name: t\n'

mkdir "$T/empty"
run check "$T/empty"
expect_eq "empty dir exit 2" "$rc" 2
expect_eq "empty dir message" "$err" "Error: no ProvenancePolicy found in $T/empty"

mkdir "$T/nokey"
printf '%sspec:\n  trust:\n    keys:\n      release: {path: trust/release.pub}\n' "$HDR" >"$T/nokey/p.yaml"
run check "$T/nokey"
expect_eq "missing key file exit 2" "$rc" 2
expect_eq "missing key file message" "$err" \
	"Error: $T/nokey/p.yaml:8: spec.trust.keys.release: cannot read $T/nokey/trust/release.pub: No such file or directory"

mkdir "$T/undefined"
printf '%sspec:\n  images:\n    - name: a\n      match: ["x/**"]\n      verify:\n        - cosign: {key: release}\n' "$HDR" >"$T/undefined/p.yaml"
run check "$T/undefined"
expect_eq "undefined key exit 2" "$rc" 2
expect_eq "undefined key message" "$err" \
	"Error: $T/undefined/p.yaml:10: spec.images[0].verify[0].cosign.key: key \"release\" is not defined in spec.trust.keys"

mkdir "$T/audit"
printf '%sspec:\n  mode: audit\n  images:\n    - {name: a, match: ["x/**"], allowUnsigned: true}\n' "$HDR" >"$T/audit/a.yaml"
printf '%sspec:\n  charts:\n    - {name: c, match: ["https://c.example.com/**"], allowUnsigned: true}\n---\n%sspec: {}\n' "$HDR" "$HDR" >"$T/audit/b.yaml"
run check "$T/audit"
expect_eq "audit, multi-file, multi-doc" "$out" "policy OK: 3 documents, 1 image rule, 1 chart rule, mode audit"

printf '%sspec:\n  mode: enforce\n' "$HDR" >"$T/audit/c.yaml"
run check "$T/audit"
expect_eq "conflicting mode exit 2" "$rc" 2
expect_eq "conflicting mode message" "$err" \
	"Error: $T/audit/c.yaml:6: spec.mode: mode enforce conflicts with mode audit set at $T/audit/a.yaml:6"

# A ConfigMap volume: keys are symlinks into ..data -> ..<timestamp>/
m="$T/mount"
mkdir -p "$m/..2024_06_01_12_00_00.000000001"
cp policy/default.yaml "$m/..2024_06_01_12_00_00.000000001/default.yaml"
printf 'not: [valid\n' >"$m/..2024_06_01_12_00_00.000000001/..junk.yaml"
ln -s ..2024_06_01_12_00_00.000000001 "$m/..data"
ln -s ..data/default.yaml "$m/default.yaml"
run check "$m"
expect_eq "ConfigMap mount exit 0" "$rc" 0
expect_eq "ConfigMap mount summary" "$out" "policy OK: 1 document, 0 image rules, 0 chart rules, mode enforce"

# --- usage ---
run
expect_eq "no subcommand exit 2" "$rc" 2
expect_eq "usage message" "$err" "Error: usage: provgate policy check DIR|FILE [--root DIR]"
run check
expect_eq "no DIR exit 2" "$rc" 2
run lint policy
expect_eq "unknown subcommand exit 2" "$rc" 2
run check policy extra
expect_eq "extra argument exit 2" "$rc" 2
run check "$T/does-not-exist"
expect_eq "missing dir exit 2" "$rc" 2
expect_eq "missing dir message" "$err" "Error: cannot read policy directory $T/does-not-exist: No such file or directory"

# --- trust material checked at load (issue 15.3) ---
# Each mistake below used to load and then deny, at admission, everything
# its rule matched; now `policy check`, `review` and `serve` refuse it with
# FILE:LINE and the field path.  Each has a near miss that must still load.
# tpol DIR TRUST-YAML RULES-YAML: a policy file DIR/p.yaml (trust files in DIR/trust)
tpol() {
	mkdir -p "$1/trust"
	printf '%sspec:\n  trust:\n%s\n%s\n' "$HDR" "$2" "$3" >"$1/p.yaml"
}
KEYRULE=$'  images:\n    - name: a\n      match: ["x/**"]\n      verify:\n        - cosign: {key: release}'
d="$T/tm-key"
tpol "$d" $'    keys:\n      release: {path: trust/release.pub}' "$KEYRULE"$'\n      tlog: optional'
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | openssl pkey -pubout >"$d/trust/release.pub"
run check "$d"
expect_eq "key of a refused type: exit 2, file:line:path" "$rc $err" \
	"2 Error: $d/p.yaml:8: spec.trust.keys.release (trust/release.pub): not a usable cosign public key (PEM): RSA key shorter than 2048 bits"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout >"$d/trust/release.pub"
run check "$d"
expect_eq "near miss: a P-256 key loads" "$rc" 0

d="$T/tm-ring"
tpol "$d" $'    keyrings:\n      charts: {path: trust/charts.gpg}' \
	$'  charts:\n    - name: c\n      match: ["https://charts.example.com/**"]\n      verify:\n        - prov: {keyring: charts}'
printf 'this is not a keyring\n' >"$d/trust/charts.gpg"
run check "$d"
expect_eq "keyring that is not OpenPGP: exit 2, file:line:path" "$rc $err" \
	"2 Error: $d/p.yaml:8: spec.trust.keyrings.charts (trust/charts.gpg): not an OpenPGP keyring: failed to load keyring: openpgp: invalid data: tag byte does not have MSB set"
{ printf '\x99\x01\x0d'; head -c 400 /dev/zero; } >"$d/trust/charts.gpg"
run check "$d"
expect_eq "keyring packets without a public key: exit 2" "$rc $err" \
	"2 Error: $d/p.yaml:8: spec.trust.keyrings.charts (trust/charts.gpg): not an OpenPGP keyring: failed to load keyring: no OpenPGP public key found"
cp policy/examples/trust/charts.gpg "$d/trust/charts.gpg"
run check "$d"
expect_eq "near miss: a real keyring loads" "$rc" 0

d="$T/tm-root"
tpol "$d" $'    keys:\n      release: {path: trust/release.pub}\n    roots:\n      r: {path: trust/root.json}' "$KEYRULE"
cp policy/examples/trust/release.pub "$d/trust/"
printf '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": [' >"$d/trust/root.json"
run check "$d"
expect_match "trusted root that does not parse: exit 2, file:line:path" "$rc $err" \
	"^2 Error: $d/p.yaml:10: spec.trust.roots.r \\(trust/root.json\\): not a Sigstore trusted_root.json: "
jq '.tlogs = []' policy/examples/trust/example.trusted_root.json >"$d/trust/root.json"
run check "$d"
expect_eq "tlog: required with a root that has no transparency log: exit 2" "$rc $err" \
	"2 Error: $d/p.yaml:15: spec.images[0].verify[0].cosign: rule a has tlog: required but trusted root r lists no transparency log (tlogs)"
cp policy/examples/trust/example.trusted_root.json "$d/trust/root.json"
run check "$d"
expect_eq "near miss: the same root with its log loads" "$rc" 0

d="$T/tm-notlog"
tpol "$d" $'    keys:\n      release: {path: trust/release.pub}' "$KEYRULE"
cp policy/examples/trust/release.pub "$d/trust/"
run check "$d"
expect_match "tlog: required (the default) with no root at all: exit 2, says what to do" "$rc $err" \
	"^2 Error: $d/p.yaml:13: spec.images\\[0\\].verify\\[0\\].cosign: rule a has tlog: required \\(the default\\) but no trusted root .*set tlog: optional"
printf '      tlog: optional\n' >>"$d/p.yaml"
run check "$d"
expect_eq "near miss: tlog: optional without a root loads" "$rc" 0

d="$T/tm-keyless"
tpol "$d" $'    roots:\n      r1: {path: trust/r1.json}\n      r2: {path: trust/r2.json}' \
	$'  images:\n    - name: gha\n      match: ["x/**"]\n      verify:\n        - cosign:\n            keyless: {issuer: "https://i", subject: s}'
cp policy/examples/trust/example.trusted_root.json "$d/trust/r1.json"
cp policy/examples/trust/example.trusted_root.json "$d/trust/r2.json"
run check "$d"
expect_match "keyless without a resolvable root (two roots, none named): exit 2" "$rc $err" \
	"^2 Error: $d/p.yaml:14: spec.images\\[0\\].verify\\[0\\].cosign.keyless: no trusted root to check Fulcio certificates with"
sed -i 's/keyless: {issuer/keyless: {root: r2, issuer/' "$d/p.yaml"
run check "$d"
expect_eq "near miss: keyless naming its root loads" "$rc" 0

# The same check behind `review` and `serve` (and so every reload).
d="$T/tm-notlog2"
tpol "$d" $'    keys:\n      release: {path: trust/release.pub}' "$KEYRULE"
cp policy/examples/trust/release.pub "$d/trust/"
printf '{}' >"$T/rv.json"
"$PG" review --policy "$d" "$T/rv.json" >/dev/null 2>"$T/rv.err"
expect_match "review refuses the policy the same way (exit 2)" "$? $(cat "$T/rv.err")" \
	"^2 Error: $d/p.yaml:13: spec.images\\[0\\].verify\\[0\\].cosign: rule a has tlog: required"
test_pki >/dev/null 2>&1
timeout 20 "$PG" serve --policy "$d" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
	--listen 127.0.0.1:0 >/dev/null 2>"$T/sv.err"
expect_match "serve refuses to start with it (exit 2, reason logged)" "$? $(tr '\n' ' ' <"$T/sv.err")" \
	"^2 .*rule a has tlog: required"

# --- a single file, a ConfigMap manifest, the chart's values, --root (15.5) ---
run check policy/default.yaml
expect_eq "a single policy file" "$rc $out" "0 policy OK: 1 document, 0 image rules, 0 chart rules, mode enforce"
run check k8s-manifests/20-policy-configmap.yaml
expect_eq "the manifests' policy ConfigMap" "$rc $out" "0 policy OK: 1 document, 0 image rules, 0 chart rules, mode enforce"
run check charts/provgate/values.yaml
expect_eq "the chart's values (policy.files)" "$rc $out" "0 policy OK: 1 document, 0 image rules, 0 chart rules, mode enforce"
# A ConfigMap whose policy needs in-cluster trust files: --root maps them.
mkdir -p "$T/root/etc/provgate/trust"
cp policy/examples/trust/release.pub "$T/root/etc/provgate/trust/"
cat >"$T/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: provgate-policy
  namespace: provgate
data:
  README: not a policy file (the server skips it too)
  team.yaml: |
    apiVersion: provgate.dev/v1alpha1
    kind: ProvenancePolicy
    metadata:
      name: team
    spec:
      trust:
        keys:
          release: {path: /etc/provgate/trust/release.pub}
      images:
        - name: apps
          match: ["registry.example.com/apps/**"]
          verify:
            - cosign: {key: release}
          tlog: optional
YAML
run check "$T/cm.yaml" --root "$T/root"
expect_eq "ConfigMap with --root: in-cluster trust paths read under the root" "$rc $out" \
	"0 policy OK: 1 document, 1 image rule, 0 chart rules, mode enforce"
run check "$T/cm.yaml"
expect_match "ConfigMap without --root: the in-cluster path is missing, named with its key" "$rc $err" \
	"^2 Error: $T/cm.yaml\\[data.team.yaml\\]:8: spec.trust.keys.release: cannot read /etc/provgate/trust/release.pub"
sed 's/name: apps/name: apps\n          bogus: 1/' "$T/cm.yaml" | sed 's/          tlog: optional/          tlog: sometimes/' >"$T/cm-bad.yaml"
run check "$T/cm-bad.yaml" --root "$T/root"
expect_match "ConfigMap with an invalid policy: the key and line are named" "$rc $err" \
	"^2 Error: $T/cm-bad.yaml\\[data.team.yaml\\]:[0-9]+: spec.images\\[0\\]"
run check policy --root "$T/root"
expect_eq "--root with a directory: usage error" "$rc" "2"
