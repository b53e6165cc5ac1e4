/*
 * ref/chart — chart reference construction.  Pure string work; the chart
 * is not fetched or validated beyond shape here.
 */
#include "ref/ref.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "digest/digest.h"

/* A chart name or version longer than this is not a real chart. */
#define CHART_FIELD_MAX 512
/* The longest location the bounds above allow:
 * "oci://" repo_url(2 * max) "/" name ":" version. */
#define LOCATION_MAX                                                                               \
	(sizeof("oci://") + 2 * CHART_FIELD_MAX + 1 + CHART_FIELD_MAX + 1 + CHART_FIELD_MAX)

/* A chart name is one path segment of the URL it is fetched from: no
 * separators, no dot segments, nothing a URL would decode.  "*" stands for
 * every chart of a repository (HelmRepository sources). */
static bool
name_ok(const char *n)
{
	const char *p;

	if (strcmp(n, "*") == 0)
		return true;
	if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return false;
	for (p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '+'))
			return false;
	return true;
}

/* A version or range: printable ASCII without the characters that would
 * change what a location or URL names. */
static bool
version_ok(const char *v)
{
	const char *p;

	if (strncmp(v, "sha256:", 7) == 0)
		return pg_digest_string_valid(v);
	for (p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || strchr("/\\?#@%", *p))
			return false;
	return true;
}

int
pg_chart_ref_new(pg_chart_ref **out, pg_chart_kind kind, const char *repo_url, const char *name,
		 const char *version, pg_err *err)
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
	if (!name_ok(name) || (version && !version_ok(version))) {
		rc = pg_err_set(
		    err, PG_EINVAL, "invalid chart reference: %s",
		    !name_ok(name)
			? "chart name must be one path segment of letters, digits, '-', '_', '.'"
			: "version holds a character a URL would interpret");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->kind = kind;
	if ((c->name = pg_strdup(name)) == NULL)
		goto out;
	if (version && version[0] && (c->version = pg_strdup(version)) == NULL)
		goto out;
	if (repo_url) {
		const char *u = repo_url;

		/* Argo CD writes OCI repositories without a scheme */
		if (kind == PG_CHART_OCI && strstr(repo_url, "://") == NULL) {
			if (pg_buf_printf(&loc, "oci://%s", repo_url) != PG_OK)
				goto out;
			u = (const char *)loc.data;
		}
		rc = pg_url_normalize(&c->repo_url, u, err);
		pg_buf_reset(&loc);
		if (rc != PG_OK)
			goto out;
		rc = PG_ENOMEM;
		if ((kind == PG_CHART_OCI) != (strncmp(c->repo_url, "oci://", 6) == 0)) {
			rc = pg_err_set(err, PG_EINVAL, "invalid chart reference: %s is not %s",
					c->repo_url,
					kind == PG_CHART_OCI ? "an oci:// registry URL"
							     : "an https:// chart repository");
			goto out;
		}
	}
	switch (kind) {
	case PG_CHART_REPO:
		rc = pg_buf_printf(&loc, "%s/%s", c->repo_url ? c->repo_url : "", name);
		break;
	case PG_CHART_OCI:
		rc = pg_buf_printf(&loc, "%s/%s%s%s", c->repo_url ? c->repo_url : "oci:/", name,
				   c->version ? (strncmp(c->version, "sha256:", 7) == 0 ? "@" : ":")
					      : "",
				   c->version ? c->version : "");
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
	else if (rc == PG_EINVAL && err && strncmp(err->msg, "invalid URL", 11) == 0)
		pg_err_wrap(err, "invalid chart reference: ");
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
