/*
 * Unit tests of policy/: the schema (a valid full policy, every strict
 * error with its FILE:LINE message), merging across documents and files,
 * globs, rule matching, the host guard, fingerprints and reference counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../webhook/policy/match.c"
#include "../../webhook/policy/policy.c"
#include "../../webhook/policy/schema.c"
#include "../../webhook/policy/yaml.c"

#define HDR "apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata: {name: t}\n"

/* A throwaway P-256 public key (the one in policy/examples/trust). */
#define PEM_A                                                                                      \
	"-----BEGIN PUBLIC KEY-----\n"                                                             \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4b265Ve+ULQ/Pp5sEObpfHHz3G3U\n"                       \
	"pcYGyTE4ZFAEF+19Y0PmMylX2/5Zhe0F7nFFu+43Tqye7Es1kwUagCOOYg==\n"                           \
	"-----END PUBLIC KEY-----\n"

/* The same key as a YAML double-quoted scalar (one line, escaped). */
#define PEM_Y                                                                                      \
	"-----BEGIN PUBLIC KEY-----\\n"                                                            \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4b265Ve+ULQ/Pp5sEObpfHHz3G3U\\n"                      \
	"pcYGyTE4ZFAEF+19Y0PmMylX2/5Zhe0F7nFFu+43Tqye7Es1kwUagCOOYg==\\n"                          \
	"-----END PUBLIC KEY-----\\n"

/* ---- helpers ---- */

static int
load_str(pg_policy **out, const char *yaml, pg_err *err)
{
	pg_err_clear(err);
	return pg_policy_load_buffer(out, "t.yaml", yaml, strlen(yaml), err);
}

/* Loading yaml fails with exactly this message. */
static void
expect_error(const char *yaml, const char *msg)
{
	pg_policy *p = NULL;
	pg_err e;
	int rc = load_str(&p, yaml, &e);

	if (rc == PG_OK)
		fail_msg("loaded, expected error: %s", msg);
	assert_null(p);
	assert_string_equal(e.msg, msg);
}

static pg_policy *
load_ok(const char *yaml)
{
	pg_policy *p = NULL;
	pg_err e;
	int rc = load_str(&p, yaml, &e);

	if (rc != PG_OK)
		fail_msg("load failed: %s", e.msg);
	assert_non_null(p);
	return p;
}

static char tmpdir[64];

static void
mk_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pgpolXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
rm_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
}

/* ---- a valid policy ---- */

static const char *full_policy = HDR
    "spec:\n"						      /* 4 */
    "  mode: audit\n"					      /* 5 */
    "  exemptNamespaces: [kube-system, provgate]\n"	      /* 6 */
    "  trust:\n"					      /* 7 */
    "    keys:\n"					      /* 8 */
    "      release: {path: key.pub}\n"			      /* 9 */
    "    keyrings:\n"					      /* 10 */
    "      charts: {path: charts.gpg}\n"		      /* 11 */
    "    roots:\n"					      /* 12 */
    "      public-good: {inline: '{\"mediaType\": \"x\"}'}\n" /* 13 */
    "  images:\n"					      /* 14 */
    "    - name: apps\n"				      /* 15 */
    "      match: [\"registry.example.com/apps/**\"]\n"	      /* 16 */
    "      verify:\n"					      /* 17 */
    "        - cosign: {key: release}\n"		      /* 18 */
    "        - cosign:\n"				      /* 19 */
    "            keyless:\n"				      /* 20 */
    "              root: public-good\n"			      /* 21 */
    "              issuer: https://token.actions.githubusercontent.com\n"
    "              subjectRegExp: '^https://github\\.com/example/.+'\n"
    "      require: {atLeast: 2}\n"
    "      tlog: optional\n"
    "      requireDigest: true\n"
    "    - name: pause\n"
    "      match: [\"registry.k8s.io/pause:*\"]\n"
    "      allowUnsigned: true\n"
    "  charts:\n"
    "    - name: team-charts\n"
    "      match: [\"https://charts.example.com/**\", \"oci://registry.example.com/charts/**\"]\n"
    "      repository: https://charts.example.com\n"
    "      chartNames: [\"team-*\"]\n"
    "      verify:\n"
    "        - prov: {keyring: charts}\n"
    "        - cosign: {key: release}\n"
    "      require: any\n"
    "  registries:\n"
    "    - host: registry.example.com\n"
    "      caFile: /etc/provgate/ca.pem\n"
    "      dockerConfig: pull/config.json\n"
    "      plainHTTP: false\n";

static pg_policy *
load_full(void)
{
	pg_policy *p = NULL;
	pg_err e;

	mk_tmpdir();
	write_file("key.pub", PEM_A);
	write_file("charts.gpg", "not really a keyring");
	write_file("policy.yaml", full_policy);
	if (pg_policy_load_dir(&p, tmpdir, &e) != PG_OK)
		fail_msg("%s", e.msg);
	return p;
}

static void
test_valid_full(void **state)
{
	pg_policy *p = load_full();
	const pg_rule *r;
	const pg_registry_cfg *g;
	const char *bytes;
	size_t len;
	char want[300];

	(void)state;
	assert_int_equal(pg_policy_mode(p), PG_MODE_AUDIT);
	assert_int_equal(pg_policy_n_docs(p), 1);
	assert_int_equal(pg_policy_n_images(p), 2);
	assert_int_equal(pg_policy_n_charts(p), 1);
	assert_true(pg_policy_exempt_namespace(p, "kube-system"));
	assert_true(pg_policy_exempt_namespace(p, "provgate"));
	assert_false(pg_policy_exempt_namespace(p, "kube"));
	assert_false(pg_policy_exempt_namespace(p, "kube-system2"));

	r = pg_policy_match_image(p, "registry.example.com/apps/web:1.0");
	assert_non_null(r);
	assert_string_equal(r->name, "apps");
	assert_false(r->is_chart);
	assert_int_equal(r->n_verify, 2);
	assert_int_equal(r->verify[0].kind, PG_VERIFY_COSIGN_KEY);
	assert_string_equal(r->verify[0].key->name, "release");
	assert_string_equal(r->verify[0].key->path, "key.pub");
	bytes = pg_policy_trust_bytes(p, r->verify[0].key, &len);
	assert_int_equal(len, strlen(PEM_A));
	assert_memory_equal(bytes, PEM_A, len);
	assert_int_equal(r->verify[1].kind, PG_VERIFY_COSIGN_KEYLESS);
	assert_string_equal(r->verify[1].root->name, "public-good");
	assert_non_null(r->verify[1].root->inline_data);
	assert_string_equal(r->verify[1].issuer, "https://token.actions.githubusercontent.com");
	assert_null(r->verify[1].issuer_regexp);
	assert_string_equal(r->verify[1].subject_regexp, "^https://github\\.com/example/.+");
	assert_int_equal(r->require, PG_REQUIRE_ATLEAST);
	assert_int_equal(r->at_least, 2);
	assert_int_equal(r->tlog, PG_TLOG_OPTIONAL);
	assert_true(r->require_digest);
	assert_int_equal(strlen(r->fingerprint), 64);
	snprintf(want, sizeof(want), "%s/policy.yaml", tmpdir);
	assert_string_equal(r->source_file, want);

	r = pg_policy_match_image(p, "registry.k8s.io/pause:3.9");
	assert_non_null(r);
	assert_true(r->allow_unsigned);
	assert_int_equal(r->n_verify, 0);
	assert_int_equal(r->tlog, PG_TLOG_REQUIRED); /* the default */

	r = pg_policy_match_chart(p, "https://charts.example.com/team-a");
	assert_non_null(r);
	assert_true(r->is_chart);
	assert_string_equal(r->repository, "https://charts.example.com");
	assert_int_equal(r->verify[0].kind, PG_VERIFY_PROV);
	assert_string_equal(r->verify[0].keyring->name, "charts");
	bytes = pg_policy_trust_bytes(p, r->verify[0].keyring, &len);
	assert_int_equal(len, strlen("not really a keyring"));
	assert_int_equal(r->require, PG_REQUIRE_ANY);

	g = pg_policy_registry(p, "Registry.Example.com");
	assert_non_null(g);
	assert_string_equal(g->ca_file, "/etc/provgate/ca.pem");
	snprintf(want, sizeof(want), "%s/pull/config.json", tmpdir);
	assert_string_equal(g->docker_config, want);
	assert_false(g->plain_http);
	assert_null(pg_policy_registry(p, "other.example.com"));
	pg_policy_unref(p);
	rm_tmpdir();
}

static void
test_zero_rules_valid(void **state)
{
	pg_policy *p = load_ok(HDR "spec:\n  exemptNamespaces: [kube-system]\n  images: []\n"
				   "  charts:\n");

	(void)state;
	assert_int_equal(pg_policy_mode(p), PG_MODE_ENFORCE);
	assert_int_equal(pg_policy_n_images(p), 0);
	assert_null(pg_policy_match_image(p, "docker.io/library/nginx:1.25"));
	assert_null(pg_policy_match_chart(p, "https://charts.example.com/x"));
	assert_false(pg_policy_host_allowed(p, "docker.io"));
	pg_policy_unref(p);
}

static void
test_default_policy_file(void **state)
{
	pg_policy *p = NULL;
	pg_err e;

	(void)state;
	/* tests run from the top of the repository */
	if (pg_policy_load_dir(&p, "policy", &e) != PG_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(pg_policy_mode(p), PG_MODE_ENFORCE);
	assert_int_equal(pg_policy_n_images(p) + pg_policy_n_charts(p), 0);
	assert_true(pg_policy_exempt_namespace(p, "kube-system"));
	assert_true(pg_policy_exempt_namespace(p, "provgate"));
	pg_policy_unref(p);
	if (pg_policy_load_dir(&p, "policy/examples/", &e) != PG_OK)
		fail_msg("%s", e.msg);
	assert_true(pg_policy_n_images(p) > 0);
	pg_policy_unref(p);
}

/* ---- strict errors ---- */

static void
test_err_invalid_yaml(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images: [a\n  b: c\n",
		     "t.yaml:6: invalid YAML: did not find expected ',' or ']' while parsing a "
		     "flow sequence");
	/* libyaml reports where it gave up: the line after the bad key */
	expect_error("a: b\nc d\n", "t.yaml:3: invalid YAML: could not find expected ':' while "
				    "scanning a simple key");
	expect_error("a: 'open\n", "t.yaml:2: invalid YAML: found unexpected end of stream while "
				   "scanning a quoted scalar");
}

static void
test_err_unknown_field(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n      verfy: []\n",
		     "t.yaml:8: spec.images[0]: unknown field \"verfy\" (allowed: name, match, "
		     "verify, require, tlog, requireDigest, allowUnsigned)");
	expect_error(
	    HDR "spec:\n  imgaes: []\n",
	    "t.yaml:5: spec: unknown field \"imgaes\" (allowed: mode, exemptNamespaces, trust, "
	    "images, charts, registries)");
	expect_error(HDR "status: {}\nspec: {}\n",
		     "t.yaml:4: unknown field \"status\" (allowed: apiVersion, kind, metadata, "
		     "spec)");
	expect_error(HDR "spec:\n  trust:\n    keys:\n      k: {pth: x}\n",
		     "t.yaml:7: spec.trust.keys.k: unknown field \"pth\" (allowed: path, inline)");
}

static void
test_err_repository_in_image_rule(void **state)
{
	(void)state;
	expect_error(
	    HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
		"      repository: https://x\n      allowUnsigned: true\n",
	    "t.yaml:8: spec.images[0]: unknown field \"repository\" (allowed: name, match, "
	    "verify, require, tlog, requireDigest, allowUnsigned)");
}

static void
test_err_unknown_kind(void **state)
{
	(void)state;
	expect_error("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		     "t.yaml:2: unknown kind \"ConfigMap\": a policy directory holds only "
		     "ProvenancePolicy documents");
	/* the second document is the stranger */
	expect_error(HDR "spec: {}\n---\nkind: Secret\n",
		     "t.yaml:6: unknown kind \"Secret\": a policy directory holds only "
		     "ProvenancePolicy documents");
	expect_error("apiVersion: provgate.dev/v1alpha1\nmetadata: {name: x}\nspec: {}\n",
		     "t.yaml:1: kind is missing (expected kind: ProvenancePolicy)");
	expect_error("- a\n- b\n", "t.yaml:1: expected a ProvenancePolicy document (a mapping), "
				   "found a list");
}

static void
test_err_api_version(void **state)
{
	(void)state;
	expect_error("apiVersion: provgate.dev/v1\nkind: ProvenancePolicy\nmetadata: {name: x}\n"
		     "spec: {}\n",
		     "t.yaml:1: unsupported apiVersion \"provgate.dev/v1\" (expected "
		     "provgate.dev/v1alpha1)");
	expect_error("apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nspec: {}\n",
		     "t.yaml:1: metadata is missing (metadata.name names the policy)");
	expect_error(HDR "\n", "t.yaml:1: spec is missing");
}

static void
test_err_wrong_types(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: {x: y}\n"
			 "      allowUnsigned: true\n",
		     "t.yaml:7: spec.images[0].match: expected a list of strings, found a mapping");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      allowUnsigned: yes\n",
		     "t.yaml:8: spec.images[0].allowUnsigned: expected true or false");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      allowUnsigned: \"true\"\n",
		     "t.yaml:8: spec.images[0].allowUnsigned: expected true or false");
	expect_error(HDR "spec:\n  mode: warn\n", "t.yaml:5: spec.mode: expected enforce or audit");
	expect_error(HDR "spec:\n  images: {a: b}\n",
		     "t.yaml:5: spec.images: expected a list of rules, found a mapping");
	expect_error(HDR "spec:\n  exemptNamespaces: [[a]]\n",
		     "t.yaml:5: spec.exemptNamespaces[0]: expected a string, found a list");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      allowUnsigned: true\n      tlog: maybe\n",
		     "t.yaml:9: spec.images[0].tlog: expected required or optional");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify: [{cosign: {key: k}}]\n      require: most\n",
		     "t.yaml:9: spec.images[0].require: expected any, all or {atLeast: N}");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify: [{cosign: {key: k}}]\n      require: {atLeast: -1}\n",
		     "t.yaml:9: spec.images[0].require: atLeast must be a positive number");
}

static void
test_err_undefined_trust(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - cosign: {key: nope}\n",
		     "t.yaml:9: spec.images[0].verify[0].cosign.key: key \"nope\" is not defined "
		     "in spec.trust.keys");
	expect_error(HDR "spec:\n  charts:\n    - name: a\n      match: [\"https://x/**\"]\n"
			 "      verify:\n        - prov: {keyring: ring}\n",
		     "t.yaml:9: spec.charts[0].verify[0].prov.keyring: keyring \"ring\" is not "
		     "defined in spec.trust.keyrings");
	expect_error(HDR
		     "spec:\n  images:\n    - name: a\n      match: [x]\n"
		     "      verify:\n        - cosign:\n            keyless:\n"
		     "              root: pg\n              issuer: i\n              subject: s\n",
		     "t.yaml:11: spec.images[0].verify[0].cosign.keyless.root: root \"pg\" is not "
		     "defined in spec.trust.roots");
}

static void
test_err_verify_and_allow(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n",
		     "t.yaml:6: spec.images[0]: rule \"a\" needs verify entries (or "
		     "allowUnsigned: true)");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      allowUnsigned: false\n      verify: []\n",
		     "t.yaml:9: spec.images[0]: rule \"a\" needs verify entries (or "
		     "allowUnsigned: true)");
	expect_error(HDR "spec:\n  trust:\n    keys:\n      k: {inline: \"" PEM_Y "\"}\n"
			 "  images:\n    - name: a\n      match: [x]\n"
			 "      verify: [{cosign: {key: k}}]\n      allowUnsigned: true\n",
		     "t.yaml:12: spec.images[0]: a rule has either verify or allowUnsigned: true, "
		     "not both");
}

static void
test_err_duplicate_rule_name(void **state)
{
	(void)state;
	expect_error(HDR
		     "spec:\n  images:\n    - {name: a, match: [x], allowUnsigned: true}\n"
		     "  charts:\n    - {name: a, match: [\"https://y/**\"], allowUnsigned: true}\n",
		     "t.yaml:8: spec.charts[0]: duplicate rule name \"a\" (also in t.yaml)");
}

static void
test_err_invalid_regexp(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - cosign:\n            keyless:\n"
			 "              issuerRegExp: 'a(b'\n              subject: s\n",
		     "t.yaml:11: spec.images[0].verify[0].cosign.keyless.issuerRegExp: invalid "
		     "regular expression \"a(b\": missing ) in regular expression");
}

static void
test_err_keyless_incomplete(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - cosign:\n            keyless:\n"
			 "              subject: s\n",
		     "t.yaml:11: spec.images[0].verify[0].cosign.keyless: exactly one of issuer "
		     "or issuerRegExp is required");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - cosign:\n            keyless:\n"
			 "              issuer: i\n              subject: s\n"
			 "              subjectRegExp: s\n",
		     "t.yaml:11: spec.images[0].verify[0].cosign.keyless: exactly one of subject "
		     "or subjectRegExp is required");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - cosign: {key: k, keyless: {}}\n",
		     "t.yaml:9: spec.images[0].verify[0].cosign: exactly one of key or keyless is "
		     "required");
	expect_error(
	    HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
		"      verify:\n        - notation: {key: k}\n",
	    "t.yaml:9: spec.images[0].verify[0].notation: unknown field \"key\" (allowed: "
	    "ca, signingAuthority, tsa, crls, identities, level, verifyTimestamp, revocation, "
	    "config)");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - sigstore: {key: k}\n",
		     "t.yaml:9: spec.images[0].verify[0]: unknown field \"sigstore\" (allowed: "
		     "cosign, prov, notation, github)");
}

static void
test_err_prov_in_image_rule(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  images:\n    - name: a\n      match: [x]\n"
			 "      verify:\n        - prov: {keyring: k}\n",
		     "t.yaml:9: spec.images[0].verify[0]: prov verification is only for charts "
		     "rules");
}

static void
test_err_at_least(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  trust:\n    keys:\n      k: {inline: \"" PEM_Y "\"}\n"
			 "  images:\n    - name: a\n      match: [x]\n"
			 "      verify: [{cosign: {key: k}}]\n      require: {atLeast: 2}\n",
		     "t.yaml:12: spec.images[0].require: atLeast 2 but only 1 verify entries");
}

static void
test_err_anchors_aliases(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  exemptNamespaces: &ns [a]\n",
		     "t.yaml:5: YAML anchors and aliases are not allowed in a policy");
	expect_error("a: &x [1, 2]\nb: [*x, *x]\n",
		     "t.yaml:1: YAML anchors and aliases are not allowed in a policy");
	expect_error("a: *x\n", "t.yaml:1: YAML anchors and aliases are not allowed in a policy");
}

static void
test_err_tags_and_keys(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  mode: !!str enforce\n",
		     "t.yaml:5: YAML tags (\"tag:yaml.org,2002:str\") are not allowed in a policy");
	expect_error(HDR "spec:\n  mode: enforce\n  mode: audit\n",
		     "t.yaml:6: duplicate key \"mode\" (first on line 5)");
	expect_error("? [a]\n: b\n", "t.yaml:1: mapping keys must be plain strings");
}

static void
test_err_depth(void **state)
{
	char yaml[512];
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < PG_POLICY_DEPTH_MAX + 1; i++)
		yaml[n++] = '[';
	for (i = 0; i < PG_POLICY_DEPTH_MAX + 1; i++)
		yaml[n++] = ']';
	yaml[n] = '\0';
	expect_error(yaml, "t.yaml:1: YAML nested deeper than 32 levels");
	/* exactly the limit parses (and then fails as a non-policy) */
	yaml[PG_POLICY_DEPTH_MAX] = ' ';
	yaml[PG_POLICY_DEPTH_MAX + 1] = ' ';
	expect_error(yaml, "t.yaml:1: expected a ProvenancePolicy document (a mapping), found a "
			   "list");
}

static void
test_err_trust(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  trust:\n    keys:\n      k: {path: /nonexistent/k.pub}\n",
		     "t.yaml:7: spec.trust.keys.k: cannot read /nonexistent/k.pub: No such file or "
		     "directory");
	expect_error(HDR "spec:\n  trust:\n    keys:\n      k: {inline: nope}\n",
		     "t.yaml:7: spec.trust.keys.k: not a PEM public key (expected \"-----BEGIN "
		     "PUBLIC KEY-----\")");
	expect_error(HDR "spec:\n  trust:\n    roots:\n      r: {inline: a, path: b}\n",
		     "t.yaml:7: spec.trust.roots.r: exactly one of path or inline is required");
	expect_error(
	    HDR "spec:\n  trust:\n    cert: {}\n",
	    "t.yaml:6: spec.trust: unknown field \"cert\" (allowed: keys, keyrings, roots, "
	    "certs)");
	expect_error(HDR "spec:\n  trust:\n    roots:\n      r: {path: /dev/null/x}\n",
		     "t.yaml:7: spec.trust.roots.r: cannot read /dev/null/x: Not a directory");
	expect_error(HDR "spec:\n  trust:\n    roots:\n      r: {path: /tmp}\n",
		     "t.yaml:7: spec.trust.roots.r: cannot read /tmp: not a regular file");
}

static void
test_err_chart_fields(void **state)
{
	(void)state;
	expect_error(HDR "spec:\n  charts:\n    - name: a\n      repository: https://c\n"
			 "      allowUnsigned: true\n",
		     "t.yaml:7: spec.charts[0]: repository needs chartNames (which charts it "
		     "publishes)");
	expect_error(HDR "spec:\n  charts:\n    - name: a\n      repository: ftp://c\n"
			 "      chartNames: [x]\n      allowUnsigned: true\n",
		     "t.yaml:7: spec.charts[0].repository: must start with https://, http:// or "
		     "oci://");
	expect_error(HDR "spec:\n  charts:\n    - name: a\n      match: [\"oci://x/c\"]\n"
			 "      chartNames: [x]\n      allowUnsigned: true\n",
		     "t.yaml:8: spec.charts[0]: chartNames needs repository (where the charts are "
		     "fetched)");
	expect_error(HDR "spec:\n  images:\n    - name: a\n      allowUnsigned: true\n",
		     "t.yaml:6: spec.images[0]: match needs at least one pattern");
	expect_error(HDR "spec:\n  images:\n    - match: [x]\n      allowUnsigned: true\n",
		     "t.yaml:6: spec.images[0]: name is required");
}

static void
test_err_registries(void **state)
{
	(void)state;
	expect_error(HDR
		     "spec:\n  registries:\n    - host: r.example.com\n    - host: R.example.com\n",
		     "t.yaml:7: spec.registries[1]: registry \"R.example.com\" is listed twice");
	expect_error(HDR "spec:\n  registries:\n    - host: https://r.example.com\n",
		     "t.yaml:6: spec.registries[0].host: expected a host or host:port (no scheme, "
		     "path or wildcard)");
	expect_error(HDR "spec:\n  registries:\n    - caFile: x\n",
		     "t.yaml:6: spec.registries[0]: host is required");
	expect_error(HDR "spec:\n  registries:\n    - host: r\n      insecure: true\n",
		     "t.yaml:7: spec.registries[0]: unknown field \"insecure\" (allowed: host, "
		     "caFile, dockerConfig, plainHTTP)");
}

static void
test_err_no_policy(void **state)
{
	(void)state;
	expect_error("", "no ProvenancePolicy found in t.yaml");
	expect_error("# just a comment\n---\n---\n", "no ProvenancePolicy found in t.yaml");
}

static void
test_err_too_big(void **state)
{
	pg_policy *p = NULL;
	pg_err e;
	char *big = calloc(1, PG_POLICY_FILE_MAX + 2);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', PG_POLICY_FILE_MAX + 1);
	assert_int_equal(pg_policy_load_buffer(&p, "big.yaml", big, PG_POLICY_FILE_MAX + 1, &e),
			 PG_ETOOBIG);
	assert_string_equal(e.msg, "big.yaml is larger than 1048576 bytes");
	free(big);
}

/* ---- merging ---- */

static void
test_merge_documents(void **state)
{
	pg_policy *p;

	(void)state;
	/* trust in the second document, used by the first; mode set once */
	p = load_ok(HDR
		    "spec:\n  mode: audit\n  exemptNamespaces: [a]\n  images:\n"
		    "    - name: one\n      match: [\"x/**\"]\n      verify: [{cosign: {key: k}}]\n"
		    "---\n" HDR "spec:\n  mode: audit\n  exemptNamespaces: [a, b]\n"
		    "  trust:\n    keys:\n      k: {inline: \"" PEM_Y "\"}\n"
		    "  images:\n    - name: two\n      match: [\"x/**\", \"y/**\"]\n"
		    "      allowUnsigned: true\n");
	assert_int_equal(pg_policy_n_docs(p), 2);
	assert_int_equal(pg_policy_mode(p), PG_MODE_AUDIT);
	assert_int_equal(pg_policy_n_images(p), 2);
	assert_string_equal(pg_policy_match_image(p, "x/a:1")->name, "one");
	assert_string_equal(pg_policy_match_image(p, "y/a:1")->name, "two");
	assert_non_null(pg_policy_match_image(p, "x/a:1")->verify[0].key);
	assert_true(pg_policy_exempt_namespace(p, "b"));
	assert_int_equal(p->n_exempt, 2);
	pg_policy_unref(p);
}

static void
test_merge_conflicts(void **state)
{
	(void)state;
	expect_error(
	    HDR "spec:\n  mode: audit\n---\n" HDR "spec:\n  mode: enforce\n",
	    "t.yaml:11: spec.mode: mode enforce conflicts with mode audit set at t.yaml:5");
	expect_error(HDR "spec:\n  trust:\n    keys:\n      k: {inline: \"" PEM_Y "\"}\n"
			 "---\n" HDR "spec:\n  trust:\n    keys:\n      k: {inline: \"" PEM_Y
			 "\"}\n",
		     "t.yaml:15: spec.trust.keys.k: \"k\" is already defined at t.yaml:7");
	/* the same name in another category is a different thing */
	pg_policy_unref(load_ok(HDR "spec:\n  trust:\n    keys:\n      k: {inline: \"" PEM_Y
				    "\"}\n    roots:\n      k: {inline: x}\n"));
}

/* PG_POLICY_RULES_MAX rules over several files load; one more is a load
 * error naming the bound. */
static void
test_rules_bound(void **state)
{
	pg_policy *p = NULL;
	pg_err e;
	char name[32];
	size_t per = 2500, files = (PG_POLICY_RULES_MAX + per - 1) / per, f, i, len;
	char *text = malloc(per * 80 + 256);

	(void)state;
	assert_non_null(text);
	mk_tmpdir();
	for (f = 0; f < files; f++) {
		len = (size_t)sprintf(text, HDR "spec:\n  images:\n");
		for (i = 0; i < per && f * per + i < PG_POLICY_RULES_MAX; i++)
			len += (size_t)sprintf(text + len,
					       "    - {name: r%zu, match: [\"x%zu/**\"], "
					       "allowUnsigned: true}\n",
					       f * per + i, f * per + i);
		snprintf(name, sizeof(name), "p%02zu.yaml", f);
		write_file(name, text);
	}
	if (pg_policy_load_dir(&p, tmpdir, &e) != PG_OK)
		fail_msg("%s", e.msg);
	pg_policy_unref(p);
	p = NULL;
	write_file("z-one-more.yaml",
		   HDR "spec:\n  charts:\n    - {name: last, match: [\"https://c.example/**\"], "
		       "allowUnsigned: true}\n");
	assert_int_equal(pg_policy_load_dir(&p, tmpdir, &e), PG_EINVAL);
	assert_null(p);
	assert_non_null(strstr(e.msg, "more than 10000 rules"));
	free(text);
	rm_tmpdir();
}

static void
test_merge_files_in_name_order(void **state)
{
	pg_policy *p = NULL;
	pg_err e;
	char want[128];

	(void)state;
	mk_tmpdir();
	/* b- sorts after a-: a-'s rule must win for the shared pattern */
	write_file("b-late.yaml",
		   HDR "spec:\n  images:\n"
		       "    - {name: late, match: [\"x/**\"], allowUnsigned: true}\n");
	write_file("a-early.yml",
		   HDR "spec:\n  mode: enforce\n  images:\n"
		       "    - {name: early, match: [\"x/**\"], allowUnsigned: true}\n");
	write_file("README.md", "# not a policy\n");
	write_file(".hidden.yaml", "this: is not loaded\n");
	write_file("..data", "nor: this\n");
	snprintf(want, sizeof(want), "%s/..2024_01_01_00_00_00.123", tmpdir);
	assert_int_equal(mkdir(want, 0700), 0);
	snprintf(want, sizeof(want), "%s/sub.yaml", tmpdir);
	assert_int_equal(mkdir(want, 0700), 0); /* a directory: skipped */
	if (pg_policy_load_dir(&p, tmpdir, &e) != PG_OK)
		fail_msg("%s", e.msg);
	assert_int_equal(pg_policy_n_docs(p), 2);
	assert_string_equal(p->images[0]->name, "early");
	assert_string_equal(p->images[1]->name, "late");
	assert_string_equal(pg_policy_match_image(p, "x/y:1")->name, "early");
	snprintf(want, sizeof(want), "%s/b-late.yaml", tmpdir);
	assert_string_equal(p->images[1]->source_file, want);
	pg_policy_unref(p);

	/* an error names the file it is in */
	write_file("c-bad.yaml", HDR "spec:\n  images:\n    - {name: early, match: [z], "
				     "allowUnsigned: true}\n");
	p = NULL;
	assert_int_equal(pg_policy_load_dir(&p, tmpdir, &e), PG_EINVAL);
	assert_null(p);
	snprintf(want, sizeof(want), "%s/c-bad.yaml:6: spec.images[0]: duplicate rule name",
		 tmpdir);
	assert_memory_equal(e.msg, want, strlen(want));
	rm_tmpdir();
}

static void
test_load_dir_errors(void **state)
{
	pg_policy *p = NULL;
	pg_err e;
	char want[128];
	int i;

	(void)state;
	assert_int_equal(pg_policy_load_dir(&p, "/nonexistent-policy-dir", &e), PG_EIO);
	assert_string_equal(e.msg, "cannot read policy directory /nonexistent-policy-dir: No such "
				   "file or directory");
	mk_tmpdir();
	write_file("README.md", "nothing here\n");
	assert_int_equal(pg_policy_load_dir(&p, tmpdir, &e), PG_EINVAL);
	snprintf(want, sizeof(want), "no ProvenancePolicy found in %s", tmpdir);
	assert_string_equal(e.msg, want);
	for (i = 0; i <= PG_POLICY_FILES_MAX; i++) {
		char name[32];

		snprintf(name, sizeof(name), "p%03d.yaml", i);
		write_file(name, "");
	}
	assert_int_equal(pg_policy_load_dir(&p, tmpdir, &e), PG_ETOOBIG);
	snprintf(want, sizeof(want), "%s: more than 256 policy files", tmpdir);
	assert_string_equal(e.msg, want);
	assert_null(p);
	rm_tmpdir();
}

/* ---- globs and matching ---- */

static void
test_glob_table(void **state)
{
	static const struct {
		const char *pat, *s;
		bool want;
	} t[] = {
	    {"", "", true},
	    {"", "a", false},
	    {"a", "a", true},
	    {"a", "ab", false},
	    {"*", "", true},
	    {"*", "abc", true},
	    {"*", "a/b", false},
	    {"**", "a/b/c", true},
	    {"**", "", true},
	    {"a/*", "a/b", true},
	    {"a/*", "a/b/c", false},
	    {"a/*", "a/", true},
	    {"a/**", "a/b/c", true},
	    {"a/**", "a", false},
	    {"a/**/c", "a/b/x/c", true},
	    {"a/**/c", "a/c", false},
	    {"a/*/c", "a/b/c", true},
	    {"a/*/c", "a/b/x/c", false},
	    {"*.example.com", "r.example.com", true},
	    {"*.example.com", "example.com", false},
	    {"team-*", "team-a", true},
	    {"team-*", "xteam-a", false},
	    {"a?c", "abc", false}, /* '?' is literal */
	    {"a?c", "a?c", true},
	    {"[ab]", "a", false}, /* so are brackets */
	    {"a***b", "a/x/b", true},
	    {"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	    {"registry.k8s.io/pause:*", "registry.k8s.io/pause:3.9", true},
	    {"registry.k8s.io/pause:*", "registry.k8s.io/pause/x:3.9", false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (pg_glob_match(t[i].pat, t[i].s) != t[i].want)
			fail_msg("glob \"%s\" vs \"%s\": want %d", t[i].pat, t[i].s, t[i].want);
	assert_false(pg_glob_match(NULL, "a"));
	assert_false(pg_glob_match("a", NULL));
}

static void
test_glob_pathological(void **state)
{
	char pat[256], s[4097];
	size_t i;
	clock_t t0 = clock();

	(void)state;
	/* many stars against a long subject: must be polynomial */
	for (i = 0; i < 100; i++) {
		pat[2 * i] = '*';
		pat[2 * i + 1] = 'a';
	}
	pat[200] = 'b';
	pat[201] = '\0';
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0'; /* longer than the stack buffer: heap path */
	assert_false(pg_glob_match(pat, s));
	s[sizeof(s) - 2] = 'b';
	assert_true(pg_glob_match(pat, s));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

static void
test_match_image(void **state)
{
	pg_policy *p = load_ok(
	    HDR
	    "spec:\n  images:\n"
	    "    - {name: pinned, match: [\"docker.io/library/nginx@sha256:*\"], allowUnsigned: "
	    "true}\n"
	    "    - {name: pause, match: [\"registry.k8s.io/pause:*\"], allowUnsigned: true}\n"
	    "    - {name: apps, match: [\"registry.example.com/apps/**\"], allowUnsigned: true}\n"
	    "    - {name: one, match: [\"ghcr.io/org/*\"], allowUnsigned: true}\n"
	    "    - {name: nginx, match: [\"docker.io/library/nginx\"], allowUnsigned: true}\n"
	    "    - {name: port, match: [\"localhost:5000/app\"], allowUnsigned: true}\n");
	static const char dg[] =
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char ref[256];

	(void)state;
	assert_string_equal(pg_policy_match_image(p, "registry.k8s.io/pause:3.9")->name, "pause");
	assert_null(pg_policy_match_image(p, "registry.k8s.io/pause2:3.9"));
	snprintf(ref, sizeof(ref), "registry.k8s.io/pause@%s", dg);
	assert_null(pg_policy_match_image(p, ref)); /* the pattern pins a tag */
	assert_string_equal(pg_policy_match_image(p, "registry.example.com/apps/web:1.0")->name,
			    "apps");
	assert_string_equal(pg_policy_match_image(p, "registry.example.com/apps/a/b/c:1")->name,
			    "apps");
	snprintf(ref, sizeof(ref), "registry.example.com/apps/web:1.0@%s", dg);
	assert_string_equal(pg_policy_match_image(p, ref)->name, "apps");
	assert_null(pg_policy_match_image(p, "registry.example.com/apps2/web:1.0"));
	assert_null(pg_policy_match_image(p, "evil.com/registry.example.com/apps/web:1"));
	assert_string_equal(pg_policy_match_image(p, "ghcr.io/org/app:v1")->name, "one");
	assert_null(pg_policy_match_image(p, "ghcr.io/org/team/app:v1"));
	/* a bare name matches every tag and digest of that image */
	assert_string_equal(pg_policy_match_image(p, "docker.io/library/nginx:1.25")->name,
			    "nginx");
	snprintf(ref, sizeof(ref), "docker.io/library/nginx@%s", dg);
	assert_string_equal(pg_policy_match_image(p, ref)->name, "pinned"); /* first wins */
	snprintf(ref, sizeof(ref), "docker.io/library/nginx:1.25@%s", dg);
	assert_string_equal(pg_policy_match_image(p, ref)->name, "nginx");
	assert_null(pg_policy_match_image(p, "docker.io/library/nginx-evil:1.25"));
	assert_string_equal(pg_policy_match_image(p, "localhost:5000/app:latest")->name, "port");
	assert_null(pg_policy_match_image(p, "localhost:5001/app:latest"));
	assert_null(pg_policy_match_image(p, NULL));
	pg_policy_unref(p);
}

static void
test_match_chart(void **state)
{
	pg_policy *p = load_ok(HDR "spec:\n  charts:\n"
				   "    - name: web\n"
				   "      match: [\"https://charts.example.com/**\"]\n"
				   "      repository: https://charts.example.com\n"
				   "      chartNames: [\"team-*\", \"platform\"]\n"
				   "      allowUnsigned: true\n"
				   "    - name: oci\n"
				   "      match: [\"oci://registry.example.com/charts/app\"]\n"
				   "      allowUnsigned: true\n"
				   "    - name: release-only\n"
				   "      repository: oci://registry.example.com/rel\n"
				   "      chartNames: [\"*\"]\n"
				   "      allowUnsigned: true\n");

	(void)state;
	assert_string_equal(pg_policy_match_chart(p, "https://charts.example.com/team-a")->name,
			    "web");
	assert_string_equal(
	    pg_policy_match_chart(p, "https://charts.example.com/sub/x-1.2.3.tgz")->name, "web");
	assert_null(pg_policy_match_chart(p, "https://charts.example.org/team-a"));
	assert_null(pg_policy_match_chart(p, "http://charts.example.com/team-a"));
	assert_string_equal(
	    pg_policy_match_chart(p, "oci://registry.example.com/charts/app:1.0.0")->name, "oci");
	assert_string_equal(pg_policy_match_chart(p, "oci://registry.example.com/charts/app")->name,
			    "oci");
	assert_null(pg_policy_match_chart(p, "oci://registry.example.com/charts/app2:1.0.0"));
	assert_null(pg_policy_match_chart(p, "release://team-a"));
	/* release Secrets: by chart name, rules with a repository only */
	assert_string_equal(pg_policy_match_chart_name(p, "team-a")->name, "web");
	assert_string_equal(pg_policy_match_chart_name(p, "platform")->name, "web");
	assert_string_equal(pg_policy_match_chart_name(p, "other")->name, "release-only");
	assert_null(pg_policy_match_image(p, "oci://registry.example.com/charts/app:1.0.0"));
	pg_policy_unref(p);
	p = load_ok(HDR
		    "spec:\n  charts:\n    - {name: c, match: [\"**\"], allowUnsigned: true}\n");
	assert_null(pg_policy_match_chart_name(p, "team-a")); /* no repository */
	pg_policy_unref(p);
}

static void
test_host_allowed(void **state)
{
	pg_policy *p = load_ok(
	    HDR "spec:\n  images:\n"
		"    - {name: a, match: [\"registry.example.com/apps/**\"], allowUnsigned: true}\n"
		"    - {name: b, match: [\"*.mirror.example.net/**\"], allowUnsigned: true}\n"
		"    - {name: c, match: [\"docker.io/library/*\"], allowUnsigned: true}\n"
		"    - {name: d, match: [\"localhost:5000/x\"], allowUnsigned: true}\n"
		"  charts:\n"
		"    - {name: e, match: [\"https://charts.example.com/**\"], allowUnsigned: true}\n"
		"    - {name: f, repository: \"oci://oci.example.com/base\", chartNames: [x],\n"
		"       allowUnsigned: true}\n"
		"  registries:\n    - host: only-config.example.com\n");

	(void)state;
	assert_true(pg_policy_host_allowed(p, "registry.example.com"));
	assert_true(pg_policy_host_allowed(p, "REGISTRY.example.com"));
	assert_false(pg_policy_host_allowed(p, "registry.example.com:8443"));
	assert_false(pg_policy_host_allowed(p, "registry.example.com.evil.net"));
	assert_true(pg_policy_host_allowed(p, "eu.mirror.example.net"));
	assert_false(pg_policy_host_allowed(p, "mirror.example.net"));
	assert_true(pg_policy_host_allowed(p, "docker.io"));
	assert_true(pg_policy_host_allowed(p, "registry-1.docker.io"));
	assert_true(pg_policy_host_allowed(p, "localhost:5000"));
	assert_false(pg_policy_host_allowed(p, "localhost"));
	assert_true(pg_policy_host_allowed(p, "charts.example.com"));
	assert_true(pg_policy_host_allowed(p, "oci.example.com"));
	assert_true(pg_policy_host_allowed(p, "only-config.example.com"));
	assert_false(pg_policy_host_allowed(p, "169.254.169.254"));
	assert_false(pg_policy_host_allowed(p, ""));
	assert_false(pg_policy_host_allowed(p, "a/b"));
	assert_false(pg_policy_host_allowed(p, NULL));
	pg_policy_unref(p);
	p = load_ok(HDR
		    "spec:\n  images:\n    - {name: any, match: [\"**\"], allowUnsigned: true}\n");
	assert_true(pg_policy_host_allowed(p, "anything.example"));
	pg_policy_unref(p);
}

/* ---- fingerprints and reference counts ---- */

static void
fingerprint_of(char out[65], const char *key_file_text)
{
	pg_policy *p = NULL;
	pg_err e;

	write_file("k.pub", key_file_text);
	write_file("p.yaml", HDR "spec:\n  trust:\n    keys:\n      k: {path: k.pub}\n"
				 "  images:\n    - name: a\n      match: [\"x/**\"]\n"
				 "      verify: [{cosign: {key: k}}]\n");
	if (pg_policy_load_dir(&p, tmpdir, &e) != PG_OK)
		fail_msg("%s", e.msg);
	memcpy(out, p->images[0]->fingerprint, 65);
	pg_policy_unref(p);
}

/* Fingerprint of rule i of a policy whose only trusted root (the default
 * root) has the text root_text, and whose rules use it implicitly. */
static void
fingerprint_default_root(char out[][65], const char *root_text)
{
	pg_policy *p = NULL;
	pg_err e;
	size_t i;

	write_file("k.pub", PEM_A);
	write_file("root.data", root_text);
	write_file("p.yaml",
		   HDR "spec:\n  trust:\n    keys:\n      k: {path: k.pub}\n"
		       "    roots:\n      r: {path: root.data}\n"
		       "  images:\n    - name: a\n      match: [\"x/**\"]\n"
		       "      verify: [{cosign: {key: k}}]\n"
		       "    - name: b\n      match: [\"y/**\"]\n"
		       "      verify: [{cosign: {keyless: {issuer: i, subject: s}}}]\n"
		       "    - name: c\n      match: [\"z/**\"]\n"
		       "      verify: [{cosign: {keyless: {root: r, issuer: i, subject: s}}}]\n");
	if (pg_policy_load_dir(&p, tmpdir, &e) != PG_OK)
		fail_msg("%s", e.msg);
	for (i = 0; i < 3; i++)
		memcpy(out[i], p->images[i]->fingerprint, 65);
	pg_policy_unref(p);
}

static void
test_fingerprint(void **state)
{
	char a[65], b[65], c[65];
	pg_policy *p1, *p2;

	(void)state;
	mk_tmpdir();
	fingerprint_of(a, PEM_A);
	fingerprint_of(b, PEM_A);
	assert_string_equal(a, b); /* deterministic */
	/* same key, different bytes (a trailing newline): a new fingerprint */
	fingerprint_of(c, PEM_A "\n");
	assert_string_not_equal(a, c);
	/* The default trusted root is trust material of every cosign verifier
	 * that does not name a root (key verifiers check tlog entries with
	 * it): a change of its bytes changes their fingerprints. */
	{
		char f1[3][65], f2[3][65], f3[3][65];
		size_t i;

		fingerprint_default_root(f1, "{\"mediaType\": \"x\"}\n");
		fingerprint_default_root(f2, "{\"mediaType\": \"x\"}\n");
		fingerprint_default_root(f3, "{\"mediaType\": \"y\"}\n");
		for (i = 0; i < 3; i++) {
			assert_string_equal(f1[i], f2[i]);
			assert_string_not_equal(f1[i], f3[i]);
		}
	}
	rm_tmpdir();

	/* the rule's own fields count too */
	p1 = load_ok(HDR "spec:\n  images:\n    - {name: a, match: [x], allowUnsigned: true}\n");
	p2 = load_ok(HDR "spec:\n  images:\n    - {name: a, match: [y], allowUnsigned: true}\n");
	assert_string_not_equal(p1->images[0]->fingerprint, p2->images[0]->fingerprint);
	pg_policy_unref(p2);
	p2 = load_ok(HDR "spec:\n  images:\n    - {name: a, match: [x], allowUnsigned: true,"
			 " requireDigest: true}\n");
	assert_string_not_equal(p1->images[0]->fingerprint, p2->images[0]->fingerprint);
	pg_policy_unref(p2);
	/* length-prefixed fields: moving bytes between fields changes it */
	p2 = load_ok(HDR "spec:\n  images:\n    - {name: a, match: [x, y], allowUnsigned: true}\n");
	pg_policy_unref(p1);
	p1 = load_ok(HDR "spec:\n  images:\n    - {name: a, match: [xy], allowUnsigned: true}\n");
	assert_string_not_equal(p1->images[0]->fingerprint, p2->images[0]->fingerprint);
	pg_policy_unref(p1);
	pg_policy_unref(p2);
}

static void *
ref_thread(void *arg)
{
	pg_policy *p = arg;
	int i;

	for (i = 0; i < 10000; i++) {
		pg_policy_ref(p);
		assert_non_null(pg_policy_match_image(p, "x/a:1"));
		pg_policy_unref(p);
	}
	return NULL;
}

static void
test_refcount(void **state)
{
	pg_policy *p = load_ok(HDR "spec:\n  images:\n    - {name: a, match: [\"x/**\"], "
				   "allowUnsigned: true}\n");
	pthread_t th[4];
	int i;

	(void)state;
	assert_int_equal(atomic_load(&p->refs), 1);
	pg_policy_ref(p);
	assert_int_equal(atomic_load(&p->refs), 2);
	pg_policy_unref(p);
	assert_int_equal(atomic_load(&p->refs), 1);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, ref_thread, p), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(atomic_load(&p->refs), 1);
	pg_policy_unref(p); /* the last reference frees (valgrind/ASan check) */
	pg_policy_unref(NULL);
}

static void
test_values_and_nulls(void **state)
{
	pg_policy *p;

	(void)state;
	/* null lists are empty lists; flow and block styles are equal */
	p = load_ok(HDR "spec:\n  exemptNamespaces:\n  images: ~\n  charts: null\n"
			"  trust: {}\n  registries: []\n");
	assert_int_equal(pg_policy_n_images(p), 0);
	pg_policy_unref(p);
	/* metadata labels and annotations are allowed */
	p = load_ok("apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata:\n"
		    "  name: x\n  labels: {app: provgate}\n  annotations: {a: b}\nspec: {}\n");
	pg_policy_unref(p);
	expect_error(HDR "spec:\n  images:\n    - {name: \"\", match: [x], allowUnsigned: true}\n",
		     "t.yaml:6: spec.images[0].name: must not be empty");
	expect_error(HDR "spec:\n  images:\n    - {name: ~, match: [x], allowUnsigned: true}\n",
		     "t.yaml:6: spec.images[0].name: expected a string, found nothing");
	expect_error(HDR
		     "spec:\n  images:\n    - {name: \"a\\0b\", match: [x], allowUnsigned: true}\n",
		     "t.yaml:6: spec.images[0].name: a string must not contain NUL bytes");
}

/* Issue 10 item 6: chart patterns that can never match a normalised URL
 * are refused by `policy check`; matching splits scheme, host and path. */
static void
test_chart_patterns(void **state)
{
	static const struct {
		const char *pat, *why;
	} bad[] = {
	    {"charts.example.com/**", "starts with https://"},
	    {"HTTPS://c.example.com/**", "starts with https://"},
	    {"https://C.example.com/**", "upper case in the host"},
	    {"https://good@c.example.com/**", "user information"},
	    {"https://**.example.com/x", "in the host"},
	    {"https://c.example.com:443/**", "default port :443"},
	    {"oci://r.example.com:443/**", "default port :443"},
	    {"http://c.example.com:80/**", "default port :80"},
	    {"https://c.example.com/x?y", "never appear"},
	    {"https://c.example.com/x#y", "never appear"},
	    {"https://c.example.com/%2e/x", "never appear"},
	    {"https://c.example.com/a/../b/**", "dot segments"},
	    {"https://c.example.com/./b/**", "dot segments"},
	    {"https://c.example.com/charts/", "trailing '/'"},
	    {"oci://r.example.com/Charts/**", "upper case in an OCI"},
	    {"https:///x", "no host"},
	};
	static const char *const good[] = {"**",
					   "https://c.example.com/**",
					   "https://*.example.com/**",
					   "http://c.example.com:8080/x/*",
					   "oci://r.example.com/c/x",
					   "https://c.example.com/a..b/.x/**",
					   "https://127.0.0.1:*/**"};
	char y[1024], want[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pg_policy *p = NULL;
		pg_err e;

		(void)snprintf(y, sizeof(y),
			       HDR "spec:\n  charts:\n    - {name: a, match: [\"%s\"], "
				   "allowUnsigned: true}\n",
			       bad[i].pat);
		(void)snprintf(want, sizeof(want), "chart pattern \"%s\" cannot match", bad[i].pat);
		if (load_str(&p, y, &e) == PG_OK || strstr(e.msg, want) == NULL ||
		    strstr(e.msg, bad[i].why) == NULL)
			fail_msg("%s: %s", bad[i].pat, p ? "accepted" : e.msg);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		(void)snprintf(y, sizeof(y),
			       HDR "spec:\n  charts:\n    - {name: a, match: [\"%s\"], "
				   "allowUnsigned: true, allowVersionRanges: true}\n",
			       good[i]);
		pg_policy_unref(load_ok(y));
	}
}

static void
test_chart_match_split(void **state)
{
	pg_policy *p;

	(void)state;
	p = load_ok(HDR
		    "spec:\n  charts:\n"
		    "    - {name: wild, match: [\"https://*.good.example/charts/**\"], "
		    "allowUnsigned: true}\n"
		    "    - {name: oci, match: [\"oci://r.example/c/web\"], allowUnsigned: true,\n"
		    "       allowVersionRanges: true, repository: \"OCI://R.example:443/c/\", "
		    "chartNames: [web]}\n");
	assert_string_equal(pg_policy_match_chart(p, "https://a.good.example/charts/x")->name,
			    "wild");
	/* a host '*' sees the host only: never a path, a port trick or userinfo */
	assert_null(pg_policy_match_chart(p, "https://evil.example/x.good.example/charts/x"));
	assert_null(pg_policy_match_chart(p, "https://a.good.example/other/x"));
	assert_null(pg_policy_match_chart(p, "http://a.good.example/charts/x"));
	assert_null(pg_policy_match_chart(p, "https://good.example/charts/x"));
	assert_string_equal(pg_policy_match_chart(p, "oci://r.example/c/web:1.0.0")->name, "oci");
	assert_string_equal(pg_policy_match_chart(p, "oci://r.example/c/web@sha256:0")->name,
			    "oci");
	assert_null(pg_policy_match_chart(p, "oci://r.example/c/webx:1.0.0"));
	assert_null(pg_policy_match_chart(p, "oci://r.example:5000/c/web:1.0.0"));
	/* the repository is normalised at load */
	assert_string_equal(pg_policy_match_chart_name(p, "web")->repository, "oci://r.example/c");
	assert_true(pg_policy_match_chart_name(p, "web")->allow_version_ranges);
	assert_false(
	    pg_policy_match_chart(p, "https://a.good.example/charts/x")->allow_version_ranges);
	pg_policy_unref(p);
	expect_error(
	    HDR "spec:\n  charts:\n    - {name: a, repository: \"https://u@c.example\", "
		"chartNames: [x], allowUnsigned: true}\n",
	    "t.yaml:6: spec.charts[0].repository: invalid URL \"https://u@c.example\": user "
	    "information (user@host) not accepted");
	expect_error(HDR "spec:\n  images:\n    - {name: a, match: [x], allowUnsigned: true, "
			 "allowVersionRanges: true}\n",
		     "t.yaml:6: spec.images[0]: unknown field \"allowVersionRanges\" (allowed: "
		     "name, match, verify, require, tlog, requireDigest, allowUnsigned)");
}

/* Attestations (issue 13): the cosign form, the github preset, their
 * errors, and fingerprints that change with a requirement. */
#define ATT_RULE(verify)                                                                           \
	HDR "spec:\n  images:\n    - name: a\n      match: [x]\n      verify:\n" verify

static void
test_attestations(void **state)
{
	const char *cosign_att =
	    ATT_RULE("        - cosign:\n            keyless: {issuer: i, subject: s}\n"
		     "            attestations:\n"
		     "              - predicateType: https://slsa.dev/provenance/v1\n"
		     "                conditions:\n"
		     "                  - {path: /predicate/a~1b, equals: x}\n"
		     "                  - {cert: sourceRepositoryRef, in: [refs/heads/main]}\n"
		     "                  - {cert: runnerEnvironment, regExp: '^github-hosted$'}\n");
	const char *cosign_att2 =
	    ATT_RULE("        - cosign:\n            keyless: {issuer: i, subject: s}\n"
		     "            attestations:\n"
		     "              - predicateType: https://slsa.dev/provenance/v1\n"
		     "                conditions:\n"
		     "                  - {path: /predicate/a~1b, equals: y}\n"
		     "                  - {cert: sourceRepositoryRef, in: [refs/heads/main]}\n"
		     "                  - {cert: runnerEnvironment, regExp: '^github-hosted$'}\n");
	const pg_rule *r;
	pg_policy *p, *p2;
	char fp[65];

	(void)state;
	p = load_ok(cosign_att);
	r = pg_policy_match_image(p, "x");
	assert_non_null(r);
	assert_int_equal(r->verify[0].kind, PG_VERIFY_COSIGN_KEYLESS);
	assert_int_equal(r->verify[0].n_attest, 1);
	assert_string_equal(r->verify[0].attest[0].predicate_type,
			    "https://slsa.dev/provenance/v1");
	assert_int_equal(r->verify[0].attest[0].nconds, 3);
	assert_string_equal(r->verify[0].attest[0].conds[0].path, "/predicate/a~1b");
	assert_int_equal(r->verify[0].attest[0].conds[1].claim, PG_CLAIM_SOURCE_REPOSITORY_REF);
	assert_int_equal(r->verify[0].attest[0].conds[1].op, PG_COND_IN);
	assert_int_equal(r->verify[0].attest[0].conds[2].op, PG_COND_REGEXP);
	memcpy(fp, r->fingerprint, sizeof(fp));
	p2 = load_ok(cosign_att2);
	assert_string_not_equal(pg_policy_match_image(p2, "x")->fingerprint, fp);
	pg_policy_unref(p2);
	pg_policy_unref(p);

	p = load_ok(ATT_RULE("        - github: {owner: myorg, repo: myorg/app, sourceRef: "
			     "refs/heads/main, denySelfHostedRunners: true,\n"
			     "            conditions: [{path: /predicate/x, prefix: y}]}\n"));
	r = pg_policy_match_image(p, "x");
	assert_int_equal(r->verify[0].kind, PG_VERIFY_GITHUB);
	assert_string_equal(r->verify[0].issuer, "https://token.actions.githubusercontent.com");
	assert_non_null(r->verify[0].subject_regexp);
	assert_int_equal(r->verify[0].n_attest, 1);
	assert_int_equal(r->verify[0].attest[0].nconds, 5);
	assert_int_equal(r->verify[0].attest[0].conds[3].claim, PG_CLAIM_RUNNER_ENVIRONMENT);
	assert_string_equal(r->verify[0].attest[0].conds[3].value, "github-hosted");
	pg_policy_unref(p);

	expect_error(ATT_RULE("        - github: {repo: myorg/app, owner: other}\n"),
		     "t.yaml:9: spec.images[0].verify[0].github: github: repo myorg/app is not "
		     "owned by other");
	expect_error(
	    ATT_RULE("        - github: {sourceRef: refs/heads/main}\n"),
	    "t.yaml:9: spec.images[0].verify[0].github: github: owner or repo is required");
	expect_error(ATT_RULE("        - github: {owner: o, branch: main}\n"),
		     "t.yaml:9: spec.images[0].verify[0].github: unknown field \"branch\" "
		     "(allowed: owner, repo, signerWorkflow, signerRepo, sourceRef, "
		     "denySelfHostedRunners, root, conditions)");
	expect_error(ATT_RULE("        - cosign:\n            key: k\n            attestations:\n"
			      "              - conditions: []\n"),
		     "t.yaml:12: spec.images[0].verify[0].cosign.attestations[0]: predicateType is "
		     "required");
	expect_error(
	    ATT_RULE("        - cosign:\n            key: k\n            attestations:\n"
		     "              - predicateType: t\n                conditions:\n"
		     "                  - {cert: sourceRepoRef, equals: x}\n"),
	    "t.yaml:14: spec.images[0].verify[0].cosign.attestations[0].conditions[0].cert: "
	    "unknown certificate claim \"sourceRepoRef\" (claims: issuer, buildSignerURI, "
	    "buildSignerDigest, runnerEnvironment, sourceRepositoryURI, "
	    "sourceRepositoryDigest, sourceRepositoryRef, sourceRepositoryIdentifier, "
	    "sourceRepositoryOwnerURI, sourceRepositoryOwnerIdentifier, buildConfigURI, "
	    "buildConfigDigest, buildTrigger, runInvocationURI, "
	    "sourceRepositoryVisibilityAtSigning)");
	expect_error(ATT_RULE("        - cosign:\n            key: k\n            attestations:\n"
			      "              - predicateType: t\n                conditions:\n"
			      "                  - {path: predicate, equals: x}\n"),
		     "t.yaml:14: spec.images[0].verify[0].cosign.attestations[0].conditions[0]: "
		     "condition path \"predicate\" is not a JSON pointer (\"/predicate/...\")");
	expect_error(
	    ATT_RULE("        - cosign:\n            key: k\n            attestations:\n"
		     "              - predicateType: t\n                conditions:\n"
		     "                  - {path: /p, equals: x, prefix: y}\n"),
	    "t.yaml:14: spec.images[0].verify[0].cosign.attestations[0].conditions[0].prefix: "
	    "exactly one of equals, in, prefix or regExp");
	expect_error(ATT_RULE("        - cosign:\n            key: k\n            attestations:\n"
			      "              - predicateType: t\n                conditions:\n"
			      "                  - {path: /p}\n"),
		     "t.yaml:14: spec.images[0].verify[0].cosign.attestations[0].conditions[0]: "
		     "a condition needs one of equals, in, prefix or regExp");
	/* Chart rules take attestations too (OCI charts; judged at verify). */
	p = load_ok(HDR
		    "spec:\n  charts:\n    - name: a\n      match: [\"oci://c.example.com/**\"]\n"
		    "      verify:\n        - github: {owner: o}\n"
		    "        - cosign:\n            keyless: {issuer: i, subject: s}\n"
		    "            attestations:\n              - predicateType: t\n");
	r = pg_policy_match_chart(p, "oci://c.example.com/x");
	assert_non_null(r);
	assert_int_equal(r->verify[0].kind, PG_VERIFY_GITHUB);
	assert_int_equal(r->verify[0].n_attest, 1);
	assert_int_equal(r->verify[1].n_attest, 1);
	pg_policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_full),
	    cmocka_unit_test(test_zero_rules_valid),
	    cmocka_unit_test(test_default_policy_file),
	    cmocka_unit_test(test_err_invalid_yaml),
	    cmocka_unit_test(test_err_unknown_field),
	    cmocka_unit_test(test_err_repository_in_image_rule),
	    cmocka_unit_test(test_err_unknown_kind),
	    cmocka_unit_test(test_err_api_version),
	    cmocka_unit_test(test_err_wrong_types),
	    cmocka_unit_test(test_err_undefined_trust),
	    cmocka_unit_test(test_err_verify_and_allow),
	    cmocka_unit_test(test_err_duplicate_rule_name),
	    cmocka_unit_test(test_err_invalid_regexp),
	    cmocka_unit_test(test_err_keyless_incomplete),
	    cmocka_unit_test(test_attestations),
	    cmocka_unit_test(test_err_prov_in_image_rule),
	    cmocka_unit_test(test_err_at_least),
	    cmocka_unit_test(test_err_anchors_aliases),
	    cmocka_unit_test(test_err_tags_and_keys),
	    cmocka_unit_test(test_err_depth),
	    cmocka_unit_test(test_err_trust),
	    cmocka_unit_test(test_err_chart_fields),
	    cmocka_unit_test(test_err_registries),
	    cmocka_unit_test(test_err_no_policy),
	    cmocka_unit_test(test_err_too_big),
	    cmocka_unit_test(test_merge_documents),
	    cmocka_unit_test(test_merge_conflicts),
	    cmocka_unit_test(test_merge_files_in_name_order),
	    cmocka_unit_test(test_rules_bound),
	    cmocka_unit_test(test_load_dir_errors),
	    cmocka_unit_test(test_glob_table),
	    cmocka_unit_test(test_glob_pathological),
	    cmocka_unit_test(test_match_image),
	    cmocka_unit_test(test_match_chart),
	    cmocka_unit_test(test_host_allowed),
	    cmocka_unit_test(test_fingerprint),
	    cmocka_unit_test(test_refcount),
	    cmocka_unit_test(test_chart_patterns),
	    cmocka_unit_test(test_chart_match_split),
	    cmocka_unit_test(test_values_and_nulls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
