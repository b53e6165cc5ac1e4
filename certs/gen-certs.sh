#!/bin/sh
# Make the serving certificate of the provgate webhook with openssl:
# a private CA (ca.crt, ca.key) and a P-256 server certificate (tls.crt,
# tls.key) for the Service DNS names
#   SERVICE, SERVICE.NAMESPACE, SERVICE.NAMESPACE.svc,
#   SERVICE.NAMESPACE.svc.CLUSTER_DOMAIN
# with extendedKeyUsage serverAuth.  Prints the base64 CA bundle for the
# ValidatingWebhookConfiguration's caBundle (also written to ca-bundle.b64).
#
# Everything is written inside the output directory and nowhere else.  If the
# directory already holds ca.crt and ca.key, that CA is reused (rotation of
# the serving certificate keeps the caBundle); --new-ca makes a new one.
#
#   certs/gen-certs.sh [-n NAMESPACE] [-s SERVICE] [-o OUTDIR]
#                      [--cluster-domain DOMAIN] [--days N] [--new-ca]
#
# Then (plain manifests):
#   kubectl -n NAMESPACE create secret tls provgate-tls \
#     --cert=OUTDIR/tls.crt --key=OUTDIR/tls.key
set -eu

ns=provgate
svc=provgate
out=./provgate-certs
domain=cluster.local
days=365
ca_days=3650
new_ca=0

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	-n | --namespace) ns=${2:?}; shift 2 ;;
	-s | --service) svc=${2:?}; shift 2 ;;
	-o | --out) out=${2:?}; shift 2 ;;
	--cluster-domain) domain=${2:?}; shift 2 ;;
	--days) days=${2:?}; shift 2 ;;
	--new-ca) new_ca=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "Error: unknown argument: $1" >&2; usage ;;
	esac
done

# DNS labels only: these values end up in openssl config text.
for v in "$ns" "$svc"; do
	case "$v" in
	'' | -* | *[!a-z0-9-]*) echo "Error: not a DNS label: '$v'" >&2; exit 2 ;;
	esac
done
case "$domain" in
'' | -* | .* | *[!a-z0-9.-]*) echo "Error: not a DNS domain: '$domain'" >&2; exit 2 ;;
esac
case "$days" in '' | *[!0-9]*) echo "Error: --days needs a number" >&2; exit 2 ;; esac

command -v openssl >/dev/null || { echo "Error: openssl not found" >&2; exit 2; }

umask 077
mkdir -p "$out"
tmp=$(mktemp -d "$out/.gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# openssl must not read or write ~/.rnd or a system config outside OUTDIR.
RANDFILE="$tmp/.rnd"
export RANDFILE

if [ "$new_ca" = 1 ] || [ ! -f "$out/ca.key" ] || [ ! -f "$out/ca.crt" ]; then
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days "$ca_days" -subj "/CN=$svc.$ns webhook CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	echo "gen-certs: new CA in $out/ca.crt" >&2
else
	cp "$out/ca.key" "$tmp/ca.key"
	cp "$out/ca.crt" "$tmp/ca.crt"
	echo "gen-certs: reusing the CA in $out/ca.crt" >&2
fi

cat >"$tmp/ext.cnf" <<EXT
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$svc,DNS:$svc.$ns,DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.$domain
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=$svc.$ns.svc" -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; exit 1; }
serial=0x$(openssl rand -hex 16)
openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
	-set_serial "$serial" -days "$days" -sha256 -extfile "$tmp/ext.cnf" \
	-out "$tmp/tls.crt" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
openssl verify -CAfile "$tmp/ca.crt" -purpose sslserver "$tmp/tls.crt" >/dev/null 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; exit 1; }
openssl base64 -A -in "$tmp/ca.crt" >"$tmp/ca-bundle.b64"

# Move into place only once everything succeeded.
for f in ca.key ca.crt tls.key tls.crt ca-bundle.b64; do
	mv -f "$tmp/$f" "$out/$f"
done
chmod 0644 "$out/ca.crt" "$out/tls.crt" "$out/ca-bundle.b64"

echo "gen-certs: serving certificate $out/tls.crt (key $out/tls.key) for $svc.$ns.svc" >&2
cat "$out/ca-bundle.b64"
echo
