#!/bin/bash
# One resolution per verification (issue 17): a registry that answers the
# same tag differently on successive requests — the signed manifest first and
# an unsigned one second, or the reverse — must get either the verified bytes
# admitted, or a deny.  Never a signature of one manifest vouching for
# another's content.
#
# The registry is a real docker-registry (TLS, loopback) fronted by the
# misbehaving proxy (tests/tools/badserver.c, modes flip/flop): a manifest
# requested by tag is answered with the upstream's <tag> and <tag>-alt in
# turn.  <tag> is signed (cosign legacy signature with a Rekor SET, Helm
# provenance layer for charts), <tag>-alt is an unsigned artifact of the same
# name and version (for charts: one that binds default to cluster-admin).
# The proxy counts the tag requests it answers, so every case also checks
# that one verification resolved its reference exactly once.
#
# Matrix: images (two cosign verifiers, require all), OCI charts named by
# Argo CD Applications and Helm release Secrets with rules [cosign], [prov]
# and [prov, cosign] (require all) — through `provgate review` and the server.
# And OCI charts under [cosign, notation] (require all): signed with both
# (cnv), and split (cnvx: cosign on the signed tag, the Notation signature
# on the -alt manifest only), which a second resolution for the Notation
# verifier would admit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_review.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_keyless.sh"
source "$(dirname "$0")/lib_badserver.sh"
source "$(dirname "$0")/lib_server.sh"
source "$(dirname "$0")/lib_notation.sh"

for tool in gpg gpg-connect-agent tar jq gzip /usr/bin/docker-registry; do
	command -v $tool >/dev/null || { skip "tag flip" "$tool not installed"; exit 0; }
done
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
[ -x "$BADSERVER" ] || { notok "badserver" "$BADSERVER missing (make tools)"; exit 1; }
export HOME="$T/home" GNUPGHOME="$T/gnupg" TMPDIR="$T/tmp" DOCKER_CONFIG="$T/nocfg"
mkdir -p -m 700 "$HOME" "$GNUPGHOME" "$TMPDIR" "$DOCKER_CONFIG"
registry_start || { notok "registry starts" "$(cat "$T"/registry-*.err 2>/dev/null | tail -3)"; exit 1; }
BAD_UPSTREAM=$REG badserver_start || { notok "flip proxy starts" "$(cat "$T"/badserver.err)"; exit 1; }
BAD="127.0.0.1:$BAD_MAIN"
keyless_setup || { notok "test Sigstore"; exit 1; }
make_key good && make_key good2 || { notok "keys"; exit 1; }
exec 3>&2 2>"$T/tools.err"
gpg --batch --passphrase '' --quick-gen-key "Flip Signer <flip@provgate.test>" ed25519 sign never
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export flip@provgate.test >"$T/charts.gpg"
FPR=$(gpg --with-colons --list-keys flip@provgate.test | awk -F: '/^fpr/{print $10; exit}')
exec 2>&3

MT_HELM_CONFIG=application/vnd.cncf.helm.config.v1+json
MT_HELM_CONTENT=application/vnd.cncf.helm.chart.content.v1.tar+gzip
MT_HELM_PROV=application/vnd.cncf.helm.chart.provenance.v1.prov

# cosign_sign REPO DIGEST KEY...: one legacy signature layer per key
cosign_sign() {
	local repo=$1 dg=$2 f="$T/pl.$RANDOM" layers=() k l
	shift 2
	sig_payload "$REG/$repo" "$dg" >"$f"
	for k in "$@"; do
		l=$(key_sig_layer_tlog "$repo" "$f" "$k") || return 1
		layers+=("$l")
	done
	push_sig "$repo" "$dg" "${layers[@]}" >/dev/null
}

# chart_src DIR NAME good|evil: the chart's sources in DIR/NAME
chart_src() {
	local d=$1 n=$2
	mkdir -p "$d/$n/templates"
	printf 'apiVersion: v2\ndescription: flip chart\nname: %s\nversion: 1.0.0\n' "$n" >"$d/$n/Chart.yaml"
	if [ "$3" = good ]; then
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/$n/templates/cm.yaml"
	else
		printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: pwn\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: default}]\n' >"$d/$n/templates/rbac.yaml"
	fi
}

# nv_sign REPO DIGEST: a Notation signature (JWS, acme leaf) of the manifest
nv_sign() {
	local f="$T/nv.$RANDOM"
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST" -o "$f.m" "https://$REG/v2/$1/manifests/$2" &&
		ASAN_OPTIONS=detect_leaks=0 "$NVSIGN" --format jws --key "$T/nv/leaf.key" --chain "$T/nv/chain.pem" \
			--media-type "$MT_OCI_MANIFEST" --digest "$2" --size "$(stat -c %s "$f.m")" --out "$f.jws" &&
		push_nv_sig "$1" "$2" "$f.jws" application/jose+json >/dev/null
}

# push_flip_chart REPO NAME [nv|nvx]: tag 1.0.0 = good chart, signed (prov
# layer + cosign, and with nv a Notation signature); tag 1.0.0-alt = evil
# chart of the same name and version, unsigned (with nvx: Notation-signed
# only).  Prints the signed manifest digest.
push_flip_chart() {
	local repo=$1 n=$2 nv=${3:-} d v layers dg alt
	for v in good evil; do
		d="$T/src-$n-$v"
		chart_src "$d" "$n" "$v"
		tar -C "$d" -czf "$d/$n-1.0.0.tgz" "$n" || return 1
		printf '{"apiVersion":"v2","name":"%s","version":"1.0.0"}' "$n" >"$d/config.json"
		push_blob "$repo" "$d/config.json" >/dev/null && push_blob "$repo" "$d/$n-1.0.0.tgz" >/dev/null || return 1
		layers=$(desc_of "$d/$n-1.0.0.tgz" "$MT_HELM_CONTENT")
		if [ $v = good ]; then
			{ cat "$d/$n/Chart.yaml"; printf '\n...\nfiles:\n  %s-1.0.0.tgz: sha256:%s\n' "$n" "$(sha256sum "$d/$n-1.0.0.tgz" | cut -d' ' -f1)"; } |
				gpg --batch --yes -u "$FPR" --clearsign >"$d/prov" 2>/dev/null
			push_blob "$repo" "$d/prov" >/dev/null || return 1
			layers="$layers,$(desc_of "$d/prov" "$MT_HELM_PROV")"
		fi
		printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
			"$(desc_of "$d/config.json" "$MT_HELM_CONFIG")" "$layers" >"$d/manifest.json"
		if [ $v = good ]; then
			dg=$(push_manifest "$repo" 1.0.0 "$d/manifest.json" "$MT_OCI_MANIFEST") || return 1
			cosign_sign "$repo" "$dg" good || return 1
			if [ "$nv" = nv ]; then nv_sign "$repo" "$dg" || return 1; fi
		else
			alt=$(push_manifest "$repo" 1.0.0-alt "$d/manifest.json" "$MT_OCI_MANIFEST") || return 1
			if [ "$nv" = nvx ]; then nv_sign "$repo" "$alt" || return 1; fi
		fi
	done
	echo "$dg"
}

nv_pki "$T/nv" || { notok "Notation PKI"; exit 1; }
D_COS=$(push_flip_chart cos/flipc flipc) && D_PROV=$(push_flip_chart prov/flipp flipp) &&
	D_BOTH=$(push_flip_chart both/flipb flipb) &&
	D_CNV=$(push_flip_chart cnv/flipn flipn nv) && D_CNVX=$(push_flip_chart cnvx/flipx flipx nvx) &&
	D_IMG=$(make_image apps/img v1) && cosign_sign apps/img "$D_IMG" good good2 &&
	make_image apps/img v1-alt >/dev/null ||
	{ notok "push signed and unsigned artifacts"; exit 1; }
ok "push signed tags and unsigned -alt tags to the real registry"

# The proxy really flips: two requests of one tag, two different manifests.
m1=$(curl -sS --cacert "$PKI/ca.pem" -H "Accept: $MT_OCI_MANIFEST" "https://$BAD/v2/flip/probe/cos/flipc/manifests/1.0.0" | sha256sum | cut -d' ' -f1)
m2=$(curl -sS --cacert "$PKI/ca.pem" -H "Accept: $MT_OCI_MANIFEST" "https://$BAD/v2/flip/probe/cos/flipc/manifests/1.0.0" | sha256sum | cut -d' ' -f1)
if [ "sha256:$m1" = "$D_COS" ] && [ "$m2" != "$m1" ]; then ok "the proxy answers the same tag differently in turn"; else
	notok "the proxy answers the same tag differently in turn" "$m1 / $m2 (signed $D_COS)"; fi

POL="$T/pol"
mkdir -p "$POL"
cat >"$POL/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: flip}
spec:
  mode: enforce
  trust:
    keys:
      good: {path: $T/good.pub}
      good2: {path: $T/good2.pub}
    keyrings:
      charts: {path: $T/charts.gpg}
    roots:
      test-sigstore: {path: $KL_ROOT}
    certs:
      acme: {path: $T/nv/ca.pem}
  images:
    - name: img
      match: ["$BAD/**"]
      verify:
        - cosign: {key: good}
        - cosign: {key: good2}
      require: all
  charts:
    - name: cos
      match: ["oci://$BAD/*/*/cos/**"]
      repository: oci://$BAD/flip/rel/cos
      chartNames: [flipc]
      verify:
        - cosign: {key: good}
    - name: prov
      match: ["oci://$BAD/*/*/prov/**"]
      repository: oci://$BAD/flip/rel/prov
      chartNames: [flipp]
      verify:
        - prov: {keyring: charts}
    - name: both
      match: ["oci://$BAD/*/*/both/**"]
      repository: oci://$BAD/flip/rel/both
      chartNames: [flipb]
      verify:
        - prov: {keyring: charts}
        - cosign: {key: good}
      require: all
    - name: cnv
      match: ["oci://$BAD/*/*/cnv/**", "oci://$BAD/*/*/cnvx/**"]
      verify:
        - cosign: {key: good}
        - notation: {ca: [acme], identities: ["x509.subject: C=US, ST=WA, O=acme"]}
      require: all
  registries:
    - host: "$BAD"
      caFile: $PKI/ca.pem
EOF
"$PG" policy check "$POL" >"$T/pc.out" 2>&1 && ok "policy loads" || { notok "policy loads" "$(cat "$T/pc.out")"; exit 1; }

pod() { jq -cn --arg i "$1" '{apiVersion: "v1", kind: "Pod", metadata: {name: "p"},
	spec: {containers: [{name: "c", image: $i}]}}'; }
argo() { jq -cn --arg r "$1" --arg c "$2" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
	metadata: {name: "a"}, spec: {project: "default", source: {repoURL: $r, chart: $c, targetRevision: "1.0.0"}}}'; }
# release NAME good|evil: the Secret Helm writes for a release of chart NAME
# 1.0.0 whose content is the good (signed) or the evil chart
release() {
	local n=$1 d="$T/src-$1-$2" tf tn man
	tf=$(cd "$d/$n" && ls templates)
	tn="templates/$tf"
	man=$(printf -- '---\n# Source: %s/%s\n%s\n' "$n" "$tn" "$(sed 's/{{ .Release.Name }}/rel/' "$d/$n/$tn")")
	jq -cn --arg n "$n" --arg tn "$tn" --arg t "$(base64 -w0 <"$d/$n/$tn")" --arg m "$man" '{name: "rel",
		namespace: "web", version: 1, info: {status: "deployed"},
		chart: {metadata: {apiVersion: "v2", description: "flip chart", name: $n, version: "1.0.0"},
			templates: [{name: $tn, data: $t}], files: [], values: {}},
		config: {}, manifest: $m}' | gzip -c | base64 -w0 | base64 -w0 >"$T/rel.b64"
	jq -cn --rawfile d "$T/rel.b64" '{apiVersion: "v1", kind: "Secret", type: "helm.sh/release.v1",
		metadata: {name: "sh.helm.release.v1.rel.v1", labels: {owner: "helm", name: "rel", version: "1"}},
		data: {release: ($d | rtrimstr("\n"))}}'
}

# Expected outcome of the k-th resolution of a tag in a mode: flip answers
# the signed tag on odd requests, flop on even ones.
signed_turn() { # MODE K
	if [ "$1" = flip ]; then [ $(($2 % 2)) = 1 ]; else [ $(($2 % 2)) = 0 ]; fi
}

# run_case WHERE NAME OBJECT NS WANT(true|false) DIGEST-if-allowed RE-if-denied
N=0
run_case() {
	local where=$1 name=$2 obj=$3 ns=$4 want=$5 dg=$6 re=$7 before after out log got text inlog
	N=$((N + 1))
	printf '%s' "$obj" >"$T/obj.$N.json"
	mkreview "$T/obj.$N.json" "$ns" CREATE v1 "uid-$N" >"$T/rv.$N.json"
	before=$(bad_count flips)
	if [ "$where" = review ]; then
		out=$("$PG" review --policy "$POL" --timeout-ms 15000 "$T/rv.$N.json" 2>"$T/log.$N")
		log=$(tail -n 1 "$T/log.$N")
	else
		out=$(pgcurl -H 'Content-Type: application/json' --data-binary "@$T/rv.$N.json" "$PG_URL/validate")
		log=$(grep -F "\"uid-$N\"" "$T/provgate.out" | tail -n 1)
	fi
	after=$(bad_count flips)
	# one jq: allowed, the signed digest allowed in the log line, the text
	# (status message | annotations)
	text=$(jq -r --arg d "$dg" --arg log "$log" '[(.response.allowed|tostring),
		(($log | fromjson? // {}) as $l | ([($l.references // [])[] | select(.digest == $d)] | length > 0) | tostring),
		(.response.status.message // "") + " | " + ([.response.auditAnnotations // {} | .[]] | join("; "))]
		| join("\u001f")' <<<"$out" 2>/dev/null)
	split_fields "$text" got inlog text
	LAST_TEXT=$text
	if [ $((after - before)) != 1 ]; then
		notok "$where: $name" "the tag was resolved $((after - before)) times in one verification: $text"
	elif [ "$got" != "$want" ]; then
		notok "$where: $name" "allowed=$got want $want: $text"
	elif [ "$want" = true ] && [ "$inlog" != true ]; then
		notok "$where: $name" "the signed digest $dg is not the one logged: ${log:0:400}"
	elif [ "$want" = true ] && ! [[ $text == *"digest=$dg"* ]]; then
		notok "$where: $name" "the signed digest $dg is not in auditAnnotations: $text"
	elif [ "$want" = false ] && ! [[ $text =~ $re ]]; then
		notok "$where: $name" "reason does not match /$re/: $text"
	else
		ok "$where: $name"
	fi
}

declare -A K # resolutions so far per release chart (release rules share one key)
matrix() { # WHERE
	local w=$1 mode rule dg n v want
	for mode in flip flop; do
		want=false; [ $mode = flip ] && want=true
		run_case "$w" "image, $mode: $( [ $mode = flip ] && echo 'signed first: the signed digest' || echo 'unsigned first: deny')" \
			"$(pod "$BAD/$mode/$w-i/apps/img:v1")" default $want "$D_IMG" 'no signatures found'
		for rule in cos prov both cnv; do
			case $rule in cos) n=flipc; dg=$D_COS ;; prov) n=flipp; dg=$D_PROV ;; both) n=flipb; dg=$D_BOTH ;;
				cnv) n=flipn; dg=$D_CNV ;; esac
			run_case "$w" "OCI chart [$rule], $mode: $( [ $mode = flip ] && echo 'signed first: the signed digest' || echo 'unsigned first: deny')" \
				"$(argo "oci://$BAD/$mode/$w-c/$rule" "$n")" argocd $want "$dg" 'no signatures found|no provenance'
		done
		run_case "$w" "OCI chart [cosign, notation] split over the two answers, $mode: deny" \
			"$(argo "oci://$BAD/$mode/$w-c/cnvx" flipx)" argocd false '' \
			'requires 2 of 2 verifiers, only 1 verified|no signatures found'
		[ $mode = flip ] && expect_match "$w: the split chart's deny names the missing Notation signature" \
			"$LAST_TEXT" "no Notation signatures found for $BAD/$mode/$w-c/cnvx/flipx@$D_CNVX"
	done
	# Release Secrets: the rule's repository is one flipping tag; each
	# verification takes the next answer.
	for rule in cos prov both; do
		case $rule in cos) n=flipc; dg=$D_COS ;; prov) n=flipp; dg=$D_PROV ;; both) n=flipb; dg=$D_BOTH ;; esac
		for v in good good evil evil; do
			K[$n]=$((${K[$n]:-0} + 1))
			if [ $v = good ] && signed_turn flip "${K[$n]}"; then
				run_case "$w" "release [$rule] of the signed chart, signed answer: allowed with the signed digest" \
					"$(release $n good)" web true "$dg" ''
			elif [ $v = good ]; then
				run_case "$w" "release [$rule] of the signed chart, unsigned answer: deny" \
					"$(release $n good)" web false '' 'no signatures found|no provenance|differs from the verified archive'
			elif signed_turn flip "${K[$n]}"; then
				run_case "$w" "release [$rule] of the unsigned chart, signed answer first: deny (compared with the verified archive)" \
					"$(release $n evil)" web false '' 'differs from the verified archive'
			else
				run_case "$w" "release [$rule] of the unsigned chart, unsigned answer first: deny" \
					"$(release $n evil)" web false '' 'no signatures found|no provenance'
			fi
		done
	done
}

matrix review
if start_provgate "$POL" --workers 2 --timeout-ms 15000; then
	matrix server
else
	notok "provgate serve starts" "$(tail -5 "$T/provgate.err")"
fi
