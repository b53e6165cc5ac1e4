/*
 * ref/chart — chart reference construction.  Pure string work; the chart
 * is not fetched or validated beyond shape here.
 */
#include "ref/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

/* A chart name or version longer than this is not a real chart. */
#define CHART_FIELD_MAX 512
/* The longest location the bounds above allow:
 * "oci://" repo_url(2 * max) "/" name ":" version. */
#define LOCATION_MAX (sizeof("oci://") + 2 * CHART_FIELD_MAX + 1 + CHART_FIELD_MAX + 1 + \
		      CHART_FIELD_MAX)

static char *
trim_slash(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return pg_strndup(s, n);
}

int
pg_chart_ref_new(pg_chart_ref **out, pg_chart_kind kind, const char *repo_url,
		 const char *name, const char *version, pg_err *err)
{
	int rc = PG_ENOMEM;
	pg_chart_ref *c = NULL;
	pg_buf loc;

	pg_buf_init(&loc, LOCATION_MAX);
	if (name == NULL || name[0] == '\0' || strlen(name) > CHART_FIELD_MAX ||
	    (version && strlen(version) > CHART_FIELD_MAX) ||
	    (repo_url && strlen(repo_url) > 2 * CHART_FIELD_MAX)) {
		rc = pg_err_set(err, PG_EINVAL, "invalid chart reference: %s",
				name == NULL || name[0] == '\0' ? "no chart name"
								: "field too long");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->kind = kind;
	if ((c->name = pg_strdup(name)) == NULL)
		goto out;
	if (version && version[0] && (c->version = pg_strdup(version)) == NULL)
		goto out;
	if (kind == PG_CHART_OCI && repo_url && strncmp(repo_url, "oci://", 6) != 0) {
		if (pg_buf_printf(&loc, "oci://%s", repo_url) != PG_OK)
			goto out;
		c->repo_url = trim_slash((char *)loc.data);
		pg_buf_reset(&loc);
	} else if (repo_url) {
		c->repo_url = trim_slash(repo_url);
	}
	if (repo_url && c->repo_url == NULL)
		goto out;
	switch (kind) {
	case PG_CHART_REPO:
		rc = pg_buf_printf(&loc, "%s/%s", c->repo_url ? c->repo_url : "", name);
		break;
	case PG_CHART_OCI:
		rc = pg_buf_printf(&loc, "%s/%s%s%s", c->repo_url ? c->repo_url : "oci:/",
				   name, c->version ? ":" : "", c->version ? c->version : "");
		break;
	default:
		rc = pg_buf_printf(&loc, "release://%s", name);
		break;
	}
	if (rc != PG_OK)
		goto out;
	rc = PG_ENOMEM;
	if (pg_buf_detach(&c->location, NULL, &loc) != PG_OK)
		goto out;
	*out = c;
	c = NULL;
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM)
		pg_err_set(err, rc, "out of memory");
	else if (rc == PG_ETOOBIG)
		pg_err_set(err, rc, "invalid chart reference: location longer than %zu bytes",
			   (size_t)LOCATION_MAX);
	pg_buf_free(&loc);
	pg_chart_ref_free(c);
	return rc;
}

void
pg_chart_ref_free(pg_chart_ref *c)
{
	if (c == NULL)
		return;
	free(c->repo_url);
	free(c->name);
	free(c->version);
	free(c->location);
	free(c->source);
	free(c->release);
	free(c);
}
