/*
 * sigstore/tlog — transparency-log evidence, all offline:
 *  - the Rekor v1 inclusion promise (SET): the log's signature over the
 *    RFC 8785 JSON {body, integratedTime, logID, logIndex};
 *  - RFC 9162 Merkle inclusion of SHA-256(0x00 || body) in a tree head;
 *  - the signed checkpoint (C2SP signed note) that commits to that head;
 *  - the entry body (hashedrekord 0.0.1/0.0.2, dsse 0.0.1, intoto 0.0.2)
 *    agreeing with the signature, key and artifact at hand.
 * Never queries a log.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

/* Bodies are a few KiB (a certificate and a signature). */
#define PG_BODY_FIELD_MAX ((size_t)1 << 20)

int
pg_set_canonical(char **out, const char *body_b64, int64_t integrated_time,
		 const unsigned char *log_id, size_t log_id_len, int64_t log_index)
{
	char hex[2 * 32 + 1];
	const char *p;
	pg_buf b;

	*out = NULL;
	if (log_id_len > 32)
		return PG_EINVAL;
	/* Every field is base64, hex or an integer, so fixed key order with
	 * no escaping is RFC 8785.  Refuse anything that would need escaping. */
	for (p = body_b64; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			return PG_EINVAL;
	pg_hex(hex, log_id, log_id_len);
	pg_buf_init(&b, PG_SIGSTORE_JSON_MAX);
	if (pg_buf_printf(&b,
			  "{\"body\":\"%s\",\"integratedTime\":%lld,\"logID\":\"%s\","
			  "\"logIndex\":%lld}",
			  body_b64, (long long)integrated_time, hex,
			  (long long)log_index) != PG_OK) {
		pg_buf_free(&b);
		return PG_ETOOBIG;
	}
	return pg_buf_detach(out, NULL, &b);
}

int
pg_set_verify(const pg_tlog *log, const char *body_b64, int64_t integrated_time, int64_t log_index,
	      const unsigned char *set, size_t set_len, pg_err *err)
{
	char *canon = NULL;
	int rc;

	rc = pg_set_canonical(&canon, body_b64, integrated_time, log->log_id, log->log_id_len,
			      log_index);
	if (rc != PG_OK)
		return pg_err_set(err, PG_EVERIFY, "cannot canonicalise the log entry");
	rc = pg_key_verify(log->key, pg_digest_md(PG_DIGEST_SHA256), (const unsigned char *)canon,
			   strlen(canon), set, set_len);
	free(canon);
	if (rc != PG_OK)
		return pg_err_set(err, PG_EVERIFY,
				  "signed entry timestamp does not verify with the key of %s",
				  log->base_url);
	return PG_OK;
}

void
pg_merkle_leaf(unsigned char out[32], const unsigned char *p, size_t n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char z = 0;

	memset(out, 0, 32);
	if (c == NULL)
		return;
	if (EVP_DigestInit_ex(c, pg_digest_md(PG_DIGEST_SHA256), NULL) != 1 ||
	    EVP_DigestUpdate(c, &z, 1) != 1 || EVP_DigestUpdate(c, p, n) != 1 ||
	    EVP_DigestFinal_ex(c, out, NULL) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(c);
}

static int
node(unsigned char out[32], const unsigned char l[32], const unsigned char r[32])
{
	unsigned char in[65];

	in[0] = 1;
	memcpy(in + 1, l, 32);
	memcpy(in + 33, r, 32);
	return pg_sha256(out, in, sizeof(in));
}

int
pg_merkle_verify(const unsigned char leaf_hash[32], uint64_t index, uint64_t size,
		 const unsigned char (*path)[32], size_t path_len, const unsigned char root[32])
{
	uint64_t fn = index, sn;
	unsigned char r[32];
	size_t i;

	if (size == 0 || index >= size)
		return PG_EVERIFY;
	sn = size - 1;
	memcpy(r, leaf_hash, 32);
	for (i = 0; i < path_len; i++) {
		if (sn == 0)
			return PG_EVERIFY;
		if ((fn & 1) || fn == sn) {
			if (node(r, path[i], r) != PG_OK)
				return PG_EINTERNAL;
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if (node(r, r, path[i]) != PG_OK) {
			return PG_EINTERNAL;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, 32) != 0)
		return PG_EVERIFY;
	return PG_OK;
}

int
pg_checkpoint_parse(pg_checkpoint *out, const char *env, size_t len, pg_err *err)
{
	const char *end, *l1, *l2, *l3, *nl;
	unsigned char *root = NULL;
	size_t root_len;
	uint64_t size = 0;
	const char *p;

	memset(out, 0, sizeof(*out));
	if (len > PG_CHECKPOINT_MAX || memchr(env, '\0', len))
		return pg_err_set(err, PG_EINVAL, "checkpoint too large or not text");
	end = memmem(env, len, "\n\n", 2);
	if (end == NULL)
		return pg_err_set(err, PG_EINVAL, "checkpoint has no signatures");
	out->body_len = (size_t)(end - env) + 1;
	l1 = env;
	nl = memchr(l1, '\n', out->body_len);
	if (nl == NULL || nl == l1 || (size_t)(nl - l1) >= sizeof(out->origin))
		return pg_err_set(err, PG_EINVAL, "checkpoint has no origin line");
	memcpy(out->origin, l1, (size_t)(nl - l1));
	l2 = nl + 1;
	nl = memchr(l2, '\n', (size_t)(env + out->body_len - l2));
	if (nl == NULL || nl == l2 || nl - l2 > 20)
		return pg_err_set(err, PG_EINVAL, "checkpoint has no tree size line");
	for (p = l2; p < nl; p++) {
		if (*p < '0' || *p > '9' || size > (UINT64_MAX - 9) / 10)
			return pg_err_set(err, PG_EINVAL, "checkpoint tree size is not a number");
		size = size * 10 + (uint64_t)(*p - '0');
	}
	l3 = nl + 1;
	nl = memchr(l3, '\n', (size_t)(env + out->body_len - l3));
	if (nl == NULL ||
	    pg_base64_decode_alloc(&root, &root_len, l3, (size_t)(nl - l3), 64, PG_SIGSTORE_B64) !=
		PG_OK ||
	    root_len != 32) {
		free(root);
		return pg_err_set(err, PG_EINVAL, "checkpoint has no root hash line");
	}
	memcpy(out->root, root, 32);
	free(root);
	out->size = size;
	return PG_OK;
}

static int
key_hint(unsigned char out[4], const pg_tlog *log, const char *name, size_t name_len)
{
	unsigned char h[32];

	if (pg_key_is_ed25519(log->key)) {
		unsigned char raw[32];
		size_t raw_len = sizeof(raw);
		pg_buf b;
		int rc;

		if (EVP_PKEY_get_raw_public_key(log->key, raw, &raw_len) != 1 || raw_len != 32)
			return PG_EINTERNAL;
		pg_buf_init(&b, 4096);
		rc = pg_buf_append(&b, name, name_len);
		if (rc == PG_OK)
			rc = pg_buf_append(&b, "\n\x01", 2);
		if (rc == PG_OK)
			rc = pg_buf_append(&b, raw, 32);
		if (rc == PG_OK)
			rc = pg_sha256(h, b.data, b.len);
		pg_buf_free(&b);
		if (rc != PG_OK)
			return rc;
	} else {
		unsigned char *spki = NULL;
		size_t n;

		if (pg_key_spki(&spki, &n, log->key) != PG_OK)
			return PG_EINTERNAL;
		if (pg_sha256(h, spki, n) != PG_OK) {
			free(spki);
			return PG_EINTERNAL;
		}
		free(spki);
	}
	memcpy(out, h, 4);
	return PG_OK;
}

void
pg_tlog_prepare(pg_tlog *l)
{
	l->has_hint = key_hint(l->hint, l, l->host, strlen(l->host)) == PG_OK;
}

int
pg_checkpoint_verify(pg_checkpoint *out, const pg_tlog *log, const char *env, size_t len,
		     pg_err *err)
{
	static const char dash[] = "\xe2\x80\x94 "; /* U+2014 EM DASH, space */
	const char *p, *end = env + len;
	size_t hostlen = strlen(log->host);
	int rc, nsig = 0;

	rc = pg_checkpoint_parse(out, env, len, err);
	if (rc != PG_OK)
		return rc;
	/* Rekor v1 names its tree "<host> - <tree id>", v2 just "<host>". */
	if (!(strcmp(out->origin, log->host) == 0 ||
	      (strncmp(out->origin, log->host, hostlen) == 0 &&
	       strncmp(out->origin + hostlen, " - ", 3) == 0)))
		return pg_err_set(err, PG_EVERIFY, "checkpoint origin \"%s\" is not the log %s",
				  out->origin, log->host);
	p = env + out->body_len + 1;
	while (p < end && nsig < PG_CHECKPOINT_SIGS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *name, *sp;
		unsigned char *sig = NULL;
		size_t sig_len;

		if (nl == NULL)
			return pg_err_set(err, PG_EINVAL, "checkpoint signature line unterminated");
		nsig++;
		if ((size_t)(nl - p) <= sizeof(dash) - 1 || memcmp(p, dash, sizeof(dash) - 1) != 0)
			return pg_err_set(err, PG_EINVAL, "malformed checkpoint signature line");
		name = p + sizeof(dash) - 1;
		sp = memchr(name, ' ', (size_t)(nl - name));
		if (sp == NULL)
			return pg_err_set(err, PG_EINVAL, "malformed checkpoint signature line");
		if ((size_t)(sp - name) == hostlen && memcmp(name, log->host, hostlen) == 0 &&
		    pg_base64_decode_alloc(&sig, &sig_len, sp + 1, (size_t)(nl - sp - 1), 1024,
					   PG_SIGSTORE_B64) == PG_OK &&
		    sig_len > 4 && log->has_hint && memcmp(log->hint, sig, 4) == 0 &&
		    pg_key_verify(log->key, pg_digest_md(PG_DIGEST_SHA256),
				  (const unsigned char *)env, out->body_len, sig + 4,
				  sig_len - 4) == PG_OK) {
			free(sig);
			return PG_OK;
		}
		free(sig);
		p = nl + 1;
	}
	return pg_err_set(err, PG_EVERIFY, "checkpoint carries no valid signature of log %s",
			  log->host);
}

/* ---- entry bodies ---- */

static int
b64_eq(const char *b64, const unsigned char *want, size_t want_len)
{
	unsigned char *d = NULL;
	size_t n;
	int ok;

	if (b64 == NULL || pg_base64_decode_alloc(&d, &n, b64, strlen(b64), PG_BODY_FIELD_MAX,
						  PG_SIGSTORE_B64) != PG_OK)
		return 0;
	ok = n == want_len && memcmp(d, want, n) == 0;
	free(d);
	return ok;
}

/* base64(base64(x)) == want: intoto v0.0.2 double-encodes. */
static int
b64b64_eq(const char *b64, const unsigned char *want, size_t want_len)
{
	unsigned char *d = NULL;
	size_t n;
	int ok;

	if (b64 == NULL || pg_base64_decode_alloc(&d, &n, b64, strlen(b64), PG_BODY_FIELD_MAX,
						  PG_SIGSTORE_B64) != PG_OK)
		return 0;
	ok = b64_eq((const char *)d, want, want_len);
	free(d);
	return ok;
}

static int
hex_eq(const char *hex, const unsigned char *want, size_t n)
{
	char h[PG_DIGEST_HEX_MAX];

	if (hex == NULL || want == NULL || n > PG_DIGEST_MAX)
		return 0;
	pg_hex(h, want, n);
	return strcmp(hex, h) == 0;
}

/* base64 of a PEM certificate or key equal to the signer. */
static int
pem_b64_eq(const char *b64, const pg_entry_expect *x)
{
	unsigned char *pem = NULL, *der = NULL;
	size_t n, der_len = 0;
	int ok = 0;

	if (b64 == NULL || pg_base64_decode_alloc(&pem, &n, b64, strlen(b64), PG_BODY_FIELD_MAX,
						  PG_SIGSTORE_B64) != PG_OK)
		return 0;
	/* Usually the PEM is just the signer's DER: then the parse below
	 * would find that one certificate (or key) and re-encode it to the
	 * same DER, so comparing the bytes decides without parsing. */
	if (pg_pem_only_block(&der, &der_len, (const char *)pem, n,
			      x->signer_is_cert ? "CERTIFICATE" : "PUBLIC KEY") == PG_OK &&
	    der_len == x->signer_der_len && memcmp(der, x->signer_der, der_len) == 0) {
		OPENSSL_free(der);
		free(pem);
		return 1;
	}
	OPENSSL_free(der);
	der = NULL;
	der_len = 0;
	if (x->signer_is_cert) {
		STACK_OF(X509) *sk = NULL;

		if (pg_certs_from_pem(&sk, (const char *)pem, n, NULL) == PG_OK &&
		    sk_X509_num(sk) == 1 &&
		    pg_cert_der(&der, &der_len, sk_X509_value(sk, 0)) == PG_OK)
			ok = der_len == x->signer_der_len &&
			     memcmp(der, x->signer_der, der_len) == 0;
		sk_X509_pop_free(sk, X509_free);
	} else {
		EVP_PKEY *k = NULL;

		if (pg_key_from_pem(&k, (const char *)pem, n, NULL) == PG_OK &&
		    pg_key_spki(&der, &der_len, k) == PG_OK)
			ok = der_len == x->signer_der_len &&
			     memcmp(der, x->signer_der, der_len) == 0;
		EVP_PKEY_free(k);
	}
	free(der);
	free(pem);
	ERR_clear_error();
	return ok;
}

static int
check_hashedrekord_001(const json_t *spec, const pg_entry_expect *x, pg_err *err)
{
	const json_t *h = PG_JSON_AT(spec, "data", "hash");

	if (x->digest == NULL || x->payload != NULL)
		return pg_err_set(err, PG_EVERIFY,
				  "log entry kind hashedrekord does not fit a DSSE envelope");
	if (!json_is_string(json_object_get(h, "algorithm")) ||
	    strcmp(pg_json_str(h, "algorithm"), "sha256") != 0 ||
	    !hex_eq(pg_json_str(h, "value"), x->digest, 32))
		return pg_err_set(err, PG_EVERIFY, "log entry is for a different artifact");
	if (!b64_eq(pg_json_str(PG_JSON_AT(spec, "signature"), "content"), x->sig, x->sig_len))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different signature");
	if (!pem_b64_eq(pg_json_str(PG_JSON_AT(spec, "signature", "publicKey"), "content"), x))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different key or certificate");
	return PG_OK;
}

static int
check_hashedrekord_002(const json_t *spec, const pg_entry_expect *x, pg_err *err)
{
	const json_t *v = PG_JSON_AT(spec, "hashedRekordV002");
	const json_t *ver = PG_JSON_AT(v, "signature", "verifier");
	const unsigned char *dg = x->payload ? x->pae_digest : x->digest;
	const char *alg = pg_json_str(PG_JSON_AT(v, "data"), "algorithm");
	const char *raw;

	if (dg == NULL || alg == NULL || strcmp(alg, "SHA2_256") != 0 ||
	    !b64_eq(pg_json_str(PG_JSON_AT(v, "data"), "digest"), dg, 32))
		return pg_err_set(err, PG_EVERIFY, "log entry is for a different artifact");
	if (!b64_eq(pg_json_str(PG_JSON_AT(v, "signature"), "content"), x->sig, x->sig_len))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different signature");
	raw = x->signer_is_cert ? pg_json_str(PG_JSON_AT(ver, "x509Certificate"), "rawBytes")
				: pg_json_str(PG_JSON_AT(ver, "publicKey"), "rawBytes");
	if (!b64_eq(raw, x->signer_der, x->signer_der_len))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different key or certificate");
	return PG_OK;
}

static int
payload_hash_ok(const json_t *ph, const pg_entry_expect *x)
{
	unsigned char h[32];
	const char *alg = pg_json_str(ph, "algorithm");

	if (alg == NULL || strcmp(alg, "sha256") != 0 ||
	    pg_sha256(h, x->payload, x->payload_len) != PG_OK)
		return 0;
	return hex_eq(pg_json_str(ph, "value"), h, 32);
}

static int
check_dsse_001(const json_t *spec, const pg_entry_expect *x, pg_err *err)
{
	const json_t *sigs = json_object_get(spec, "signatures");
	const json_t *s0 = json_array_get(sigs, 0);

	if (x->payload == NULL)
		return pg_err_set(err, PG_EVERIFY,
				  "log entry kind dsse does not fit a message signature");
	if (!payload_hash_ok(json_object_get(spec, "payloadHash"), x))
		return pg_err_set(err, PG_EVERIFY, "log entry is for a different payload");
	if (!json_is_array(sigs) || json_array_size(sigs) != 1 ||
	    !b64_eq(pg_json_str(s0, "signature"), x->sig, x->sig_len))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different signature");
	if (!pem_b64_eq(pg_json_str(s0, "verifier"), x))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different key or certificate");
	return PG_OK;
}

static int
check_intoto_002(const json_t *spec, const pg_entry_expect *x, pg_err *err)
{
	const json_t *c = json_object_get(spec, "content");
	const json_t *env = json_object_get(c, "envelope");
	const json_t *sigs = json_object_get(env, "signatures");
	const json_t *s0 = json_array_get(sigs, 0);

	if (x->payload == NULL)
		return pg_err_set(err, PG_EVERIFY,
				  "log entry kind intoto does not fit a message signature");
	/* Rekor drops the payload from the stored envelope (payloadHash
	 * binds it): when it is there anyway, it must be this one. */
	if (!payload_hash_ok(json_object_get(c, "payloadHash"), x) ||
	    (json_object_get(env, "payload") != NULL &&
	     !b64b64_eq(pg_json_str(env, "payload"), x->payload, x->payload_len)))
		return pg_err_set(err, PG_EVERIFY, "log entry is for a different payload");
	if (!json_is_array(sigs) || json_array_size(sigs) != 1 ||
	    !b64b64_eq(pg_json_str(s0, "sig"), x->sig, x->sig_len))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different signature");
	if (!pem_b64_eq(pg_json_str(s0, "publicKey"), x))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different key or certificate");
	return PG_OK;
}

/* intoto v0.0.1 (cosign v2 `attest`): the log keeps hashes only, of the
 * envelope as uploaded and of its payload, and the signer's key. */
static int
check_intoto_001(const json_t *spec, const pg_entry_expect *x, pg_err *err)
{
	const json_t *c = json_object_get(spec, "content");
	const json_t *h = json_object_get(c, "hash");
	const char *alg = pg_json_str(h, "algorithm");

	if (x->payload == NULL || x->envelope_digest == NULL)
		return pg_err_set(err, PG_EVERIFY,
				  "log entry kind intoto 0.0.1 needs the envelope's own bytes");
	if (alg == NULL || strcmp(alg, "sha256") != 0 ||
	    !hex_eq(pg_json_str(h, "value"), x->envelope_digest, 32) ||
	    !payload_hash_ok(json_object_get(c, "payloadHash"), x))
		return pg_err_set(err, PG_EVERIFY, "log entry is for a different envelope");
	if (!pem_b64_eq(pg_json_str(spec, "publicKey"), x))
		return pg_err_set(err, PG_EVERIFY, "log entry has a different key or certificate");
	return PG_OK;
}

int
pg_entry_body_check(const char *kind, const char *version, const unsigned char *body,
		    size_t body_len, const pg_entry_expect *x, pg_err *err)
{
	json_t *j = NULL;
	const char *bk, *bv;
	const json_t *spec;
	int rc;

	j = json_loadb((const char *)body, body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return pg_err_set(err, PG_EVERIFY, "log entry body is not JSON");
	}
	bk = pg_json_str(j, "kind");
	bv = pg_json_str(j, "apiVersion");
	spec = json_object_get(j, "spec");
	if (bk == NULL || bv == NULL || !json_is_object(spec) || (kind && strcmp(kind, bk) != 0) ||
	    (version && strcmp(version, bv) != 0)) {
		rc = pg_err_set(err, PG_EVERIFY,
				"log entry body kind/version disagree with the bundle");
		goto out;
	}
	if (strcmp(bk, "hashedrekord") == 0 && strcmp(bv, "0.0.1") == 0)
		rc = check_hashedrekord_001(spec, x, err);
	else if (strcmp(bk, "hashedrekord") == 0 && strcmp(bv, "0.0.2") == 0)
		rc = check_hashedrekord_002(spec, x, err);
	else if (strcmp(bk, "dsse") == 0 && strcmp(bv, "0.0.1") == 0)
		rc = check_dsse_001(spec, x, err);
	else if (strcmp(bk, "intoto") == 0 && strcmp(bv, "0.0.2") == 0)
		rc = check_intoto_002(spec, x, err);
	else if (strcmp(bk, "intoto") == 0 && strcmp(bv, "0.0.1") == 0)
		rc = check_intoto_001(spec, x, err);
	else
		rc = pg_err_set(err, PG_EVERIFY, "unsupported log entry kind %s %s", bk, bv);
out:
	json_decref(j);
	return rc;
}
