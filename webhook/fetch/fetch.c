/*
 * fetch — libcurl behind a bounded interface.  This is the only file that
 * includes curl; callers see pg_fetch_* and plain bytes.
 *
 * What it must never do: follow a redirect the guard has not approved, read
 * more than max_bytes, run past the deadline, or speak anything but https
 * (and http where the caller says plain_http).  Redirects are therefore
 * followed here, one hop at a time, rather than by curl.
 */
#include "fetch/fetch.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf/buf.h"
#include "clock/clock.h"

/* Default total time for a request when the caller set no deadline. */
#define DEFAULT_TIMEOUT_MS 30000
/* A URL longer than this is not one we build or follow. */
#define URL_MAX 8192

struct pg_fetch {
	CURL *curl;
};

typedef struct xfer {
	pg_buf body;
	pg_buf headers;
	int toobig;
} xfer;

int
pg_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? PG_OK : PG_EINTERNAL;
}

void
pg_fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

int
pg_fetch_new(pg_fetch **out)
{
	pg_fetch *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return PG_ENOMEM;
	if ((f->curl = curl_easy_init()) == NULL) {
		free(f);
		return PG_ENOMEM;
	}
	*out = f;
	return PG_OK;
}

void
pg_fetch_free(pg_fetch *f)
{
	if (f == NULL)
		return;
	curl_easy_cleanup(f->curl);
	free(f);
}

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;

	if (pg_buf_append(&x->body, p, size * n) != PG_OK) {
		x->toobig = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;

	/* A new status line starts a new response (1xx, redirects we see
	 * when curl handles none): keep only the last block. */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		pg_buf_reset(&x->headers);
	if (pg_buf_append(&x->headers, p, size * n) != PG_OK) {
		x->toobig = 1;
		return 0;
	}
	return size * n;
}

/* Split url into scheme, host and port with curl's own parser, so the
 * guard sees exactly what curl would connect to. */
static int
url_parts(const char *url, char **scheme, char **host, int *port, pg_err *err)
{
	int rc = PG_EINVAL;
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL, *p = NULL;
	long pn;

	*scheme = *host = NULL;
	if (u == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rc = pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\"", url);
		goto out;
	}
	pn = strtol(p, NULL, 10);
	if (pn <= 0 || pn > 65535) {
		rc = pg_err_set(err, PG_EINVAL, "invalid port in URL \"%.200s\"", url);
		goto out;
	}
	*scheme = pg_strdup(s);
	*host = pg_strdup(h);
	*port = (int)pn;
	rc = (*scheme && *host) ? PG_OK : PG_ENOMEM;
out:
	curl_free(s);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

static int
check_url(const char *url, const pg_fetch_opts *o, pg_err *err)
{
	char *scheme = NULL, *host = NULL;
	int port = 0, rc;

	if (strlen(url) > URL_MAX)
		return pg_err_set(err, PG_EINVAL, "URL longer than %d bytes", URL_MAX);
	rc = url_parts(url, &scheme, &host, &port, err);
	if (rc != PG_OK)
		goto out;
	if (strcasecmp(scheme, "https") != 0 &&
	    !(o->plain_http && strcasecmp(scheme, "http") == 0)) {
		rc = pg_err_set(err, PG_EDENIED, "refusing %s:// URL for %s (only https%s)",
				scheme, host, o->plain_http ? " and http" : "");
		goto out;
	}
	if (o->guard)
		rc = o->guard(scheme, host, port, err, o->guard_ctx);
out:
	free(scheme);
	free(host);
	return rc;
}

static int
curl_error(pg_err *err, CURLcode cc, const char *url, const xfer *x,
	   size_t max, const char *detail)
{
	char *scheme = NULL, *host = NULL;
	int port = 0;
	const char *where;

	(void)url_parts(url, &scheme, &host, &port, NULL);
	where = host ? host : "server";
	if (x->toobig) {
		pg_err_set(err, PG_ETOOBIG, "response from %s larger than %zu bytes", where, max);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		pg_err_set(err, PG_ETIMEOUT, "%s did not answer in time", where);
	} else {
		pg_err_set(err, PG_EFETCH, "cannot reach %s: %s", where,
			   detail && detail[0] ? detail : curl_easy_strerror(cc));
	}
	free(scheme);
	free(host);
	return err ? err->code : (x->toobig ? PG_ETOOBIG : PG_EFETCH);
}

int
pg_fetch_do(pg_fetch_resp **out, pg_fetch *f, const char *url,
	    const pg_fetch_opts *opts, pg_err *err)
{
	int rc = PG_EINTERNAL, hops, max_redirects;
	pg_fetch_opts o = {0};
	pg_fetch_resp *r = NULL;
	struct curl_slist *hdrs = NULL, *redir_hdrs = NULL;
	char *cur = NULL, *loc = NULL;
	char errbuf[CURL_ERROR_SIZE];
	xfer x;
	size_t i, max;
	int64_t deadline;
	const char *redirect = NULL;

	if (opts)
		o = *opts;
	max = o.max_bytes ? o.max_bytes : PG_FETCH_DEFAULT_MAX;
	deadline = o.deadline ? o.deadline : pg_clock_ms() + DEFAULT_TIMEOUT_MS;
	max_redirects = o.max_redirects == 0 ? PG_FETCH_DEFAULT_REDIRECTS
					     : (o.max_redirects < 0 ? 0 : o.max_redirects);
	pg_buf_init(&x.body, max);
	pg_buf_init(&x.headers, PG_FETCH_HEADERS_MAX);
	x.toobig = 0;
	for (i = 0; o.headers && o.headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(hdrs, o.headers[i]);

		if (n == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		hdrs = n;
		/* Credentials go to the first URL only, like userpwd below:
		 * a registry redirects blob downloads to storage hosts that
		 * must not see its bearer token (and S3 rejects the request
		 * when they do). */
		if (strncasecmp(o.headers[i], "Authorization:", 14) != 0) {
			n = curl_slist_append(redir_hdrs, o.headers[i]);
			if (n == NULL) {
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
			redir_hdrs = n;
		}
	}
	if ((cur = pg_strdup(url)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	for (hops = 0;; hops++) {
		CURL *c = f->curl;
		CURLcode cc;
		long status = 0, left;

		if ((rc = check_url(cur, &o, err)) != PG_OK)
			goto out;
		left = (long)pg_clock_left_ms(deadline);
		if (left <= 0) {
			rc = pg_err_set(err, PG_ETIMEOUT, "deadline passed before fetching %.200s", cur);
			goto out;
		}
		pg_buf_reset(&x.body);
		pg_buf_reset(&x.headers);
		x.toobig = 0;
		errbuf[0] = '\0';
		curl_easy_reset(c);
		(void)curl_easy_setopt(c, CURLOPT_URL, cur);
		(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, o.plain_http ? "https,http" : "https");
		(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
		(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, left);
		(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
		(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
		(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
		(void)curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
		(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "provgate");
		/* No content decoding: digests are over the bytes the server
		 * sent, and a compressed body cannot expand past our bound. */
		(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
		if (hops == 0 ? hdrs != NULL : redir_hdrs != NULL)
			(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hops == 0 ? hdrs : redir_hdrs);
		if (o.ca_file)
			(void)curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file);
		if (o.userpwd && hops == 0) {
			(void)curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			(void)curl_easy_setopt(c, CURLOPT_USERPWD, o.userpwd);
		}
		if (o.method && strcmp(o.method, "HEAD") == 0)
			(void)curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		cc = curl_easy_perform(c);
		if (cc != CURLE_OK) {
			rc = curl_error(err, cc, cur, &x, max, errbuf);
			goto out;
		}
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		redirect = NULL;
		if (status == 301 || status == 302 || status == 303 || status == 307 ||
		    status == 308)
			(void)curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &redirect);
		if (redirect == NULL) {
			if ((r = calloc(1, sizeof(*r))) == NULL) {
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
			r->status = status;
			if (pg_buf_detach(&r->body, &r->len, &x.body) != PG_OK ||
			    pg_buf_detach(&r->headers, NULL, &x.headers) != PG_OK) {
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
			r->effective_url = cur;
			cur = NULL;
			*out = r;
			r = NULL;
			rc = PG_OK;
			goto out;
		}
		if (hops >= max_redirects) {
			rc = pg_err_set(err, PG_EFETCH, "too many redirects fetching %.200s", url);
			goto out;
		}
		free(loc);
		if ((loc = pg_strdup(redirect)) == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		free(cur);
		cur = loc;
		loc = NULL;
	}
out:
	pg_fetch_resp_free(r);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(redir_hdrs);
	free(cur);
	free(loc);
	pg_buf_free(&x.body);
	pg_buf_free(&x.headers);
	return rc;
}

char *
pg_fetch_resp_header(const pg_fetch_resp *r, const char *name)
{
	const char *p, *eol, *v;
	size_t nl = strlen(name);

	if (r == NULL || r->headers == NULL)
		return NULL;
	for (p = r->headers; *p; p = eol + (*eol ? 1 : 0)) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *e = eol;

			v = p + nl + 1;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			return pg_strndup(v, (size_t)(e - v));
		}
		if (*eol == '\0')
			break;
	}
	return NULL;
}

void
pg_fetch_resp_free(pg_fetch_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->effective_url);
	free(r->headers);
	free(r);
}
