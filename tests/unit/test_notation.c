/*
 * Unit tests of notation/: the bounded CBOR decoder, RFC 3339 times with
 * offsets, x509.subject DNs (escapes, required C/ST/O, subset matching),
 * trust-policy validation and selection, the spec's certificate-chain rules
 * on chains made here with OpenSSL (each rule broken once, and the chain
 * that keeps them all), and JWS header rules (crit, padding, alg).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../../webhook/notation/cbor.c"
#include "../../webhook/notation/envelope.c"
#include "../../webhook/notation/cert.c"
#include "../../webhook/notation/tst.c"
#include "../../webhook/notation/policy.c"
#include "../../webhook/notation/verify.c"

/* ---- CBOR ---- */

static void
test_cbor_bounds(void **state)
{
	static const unsigned char trunc_len[] = {0x59, 0x01};	  /* bstr, 2-byte length cut */
	static const unsigned char too_long[] = {0x45, 'a', 'b'}; /* 5 bytes promised */
	static const unsigned char indef[] = {0x5f, 0x41, 'a', 0xff};
	static const unsigned char ok_map[] = {0xa1, 0x01, 0x26}; /* {1: -7} */
	unsigned char deep[40];
	nv_cbor c;
	int major;
	uint64_t arg;
	const unsigned char *p;
	size_t i;

	(void)state;
	c = (nv_cbor){trunc_len, trunc_len + sizeof(trunc_len)};
	assert_int_equal(nv_cbor_head(&c, &major, &arg, &p), PG_EINVAL);
	c = (nv_cbor){too_long, too_long + sizeof(too_long)};
	assert_int_equal(nv_cbor_head(&c, &major, &arg, &p), PG_EINVAL);
	c = (nv_cbor){indef, indef + sizeof(indef)};
	assert_int_equal(nv_cbor_skip(&c, 0), PG_EINVAL);
	c = (nv_cbor){ok_map, ok_map + sizeof(ok_map)};
	assert_int_equal(nv_cbor_skip(&c, 0), PG_OK);
	assert_ptr_equal(c.p, ok_map + sizeof(ok_map));
	/* 40 nested one-element arrays: deeper than NV_CBOR_DEPTH_MAX. */
	for (i = 0; i < sizeof(deep) - 1; i++)
		deep[i] = 0x81;
	deep[sizeof(deep) - 1] = 0x00;
	c = (nv_cbor){deep, deep + sizeof(deep)};
	assert_int_equal(nv_cbor_skip(&c, 0), PG_EINVAL);
	/* 10 deep is fine. */
	c = (nv_cbor){deep + 30, deep + sizeof(deep)};
	assert_int_equal(nv_cbor_skip(&c, 0), PG_OK);
}

/* ---- times ---- */

static void
test_time_offsets(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(nv_time_parse(&t, "2024-06-18T14:29:33+08:00"), PG_OK);
	assert_int_equal(t, 1718692173);
	assert_int_equal(nv_time_parse(&t, "2024-06-18T06:29:33Z"), PG_OK);
	assert_int_equal(t, 1718692173);
	assert_int_equal(nv_time_parse(&t, "2024-06-18T06:29:33.123Z"), PG_OK);
	assert_int_equal(t, 1718692173);
	assert_int_equal(nv_time_parse(&t, "2024-06-17T22:29:33-08:00"), PG_OK);
	assert_int_equal(t, 1718692173);
	assert_int_equal(nv_time_parse(&t, "2024-06-18 06:29:33Z"), PG_EINVAL);
	assert_int_equal(nv_time_parse(&t, "2024-06-18T06:29:33"), PG_EINVAL);
	assert_int_equal(nv_time_parse(&t, "2024-06-18T06:29:33+0800"), PG_EINVAL);
	assert_int_equal(nv_time_parse(&t, "2024-13-18T06:29:33Z"), PG_EINVAL);
}

/* ---- certificates made here ---- */

/* RSA key generation was most of this file's run time (tens of seconds
 * under the sanitizers), so keys come from a pool made on first use: calls
 * take the entries of their size in turn, so up to KEY_POOL keys asked for
 * one after another are distinct.  The caller owns a reference (free it). */
#define KEY_POOL 3

static EVP_PKEY *
rsa_key(int bits)
{
	static EVP_PKEY *pool[2][KEY_POOL];
	static unsigned next[2];
	int s = bits == 2048 ? 0 : 1;
	EVP_PKEY **k = &pool[s][next[s]++ % KEY_POOL];

	assert_true(bits == 2048 || bits == 1024);
	if (*k == NULL)
		*k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	assert_non_null(*k);
	assert_int_equal(EVP_PKEY_up_ref(*k), 1);
	return *k;
}

/* A certificate for subj with key k, signed by ikey (issuer icert, or
 * self-signed when NULL), with extensions "name=value;..." and digest md. */
static X509 *
mkcert(const char *subj, EVP_PKEY *k, X509 *icert, EVP_PKEY *ikey, const char *exts,
       const EVP_MD *md)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	char buf[512], *save = NULL, *tok;
	static long serial = 1;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
						    (const unsigned char *)"US", -1, -1, 0),
			 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "ST", MBSTRING_ASC,
						    (const unsigned char *)"WA", -1, -1, 0),
			 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
						    (const unsigned char *)"acme, inc", -1, -1, 0),
			 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)subj, -1, -1, 0),
			 1);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, icert ? X509_get_subject_name(icert) : n);
	X509_NAME_free(n);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, icert ? icert : x, x, NULL, NULL, 0);
	(void)snprintf(buf, sizeof(buf), "%s", exts);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		X509_EXTENSION *e;

		*eq = '\0';
		e = X509V3_EXT_conf(NULL, &ctx, tok, eq + 1);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey ? ikey : k, md) > 0);
	return x;
}

#define CA_EXT "basicConstraints=critical,CA:TRUE;keyUsage=critical,keyCertSign"
#define LEAF_EXT "keyUsage=critical,digitalSignature;extendedKeyUsage=codeSigning"

static int
chain2(const char *leaf_ext, const char *ca_ext, int leaf_bits, const EVP_MD *leaf_md)
{
	EVP_PKEY *rk = rsa_key(2048), *lk = rsa_key(leaf_bits);
	X509 *root = mkcert("root", rk, NULL, NULL, ca_ext, EVP_sha256());
	X509 *leaf = mkcert("leaf", lk, root, rk, leaf_ext, leaf_md);
	STACK_OF(X509) *ch = sk_X509_new_null();
	pg_err e;
	int rc;

	sk_X509_push(ch, leaf);
	sk_X509_push(ch, root);
	rc = nv_chain_check(ch, &e);
	sk_X509_pop_free(ch, X509_free);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
	return rc;
}

static void
test_chain_rules(void **state)
{
	(void)state;
	assert_int_equal(chain2(LEAF_EXT, CA_EXT, 2048, EVP_sha256()), PG_OK);
	/* leaf: keyUsage not critical, missing digitalSignature, with keyCertSign */
	assert_int_equal(chain2("keyUsage=digitalSignature", CA_EXT, 2048, EVP_sha256()),
			 PG_EVERIFY);
	assert_int_equal(chain2("keyUsage=critical,nonRepudiation", CA_EXT, 2048, EVP_sha256()),
			 PG_EVERIFY);
	assert_int_equal(
	    chain2("keyUsage=critical,digitalSignature,keyCertSign", CA_EXT, 2048, EVP_sha256()),
	    PG_EVERIFY);
	/* leaf: forbidden EKUs, a CA leaf */
	assert_int_equal(chain2("keyUsage=critical,digitalSignature;extendedKeyUsage=serverAuth",
				CA_EXT, 2048, EVP_sha256()),
			 PG_EVERIFY);
	assert_int_equal(
	    chain2("keyUsage=critical,digitalSignature;extendedKeyUsage=codeSigning,timeStamping",
		   CA_EXT, 2048, EVP_sha256()),
	    PG_EVERIFY);
	assert_int_equal(chain2("basicConstraints=CA:TRUE;" LEAF_EXT, CA_EXT, 2048, EVP_sha256()),
			 PG_EVERIFY);
	/* CA: basicConstraints not critical; keyUsage without keyCertSign */
	assert_int_equal(chain2(LEAF_EXT, "basicConstraints=CA:TRUE;keyUsage=critical,keyCertSign",
				2048, EVP_sha256()),
			 PG_EVERIFY);
	assert_int_equal(chain2(LEAF_EXT,
				"basicConstraints=critical,CA:TRUE;keyUsage=critical,cRLSign", 2048,
				EVP_sha256()),
			 PG_EVERIFY);
	/* small RSA key, SHA-1 signature */
	assert_int_equal(chain2(LEAF_EXT, CA_EXT, 1024, EVP_sha256()), PG_EVERIFY);
	assert_int_equal(chain2(LEAF_EXT, CA_EXT, 2048, EVP_sha1()), PG_EVERIFY);
}

static void
test_chain_order_and_pathlen(void **state)
{
	EVP_PKEY *rk = rsa_key(2048), *ik = rsa_key(2048), *lk = rsa_key(2048);
	X509 *root =
	    mkcert("root", rk, NULL, NULL,
		   "basicConstraints=critical,CA:TRUE,pathlen:0;keyUsage=critical,keyCertSign",
		   EVP_sha256());
	X509 *root1 = mkcert("root1", rk, NULL, NULL, CA_EXT, EVP_sha256());
	X509 *inter = mkcert("inter", ik, root, rk, CA_EXT, EVP_sha256());
	X509 *inter1 = mkcert("inter", ik, root1, rk, CA_EXT, EVP_sha256());
	X509 *leaf = mkcert("leaf", lk, inter, ik, LEAF_EXT, EVP_sha256());
	STACK_OF(X509) *ch = sk_X509_new_null();
	pg_err e;

	(void)state;
	/* leaf, inter, root1: fine */
	sk_X509_push(ch, leaf);
	sk_X509_push(ch, inter1);
	sk_X509_push(ch, root1);
	assert_int_equal(nv_chain_check(ch, &e), PG_OK);
	/* out of order */
	(void)sk_X509_set(ch, 1, root1);
	(void)sk_X509_set(ch, 2, inter1);
	assert_int_equal(nv_chain_check(ch, &e), PG_EVERIFY);
	/* leaf alone: not self-signed */
	while (sk_X509_num(ch) > 1)
		(void)sk_X509_pop(ch);
	assert_int_equal(nv_chain_check(ch, &e), PG_EVERIFY);
	sk_X509_free(ch);
	/* root with pathlen 0 above an intermediate: refused (the spec's
	 * pathLenConstraint); the root alone above the leaf is fine. */
	ch = sk_X509_new_null();
	sk_X509_push(ch, leaf);
	sk_X509_push(ch, inter);
	sk_X509_push(ch, root);
	assert_int_equal(nv_chain_check(ch, &e), PG_EVERIFY);
	assert_non_null(strstr(e.msg, "pathLenConstraint"));
	sk_X509_free(ch);
	X509_free(root);
	X509_free(root1);
	X509_free(inter);
	X509_free(inter1);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
}

/* ---- DNs ---- */

static void
test_dn(void **state)
{
	EVP_PKEY *k = rsa_key(2048);
	X509 *c = mkcert("signer", k, NULL, NULL, LEAF_EXT, EVP_sha256());
	nv_dn d;
	pg_err e;

	(void)state;
	assert_int_equal(nv_dn_parse(&d, "C=US, ST=WA, O=acme\\, inc", true, &e), PG_OK);
	assert_true(nv_dn_match(&d, c));
	nv_dn_free(&d);
	assert_int_equal(nv_dn_parse(&d, "O=acme\\2c inc,C=US,ST=WA,CN=signer", true, &e), PG_OK);
	assert_true(nv_dn_match(&d, c));
	nv_dn_free(&d);
	assert_int_equal(nv_dn_parse(&d, "C=US, ST=WA, O=acme", true, &e), PG_OK);
	assert_false(nv_dn_match(&d, c)); /* O is "acme, inc" */
	nv_dn_free(&d);
	assert_int_equal(nv_dn_parse(&d, "C=US, ST=WA, O=acme\\, inc, OU=x", true, &e), PG_OK);
	assert_false(nv_dn_match(&d, c)); /* OU absent from the subject */
	nv_dn_free(&d);
	assert_int_equal(nv_dn_parse(&d, "C=US, O=acme", true, &e), PG_EINVAL);
	assert_int_equal(nv_dn_parse(&d, "C=US, ST=WA, O=a, O=b", true, &e), PG_EINVAL);
	assert_int_equal(nv_dn_parse(&d, "C=US, ST=WA, O=a\\q", true, &e), PG_EINVAL);
	assert_int_equal(nv_dn_parse(&d, "C=US, =WA, O=a", true, &e), PG_EINVAL);
	X509_free(c);
	EVP_PKEY_free(k);
}

/* ---- trust policy documents ---- */

#define STMT(name, scopes, level)                                                                  \
	"{\"name\":\"" name "\",\"registryScopes\":" scopes                                        \
	",\"signatureVerification\":{\"level\":\"" level                                           \
	"\"},\"trustStores\":[\"ca:a\"],\"trustedIdentities\":[\"*\"]}"

static int
parse(const char *doc, bool blob)
{
	pg_err e;

	return pg_notation_config_parse(NULL, doc, strlen(doc), blob, &e);
}

static void
test_policy_validation(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT("a", "[\"r.io/x\"]",
									       "strict") "]}",
			       false),
			 PG_OK);
	assert_int_equal(parse("{\"version\":\"2.0\",\"trustPolicies\":[" STMT("a", "[\"r.io/x\"]",
									       "strict") "]}",
			       false),
			 PG_EINVAL);
	/* "*" with another scope; two global statements; a scope in two statements */
	assert_int_equal(parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT(
				   "a", "[\"*\",\"r.io/x\"]", "strict") "]}",
			       false),
			 PG_EINVAL);
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT(
		      "a", "[\"r.io/x\"]", "strict") "," STMT("b", "[\"r.io/x\"]", "strict") "]}",
		  false),
	    PG_EINVAL);
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT(
		      "a", "[\"*\"]", "strict") "," STMT("a", "[\"r.io/y\"]", "strict") "]}",
		  false),
	    PG_EINVAL);
	/* scope not fully qualified, or with a wildcard */
	assert_int_equal(parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT("a", "[\"nginx\"]",
									       "strict") "]}",
			       false),
			 PG_EINVAL);
	assert_int_equal(parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT("a", "[\"r.io/*\"]",
									       "strict") "]}",
			       false),
			 PG_EINVAL);
	/* unknown level; store name that is a path; override of integrity */
	assert_int_equal(parse("{\"version\":\"1.0\",\"trustPolicies\":[" STMT("a", "[\"r.io/x\"]",
									       "lenient") "]}",
			       false),
			 PG_EINVAL);
	assert_int_equal(
	    parse(
		"{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"registryScopes\":[\"r."
		"io/x\"],\"signatureVerification\":{\"level\":\"strict\"},\"trustStores\":[\"ca:../"
		"etc\"],\"trustedIdentities\":[\"*\"]}]}",
		false),
	    PG_EINVAL);
	assert_int_equal(
	    parse(
		"{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"registryScopes\":[\"r."
		"io/"
		"x\"],\"signatureVerification\":{\"level\":\"strict\",\"override\":{\"integrity\":"
		"\"log\"}},\"trustStores\":[\"ca:a\"],\"trustedIdentities\":[\"*\"]}]}",
		false),
	    PG_EINVAL);
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"registryScopes\":[\"r."
		  "io/"
		  "x\"],\"signatureVerification\":{\"level\":\"strict\",\"override\":{\"expiry\":"
		  "\"skip\"}},\"trustStores\":[\"ca:a\"],\"trustedIdentities\":[\"*\"]}]}",
		  false),
	    PG_EINVAL);
	/* skip on the global scope; identities: "*" with others, missing C/ST/O */
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"registryScopes\":[\"*"
		  "\"],\"signatureVerification\":{\"level\":\"skip\"}}]}",
		  false),
	    PG_EINVAL);
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"registryScopes\":[\"r."
		  "io/"
		  "x\"],\"signatureVerification\":{\"level\":\"strict\"},\"trustStores\":[\"ca:a\"]"
		  ",\"trustedIdentities\":[\"*\",\"x509.subject: C=US,ST=WA,O=a\"]}]}",
		  false),
	    PG_EINVAL);
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"registryScopes\":[\"r."
		  "io/"
		  "x\"],\"signatureVerification\":{\"level\":\"strict\"},\"trustStores\":[\"ca:a\"]"
		  ",\"trustedIdentities\":[\"x509.subject: CN=a\"]}]}",
		  false),
	    PG_EINVAL);
	/* duplicate JSON keys are refused, not last-wins */
	assert_int_equal(parse("{\"version\":\"1.0\",\"version\":\"1.0\",\"trustPolicies\":[" STMT(
				   "a", "[\"r.io/x\"]", "strict") "]}",
			       false),
			 PG_EINVAL);
	/* blob: two globals */
	assert_int_equal(
	    parse("{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"a\",\"globalPolicy\":true,"
		  "\"signatureVerification\":{\"level\":\"strict\"},\"trustStores\":[\"ca:a\"],"
		  "\"trustedIdentities\":[\"*\"]},{\"name\":\"b\",\"globalPolicy\":true,"
		  "\"signatureVerification\":{\"level\":\"strict\"},\"trustStores\":[\"ca:a\"],"
		  "\"trustedIdentities\":[\"*\"]}]}",
		  true),
	    PG_EINVAL);
}

static void
test_policy_select(void **state)
{
	static const char doc[] =
	    "{\"version\":\"1.0\",\"trustPolicies\":[" STMT("global", "[\"*\"]", "audit") "," STMT(
		"exact", "[\"r.io/app\",\"r.io/other\"]", "strict") "]}";
	pg_notation_config *c = NULL;
	const pg_notation_trust *t;
	pg_err e;

	(void)state;
	assert_int_equal(pg_notation_config_parse(&c, doc, strlen(doc), false, &e), PG_OK);
	assert_int_equal(pg_notation_config_select(&t, c, "r.io/app", NULL, &e), PG_OK);
	assert_string_equal(t->name, "exact");
	assert_int_equal(t->authenticity, NV_ENFORCE);
	assert_int_equal(pg_notation_config_select(&t, c, "r.io/app2", NULL, &e), PG_OK);
	assert_string_equal(t->name, "global");
	assert_int_equal(t->authenticity, NV_LOG);
	pg_notation_config_free(c);
}

/* ---- JWS header rules ---- */

static char *
b64u(const char *s)
{
	size_t n = strlen(s), i, j = 0;
	char *o = malloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)o, (const unsigned char *)s, (int)n);
	for (i = 0; o[i] && o[i] != '='; i++)
		o[j++] = o[i] == '+' ? '-' : o[i] == '/' ? '_' : o[i];
	o[j] = '\0';
	return o;
}

static int
jws_with(const char *prot, const char *pad)
{
	char env[4096], *p = b64u(prot), *y = b64u("{}");
	nv_env e;
	pg_err err;
	int rc;

	(void)snprintf(env, sizeof(env),
		       "{\"payload\":\"%s%s\",\"protected\":\"%s\",\"header\":{\"x5c\":[]},"
		       "\"signature\":\"AAAA\"}",
		       y, pad, p);
	rc = nv_jws_parse(&e, (const unsigned char *)env, strlen(env), &err);
	if (rc == PG_OK)
		nv_env_free(&e);
	free(p);
	free(y);
	return rc;
}

#define PH(alg, crit, extra)                                                                       \
	"{\"alg\":\"" alg "\",\"crit\":" crit ",\"cty\":\"application/"                            \
	"vnd.cncf.notary.payload.v1+json\",\"io.cncf.notary.signingScheme\":\"notary.x509\",\"io." \
	"cncf.notary.signingTime\":\"2024-01-01T00:00:00Z\"" extra "}"

static void
test_jws_headers(void **state)
{
	(void)state;
	/* Every header rule passes up to the (empty) x5c, which fails. */
	assert_int_equal(jws_with(PH("PS256", "[\"io.cncf.notary.signingScheme\"]", ""), ""),
			 PG_EINVAL);
	/* crit without signingScheme; crit naming an absent header; crit
	 * empty; expiry present but not critical; alg none; padded payload */
	assert_int_equal(jws_with(PH("PS256", "[]", ""), ""), PG_EINVAL);
	assert_int_equal(jws_with(PH("PS256", "[\"io.cncf.notary.signingScheme\",\"x\"]", ""), ""),
			 PG_EINVAL);
	assert_int_equal(jws_with(PH("PS256", "[\"io.cncf.notary.signingScheme\"]",
				     ",\"io.cncf.notary.expiry\":\"2030-01-01T00:00:00Z\""),
				  ""),
			 PG_EINVAL);
	assert_int_equal(jws_with(PH("none", "[\"io.cncf.notary.signingScheme\"]", ""), ""),
			 PG_EINVAL);
	assert_int_equal(jws_with(PH("PS256", "[\"io.cncf.notary.signingScheme\"]", ""), "=="),
			 PG_EINVAL);
	{
		/* A known-good header with a real certificate parses, and an
		 * unknown critical header is recorded, not ignored. */
		EVP_PKEY *k = rsa_key(2048);
		X509 *c = mkcert("s", k, NULL, NULL, LEAF_EXT, EVP_sha256());
		unsigned char *der = NULL;
		int n = i2d_X509(c, &der);
		char *x5c = malloc(4 * ((size_t)n + 2) / 3 + 4), env[8192], *p, *y = b64u("{}");
		nv_env e;
		pg_err err;

		EVP_EncodeBlock((unsigned char *)x5c, der, n);
		p = b64u(PH("PS256", "[\"io.cncf.notary.signingScheme\",\"io.example.x\"]",
			    ",\"io.example.x\":1"));
		(void)snprintf(
		    env, sizeof(env),
		    "{\"payload\":\"%s\",\"protected\":\"%s\",\"header\":{\"x5c\":[\"%s\"]},"
		    "\"signature\":\"AAAA\"}",
		    y, p, x5c);
		assert_int_equal(nv_jws_parse(&e, (const unsigned char *)env, strlen(env), &err),
				 PG_OK);
		assert_non_null(e.unknown_crit);
		assert_string_equal(e.unknown_crit, "io.example.x");
		assert_int_equal(e.alg, NV_PS256);
		nv_env_free(&e);
		free(p);
		free(y);
		free(x5c);
		OPENSSL_free(der);
		X509_free(c);
		EVP_PKEY_free(k);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cbor_bounds),
	    cmocka_unit_test(test_time_offsets),
	    cmocka_unit_test(test_chain_rules),
	    cmocka_unit_test(test_chain_order_and_pathlen),
	    cmocka_unit_test(test_dn),
	    cmocka_unit_test(test_policy_validation),
	    cmocka_unit_test(test_policy_select),
	    cmocka_unit_test(test_jws_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
