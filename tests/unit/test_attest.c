/* Unit tests of attest/ (in-toto statements, subject digests, predicate
 * types, the condition language, the predicate-vs-certificate rule, the
 * GitHub preset) and of sigstore/claims.c (Fulcio claim extensions read
 * from certificates made here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "../../webhook/attest/attest.c"
#include "../../webhook/sigstore/claims.c"

#include <openssl/ec.h>
#include <openssl/x509v3.h>

#define H64 "1111111111111111111111111111111111111111111111111111111111111111"
#define H128 H64 H64
#define D256 "sha256:" H64
#define D512 "sha512:" H128

static const char stmt_v1[] =
    "{\"_type\":\"https://in-toto.io/Statement/v1\","
    "\"subject\":[{\"name\":\"other\",\"digest\":{\"sha256\":\"22\"}},"
    "{\"name\":\"img\",\"digest\":{\"sha256\":\"" H64 "\",\"sha512\":\"" H128 "\"}}],"
    "\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{"
    "\"buildDefinition\":{\"buildType\":\"https://actions.github.io/buildtypes/workflow/v1\","
    "\"externalParameters\":{\"workflow\":{\"ref\":\"refs/heads/main\","
    "\"repository\":\"https://github.com/MyOrg/app\",\"path\":\".github/workflows/r.yml\"}},"
    "\"internalParameters\":{\"n\":42,\"b\":true,\"o\":{},\"a/b\":\"slash\",\"t~x\":\"tilde\","
    "\"list\":[\"zero\",\"one\"]}},"
    "\"runDetails\":{\"builder\":{\"id\":\"https://github.com/actions/runner/github-hosted\"}}}}";

static char *claims_gh[PG_CLAIM_N];

static void
setup_claims(void)
{
	static char repo[] = "https://github.com/myorg/app";
	static char ref[] = "refs/heads/main";
	static char owner[] = "https://github.com/myorg";
	static char runner[] = "github-hosted";

	memset(claims_gh, 0, sizeof(claims_gh));
	claims_gh[PG_CLAIM_SOURCE_REPOSITORY_URI] = repo;
	claims_gh[PG_CLAIM_SOURCE_REPOSITORY_REF] = ref;
	claims_gh[PG_CLAIM_SOURCE_REPOSITORY_OWNER_URI] = owner;
	claims_gh[PG_CLAIM_RUNNER_ENVIRONMENT] = runner;
}

/* pg_attest_check with one condition; returns the code. */
static int
one(const char *stmt, const char *digest, const char *type, const pg_attest_cond *c,
    char *const *claims, pg_err *e)
{
	pg_attest_req r = {.predicate_type = type, .conds = c, .nconds = c ? 1 : 0};
	pg_attest_info in;
	int rc;

	pg_err_clear(e);
	rc = pg_attest_check(&in, (const unsigned char *)stmt, strlen(stmt), digest, claims, &r, e);
	if (rc == PG_OK)
		pg_attest_info_free(&in);
	return rc;
}

#define PATH(p, o, v) (&(pg_attest_cond){.path = (p), .op = (o), .value = (v)})
#define CLAIM(c, o, v) (&(pg_attest_cond){.claim = (c), .op = (o), .value = (v)})

static void
test_subject_and_type(void **state)
{
	pg_attest_info in;
	pg_attest_req r = {0};
	pg_err e;

	(void)state;
	setup_claims();
	assert_int_equal(one(stmt_v1, D256, PG_SLSA_V1, NULL, claims_gh, &e), PG_OK);
	assert_int_equal(one(stmt_v1, D512, PG_SLSA_V1, NULL, claims_gh, &e), PG_OK);
	assert_int_equal(one(stmt_v1, D256, NULL, NULL, claims_gh, &e), PG_OK);
	/* 65 hex digits: not a digest; one digit off: no subject */
	assert_int_equal(one(stmt_v1, D256 "1", PG_SLSA_V1, NULL, NULL, &e), PG_EINVAL);
	assert_int_equal(
	    one(stmt_v1, "sha256:2111111111111111111111111111111111111111111111111111111111111111",
		PG_SLSA_V1, NULL, NULL, &e),
	    PG_EVERIFY);
	assert_non_null(strstr(e.msg, "no subject"));
	/* the sha512 of the subject given as sha256 names nothing */
	assert_int_equal(one(stmt_v1, "sha512:" H64 H64 "0", NULL, NULL, NULL, &e), PG_EINVAL);
	assert_int_equal(one(stmt_v1, "sha256:22", NULL, NULL, NULL, &e), PG_EINVAL);
	assert_int_equal(one(stmt_v1, "sha384:" H64, NULL, NULL, NULL, &e), PG_EINVAL);
	assert_int_equal(one(stmt_v1, D256, "https://slsa.dev/provenance/v0.2", NULL, NULL, &e),
			 PG_EVERIFY);
	assert_non_null(strstr(e.msg, "predicate type"));
	/* what admitted */
	r.predicate_type = PG_SLSA_V1;
	assert_int_equal(pg_attest_check(&in, (const unsigned char *)stmt_v1, strlen(stmt_v1), D256,
					 claims_gh, &r, &e),
			 PG_OK);
	assert_string_equal(in.subject, "img");
	assert_string_equal(in.builder_id, "https://github.com/actions/runner/github-hosted");
	assert_string_equal(in.source_repo, "https://github.com/myorg/app");
	assert_string_equal(in.source_ref, "refs/heads/main");
	pg_attest_info_free(&in);
}

static void
test_statement_shapes(void **state)
{
	pg_err e;

	(void)state;
	/* v0.1 accepted; unknown _type, no predicateType, duplicate keys refused */
	assert_int_equal(one("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[{"
			     "\"digest\":{\"sha256\":\"" H64 "\"}}],\"predicateType\":\"x\"}",
			     D256, "x", NULL, NULL, &e),
			 PG_OK);
	assert_int_equal(one("{\"_type\":\"https://in-toto.io/Statement/v2\",\"subject\":[{"
			     "\"digest\":{\"sha256\":\"" H64 "\"}}],\"predicateType\":\"x\"}",
			     D256, "x", NULL, NULL, &e),
			 PG_EVERIFY);
	assert_int_equal(one("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{"
			     "\"digest\":{\"sha256\":\"" H64 "\"}}]}",
			     D256, NULL, NULL, NULL, &e),
			 PG_EVERIFY);
	assert_int_equal(one("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{"
			     "\"digest\":{\"sha256\":\"" H64 "\"}}],\"predicateType\":\"y\","
			     "\"predicateType\":\"x\"}",
			     D256, "x", NULL, NULL, &e),
			 PG_EVERIFY);
	assert_int_equal(one("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],"
			     "\"predicateType\":\"x\"}",
			     D256, "x", NULL, NULL, &e),
			 PG_EVERIFY);
	assert_int_equal(one("[1]", D256, NULL, NULL, NULL, &e), PG_EVERIFY);
	assert_int_equal(one("", D256, NULL, NULL, NULL, &e), PG_EVERIFY);
}

static void
test_pointer_conditions(void **state)
{
	const char *in2[] = {"refs/heads/dev", "refs/heads/main"};
	const char *in1[] = {"refs/heads/dev"};
	pg_attest_cond cin = {.path = "/predicate/buildDefinition/externalParameters/workflow/ref",
			      .op = PG_COND_IN,
			      .values = in2,
			      .nvalues = 2};
	pg_err e;

	(void)state;
#define REF "/predicate/buildDefinition/externalParameters/workflow/ref"
#define IP "/predicate/buildDefinition/internalParameters"
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(REF, PG_COND_EQUALS, "refs/heads/main"), NULL, &e),
	    PG_OK);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(REF, PG_COND_EQUALS, "refs/heads/mai"), NULL, &e),
	    PG_EVERIFY);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(REF, PG_COND_PREFIX, "refs/heads/"), NULL, &e), PG_OK);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(REF, PG_COND_PREFIX, "refs/tags/"), NULL, &e),
	    PG_EVERIFY);
	assert_int_equal(one(stmt_v1, D256, NULL, &cin, NULL, &e), PG_OK);
	cin.values = in1;
	cin.nvalues = 1;
	assert_int_equal(one(stmt_v1, D256, NULL, &cin, NULL, &e), PG_EVERIFY);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(REF, PG_COND_REGEXP, "^refs/heads/ma[a-z]+$"), NULL, &e),
	    PG_OK);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(REF, PG_COND_REGEXP, "^refs/tags/"), NULL, &e),
	    PG_EVERIFY);
	/* numbers and booleans as their JSON text; objects never match */
	assert_int_equal(one(stmt_v1, D256, NULL, PATH(IP "/n", PG_COND_EQUALS, "42"), NULL, &e),
			 PG_OK);
	assert_int_equal(one(stmt_v1, D256, NULL, PATH(IP "/b", PG_COND_EQUALS, "true"), NULL, &e),
			 PG_OK);
	assert_int_equal(one(stmt_v1, D256, NULL, PATH(IP "/o", PG_COND_EQUALS, "{}"), NULL, &e),
			 PG_EVERIFY);
	/* RFC 6901 escapes and array indexes */
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(IP "/a~1b", PG_COND_EQUALS, "slash"), NULL, &e), PG_OK);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(IP "/t~0x", PG_COND_EQUALS, "tilde"), NULL, &e), PG_OK);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(IP "/list/1", PG_COND_EQUALS, "one"), NULL, &e), PG_OK);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(IP "/list/01", PG_COND_EQUALS, "one"), NULL, &e),
	    PG_EVERIFY);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH(IP "/list/2", PG_COND_EQUALS, "one"), NULL, &e),
	    PG_EVERIFY);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH("/predicateType", PG_COND_EQUALS, PG_SLSA_V1), NULL, &e),
	    PG_OK);
	/* absent path fails, never passes */
	assert_int_equal(
	    one(stmt_v1, D256, NULL, PATH("/predicate/nope", PG_COND_PREFIX, "x"), NULL, &e),
	    PG_EVERIFY);
	assert_non_null(strstr(e.msg, "absent"));
	/* malformed conditions are refused, not evaluated */
	assert_int_equal(one(stmt_v1, D256, NULL, PATH("predicate", PG_COND_EQUALS, "x"), NULL, &e),
			 PG_EINVAL);
	assert_int_equal(one(stmt_v1, D256, NULL, PATH("/a~2", PG_COND_EQUALS, "x"), NULL, &e),
			 PG_EINVAL);
	assert_int_equal(one(stmt_v1, D256, NULL, PATH(REF, PG_COND_PREFIX, ""), NULL, &e),
			 PG_EINVAL);
	assert_int_equal(one(stmt_v1, D256, NULL, PATH(REF, PG_COND_REGEXP, "a**"), NULL, &e),
			 PG_EINVAL);
	assert_int_equal(one(stmt_v1, D256, NULL, PATH(REF, PG_COND_EQUALS, NULL), NULL, &e),
			 PG_EINVAL);
#undef REF
#undef IP
}

static void
test_claim_conditions(void **state)
{
	pg_err e;

	(void)state;
	setup_claims();
	assert_int_equal(
	    one(stmt_v1, D256, NULL,
		CLAIM(PG_CLAIM_SOURCE_REPOSITORY_REF, PG_COND_EQUALS, "refs/heads/main"), claims_gh,
		&e),
	    PG_OK);
	/* refs are exact: a branch MAIN is not main */
	assert_int_equal(
	    one(stmt_v1, D256, NULL,
		CLAIM(PG_CLAIM_SOURCE_REPOSITORY_REF, PG_COND_EQUALS, "refs/heads/MAIN"), claims_gh,
		&e),
	    PG_EVERIFY);
	/* repository and owner URIs fold case, as GitHub names do */
	assert_int_equal(one(stmt_v1, D256, NULL,
			     CLAIM(PG_CLAIM_SOURCE_REPOSITORY_URI, PG_COND_EQUALS,
				   "https://github.com/MyOrg/App"),
			     claims_gh, &e),
			 PG_OK);
	assert_int_equal(one(stmt_v1, D256, NULL,
			     CLAIM(PG_CLAIM_SOURCE_REPOSITORY_OWNER_URI, PG_COND_PREFIX,
				   "https://github.com/MYORG"),
			     claims_gh, &e),
			 PG_OK);
	assert_int_equal(one(stmt_v1, D256, NULL,
			     CLAIM(PG_CLAIM_RUNNER_ENVIRONMENT, PG_COND_EQUALS, "Github-Hosted"),
			     claims_gh, &e),
			 PG_EVERIFY);
	assert_int_equal(one(stmt_v1, D256, NULL,
			     CLAIM(PG_CLAIM_RUNNER_ENVIRONMENT, PG_COND_REGEXP, "^github-hosted$"),
			     claims_gh, &e),
			 PG_OK);
	/* absent claim, and no claims at all (a keyed signature): fails */
	assert_int_equal(one(stmt_v1, D256, NULL,
			     CLAIM(PG_CLAIM_BUILD_TRIGGER, PG_COND_EQUALS, "push"), claims_gh, &e),
			 PG_EVERIFY);
	assert_int_equal(
	    one(stmt_v1, D256, NULL,
		CLAIM(PG_CLAIM_SOURCE_REPOSITORY_REF, PG_COND_EQUALS, "refs/heads/main"), NULL, &e),
	    PG_EVERIFY);
	assert_int_equal(
	    one(stmt_v1, D256, NULL, CLAIM(PG_CLAIM_N, PG_COND_EQUALS, "x"), claims_gh, &e),
	    PG_EINVAL);
	/* names */
	assert_int_equal(pg_claim_index("sourceRepositoryVisibilityAtSigning"),
			 PG_CLAIM_SOURCE_REPOSITORY_VISIBILITY);
	assert_int_equal(pg_claim_index("SourceRepositoryURI"), -1);
	assert_string_equal(pg_claim_name(PG_CLAIM_BUILD_SIGNER_URI), "buildSignerURI");
	assert_null(pg_claim_name(PG_CLAIM_N));
}

static void
test_predicate_vs_certificate(void **state)
{
	static char other[] = "https://github.com/attacker/app";
	static char tag[] = "refs/tags/v1";
	char *c[PG_CLAIM_N];
	pg_err e;

	(void)state;
	setup_claims();
	memcpy(c, claims_gh, sizeof(c));
	c[PG_CLAIM_SOURCE_REPOSITORY_URI] = other;
	assert_int_equal(one(stmt_v1, D256, NULL, NULL, c, &e), PG_EVERIFY);
	assert_non_null(strstr(e.msg, "predicate says source repository"));
	memcpy(c, claims_gh, sizeof(c));
	c[PG_CLAIM_SOURCE_REPOSITORY_REF] = tag;
	assert_int_equal(one(stmt_v1, D256, NULL, NULL, c, &e), PG_EVERIFY);
	/* v0.2: configSource git+<repo>@<ref> */
	memcpy(c, claims_gh, sizeof(c));
	assert_int_equal(
	    one("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[{\"digest\":{"
		"\"sha256\":\"" H64 "\"}}],\"predicateType\":\"https://slsa.dev/provenance/v0.2\","
		"\"predicate\":{\"invocation\":{\"configSource\":{\"uri\":"
		"\"git+https://github.com/myorg/app@refs/heads/main\"}}}}",
		D256, NULL, NULL, c, &e),
	    PG_OK);
	assert_int_equal(
	    one("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[{\"digest\":{"
		"\"sha256\":\"" H64 "\"}}],\"predicateType\":\"https://slsa.dev/provenance/v0.2\","
		"\"predicate\":{\"invocation\":{\"configSource\":{\"uri\":"
		"\"git+https://github.com/myorg/app@refs/heads/dev\"}}}}",
		D256, NULL, NULL, c, &e),
	    PG_EVERIFY);
}

static bool
re_ok(const char *re, const char *s)
{
	bool m = false;
	pg_err e;

	assert_int_equal(pg_re_find(re, s, &m, &e), PG_OK);
	return m;
}

static void
test_github_preset(void **state)
{
	pg_github_policy g;
	pg_github_preset p;
	pg_err e;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.owner = "myorg";
	p.repo = "myorg/app";
	p.signer_workflow = "myorg/ci/.github/workflows/release.yml";
	p.source_ref = "refs/heads/main";
	p.deny_self_hosted = true;
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_OK);
	assert_string_equal(g.issuer, "https://token.actions.githubusercontent.com");
	assert_string_equal(g.predicate_type, "https://slsa.dev/provenance/v1");
	assert_int_equal(g.nconds, 4);
	assert_int_equal(g.conds[0].claim, PG_CLAIM_SOURCE_REPOSITORY_OWNER_URI);
	assert_string_equal(g.conds[0].value, "https://github.com/myorg");
	assert_int_equal(g.conds[1].claim, PG_CLAIM_SOURCE_REPOSITORY_URI);
	assert_string_equal(g.conds[1].value, "https://github.com/myorg/app");
	assert_int_equal(g.conds[2].claim, PG_CLAIM_SOURCE_REPOSITORY_REF);
	assert_int_equal(g.conds[3].claim, PG_CLAIM_RUNNER_ENVIRONMENT);
	assert_string_equal(g.conds[3].value, "github-hosted");
	assert_true(
	    re_ok(g.identity_regexp,
		  "https://github.com/myorg/ci/.github/workflows/release.yml@refs/heads/main"));
	assert_true(
	    re_ok(g.identity_regexp,
		  "https://github.com/MyOrg/CI/.github/workflows/release.yml@refs/tags/v1"));
	assert_false(
	    re_ok(g.identity_regexp,
		  "https://github.com/myorg/ci/.github/workflows/release.yml2@refs/heads/main"));
	assert_false(
	    re_ok(g.identity_regexp,
		  "https://github.com/myorg/ci/.github/workflows/Release.yml@refs/heads/main"));
	assert_false(
	    re_ok(g.identity_regexp,
		  "https://githubXcom/myorg/ci/.github/workflows/release.yml@refs/heads/main"));
	assert_false(re_ok(g.identity_regexp,
			   "https://github.com.evil/myorg/ci/.github/workflows/release.yml@x"));
	pg_github_policy_free(&g);
	/* owner only: any workflow of the owner's repositories */
	memset(&p, 0, sizeof(p));
	p.owner = "my.org";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_OK);
	assert_true(re_ok(g.identity_regexp, "https://github.com/my.org/x/.github/workflows/a@b"));
	assert_false(re_ok(g.identity_regexp, "https://github.com/myXorg/x/.github/workflows/a@b"));
	assert_false(
	    re_ok(g.identity_regexp, "https://github.com/my.org2/x/.github/workflows/a@b"));
	assert_int_equal(g.nconds, 1);
	pg_github_policy_free(&g);
	/* refusals */
	memset(&p, 0, sizeof(p));
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.owner = "a";
	p.repo = "b/c";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.repo = "a";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.repo = "a/c/d";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.repo = NULL;
	p.owner = "a b";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.owner = "a";
	p.source_ref = "main";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.source_ref = NULL;
	p.signer_workflow = "a/b";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.signer_workflow = "a/b/../x.yml";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
	p.signer_workflow = "a/b/.github/workflows/x.yml@refs/heads/main";
	assert_int_equal(pg_github_expand(&g, &p, &e), PG_EINVAL);
}

/* A self-signed certificate with the given Fulcio claim extensions
 * (arc -> UTF8String value); dup: add the last one twice. */
static X509 *
cert_with(const int *arcs, const char *const *vals, size_t n, bool dup)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *c = X509_new();
	size_t i;

	assert_non_null(k);
	X509_set_version(c, 2);
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), 600);
	X509_set_pubkey(c, k);
	for (i = 0; i < n + (dup ? 1 : 0); i++) {
		size_t j = i < n ? i : n - 1;
		char oid[40];
		ASN1_OBJECT *o;
		ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		unsigned char *der = NULL;
		int len;
		X509_EXTENSION *ex;

		snprintf(oid, sizeof(oid), "1.3.6.1.4.1.57264.1.%d", arcs[j]);
		o = OBJ_txt2obj(oid, 1);
		if (arcs[j] == 1) { /* legacy issuer: raw bytes */
			ASN1_OCTET_STRING_set(os, (const unsigned char *)vals[j],
					      (int)strlen(vals[j]));
		} else {
			ASN1_STRING_set(u, vals[j], (int)strlen(vals[j]));
			len = i2d_ASN1_UTF8STRING(u, &der);
			ASN1_OCTET_STRING_set(os, der, len);
			OPENSSL_free(der);
		}
		ex = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
		X509_add_ext(c, ex, -1);
		X509_EXTENSION_free(ex);
		ASN1_OBJECT_free(o);
		ASN1_UTF8STRING_free(u);
		ASN1_OCTET_STRING_free(os);
	}
	X509_sign(c, k, EVP_sha256());
	EVP_PKEY_free(k);
	return c;
}

static void
test_fulcio_claims(void **state)
{
	int arcs[PG_CLAIM_N];
	const char *vals[PG_CLAIM_N];
	char *out[PG_CLAIM_N];
	char buf[PG_CLAIM_N][32];
	X509 *c;
	int i;

	(void)state;
	for (i = 0; i < PG_CLAIM_N; i++) {
		arcs[i] = 8 + i;
		snprintf(buf[i], sizeof(buf[i]), "value-%d", 8 + i);
		vals[i] = buf[i];
	}
	c = cert_with(arcs, vals, PG_CLAIM_N, false);
	assert_int_equal(pg_cert_fulcio_claims(out, c), PG_OK);
	for (i = 0; i < PG_CLAIM_N; i++) {
		assert_non_null(out[i]);
		assert_string_equal(out[i], vals[i]);
		free(out[i]);
	}
	X509_free(c);
	/* a claim twice: refused (which copy counts would be a choice) */
	c = cert_with(arcs, vals, 4, true);
	assert_int_equal(pg_cert_fulcio_claims(out, c), PG_EINVAL);
	for (i = 0; i < PG_CLAIM_N; i++)
		assert_null(out[i]);
	X509_free(c);
	/* only the legacy issuer 1.1, and a runner environment */
	arcs[0] = 1;
	vals[0] = "https://accounts.example";
	arcs[1] = 11;
	vals[1] = "self-hosted";
	c = cert_with(arcs, vals, 2, false);
	assert_int_equal(pg_cert_fulcio_claims(out, c), PG_OK);
	assert_string_equal(out[PG_CLAIM_ISSUER], "https://accounts.example");
	assert_string_equal(out[PG_CLAIM_RUNNER_ENVIRONMENT], "self-hosted");
	assert_null(out[PG_CLAIM_SOURCE_REPOSITORY_URI]);
	for (i = 0; i < PG_CLAIM_N; i++)
		free(out[i]);
	X509_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_subject_and_type),
	    cmocka_unit_test(test_statement_shapes),
	    cmocka_unit_test(test_pointer_conditions),
	    cmocka_unit_test(test_claim_conditions),
	    cmocka_unit_test(test_predicate_vs_certificate),
	    cmocka_unit_test(test_github_preset),
	    cmocka_unit_test(test_fulcio_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
