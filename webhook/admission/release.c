/*
 * admission/release — the images a Helm release Secret would run.
 *
 * A release records the rendered manifests `helm rollback` and
 * `helm upgrade` apply.  Their images are references of the review like any
 * other: found by the same extractor (pg_extract on each manifest document,
 * by its kind), matched against the image rules and verified like any
 * image.  Chart references inside a manifest are not followed (a release
 * does not nest releases); the chart itself is proven by verify/.
 *
 * Runs on a worker (decoding a release is gunzip + JSON + YAML work).
 */
#include "admission/admission_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "helm/helm.h"

/* A location such as "manifest web/templates/deploy.yaml: spec.template.spec.containers[0] (app)". */
#define RWHERE_MAX 512

int
pg__release_image_refs(pg_refs *out, const pg_chart_ref *ch, pg_err *err)
{
	pg_helm_release *rel = NULL;
	json_t *objs = NULL, *e;
	pg_refs tmp = {0};
	size_t i, j, k;
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
		const json_t *o = json_object_get(e, "object");
		const char *kind = json_str(o, "kind");
		const char *src = json_str(e, "source");
		int hook = json_is_true(json_object_get(e, "hook"));

		if (kind == NULL || strcmp(kind, "Secret") == 0)
			continue; /* no pod spec; a release Secret is not followed */
		pg_refs_free(&tmp);
		if ((rc = pg_extract(&tmp, kind, o, err)) != PG_OK)
			goto out;
		for (j = 0; j < tmp.n; j++) {
			pg_refent *t = &tmp.v[j], *d;
			char where[RWHERE_MAX];

			if (t->kind != PG_REF_IMAGE)
				continue;
			for (k = 0; k < out->n; k++)
				if (out->v[k].kind == PG_REF_IMAGE && strcmp(out->v[k].raw, t->raw) == 0)
					break;
			if (k < out->n)
				continue; /* already a reference of this review */
			if (out->n >= PG_REFS_MAX) {
				rc = pg_err_set(err, PG_ETOOBIG, "object has more than %d references",
						PG_REFS_MAX);
				goto out;
			}
			if (out->n == out->cap) {
				size_t nc = out->cap ? out->cap * 2 : 8;
				pg_refent *v = realloc(out->v, nc * sizeof(*v));

				if (v == NULL) {
					rc = pg_err_set(err, PG_ENOMEM, "out of memory");
					goto out;
				}
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
			if (d->where == NULL) {
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	rc = PG_OK;
out:
	pg_refs_free(&tmp);
	json_decref(objs);
	pg_helm_release_free(rel);
	return rc;
}
