# Keyless (Fulcio + Rekor) test infrastructure, made with openssl (bash).
# Source after lib.sh and lib_registry.sh.
#
#   keyless_setup                a test Sigstore in $KL: a Fulcio-like CA
#                                (root + intermediate), a Rekor log key, a CT
#                                log key, a second "rogue" Rekor key that no
#                                trusted root lists, and $KL_ROOT, the
#                                trusted_root.json naming the CA and both
#                                genuine logs.
#   fulcio_cert NAME SAN ISSUER [NOT_BEFORE [NOT_AFTER]]
#                                a short-lived leaf for a fresh P-256 key:
#                                $KL/NAME.key, $KL/NAME.pem.  SAN is an
#                                openssl GeneralName ("URI:https://..." or
#                                "email:a@b"); ISSUER goes into both OIDC
#                                issuer extensions (empty: neither).  Times
#                                are epoch seconds (default: from a minute
#                                ago for 10 minutes).  The leaf carries an
#                                embedded SCT from the test CT log.
#   rekor_bundle SIG_B64 SIGNER_PEM PAYLOAD ITIME [LOG]
#                                the dev.sigstore.cosign/bundle annotation
#                                value: a hashedrekord v0.0.1 body for that
#                                signature, signer (PEM certificate or public
#                                key) and payload, with a SET from log LOG
#                                (rekor, the default, or rogue) at ITIME.
#   keyless_sig_layer REPO PAYLOAD NAME [ITIME|none [LOG]]
#                                sign PAYLOAD with $KL/NAME.key, push it, and
#                                print the layer descriptor with the
#                                signature, certificate, chain and (unless
#                                "none") bundle annotations.
#   key_sig_layer_tlog REPO PAYLOAD KEY_BASENAME [ITIME [LOG]]
#                                the same for a key pair $T/NAME.key/.pub
#                                made by make_key: signature + bundle.
#   sigstore_bundle_dsse / sigstore_bundle_message
#                                Sigstore bundles v0.3 (DSSE in-toto, or a
#                                blob messageSignature), see below.
#   tsa_setup, tsa_timestamp FILE, bundle_unsigned_time BUNDLE ITIME [tsa]
#                                a test RFC 3161 TSA in $KL_ROOT; a bundle
#                                with its SET removed and integratedTime
#                                edited, optionally with a TSA timestamp.
#
# What the verifier needs and how it is met:
#   - chain: leaf -> intermediate -> root, the root the anchor and the
#     intermediate listed in trusted_root.json (the chain annotation repeats
#     them, as cosign does; it is never an anchor);
#   - the Rekor SET: ECDSA P-256 over SHA-256 of the RFC 8785 JSON
#     {"body","integratedTime","logID","logIndex"} (all ASCII fields, so a
#     fixed-order printf is canonical), log chosen by logID = sha256(SPKI);
#   - certificate transparency: pg_sig_trust.ignore_sct exists but neither
#     the policy nor verify-image can set it, so every leaf here carries a
#     real embedded SCT (RFC 6962 precert entry signed by the test CT log
#     key).  The leaf is issued twice with identical serial, validity and
#     extensions: first without the SCT extension (its TBSCertificate is the
#     precertificate TBS that the SCT signs), then with the SCT extension
#     appended last, so removing it gives back the exact signed TBS.
KL=""
KL_ROOT=""
KL_LOG_INDEX=1000

_kl_b64() { base64 -w0 "$@"; }
_kl_asn1time() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }
# hex of N in BYTES big-endian bytes
_kl_be() { printf '%0*x' $((2 * $2)) "$1"; }
# DER length octets (hex) for a content of N bytes
_kl_derlen() {
	if [ "$1" -lt 128 ]; then printf '%02x' "$1"
	elif [ "$1" -lt 256 ]; then printf '81%02x' "$1"
	else printf '82%04x' "$1"; fi
}
_kl_spki_der() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null; }
_kl_pub_spki_der() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null; }

# _kl_ca_conf DIR: an `openssl ca` configuration with a fresh database
_kl_ca_conf() {
	local d=$1
	mkdir -p "$d/new"
	: >"$d/index.txt"
	cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
dir = $d
database = $d/index.txt
new_certs_dir = $d/new
serial = $d/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
email_in_dn = no
[pol]
organizationName = optional
commonName = optional
[root_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[int_ext]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

_kl_genkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# _kl_log_json KEYFILE URL: one tlogs[]/ctlogs[] entry
_kl_log_json() {
	local der="$KL/log.$RANDOM.der"
	_kl_spki_der "$1" >"$der"
	jq -cn --arg url "$2" --arg raw "$(_kl_b64 "$der")" \
		--arg id "$(openssl dgst -sha256 -binary "$der" | _kl_b64)" \
		'{baseUrl: $url, hashAlgorithm: "SHA2_256",
		  publicKey: {rawBytes: $raw, keyDetails: "PKIX_ECDSA_P256_SHA_256",
			      validFor: {start: "2020-01-01T00:00:00Z"}},
		  logId: {keyId: $id}}'
}

# keyless_setup: the CA, log keys and trusted root are the same for every
# script, so they are made once into $PG_TESTCACHE/keyless-<hash of this
# file> (default build/testcache, shared by the plain and sanitizer suites)
# and copied into $KL; the copy's `openssl ca` configuration is pointed at
# $KL, so each script issues its own leaves into its own database.  A change
# to this file makes a new cache entry.
keyless_setup() {
	local cache h tmp
	KL="$T/keyless"
	h=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
	cache="${PG_TESTCACHE:-$TOP/build/testcache}/keyless-$h"
	if [ ! -f "$cache/trusted_root.json" ]; then
		tmp="$cache.tmp.$$"
		rm -rf "$tmp"
		mkdir -p "$tmp" || return 1
		(KL=$tmp && _kl_generate) || { rm -rf "$tmp"; return 1; }
		echo "$tmp" >"$tmp/origin"
		# Another script may have made it meanwhile: keep the first.
		mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"
	fi
	mkdir -p "$KL" && cp -R "$cache/." "$KL/" || return 1
	sed -i "s|$(cat "$KL/origin")|$KL|g" "$KL/ca/ca.cnf" || return 1
	KL_ROOT="$KL/trusted_root.json"
}

# _kl_generate: what keyless_setup caches, made in $KL.
_kl_generate() {
	_kl_ca_conf "$KL/ca"
	_kl_genkey "$KL/root.key" && _kl_genkey "$KL/int.key" &&
		_kl_genkey "$KL/rekor.key" && _kl_genkey "$KL/rogue.key" &&
		_kl_genkey "$KL/ctlog.key" || return 1
	echo 01 >"$KL/ca/serial"
	openssl req -new -key "$KL/root.key" -subj "/O=provgate-test/CN=test-fulcio-root" \
		-out "$KL/root.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$KL/ca/ca.cnf" -selfsign -keyfile "$KL/root.key" \
			-in "$KL/root.csr" -startdate 20200101000000Z -enddate 20491231000000Z \
			-extensions root_ext -out "$KL/root.pem" >/dev/null 2>&1 || return 1
	openssl req -new -key "$KL/int.key" -subj "/O=provgate-test/CN=test-fulcio-intermediate" \
		-out "$KL/int.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$KL/ca/ca.cnf" -cert "$KL/root.pem" \
			-keyfile "$KL/root.key" -in "$KL/int.csr" -startdate 20200101000000Z \
			-enddate 20491231000000Z -extensions int_ext -out "$KL/int.pem" >/dev/null 2>&1 ||
		return 1
	cat "$KL/int.pem" "$KL/root.pem" >"$KL/chain.pem"
	openssl pkey -in "$KL/int.key" -pubout -outform DER 2>/dev/null |
		openssl dgst -sha256 -binary >"$KL/int.keyhash"
	openssl pkey -in "$KL/rekor.key" -pubout -out "$KL/rekor.pub" 2>/dev/null
	openssl pkey -in "$KL/rogue.key" -pubout -out "$KL/rogue.pub" 2>/dev/null
	jq -n --arg int "$(openssl x509 -in "$KL/int.pem" -outform DER | _kl_b64)" \
		--arg root "$(openssl x509 -in "$KL/root.pem" -outform DER | _kl_b64)" \
		--argjson tlog "$(_kl_log_json "$KL/rekor.key" https://rekor.test.invalid)" \
		--argjson ctlog "$(_kl_log_json "$KL/ctlog.key" https://ctfe.test.invalid/test)" '
		{mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		 tlogs: [$tlog],
		 certificateAuthorities: [{subject: {organization: "provgate-test", commonName: "test-fulcio"},
			uri: "https://fulcio.test.invalid",
			certChain: {certificates: [{rawBytes: $int}, {rawBytes: $root}]},
			validFor: {start: "2020-01-01T00:00:00Z"}}],
		 ctlogs: [$ctlog],
		 timestampAuthorities: []}' >"$KL/trusted_root.json" || return 1
	KL_ROOT="$KL/trusted_root.json"
}

# _kl_leaf_conf DIR FILE SAN ISSUER [SCT_HEX]: DIR's CA configuration plus
# the leaf extension section
_kl_leaf_conf() {
	local d=$1 f=$2 san=$3 iss=$4 sct=${5:-}
	{
		cat "$d/ca.cnf"
		echo "[leaf_ext]"
		echo "keyUsage = critical, digitalSignature"
		echo "extendedKeyUsage = codeSigning"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		echo "subjectAltName = critical, $san"
		if [ -n "$iss" ]; then
			echo "1.3.6.1.4.1.57264.1.1 = DER:$(printf '%s' "$iss" | xxd -p | tr -d '\n')"
			echo "1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:$iss"
		fi
		[ -n "$sct" ] && echo "1.3.6.1.4.1.11129.2.4.2 = DER:$sct"
	} >"$f"
}

# _kl_tbs CERT.pem OUT: the DER TBSCertificate of CERT
_kl_tbs() {
	local der="$2.cert.der" off hl len
	openssl x509 -in "$1" -outform DER -out "$der" || return 1
	# second line of asn1parse: "    4:d=1  hl=4 l= 450 cons: SEQUENCE"
	read -r off hl len < <(openssl asn1parse -inform DER -in "$der" |
		sed -n '2s/^ *\([0-9]*\):d=1 *hl=\([0-9]*\) *l= *\([0-9]*\) .*/\1 \2 \3/p')
	[ -n "$len" ] || return 1
	tail -c +$((off + 1)) "$der" | head -c $((hl + len)) >"$2"
}

fulcio_cert() {
	local name=$1 san=$2 iss=$3 nb=${4:-$(($(date +%s) - 60))} na=${5:-} d serial
	local tbs sig sct list ts
	na=${na:-$((nb + 600))}
	d="$KL/leaf-$name"
	rm -rf "$d"
	_kl_ca_conf "$d"
	serial=$(openssl rand -hex 16)
	_kl_genkey "$KL/$name.key" || return 1
	openssl req -new -key "$KL/$name.key" -subj "/" -out "$d/leaf.csr" 2>/dev/null || return 1
	# 1. the precertificate: everything but the SCT
	_kl_leaf_conf "$d" "$d/pre.cnf" "$san" "$iss"
	echo "$serial" >"$d/serial"
	openssl ca -batch -notext -config "$d/pre.cnf" -cert "$KL/int.pem" -keyfile "$KL/int.key" \
		-in "$d/leaf.csr" -subj / -startdate "$(_kl_asn1time "$nb")" \
		-enddate "$(_kl_asn1time "$na")" -extensions leaf_ext -out "$d/pre.pem" \
		>"$d/ca.log" 2>&1 || { cat "$d/ca.log" >&2; return 1; }
	_kl_tbs "$d/pre.pem" "$d/tbs.der" || return 1
	# 2. RFC 6962 §3.2 digitally-signed struct for a precert entry
	ts=$((nb * 1000))
	{
		printf '0000%s0001' "$(_kl_be "$ts" 8)"
		xxd -p "$KL/int.keyhash"
		_kl_be "$(stat -c %s "$d/tbs.der")" 3
		xxd -p "$d/tbs.der"
		printf '0000'
	} | tr -d '\n' | xxd -r -p >"$d/sct.signed"
	openssl dgst -sha256 -sign "$KL/ctlog.key" -out "$d/sct.sig" "$d/sct.signed" || return 1
	sig=$(xxd -p "$d/sct.sig" | tr -d '\n')
	# SCT v1: version, log id, timestamp, no extensions, sha256/ecdsa, sig
	sct="00$(_kl_spki_der "$KL/ctlog.key" | openssl dgst -sha256 -binary | xxd -p | tr -d '\n')"
	sct="$sct$(_kl_be "$ts" 8)00000403$(_kl_be $((${#sig} / 2)) 2)$sig"
	list="$(_kl_be $((${#sct} / 2 + 2)) 2)$(_kl_be $((${#sct} / 2)) 2)$sct"
	# 3. the certificate: same serial, times and extensions, SCT list last
	_kl_leaf_conf "$d" "$d/leaf.cnf" "$san" "$iss" "04$(_kl_derlen $((${#list} / 2)))$list"
	: >"$d/index.txt"
	echo "$serial" >"$d/serial"
	openssl ca -batch -notext -config "$d/leaf.cnf" -cert "$KL/int.pem" -keyfile "$KL/int.key" \
		-in "$d/leaf.csr" -subj / -startdate "$(_kl_asn1time "$nb")" \
		-enddate "$(_kl_asn1time "$na")" -extensions leaf_ext -out "$KL/$name.pem" \
		>"$d/ca.log" 2>&1 || { cat "$d/ca.log" >&2; return 1; }
}

rekor_bundle() {
	local sig=$1 signer=$2 payload=$3 itime=$4 log=${5:-rekor} body idhex canon setsig idx
	body=$(printf '{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"%s"}},"signature":{"content":"%s","publicKey":{"content":"%s"}}}}' \
		"$(sha256sum "$payload" | cut -d' ' -f1)" "$sig" "$(_kl_b64 "$signer")" | _kl_b64)
	idhex=$(_kl_spki_der "$KL/$log.key" | sha256sum | cut -d' ' -f1)
	KL_LOG_INDEX=$((KL_LOG_INDEX + 1))
	idx=$KL_LOG_INDEX
	canon=$(printf '{"body":"%s","integratedTime":%s,"logID":"%s","logIndex":%s}' "$body" "$itime" "$idhex" "$idx")
	setsig=$(printf '%s' "$canon" | openssl dgst -sha256 -sign "$KL/$log.key" | _kl_b64) || return 1
	printf '{"SignedEntryTimestamp":"%s","Payload":{"body":"%s","integratedTime":%s,"logIndex":%s,"logID":"%s"}}' \
		"$setsig" "$body" "$itime" "$idx" "$idhex"
}

# _kl_layer REPO PAYLOAD SIG_B64 ANNOTATIONS_JSON: push + print descriptor
_kl_layer() {
	push_blob "$1" "$2" >/dev/null || return 1
	jq -cn --arg mt "$MT_SIMPLESIGNING" --arg dg "$(sha256_of "$2")" \
		--argjson size "$(stat -c %s "$2")" --arg sig "$3" --argjson ann "$4" \
		'{mediaType: $mt, digest: $dg, size: $size,
		  annotations: ({"dev.cosignproject.cosign/signature": $sig} + $ann)}'
}

keyless_sig_layer() {
	local repo=$1 payload=$2 name=$3 itime=${4:-$(($(date +%s) - 30))} log=${5:-rekor} sig bundle=""
	sig=$(openssl dgst -sha256 -sign "$KL/$name.key" "$payload" | _kl_b64) || return 1
	if [ "$itime" != none ]; then
		bundle=$(rekor_bundle "$sig" "$KL/$name.pem" "$payload" "$itime" "$log") || return 1
	fi
	_kl_layer "$repo" "$payload" "$sig" "$(jq -cn --rawfile cert "$KL/$name.pem" \
		--rawfile chain "$KL/chain.pem" --arg bundle "$bundle" \
		'{"dev.sigstore.cosign/certificate": $cert, "dev.sigstore.cosign/chain": $chain}
		 + (if $bundle == "" then {} else {"dev.sigstore.cosign/bundle": $bundle} end)')"
}

key_sig_layer_tlog() {
	local repo=$1 payload=$2 key=$3 itime=${4:-$(($(date +%s) - 30))} log=${5:-rekor} sig bundle
	sig=$(openssl dgst -sha256 -sign "$T/$key.key" "$payload" | _kl_b64) || return 1
	bundle=$(rekor_bundle "$sig" "$T/$key.pub" "$payload" "$itime" "$log") || return 1
	_kl_layer "$repo" "$payload" "$sig" "$(jq -cn --arg b "$bundle" '{"dev.sigstore.cosign/bundle": $b}')"
}

# _kl_tlog_entry BODY_FILE KIND ITIME LOG: one tlogEntries[] element (JSON)
#   for that canonicalized body, with a SET from LOG at ITIME and an
#   inclusion proof in a one-leaf tree (root = leaf hash) under a checkpoint
#   signed by LOG.
_kl_tlog_entry() {
	local bodyf=$1 kind=$2 itime=$3 log=$4 d body idhex idb64 canon setsig root note cpsig hint idx
	d="$bodyf.entry"
	mkdir -p "$d"
	body=$(_kl_b64 "$bodyf")
	_kl_spki_der "$KL/$log.key" >"$d/logspki"
	idhex=$(sha256sum "$d/logspki" | cut -d' ' -f1)
	idb64=$(openssl dgst -sha256 -binary "$d/logspki" | _kl_b64)
	hint=$(openssl dgst -sha256 -binary "$d/logspki" | head -c 4 | xxd -p)
	KL_LOG_INDEX=$((KL_LOG_INDEX + 1))
	idx=$KL_LOG_INDEX
	canon=$(printf '{"body":"%s","integratedTime":%s,"logID":"%s","logIndex":%s}' "$body" "$itime" "$idhex" "$idx")
	setsig=$(printf '%s' "$canon" | openssl dgst -sha256 -sign "$KL/$log.key" | _kl_b64) || return 1
	root=$({ printf '\000'; cat "$bodyf"; } | openssl dgst -sha256 -binary | _kl_b64)
	note=$(printf 'rekor.test.invalid - 4242\n1\n%s\n' "$root")
	printf '%s\n' "$note" >"$d/note"
	cpsig=$({ printf '%s' "$hint" | xxd -r -p; openssl dgst -sha256 -sign "$KL/$log.key" "$d/note"; } | _kl_b64) || return 1
	printf '%s\n\n\xe2\x80\x94 rekor.test.invalid %s\n' "$note" "$cpsig" >"$d/checkpoint"
	jq -cn --arg idx "$idx" --arg id "$idb64" --arg t "$itime" --arg set "$setsig" \
		--arg root "$root" --rawfile cp "$d/checkpoint" --arg body "$body" --arg kind "$kind" '
		{logIndex: $idx, logId: {keyId: $id},
		 kindVersion: {kind: $kind, version: "0.0.1"}, integratedTime: $t,
		 inclusionPromise: {signedEntryTimestamp: $set},
		 inclusionProof: {logIndex: "0", rootHash: $root, treeSize: "1", hashes: [],
			checkpoint: {envelope: $cp}},
		 canonicalizedBody: $body}'
}

# sigstore_bundle_dsse NAME DIGEST [ITIME [LOG]]
#   a Sigstore bundle v0.3 (cosign v3's form) on stdout: a DSSE envelope
#   over an in-toto statement whose subject digest is DIGEST, signed with
#   $KL/NAME.key, the leaf $KL/NAME.pem as verification material, and one
#   dsse v0.0.1 tlog entry (_kl_tlog_entry: SET and inclusion proof).
sigstore_bundle_dsse() {
	local name=$1 digest=$2 itime=${3:-$(($(date +%s) - 30))} log=${4:-rekor}
	local d="$KL/bundle-$name-$RANDOM" pt=application/vnd.in-toto+json sig entry
	mkdir -p "$d"
	printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"image","digest":{"sha256":"%s"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://provgate.test/build"}}}' \
		"${digest#sha256:}" >"$d/payload"
	printf 'DSSEv1 %d %s %d ' "${#pt}" "$pt" "$(stat -c %s "$d/payload")" >"$d/pae"
	cat "$d/payload" >>"$d/pae"
	sig=$(openssl dgst -sha256 -sign "$KL/$name.key" "$d/pae" | _kl_b64) || return 1
	jq -cn --arg p "$(_kl_b64 "$d/payload")" --arg t "$pt" --arg s "$sig" \
		'{payload: $p, payloadType: $t, signatures: [{sig: $s, keyid: ""}]}' >"$d/envelope"
	printf '{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"%s"},"payloadHash":{"algorithm":"sha256","value":"%s"},"signatures":[{"signature":"%s","verifier":"%s"}]}}' \
		"$(sha256sum "$d/envelope" | cut -d' ' -f1)" "$(sha256sum "$d/payload" | cut -d' ' -f1)" \
		"$sig" "$(_kl_b64 "$KL/$name.pem")" >"$d/body"
	entry=$(_kl_tlog_entry "$d/body" dsse "$itime" "$log") || return 1
	jq -cn --arg cert "$(openssl x509 -in "$KL/$name.pem" -outform DER | _kl_b64)" \
		--argjson entry "$entry" --slurpfile env "$d/envelope" '
		{mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		 verificationMaterial: {certificate: {rawBytes: $cert}, tlogEntries: [$entry]},
		 dsseEnvelope: $env[0]}'
}

# sigstore_bundle_message NAME FILE [ITIME [LOG]]
#   a Sigstore bundle v0.3 holding a messageSignature (a blob signature)
#   over FILE's bytes, signed with $KL/NAME.key, with a hashedrekord v0.0.1
#   tlog entry (SET + inclusion proof): what `cosign sign-blob` makes.
sigstore_bundle_message() {
	local name=$1 file=$2 itime=${3:-$(($(date +%s) - 30))} log=${4:-rekor}
	local d="$KL/mbundle-$name-$RANDOM" sig entry
	mkdir -p "$d"
	sig=$(openssl dgst -sha256 -sign "$KL/$name.key" "$file" | _kl_b64) || return 1
	printf '{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"%s"}},"signature":{"content":"%s","publicKey":{"content":"%s"}}}}' \
		"$(sha256sum "$file" | cut -d' ' -f1)" "$sig" "$(_kl_b64 "$KL/$name.pem")" >"$d/body"
	entry=$(_kl_tlog_entry "$d/body" hashedrekord "$itime" "$log") || return 1
	jq -cn --arg cert "$(openssl x509 -in "$KL/$name.pem" -outform DER | _kl_b64)" \
		--argjson entry "$entry" --arg sig "$sig" \
		--arg dg "$(openssl dgst -sha256 -binary "$file" | _kl_b64)" '
		{mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		 verificationMaterial: {certificate: {rawBytes: $cert}, tlogEntries: [$entry]},
		 messageSignature: {messageDigest: {algorithm: "SHA2_256", digest: $dg}, signature: $sig}}'
}

# tsa_setup: a test RFC 3161 timestamp authority (root + signing
# certificate with the critical timeStamping EKU) added to $KL_ROOT's
# timestampAuthorities.
tsa_setup() {
	_kl_ca_conf "$KL/tsaca"
	printf '%s\n' '[tsa_ext]' 'basicConstraints = critical, CA:false' \
		'keyUsage = critical, digitalSignature' 'extendedKeyUsage = critical, timeStamping' \
		'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' >>"$KL/tsaca/ca.cnf"
	_kl_genkey "$KL/tsaroot.key" && _kl_genkey "$KL/tsa.key" || return 1
	echo 01 >"$KL/tsaca/serial"
	openssl req -new -key "$KL/tsaroot.key" -subj "/O=provgate-test/CN=test-tsa-root" \
		-out "$KL/tsaroot.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$KL/tsaca/ca.cnf" -selfsign -keyfile "$KL/tsaroot.key" \
			-in "$KL/tsaroot.csr" -startdate 20200101000000Z -enddate 20491231000000Z \
			-extensions root_ext -out "$KL/tsaroot.pem" >/dev/null 2>&1 || return 1
	openssl req -new -key "$KL/tsa.key" -subj "/O=provgate-test/CN=test-tsa" \
		-out "$KL/tsa.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$KL/tsaca/ca.cnf" -cert "$KL/tsaroot.pem" \
			-keyfile "$KL/tsaroot.key" -in "$KL/tsa.csr" -startdate 20200101000000Z \
			-enddate 20491231000000Z -extensions tsa_ext -out "$KL/tsa.pem" >/dev/null 2>&1 ||
		return 1
	printf '%s\n' '[tsa]' 'default_tsa = t' '[t]' "serial = $KL/tsa.serial" \
		'signer_digest = sha256' 'default_policy = 1.2.3.4.1' 'other_policies = 1.2.3.4.2' \
		'digests = sha256' 'ess_cert_id_alg = sha256' 'accuracy = secs:1' 'ordering = no' \
		'tsa_name = no' 'ess_cert_id_chain = no' 'crypto_device = builtin' >"$KL/ts.cnf"
	echo 01 >"$KL/tsa.serial"
	jq --arg leaf "$(openssl x509 -in "$KL/tsa.pem" -outform DER | _kl_b64)" \
		--arg root "$(openssl x509 -in "$KL/tsaroot.pem" -outform DER | _kl_b64)" '
		.timestampAuthorities += [{subject: {organization: "provgate-test", commonName: "test-tsa"},
			uri: "https://tsa.test.invalid",
			certChain: {certificates: [{rawBytes: $leaf}, {rawBytes: $root}]},
			validFor: {start: "2020-01-01T00:00:00Z"}}]' "$KL_ROOT" >"$KL_ROOT.new" &&
		mv "$KL_ROOT.new" "$KL_ROOT"
}

# tsa_timestamp FILE: base64 RFC 3161 TimeStampResp over FILE's bytes from
# the test TSA (tsa_setup first), time now.
tsa_timestamp() {
	local q="$1.tsq" r="$1.tsr"
	openssl ts -query -data "$1" -sha256 -cert -out "$q" 2>/dev/null &&
		openssl ts -reply -config "$KL/ts.cnf" -queryfile "$q" -signer "$KL/tsa.pem" \
			-inkey "$KL/tsa.key" -chain "$KL/tsaroot.pem" -out "$r" 2>/dev/null || return 1
	_kl_b64 "$r"
}

# bundle_unsigned_time BUNDLE_FILE ITIME [TSA]: the bundle with its SET
#   removed and integratedTime set to ITIME (the inclusion proof stays);
#   with TSA=tsa, a timestamp over the signature from the test TSA added.
bundle_unsigned_time() {
	local b=$1 itime=$2 tsa=${3:-} ts="" sigf="$1.sig"
	if [ "$tsa" = tsa ]; then
		jq -r '.dsseEnvelope.signatures[0].sig // .messageSignature.signature' "$b" |
			base64 -d >"$sigf" || return 1
		ts=$(tsa_timestamp "$sigf") || return 1
	fi
	jq -c --arg t "$itime" --arg ts "$ts" '
		.verificationMaterial.tlogEntries[0] |= (del(.inclusionPromise) | .integratedTime = $t)
		| if $ts == "" then . else
		  .verificationMaterial.timestampVerificationData = {rfc3161Timestamps: [{signedTimestamp: $ts}]} end' "$b"
}
