#!/bin/bash
# Real registries and chart hosts, replayed in a network namespace this test
# makes: registry-1.docker.io, auth.docker.io, production.cloudflare.docker.com,
# ghcr.io, pkg-containers.githubusercontent.com, an ECR host and its S3
# bucket host, myorg.github.io, github.com and objects.githubusercontent.com
# resolve (through a hosts file bind-mounted over /etc/hosts inside the
# namespace) to addresses on the namespace's own loopback device, from the
# documentation ranges (203.0.113.0/24), with certificates from the test CA.
# The namespace has no route out; nothing here can reach a real host.
#
# Behind the names: real docker-registry instances (token auth with the realm
# on another host, Basic auth) over one storage, fronted by tests/tools/
# replay.c, which does what each provider's documentation says its service
# does: 401 -> realm on another host (service=registry.docker.io), blob 307
# to a CDN that refuses credentials, ECR Basic auth and a 307 to a pre-signed
# S3 URL with a long query string, GitHub release assets that 302 to
# objects.githubusercontent.com.  Charts are signed here with gpg, images with
# openssl the way cosign signs them.
#
# TEST-NET addresses are not public for provgate (IANA: not globally
# reachable), so the shipped binary refuses these hosts; that is checked.
# The flows run under build/tests/provgate-testnets, the same code with the
# test-only PROVGATE_TEST_PUBLIC_NETS switch compiled in (fetch.h).
#
# Private targets (internal.corp.example -> 10.99.0.5, literal 10.99.0.7)
# are listeners that log every accepted connection: the attack cases must
# leave them at zero.
if [ -z "${PG_REGISTRIES_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ] && ! unshare --user --map-root-user true 2>/dev/null; then
		echo "skip - registries replay: network namespaces need root or user namespaces"
		exit 0
	fi
	if ! unshare --net --mount true 2>/dev/null; then
		echo "skip - registries replay: cannot create a network namespace here ($(unshare --net --mount true 2>&1 | head -1))"
		exit 0
	fi
	PG_REGISTRIES_NETNS=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_registry.sh"
source "$(dirname "$0")/lib_token.sh"
source "$(dirname "$0")/lib_review.sh"

PGT="$BUILD/tests/provgate-testnets"
REPLAY="$BUILD/tools/replay"
[ -x /usr/bin/docker-registry ] || { skip "registries replay" "docker-registry not installed"; exit 0; }
for tool in gpg htpasswd jq openssl; do
	command -v $tool >/dev/null || { skip "registries replay" "$tool not installed"; exit 0; }
done
[ -x "$PG" ] || { notok "provgate binary" "$PG missing"; exit 1; }
[ -x "$PGT" ] || { notok "test build" "$PGT missing (make $PGT)"; exit 1; }
[ -x "$REPLAY" ] || { notok "replay tool" "$REPLAY missing"; exit 1; }

# --- the namespace: loopback only, names in a private hosts file ------------
ip link set lo up || { notok "loopback up in the namespace"; exit 1; }
if ip route show | grep -q .; then
	ip route show | grep -v 'dev lo' | grep -q . &&
		{ notok "namespace is isolated" "routes: $(ip route show | tr '\n' ' ')"; exit 1; }
fi
ok "in a fresh network namespace with no route out"
declare -A ADDR=(
	[registry-1.docker.io]=203.0.113.10 [auth.docker.io]=203.0.113.11
	[production.cloudflare.docker.com]=203.0.113.12
	[ghcr.io]=203.0.113.20 [pkg-containers.githubusercontent.com]=203.0.113.21
	[123456789012.dkr.ecr.us-east-1.amazonaws.com]=203.0.113.30
	[prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com]=203.0.113.31
	[myorg.github.io]=203.0.113.40 [github.com]=203.0.113.41
	[objects.githubusercontent.com]=203.0.113.42
	[zot]=203.0.113.50
	[internal.corp.example]=10.99.0.5
)
ECR=123456789012.dkr.ecr.us-east-1.amazonaws.com
S3=prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com
{
	echo "127.0.0.1 localhost"
	for h in "${!ADDR[@]}"; do echo "${ADDR[$h]} $h"; done
} >"$T/hosts"
for a in "${ADDR[@]}" 10.99.0.7; do ip addr add "$a/32" dev lo || { notok "address $a"; exit 1; }; done
mount --bind "$T/hosts" /etc/hosts || { notok "hosts file in the namespace"; exit 1; }
expect_eq "auth.docker.io resolves inside the namespace" "$(getent hosts auth.docker.io | awk '{print $1}')" 203.0.113.11

# --- certificates: one for every name, from the test CA ----------------------
test_pki || { notok "test pki"; exit 1; }
san=$(for h in "${!ADDR[@]}"; do printf 'DNS:%s,' "$h"; done)
san="${san}IP:10.99.0.7,IP:127.0.0.1"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=replay" \
	-keyout "$T/names.key" -out "$T/names.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$T/names.ext" &&
	openssl x509 -req -in "$T/names.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/names.ext" -out "$T/names.pem" 2>/dev/null ||
	{ notok "certificate for the replayed names"; exit 1; }

# --- images: pushed to a plain registry, served by the authenticated ones ----
export DOCKER_CONFIG="$T/nocfg"
mkdir -p "$DOCKER_CONFIG"
registry_start || { notok "registry starts" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
DATA=$(sed -n 's/^ *rootdirectory: //p' "$REG_CONFIG")
make_key good || { notok "keys"; exit 1; }
signed() { # REPO TAG -> digest of a signed image
	local d
	d=$(make_image "$1" "$2") && sig_payload "$3/$1" "$d" >"$T/p.$2.$RANDOM" &&
		L=$(sig_layer "$1" "$(ls -t "$T"/p.$2.* | head -1)" "$T/good.key") &&
		push_sig "$1" "$d" "$L" >/dev/null && echo "$d"
}
D_HUB=$(signed library/app signed docker.io) && D_HUBU=$(make_image library/app unsigned) &&
	D_HUBEVIL=$(signed library/app evil docker.io) &&
	D_HUBSTEAL=$(signed library/app steal docker.io) &&
	D_GH=$(signed myorg/app signed ghcr.io) && D_GHU=$(make_image myorg/app unsigned) &&
	D_ECR=$(signed team/app signed "$ECR") && D_ECRU=$(make_image team/app unsigned) ||
	{ notok "push images"; exit 1; }
# OCI charts for a registry whose name has no dot and no port ("zot", an
# in-cluster Service): helm and Argo CD pull oci://zot/app from zot itself.
oci_chart() { # NAME VERSION -> manifest digest, as helm push stores it
	local d="$T/oc.$1.$2"
	mkdir -p "$d/$1"
	printf 'apiVersion: v2\nname: %s\nversion: %s\n' "$1" "$2" >"$d/$1/Chart.yaml"
	tar -C "$d" -czf "$d/c.tgz" "$1" && printf '{"name":"%s","version":"%s","apiVersion":"v2"}' "$1" "$2" >"$d/config.json" &&
		push_blobs "$1" "$d/config.json" "$d/c.tgz" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" application/vnd.cncf.helm.config.v1+json)" \
		"$(desc_of "$d/c.tgz" application/vnd.cncf.helm.chart.content.v1.tar+gzip)" >"$d/m.json"
	push_manifest "$1" "$2" "$d/m.json" "$MT_OCI_MANIFEST"
}
D_ZOT=$(oci_chart app 1.0.0) && sig_payload zot/app "$D_ZOT" >"$T/p.zot" &&
	L=$(sig_layer app "$T/p.zot" "$T/good.key") && push_sig app "$D_ZOT" "$L" >/dev/null &&
	D_ZOTU=$(oci_chart app 2.0.0) || { notok "push OCI charts"; exit 1; }
# The signature payload blob of library/app:evil: the front sends it to a
# private address.
EVIL_BLOB=$(curl -sS --cacert "$PKI/ca.pem" -H "Accept: $MT_OCI_MANIFEST" \
	"https://$REG/v2/library/app/manifests/sha256-${D_HUBEVIL#sha256:}.sig" | jq -r '.layers[0].digest')
[[ $EVIL_BLOB == sha256:* ]] || { notok "evil payload digest"; exit 1; }
# ... and the one of library/app:steal to a CDN path that answers 401 with a
# realm of its own: the registry's credentials must not go there.
STEAL_BLOB=$(curl -sS --cacert "$PKI/ca.pem" -H "Accept: $MT_OCI_MANIFEST" \
	"https://$REG/v2/library/app/manifests/sha256-${D_HUBSTEAL#sha256:}.sig" | jq -r '.layers[0].digest')
[[ $STEAL_BLOB == sha256:* ]] || { notok "steal payload digest"; exit 1; }
ok "signed and unsigned images pushed (hub $D_HUB, ghcr $D_GH, ecr $D_ECR)"

token_signer || { notok "token signer"; exit 1; }
mkdir -p "$T/www"
jq -cn --arg t "$(jwt_token library/app pull "" "$TOKEN_ISSUER" registry.docker.io)" \
	'{token: $t, access_token: $t, expires_in: 300, issued_at: "2026-01-01T00:00:00Z"}' >"$T/www/hub-token"
jq -cn --arg t "$(jwt_token myorg/app pull "" "$TOKEN_ISSUER" ghcr.io)" '{token: $t}' >"$T/www/ghcr-token"
htpasswd -Bbn AWS "ecr-token-v1" >"$T/ecr.htpasswd" 2>/dev/null || { notok "htpasswd"; exit 1; }

# upstream NAME AUTH_YAML: a docker-registry over $DATA on 127.0.0.1 (http)
upstream() {
	local port dir="$T/up-$1"
	port=$(free_port)
	mkdir -p "$dir"
	printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:%s\n%s\n' \
		"$DATA" "$port" "$2" >"$dir/config.yml"
	bg "up-$1" /usr/bin/docker-registry serve "$dir/config.yml"
	wait_tcp "$port" 20 || return 1
	eval "UP_$1=127.0.0.1:$port"
}
upstream hub "auth:
  token:
    realm: https://auth.docker.io/token
    service: registry.docker.io
    issuer: $TOKEN_ISSUER
    rootcertbundle: $T/token-signer.pem" &&
	upstream ghcr "auth:
  token:
    realm: https://ghcr.io/token
    service: ghcr.io
    issuer: $TOKEN_ISSUER
    rootcertbundle: $T/token-signer.pem" &&
	upstream zot "" &&
	upstream ecr "auth:
  htpasswd:
    realm: $ECR
    path: $T/ecr.htpasswd" || { notok "upstream registries start" "$(tail -3 "$T"/up-*.err)"; exit 1; }

# front NAME ADDR RULES...: replay on ADDR:443 with the names certificate
front() {
	local n=$1 a=$2 i
	shift 2
	: >"$T/front-$n.log"
	bg "front-$n" "$REPLAY" --listen "$a:443" --cert "$T/names.pem" --key "$T/names.key" \
		--log "$T/front-$n.log" --lifetime 900 "$@"
	for i in $(seq 1 100); do (exec 3<>"/dev/tcp/$a/443") 2>/dev/null && break; sleep 0.05; done
	# The probe above is not a client: wait for its accept line, then
	# start the log afresh.
	for i in $(seq 1 100); do grep -q '^accept' "$T/front-$n.log" && break; sleep 0.02; done
	: >"$T/front-$n.log"
}
accepts() { grep -c '^accept' "$T/front-$1.log"; }
AMZ="X-Amz-Security-Token=$(head -c 600 /dev/zero | tr '\0' 'Q')&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=ASIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
mkdir -p "$T/pages/charts" "$T/assets"
front hub "${ADDR[registry-1.docker.io]}" \
	--challenge /v2/evilrealm/ 'Bearer realm="https://internal.corp.example/token",service="registry.docker.io",scope="repository:evilrealm/x:pull"' \
	--challenge /v2/plainrealm/ 'Bearer realm="http://auth.docker.io/token",service="registry.docker.io",scope="repository:plainrealm/x:pull"' \
	--redirect /v2/library/app/blobs/ https://internal.corp.example/cdn/ --path-has "$EVIL_BLOB" --need-auth \
	--redirect /v2/library/app/blobs/ https://production.cloudflare.docker.com/steal/ --path-has "$STEAL_BLOB" --need-auth \
	--redirect /v2/ https://production.cloudflare.docker.com/registry-v2/ --path-has /blobs/ --need-auth \
	--query "verify=1767225600-Xw%2BhashAbC" \
	--proxy /v2/ "$UP_hub"
front auth "${ADDR[auth.docker.io]}" --file /token "$T/www/hub-token" --need-query service=registry.docker.io
front cdn "${ADDR[production.cloudflare.docker.com]}" \
	--challenge /steal/ 'Bearer realm="https://auth.docker.io/stolen",service="registry.docker.io"' \
	--blobs /registry-v2/ "$DATA" --need-query verify= --no-auth
front ghcr "${ADDR[ghcr.io]}" --file /token "$T/www/ghcr-token" --need-query service=ghcr.io \
	--redirect /v2/ https://pkg-containers.githubusercontent.com/ghcr1/blobs/ --path-has /blobs/ --need-auth \
	--query "se=2026-01-01T00%3A10%3A00Z&sig=AbCdEf%3D&sp=r&spr=https&sr=b&sv=2019-12-12" \
	--proxy /v2/ "$UP_ghcr"
front ghblob "${ADDR[pkg-containers.githubusercontent.com]}" --blobs /ghcr1/blobs/ "$DATA" --need-query sig= --no-auth
front ecr "${ADDR[$ECR]}" \
	--redirect /v2/ "https://$S3/a1b2c3d4-123456789012-deadbeef/" --path-has /blobs/ --need-auth --query "$AMZ" \
	--proxy /v2/ "$UP_ecr"
front zot "${ADDR[zot]}" --proxy /v2/ "$UP_zot"
front s3 "${ADDR[$S3]}" --blobs /a1b2c3d4-123456789012-deadbeef/ "$DATA" --need-query X-Amz-Signature= --no-auth
front pages "${ADDR[myorg.github.io]}" --files /charts/ "$T/pages/charts"
front github "${ADDR[github.com]}" \
	--redirect /myorg/charts/releases/download/ https://objects.githubusercontent.com/github-production-release-asset-2e65be/123456/ \
	--status 302 --query "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00ff&response-content-disposition=attachment"
front objects "${ADDR[objects.githubusercontent.com]}" \
	--files /github-production-release-asset-2e65be/123456/ "$T/assets" --need-query X-Amz-Signature= --no-auth
# The private targets: anything that reaches them is a failure.
front private 10.99.0.5 --files / "$T/assets"
front privlit 10.99.0.7 --files / "$T/assets"

code=$(curl -sS --cacert "$PKI/ca.pem" -o /dev/null -w '%{http_code}' "https://registry-1.docker.io/v2/library/app/manifests/signed")
expect_eq "registry-1.docker.io demands a token (401 from the real registry)" "$code" 401
code=$(curl -sS --cacert "$PKI/ca.pem" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x" \
	"https://production.cloudflare.docker.com/registry-v2/x/blobs/$D_HUB?verify=1")
expect_eq "the CDN refuses a request that carries credentials (as S3 does)" "$code" 400
: >"$T/front-hub.log"; : >"$T/front-cdn.log"

# --- charts: chart-releaser layout -----------------------------------------
export GNUPGHOME="$T/gnupg"
mkdir -p -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key "Chart Signer <charts@provgate.test>" ed25519 sign never 2>/dev/null
p=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}'); [ -n "$p" ] && PIDS+=("$p")
gpg --export charts@provgate.test >"$T/charts.gpg" 2>/dev/null
FPR=$(gpg --with-colons --list-keys charts@provgate.test 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
chart() { # NAME VERSION SIGN
	local n=$1 v=$2 s="$T/src/$1-$2" a="$T/assets/$1-$2"
	mkdir -p "$s/$n/templates" "$a"
	printf 'apiVersion: v2\nappVersion: "1.0"\ndescription: chart %s\nname: %s\nversion: %s\n' "$n" "$n" "$v" >"$s/$n/Chart.yaml"
	printf 'kind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$s/$n/templates/cm.yaml"
	tar -C "$s" -czf "$a/$n-$v.tgz" "$n"
	[ "$3" = sign ] || return 0
	{ cat "$s/$n/Chart.yaml"; printf '\n...\nfiles:\n  %s: sha256:%s\n' "$n-$v.tgz" "$(sha256sum "$a/$n-$v.tgz" | cut -d' ' -f1)"; } |
		gpg --batch --yes -u "$FPR" --clearsign >"$a/$n-$v.tgz.prov" 2>/dev/null
}
chart mychart 1.0.0 sign && chart unsignedchart 0.1.0 nosign && chart evilchart 1.0.0 sign ||
	{ notok "charts"; exit 1; }
GH=https://github.com/myorg/charts/releases/download
{
	echo "apiVersion: v1"
	echo "entries:"
	for e in "mychart 1.0.0 $GH/mychart-1.0.0/mychart-1.0.0.tgz" \
		"unsignedchart 0.1.0 $GH/unsignedchart-0.1.0/unsignedchart-0.1.0.tgz" \
		"evilchart 1.0.0 https://internal.corp.example/evilchart-1.0.0/evilchart-1.0.0.tgz"; do
		set -- $e
		printf '  %s:\n  - apiVersion: v2\n    name: %s\n    version: %s\n    urls:\n    - %s\n' "$1" "$1" "$2" "$3"
	done
} >"$T/pages/charts/index.yaml"
CHARTSUM=$(sha256sum "$T/assets/mychart-1.0.0/mychart-1.0.0.tgz" | cut -d' ' -f1)

# --- the policy: one rule per provider, nothing names a CDN or realm --------
cat >"$T/ecr-config.json" <<EOF
{"auths": {"$ECR": {"auth": "$(printf 'AWS:ecr-token-v1' | base64 -w0)"}}}
EOF
cat >"$T/hub-config.json" <<EOF
{"auths": {"https://index.docker.io/v1/": {"auth": "$(printf 'hubuser:hub-pat' | base64 -w0)"}}}
EOF
mkdir -p "$T/pol"
cat >"$T/pol/policy.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata: {name: registries}
spec:
  mode: enforce
  trust:
    keys:
      release: {path: $T/good.pub}
    keyrings:
      charts: {path: $T/charts.gpg}
  images:
    - name: hub
      match: ["docker.io/library/**", "docker.io/evilrealm/**", "docker.io/plainrealm/**"]
      verify: [{cosign: {key: release}}]
      tlog: optional
    - name: ghcr
      match: ["ghcr.io/myorg/**"]
      verify: [{cosign: {key: release}}]
      tlog: optional
    - name: ecr
      match: ["$ECR/**"]
      verify: [{cosign: {key: release}}]
      tlog: optional
  charts:
    - name: myorg
      match: ["https://myorg.github.io/charts/**"]
      verify: [{prov: {keyring: charts}}]
    - name: zot
      match: ["oci://zot/**"]
      verify: [{cosign: {key: release}}]
      tlog: optional
  registries:
    - host: $ECR
      dockerConfig: $T/ecr-config.json
EOF
"$PG" policy check "$T/pol" >/dev/null 2>"$T/polcheck.err" || { notok "policy loads" "$(cat "$T/polcheck.err")"; exit 1; }

pod() { # FILE IMAGE
	jq -n --arg i "$2" '{apiVersion: "v1", kind: "Pod", metadata: {name: "p", namespace: "default"},
		spec: {containers: [{name: "c", image: $i}]}}' >"$1.obj"
	mkreview "$1.obj" default CREATE >"$1"
}
argo() { # FILE REPO CHART VERSION
	jq -n --arg r "$2" --arg c "$3" --arg v "$4" '{apiVersion: "argoproj.io/v1alpha1", kind: "Application",
		metadata: {name: "app", namespace: "argocd"},
		spec: {project: "default", destination: {server: "https://kubernetes.default.svc", namespace: "web"},
		       source: {repoURL: $r, chart: $c, targetRevision: $v}}}' >"$1.obj"
	mkreview "$1.obj" argocd CREATE >"$1"
}
# errf NAME: the stderr file of the review called NAME
errf() { printf '%s/review-%s.err' "$T" "$(printf '%s' "$1" | tr -c 'a-zA-Z0-9' '_')"; }
# decide NAME BIN POLICY WANT REGEX REVIEW_FILE [env...]: provgate review
decide() {
	local name=$1 bin=$2 pol=$3 want=$4 re=$5 f=$6 out sum got text
	shift 6
	out=$(env "$@" "$bin" review --policy "$pol" --ca-file "$PKI/ca.pem" --timeout-ms 8000 "$f" 2>"$(errf "$name")")
	sum=$(review_summary "$out"); got=${sum%%$'\t'*}; text=${sum#*$'\t'}
	[ "$got" = true ] && text=$(jq -r '.response.auditAnnotations | to_entries | map(.value) | join("; ")' <<<"$out")
	LAST_TEXT=$text
	[ "$want" = false ] && echo "# $name: ${text:0:400}"
	if [ "$got" = "$want" ] && [[ $text =~ $re ]]; then ok "$name"; else notok "$name" "allowed=$got: $text"; fi
}
TN=(PROVGATE_TEST_PUBLIC_NETS=1)

# --- the shipped binary: documentation addresses are not public ------------
pod "$T/hub1.json" docker.io/library/app:signed
decide "shipped binary: auth.docker.io at a TEST-NET address is not public (denied)" "$PG" "$T/pol" false \
	"refusing to contact auth\.docker\.io: no policy rule or registry names this host; not followed as a public host \(token realm\): auth\.docker\.io resolves to 203\.0\.113\.11, a documentation address" \
	"$T/hub1.json" "${TN[@]}"
decide "test build without PROVGATE_TEST_PUBLIC_NETS: denied the same way" "$PGT" "$T/pol" false \
	"auth\.docker\.io resolves to 203\.0\.113\.11, a documentation address" "$T/hub1.json"
expect_eq "no token request reached auth.docker.io so far" "$(accepts auth)" 0

# --- Docker Hub ---------------------------------------------------------------
decide "docker hub: signed image verified (token realm on auth.docker.io, blobs from the CDN)" "$PGT" "$T/pol" true \
	"allow rule=hub digest=$D_HUB" "$T/hub1.json" "${TN[@]}"
expect_match "docker hub: token request carried service=registry.docker.io and the scope" \
	"$(grep '^GET /token' "$T/front-auth.log" | head -1)" \
	"^GET /token\?service=registry\.docker\.io&scope=repository%3Alibrary%2Fapp%3Apull auth=0 status=200"
expect_match "docker hub: the signature payload came from the CDN, without credentials" \
	"$(grep '^GET /registry-v2/' "$T/front-cdn.log" | head -1)" \
	"^GET /registry-v2/library/app/blobs/sha256:[0-9a-f]{64}\?verify=1767225600-Xw%2BhashAbC auth=0 status=200$"
expect_match "docker hub: the registry answered the blob with a 307 (bearer token sent to the registry)" \
	"$(grep '/blobs/' "$T/front-hub.log" | head -1)" "auth=1 status=307"
check "docker hub: the hop to auth.docker.io is logged with why" \
	grep -q '"msg":"following a public host".*auth.docker.io:443 (token realm)' "$(errf "docker hub: signed image verified (token realm on auth.docker.io, blobs from the CDN)")"
check "docker hub: the hop to the CDN is logged with why" \
	grep -q 'production.cloudflare.docker.com:443 (blob redirect)' "$(errf "docker hub: signed image verified (token realm on auth.docker.io, blobs from the CDN)")"
pod "$T/hub2.json" docker.io/library/app:unsigned
decide "docker hub: unsigned image denied" "$PGT" "$T/pol" false "no signatures found" "$T/hub2.json" "${TN[@]}"
# Credentials for Docker Hub go to the realm, as docker login sends them.
mkdir -p "$T/pol-cred"
sed "s|^  registries:|  registries:\n    - host: docker.io\n      dockerConfig: $T/hub-config.json|" "$T/pol/policy.yaml" >"$T/pol-cred/policy.yaml"
: >"$T/front-auth.log"; : >"$T/front-cdn.log"
decide "docker hub with credentials: verified" "$PGT" "$T/pol-cred" true "allow rule=hub digest=$D_HUB" "$T/hub1.json" "${TN[@]}"
expect_match "docker hub with credentials: the realm received them (Basic)" "$(grep '^GET /token' "$T/front-auth.log" | head -1)" "auth=1 status=200"
expect_eq "docker hub with credentials: the CDN received none" "$(grep -c 'auth=1' "$T/front-cdn.log")" 0
expect_match "docker hub with credentials: the CDN served the blobs" "$(grep -c 'status=200' "$T/front-cdn.log")" "^[1-9]"

# Attacks through a registry the policy trusts.
pod "$T/hub3.json" docker.io/library/app:evil
decide "docker hub: blob redirected to a name that resolves to a private address: denied" "$PGT" "$T/pol" false \
	"internal\.corp\.example resolves to 10\.99\.0\.5, a private \(RFC 1918\) address" "$T/hub3.json" "${TN[@]}"
pod "$T/hub6.json" docker.io/library/app:steal
: >"$T/front-auth.log"
decide "docker hub with credentials: a CDN that answers 401 with its own realm is not answered" "$PGT" "$T/pol-cred" false \
	"redirected to https://production\.cloudflare\.docker\.com/steal/.*which asked for credentials \(HTTP 401\): not answered" \
	"$T/hub6.json" "${TN[@]}"
expect_eq "docker hub with credentials: nothing asked the realm the CDN named" "$(grep -c '/stolen' "$T/front-auth.log")" 0
pod "$T/hub4.json" docker.io/evilrealm/x:1
decide "docker hub: token realm at a private address: denied" "$PGT" "$T/pol" false \
	"getting a token for docker\.io: refusing to contact internal\.corp\.example.*resolves to 10\.99\.0\.5" "$T/hub4.json" "${TN[@]}"
pod "$T/hub5.json" docker.io/plainrealm/x:1
decide "docker hub: token realm over plain http: denied" "$PGT" "$T/pol" false \
	"token realm that is not https: http://auth\.docker\.io/token" "$T/hub5.json" "${TN[@]}"
pod "$T/priv1.json" 10.99.0.7/library/app:signed
decide "object naming a private address: denied" "$PGT" "$T/pol" false "no policy rule matches 10\.99\.0\.7/library/app:signed" "$T/priv1.json" "${TN[@]}"
expect_eq "zero connections to internal.corp.example (10.99.0.5)" "$(accepts private)" 0
expect_eq "zero connections to 10.99.0.7" "$(accepts privlit)" 0

# --- GHCR -----------------------------------------------------------------------
pod "$T/gh1.json" ghcr.io/myorg/app:signed
decide "ghcr: signed image verified (token on ghcr.io, blobs from pkg-containers)" "$PGT" "$T/pol" true \
	"allow rule=ghcr digest=$D_GH" "$T/gh1.json" "${TN[@]}"
expect_match "ghcr: token request with service=ghcr.io" "$(grep '^GET /token' "$T/front-ghcr.log" | head -1)" \
	"service=ghcr\.io&scope=repository%3Amyorg%2Fapp%3Apull auth=0 status=200"
expect_match "ghcr: blob served by pkg-containers.githubusercontent.com without credentials" \
	"$(grep '^GET /ghcr1/' "$T/front-ghblob.log" | head -1)" "sig=AbCdEf%3D.* auth=0 status=200$"
pod "$T/gh2.json" ghcr.io/myorg/app:unsigned
decide "ghcr: unsigned image denied" "$PGT" "$T/pol" false "no signatures found" "$T/gh2.json" "${TN[@]}"

# --- ECR --------------------------------------------------------------------------
pod "$T/ecr1.json" "$ECR/team/app:signed"
decide "ecr: signed image verified (Basic auth, blobs from a pre-signed S3 URL)" "$PGT" "$T/pol" true \
	"allow rule=ecr digest=$D_ECR" "$T/ecr1.json" "${TN[@]}"
expect_match "ecr: Basic credentials sent to the registry" "$(grep '/manifests/signed' "$T/front-ecr.log" | tail -1)" "auth=1 status=200"
s3line=$(grep '^GET /a1b2c3d4' "$T/front-s3.log" | head -1)
expect_match "ecr: S3 got the whole pre-signed query string and no Authorization" "$s3line" \
	"X-Amz-Security-Token=Q{600}&.*X-Amz-Signature=0123456789abcdef[0-9a-f]{48} auth=0 status=200$"
pod "$T/ecr2.json" "$ECR/team/app:unsigned"
decide "ecr: unsigned image denied" "$PGT" "$T/pol" false "no signatures found" "$T/ecr2.json" "${TN[@]}"

# --- chart-releaser ----------------------------------------------------------------
argo "$T/c1.json" https://myorg.github.io/charts mychart 1.0.0
decide "chart-releaser: signed chart verified (index on myorg.github.io, assets via github.com)" "$PGT" "$T/pol" true \
	"allow rule=myorg digest=sha256:$CHARTSUM" "$T/c1.json" "${TN[@]}"
expect_match "chart-releaser: github.com answered the archive with a 302" \
	"$(grep 'mychart-1.0.0.tgz ' "$T/front-github.log" | head -1)" "^GET /myorg/charts/releases/download/mychart-1\.0\.0/mychart-1\.0\.0\.tgz auth=0 status=302$"
expect_match "chart-releaser: objects.githubusercontent.com served archive and .prov" \
	"$(grep -c 'status=200' "$T/front-objects.log")" "^2$"
check "chart-releaser: the index entry hop is logged" grep -q 'github.com:443 (chart index entry)' \
	"$(errf "chart-releaser: signed chart verified (index on myorg.github.io, assets via github.com)")"
argo "$T/c2.json" https://myorg.github.io/charts unsignedchart 0.1.0
decide "chart-releaser: chart without provenance denied" "$PGT" "$T/pol" false "prov" "$T/c2.json" "${TN[@]}"
argo "$T/c3.json" https://myorg.github.io/charts evilchart 1.0.0
decide "chart-releaser: index entry at a private address denied" "$PGT" "$T/pol" false \
	"internal\.corp\.example resolves to 10\.99\.0\.5, a private" "$T/c3.json" "${TN[@]}"
argo "$T/c4.json" https://internal.corp.example/charts evilchart 1.0.0
decide "chart repository no rule names (private address): denied" "$PGT" "$T/pol" false "no policy rule matches" "$T/c4.json" "${TN[@]}"
expect_eq "still zero connections to internal.corp.example" "$(accepts private)" 0

# --- an OCI registry named by one label ----------------------------------------
# Docker's short-name rule would read "zot/app" as docker.io/zot/app; an
# oci:// URL's first component is its host (ORAS, as helm and Argo CD pull).
: >"$T/front-zot.log"; : >"$T/front-hub.log"
argo "$T/z1.json" zot app 1.0.0
decide "oci://zot: signed chart verified on the host zot" "$PGT" "$T/pol" true \
	"allow rule=zot digest=$D_ZOT" "$T/z1.json" "${TN[@]}"
argo "$T/z2.json" oci://zot app 2.0.0
decide "oci://zot: unsigned chart on zot denied" "$PGT" "$T/pol" false \
	"no signatures found for zot/app@$D_ZOTU" "$T/z2.json" "${TN[@]}"
expect_match "oci://zot: zot served the manifests" "$(grep -c '/v2/app/manifests/' "$T/front-zot.log")" '^[1-9]'
expect_eq "oci://zot: nothing asked Docker Hub for it" "$(grep -c '/v2/zot/' "$T/front-hub.log")" 0

# --- the CLI verbs -----------------------------------------------------------------
vi() { # NAME ARGS...
	local n=$1
	shift
	OUT=$(PROVGATE_TEST_PUBLIC_NETS=1 "$PGT" verify-image "$@" 2>"$T/$n.err"); RC=$?
}
vi cli-hub docker.io/library/app:signed --key "$T/good.pub" --insecure-ignore-tlog --ca-file "$PKI/ca.pem"
expect_eq "verify-image docker.io/library/app:signed: exit 0" "$RC" 0
expect_match "verify-image docker hub: digest" "$OUT" "Digest: $D_HUB"
vi cli-hubu docker.io/library/app:unsigned --key "$T/good.pub" --insecure-ignore-tlog --ca-file "$PKI/ca.pem"
expect_eq "verify-image docker hub unsigned: exit 1" "$RC" 1
vi cli-gh ghcr.io/myorg/app:signed --key "$T/good.pub" --insecure-ignore-tlog --ca-file "$PKI/ca.pem"
expect_eq "verify-image ghcr: exit 0" "$RC" 0
mkdir -p "$T/dc" && cp "$T/ecr-config.json" "$T/dc/config.json"
OUT=$(DOCKER_CONFIG="$T/dc" PROVGATE_TEST_PUBLIC_NETS=1 "$PGT" verify-image "$ECR/team/app:signed" --key "$T/good.pub" \
	--insecure-ignore-tlog --ca-file "$PKI/ca.pem" 2>"$T/cli-ecr.err"); RC=$?
expect_eq "verify-image ecr (credentials from DOCKER_CONFIG): exit 0" "$RC" 0
OUT=$(PROVGATE_TEST_PUBLIC_NETS=1 "$PGT" verify-chart --repo https://myorg.github.io/charts --version 1.0.0 mychart \
	--keyring "$T/charts.gpg" --ca-file "$PKI/ca.pem" 2>"$T/cli-chart.err"); RC=$?
expect_eq "verify-chart chart-releaser: exit 0" "$RC" 0
expect_match "verify-chart chart-releaser: hash" "$OUT" "Chart Hash Verified: sha256:$CHARTSUM"
OUT=$(PROVGATE_TEST_PUBLIC_NETS=1 "$PGT" verify-chart --repo https://myorg.github.io/charts --version 0.1.0 unsignedchart \
	--keyring "$T/charts.gpg" --ca-file "$PKI/ca.pem" 2>"$T/cli-chart2.err"); RC=$?
expect_eq "verify-chart chart-releaser unsigned: exit 1" "$RC" 1

# --- the server, and credentials that change under it ----------------------------
mkdir -p "$T/pol-srv"
cp "$T/pol/policy.yaml" "$T/pol-srv/policy.yaml"
sed -i "s|dockerConfig: $T/ecr-config.json|dockerConfig: $T/ecr-rotating.json|" "$T/pol-srv/policy.yaml"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$ECR" "$(printf 'AWS:ecr-token-expired' | base64 -w0)" >"$T/ecr-rotating.json"
PG_PORT=$(free_port)
bg provgate env PROVGATE_TEST_PUBLIC_NETS=1 "$PGT" serve --policy "$T/pol-srv" --tls-cert "$PKI/server.pem" \
	--tls-key "$PKI/server.key" --listen "127.0.0.1:$PG_PORT" --ca-file "$PKI/ca.pem" --workers 2
if wait_tcp "$PG_PORT" 10; then
	srv() { curl -sS --cacert "$PKI/ca.pem" --max-time 20 --data-binary @"$1" "https://127.0.0.1:$PG_PORT/validate"; }
	expect_eq "server: docker hub signed image allowed" "$(srv "$T/hub1.json" | jq -r .response.allowed)" true
	expect_eq "server: ghcr unsigned image denied" "$(srv "$T/gh2.json" | jq -r .response.allowed)" false
	expect_eq "server: chart-releaser chart allowed" "$(srv "$T/c1.json" | jq -r .response.allowed)" true
	out=$(srv "$T/ecr1.json")
	expect_match "server: ECR with an expired token denied (registry refuses the credentials)" \
		"$(jq -r .response.status.message <<<"$out")" "HTTP 401"
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$ECR" "$(printf 'AWS:ecr-token-v1' | base64 -w0)" >"$T/ecr-rotating.json.new"
	mv "$T/ecr-rotating.json.new" "$T/ecr-rotating.json"
	out=$(srv "$T/ecr1.json")
	expect_eq "server: the refreshed dockerConfig is used without a restart (ECR allowed)" \
		"$(jq -r .response.allowed <<<"$out")" true
	m=$(curl -sS --cacert "$PKI/ca.pem" "https://127.0.0.1:$PG_PORT/metrics")
	expect_match "metrics: token realm hops counted by host" "$m" \
		'provgate_public_hops_total\{why="token realm",host="auth\.docker\.io"\} [1-9]'
	expect_match "metrics: blob redirect hops counted by host" "$m" \
		"provgate_public_hops_total\\{why=\"blob redirect\",host=\"$S3\"\\} [1-9]"
	expect_match "metrics: chart index entry hops counted" "$m" \
		'provgate_public_hops_total\{why="chart index entry",host="github\.com"\} [1-9]'
	expect_match "metrics: the asset redirect of a chart index entry counted" "$m" \
		'provgate_public_hops_total\{why="chart index entry",host="objects\.githubusercontent\.com"\} [1-9]'
else
	notok "server starts" "$(tail -3 "$T/provgate.err")"
fi
expect_eq "end: zero connections to internal.corp.example (10.99.0.5)" "$(accepts private)" 0
expect_eq "end: zero connections to 10.99.0.7" "$(accepts privlit)" 0
