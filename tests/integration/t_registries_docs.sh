#!/bin/bash
# Every policy in docs/registries.md loads with `provgate policy check`: each
# ```yaml block that is a ProvenancePolicy goes into its own directory, with
# /etc/provgate/trust/ pointed at the example trust files of policy/examples.
# A broken copy of one of them must fail, so the check can fail.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
source "$(dirname "$0")/lib.sh"

DOC="$TOP/docs/registries.md"
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
[ -f "$DOC" ] || { notok "docs/registries.md" "missing"; exit 1; }
mkdir -p "$T/trust"
cp "$TOP/policy/examples/trust/release.pub" "$TOP/policy/examples/trust/charts.gpg" "$T/trust/"
cp "$TOP/policy/examples/trust/example.trusted_root.json" "$T/trust/trusted_root.json"

awk -v dir="$T/docs" '
	/^```yaml$/ { n++; inblk = 1; f = sprintf("%s/%02d/policy.yaml", dir, n); system("mkdir -p " dir "/" sprintf("%02d", n)); next }
	/^```$/ { inblk = 0; next }
	inblk { print > f }
' "$DOC"
n=0
for f in "$T"/docs/*/policy.yaml; do
	grep -q '^kind: ProvenancePolicy' "$f" || continue
	sed -i "s|/etc/provgate/trust/|$T/trust/|g" "$f"
	name=$(sed -n 's/^  name: //p' "$f" | head -1)
	out=$("$PG" policy check "$(dirname "$f")" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then ok "docs/registries.md policy $name loads: $out"; else notok "docs/registries.md policy $name loads" "$out"; fi
	n=$((n + 1))
done
expect_eq "docs/registries.md has a policy for Docker Hub, GHCR, Quay, ECR, GAR, ACR and chart-releaser" "$n" 7
for p in docker-hub ghcr quay ecr gar acr chart-releaser; do
	check "policy $p is in the page" grep -q "^  name: $p$" "$T"/docs/*/policy.yaml
done
# The near miss: the same document with a rule naming an unknown key fails.
mkdir -p "$T/broken"
sed 's/- cosign: {key: release}/- cosign: {key: nosuchkey}/' "$T/docs/01/policy.yaml" >"$T/broken/policy.yaml"
"$PG" policy check "$T/broken" >/dev/null 2>&1
expect_eq "a docs policy with an unknown key does not load (exit 2)" "$?" 2
