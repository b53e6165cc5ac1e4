/*
 * Unit tests of sigstore/: encodings, RFC 8785 SET payload, SET check,
 * checkpoint parsing and signing, Merkle inclusion, SAN/issuer extraction,
 * key types (keys made here with OpenSSL), and the real cosign legacy
 * vectors (../shared/vectors/cosign-real, or $PROVGATE_VECTORS) through
 * pg_cosign_verify_legacy.  Vector tests skip when the vectors are absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "../../webhook/buf/buf.c"
#include "../../webhook/err/err.c"
#include "../../webhook/sigstore/enc.c"
#include "../../webhook/sigstore/key.c"
#include "../../webhook/sigstore/trust.c"
#include "../../webhook/sigstore/cert.c"
#include "../../webhook/sigstore/tlog.c"
#include "../../webhook/sigstore/tsa.c"
#include "../../webhook/sigstore/bundle.c"
#include "../../webhook/sigstore/cosign.c"

/* ---- helpers ---- */

static char vec_dir[4096];
static char *root_with_ca(const char *inter_pem, const char *root_pem);

static const char *
vectors(void)
{
	const char *v = getenv("PROVGATE_VECTORS");
	struct stat st;

	(void)snprintf(vec_dir, sizeof(vec_dir), "%s", v ? v : "../shared/vectors");
	if (stat(vec_dir, &st) != 0)
		return NULL;
	return vec_dir;
}

/* Read VECTORS/<rel>; NULL (and the test skipped) when absent. */
static char *
vec_read(size_t *len, const char *rel)
{
	char path[8192];
	char *s = NULL;
	size_t n = 0;
	pg_err e;

	if (vectors() == NULL)
		return NULL;
	(void)snprintf(path, sizeof(path), "%s/%s", vec_dir, rel);
	if (pg_buf_read_file(&s, &n, path, (size_t)8 << 20, &e) != PG_OK)
		return NULL;
	if (len)
		*len = n;
	return s;
}

static bool
vec_exists(const char *rel)
{
	char path[8192];
	struct stat st;

	if (vectors() == NULL)
		return false;
	(void)snprintf(path, sizeof(path), "%s/%s", vec_dir, rel);
	return stat(path, &st) == 0;
}

static EVP_PKEY *
keygen(const char *type, const char *arg)
{
	if (strcmp(type, "RSA") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)strtoul(arg, NULL, 10));
	if (strcmp(type, "EC") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", arg);
	return EVP_PKEY_Q_keygen(NULL, NULL, type);
}

static int
sign(unsigned char **sig, size_t *sig_len, EVP_PKEY *k, const EVP_MD *md, const void *msg,
     size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	*sig = NULL;
	ok = c && EVP_DigestSignInit(c, NULL, md, NULL, k) == 1 &&
	     EVP_DigestSign(c, NULL, sig_len, msg, len) == 1 && (*sig = malloc(*sig_len)) != NULL &&
	     EVP_DigestSign(c, *sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static char *
pubkey_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (b && PEM_write_bio_PUBKEY(b, k) == 1) {
		n = BIO_get_mem_data(b, &p);
		out = pg_strndup(p, (size_t)n);
	}
	BIO_free(b);
	return out;
}

/* ---- encodings ---- */

static void
test_base64(void **state)
{
	unsigned char *d = NULL;
	char *e = NULL;
	size_t n;

	(void)state;
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "aGVsbG8=", 8, 100, PG_SIGSTORE_B64),
			 PG_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(d, "hello", 5);
	free(d);
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "aGVsbG8", 7, 100, PG_SIGSTORE_B64), PG_OK);
	free(d);
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "aGVs\nbG8=", 9, 100, PG_SIGSTORE_B64),
			 PG_EINVAL);
	assert_int_equal(
	    pg_base64_decode_alloc(&d, &n, "aGVs\nbG8=", 9, 100, PG_SIGSTORE_B64_WRAPPED), PG_OK);
	free(d);
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "aGVsbG8=x", 9, 100, PG_SIGSTORE_B64),
			 PG_EINVAL);
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "a", 1, 100, PG_SIGSTORE_B64), PG_EINVAL);
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "aGVsbG8=", 8, 4, PG_SIGSTORE_B64),
			 PG_ETOOBIG);
	assert_int_equal(pg_base64_decode_alloc(&d, &n, "_-8=", 4, 10, PG_SIGSTORE_B64), PG_OK);
	assert_int_equal(d[0], 0xff);
	free(d);
	assert_int_equal(pg_base64_encode_alloc(&e, (const unsigned char *)"hello", 5), PG_OK);
	assert_string_equal(e, "aGVsbG8=");
	free(e);
}

/* A character-at-a-time reference for sigstore's base64 rules (buf's codec
 * with PG_SIGSTORE_B64): the four-at-a-time codec must agree on every input. */
static int
b64_reference(unsigned char *o, size_t *out_len, const char *in, size_t in_len, int flags)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i, n = 0, pad = 0, nchars = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (i = 0; i < in_len; i++) {
		unsigned char c = (unsigned char)in[i];
		const char *q;
		int v;

		if (flags && (c == '\n' || c == '\r' || c == ' ' || c == '\t'))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			return PG_EINVAL;
		if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c != 0 && (q = strchr(alpha, c)) != NULL)
			v = (int)(q - alpha);
		else
			return PG_EINVAL;
		nchars++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (nchars % 4 == 1 || acc != 0 || pad > 2 || (pad && (nchars + pad) % 4 != 0))
		return PG_EINVAL;
	*out_len = n;
	return PG_OK;
}

static void
test_base64_differential(void **state)
{
	static const char pool[] = "AQgw/+_-=\n \x80\x01Zz09";
	unsigned char ref[64], *d = NULL;
	char in[40];
	size_t n, rn, len, i;
	unsigned seed = 12345;
	int k, flags, rc, want;

	(void)state;
	for (k = 0; k < 200000; k++) {
		len = (size_t)(k % 37);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly alphabet characters, so that valid strings occur */
			in[i] = (seed >> 16) % 4 ? "AQgwZz09+/-_"[(seed >> 20) % 12]
						 : pool[(seed >> 20) % (sizeof(pool) - 1)];
		}
		flags = k & 1;
		want = b64_reference(ref, &rn, in, len, flags);
		rc = pg_base64_decode_alloc(&d, &n, in, len, 100,
					    flags ? PG_SIGSTORE_B64_WRAPPED : PG_SIGSTORE_B64);
		assert_int_equal(rc, want);
		if (rc == PG_OK) {
			assert_int_equal(n, rn);
			assert_memory_equal(d, ref, n);
		}
		free(d);
		d = NULL;
	}
}

static void
test_time_parse(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(pg_time_parse(&t, "1970-01-01T00:00:00Z"), PG_OK);
	assert_int_equal(t, 0);
	assert_int_equal(pg_time_parse(&t, "2021-01-12T11:53:27Z"), PG_OK);
	assert_int_equal(t, 1610452407);
	assert_int_equal(pg_time_parse(&t, "2022-04-13T20:06:15.123Z"), PG_OK);
	assert_int_equal(t, 1649880375);
	assert_int_equal(pg_time_parse(&t, "2022-04-13 20:06:15Z"), PG_EINVAL);
	assert_int_equal(pg_time_parse(&t, "2022-04-13T20:06:15+02:00"), PG_EINVAL);
}

/* ---- SET ---- */

static void
test_canonical_json(void **state)
{
	unsigned char id[32];
	char *c = NULL;

	(void)state;
	memset(id, 0xab, sizeof(id));
	assert_int_equal(pg_set_canonical(&c, "Ym9keQ==", 1670870899, id, 32, 42), PG_OK);
	assert_string_equal(
	    c, "{\"body\":\"Ym9keQ==\",\"integratedTime\":1670870899,"
	       "\"logID\":\"abababababababababababababababababababababababababababababababab\","
	       "\"logIndex\":42}");
	free(c);
	/* Anything that would need escaping is refused, not mis-encoded. */
	assert_int_equal(pg_set_canonical(&c, "a\"b", 1, id, 32, 1), PG_EINVAL);
}

static int
tlog_from_pem(pg_tlog *l, const char *pem)
{
	unsigned char *spki = NULL;
	size_t n;

	memset(l, 0, sizeof(*l));
	if (pg_key_from_pem(&l->key, pem, strlen(pem), NULL) != PG_OK ||
	    pg_key_spki(&spki, &n, l->key) != PG_OK)
		return -1;
	(void)pg_sha256(l->log_id, spki, n);
	free(spki);
	l->log_id_len = 32;
	l->base_url = pg_strdup("https://rekor.sigstore.dev");
	l->host = pg_strdup("rekor.sigstore.dev");
	l->start = 0;
	pg_tlog_prepare(l);
	return 0;
}

static void
tlog_clear(pg_tlog *l)
{
	EVP_PKEY_free(l->key);
	free(l->base_url);
	free(l->host);
}

static void
test_set_standalone(void **state)
{
	char *pub = vec_read(NULL, "cosign-real/rekor-set-standalone/rekor.pub");
	char *set_json = vec_read(NULL, "cosign-real/rekor-set-standalone/rekor-set");
	size_t plen = 0;
	char *payload = vec_read(&plen, "cosign-real/rekor-set-standalone/rekor-payload");
	char *sig_b64 = vec_read(NULL, "cosign-real/rekor-set-standalone/rekor-sig");
	char *cert_pem = vec_read(NULL, "cosign-real/rekor-set-standalone/rekor-cert");
	json_t *j = NULL;
	const json_t *p;
	unsigned char *set = NULL, *sig = NULL, *body = NULL, *der = NULL, dg[32];
	size_t set_len, sig_len, body_len, der_len;
	STACK_OF(X509) *certs = NULL;
	int64_t itime, idx;
	pg_entry_expect x;
	pg_tlog log;
	pg_err e;

	(void)state;
	if (!pub || !set_json || !payload || !sig_b64 || !cert_pem) {
		free(pub), free(set_json), free(payload), free(sig_b64), free(cert_pem);
		skip();
	}
	assert_int_equal(tlog_from_pem(&log, pub), 0);
	j = json_loads(set_json, 0, NULL);
	assert_non_null(j);
	p = json_object_get(j, "Payload");
	assert_int_equal(pg_json_int64(&itime, json_object_get(p, "integratedTime")), PG_OK);
	assert_int_equal(pg_json_int64(&idx, json_object_get(p, "logIndex")), PG_OK);
	assert_int_equal(itime, 1670870899);
	assert_int_equal(pg_base64_decode_alloc(
			     &set, &set_len, pg_json_str(j, "SignedEntryTimestamp"),
			     strlen(pg_json_str(j, "SignedEntryTimestamp")), 4096, PG_SIGSTORE_B64),
			 PG_OK);
	assert_int_equal(pg_set_verify(&log, pg_json_str(p, "body"), itime, idx, set, set_len, &e),
			 PG_OK);
	/* Any change to the signed fields breaks it. */
	assert_int_equal(
	    pg_set_verify(&log, pg_json_str(p, "body"), itime + 1, idx, set, set_len, &e),
	    PG_EVERIFY);
	assert_int_equal(
	    pg_set_verify(&log, pg_json_str(p, "body"), itime, idx + 1, set, set_len, &e),
	    PG_EVERIFY);

	/* The body names exactly this payload, signature and certificate. */
	assert_int_equal(pg_base64_decode_alloc(&body, &body_len, pg_json_str(p, "body"),
						strlen(pg_json_str(p, "body")), 1 << 20,
						PG_SIGSTORE_B64),
			 PG_OK);
	assert_int_equal(pg_base64_decode_alloc(&sig, &sig_len, sig_b64, strlen(sig_b64), 4096,
						PG_SIGSTORE_B64_WRAPPED),
			 PG_OK);
	assert_int_equal(pg_certs_from_pem(&certs, cert_pem, strlen(cert_pem), &e), PG_OK);
	assert_int_equal(pg_cert_der(&der, &der_len, sk_X509_value(certs, 0)), PG_OK);
	(void)pg_sha256(dg, payload, plen);
	memset(&x, 0, sizeof(x));
	x.sig = sig;
	x.sig_len = sig_len;
	x.signer_der = der;
	x.signer_der_len = der_len;
	x.signer_is_cert = true;
	x.digest = dg;
	assert_int_equal(pg_entry_body_check(NULL, NULL, body, body_len, &x, &e), PG_OK);
	dg[0] ^= 1;
	assert_int_equal(pg_entry_body_check(NULL, NULL, body, body_len, &x, &e), PG_EVERIFY);
	dg[0] ^= 1;
	sig[5] ^= 1;
	assert_int_equal(pg_entry_body_check(NULL, NULL, body, body_len, &x, &e), PG_EVERIFY);

	tlog_clear(&log);
	json_decref(j);
	sk_X509_pop_free(certs, X509_free);
	free(set), free(sig), free(body), free(der);
	free(pub), free(set_json), free(payload), free(sig_b64), free(cert_pem);
}

/* ---- Merkle ---- */

/* RFC 6962 MTH over leaves[lo, hi). */
static void
mth(unsigned char out[32], unsigned char (*leaves)[32], size_t lo, size_t hi)
{
	size_t k = 1, n = hi - lo;
	unsigned char l[32], r[32];

	if (n == 1) {
		memcpy(out, leaves[lo], 32);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(l, leaves, lo, lo + k);
	mth(r, leaves, lo + k, hi);
	assert_int_equal(node(out, l, r), PG_OK);
}

/* RFC 6962 PATH(m, D[lo:hi]), appended to path. */
static void
audit_path(unsigned char (*path)[32], size_t *np, unsigned char (*leaves)[32], size_t m, size_t lo,
	   size_t hi)
{
	size_t k = 1, n = hi - lo;

	if (n == 1)
		return;
	while (k * 2 < n)
		k *= 2;
	if (m < k) {
		audit_path(path, np, leaves, m, lo, lo + k);
		mth(path[(*np)++], leaves, lo + k, hi);
	} else {
		audit_path(path, np, leaves, m - k, lo + k, hi);
		mth(path[(*np)++], leaves, lo, lo + k);
	}
}

static void
test_merkle(void **state)
{
	unsigned char leaves[13][32], root[32], path[16][32];
	size_t n, m, np;

	(void)state;
	for (m = 0; m < 13; m++) {
		unsigned char b = (unsigned char)m;

		pg_merkle_leaf(leaves[m], &b, 1);
	}
	for (n = 1; n <= 13; n++) {
		mth(root, leaves, 0, n);
		for (m = 0; m < n; m++) {
			np = 0;
			audit_path(path, &np, leaves, m, 0, n);
			assert_int_equal(pg_merkle_verify(leaves[m], m, n,
							  (const unsigned char(*)[32])path, np,
							  root),
					 PG_OK);
			/* wrong index, wrong root, index past size, flipped bit, short path */
			if (n > 1)
				assert_int_equal(pg_merkle_verify(leaves[m], (m + 1) % n, n,
								  (const unsigned char(*)[32])path,
								  np, root),
						 PG_EVERIFY);
			/* (a path can fit two sizes; the checkpoint binds size to root) */
			root[0] ^= 1;
			assert_int_equal(pg_merkle_verify(leaves[m], m, n,
							  (const unsigned char(*)[32])path, np,
							  root),
					 PG_EVERIFY);
			root[0] ^= 1;
			assert_int_equal(pg_merkle_verify(leaves[m], n, n,
							  (const unsigned char(*)[32])path, np,
							  root),
					 PG_EVERIFY);
			if (np) {
				path[0][3] ^= 1;
				assert_int_equal(pg_merkle_verify(leaves[m], m, n,
								  (const unsigned char(*)[32])path,
								  np, root),
						 PG_EVERIFY);
				path[0][3] ^= 1;
				assert_int_equal(pg_merkle_verify(leaves[m], m, n,
								  (const unsigned char(*)[32])path,
								  np - 1, root),
						 PG_EVERIFY);
			}
		}
	}
	assert_int_equal(pg_merkle_verify(leaves[0], 0, 0, NULL, 0, root), PG_EVERIFY);
}

/* ---- checkpoints ---- */

static void
test_checkpoint_parse(void **state)
{
	static const char ok[] =
	    "rekor.sigstore.dev - 2605736670972794746\n23083062\n"
	    "dauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcI=\nTimestamp: 1689177396617352539\n"
	    "\n\xe2\x80\x94 rekor.sigstore.dev wNI9ajBFAiB=\n";
	pg_checkpoint cp;
	pg_err e;

	(void)state;
	assert_int_equal(pg_checkpoint_parse(&cp, ok, strlen(ok), &e), PG_OK);
	assert_string_equal(cp.origin, "rekor.sigstore.dev - 2605736670972794746");
	assert_int_equal(cp.size, 23083062);
	assert_int_equal(cp.body_len,
			 strlen(ok) - strlen("\xe2\x80\x94 rekor.sigstore.dev wNI9ajBFAiB=\n") - 1);
	assert_int_equal(pg_checkpoint_parse(&cp, "origin\n12\n", 10, &e), PG_EINVAL);
	assert_int_equal(pg_checkpoint_parse(&cp, "origin\nx12\nAAAA\n\n", 17, &e), PG_EINVAL);
	assert_int_equal(pg_checkpoint_parse(&cp, "origin\n12\nAAAA\n\n", 16, &e), PG_EINVAL);
	assert_int_equal(pg_checkpoint_parse(&cp, "\n12\nAAAA\n\n", 10, &e), PG_EINVAL);
}

/* Sign a note as a log named host with key k; returns the envelope. */
static char *
make_note(EVP_PKEY *k, pg_tlog *log, const char *origin, const char *signer, bool good_hint)
{
	unsigned char root[32], hint[4], *sig = NULL, blob[600];
	char *root_b64 = NULL, *sig_b64 = NULL, *out = NULL;
	size_t sig_len = 0;
	pg_buf body, env;

	memset(root, 7, sizeof(root));
	(void)pg_base64_encode_alloc(&root_b64, root, 32);
	pg_buf_init(&body, 0);
	pg_buf_init(&env, 0);
	(void)pg_buf_printf(&body, "%s\n5\n%s\n", origin, root_b64);
	(void)sign(&sig, &sig_len, k, pg_key_is_ed25519(k) ? NULL : EVP_sha256(), body.data,
		   body.len);
	(void)key_hint(hint, log, signer, strlen(signer));
	if (!good_hint)
		hint[0] ^= 1;
	memcpy(blob, hint, 4);
	memcpy(blob + 4, sig, sig_len);
	(void)pg_base64_encode_alloc(&sig_b64, blob, 4 + sig_len);
	(void)pg_buf_printf(&env,
			    "%s\n\xe2\x80\x94 other.example abcd\n"
			    "\xe2\x80\x94 %s %s\n",
			    body.data, signer, sig_b64);
	(void)pg_buf_detach(&out, NULL, &env);
	pg_buf_free(&body);
	free(root_b64);
	free(sig_b64);
	free(sig);
	return out;
}

static void
checkpoint_roundtrip(EVP_PKEY *k, const char *origin)
{
	pg_tlog log;
	pg_checkpoint cp;
	pg_err e;
	char *env;

	memset(&log, 0, sizeof(log));
	log.key = k;
	log.host = pg_strdup("log.example");
	log.base_url = pg_strdup("https://log.example");
	pg_tlog_prepare(&log);
	env = make_note(k, &log, origin, "log.example", true);
	assert_int_equal(pg_checkpoint_verify(&cp, &log, env, strlen(env), &e), PG_OK);
	assert_int_equal(cp.size, 5);
	free(env);
	env = make_note(k, &log, origin, "log.example", false);
	assert_int_equal(pg_checkpoint_verify(&cp, &log, env, strlen(env), &e), PG_EVERIFY);
	free(env);
	env = make_note(k, &log, "evil.example", "log.example", true);
	assert_int_equal(pg_checkpoint_verify(&cp, &log, env, strlen(env), &e), PG_EVERIFY);
	free(env);
	env = make_note(k, &log, origin, "log.example", true);
	env[strlen(origin) + 1] = '6'; /* tree size 5 -> 6 after signing */
	assert_int_equal(pg_checkpoint_verify(&cp, &log, env, strlen(env), &e), PG_EVERIFY);
	free(env);
	free(log.host);
	free(log.base_url);
}

static void
test_checkpoint_sign_verify(void **state)
{
	EVP_PKEY *ed = keygen("ED25519", NULL), *ec = keygen("EC", "P-256");

	(void)state;
	assert_non_null(ed);
	assert_non_null(ec);
	checkpoint_roundtrip(ed, "log.example");
	checkpoint_roundtrip(ec, "log.example - 1234");
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
}

/* ---- keys ---- */

static void
key_case(const char *type, const char *arg, const EVP_MD *sign_md, bool accepted)
{
	EVP_PKEY *k = keygen(type, arg), *pk = NULL;
	unsigned char *sig = NULL, dg[64];
	size_t sig_len = 0;
	const char msg[] = "provgate";
	char *pem;
	pg_err e;

	assert_non_null(k);
	pem = pubkey_pem(k);
	assert_non_null(pem);
	if (!accepted) {
		assert_int_equal(pg_key_from_pem(&pk, pem, strlen(pem), &e), PG_EVERIFY);
		assert_null(pk);
		goto out;
	}
	assert_int_equal(pg_key_from_pem(&pk, pem, strlen(pem), &e), PG_OK);
	assert_int_equal(sign(&sig, &sig_len, k, sign_md, msg, sizeof(msg) - 1), 0);
	assert_int_equal(pg_key_verify(pk, sign_md ? sign_md : NULL, (const unsigned char *)msg,
				       sizeof(msg) - 1, sig, sig_len),
			 PG_OK);
	assert_int_equal(
	    pg_key_verify(pk, sign_md, (const unsigned char *)msg, sizeof(msg) - 2, sig, sig_len),
	    PG_EVERIFY);
	if (sign_md != NULL) {
		(void)pg_digest_evp(dg, sign_md, msg, sizeof(msg) - 1);
		assert_int_equal(pg_key_verify_digest(pk, sign_md, dg,
						      (size_t)EVP_MD_get_size(sign_md), sig,
						      sig_len),
				 PG_OK);
	}
	sig[sig_len / 2] ^= 1;
	assert_int_equal(
	    pg_key_verify(pk, sign_md, (const unsigned char *)msg, sizeof(msg) - 1, sig, sig_len),
	    PG_EVERIFY);
out:
	free(sig);
	free(pem);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(k);
}

static void
test_key_types(void **state)
{
	(void)state;
	key_case("EC", "P-256", EVP_sha256(), true);
	key_case("EC", "P-384", EVP_sha256(), true); /* legacy cosign: SHA-256 */
	key_case("EC", "P-384", EVP_sha384(), true);
	key_case("RSA", "2048", EVP_sha256(), true);
	key_case("ED25519", NULL, NULL, true);
	key_case("RSA", "1024", EVP_sha256(), false);
	key_case("EC", "secp256k1", EVP_sha256(), false);
}

static void
test_key_garbage(void **state)
{
	EVP_PKEY *k = NULL;
	pg_err e;

	(void)state;
	assert_int_equal(pg_key_from_pem(&k, "nothing", 7, &e), PG_EINVAL);
	assert_int_equal(pg_key_from_der(&k, (const unsigned char *)"\x30\x03\x02\x01\x00", 5, &e),
			 PG_EINVAL);
	assert_null(k);
}

/* ---- certificates ---- */

static X509 *
bundle_leaf(const char *rel)
{
	char *s = vec_read(NULL, rel);
	json_t *j;
	const json_t *vm;
	const char *raw;
	unsigned char *der = NULL;
	size_t n;
	X509 *c = NULL;

	if (s == NULL)
		return NULL;
	j = json_loads(s, 0, NULL);
	vm = json_object_get(j, "verificationMaterial");
	raw = pg_json_str(json_object_get(vm, "certificate"), "rawBytes");
	if (raw == NULL)
		raw = pg_json_str(
		    json_array_get(json_object_get(json_object_get(vm, "x509CertificateChain"),
						   "certificates"),
				   0),
		    "rawBytes");
	if (raw &&
	    pg_base64_decode_alloc(&der, &n, raw, strlen(raw), 65536, PG_SIGSTORE_B64) == PG_OK)
		(void)pg_cert_from_der(&c, der, n, NULL);
	free(der);
	json_decref(j);
	free(s);
	return c;
}

#define BEACON                                                                                     \
	"https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/"  \
	"workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"

static void
test_san_issuer(void **state)
{
	X509 *c = bundle_leaf(
	    "sigstore-conformance/test/assets/bundle-verify/happy-path-v0.3/bundle.sigstore.json");
	char **sans = NULL, *iss = NULL, *who = NULL;
	size_t n = 0;
	pg_sig_trust t;
	pg_err e;

	(void)state;
	if (c == NULL)
		skip();
	assert_int_equal(pg_cert_sans(&sans, &n, c), PG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sans[0], BEACON);
	pg_strv_free(sans, PG_SAN_MAX);
	assert_int_equal(pg_cert_fulcio_issuer(&iss, c), PG_OK);
	assert_string_equal(iss, "https://token.actions.githubusercontent.com");
	free(iss);

	memset(&t, 0, sizeof(t));
	t.identity = BEACON;
	t.issuer = "https://token.actions.githubusercontent.com";
	assert_int_equal(pg_cert_check_identity(&who, c, &t, &e), PG_OK);
	assert_non_null(strstr(who, "extremely-dangerous"));
	free(who);
	t.identity = BEACON "x";
	assert_int_equal(pg_cert_check_identity(NULL, c, &t, &e), PG_EVERIFY);
	t.identity = NULL;
	t.identity_regexp = "^https://github\\.com/sigstore-conformance/.*@refs/heads/main$";
	assert_int_equal(pg_cert_check_identity(NULL, c, &t, &e), PG_OK);
	t.identity_regexp = "^https://github\\.com/someone-else/";
	assert_int_equal(pg_cert_check_identity(NULL, c, &t, &e), PG_EVERIFY);
	t.identity_regexp = "(";
	assert_int_equal(pg_cert_check_identity(NULL, c, &t, &e), PG_EPOLICY);
	t.identity_regexp = "sigstore-conformance";
	t.issuer = "https://accounts.google.com";
	assert_int_equal(pg_cert_check_identity(NULL, c, &t, &e), PG_EVERIFY);
	t.issuer = NULL;
	t.issuer_regexp = "^https://token\\.actions\\.";
	assert_int_equal(pg_cert_check_identity(NULL, c, &t, &e), PG_OK);
	X509_free(c);
}

/* The 2023 Fulcio certificate has only the deprecated 1.1 issuer. */
static void
test_issuer_v1_fallback(void **state)
{
	char *ann = vec_read(NULL, "cosign-real/fulcio-rekor-set/signature-1.annotations.json");
	STACK_OF(X509) *sk = NULL;
	char **sans = NULL, *iss = NULL;
	size_t n = 0;
	json_t *j;
	const char *pem;

	(void)state;
	if (ann == NULL)
		skip();
	j = json_loads(ann, 0, NULL);
	pem = pg_json_str(j, "dev.sigstore.cosign/certificate");
	assert_non_null(pem);
	assert_int_equal(pg_certs_from_pem(&sk, pem, strlen(pem), NULL), PG_OK);
	assert_int_equal(pg_cert_fulcio_issuer(&iss, sk_X509_value(sk, 0)), PG_OK);
	assert_string_equal(iss, "https://github.com/login/oauth");
	assert_int_equal(pg_cert_sans(&sans, &n, sk_X509_value(sk, 0)), PG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sans[0], "mitr@redhat.com");
	pg_strv_free(sans, PG_SAN_MAX);
	free(iss);
	sk_X509_pop_free(sk, X509_free);
	json_decref(j);
	free(ann);
}

/* ---- trusted root ---- */

static void
test_trusted_root(void **state)
{
	size_t n = 0;
	char *s =
	    vec_read(&n, "sigstore-conformance/default-trust-roots/production-trusted_root.json");
	pg_trusted_root *r = NULL;
	pg_err e;
	int64_t t;

	(void)state;
	assert_int_equal(pg_trusted_root_load(&r, "{", 1, &e), PG_EINVAL);
	assert_int_equal(pg_trusted_root_load(&r, "[]", 2, &e), PG_EINVAL);
	assert_int_equal(pg_trusted_root_load(&r, "{\"tlogs\":[{\"publicKey\":{}}]}", 29, &e),
			 PG_EINVAL);
	if (s == NULL)
		skip();
	assert_int_equal(pg_trusted_root_load(&r, s, n, &e), PG_OK);
	assert_true(r->ntlogs >= 1);
	assert_true(r->ncas >= 1);
	assert_true(r->nctlogs >= 1);
	assert_string_equal(r->tlogs[0].host, "rekor.sigstore.dev");
	(void)pg_time_parse(&t, "2023-01-01T00:00:00Z");
	assert_true(pg_trust_valid_at(r->tlogs[0].start, r->tlogs[0].end, r->tlogs[0].has_end, t));
	pg_trusted_root_free(r);
	free(s);
}

/* ---- cosign legacy vectors ---- */

typedef struct layer {
	unsigned char *payload;
	size_t payload_len;
	json_t *ann;
} layer;

/* containers/image "sigstore-json": 0x00 "sigstore-json\n" {mimeType,
 * payload, annotations}. */
static int
load_layer(layer *l, const char *dir, int n)
{
	static const char magic[] = "\0sigstore-json\n";
	char rel[512], *s;
	size_t len = 0;
	json_t *j;
	const char *p;
	int rc = -1;

	memset(l, 0, sizeof(*l));
	(void)snprintf(rel, sizeof(rel), "cosign-real/%s/signature-%d", dir, n);
	s = vec_read(&len, rel);
	if (s == NULL)
		return -1;
	if (len > sizeof(magic) - 1 && memcmp(s, magic, sizeof(magic) - 1) == 0) {
		j = json_loadb(s + sizeof(magic) - 1, len - (sizeof(magic) - 1), 0, NULL);
		p = pg_json_str(j, "payload");
		if (p &&
		    pg_base64_decode_alloc(&l->payload, &l->payload_len, p, strlen(p), 1 << 20,
					   PG_SIGSTORE_B64) == PG_OK &&
		    strcmp(pg_json_str(j, "mimeType"),
			   "application/vnd.dev.cosign.simplesigning.v1+json") == 0) {
			l->ann = json_incref(json_object_get(j, "annotations"));
			rc = 0;
		}
		json_decref(j);
	}
	free(s);
	return rc;
}

static void
layer_free(layer *l)
{
	free(l->payload);
	json_decref(l->ann);
}

static int
manifest_digest(char out[72], const char *dir)
{
	char rel[512], hex[65], *s;
	unsigned char d[32];
	size_t n = 0;

	(void)snprintf(rel, sizeof(rel), "cosign-real/%s/manifest.json", dir);
	s = vec_read(&n, rel);
	if (s == NULL)
		return -1;
	(void)pg_sha256(d, s, n);
	pg_hex(hex, d, 32);
	(void)snprintf(out, 72, "sha256:%s", hex);
	free(s);
	return 0;
}

/* Verify signature-<n> of a case; returns the pg code. */
static int
legacy(const char *dir, int n, const pg_sig_trust *t, char **who)
{
	char dg[72];
	layer l = {0};
	pg_err e;
	int rc;

	if (manifest_digest(dg, dir) != 0 || load_layer(&l, dir, n) != 0)
		fail_msg("vector %s/signature-%d unreadable", dir, n);
	rc = pg_cosign_verify_legacy(who, l.payload, l.payload_len, l.ann, dg, t, &e);
	if (rc != PG_OK)
		print_message("  %s/signature-%d: %s\n", dir, n, e.msg);
	layer_free(&l);
	return rc;
}

static void
key_trust(pg_sig_trust *t, char **pem, const char *dir, const char *file)
{
	char rel[512];

	(void)snprintf(rel, sizeof(rel), "cosign-real/%s/%s", dir, file);
	memset(t, 0, sizeof(*t));
	*pem = vec_read(&t->key_len, rel);
	assert_non_null(*pem);
	t->key_pem = *pem;
}

static void
test_cosign_key_only(void **state)
{
	pg_sig_trust t;
	char *pem, *who = NULL;

	(void)state;
	if (!vec_exists("cosign-real/README.md"))
		skip();
	key_trust(&t, &pem, "key-only", "cosign.pub");
	assert_int_equal(legacy("key-only", 1, &t, &who), PG_OK);
	assert_string_equal(who, "key");
	free(who);
	assert_int_equal(legacy("key-only-optional-fields", 1, &t, NULL), PG_OK);
	assert_int_equal(legacy("key-only-two-signatures", 1, &t, NULL), PG_OK);
	assert_int_equal(legacy("key-only-two-signatures", 2, &t, NULL), PG_OK);
	/* any valid layer admits: 1 is bad, 2 is good */
	assert_int_equal(legacy("key-only-mixed-one-invalid-one-valid", 1, &t, NULL), PG_EVERIFY);
	assert_int_equal(legacy("key-only-mixed-one-invalid-one-valid", 2, &t, NULL), PG_OK);
	assert_int_equal(legacy("neg-modified-manifest", 1, &t, NULL), PG_EVERIFY);
	assert_int_equal(legacy("neg-unknown-key", 1, &t, NULL), PG_EVERIFY);
	/* a tlog demanded but absent */
	t.tlog_required = true;
	assert_int_equal(legacy("key-only", 1, &t, NULL), PG_EVERIFY);
	free(pem);
}

/* A trusted root JSON with one tlog (the given PEM key). */
static char *
root_with_tlog(const char *pem)
{
	EVP_PKEY *k = NULL;
	unsigned char *spki = NULL, id[32];
	char *spki_b64 = NULL, *id_b64 = NULL, *out = NULL;
	size_t n = 0;
	pg_buf b;

	pg_buf_init(&b, 0);
	if (pg_key_from_pem(&k, pem, strlen(pem), NULL) == PG_OK &&
	    pg_key_spki(&spki, &n, k) == PG_OK && pg_sha256(id, spki, n) == PG_OK &&
	    pg_base64_encode_alloc(&spki_b64, spki, n) == PG_OK &&
	    pg_base64_encode_alloc(&id_b64, id, 32) == PG_OK &&
	    pg_buf_printf(&b,
			  "{\"tlogs\":[{\"baseUrl\":\"https://rekor.sigstore.dev\","
			  "\"hashAlgorithm\":\"SHA2_256\",\"publicKey\":{\"rawBytes\":\"%s\","
			  "\"keyDetails\":\"PKIX_ECDSA_P256_SHA_256\",\"validFor\":{\"start\":"
			  "\"2021-01-12T11:53:27Z\"}},\"logId\":{\"keyId\":\"%s\"}}]}",
			  spki_b64, id_b64) == PG_OK)
		(void)pg_buf_detach(&out, NULL, &b);
	pg_buf_free(&b);
	EVP_PKEY_free(k);
	free(spki);
	free(spki_b64);
	free(id_b64);
	return out;
}

static void
test_cosign_key_rekor_set(void **state)
{
	pg_trusted_root *r = NULL;
	char *rekor, *json, *pem, *wrong;
	pg_sig_trust t;
	pg_err e;

	(void)state;
	rekor = vec_read(NULL, "cosign-real/key-rekor-set/rekor.pub");
	if (rekor == NULL)
		skip();
	json = root_with_tlog(rekor);
	assert_non_null(json);
	assert_int_equal(pg_trusted_root_load(&r, json, strlen(json), &e), PG_OK);
	key_trust(&t, &pem, "key-rekor-set", "cosign2.pub");
	t.root = r;
	t.tlog_required = true;
	assert_int_equal(legacy("key-rekor-set", 1, &t, NULL), PG_OK);
	/* the SET must come from a trusted log */
	t.root = NULL;
	assert_int_equal(legacy("key-rekor-set", 1, &t, NULL), PG_EVERIFY);
	t.root = r;
	/* wrong key: cosign.pub */
	key_trust(&t, &wrong, "key-rekor-set", "cosign.pub");
	t.root = r;
	t.tlog_required = true;
	assert_int_equal(legacy("key-rekor-set", 1, &t, NULL), PG_EVERIFY);
	free(wrong);
	free(pem);
	free(json);
	free(rekor);
	pg_trusted_root_free(r);
}

static void
test_cosign_fulcio_rekor_set(void **state)
{
	size_t n = 0;
	char *s =
	    vec_read(&n, "sigstore-conformance/default-trust-roots/production-trusted_root.json");
	pg_trusted_root *r = NULL;
	char *who = NULL;
	pg_sig_trust t;
	pg_err e;

	(void)state;
	if (s == NULL || !vec_exists("cosign-real/README.md")) {
		free(s);
		skip();
	}
	if (0)
		skip();
	assert_int_equal(pg_trusted_root_load(&r, s, n, &e), PG_OK);
	memset(&t, 0, sizeof(t));
	t.root = r;
	t.tlog_required = true;
	t.identity = "mitr@redhat.com";
	t.issuer = "https://github.com/login/oauth";
	assert_int_equal(legacy("fulcio-rekor-set", 1, &t, &who), PG_OK);
	assert_string_equal(who, "mitr@redhat.com (https://github.com/login/oauth)");
	free(who);
	t.identity = "someone@example.com";
	assert_int_equal(legacy("fulcio-rekor-set", 1, &t, NULL), PG_EVERIFY);
	t.identity = NULL;
	t.identity_regexp = "@redhat\\.com$";
	assert_int_equal(legacy("fulcio-rekor-set", 1, &t, NULL), PG_OK);
	t.issuer = "https://accounts.google.com";
	assert_int_equal(legacy("fulcio-rekor-set", 1, &t, NULL), PG_EVERIFY);
	pg_trusted_root_free(r);
	free(s);
}

/* The README's other trust input: fulcio_v1.crt.pem (root only; the
 * intermediate comes from the chain annotation) and rekor.pub, no CT log. */
static void
test_cosign_fulcio_pem_root(void **state)
{
	char *fulcio = vec_read(NULL, "cosign-real/fulcio-rekor-set/fulcio_v1.crt.pem");
	char *rekor = vec_read(NULL, "cosign-real/fulcio-rekor-set/rekor.pub");
	char *a = NULL, *b = NULL, *merged = NULL;
	json_t *ja = NULL, *jb = NULL;
	pg_trusted_root *r = NULL;
	pg_sig_trust t;
	pg_err e;

	(void)state;
	if (fulcio == NULL || rekor == NULL) {
		free(fulcio), free(rekor);
		skip();
	}
	a = root_with_ca(NULL, fulcio);
	b = root_with_tlog(rekor);
	ja = json_loads(a, 0, NULL);
	jb = json_loads(b, 0, NULL);
	assert_int_equal(json_object_update(ja, jb), 0);
	merged = json_dumps(ja, 0);
	assert_int_equal(pg_trusted_root_load(&r, merged, strlen(merged), &e), PG_OK);
	memset(&t, 0, sizeof(t));
	t.root = r;
	t.tlog_required = true;
	t.ignore_sct = true;
	t.identity = "mitr@redhat.com";
	t.issuer = "https://github.com/login/oauth";
	assert_int_equal(legacy("fulcio-rekor-set", 1, &t, NULL), PG_OK);
	t.ignore_sct = false; /* no ctlogs in this root */
	assert_int_equal(legacy("fulcio-rekor-set", 1, &t, NULL), PG_EVERIFY);
	pg_trusted_root_free(r);
	json_decref(ja);
	json_decref(jb);
	free(merged), free(a), free(b), free(fulcio), free(rekor);
}

/* A trusted root JSON with one CA made of PEM files (leaf-to-anchor). */
static char *
root_with_ca(const char *inter_pem, const char *root_pem)
{
	STACK_OF(X509) *a = NULL, *b2 = NULL;
	unsigned char *der = NULL;
	char *der_b64 = NULL, *out = NULL;
	size_t n;
	int i, na;
	pg_buf b;

	pg_buf_init(&b, 0);
	if ((inter_pem && pg_certs_from_pem(&a, inter_pem, strlen(inter_pem), NULL) != PG_OK) ||
	    pg_certs_from_pem(&b2, root_pem, strlen(root_pem), NULL) != PG_OK)
		goto out;
	(void)pg_buf_puts(&b, "{\"certificateAuthorities\":[{\"certChain\":{\"certificates\":[");
	na = a ? sk_X509_num(a) : 0;
	for (i = 0; i < na + sk_X509_num(b2); i++) {
		X509 *c = i < na ? sk_X509_value(a, i) : sk_X509_value(b2, i - na);

		if (pg_cert_der(&der, &n, c) != PG_OK ||
		    pg_base64_encode_alloc(&der_b64, der, n) != PG_OK)
			goto out;
		(void)pg_buf_printf(&b, "%s{\"rawBytes\":\"%s\"}", i ? "," : "", der_b64);
		free(der), der = NULL;
		free(der_b64), der_b64 = NULL;
	}
	(void)pg_buf_puts(&b, "]},\"validFor\":{\"start\":\"2000-01-01T00:00:00Z\"}}]}");
	(void)pg_buf_detach(&out, NULL, &b);
out:
	pg_buf_free(&b);
	free(der);
	free(der_b64);
	sk_X509_pop_free(a, X509_free);
	sk_X509_pop_free(b2, X509_free);
	return out;
}

static void
test_cosign_pki_chain(void **state)
{
	char *inter = vec_read(NULL, "cosign-real/pki-cert-chain/pki_intermediate_crts.pem");
	char *rootp = vec_read(NULL, "cosign-real/pki-cert-chain/pki_root_crts.pem");
	pg_trusted_root *r = NULL;
	char *json, *who = NULL;
	pg_sig_trust t;
	pg_err e;

	(void)state;
	if (inter == NULL || rootp == NULL) {
		free(inter), free(rootp);
		skip();
	}
	json = root_with_ca(inter, rootp);
	assert_non_null(json);
	assert_int_equal(pg_trusted_root_load(&r, json, strlen(json), &e), PG_OK);
	memset(&t, 0, sizeof(t));
	t.root = r;
	t.ignore_sct = true; /* private PKI: no CT log */
	t.identity = "qiwan@redhat.com";
	assert_int_equal(legacy("pki-cert-chain", 1, &t, &who), PG_OK);
	assert_string_equal(who, "qiwan@redhat.com");
	free(who);
	t.identity = "myhost.example.com"; /* the DNS SAN counts too */
	assert_int_equal(legacy("pki-cert-chain", 1, &t, NULL), PG_OK);
	t.identity = "other@redhat.com";
	assert_int_equal(legacy("pki-cert-chain", 1, &t, NULL), PG_EVERIFY);
	/* SCTs demanded: a private CA has none */
	t.identity = "qiwan@redhat.com";
	t.ignore_sct = false;
	assert_int_equal(legacy("pki-cert-chain", 1, &t, NULL), PG_EVERIFY);
	/* without the CA in the root, the chain annotation is not trusted */
	t.ignore_sct = true;
	t.root = NULL;
	assert_int_equal(legacy("pki-cert-chain", 1, &t, NULL), PG_EVERIFY);
	pg_trusted_root_free(r);
	free(json);
	/* only the root is trusted: the annotation supplies the intermediate */
	json = root_with_ca(NULL, rootp);
	assert_non_null(json);
	assert_int_equal(pg_trusted_root_load(&r, json, strlen(json), &e), PG_OK);
	t.root = r;
	assert_int_equal(legacy("pki-cert-chain", 1, &t, NULL), PG_OK);
	pg_trusted_root_free(r);
	free(json);
	/* a trusted intermediate is an anchor in its own right */
	json = root_with_ca(NULL, inter);
	assert_non_null(json);
	assert_int_equal(pg_trusted_root_load(&r, json, strlen(json), &e), PG_OK);
	t.root = r;
	assert_int_equal(legacy("pki-cert-chain", 1, &t, NULL), PG_OK);
	pg_trusted_root_free(r);
	free(json);
	json = NULL;
	free(inter);
	free(rootp);
}

/* Every key type through the legacy path, with keys made here: ECDSA and
 * RSA sign SHA-256(payload) (also on P-384), Ed25519 the payload itself. */
static void
legacy_generated(const char *type, const char *arg, const EVP_MD *md)
{
	static const char payload[] =
	    "{\"critical\":{\"identity\":{\"docker-reference\":\"registry.example/app\"},"
	    "\"image\":{\"docker-manifest-digest\":\"sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
	    "\"type\":\"cosign container image signature\"},\"optional\":null}";
	static const char digest[] =
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	EVP_PKEY *k = keygen(type, arg);
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	char *b64 = NULL, *pem, *who = NULL;
	json_t *ann = json_object();
	pg_sig_trust t;
	pg_err e;

	assert_non_null(k);
	assert_int_equal(sign(&sig, &sig_len, k, md, payload, sizeof(payload) - 1), 0);
	assert_int_equal(pg_base64_encode_alloc(&b64, sig, sig_len), PG_OK);
	json_object_set_new(ann, "dev.cosignproject.cosign/signature", json_string(b64));
	pem = pubkey_pem(k);
	memset(&t, 0, sizeof(t));
	t.key_pem = pem;
	t.key_len = strlen(pem);
	assert_int_equal(pg_cosign_verify_legacy(&who, (const unsigned char *)payload,
						 sizeof(payload) - 1, ann, digest, &t, &e),
			 PG_OK);
	assert_string_equal(who, "key");
	free(who);
	assert_int_equal(pg_cosign_verify_legacy(
			     NULL, (const unsigned char *)payload, sizeof(payload) - 1, ann,
			     "sha256:"
			     "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			     &t, &e),
			 PG_EVERIFY);
	assert_int_equal(pg_cosign_verify_legacy(NULL, (const unsigned char *)payload,
						 sizeof(payload) - 2, ann, digest, &t, &e),
			 PG_EVERIFY);
	json_decref(ann);
	free(b64);
	free(sig);
	free(pem);
	EVP_PKEY_free(k);
}

static void
test_cosign_generated_keys(void **state)
{
	(void)state;
	legacy_generated("EC", "P-256", EVP_sha256());
	legacy_generated("EC", "P-384", EVP_sha256());
	legacy_generated("RSA", "2048", EVP_sha256());
	legacy_generated("ED25519", NULL, NULL);
}

static void
test_cosign_no_signature(void **state)
{
	json_t *ann = json_object();
	pg_sig_trust t;
	pg_err e;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(
	    pg_cosign_verify_legacy(NULL, (const unsigned char *)"{}", 2, ann, "sha256:00", &t, &e),
	    PG_EVERIFY);
	json_object_set_new(ann, "dev.cosignproject.cosign/signature", json_string("!!"));
	assert_int_equal(
	    pg_cosign_verify_legacy(NULL, (const unsigned char *)"{}", 2, ann, "sha256:00", &t, &e),
	    PG_EVERIFY);
	json_decref(ann);
}

/* ---- bundle (one conformance case end to end, rest in t_conformance) ---- */

static void
test_bundle_happy_and_digest(void **state)
{
	size_t rn = 0, bn = 0, an = 0;
	char *root =
	    vec_read(&rn, "sigstore-conformance/default-trust-roots/production-trusted_root.json");
	char *b = vec_read(
	    &bn,
	    "sigstore-conformance/test/assets/bundle-verify/happy-path-v0.3/bundle.sigstore.json");
	char *a = vec_read(&an, "sigstore-conformance/test/assets/bundle-verify/a.txt");
	pg_trusted_root *r = NULL;
	char *who = NULL, dg[72], hex[65];
	unsigned char d[32];
	pg_sig_trust t;
	pg_err e;

	(void)state;
	if (!root || !b || !a) {
		free(root), free(b), free(a);
		skip();
	}
	assert_int_equal(pg_trusted_root_load(&r, root, rn, &e), PG_OK);
	memset(&t, 0, sizeof(t));
	t.root = r;
	t.identity = BEACON;
	t.issuer = "https://token.actions.githubusercontent.com";
	assert_int_equal(
	    pg_sigstore_verify_bundle(&who, b, bn, (unsigned char *)a, an, NULL, &t, &e), PG_OK);
	free(who);
	(void)pg_sha256(d, a, an);
	pg_hex(hex, d, 32);
	(void)snprintf(dg, sizeof(dg), "sha256:%s", hex);
	assert_int_equal(pg_sigstore_verify_bundle(NULL, b, bn, NULL, 0, dg, &t, &e), PG_OK);
	dg[10] = dg[10] == '0' ? '1' : '0';
	assert_int_equal(pg_sigstore_verify_bundle(NULL, b, bn, NULL, 0, dg, &t, &e), PG_EVERIFY);
	assert_int_equal(pg_sigstore_verify_bundle(NULL, b, bn, NULL, 0, "sha256:xyz", &t, &e),
			 PG_EINVAL);
	assert_int_equal(
	    pg_sigstore_verify_bundle(NULL, b, bn - 10, (unsigned char *)a, an, NULL, &t, &e),
	    PG_EVERIFY);
	pg_trusted_root_free(r);
	free(root), free(b), free(a);
}

/* Verify bundle JSON b (edited) over a.txt with the beacon identity. */
static int
verify_edited(json_t *b, const pg_trusted_root *r, const char *a, size_t an, pg_err *e)
{
	char *txt = json_dumps(b, JSON_COMPACT);
	pg_sig_trust t;
	int rc;

	memset(&t, 0, sizeof(t));
	t.root = r;
	t.identity = BEACON;
	t.issuer = "https://token.actions.githubusercontent.com";
	assert_non_null(txt);
	rc = pg_sigstore_verify_bundle(NULL, txt, strlen(txt), (const unsigned char *)a, an, NULL,
				       &t, e);
	free(txt);
	return rc;
}

/*
 * Only authenticated time: an integrated time counts only when the entry's
 * SET verified.  The attack: drop the inclusion promise of a v0.3 bundle
 * (its inclusion proof still verifies) and edit integratedTime into the
 * certificate's validity.  The near miss: a bundle with a trusted RFC 3161
 * timestamp and an unsigned (even absurd) integrated time verifies.
 */
static void
test_bundle_time_only_from_set(void **state)
{
	const char *dir = "sigstore-conformance/test/assets/bundle-verify/";
	char path[512];
	size_t rn = 0, bn = 0, an = 0, r2n = 0, b2n = 0;
	char *root =
	    vec_read(&rn, "sigstore-conformance/default-trust-roots/production-trusted_root.json");
	char *a = vec_read(&an, "sigstore-conformance/test/assets/bundle-verify/a.txt");
	char *b, *root2, *b2;
	pg_trusted_root *r = NULL, *r2 = NULL;
	json_t *j, *e0;
	pg_err e;

	(void)state;
	(void)snprintf(path, sizeof(path), "%shappy-path-v0.3/bundle.sigstore.json", dir);
	b = vec_read(&bn, path);
	(void)snprintf(path, sizeof(path), "%sbundle-with-sct-with-extensions/trusted_root.json",
		       dir);
	root2 = vec_read(&r2n, path);
	(void)snprintf(path, sizeof(path), "%sbundle-with-sct-with-extensions/bundle.sigstore.json",
		       dir);
	b2 = vec_read(&b2n, path);
	if (!root || !a || !b || !root2 || !b2) {
		free(root), free(a), free(b), free(root2), free(b2);
		skip();
	}
	assert_int_equal(pg_trusted_root_load(&r, root, rn, &e), PG_OK);
	assert_int_equal(pg_trusted_root_load(&r2, root2, r2n, &e), PG_OK);

	j = json_loadb(b, bn, 0, NULL);
	assert_non_null(j);
	e0 = json_array_get(
	    json_object_get(json_object_get(j, "verificationMaterial"), "tlogEntries"), 0);
	assert_non_null(json_object_get(e0, "inclusionPromise"));
	assert_non_null(json_object_get(e0, "inclusionProof"));
	/* as published: SET + proof */
	assert_int_equal(verify_edited(j, r, a, an, &e), PG_OK);
	/* SET removed: the proof still verifies, but nothing signs the time */
	assert_int_equal(json_object_del(e0, "inclusionPromise"), 0);
	assert_int_equal(verify_edited(j, r, a, an, &e), PG_EVERIFY);
	assert_non_null(strstr(e.msg, "no verified time"));
	/* ... and with integratedTime edited (one second later, still in the
	 * certificate's validity) */
	{
		int64_t it = 0;

		assert_int_equal(pg_json_int64(&it, json_object_get(e0, "integratedTime")), PG_OK);
		assert_int_equal(json_object_set_new(e0, "integratedTime",
						     json_sprintf("%lld", (long long)it + 1)),
				 0);
	}
	assert_int_equal(verify_edited(j, r, a, an, &e), PG_EVERIFY);
	assert_non_null(strstr(e.msg, "no verified time"));
	json_decref(j);

	/* Near miss: proof without SET, a trusted TSA timestamp, and an
	 * unsigned integratedTime that would fail every check if believed. */
	j = json_loadb(b2, b2n, 0, NULL);
	assert_non_null(j);
	assert_int_equal(verify_edited(j, r2, a, an, &e), PG_OK);
	e0 = json_array_get(
	    json_object_get(json_object_get(j, "verificationMaterial"), "tlogEntries"), 0);
	assert_int_equal(json_object_set_new(e0, "integratedTime", json_string("1")), 0);
	assert_int_equal(verify_edited(j, r2, a, an, &e), PG_OK);
	/* without the timestamp nothing is left */
	assert_int_equal(json_object_del(json_object_get(j, "verificationMaterial"),
					 "timestampVerificationData"),
			 0);
	assert_int_equal(verify_edited(j, r2, a, an, &e), PG_EVERIFY);
	json_decref(j);

	pg_trusted_root_free(r);
	pg_trusted_root_free(r2);
	free(root), free(a), free(b), free(root2), free(b2);
}

/* Images are DSSE: with dsse_only a message-signature bundle is refused
 * with a reason; a DSSE in-toto bundle naming the artifact still passes. */
static void
test_bundle_dsse_only(void **state)
{
	size_t rn = 0, bn = 0, dn = 0, an = 0;
	char *root =
	    vec_read(&rn, "sigstore-conformance/default-trust-roots/production-trusted_root.json");
	char *b = vec_read(
	    &bn,
	    "sigstore-conformance/test/assets/bundle-verify/happy-path-v0.3/bundle.sigstore.json");
	char *d = vec_read(&dn, "sigstore-conformance/test/assets/bundle-verify/"
				"happy-path-intoto-in-dsse-v3/bundle.sigstore.json");
	char *a = vec_read(&an, "sigstore-conformance/test/assets/bundle-verify/a.txt");
	pg_trusted_root *r = NULL;
	pg_sig_trust t;
	pg_err e;

	(void)state;
	if (!root || !b || !d || !a) {
		free(root), free(b), free(d), free(a);
		skip();
	}
	assert_int_equal(pg_trusted_root_load(&r, root, rn, &e), PG_OK);
	memset(&t, 0, sizeof(t));
	t.root = r;
	t.identity = BEACON;
	t.issuer = "https://token.actions.githubusercontent.com";
	assert_int_equal(
	    pg_sigstore_verify_bundle(NULL, b, bn, (unsigned char *)a, an, NULL, &t, &e), PG_OK);
	assert_int_equal(
	    pg_sigstore_verify_bundle(NULL, d, dn, (unsigned char *)a, an, NULL, &t, &e), PG_OK);
	t.dsse_only = true;
	assert_int_equal(
	    pg_sigstore_verify_bundle(NULL, b, bn, (unsigned char *)a, an, NULL, &t, &e),
	    PG_EVERIFY);
	assert_non_null(strstr(e.msg, "message signature"));
	assert_int_equal(
	    pg_sigstore_verify_bundle(NULL, d, dn, (unsigned char *)a, an, NULL, &t, &e), PG_OK);
	pg_trusted_root_free(r);
	free(root), free(b), free(d), free(a);
}

/* cosign (Go encoding/json) matches payload keys case-insensitively, with
 * Unicode folding, and keeps the last match: a payload with two spellings
 * of a critical key is refused, whatever the exact key says. */
static void
test_claims_fold_dups(void **state)
{
	static const char *want = "sha256:aaaa";
	static const struct {
		const char *payload;
		int rc;
	} tab[] = {
	    {"{\"critical\":{\"identity\":{\"docker-reference\":\"r\"},\"image\":"
	     "{\"docker-manifest-digest\":\"sha256:aaaa\"},\"type\":\"t\"},\"optional\":null}",
	     PG_OK},
	    /* near misses: a look-alike that does not fold, keys elsewhere */
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\"}},"
	     "\"criticaI\":{\"image\":{\"docker-manifest-digest\":\"sha256:bbbb\"}}}",
	     PG_OK},
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\"}},"
	     "\"optional\":{\"Critical\":1,\"critical\":2}}",
	     PG_OK},
	    /* two spellings at each level */
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\"}},"
	     "\"Critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:bbbb\"}}}",
	     PG_EVERIFY},
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\"},"
	     "\"IMAGE\":{\"docker-manifest-digest\":\"sha256:bbbb\"}}}",
	     PG_EVERIFY},
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\","
	     "\"Docker-Manifest-Digest\":\"sha256:bbbb\"}}}",
	     PG_EVERIFY},
	    /* U+212A KELVIN SIGN folds to k, U+017F LONG S to s */
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\","
	     "\"doc\xe2\x84\xaa"
	     "er-manifest-digest\":\"sha256:bbbb\"}}}",
	     PG_EVERIFY},
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\","
	     "\"docker-manife\xc5\xbf"
	     "t-digest\":\"sha256:bbbb\"}}}",
	     PG_EVERIFY},
	    {"{\"critical\":{\"identity\":{\"docker-reference\":\"a\",\"DOCKER-reference\":\"b\"},"
	     "\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\"}}}",
	     PG_EVERIFY},
	    {"{\"critical\":{\"type\":\"a\",\"Type\":\"b\","
	     "\"image\":{\"docker-manifest-digest\":\"sha256:aaaa\"}}}",
	     PG_EVERIFY},
	};
	size_t i;
	pg_err e;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		int rc = check_claims((const unsigned char *)tab[i].payload, strlen(tab[i].payload),
				      want, &e);

		if (rc != tab[i].rc)
			fail_msg("row %zu: %d, want %d (%s)", i, rc, tab[i].rc, e.msg);
		if (rc != PG_OK)
			assert_non_null(strstr(e.msg, "several spellings"));
	}
}

/* ---- load-time chain checks ---- */

static void
clear_fast(pg_trusted_root *r)
{
	size_t i;

	for (i = 0; i < r->ncas; i++)
		r->cas[i].fast = false;
	for (i = 0; i < r->ntsas; i++)
		r->tsas[i].fast = false;
}

static void
test_trust_prepare_production(void **state)
{
	size_t n = 0;
	char *json = vec_read(&n, "sigstore-conformance/default-trust-roots/"
				  "production-trusted_root.json");
	pg_trusted_root *r = NULL;
	pg_err e;

	(void)state;
	if (json == NULL)
		skip();
	assert_int_equal(pg_trusted_root_load(&r, json, n, &e), PG_OK);
	/* [intermediate, root]: the intermediate can anchor a leaf */
	assert_int_equal(sk_X509_num(r->cas[r->ncas - 1].chain), 2);
	assert_true(r->cas[r->ncas - 1].fast);
	assert_non_null(r->cas[r->ncas - 1].anchor);
	/* a lone root is its own anchor already */
	assert_false(r->cas[0].fast);
	assert_true(r->ntsas > 0 && r->tsas[0].fast);
	assert_null(r->tsas[0].anchor);
	assert_true(r->tlogs[0].has_hint);
	pg_trusted_root_free(r);
	free(json);
}

/* Verify one conformance case with the load-time shortcuts and without:
 * the verdict and the reason must be the same. */
static void
fast_full_case(const char *dir, const char *prod_root, const char *a_txt, int *n_out)
{
	static const char def_id[] =
	    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
	    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
	char rel[4200], *bundle, *root_json, *art, *key, *id, *iss, *s1 = NULL, *s2 = NULL;
	size_t bl = 0, rl = 0, al = 0, kl = 0;
	pg_trusted_root *r = NULL;
	pg_sig_trust t;
	pg_err e1, e2;
	int rc1, rc2;

	(void)snprintf(rel, sizeof(rel), "%s/bundle.sigstore.json", dir);
	if ((bundle = vec_read(&bl, rel)) == NULL)
		return;
	(void)snprintf(rel, sizeof(rel), "%s/trusted_root.json", dir);
	if ((root_json = vec_read(&rl, rel)) == NULL)
		root_json = vec_read(&rl, prod_root);
	(void)snprintf(rel, sizeof(rel), "%s/artifact", dir);
	if ((art = vec_read(&al, rel)) == NULL)
		art = vec_read(&al, a_txt);
	(void)snprintf(rel, sizeof(rel), "%s/key.pub", dir);
	key = vec_read(&kl, rel);
	(void)snprintf(rel, sizeof(rel), "%s/identity", dir);
	id = vec_read(NULL, rel);
	(void)snprintf(rel, sizeof(rel), "%s/issuer", dir);
	iss = vec_read(NULL, rel);
	assert_non_null(root_json);
	assert_non_null(art);
	memset(&t, 0, sizeof(t));
	t.tlog_required = true;
	t.key_pem = key;
	t.key_len = kl;
	if (key == NULL) {
		t.identity = id ? id : def_id;
		t.issuer = iss ? iss : "https://token.actions.githubusercontent.com";
	}
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	if (pg_trusted_root_load(&r, root_json, rl, &e1) == PG_OK) {
		t.root = r;
		memset(&e1, 0, sizeof(e1));
		rc1 = pg_sigstore_verify_bundle(&s1, bundle, bl, (const unsigned char *)art, al,
						NULL, &t, &e1);
		clear_fast(r);
		rc2 = pg_sigstore_verify_bundle(&s2, bundle, bl, (const unsigned char *)art, al,
						NULL, &t, &e2);
		if (rc1 != rc2 || (rc1 != PG_OK && strcmp(e1.msg, e2.msg) != 0))
			fail_msg("%s: %d \"%s\" with the shortcuts, %d \"%s\" without", dir, rc1,
				 e1.msg, rc2, e2.msg);
		if (rc1 == PG_OK)
			assert_string_equal(s1, s2);
		(*n_out)++;
	}
	pg_trusted_root_free(r);
	free(s1), free(s2), free(bundle), free(root_json), free(art), free(key), free(id),
	    free(iss);
}

static void
test_fast_equals_full(void **state)
{
	static const char base[] = "sigstore-conformance/test/assets/bundle-verify";
	char path[8192], dir[1024];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)state;
	if (!vec_exists(base))
		skip();
	(void)snprintf(path, sizeof(path), "%s/%s", vec_dir, base);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name);
		fast_full_case(dir,
			       "sigstore-conformance/default-trust-roots/"
			       "production-trusted_root.json",
			       "sigstore-conformance/test/assets/bundle-verify/a.txt", &n);
	}
	closedir(d);
	assert_true(n >= 60);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_differential),
	    cmocka_unit_test(test_time_parse),
	    cmocka_unit_test(test_canonical_json),
	    cmocka_unit_test(test_set_standalone),
	    cmocka_unit_test(test_merkle),
	    cmocka_unit_test(test_checkpoint_parse),
	    cmocka_unit_test(test_checkpoint_sign_verify),
	    cmocka_unit_test(test_key_types),
	    cmocka_unit_test(test_key_garbage),
	    cmocka_unit_test(test_san_issuer),
	    cmocka_unit_test(test_issuer_v1_fallback),
	    cmocka_unit_test(test_trusted_root),
	    cmocka_unit_test(test_cosign_key_only),
	    cmocka_unit_test(test_cosign_key_rekor_set),
	    cmocka_unit_test(test_cosign_fulcio_rekor_set),
	    cmocka_unit_test(test_cosign_fulcio_pem_root),
	    cmocka_unit_test(test_cosign_pki_chain),
	    cmocka_unit_test(test_cosign_generated_keys),
	    cmocka_unit_test(test_cosign_no_signature),
	    cmocka_unit_test(test_bundle_happy_and_digest),
	    cmocka_unit_test(test_bundle_time_only_from_set),
	    cmocka_unit_test(test_bundle_dsse_only),
	    cmocka_unit_test(test_claims_fold_dups),
	    cmocka_unit_test(test_trust_prepare_production),
	    cmocka_unit_test(test_fast_equals_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
