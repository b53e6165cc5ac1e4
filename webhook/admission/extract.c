/*
 * admission/extract — finds every image and chart reference in an object.
 *
 * Images: pod specs of every workload kind (containers, initContainers,
 * ephemeralContainers, image volumes).  Charts: Argo CD Application Helm
 * and native OCI sources, Flux HelmRelease / HelmChart / OCIRepository /
 * HelmRepository (every type), Helm release Secrets.  A chart version the
 * GitOps tool resolves again later (a range, or none) is marked so the
 * decision can refuse it.  The kinds read are the table below
 * (pg_extract_reads); any other kind is read at the well-known pod-template
 * places (pg_extract_generic), and a kind with none of them is not checked
 * (the decision says so: it is never a silent allow).  Anything that looks
 * like a reference but does not parse is kept as invalid, and a pod spec
 * field of the wrong type is an error: both are denied, never skipped.  The
 * kinds and places are listed in docs/threat-model.md: keep it in step.
 */
#include "admission/admission_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf/buf.h"

/* Longest location string we build for messages. */
#define WHERE_MAX 256

static int
push(pg_refs *r, pg_refent **out, pg_err *err)
{
	if (r->n >= PG_REFS_MAX)
		return pg_err_set(err, PG_ETOOBIG, "object has more than %d references",
				  PG_REFS_MAX);
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		pg_refent *v = realloc(r->v, nc * sizeof(*v));

		if (v == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		r->v = v;
		r->cap = nc;
	}
	*out = &r->v[r->n++];
	memset(*out, 0, sizeof(**out));
	return PG_OK;
}

static int
add_image(pg_refs *r, const char *img, const char *where, pg_err *err)
{
	pg_refent *e;
	pg_err perr;
	size_t i;
	int rc;

	for (i = 0; i < r->n; i++)
		if (r->v[i].kind == PG_REF_IMAGE && strcmp(r->v[i].raw, img) == 0) {
			/* one reference, but the message names its other places */
			if (r->v[i].n_also++ == 0 && (r->v[i].also = pg_strdup(where)) == NULL)
				return pg_err_set(err, PG_ENOMEM, "out of memory");
			return PG_OK;
		}
	if ((rc = push(r, &e, err)) != PG_OK)
		return rc;
	e->kind = PG_REF_IMAGE;
	e->raw = pg_strdup(img);
	e->where = pg_strdup(where);
	if (e->raw == NULL || e->where == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	pg_err_clear(&perr);
	if (pg_ref_parse_image(&e->image, img, &perr) != PG_OK) {
		e->image = NULL;
		e->invalid = pg_strdup(perr.msg[0] ? perr.msg : "invalid image reference");
		if (e->invalid == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	return PG_OK;
}

static int
add_chart(pg_refs *r, pg_ref_kind kind, pg_chart_kind ck, const char *repo, const char *name,
	  const char *version, const char *source, const char *where, pg_err *err)
{
	pg_refent *e;
	pg_err perr;
	pg_buf raw;
	int rc;

	if ((rc = push(r, &e, err)) != PG_OK)
		return rc;
	e->kind = kind;
	pg_buf_init(&raw, 4096);
	if (repo && source == NULL)
		rc = pg_buf_printf(&raw, "%s%s%s%s%s", repo, name && name[0] ? " " : "",
				   name ? name : "", version ? "@" : "", version ? version : "");
	else
		rc = pg_buf_printf(&raw, "%s%s%s%s%s", source ? source : "", source ? " " : "",
				   name ? name : "", version ? "@" : "", version ? version : "");
	if (rc == PG_OK)
		rc = pg_buf_detach(&e->raw, NULL, &raw);
	pg_buf_free(&raw);
	e->where = pg_strdup(where);
	if (rc != PG_OK || e->where == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	pg_err_clear(&perr);
	if (pg_chart_ref_new(&e->chart, ck, repo, name, version, &perr) != PG_OK) {
		e->chart = NULL;
		e->invalid = pg_strdup(perr.msg[0] ? perr.msg : "invalid chart reference");
		return e->invalid ? PG_OK : pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	if (source && (e->chart->source = pg_strdup(source)) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

/* A wrong-typed field of a pod spec: the object is malformed, and the
 * whole review is denied with this message (an ignored field could hide
 * an image the API server would read another way). */
static int
bad_type(pg_err *err, const char *base, const char *field, const char *want)
{
	return pg_err_set(err, PG_EINVAL, "%s%s%s is not %s", base, base[0] ? "." : "", field,
			  want);
}

/*
 * Walk the object keys from o.  *out is the value there, or NULL when a
 * step is missing or null.  PG_EINVAL when a step (or the value) is not an
 * object: a pod template at a place the kind defines must have that shape.
 */
static int
walk(const json_t **out, const json_t *o, const char *const *keys, pg_err *err)
{
	char at[WHERE_MAX] = "";
	size_t n = 0;

	*out = NULL;
	for (; *keys; keys++) {
		int w = snprintf(at + n, sizeof(at) - n, "%s%s", n ? "." : "", *keys);

		n = (w > 0 && (size_t)w < sizeof(at) - n) ? n + (size_t)w : n;
		if ((o = pg_json_field(o, *keys)) == NULL)
			return PG_OK;
		if (!json_is_object(o))
			return bad_type(err, "", at, "an object");
	}
	*out = o;
	return PG_OK;
}

/* How the GitOps tool reads the version field it is given. */
typedef enum {
	READ_VERSION, /* one exact version pins; anything else is a range */
	READ_TAG,     /* an OCI tag (Flux ref.tag): pinned whatever its form */
	READ_RANGE,   /* a constraint (Flux ref.semver): a range whatever its form,
			 "1.2.3" included, which also matches the tag "v1.2.3" */
} read_as;

/* The chart just added names a version the GitOps tool `by` resolves again
 * later when it is not one exact version (a range, a partial version, or
 * none: the newest), or when the tool reads it as a constraint. */
static void
mark_range(pg_refs *r, const char *version, const char *by, read_as how)
{
	pg_refent *e = r->n ? &r->v[r->n - 1] : NULL;

	if (e == NULL || e->chart == NULL)
		return;
	e->chart->range_by = by;
	if (how == READ_RANGE) {
		e->chart->range = true;
		return;
	}
	if (version && version[0] && strncmp(version, "sha256:", 7) == 0)
		return; /* a digest pins the bytes */
	e->chart->range =
	    !(how == READ_TAG && version && version[0]) && !pg_chart_version_exact(version);
}

static int
containers(pg_refs *r, const json_t *spec, const char *base, const char *field, pg_err *err)
{
	const json_t *arr = pg_json_field(spec, field);
	char where[WHERE_MAX];
	size_t i;
	int rc;

	if (arr == NULL)
		return PG_OK;
	if (!json_is_array(arr))
		return bad_type(err, base, field, "an array");
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *c = json_array_get(arr, i);
		const json_t *img = json_object_get(c, "image");
		const char *nm = pg_json_str(c, "name");

		if (!json_is_object(c)) {
			(void)snprintf(where, sizeof(where), "%s[%zu]", field, i);
			return bad_type(err, base, where, "an object");
		}
		if (img == NULL || json_is_null(img))
			continue;
		(void)snprintf(where, sizeof(where), "%s.%s[%zu]%s%.64s%s", base, field, i,
			       nm ? " (" : "", nm ? nm : "", nm ? ")" : "");
		pg_utf8_clean(where); /* %.64s may cut a character */
		if (!json_is_string(img)) {
			pg_refent *e;

			if ((rc = push(r, &e, err)) != PG_OK)
				return rc;
			e->kind = PG_REF_IMAGE;
			e->raw = pg_strdup("(not a string)");
			e->where = pg_strdup(where);
			e->invalid = pg_strdup("image is not a string");
			if (!e->raw || !e->where || !e->invalid)
				return pg_err_set(err, PG_ENOMEM, "out of memory");
			continue;
		}
		if ((rc = add_image(r, json_string_value(img), where, err)) != PG_OK)
			return rc;
	}
	return PG_OK;
}

/* Image volumes (Kubernetes ImageVolume): volumes[].image.reference is an
 * image the kubelet pulls and mounts, checked like a container's. */
static int
image_volumes(pg_refs *r, const json_t *spec, const char *base, pg_err *err)
{
	const json_t *arr = pg_json_field(spec, "volumes");
	char where[WHERE_MAX], at[96]; /* "volumes[" + 64 bytes of name + "]" */
	size_t i;
	int rc;

	if (arr == NULL)
		return PG_OK;
	if (!json_is_array(arr))
		return bad_type(err, base, "volumes", "an array");
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);
		const json_t *img = pg_json_field(v, "image"), *ref;
		const char *nm = pg_json_str(v, "name");

		if (nm)
			(void)snprintf(at, sizeof(at), "volumes[%.64s]", nm);
		else
			(void)snprintf(at, sizeof(at), "volumes[%zu]", i);
		pg_utf8_clean(at);
		if (!json_is_object(v))
			return bad_type(err, base, at, "an object");
		if (img == NULL)
			continue;
		if (!json_is_object(img)) {
			(void)snprintf(where, sizeof(where), "%s.image", at);
			return bad_type(err, base, where, "an object");
		}
		if ((ref = pg_json_field(img, "reference")) == NULL)
			continue; /* nothing to pull (a controller may default it) */
		if (!json_is_string(ref)) {
			(void)snprintf(where, sizeof(where), "%s.image.reference", at);
			return bad_type(err, base, where, "a string");
		}
		(void)snprintf(where, sizeof(where), "%s.%s", base, at);
		pg_utf8_clean(where);
		if ((rc = add_image(r, json_string_value(ref), where, err)) != PG_OK)
			return rc;
	}
	return PG_OK;
}

static int
pod_spec(pg_refs *r, const json_t *spec, const char *base, pg_err *err)
{
	int rc;

	if (spec == NULL || json_is_null(spec))
		return PG_OK;
	if (!json_is_object(spec))
		return bad_type(err, "", base, "an object");
	if ((rc = containers(r, spec, base, "initContainers", err)) != PG_OK ||
	    (rc = containers(r, spec, base, "containers", err)) != PG_OK ||
	    (rc = containers(r, spec, base, "ephemeralContainers", err)) != PG_OK ||
	    (rc = image_volumes(r, spec, base, err)) != PG_OK)
		return rc;
	return PG_OK;
}

/* The pod spec at keys (typed walk), read as base. */
static int
pod_spec_at(pg_refs *r, const json_t *obj, const char *const *keys, const char *base, pg_err *err)
{
	const json_t *spec;
	int rc;

	if ((rc = walk(&spec, obj, keys, err)) != PG_OK)
		return rc;
	return pod_spec(r, spec, base, err);
}

/* An OCI artifact named by its whole URL, oci://host/path/name (Flux
 * OCIRepository spec.url, Argo CD's native OCI repoURL): the chart
 * reference oci://host/path, name, at version.  A URL with no name in it
 * (no '/' after the host: oci://host) is kept, and denied, as an invalid
 * reference. */
static int
add_oci_artifact(pg_refs *r, const char *url, const char *version, const char *where, pg_err *err)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	const char *slash = url ? strrchr(sep ? sep + 3 : url, '/') : NULL;
	char repo[1024];

	if (slash == NULL || (size_t)(slash - url) >= sizeof(repo))
		return add_chart(r, PG_REF_CHART, PG_CHART_OCI, url, NULL, version, NULL, where,
				 err);
	memcpy(repo, url, (size_t)(slash - url));
	repo[slash - url] = '\0';
	return add_chart(r, PG_REF_CHART, PG_CHART_OCI, repo, slash + 1, version, NULL, where, err);
}

/* Argo CD: a Helm source has `chart`; repoURL https://… is a chart
 * repository, oci://… or a scheme-less host/path is an OCI registry.
 * Without `chart`, an oci:// repoURL is Argo CD's native OCI source (3.1
 * and later): repoURL names the artifact itself, oci://host/path/name,
 * targetRevision its tag, digest or a semver constraint, and `path` only a
 * directory inside it.  Argo CD renders whatever it holds (a Helm chart
 * included), so the whole artifact is a reference a rule must cover.  Any
 * other source without `chart` is git or a plugin: not a chart. */
static int
argo_source(pg_refs *r, const json_t *src, const char *where, pg_err *err)
{
	const char *repo = pg_json_str(src, "repoURL");
	const char *chart = pg_json_str(src, "chart");
	const char *rev = pg_json_str(src, "targetRevision");
	pg_chart_kind k = PG_CHART_OCI;
	int rc;

	if ((chart == NULL || chart[0] == '\0') && repo && strncasecmp(repo, "oci://", 6) == 0) {
		char at[WHERE_MAX];

		(void)snprintf(at, sizeof(at), "%s.repoURL", where);
		if ((rc = add_oci_artifact(r, repo, rev, at, err)) != PG_OK)
			return rc;
		mark_range(r, rev, "Argo CD", READ_VERSION);
		return PG_OK;
	}
	if (chart == NULL)
		return PG_OK; /* git or plugin source: not a chart */
	/* https://, http:// (any case: the URL parser normalises it) is a
	 * chart repository; oci:// or a scheme-less host/path a registry */
	if (repo == NULL || strncasecmp(repo, "https://", 8) == 0 ||
	    strncasecmp(repo, "http://", 7) == 0)
		k = PG_CHART_REPO;
	if ((rc = add_chart(r, PG_REF_CHART, k, repo, chart, rev, NULL, where, err)) != PG_OK)
		return rc;
	mark_range(r, rev, "Argo CD", READ_VERSION);
	return PG_OK;
}

static int
source_ref(char *out, size_t n, const json_t *sref, const char *ns, const char *dflt_kind)
{
	const char *k = pg_json_str(sref, "kind");
	const char *nm = pg_json_str(sref, "name");
	const char *sns = pg_json_str(sref, "namespace");
	int w;

	if (nm == NULL)
		return PG_EINVAL;
	w = snprintf(out, n, "%s/%s/%s", k ? k : dflt_kind, sns ? sns : ns, nm);
	return (w < 0 || (size_t)w >= n) ? PG_EINVAL : PG_OK;
}

/* Flux OCIRepository: what source-controller pulls.  Its precedence:
 * ref.digest, else ref.semver (a constraint over every tag, whatever it
 * looks like), else ref.tag, else "latest" (no version: newest). */
static const char *
oci_repository_version(const json_t *ref, read_as *how)
{
	const char *v;

	*how = READ_VERSION;
	if ((v = pg_json_str(ref, "digest")) != NULL && v[0])
		return v;
	*how = READ_RANGE;
	if ((v = pg_json_str(ref, "semver")) != NULL && v[0])
		return v;
	*how = READ_TAG;
	if ((v = pg_json_str(ref, "tag")) != NULL && v[0])
		return v;
	*how = READ_VERSION;
	return NULL;
}

/* Flux picks the newest tag that satisfies ref.semver *and* matches the
 * regular expression ref.semverFilter; provgate resolves a range without
 * the filter, so the tag it would verify need not be the one Flux pulls:
 * such a reference is refused (only an opted-in range gets this far). */
static int
semver_filter(pg_refs *r, const json_t *ref, read_as how, pg_err *err)
{
	pg_refent *e = r->n ? &r->v[r->n - 1] : NULL;
	const char *f = pg_json_str(ref, "semverFilter");

	if (how != READ_RANGE || f == NULL || f[0] == '\0' || e == NULL || e->invalid)
		return PG_OK;
	e->invalid = pg_strdup("Flux picks among the tags that match spec.ref.semverFilter, which "
			       "provgate does not apply, so it cannot tell which tag Flux pulls: "
			       "pin spec.ref.tag or spec.ref.digest");
	return e->invalid ? PG_OK : pg_err_set(err, PG_ENOMEM, "out of memory");
}

static int
flux(pg_refs *r, const char *kind, const json_t *obj, pg_err *err)
{
	const json_t *spec = json_object_get(obj, "spec");
	const char *ns = PG_JSON_STR_AT(obj, "metadata", "namespace");
	char src[WHERE_MAX];
	int rc;

	if (ns == NULL)
		ns = "default";
	if (strcmp(kind, "HelmRelease") == 0) {
		const json_t *c = PG_JSON_AT(spec, "chart", "spec");
		const json_t *cref = json_object_get(spec, "chartRef");

		if (json_is_object(c)) {
			const char *ver = pg_json_str(c, "version");

			if (source_ref(src, sizeof(src), json_object_get(c, "sourceRef"), ns,
				       "HelmRepository") != PG_OK)
				return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL,
						 pg_json_str(c, "chart"), NULL, NULL,
						 "spec.chart.spec", err);
			if ((rc = add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL,
					    pg_json_str(c, "chart"), ver, src, "spec.chart.spec",
					    err)) != PG_OK)
				return rc;
			mark_range(r, ver, "Flux", READ_VERSION);
			return PG_OK;
		}
		if (json_is_object(cref)) {
			const char *nm = pg_json_str(cref, "name");

			if (source_ref(src, sizeof(src), cref, ns, "OCIRepository") != PG_OK)
				nm = NULL;
			return add_chart(r, PG_REF_CHART, PG_CHART_OCI, NULL, nm, NULL,
					 nm ? src : NULL, "spec.chartRef", err);
		}
		return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL, NULL, NULL, NULL, "spec",
				 err);
	}
	if (strcmp(kind, "HelmChart") == 0) {
		const char *ver = pg_json_str(spec, "version");

		if (source_ref(src, sizeof(src), json_object_get(spec, "sourceRef"), ns,
			       "HelmRepository") != PG_OK)
			return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL,
					 pg_json_str(spec, "chart"), NULL, NULL, "spec", err);
		if ((rc = add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL,
				    pg_json_str(spec, "chart"), ver, src, "spec", err)) != PG_OK)
			return rc;
		mark_range(r, ver, "Flux", READ_VERSION);
		return PG_OK;
	}
	if (strcmp(kind, "OCIRepository") == 0) {
		const char *url = pg_json_str(spec, "url");
		read_as how;
		const char *ver = oci_repository_version(json_object_get(spec, "ref"), &how);

		if ((rc = add_oci_artifact(r, url, ver, "spec.url", err)) != PG_OK)
			return rc;
		mark_range(r, ver, "Flux", how);
		return semver_filter(r, json_object_get(spec, "ref"), how, err);
	}
	if (strcmp(kind, "HelmRepository") == 0) {
		const char *type = pg_json_str(spec, "type");
		const char *url = pg_json_str(spec, "url");
		bool oci = type && strcmp(type, "oci") == 0;

		/* Every type is a source whose URL a rule must cover, on CREATE
		 * and UPDATE: re-pointing a repository after its HelmRelease was
		 * admitted would otherwise make Flux install what nobody checked.
		 * The charts pulled from it are verified where they are used. */
		if (type && type[0] && !oci && strcmp(type, "default") != 0) {
			pg_refent *e;

			if ((rc = push(r, &e, err)) != PG_OK)
				return rc;
			e->kind = PG_REF_SOURCE;
			e->raw = pg_strdup(url ? url : "(no url)");
			e->where = pg_strdup("spec.type");
			e->invalid = pg_strdup("HelmRepository type is neither default nor oci");
			if (!e->raw || !e->where || !e->invalid)
				return pg_err_set(err, PG_ENOMEM, "out of memory");
			return PG_OK;
		}
		return add_chart(r, PG_REF_SOURCE, oci ? PG_CHART_OCI : PG_CHART_REPO,
				 url ? url : "", "*", NULL, NULL, "spec.url", err);
	}
	return PG_OK;
}

static int
release_secret(pg_refs *r, const json_t *obj, pg_err *err)
{
	const char *type = pg_json_str(obj, "type");
	const char *nm = PG_JSON_STR_AT(obj, "metadata", "name");
	const char *owner = PG_JSON_STR_AT(obj, "metadata", "labels", "owner");
	const char *rel;
	const json_t *data;
	pg_refent *e;
	int rc;

	/* Helm's Secrets driver reads any Secret labelled owner=helm that has
	 * a `release` key (List/Query), and any Secret by its name
	 * sh.helm.release.v1.<release>.v<N> (Get, rollback) -- whatever its
	 * `type`.  So every one of them is a release. */
	data = json_object_get(obj, "data");
	if (!(type && strcmp(type, "helm.sh/release.v1") == 0) &&
	    !(json_object_get(data, "release") &&
	      ((owner && strcmp(owner, "helm") == 0) ||
	       (nm && strncmp(nm, "sh.helm.release.v1.", 19) == 0))))
		return PG_OK;
	rel = pg_json_str(data, "release");
	if ((rc = push(r, &e, err)) != PG_OK)
		return rc;
	e->kind = PG_REF_CHART;
	e->raw = pg_strdup("helm release");
	e->where = pg_strdup("data.release");
	if (e->raw == NULL || e->where == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	if (rel == NULL) {
		e->invalid = pg_strdup("Helm release Secret without data.release");
		return e->invalid ? PG_OK : pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	/* The chart name is inside the encoded release; the helm module
	 * decodes it when the reference is matched. */
	if (pg_chart_ref_new(&e->chart, PG_CHART_RELEASE, NULL, "release", NULL, err) != PG_OK)
		return err ? err->code : PG_ENOMEM;
	e->chart->release_len = strlen(rel);
	if ((e->chart->release = pg_strndup(rel, e->chart->release_len)) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

int
pg_extract(pg_refs *out, const char *kind, const json_t *obj, pg_err *err)
{
	static const char *const pspec[] = {"spec", NULL};
	static const char *const tspec[] = {"spec", "template", "spec", NULL};
	static const char *const cjspec[] = {"spec",	 "jobTemplate", "spec",
					     "template", "spec",	NULL};
	static const char *const ptspec[] = {"template", "spec", NULL};
	static const char *const workloads[] = {"Deployment", "ReplicaSet", "StatefulSet",
						"DaemonSet",  "Job",	    "ReplicationController",
						NULL};
	const json_t *spec;
	size_t i;

	if (obj == NULL || !json_is_object(obj))
		return PG_OK;
	if (strcmp(kind, "Pod") == 0)
		return pod_spec_at(out, obj, pspec, "spec", err);
	for (i = 0; workloads[i]; i++)
		if (strcmp(kind, workloads[i]) == 0)
			return pod_spec_at(out, obj, tspec, "spec.template.spec", err);
	if (strcmp(kind, "CronJob") == 0)
		return pod_spec_at(out, obj, cjspec, "spec.jobTemplate.spec.template.spec", err);
	if (strcmp(kind, "PodTemplate") == 0)
		return pod_spec_at(out, obj, ptspec, "template.spec", err);
	if (strcmp(kind, "Application") == 0) {
		const json_t *srcs;
		char where[WHERE_MAX];
		int rc;

		spec = json_object_get(obj, "spec");
		if (json_is_object(json_object_get(spec, "source")) &&
		    (rc = argo_source(out, json_object_get(spec, "source"), "spec.source", err)) !=
			PG_OK)
			return rc;
		srcs = json_object_get(spec, "sources");
		for (i = 0; json_is_array(srcs) && i < json_array_size(srcs); i++) {
			(void)snprintf(where, sizeof(where), "spec.sources[%zu]", i);
			if ((rc = argo_source(out, json_array_get(srcs, i), where, err)) != PG_OK)
				return rc;
		}
		return PG_OK;
	}
	if (strcmp(kind, "Secret") == 0)
		return release_secret(out, obj, err);
	return flux(out, kind, obj, err);
}

/* The kinds table: the kinds pg_extract reads, with the API group each must
 * come from (a Deployment of another group is some other resource, read by
 * the generic extractor).  docs/threat-model.md lists it. */
static const struct {
	const char *group, *kind;
} read_kinds[] = {
    {"", "Pod"},
    {"", "ReplicationController"},
    {"", "PodTemplate"},
    {"", "Secret"},
    {"apps", "Deployment"},
    {"apps", "ReplicaSet"},
    {"apps", "StatefulSet"},
    {"apps", "DaemonSet"},
    {"batch", "Job"},
    {"batch", "CronJob"},
    {"argoproj.io", "Application"},
    {"helm.toolkit.fluxcd.io", "HelmRelease"},
    {"source.toolkit.fluxcd.io", "HelmChart"},
    {"source.toolkit.fluxcd.io", "OCIRepository"},
    {"source.toolkit.fluxcd.io", "HelmRepository"},
};

bool
pg_extract_reads(const char *group, const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(read_kinds) / sizeof(read_kinds[0]); i++)
		if (strcmp(kind, read_kinds[i].kind) == 0 &&
		    strcmp(group, read_kinds[i].group) == 0)
			return true;
	return false;
}

/* A pod spec, as far as a kind we do not know can tell: an object naming
 * containers of some sort.  (A CRD's `spec.template` that is something
 * else entirely is left alone; one that names containers is read, and
 * denied if they have the wrong shape.) */
static bool
looks_like_pod_spec(const json_t *s)
{
	return json_is_object(s) &&
	       (json_object_get(s, "containers") || json_object_get(s, "initContainers") ||
		json_object_get(s, "ephemeralContainers"));
}

int
pg_extract_generic(pg_refs *out, bool *found, const json_t *obj, pg_err *err)
{
	/* Where the workload APIs (and their imitators: Argo Rollouts,
	 * Knative Serving, OpenKruise, ...) keep a pod template. */
	static const struct {
		const char *const keys[6];
		const char *base;
	} places[] = {
	    {{"spec", "template", "spec", NULL}, "spec.template.spec"},
	    {{"spec", "jobTemplate", "spec", "template", "spec", NULL},
	     "spec.jobTemplate.spec.template.spec"},
	    {{"spec", NULL}, "spec"},
	};
	size_t i;
	int rc;

	*found = false;
	if (obj == NULL || !json_is_object(obj))
		return PG_OK;
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		const json_t *spec = pg_json_path(obj, places[i].keys);

		if (!looks_like_pod_spec(spec))
			continue;
		*found = true;
		if ((rc = pod_spec(out, spec, places[i].base, err)) != PG_OK)
			return rc;
	}
	return PG_OK;
}

void
pg_refs_free(pg_refs *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].raw);
		free(r->v[i].where);
		free(r->v[i].also);
		free(r->v[i].invalid);
		pg_ref_free(r->v[i].image);
		pg_chart_ref_free(r->v[i].chart);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int
pg_extract_object(pg_refs *out, bool *read, const char *group, const char *kind, const json_t *obj,
		  pg_err *err)
{
	*read = true;
	if (pg_extract_reads(group, kind))
		return pg_extract(out, kind, obj, err);
	return pg_extract_generic(out, read, obj, err);
}
