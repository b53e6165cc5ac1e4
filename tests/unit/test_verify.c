/*
 * Unit tests of verify/verify.c: the SSRF guard every request of a
 * verification passes (a host no rule names, a link-local or metadata
 * address matched only by a glob, plain http:// to a registry without
 * plainHTTP: all refused with a reason a person can act on), and the number
 * of passing verifiers each `require` form asks for (any, all, atLeast).
 * Policies are loaded from YAML through policy/, so the test also pins how
 * the `require` field reaches the count.  No network: a refused host is
 * refused before any connection is made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../webhook/verify/verify.c"

#include "clock/clock.h"

#define HDR "apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata: {name: t}\n"

/* A throwaway P-256 public key (the one in policy/examples/trust), as a
 * YAML double-quoted scalar. */
#define PEM_Y                                                                                      \
	"\"-----BEGIN PUBLIC KEY-----\\n"                                                          \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4b265Ve+ULQ/Pp5sEObpfHHz3G3U\\n"                      \
	"pcYGyTE4ZFAEF+19Y0PmMylX2/5Zhe0F7nFFu+43Tqye7Es1kwUagCOOYg==\\n"                          \
	"-----END PUBLIC KEY-----\\n\""

static pg_policy *
load_ok(const char *yaml)
{
	pg_policy *p = NULL;
	pg_err e;

	pg_err_clear(&e);
	if (pg_policy_load_buffer(&p, "t.yaml", yaml, strlen(yaml), &e) != PG_OK)
		fail_msg("load failed: %s", e.msg);
	assert_non_null(p);
	return p;
}

/* guard(scheme, host, port) under p: PG_OK, or PG_EDENIED with a message
 * containing want. */
static void
expect_guard(const pg_policy *p, const char *scheme, const char *host, int port, const char *want)
{
	pg_err e;
	int rc;

	pg_err_clear(&e);
	rc = pg_verify__guard(scheme, host, port, &e, (void *)p);
	if (want == NULL) {
		if (rc != PG_OK)
			fail_msg("%s://%s:%d refused: %s", scheme, host, port, e.msg);
		return;
	}
	if (rc != PG_EDENIED)
		fail_msg("%s://%s:%d: rc %d, want PG_EDENIED (%s)", scheme, host, port, rc, want);
	if (strstr(e.msg, want) == NULL)
		fail_msg("%s://%s:%d: message [%s] lacks [%s]", scheme, host, port, e.msg, want);
}

static const char guard_policy[] =
    HDR "spec:\n  images:\n"
	"    - {name: a, match: [\"registry.example.com/apps/**\"], allowUnsigned: true}\n"
	"    - {name: b, match: [\"*.mirror.example.net/**\"], allowUnsigned: true}\n"
	"    - {name: c, match: [\"localhost:5000/x\"], allowUnsigned: true}\n"
	"    - {name: d, match: [\"169.254.*/**\"], allowUnsigned: true}\n"
	"    - {name: e, match: [\"169.254.170.2/app\"], allowUnsigned: true}\n"
	"  charts:\n"
	"    - {name: f, match: [\"https://charts.example.com/**\"], allowUnsigned: true}\n"
	"  registries:\n"
	"    - host: plain.example.com:8080\n"
	"      plainHTTP: true\n"
	"    - host: plain-default.example.com\n"
	"      plainHTTP: true\n"
	"    - host: tls.example.com\n";

static void
test_guard_named_hosts(void **state)
{
	pg_policy *p = load_ok(guard_policy);

	(void)state;
	/* The default port of the scheme matches a rule that names no port. */
	expect_guard(p, "https", "registry.example.com", 443, NULL);
	expect_guard(p, "HTTPS", "REGISTRY.example.com", 443, NULL);
	/* A glob host part covers the names under it, not the bare domain. */
	expect_guard(p, "https", "eu.mirror.example.net", 443, NULL);
	expect_guard(p, "https", "mirror.example.net", 443,
		     "refusing to contact mirror.example.net: no policy rule or registry names "
		     "this host");
	/* A rule naming a port allows that port only. */
	expect_guard(p, "https", "localhost", 5000, NULL);
	expect_guard(p, "https", "localhost", 5001, "refusing to contact localhost:5001");
	expect_guard(p, "https", "localhost", 443, "refusing to contact localhost");
	/* A rule naming no port does not allow another port. */
	expect_guard(p, "https", "registry.example.com", 8443,
		     "refusing to contact registry.example.com:8443");
	/* Chart repositories and registries[] entries name hosts too. */
	expect_guard(p, "https", "charts.example.com", 443, NULL);
	expect_guard(p, "https", "tls.example.com", 443, NULL);
	/* A look-alike suffix is another host. */
	expect_guard(p, "https", "registry.example.com.evil.net", 443,
		     "refusing to contact registry.example.com.evil.net");
	expect_guard(p, "https", "evil.example.org", 443, "no policy rule or registry names");
	pg_policy_unref(p);
}

static void
test_guard_link_local(void **state)
{
	pg_policy *p = load_ok(guard_policy);

	(void)state;
	/* Matched by the glob of rule d, but a metadata address needs a rule
	 * that names it exactly. */
	expect_guard(p, "https", "169.254.169.254", 443,
		     "refusing to contact link-local or metadata address 169.254.169.254");
	/* Named exactly by rule e. */
	expect_guard(p, "https", "169.254.170.2", 443, NULL);
	pg_policy_unref(p);
}

static void
test_guard_plain_http(void **state)
{
	pg_policy *p = load_ok(guard_policy);

	(void)state;
	/* http:// only to a registries[] entry with plainHTTP: true. */
	expect_guard(p, "http", "registry.example.com", 80,
		     "refusing http:// to registry.example.com: only registries with plainHTTP");
	expect_guard(p, "http", "tls.example.com", 80, "refusing http:// to tls.example.com");
	expect_guard(p, "http", "plain.example.com", 8080, NULL);
	expect_guard(p, "http", "plain-default.example.com", 80, NULL);
	/* plainHTTP for one port is not plainHTTP for another: that port is
	 * not named at all. */
	expect_guard(p, "http", "plain.example.com", 8081, "refusing to contact");
	/* The host still has to be named first: plainHTTP opens no new host. */
	expect_guard(p, "http", "other.example.com", 80, "refusing to contact other.example.com");
	/* https to a plainHTTP registry is fine. */
	expect_guard(p, "https", "plain.example.com", 8080, NULL);
	pg_policy_unref(p);
}

/* ---- require: any / all / atLeast ---- */

static const char require_policy[] =
    HDR "spec:\n  trust:\n    keys:\n"
	"      k1: {inline: " PEM_Y "}\n"
	"      k2: {inline: " PEM_Y "}\n"
	"      k3: {inline: " PEM_Y "}\n"
	"  images:\n"
	"    - name: default-any\n"
	"      match: [\"r.example.com/default/**\"]\n"
	"      verify: [{cosign: {key: k1}}, {cosign: {key: k2}}, {cosign: {key: k3}}]\n"
	"    - name: any\n"
	"      match: [\"r.example.com/any/**\"]\n"
	"      verify: [{cosign: {key: k1}}, {cosign: {key: k2}}, {cosign: {key: k3}}]\n"
	"      require: any\n"
	"    - name: all\n"
	"      match: [\"r.example.com/all/**\"]\n"
	"      verify: [{cosign: {key: k1}}, {cosign: {key: k2}}, {cosign: {key: k3}}]\n"
	"      require: all\n"
	"    - name: two\n"
	"      match: [\"r.example.com/two/**\"]\n"
	"      verify: [{cosign: {key: k1}}, {cosign: {key: k2}}, {cosign: {key: k3}}]\n"
	"      require: {atLeast: 2}\n"
	"    - name: three\n"
	"      match: [\"r.example.com/three/**\"]\n"
	"      verify: [{cosign: {key: k1}}, {cosign: {key: k2}}, {cosign: {key: k3}}]\n"
	"      require: {atLeast: 3}\n"
	"  charts:\n"
	"    - name: charts-all\n"
	"      match: [\"https://charts.example.com/**\"]\n"
	"      verify: [{cosign: {key: k1}}, {cosign: {key: k2}}]\n"
	"      require: all\n";

static const pg_rule *
image_rule(const pg_policy *p, const char *ref, const char *name)
{
	const pg_rule *r = pg_policy_match_image(p, ref);

	assert_non_null(r);
	assert_string_equal(r->name, name);
	return r;
}

static void
test_require_counts(void **state)
{
	pg_policy *p = load_ok(require_policy);
	const pg_rule *r;

	(void)state;
	/* No require: any one verifier is enough. */
	r = image_rule(p, "r.example.com/default/app:1", "default-any");
	assert_int_equal(r->require, PG_REQUIRE_ANY);
	assert_int_equal(pg_verify__needed(r, 3), 1);
	r = image_rule(p, "r.example.com/any/app:1", "any");
	assert_int_equal(pg_verify__needed(r, 3), 1);
	assert_int_equal(pg_verify__needed(r, 1), 1);
	/* all: every verifier counted, whatever their number. */
	r = image_rule(p, "r.example.com/all/app:1", "all");
	assert_int_equal(r->require, PG_REQUIRE_ALL);
	assert_int_equal(pg_verify__needed(r, 3), 3);
	assert_int_equal(pg_verify__needed(r, 5), 5);
	/* atLeast: the number written, not the number of verifiers. */
	r = image_rule(p, "r.example.com/two/app:1", "two");
	assert_int_equal(r->require, PG_REQUIRE_ATLEAST);
	assert_int_equal(r->at_least, 2);
	assert_int_equal(pg_verify__needed(r, 3), 2);
	r = image_rule(p, "r.example.com/three/app:1", "three");
	assert_int_equal(pg_verify__needed(r, 3), 3);
	/* Chart rules count the same way. */
	r = pg_policy_match_chart(p, "https://charts.example.com/web-1.0.0.tgz");
	assert_non_null(r);
	assert_string_equal(r->name, "charts-all");
	assert_int_equal(pg_verify__needed(r, 2), 2);
	pg_policy_unref(p);
}

/* Through pg_verify_image: the guard runs before any request, so an image
 * on a host the policy does not name is refused with the guard's reason,
 * whatever the rule's require, and nothing is verified. */
static void
test_verify_image_guarded(void **state)
{
	static const char *const rules[] = {"any", "all", "two"};
	pg_policy *p = load_ok(require_policy);
	pg_verify_ctx *c = NULL;
	size_t i;

	(void)state;
	assert_int_equal(pg_verify_ctx_new(&c, NULL), PG_OK);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char name[64];
		const pg_rule *r;
		pg_image_ref *ref = NULL;
		pg_verdict v;
		pg_err e;

		(void)snprintf(name, sizeof(name), "r.example.com/%s/app:1", rules[i]);
		r = image_rule(p, name, rules[i]);
		pg_err_clear(&e);
		assert_int_equal(pg_ref_parse_image(&ref, "elsewhere.example.org/app:1", &e),
				 PG_OK);
		(void)pg_verify_image(&v, c, p, r, ref, pg_clock_ms() + 5000);
		assert_false(v.ok);
		assert_int_not_equal(v.code, PG_OK);
		assert_non_null(v.reason);
		if (strstr(v.reason, "refusing to contact elsewhere.example.org") == NULL)
			fail_msg("rule %s: reason [%s]", rules[i], v.reason);
		pg_verdict_clear(&v);
		pg_ref_free(ref);
	}
	pg_verify_ctx_free(c);
	pg_policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guard_named_hosts),	 cmocka_unit_test(test_guard_link_local),
	    cmocka_unit_test(test_guard_plain_http),	 cmocka_unit_test(test_require_counts),
	    cmocka_unit_test(test_verify_image_guarded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
