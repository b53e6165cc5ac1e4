#!/bin/bash
# verify-attestation (offline) against the shared attestation vectors
# (../shared/vectors/attestations): every verification of every case's
# expect.json gives its expected result, and the count is reported.
#
# How an expect.json policy becomes flags (README "expect.json"):
#   artifact_digest (else artifact.digest)  --digest
#   cert_identity / cert_identity_regexp    --certificate-identity(-regexp)
#       ("(?i)" is dropped: re/ has no flags; the patterns still match the
#       same SANs, which are all lower case here)
#   identity "none..."                      --certificate-identity-regexp '.*'
#       (also for a failure expected before the identity check whose policy
#       names no identity: bundle_parse, certificate_chain)
#   "sha256:(digest of any other image)"    sha256 of the empty string (as recheck.py)
#       (no identity at all: the verb must refuse with exit 2, which is the
#       vectors' identity_policy_missing)
#   cert_oidc_issuer(_regexp)               --certificate-oidc-issuer(-regexp)
#   cert_extensions {Name: value}           --certificate-claim Name=value
#   predicate_type                          --type (else the statement's own
#       type from the case's facts: the vectors put no constraint there,
#       and the verb's default is SLSA v1 as gh's)
#   predicate {a.b.c: value}                --condition /predicate/a/b/c=value
#   min_bundle_version, min_tlog_entries, min_rfc3161_timestamps
#                                           --min-bundle-version/-tlog-entries/-timestamps
#   verification_time.rfc3339               --at (the leaf must be valid then too)
# Expected: pass -> exit 0; fail -> exit 1 (identity_policy_missing -> 2).
# A verification whose trusted root is not in the vectors (GitHub's own
# instance) is skipped and counted as skipped.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"

A="$VECTORS/attestations"
if [ ! -d "$A/cases" ]; then
	skip "attestation vectors" "no $A"
	exit 0
fi

python3 - "$A" >"$T/plan" <<'PY' || { notok "attestation vectors: plan" "python failed"; exit 0; }
import json, os, shlex, sys, glob, re, hashlib
A = sys.argv[1]
for f in sorted(glob.glob(os.path.join(A, "cases", "*", "expect.json"))):
    d = os.path.dirname(f)
    e = json.load(open(f))
    facts = [b.get("statement") or {} for b in e.get("bundles") or []]
    st_type = next((s.get("predicateType") for s in facts if s.get("predicateType")), None)
    art = e.get("artifact") or {}
    vt = e.get("verification_time") or {}
    for v in e["verifications"]:
        p = v["policy"]
        name = "%s/%s" % (e["case"], v["id"])
        root = p.get("trusted_root") or e.get("trusted_root")
        if root is not None and not os.path.isfile(os.path.join(d, root)):
            print("SKIP\t%s\ttrusted root not in the vectors: %s" % (name, root))
            continue
        # Load failures need no root; any public-good one serves.
        rootpath = os.path.join(d, root) if root else os.path.join(A, "roots", "public-good-cli-cli.json")
        args = ["--bundle", os.path.join(d, e["bundle_file"]), "--trusted-root", rootpath]
        dg = p.get("artifact_digest") or art.get("digest") or "sha256:" + "0" * 64
        if not re.fullmatch(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}", dg):
            dg = "sha256:" + hashlib.sha256(b"").hexdigest()  # "any other image"
        args += ["--digest", dg]
        ident = p.get("identity")
        if p.get("cert_identity"):
            args += ["--certificate-identity", p["cert_identity"]]
        elif p.get("cert_identity_regexp"):
            args += ["--certificate-identity-regexp", p["cert_identity_regexp"].replace("(?i)", "")]
        elif ident and str(ident).startswith("none"):
            args += ["--certificate-identity-regexp", ".*"]
        elif v["expect"] == "fail" and v.get("fails_at") != "identity_policy_missing":
            # It fails before identity is looked at: any identity will do.
            args += ["--certificate-identity-regexp", ".*"]
        if p.get("cert_oidc_issuer"):
            args += ["--certificate-oidc-issuer", p["cert_oidc_issuer"]]
        elif p.get("cert_oidc_issuer_regexp"):
            args += ["--certificate-oidc-issuer-regexp", p["cert_oidc_issuer_regexp"]]
        for k, val in sorted((p.get("cert_extensions") or {}).items()):
            args += ["--certificate-claim", "%s=%s" % (k, val)]
        t = p.get("predicate_type") or st_type
        if t:
            args += ["--type", t]
        for k, val in sorted((p.get("predicate") or {}).items()):
            if not isinstance(val, str):
                print("SKIP\t%s\tpredicate condition form %r" % (name, val)); break
            args += ["--condition", "/predicate/%s=%s" % (k.replace(".", "/"), val)]
        else:
            if p.get("min_bundle_version"):
                args += ["--min-bundle-version", p["min_bundle_version"]]
            if p.get("min_tlog_entries") is not None:
                args += ["--min-tlog-entries", str(p["min_tlog_entries"])]
            if p.get("min_rfc3161_timestamps") is not None:
                args += ["--min-timestamps", str(p["min_rfc3161_timestamps"])]
            if vt.get("rfc3339"):
                args += ["--at", vt["rfc3339"]]
            code = 0 if v["expect"] == "pass" else (2 if v.get("fails_at") == "identity_policy_missing" else 1)
            print("RUN\t%s\t%d\t%s\t%s" % (name, code, v.get("fails_at") or "-", " ".join(shlex.quote(a) for a in args)))
PY

pass=0 fail=0 skipped=0
while IFS=$'\t' read -r kind name code at args; do
	if [ "$kind" = SKIP ]; then
		skip "$name" "$code"
		skipped=$((skipped + 1))
		continue
	fi
	eval "set -- $args"
	out=$("$PG" verify-attestation "$@" 2>"$T/err"); rc=$?
	if [ "$rc" -eq "$code" ]; then
		if [ "$at" = - ]; then ok "$name (exit 0)"; else ok "$name (exit $rc, $at: $(head -c 160 "$T/err"))"; fi
		pass=$((pass + 1))
	else
		notok "$name" "exit $rc, want $code: $(cat "$T/err") $out"
		fail=$((fail + 1))
	fi
done <"$T/plan"
expect_eq "attestation vectors: $pass as expected, $fail not, $skipped skipped" "$fail" 0
[ $((pass + fail)) -ge 40 ] && ok "attestation vectors: $((pass + fail)) verifications run" ||
	notok "attestation vectors: only $((pass + fail)) verifications found"

# ---- beyond the vectors' own expectations: the GitHub flags (gh's
# --owner/--repo/... as upstream_policy gives them), the authenticated-time
# rule, --at, and files of several bundles.
C="$A/cases/gh-sigstore-js-2.1.0"
ROOT="$A/roots/public-good-cli-cli.json"
D512=sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f
AT=2023-08-29T15:40:23Z
# va NAME WANT_EXIT ARGS...
va() {
	local n=$1 want=$2 out rc
	shift 2
	out=$("$PG" verify-attestation --trusted-root "$ROOT" --digest "$D512" "$@" 2>"$T/err"); rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$n"; else notok "$n" "exit $rc, want $want: $(cat "$T/err") $out"; fi
}
va "gh: --owner sigstore" 0 --bundle "$C/bundle.json" --owner sigstore
va "gh: --owner SigStore (GitHub names fold case)" 0 --bundle "$C/bundle.json" --owner SigStore
va "gh: --owner fakeowner" 1 --bundle "$C/bundle.json" --owner fakeowner
va "gh: --repo sigstore/sigstore-js --source-ref main --deny-self-hosted-runners" 0 \
	--bundle "$C/bundle.json" --repo sigstore/sigstore-js --source-ref refs/heads/main --deny-self-hosted-runners
va "gh: --repo sigstore/fakerepo" 1 --bundle "$C/bundle.json" --repo sigstore/fakerepo
va "gh: --source-ref refs/heads/release" 1 --bundle "$C/bundle.json" --owner sigstore --source-ref refs/heads/release
va "gh: --source-ref refs/heads/MAIN (refs are exact)" 1 --bundle "$C/bundle.json" --owner sigstore --source-ref refs/heads/MAIN
va "gh: --signer-workflow release.yml" 0 --bundle "$C/bundle.json" --owner sigstore \
	--signer-workflow sigstore/sigstore-js/.github/workflows/release.yml
va "gh: --signer-workflow publish.yml" 1 --bundle "$C/bundle.json" --owner sigstore \
	--signer-workflow sigstore/sigstore-js/.github/workflows/publish.yml
va "gh: --signer-workflow release.y (a prefix of the workflow)" 1 --bundle "$C/bundle.json" --owner sigstore \
	--signer-workflow sigstore/sigstore-js/.github/workflows/release.y
va "gh: --signer-repo sigstore/sigstore-js" 0 --bundle "$C/bundle.json" --owner sigstore --signer-repo sigstore/sigstore-js
va "gh: --signer-repo sigstore/sigstore-j (a prefix)" 1 --bundle "$C/bundle.json" --owner sigstore --signer-repo sigstore/sigstore-j
va "gh: custom issuer must be named (default issuer refused)" 1 \
	--bundle "$A/cases/gh-custom-issuer/bundle.json" --digest \
	"$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["artifact"]["digest"])' "$A/cases/gh-custom-issuer/expect.json")" \
	--owner too-legit
va "gh: --type default is SLSA v1; cosign's own predicate refused" 1 \
	--bundle "$A/cases/cosign-oci-attestation/bundle.json" \
	--digest "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["artifact"]["digest"])' "$A/cases/cosign-oci-attestation/expect.json")" \
	--certificate-identity cody@soyland.com --certificate-oidc-issuer https://github.com/login/oauth
expect_match "gh: ... refused for its predicate type" "$(cat "$T/err")" "predicate type is https://cosign.sigstore.dev/attestation/v1"
va "claim condition prefix form is not a claim name" 2 --bundle "$C/bundle.json" --owner sigstore \
	--certificate-claim NoSuchClaim=x
va "--condition on a missing field fails" 1 --bundle "$C/bundle.json" --owner sigstore \
	--condition /predicate/buildDefinition/nosuch=x
va "--condition on the predicate's workflow ref holds" 0 --bundle "$C/bundle.json" --owner sigstore \
	--condition /predicate/buildDefinition/externalParameters/workflow/ref=refs/heads/main
va "--at the signing time" 0 --bundle "$C/bundle.json" --owner sigstore --at "$AT"
va "--at 2030 (the leaf has expired then)" 1 --bundle "$C/bundle.json" --owner sigstore --at 2030-01-01T00:00:00Z

# Authenticated time: the same bundle without its SET (inclusion proof
# only) has no signed time, and no TSA stamp: refused.
python3 - "$C/bundle.json" "$T/noset.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for e in b["verificationMaterial"]["tlogEntries"]:
    e.pop("inclusionPromise", None)
json.dump(b, open(sys.argv[2], "w"))
PY
va "no SET, inclusion proof only: integratedTime does not count" 1 --bundle "$T/noset.json" --owner sigstore
expect_match "no SET: the reason names the missing authenticated time" "$(cat "$T/err")" "no authenticated time"

# Several bundles: one that passes suffices, in any position; none passes: refused.
B="$A/cases/neg-dsse-payload-byteflip/bundle.json"
{ python3 -c 'import json,sys;print(json.dumps(json.load(open(sys.argv[1]))))' "$B"
  python3 -c 'import json,sys;print(json.dumps(json.load(open(sys.argv[1]))))' "$C/bundle.json"; } >"$T/two.jsonl"
va "JSON lines: tampered then good -> verified" 0 --bundle "$T/two.jsonl" --owner sigstore
expect_match "JSON lines: the second attestation is the one reported" "$(head -1 <<<"$("$PG" verify-attestation --trusted-root "$ROOT" --digest "$D512" --bundle "$T/two.jsonl" --owner sigstore 2>&1)")" "attestation 2"
{ cat "$B"; cat "$B"; } >"$T/bad2.json"
va "two tampered bundles (concatenated pretty JSON) -> refused" 1 --bundle "$T/bad2.json" --owner sigstore
i=0
while IFS= read -r line; do
	i=$((i + 1))
	printf '%s\n' "$line" >"$T/line$i.json"
	va "two-bundles: line $i verifies on its own" 0 --bundle "$T/line$i.json" --owner sigstore
done <"$A/cases/gh-sigstore-js-2.1.0-two-bundles/bundles.jsonl"
