/*
 * helm/release — Helm release Secrets (type helm.sh/release.v1).  The Secret
 * records a chart's content but not where it came from, so a release is
 * admitted by proving its chart equals a verified archive: same Chart.yaml
 * fields, same templates and files byte for byte, same values.yaml.
 * Decoding is bounded at every stage (base64, base64, gunzip, JSON).
 *
 * The release also records the rendered manifests `helm rollback` and
 * `helm upgrade` apply; each of their objects must name a template of the
 * verified archive (subcharts included).  The objects' content is not
 * re-rendered: values are the release's own.
 */
#include "helm/helm_int.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_helm_release {
	json_t *root;
};

/*
 * Helm decodes the release with Go's encoding/json into these structs
 * (pkg/release, pkg/chart of Helm 3 and 4: the json tag of every field).
 * Go matches a key to a field case-insensitively (json.h) and the last match
 * wins; we read exact keys.  So at every struct level a key that names a
 * field without spelling it exactly is refused: "MANIFEST", a second
 * "Manifest" or "manife\u017ft" would be the manifest to Helm and nothing,
 * or the first one, to us.  sub: the struct the field holds, alone or as a
 * list.  Maps (config, values, annotations, resources) are the user's:
 * their keys are data, not fields.
 */
typedef struct gofield {
	const char *name;
	const struct gofield *sub;
} gofield;

static const gofield go_hook_exec[] = {
    {"started_at", NULL},
    {"completed_at", NULL},
    {"phase", NULL},
    {NULL, NULL},
};
static const gofield go_hook[] = {
    {"name", NULL},
    {"kind", NULL},
    {"path", NULL},
    {"manifest", NULL},
    {"events", NULL},
    {"last_run", go_hook_exec},
    {"weight", NULL},
    {"delete_policies", NULL},
    {"output_log_policies", NULL},
    {NULL, NULL},
};
static const gofield go_info[] = {
    {"first_deployed", NULL}, {"last_deployed", NULL}, {"deleted", NULL},
    {"description", NULL},    {"status", NULL},	       {"rollback_revision", NULL},
    {"notes", NULL},	      {"resources", NULL},     {NULL, NULL},
};
static const gofield go_maintainer[] = {
    {"name", NULL},
    {"email", NULL},
    {"url", NULL},
    {NULL, NULL},
};
static const gofield go_dependency[] = {
    {"name", NULL},	     {"version", NULL}, {"repository", NULL},
    {"condition", NULL},     {"tags", NULL},	{"enabled", NULL},
    {"import-values", NULL}, {"alias", NULL},	{NULL, NULL},
};
static const gofield go_metadata[] = {
    {"name", NULL},
    {"home", NULL},
    {"sources", NULL},
    {"version", NULL},
    {"description", NULL},
    {"keywords", NULL},
    {"maintainers", go_maintainer},
    {"icon", NULL},
    {"apiVersion", NULL},
    {"condition", NULL},
    {"tags", NULL},
    {"appVersion", NULL},
    {"deprecated", NULL},
    {"annotations", NULL},
    {"kubeVersion", NULL},
    {"dependencies", go_dependency},
    {"type", NULL},
    {NULL, NULL},
};
static const gofield go_lock[] = {
    {"generated", NULL},
    {"digest", NULL},
    {"dependencies", go_dependency},
    {NULL, NULL},
};
static const gofield go_file[] = {
    {"name", NULL},
    {"data", NULL},
    {"modtime", NULL},
    {NULL, NULL},
};
static const gofield go_chart[] = {
    {"metadata", go_metadata}, {"lock", go_lock}, {"templates", go_file},
    {"values", NULL},	       {"schema", NULL},  {"schemamodtime", NULL},
    {"files", go_file},	       {"modtime", NULL}, {NULL, NULL},
};
static const gofield go_release[] = {
    {"name", NULL},	    {"info", go_info},	{"chart", go_chart}, {"config", NULL},
    {"manifest", NULL},	    {"hooks", go_hook}, {"version", NULL},   {"namespace", NULL},
    {"apply_method", NULL}, {NULL, NULL},
};

/* The levels are at most 4 deep (release.chart.metadata.dependencies[]). */
#define GO_PATH_MAX 128

/* Refuse a key of o (a struct of fields f, at path where) that Helm reads as
 * a field it does not spell exactly; then the same below. */
static int
go_fields_check(const json_t *o, const gofield *f, const char *where, pg_err *err)
{
	const char *k;
	json_t *v;
	size_t i, j;
	char sub[GO_PATH_MAX];

	json_object_foreach((json_t *)o, k, v)
	{
		for (i = 0; f[i].name; i++)
			if (strcmp(k, f[i].name) != 0 && pg_json_go_fold_eq(k, f[i].name))
				return pg_err_set(
				    err, PG_EVERIFY,
				    "release has the key \"%s%s\" where Helm reads \"%s%s\" "
				    "(Helm matches keys case-insensitively and keeps the last; "
				    "provgate reads exact keys): refusing an ambiguous release",
				    where, k, where, f[i].name);
	}
	for (i = 0; f[i].name; i++) {
		const json_t *c = f[i].sub ? json_object_get(o, f[i].name) : NULL;
		int rc = PG_OK;

		if (json_is_object(c)) {
			(void)snprintf(sub, sizeof(sub), "%s%s.", where, f[i].name);
			rc = go_fields_check(c, f[i].sub, sub, err);
		} else if (json_is_array(c)) {
			json_array_foreach((json_t *)c, j, v)
			{
				if (!json_is_object(v))
					continue;
				(void)snprintf(sub, sizeof(sub), "%s%s[%zu].", where, f[i].name, j);
				if ((rc = go_fields_check(v, f[i].sub, sub, err)) != PG_OK)
					break;
			}
		}
		if (rc != PG_OK)
			return rc;
	}
	return PG_OK;
}

void
pg_helm_release_free(pg_helm_release *r)
{
	if (r == NULL)
		return;
	json_decref(r->root);
	free(r);
}

int
pg_helm_release_decode(pg_helm_release **out, const char *data, size_t len, pg_err *err)
{
	pg_buf b1, b2, js;
	const unsigned char *j;
	size_t jl;
	json_t *root = NULL;
	json_error_t je;
	pg_helm_release *r = NULL;
	int rc;

	pg_buf_init(&b1, PG_HELM_RELEASE_B64_MAX);
	pg_buf_init(&b2, PG_HELM_RELEASE_B64_MAX);
	pg_buf_init(&js, PG_HELM_RELEASE_JSON_MAX);
	if (len > PG_HELM_RELEASE_B64_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "release data larger than %zu bytes",
				(size_t)PG_HELM_RELEASE_B64_MAX);
		goto out;
	}
	/* The API object's base64 of the Secret bytes, which are Helm's
	 * base64 of the gzip'd JSON. */
	if ((rc = pg_helm_base64_decode(&b1, data, len, err)) != PG_OK ||
	    (rc = pg_helm_base64_decode(&b2, (const char *)b1.data, b1.len, err)) != PG_OK) {
		rc = pg_err_wrap(err, "cannot decode release: ");
		goto out;
	}
	j = b2.data;
	jl = b2.len;
	if (jl >= 2 && j[0] == 0x1f && j[1] == 0x8b) {
		if ((rc = pg_helm_gunzip(&js, j, jl, err)) != PG_OK) {
			rc = pg_err_wrap(err, "cannot decode release: ");
			goto out;
		}
		j = js.data;
		jl = js.len;
	}
	/* else: releases written before Helm compressed them are plain JSON */
	if ((root = json_loadb((const char *)j, jl, 0, &je)) == NULL || !json_is_object(root)) {
		rc = pg_err_set(err, PG_EINVAL, "cannot decode release: invalid JSON%s%s",
				root ? "" : ": ", root ? "" : je.text);
		goto out;
	}
	if ((rc = go_fields_check(root, go_release, "", err)) != PG_OK)
		goto out;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	r->root = root;
	root = NULL;
	*out = r;
	rc = PG_OK;
out:
	json_decref(root);
	pg_buf_free(&b1);
	pg_buf_free(&b2);
	pg_buf_free(&js);
	return rc;
}

const char *
pg_helm_release_name(const pg_helm_release *r)
{
	return r ? pg_json_str(r->root, "name") : NULL;
}

const char *
pg_helm_release_chart_name(const pg_helm_release *r)
{
	return r ? PG_JSON_STR_AT(r->root, "chart", "metadata", "name") : NULL;
}

const char *
pg_helm_release_chart_version(const pg_helm_release *r)
{
	return r ? PG_JSON_STR_AT(r->root, "chart", "metadata", "version") : NULL;
}

/* Go's omitempty: absent, null, "", false, 0, [] and {} all mean "unset". */
static int
empty(const json_t *v)
{
	return v == NULL || json_is_null(v) || json_is_false(v) ||
	       (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_integer(v) && json_integer_value(v) == 0);
}

/* Scalar as text, so an untyped YAML "true" equals JSON true. */
static int
scalar_text(const json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		return snprintf(buf, n, "%s", json_string_value(v)) >= 0;
	if (json_is_true(v))
		return snprintf(buf, n, "true") >= 0;
	if (json_is_false(v))
		return snprintf(buf, n, "false") >= 0;
	if (json_is_integer(v))
		return snprintf(buf, n, "%lld", (long long)json_integer_value(v)) >= 0;
	if (json_is_real(v))
		return snprintf(buf, n, "%.17g", json_real_value(v)) >= 0;
	return 0;
}

/*
 * Deep equality.  loose: scalars compare as text (Chart.yaml read untyped);
 * otherwise numbers compare by value (values.yaml's 1 vs the release's
 * 1.0 after Go's float64 round trip).  skip_enabled: Helm sets
 * dependencies[].enabled when it installs, so it is not compared.
 */
static int
equal(const json_t *a, const json_t *b, int loose, int skip_enabled)
{
	const char *k;
	json_t *v;
	size_t i;

	if (empty(a) && empty(b))
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach((json_t *)a, k, v)
		{
			if (skip_enabled && strcmp(k, "enabled") == 0)
				continue;
			if (!equal(v, json_object_get(b, k), loose, 0))
				return 0;
		}
		json_object_foreach((json_t *)b, k, v)
		{
			if (skip_enabled && strcmp(k, "enabled") == 0)
				continue;
			if (json_object_get(a, k) == NULL && !empty(v))
				return 0;
		}
		return 1;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!equal(json_array_get(a, i), json_array_get(b, i), loose, skip_enabled))
				return 0;
		return 1;
	}
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_string(a) && json_is_string(b))
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) ==
			   0;
	if (loose) {
		char x[512], y[512];

		return scalar_text(a, x, sizeof(x)) && scalar_text(b, y, sizeof(y)) &&
		       strcmp(x, y) == 0;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

static int
differs(pg_err *err, const char *what)
{
	return pg_err_set(err, PG_EVERIFY, "release chart differs from the verified archive: %s",
			  what);
}

/* Compare a release list of {name, data(base64)} with the archive. */
static int
compare_list(const json_t *list, const pg_helm_files *files, const char *prefix, pg_err *err)
{
	size_t i;
	const json_t *e;
	pg_buf path, data;
	int rc = PG_OK;

	pg_buf_init(&path, 8192);
	pg_buf_init(&data, PG_HELM_UNTAR_FILE_MAX + 16);
	json_array_foreach((json_t *)list, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *d = json_string_value(json_object_get(e, "data"));
		const pg_helm_file *f;

		if (n == NULL) {
			rc = pg_err_set(err, PG_EINVAL, "release chart has a file without a name");
			break;
		}
		pg_buf_reset(&path);
		pg_buf_reset(&data);
		if (pg_buf_printf(&path, "%s/%s", prefix, n) != PG_OK ||
		    (f = pg_helm_files_get(files, (char *)path.data)) == NULL ||
		    (d && pg_helm_base64_decode(&data, d, strlen(d), NULL) != PG_OK) ||
		    data.len != f->len || (f->len && memcmp(data.data, f->data, f->len) != 0)) {
			rc = differs(err, n);
			break;
		}
	}
	pg_buf_free(&path);
	pg_buf_free(&data);
	return rc;
}

static int
in_list(const json_t *list, const char *name)
{
	size_t i;
	const json_t *e;

	json_array_foreach((json_t *)list, i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && strcmp(n, name) == 0)
			return 1;
	}
	return 0;
}

int
pg_helm_release_objects(json_t **out, const pg_helm_release *r, pg_err *err)
{
	const json_t *man = json_object_get(r->root, "manifest");
	const json_t *hooks = json_object_get(r->root, "hooks");
	json_t *all = json_array(), *part = NULL, *e;
	const json_t *h;
	size_t i, j;
	int rc;

	*out = NULL;
	if (all == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	if (man != NULL && !json_is_null(man)) {
		if (!json_is_string(man)) {
			rc = pg_err_set(err, PG_EINVAL, "release manifest is not a string");
			goto out;
		}
		if ((rc = pg_helm_manifest_parse(all, json_string_value(man),
						 json_string_length(man), err)) != PG_OK)
			goto out;
	}
	if (hooks != NULL && !json_is_null(hooks) && !json_is_array(hooks)) {
		rc = pg_err_set(err, PG_EINVAL, "release hooks are not a list");
		goto out;
	}
	json_array_foreach((json_t *)hooks, i, h)
	{
		const json_t *hm = json_object_get(h, "manifest");
		const json_t *hp = json_object_get(h, "path");

		if (hm == NULL || json_is_null(hm))
			continue;
		if (!json_is_string(hm) || (hp && !json_is_null(hp) && !json_is_string(hp))) {
			rc = pg_err_set(err, PG_EINVAL,
					"release hook %zu: manifest or path is not a string", i);
			goto out;
		}
		if ((part = json_array()) == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = pg_helm_manifest_parse(part, json_string_value(hm),
						 json_string_length(hm), err)) != PG_OK) {
			(void)pg_err_wrap(err, "release hook %zu: ", i);
			goto out;
		}
		/* A hook's template is its `path`, whatever its text says. */
		json_array_foreach(part, j, e)
		{
			if (json_object_set(e, "source", hp ? (json_t *)hp : json_null()) != 0 ||
			    json_object_set_new(e, "hook", json_true()) != 0 ||
			    json_array_size(all) >= PG_HELM_MANIFEST_DOCS_MAX ||
			    json_array_append(all, e) != 0) {
				rc = json_array_size(all) >= PG_HELM_MANIFEST_DOCS_MAX
					 ? pg_err_set(err, PG_ETOOBIG,
						      "release manifest has more than %d documents",
						      PG_HELM_MANIFEST_DOCS_MAX)
					 : pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
		}
		json_decref(part);
		part = NULL;
	}
	*out = all;
	all = NULL;
	rc = PG_OK;
out:
	json_decref(part);
	json_decref(all);
	return rc;
}

/* Subchart archives opened while checking one release, each once. */
typedef struct subs {
	struct {
		char *key; /* "<base>|<archive name>" */
		pg_helm_files files;
		char *top; /* the archive's chart directory, or NULL */
	} v[PG_HELM_SUBCHARTS_MAX];
	size_t n;
} subs;

static void
subs_free(subs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].top);
		pg_helm_files_free(&s->v[i].files);
	}
	s->n = 0;
}

/* The files of archive f (at key), unpacked once. */
static int
sub_open(const pg_helm_files **out, const char **top, subs *s, const char *key,
	 const pg_helm_file *f, pg_err *err)
{
	pg_buf tar;
	const char *slash;
	size_t i;
	int rc;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0) {
			*out = &s->v[i].files;
			*top = s->v[i].top;
			return PG_OK;
		}
	if (s->n == PG_HELM_SUBCHARTS_MAX)
		return pg_err_set(err, PG_ETOOBIG, "chart has more than %d subchart archives",
				  PG_HELM_SUBCHARTS_MAX);
	memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
	pg_buf_init(&tar, PG_HELM_UNTAR_MAX + 4 * 512);
	if ((rc = pg_helm_gunzip(&tar, f->data, f->len, err)) != PG_OK ||
	    (rc = pg_helm_untar(&s->v[s->n].files, tar.data, tar.len, err)) != PG_OK) {
		pg_buf_free(&tar);
		pg_helm_files_free(&s->v[s->n].files);
		return pg_err_wrap(err, "subchart %s: ", f->name);
	}
	pg_buf_free(&tar);
	if ((s->v[s->n].key = pg_strdup(key)) == NULL) {
		pg_helm_files_free(&s->v[s->n].files);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	/* the directory holding its Chart.yaml */
	for (i = 0; i < s->v[s->n].files.n; i++) {
		const char *n = s->v[s->n].files.v[i].name;

		if ((slash = strchr(n, '/')) != NULL && strcmp(slash, "/Chart.yaml") == 0) {
			s->v[s->n].top = pg_strndup(n, (size_t)(slash - n));
			break;
		}
	}
	*out = &s->v[s->n].files;
	*top = s->v[s->n].top;
	s->n++;
	return PG_OK;
}

/* Is rest ("templates/x.yaml" or "charts/<sub>/...") a rendered template
 * of the chart at base ("web", "web/charts/db") in files?  1 yes, 0 no, or
 * a negative error. */
static int
template_in(const pg_helm_files *files, const char *base, const char *rest, subs *s, int depth,
	    pg_err *err)
{
	char path[2 * PG_HELM_SOURCE_MAX + 64];
	size_t bl = strlen(base), i;

	if (depth > PG_HELM_SUBCHART_DEPTH_MAX)
		return pg_err_set(err, PG_ETOOBIG, "subcharts nested deeper than %d",
				  PG_HELM_SUBCHART_DEPTH_MAX);
	if (strncmp(rest, "templates/", 10) == 0) {
		const char *bn = strrchr(rest, '/') + 1;

		/* partials and NOTES.txt are never rendered into a manifest */
		if (bn[0] == '_' || strcmp(bn, "NOTES.txt") == 0 || strstr(rest, "/../") ||
		    strstr(rest, "/./"))
			return 0;
		(void)snprintf(path, sizeof(path), "%s/%s", base, rest);
		return pg_helm_files_get(files, path) != NULL;
	}
	if (strncmp(rest, "charts/", 7) == 0) {
		const char *sub = rest + 7, *after = strchr(sub, '/');
		size_t sl;
		char nb[2 * PG_HELM_SOURCE_MAX];

		if (after == NULL || after == sub)
			return 0;
		sl = (size_t)(after - sub);
		if (bl + sl + 8 >= sizeof(nb))
			return 0;
		/* an unpacked subchart: <base>/charts/<sub>/... */
		(void)snprintf(nb, sizeof(nb), "%s/charts/%.*s", base, (int)sl, sub);
		(void)snprintf(path, sizeof(path), "%s/Chart.yaml", nb);
		if (pg_helm_files_get(files, path) != NULL)
			return template_in(files, nb, after + 1, s, depth + 1, err);
		/* a packed one: <base>/charts/<file>.tgz whose chart directory is <sub> */
		for (i = 0; i < files->n; i++) {
			const char *n = files->v[i].name, *tail;
			const pg_helm_files *sf = NULL;
			const char *top = NULL;
			char key[sizeof(path)];
			size_t nl = strlen(n);
			int rc;

			if (strncmp(n, base, bl) != 0 || strncmp(n + bl, "/charts/", 8) != 0)
				continue;
			tail = n + bl + 8;
			if (strchr(tail, '/') || nl < 4 || strcmp(n + nl - 4, ".tgz") != 0)
				continue;
			(void)snprintf(key, sizeof(key), "%d|%s|%s", depth, base, n);
			if ((rc = sub_open(&sf, &top, s, key, &files->v[i], err)) != PG_OK)
				return rc;
			if (top && strlen(top) == sl && strncmp(top, sub, sl) == 0)
				return template_in(sf, top, after + 1, s, depth + 1, err);
		}
	}
	return 0;
}

/* Every object of the release's manifests names a template of the archive. */
static int
check_sources(const pg_helm_release *r, const pg_helm_files *files, const char *cname, pg_err *err)
{
	json_t *objs = NULL, *e;
	size_t i, cl = strlen(cname);
	int rc;

	if ((rc = pg_helm_release_objects(&objs, r, err)) != PG_OK)
		return pg_err_wrap(err, "release manifest: ");
	{
		subs *sp = calloc(1, sizeof(*sp)); /* large: not on the stack */

		if (sp == NULL) {
			json_decref(objs);
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		}
		json_array_foreach(objs, i, e)
		{
			const char *src = json_string_value(json_object_get(e, "source"));
			const json_t *o = json_object_get(e, "object");
			const char *kind = json_string_value(json_object_get(o, "kind"));
			const char *name = json_string_value(
			    json_object_get(json_object_get(o, "metadata"), "name"));
			int hook = json_is_true(json_object_get(e, "hook"));
			int in;

			if (src == NULL) {
				rc = pg_err_set(err, PG_EVERIFY,
						"release %s holds %s %s that names no template (no "
						"# Source: line): not from the verified chart",
						hook ? "hook" : "manifest",
						kind ? kind : "an object", name ? name : "");
				break;
			}
			in = strncmp(src, cname, cl) == 0 && src[cl] == '/'
				 ? template_in(files, cname, src + cl + 1, sp, 0, err)
				 : 0;
			if (in < 0) {
				rc = in;
				(void)pg_err_wrap(err, "release manifest: ");
				break;
			}
			if (in == 0) {
				rc = pg_err_set(err, PG_EVERIFY,
						"release %s: %s %s comes from %s, which is not a "
						"template of the verified chart",
						hook ? "hook" : "manifest", kind ? kind : "object",
						name ? name : "", src);
				break;
			}
		}
		subs_free(sp);
		free(sp);
	}
	json_decref(objs);
	return rc;
}

int
pg_helm_release_match_archive(const pg_helm_release *r, const unsigned char *tgz, size_t len,
			      pg_err *err)
{
	pg_buf tar;
	pg_helm_files files = {0};
	const json_t *chart, *meta, *tpl, *fl;
	const char *cname;
	json_t *cy = NULL, *vy = NULL, *empty_list = json_array();
	const pg_helm_file *f;
	size_t i, pl;
	int rc;
	char prefix[300];

	pg_buf_init(&tar, PG_HELM_UNTAR_MAX + 4 * 512);
	chart = json_object_get(r->root, "chart");
	meta = json_object_get(chart, "metadata");
	cname = json_string_value(json_object_get(meta, "name"));
	if (empty_list == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (cname == NULL || cname[0] == '\0' || strchr(cname, '/') || strlen(cname) > 255) {
		rc = pg_err_set(err, PG_EINVAL, "release has no valid chart name");
		goto out;
	}
	(void)snprintf(prefix, sizeof(prefix), "%s", cname);
	pl = strlen(prefix);
	if ((rc = pg_helm_gunzip(&tar, tgz, len, err)) != PG_OK ||
	    (rc = pg_helm_untar(&files, tar.data, tar.len, err)) != PG_OK) {
		rc = pg_err_wrap(err, "cannot read the chart archive: ");
		goto out;
	}
	/* Chart.yaml */
	{
		char p[320];

		(void)snprintf(p, sizeof(p), "%s/Chart.yaml", prefix);
		if ((f = pg_helm_files_get(&files, p)) == NULL ||
		    pg_helm_yaml_load(&cy, (const char *)f->data, f->len, 0, NULL, NULL) != PG_OK ||
		    !json_is_object(cy)) {
			rc = differs(err, "Chart.yaml");
			goto out;
		}
		/* the fields Helm keeps in chart.Metadata (anything else in
		 * Chart.yaml is dropped by Helm and so cannot be compared) */
		for (i = 0; go_metadata[i].name; i++)
			if (!equal(json_object_get(cy, go_metadata[i].name),
				   json_object_get(meta, go_metadata[i].name), 1,
				   strcmp(go_metadata[i].name, "dependencies") == 0)) {
				rc = differs(err, "Chart.yaml");
				goto out;
			}
	}
	/* templates and files: every one in the release equals the archive's */
	tpl = json_object_get(chart, "templates");
	fl = json_object_get(chart, "files");
	if (!json_is_array(tpl))
		tpl = empty_list;
	if (!json_is_array(fl))
		fl = empty_list;
	if ((rc = compare_list(tpl, &files, prefix, err)) != PG_OK ||
	    (rc = compare_list(fl, &files, prefix, err)) != PG_OK)
		goto out;
	/* ... and the archive has none the release lacks */
	for (i = 0; i < files.n; i++) {
		const char *n = files.v[i].name;
		const char *rel;

		if (strncmp(n, prefix, pl) != 0 || n[pl] != '/')
			continue; /* Helm refuses such archives when loading */
		rel = n + pl + 1;
		if (strcmp(rel, "Chart.yaml") == 0 || strcmp(rel, "values.yaml") == 0 ||
		    strcmp(rel, "values.schema.json") == 0 || strcmp(rel, "Chart.lock") == 0 ||
		    strncmp(rel, "charts/", 7) == 0 || strncmp(rel, "requirements.", 13) == 0)
			continue; /* not stored as templates or files */
		if (strncmp(rel, "templates/", 10) == 0 ? !in_list(tpl, rel) : !in_list(fl, rel)) {
			rc = differs(err, rel);
			goto out;
		}
	}
	/* values */
	{
		char p[320];

		(void)snprintf(p, sizeof(p), "%s/values.yaml", prefix);
		f = pg_helm_files_get(&files, p);
		if (f &&
		    pg_helm_yaml_load(&vy, (const char *)f->data, f->len, 1, NULL, NULL) != PG_OK) {
			rc = differs(err, "values.yaml");
			goto out;
		}
		if (!equal(vy, json_object_get(chart, "values"), 0, 0)) {
			rc = differs(err, "values.yaml");
			goto out;
		}
	}
	/* what rollback and upgrade apply: only objects of its templates */
	if ((rc = check_sources(r, &files, prefix, err)) != PG_OK)
		goto out;
	rc = PG_OK;
out:
	json_decref(cy);
	json_decref(vy);
	json_decref(empty_list);
	pg_helm_files_free(&files);
	pg_buf_free(&tar);
	return rc;
}

int
pg_helm_base64_decode(pg_buf *out, const char *s, size_t n, pg_err *err)
{
	int rc = pg_base64_decode(out, s, n, 0);

	if (rc == PG_EINVAL)
		return pg_err_set(err, rc, "invalid base64");
	if (rc != PG_OK)
		return pg_err_set(err, rc,
				  rc == PG_ETOOBIG ? "base64 data too large" : "out of memory");
	return PG_OK;
}
