/*
 * fetch — the only door to the network (libcurl never leaves this module).
 *
 * Every request is bounded: a body size limit, an absolute deadline, a
 * redirect limit, and a guard callback that must approve the scheme, host
 * and port of the first URL and of every redirect before a connection is
 * made (the SSRF guard: nothing is fetched from a host the policy cannot
 * match).  https only, unless the guard's caller set plain_http.
 *
 * Names are checked twice: the guard sees the URL's host before anything
 * is resolved, and the address the name resolved to is checked again just
 * before the socket is opened (addr_guard), so a name that resolves to a
 * link-local, metadata or unspecified address is refused too (DNS can point
 * an allowed name anywhere).
 *
 * One pg_fetch per worker thread: it keeps connections alive per host.
 * curl_global_init must have run (pg_fetch_global_init, from main).
 *
 * Fault injection (tests only): when the environment variable
 * PROVGATE_FAULTS is set at pg_fetch_global_init, pg_fetch_do misbehaves on
 * purpose.  A comma-separated list of
 *   fail:N      the Nth pg_fetch_do call of the process fails (PG_EFETCH,
 *               "injected fault"); N >= 1
 *   failall     every call fails
 *   delay:MS    every call first sleeps MS milliseconds (within its
 *               deadline; past it, PG_ETIMEOUT as for a slow server)
 *   truncate:N  every response body is cut to at most N bytes
 *   corrupt:N   every Nth response body (1: each one) has its middle byte
 *               flipped
 *   resolve:HOST:PORT:ADDR  HOST:PORT resolves to ADDR (curl's
 *               CURLOPT_RESOLVE), to test what the address check does
 *               with a name that points somewhere forbidden (not for a
 *               public hop: its name is resolved with getaddrinfo, and
 *               every address is checked)
 * A malformed list makes pg_fetch_global_init fail.  Unset, the layer costs
 * one predictable branch per call.  Never set it in production: a warning
 * saying it is active goes to stderr at start.
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
/* Total time of a request when the caller set no deadline (pg_fetch and
 * the registry client alike). */
#define PG_FETCH_DEFAULT_TIMEOUT_MS 30000
/* Headers kept from a response, in total bytes. */
#define PG_FETCH_HEADERS_MAX ((size_t)64 << 10)

/* Return 0 to allow a connection to scheme://host:port, or a negative PG_E*
 * code after setting err to say why not. */
typedef int (*pg_fetch_guard_fn)(const char *scheme, const char *host, int port, pg_err *err,
				 void *ctx);

/* Return 0 to allow connecting to addr (numeric: "10.0.0.5", "fe80::1"),
 * which url_host (as written in the URL, brackets stripped) resolved to; or
 * a negative PG_E* code after setting err. */
typedef int (*pg_fetch_addr_fn)(const char *addr, const char *url_host, pg_err *err, void *ctx);

/* Which hops may go to a host the guard refuses, when that host is public
 * (pg_fetch_opts.public_hops).  A hop taken this way must be https, every
 * address its name resolves to must be public (pg_fetch_addr_public), every
 * address actually dialled is checked again, and it never carries
 * credentials (Authorization and userpwd go to the first URL only).  Only
 * for content the caller verifies afterwards by digest or signature. */
enum {
	PG_FETCH_PUBLIC_NONE = 0,      /* every hop needs the guard's approval */
	PG_FETCH_PUBLIC_REDIRECTS = 1, /* redirects (hop 1 on) may go public */
	PG_FETCH_PUBLIC_ALL = 2	       /* the first URL too (token realms, chart
					  index entries); it gets userpwd and
					  headers as usual */
};

typedef struct pg_fetch_opts {
	const char *method;	     /* "GET" (default) or "HEAD" */
	const char *ca_file;	     /* extra trusted CA bundle (PEM), or NULL */
	bool ca_only;		     /* trust ca_file alone, not the system's roots */
	bool plain_http;	     /* allow http:// */
	size_t max_bytes;	     /* body bound; 0: PG_FETCH_DEFAULT_MAX */
	int64_t deadline;	     /* absolute pg_clock_ms(); 0: 30 s from now */
	const char *const *headers;  /* NULL-terminated "Name: value" list */
	int max_redirects;	     /* 0: default; -1: none followed */
	pg_fetch_guard_fn guard;     /* NULL: every https host allowed */
	void *guard_ctx;	     /* also passed to addr_guard */
	pg_fetch_addr_fn addr_guard; /* NULL: pg_fetch_addr_default */
	const char *userpwd;	     /* "user:password" for Basic, or NULL */
	int public_hops;	     /* PG_FETCH_PUBLIC_*; 0: none */
	const char *public_why;	     /* why such a hop is taken ("blob redirect",
					"token realm", ...): logged and counted;
					one of pg_metrics_public_hop's labels */
} pg_fetch_opts;

typedef struct pg_fetch_resp {
	long status; /* HTTP status of the final response */
	char *body;  /* NUL-terminated, len bytes (binary safe) */
	size_t len;
	char *effective_url; /* URL after redirects */
	char *headers;	     /* raw header block of the final response */
} pg_fetch_resp;

typedef struct pg_fetch pg_fetch;

/* Once per process, before threads. */
int pg_fetch_global_init(void);
void pg_fetch_global_cleanup(void);

/* Shutdown: every transfer in progress, on any thread, stops within about
 * a second (libcurl's progress callback runs at least once a second on an
 * idle transfer) and every later one fails at once, PG_EUNAVAIL "provgate
 * is shutting down".  For when no one waits for the answers any more; not
 * undone. */
void pg_fetch_cancel_all(void);

int pg_fetch_new(pg_fetch **out);
void pg_fetch_free(pg_fetch *f);

/*
 * Perform one request.  Any HTTP status is success at this layer (callers
 * decide what 404 means); transport failures, guard refusals, deadlines and
 * size bounds are errors: PG_ETIMEOUT, PG_ETOOBIG, PG_EDENIED, PG_EFETCH, with
 * a message naming the URL's host.  A final response with a Content-Encoding
 * (never asked for: its bytes are not the artifact's) is PG_EFETCH.  *out is the caller's
 * (pg_fetch_resp_free).
 */
int pg_fetch_do(pg_fetch_resp **out, pg_fetch *f, const char *url, const pg_fetch_opts *opts,
		pg_err *err);

/* Link-local (169.254/16, fe80::/10), cloud metadata (fd00:ec2::254,
 * 100.100.100.200, 168.63.129.16) or unspecified ("this network" 0/8, ::)
 * address, IPv4-mapped IPv6 included.  addr is a numeric literal, brackets
 * allowed; a name (not a literal) is never special here. */
bool pg_fetch_addr_special(const char *addr);

/* A public address: not loopback, private (RFC 1918), CGNAT (100.64/10),
 * link-local, metadata, unspecified, documentation or benchmarking,
 * multicast, reserved or broadcast; for IPv6 only global unicast 2000::/3
 * outside documentation, 6to4, Teredo and the IETF protocol block, ULA
 * (fc00::/7) and the rest excluded; IPv4-mapped and NAT64 (64:ff9b::/96)
 * forms judged by their IPv4 address.  A name (not a literal) is never
 * public here.  Test builds only (PG_FETCH_TEST_NETS defined, never the
 * shipped binary): PROVGATE_TEST_PUBLIC_NETS=1 at pg_fetch_global_init makes
 * the three IPv4 documentation ranges (192.0.2/24, 198.51.100/24,
 * 203.0.113/24) count as public, so a network-namespace test can play
 * public hosts without borrowing anyone's real addresses. */
bool pg_fetch_addr_public(const char *addr);

/* The default addr_guard: refuse a special address unless the URL named that
 * very address as a literal (the guard then approved it by name). */
int pg_fetch_addr_default(const char *addr, const char *url_host, pg_err *err, void *ctx);

/* Value of a response header (case-insensitive name), malloc'd, or NULL. */
char *pg_fetch_resp_header(const pg_fetch_resp *r, const char *name);

void pg_fetch_resp_free(pg_fetch_resp *r);

#endif
