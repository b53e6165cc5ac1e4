/*
 * nvsign — a test-only Notation signer: builds a JWS (flattened JSON) or
 * COSE_Sign1_Tagged envelope over a targetArtifact payload with a test-made
 * key and chain, as `notation sign` lays them out, so the integration tests
 * can push real envelopes to a real registry.  Never part of provgate.
 *
 *   nvsign --format jws|cose --key KEY.pem --chain CHAIN.pem (leaf first)
 *          --media-type MT --digest DIGEST --size N --out FILE
 *          [--scheme notary.x509|notary.x509.signingAuthority]
 *          [--time EPOCH] [--expiry EPOCH] [--crit NAME]
 *          [--annotation K=V] [--tsa-cmd "CMD"] [--tamper]
 *
 * --tsa-cmd runs "CMD SIGFILE TOKENFILE" through /bin/sh after signing:
 * it must write an RFC 3161 TimeStampToken (DER) over the raw signature
 * bytes in SIGFILE (the tests use `openssl ts`).  --tamper flips one payload
 * byte after signing.  --crit adds a critical protected header NAME.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf/buf.h"


/* A test-only signer that runs once and exits: its buffers live until exit
 * on purpose.  Under `make asan test` LeakSanitizer would report them and
 * the signing step of the test would fail, so leak checking is off for this
 * tool alone: here, when ASAN_OPTIONS is unset, and in the test that runs it
 * (t_notation_admission sets detect_leaks=0, as the environment wins over
 * this hook).  provgate itself keeps leak checking. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

static void
die(const char *m)
{
	fprintf(stderr, "nvsign: %s\n", m);
	exit(2);
}

static char *
b64(const unsigned char *p, size_t n, int url)
{
	size_t cap = 4 * ((n + 2) / 3) + 1, i, j = 0;
	char *o = malloc(cap);

	if (o == NULL || EVP_EncodeBlock((unsigned char *)o, p, (int)n) < 0)
		die("base64");
	if (url) {
		for (i = 0; o[i]; i++) {
			if (o[i] == '=')
				break;
			o[j++] = o[i] == '+' ? '-' : o[i] == '/' ? '_' : o[i];
		}
		o[j] = '\0';
	}
	return o;
}

static void
cbor_head(pg_buf *b, int major, uint64_t n)
{
	unsigned char h[9];
	size_t len = 1, w, i;

	if (n < 24) {
		h[0] = (unsigned char)((major << 5) | (int)n);
	} else {
		int ai = n <= 0xff ? 24 : n <= 0xffff ? 25 : n <= 0xffffffffu ? 26 : 27;

		w = (size_t)1 << (ai - 24);
		h[0] = (unsigned char)((major << 5) | ai);
		for (i = 0; i < w; i++)
			h[1 + i] = (unsigned char)(n >> (8 * (w - 1 - i)));
		len = 1 + w;
	}
	if (pg_buf_append(b, h, len) != 0)
		die("buf");
}

static void
cbor_str(pg_buf *b, int major, const void *p, size_t n)
{
	cbor_head(b, major, n);
	if (pg_buf_append(b, p, n) != 0)
		die("buf");
}

static void
cbor_int(pg_buf *b, long long v)
{
	if (v >= 0)
		cbor_head(b, 0, (uint64_t)v);
	else
		cbor_head(b, 1, (uint64_t)(-1 - v));
}

#define TXT(b, s) cbor_str(b, 3, s, strlen(s))

int
main(int argc, char **argv)
{
	const char *fmt = NULL, *keyp = NULL, *chainp = NULL, *mt = NULL, *dg = NULL, *out = NULL;
	const char *scheme = "notary.x509", *tsa = NULL, *crit = NULL, *ann[16];
	long long size = -1, t = (long long)time(NULL), expiry = 0;
	int nann = 0, tamper = 0, i, cose, ncert = 0, ps;
	const char *alg;
	long cose_alg;
	EVP_PKEY *key;
	X509 *certs[10];
	FILE *f;
	json_t *pay, *desc;
	char *payload, tbuf[64];
	pg_buf prot, tbs, env;
	unsigned char *sig = NULL, *tst = NULL;
	size_t siglen = 0, tstlen = 0;
	const EVP_MD *md;
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx;
	int sa;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--tamper") == 0) {
			tamper = 1;
			continue;
		}
		if (v == NULL)
			die("missing value");
		i++;
		if (strcmp(a, "--format") == 0) fmt = v;
		else if (strcmp(a, "--key") == 0) keyp = v;
		else if (strcmp(a, "--chain") == 0) chainp = v;
		else if (strcmp(a, "--media-type") == 0) mt = v;
		else if (strcmp(a, "--digest") == 0) dg = v;
		else if (strcmp(a, "--size") == 0) size = strtoll(v, NULL, 10);
		else if (strcmp(a, "--out") == 0) out = v;
		else if (strcmp(a, "--scheme") == 0) scheme = v;
		else if (strcmp(a, "--time") == 0) t = strtoll(v, NULL, 10);
		else if (strcmp(a, "--expiry") == 0) expiry = strtoll(v, NULL, 10);
		else if (strcmp(a, "--crit") == 0) crit = v;
		else if (strcmp(a, "--tsa-cmd") == 0) tsa = v;
		else if (strcmp(a, "--annotation") == 0 && nann < 16) ann[nann++] = v;
		else die("unknown option");
	}
	if (!fmt || !keyp || !chainp || !mt || !dg || size < 0 || !out)
		die("usage: see the comment at the top of tests/tools/nvsign.c");
	cose = strcmp(fmt, "cose") == 0;
	sa = strcmp(scheme, "notary.x509.signingAuthority") == 0;
	if ((f = fopen(keyp, "r")) == NULL || (key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die("key");
	fclose(f);
	if ((f = fopen(chainp, "r")) == NULL)
		die("chain");
	while (ncert < 10 && (certs[ncert] = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		ncert++;
	fclose(f);
	if (ncert == 0)
		die("no certificates in chain");
	ps = EVP_PKEY_is_a(key, "RSA");
	if (ps) {
		int bits = EVP_PKEY_get_bits(key);

		alg = bits == 2048 ? "PS256" : bits == 3072 ? "PS384" : "PS512";
		cose_alg = bits == 2048 ? -37 : bits == 3072 ? -38 : -39;
		md = bits == 2048 ? EVP_sha256() : bits == 3072 ? EVP_sha384() : EVP_sha512();
	} else {
		int bits = EVP_PKEY_get_bits(key);

		alg = bits == 256 ? "ES256" : bits == 384 ? "ES384" : "ES512";
		cose_alg = bits == 256 ? -7 : bits == 384 ? -35 : -36;
		md = bits == 256 ? EVP_sha256() : bits == 384 ? EVP_sha384() : EVP_sha512();
	}
	/* payload */
	desc = json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", dg, "size", (json_int_t)size);
	if (nann) {
		json_t *an = json_object();

		for (i = 0; i < nann; i++) {
			char *k = strdup(ann[i]), *eq = strchr(k, '=');

			if (eq == NULL)
				die("annotation K=V");
			*eq = '\0';
			json_object_set_new(an, k, json_string(eq + 1));
			free(k);
		}
		json_object_set_new(desc, "annotations", an);
	}
	pay = json_pack("{s:o}", "targetArtifact", desc);
	payload = json_dumps(pay, JSON_COMPACT | JSON_SORT_KEYS);
	pg_buf_init(&prot, 0);
	pg_buf_init(&tbs, 0);
	pg_buf_init(&env, 0);
	if (!cose) {
		json_t *h = json_object(), *c = json_array();
		struct tm tm;
		time_t tt = (time_t)t;
		char *ps_json, *p64, *y64;

		gmtime_r(&tt, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(h, "alg", json_string(alg));
		json_object_set_new(h, "cty", json_string("application/vnd.cncf.notary.payload.v1+json"));
		json_object_set_new(h, "io.cncf.notary.signingScheme", json_string(scheme));
		json_object_set_new(h, sa ? "io.cncf.notary.authenticSigningTime" : "io.cncf.notary.signingTime",
				    json_string(tbuf));
		json_array_append_new(c, json_string("io.cncf.notary.signingScheme"));
		if (sa)
			json_array_append_new(c, json_string("io.cncf.notary.authenticSigningTime"));
		if (expiry) {
			tt = (time_t)expiry;
			gmtime_r(&tt, &tm);
			strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_object_set_new(h, "io.cncf.notary.expiry", json_string(tbuf));
			json_array_append_new(c, json_string("io.cncf.notary.expiry"));
		}
		if (crit) {
			json_object_set_new(h, crit, json_string("x"));
			json_array_append_new(c, json_string(crit));
		}
		json_object_set_new(h, "crit", c);
		ps_json = json_dumps(h, JSON_COMPACT);
		p64 = b64((unsigned char *)ps_json, strlen(ps_json), 1);
		y64 = b64((unsigned char *)payload, strlen(payload), 1);
		pg_buf_puts(&prot, p64);
		pg_buf_puts(&tbs, p64);
		pg_buf_puts(&tbs, ".");
		pg_buf_puts(&tbs, y64);
	} else {
		int n = 4 + (expiry ? 1 : 0) + (crit ? 1 : 0);
		int nc = 1 + (sa ? 1 : 0) + (expiry ? 1 : 0) + (crit ? 1 : 0);

		cbor_head(&prot, 5, (uint64_t)(n + 1));
		cbor_int(&prot, 1);
		cbor_int(&prot, cose_alg);
		cbor_int(&prot, 2);
		cbor_head(&prot, 4, (uint64_t)nc);
		TXT(&prot, "io.cncf.notary.signingScheme");
		if (sa)
			TXT(&prot, "io.cncf.notary.authenticSigningTime");
		if (expiry)
			TXT(&prot, "io.cncf.notary.expiry");
		if (crit)
			TXT(&prot, crit);
		cbor_int(&prot, 3);
		TXT(&prot, "application/vnd.cncf.notary.payload.v1+json");
		TXT(&prot, "io.cncf.notary.signingScheme");
		TXT(&prot, scheme);
		TXT(&prot, sa ? "io.cncf.notary.authenticSigningTime" : "io.cncf.notary.signingTime");
		cbor_head(&prot, 6, 1);
		cbor_int(&prot, t);
		if (expiry) {
			TXT(&prot, "io.cncf.notary.expiry");
			cbor_head(&prot, 6, 1);
			cbor_int(&prot, expiry);
		}
		if (crit) {
			TXT(&prot, crit);
			TXT(&prot, "x");
		}
		cbor_head(&tbs, 4, 4);
		TXT(&tbs, "Signature1");
		cbor_str(&tbs, 2, prot.data, prot.len);
		cbor_str(&tbs, 2, "", 0);
		cbor_str(&tbs, 2, payload, strlen(payload));
	}
	/* sign */
	mctx = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1)
		die("sign init");
	if (ps && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		   EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		die("pss");
	if (EVP_DigestSign(mctx, NULL, &siglen, tbs.data, tbs.len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(mctx, sig, &siglen, tbs.data, tbs.len) != 1)
		die("sign");
	if (!ps) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		int half = (EVP_PKEY_get_bits(key) + 7) / 8;
		unsigned char *raw = calloc(2, (size_t)half);

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, half);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, half);
		free(sig);
		sig = raw;
		siglen = 2 * (size_t)half;
		ECDSA_SIG_free(es);
	}
	if (tsa) {
		char sp[] = "/tmp/nvsign-sig.XXXXXX", tp[] = "/tmp/nvsign-tst.XXXXXX", cmd[4096];
		int fd1 = mkstemp(sp), fd2 = mkstemp(tp);
		char *data = NULL;

		if (fd1 < 0 || fd2 < 0 || write(fd1, sig, siglen) != (ssize_t)siglen)
			die("tmp");
		close(fd1);
		close(fd2);
		snprintf(cmd, sizeof(cmd), "%s %s %s", tsa, sp, tp);
		if (system(cmd) != 0)
			die("tsa command failed");
		if (pg_buf_read_file(&data, &tstlen, tp, 1 << 20, NULL) != 0)
			die("token");
		tst = (unsigned char *)data;
		unlink(sp);
		unlink(tp);
	}
	if (tamper)
		payload[strlen(payload) / 2] ^= 1;
	if (!cose) {
		json_t *e = json_object(), *h = json_object(), *x5c = json_array();

		for (i = 0; i < ncert; i++) {
			unsigned char *der = NULL;
			int l = i2d_X509(certs[i], &der);

			json_array_append_new(x5c, json_string(b64(der, (size_t)l, 0)));
			OPENSSL_free(der);
		}
		json_object_set_new(h, "x5c", x5c);
		json_object_set_new(h, "io.cncf.notary.signingAgent", json_string("nvsign/1"));
		if (tst)
			json_object_set_new(h, "io.cncf.notary.timestampSignature",
					    json_string(b64(tst, tstlen, 0)));
		json_object_set_new(e, "payload",
				    json_string(b64((unsigned char *)payload, strlen(payload), 1)));
		json_object_set_new(e, "protected", json_string((char *)prot.data));
		json_object_set_new(e, "header", h);
		json_object_set_new(e, "signature", json_string(b64(sig, siglen, 1)));
		pg_buf_puts(&env, json_dumps(e, JSON_COMPACT));
	} else {
		cbor_head(&env, 6, 18);
		cbor_head(&env, 4, 4);
		cbor_str(&env, 2, prot.data, prot.len);
		cbor_head(&env, 5, tst ? 3 : 2);
		cbor_int(&env, 33);
		cbor_head(&env, 4, (uint64_t)ncert);
		for (i = 0; i < ncert; i++) {
			unsigned char *der = NULL;
			int l = i2d_X509(certs[i], &der);

			cbor_str(&env, 2, der, (size_t)l);
			OPENSSL_free(der);
		}
		TXT(&env, "io.cncf.notary.signingAgent");
		TXT(&env, "nvsign/1");
		if (tst) {
			TXT(&env, "io.cncf.notary.timestampSignature");
			cbor_str(&env, 2, tst, tstlen);
		}
		cbor_str(&env, 2, payload, strlen(payload));
		cbor_str(&env, 2, sig, siglen);
	}
	if ((f = fopen(out, "wb")) == NULL || fwrite(env.data, 1, env.len, f) != env.len)
		die("write");
	fclose(f);
	return 0;
}
