# Helpers for tests against a real registry (bash).  Source lib.sh first.
#
#   registry_start [HTPASSWD_FILE]   start /usr/bin/docker-registry on a free
#                                    loopback port with TLS from test_pki (and
#                                    Basic auth from HTPASSWD_FILE); sets REG
#                                    (127.0.0.1:PORT), REG_PID, and REG_LOG (its
#                                    access log, one Combined Log Format line
#                                    per request).  Stopped by PID at exit.
#   registry_restart                 stop REG_PID, start the same registry
#                                    (same port, data, config) again
#   reg_gets PATH_ERE                how many GETs of a path matching PATH_ERE
#                                    REG_LOG holds (e.g. '/manifests/sha256-.*\.sig')
#   reg_heads PATH_ERE               the same for HEADs (tags are resolved by HEAD)
#   REG_USER=u REG_PASS=p            credentials the push helpers use
#   sha256_of FILE                   "sha256:<hex>"
#   push_blob REPO FILE              monolithic upload (POST + PUT); prints digest
#   push_blobs REPO FILE...          push_blob for each FILE, in two curl processes
#   push_manifest REPO REF FILE MT   PUT manifest FILE as REF with media type MT;
#                                    prints its digest
#   push_with_manifest REPO REF FILE MT BLOB...
#                                    the BLOBs, then the manifest, in two curl
#                                    processes; prints the manifest's digest
#   (a blob a test already pushed to a repository is not pushed again)
#   make_image REPO TAG [SEED]       config + layer + OCI manifest; prints digest
#   make_index REPO TAG DIGEST...    OCI index over manifests pushed with
#                                    make_image; prints its digest
#   make_key NAME                    EC P-256 key: $T/NAME.key, $T/NAME.pub
#   sig_payload REF DIGEST           simple-signing payload bytes on stdout
#   sig_layer REPO PAYLOAD_FILE KEY [SIGNED_FILE]
#                                    push the payload blob and print the layer
#                                    descriptor (JSON) whose signature is over
#                                    SIGNED_FILE (default: the payload itself)
#   push_sig REPO DIGEST LAYER_JSON...  push sha256-<hex>.sig with those layers
#   push_bundle_referrer REPO DIGEST BUNDLE_FILE
#                                    a Sigstore bundle referrer manifest and the
#                                    sha256-<hex> tag-schema index listing it
#
# Signatures are made the way cosign makes them: ECDSA P-256 over SHA-256 of
# the exact payload bytes, DER, base64, in the layer annotation
# dev.cosignproject.cosign/signature.
REG=""
REG_PID=""
REG_LOG=""
REG_CONFIG=""
REG_USER=${REG_USER:-}
REG_PASS=${REG_PASS:-}
REG_OUT=()
MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
MT_SIMPLESIGNING=application/vnd.dev.cosign.simplesigning.v1+json
MT_BUNDLE=application/vnd.dev.sigstore.bundle.v0.3+json

registry_start() {
	local htpasswd=${1:-} port dir n
	test_pki || return 1
	port=$(free_port)
	n=${#PIDS[@]}
	dir="$T/registry-$n"
	mkdir -p "$dir/data"
	{
		echo "version: 0.1"
		echo "log:"
		echo "  level: warn"
		echo "  accesslog:"
		echo "    disabled: false"
		echo "storage:"
		echo "  filesystem:"
		echo "    rootdirectory: $dir/data"
		echo "http:"
		echo "  addr: 127.0.0.1:$port"
		echo "  tls:"
		echo "    certificate: $PKI/server.pem"
		echo "    key: $PKI/server.key"
		if [ -n "$htpasswd" ]; then
			echo "auth:"
			echo "  htpasswd:"
			echo "    realm: provgate-test"
			echo "    path: $htpasswd"
		fi
	} >"$dir/config.yml"
	bg "registry-$n" /usr/bin/docker-registry serve "$dir/config.yml"
	REG_PID=${PIDS[-1]}
	REG_LOG="$T/registry-$n.out"
	REG_CONFIG="$dir/config.yml"
	wait_tcp "$port" 20 || return 1
	REG="127.0.0.1:$port"
}

registry_restart() {
	local i n=${#PIDS[@]}
	kill "$REG_PID" 2>/dev/null
	for i in $(seq 1 50); do kill -0 "$REG_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$REG_PID" 2>/dev/null
	# A new log file per run; REG_LOG keeps pointing at the newest.
	bg "registry-$n" /usr/bin/docker-registry serve "$REG_CONFIG"
	REG_PID=${PIDS[-1]}
	REG_LOG="$T/registry-$n.out"
	wait_tcp "${REG##*:}" 20
}

reg_gets() {
	grep -cE "\"GET $1 HTTP/[0-9.]+\"" "$REG_LOG"
}

reg_heads() {
	grep -cE "\"HEAD $1 HTTP/[0-9.]+\"" "$REG_LOG"
}

reg_curl() {
	local auth=()
	[ -n "$REG_USER" ] && auth=(-u "$REG_USER:$REG_PASS")
	curl -sS --cacert "$PKI/ca.pem" "${auth[@]}" "$@"
}

sha256_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# Blobs this test already pushed ("REG/REPO@DIGEST"): pushing the same
# bytes to the same repository again changes nothing in the registry, so
# it is skipped (two curl processes saved each time).  Updates made in a
# command substitution stay there: that only costs a repeated upload.
declare -A REG_PUSHED=()

# The options every registry request takes; repeated after each --next.
_reg_opts() {
	REG_OPTS=(-sS --cacert "$PKI/ca.pem")
	[ -n "$REG_USER" ] && REG_OPTS+=(-u "$REG_USER:$REG_PASS")
	return 0
}

# _reg_push REPO NBLOBS FILE... [REF FILE MT]...: the monolithic uploads
# (POST + PUT) of the first NBLOBS files not yet in REPO, then PUT each
# manifest, in that order, with two curl processes in all (one for every
# POST, one for every PUT: curl runs the transfers of one command one after
# another, so the blobs are in before the manifests that name them).  Every
# answer's status is checked.  REG_OUT holds the blobs' digests, then the
# manifests' (an array, not output: a command substitution would lose
# REG_PUSHED's updates).
_reg_push() {
	local repo=$1 nb=$2 i f dg loc codes want=0 dgs=() post=() put=() newf=() newd=() locs=()
	shift 2
	REG_OUT=()
	_reg_opts
	[ "$nb" -gt 0 ] && { mapfile -t dgs < <(sha256sum -- "${@:1:nb}" | cut -d' ' -f1) || return 1; }
	for ((i = 0; i < nb; i++)); do
		f=${*:i+1:1}
		dg="sha256:${dgs[$i]}"
		REG_OUT+=("$dg")
		[ -n "${REG_PUSHED["$REG/$repo@$dg"]:-}" ] && continue
		newf+=("$f")
		newd+=("$dg")
		post+=(${post[0]+--next} "${REG_OPTS[@]}" -X POST -o /dev/null -w '%header{location}\n'
			"https://$REG/v2/$repo/blobs/uploads/")
	done
	if [ ${#newf[@]} -gt 0 ]; then
		mapfile -t locs < <(curl "${post[@]}" | tr -d '\r')
		[ ${#locs[@]} -eq ${#newf[@]} ] || { echo "push: $repo: ${#locs[@]} upload locations for ${#newf[@]} blobs" >&2; return 1; }
	fi
	for ((i = 0; i < ${#newf[@]}; i++)); do
		loc=${locs[$i]}
		[ -n "$loc" ] || { echo "push: $repo: no upload location" >&2; return 1; }
		case "$loc" in /*) loc="https://$REG$loc" ;; esac
		case "$loc" in *\?*) loc="$loc&digest=${newd[$i]}" ;; *) loc="$loc?digest=${newd[$i]}" ;; esac
		put+=(${put[0]+--next} "${REG_OPTS[@]}" -X PUT -H 'Content-Type: application/octet-stream'
			--data-binary "@${newf[$i]}" -o /dev/null -w '%{http_code}\n' "$loc")
		want=$((want + 1))
	done
	shift "$nb"
	local mfiles=()
	while [ $# -ge 3 ]; do
		put+=(${put[0]+--next} "${REG_OPTS[@]}" -X PUT -H "Content-Type: $3" --data-binary "@$2"
			-o /dev/null -w '%{http_code}\n' "https://$REG/v2/$repo/manifests/$1")
		mfiles+=("$2")
		want=$((want + 1))
		shift 3
	done
	if [ ${#mfiles[@]} -gt 0 ]; then
		mapfile -t dgs < <(sha256sum -- "${mfiles[@]}" | cut -d' ' -f1) || return 1
		for dg in "${dgs[@]}"; do REG_OUT+=("sha256:$dg"); done
	fi
	if [ "$want" -gt 0 ]; then
		codes=$(curl "${put[@]}" | tr -d '\r' | tr '\n' ' ')
		local all201=""
		for ((i = 0; i < want; i++)); do all201+="201 "; done
		[ "$codes" = "$all201" ] ||
			{ echo "push: $repo: answers [$codes], want $want x 201" >&2; return 1; }
	fi
	for dg in "${newd[@]}"; do REG_PUSHED["$REG/$repo@$dg"]=1; done
}

push_blob() { _reg_push "$1" 1 "$2" && echo "${REG_OUT[0]}"; }

# push_blobs REPO FILE...: push_blob for each FILE, with two curl processes.
push_blobs() {
	local repo=$1
	shift
	_reg_push "$repo" $# "$@" && printf '%s\n' "${REG_OUT[@]}"
}

# push_with_manifest REPO REF MANIFEST MT BLOB...: the blobs, then the
# manifest as REF; prints the manifest's digest only.
push_with_manifest() {
	local repo=$1 ref=$2 m=$3 mt=$4
	shift 4
	_reg_push "$repo" $# "$@" "$ref" "$m" "$mt" && echo "${REG_OUT[-1]}"
}

push_manifest() {
	local repo=$1 ref=$2 file=$3 mt=$4
	reg_curl -f -X PUT -H "Content-Type: $mt" --data-binary "@$file" -o /dev/null \
		"https://$REG/v2/$repo/manifests/$ref" || return 1
	sha256_of "$file"
}

# A descriptor for FILE: media type, digest, size.
desc_of() { printf '{"mediaType":"%s","digest":"%s","size":%s}' "$2" "$(sha256_of "$1")" "$(stat -c %s "$1")"; }

make_image() {
	local repo=$1 tag=$2 seed=${3:-$RANDOM} d="$T/img.$RANDOM.$RANDOM"
	mkdir -p "$d"
	printf '{"architecture":"amd64","os":"linux","config":{"Labels":{"seed":"%s"}},"rootfs":{"type":"layers","diff_ids":[]}}' "$seed" >"$d/config.json"
	head -c 512 /dev/urandom >"$d/layer.bin"
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$d/config.json" application/vnd.oci.image.config.v1+json)" \
		"$(desc_of "$d/layer.bin" application/vnd.oci.image.layer.v1.tar)" >"$d/manifest.json"
	cp "$d/manifest.json" "$T/last-manifest.json"
	push_with_manifest "$repo" "$tag" "$d/manifest.json" "$MT_OCI_MANIFEST" "$d/config.json" "$d/layer.bin"
}

# make_index REPO TAG DIGEST... (manifests already in REPO; sizes are fetched)
make_index() {
	local repo=$1 tag=$2 entries="" dg f archs=(amd64 arm64 s390x ppc64le) i=0
	shift 2
	f="$T/index.$RANDOM.json"
	for dg in "$@"; do
		reg_curl -f -H "Accept: $MT_OCI_MANIFEST" -o "$f.m" "https://$REG/v2/$repo/manifests/$dg" || return 1
		entries="$entries${entries:+,}$(printf '{"mediaType":"%s","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"}}' \
			"$MT_OCI_MANIFEST" "$dg" "$(stat -c %s "$f.m")" "${archs[$i]}")"
		i=$((i + 1))
	done
	printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s]}' "$MT_OCI_INDEX" "$entries" >"$f"
	push_manifest "$repo" "$tag" "$f" "$MT_OCI_INDEX"
}

make_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null &&
		openssl pkey -in "$T/$1.key" -pubout -out "$T/$1.pub" 2>/dev/null
}

# cosign's byte layout: fixed key order, no whitespace.
sig_payload() {
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' "$1" "$2"
}

sig_layer() {
	local repo=$1 payload=$2 key=$3 signed=${4:-$2} sig
	sig=$(openssl dgst -sha256 -sign "$key" "$signed" | base64 -w0) || return 1
	push_blob "$repo" "$payload" >/dev/null || return 1
	printf '{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"dev.cosignproject.cosign/signature":"%s"}}' \
		"$MT_SIMPLESIGNING" "$(sha256_of "$payload")" "$(stat -c %s "$payload")" "$sig"
}

push_sig() {
	local repo=$1 digest=$2 layers="" l f
	shift 2
	f="$T/sig.$RANDOM"
	for l in "$@"; do layers="$layers${layers:+,}$l"; done
	printf '{"architecture":"","config":{},"created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":[]}}' >"$f.config"
	printf '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' "$MT_OCI_MANIFEST" \
		"$(desc_of "$f.config" application/vnd.oci.image.config.v1+json)" "$layers" >"$f.json"
	push_with_manifest "$repo" "sha256-${digest#sha256:}.sig" "$f.json" "$MT_OCI_MANIFEST" "$f.config"
}

push_bundle_referrer() {
	local repo=$1 digest=$2 bundle=$3 f subj_size rd
	f="$T/ref.$RANDOM"
	printf '{}' >"$f.empty"
	push_blobs "$repo" "$f.empty" "$bundle" >/dev/null || return 1
	reg_curl -f -H "Accept: $MT_OCI_MANIFEST, $MT_OCI_INDEX" -o "$f.subj" \
		"https://$REG/v2/$repo/manifests/$digest" || return 1
	subj_size=$(stat -c %s "$f.subj")
	printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[%s],"subject":{"mediaType":"%s","digest":"%s","size":%s},"annotations":{"dev.sigstore.bundle.content":"dsse-envelope"}}' \
		"$MT_OCI_MANIFEST" "$MT_BUNDLE" "$(sha256_of "$f.empty")" "$(desc_of "$bundle" "$MT_BUNDLE")" \
		"$MT_OCI_MANIFEST" "$digest" "$subj_size" >"$f.json"
	rd=$(sha256_of "$f.json")
	printf '{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%s,"artifactType":"%s"}]}' \
		"$MT_OCI_INDEX" "$MT_OCI_MANIFEST" "$rd" "$(stat -c %s "$f.json")" "$MT_BUNDLE" >"$f.index"
	# The referrer, then the index naming it, in one process.
	_reg_push "$repo" 0 "$rd" "$f.json" "$MT_OCI_MANIFEST" \
		"sha256-${digest#sha256:}" "$f.index" "$MT_OCI_INDEX" || return 1
	echo "$rd"
}
