/*
 * badserver — a misbehaving registry on loopback, for fault and SSRF tests.
 *
 *   badserver --cert PEM --key PEM --ports FILE --stats FILE [--lifetime S]
 *
 * Three listeners on 127.0.0.1, ephemeral ports, written to FILE as
 * "main=P other=P plain=P":
 *   main   TLS; behaves per request as the first repository path segment
 *          says (/v2/<mode>/...), see MODES below.  A connection whose first
 *          byte is not a TLS handshake is counted as "main_plain".
 *   other  TLS, another port no policy lists: a forbidden target.
 *   plain  plain HTTP: a forbidden target.
 * Every accepted connection is counted per listener, at accept (before any
 * byte is read), and the counts are rewritten to the stats file
 * ("main=N main_plain=N other=N plain=N") after each, so a test can assert
 * that nothing reached a forbidden listener.
 *
 * MODES (main listener, any repository under /v2/<mode>/):
 *   ok        a valid OCI manifest for any tag (right Docker-Content-Digest),
 *             404 for referrers and signature tags: "no signatures found"
 *   hang      reads the request, never answers
 *   slowloris answers one byte per second
 *   reset     half a response, then a TCP reset
 *   s500      HTTP 500
 *   s429      HTTP 429, Retry-After: 120, RateLimit-Limit/-Remaining as
 *             Docker Hub sends them (100;w=21600, 0;w=21600)
 *   loop      302 to itself, forever
 *   redirhttp 302 to http:// on the plain listener
 *   redirself 302 to http:// on the main listener (same host and port)
 *   redirfile 302 to file:///etc/passwd
 *   redirmeta 302 to https://169.254.169.254/latest/meta-data/
 *   redirport 302 to https on the other listener
 *   realm     401 whose Bearer realm is on the other listener
 *   gzip      the manifest as Content-Encoding: gzip of 256 MiB of zeros
 *   big       a 6 MiB manifest
 *   bigblob   valid manifest, a .sig manifest, a 2 MiB signature blob
 *   ctype     a manifest served as text/html
 *   digest    a manifest whose Docker-Content-Digest does not match
 *   digesthead  digest, and the HEAD names the same wrong digest
 *   (ctype, digest and nohead answer a HEAD without Docker-Content-Digest:
 *   the client must GET and check the bytes; nohead is ok otherwise)
 *   flip      (with --upstream HOST:PORT, a real registry over TLS) a proxy
 *             of /v2/flip/<session>/<repo>/... to the upstream's
 *             /v2/<repo>/... that answers a manifest request by tag
 *             differently on successive requests of one (session, repo,
 *             tag): odd ones (1st, 3rd, ...) with the upstream's <tag>, even
 *             ones with its <tag>-alt.  Digests, "sha256-..." tags, blobs and
 *             referrers are passed through unchanged.
 *   flop      the same, starting with <tag>-alt.
 *             Each request of a flipped tag is counted: the stats file gets
 *             "flips=N" (manifest-by-tag requests so far).
 *   bighdr    200 with more than 64 KiB of response headers
 *   bigtoken  401 whose Bearer realm (/bigtoken on main) answers 100 KiB
 *   multiauth 401 with two WWW-Authenticate lines: Basic first, then a
 *             Bearer whose realm is /bigtoken (Bearer must be chosen)
 * /v2/ itself answers 200 {}.  other and plain answer 200 {} to anything.
 *
 * One detached thread per connection (at most CONN_MAX at once), every wait
 * bounded; the process exits on SIGTERM/SIGINT or after --lifetime seconds.
 * Test tool: loopback only, never deployed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <zlib.h>

#define CONN_MAX 512
#define REQ_MAX 16384
/* Longest any connection is kept open by a stalling mode. */
#define STALL_MAX_S 120
#define GZIP_ZEROS ((size_t)256 << 20)
#define BIG_MANIFEST ((size_t)6 << 20)
#define BIG_BLOB ((size_t)2 << 20)

enum { L_MAIN, L_OTHER, L_PLAIN, L_N };
static const char *const lname[L_N] = {"main", "other", "plain"};

static int lfd[L_N], lport[L_N];
static unsigned long count[L_N], main_plain;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *stats_path;
static SSL_CTX *ctx;
static atomic_int active;
static atomic_int stop; /* set by the signal handler, read by every connection thread */
static unsigned char *gz;
static size_t gz_len;
static char manifest[1024];
static char manifest_digest[80];
static const char *upstream; /* "127.0.0.1:PORT" for flip/flop, or NULL */
static SSL_CTX *uctx;

/* Tags flipped so far, with how often each was asked for. */
#define FLIP_MAX 256
static struct {
	char key[512];
	unsigned long n;
} flips[FLIP_MAX];
static unsigned long flip_total;

typedef struct conn {
	int fd;
	int which;
	SSL *ssl;
	char accept[2048]; /* the request's Accept header (flip/flop pass it on) */
	int head;          /* the request is a HEAD */
} conn;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
write_stats(void)
{
	char tmp[4096];
	FILE *f;

	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "main=%lu main_plain=%lu other=%lu plain=%lu flips=%lu\n", count[L_MAIN],
		main_plain, count[L_OTHER], count[L_PLAIN], flip_total);
	if (fclose(f) == 0)
		(void)rename(tmp, stats_path);
}

static void
sha256_hex(char out[72], const void *p, size_t n)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	(void)EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++)
		(void)snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

static int
cwrite(conn *c, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w;

		if (c->ssl) {
			int r = SSL_write(c->ssl, s, n > (1 << 20) ? 1 << 20 : (int)n);

			if (r <= 0)
				return -1;
			w = r;
		} else {
			w = send(c->fd, s, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
cprintf(conn *c, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return cwrite(c, buf, (size_t)n);
}

static ssize_t
cread(conn *c, void *p, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, p, (int)n);

		return r > 0 ? r : -1;
	}
	for (;;) {
		ssize_t r = recv(c->fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		return r > 0 ? r : -1;
	}
}

/* Read the request head; path into path (bounded).  0 or -1. */
static int
read_request(conn *c, char *path, size_t cap, char *acc, size_t acap)
{
	char buf[REQ_MAX + 1];
	size_t len = 0;
	char *sp, *sp2;

	while (len < REQ_MAX) {
		ssize_t r = cread(c, buf + len, REQ_MAX - len);

		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[len] = '\0';
	sp = strchr(buf, ' ');
	if (sp == NULL)
		return -1;
	sp2 = strchr(sp + 1, ' ');
	if (sp2 == NULL || (size_t)(sp2 - sp - 1) >= cap)
		return -1;
	memcpy(path, sp + 1, (size_t)(sp2 - sp - 1));
	path[sp2 - sp - 1] = '\0';
	c->head = strncmp(buf, "HEAD ", 5) == 0;
	acc[0] = '\0';
	{
		char *a = buf, *e;

		while ((a = strstr(a, "\r\n")) != NULL && strncasecmp(a + 2, "Accept:", 7) != 0)
			a += 2;
		if (a) {
			a += 9;
			while (*a == ' ')
				a++;
			e = strstr(a, "\r\n");
			if (e && (size_t)(e - a) < acap) {
				memcpy(acc, a, (size_t)(e - a));
				acc[e - a] = '\0';
			}
		}
	}
	return 0;
}

static int
respond(conn *c, int status, const char *reason, const char *ctype, const char *extra,
	const void *body, size_t len)
{
	if (cprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
		    status, reason, ctype, len, extra ? extra : "") != 0)
		return -1;
	return len ? cwrite(c, body, len) : 0;
}

/* Sleep until the peer closes or STALL_MAX_S passes. */
static void
stall(conn *c, int seconds)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	char b[256];
	int i;

	for (i = 0; i < seconds * 10 && !stop; i++) {
		int r = poll(&p, 1, 100);

		if (r > 0) {
			if (recv(c->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT) <= 0)
				return;
			/* data (or a TLS alert): drain and go on waiting */
			if (cread(c, b, sizeof(b)) <= 0)
				return;
		}
	}
}

static void
redirect(conn *c, const char *loc)
{
	char h[1024];

	(void)snprintf(h, sizeof(h), "Location: %s\r\n", loc);
	(void)respond(c, 302, "Found", "text/plain", h, NULL, 0);
}

/* flip/flop: which upstream path to ask for `key` ("<session>/<repo>/
 * manifests/<ref>" etc., mode segment removed).  A manifest by tag
 * alternates between <tag> and <tag>-alt per (mode, session, repo, tag). */
static void
flip_path(char *out, size_t n, const char *mode, const char *key)
{
	const char *rest = strchr(key, '/') ? strchr(key, '/') + 1 : key;
	const char *m = strstr(rest, "/manifests/");
	const char *ref = m ? m + 11 : NULL;
	unsigned long k = 0;
	char mk[sizeof(flips[0].key)];
	size_t i;

	if (ref == NULL || strncmp(ref, "sha256", 6) == 0 || strchr(ref, '/') != NULL) {
		(void)snprintf(out, n, "/v2/%s", rest);
		return;
	}
	(void)snprintf(mk, sizeof(mk), "%s/%s", mode, key);
	pthread_mutex_lock(&mu);
	for (i = 0; i < FLIP_MAX && flips[i].key[0]; i++)
		if (strcmp(flips[i].key, mk) == 0)
			break;
	if (i < FLIP_MAX) {
		if (flips[i].key[0] == '\0')
			(void)snprintf(flips[i].key, sizeof(flips[i].key), "%s", mk);
		k = ++flips[i].n;
	}
	flip_total++;
	write_stats();
	pthread_mutex_unlock(&mu);
	/* flip: 1st, 3rd, ... the tag itself; flop: those the -alt */
	if ((k % 2 == 1) == (strcmp(mode, "flip") == 0))
		(void)snprintf(out, n, "/v2/%s", rest);
	else
		(void)snprintf(out, n, "/v2/%s-alt", rest);
}

/* Pass one GET to the upstream registry and its whole answer back. */
static void
proxy(conn *c, const char *upath)
{
	char host[256], buf[65536];
	const char *colon;
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 10};
	SSL *s = NULL;
	int fd = -1, r, one = 1;

	if (upstream == NULL || (colon = strrchr(upstream, ':')) == NULL ||
	    (size_t)(colon - upstream) >= sizeof(host)) {
		(void)respond(c, 502, "Bad Gateway", "text/plain", NULL, "no upstream\n", 12);
		return;
	}
	memcpy(host, upstream, (size_t)(colon - upstream));
	host[colon - upstream] = '\0';
	a.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || (s = SSL_new(uctx)) == NULL ||
	    SSL_set_fd(s, fd) != 1 || SSL_connect(s) != 1)
		goto fail;
	r = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: %s\r\n%s%s%sConnection: close\r\n\r\n",
		     upath, upstream, c->accept[0] ? "Accept: " : "", c->accept,
		     c->accept[0] ? "\r\n" : "");
	if (r < 0 || (size_t)r >= sizeof(buf) || SSL_write(s, buf, r) != r)
		goto fail;
	while ((r = SSL_read(s, buf, sizeof(buf))) > 0)
		if (cwrite(c, buf, (size_t)r) != 0)
			break;
	SSL_free(s);
	close(fd);
	return;
fail:
	SSL_free(s);
	if (fd >= 0)
		close(fd);
	(void)respond(c, 502, "Bad Gateway", "text/plain", NULL, "upstream failed\n", 16);
}

static void
serve_main(conn *c, const char *path)
{
	char mode[64], rest[2048], loc[4096], h[512];
	const char *p, *slash;
	size_t n;

	if (strcmp(path, "/v2/") == 0 || strcmp(path, "/v2") == 0) {
		(void)respond(c, 200, "OK", "application/json", NULL, "{}", 2);
		return;
	}
	/* The token realm of bigtoken/multiauth: a response past any token
	 * bound (PG_OCI_TOKEN_MAX is 64 KiB). */
	if (strncmp(path, "/bigtoken", 9) == 0) {
		static char big[100 << 10];

		memset(big, ' ', sizeof(big));
		big[0] = '{';
		big[sizeof(big) - 1] = '}';
		(void)respond(c, 200, "OK", "application/json", NULL, big, sizeof(big));
		return;
	}
	/* /repo/<mode>/...: a classic Helm chart repository (index.yaml,
	 * archives) misbehaving the same ways. */
	if (strncmp(path, "/v2/", 4) != 0 && strncmp(path, "/repo/", 6) != 0) {
		(void)respond(c, 404, "Not Found", "application/json", NULL, "{}", 2);
		return;
	}
	p = path + (path[1] == 'v' ? 4 : 6);
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n >= sizeof(mode))
		n = sizeof(mode) - 1;
	memcpy(mode, p, n);
	mode[n] = '\0';
	(void)snprintf(rest, sizeof(rest), "%s", p);

	if ((strcmp(mode, "flip") == 0 || strcmp(mode, "flop") == 0) && path[1] == 'v' &&
	    strlen(p) > n + 1) {
		char up[2600];

		/* one flipping tag per (mode, session, repo, tag) */
		flip_path(up, sizeof(up), mode, p + n + 1);
		proxy(c, up);
	} else if (strcmp(mode, "hang") == 0) {
		stall(c, STALL_MAX_S);
	} else if (strcmp(mode, "slowloris") == 0) {
		const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"schemaVersion\":2}";
		size_t i;

		for (i = 0; s[i] && i < STALL_MAX_S && !stop; i++) {
			if (cwrite(c, s + i, 1) != 0)
				return;
			sleep(1);
		}
	} else if (strcmp(mode, "reset") == 0) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
				"Content-Length: 1000\r\n\r\n{\"schemaVersion\":2,\"med";

		(void)cwrite(c, s, strlen(s));
		usleep(100000);
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		SSL_free(c->ssl); /* no close_notify: the TCP reset ends it */
		c->ssl = NULL;
	} else if (strcmp(mode, "s500") == 0) {
		(void)respond(c, 500, "Internal Server Error", "text/plain", NULL, "boom\n", 5);
	} else if (strcmp(mode, "s429") == 0) {
		(void)respond(c, 429, "Too Many Requests", "application/json",
			      "Retry-After: 120\r\nRateLimit-Limit: 100;w=21600\r\n"
			      "RateLimit-Remaining: 0;w=21600\r\n",
			      "{}", 2);
	} else if (strcmp(mode, "loop") == 0) {
		(void)snprintf(loc, sizeof(loc), "https://127.0.0.1:%d/v2/%s", lport[L_MAIN], rest);
		redirect(c, loc);
	} else if (strcmp(mode, "redirhttp") == 0) {
		(void)snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/v2/%s", lport[L_PLAIN], rest);
		redirect(c, loc);
	} else if (strcmp(mode, "redirself") == 0) {
		(void)snprintf(loc, sizeof(loc), "http://127.0.0.1:%d/v2/%s", lport[L_MAIN], rest);
		redirect(c, loc);
	} else if (strcmp(mode, "redirfile") == 0) {
		redirect(c, "file:///etc/passwd");
	} else if (strcmp(mode, "redirmeta") == 0) {
		redirect(c, "https://169.254.169.254/latest/meta-data/");
	} else if (strcmp(mode, "redirport") == 0) {
		(void)snprintf(loc, sizeof(loc), "https://127.0.0.1:%d/v2/%s", lport[L_OTHER], rest);
		redirect(c, loc);
	} else if (strcmp(mode, "realm") == 0) {
		(void)snprintf(h, sizeof(h),
			       "WWW-Authenticate: Bearer realm=\"https://127.0.0.1:%d/token\",service=\"bad\",scope=\"repository:realm/app:pull\"\r\n",
			       lport[L_OTHER]);
		(void)respond(c, 401, "Unauthorized", "application/json", h, "{}", 2);
	} else if (strcmp(mode, "bigtoken") == 0 || strcmp(mode, "multiauth") == 0) {
		(void)snprintf(h, sizeof(h),
			       "%sWWW-Authenticate: Bearer realm=\"https://127.0.0.1:%d/bigtoken\",service=\"bad\"\r\n",
			       mode[0] == 'm' ? "WWW-Authenticate: Basic realm=\"bad\"\r\n" : "",
			       lport[L_MAIN]);
		(void)respond(c, 401, "Unauthorized", "application/json", h, "{}", 2);
	} else if (strcmp(mode, "bighdr") == 0) {
		char line[1024];
		int i;

		/* written line by line: respond()'s head buffer is 8 KiB */
		if (cprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n") != 0)
			return;
		for (i = 0; i < 100; i++) {
			(void)snprintf(line, sizeof(line), "X-Junk-%d: %0700d\r\n", i, 0);
			if (cwrite(c, line, strlen(line)) != 0)
				return;
		}
		(void)cprintf(c, "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
	} else if (strcmp(mode, "gzip") == 0) {
		(void)respond(c, 200, "OK", "application/vnd.oci.image.manifest.v1+json",
			      "Content-Encoding: gzip\r\n", gz, gz_len);
	} else if (strcmp(mode, "big") == 0) {
		char chunk[65536];
		size_t sent = 0;

		memset(chunk, ' ', sizeof(chunk));
		chunk[0] = '{';
		if (cprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
			       "Content-Length: %zu\r\nConnection: close\r\n\r\n", BIG_MANIFEST) != 0)
			return;
		while (sent < BIG_MANIFEST && cwrite(c, chunk, sizeof(chunk)) == 0) {
			chunk[0] = ' ';
			sent += sizeof(chunk);
		}
	} else if (strstr(rest, "/referrers/") != NULL) {
		(void)respond(c, 404, "Not Found", "application/json", NULL, "{}", 2);
	} else if (strstr(rest, "/manifests/sha256-") != NULL) {
		size_t rl = strlen(rest);

		if (strcmp(mode, "bigblob") == 0 && rl > 4 && strcmp(rest + rl - 4, ".sig") == 0) {
			char sigm[1024];

			(void)snprintf(sigm, sizeof(sigm),
				       "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
				       "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%064d\",\"size\":2},"
				       "\"layers\":[{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\","
				       "\"digest\":\"sha256:%064d\",\"size\":300,"
				       "\"annotations\":{\"dev.cosignproject.cosign/signature\":\"MEUCIQ==\"}}]}",
				       1, 2);
			(void)respond(c, 200, "OK", "application/vnd.oci.image.manifest.v1+json", NULL, sigm,
				      strlen(sigm));
		} else {
			(void)respond(c, 404, "Not Found", "application/json", NULL, "{}", 2);
		}
	} else if (strstr(rest, "/blobs/") != NULL) {
		char chunk[65536];
		size_t sent = 0;

		memset(chunk, 'x', sizeof(chunk));
		if (cprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			       "Content-Length: %zu\r\nConnection: close\r\n\r\n", BIG_BLOB) != 0)
			return;
		while (sent < BIG_BLOB && cwrite(c, chunk, sizeof(chunk)) == 0)
			sent += sizeof(chunk);
	} else if (strstr(rest, "/manifests/") != NULL) {
		const char *ct = strcmp(mode, "ctype") == 0 ? "text/html"
							     : "application/vnd.oci.image.manifest.v1+json";
		const char *dg = strcmp(mode, "digest") == 0 || strcmp(mode, "digesthead") == 0
				     ? "sha256:0000000000000000000000000000000000000000000000000000000000000000"
				     : manifest_digest;

		/* ctype, digest, nohead: a HEAD names no digest, so the
		 * client must GET the bytes (and check them); digesthead
		 * lies in the HEAD too. */
		if (c->head && (strcmp(mode, "ctype") == 0 || strcmp(mode, "digest") == 0 ||
				strcmp(mode, "nohead") == 0))
			h[0] = '\0';
		else
			(void)snprintf(h, sizeof(h), "Docker-Content-Digest: %s\r\n", dg);
		(void)respond(c, 200, "OK", ct, h, manifest, strlen(manifest));
	} else {
		(void)respond(c, 404, "Not Found", "application/json", NULL, "{}", 2);
	}
}

static void *
conn_main(void *arg)
{
	conn *c = arg;
	char path[4096];
	unsigned char first = 0;
	struct timeval tv = {.tv_sec = 5};
	int one = 1;

	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Answers go out in several small writes (status and headers, then the
	 * body, or a proxied answer as it arrives): without NODELAY each one
	 * after the first waits for the client's delayed ACK, 40 ms a request. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->which != L_PLAIN) {
		if (recv(c->fd, &first, 1, MSG_PEEK) != 1)
			goto out;
		if (first != 0x16) { /* not a TLS ClientHello */
			if (c->which == L_MAIN) {
				pthread_mutex_lock(&mu);
				main_plain++;
				write_stats();
				pthread_mutex_unlock(&mu);
			}
			(void)respond(c, 400, "Bad Request", "text/plain", NULL, "tls only\n", 9);
			goto out;
		}
		if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
		    SSL_accept(c->ssl) != 1)
			goto out;
	}
	if (read_request(c, path, sizeof(path), c->accept, sizeof(c->accept)) != 0)
		goto out;
	if (c->which == L_MAIN)
		serve_main(c, path);
	else
		(void)respond(c, 200, "OK", "application/json", NULL, "{}", 2);
	if (c->ssl)
		(void)SSL_shutdown(c->ssl);
out:
	SSL_free(c->ssl);
	close(c->fd);
	free(c);
	atomic_fetch_sub(&active, 1);
	return NULL;
}

static int
listen_on(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 256) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* gzip (RFC 1952) of GZIP_ZEROS zero bytes. */
static int
make_gzip(void)
{
	z_stream z;
	static unsigned char zeros[1 << 20];
	size_t cap = 1 << 20, fed = 0;
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if ((gz = malloc(cap)) == NULL)
		return -1;
	do {
		int flush = fed + sizeof(zeros) >= GZIP_ZEROS ? Z_FINISH : Z_NO_FLUSH;

		z.next_in = zeros;
		z.avail_in = sizeof(zeros);
		fed += sizeof(zeros);
		do {
			if (gz_len == cap)
				return -1;
			z.next_out = gz + gz_len;
			z.avail_out = (uInt)(cap - gz_len);
			r = deflate(&z, flush);
			gz_len = cap - z.avail_out;
		} while (z.avail_out == 0);
		if (flush == Z_FINISH)
			break;
	} while (1);
	(void)deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *ports = NULL;
	long lifetime = 600;
	time_t t0 = time(NULL);
	struct pollfd pf[L_N];
	FILE *f;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--cert") == 0)
			cert = argv[i + 1];
		else if (strcmp(argv[i], "--key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--ports") == 0)
			ports = argv[i + 1];
		else if (strcmp(argv[i], "--stats") == 0)
			stats_path = argv[i + 1];
		else if (strcmp(argv[i], "--upstream") == 0)
			upstream = argv[i + 1];
		else if (strcmp(argv[i], "--lifetime") == 0)
			lifetime = strtol(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (cert == NULL || key == NULL || ports == NULL || stats_path == NULL || i != argc) {
		fprintf(stderr, "usage: badserver --cert PEM --key PEM --ports FILE --stats FILE [--upstream HOST:PORT] [--lifetime S]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	/* The upstream is the test's own registry on loopback: its
	 * certificate is not checked. */
	if ((uctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if (make_gzip() != 0) {
		fprintf(stderr, "badserver: gzip failed\n");
		return 1;
	}
	(void)snprintf(manifest, sizeof(manifest),
		       "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		       "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%064d\",\"size\":2},"
		       "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%064d\",\"size\":512}]}",
		       3, 4);
	sha256_hex(manifest_digest, manifest, strlen(manifest));
	for (i = 0; i < L_N; i++) {
		if ((lfd[i] = listen_on(&lport[i])) < 0) {
			perror("badserver: listen");
			return 1;
		}
		pf[i].fd = lfd[i];
		pf[i].events = POLLIN;
	}
	pthread_mutex_lock(&mu);
	write_stats();
	pthread_mutex_unlock(&mu);
	if ((f = fopen(ports, "w")) == NULL)
		return 1;
	fprintf(f, "main=%d other=%d plain=%d\n", lport[L_MAIN], lport[L_OTHER], lport[L_PLAIN]);
	if (fclose(f) != 0)
		return 1;
	while (!stop && time(NULL) - t0 < lifetime) {
		if (poll(pf, L_N, 200) <= 0)
			continue;
		for (i = 0; i < L_N; i++) {
			conn *c;
			pthread_t th;
			int fd;

			if (!(pf[i].revents & POLLIN))
				continue;
			if ((fd = accept(lfd[i], NULL, NULL)) < 0)
				continue;
			pthread_mutex_lock(&mu);
			count[i]++;
			write_stats();
			pthread_mutex_unlock(&mu);
			if (atomic_load(&active) >= CONN_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
				close(fd);
				continue;
			}
			c->fd = fd;
			c->which = i;
			atomic_fetch_add(&active, 1);
			if (pthread_create(&th, NULL, conn_main, c) != 0) {
				atomic_fetch_sub(&active, 1);
				close(fd);
				free(c);
				continue;
			}
			(void)pthread_detach(th);
		}
	}
	(void)lname;
	return 0;
}
