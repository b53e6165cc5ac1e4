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
expect_eq "usage message" "$err" "Error: usage: provgate policy check DIR"
run check
expect_eq "no DIR exit 2" "$rc" 2
run lint policy
expect_eq "unknown subcommand exit 2" "$rc" 2
run check policy extra
expect_eq "extra argument exit 2" "$rc" 2
run check "$T/does-not-exist"
expect_eq "missing dir exit 2" "$rc" 2
expect_eq "missing dir message" "$err" "Error: cannot read policy directory $T/does-not-exist: No such file or directory"
