# Build-provenance attestations for tests (bash), made with openssl the way
# actions/attest-build-provenance and cosign make them.  Source after
# lib.sh, lib_registry.sh and lib_keyless.sh (keyless_setup first).
#
#   gh_cert NAME SAN OWNER REPO REF RUNNER
#       a Fulcio-like leaf ($KL/NAME.key/.pem) as GitHub Actions gets it:
#       issuer https://token.actions.githubusercontent.com and the claim
#       extensions 1.9 buildSignerURI (= SAN), 1.11 runnerEnvironment,
#       1.12 sourceRepositoryURI https://github.com/REPO, 1.14
#       sourceRepositoryRef REF, 1.16 sourceRepositoryOwnerURI
#       https://github.com/OWNER, 1.20 buildTrigger push.
#   att_statement OUT DIGEST REPO REF [PREDICATE_TYPE [PATH]]
#       an in-toto Statement v1 with SLSA v1 GitHub-workflow provenance:
#       subject DIGEST, externalParameters.workflow {repository
#       https://github.com/REPO, ref REF, path PATH}.
#   att_bundle NAME STATEMENT [MODE]
#       a Sigstore bundle v0.3 on stdout: DSSE over STATEMENT signed with
#       $KL/NAME.key, one dsse 0.0.1 Rekor entry with SET and inclusion
#       proof.  MODE: "noset" drops the SET (inclusion proof only);
#       "tamper" changes one payload byte after signing.
#   push_att_legacy REPO DIGEST NAME STATEMENT [MODE]
#       cosign's legacy REPO:sha256-<hex>.att: the DSSE envelope as a layer
#       (application/vnd.dsse.envelope.v1+json) with certificate, chain and
#       Rekor bundle (intoto 0.0.1 body) annotations.  MODE "tamper" as
#       above.
GH_ISS=https://token.actions.githubusercontent.com

# _kl_leaf_conf with the claim extensions of $KL_EXTRA (one per line),
# placed before the SCT so that removing the SCT gives the precertificate.
# Sourced again (the bench's run.sh, evidence.sh and requests.sh each
# source it), the wrapper must not wrap itself: endless recursion.
declare -F _att_leaf_conf_orig >/dev/null ||
	eval "$(declare -f _kl_leaf_conf | sed '1s/_kl_leaf_conf/_att_leaf_conf_orig/')"
_kl_leaf_conf() {
	_att_leaf_conf_orig "$1" "$2" "$3" "$4" ""
	[ -n "${KL_EXTRA:-}" ] && printf '%s\n' "$KL_EXTRA" >>"$2"
	[ -n "${5:-}" ] && echo "1.3.6.1.4.1.11129.2.4.2 = DER:$5" >>"$2"
	return 0
}

gh_cert() {
	local name=$1 san=$2 owner=$3 repo=$4 ref=$5 runner=$6 rc
	KL_EXTRA=$(printf '%s\n' \
		"1.3.6.1.4.1.57264.1.9 = ASN1:UTF8String:$san" \
		"1.3.6.1.4.1.57264.1.11 = ASN1:UTF8String:$runner" \
		"1.3.6.1.4.1.57264.1.12 = ASN1:UTF8String:https://github.com/$repo" \
		"1.3.6.1.4.1.57264.1.14 = ASN1:UTF8String:$ref" \
		"1.3.6.1.4.1.57264.1.16 = ASN1:UTF8String:https://github.com/$owner" \
		"1.3.6.1.4.1.57264.1.20 = ASN1:UTF8String:push")
	fulcio_cert "$name" "URI:$san" "$GH_ISS"
	rc=$?
	KL_EXTRA=""
	return $rc
}

att_statement() {
	local out=$1 digest=$2 repo=$3 ref=$4 pt=${5:-https://slsa.dev/provenance/v1}
	local path=${6:-.github/workflows/build.yml}
	jq -cn --arg d "${digest#sha256:}" --arg pt "$pt" --arg repo "https://github.com/$repo" \
		--arg ref "$ref" --arg path "$path" '
		{_type: "https://in-toto.io/Statement/v1",
		 subject: [{name: "image", digest: {sha256: $d}}],
		 predicateType: $pt,
		 predicate: {buildDefinition: {
			buildType: "https://actions.github.io/buildtypes/workflow/v1",
			externalParameters: {workflow: {ref: $ref, repository: $repo, path: $path}}},
			runDetails: {builder: {id: "https://github.com/actions/runner/github-hosted"}}}}' >"$out"
}

# _att_envelope NAME STATEMENT DIR MODE: DIR/envelope (+ DIR/payload, DIR/sig)
_att_envelope() {
	local name=$1 st=$2 d=$3 mode=${4:-} pt=application/vnd.in-toto+json
	cp "$st" "$d/payload"
	printf 'DSSEv1 %d %s %d ' "${#pt}" "$pt" "$(stat -c %s "$d/payload")" >"$d/pae"
	cat "$d/payload" >>"$d/pae"
	openssl dgst -sha256 -sign "$KL/$name.key" "$d/pae" | _kl_b64 >"$d/sig" || return 1
	if [ "$mode" = tamper ]; then
		# the same length, one byte changed, after signing
		sed -i 's/"image"/"imagf"/' "$d/payload"
	fi
	jq -cn --arg p "$(_kl_b64 "$d/payload")" --arg t "$pt" --arg s "$(cat "$d/sig")" \
		'{payloadType: $t, payload: $p, signatures: [{keyid: "", sig: $s}]}' >"$d/envelope"
}

# _att_set BODY_FILE ITIME: sets ATT_IDX, ATT_SET, ATT_IDHEX, ATT_IDB64
_att_set() {
	local body canon
	body=$(_kl_b64 "$1")
	_kl_spki_der "$KL/rekor.key" >"$1.logspki"
	ATT_IDHEX=$(sha256sum "$1.logspki" | cut -d' ' -f1)
	ATT_IDB64=$(openssl dgst -sha256 -binary "$1.logspki" | _kl_b64)
	KL_LOG_INDEX=$((KL_LOG_INDEX + 1))
	ATT_IDX=$KL_LOG_INDEX
	canon=$(printf '{"body":"%s","integratedTime":%s,"logID":"%s","logIndex":%s}' "$body" "$2" "$ATT_IDHEX" "$ATT_IDX")
	ATT_SET=$(printf '%s' "$canon" | openssl dgst -sha256 -sign "$KL/rekor.key" | _kl_b64)
}

att_bundle() {
	local name=$1 st=$2 mode=${3:-} itime=$(($(date +%s) - 30)) d hint root note cpsig
	d="$KL/att-$name-$RANDOM$RANDOM"
	mkdir -p "$d"
	_att_envelope "$name" "$st" "$d" "$mode" || return 1
	printf '{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"%s"},"payloadHash":{"algorithm":"sha256","value":"%s"},"signatures":[{"signature":"%s","verifier":"%s"}]}}' \
		"$(sha256sum "$d/envelope" | cut -d' ' -f1)" "$(sha256sum "$st" | cut -d' ' -f1)" \
		"$(cat "$d/sig")" "$(_kl_b64 "$KL/$name.pem")" >"$d/body"
	_att_set "$d/body" "$itime" || return 1
	hint=$(openssl dgst -sha256 -binary "$d/body.logspki" | head -c 4 | xxd -p)
	root=$({ printf '\000'; cat "$d/body"; } | openssl dgst -sha256 -binary | _kl_b64)
	note=$(printf 'rekor.test.invalid - 4242\n1\n%s\n' "$root")
	printf '%s\n' "$note" >"$d/note"
	cpsig=$({ printf '%s' "$hint" | xxd -r -p; openssl dgst -sha256 -sign "$KL/rekor.key" "$d/note"; } | _kl_b64) || return 1
	printf '%s\n\n\xe2\x80\x94 rekor.test.invalid %s\n' "$note" "$cpsig" >"$d/checkpoint"
	local tsr=""
	case "$mode" in *tsa*) _att_tsr "$d/sig" "$d/tsr" || return 1; tsr=$(_kl_b64 "$d/tsr") ;; esac
	jq -cn --arg cert "$(openssl x509 -in "$KL/$name.pem" -outform DER | _kl_b64)" \
		--arg idx "$ATT_IDX" --arg id "$ATT_IDB64" --arg t "$itime" --arg set "$ATT_SET" \
		--arg root "$root" --rawfile cp "$d/checkpoint" --arg mode "$mode" --arg tsr "$tsr" \
		--arg body "$(_kl_b64 "$d/body")" --slurpfile env "$d/envelope" '
		{mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		 verificationMaterial: ({certificate: {rawBytes: $cert},
			tlogEntries: [{logIndex: $idx, logId: {keyId: $id},
				kindVersion: {kind: "dsse", version: "0.0.1"}, integratedTime: $t,
				inclusionProof: {logIndex: "0", rootHash: $root, treeSize: "1", hashes: [],
					checkpoint: {envelope: $cp}},
				canonicalizedBody: $body}
				+ (if ($mode | startswith("noset")) then {} else
				   {inclusionPromise: {signedEntryTimestamp: $set}} end)]}
			+ (if $tsr == "" then {} else
			   {timestampVerificationData: {rfc3161Timestamps: [{signedTimestamp: $tsr}]}} end)),
		 dsseEnvelope: $env[0]}'
}

push_att_legacy() {
	local repo=$1 digest=$2 name=$3 st=$4 mode=${5:-} itime=$(($(date +%s) - 30)) d bundle f
	d="$KL/legacy-$name-$RANDOM$RANDOM"
	mkdir -p "$d"
	_att_envelope "$name" "$st" "$d" "$mode" || return 1
	printf '{"apiVersion":"0.0.1","kind":"intoto","spec":{"content":{"hash":{"algorithm":"sha256","value":"%s"},"payloadHash":{"algorithm":"sha256","value":"%s"}},"publicKey":"%s"}}' \
		"$(sha256sum "$d/envelope" | cut -d' ' -f1)" "$(sha256sum "$st" | cut -d' ' -f1)" \
		"$(_kl_b64 "$KL/$name.pem")" >"$d/body"
	_att_set "$d/body" "$itime" || return 1
	bundle=$(printf '{"SignedEntryTimestamp":"%s","Payload":{"body":"%s","integratedTime":%s,"logIndex":%s,"logID":"%s"}}' \
		"$ATT_SET" "$(_kl_b64 "$d/body")" "$itime" "$ATT_IDX" "$ATT_IDHEX")
	push_blob "$repo" "$d/envelope" >/dev/null || return 1
	f="$d/m"
	printf '{"architecture":"","config":{},"created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":[]}}' >"$f.config"
	push_blob "$repo" "$f.config" >/dev/null || return 1
	jq -cn --arg mt "$MT_OCI_MANIFEST" --argjson cfg "$(desc_of "$f.config" application/vnd.oci.image.config.v1+json)" \
		--arg dg "$(sha256_of "$d/envelope")" --argjson size "$(stat -c %s "$d/envelope")" \
		--rawfile cert "$KL/$name.pem" --rawfile chain "$KL/chain.pem" --arg b "$bundle" '
		{schemaVersion: 2, mediaType: $mt, config: $cfg,
		 layers: [{mediaType: "application/vnd.dsse.envelope.v1+json", digest: $dg, size: $size,
			annotations: {"dev.cosignproject.cosign/signature": "",
				"dev.sigstore.cosign/certificate": $cert,
				"dev.sigstore.cosign/chain": $chain,
				"dev.sigstore.cosign/bundle": $b,
				predicateType: "https://slsa.dev/provenance/v1"}}]}' >"$f.json"
	push_manifest "$repo" "sha256-${digest#sha256:}.att" "$f.json" "$MT_OCI_MANIFEST"
}

#   att_tsa_setup
#       a test RFC 3161 TSA (root + signing certificate with the critical
#       timeStamping EKU, made with openssl ca/ts) and $KL_ROOT_TSA, the
#       trusted root of keyless_setup plus that TSA.
#   att_bundle NAME STATEMENT tsa|noset+tsa
#       as above, with an RFC 3161 stamp from it over the DSSE signature.
att_tsa_setup() {
	local d="$KL/tsa"
	mkdir -p "$d"
	_kl_ca_conf "$d/ca"
	echo 01 >"$d/ca/serial"
	_kl_genkey "$d/root.key" && _kl_genkey "$d/tsa.key" || return 1
	cat >>"$d/ca/ca.cnf" <<CNF
[tsa_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
	openssl req -new -key "$d/root.key" -subj "/O=provgate-test/CN=test-tsa-root" -out "$d/root.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$d/ca/ca.cnf" -selfsign -keyfile "$d/root.key" \
			-in "$d/root.csr" -startdate 20200101000000Z -enddate 20491231000000Z \
			-extensions root_ext -out "$d/root.pem" >/dev/null 2>&1 &&
		openssl req -new -key "$d/tsa.key" -subj "/O=provgate-test/CN=test-tsa" -out "$d/tsa.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$d/ca/ca.cnf" -cert "$d/root.pem" -keyfile "$d/root.key" \
			-in "$d/tsa.csr" -startdate 20200101000000Z -enddate 20491231000000Z \
			-extensions tsa_ext -out "$d/tsa.pem" >"$d/ca.log" 2>&1 || { cat "$d/ca.log" >&2; return 1; }
	cat >"$d/ts.cnf" <<CNF
[tsa]
default_tsa = t
[t]
dir = $d
serial = $d/tsaserial
crypto_device = builtin
signer_cert = $d/tsa.pem
certs = $d/root.pem
signer_key = $d/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
	echo 01 >"$d/tsaserial"
	jq --arg leaf "$(openssl x509 -in "$d/tsa.pem" -outform DER | _kl_b64)" \
		--arg root "$(openssl x509 -in "$d/root.pem" -outform DER | _kl_b64)" '
		.timestampAuthorities = [{subject: {organization: "provgate-test", commonName: "test-tsa"},
			uri: "https://tsa.test.invalid",
			certChain: {certificates: [{rawBytes: $leaf}, {rawBytes: $root}]},
			validFor: {start: "2020-01-01T00:00:00Z"}}]' "$KL_ROOT" >"$KL/trusted_root_tsa.json" || return 1
	KL_ROOT_TSA="$KL/trusted_root_tsa.json"
}

# _att_tsr SIGFILE_B64 OUT: a TimeStampResp over the decoded signature bytes
_att_tsr() {
	local d="$KL/tsa"
	base64 -d "$1" >"$2.data" &&
		openssl ts -query -data "$2.data" -sha256 -cert -no_nonce -out "$2.tsq" 2>/dev/null &&
		openssl ts -reply -config "$d/ts.cnf" -queryfile "$2.tsq" -out "$2" 2>"$2.err"
}
