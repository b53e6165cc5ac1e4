/*
 * sigstore/claims — the Fulcio certificate extensions that describe a CI
 * build (OIDs 1.3.6.1.4.1.57264.1.8 to .22, each a DER UTF8String), read
 * for attestation policies: "built from this repository at this ref by
 * this workflow on a GitHub-hosted runner" is what these extensions, and
 * only they, vouch for.  The issuer falls back to the legacy 1.1 (raw
 * bytes) as everywhere else (pg_cert_fulcio_issuer).
 *
 * A claim extension that appears twice is refused: which copy a verifier
 * reads would otherwise decide the outcome.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

/* A claim is a URI, a digest or a short word; 4 KiB is generous. */
#define PG_CLAIM_MAX 4096

static const char *const names[PG_CLAIM_N] = {
    "issuer",
    "buildSignerURI",
    "buildSignerDigest",
    "runnerEnvironment",
    "sourceRepositoryURI",
    "sourceRepositoryDigest",
    "sourceRepositoryRef",
    "sourceRepositoryIdentifier",
    "sourceRepositoryOwnerURI",
    "sourceRepositoryOwnerIdentifier",
    "buildConfigURI",
    "buildConfigDigest",
    "buildTrigger",
    "runInvocationURI",
    "sourceRepositoryVisibilityAtSigning",
};

const char *
pg_claim_name(int i)
{
	return i >= 0 && i < PG_CLAIM_N ? names[i] : NULL;
}

int
pg_claim_index(const char *name)
{
	int i;

	for (i = 0; name && i < PG_CLAIM_N; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* The UTF8String value of extension 1.3.6.1.4.1.57264.1.<arc>: *out NULL
 * when absent; PG_EINVAL when malformed or present twice. */
static int
claim(char **out, X509 *c, int arc)
{
	char oid[40];
	ASN1_OBJECT *o;
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	ASN1_UTF8STRING *u = NULL;
	int idx, n, rc = PG_EINVAL;

	*out = NULL;
	(void)snprintf(oid, sizeof(oid), "1.3.6.1.4.1.57264.1.%d", arc);
	o = OBJ_txt2obj(oid, 1);
	if (o == NULL)
		return PG_ENOMEM;
	idx = X509_get_ext_by_OBJ(c, o, -1);
	if (idx < 0) {
		rc = PG_OK;
		goto out;
	}
	if (X509_get_ext_by_OBJ(c, o, idx) >= 0)
		goto out;
	v = X509_EXTENSION_get_data(X509_get_ext(c, idx));
	if (v == NULL)
		goto out;
	p = ASN1_STRING_get0_data(v);
	n = ASN1_STRING_length(v);
	u = d2i_ASN1_UTF8STRING(NULL, &p, n);
	/* The whole extension value is the string: no trailing bytes. */
	if (u == NULL || p != ASN1_STRING_get0_data(v) + n)
		goto out;
	n = ASN1_STRING_length(u);
	p = ASN1_STRING_get0_data(u);
	if (n < 0 || n > PG_CLAIM_MAX || (n > 0 && memchr(p, 0, (size_t)n)))
		goto out;
	*out = pg_strndup((const char *)p, (size_t)n);
	rc = *out ? PG_OK : PG_ENOMEM;
out:
	ASN1_UTF8STRING_free(u);
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return rc;
}

int
pg_cert_fulcio_claims(char *out[PG_CLAIM_N], X509 *c)
{
	int i, rc = PG_OK;

	for (i = 0; i < PG_CLAIM_N; i++)
		out[i] = NULL;
	/* 1.8, else 1.1, exactly as the identity check reads it. */
	if (claim(&out[PG_CLAIM_ISSUER], c, 8) != PG_OK)
		rc = PG_EINVAL;
	else if (out[PG_CLAIM_ISSUER] == NULL &&
		 pg_cert_fulcio_issuer(&out[PG_CLAIM_ISSUER], c) != PG_OK)
		rc = PG_EINVAL;
	for (i = 1; rc == PG_OK && i < PG_CLAIM_N; i++)
		rc = claim(&out[i], c, 8 + i);
	if (rc != PG_OK) {
		for (i = 0; i < PG_CLAIM_N; i++) {
			free(out[i]);
			out[i] = NULL;
		}
	}
	return rc;
}
