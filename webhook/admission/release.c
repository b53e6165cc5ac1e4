/*
 * admission/release — the images a Helm release Secret would run.
 *
 * A release records the rendered manifests `helm rollback` and
 * `helm upgrade` apply.  Their images are references of the review like any
 * other: read as a review's object is (pg_extract_object, by the group of
 * the document's apiVersion and its kind: the kinds table, else the
 * generic pod-template places of Argo Rollouts, Knative Services, ...),
 * matched against the image rules and verified like any image.  The items
 * of a List are objects too (Helm applies them one by one).  Chart
 * references inside a manifest are not followed (a release does not nest
 * releases); the chart itself is proven by verify/.
 *
 * Runs on a worker (decoding a release is gunzip + JSON + YAML work).
 */
#include "admission/admission_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "helm/helm.h"

/* A location such as "manifest web/templates/deploy.yaml: spec.template.spec.containers[0] (app)".
 */
#define RWHERE_MAX 512

/* Lists (kind List, or any *List with items) are applied item by item
 * (Helm's resource builder flattens them): their items are objects too. */
#define LIST_DEPTH_MAX 4

/* Longest API group kept (DNS subdomains are at most 253 bytes); a longer
 * one matches no kind of the table and is read by the generic extractor. */
#define GROUP_MAX 256

/* The API group of object o, as request.kind.group names it for a review:
 * apiVersion's part before its "/", "" for the core group ("v1"). */
static void
api_group(char *out, size_t size, const json_t *o)
{
	const char *av = pg_json_str(o, "apiVersion");
	const char *slash = av ? strchr(av, '/') : NULL;

	(void)snprintf(out, size, "%.*s", slash ? (int)(slash - av) : 0, slash ? av : "");
}

/* The images of one object (and of its items, for a List) into out. */
static int
object_images(pg_refs *out, pg_refs *tmp, const json_t *o, const char *src, int hook, int depth,
	      pg_err *err)
{
	const char *kind = pg_json_str(o, "kind");
	const json_t *items = json_is_object(o) ? json_object_get(o, "items") : NULL;
	char group[GROUP_MAX];
	bool found;
	size_t j, k, kl;
	int rc;

	if (kind == NULL)
		return PG_OK;
	kl = strlen(kind);
	if (json_is_array(items) && kl >= 4 && strcmp(kind + kl - 4, "List") == 0) {
		const json_t *it;

		if (depth >= LIST_DEPTH_MAX)
			return pg_err_set(err, PG_ETOOBIG,
					  "release manifest: Lists nested deeper than %d",
					  LIST_DEPTH_MAX);
		json_array_foreach((json_t *)items, j,
				   it) if ((rc = object_images(out, tmp, it, src, hook, depth + 1,
							       err)) != PG_OK) return rc;
		return PG_OK;
	}
	api_group(group, sizeof(group), o);
	if (strcmp(kind, "Secret") == 0 && group[0] == '\0')
		return PG_OK; /* no pod spec; a release Secret is not followed */
	pg_refs_free(tmp);
	if ((rc = pg_extract_object(tmp, &found, group, kind, o, err)) != PG_OK)
		return rc;
	for (j = 0; j < tmp->n; j++) {
		pg_refent *t = &tmp->v[j], *d;
		char where[RWHERE_MAX];

		if (t->kind != PG_REF_IMAGE)
			continue;
		for (k = 0; k < out->n; k++)
			if (out->v[k].kind == PG_REF_IMAGE && strcmp(out->v[k].raw, t->raw) == 0)
				break;
		if (k < out->n)
			continue; /* already a reference of this review */
		if (out->n >= PG_REFS_MAX)
			return pg_err_set(err, PG_ETOOBIG, "object has more than %d references",
					  PG_REFS_MAX);
		if (out->n == out->cap) {
			size_t nc = out->cap ? out->cap * 2 : 8;
			pg_refent *v = realloc(out->v, nc * sizeof(*v));

			if (v == NULL)
				return pg_err_set(err, PG_ENOMEM, "out of memory");
			out->v = v;
			out->cap = nc;
		}
		(void)snprintf(where, sizeof(where), "release %s %.300s: %s",
			       hook ? "hook" : "manifest", src ? src : "(no source)",
			       t->where ? t->where : "");
		pg_utf8_clean(where);
		d = &out->v[out->n];
		*d = *t; /* ownership moves */
		memset(t, 0, sizeof(*t));
		free(d->where);
		d->where = pg_strdup(where);
		out->n++;
		if (d->where == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	return PG_OK;
}

int
pg_extract_release(pg_refs *out, const pg_chart_ref *ch, pg_err *err)
{
	pg_helm_release *rel = NULL;
	json_t *objs = NULL, *e;
	pg_refs tmp = {0};
	size_t i;
	int rc;

	if (ch == NULL || ch->kind != PG_CHART_RELEASE || ch->release == NULL)
		return PG_OK;
	if ((rc = pg_helm_release_decode(&rel, ch->release, ch->release_len, err)) != PG_OK)
		goto out;
	if ((rc = pg_helm_release_objects(&objs, rel, err)) != PG_OK) {
		(void)pg_err_wrap(err, "Helm release: ");
		goto out;
	}
	json_array_foreach(objs, i, e)
	{
		rc =
		    object_images(out, &tmp, json_object_get(e, "object"), pg_json_str(e, "source"),
				  json_is_true(json_object_get(e, "hook")), 0, err);
		if (rc != PG_OK)
			goto out;
	}
	rc = PG_OK;
out:
	pg_refs_free(&tmp);
	json_decref(objs);
	pg_helm_release_free(rel);
	return rc;
}
