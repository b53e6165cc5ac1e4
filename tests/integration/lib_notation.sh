# Test-made Notation PKI and signing (bash, after lib.sh):
#
#   nv_pki DIR     in DIR: a code-signing root CA (ca.pem) with an RSA-3072
#                  leaf (leaf.pem/leaf.key, chain.pem = leaf+root), an
#                  ECDSA P-256 leaf (ec-chain.pem/ec.key), a leaf of another
#                  organisation (other-chain.pem/other.key), an expired leaf
#                  (old-chain.pem/old.key, valid from 3 days to 1 day ago),
#                  leaves of "other" whose subject also carries O=acme, as a
#                  second O (dupo-chain.pem) or in a multi-valued RDN
#                  (multi-chain.pem),
#                  leaves with a CRL distribution point (crlok-chain.pem,
#                  revoked-chain.pem, revoked in acme.crl; stale.crl is past
#                  its nextUpdate; the point is $NV_CDP, default
#                  http://crl.acme.invalid/acme.crl), a leaf whose point is
#                  $NV_CDP_DEAD (dead-chain.pem/dead.key), a second,
#                  untrusted root with its own leaf (evil-chain.pem/evil.key),
#                  and a TSA (tsa-root.pem, tsa.pem/tsa.key, EKU timeStamping
#                  critical) with an `openssl ts` config (tsa.cnf)
#   nv_tsa_cmd DIR the --tsa-cmd for tests/tools/nvsign: a shell command
#                  "CMD SIGFILE TOKENFILE" that time-stamps SIGFILE
#   push_nv_sig REPO DIGEST ENVELOPE MEDIATYPE [legacy]
#                  push ENVELOPE as a Notation signature of REPO@DIGEST: the
#                  signature manifest (artifactType, or with "legacy" the older
#                  form with config.mediaType instead) and the referrers
#                  tag-schema index sha256-<hex>, to which each call appends
#   nv_config DIR SCOPE [LEVEL] [TSA]   a notation config dir with
#                  trustpolicy.oci.json (SCOPE, identities C=US,ST=WA,O=acme)
#                  and truststore/x509/ca/acme (+ tsa/acme-tsa when TSA=1)
NVSIGN="$BUILD/tools/nvsign"

nv_pki() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		cat >ext.cnf <<-EOF
			[ca]
			basicConstraints = critical,CA:TRUE
			keyUsage = critical,keyCertSign,cRLSign
			subjectKeyIdentifier = hash
			[leaf]
			basicConstraints = CA:FALSE
			keyUsage = critical,digitalSignature
			extendedKeyUsage = codeSigning
			[crlleaf]
			basicConstraints = CA:FALSE
			keyUsage = critical,digitalSignature
			extendedKeyUsage = codeSigning
			crlDistributionPoints = URI:${NV_CDP:-http://crl.acme.invalid/acme.crl}
			[deadleaf]
			basicConstraints = CA:FALSE
			keyUsage = critical,digitalSignature
			extendedKeyUsage = codeSigning
			crlDistributionPoints = URI:${NV_CDP_DEAD:-http://crl.acme.invalid/dead.crl}
			[tsa]
			basicConstraints = CA:FALSE
			keyUsage = critical,digitalSignature
			extendedKeyUsage = critical,timeStamping
			[req]
			distinguished_name = dn
			[dn]
		EOF
		# Every certificate is issued by `openssl ca` with explicit dates,
		# roots and leaves alike: not-before an hour back (30 days for roots).
		# Issued "now", a certificate made in the same second as a
		# signature fails Notation's rule that it be valid over the whole
		# timestamp range (genTime +- accuracy, 1 s here), which a fast
		# fixture hit.  One database for all of them (unique serials; the
		# CRLs list only what is revoked).
		mkdir -p ca.db
		: >ca.db/index
		echo 1000 >ca.db/serial
		cat >ca.db/ca.cnf <<-EOF
			[ca]
			default_ca = d
			[d]
			database = ca.db/index
			new_certs_dir = ca.db
			serial = ca.db/serial
			default_md = sha256
			policy = p
			preserve = yes
			unique_subject = no
			copy_extensions = none
			[p]
			countryName = optional
			stateOrProvinceName = optional
			localityName = optional
			organizationName = optional
			commonName = supplied
		EOF
		mkroot() { # name subject
			test_key "$1.key" rsa:3072 "nv-$1" &&
				openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" -config ext.cnf 2>/dev/null &&
				openssl ca -batch -config ca.db/ca.cnf -selfsign -keyfile "$1.key" -in "$1.csr" \
					-startdate "$(date -u -d '-30 days' +%Y%m%d%H%M%SZ)" \
					-enddate "$(date -u -d '+3650 days' +%Y%m%d%H%M%SZ)" \
					-extfile ext.cnf -extensions ca -notext -out "$1.pem" 2>/dev/null
		}
		# mkleaf NAME SUBJECT ISSUER KEYSPEC [EXT]
		# mkleaf NAME SUBJECT ISSUER KEYSPEC STARTDATE ENDDATE [EXT]
		mkleaf() {
			local start end ext
			if [ $# -ge 6 ]; then
				start=$5 end=$6 ext=${7:-leaf}
			else
				start=$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)
				end=$(date -u -d '+365 days' +%Y%m%d%H%M%SZ)
				ext=${5:-leaf}
			fi
			if [ "$4" = ec ]; then
				test_key "$1.key" ec "nv-$1"
			else
				test_key "$1.key" "rsa:$4" "nv-$1"
			fi
			openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" -config ext.cnf 2>/dev/null
			openssl ca -batch -config ca.db/ca.cnf -cert "$3.pem" -keyfile "$3.key" \
				-in "$1.csr" -startdate "$start" -enddate "$end" -extfile ext.cnf \
				-extensions "$ext" -notext -out "$1.pem" 2>/dev/null
		}
		mkroot ca "/C=US/ST=WA/O=acme/CN=acme root"
		mkleaf leaf "/C=US/ST=WA/L=Seattle/O=acme/CN=acme signer" ca 3072
		cat leaf.pem ca.pem >chain.pem
		mkleaf ec "/C=US/ST=WA/O=acme/CN=acme ec signer" ca ec
		cat ec.pem ca.pem >ec-chain.pem
		mkleaf old "/C=US/ST=WA/O=acme/CN=acme old signer" ca 2048 \
			"$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)" "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)"
		cat old.pem ca.pem >old-chain.pem
		mkleaf other "/C=US/ST=WA/O=other/CN=other signer" ca 2048
		cat other.pem ca.pem >other-chain.pem
		# Subjects notation refuses to match: O twice (one of them the
		# trusted acme), and acme inside a multi-valued RDN.
		mkleaf dupo "/C=US/ST=WA/O=other/O=acme/CN=other signer" ca 2048
		cat dupo.pem ca.pem >dupo-chain.pem
		# `openssl ca` flattens a multi-valued RDN, `openssl x509 -req`
		# keeps it (not-before "now" is harmless: authenticity fails first).
		test_key multi.key rsa:2048 nv-multi &&
			openssl req -new -key multi.key -subj "/C=US/ST=WA/O=other/CN=other signer+O=acme" \
				-out multi.csr -config ext.cnf 2>/dev/null &&
			openssl x509 -req -in multi.csr -CA ca.pem -CAkey ca.key -set_serial 4242 -days 30 \
				-extfile ext.cnf -extensions leaf -out multi.pem 2>/dev/null
		cat multi.pem ca.pem >multi-chain.pem
		# Leaves naming a CRL distribution point; one revoked.  acme.crl is
		# current, stale.crl expired a second after it was made.
		mkleaf crlok "/C=US/ST=WA/O=acme/CN=acme crl signer" ca 2048 \
			"$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" crlleaf
		cat crlok.pem ca.pem >crlok-chain.pem
		mkleaf revoked "/C=US/ST=WA/O=acme/CN=acme revoked signer" ca 2048 \
			"$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" crlleaf
		cat revoked.pem ca.pem >revoked-chain.pem
		mkleaf dead "/C=US/ST=WA/O=acme/CN=acme dead-cdp signer" ca 2048 \
			"$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" deadleaf
		cat dead.pem ca.pem >dead-chain.pem
		openssl ca -config ca.db/ca.cnf -cert ca.pem -keyfile ca.key -revoke revoked.pem 2>/dev/null
		openssl ca -config ca.db/ca.cnf -cert ca.pem -keyfile ca.key -gencrl -crldays 7 \
			-out acme.crl 2>/dev/null
		openssl ca -config ca.db/ca.cnf -cert ca.pem -keyfile ca.key -gencrl -crlsec 1 \
			-out stale.crl 2>/dev/null
		mkroot evil "/C=US/ST=WA/O=acme/CN=acme root"
		mkleaf evilleaf "/C=US/ST=WA/L=Seattle/O=acme/CN=acme signer" evil 3072
		cat evilleaf.pem evil.pem >evil-chain.pem
		cp evilleaf.key evil.key
		mkroot tsa-root "/C=US/ST=WA/O=acme/CN=acme tsa root"
		mkleaf tsa "/C=US/ST=WA/O=acme/CN=acme tsa" tsa-root 2048 tsa
		cat >tsa.cnf <<-EOF
			[tsa]
			default_tsa = tsa_config
			[tsa_config]
			dir = $d
			serial = $d/tsaserial
			signer_cert = $d/tsa.pem
			certs = $d/tsa-root.pem
			signer_key = $d/tsa.key
			signer_digest = sha256
			default_policy = 1.2.3.4.1
			digests = sha256, sha384, sha512
			accuracy = secs:1
			ess_cert_id_alg = sha256
			ess_cert_id_chain = no
			ordering = no
			tsa_name = yes
		EOF
		echo 01 >tsaserial
		cat >tsa.sh <<-EOF
			#!/bin/sh
			# \$1 signature bytes, \$2 token out
			openssl ts -query -data "\$1" -sha256 -cert -no_nonce -out "\$2.tsq" 2>/dev/null &&
			openssl ts -reply -config "$d/tsa.cnf" -queryfile "\$2.tsq" -token_out -out "\$2" 2>/dev/null
			rc=\$?; rm -f "\$2.tsq"; exit \$rc
		EOF
		chmod +x tsa.sh
	)
}

nv_tsa_cmd() { echo "$1/tsa.sh"; }

nv_config() {
	local d=$1 scope=$2 level=${3:-strict} tsa=${4:-0} pki=$5 stores
	mkdir -p "$d/truststore/x509/ca/acme"
	cp "$pki/ca.pem" "$d/truststore/x509/ca/acme/"
	stores='"ca:acme"'
	if [ "$tsa" = 1 ]; then
		mkdir -p "$d/truststore/x509/tsa/acme-tsa"
		cp "$pki/tsa-root.pem" "$d/truststore/x509/tsa/acme-tsa/"
		stores='"ca:acme", "tsa:acme-tsa"'
	fi
	cat >"$d/trustpolicy.oci.json" <<-EOF
		{"version": "1.0", "trustPolicies": [{"name": "acme", "registryScopes": ["$scope"],
		 "signatureVerification": {"level": "$level"}, "trustStores": [$stores],
		 "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme"]}]}
	EOF
}

push_nv_sig() {
	local repo=$1 digest=$2 env=$3 mt=$4 form=${5:-} f subj rd idx entries
	f="$T/nvsig.$RANDOM$RANDOM"
	idx="$T/nvidx.${repo//\//_}.${digest#sha256:}"
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST, $MT_OCI_INDEX" -o "$f.subj" \
		"https://$REG/v2/$repo/manifests/$digest" || return 1
	printf '{}' >"$f.cfg"
	push_blobs "$repo" "$env" "$f.cfg" >/dev/null || return 1
	subj=$(printf '{"mediaType":"%s","digest":"%s","size":%s}' \
		"$(jq -r .mediaType "$f.subj")" "$digest" "$(stat -c %s "$f.subj")")
	if [ "$form" = legacy ]; then
		printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.cncf.notary.signature","digest":"%s","size":2},"layers":[%s],"subject":%s,"annotations":{"io.cncf.notary.x509chain.thumbprint#S256":"[]"}}' \
			"$MT_OCI_MANIFEST" "$(sha256_of "$f.cfg")" "$(desc_of "$env" "$mt")" "$subj" >"$f.json"
	else
		printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.cncf.notary.signature","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[%s],"subject":%s,"annotations":{"io.cncf.notary.x509chain.thumbprint#S256":"[]"}}' \
			"$MT_OCI_MANIFEST" "$(sha256_of "$f.cfg")" "$(desc_of "$env" "$mt")" "$subj" >"$f.json"
	fi
	rd=$(sha256_of "$f.json")
	entries=$(cat "$idx" 2>/dev/null)
	entries="$entries${entries:+,}$(printf '{"mediaType":"%s","digest":"%s","size":%s,"artifactType":"application/vnd.cncf.notary.signature"}' \
		"$MT_OCI_MANIFEST" "$rd" "$(stat -c %s "$f.json")")"
	printf '%s' "$entries" >"$idx"
	printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s]}' "$MT_OCI_INDEX" "$entries" >"$f.index"
	# The signature manifest, then the index naming it, in one process.
	_reg_push "$repo" 0 "$rd" "$f.json" "$MT_OCI_MANIFEST" \
		"sha256-${digest#sha256:}" "$f.index" "$MT_OCI_INDEX" || return 1
	echo "$rd"
}
