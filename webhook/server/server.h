/*
 * server — the HTTPS admission endpoint (h2o never leaves this module).
 *
 * Loop threads share one listening address; each runs an h2o evloop and
 * answers pure-policy decisions inline.  Reviews that need evidence go to
 * the worker pool; the worker posts the verdict back to the loop thread that
 * owns the request, and a loop-side deadline answers "verification timed
 * out" first if the worker is late.  A loop thread never blocks.
 */
#ifndef PG_SERVER_H
#define PG_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"

#define PG_SERVER_MAX_CLIENT_NAMES 16

typedef struct pg_server_opts {
	const char *policy_dir;
	const char *tls_cert;
	const char *tls_key;
	const char *listen;	    /* "ADDR:PORT", "[v6]:PORT" */
	const char *metrics_listen; /* plain-HTTP GET /metrics only, or NULL */
	const char *client_ca;	    /* require client certificates from this CA */
	const char *client_names[PG_SERVER_MAX_CLIENT_NAMES];
	size_t n_client_names;
	const char *ca_file;	   /* extra CA for registries / chart repos */
	unsigned threads;	   /* event loop threads */
	unsigned workers;	   /* verification workers */
	size_t queue;		   /* bounded job queue */
	unsigned timeout_ms;	   /* answer every review before this */
	size_t max_body;	   /* request body bound */
	bool http1_only;	   /* no h2 in ALPN */
	unsigned max_streams;	   /* HTTP/2 concurrent streams per connection */
	unsigned reload_ms;	   /* policy/cert change polling period */
	size_t cache_entries;	   /* verdict cache bound (entries) */
	size_t cache_bytes;	   /* verdict cache bound (bytes) */
	unsigned cache_ttl_ms;	   /* verified verdicts */
	unsigned cache_neg_ttl_ms; /* definite failures */
	unsigned cache_tag_ttl_ms; /* any verdict of a tag (not digest) reference */
} pg_server_opts;

/* Fill defaults (listen 0.0.0.0:8443, 2 threads, 4 workers, queue 1024,
 * timeout PG_DECIDE_TIMEOUT_MS, body PG_REVIEW_BODY_MAX, 100 streams, reload
 * 1000 ms, tag TTL PG_DECIDE_TAG_TTL_MS; the other cache options 0: the
 * verdict cache's defaults). */
void pg_server_opts_default(pg_server_opts *o);

/* Run until SIGTERM/SIGINT; returns 0 after a clean shutdown, or an error
 * (bad certificate, cannot listen, policy does not load) before serving. */
int pg_server_run(const pg_server_opts *o, pg_err *err);

#endif
