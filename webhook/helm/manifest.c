/*
 * helm/manifest — the rendered manifests a Helm release records (`manifest`
 * and `hooks[].manifest`), which `helm rollback` and `helm upgrade` apply:
 * split into documents, each with the template it says it came from, and
 * parsed into objects.
 *
 * Helm writes each rendered document as "---\n# Source: <chart>/templates/
 * <file>\n<yaml>\n".  The split here is at every line that begins with
 * "---", a superset of both Helm's SplitManifests and the Kubernetes YAML
 * reader's separators: a document hidden from one of them is a separate
 * document here, which must name its own template.  Every YAML document
 * inside one piece is parsed (libyaml, multi-document), so nothing a
 * decoder could apply is skipped.  Parse failures are errors (deny), never
 * "no objects", and so is YAML go-yaml would read otherwise (merge keys,
 * tags beyond the core schema).
 */
#include "helm/helm_int.h"

#include <string.h>

/* "# Source: " as Helm writes it. */
#define SOURCE_TAG "# Source: "

static int
add_doc(json_t *out, const char *source, json_t *obj, pg_err *err)
{
	json_t *e;

	if (json_array_size(out) >= PG_HELM_MANIFEST_DOCS_MAX) {
		json_decref(obj);
		return pg_err_set(err, PG_ETOOBIG, "release manifest has more than %d documents",
				  PG_HELM_MANIFEST_DOCS_MAX);
	}
	e = json_pack("{s:s?, s:o}", "source", source, "object", obj);
	if (e == NULL || json_array_append_new(out, e) != 0)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

/* Does [s, e) hold nothing but blank lines and comments? */
static int
blank(const char *s, const char *e)
{
	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		const char *le = nl ? nl : e;
		const char *p = s;

		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < le && *p != '#')
			return 0;
		s = nl ? nl + 1 : e;
	}
	return 1;
}

/* One piece [s, e): its Source line (the first non-blank line, when it is
 * one), then every YAML document in it. */
static int
piece(json_t *out, const char *s, const char *e, pg_err *err)
{
	char source[PG_HELM_SOURCE_MAX + 1];
	const char *p = s, *src = NULL;
	json_t *docs = NULL, *d;
	size_t i;
	int rc;

	if (blank(s, e))
		return PG_OK;
	while (p < e && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(e - p) > strlen(SOURCE_TAG) &&
	    memcmp(p, SOURCE_TAG, strlen(SOURCE_TAG)) == 0) {
		const char *v = p + strlen(SOURCE_TAG);
		const char *nl = memchr(v, '\n', (size_t)(e - v));
		const char *ve = nl ? nl : e;

		while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if ((size_t)(ve - v) > PG_HELM_SOURCE_MAX || memchr(v, '\0', (size_t)(ve - v)))
			return pg_err_set(err, PG_EINVAL,
					  "release manifest: invalid # Source: line");
		memcpy(source, v, (size_t)(ve - v));
		source[ve - v] = '\0';
		src = source;
	}
	/* strict: Kubernetes reads these with go-yaml, which resolves merge
	 * keys and tags we would keep as text */
	if ((rc = pg_helm_yaml_load_all(&docs, s, (size_t)(e - s), 1, 1, err)) != PG_OK)
		return pg_err_wrap(err, "release manifest%s%s: ", src ? " " : "", src ? src : "");
	json_array_foreach(docs, i, d)
	{
		if (json_is_null(d))
			continue;
		if ((rc = add_doc(out, src, json_incref(d), err)) != PG_OK)
			break;
	}
	json_decref(docs);
	return rc;
}

int
pg_helm_manifest_parse(json_t *out, const char *text, size_t len, pg_err *err)
{
	const char *s = text, *e = text + len, *start = text;
	int rc;

	if (!json_is_array(out))
		return pg_err_set(err, PG_EINVAL, "manifest parse: no output array");
	if (memchr(text, '\0', len) != NULL)
		return pg_err_set(err, PG_EINVAL, "release manifest holds a NUL byte");
	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		const char *next = nl ? nl + 1 : e;

		if ((size_t)(e - s) >= 3 && memcmp(s, "---", 3) == 0) {
			if ((rc = piece(out, start, s, err)) != PG_OK)
				return rc;
			start = s + 3; /* the rest of a "---" line stays in the piece */
		}
		s = next;
	}
	return piece(out, start, e, err);
}
