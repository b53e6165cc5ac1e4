/* Unit tests of admission/: review decoding, reference extraction per kind,
 * and the decision's rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/admission/review.c"
#include "../../webhook/admission/extract.c"

static json_t *
obj(const char *text)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);

	assert_non_null(o);
	return o;
}

static void
test_decode_ok(void **state)
{
	const char *b = "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
			"\"request\":{\"uid\":\"u1\",\"kind\":{\"group\":\"apps\",\"kind\":\"Deployment\"},"
			"\"namespace\":\"ns\",\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"bob\"},"
			"\"object\":{\"metadata\":{\"generateName\":\"web-\"}}}}";
	pg_review *rv = NULL;
	pg_err e;

	(void)state;
	assert_int_equal(pg_review_decode(&rv, b, strlen(b), &e), PG_OK);
	assert_string_equal(pg_review_uid(rv), "u1");
	assert_string_equal(pg_review_api_version(rv), "admission.k8s.io/v1beta1");
	assert_string_equal(pg_review_kind(rv), "Deployment");
	assert_string_equal(rv->group, "apps");
	assert_string_equal(pg_review_namespace(rv), "ns");
	assert_string_equal(pg_review_name(rv), "web-");
	assert_string_equal(pg_review_user(rv), "bob");
	pg_review_free(rv);
}

static void
test_decode_rejects(void **state)
{
	static const struct {
		const char *body, *msg;
	} c[] = {
		{"", "invalid JSON"},
		{"[]", "not a JSON object"},
		{"{\"kind\":\"Pod\"}", "kind is Pod"},
		{"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v2\"}", "unsupported AdmissionReview apiVersion"},
		{"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}", "no request"},
		{"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":7}}", "no uid"},
		{"{\"kind\":\"AdmissionReview\",\"kind\":\"AdmissionReview\"}", "invalid JSON"},
	};
	pg_review *rv = NULL;
	pg_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_err_clear(&e);
		assert_int_equal(pg_review_decode(&rv, c[i].body, strlen(c[i].body), &e), PG_EINVAL);
		if (strstr(e.msg, c[i].msg) == NULL)
			fail_msg("case %zu: [%s] lacks [%s]", i, e.msg, c[i].msg);
	}
	assert_int_equal(pg_review_decode(&rv, "{}", PG_REVIEW_MAX + 1, &e), PG_ETOOBIG);
}

/* Extraction per kind: raw strings of the references found, in order. */
static void
expect_refs(const char *kind, const char *json, const char *const *want)
{
	pg_refs r = {0};
	json_t *o = obj(json);
	pg_err e;
	size_t i;

	assert_int_equal(pg_extract(&r, kind, o, &e), PG_OK);
	for (i = 0; want[i]; i++) {
		if (i >= r.n)
			fail_msg("%s: missing reference %s", kind, want[i]);
		if (strcmp(r.v[i].raw, want[i]) != 0 &&
		    !(r.v[i].chart && strcmp(r.v[i].chart->location, want[i]) == 0))
			fail_msg("%s: reference %zu is %s (%s), want %s", kind, i, r.v[i].raw,
				 r.v[i].chart ? r.v[i].chart->location : "-", want[i]);
	}
	if (r.n != i)
		fail_msg("%s: %zu references, want %zu", kind, r.n, i);
	pg_refs_free(&r);
	json_decref(o);
}

static void
test_extract_workloads(void **state)
{
	const char *pod = "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"a:1\"}],"
			  "\"containers\":[{\"image\":\"b:1\"},{\"image\":\"a:1\"}],"
			  "\"ephemeralContainers\":[{\"image\":\"c:1\"}]}}";
	const char *const want_pod[] = {"a:1", "b:1", "c:1", NULL};
	const char *dep = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"d:1\"}]}}}}";
	const char *const want_dep[] = {"d:1", NULL};
	const char *cj = "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":"
			 "{\"containers\":[{\"image\":\"e:1\"}]}}}}}}";
	const char *const want_cj[] = {"e:1", NULL};
	const char *pt = "{\"template\":{\"spec\":{\"containers\":[{\"image\":\"f:1\"}]}}}";
	const char *const want_pt[] = {"f:1", NULL};
	const char *const none[] = {NULL};
	const char *kinds[] = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
			       "ReplicationController"};
	size_t i;

	(void)state;
	expect_refs("Pod", pod, want_pod);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		expect_refs(kinds[i], dep, want_dep);
	expect_refs("CronJob", cj, want_cj);
	expect_refs("PodTemplate", pt, want_pt);
	expect_refs("ConfigMap", pod, none);
	expect_refs("Pod", "{\"spec\":{\"containers\":\"nope\"}}", none);
	expect_refs("Pod", "{\"spec\":[]}", none);
}

static void
test_extract_invalid_kept(void **state)
{
	pg_refs r = {0};
	json_t *o = obj("{\"spec\":{\"containers\":[{\"image\":\"x/UPPER\"},{\"image\":42}]}}");
	pg_err e;

	(void)state;
	assert_int_equal(pg_extract(&r, "Pod", o, &e), PG_OK);
	assert_int_equal(r.n, 2);
	assert_non_null(r.v[0].invalid);
	assert_null(r.v[0].image);
	assert_non_null(r.v[1].invalid);
	pg_refs_free(&r);
	json_decref(o);
}

static void
test_extract_charts(void **state)
{
	const char *argo = "{\"spec\":{\"source\":{\"repoURL\":\"https://c.example.com/\",\"chart\":\"web\","
			   "\"targetRevision\":\"1.0.0\"},\"sources\":[{\"repoURL\":\"reg.example.com/charts\","
			   "\"chart\":\"api\",\"targetRevision\":\"2.0.0\"},{\"repoURL\":\"https://git\",\"path\":\"x\"}]}}";
	const char *const want_argo[] = {"https://c.example.com/web",
					 "oci://reg.example.com/charts/api:2.0.0", NULL};
	const char *oci = "{\"spec\":{\"url\":\"oci://ghcr.io/org/charts/podinfo\",\"ref\":{\"tag\":\"6.5.0\"}}}";
	const char *const want_oci[] = {"oci://ghcr.io/org/charts/podinfo:6.5.0", NULL};
	const char *hrepo = "{\"spec\":{\"type\":\"oci\",\"url\":\"oci://reg.example.com/charts\"}}";
	const char *const want_hrepo[] = {"oci://reg.example.com/charts/*", NULL};
	const char *hrepo_http = "{\"spec\":{\"url\":\"https://charts.example.com\"}}";
	const char *const want_hrepo_http[] = {"https://charts.example.com/*", NULL};
	const char *const want_hrepo_bad[] = {"https://x", NULL};
	const char *const none[] = {NULL};

	(void)state;
	expect_refs("Application", argo, want_argo);
	expect_refs("OCIRepository", oci, want_oci);
	expect_refs("HelmRepository", hrepo, want_hrepo);
	expect_refs("HelmRepository", hrepo_http, want_hrepo_http);
	expect_refs("HelmRepository", "{\"spec\":{\"type\":\"git\",\"url\":\"https://x\"}}",
		    want_hrepo_bad);
	(void)none;
}

/* Issue 10 item 3: what the GitOps tool deploys, and which versions are
 * ranges it resolves again later. */
static void
test_extract_versions(void **state)
{
	static const struct {
		const char *kind, *json, *location;
		bool range;
	} c[] = {
		/* source-controller: digest > semver > tag > latest */
		{"OCIRepository", "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"1.0.0\","
		 "\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}}",
		 "oci://r.io/c/pi@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		 false},
		{"OCIRepository", "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"1.0.0\","
		 "\"semver\":\">=1.0.0\"}}}", "oci://r.io/c/pi:>=1.0.0", true},
		{"OCIRepository", "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"stable\"}}}",
		 "oci://r.io/c/pi:stable", false},
		{"OCIRepository", "{\"spec\":{\"url\":\"oci://r.io/c/pi\"}}", "oci://r.io/c/pi", true},
		{"Application", "{\"spec\":{\"source\":{\"repoURL\":\"https://C.io:443/a/../b/\","
		 "\"chart\":\"w\",\"targetRevision\":\"1.2.3\"}}}", "https://c.io/b/w", false},
		{"Application", "{\"spec\":{\"source\":{\"repoURL\":\"https://c.io\",\"chart\":\"w\","
		 "\"targetRevision\":\"1.2.*\"}}}", "https://c.io/w", true},
		{"Application", "{\"spec\":{\"source\":{\"repoURL\":\"https://c.io\",\"chart\":\"w\","
		 "\"targetRevision\":\"1.2\"}}}", "https://c.io/w", true},
		{"Application", "{\"spec\":{\"source\":{\"repoURL\":\"https://c.io\",\"chart\":\"w\"}}}",
		 "https://c.io/w", true},
		{"HelmChart", "{\"spec\":{\"chart\":\"w\",\"version\":\"1.0.0-rc.1\","
		 "\"sourceRef\":{\"name\":\"r\"}}}", NULL, false},
		{"HelmChart", "{\"spec\":{\"chart\":\"w\",\"sourceRef\":{\"name\":\"r\"}}}", NULL, true},
		{"HelmRelease", "{\"spec\":{\"chart\":{\"spec\":{\"chart\":\"w\",\"version\":\"~1.0.0\","
		 "\"sourceRef\":{\"name\":\"r\"}}}}}", NULL, true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_refs r = {0};
		json_t *o = obj(c[i].json);
		pg_err e;

		assert_int_equal(pg_extract(&r, c[i].kind, o, &e), PG_OK);
		if (r.n != 1 || r.v[0].chart == NULL)
			fail_msg("case %zu: %zu references, %s", i, r.n,
				 r.n ? (r.v[0].invalid ? r.v[0].invalid : "?") : "-");
		if (c[i].location && strcmp(r.v[0].chart->location, c[i].location) != 0)
			fail_msg("case %zu: location %s, want %s", i, r.v[0].chart->location,
				 c[i].location);
		if (r.v[0].chart->range != c[i].range)
			fail_msg("case %zu: range %d, want %d", i, r.v[0].chart->range, c[i].range);
		pg_refs_free(&r);
		json_decref(o);
	}
}

static void
test_extract_flux_sources(void **state)
{
	const char *hr = "{\"metadata\":{\"namespace\":\"apps\"},\"spec\":{\"chart\":{\"spec\":{\"chart\":\"podinfo\","
			 "\"version\":\"6.x\",\"sourceRef\":{\"kind\":\"HelmRepository\",\"name\":\"pi\"}}}}}";
	pg_refs r = {0};
	json_t *o = obj(hr);
	pg_err e;

	(void)state;
	assert_int_equal(pg_extract(&r, "HelmRelease", o, &e), PG_OK);
	assert_int_equal(r.n, 1);
	assert_non_null(r.v[0].chart);
	assert_string_equal(r.v[0].chart->source, "HelmRepository/apps/pi");
	assert_string_equal(r.v[0].chart->name, "podinfo");
	assert_string_equal(r.v[0].chart->version, "6.x");
	pg_refs_free(&r);
	json_decref(o);
}

static void
test_extract_release_secret(void **state)
{
	pg_refs r = {0};
	json_t *o = obj("{\"type\":\"helm.sh/release.v1\",\"data\":{\"release\":\"SDRzSQ==\"}}");
	json_t *o2 = obj("{\"type\":\"Opaque\",\"data\":{\"release\":\"x\"}}");
	pg_err e;

	(void)state;
	assert_int_equal(pg_extract(&r, "Secret", o, &e), PG_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].chart->kind, PG_CHART_RELEASE);
	assert_string_equal(r.v[0].chart->release, "SDRzSQ==");
	pg_refs_free(&r);
	assert_int_equal(pg_extract(&r, "Secret", o2, &e), PG_OK);
	assert_int_equal(r.n, 0);
	pg_refs_free(&r);
	json_decref(o);
	json_decref(o2);
}

static void
test_extract_bound(void **state)
{
	pg_refs r = {0};
	json_t *o = obj("{\"spec\":{\"containers\":[]}}");
	json_t *arr = json_object_get(json_object_get(o, "spec"), "containers");
	char img[32];
	pg_err e;
	int i;

	(void)state;
	for (i = 0; i < PG_REFS_MAX + 1; i++) {
		(void)snprintf(img, sizeof(img), "img%d:1", i);
		json_array_append_new(arr, json_pack("{s:s}", "image", img));
	}
	assert_int_equal(pg_extract(&r, "Pod", o, &e), PG_ETOOBIG);
	pg_refs_free(&r);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_ok),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_extract_workloads),
		cmocka_unit_test(test_extract_invalid_kept),
		cmocka_unit_test(test_extract_charts),
		cmocka_unit_test(test_extract_versions),
		cmocka_unit_test(test_extract_flux_sources),
		cmocka_unit_test(test_extract_release_secret),
		cmocka_unit_test(test_extract_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
