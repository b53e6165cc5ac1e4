#!/bin/bash
# TLS operations of provgate serve: the serving certificate rotated on disk
# is presented to new handshakes within 2 s (a half-written pair keeps the
# old one); client-certificate verification with --client-ca and
# --client-name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_ops.sh"

test_pki || { notok "test PKI" "openssl failed"; exit 1; }
mkdir -p "$T/pol" "$T/ca2"
REG=127.0.0.1:1 # no registry needed: the policy only names it
ops_policy enforce a | put "$T/pol/policy.yaml"
make_key a || { notok "key"; exit 1; }

# serial PORT: the serial of the certificate a new handshake presents
serial() {
	echo | openssl s_client -connect "127.0.0.1:$1" -servername localhost 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
# leaf NAME CN CA_DIR SERIAL [EKU]: NAME.key/NAME.pem in $T, issued by CA_DIR/ca.{pem,key}
leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null &&
		printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=%s\n' "$2" "${5:-serverAuth,clientAuth}" >"$T/$1.ext" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$3/ca.pem" -CAkey "$3/ca.key" -set_serial "$4" \
			-days 2 -extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
}

# --- certificate rotation -----------------------------------------------------------
ops_serve s1 "$T/pol" || { notok "server starts" "$(cat "$T/s1.err")"; exit 1; }
old=$(serial "$PORT_s1")
want_old=$(openssl x509 -noout -serial -in "$PKI/server.pem" | sed 's/^serial=//')
expect_eq "handshake presents the configured certificate" "$old" "$want_old"
leaf new localhost "$PKI" 0x5E12A1 || { notok "new certificate"; exit 1; }
leaf newer localhost "$PKI" 0x5E12A2 || { notok "newer certificate"; exit 1; }

# Atomic replacement of both files (as a Secret volume update does).
cp "$T/new.pem" "$T/s1-tls/.cert.tmp"; cp "$T/new.key" "$T/s1-tls/.key.tmp"
mv "$T/s1-tls/.cert.tmp" "$T/s1-tls/cert.pem"; mv "$T/s1-tls/.key.tmp" "$T/s1-tls/key.pem"
presents() { [ "$(serial "$PORT_s1")" = "$1" ]; }
if ms=$(poll 2 presents 5E12A1); then ok "rotated certificate (serial 5E12A1) presented within 2 s (${ms} ms)"; else notok "rotated certificate presented within 2 s" "still $(serial "$PORT_s1")"; fi
code=$(pgcurl --http2 -o /dev/null -w '%{http_code}' "$URL/healthz")
expect_eq "requests work over the rotated certificate" "$code" 200
check "rotation logged on stderr" grep -q '"msg":"TLS certificate reloaded"' "$T/s1.err"

# Half a rotation: a certificate whose key is not there yet keeps the old
# pair in force; once the key arrives the new pair is used.
cp "$T/newer.pem" "$T/s1-tls/cert.pem"
sleep 1.5
expect_eq "certificate without its key: old certificate still presented" "$(serial "$PORT_s1")" 5E12A1
check "mismatched pair logged" grep -q 'TLS certificate reload failed; keeping the old one' "$T/s1.err"
code=$(pgcurl --http2 -o /dev/null -w '%{http_code}' "$URL/healthz")
expect_eq "requests work during a half rotation" "$code" 200
cp "$T/newer.key" "$T/s1-tls/key.pem"
if ms=$(poll 2 presents 5E12A2); then ok "key arrives: new certificate presented within 2 s (${ms} ms)"; else notok "key arrives: new certificate presented" "still $(serial "$PORT_s1")"; fi

# --- mTLS ------------------------------------------------------------------------------
# Clients: two names from the client CA (the test CA), and the allowed name
# from another CA.
( cd "$T/ca2" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=other CA" -keyout ca.key -out ca.pem 2>/dev/null ) || { notok "second CA"; exit 1; }
leaf apiserver kube-apiserver "$PKI" 0x0A01 clientAuth &&
	leaf intruder someone-else "$PKI" 0x0A02 clientAuth &&
	leaf forged kube-apiserver "$T/ca2" 0x0A03 clientAuth &&
	leaf wild '*.svc.cluster.local' "$PKI" 0x0A04 clientAuth &&
	leaf nul kube-apiserverX.evil.example "$PKI" 0x0A05 clientAuth || { notok "client certificates"; exit 1; }
# A CN "kube-apiserver\0.evil.example": the X becomes a NUL, and the
# certificate is signed again by the same CA (openssl issues no such name).
openssl x509 -in "$T/nul.pem" -outform DER | perl -pe 's/kube-apiserverX/kube-apiserver\x00/g' >"$T/nul.der" &&
	perl "$(dirname "$0")/../tools/der_resign.pl" "$T/nul.der" "$PKI/ca.key" "$T/nulcn.der" &&
	openssl x509 -inform DER -in "$T/nulcn.der" -out "$T/nulcn.pem" && cp "$T/nul.key" "$T/nulcn.key" &&
	openssl x509 -in "$T/nulcn.pem" -noout -subject -nameopt esc_ctrl | grep -q 'kube-apiserver\\00\.evil' ||
	{ notok "client certificate with a NUL in its CN"; exit 1; }

ops_serve m1 "$T/pol" --client-ca "$PKI/ca.pem" --client-name kube-apiserver \
	--client-name apiserver.svc.cluster.local ||
	{ notok "mTLS server starts" "$(cat "$T/m1.err")"; exit 1; }
as() { # CERTNAME|none PROTO: HTTP status of GET /healthz (000: refused)
	local c=()
	[ "$1" != none ] && c=(--cert "$T/$1.pem" --key "$T/$1.key")
	pgcurl "$2" "${c[@]}" -o /dev/null -w '%{http_code}' "$URL/healthz" 2>/dev/null
}
for proto in --http2 --http1.1; do
	expect_eq "mTLS $proto: no client certificate refused" "$(as none $proto)" 000
	expect_eq "mTLS $proto: certificate from another CA refused" "$(as forged $proto)" 000
	expect_eq "mTLS $proto: allowed name accepted" "$(as apiserver $proto)" 200
	expect_eq "mTLS $proto: same CA, another name refused" "$(as intruder $proto)" 000
	expect_eq "mTLS $proto: a wildcard certificate (*.svc.cluster.local) does not name a client" "$(as wild $proto)" 000
	expect_eq "mTLS $proto: CN kube-apiserver\\0.evil.example is not kube-apiserver" "$(as nulcn $proto)" 000
done
review mtls-review docker.io/library/nginx:1.25 default --cert "$T/apiserver.pem" --key "$T/apiserver.key"
expect_eq "mTLS: a review from the allowed client is answered" "$ALLOWED" false
expect_eq "mTLS: refused clients never reached the review log" "$(grep -c '"msg":"admission"' "$T/m1.out")" 1

# --client-ca alone: any certificate that CA issued.
ops_serve m2 "$T/pol" --client-ca "$PKI/ca.pem" || { notok "mTLS server (CA only) starts" "$(cat "$T/m2.err")"; exit 1; }
expect_eq "--client-ca alone: any name from the CA accepted" "$(as intruder --http2)" 200
expect_eq "--client-ca alone: another CA still refused" "$(as forged --http2)" 000
expect_eq "--client-ca alone: no certificate refused" "$(as none --http2)" 000

ops_stop s1 m1 m2
