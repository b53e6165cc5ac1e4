/*
 * sigstore/bundle — Sigstore bundles v0.1, v0.2, v0.3 (protobuf-specs
 * Bundle in proto3 JSON), verified the way sigstore-go does, offline:
 *
 *   1. the signature (message signature over the artifact, or a DSSE
 *      envelope over PAE whose in-toto subject names the artifact) verifies
 *      with the given key or the bundle's leaf certificate;
 *   2. every tlog entry comes from a log of the trusted root, its body
 *      matches this signature, key/certificate and artifact, and it is
 *      proven: SET (required in v0.1) and/or inclusion proof + signed
 *      checkpoint (required from v0.2);
 *   3. RFC 3161 timestamps verify against the trusted TSAs;
 *   4. keyless: at every verified time (an integrated time signed by its
 *      SET, a TSA time; never an unsigned integrated time) the leaf
 *      chains to a trusted CA, is within its validity and has an SCT; then
 *      the identity and issuer must match.
 *
 * It never trusts certificates that come with the bundle beyond the leaf,
 * and never reaches the network.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

/* A DSSE payload (an in-toto statement) or a message signature is small;
 * the bound only keeps hostile bundles from costing memory. */
#define PG_PAYLOAD_MAX PG_SIGSTORE_JSON_MAX
#define PG_SIG_MAX 4096
#define PG_TIMESTAMPS_MAX 16
#define PG_TIMES_MAX (PG_TLOG_ENTRIES_MAX + PG_TIMESTAMPS_MAX)

typedef struct vctx {
	const pg_sig_trust *t;
	int minor;		   /* bundle version 0.<minor> */
	X509 *leaf;		   /* keyless */
	EVP_PKEY *key;		   /* owned: the given key or leaf's key */
	unsigned char *signer_der; /* leaf DER or SPKI DER */
	size_t signer_der_len;
	unsigned char digest[32]; /* sha256 of the artifact */
	unsigned char *sig;	  /* signature bytes */
	size_t sig_len;
	unsigned char *payload; /* DSSE payload */
	size_t payload_len;
	unsigned char pae_digest[32];
	int64_t times[PG_TIMES_MAX]; /* verified observer times */
	size_t ntimes;
	const pg_tlog *untimed[PG_TLOG_ENTRIES_MAX]; /* Rekor v2 entries' logs */
	size_t nuntimed;
	/* Attestations (pg_sigstore_verify_dsse_bundle): the statement is the
	 * caller's to judge, and only a SET authenticates an integrated time. */
	bool attest;
	char *ptype; /* DSSE payload type */
	size_t ntlog, ntsa;
} vctx;

static void
vctx_free(vctx *v)
{
	X509_free(v->leaf);
	EVP_PKEY_free(v->key);
	free(v->signer_der);
	free(v->sig);
	free(v->payload);
	free(v->ptype);
}

static int
add_time(vctx *v, int64_t t)
{
	if (v->ntimes >= PG_TIMES_MAX)
		return PG_ETOOBIG;
	v->times[v->ntimes++] = t;
	return PG_OK;
}

static int
bundle_version(int *minor, const char *mt)
{
	static const char pre[] = "application/vnd.dev.sigstore.bundle+json;version=0.";

	if (mt == NULL)
		return PG_EINVAL;
	if (strcmp(mt, "application/vnd.dev.sigstore.bundle.v0.3+json") == 0) {
		*minor = 3;
		return PG_OK;
	}
	if (strncmp(mt, pre, sizeof(pre) - 1) == 0 && mt[sizeof(pre)] == '\0' &&
	    mt[sizeof(pre) - 1] >= '1' && mt[sizeof(pre) - 1] <= '3') {
		*minor = mt[sizeof(pre) - 1] - '0';
		return PG_OK;
	}
	return PG_EINVAL;
}

static int
b64_field(unsigned char **out, size_t *n, const char *s, size_t max, const char *what, pg_err *err)
{
	int rc;

	if (s == NULL)
		return pg_err_set(err, PG_EVERIFY, "bundle has no %s", what);
	/* protojson (Go's base64.StdEncoding) skips line breaks in bytes. */
	rc = pg_base64_decode_alloc(out, n, s, strlen(s), max, PG_SIGSTORE_B64_WRAPPED);
	if (rc == PG_ETOOBIG)
		return pg_err_set(err, PG_ETOOBIG, "bundle %s too large", what);
	if (rc != PG_OK || *n == 0) {
		/* "" decodes fine to nothing: the buffer is still ours. */
		free(*out);
		*out = NULL;
		return pg_err_set(err, PG_EVERIFY, "bundle %s is not valid base64", what);
	}
	return PG_OK;
}

static int
load_signer(vctx *v, const json_t *vm, pg_err *err)
{
	const json_t *cert = json_object_get(vm, "certificate");
	const json_t *chain = json_object_get(vm, "x509CertificateChain");
	const json_t *pk = json_object_get(vm, "publicKey");
	unsigned char *der = NULL;
	size_t len, i;
	int rc;

	if (v->t->key_pem != NULL) {
		if (pk == NULL)
			return pg_err_set(err, PG_EVERIFY,
					  "bundle is signed with a certificate, not with a key");
		rc = pg_key_from_pem(&v->key, v->t->key_pem, v->t->key_len, err);
		if (rc != PG_OK)
			return rc == PG_EVERIFY ? rc : pg_err_wrap(err, "verification key: ");
		return pg_key_spki(&v->signer_der, &v->signer_der_len, v->key);
	}
	if (cert != NULL) {
		rc =
		    b64_field(&der, &len, pg_json_str(cert, "rawBytes"), 65536, "certificate", err);
		if (rc != PG_OK)
			return rc;
		rc = pg_cert_from_der(&v->leaf, der, len, err);
		free(der);
		if (rc != PG_OK)
			return PG_EVERIFY;
	} else if (chain != NULL) {
		const json_t *a = json_object_get(chain, "certificates");

		if (!json_is_array(a) || json_array_size(a) == 0)
			return pg_err_set(err, PG_EVERIFY, "bundle certificate chain is empty");
		if (json_array_size(a) > PG_CHAIN_MAX)
			return pg_err_set(err, PG_ETOOBIG, "bundle certificate chain too long");
		for (i = 0; i < json_array_size(a); i++) {
			X509 *c = NULL;

			rc = b64_field(&der, &len, pg_json_str(json_array_get(a, i), "rawBytes"),
				       65536, "certificate", err);
			if (rc != PG_OK)
				return rc;
			rc = pg_cert_from_der(&c, der, len, err);
			free(der);
			if (rc != PG_OK)
				return PG_EVERIFY;
			/* A root in the bundle is an attempt to bring one's own
			 * trust: reject rather than silently ignore it. */
			if (pg_cert_self_signed(c)) {
				X509_free(c);
				return pg_err_set(
				    err, PG_EVERIFY,
				    "bundle certificate chain contains a root "
				    "certificate; trust comes only from the trusted root");
			}
			if (i == 0)
				v->leaf = c;
			else
				X509_free(c);
		}
	} else if (pk != NULL) {
		return pg_err_set(err, PG_EVERIFY,
				  "bundle is signed with a key, but no key was given");
	} else {
		return pg_err_set(err, PG_EVERIFY, "bundle has no verification material");
	}
	v->key = X509_get_pubkey(v->leaf);
	if (v->key == NULL)
		return pg_err_set(err, PG_EVERIFY, "certificate public key unreadable");
	rc = pg_key_check_type(v->key, err);
	if (rc != PG_OK)
		return rc;
	return pg_cert_der(&v->signer_der, &v->signer_der_len, v->leaf);
}

static int
verify_message(vctx *v, const json_t *ms, const unsigned char *artifact, size_t artifact_len,
	       pg_err *err)
{
	const json_t *md = json_object_get(ms, "messageDigest");
	const EVP_MD *h = pg_key_default_md(v->key);
	int rc;

	rc = b64_field(&v->sig, &v->sig_len, pg_json_str(ms, "signature"), PG_SIG_MAX, "signature",
		       err);
	if (rc != PG_OK)
		return rc;
	if (md != NULL) {
		const char *alg = pg_json_str(md, "algorithm");
		unsigned char *d = NULL;
		size_t n = 0;
		int same;

		if (alg == NULL || strcmp(alg, "SHA2_256") != 0)
			return pg_err_set(err, PG_EVERIFY, "unsupported message digest algorithm");
		rc = b64_field(&d, &n, pg_json_str(md, "digest"), 64, "message digest", err);
		if (rc != PG_OK)
			return rc;
		same = n == 32 && memcmp(d, v->digest, 32) == 0;
		free(d);
		if (!same)
			return pg_err_set(err, PG_EVERIFY,
					  "bundle message digest does not match the artifact");
	}
	if (artifact != NULL && (h == NULL || h != pg_digest_md(PG_DIGEST_SHA256)))
		rc = pg_key_verify(v->key, h, artifact, artifact_len, v->sig, v->sig_len);
	else if (h == pg_digest_md(PG_DIGEST_SHA256))
		rc = pg_key_verify_digest(v->key, h, v->digest, 32, v->sig, v->sig_len);
	else
		return pg_err_set(err, PG_EVERIFY,
				  "this key type needs the artifact itself, not its digest");
	if (rc != PG_OK)
		return pg_err_set(err, PG_EVERIFY, "signature does not verify over the artifact");
	return PG_OK;
}

static int
pae(pg_buf *b, const char *type, const unsigned char *body, size_t len)
{
	if (pg_buf_printf(b, "DSSEv1 %zu %s %zu ", strlen(type), type, len) != PG_OK ||
	    pg_buf_append(b, body, len) != PG_OK)
		return PG_ETOOBIG;
	return PG_OK;
}

static int
statement_names(const vctx *v, pg_err *err)
{
	json_t *st =
	    json_loadb((const char *)v->payload, v->payload_len, JSON_REJECT_DUPLICATES, NULL);
	const json_t *subj = json_object_get(st, "subject");
	const char *type = pg_json_str(st, "_type");
	char hex[PG_SHA256_HEX_MAX];
	size_t i;
	int rc = PG_EVERIFY;

	pg_hex(hex, v->digest, 32);
	if (!json_is_object(st) || type == NULL ||
	    (strcmp(type, "https://in-toto.io/Statement/v1") != 0 &&
	     strcmp(type, "https://in-toto.io/Statement/v0.1") != 0) ||
	    !json_is_array(subj)) {
		rc = pg_err_set(err, PG_EVERIFY, "DSSE payload is not an in-toto statement");
		goto out;
	}
	for (i = 0; i < json_array_size(subj); i++) {
		const char *d =
		    pg_json_str(json_object_get(json_array_get(subj, i), "digest"), "sha256");

		if (d && strcmp(d, hex) == 0) {
			rc = PG_OK;
			goto out;
		}
	}
	rc = pg_err_set(err, PG_EVERIFY, "no subject of the in-toto statement has digest sha256:%s",
			hex);
out:
	json_decref(st);
	return rc;
}

static int
verify_dsse(vctx *v, const json_t *env, pg_err *err)
{
	const char *type = pg_json_str(env, "payloadType");
	const json_t *sigs = json_object_get(env, "signatures");
	pg_buf b;
	int rc;

	if (type == NULL || !json_is_array(sigs) || json_array_size(sigs) != 1)
		return pg_err_set(
		    err, PG_EVERIFY,
		    "DSSE envelope must have a payload type and exactly one signature");
	rc = b64_field(&v->payload, &v->payload_len, pg_json_str(env, "payload"), PG_PAYLOAD_MAX,
		       "DSSE payload", err);
	if (rc == PG_OK)
		rc = b64_field(&v->sig, &v->sig_len, pg_json_str(json_array_get(sigs, 0), "sig"),
			       PG_SIG_MAX, "DSSE signature", err);
	if (rc != PG_OK)
		return rc;
	pg_buf_init(&b, PG_PAYLOAD_MAX + 256);
	rc = pae(&b, type, v->payload, v->payload_len);
	if (rc == PG_OK)
		rc = pg_sha256(v->pae_digest, b.data, b.len);
	if (rc == PG_OK)
		rc = pg_key_verify(v->key, pg_key_default_md(v->key), b.data, b.len, v->sig,
				   v->sig_len);
	pg_buf_free(&b);
	if (rc != PG_OK)
		return pg_err_set(err, PG_EVERIFY, "DSSE signature does not verify");
	if (strcmp(type, "application/vnd.in-toto+json") != 0)
		return pg_err_set(err, PG_EVERIFY, "unsupported DSSE payload type \"%s\"", type);
	if (v->attest)
		return (v->ptype = pg_strdup(type)) ? PG_OK
						    : pg_err_set(err, PG_ENOMEM, "out of memory");
	return statement_names(v, err);
}

static int
verify_proof(const vctx *v, const pg_tlog *log, const json_t *ip, const unsigned char *body,
	     size_t body_len, pg_err *err)
{
	const json_t *hashes = json_object_get(ip, "hashes");
	const char *env = pg_json_str(json_object_get(ip, "checkpoint"), "envelope");
	unsigned char(*path)[32] = NULL, *root = NULL, leaf[32];
	size_t i, n, root_len = 0;
	int64_t idx, size;
	pg_checkpoint cp;
	int rc = PG_EVERIFY;

	(void)v;
	if (pg_json_int64(&idx, json_object_get(ip, "logIndex")) != PG_OK ||
	    pg_json_int64(&size, json_object_get(ip, "treeSize")) != PG_OK || idx < 0 ||
	    size <= 0 || !json_is_array(hashes) || json_array_size(hashes) > PG_MERKLE_PATH_MAX)
		return pg_err_set(err, PG_EVERIFY, "malformed inclusion proof");
	if (b64_field(&root, &root_len, pg_json_str(ip, "rootHash"), 64,
		      "inclusion proof root hash", err) != PG_OK ||
	    root_len != 32) {
		rc = pg_err_set(err, PG_EVERIFY, "malformed inclusion proof root hash");
		goto out;
	}
	n = json_array_size(hashes);
	path = calloc(n ? n : 1, 32);
	if (path == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const json_t *h = json_array_get(hashes, i);
		unsigned char *d = NULL;
		size_t dl = 0;

		if (!json_is_string(h) ||
		    pg_base64_decode_alloc(&d, &dl, json_string_value(h), json_string_length(h), 64,
					   PG_SIGSTORE_B64) != PG_OK ||
		    dl != 32) {
			free(d);
			rc = pg_err_set(err, PG_EVERIFY, "malformed inclusion proof hash");
			goto out;
		}
		memcpy(path[i], d, 32);
		free(d);
	}
	pg_merkle_leaf(leaf, body, body_len);
	if (pg_merkle_verify(leaf, (uint64_t)idx, (uint64_t)size, (const unsigned char(*)[32])path,
			     n, root) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY,
				"inclusion proof does not lead to the tree's root hash");
		goto out;
	}
	if (env == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "inclusion proof has no signed checkpoint");
		goto out;
	}
	rc = pg_checkpoint_verify(&cp, log, env, strlen(env), err);
	if (rc != PG_OK)
		goto out;
	if (cp.size != (uint64_t)size || memcmp(cp.root, root, 32) != 0) {
		rc = pg_err_set(err, PG_EVERIFY,
				"checkpoint does not commit to the inclusion proof's tree");
		goto out;
	}
	rc = PG_OK;
out:
	free(path);
	free(root);
	return rc;
}

static int
verify_entry(vctx *v, const pg_trusted_root *r, const json_t *e, pg_err *err)
{
	const json_t *kv = json_object_get(e, "kindVersion");
	const json_t *promise = json_object_get(e, "inclusionPromise");
	const json_t *proof = json_object_get(e, "inclusionProof");
	const char *body_b64 = pg_json_str(e, "canonicalizedBody");
	unsigned char *id = NULL, *body = NULL, *set = NULL;
	size_t id_len = 0, body_len = 0, set_len = 0;
	int64_t log_index, itime = 0;
	const pg_tlog *log;
	pg_entry_expect x;
	int rc;

	if (pg_json_int64(&log_index, json_object_get(e, "logIndex")) != PG_OK || log_index < 0)
		return pg_err_set(err, PG_EVERIFY, "log entry has no valid log index");
	if (json_object_get(e, "integratedTime") != NULL &&
	    (pg_json_int64(&itime, json_object_get(e, "integratedTime")) != PG_OK || itime < 0))
		return pg_err_set(err, PG_EVERIFY, "log entry has a bad integrated time");
	rc = b64_field(&id, &id_len, pg_json_str(json_object_get(e, "logId"), "keyId"), 64,
		       "log id", err);
	if (rc != PG_OK)
		return rc;
	log = r ? pg_trust_find_log(r->tlogs, r->ntlogs, id, id_len) : NULL;
	free(id);
	if (log == NULL)
		return pg_err_set(err, PG_EVERIFY,
				  "log entry is from a transparency log not in the trusted root");
	rc = b64_field(&body, &body_len, body_b64, PG_SIGSTORE_JSON_MAX,
		       "canonicalized log entry body", err);
	if (rc != PG_OK)
		return rc;
	memset(&x, 0, sizeof(x));
	x.sig = v->sig;
	x.sig_len = v->sig_len;
	x.signer_der = v->signer_der;
	x.signer_der_len = v->signer_der_len;
	x.signer_is_cert = v->leaf != NULL;
	x.digest = v->digest;
	if (v->payload) {
		x.payload = v->payload;
		x.payload_len = v->payload_len;
		x.pae_digest = v->pae_digest;
	}
	rc = pg_entry_body_check(pg_json_str(kv, "kind"), pg_json_str(kv, "version"), body,
				 body_len, &x, err);
	if (rc != PG_OK)
		goto out;
	if (promise == NULL && v->minor < 2 && proof == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "log entry has no inclusion promise");
		goto out;
	}
	if (v->minor == 1 && promise == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "v0.1 bundle log entry has no inclusion promise");
		goto out;
	}
	if (v->minor >= 2 && proof == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "log entry has no inclusion proof");
		goto out;
	}
	if (promise != NULL) {
		if (itime > 0 && !pg_trust_valid_at(log->start, log->end, log->has_end, itime)) {
			rc = pg_err_set(err, PG_EVERIFY,
					"integrated time is outside the validity of log %s's key",
					log->base_url);
			goto out;
		}
		rc = b64_field(&set, &set_len, pg_json_str(promise, "signedEntryTimestamp"),
			       PG_SIG_MAX, "signed entry timestamp", err);
		if (rc == PG_OK)
			rc = pg_set_verify(log, body_b64, itime, log_index, set, set_len, err);
		if (rc != PG_OK)
			goto out;
	}
	if (proof != NULL) {
		rc = verify_proof(v, log, proof, body, body_len, err);
		if (rc != PG_OK)
			goto out;
	}
	v->ntlog++;
	/* Only the SET signs integratedTime: without it the field is the
	 * bundle author's say-so (the inclusion proof and checkpoint commit to
	 * the body, not to a time), so it is never a signing time, as in
	 * sigstore-go.  Such an entry is then like a Rekor v2 one: a verified
	 * timestamp must stand in for it. */
	if (promise != NULL && itime > 0)
		rc = add_time(v, itime);
	else if (v->nuntimed < PG_TLOG_ENTRIES_MAX)
		v->untimed[v->nuntimed++] = log;
out:
	free(body);
	free(set);
	return rc;
}

static int
digest_from_arg(unsigned char out[32], const char *d, pg_err *err)
{
	if (d == NULL || strncmp(d, "sha256:", 7) != 0 || pg_unhex(out, 32, d + 7) != PG_OK)
		return pg_err_set(err, PG_EINVAL, "artifact digest must be sha256:<64 hex digits>");
	return PG_OK;
}

/* The body of pg_sigstore_verify_bundle and pg_sigstore_verify_dsse_bundle:
 * v is the caller's (its leaf and payload outlive this call). */
static int
verify_bundle(vctx *vp, char **signer_out, const char *bundle_json, size_t bundle_len,
	      const unsigned char *artifact, size_t artifact_len, const char *artifact_digest,
	      int64_t at, pg_err *err)
{
	const pg_sig_trust *t = vp->t;
	const pg_trusted_root *r = t->root;
	json_t *j = NULL;
	const json_t *vm, *entries, *tsas, *ms, *env;
	json_error_t je;
	X509 *issuer = NULL;
	size_t i;
	int rc;

	if (signer_out)
		*signer_out = NULL;
	if (bundle_len > PG_SIGSTORE_JSON_MAX)
		return pg_err_set(err, PG_ETOOBIG, "bundle larger than %zu bytes",
				  PG_SIGSTORE_JSON_MAX);
	if (vp->attest)
		rc = PG_OK; /* the caller compares the subject */
	else if (artifact != NULL)
		rc = pg_sha256(vp->digest, artifact, artifact_len);
	else
		rc = digest_from_arg(vp->digest, artifact_digest, err);
	if (rc != PG_OK)
		return rc;
	j = json_loadb(bundle_json, bundle_len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "bundle is not valid JSON: %s", je.text);
		goto out;
	}
	if (bundle_version(&vp->minor, pg_json_str(j, "mediaType")) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "unsupported bundle media type \"%s\"",
				pg_json_str(j, "mediaType") ? pg_json_str(j, "mediaType") : "");
		goto out;
	}
	vm = json_object_get(j, "verificationMaterial");
	if (!json_is_object(vm)) {
		rc = pg_err_set(err, PG_EVERIFY, "bundle has no verification material");
		goto out;
	}
	rc = load_signer(vp, vm, err);
	if (rc != PG_OK)
		goto out;
	ms = json_object_get(j, "messageSignature");
	env = json_object_get(j, "dsseEnvelope");
	if ((ms != NULL) == (env != NULL)) {
		rc =
		    pg_err_set(err, PG_EVERIFY,
			       "bundle must hold exactly one of messageSignature and dsseEnvelope");
		goto out;
	}
	/* A message signature signs bytes, not a statement about what they
	 * are: for an image it could be any blob that happens to hash to the
	 * manifest digest.  cosign v3 signs images with DSSE in-toto only. */
	if (ms != NULL && t->dsse_only) {
		rc = pg_err_set(err, PG_EVERIFY,
				"bundle holds a message signature (a blob signature); an image or "
				"OCI chart signature must be a DSSE envelope with an in-toto "
				"statement naming its digest");
		goto out;
	}
	rc = ms ? verify_message(vp, ms, artifact, artifact_len, err) : verify_dsse(vp, env, err);
	if (rc != PG_OK)
		goto out;

	entries = json_object_get(vm, "tlogEntries");
	if (entries != NULL && !json_is_array(entries)) {
		rc = pg_err_set(err, PG_EVERIFY, "malformed transparency log entries");
		goto out;
	}
	if (json_array_size(entries) == 0 && t->tlog_required) {
		rc = pg_err_set(err, PG_EVERIFY, "bundle has no transparency log entry");
		goto out;
	}
	if (json_array_size(entries) > PG_TLOG_ENTRIES_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "too many transparency log entries");
		goto out;
	}
	for (i = 0; i < json_array_size(entries); i++) {
		rc = verify_entry(vp, r, json_array_get(entries, i), err);
		if (rc != PG_OK)
			goto out;
	}
	tsas =
	    json_object_get(json_object_get(vm, "timestampVerificationData"), "rfc3161Timestamps");
	if (tsas != NULL && (!json_is_array(tsas) || json_array_size(tsas) > PG_TIMESTAMPS_MAX)) {
		rc = pg_err_set(err, PG_EVERIFY, "malformed timestamp list");
		goto out;
	}
	for (i = 0; i < json_array_size(tsas); i++) {
		unsigned char *tsr = NULL;
		size_t tsr_len = 0;
		int64_t when;

		rc = b64_field(&tsr, &tsr_len,
			       pg_json_str(json_array_get(tsas, i), "signedTimestamp"), 65536,
			       "signed timestamp", err);
		if (rc == PG_OK)
			rc = pg_tsa_verify(&when, r, tsr, tsr_len, vp->sig, vp->sig_len, err);
		free(tsr);
		if (rc == PG_OK)
			rc = add_time(vp, when);
		if (rc != PG_OK)
			goto out;
		vp->ntsa++;
	}
	/* A Rekor v2 entry has no integrated time: its log key must have been
	 * valid at the timestamps that stand in for it. */
	for (i = 0; i < vp->nuntimed; i++) {
		size_t k;

		for (k = 0; k < vp->ntimes; k++)
			if (!pg_trust_valid_at(vp->untimed[i]->start, vp->untimed[i]->end,
					       vp->untimed[i]->has_end, vp->times[k])) {
				rc = pg_err_set(err, PG_EVERIFY,
						"timestamp is outside the validity of log %s's key",
						vp->untimed[i]->base_url);
				goto out;
			}
	}
	if (vp->ntimes == 0) {
		rc = pg_err_set(err, PG_EVERIFY,
				vp->attest && vp->ntlog > 0
				    ? "no authenticated time: the log entry has no signed "
				      "inclusion promise (SET) and there is no RFC 3161 timestamp"
				    : "no verified time: the bundle needs a transparency log entry "
				      "with a signed entry timestamp (an integrated time without "
				      "one is not authenticated) or an RFC 3161 timestamp from a "
				      "trusted timestamp authority");
		goto out;
	}
	if (vp->leaf == NULL) {
		if (signer_out && (*signer_out = pg_strdup("key")) == NULL)
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < vp->ntimes; i++) {
		X509_free(issuer);
		issuer = NULL;
		rc = pg_cert_verify_ca(&issuer, r, vp->leaf, NULL, vp->times[i], err);
		if (rc != PG_OK)
			goto out;
	}
	if (at > 0) {
		X509_free(issuer);
		issuer = NULL;
		rc = pg_cert_verify_ca(&issuer, r, vp->leaf, NULL, at, err);
		if (rc != PG_OK)
			goto out;
	}
	if (!t->ignore_sct) {
		rc = pg_cert_verify_sct(r, vp->leaf, issuer, err);
		if (rc != PG_OK)
			goto out;
	}
	rc = pg_cert_check_identity(signer_out, vp->leaf, t, err);
out:
	ERR_clear_error();
	X509_free(issuer);
	json_decref(j);
	return rc;
}

int
pg_sigstore_verify_bundle(char **signer_out, const char *bundle_json, size_t bundle_len,
			  const unsigned char *artifact, size_t artifact_len,
			  const char *artifact_digest, const pg_sig_trust *t, pg_err *err)
{
	vctx v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.t = t;
	rc = verify_bundle(&v, signer_out, bundle_json, bundle_len, artifact, artifact_len,
			   artifact_digest, 0, err);
	vctx_free(&v);
	return rc;
}

void
pg_dsse_result_free(pg_dsse_result *r)
{
	int i;

	if (r == NULL)
		return;
	free(r->payload_type);
	free(r->payload);
	free(r->signer);
	for (i = 0; i < PG_CLAIM_N; i++)
		free(r->claims[i]);
	memset(r, 0, sizeof(*r));
}

int
pg_sigstore_verify_dsse_bundle(pg_dsse_result *out, const char *bundle_json, size_t bundle_len,
			       int64_t at, const pg_sig_trust *t, pg_err *err)
{
	unsigned char dg[32];
	vctx v;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	v.t = t;
	v.attest = true;
	rc = verify_bundle(&v, &out->signer, bundle_json, bundle_len, NULL, 0, NULL, at, err);
	if (rc == PG_OK && v.payload == NULL)
		rc = pg_err_set(err, PG_EVERIFY,
				"bundle holds a message signature, not an attestation (DSSE)");
	if (rc == PG_OK && v.leaf != NULL && pg_cert_fulcio_claims(out->claims, v.leaf) != PG_OK)
		rc = pg_err_set(err, PG_EVERIFY, "malformed Fulcio claim extension");
	if (rc == PG_OK && pg_sha256(dg, bundle_json, bundle_len) != PG_OK)
		rc = pg_err_set(err, PG_EINTERNAL, "sha256 failed");
	if (rc != PG_OK) {
		pg_dsse_result_free(out);
		vctx_free(&v);
		return rc;
	}
	memcpy(out->envelope_digest, "sha256:", 7);
	pg_hex(out->envelope_digest + 7, dg, 32);
	out->payload = v.payload;
	out->payload_len = v.payload_len;
	out->payload_type = v.ptype;
	v.payload = NULL;
	v.ptype = NULL;
	out->bundle_minor = v.minor;
	out->ntlog = v.ntlog;
	out->ntsa = v.ntsa;
	vctx_free(&v);
	return PG_OK;
}
