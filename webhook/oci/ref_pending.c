/*
 * oci/ref_pending — TEMPORARY weak, minimal image-reference parser so that
 * verify-image links and its tests run before webhook/ref/ref.c (written in
 * its own branch) is merged.  It handles the forms the tests use
 * (host[:port]/repo[:tag][@sha256:hex], Docker Hub short names) and little
 * else.  The real, strong definitions replace these at link time; delete
 * this file when ref.c is merged.
 */
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "ref/ref.h"

__attribute__((weak)) int
pg_ref_digest_valid(const char *d)
{
	size_t i;

	if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return 0;
	for (i = 7; i < 71; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return 0;
	return 1;
}

__attribute__((weak)) void
pg_ref_free(pg_image_ref *r)
{
	if (r == NULL)
		return;
	free(r->normalized);
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	free(r);
}

__attribute__((weak)) int
pg_ref_parse_image(pg_image_ref **out, const char *s, pg_err *err)
{
	int rc = PG_EINVAL;
	pg_image_ref *r = NULL;
	char *name = NULL;
	const char *at, *slash, *colon;
	pg_buf b;

	*out = NULL;
	pg_buf_init(&b, PG_REF_INPUT_MAX + 64);
	if (s == NULL || s[0] == '\0' || strlen(s) > PG_REF_INPUT_MAX)
		return pg_err_set(err, PG_EINVAL, "invalid image reference \"%.100s\": empty or too long",
				  s ? s : "");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	at = strchr(s, '@');
	if (at) {
		if (!pg_ref_digest_valid(at + 1)) {
			rc = pg_err_set(err, PG_EINVAL, "invalid image reference \"%.300s\": bad digest", s);
			goto out;
		}
		if ((r->digest = pg_strdup(at + 1)) == NULL)
			goto nomem;
	}
	if ((name = pg_strndup(s, at ? (size_t)(at - s) : strlen(s))) == NULL)
		goto nomem;
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (colon && (slash == NULL || colon > slash)) {
		if ((r->tag = pg_strdup(colon + 1)) == NULL)
			goto nomem;
		name[colon - name] = '\0';
	}
	slash = strchr(name, '/');
	if (slash && (memchr(name, '.', (size_t)(slash - name)) || memchr(name, ':', (size_t)(slash - name)) ||
		      strncmp(name, "localhost/", 10) == 0)) {
		r->registry = pg_strndup(name, (size_t)(slash - name));
		r->repository = pg_strdup(slash + 1);
	} else {
		r->registry = pg_strdup("docker.io");
		r->repository = slash ? pg_strdup(name) : NULL;
		if (!slash && pg_buf_printf(&b, "library/%s", name) == PG_OK)
			(void)pg_buf_detach(&r->repository, NULL, &b);
	}
	if (r->registry == NULL || r->repository == NULL)
		goto nomem;
	if (r->repository[0] == '\0' || (r->tag && r->tag[0] == '\0') ||
	    strspn(r->repository, "abcdefghijklmnopqrstuvwxyz0123456789._/-") != strlen(r->repository) ||
	    (r->tag && strspn(r->tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			       strlen(r->tag))) {
		rc = pg_err_set(err, PG_EINVAL, "invalid image reference \"%.300s\": empty component or invalid character", s);
		goto out;
	}
	if (r->tag == NULL && r->digest == NULL && (r->tag = pg_strdup("latest")) == NULL)
		goto nomem;
	pg_buf_reset(&b);
	if (pg_buf_printf(&b, "%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "",
			  r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "") != PG_OK ||
	    pg_buf_detach(&r->normalized, NULL, &b) != PG_OK)
		goto nomem;
	*out = r;
	r = NULL;
	rc = PG_OK;
	goto out;
nomem:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	pg_buf_free(&b);
	free(name);
	pg_ref_free(r);
	return rc;
}
