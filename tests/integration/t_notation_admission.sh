#!/bin/bash
# Notation signatures end to end: images in a real docker-registry (TLS,
# loopback) signed with JWS and COSE envelopes made by tests/tools/nvsign
# with a test-made CA, leaves and an `openssl ts` TSA, pushed as
# signature manifests (new form with artifactType, and the older form with
# config.mediaType) behind the referrers tag schema; decided by `notation`
# verifier entries (inline trust, an imported notation configuration, and a
# mixed cosign+notation rule) through `provgate review` and through the
# server, which must agree case by case; then `provgate verify-notation
# IMAGE --config DIR` online.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_notation.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_notation_admission" "docker-registry not installed"; exit 0; }
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
[ -x "$NVSIGN" ] || { notok "nvsign" "$NVSIGN missing (make $BUILD/tools/nvsign)"; exit 1; }
mkdir -p "$T/nocfg"
export DOCKER_CONFIG="$T/nocfg"

registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
nv_pki "$T/nv" || { notok "test Notation PKI"; exit 1; }
[ -f "$T/nv/old.pem" ] && [ -f "$T/nv/tsa.pem" ] || { notok "test Notation PKI" "missing certificates"; exit 1; }
make_key good || { notok "cosign key"; exit 1; }
ok "registry on $REG, Notation CA, leaves and TSA"
NOW=$(date +%s)
TSA=$(nv_tsa_cmd "$T/nv")

# sign REPO DIGEST FORMAT KEY CHAIN [nvsign options...]: sign for DIGEST,
# print the envelope path (the descriptor is the manifest as served).
sign() {
	local repo=$1 dg=$2 fmt=$3 key=$4 chain=$5 f
	shift 5
	f="$T/env.$RANDOM$RANDOM.$fmt"
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST, $MT_OCI_INDEX" -o "$f.m" \
		"https://$REG/v2/$repo/manifests/$dg" || return 1
	ASAN_OPTIONS=detect_leaks=0 "$NVSIGN" --format "$fmt" --key "$T/nv/$key" --chain "$T/nv/$chain" \
		--media-type "$(jq -r .mediaType "$f.m")" --digest "$dg" --size "$(stat -c %s "$f.m")" \
		--out "$f" "$@" || return 1
	echo "$f"
}
mt_of() { case "$1" in *.cose) echo application/cose ;; *) echo application/jose+json ;; esac; }
# signed REPO TAG FORMAT KEY CHAIN [nvsign options...]: image + one signature
signed() {
	local repo=$1 tag=$2 d e
	shift 2
	d=$(make_image "$repo" "$tag") || return 1
	e=$(sign "$repo" "$d" "$@") || return 1
	push_nv_sig "$repo" "$d" "$e" "$(mt_of "$e")" >/dev/null || return 1
	echo "$d"
}

D_JWS=$(signed nv/jws v1 jws leaf.key chain.pem --tsa-cmd "$TSA")
D_COSE=$(signed nv/cose v1 cose ec.key ec-chain.pem --tsa-cmd "$TSA")
D_LEGACY=$(make_image nv/legacy v1) && E=$(sign nv/legacy "$D_LEGACY" cose leaf.key chain.pem --tsa-cmd "$TSA") &&
	push_nv_sig nv/legacy "$D_LEGACY" "$E" application/cose legacy >/dev/null
D_ID=$(signed nv/identity v1 jws other.key other-chain.pem --tsa-cmd "$TSA")
D_DUPO=$(signed nv/dupo v1 jws dupo.key dupo-chain.pem --tsa-cmd "$TSA")
D_MULTI=$(signed nv/multi v1 cose multi.key multi-chain.pem --tsa-cmd "$TSA")
D_ROOT=$(signed nv/root v1 jws evil.key evil-chain.pem --tsa-cmd "$TSA")
D_EXP=$(signed nv/expired v1 jws leaf.key chain.pem --tsa-cmd "$TSA" --time $((NOW - 120)) --expiry $((NOW - 60)))
D_TAMP=$(signed nv/tamper v1 cose leaf.key chain.pem --tsa-cmd "$TSA" --tamper)
D_OTHER=$(make_image nv/digest v1) && D_DIG=$(make_image nv/digest v2) &&
	E=$(sign nv/digest "$D_OTHER" jws leaf.key chain.pem --tsa-cmd "$TSA") &&
	push_nv_sig nv/digest "$D_DIG" "$E" application/jose+json >/dev/null
D_OLD=$(signed nv/old v1 jws old.key old-chain.pem --tsa-cmd "$TSA" --time $((NOW - 86400 * 2)))
D_NOTST=$(signed nv/notst v1 jws leaf.key chain.pem)
D_CRIT=$(signed nv/crit v1 cose leaf.key chain.pem --tsa-cmd "$TSA" --crit io.example.unknown)
D_UNS=$(make_image nv/unsigned v1)
D_TWO=$(make_image nv/two v1) && E=$(sign nv/two "$D_TWO" jws evil.key evil-chain.pem --tsa-cmd "$TSA") &&
	push_nv_sig nv/two "$D_TWO" "$E" application/jose+json >/dev/null &&
	E=$(sign nv/two "$D_TWO" cose leaf.key chain.pem --tsa-cmd "$TSA") &&
	push_nv_sig nv/two "$D_TWO" "$E" application/cose >/dev/null
D_PERM=$(signed nvp/app v1 cose leaf.key chain.pem)
D_PERMOLD=$(signed nvp/old v1 jws old.key old-chain.pem --time $((NOW - 86400 * 2)))
D_IMP=$(signed imp/app v1 jws leaf.key chain.pem --tsa-cmd "$TSA")
D_IMPX=$(signed imp/other v1 jws leaf.key chain.pem --tsa-cmd "$TSA")
D_MIX=$(signed mix/both v1 jws leaf.key chain.pem --tsa-cmd "$TSA") &&
	sig_payload "$REG/mix/both" "$D_MIX" >"$T/pl.mix" && L=$(sig_layer mix/both "$T/pl.mix" "$T/good.key") &&
	push_sig mix/both "$D_MIX" "$L" >/dev/null
D_MIXNV=$(signed mix/nvonly v1 jws leaf.key chain.pem --tsa-cmd "$TSA")
D_CRLOK=$(signed crl/ok v1 jws crlok.key crlok-chain.pem --tsa-cmd "$TSA")
D_CRLREV=$(signed crl/revoked v1 cose revoked.key revoked-chain.pem --tsa-cmd "$TSA")
D_CRLSTALE=$(signed crlstale/ok v1 jws crlok.key crlok-chain.pem --tsa-cmd "$TSA")
D_CRLNONE=$(signed nv/crlnone v1 jws crlok.key crlok-chain.pem --tsa-cmd "$TSA")
D_CRLLOG=$(signed crllog/ok v1 jws crlok.key crlok-chain.pem --tsa-cmd "$TSA")
D_CRLSKIP=$(signed crlskip/ok v1 jws crlok.key crlok-chain.pem --tsa-cmd "$TSA")
D_CRLLOGREV=$(signed crllog/revoked v1 jws revoked.key revoked-chain.pem --tsa-cmd "$TSA")

# OCI Helm charts, stored as helm push stores them, signed like images.
push_chart() { # REPO NAME VERSION: prints the manifest digest
	local repo=$1 name=$2 ver=$3 d="$T/chart.$2.$3.$RANDOM"
	mkdir -p "$d/$name/templates"
	printf 'apiVersion: v2\nname: %s\nversion: %s\ndescription: test chart\ntype: application\n' "$name" "$ver" >"$d/$name/Chart.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/$name/templates/cm.yaml"
	tar -C "$d" -czf "$d/$name-$ver.tgz" "$name" || return 1
	printf '{"name":"%s","version":"%s","apiVersion":"v2","type":"application"}' "$name" "$ver" >"$d/config.json"
	push_blob "$repo" "$d/config.json" >/dev/null && push_blob "$repo" "$d/$name-$ver.tgz" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" application/vnd.cncf.helm.config.v1+json)" \
		"$(desc_of "$d/$name-$ver.tgz" application/vnd.cncf.helm.chart.content.v1.tar+gzip)" >"$d/manifest.json"
	push_manifest "$repo" "$ver" "$d/manifest.json" "$MT_OCI_MANIFEST"
}
D_CHART=$(push_chart ncharts/web web 1.2.3) && E=$(sign ncharts/web "$D_CHART" cose leaf.key chain.pem --tsa-cmd "$TSA") &&
	push_nv_sig ncharts/web "$D_CHART" "$E" application/cose >/dev/null
D_CHARTBAD=$(push_chart ncharts/api api 0.1.0) && E=$(sign ncharts/api "$D_CHARTBAD" jws evil.key evil-chain.pem --tsa-cmd "$TSA") &&
	push_nv_sig ncharts/api "$D_CHARTBAD" "$E" application/jose+json >/dev/null
D_CHARTRAW=$(push_chart ncharts/raw raw 2.0.0)

for v in D_JWS D_COSE D_LEGACY D_ID D_ROOT D_EXP D_TAMP D_DIG D_OLD D_NOTST D_CRIT D_UNS D_TWO \
	D_PERM D_PERMOLD D_IMP D_IMPX D_MIX D_MIXNV D_CHART D_CHARTBAD D_CHARTRAW \
	D_CRLOK D_CRLREV D_CRLSTALE D_CRLNONE D_CRLLOG D_CRLSKIP D_CRLLOGREV; do
	[[ ${!v} == sha256:* ]] || { notok "push images and Notation signatures" "$v is empty"; exit 1; }
done
ok "push images and Notation signatures"

# An imported notation configuration, as notation/Flux/Ratify keep it.
nv_config "$T/nvcfg" "$REG/imp/app" strict 1 "$T/nv"

POL="$T/policy"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: notation
spec:
  mode: enforce
  trust:
    keys:
      good: {path: $T/good.pub}
    certs:
      acme: {path: $T/nv/ca.pem}
      acme-tsa: {path: $T/nv/tsa-root.pem}
      acme-crl: {path: $T/nv/acme.crl}
      acme-crl-stale: {path: $T/nv/stale.crl}
  images:
    - name: nv-strict
      match: ["$REG/nv/**"]
      verify:
        - notation:
            ca: [acme]
            tsa: [acme-tsa]
            identities: ["x509.subject: C=US, ST=WA, O=acme"]
            level: strict
            verifyTimestamp: always
            revocation: enforce
    - name: nv-crl
      match: ["$REG/crl/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], crls: [acme-crl], identities: ["*"]}
    - name: nv-crl-stale
      match: ["$REG/crlstale/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], crls: [acme-crl-stale], identities: ["*"]}
    - name: nv-crl-log
      match: ["$REG/crllog/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], crls: [acme-crl], identities: ["*"], revocation: log}
    - name: nv-crl-skip
      match: ["$REG/crlskip/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["*"], revocation: skip}
    - name: nv-no-tsa
      match: ["$REG/nvp/**"]
      verify:
        - notation: {ca: [acme], identities: ["*"]}
    - name: nv-imported
      match: ["$REG/imp/**"]
      verify:
        - notation: {config: $T/nvcfg}
    - name: cosign-and-notation
      match: ["$REG/mix/**"]
      verify:
        - cosign: {key: good}
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["x509.subject: O=acme, ST=WA, C=US"]}
      require: all
      tlog: optional
  charts:
    - name: nv-charts
      match: ["oci://$REG/ncharts/**"]
      verify:
        - notation: {ca: [acme], tsa: [acme-tsa], identities: ["x509.subject: C=US, ST=WA, O=acme"]}
  registries:
    - host: "$REG"
      caFile: $PKI/ca.pem
EOF
out=$("$PG" policy check "$POL" 2>&1)
check "policy with notation entries loads" test $? = 0 || echo "# $out"

cases() {
	cat <<EOF
JWS, RSA leaf, RFC 3161 timestamp|$REG/nv/jws:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_JWS
COSE, ECDSA P-256 leaf, timestamp|$REG/nv/cose:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_COSE
older signature form (config.mediaType)|$REG/nv/legacy:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_LEGACY
by digest|$REG/nv/jws@$D_JWS|true|^$|$D_JWS
wrong identity|$REG/nv/identity:v1|false|authenticity: trustedIdentities|
subject with O=other and O=acme|$REG/nv/dupo:v1|false|authenticity: trustedIdentities: the signing certificate's subject repeats O|
subject with acme in a multi-valued RDN|$REG/nv/multi:v1|false|authenticity: trustedIdentities: the signing certificate's subject has a multi-valued RDN|
untrusted root (same subject as the trusted one)|$REG/nv/root:v1|false|does not contain any trusted certificate|
expired signature|$REG/nv/expired:v1|false|expiry: digital signature has expired|
tampered payload|$REG/nv/tamper:v1|false|integrity: signature does not verify|
signature for another digest|$REG/nv/digest:v2|false|targetArtifact: the signed artifact .*$D_OTHER|
timestamp after the certificate expired|$REG/nv/old:v1|false|authenticTimestamp: timestamp range|
tsa store configured, no timestamp|$REG/nv/notst:v1|false|no timestamp countersignature was found|
unknown critical header|$REG/nv/crit:v1|false|plugin: .*unknown critical attribute|
unsigned image|$REG/nv/unsigned:v1|false|no Notation signatures found for $REG/nv/unsigned@$D_UNS|
bad signature then good one|$REG/nv/two:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_TWO
no tsa store, chain valid now|$REG/nvp/app:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_PERM
no tsa store, chain expired|$REG/nvp/old:v1|false|authenticTimestamp: .*expired at|
imported notation configuration|$REG/imp/app:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_IMP
imported configuration, repository outside its scopes|$REG/imp/other:v1|false|no applicable trust policy for $REG/imp/other|
require all: cosign and notation|$REG/mix/both:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_MIX
require all: notation only|$REG/mix/nvonly:v1|false|rule cosign-and-notation requires 2 of 2 verifiers, only 1 verified|
CRL given, leaf not revoked|$REG/crl/ok:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_CRLOK
CRL given, leaf revoked|$REG/crl/revoked:v1|false|revocation: certificate "CN=acme revoked signer.*" is revoked|
CRL out of date: status unknown, enforced|$REG/crlstale/ok:v1|false|revocation: .*is unknown \\(its CRL is out of date\\)|
leaf names a CDP, no CRL given, strict|$REG/nv/crlnone:v1|false|revocation: .*is unknown \\(no CRL given|
revocation log, CRL given, leaf not revoked|$REG/crllog/ok:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_CRLLOG
revocation log: revoked leaf only logged|$REG/crllog/revoked:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_CRLLOGREV
revocation skip: CDP leaf admitted|$REG/crlskip/ok:v1|true|^(provgate: tag .* verified as sha256:[0-9a-f]{64}; a tag can move.*)$|$D_CRLSKIP
Argo CD Application, OCI chart signed|argo:$REG/ncharts,web,1.2.3|true|^$|$D_CHART
Argo CD Application, OCI chart signed by an untrusted root|argo:$REG/ncharts,api,0.1.0|false|does not contain any trusted certificate|
Argo CD Application, unsigned OCI chart|argo:$REG/ncharts,raw,2.0.0|false|no Notation signatures found for $REG/ncharts/raw@$D_CHARTRAW|
Flux OCIRepository, OCI chart signed|flux:oci://$REG/ncharts/web,1.2.3|true|^$|$D_CHART
EOF
}

# obj_for N SPEC: the object a case names (a Pod by default, "argo:REPO,CHART,REV"
# or "flux:URL,TAG"); prints its namespace.
obj_for() {
	local n=$1 spec=$2 a b c
	case "$spec" in
	argo:*)
		IFS=, read -r a b c <<<"${spec#argo:}"
		jq -cn --arg n "n$n" --arg r "$a" --arg c "$b" --arg v "$c" '{apiVersion: "argoproj.io/v1alpha1",
			kind: "Application", metadata: {name: $n},
			spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
			       source: {repoURL: $r, chart: $c, targetRevision: $v}}}' >"$T/pod.$n.json"
		echo argocd ;;
	flux:*)
		IFS=, read -r a b <<<"${spec#flux:}"
		jq -cn --arg n "n$n" --arg u "$a" --arg t "$b" '{apiVersion: "source.toolkit.fluxcd.io/v1beta2",
			kind: "OCIRepository", metadata: {name: $n}, spec: {interval: "10m", url: $u, ref: {tag: $t}}}' >"$T/pod.$n.json"
		echo flux-system ;;
	*)
		pod_for "case-$n" "$spec" >"$T/pod.$n.json"
		echo default ;;
	esac
}

pod_for() {
	jq -cn --arg n "$1" --arg imgs "$2" '{apiVersion: "v1", kind: "Pod",
		metadata: {name: $n}, spec: {containers: [$imgs | split(",") | to_entries[] |
		{name: "c\(.key)", image: .value}]}}'
}

judge() {
	local where=$1 name=$2 want=$3 re=$4 dg=$5 out=$6 sum got text inann
	# one jq: allowed, DIGEST in auditAnnotations, the message (as
	# review_summary escapes it)
	sum=$(jq -r --arg d "$dg" '[(.response.allowed|tostring),
		([(.response.auditAnnotations // {})[] | select(contains($d))] | length > 0 | tostring),
		([.response.status.message // ((.response.warnings // []) | join("; "))] | @tsv)]
		| join("\u001f")' <<<"$out" 2>/dev/null)
	split_fields "$sum" got inann text
	if [ "$got" != "$want" ]; then
		notok "$where: $name" "allowed=$got want $want: $text"
		return
	fi
	if ! [[ $text =~ $re ]]; then
		notok "$where: $name" "message [$text] does not match /$re/"
		return
	fi
	if [ -n "$dg" ] && [ "$inann" != true ]; then
		notok "$where: $name" "digest $dg not in auditAnnotations $(jq -c .response.auditAnnotations <<<"$out")"
		return
	fi
	ok "$where: $name"
}

i=0
while IFS='|' read -r name imgs want re dg; do
	i=$((i + 1))
	ns=$(obj_for "$i" "$imgs")
	mkreview "$T/pod.$i.json" "$ns" CREATE v1 "uid-$i" >"$T/rv.$i.json"
	out=$("$PG" review --policy "$POL" "$T/rv.$i.json" 2>"$T/rvlog.$i")
	rc=$?
	want_rc=1; [ "$want" = true ] && want_rc=0
	if [ "$rc" != "$want_rc" ]; then
		notok "review: $name" "exit $rc, want $want_rc: $(head -c 300 "$T/rvlog.$i") $(review_summary "$out" 2>/dev/null)"
		continue
	fi
	judge review "$name" "$want" "$re" "$dg" "$out"
done < <(cases)

if start_provgate "$POL" --workers 2; then
	ok "provgate serve starts"
	i=0
	while IFS='|' read -r name imgs want re dg; do
		i=$((i + 1))
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$i.json" "$PG_URL/validate")
		judge server "$name" "$want" "$re" "$dg" "$out"
	done < <(cases)
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi

# The CLI, online, with the imported configuration.
out=$("$PG" verify-notation "$REG/imp/app:v1" --config "$T/nvcfg" --ca-file "$PKI/ca.pem" 2>&1)
rc=$?
expect_eq "verify-notation IMAGE: exit 0" "$rc" 0
expect_match "verify-notation IMAGE: success line" "$out" "^Successfully verified signature for $REG/imp/app@$D_IMP"
out=$("$PG" verify-notation "$REG/imp/other:v1" --config "$T/nvcfg" --ca-file "$PKI/ca.pem" 2>&1)
rc=$?
expect_eq "verify-notation IMAGE out of scope: exit 1" "$rc" 1
expect_match "verify-notation IMAGE out of scope: reason" "$out" "^Error: .*no applicable trust policy"
nv_config "$T/nvcfg2" "$REG/nv/identity" strict 1 "$T/nv"
out=$("$PG" verify-notation "$REG/nv/identity:v1" --config "$T/nvcfg2" --ca-file "$PKI/ca.pem" 2>&1)
expect_match "verify-notation IMAGE wrong identity fails at authenticity" "$out" "^Error: .*authenticity: trustedIdentities"
out=$("$PG" verify-notation "$REG/nv/identity:v1" --config "$T/nocfg" --ca-file "$PKI/ca.pem" 2>&1)
rc=$?
expect_eq "verify-notation IMAGE without a trust policy: exit 2" "$rc" 2
