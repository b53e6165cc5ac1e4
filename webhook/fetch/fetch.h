/*
 * fetch — the only door to the network (libcurl never leaves this module).
 *
 * Every request is bounded: a body size limit, an absolute deadline, a
 * redirect limit, and a guard callback that must approve the scheme, host
 * and port of the first URL and of every redirect before a connection is
 * made (the SSRF guard: nothing is fetched from a host the policy cannot
 * match).  https only, unless the guard's caller set plain_http.
 *
 * One pg_fetch per worker thread: it keeps connections alive per host.
 * curl_global_init must have run (pg_fetch_global_init, from main).
 */
#ifndef PG_FETCH_H
#define PG_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err/err.h"

/* Default body bound: 8 MiB covers manifests, indexes, .prov, signatures. */
#define PG_FETCH_DEFAULT_MAX ((size_t)8 << 20)
#define PG_FETCH_DEFAULT_REDIRECTS 5
/* Headers kept from a response, in total bytes. */
#define PG_FETCH_HEADERS_MAX ((size_t)64 << 10)

/* Return 0 to allow a connection to scheme://host:port, or a negative PG_E*
 * code after setting err to say why not. */
typedef int (*pg_fetch_guard_fn)(const char *scheme, const char *host, int port,
				 pg_err *err, void *ctx);

typedef struct pg_fetch_opts {
	const char *method;         /* "GET" (default) or "HEAD" */
	const char *ca_file;        /* extra trusted CA bundle (PEM), or NULL */
	bool plain_http;            /* allow http:// */
	size_t max_bytes;           /* body bound; 0: PG_FETCH_DEFAULT_MAX */
	int64_t deadline;           /* absolute pg_clock_ms(); 0: 30 s from now */
	const char *const *headers; /* NULL-terminated "Name: value" list */
	int max_redirects;          /* 0: default; -1: none followed */
	pg_fetch_guard_fn guard;    /* NULL: every https host allowed */
	void *guard_ctx;
	const char *userpwd;        /* "user:password" for Basic, or NULL */
} pg_fetch_opts;

typedef struct pg_fetch_resp {
	long status;         /* HTTP status of the final response */
	char *body;          /* NUL-terminated, len bytes (binary safe) */
	size_t len;
	char *effective_url; /* URL after redirects */
	char *headers;       /* raw header block of the final response */
} pg_fetch_resp;

typedef struct pg_fetch pg_fetch;

/* Once per process, before threads. */
int pg_fetch_global_init(void);
void pg_fetch_global_cleanup(void);

int pg_fetch_new(pg_fetch **out);
void pg_fetch_free(pg_fetch *f);

/*
 * Perform one request.  Any HTTP status is success at this layer (callers
 * decide what 404 means); transport failures, guard refusals, deadlines and
 * size bounds are errors: PG_ETIMEOUT, PG_ETOOBIG, PG_EDENIED, PG_EFETCH, with
 * a message naming the URL's host.  *out is the caller's (pg_fetch_resp_free).
 */
int pg_fetch_do(pg_fetch_resp **out, pg_fetch *f, const char *url,
		const pg_fetch_opts *opts, pg_err *err);

/* Value of a response header (case-insensitive name), malloc'd, or NULL. */
char *pg_fetch_resp_header(const pg_fetch_resp *r, const char *name);

void pg_fetch_resp_free(pg_fetch_resp *r);

#endif
