/*
 * sigstore/tsa — RFC 3161 signed timestamps as observer time.  A response
 * counts only if it verifies against a timestampAuthorities chain of the
 * trusted root (certificates embedded in the token are hints, never
 * anchors), its genTime lies in that authority's validFor and the TSA
 * chain is valid at genTime, and its message imprint is the hash of the
 * signature bytes it vouches for.  TSAs whose chain pg_ca_prepare could
 * check once at load take a shorter path (verify_tsa_fast) that checks the
 * same; when it does not succeed, the full check runs and decides.
 */
#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/ts.h>

#include "sigstore/sigstore_int.h"

/* Timestamp responses are ~1-5 KiB. */
#define PG_TSR_MAX ((size_t)64 << 10)

static int
verify_with(const pg_ca *tsa, TS_RESP *resp, int64_t gen, const unsigned char *data,
	    size_t data_len)
{
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *bio = BIO_new_mem_buf(data, (int)data_len);
	int i, n = sk_X509_num(tsa->chain), rc = PG_EVERIFY;

	if (ctx == NULL || store == NULL || certs == NULL || bio == NULL)
		goto out;
	if (!X509_STORE_add_cert(store, sk_X509_value(tsa->chain, n - 1)))
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)gen);
	X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
	for (i = 0; i < n - 1; i++) {
		X509 *c = sk_X509_value(tsa->chain, i);

		if (!X509_up_ref(c))
			goto out;
		if (!sk_X509_push(certs, c)) {
			X509_free(c);
			goto out;
		}
	}
	/* The context owns what is set on it from here. */
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
	TS_VERIFY_CTX_set_store(ctx, store);
	store = NULL;
	TS_VERIFY_CTX_set_certs(ctx, certs);
	certs = NULL;
	TS_VERIFY_CTX_set_data(ctx, bio);
	bio = NULL;
	if (TS_RESP_verify_response(ctx, resp) == 1)
		rc = PG_OK;
out:
	ERR_clear_error();
	TS_VERIFY_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	return rc;
}

/* OSSL_ESS_check_signing_certs over the whole TSA chain, as
 * TS_RESP_verify_signature does over the path it built: with the signing
 * certificate anchored its own check sees only chain[0]. */
static bool
ess_matches_chain(PKCS7 *token, STACK_OF(X509) * chain)
{
	STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(token);
	PKCS7_SIGNER_INFO *si;
	ESS_SIGNING_CERT *ss = NULL;
	ESS_SIGNING_CERT_V2 *ssv2 = NULL;
	ASN1_TYPE *a;
	const unsigned char *p;
	bool ok;

	if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
		return false;
	si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
	a = PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificate);
	if (a != NULL) {
		if (a->type != V_ASN1_SEQUENCE)
			return false;
		p = a->value.sequence->data;
		if ((ss = d2i_ESS_SIGNING_CERT(NULL, &p, a->value.sequence->length)) == NULL)
			return false;
	}
	a = PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificateV2);
	if (a != NULL) {
		if (a->type != V_ASN1_SEQUENCE) {
			ESS_SIGNING_CERT_free(ss);
			return false;
		}
		p = a->value.sequence->data;
		if ((ssv2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, a->value.sequence->length)) == NULL) {
			ESS_SIGNING_CERT_free(ss);
			return false;
		}
	}
	ok = OSSL_ESS_check_signing_certs(ss, ssv2, chain, 1) > 0;
	ESS_SIGNING_CERT_free(ss);
	ESS_SIGNING_CERT_V2_free(ssv2);
	return ok;
}

/*
 * A TSA prepared with fast (pg_ca_prepare: its chain verified once as a
 * timestamp-signing path): the signing certificate chain[0] is the only
 * anchor, so OpenSSL checks the token's signature and chain[0] itself but
 * no signature between the root's own certificates.  What that leaves out
 * is checked here: every certificate of the chain valid at genTime (as
 * OpenSSL would), the signer is chain[0], and the ESS attribute covers the
 * chain.  PG_OK only when all of it holds; anything else goes to the full
 * check (verify_with), which decides.
 */
static int
verify_tsa_fast(const pg_ca *tsa, TS_RESP *resp, int64_t gen, const unsigned char *data,
		size_t data_len)
{
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *certs = NULL;
	PKCS7 *token = TS_RESP_get_token(resp);
	X509 *signer = NULL;
	BIO *bio = NULL;
	int i, n = sk_X509_num(tsa->chain), rc = PG_EVERIFY;

	if (!pg_certs_valid_at_openssl(tsa->chain, gen))
		return PG_EVERIFY;
	ctx = TS_VERIFY_CTX_new();
	store = X509_STORE_new();
	certs = sk_X509_new_null();
	bio = BIO_new_mem_buf(data, (int)data_len);
	if (ctx == NULL || store == NULL || certs == NULL || bio == NULL || token == NULL)
		goto out;
	if (!X509_STORE_add_cert(store, sk_X509_value(tsa->chain, 0)))
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)gen);
	X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
	/* The same candidate certificates as the full check. */
	for (i = 0; i < n - 1; i++)
		if (!sk_X509_push(certs, sk_X509_value(tsa->chain, i)))
			goto out;
	if (TS_RESP_verify_signature(token, certs, store, &signer) != 1 ||
	    X509_cmp(signer, sk_X509_value(tsa->chain, 0)) != 0 ||
	    !ess_matches_chain(token, tsa->chain))
		goto out;
	/* Status, version and imprint: the rest of the full check. */
	TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_DATA);
	TS_VERIFY_CTX_set_data(ctx, bio);
	bio = NULL;
	if (TS_RESP_verify_response(ctx, resp) == 1)
		rc = PG_OK;
out:
	ERR_clear_error();
	X509_free(signer);
	TS_VERIFY_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(certs);
	BIO_free(bio);
	return rc;
}

int
pg_tsa_verify(int64_t *time_out, const pg_trusted_root *r, const unsigned char *tsr, size_t tsr_len,
	      const unsigned char *data, size_t data_len, pg_err *err)
{
	const unsigned char *p = tsr;
	TS_RESP *resp = NULL;
	TS_TST_INFO *info;
	int64_t gen;
	size_t i;
	int rc = PG_EVERIFY, in_window = 0;

	if (tsr_len > PG_TSR_MAX || data_len > INT_MAX)
		return pg_err_set(err, PG_ETOOBIG, "timestamp too large");
	resp = d2i_TS_RESP(NULL, &p, (long)tsr_len);
	if (resp == NULL || p != tsr + tsr_len) {
		rc = pg_err_set(err, PG_EINVAL, "malformed RFC 3161 timestamp");
		goto out;
	}
	info = TS_RESP_get_tst_info(resp);
	if (info == NULL || pg_asn1_time_epoch(&gen, TS_TST_INFO_get_time(info)) != PG_OK) {
		rc = pg_err_set(err, PG_EINVAL, "RFC 3161 timestamp without a time");
		goto out;
	}
	for (i = 0; r && i < r->ntsas; i++) {
		const pg_ca *tsa = &r->tsas[i];

		if (!pg_trust_valid_at(tsa->start, tsa->end, tsa->has_end, gen))
			continue;
		in_window++;
		if ((tsa->fast && verify_tsa_fast(tsa, resp, gen, data, data_len) == PG_OK) ||
		    verify_with(tsa, resp, gen, data, data_len) == PG_OK) {
			*time_out = gen;
			rc = PG_OK;
			goto out;
		}
	}
	if (in_window == 0)
		rc = pg_err_set(err, PG_EVERIFY,
				"no timestamp authority of the trusted root is valid at the "
				"timestamp's time");
	else
		rc = pg_err_set(err, PG_EVERIFY,
				"RFC 3161 timestamp does not verify against a trusted "
				"timestamp authority (or is not over this signature)");
out:
	ERR_clear_error();
	TS_RESP_free(resp);
	return rc;
}
