/*
 * notation/tst — the RFC 3161 timestamp countersignature of a notary.x509
 * signature (trust-store-trust-policy.md "Validate Authentic Timestamp").
 *
 * The envelope carries a TimeStampToken (a CMS ContentInfo), not the
 * TimeStampResp that sigstore/tsa.c reads, and it is anchored in a tsa
 * trust store of roots rather than a trusted root's complete chains; the
 * spec also needs the accuracy.  So this is its own small file on the same
 * OpenSSL TS calls.  What it checks:
 *  - the token is SignedData over a TSTInfo (eContentType id-ct-TSTInfo),
 *    signed by a certificate that chains to a root of the tsa store at
 *    genTime (certificates in the token are untrusted hints), with the TSA
 *    leaf rules OpenSSL's timestamp purpose applies (EKU timeStamping only,
 *    critical);
 *  - the ESS signing-certificate-v2 attribute is present (OpenSSL then
 *    checks it names the signer);
 *  - the imprint, hashed with SHA-256/384/512, is over the raw signature;
 *  - genTime -/+ accuracy (explicit, else 1 s under the RFC 3628 baseline
 *    policy, else 0) is returned for the caller to hold against the
 *    signing chain.
 */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "notation/notation_int.h"

/* A token is ~2-8 KiB with its certificates. */
#define NV_TST_MAX ((size_t)64 << 10)
/* RFC 3628 baseline time-stamp policy. */
#define NV_BASELINE_POLICY "0.4.0.2023.1.1"

static int
accuracy(int64_t *out, TS_TST_INFO *info)
{
	TS_ACCURACY *a = TS_TST_INFO_get_accuracy(info);
	const ASN1_OBJECT *pol = TS_TST_INFO_get_policy_id(info);
	char txt[64];
	int64_t s = 0;

	*out = 0;
	if (a != NULL) {
		const ASN1_INTEGER *sec = TS_ACCURACY_get_seconds(a);
		const ASN1_INTEGER *ms = TS_ACCURACY_get_millis(a);
		const ASN1_INTEGER *us = TS_ACCURACY_get_micros(a);
		int64_t v;

		if (sec != NULL) {
			if (ASN1_INTEGER_get_int64(&v, sec) != 1 || v < 0 || v > 86400 * 366)
				return PG_EINVAL;
			s = v;
		}
		/* Sub-second parts round up: the range only grows. */
		if ((ms != NULL && ASN1_INTEGER_get_int64(&v, ms) == 1 && v > 0) ||
		    (us != NULL && ASN1_INTEGER_get_int64(&v, us) == 1 && v > 0))
			s++;
		*out = s;
		return PG_OK;
	}
	if (pol != NULL && OBJ_obj2txt(txt, sizeof(txt), pol, 1) > 0 &&
	    strcmp(txt, NV_BASELINE_POLICY) == 0)
		*out = 1;
	return PG_OK;
}

static bool
has_ess_v2(PKCS7 *token)
{
	STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(token);

	if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
		return false;
	return PKCS7_get_signed_attribute(sk_PKCS7_SIGNER_INFO_value(sis, 0),
					  NID_id_smime_aa_signingCertificateV2) != NULL;
}

int
nv_tst_verify(int64_t *lo, int64_t *hi, const unsigned char *tst, size_t tst_len,
	      STACK_OF(X509) * roots, const unsigned char *data, size_t data_len, pg_err *err)
{
	const unsigned char *p = tst;
	PKCS7 *token = NULL;
	TS_TST_INFO *info = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	BIO *bio = NULL;
	X509_ALGOR *halg;
	int64_t gen, acc;
	int i, nid, rc = PG_EVERIFY;

	if (tst_len > NV_TST_MAX || data_len > INT_MAX)
		return pg_err_set(err, PG_ETOOBIG, "timestamp token too large");
	token = d2i_PKCS7(NULL, &p, (long)tst_len);
	if (token == NULL || p != tst + tst_len || !PKCS7_type_is_signed(token)) {
		rc = pg_err_set(err, PG_EVERIFY, "timestamp token is not a CMS SignedData");
		goto out;
	}
	/* PKCS7_to_TS_TST_INFO checks eContentType id-ct-TSTInfo and
	 * decodes the TSTInfo. */
	if ((info = PKCS7_to_TS_TST_INFO(token)) == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "timestamp token does not hold a valid TSTInfo");
		goto out;
	}
	if (nv_asn1_time(&gen, TS_TST_INFO_get_time(info)) != PG_OK ||
	    accuracy(&acc, info) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "timestamp has a malformed time or accuracy");
		goto out;
	}
	halg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(info));
	nid = halg ? OBJ_obj2nid(halg->algorithm) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		rc = pg_err_set(err, PG_EVERIFY,
				"timestamp imprint uses %s (SHA-256/384/512 needed)",
				nid == NID_undef ? "an unknown hash" : OBJ_nid2sn(nid));
		goto out;
	}
	if (!has_ess_v2(token)) {
		rc = pg_err_set(err, PG_EVERIFY,
				"timestamp lacks the signing-certificate-v2 attribute");
		goto out;
	}
	if (roots == NULL || sk_X509_num(roots) == 0) {
		rc = pg_err_set(err, PG_EVERIFY, "no tsa trust store certificates");
		goto out;
	}
	if ((ctx = TS_VERIFY_CTX_new()) == NULL || (store = X509_STORE_new()) == NULL ||
	    (bio = BIO_new_mem_buf(data, (int)data_len)) == NULL) {
		rc = PG_ENOMEM;
		goto out;
	}
	for (i = 0; i < sk_X509_num(roots); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(roots, i))) {
			rc = PG_ENOMEM;
			goto out;
		}
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)gen);
	/* The context owns what is set on it from here. */
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
	TS_VERIFY_CTX_set_store(ctx, store);
	store = NULL;
	TS_VERIFY_CTX_set_data(ctx, bio);
	bio = NULL;
	if (TS_RESP_verify_token(ctx, token) != 1) {
		unsigned long e = ERR_peek_last_error();
		char why[160];

		ERR_error_string_n(e, why, sizeof(why));
		rc = pg_err_set(err, PG_EVERIFY,
				"timestamp does not verify against the tsa trust store at its "
				"genTime, or is not over this signature (%s)",
				e ? why : "unknown reason");
		goto out;
	}
	*lo = gen - acc;
	*hi = gen + acc;
	rc = PG_OK;
out:
	ERR_clear_error();
	TS_TST_INFO_free(info);
	TS_VERIFY_CTX_free(ctx);
	X509_STORE_free(store);
	BIO_free(bio);
	PKCS7_free(token);
	return rc;
}
