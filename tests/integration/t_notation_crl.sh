#!/bin/bash
# Notation revocation by CRL distribution point: test-made leaves whose
# certificates name https://127.0.0.1:PORT/acme.crl, a real openssl-made
# CRL (DER) served over HTTPS by `openssl s_server -WWW`, images in the real
# docker-registry signed by tests/tools/nvsign; decided by `notation`
# verifier entries that give no CRL file, through `provgate review` and
# through the server: a good CRL passes, a revoked leaf is denied, a
# distribution point that does not answer follows `revocation:` (enforce
# denies, log and skip admit), and the server keeps a fetched CRL until its
# nextUpdate (a new image is admitted after the CRL server is gone).
# Also trust.certs paths that are directories (trust stores).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_notation.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_notation_crl" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
[ -x "$NVSIGN" ] || { notok "nvsign" "$NVSIGN missing (make $BUILD/tools/nvsign)"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
CRLPORT=$(free_port)
DEADPORT=$(free_port)
while [ "$DEADPORT" = "$CRLPORT" ]; do DEADPORT=$(free_port); done
NV_CDP="https://127.0.0.1:$CRLPORT/acme.crl" NV_CDP_DEAD="https://127.0.0.1:$DEADPORT/acme.crl" \
	nv_pki "$T/nv" || { notok "test Notation PKI"; exit 1; }
[ -f "$T/nv/dead.pem" ] && [ -f "$T/nv/acme.crl" ] || { notok "test Notation PKI" "missing files"; exit 1; }
openssl x509 -in "$T/nv/crlok.pem" -noout -text | grep -q "https://127.0.0.1:$CRLPORT/acme.crl" ||
	{ notok "leaf names the CRL distribution point"; exit 1; }
mkdir -p "$T/www"
openssl crl -in "$T/nv/acme.crl" -outform DER -out "$T/www/acme.crl" || { notok "DER CRL"; exit 1; }
(cd "$T/www" && exec openssl s_server -quiet -accept "127.0.0.1:$CRLPORT" -cert "$PKI/server.pem" \
	-key "$PKI/server.key" -WWW) >"$T/crlserver.out" 2>&1 &
CRL_PID=$!
PIDS+=("$CRL_PID")
wait_tcp "$CRLPORT" 20 || { notok "CRL server starts" "$(tail -3 "$T/crlserver.out")"; exit 1; }
code=$(curl -sS --cacert "$PKI/ca.pem" -o "$T/got.crl" -w '%{http_code}' "https://127.0.0.1:$CRLPORT/acme.crl")
if [ "$code" = 200 ] && cmp -s "$T/got.crl" "$T/www/acme.crl"; then
	ok "registry on $REG, CRL served over HTTPS on 127.0.0.1:$CRLPORT"
else
	notok "CRL served over HTTPS" "status $code"
	exit 1
fi
TSA=$(nv_tsa_cmd "$T/nv")

# Delta CRLs (RFC 5280 5.2.4, as a CA publishing a weekly base and daily
# deltas does): leaves whose distribution point is base.crl, a base that
# revokes nothing and names delta.crl (Freshest CRL), a delta that revokes
# dleaf; base2.crl names a delta nobody serves.  Given CRLs: base-rev lists
# dleaf, delta-empty adds nothing; crit-clean carries an unknown critical
# extension.
(
	cd "$T/nv" || exit 1
	{
		for n in dleaf dleaf2; do
			printf '[%s]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n' "$n"
			printf 'extendedKeyUsage = codeSigning\ncrlDistributionPoints = URI:https://127.0.0.1:%s/base.crl\n' "$CRLPORT"
		done
		printf '[dleaf3]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n'
		printf 'extendedKeyUsage = codeSigning\ncrlDistributionPoints = URI:https://127.0.0.1:%s/base2.crl\n' "$CRLPORT"
	} >dext.cnf
	for n in dleaf dleaf2 dleaf3; do
		test_key "$n.key" rsa:2048 "nv-$n" &&
			openssl req -new -key "$n.key" -subj "/C=US/ST=WA/O=acme/CN=acme $n signer" -out "$n.csr" \
				-config ext.cnf 2>/dev/null &&
			openssl ca -batch -config ca.db/ca.cnf -cert ca.pem -keyfile ca.key -in "$n.csr" \
				-startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" \
				-extfile dext.cnf -extensions "$n" -notext -out "$n.pem" 2>/dev/null &&
			cat "$n.pem" ca.pem >"$n-chain.pem" || exit 1
	done
	: >idx-empty
	: >idx-rev
	sed 's#database = ca.db/index#database = idx-rev#' ca.db/ca.cnf >rev.cnf
	openssl ca -config rev.cnf -cert ca.pem -keyfile ca.key -revoke dleaf.pem 2>/dev/null || exit 1
	mkcrl() { # OUT INDEX EXTSECTION CRLNUMBER
		echo "$4" >crlnum
		{
			sed -e "s#database = ca.db/index#database = $2#" -e "s#^\[d\]#[d]\ncrl_extensions = $3\ncrlnumber = crlnum#" ca.db/ca.cnf
			printf '[base]\nfreshestCRL = URI:https://127.0.0.1:%s/delta.crl\n' "$CRLPORT"
			printf '[base2]\nfreshestCRL = URI:https://127.0.0.1:%s/nodelta.crl\n' "$CRLPORT"
			printf '[delta]\n2.5.29.27 = critical,ASN1:INTEGER:1\n[plain]\nauthorityKeyIdentifier = keyid\n'
			printf '[crit]\n1.2.3.4.5.6 = critical,ASN1:NULL\n'
		} >crl.cnf
		openssl ca -config crl.cnf -cert ca.pem -keyfile ca.key -gencrl -crldays 7 -out "$1" 2>>crl.err
	}
	mkcrl base-clean.crl idx-empty base 01 && mkcrl delta-rev.crl idx-rev delta 02 &&
		mkcrl base-rev.crl idx-rev plain 03 && mkcrl delta-empty.crl idx-empty delta 04 &&
		mkcrl crit-clean.crl idx-empty crit 05 && mkcrl base2.crl idx-empty base2 06 || exit 1
	for f in base-clean:base delta-rev:delta base2:base2; do
		openssl crl -in "${f%%:*}.crl" -outform DER -out "$T/www/${f#*:}.crl" || exit 1
	done
) || { notok "delta CRL fixtures" "$(tail -3 "$T/nv/crl.err" 2>/dev/null)"; exit 1; }
openssl crl -in "$T/nv/delta-rev.crl" -noout -text | grep -q "Delta CRL Indicator: critical" &&
	openssl crl -in "$T/nv/base-clean.crl" -noout -text | grep -q "Freshest CRL" ||
	{ notok "delta CRL fixtures carry their extensions"; exit 1; }

# signed REPO TAG FORMAT KEY CHAIN: an image with one Notation signature.
signed() {
	local repo=$1 tag=$2 fmt=$3 key=$4 chain=$5 d f
	d=$(make_image "$repo" "$tag") || return 1
	f="$T/env.$RANDOM$RANDOM.$fmt"
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST, $MT_OCI_INDEX" -o "$f.m" \
		"https://$REG/v2/$repo/manifests/$d" || return 1
	ASAN_OPTIONS=detect_leaks=0 "$NVSIGN" --format "$fmt" --key "$T/nv/$key" --chain "$T/nv/$chain" \
		--media-type "$(jq -r .mediaType "$f.m")" --digest "$d" --size "$(stat -c %s "$f.m")" \
		--out "$f" --tsa-cmd "$TSA" || return 1
	push_nv_sig "$repo" "$d" "$f" "$([ "$fmt" = cose ] && echo application/cose || echo application/jose+json)" \
		>/dev/null || return 1
	echo "$d"
}

D_OK=$(signed cdp/ok v1 jws crlok.key crlok-chain.pem)
D_REV=$(signed cdp/revoked v1 cose revoked.key revoked-chain.pem)
D_DEAD=$(signed cdp/dead v1 jws dead.key dead-chain.pem)
D_DEADLOG=$(signed cdplog/dead v1 jws dead.key dead-chain.pem)
D_DEADSKIP=$(signed cdpskip/dead v1 jws dead.key dead-chain.pem)
D_LATE=$(signed cdp/late v1 jws crlok.key crlok-chain.pem)
D_DOK=$(signed cdp/dok v1 jws dleaf2.key dleaf2-chain.pem)
D_DREV=$(signed cdp/drev v1 jws dleaf.key dleaf-chain.pem)
D_DNONE=$(signed cdp/dnone v1 jws dleaf3.key dleaf3-chain.pem)
D_GREV=$(signed given/rev v1 jws dleaf.key dleaf-chain.pem)
D_GOK=$(signed given/ok v1 jws dleaf2.key dleaf2-chain.pem)
D_GDREV=$(signed givendelta/rev v1 jws dleaf.key dleaf-chain.pem)
D_CRIT=$(signed crit/ok v1 jws dead.key dead-chain.pem)
for v in D_OK D_REV D_DEAD D_DEADLOG D_DEADSKIP D_LATE D_DOK D_DREV D_DNONE D_GREV D_GOK D_GDREV D_CRIT; do
	[[ ${!v} == sha256:* ]] || { notok "push images and Notation signatures" "$v is empty"; exit 1; }
done
ok "push images and Notation signatures"

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: notation-crl
spec:
  mode: enforce
  trust:
    certs:
      acme: {path: $T/nv/ca.pem}
      acme-tsa: {path: $T/nv/tsa-root.pem}
      delta-empty: {path: $T/nv/delta-empty.crl}
      delta-rev: {path: $T/nv/delta-rev.crl}
      base-rev: {path: $T/nv/base-rev.crl}
      base-clean: {path: $T/nv/base-clean.crl}
      crit-clean: {path: $T/nv/crit-clean.crl}
  images:
    - name: given
      match: ["$REG/given/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], crls: [delta-empty, base-rev], identities: ["*"], revocation: enforce}
    - name: given-delta
      match: ["$REG/givendelta/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], crls: [delta-rev, base-clean], identities: ["*"], revocation: enforce}
    - name: crit
      match: ["$REG/crit/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], crls: [crit-clean], identities: ["*"], revocation: enforce}
    - name: cdp-enforce
      match: ["$REG/cdp/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["*"], revocation: enforce}
    - name: cdp-log
      match: ["$REG/cdplog/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["*"], revocation: log}
    - name: cdp-skip
      match: ["$REG/cdpskip/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["*"], revocation: skip}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
    - host: "127.0.0.1:$CRLPORT"
      caFile: $PKI/ca.pem
    - host: "127.0.0.1:$DEADPORT"
      caFile: $PKI/ca.pem
EOF
out=$("$PG" policy check "$POL" 2>&1)
check "policy loads" test $? = 0 || echo "# $out"

cases() {
	cat <<EOF
good CRL from the distribution point, leaf not revoked|$REG/cdp/ok:v1|true|verified|$D_OK
leaf revoked in the CRL from the distribution point|$REG/cdp/revoked:v1|false|revocation: certificate "CN=acme revoked signer.*" is revoked|
distribution point unreachable, revocation enforce|$REG/cdp/dead:v1|false|revocation: revocation status of certificate .*dead-cdp signer.* is unknown \\(no CRL given for it; CRL at https://127.0.0.1:$DEADPORT/acme.crl unavailable|
distribution point unreachable, revocation log|$REG/cdplog/dead:v1|true|verified|$D_DEADLOG
distribution point unreachable, revocation skip|$REG/cdpskip/dead:v1|true|verified|$D_DEADSKIP
base CRL names a delta that revokes the leaf|$REG/cdp/drev:v1|false|revocation: certificate "CN=acme dleaf signer.*" is revoked|
base CRL and its delta, leaf in neither|$REG/cdp/dok:v1|true|verified|$D_DOK
base CRL names a delta nobody serves|$REG/cdp/dnone:v1|false|revocation: revocation status of certificate .*dleaf3 signer.* is unknown \\(its CRL names a delta CRL, and no current delta was found|
given CRLs: an empty delta first, the base that revokes the leaf|$REG/given/rev:v1|false|revocation: certificate "CN=acme dleaf signer.*" is revoked|
given CRLs: an empty delta and a base, leaf in neither|$REG/given/ok:v1|true|verified|$D_GOK
given CRLs: a delta that revokes the leaf, a base that does not|$REG/givendelta/rev:v1|false|revocation: certificate "CN=acme dleaf signer.*" is revoked|
given CRL with an unknown critical extension, distribution point dead: not used|$REG/crit/ok:v1|false|revocation status of certificate .*dead-cdp signer.* is unknown \\(its CRL cannot be used: it has a critical extension provgate does not know|
EOF
}

judge() {
	local where=$1 name=$2 want=$3 re=$4 dg=$5 out=$6 sum got text
	sum=$(review_summary "$out" 2>/dev/null)
	got=${sum%%$'\t'*}
	text=${sum#*$'\t'}
	if [ "$got" != "$want" ]; then
		notok "$where: $name" "allowed=$got want $want: $text"
		return
	fi
	if [ "$want" = false ] && ! [[ $text =~ $re ]]; then
		notok "$where: $name" "message [$text] does not match /$re/"
		return
	fi
	if [ -n "$dg" ] && ! jq -e --arg d "$dg" '[.response.auditAnnotations[] | select(contains($d))] | length > 0' \
		<<<"$out" >/dev/null 2>&1; then
		notok "$where: $name" "digest $dg not in auditAnnotations $(jq -c .response.auditAnnotations <<<"$out")"
		return
	fi
	ok "$where: $name"
}

pod() {
	jq -cn --arg n "$1" --arg img "$2" '{apiVersion: "v1", kind: "Pod", metadata: {name: $n},
		spec: {containers: [{name: "c", image: $img}]}}'
}

i=0
while IFS='|' read -r name img want re dg; do
	i=$((i + 1))
	pod "case-$i" "$img" >"$T/pod.$i.json"
	mkreview "$T/pod.$i.json" default CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$POL" "$T/rv.$i.json" 2>"$T/rvlog.$i")
	judge review "$name" "$want" "$re" "$dg" "$out"
done < <(cases)

# trust.certs entries that are directories (Notary Project trust stores):
# PEM and DER files joined; a symlink, or more than 64 files, is refused.
mkdir -p "$T/store/cas" "$T/store/tsas" "$T/pol2"
cp "$T/nv/ca.pem" "$T/store/cas/acme.pem"
cp "$T/nv/evil.pem" "$T/store/cas/other.pem"
openssl x509 -in "$T/nv/tsa-root.pem" -outform DER -out "$T/store/tsas/tsa-root.der"
dirpol() { # CA_DIR: a policy whose acme store is CA_DIR
	cat <<EOF2
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: notation-dirs
spec:
  mode: enforce
  trust:
    certs:
      acme: {path: $1}
      acme-tsa: {path: $T/store/tsas}
  images:
    - name: dirs
      match: ["$REG/cdpskip/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["*"], revocation: skip}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF2
}
dirpol "$T/store/cas" >"$T/pol2/policy.yaml"
pod dirs "$REG/cdpskip/dead:v1" >"$T/pod.dirs.json"
mkreview "$T/pod.dirs.json" default CREATE v1 "uid-dirs" >"$T/rv.dirs.json"
out=$("$PG" review --policy "$T/pol2" "$T/rv.dirs.json" 2>/dev/null)
judge review "trust stores as directories (PEM and DER files)" true verified "$D_DEADSKIP" "$out"
mkdir -p "$T/store/evil"
cp "$T/nv/evil.pem" "$T/store/evil/evil.pem"
dirpol "$T/store/evil" >"$T/pol2/policy.yaml"
out=$("$PG" review --policy "$T/pol2" "$T/rv.dirs.json" 2>/dev/null)
judge review "trust store directory without the signing root" false "does not contain any trusted certificate" "" "$out"
mkdir -p "$T/store/link"
ln -s "$T/nv/ca.pem" "$T/store/link/acme.pem"
dirpol "$T/store/link" >"$T/pol2/policy.yaml"
out=$("$PG" policy check "$T/pol2" 2>&1)
rc=$?
expect_eq "trust store directory with a symlink: policy check fails" "$rc" 2
expect_match "trust store directory with a symlink: says why" "$out" "acme.pem is not a regular file .*symlinks are refused"
mkdir -p "$T/store/many"
for n in $(seq 1 65); do cp "$T/nv/ca.pem" "$T/store/many/c$n.pem"; done
dirpol "$T/store/many" >"$T/pol2/policy.yaml"
out=$("$PG" policy check "$T/pol2" 2>&1)
expect_match "trust store directory with 65 files: refused" "$out" "has more than 64 files"

if start_provgate "$POL" --workers 2; then
	ok "provgate serve starts"
	i=0
	while IFS='|' read -r name img want re dg; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		judge server "$name" "$want" "$re" "$dg" "$out"
	done < <(cases)
	# The CRL server goes away: the server still has the CRL (current
	# until its nextUpdate, a week away), so a new image by the same leaf
	# is judged with it, while a one-shot review cannot fetch it.
	kill "$CRL_PID" 2>/dev/null
	wait "$CRL_PID" 2>/dev/null
	pod "late" "$REG/cdp/late:v1" >"$T/pod.late.json"
	mkreview "$T/pod.late.json" default CREATE v1 "uid-late" >"$T/rv.late.json"
	out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.late.json" "$PG_URL/validate")
	judge server "CRL server gone, cached CRL still current: admitted" true verified "$D_LATE" "$out"
	out=$("$PG" review --policy "$POL" "$T/rv.late.json" 2>/dev/null)
	judge review "CRL server gone, nothing cached: denied" false \
		"is unknown \\(no CRL given for it; CRL at https://127.0.0.1:$CRLPORT/acme.crl unavailable" "" "$out"
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi
