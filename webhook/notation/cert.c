/*
 * notation/cert — keys, the algorithm a key implies, and the certificate
 * requirements of the Notary Project signature specification
 * (signature-specification.md "Certificate Requirements"), which apply to
 * the chain carried in the envelope whatever the trust store says:
 *
 *  - the chain is ordered leaf..root, each certificate signed by the next,
 *    the last one self-signed (a chain of one is a self-signed leaf);
 *  - CA certificates: basicConstraints critical with cA, pathLen honoured,
 *    keyUsage critical with keyCertSign;
 *  - the leaf: basicConstraints, if any, without cA; keyUsage critical with
 *    digitalSignature and none of the encipherment/agreement/CA bits; EKU,
 *    if any, without anyEKU, serverAuth, clientAuth, emailProtection,
 *    timeStamping;
 *  - RSA keys >= 2048 bits, EC keys >= 256 bits; no SHA-1 (or weaker)
 *    certificate signatures.
 * Validity periods are not judged here (the verifier does, at the right
 * time).  And x509.subject distinguished names for trustedIdentities.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "buf/buf.h"
#include "notation/notation_int.h"

nv_alg
nv_alg_of_key(EVP_PKEY *k)
{
	char group[64];
	size_t glen = 0;

	if (EVP_PKEY_is_a(k, "RSA")) {
		switch (EVP_PKEY_get_bits(k)) {
		case 2048:
			return NV_PS256;
		case 3072:
			return NV_PS384;
		case 4096:
			return NV_PS512;
		default:
			return NV_ALG_NONE;
		}
	}
	if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &glen) == 1) {
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			return NV_ES256;
		if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			return NV_ES384;
		if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
			return NV_ES512;
	}
	return NV_ALG_NONE;
}

const char *
nv_alg_name(nv_alg a)
{
	switch (a) {
	case NV_PS256:
		return "PS256";
	case NV_PS384:
		return "PS384";
	case NV_PS512:
		return "PS512";
	case NV_ES256:
		return "ES256";
	case NV_ES384:
		return "ES384";
	case NV_ES512:
		return "ES512";
	default:
		return "none";
	}
}

static const EVP_MD *
alg_md(nv_alg a)
{
	switch (a) {
	case NV_PS256:
	case NV_ES256:
		return pg_digest_md(PG_DIGEST_SHA256);
	case NV_PS384:
	case NV_ES384:
		return pg_digest_md(PG_DIGEST_SHA384);
	case NV_PS512:
	case NV_ES512:
		return pg_digest_md(PG_DIGEST_SHA512);
	default:
		return NULL;
	}
}

/* JOSE/COSE ECDSA signatures are r||s, each the size of the order. */
static int
ecdsa_raw_to_der(unsigned char **out, size_t *out_len, const unsigned char *sig, size_t n, nv_alg a)
{
	size_t half = a == NV_ES256 ? 32 : a == NV_ES384 ? 48 : 66;
	ECDSA_SIG *s = NULL;
	BIGNUM *r = NULL, *ss = NULL;
	unsigned char *der = NULL;
	int len, rc = PG_EVERIFY;

	if (n != 2 * half)
		return PG_EVERIFY;
	s = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)half, NULL);
	ss = BN_bin2bn(sig + half, (int)half, NULL);
	if (s == NULL || r == NULL || ss == NULL)
		goto out;
	if (!ECDSA_SIG_set0(s, r, ss))
		goto out;
	r = ss = NULL;
	if ((len = i2d_ECDSA_SIG(s, &der)) <= 0)
		goto out;
	*out = der;
	*out_len = (size_t)len;
	rc = PG_OK;
out:
	BN_free(r);
	BN_free(ss);
	ECDSA_SIG_free(s);
	return rc;
}

int
nv_sig_verify(EVP_PKEY *k, nv_alg a, const unsigned char *msg, size_t len, const unsigned char *sig,
	      size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = alg_md(a);
	unsigned char *der = NULL;
	size_t der_len = 0;
	int rc = PG_EVERIFY;

	if (ctx == NULL || md == NULL)
		goto out;
	if (a == NV_ES256 || a == NV_ES384 || a == NV_ES512) {
		if (ecdsa_raw_to_der(&der, &der_len, sig, sig_len, a) != PG_OK)
			goto out;
		sig = der;
		sig_len = der_len;
	}
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k) != 1)
		goto out;
	if (a == NV_PS256 || a == NV_PS384 || a == NV_PS512) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
			goto out;
	}
	if (EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1)
		rc = PG_OK;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
nv_asn1_time(int64_t *out, const ASN1_TIME *t)
{
	struct tm tm;
	time_t s;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return PG_EINVAL;
	if ((s = timegm(&tm)) == (time_t)-1)
		return PG_EINVAL;
	*out = (int64_t)s;
	return PG_OK;
}

int
nv_cert_time(int64_t *not_before, int64_t *not_after, X509 *c)
{
	if (nv_asn1_time(not_before, X509_get0_notBefore(c)) != PG_OK ||
	    nv_asn1_time(not_after, X509_get0_notAfter(c)) != PG_OK)
		return PG_EINVAL;
	return PG_OK;
}

void
nv_subject(char *out, size_t n, X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	int len;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(c), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_read(b, out, (int)n - 1)) > 0)
		out[len] = '\0';
	BIO_free(b);
	pg_utf8_clean(out);
}

static bool
ext_critical(X509 *c, int nid)
{
	int i = X509_get_ext_by_NID(c, nid, -1);

	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(c, i));
}

static bool
ext_present(X509 *c, int nid)
{
	return X509_get_ext_by_NID(c, nid, -1) >= 0;
}

/* Key sizes and the certificate's own signature algorithm. */
static int
check_key_and_sig(X509 *c, int depth, pg_err *err)
{
	EVP_PKEY *k = X509_get0_pubkey(c);
	int md_nid = NID_undef, pk_nid = NID_undef;

	if (k == NULL)
		return pg_err_set(err, PG_EVERIFY, "certificate %d has an unreadable key", depth);
	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS")) {
		if (EVP_PKEY_get_bits(k) < 2048)
			return pg_err_set(err, PG_EVERIFY,
					  "certificate %d has an RSA key under 2048 bits", depth);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		if (EVP_PKEY_get_bits(k) < 256)
			return pg_err_set(err, PG_EVERIFY,
					  "certificate %d has an EC key under 256 bits", depth);
	} else {
		return pg_err_set(err, PG_EVERIFY, "certificate %d has an unsupported key type",
				  depth);
	}
	/* RSA-PSS signatures have no md in the NID: OpenSSL reports
	 * NID_undef and checks the PSS parameters itself; refuse SHA-1 in
	 * them through the security level below. */
	if (X509_get_signature_info(c, &md_nid, &pk_nid, NULL, NULL) != 1)
		return pg_err_set(err, PG_EVERIFY,
				  "certificate %d has an unsupported signature algorithm", depth);
	if (md_nid != NID_sha256 && md_nid != NID_sha384 && md_nid != NID_sha512)
		return pg_err_set(
		    err, PG_EVERIFY, "certificate %d is signed with %s (SHA-256/384/512 needed)",
		    depth, md_nid == NID_undef ? "an unknown digest" : OBJ_nid2sn(md_nid));
	return PG_OK;
}

static int
check_leaf(X509 *c, pg_err *err)
{
	uint32_t ku, xku, flags = X509_get_extension_flags(c);

	if (flags & EXFLAG_INVALID)
		return pg_err_set(err, PG_EVERIFY, "signing certificate has invalid extensions");
	if ((flags & EXFLAG_BCONS) && (flags & EXFLAG_CA))
		return pg_err_set(err, PG_EVERIFY, "signing certificate is a CA certificate");
	if (!ext_critical(c, NID_key_usage))
		return pg_err_set(err, PG_EVERIFY,
				  "signing certificate lacks a critical keyUsage extension");
	ku = X509_get_key_usage(c);
	if (!(ku & KU_DIGITAL_SIGNATURE))
		return pg_err_set(err, PG_EVERIFY,
				  "signing certificate keyUsage lacks digitalSignature");
	if (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT | KU_KEY_CERT_SIGN |
		  KU_CRL_SIGN | KU_ENCIPHER_ONLY | KU_DECIPHER_ONLY))
		return pg_err_set(err, PG_EVERIFY,
				  "signing certificate keyUsage has bits other than "
				  "digitalSignature/nonRepudiation");
	if (ext_present(c, NID_ext_key_usage)) {
		xku = X509_get_extended_key_usage(c);
		if (xku &
		    (XKU_ANYEKU | XKU_SSL_SERVER | XKU_SSL_CLIENT | XKU_SMIME | XKU_TIMESTAMP))
			return pg_err_set(err, PG_EVERIFY,
					  "signing certificate extendedKeyUsage allows "
					  "anyEKU, serverAuth, clientAuth, emailProtection or "
					  "timeStamping");
	}
	return PG_OK;
}

static int
check_ca(X509 *c, int below, pg_err *err)
{
	uint32_t flags = X509_get_extension_flags(c);
	long pl;

	if (flags & EXFLAG_INVALID)
		return pg_err_set(err, PG_EVERIFY, "CA certificate has invalid extensions");
	if (!ext_critical(c, NID_basic_constraints) || !(flags & EXFLAG_CA))
		return pg_err_set(err, PG_EVERIFY,
				  "CA certificate lacks critical basicConstraints with cA");
	if (!ext_critical(c, NID_key_usage) || !(X509_get_key_usage(c) & KU_KEY_CERT_SIGN))
		return pg_err_set(err, PG_EVERIFY,
				  "CA certificate lacks a critical keyUsage with keyCertSign");
	pl = X509_get_pathlen(c);
	if (pl >= 0 && below > pl)
		return pg_err_set(err, PG_EVERIFY,
				  "CA certificate pathLenConstraint %ld exceeded by the chain", pl);
	return PG_OK;
}

static bool
signed_by(X509 *c, X509 *issuer)
{
	EVP_PKEY *k = X509_get0_pubkey(issuer);
	bool ok;

	ok = k != NULL &&
	     X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(issuer)) == 0 &&
	     X509_verify(c, k) == 1;
	ERR_clear_error();
	return ok;
}

int
nv_chain_check(STACK_OF(X509) * chain, pg_err *err)
{
	int i, rc, n = sk_X509_num(chain);

	if (n < 1 || n > NV_CHAIN_MAX)
		return pg_err_set(err, PG_EVERIFY, "certificate chain has %d certificates", n);
	for (i = 0; i < n; i++) {
		X509 *c = sk_X509_value(chain, i);

		/* Fills the extension cache; EXFLAG_INVALID is checked below. */
		(void)X509_check_purpose(c, -1, 0);
		if ((rc = check_key_and_sig(c, i, err)) != PG_OK)
			return rc;
		if (i + 1 < n && !signed_by(c, sk_X509_value(chain, i + 1)))
			return pg_err_set(err, PG_EVERIFY,
					  "certificate %d is not signed by certificate %d: the "
					  "chain is not ordered leaf to root",
					  i, i + 1);
		if (i == 0) {
			if ((rc = check_leaf(c, err)) != PG_OK)
				return rc;
		} else if ((rc = check_ca(c, i - 1, err)) != PG_OK) {
			return rc;
		}
	}
	if (!signed_by(sk_X509_value(chain, n - 1), sk_X509_value(chain, n - 1)))
		return pg_err_set(err, PG_EVERIFY,
				  "certificate chain does not end in a self-signed root");
	return PG_OK;
}

/* ---- distinguished names ---- */

void
nv_dn_free(nv_dn *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].type);
		free(d->v[i].value);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static char *
trim_dup(const char *s, size_t n, bool keep_trailing_escaped_space)
{
	while (n > 0 && (*s == ' '))
		s++, n--;
	while (n > 0 && s[n - 1] == ' ' &&
	       !(keep_trailing_escaped_space && n >= 2 && s[n - 2] == '\\'))
		n--;
	return pg_strndup(s, n);
}

/* RFC 4514 value unescaping: \X for special characters, \HH hex pairs. */
static int
unescape(char *v)
{
	char *r = v, *w = v;
	int hi, lo;

	while (*r) {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		if ((hi = pg_hex_digit(r[0])) >= 0 && r[1] && (lo = pg_hex_digit(r[1])) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else if (*r && strchr(" \"#+,;<=>\\", *r)) {
			*w++ = *r++;
		} else {
			return PG_EINVAL;
		}
	}
	*w = '\0';
	return PG_OK;
}

#define NV_DN_MAX 32

int
nv_dn_parse(nv_dn *out, const char *s, bool require_cso, pg_err *err)
{
	size_t start = 0, i, len = strlen(s), j;
	bool c = false, st = false, o = false;
	int rc = PG_EINVAL;

	memset(out, 0, sizeof(*out));
	if ((out->v = calloc(NV_DN_MAX, sizeof(*out->v))) == NULL)
		return PG_ENOMEM;
	for (i = 0; i <= len; i++) {
		char *part, *eq;

		if (i < len && s[i] == '\\') {
			i++;
			continue;
		}
		if (i < len && s[i] != ',' && s[i] != ';' && s[i] != '+')
			continue;
		if (out->n >= NV_DN_MAX) {
			rc = pg_err_set(err, PG_EINVAL, "identity has too many attributes");
			goto out;
		}
		part = trim_dup(s + start, i - start, true);
		if (part == NULL) {
			rc = PG_ENOMEM;
			goto out;
		}
		eq = strchr(part, '=');
		if (eq == NULL || eq == part || eq[1] == '\0') {
			free(part);
			rc = pg_err_set(err, PG_EINVAL, "malformed distinguished name \"%.200s\"",
					s);
			goto out;
		}
		*eq = '\0';
		out->v[out->n].type = trim_dup(part, strlen(part), false);
		out->v[out->n].value = trim_dup(eq + 1, strlen(eq + 1), true);
		free(part);
		if (out->v[out->n].type == NULL || out->v[out->n].value == NULL) {
			out->n++;
			rc = PG_ENOMEM;
			goto out;
		}
		out->n++;
		if (unescape(out->v[out->n - 1].value) != PG_OK) {
			rc = pg_err_set(err, PG_EINVAL,
					"bad escape in distinguished name \"%.200s\"", s);
			goto out;
		}
		for (j = 0; out->v[out->n - 1].type[j]; j++) {
			char ch = out->v[out->n - 1].type[j];

			if (ch >= 'a' && ch <= 'z')
				out->v[out->n - 1].type[j] = (char)(ch - 'a' + 'A');
		}
		for (j = 0; j + 1 < out->n; j++)
			if (strcmp(out->v[j].type, out->v[out->n - 1].type) == 0) {
				rc = pg_err_set(err, PG_EINVAL,
						"distinguished name \"%.200s\" repeats %s", s,
						out->v[j].type);
				goto out;
			}
		c |= strcmp(out->v[out->n - 1].type, "C") == 0;
		st |= strcmp(out->v[out->n - 1].type, "ST") == 0 ||
		      strcmp(out->v[out->n - 1].type, "S") == 0;
		o |= strcmp(out->v[out->n - 1].type, "O") == 0;
		start = i + 1;
	}
	if (require_cso && !(c && st && o)) {
		rc = pg_err_set(err, PG_EINVAL,
				"trusted identity \"%.200s\" must name at least C, ST and O", s);
		goto out;
	}
	rc = PG_OK;
out:
	if (rc != PG_OK)
		nv_dn_free(out);
	return rc;
}

/* The attribute type of a subject entry as the DN strings write it. */
static void
entry_type(char *out, size_t n, const ASN1_OBJECT *obj)
{
	int nid = OBJ_obj2nid(obj);
	const char *sn = NULL;

	switch (nid) {
	case NID_countryName:
		sn = "C";
		break;
	case NID_stateOrProvinceName:
		sn = "ST";
		break;
	case NID_localityName:
		sn = "L";
		break;
	case NID_organizationName:
		sn = "O";
		break;
	case NID_organizationalUnitName:
		sn = "OU";
		break;
	case NID_commonName:
		sn = "CN";
		break;
	case NID_serialNumber:
		sn = "SERIALNUMBER";
		break;
	case NID_streetAddress:
		sn = "STREET";
		break;
	case NID_postalCode:
		sn = "POSTALCODE";
		break;
	default:
		break;
	}
	if (sn)
		(void)snprintf(out, n, "%s", sn);
	else if (OBJ_obj2txt(out, (int)n, obj, 1) <= 0)
		out[0] = '\0';
}

bool
nv_subject_plain(X509 *c, char *why, size_t n)
{
	X509_NAME *name = X509_get_subject_name(c);
	int i, j, cnt = X509_NAME_entry_count(name);
	char ti[80], tj[80];

	for (i = 1; i < cnt; i++)
		if (X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i)) ==
		    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i - 1))) {
			(void)snprintf(why, n, "has a multi-valued RDN");
			return false;
		}
	for (i = 0; i < cnt; i++) {
		entry_type(ti, sizeof(ti),
			   X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, i)));
		for (j = 0; j < i; j++) {
			entry_type(tj, sizeof(tj),
				   X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, j)));
			if (strcmp(ti, tj) == 0) {
				(void)snprintf(why, n, "repeats %s", ti);
				return false;
			}
		}
	}
	return true;
}

bool
nv_dn_match(const nv_dn *want, X509 *c)
{
	X509_NAME *name = X509_get_subject_name(c);
	int i, cnt = X509_NAME_entry_count(name);
	size_t w;

	for (w = 0; w < want->n; w++) {
		const char *type = strcmp(want->v[w].type, "S") == 0 ? "ST" : want->v[w].type;
		bool found = false;

		for (i = 0; i < cnt && !found; i++) {
			X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
			unsigned char *u = NULL;
			char t[80];
			int ulen;

			entry_type(t, sizeof(t), X509_NAME_ENTRY_get_object(e));
			if (strcmp(t, type) != 0)
				continue;
			ulen = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
			if (ulen >= 0 && (size_t)ulen == strlen(want->v[w].value) &&
			    memcmp(u, want->v[w].value, (size_t)ulen) == 0)
				found = true;
			OPENSSL_free(u);
		}
		if (!found)
			return false;
	}
	return true;
}
