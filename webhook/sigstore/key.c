/*
 * sigstore/key — public keys and the one place signatures are checked.
 * Accepts only what sigstore signs with: ECDSA P-256/P-384/P-521 (ASN.1
 * DER signatures), RSA >= 2048 bits with PKCS#1 v1.5, Ed25519 (pure).
 * Never hands an unsupported key type to OpenSSL's generic verify.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "sigstore/sigstore_int.h"

bool
pg_key_is_ed25519(EVP_PKEY *key)
{
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
}

static int
ec_curve_nid(EVP_PKEY *key)
{
	char name[64];
	size_t len = 0;

	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
					    &len))
		return NID_undef;
	return OBJ_txt2nid(name);
}

int
pg_key_check_type(EVP_PKEY *key, pg_err *err)
{
	int id = EVP_PKEY_get_base_id(key), nid;

	switch (id) {
	case EVP_PKEY_EC:
		nid = ec_curve_nid(key);
		if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_secp521r1)
			return PG_OK;
		return pg_err_set(err, PG_EVERIFY, "unsupported elliptic curve");
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(key) >= 2048)
			return PG_OK;
		return pg_err_set(err, PG_EVERIFY, "RSA key shorter than 2048 bits");
	case EVP_PKEY_ED25519:
		return PG_OK;
	default:
		return pg_err_set(err, PG_EVERIFY,
				  "unsupported key type (want ECDSA, RSA or Ed25519)");
	}
}

const EVP_MD *
pg_key_default_md(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return NULL;
	case EVP_PKEY_EC:
		switch (ec_curve_nid(key)) {
		case NID_secp384r1:
			return pg_digest_md(PG_DIGEST_SHA384);
		case NID_secp521r1:
			return pg_digest_md(PG_DIGEST_SHA512);
		default:
			return pg_digest_md(PG_DIGEST_SHA256);
		}
	default:
		return pg_digest_md(PG_DIGEST_SHA256);
	}
}

int
pg_key_from_der(EVP_PKEY **out, const unsigned char *der, size_t len, pg_err *err)
{
	const unsigned char *p = der;
	EVP_PKEY *k;

	*out = NULL;
	if (len > LONG_MAX)
		return pg_err_set(err, PG_EINVAL, "public key too large");
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (k == NULL || p != der + len) {
		EVP_PKEY_free(k);
		return pg_err_set(err, PG_EINVAL, "malformed public key");
	}
	if (pg_key_check_type(k, err) != PG_OK) {
		EVP_PKEY_free(k);
		return PG_EVERIFY;
	}
	*out = k;
	return PG_OK;
}

int
pg_pem_only_block(unsigned char **out, size_t *out_len, const char *pem, size_t len,
		  const char *type)
{
	static const char begin[] = "-----BEGIN";
	const char *first;
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	long n = 0;
	BIO *b = NULL;
	int rc = PG_EINVAL;

	*out = NULL;
	*out_len = 0;
	if (len > INT_MAX)
		return PG_ETOOBIG;
	first = memmem(pem, len, begin, sizeof(begin) - 1);
	if (first == NULL ||
	    memmem(first + 1, len - (size_t)(first + 1 - pem), begin, sizeof(begin) - 1) != NULL)
		return PG_EINVAL;
	b = BIO_new_mem_buf(pem, (int)len);
	if (b == NULL)
		return PG_ENOMEM;
	if (PEM_read_bio(b, &name, &hdr, &data, &n) != 1 || strcmp(name, type) != 0 ||
	    hdr[0] != '\0' || n <= 0)
		goto out;
	*out = data;
	*out_len = (size_t)n;
	data = NULL;
	rc = PG_OK;
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(b);
	return rc;
}

/* A plain "PUBLIC KEY" PEM, the usual cosign.pub: its DER straight to
 * d2i_PUBKEY.  PEM_read_bio_PUBKEY gets the same key, but in OpenSSL 3 it
 * first sets up a decoder for every PEM type, which cost a third of a
 * key-mode bundle verification.  Anything else: PG_EINVAL, and the caller
 * takes the general path. */
static int
key_from_plain_pem(EVP_PKEY **out, const char *pem, size_t len)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t n = 0;
	EVP_PKEY *k;

	*out = NULL;
	if (pg_pem_only_block(&der, &n, pem, len, "PUBLIC KEY") != PG_OK)
		return PG_EINVAL;
	p = der;
	k = d2i_PUBKEY(NULL, &p, (long)n);
	if (k == NULL || p != der + n) {
		EVP_PKEY_free(k);
		OPENSSL_free(der);
		ERR_clear_error();
		return PG_EINVAL;
	}
	OPENSSL_free(der);
	*out = k;
	return PG_OK;
}

int
pg_key_from_pem(EVP_PKEY **out, const char *pem, size_t len, pg_err *err)
{
	BIO *b = NULL;
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	int rc = PG_EINVAL;

	*out = NULL;
	if (len > INT_MAX)
		return pg_err_set(err, PG_ETOOBIG, "public key file too large");
	if (key_from_plain_pem(&k, pem, len) == PG_OK)
		goto check;
	b = BIO_new_mem_buf(pem, (int)len);
	if (b == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (k == NULL) {
		(void)BIO_reset(b);
		c = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (c != NULL)
			k = X509_get_pubkey(c);
	}
	if (k == NULL) {
		rc = pg_err_set(err, PG_EINVAL, "no PEM public key found");
		goto out;
	}
check:
	rc = pg_key_check_type(k, err);
	if (rc != PG_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	EVP_PKEY_free(k);
	X509_free(c);
	BIO_free(b);
	return rc;
}

int
pg_key_spki(unsigned char **out, size_t *out_len, EVP_PKEY *key)
{
	unsigned char *p = NULL;
	int n = i2d_PUBKEY(key, &p);

	return pg_der_take(out, out_len, p, n);
}

int
pg_key_verify_digest(EVP_PKEY *key, const EVP_MD *md, const unsigned char *dgst, size_t dgst_len,
		     const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	int rc = PG_EVERIFY;

	if (pg_key_is_ed25519(key) || md == NULL)
		return PG_EUNAVAIL;
	if ((size_t)EVP_MD_get_size(md) != dgst_len)
		return PG_EVERIFY;
	ctx = EVP_PKEY_CTX_new(key, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
		goto out;
	if (EVP_PKEY_verify(ctx, sig, sig_len, dgst, dgst_len) == 1)
		rc = PG_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int
pg_key_verify(EVP_PKEY *key, const EVP_MD *md, const unsigned char *msg, size_t len,
	      const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char dg[EVP_MAX_MD_SIZE];
	int rc = PG_EVERIFY;

	if (!pg_key_is_ed25519(key)) {
		if (md == NULL)
			return PG_EVERIFY;
		if (pg_digest_evp(dg, md, msg, len) != PG_OK)
			return PG_EINTERNAL;
		return pg_key_verify_digest(key, md, dg, (size_t)EVP_MD_get_size(md), sig, sig_len);
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return PG_ENOMEM;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1)
		rc = PG_OK;
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
pg_sigstore_key_check(const char *pem, size_t len, pg_err *err)
{
	EVP_PKEY *k = NULL;
	int rc = pg_key_from_pem(&k, pem, len, err);

	if (rc == PG_OK)
		rc = pg_key_check_type(k, err);
	EVP_PKEY_free(k);
	return rc;
}
