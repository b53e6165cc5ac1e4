/* Unit tests of admission/: review decoding (and the pre-scan of bodies the
 * parser refuses), reference extraction per kind and at the generic places
 * (for a review's object and a release manifest's objects alike), and the
 * decision: malformed objects, kinds not checked, unchanged UPDATEs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/admission/review.c"
#include "../../webhook/admission/extract.c"
#include "../../webhook/admission/release.c"
#include "../../webhook/decide/decide.c"
#include "../../webhook/decide/advice.c"

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
	const char *b =
	    "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
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
	    {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v2\"}",
	     "unsupported AdmissionReview apiVersion"},
	    {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}", "no request"},
	    {"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/"
	     "v1\",\"request\":{\"uid\":7}}",
	     "no uid"},
	    {"{\"kind\":\"AdmissionReview\",\"kind\":\"AdmissionReview\"}", "invalid JSON"},
	};
	pg_review *rv = NULL;
	pg_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_err_clear(&e);
		assert_int_equal(pg_review_decode(&rv, c[i].body, strlen(c[i].body), &e),
				 PG_EINVAL);
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
	const char *dep =
	    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"d:1\"}]}}}}";
	const char *const want_dep[] = {"d:1", NULL};
	const char *cj = "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":"
			 "{\"containers\":[{\"image\":\"e:1\"}]}}}}}}";
	const char *const want_cj[] = {"e:1", NULL};
	const char *pt = "{\"template\":{\"spec\":{\"containers\":[{\"image\":\"f:1\"}]}}}";
	const char *const want_pt[] = {"f:1", NULL};
	const char *const none[] = {NULL};
	const char *kinds[] = {"Deployment", "ReplicaSet", "StatefulSet",
			       "DaemonSet",  "Job",	   "ReplicationController"};
	size_t i;

	(void)state;
	expect_refs("Pod", pod, want_pod);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		expect_refs(kinds[i], dep, want_dep);
	expect_refs("CronJob", cj, want_cj);
	expect_refs("PodTemplate", pt, want_pt);
	expect_refs("ConfigMap", pod, none);
	expect_refs("Pod", "{\"spec\":{\"containers\":null}}", none);
	expect_refs("Pod", "{\"spec\":null}", none);
}

static void
test_extract_image_volumes(void **state)
{
	const char *pod =
	    "{\"spec\":{\"containers\":[{\"image\":\"a:1\"}],\"volumes\":["
	    "{\"name\":\"cfg\",\"configMap\":{\"name\":\"x\"}},"
	    "{\"name\":\"tools\",\"image\":{\"reference\":\"t:1\",\"pullPolicy\":\"Always\"}},"
	    "{\"name\":\"dflt\",\"image\":{}},"
	    "{\"name\":\"same\",\"image\":{\"reference\":\"a:1\"}}]}}";
	const char *const want_pod[] = {"a:1", "t:1", NULL};
	const char *dep = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"d:1\"}],"
			  "\"volumes\":[{\"image\":{\"reference\":\"v:1\"}}]}}}}";
	const char *const want_dep[] = {"d:1", "v:1", NULL};
	pg_refs r = {0};
	json_t *o;
	pg_err e;

	(void)state;
	expect_refs("Pod", pod, want_pod);
	expect_refs("StatefulSet", dep, want_dep);
	o = obj(pod);
	assert_int_equal(pg_extract(&r, "Pod", o, &e), PG_OK);
	assert_string_equal(r.v[1].where, "spec.volumes[tools]");
	assert_non_null(r.v[1].image);
	pg_refs_free(&r);
	json_decref(o);
	o = obj(dep);
	assert_int_equal(pg_extract(&r, "Deployment", o, &e), PG_OK);
	assert_string_equal(r.v[1].where, "spec.template.spec.volumes[0]"); /* no name */
	pg_refs_free(&r);
	json_decref(o);
}

/* A pod spec field of the wrong type is an error naming the field. */
static void
test_extract_wrong_types(void **state)
{
	static const struct {
		const char *kind, *json, *msg;
	} c[] = {
	    {"Pod", "{\"spec\":[]}", "spec is not an object"},
	    {"Pod", "{\"spec\":{\"containers\":\"nope\"}}", "spec.containers is not an array"},
	    {"Pod", "{\"spec\":{\"initContainers\":{}}}", "spec.initContainers is not an array"},
	    {"Pod", "{\"spec\":{\"containers\":[{\"image\":\"a:1\"},7]}}",
	     "spec.containers[1] is not an object"},
	    {"Pod", "{\"spec\":{\"ephemeralContainers\":[null]}}",
	     "spec.ephemeralContainers[0] is not an object"},
	    {"Pod", "{\"spec\":{\"volumes\":\"v\"}}", "spec.volumes is not an array"},
	    {"Pod", "{\"spec\":{\"volumes\":[\"v\"]}}", "spec.volumes[0] is not an object"},
	    {"Pod", "{\"spec\":{\"volumes\":[{\"name\":\"t\",\"image\":\"x:1\"}]}}",
	     "spec.volumes[t].image is not an object"},
	    {"Pod", "{\"spec\":{\"volumes\":[{\"name\":\"t\",\"image\":{\"reference\":1}}]}}",
	     "spec.volumes[t].image.reference is not a string"},
	    {"Deployment", "{\"spec\":\"x\"}", "spec is not an object"},
	    {"Deployment", "{\"spec\":{\"template\":[]}}", "spec.template is not an object"},
	    {"ReplicaSet", "{\"spec\":{\"template\":{\"spec\":7}}}",
	     "spec.template.spec is not an object"},
	    {"CronJob", "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":\"t\"}}}}",
	     "spec.jobTemplate.spec.template is not an object"},
	    {"PodTemplate", "{\"template\":{\"spec\":{\"containers\":{}}}}",
	     "template.spec.containers is not an array"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_refs r = {0};
		json_t *o = obj(c[i].json);
		pg_err e;

		pg_err_clear(&e);
		if (pg_extract(&r, c[i].kind, o, &e) != PG_EINVAL || strcmp(e.msg, c[i].msg) != 0)
			fail_msg("case %zu: [%s], want [%s]", i, e.msg, c[i].msg);
		pg_refs_free(&r);
		json_decref(o);
	}
}

static void
test_extract_reads(void **state)
{
	(void)state;
	assert_true(pg_extract_reads("", "Pod"));
	assert_true(pg_extract_reads("apps", "Deployment"));
	assert_true(pg_extract_reads("argoproj.io", "Application"));
	assert_false(pg_extract_reads("example.io", "Deployment")); /* another resource */
	assert_false(pg_extract_reads("apps", "Pod"));
	assert_false(pg_extract_reads("argoproj.io", "Rollout"));
	assert_false(pg_extract_reads("", "ConfigMap"));
}

/* Kinds outside the table: the well-known pod-template places. */
static void
test_extract_generic(void **state)
{
	static const struct {
		const char *json;
		bool found;
		int rc;
		const char *refs; /* raw references, space-separated */
	} c[] = {
	    /* Argo Rollout, Knative Service, OpenKruise CloneSet ... */
	    {"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"r:1\"}],"
	     "\"volumes\":[{\"name\":\"v\",\"image\":{\"reference\":\"v:1\"}}]}}}}",
	     true, PG_OK, "r:1 v:1"},
	    /* a CronJob-like template */
	    {"{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":"
	     "{\"initContainers\":[{\"image\":\"j:1\"}]}}}}}}",
	     true, PG_OK, "j:1"},
	    /* a Pod-like kind: containers at the top of spec */
	    {"{\"spec\":{\"ephemeralContainers\":[{\"image\":\"e:1\"}]}}", true, PG_OK, "e:1"},
	    /* a pod template whose containers are wrong: denied */
	    {"{\"spec\":{\"template\":{\"spec\":{\"containers\":{}}}}}", true, PG_EINVAL, ""},
	    /* no pod template: not checked */
	    {"{\"data\":{\"a\":\"b\"}}", false, PG_OK, ""},
	    {"{\"spec\":{\"template\":\"a string\",\"replicas\":2}}", false, PG_OK, ""},
	    {"{\"spec\":{\"template\":{\"spec\":{\"steps\":[]}}}}", false, PG_OK, ""},
	    {"{\"spec\":[1]}", false, PG_OK, ""},
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_refs r = {0};
		json_t *o = obj(c[i].json);
		pg_buf got;
		pg_err e;
		bool found = !c[i].found;
		int rc;

		pg_err_clear(&e);
		rc = pg_extract_generic(&r, &found, o, &e);
		pg_buf_init(&got, 1024);
		for (k = 0; k < r.n; k++)
			(void)pg_buf_printf(&got, "%s%s", k ? " " : "", r.v[k].raw);
		(void)pg_buf_puts(&got, "");
		if (rc != c[i].rc || found != c[i].found ||
		    (rc == PG_OK && strcmp(got.data ? (char *)got.data : "", c[i].refs) != 0))
			fail_msg("case %zu: rc %d found %d refs [%s] (%s)", i, rc, found,
				 got.data ? (char *)got.data : "", e.msg);
		pg_buf_free(&got);
		pg_refs_free(&r);
		json_decref(o);
	}
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
	const char *argo =
	    "{\"spec\":{\"source\":{\"repoURL\":\"https://c.example.com/\",\"chart\":\"web\","
	    "\"targetRevision\":\"1.0.0\"},\"sources\":[{\"repoURL\":\"reg.example.com/charts\","
	    "\"chart\":\"api\",\"targetRevision\":\"2.0.0\"},{\"repoURL\":\"https://"
	    "git\",\"path\":\"x\"},{\"repoURL\":\"oci://reg.example.com/charts/ui\",\"path\":"
	    "\".\",\"targetRevision\":\"3.0.0\"},{\"repoURL\":\"git@git.example.com:o/r\"}]}}";
	/* the git sources (https://git, an ssh one) are not charts; the
	 * native OCI source (Argo CD 3.1, no chart) is */
	const char *const want_argo[] = {"https://c.example.com/web",
					 "oci://reg.example.com/charts/api:2.0.0",
					 "oci://reg.example.com/charts/ui:3.0.0", NULL};
	const char *oci =
	    "{\"spec\":{\"url\":\"oci://ghcr.io/org/charts/podinfo\",\"ref\":{\"tag\":\"6.5.0\"}}}";
	const char *const want_oci[] = {"oci://ghcr.io/org/charts/podinfo:6.5.0", NULL};
	const char *hrepo =
	    "{\"spec\":{\"type\":\"oci\",\"url\":\"oci://reg.example.com/charts\"}}";
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
	/* an artifact URL with no name after its host is no reference to
	 * some other host: invalid, denied */
	{
		static const struct {
			const char *kind, *json;
		} noname[] = {
		    {"OCIRepository",
		     "{\"spec\":{\"url\":\"oci://r.io\",\"ref\":{\"tag\":\"1\"}}}"},
		    {"Application", "{\"spec\":{\"source\":{\"repoURL\":\"oci://"
				    "r.io\",\"targetRevision\":\"1\"}}}"},
		};
		size_t i;

		for (i = 0; i < sizeof(noname) / sizeof(noname[0]); i++) {
			pg_refs r = {0};
			json_t *o = obj(noname[i].json);
			pg_err e;

			assert_int_equal(pg_extract(&r, noname[i].kind, o, &e), PG_OK);
			assert_int_equal(r.n, 1);
			assert_null(r.v[0].chart);
			assert_non_null(r.v[0].invalid);
			assert_non_null(strstr(r.v[0].invalid, "no chart name"));
			pg_refs_free(&r);
			json_decref(o);
		}
	}
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
	    {"OCIRepository",
	     "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"1.0.0\","
	     "\"digest\":\"sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}}",
	     "oci://r.io/c/"
	     "pi@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     false},
	    {"OCIRepository",
	     "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"1.0.0\","
	     "\"semver\":\">=1.0.0\"}}}",
	     "oci://r.io/c/pi:>=1.0.0", true},
	    {"OCIRepository",
	     "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"stable\"}}}",
	     "oci://r.io/c/pi:stable", false},
	    /* ref.semver is a constraint even when it looks like one version:
	     * Flux's "1.2.3" also matches the tag "v1.2.3" */
	    {"OCIRepository",
	     "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"semver\":\"1.2.3\"}}}",
	     "oci://r.io/c/pi:1.2.3", true},
	    {"OCIRepository",
	     "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"1.2.3\","
	     "\"semver\":\"v1.2.3\"}}}",
	     "oci://r.io/c/pi:v1.2.3", true},
	    {"OCIRepository",
	     "{\"spec\":{\"url\":\"oci://r.io/c/pi\",\"ref\":{\"tag\":\"1.2.3\"}}}",
	     "oci://r.io/c/pi:1.2.3", false},
	    {"OCIRepository", "{\"spec\":{\"url\":\"oci://r.io/c/pi\"}}", "oci://r.io/c/pi", true},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"https://C.io:443/a/../b/\","
	     "\"chart\":\"w\",\"targetRevision\":\"1.2.3\"}}}",
	     "https://c.io/b/w", false},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"https://c.io\",\"chart\":\"w\","
	     "\"targetRevision\":\"1.2.*\"}}}",
	     "https://c.io/w", true},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"https://c.io\",\"chart\":\"w\","
	     "\"targetRevision\":\"1.2\"}}}",
	     "https://c.io/w", true},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"https://c.io\",\"chart\":\"w\"}}}",
	     "https://c.io/w", true},
	    /* Argo CD native OCI source (3.1): the artifact at targetRevision,
	     * ranges and no revision as for a chart */
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"oci://r.io/c/pi\",\"path\":\".\","
	     "\"targetRevision\":\"1.2.3\"}}}",
	     "oci://r.io/c/pi:1.2.3", false},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"oci://r.io/c/pi\",\"chart\":\"\","
	     "\"targetRevision\":\"sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}}",
	     "oci://r.io/c/"
	     "pi@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     false},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"OCI://R.io/c/pi\",\"path\":\".\","
	     "\"targetRevision\":\"1.x\"}}}",
	     "oci://r.io/c/pi:1.x", true},
	    {"Application", "{\"spec\":{\"source\":{\"repoURL\":\"oci://r.io/c/pi\"}}}",
	     "oci://r.io/c/pi", true},
	    {"Application",
	     "{\"spec\":{\"source\":{\"repoURL\":\"oci://r.io/c/pi\",\"targetRevision\":"
	     "\"HEAD\"}}}",
	     "oci://r.io/c/pi:HEAD", true},
	    {"HelmChart",
	     "{\"spec\":{\"chart\":\"w\",\"version\":\"1.0.0-rc.1\","
	     "\"sourceRef\":{\"name\":\"r\"}}}",
	     NULL, false},
	    {"HelmChart", "{\"spec\":{\"chart\":\"w\",\"sourceRef\":{\"name\":\"r\"}}}", NULL,
	     true},
	    {"HelmRelease",
	     "{\"spec\":{\"chart\":{\"spec\":{\"chart\":\"w\",\"version\":\"~1.0.0\","
	     "\"sourceRef\":{\"name\":\"r\"}}}}}",
	     NULL, true},
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
	const char *hr =
	    "{\"metadata\":{\"namespace\":\"apps\"},\"spec\":{\"chart\":{\"spec\":{\"chart\":"
	    "\"podinfo\","
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

/* A release manifest's objects are read as a review's object is: the kinds
 * table by apiVersion group and kind, any other kind at the generic
 * pod-template places; only a core Secret is not followed. */
static void
test_release_object_images(void **state)
{
	static const struct {
		const char *api, *kind;
		size_t n; /* images found */
	} tab[] = {
	    {"apps/v1", "Deployment", 1},
	    {"argoproj.io/v1alpha1", "Rollout", 1},
	    {"serving.knative.dev/v1", "Service", 1},
	    {"apps.kruise.io/v1alpha1", "CloneSet", 1},
	    {"example.com/v1", "Secret", 1},
	    {"example.com/v1", "Deployment", 1},
	    {"v1", "Secret", 0},
	    {"v1", "ConfigMap", 1}, /* any kind outside the table, core too */
	};
	pg_refs out = {0}, tmp = {0};
	pg_err e;
	size_t i;
	char text[512];

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		json_t *o;

		(void)snprintf(text, sizeof(text),
			       "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"spec\":{\"template\":"
			       "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"r.example/"
			       "a%zu:1\"}]}}}}",
			       tab[i].api, tab[i].kind, i);
		o = obj(text);
		pg_refs_free(&out);
		assert_int_equal(object_images(&out, &tmp, o, "c/templates/t.yaml", 0, 0, &e),
				 PG_OK);
		if (out.n != tab[i].n)
			fail_msg("%s %s: %zu images, want %zu", tab[i].api, tab[i].kind, out.n,
				 tab[i].n);
		if (out.n)
			assert_string_equal(out.v[0].where, "release manifest c/templates/t.yaml: "
							    "spec.template.spec.containers[0] (a)");
		json_decref(o);
	}
	pg_refs_free(&out);
	pg_refs_free(&tmp);
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

/* n levels of nested arrays as the value of request.object.deep, in a
 * review with the given head (the text up to and including "object":{). */
static char *
deep_review(const char *head, size_t n)
{
	size_t hl = strlen(head), i;
	char *b = malloc(hl + 2 * n + 32);

	assert_non_null(b);
	memcpy(b, head, hl);
	memcpy(b + hl, "\"deep\":", 7);
	for (i = 0; i < n; i++) {
		b[hl + 7 + i] = '[';
		b[hl + 7 + n + i] = ']';
	}
	memcpy(b + hl + 7 + 2 * n, "}}}", 4);
	return b;
}

/* Bodies the parser refuses for its own limits: answered when the pre-scan
 * reads an AdmissionReview and its uid, refused (400) otherwise. */
static void
test_decode_undecodable(void **state)
{
	static const struct {
		const char *head;
		int rc;
	} c[] = {
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u-1\",\"operation\":\"CREATE\",\"x\":{\"uid\":\"inner\"},\"object\":{",
	     PG_OK},
	    {" { \"request\" : { \"object\" : [ ] , \"uid\" : \"u-1\" , \"operation\":\"CREATE\", "
	     "\"object\":{\"a\":{\"b\":1}}, \"object\":{",
	     PG_EINVAL}, /* no kind, no apiVersion */
	    {"{\"apiVersion\":\"admission.k8s.io/"
	     "v1beta1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u-1\",\"object\":{",
	     PG_OK},
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\",\"request\":"
	     "{\"uid\":\"u-1\",\"object\":{",
	     PG_EINVAL},
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"object\":{",
	     PG_EINVAL}, /* no uid */
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u-1\",\"uid\":\"u-2\",\"object\":{",
	     PG_EINVAL}, /* which uid? */
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"u\\u0069d\":\"u-1\",\"object\":{",
	     PG_OK}, /* an escaped key is that key */
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u-1\",\"u\\u0069d\":\"u-2\",\"object\":{",
	     PG_EINVAL}, /* ... and a second uid */
	    {"{\"apiVersion\":\"admission.k8s.io/"
	     "v1\",\"kind\":\"AdmissionReview\",\"req\\u00e9\":{},\"request\":"
	     "{\"uid\":\"u-1\",\"\\ud83d\\ude00\":1,\"object\":{",
	     PG_OK}, /* other escaped keys */
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u\\u002d1\",\"object\":{",
	     PG_EINVAL}, /* an escaped uid */
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u-1\",\"object\":{\"a\":tru,",
	     PG_EINVAL}, /* not JSON */
	    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	     "{\"uid\":\"u-1\",\"object\":{\"n\":-0.5e+3,\"s\":\"\\\"]}\\n\",",
	     PG_OK},
	};
	pg_review *rv;
	pg_err e;
	size_t i;
	char *b;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		b = deep_review(c[i].head, JSON_PARSER_MAX_DEPTH + 10);
		rv = NULL;
		pg_err_clear(&e);
		if (pg_review_decode(&rv, b, strlen(b), &e) != c[i].rc)
			fail_msg("case %zu: %s", i, e.msg);
		if (rv) {
			assert_string_equal(pg_review_uid(rv), "u-1");
			assert_non_null(rv->undecoded);
			assert_non_null(strstr(rv->undecoded, "deeper than 2048 levels"));
			assert_null(rv->object);
		} else {
			assert_non_null(strstr(e.msg, "AdmissionReview"));
		}
		pg_review_free(rv);
		free(b);
	}
	/* the same body, not too deep, parses as usual */
	b = deep_review(c[0].head, 10);
	assert_int_equal(pg_review_decode(&rv, b, strlen(b), &e), PG_OK);
	assert_null(rv->undecoded);
	assert_string_equal(pg_review_operation(rv), "CREATE");
	pg_review_free(rv);
	free(b);
	/* a duplicate key deep in the object: answered */
	b = pg_strdup(
	    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
	    "{\"uid\":\"u-1\",\"operation\":\"UPDATE\",\"object\":{\"a\":1,\"a\":2}}}");
	assert_int_equal(pg_review_decode(&rv, b, strlen(b), &e), PG_OK);
	assert_non_null(strstr(rv->undecoded, "duplicate object key"));
	assert_string_equal(pg_review_operation(rv), "UPDATE");
	pg_review_free(rv);
	free(b);
}

/* The decision for one review under a small enforce policy. */
static pg_decision *
decide(const char *body)
{
	static const char pol_yaml[] =
	    "apiVersion: provgate.dev/v1alpha1\nkind: ProvenancePolicy\nmetadata: {name: t}\n"
	    "spec:\n  mode: enforce\n  exemptNamespaces: [kube-system]\n  images:\n"
	    "    - name: pause\n      match: [\"registry.k8s.io/pause:*\"]\n      allowUnsigned: "
	    "true\n";
	pg_policy *pol = NULL;
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_err e;

	assert_int_equal(pg_policy_load_buffer(&pol, "t.yaml", pol_yaml, sizeof(pol_yaml) - 1, &e),
			 PG_OK);
	if (pg_review_decode(&rv, body, strlen(body), &e) != PG_OK)
		fail_msg("decode: %s", e.msg);
	assert_int_equal(pg_decision_begin(&d, rv, pol, &e), PG_OK);
	pg_policy_unref(pol);
	return d;
}

static char *
review(const char *op, const char *group, const char *kind, const char *ns, const char *object,
       const char *old)
{
	pg_buf b;
	char *s;

	pg_buf_init(&b, 1 << 20);
	assert_int_equal(
	    pg_buf_printf(&b,
			  "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":"
			  "\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"%s\","
			  "\"namespace\":\"%s\",\"kind\":{\"group\":\"%s\",\"kind\":\"%s\"}"
			  "%s%s%s%s}}",
			  op, ns, group, kind, object ? ",\"object\":" : "", object ? object : "",
			  old ? ",\"oldObject\":" : "", old ? old : ""),
	    PG_OK);
	assert_int_equal(pg_buf_detach(&s, NULL, &b), PG_OK);
	pg_buf_free(&b);
	return s;
}

static void
expect_decision(const char *body, const char *label, bool allowed, const char *note)
{
	pg_decision *d = decide(body);
	char *resp = NULL, *line = NULL;
	json_t *r, *l;
	json_error_t je;

	if (strcmp(pg_decision_label(d), label) != 0 || pg_decision_allowed(d) != allowed ||
	    (note && (d->note == NULL || strstr(d->note, note) == NULL)))
		fail_msg("%s: label %s allowed %d note [%s], want %s %d [%s]", body,
			 pg_decision_label(d), pg_decision_allowed(d), d->note ? d->note : "",
			 label, allowed, note ? note : "");
	/* the reason reaches the annotation and the log line */
	assert_int_equal(pg_decision_response(&resp, NULL, d), PG_OK);
	assert_int_equal(pg_decision_log_line(&line, NULL, d, 0), PG_OK);
	r = json_loads(resp, 0, &je);
	l = json_loads(line, 0, &je);
	assert_non_null(r);
	assert_non_null(l);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(r, "response"), "auditAnnotations"), "decision")),
	    label);
	assert_string_equal(json_string_value(json_object_get(l, "decision")), label);
	if (note) {
		assert_non_null(strstr(json_string_value(json_object_get(l, "reason")), note));
		assert_non_null(
		    strstr(json_string_value(json_object_get(
			       json_object_get(json_object_get(r, "response"), "auditAnnotations"),
			       "reason")),
			   note));
	}
	json_decref(r);
	json_decref(l);
	free(resp);
	free(line);
	pg_decision_free(d);
}

#define RS_NGINX                                                                                   \
	"{\"spec\":{\"replicas\":%d,\"template\":{\"spec\":{\"containers\":[{\"image\":\"%s\"}]}}" \
	"}}"

static void
test_decision_kinds_and_malformed(void **state)
{
	char *b;
	const char *pod = "{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}";

	(void)state;
	/* a kind outside the table, no pod template: skip, never allow */
	b = review("CREATE", "", "ConfigMap", "default", "{\"data\":{}}", NULL);
	expect_decision(b, "skip", true, "kind not checked");
	free(b);
	/* a kind outside the table with a pod template: read */
	b = review("CREATE", "argoproj.io", "Rollout", "default",
		   "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}}}",
		   NULL);
	expect_decision(b, "deny", false, NULL);
	free(b);
	b = review("CREATE", "argoproj.io", "Rollout", "default",
		   "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"registry.k8s."
		   "io/pause:3.9\"}]}}}}",
		   NULL);
	expect_decision(b, "allow", true, NULL);
	free(b);
	/* malformed objects of a checked kind: denied with the reason */
	b = review("CREATE", "", "Pod", "default", "\"pod\"", NULL);
	expect_decision(b, "deny", false, "request.object is a string, not a JSON object");
	free(b);
	b = review("UPDATE", "", "Pod", "default", "null", NULL);
	expect_decision(b, "deny", false, "request.object is null");
	free(b);
	b = review("CREATE", "", "Pod", "default", NULL, NULL);
	expect_decision(b, "deny", false, "request.object is missing");
	free(b);
	b = review("CREATE", "", "Pod", "default", "{\"spec\":{\"containers\":{}}}", NULL);
	expect_decision(b, "deny", false, "spec.containers is not an array");
	free(b);
	/* ... unless the namespace is exempt, or nothing is checked */
	b = review("CREATE", "", "Pod", "kube-system", "\"pod\"", NULL);
	expect_decision(b, "exempt", true, NULL);
	free(b);
	b = review("DELETE", "", "Pod", "default", NULL, pod);
	expect_decision(b, "skip", true, "operation not checked");
	free(b);
}

static void
test_decision_too_many_refs(void **state)
{
	pg_buf o;
	char *b;
	int i;

	(void)state;
	pg_buf_init(&o, 1 << 20);
	(void)pg_buf_puts(&o, "{\"spec\":{\"containers\":[");
	for (i = 0; i < PG_REFS_MAX + 1; i++)
		(void)pg_buf_printf(&o, "%s{\"image\":\"i%d:1\"}", i ? "," : "", i);
	(void)pg_buf_puts(&o, "]}}");
	b = review("CREATE", "", "Pod", "default", (char *)o.data, NULL);
	expect_decision(b, "deny", false, "more than 1024 references");
	free(b);
	pg_buf_free(&o);
}

/* UPDATE: skipped only when the references are the oldObject's. */
static void
test_decision_update_unchanged(void **state)
{
	char nw[512], old[512], *b;

	(void)state;
	/* scale-down of an unverifiable ReplicaSet */
	(void)snprintf(nw, sizeof(nw), RS_NGINX, 0, "nginx:1.25");
	(void)snprintf(old, sizeof(old), RS_NGINX, 3, "nginx:1.25");
	b = review("UPDATE", "apps", "ReplicaSet", "default", nw, old);
	expect_decision(b, "skip", true, "references unchanged");
	free(b);
	/* the same on CREATE is checked */
	b = review("CREATE", "apps", "ReplicaSet", "default", nw, NULL);
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* an UPDATE without oldObject is checked */
	b = review("UPDATE", "apps", "ReplicaSet", "default", nw, NULL);
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* a changed image is checked */
	(void)snprintf(nw, sizeof(nw), RS_NGINX, 3, "nginx:1.26");
	b = review("UPDATE", "apps", "ReplicaSet", "default", nw, old);
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* an added image (ephemeral container, image volume) is checked */
	b = review("UPDATE", "", "Pod", "default",
		   "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{"
		   "\"containers\":"
		   "[{\"image\":\"nginx\"}],\"ephemeralContainers\":[{\"image\":\"busybox\"}]}}",
		   "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{"
		   "\"containers\":"
		   "[{\"image\":\"nginx\"}]}}");
	expect_decision(b, "deny", false, NULL);
	free(b);
	b = review("UPDATE", "", "Pod", "default",
		   "{\"spec\":{\"containers\":[{\"image\":\"nginx\"}],\"volumes\":[{\"name\":\"v\","
		   "\"image\":{\"reference\":\"evil\"}}]}}",
		   "{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}");
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* a removed image: the sets differ, checked */
	b = review("UPDATE", "", "Pod", "default",
		   "{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}",
		   "{\"spec\":{\"containers\":[{\"image\":\"nginx\"},{\"image\":\"redis\"}]}}");
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* finalizers removed, order of containers changed: unchanged */
	b = review("UPDATE", "", "Pod", "default",
		   "{\"metadata\":{\"finalizers\":[]},\"spec\":{\"containers\":[{\"image\":"
		   "\"redis\"},{\"image\":\"nginx\"}]}}",
		   "{\"metadata\":{\"finalizers\":[\"x\"]},\"spec\":{\"containers\":[{\"image\":"
		   "\"nginx\"},{\"image\":\"redis\"}]}}");
	expect_decision(b, "skip", true, "references unchanged");
	free(b);
	/* an invalid reference is never skipped */
	b = review("UPDATE", "", "Pod", "default",
		   "{\"spec\":{\"containers\":[{\"image\":\"Bad:Ref\"}]}}",
		   "{\"spec\":{\"containers\":[{\"image\":\"Bad:Ref\"}]}}");
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* an oldObject that is malformed is not a basis for skipping */
	b = review("UPDATE", "", "Pod", "default",
		   "{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}",
		   "{\"spec\":{\"containers\":{\"image\":\"nginx\"}}}");
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* Helm release Secret: its whole payload */
	b = review(
	    "UPDATE", "", "Secret", "default",
	    "{\"type\":\"helm.sh/"
	    "release.v1\",\"metadata\":{\"labels\":{\"status\":\"superseded\"}},"
	    "\"data\":{\"release\":\"QUJD\"}}",
	    "{\"type\":\"helm.sh/release.v1\",\"metadata\":{\"labels\":{\"status\":\"deployed\"}},"
	    "\"data\":{\"release\":\"QUJD\"}}");
	expect_decision(b, "skip", true, "references unchanged");
	free(b);
	b = review("UPDATE", "", "Secret", "default",
		   "{\"type\":\"helm.sh/release.v1\",\"data\":{\"release\":\"QUJE\"}}",
		   "{\"type\":\"helm.sh/release.v1\",\"data\":{\"release\":\"QUJD\"}}");
	expect_decision(b, "deny", false, NULL);
	free(b);
	/* the same text as a tag and then as a range is a new reference: Flux's
	 * ref.tag "1.2" is one tag, ref.semver "1.2" the newest 1.2.x */
#define OCIREPO "{\"spec\":{\"url\":\"oci://r.example/c/web\",\"ref\":{%s}}}"
	(void)snprintf(nw, sizeof(nw), OCIREPO, "\"semver\":\"1.2\"");
	(void)snprintf(old, sizeof(old), OCIREPO, "\"tag\":\"1.2\"");
	b = review("UPDATE", "source.toolkit.fluxcd.io", "OCIRepository", "default", nw, old);
	expect_decision(b, "deny", false, NULL);
	free(b);
	b = review("UPDATE", "source.toolkit.fluxcd.io", "OCIRepository", "default", old, old);
	expect_decision(b, "skip", true, "references unchanged");
	free(b);
#undef OCIREPO
}

/* Deny messages a person can act on: field paths, a reference told once
 * however often it is written, what to do, where the policy lives. */
static void
test_message_advice(void **state)
{
	char *body =
	    review("CREATE", "", "Pod", "default",
		   "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx\"},"
		   "{\"name\":\"b\",\"image\":\"nginx\"},"
		   "{\"name\":\"c\",\"image\":\"docker.io/library/nginx:latest\"},"
		   "{\"name\":\"p\",\"image\":\"registry.k8s.io/pause:3.9\"}],"
		   "\"initContainers\":[{\"name\":\"i\",\"image\":\"nginx\"}],"
		   "\"volumes\":[{\"name\":\"v\",\"image\":{\"reference\":\"evil/tools:1\"}}]}}",
		   NULL);
	pg_decision *d = decide(body);
	char *resp = NULL;
	const char *msg, *p;
	json_t *r;
	json_error_t je;

	(void)state;
	assert_int_equal(pg_decision_response(&resp, NULL, d), PG_OK);
	r = json_loads(resp, 0, &je);
	assert_non_null(r);
	msg = json_string_value(
	    json_object_get(json_object_get(json_object_get(r, "response"), "status"), "message"));
	assert_non_null(msg);
	/* nginx: written four times under two spellings, told once */
	p = strstr(msg, "docker.io/library/nginx:latest deny: no policy rule matches");
	assert_non_null(p);
	assert_null(strstr(p + 1, "docker.io/library/nginx:latest deny"));
	assert_non_null(strstr(msg,
			       "[at spec.initContainers[0].image (container i) and "
			       "spec.containers[0].image (container a) and 2 more places] — add a "
			       "spec.images rule whose match covers it"));
	assert_non_null(strstr(msg, "docker.io/evil/tools:1 deny: no policy rule matches "
				    "docker.io/evil/tools:1 [at spec.volumes[v].image.reference]"));
	assert_non_null(
	    strstr(msg, "allow-unverified: allowed unverified by rule pause "
			"(allowUnsigned) [at spec.containers[3].image (container p); rule pause]"));
	/* the end: where the policy lives (a buffer's name here) */
	p = msg + strlen(msg) - strlen(" (policy: t.yaml)");
	assert_string_equal(p, " (policy: t.yaml)");
	json_decref(r);
	free(resp);
	free(body);
	pg_decision_free(d);
}

/* Field paths of chart references, and the advice for reasons from verify/. */
static void
test_advice_paths_and_reasons(void **state)
{
	static const struct {
		const char *where, *path;
	} cp[] = {
	    {"spec.source", "spec.source.chart"},
	    {"spec.sources[1]", "spec.sources[1].chart"},
	    {"spec.source.repoURL", "spec.source.repoURL"},
	    {"spec.sources[2].repoURL", "spec.sources[2].repoURL"},
	    {"spec.chart.spec", "spec.chart.spec.chart"},
	    {"spec", "spec.chart"},
	    {"spec.chartRef", "spec.chartRef"},
	    {"data.release", "data.release"},
	};
	static const struct {
		const char *reason;
		int code;
		const char *want;
	} rs[] = {
	    {"https://c.example/x-1.0.0.tgz has no provenance (.prov)", PG_EVERIFY,
	     "this chart has no .prov — publish one with `helm package --sign`"},
	    {"failed to fetch provenance \"u.prov\": failed to fetch u.prov : 404 Not Found",
	     PG_EFETCH, "this chart has no .prov"},
	    {"cannot reach r.example: SSL certificate problem: unable to get local issuer "
	     "certificate",
	     PG_EFETCH, "registry CA unknown — set registries[].caFile for r.example"},
	    {"registry r.example answered 401 without a challenge", PG_EFETCH,
	     "set registries[].dockerConfig for r.example"},
	    {"r.example did not answer in time", PG_ETIMEOUT, "raise the deadline (--timeout)"},
	    {"manifest r.example/x:1 not found", PG_ENOTFOUND,
	     "check that the tag or digest exists"},
	    {"something new", PG_EVERIFY, ""},
	};
	char out[PIECE_MAX];
	pg_image_ref img = {.normalized = (char *)"r.example/x:1", .registry = (char *)"r.example"};
	pg_refent e = {.kind = PG_REF_CHART};
	pg_refdec rd = {.ref = &e, .state = PG_RD_DENY};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cp) / sizeof(cp[0]); i++) {
		field_path(out, sizeof(out), &e, cp[i].where);
		assert_string_equal(out, cp[i].path);
	}
	e.kind = PG_REF_IMAGE;
	e.image = &img;
	e.raw = (char *)"r.example/x:1";
	for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		rd.reason = (char *)rs[i].reason;
		rd.code = rs[i].code;
		advice(out, sizeof(out), &rd);
		if (rs[i].want[0] == '\0' ? out[0] != '\0' : strstr(out, rs[i].want) == NULL)
			fail_msg("reason [%s]: advice [%s], want [%s]", rs[i].reason, out,
				 rs[i].want);
	}
	/* pending: nothing to advise yet */
	rd.state = PG_RD_PENDING;
	advice(out, sizeof(out), &rd);
	assert_string_equal(out, "");
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
	    cmocka_unit_test(test_release_object_images),
	    cmocka_unit_test(test_extract_bound),
	    cmocka_unit_test(test_extract_image_volumes),
	    cmocka_unit_test(test_extract_wrong_types),
	    cmocka_unit_test(test_extract_reads),
	    cmocka_unit_test(test_extract_generic),
	    cmocka_unit_test(test_decode_undecodable),
	    cmocka_unit_test(test_decision_kinds_and_malformed),
	    cmocka_unit_test(test_decision_too_many_refs),
	    cmocka_unit_test(test_decision_update_unchanged),
	    cmocka_unit_test(test_message_advice),
	    cmocka_unit_test(test_advice_paths_and_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
