/*
 * helm/repo — classic chart repositories: index.yaml, version selection,
 * chart URL resolution (Helm's ResolveReferenceURL), and fetching a chart
 * with its provenance through pg_fetch (https only, bounded).  The OCI form
 * stops at a named boundary for the OCI registry client.
 */
#include "helm/helm_int.h"
#include "ref/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct url {
	char *scheme, *authority, *path, *query; /* query without '?', NULL if none */
} url;

static void
url_free(url *u)
{
	free(u->scheme);
	free(u->authority);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

/* Length of a URI scheme at the start of s (0: none). */
static size_t
scheme_len(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (c == ':')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return 0;
	}
	return 0;
}

/* Split an absolute URL (fragment dropped). */
static int
url_parse(url *u, const char *s)
{
	size_t sl = scheme_len(s), al, pl;
	const char *p;

	memset(u, 0, sizeof(*u));
	if (sl == 0 || strncmp(s + sl, "://", 3) != 0)
		return PG_EINVAL;
	u->scheme = pg_strndup(s, sl);
	p = s + sl + 3;
	al = strcspn(p, "/?#");
	u->authority = pg_strndup(p, al);
	p += al;
	pl = strcspn(p, "?#");
	u->path = pg_strndup(p, pl);
	p += pl;
	if (*p == '?') {
		p++;
		u->query = pg_strndup(p, strcspn(p, "#"));
		if (u->query == NULL)
			goto nomem;
	}
	if (u->scheme && u->authority && u->path)
		return PG_OK;
nomem:
	url_free(u);
	return PG_ENOMEM;
}

/* RFC 3986 §5.2.4 remove_dot_segments, into out. */
static int
remove_dots(pg_buf *out, const char *in)
{
	pg_buf b;
	const char *p = in;
	int rc = PG_OK;

	pg_buf_init(&b, PG_URL_FETCH_MAX);
	while (*p && rc == PG_OK) {
		if (strncmp(p, "../", 3) == 0) {
			p += 3;
		} else if (strncmp(p, "./", 2) == 0) {
			p += 2;
		} else if (strncmp(p, "/./", 3) == 0) {
			p += 2;
		} else if (strcmp(p, "/.") == 0) {
			p += 1;
			rc = pg_buf_puts(&b, "/");
			break;
		} else if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
			int last = p[3] == '\0';
			char *slash;

			p += 3;
			slash = b.data ? strrchr((char *)b.data, '/') : NULL;
			b.len = slash ? (size_t)(slash - (char *)b.data) : 0;
			if (b.data)
				b.data[b.len] = '\0';
			if (last) {
				rc = pg_buf_puts(&b, "/");
				break;
			} /* p is at the '/' that starts the next segment */
		} else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			break;
		} else {
			size_t n = strcspn(p + 1, "/") + 1;

			rc = pg_buf_append(&b, p, n);
			p += n;
		}
	}
	if (rc == PG_OK)
		rc = pg_buf_append(out, b.data ? (char *)b.data : "", b.len);
	pg_buf_free(&b);
	return rc;
}

int
pg_helm_url_resolve(char **out, const char *repo_url, const char *ref, pg_err *err)
{
	url base;
	pg_buf path, res;
	size_t rl;
	const char *rp;
	int rc;

	if (strlen(ref) > PG_URL_FETCH_MAX || strlen(repo_url) > PG_URL_FETCH_MAX)
		return pg_err_set(err, PG_EINVAL, "chart URL longer than %d bytes",
				  PG_URL_FETCH_MAX);
	/* An absolute reference is used as it is (no query carried over). */
	if (scheme_len(ref) > 0) {
		if ((*out = pg_strdup(ref)) == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		return PG_OK;
	}
	if ((rc = url_parse(&base, repo_url)) != PG_OK)
		return pg_err_set(err, rc, "invalid repository URL \"%.200s\"", repo_url);
	pg_buf_init(&path, PG_URL_FETCH_MAX);
	pg_buf_init(&res, 2 * PG_URL_FETCH_MAX);
	rl = strcspn(ref, "?#"); /* the ref's own query is replaced by the repo's */
	if (strncmp(ref, "//", 2) == 0) {
		/* network-path reference: new authority */
		const char *a = ref + 2;
		size_t al = strcspn(a, "/?#");
		char *na = pg_strndup(a, al);

		if (na == NULL) {
			rc = PG_ENOMEM;
			goto out;
		}
		free(base.authority);
		base.authority = na;
		rp = a + al;
		rl = strcspn(rp, "?#");
		rc = pg_buf_append(&path, rp, rl);
	} else if (ref[0] == '/') {
		rc = pg_buf_append(&path, ref, rl);
	} else if (rl == 0) {
		rc = pg_buf_puts(&path, base.path);
		if (rc == PG_OK && (path.len == 0 || path.data[path.len - 1] != '/'))
			rc = pg_buf_puts(&path, "/");
	} else {
		/* merge with the base path, which Helm forces to end in "/" */
		size_t bl = strlen(base.path);

		while (bl > 0 && base.path[bl - 1] == '/')
			bl--;
		rc = pg_buf_append(&path, base.path, bl);
		if (rc == PG_OK)
			rc = pg_buf_puts(&path, "/");
		if (rc == PG_OK)
			rc = pg_buf_append(&path, ref, rl);
	}
	if (rc == PG_OK)
		rc = pg_buf_printf(&res, "%s://%s", base.scheme, base.authority);
	if (rc == PG_OK)
		rc = remove_dots(&res, path.data ? (char *)path.data : "");
	if (rc == PG_OK && base.query)
		rc = pg_buf_printf(&res, "?%s", base.query);
	if (rc == PG_OK)
		rc = pg_buf_detach(out, NULL, &res);
out:
	if (rc != PG_OK)
		rc = pg_err_set(err, rc, "cannot resolve chart URL \"%.200s\"", ref);
	url_free(&base);
	pg_buf_free(&path);
	pg_buf_free(&res);
	return rc;
}

int
pg_helm_index_url(char **out, const char *repo_url, pg_err *err)
{
	url u;
	pg_buf b;
	size_t pl;
	int rc;

	if (strlen(repo_url) > PG_URL_FETCH_MAX || (rc = url_parse(&u, repo_url)) != PG_OK)
		return pg_err_set(err, PG_EINVAL, "invalid repository URL \"%.200s\"", repo_url);
	pg_buf_init(&b, 2 * PG_URL_FETCH_MAX);
	pl = strlen(u.path);
	while (pl > 0 && u.path[pl - 1] == '/')
		pl--;
	u.path[pl] = '\0';
	rc = pg_buf_printf(&b, "%s://%s%s/index.yaml%s%s", u.scheme, u.authority, u.path,
			   u.query ? "?" : "", u.query ? u.query : "");
	if (rc == PG_OK)
		rc = pg_buf_detach(out, NULL, &b);
	if (rc != PG_OK)
		rc = pg_err_set(err, rc, "out of memory");
	pg_buf_free(&b);
	url_free(&u);
	return rc;
}

typedef struct cand {
	const char *version;
	const char *url; /* urls[0], or NULL */
	size_t pos;
} cand;

/* Newest first; unparsable versions last; stable. */
static int
cand_cmp(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	int c = pg_helm_semver_cmp(y->version, x->version);

	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

int
pg_helm_index_resolve(char **url_out, char **version_out, const char *index, size_t len,
		      const char *repo_url, const char *name, const char *constraint, pg_err *err)
{
	const char *path[] = {"entries", name, NULL};
	json_t *ent = NULL, *e, *v, *u;
	cand *c = NULL;
	const cand *pick = NULL;
	size_t n = 0, i;
	int rc;
	char *url_s = NULL, *ver_s = NULL;

	if (constraint && constraint[0] == '\0')
		constraint = NULL;
	if (len > PG_HELM_INDEX_MAX)
		return pg_err_set(err, PG_ETOOBIG, "index.yaml larger than %zu bytes",
				  (size_t)PG_HELM_INDEX_MAX);
	/* Helm parses the constraint before looking at the entries. */
	if (constraint && (rc = pg_helm_semver_match(constraint, "0.0.0", err)) < 0)
		return rc;
	if ((rc = pg_helm_yaml_load(&ent, index, len, 0, path, err)) != PG_OK)
		return pg_err_wrap(err, "cannot parse index.yaml of %s: ", repo_url);
	if (!json_is_array(ent) || json_array_size(ent) == 0) {
		rc = pg_err_set(err, PG_ENOTFOUND, "chart \"%s\" not found in %s repository", name,
				repo_url);
		goto out;
	}
	if ((c = calloc(json_array_size(ent), sizeof(*c))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(ent, i, e)
	{
		if (!json_is_object(e) || !json_is_string(v = json_object_get(e, "version")))
			continue;
		c[n].version = json_string_value(v);
		u = json_object_get(e, "urls");
		c[n].url = json_is_array(u) && json_is_string(json_array_get(u, 0))
			       ? json_string_value(json_array_get(u, 0))
			       : NULL;
		c[n].pos = n;
		n++;
	}
	qsort(c, n, sizeof(*c), cand_cmp);
	for (i = 0; constraint && i < n && !pick; i++)
		if (strcmp(c[i].version, constraint) == 0)
			pick = &c[i];
	for (i = 0; i < n && !pick; i++)
		if (pg_helm_semver_match(constraint ? constraint : "*", c[i].version, NULL) == 1)
			pick = &c[i];
	if (pick == NULL) {
		rc = constraint
			 ? pg_err_set(err, PG_ENOTFOUND,
				      "chart \"%s\" version \"%s\" not found in %s repository",
				      name, constraint, repo_url)
			 : pg_err_set(err, PG_ENOTFOUND, "chart \"%s\" not found in %s repository",
				      name, repo_url);
		goto out;
	}
	if (pick->url == NULL || pick->url[0] == '\0') {
		rc = pg_err_set(err, PG_ENOTFOUND, "chart %s-%s has no downloadable URLs", name,
				pick->version);
		goto out;
	}
	if ((rc = pg_helm_url_resolve(&url_s, repo_url, pick->url, err)) != PG_OK)
		goto out;
	if ((ver_s = pg_strdup(pick->version)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	*url_out = url_s;
	*version_out = ver_s;
	url_s = ver_s = NULL;
	rc = PG_OK;
out:
	free(url_s);
	free(ver_s);
	free(c);
	json_decref(ent);
	return rc;
}

void
pg_helm_download_free(pg_helm_download *d)
{
	if (d == NULL)
		return;
	free(d->url);
	free(d->archive_name);
	free(d->tgz);
	free(d->prov);
	free(d->name);
	free(d->version);
	free(d);
}

static void
fetch_opts(pg_fetch_opts *fo, const pg_helm_fetch_opts *o, size_t max)
{
	memset(fo, 0, sizeof(*fo));
	fo->max_bytes = max;
	if (o) {
		fo->ca_file = o->ca_file;
		fo->guard = o->guard;
		fo->guard_ctx = o->guard_ctx;
		fo->deadline = o->deadline;
	}
}

/* "200 OK"-style text for an HTTP status, as Go's resp.Status prints it. */
static const char *
status_text(long s)
{
	switch (s) {
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "";
	}
}

/* GET u, 200 only.  public_hops/public_why: which hops may go to a public
 * host no policy names (fetch.h); only for archives and .prov files, which
 * the signature and the sha256 decide, never for index.yaml. */
static int
get_ex(pg_fetch_resp **out, pg_fetch *f, const char *u, const pg_helm_fetch_opts *o, size_t max,
       int public_hops, const char *public_why, pg_err *err)
{
	pg_fetch_opts fo;
	pg_fetch_resp *r = NULL;
	int rc;

	fetch_opts(&fo, o, max);
	fo.public_hops = public_hops;
	fo.public_why = public_why;
	if ((rc = pg_fetch_do(&r, f, u, &fo, err)) != PG_OK)
		return rc;
	if (r->status != 200) {
		rc = pg_err_set(err, PG_EFETCH, "failed to fetch %s : %ld %s", u, r->status,
				status_text(r->status));
		pg_fetch_resp_free(r);
		return rc;
	}
	*out = r;
	return PG_OK;
}

static int
get(pg_fetch_resp **out, pg_fetch *f, const char *u, const pg_helm_fetch_opts *o, size_t max,
    pg_err *err)
{
	return get_ex(out, f, u, o, max, PG_FETCH_PUBLIC_NONE, NULL, err);
}

/* Archive and .prov from u.  from_index: u is an index.yaml entry (which
 * may name another host, GitHub release assets for chart-releaser), so its
 * first hop may be a public host too; else only redirects may. */
static int
download_url(pg_helm_download **out, pg_fetch *f, const char *u, const pg_helm_fetch_opts *o,
	     bool from_index, pg_err *err)
{
	pg_helm_download *d = NULL;
	pg_fetch_resp *r = NULL;
	pg_buf pu;
	url parsed;
	const char *base;
	int rc = PG_ENOMEM;
	int pub = from_index ? PG_FETCH_PUBLIC_ALL : PG_FETCH_PUBLIC_REDIRECTS;
	const char *why = from_index ? "chart index entry" : "chart redirect";

	pg_buf_init(&pu, PG_URL_FETCH_MAX + 16);
	memset(&parsed, 0, sizeof(parsed));
	if (strlen(u) > PG_URL_FETCH_MAX || url_parse(&parsed, u) != PG_OK) {
		rc = pg_err_set(err, PG_EINVAL, "invalid chart URL \"%.200s\"", u);
		goto out;
	}
	/* The archive is "saved" under the base name of the URL path, and that
	 * is the name looked up in the provenance (as DownloadTo does). */
	base = strrchr(parsed.path, '/');
	base = base ? base + 1 : parsed.path;
	if (base[0] == '\0') {
		rc = pg_err_set(err, PG_EINVAL, "chart URL \"%.200s\" names no file", u);
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL || (d->url = pg_strdup(u)) == NULL ||
	    (d->archive_name = pg_strdup(base)) == NULL)
		goto out;
	if ((rc = get_ex(&r, f, u, o, PG_HELM_CHART_MAX, pub, why, err)) != PG_OK)
		goto out;
	d->tgz = (unsigned char *)r->body;
	d->tgz_len = r->len;
	r->body = NULL;
	pg_fetch_resp_free(r);
	r = NULL;
	/* The provenance URL is the chart URL string + ".prov", after any
	 * query string, exactly as Helm builds it. */
	if ((rc = pg_buf_printf(&pu, "%s.prov", u)) != PG_OK)
		goto out;
	if ((rc = get_ex(&r, f, (char *)pu.data, o, PG_HELM_PROV_MAX, pub, why, err)) != PG_OK) {
		rc = pg_err_wrap(err, "failed to fetch provenance \"%s\": ", (char *)pu.data);
		goto out;
	}
	d->prov = r->body;
	d->prov_len = r->len;
	r->body = NULL;
	*out = d;
	d = NULL;
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM)
		pg_err_set(err, rc, "out of memory");
	pg_fetch_resp_free(r);
	pg_helm_download_free(d);
	url_free(&parsed);
	pg_buf_free(&pu);
	return rc;
}

int
pg_helm_download_url(pg_helm_download **out, pg_fetch *f, const char *u,
		     const pg_helm_fetch_opts *o, pg_err *err)
{
	return download_url(out, f, u, o, false, err);
}

int
pg_helm_download_repo(pg_helm_download **out, pg_fetch *f, const char *repo_url, const char *name,
		      const char *version, const pg_helm_fetch_opts *o, pg_err *err)
{
	char *iu = NULL, *cu = NULL, *cv = NULL;
	pg_fetch_resp *r = NULL;
	int rc;

	if ((rc = pg_helm_index_url(&iu, repo_url, err)) != PG_OK)
		goto out;
	if ((rc = get(&r, f, iu, o, PG_HELM_INDEX_MAX, err)) != PG_OK) {
		rc = pg_err_wrap(
		    err, "looks like \"%s\" is not a valid chart repository or cannot be reached: ",
		    repo_url);
		goto out;
	}
	if ((rc = pg_helm_index_resolve(&cu, &cv, r->body, r->len, repo_url, name, version, err)) !=
	    PG_OK)
		goto out;
	/* The rule matched the repository; its index may list the archive on
	 * another host (chart-releaser: github.com release assets, which
	 * redirect to objects.githubusercontent.com). */
	if ((rc = download_url(out, f, cu, o, true, err)) != PG_OK)
		goto out;
	/* what was asked for and what the index resolved it to: the verifier
	 * binds the archive to both */
	(*out)->version = cv;
	cv = NULL;
	if (((*out)->name = pg_strdup(name)) == NULL) {
		pg_helm_download_free(*out);
		*out = NULL;
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
	}
out:
	pg_fetch_resp_free(r);
	free(iu);
	free(cu);
	free(cv);
	return rc;
}
