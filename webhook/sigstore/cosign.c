/*
 * sigstore/cosign — one layer of a cosign legacy signature manifest
 * (tag sha256-<hex>.sig, media type ...simplesigning.v1+json), checked as
 * `cosign verify` does, offline:
 *   - the signature annotation verifies over the exact payload bytes
 *     (SHA-256 for ECDSA/RSA, pure Ed25519);
 *   - the payload's critical.image.docker-manifest-digest is the admitted
 *     digest (docker-reference is deliberately not compared);
 *   - the Rekor bundle annotation, when present, matches this signature,
 *     key and payload and carries a valid SET from a trusted log;
 *   - keyless: the certificate chains to a trusted CA at the log (or TSA)
 *     time, has an SCT, and its identity and issuer match.
 * The chain annotation is never an anchor: anchors come from the trusted
 * root; its certificates may only fill in intermediates.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

#define ANN_SIG "dev.cosignproject.cosign/signature"
#define ANN_CERT "dev.sigstore.cosign/certificate"
#define ANN_CHAIN "dev.sigstore.cosign/chain"
#define ANN_BUNDLE "dev.sigstore.cosign/bundle"
#define ANN_TSA "dev.sigstore.cosign/rfc3161timestamp"
/* A signature is < 1 KiB; an RSA-4096 one 512 bytes. */
#define PG_LEGACY_SIG_MAX 4096

/*
 * cosign reads the payload with Go's encoding/json, which matches keys
 * case-insensitively and keeps the last match; we read exact keys.  A
 * payload with two spellings of a critical key could then mean one digest
 * to us and another to cosign: refuse it rather than pick one.
 */
static int
check_fold_dups(const json_t *j, pg_err *err)
{
	static const char *const top[] = {"critical", NULL};
	static const char *const crit[] = {"identity", "image", "type", NULL};
	const json_t *c = json_object_get(j, "critical");
	const struct {
		const json_t *obj;
		const char *const *keys;
		const char *where;
	} lv[] = {
	    {j, top, ""},
	    {c, crit, "critical."},
	    {json_object_get(c, "image"), (const char *const[]){"docker-manifest-digest", NULL},
	     "critical.image."},
	    {json_object_get(c, "identity"), (const char *const[]){"docker-reference", NULL},
	     "critical.identity."},
	};
	size_t i, k;

	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		if (!json_is_object(lv[i].obj))
			continue;
		for (k = 0; lv[i].keys[k]; k++)
			if (pg_json_go_fold_count(lv[i].obj, lv[i].keys[k]) > 1)
				return pg_err_set(
				    err, PG_EVERIFY,
				    "signature payload has several spellings of "
				    "\"%s%s\" (cosign matches keys case-insensitively); "
				    "refusing an ambiguous payload",
				    lv[i].where, lv[i].keys[k]);
	}
	return PG_OK;
}

static int
check_claims(const unsigned char *payload, size_t len, const char *want, pg_err *err)
{
	json_t *j = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, NULL);
	const char *d = pg_json_str(json_object_get(json_object_get(j, "critical"), "image"),
				    "docker-manifest-digest");
	int rc = PG_OK;

	if (json_is_object(j) && (rc = check_fold_dups(j, err)) != PG_OK)
		;
	else if (!json_is_object(j) || d == NULL)
		rc = pg_err_set(err, PG_EVERIFY,
				"signature payload is not a cosign simple-signing payload");
	else if (want == NULL || strcmp(d, want) != 0)
		rc = pg_err_set(err, PG_EVERIFY, "signature is for %s, not for %s", d,
				want ? want : "(none)");
	json_decref(j);
	return rc;
}

/* dev.sigstore.cosign/bundle: {"SignedEntryTimestamp", "Payload":{body,
 * integratedTime, logIndex, logID}}.  *time_out gets integratedTime. */
static int
check_rekor_bundle(int64_t *time_out, const char *ann, const pg_trusted_root *r,
		   const pg_entry_expect *x, pg_err *err)
{
	json_t *j = json_loads(ann, JSON_REJECT_DUPLICATES, NULL);
	const json_t *p = json_object_get(j, "Payload");
	const char *set_b64 = pg_json_str(j, "SignedEntryTimestamp");
	const char *body_b64 = pg_json_str(p, "body");
	const char *id_hex = pg_json_str(p, "logID");
	unsigned char *set = NULL, *body = NULL, id[32];
	size_t set_len = 0, body_len = 0;
	int64_t itime, idx;
	const pg_tlog *log;
	int rc = PG_EVERIFY;

	if (!json_is_object(j) || set_b64 == NULL || body_b64 == NULL || id_hex == NULL ||
	    pg_json_int64(&itime, json_object_get(p, "integratedTime")) != PG_OK ||
	    pg_json_int64(&idx, json_object_get(p, "logIndex")) != PG_OK || itime <= 0 || idx < 0) {
		rc = pg_err_set(err, PG_EVERIFY, "malformed Rekor bundle annotation");
		goto out;
	}
	if (pg_unhex(id, sizeof(id), id_hex) != PG_OK ||
	    (log = r ? pg_trust_find_log(r->tlogs, r->ntlogs, id, sizeof(id)) : NULL) == NULL) {
		rc = pg_err_set(err, PG_EVERIFY,
				"Rekor bundle is from a log not in the trusted root");
		goto out;
	}
	if (pg_base64_decode_alloc(&set, &set_len, set_b64, strlen(set_b64), PG_LEGACY_SIG_MAX,
				   PG_SIGSTORE_B64) != PG_OK ||
	    pg_base64_decode_alloc(&body, &body_len, body_b64, strlen(body_b64),
				   PG_SIGSTORE_JSON_MAX, PG_SIGSTORE_B64) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "Rekor bundle is not valid base64");
		goto out;
	}
	rc = pg_entry_body_check(NULL, NULL, body, body_len, x, err);
	if (rc != PG_OK)
		goto out;
	if (!pg_trust_valid_at(log->start, log->end, log->has_end, itime)) {
		rc = pg_err_set(err, PG_EVERIFY,
				"integrated time is outside the validity of log %s's key",
				log->base_url);
		goto out;
	}
	rc = pg_set_verify(log, body_b64, itime, idx, set, set_len, err);
	if (rc == PG_OK)
		*time_out = itime;
out:
	free(set);
	free(body);
	json_decref(j);
	return rc;
}

static int
check_tsa(int64_t *time_out, const char *ann, const pg_trusted_root *r, const unsigned char *sig,
	  size_t sig_len, pg_err *err)
{
	json_t *j = json_loads(ann, JSON_REJECT_DUPLICATES, NULL);
	const char *b64 = pg_json_str(j, "SignedRFC3161Timestamp");
	unsigned char *tsr = NULL;
	size_t n = 0;
	int rc;

	if (b64 == NULL || pg_base64_decode_alloc(&tsr, &n, b64, strlen(b64), 65536,
						  PG_SIGSTORE_B64_WRAPPED) != PG_OK)
		rc = pg_err_set(err, PG_EVERIFY, "malformed RFC 3161 timestamp annotation");
	else
		rc = pg_tsa_verify(time_out, r, tsr, n, sig, sig_len, err);
	free(tsr);
	json_decref(j);
	return rc;
}

/* The public key that must have made the signature: the rule's key, or the
 * certificate of the annotation (its chain in *certs, the leaf in *leaf).
 * *der is what a log entry must name as the signer.  what names the
 * evidence in messages ("signature", "attestation"). */
static int
signer_key(EVP_PKEY **key, STACK_OF(X509) * *certs, X509 **leaf, unsigned char **der,
	   size_t *der_len, const pg_sig_trust *t, const char *cert_pem, const char *what,
	   pg_err *err)
{
	int rc;

	if (t->key_pem != NULL) {
		if ((rc = pg_key_from_pem(key, t->key_pem, t->key_len, err)) != PG_OK)
			return rc;
		return pg_key_spki(der, der_len, *key);
	}
	if (cert_pem == NULL)
		return pg_err_set(err, PG_EVERIFY, "%s has no certificate and no key was given",
				  what);
	if ((rc = pg_certs_from_pem(certs, cert_pem, strlen(cert_pem), err)) != PG_OK)
		return rc;
	*leaf = sk_X509_value(*certs, 0);
	*key = X509_get_pubkey(*leaf);
	if (*key == NULL || pg_key_check_type(*key, err) != PG_OK)
		return pg_err_set(err, PG_EVERIFY, "unusable certificate public key");
	return pg_cert_der(der, der_len, *leaf);
}

/* A Fulcio leaf: it chains to the root's CAs at every one of the verified
 * times (the chain annotation may supply intermediates, never the anchor),
 * its SCT verifies unless the trust says not to, and it names the expected
 * identity (*signer_out, the caller's). */
static int
check_leaf(char **signer_out, X509 *leaf, const char *chain_pem, const int64_t *times,
	   size_t ntimes, const pg_sig_trust *t, pg_err *err)
{
	STACK_OF(X509) *hints = NULL;
	X509 *issuer = NULL;
	size_t i;
	int rc = PG_OK;

	if (chain_pem != NULL &&
	    pg_certs_from_pem(&hints, chain_pem, strlen(chain_pem), err) != PG_OK)
		return pg_err_wrap(err, "certificate chain annotation: ");
	for (i = 0; rc == PG_OK && i < ntimes; i++) {
		X509_free(issuer);
		issuer = NULL;
		rc = pg_cert_verify_ca(&issuer, t->root, leaf, hints, times[i], err);
	}
	if (rc == PG_OK && !t->ignore_sct)
		rc = pg_cert_verify_sct(t->root, leaf, issuer, err);
	if (rc == PG_OK)
		rc = pg_cert_check_identity(signer_out, leaf, t, err);
	X509_free(issuer);
	sk_X509_pop_free(hints, X509_free);
	return rc;
}

int
pg_cosign_verify_legacy(char **signer_out, const unsigned char *payload, size_t payload_len,
			const json_t *annotations, const char *expected_digest,
			const pg_sig_trust *t, pg_err *err)
{
	const char *sig_b64 = pg_json_str(annotations, ANN_SIG);
	const char *cert_pem = pg_json_str(annotations, ANN_CERT);
	const char *bundle = pg_json_str(annotations, ANN_BUNDLE);
	const char *tsa = pg_json_str(annotations, ANN_TSA);
	const char *chain_pem = pg_json_str(annotations, ANN_CHAIN);
	STACK_OF(X509) *certs = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *sig = NULL, *der = NULL, dg[32];
	size_t sig_len = 0, der_len = 0, ntimes = 0;
	int64_t times[2];
	pg_entry_expect x;
	int rc;

	if (signer_out)
		*signer_out = NULL;
	if (payload_len > PG_SIGSTORE_JSON_MAX)
		return pg_err_set(err, PG_ETOOBIG, "signature payload too large");
	if (sig_b64 == NULL)
		return pg_err_set(err, PG_EVERIFY, "layer has no cosign signature annotation");
	if (pg_base64_decode_alloc(&sig, &sig_len, sig_b64, strlen(sig_b64), PG_LEGACY_SIG_MAX,
				   PG_SIGSTORE_B64_WRAPPED) != PG_OK ||
	    sig_len == 0)
		return pg_err_set(err, PG_EVERIFY, "cosign signature is not valid base64");
	rc = signer_key(&key, &certs, &leaf, &der, &der_len, t, cert_pem, "signature", err);
	if (rc != PG_OK)
		goto out;
	/* Legacy cosign hashes with SHA-256 whatever the curve. */
	if (pg_key_verify(key, pg_digest_md(PG_DIGEST_SHA256), payload, payload_len, sig,
			  sig_len) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "signature does not verify with %s",
				leaf ? "the certificate's key" : "the given key");
		goto out;
	}
	rc = check_claims(payload, payload_len, expected_digest, err);
	if (rc != PG_OK)
		goto out;
	if (pg_sha256(dg, payload, payload_len) != PG_OK) {
		rc = PG_EINTERNAL;
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.sig = sig;
	x.sig_len = sig_len;
	x.signer_der = der;
	x.signer_der_len = der_len;
	x.signer_is_cert = leaf != NULL;
	x.digest = dg;
	if (bundle != NULL) {
		rc = check_rekor_bundle(&times[ntimes], bundle, t->root, &x, err);
		if (rc != PG_OK)
			goto out;
		ntimes++;
	} else if (t->tlog_required) {
		rc = pg_err_set(err, PG_EVERIFY,
				"signature has no Rekor bundle (transparency log required)");
		goto out;
	}
	if (tsa != NULL) {
		rc = check_tsa(&times[ntimes], tsa, t->root, sig, sig_len, err);
		if (rc != PG_OK)
			goto out;
		ntimes++;
	}
	if (leaf == NULL) {
		if (signer_out && (*signer_out = pg_strdup("key")) == NULL)
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (ntimes == 0) /* no log, no TSA: like cosign, check at "now" */
		times[ntimes++] = (int64_t)time(NULL);
	rc = check_leaf(signer_out, leaf, chain_pem, times, ntimes, t, err);
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	free(sig);
	free(der);
	return rc;
}

/* ---- cosign legacy attestations (sha256-<hex>.att) ---- */

/*
 * The layer is a DSSE envelope {payloadType, payload, signatures:[{sig}]}
 * signed over PAE; the annotations carry the certificate, chain, Rekor
 * bundle (an intoto or dsse entry: the log commits to the envelope, its
 * payload and the signer) and RFC 3161 stamp, as for signatures.  Time is
 * authenticated: the SET's integrated time or a TSA stamp; keyless without
 * either is refused (never "now": a certificate lives ten minutes).
 */
int
pg_cosign_verify_legacy_dsse(pg_dsse_result *out, const unsigned char *layer, size_t layer_len,
			     const json_t *annotations, int64_t at, const pg_sig_trust *t,
			     pg_err *err)
{
	const char *cert_pem = pg_json_str(annotations, ANN_CERT);
	const char *bundle = pg_json_str(annotations, ANN_BUNDLE);
	const char *tsa = pg_json_str(annotations, ANN_TSA);
	const char *chain_pem = pg_json_str(annotations, ANN_CHAIN);
	const char *ptype, *p64, *s64;
	const json_t *sigs;
	json_t *env = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *sig = NULL, *der = NULL, *payload = NULL, envd[32], paed[32];
	size_t sig_len = 0, der_len = 0, payload_len = 0, ntimes = 0;
	int64_t times[3];
	pg_entry_expect x;
	pg_buf pae;
	int rc;

	memset(out, 0, sizeof(*out));
	pg_buf_init(&pae, PG_SIGSTORE_JSON_MAX + 256);
	if (layer_len > PG_SIGSTORE_JSON_MAX)
		return pg_err_set(err, PG_ETOOBIG, "attestation layer too large");
	env = json_loadb((const char *)layer, layer_len, JSON_REJECT_DUPLICATES, NULL);
	ptype = pg_json_str(env, "payloadType");
	p64 = pg_json_str(env, "payload");
	sigs = json_object_get(env, "signatures");
	s64 = pg_json_str(json_array_get(sigs, 0), "sig");
	if (!json_is_object(env) || ptype == NULL || p64 == NULL || !json_is_array(sigs) ||
	    json_array_size(sigs) != 1 || s64 == NULL) {
		rc = pg_err_set(err, PG_EVERIFY,
				"attestation layer is not a DSSE envelope with one signature");
		goto out;
	}
	if (pg_base64_decode_alloc(&payload, &payload_len, p64, strlen(p64), PG_SIGSTORE_JSON_MAX,
				   PG_SIGSTORE_B64) != PG_OK ||
	    pg_base64_decode_alloc(&sig, &sig_len, s64, strlen(s64), PG_LEGACY_SIG_MAX,
				   PG_SIGSTORE_B64) != PG_OK ||
	    sig_len == 0) {
		rc = pg_err_set(err, PG_EVERIFY, "DSSE envelope is not valid base64");
		goto out;
	}
	rc = signer_key(&key, &certs, &leaf, &der, &der_len, t, cert_pem, "attestation", err);
	if (rc != PG_OK)
		goto out;
	if (pg_buf_printf(&pae, "DSSEv1 %zu %s %zu ", strlen(ptype), ptype, payload_len) != PG_OK ||
	    pg_buf_append(&pae, payload, payload_len) != PG_OK) {
		rc = pg_err_set(err, PG_ETOOBIG, "DSSE payload too large");
		goto out;
	}
	if (pg_key_verify(key, pg_key_default_md(key), (const unsigned char *)pae.data, pae.len,
			  sig, sig_len) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "DSSE signature does not verify with %s",
				leaf ? "the certificate's key" : "the given key");
		goto out;
	}
	if (strcmp(ptype, "application/vnd.in-toto+json") != 0) {
		rc = pg_err_set(err, PG_EVERIFY, "unsupported DSSE payload type \"%.100s\"", ptype);
		goto out;
	}
	if (pg_sha256(envd, layer, layer_len) != PG_OK ||
	    pg_sha256(paed, pae.data, pae.len) != PG_OK) {
		rc = PG_EINTERNAL;
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.sig = sig;
	x.sig_len = sig_len;
	x.signer_der = der;
	x.signer_der_len = der_len;
	x.signer_is_cert = leaf != NULL;
	x.payload = payload;
	x.payload_len = payload_len;
	x.pae_digest = paed;
	x.envelope_digest = envd;
	if (bundle != NULL) {
		rc = check_rekor_bundle(&times[ntimes], bundle, t->root, &x, err);
		if (rc != PG_OK)
			goto out;
		ntimes++;
		out->ntlog = 1;
	} else if (t->tlog_required) {
		rc = pg_err_set(err, PG_EVERIFY,
				"attestation has no Rekor bundle (transparency log required)");
		goto out;
	}
	if (tsa != NULL) {
		rc = check_tsa(&times[ntimes], tsa, t->root, sig, sig_len, err);
		if (rc != PG_OK)
			goto out;
		ntimes++;
		out->ntsa = 1;
	}
	if (leaf != NULL) {
		if (ntimes == 0) {
			rc = pg_err_set(err, PG_EVERIFY,
					"no authenticated time: the attestation has neither a "
					"Rekor SET nor an RFC 3161 timestamp");
			goto out;
		}
		if (at > 0)
			times[ntimes++] = at;
		rc = check_leaf(&out->signer, leaf, chain_pem, times, ntimes, t, err);
		if (rc != PG_OK)
			goto out;
		if (pg_cert_fulcio_claims(out->claims, leaf) != PG_OK) {
			rc = pg_err_set(err, PG_EVERIFY, "malformed Fulcio claim extension");
			goto out;
		}
	} else if ((out->signer = pg_strdup("key")) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((out->payload_type = pg_strdup(ptype)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(out->envelope_digest, "sha256:", 7);
	pg_hex(out->envelope_digest + 7, envd, 32);
	out->payload = payload;
	out->payload_len = payload_len;
	payload = NULL;
	rc = PG_OK;
out:
	if (rc != PG_OK)
		pg_dsse_result_free(out);
	ERR_clear_error();
	pg_buf_free(&pae);
	json_decref(env);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	free(sig);
	free(der);
	free(payload);
	return rc;
}
