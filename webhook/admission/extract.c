/*
 * admission/extract — finds every image and chart reference in an object.
 *
 * Images: pod specs of every workload kind (containers, initContainers,
 * ephemeralContainers).  Charts: Argo CD Application Helm sources, Flux
 * HelmRelease / HelmChart / OCIRepository / HelmRepository(type oci), Helm
 * release Secrets.  Anything that looks like a reference but does not parse
 * is kept as invalid, so it is denied rather than silently skipped.
 */
#include "admission/admission_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

/* Longest location string we build for messages. */
#define WHERE_MAX 256

static const json_t *
path(const json_t *o, const char *const *keys)
{
	for (; *keys && o; keys++)
		o = json_is_object(o) ? json_object_get(o, *keys) : NULL;
	return o;
}

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
		if (r->v[i].kind == PG_REF_IMAGE && strcmp(r->v[i].raw, img) == 0)
			return PG_OK;
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
add_chart(pg_refs *r, pg_ref_kind kind, pg_chart_kind ck, const char *repo,
	  const char *name, const char *version, const char *source,
	  const char *where, pg_err *err)
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

static int
containers(pg_refs *r, const json_t *spec, const char *base, const char *field,
	   pg_err *err)
{
	const json_t *arr = json_is_object(spec) ? json_object_get(spec, field) : NULL;
	char where[WHERE_MAX];
	size_t i;
	int rc;

	if (!json_is_array(arr))
		return PG_OK;
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *c = json_array_get(arr, i);
		const json_t *img = json_is_object(c) ? json_object_get(c, "image") : NULL;
		const char *nm = json_str(c, "name");

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

static int
pod_spec(pg_refs *r, const json_t *spec, const char *base, pg_err *err)
{
	int rc;

	if ((rc = containers(r, spec, base, "initContainers", err)) != PG_OK ||
	    (rc = containers(r, spec, base, "containers", err)) != PG_OK ||
	    (rc = containers(r, spec, base, "ephemeralContainers", err)) != PG_OK)
		return rc;
	return PG_OK;
}

/* Argo CD: a Helm source has `chart`; repoURL https://… is a chart
 * repository, oci://… or a scheme-less host/path is an OCI registry. */
static int
argo_source(pg_refs *r, const json_t *src, const char *where, pg_err *err)
{
	const char *repo = json_str(src, "repoURL");
	const char *chart = json_str(src, "chart");
	const char *rev = json_str(src, "targetRevision");

	if (chart == NULL)
		return PG_OK; /* git or plugin source: not a chart */
	if (repo == NULL)
		return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL, chart, rev, NULL, where, err);
	if (strncmp(repo, "https://", 8) == 0 || strncmp(repo, "http://", 7) == 0)
		return add_chart(r, PG_REF_CHART, PG_CHART_REPO, repo, chart, rev, NULL, where, err);
	return add_chart(r, PG_REF_CHART, PG_CHART_OCI, repo, chart, rev, NULL, where, err);
}

static int
source_ref(char *out, size_t n, const json_t *sref, const char *ns, const char *dflt_kind)
{
	const char *k = json_str(sref, "kind");
	const char *nm = json_str(sref, "name");
	const char *sns = json_str(sref, "namespace");
	int w;

	if (nm == NULL)
		return PG_EINVAL;
	w = snprintf(out, n, "%s/%s/%s", k ? k : dflt_kind, sns ? sns : ns, nm);
	return (w < 0 || (size_t)w >= n) ? PG_EINVAL : PG_OK;
}

static int
flux(pg_refs *r, const char *kind, const json_t *obj, pg_err *err)
{
	static const char *const md_ns[] = {"metadata", "namespace", NULL};
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *nsj = path(obj, md_ns);
	const char *ns = json_is_string(nsj) ? json_string_value(nsj) : "default";
	char src[WHERE_MAX];

	if (strcmp(kind, "HelmRelease") == 0) {
		static const char *const cs[] = {"chart", "spec", NULL};
		const json_t *c = path(spec, cs);
		const json_t *cref = json_object_get(spec, "chartRef");

		if (json_is_object(c)) {
			if (source_ref(src, sizeof(src), json_object_get(c, "sourceRef"), ns,
				       "HelmRepository") != PG_OK)
				return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL,
						 json_str(c, "chart"), NULL, NULL, "spec.chart.spec", err);
			return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL, json_str(c, "chart"),
					 json_str(c, "version"), src, "spec.chart.spec", err);
		}
		if (json_is_object(cref)) {
			const char *nm = json_str(cref, "name");

			if (source_ref(src, sizeof(src), cref, ns, "OCIRepository") != PG_OK)
				nm = NULL;
			return add_chart(r, PG_REF_CHART, PG_CHART_OCI, NULL, nm, NULL,
					 nm ? src : NULL, "spec.chartRef", err);
		}
		return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL, NULL, NULL, NULL,
				 "spec", err);
	}
	if (strcmp(kind, "HelmChart") == 0) {
		if (source_ref(src, sizeof(src), json_object_get(spec, "sourceRef"), ns,
			       "HelmRepository") != PG_OK)
			return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL, json_str(spec, "chart"),
					 NULL, NULL, "spec", err);
		return add_chart(r, PG_REF_CHART, PG_CHART_REPO, NULL, json_str(spec, "chart"),
				 json_str(spec, "version"), src, "spec", err);
	}
	if (strcmp(kind, "OCIRepository") == 0) {
		const char *url = json_str(spec, "url");
		const json_t *ref = json_object_get(spec, "ref");
		const char *ver = json_str(ref, "digest");
		const char *slash;
		char repo[1024];

		ver = ver ? ver : json_str(ref, "tag");
		ver = ver ? ver : json_str(ref, "semver");
		if (url == NULL || (slash = strrchr(url, '/')) == NULL ||
		    (size_t)(slash - url) >= sizeof(repo))
			return add_chart(r, PG_REF_CHART, PG_CHART_OCI, url, NULL, ver, NULL,
					 "spec.url", err);
		memcpy(repo, url, (size_t)(slash - url));
		repo[slash - url] = '\0';
		return add_chart(r, PG_REF_CHART, PG_CHART_OCI, repo, slash + 1, ver, NULL,
				 "spec.url", err);
	}
	if (strcmp(kind, "HelmRepository") == 0) {
		const char *type = json_str(spec, "type");
		const char *url = json_str(spec, "url");

		if (type == NULL || strcmp(type, "oci") != 0)
			return PG_OK; /* classic repositories are checked per chart */
		/* A source, not an artifact: the policy must name the host; the
		 * charts pulled from it are verified where they are used. */
		return add_chart(r, PG_REF_SOURCE, PG_CHART_OCI, url, "*", NULL, NULL,
				 "spec.url", err);
	}
	return PG_OK;
}

static int
release_secret(pg_refs *r, const json_t *obj, pg_err *err)
{
	static const char *const md_name[] = {"metadata", "name", NULL};
	static const char *const md_owner[] = {"metadata", "labels", "owner", NULL};
	const char *type = json_str(obj, "type");
	const json_t *nm = path(obj, md_name), *owner = path(obj, md_owner);
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
	      ((json_is_string(owner) && strcmp(json_string_value(owner), "helm") == 0) ||
	       (json_is_string(nm) && strncmp(json_string_value(nm), "sh.helm.release.v1.", 19) == 0))))
		return PG_OK;
	rel = json_str(data, "release");
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
	static const char *const tspec[] = {"spec", "template", "spec", NULL};
	static const char *const cjspec[] = {"spec", "jobTemplate", "spec", "template", "spec", NULL};
	static const char *const ptspec[] = {"template", "spec", NULL};
	static const char *const workloads[] = {"Deployment", "ReplicaSet", "StatefulSet",
						"DaemonSet", "Job", "ReplicationController", NULL};
	const json_t *spec;
	size_t i;

	if (obj == NULL || !json_is_object(obj))
		return PG_OK;
	if (strcmp(kind, "Pod") == 0)
		return pod_spec(out, json_object_get(obj, "spec"), "spec", err);
	for (i = 0; workloads[i]; i++)
		if (strcmp(kind, workloads[i]) == 0)
			return pod_spec(out, path(obj, tspec), "spec.template.spec", err);
	if (strcmp(kind, "CronJob") == 0)
		return pod_spec(out, path(obj, cjspec), "spec.jobTemplate.spec.template.spec", err);
	if (strcmp(kind, "PodTemplate") == 0)
		return pod_spec(out, path(obj, ptspec), "template.spec", err);
	if (strcmp(kind, "Application") == 0) {
		const json_t *srcs;
		char where[WHERE_MAX];
		int rc;

		spec = json_object_get(obj, "spec");
		if (json_is_object(json_object_get(spec, "source")) &&
		    (rc = argo_source(out, json_object_get(spec, "source"), "spec.source", err)) != PG_OK)
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

void
pg_refs_free(pg_refs *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].raw);
		free(r->v[i].where);
		free(r->v[i].invalid);
		pg_ref_free(r->v[i].image);
		pg_chart_ref_free(r->v[i].chart);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}
