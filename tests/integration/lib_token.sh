# docker-registry with token (Bearer) auth, and a static token server
# (bash).  Source after lib.sh and lib_registry.sh.
#
#   token_signer                 an RSA key + self-signed certificate in
#                                $T/token-signer.{key,pem}: the registry's
#                                rootcertbundle and the JWT's x5c chain
#   jwt_token REPO ACTIONS [EXP_EPOCH] [ISSUER] [AUDIENCE]
#                                a JWT (RS256, x5c header) granting ACTIONS
#                                ("pull" or "pull,push") on repository REPO
#   token_server FILE_NAME JSON  serve JSON at https://127.0.0.1:$TOKEN_PORT/
#                                FILE_NAME (nghttpd, h2 over TLS, test PKI;
#                                the query string is ignored), starting the
#                                server on first use
#   registry_start_token DATA_OF_REG REALM_PATH
#                                another docker-registry serving the storage
#                                of registry DATA_OF_REG (a "127.0.0.1:PORT"
#                                started by registry_start, which still takes
#                                the pushes) with `auth: token`, realm
#                                https://127.0.0.1:$TOKEN_PORT/REALM_PATH;
#                                sets REG to it, TOKREG_LOG to its stdout
#   TOKEN_VERBOSE=1              the token server logs each request
#                                (":path: /FILE_NAME?..." lines in
#                                $T/token-server.out)
#   TOKEN_REG_ACCESSLOG=false    the token registry keeps an access log
#                                (in TOKREG_LOG)
#
# Tokens are signed ahead of time with openssl: distribution 2.8 verifies
# the x5c chain against rootcertbundle, then iss == TOKEN_ISSUER, aud ==
# TOKEN_SERVICE (a string in 2.8), exp/nbf, and the access claim against
# the request's scope.  No token server logic is needed: the realm is a
# file.
TOKEN_ISSUER=provgate-test-token-issuer
TOKEN_SERVICE=provgate-test-registry
TOKEN_PORT=""

_b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

token_signer() {
	test_key "$T/token-signer.key" rsa:2048 token-signer &&
		openssl req -x509 -new -key "$T/token-signer.key" -days 30 \
			-subj "/CN=provgate test token signer" -out "$T/token-signer.pem" 2>/dev/null
}

jwt_token() {
	local repo=$1 actions=$2 now exp iss=${4:-$TOKEN_ISSUER} aud=${5:-$TOKEN_SERVICE} h c
	now=$(date +%s)
	exp=${3:-$((now + 3600))}
	h=$(jq -cn --arg x5c "$(openssl x509 -in "$T/token-signer.pem" -outform DER | base64 -w0)" \
		'{typ: "JWT", alg: "RS256", x5c: [$x5c]}' | tr -d '\n' | _b64url)
	c=$(jq -cn --arg iss "$iss" --arg aud "$aud" --arg repo "$repo" --arg act "$actions" \
		--argjson now "$now" --argjson exp "$exp" --arg jti "$RANDOM$RANDOM" '
		{iss: $iss, sub: "provgate-test", aud: $aud, exp: $exp, nbf: ($now - 60),
		 iat: ($now - 60), jti: $jti,
		 access: [{type: "repository", name: $repo, actions: ($act | split(","))}]}' |
		tr -d '\n' | _b64url)
	printf '%s.%s.%s' "$h" "$c" "$(printf '%s.%s' "$h" "$c" |
		openssl dgst -sha256 -sign "$T/token-signer.key" | _b64url)"
}

token_server() {
	mkdir -p "$T/token-www"
	printf '%s' "$2" >"$T/token-www/$1"
	if [ -z "$TOKEN_PORT" ]; then
		test_pki || return 1
		TOKEN_PORT=$(free_port)
		bg token-server nghttpd ${TOKEN_VERBOSE:+-v} --address=127.0.0.1 -d "$T/token-www" "$TOKEN_PORT" \
			"$PKI/server.key" "$PKI/server.pem"
		wait_tcp "$TOKEN_PORT" 10 || return 1
	fi
}

registry_start_token() {
	local src=$1 realm=$2 cfg data port dir
	cfg=$(grep -l "addr: $src\$" "$T"/registry-*/config.yml | head -n 1)
	[ -n "$cfg" ] || return 1
	data=$(sed -n 's/^ *rootdirectory: //p' "$cfg")
	port=$(free_port)
	dir="$T/registry-token-$port"
	mkdir -p "$dir"
	cat >"$dir/config.yml" <<EOC
version: 0.1
log:
  level: warn
  accesslog:
    disabled: ${TOKEN_REG_ACCESSLOG:-true}
storage:
  filesystem:
    rootdirectory: $data
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $PKI/server.pem
    key: $PKI/server.key
auth:
  token:
    realm: https://127.0.0.1:$TOKEN_PORT/$realm
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $T/token-signer.pem
EOC
	bg "registry-token-$port" /usr/bin/docker-registry serve "$dir/config.yml"
	TOKREG_LOG="$T/registry-token-$port.out"
	wait_tcp "$port" 20 || return 1
	REG="127.0.0.1:$port"
}
