/*
 * fetch — libcurl behind a bounded interface.  This is the only file that
 * includes curl; callers see pg_fetch_* and plain bytes.
 *
 * What it must never do: follow a redirect the guard has not approved, read
 * more than max_bytes, run past the deadline, or speak anything but https
 * (and http where the caller says plain_http).  Redirects are therefore
 * followed here, one hop at a time, rather than by curl.
 *
 * The one exception to the guard, where the caller asks for it (public_hops,
 * fetch.h): a hop to an https host every address of which is public, for
 * content verified afterwards (blobs, chart archives) or a token realm.  It
 * is decided in public_hop() and enforced again on every dialled address
 * in on_open(); it never widens what plain http or a private address may
 * reach.
 */
#include "fetch/fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "obs/obs.h"
#include "ref/ref.h"

/* Addresses one public-hop name may resolve to, all of which are checked;
 * a CDN answers with a handful. */
#define PUBLIC_ADDRS_MAX 32

/* The test-only variable that makes documentation ranges public (fetch.h);
 * read only in builds compiled with PG_FETCH_TEST_NETS. */
#define TEST_NETS_ENV "PROVGATE_TEST_PUBLIC_NETS"

/* The fault-injection variable (fetch.h).  Its value is bounded so the
 * parser below never meets an unbounded list. */
#define FAULTS_ENV "PROVGATE_FAULTS"
#define FAULTS_MAX 512

struct pg_fetch {
	CURL *curl;
};

typedef struct xfer {
	pg_buf body;
	pg_buf headers;
	int toobig;
	int hdr_toobig; /* the header block, not the body, passed its bound */
	const pg_fetch_opts *o;
	const char *host; /* current URL's host, brackets stripped */
	int addr_denied;  /* the address check refused; addr_err says why */
	int public_hop;	  /* this hop was taken as a public host: every address
			     dialled must be public */
	pg_err addr_err;
} xfer;

/* Documentation ranges count as public (test builds only, fetch.h). */
static bool g_test_nets;

/* Fault injection, parsed once before threads start and read-only after,
 * but for the call counter. */
static struct {
	bool on;
	bool fail_all;
	unsigned long fail_nth;
	unsigned long delay_ms;
	bool truncate;
	size_t truncate_at;
	unsigned long corrupt_every;
	struct curl_slist *resolve;
} g_faults;
static atomic_ulong g_fault_calls;

static int
fault_num(unsigned long *out, const char *v, unsigned long min)
{
	char *end = NULL;
	unsigned long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min)
		return -1;
	*out = n;
	return 0;
}

/* Parse PROVGATE_FAULTS (fetch.h).  0, or -1 after a message on stderr. */
static int
faults_parse(const char *spec)
{
	char buf[FAULTS_MAX + 1], *item, *next, *v;
	size_t n = strlen(spec);
	unsigned long num;

	if (n > FAULTS_MAX) {
		fprintf(stderr, "provgate: %s longer than %d bytes\n", FAULTS_ENV, FAULTS_MAX);
		return -1;
	}
	memcpy(buf, spec, n + 1);
	for (item = buf; item && *item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		v = strchr(item, ':');
		if (v)
			*v++ = '\0';
		if (strcmp(item, "failall") == 0 && v == NULL) {
			g_faults.fail_all = true;
		} else if (strcmp(item, "fail") == 0 && fault_num(&num, v, 1) == 0) {
			g_faults.fail_nth = num;
		} else if (strcmp(item, "delay") == 0 && fault_num(&num, v, 0) == 0 &&
			   num <= 600000) {
			g_faults.delay_ms = num;
		} else if (strcmp(item, "truncate") == 0 && fault_num(&num, v, 0) == 0) {
			g_faults.truncate = true;
			g_faults.truncate_at = (size_t)num;
		} else if (strcmp(item, "corrupt") == 0 && fault_num(&num, v, 1) == 0) {
			g_faults.corrupt_every = num;
		} else if (strcmp(item, "resolve") == 0 && v && strchr(v, ':') &&
			   g_faults.resolve == NULL) {
			if ((g_faults.resolve = curl_slist_append(NULL, v)) == NULL)
				return -1;
		} else {
			fprintf(stderr,
				"provgate: %s: cannot parse \"%s%s%s\" (want fail:N, failall, "
				"delay:MS, truncate:N, corrupt:N, resolve:HOST:PORT:ADDR)\n",
				FAULTS_ENV, item, v ? ":" : "", v ? v : "");
			return -1;
		}
	}
	g_faults.on = true;
	fprintf(stderr, "provgate: fault injection active (%s=%s): for tests only\n", FAULTS_ENV,
		spec);
	return 0;
}

int
pg_fetch_global_init(void)
{
	const char *spec = getenv(FAULTS_ENV);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return PG_EINTERNAL;
#ifdef PG_FETCH_TEST_NETS
	{
		const char *tn = getenv(TEST_NETS_ENV);

		g_test_nets = tn && strcmp(tn, "1") == 0;
		if (g_test_nets)
			fprintf(stderr,
				"provgate: %s=1: documentation addresses count as public "
				"(test build only)\n",
				TEST_NETS_ENV);
	}
#endif
	if (spec && spec[0] && faults_parse(spec) != 0) {
		curl_slist_free_all(g_faults.resolve);
		memset(&g_faults, 0, sizeof(g_faults));
		curl_global_cleanup();
		return PG_EINVAL;
	}
	return PG_OK;
}

void
pg_fetch_global_cleanup(void)
{
	curl_slist_free_all(g_faults.resolve);
	memset(&g_faults, 0, sizeof(g_faults));
	curl_global_cleanup();
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Before a call: count it, fail it or delay it as the faults say. */
static int
fault_before(unsigned long *call, const char *url, int64_t deadline, pg_err *err)
{
	int64_t left;

	*call = atomic_fetch_add(&g_fault_calls, 1) + 1;
	if (g_faults.fail_all || *call == g_faults.fail_nth)
		return pg_err_set(err, PG_EFETCH, "injected fault: request %lu (%.200s) failed",
				  *call, url);
	if (g_faults.delay_ms) {
		left = pg_clock_left_ms(deadline);
		if (left <= (int64_t)g_faults.delay_ms) {
			sleep_ms(left > 0 ? left : 0);
			return pg_err_set(err, PG_ETIMEOUT,
					  "injected delay of %lu ms: %.200s did not answer in time",
					  g_faults.delay_ms, url);
		}
		sleep_ms((int64_t)g_faults.delay_ms);
	}
	return PG_OK;
}

/* After a call: damage the body as the faults say. */
static void
fault_after(pg_fetch_resp *r, unsigned long call)
{
	if (g_faults.truncate && r->len > g_faults.truncate_at) {
		r->len = g_faults.truncate_at;
		r->body[r->len] = '\0';
	}
	if (g_faults.corrupt_every && r->len > 0 && call % g_faults.corrupt_every == 0)
		r->body[r->len / 2] ^= 0x01;
}

/* ---------------------------------------------------------------- */
/* The address check                                                   */

/* addr (a literal, brackets and an IPv6 zone allowed) as 16 bytes, IPv4
 * mapped into ::ffff:0:0/96.  false for anything that is not a literal. */
static bool
addr_bytes(unsigned char out[16], const char *addr)
{
	char h[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(addr);
	unsigned char v4[4];
	char *pct;

	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= sizeof(h))
		return false;
	memcpy(h, addr, n);
	h[n] = '\0';
	if ((pct = strchr(h, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET, h, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, h, out) == 1;
}

static bool
v4_special(const unsigned char *a)
{
	return a[0] == 0 ||		       /* 0/8 "this network" */
	       (a[0] == 169 && a[1] == 254) || /* link-local, IMDS */
	       (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200) || /* Alibaba */
	       (a[0] == 168 && a[1] == 63 && a[2] == 129 && a[3] == 16);     /* Azure */
}

static bool
bytes_special(const unsigned char a[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char zero[16] = {0};

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_special(a + 12);
	return memcmp(a, zero, 16) == 0 ||				       /* :: */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||		       /* fe80::/10 */
	       (a[0] == 0xfd && a[1] == 0x00 && a[2] == 0x0e && a[3] == 0xc2); /* fd00:ec2::/32 */
}

bool
pg_fetch_addr_special(const char *addr)
{
	unsigned char a[16];

	return addr != NULL && addr_bytes(a, addr) && bytes_special(a);
}

/* IPv4 ranges that are not public (IANA special-purpose registry, "globally
 * reachable: false", plus the cloud metadata addresses that are). */
static const struct {
	uint32_t net;
	unsigned len;
	bool doc; /* documentation range (test builds may call it public) */
	const char *kind;
} v4_not_public[] = {
    {0x00000000u, 8, false, "an unspecified (\"this network\")"},
    {0x0a000000u, 8, false, "a private (RFC 1918)"},
    {0x64400000u, 10, false, "a carrier-grade NAT (100.64.0.0/10)"},
    {0x7f000000u, 8, false, "a loopback"},
    {0xa9fe0000u, 16, false, "a link-local or metadata"},
    {0xac100000u, 12, false, "a private (RFC 1918)"},
    {0xc0000000u, 24, false, "an IETF protocol"},
    {0xc0000200u, 24, true, "a documentation"},
    {0xc0586300u, 24, false, "a 6to4 relay"},
    {0xc0a80000u, 16, false, "a private (RFC 1918)"},
    {0xc6120000u, 15, false, "a benchmarking"},
    {0xc6336400u, 24, true, "a documentation"},
    {0xcb007100u, 24, true, "a documentation"},
    {0xe0000000u, 4, false, "a multicast"},
    {0xf0000000u, 4, false, "a reserved or broadcast"},
    {0xa83f8110u, 32, false, "a metadata (Azure)"},
};

/* NULL for a public IPv4 address, else what kind of address it is. */
static const char *
v4_kind(const unsigned char *a)
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	size_t i;

	for (i = 0; i < sizeof(v4_not_public) / sizeof(v4_not_public[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_not_public[i].len);

		if ((x & mask) == v4_not_public[i].net && !(v4_not_public[i].doc && g_test_nets))
			return v4_not_public[i].kind;
	}
	return NULL;
}

/* NULL for a public address, else what kind it is (for messages). */
static const char *
bytes_kind(const unsigned char a[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_kind(a + 12);
	if ((a[0] & 0xe0) != 0x20) {
		if ((a[0] & 0xfe) == 0xfc)
			return "a unique-local (fc00::/7)";
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			return "a link-local";
		if (a[0] == 0xff)
			return "a multicast";
		return "a loopback, unspecified or reserved";
	}
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "a documentation";
	if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0)
		return "a documentation";
	if (a[0] == 0x20 && a[1] == 0x01 && (a[2] & 0xfe) == 0)
		return "an IETF protocol (incl. Teredo)";
	if (a[0] == 0x20 && a[1] == 0x02)
		return "a 6to4";
	return NULL;
}

bool
pg_fetch_addr_public(const char *addr)
{
	unsigned char a[16];

	return addr != NULL && addr_bytes(a, addr) && bytes_kind(a) == NULL;
}

/* Resolve host and require every address to be public: PG_OK, or
 * PG_EDENIED with why_not saying which address is not (or that the name
 * does not resolve). */
static int
public_resolve(const char *host, int port, char *why_not, size_t n)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ip[INET6_ADDRSTRLEN], ps[16];
	unsigned char a[16];
	const char *kind;
	size_t count = 0;
	int g, rc = PG_OK;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(ps, sizeof(ps), "%d", port);
	if ((g = getaddrinfo(host, ps, &hints, &res)) != 0) {
		(void)snprintf(why_not, n, "%.200s does not resolve (%s)", host, gai_strerror(g));
		return PG_EDENIED;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		const void *src = NULL;

		if (ai->ai_family == AF_INET)
			src = &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			src = &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		if (src == NULL || inet_ntop(ai->ai_family, src, ip, sizeof(ip)) == NULL ||
		    !addr_bytes(a, ip)) {
			(void)snprintf(why_not, n,
				       "%.200s resolves to an address that is not IPv4 or IPv6",
				       host);
			rc = PG_EDENIED;
			break;
		}
		if ((kind = bytes_kind(a)) != NULL) {
			(void)snprintf(why_not, n, "%.200s resolves to %s, %s address", host, ip,
				       kind);
			rc = PG_EDENIED;
			break;
		}
		if (++count > PUBLIC_ADDRS_MAX) {
			(void)snprintf(why_not, n, "%.200s resolves to more than %d addresses",
				       host, PUBLIC_ADDRS_MAX);
			rc = PG_EDENIED;
			break;
		}
	}
	if (rc == PG_OK && count == 0) {
		(void)snprintf(why_not, n, "%.200s resolves to no address", host);
		rc = PG_EDENIED;
	}
	freeaddrinfo(res);
	return rc;
}

int
pg_fetch_addr_default(const char *addr, const char *url_host, pg_err *err, void *ctx)
{
	unsigned char a[16], u[16];

	(void)ctx;
	if (!addr_bytes(a, addr))
		return pg_err_set(err, PG_EDENIED,
				  "refusing to connect to %.200s: address %.64s not understood",
				  url_host, addr);
	if (!bytes_special(a))
		return PG_OK;
	/* Named as this very literal: the guard approved it by name. */
	if (url_host && addr_bytes(u, url_host) && memcmp(a, u, 16) == 0)
		return PG_OK;
	return pg_err_set(
	    err, PG_EDENIED,
	    "refusing to connect to %.200s: it resolves to %.64s, a link-local, metadata or "
	    "unspecified address",
	    url_host ? url_host : "?", addr);
}

/* CURLOPT_OPENSOCKETFUNCTION: every address curl connects to, after name
 * resolution, passes the address check before a socket exists. */
static curl_socket_t
on_open(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
	xfer *x = ctx;
	char ip[INET6_ADDRSTRLEN];
	pg_fetch_addr_fn fn = x->o->addr_guard ? x->o->addr_guard : pg_fetch_addr_default;
	const void *src = NULL;
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	(void)purpose;
	if (a->family == AF_INET && a->addrlen >= sizeof(s4)) {
		memcpy(&s4, &a->addr, sizeof(s4));
		src = &s4.sin_addr;
	} else if (a->family == AF_INET6 && a->addrlen >= sizeof(s6)) {
		memcpy(&s6, &a->addr, sizeof(s6));
		src = &s6.sin6_addr;
	}
	if (src == NULL || inet_ntop(a->family, src, ip, sizeof(ip)) == NULL) {
		pg_err_set(&x->addr_err, PG_EDENIED,
			   "refusing to connect to %.200s: not an IPv4 or IPv6 address", x->host);
		x->addr_denied = 1;
		return CURL_SOCKET_BAD;
	}
	if (x->public_hop) {
		unsigned char b[16];
		const char *kind = addr_bytes(b, ip) ? bytes_kind(b) : "an unknown";

		if (kind != NULL) {
			pg_err_set(
			    &x->addr_err, PG_EDENIED,
			    "refusing to connect to %.200s: it resolves to %s, %s address, and it "
			    "is reached only as a public host",
			    x->host, ip, kind);
			x->addr_denied = 1;
			return CURL_SOCKET_BAD;
		}
	}
	if (fn(ip, x->host, &x->addr_err, x->o->guard_ctx) != PG_OK) {
		if (x->addr_err.code == 0)
			pg_err_set(&x->addr_err, PG_EDENIED, "refusing to connect to %.200s (%s)",
				   x->host, ip);
		x->addr_denied = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
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
		x->hdr_toobig = 1;
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

/* A hop the guard refused: take it anyway as a public host when the caller
 * allows public hops at this hop number, it is https, and every address
 * of the name is public; logged and counted.  Otherwise the guard's
 * refusal stands, with the reason the public rule did not apply. */
static int
public_hop(const char *scheme, const char *host, int port, int hop, const pg_fetch_opts *o,
	   pg_err *err)
{
	char h[300], why_not[400];
	size_t n = strlen(host);
	const char *why = o->public_why ? o->public_why : "redirect";

	if (o->public_hops == PG_FETCH_PUBLIC_NONE ||
	    (o->public_hops == PG_FETCH_PUBLIC_REDIRECTS && hop == 0))
		return PG_EDENIED;
	if (strcasecmp(scheme, "https") != 0) {
		if (err && err->code)
			(void)pg_err_wrap(
			    err,
			    "%s over %s:// (a %s is followed to a public host only over https): ",
			    why, scheme, why);
		return PG_EDENIED;
	}
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(h))
		return PG_EDENIED;
	memcpy(h, host, n);
	h[n] = '\0';
	if (public_resolve(h, port, why_not, sizeof(why_not)) != PG_OK) {
		if (err && err->code) {
			size_t m = strlen(err->msg);

			(void)snprintf(err->msg + m, sizeof(err->msg) - m,
				       "; not followed as a public host (%s): %s", why, why_not);
		}
		return PG_EDENIED;
	}
	pg_err_clear(err);
	pg_metrics_public_hop(why, h);
	{
		char detail[640];

		(void)snprintf(
		    detail, sizeof(detail),
		    "%.300s:%d (%.40s): not named by the policy; https, every address public, %s",
		    h, port, why,
		    hop == 0 && o->userpwd
			? "the registry's own credentials, as docker login sends them"
			: "no credentials");
		pg_log_diag("info", "following a public host", detail);
	}
	return PG_OK;
}

/* Approve url (scheme, then the guard, then the public-host rule for hop
 * when the caller allows it); on success *host_out is its host, brackets
 * stripped (malloc'd), for the address check, and *public_out says the
 * hop was taken as a public host. */
static int
check_url(char **host_out, int *public_out, const char *url, const pg_fetch_opts *o, int hop,
	  pg_err *err)
{
	char *scheme = NULL, *host = NULL;
	int port = 0, rc;

	*host_out = NULL;
	*public_out = 0;
	if (strlen(url) > PG_URL_FETCH_MAX)
		return pg_err_set(err, PG_EINVAL, "URL longer than %d bytes", PG_URL_FETCH_MAX);
	rc = url_parts(url, &scheme, &host, &port, err);
	if (rc == PG_EINVAL) {
		/* file:///x has no host: say what was refused, not that it
		 * did not parse. */
		const char *sep = strstr(url, "://");

		if (sep && sep != url && strncasecmp(url, "https://", 8) != 0 &&
		    strncasecmp(url, "http://", 7) != 0 &&
		    strspn(url, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") == (size_t)(sep - url))
			rc = pg_err_set(
			    err, PG_EDENIED, "refusing %.*s:// URL \"%.200s\" (only https%s)",
			    (int)(sep - url), url, url, o->plain_http ? " and http" : "");
		goto out;
	}
	if (rc != PG_OK)
		goto out;
	if (strcasecmp(scheme, "https") != 0 &&
	    !(o->plain_http && strcasecmp(scheme, "http") == 0)) {
		rc = pg_err_set(err, PG_EDENIED, "refusing %s:// URL for %s (only https%s)", scheme,
				host, o->plain_http ? " and http" : "");
		goto out;
	}
	if (o->guard)
		rc = o->guard(scheme, host, port, err, o->guard_ctx);
	if (rc == PG_EDENIED && public_hop(scheme, host, port, hop, o, err) == PG_OK) {
		*public_out = 1;
		rc = PG_OK;
	}
	if (rc == PG_OK) {
		size_t n = strlen(host);

		if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = '\0';
		}
		*host_out = host;
		host = NULL;
	}
out:
	free(scheme);
	free(host);
	return rc;
}

static int
curl_error(pg_err *err, CURLcode cc, const char *url, const xfer *x, size_t max, const char *detail)
{
	char *scheme = NULL, *host = NULL;
	int port = 0;
	const char *where;

	(void)url_parts(url, &scheme, &host, &port, NULL);
	where = host ? host : "server";
	if (x->addr_denied) {
		pg_err_set(err, x->addr_err.code, "%s", x->addr_err.msg);
	} else if (x->hdr_toobig) {
		/* A server failure, not a size of what was asked for (callers
		 * name a PG_ETOOBIG after the object they fetch). */
		pg_err_set(err, PG_EFETCH, "response headers from %s are larger than %zu bytes",
			   where, PG_FETCH_HEADERS_MAX);
	} else if (x->toobig || cc == CURLE_FILESIZE_EXCEEDED) {
		pg_err_set(err, PG_ETOOBIG, "response from %s larger than %zu bytes", where, max);
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		pg_err_set(err, PG_EUNAVAIL, "provgate is shutting down");
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		pg_err_set(err, PG_ETIMEOUT, "%s did not answer in time", where);
	} else {
		pg_err_set(err, PG_EFETCH, "cannot reach %s: %s", where,
			   detail && detail[0] ? detail : curl_easy_strerror(cc));
	}
	free(scheme);
	free(host);
	if (err)
		return err->code;
	if (x->addr_denied)
		return x->addr_err.code;
	if (x->hdr_toobig)
		return PG_EFETCH;
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return PG_EUNAVAIL;
	return (x->toobig || cc == CURLE_FILESIZE_EXCEEDED) ? PG_ETOOBIG : PG_EFETCH;
}

static atomic_int g_cancelled;

void
pg_fetch_cancel_all(void)
{
	atomic_store(&g_cancelled, 1);
}

/* libcurl's progress callback: non-zero aborts the transfer
 * (CURLE_ABORTED_BY_CALLBACK). */
static int
on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ctx;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&g_cancelled) ? 1 : 0;
}

int
pg_fetch_do(pg_fetch_resp **out, pg_fetch *f, const char *url, const pg_fetch_opts *opts,
	    pg_err *err)
{
	int rc = PG_EINTERNAL, hops, max_redirects;
	pg_fetch_opts o = {0};
	pg_fetch_resp *r = NULL;
	struct curl_slist *hdrs = NULL, *redir_hdrs = NULL;
	char *cur = NULL, *loc = NULL, *host = NULL, *enc = NULL;
	char errbuf[CURL_ERROR_SIZE];
	unsigned long call = 0;
	xfer x;
	size_t i, max;
	int64_t deadline;
	const char *redirect = NULL;

	if (opts)
		o = *opts;
	max = o.max_bytes ? o.max_bytes : PG_FETCH_DEFAULT_MAX;
	deadline = o.deadline ? o.deadline : pg_clock_ms() + PG_FETCH_DEFAULT_TIMEOUT_MS;
	max_redirects = o.max_redirects == 0 ? PG_FETCH_DEFAULT_REDIRECTS
					     : (o.max_redirects < 0 ? 0 : o.max_redirects);
	pg_buf_init(&x.body, max);
	pg_buf_init(&x.headers, PG_FETCH_HEADERS_MAX);
	x.toobig = 0;
	x.hdr_toobig = 0;
	x.o = &o;
	x.host = NULL;
	x.addr_denied = 0;
	x.public_hop = 0;
	pg_err_clear(&x.addr_err);
	if (g_faults.on && (rc = fault_before(&call, url, deadline, err)) != PG_OK)
		goto out;
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

		free(host);
		if ((rc = check_url(&host, &x.public_hop, cur, &o, hops, err)) != PG_OK)
			goto out;
		if (atomic_load(&g_cancelled)) {
			rc = pg_err_set(err, PG_EUNAVAIL, "provgate is shutting down");
			goto out;
		}
		left = (long)pg_clock_left_ms(deadline);
		if (left <= 0) {
			rc = pg_err_set(err, PG_ETIMEOUT, "deadline passed before fetching %.200s",
					cur);
			goto out;
		}
		pg_buf_reset(&x.body);
		pg_buf_reset(&x.headers);
		x.toobig = 0;
		x.hdr_toobig = 0;
		x.host = host;
		x.addr_denied = 0;
		pg_err_clear(&x.addr_err);
		errbuf[0] = '\0';
		curl_easy_reset(c);
		(void)curl_easy_setopt(c, CURLOPT_URL, cur);
		(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
				       o.plain_http ? "https,http" : "https");
		(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		(void)curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
		(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, left);
		(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
		(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
		(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		(void)curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open);
		(void)curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
		if (g_faults.resolve)
			(void)curl_easy_setopt(c, CURLOPT_RESOLVE, g_faults.resolve);
		(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
		(void)curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
		(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "provgate");
		/* No content decoding: digests are over the bytes the server
		 * sent, and a compressed body cannot expand past our bound. */
		(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
		if (hops == 0 ? hdrs != NULL : redir_hdrs != NULL)
			(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER,
					       hops == 0 ? hdrs : redir_hdrs);
		if (o.ca_file)
			(void)curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file);
		if (o.ca_file && o.ca_only)
			(void)curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
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
			/* We never send Accept-Encoding, so a coded body is
			 * the server's doing; its bytes are not the artifact
			 * (and decoding them is how a small answer becomes a
			 * huge one). */
			enc = pg_fetch_resp_header(r, "Content-Encoding");
			if (enc && enc[0] && strcasecmp(enc, "identity") != 0) {
				rc = pg_err_set(err, PG_EFETCH,
						"%s sent a body with Content-Encoding \"%.40s\", "
						"which was not asked for",
						host, enc);
				goto out;
			}
			if (g_faults.on)
				fault_after(r, call);
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
	free(host);
	free(enc);
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
