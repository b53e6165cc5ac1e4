/*
 * replay — a small HTTPS front that replays what real registries and chart
 * hosts do around a real docker-registry, for the network-namespace tests
 * (t_registries.sh): Docker Hub's token realm on another host and its blob
 * 307 to a CDN, GHCR's blob redirect, ECR's Basic auth and pre-signed S3
 * URL, chart-releaser's github.com release asset redirecting to
 * objects.githubusercontent.com.
 *
 *   replay --listen ADDR:PORT --cert PEM --key PEM --log FILE
 *          [--lifetime S] RULE [MODIFIER...] [RULE [MODIFIER...]]...
 *
 * RULEs, tried in order; the first whose PREFIX starts the request path
 * (and whose modifiers' path test passes) answers:
 *   --proxy PREFIX HOST:PORT   relay GET/HEAD to a plain-http upstream
 *                              (the docker-registry), headers as sent
 *   --redirect PREFIX URLBASE  307 to URLBASE + the path after PREFIX
 *   --blobs PREFIX REGROOT     the blob named by the last path component
 *                              ("sha256:<hex>") from a docker-registry
 *                              filesystem root
 *   --files PREFIX DIR         DIR + the path after PREFIX ("..": 404)
 *   --file PATH FILE           FILE at exactly PATH
 *   --challenge PREFIX VALUE   401 with WWW-Authenticate: VALUE
 * MODIFIERs, for the rule just before:
 *   --path-has S     the rule applies only when the path contains S
 *   --query Q        (redirect) append "?Q" to the Location
 *   --status N       (redirect) 301/302/303/307/308 instead of 307
 *   --need-query S   403 unless the query string contains S
 *   --need-auth      401 unless an Authorization header was sent
 *   --no-auth        400 when an Authorization header was sent (S3 refuses
 *                    a pre-signed URL that also carries one)
 * Anything else: 404.  Every accepted connection is logged as a line
 * "accept" (before any byte is read) and every request as one line
 *   METHOD TARGET auth=0|1 status=N
 * to FILE, so a test can check who connected and who sent credentials
 * where.
 *
 * HTTP/1.1 only (no ALPN), one request per connection (Connection: close),
 * one forked child per connection, each bounded by an alarm.  Test tool:
 * runs only inside the test's network namespace, never deployed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define REQ_MAX 16384
#define RULES_MAX 32
#define CHILD_ALARM_S 20
#define FILE_MAX ((size_t)64 << 20)

enum { R_PROXY, R_REDIRECT, R_BLOBS, R_FILES, R_FILE, R_CHALLENGE };

typedef struct rule {
	int kind;
	const char *prefix, *arg;
	const char *path_has, *query, *need_query;
	int status, need_auth, no_auth;
} rule;

static rule rules[RULES_MAX];
static int n_rules;
static const char *log_path;
static SSL_CTX *ctx;

static void
logline(const char *method, const char *target, int auth, int status)
{
	char line[REQ_MAX + 64];
	int fd, n;

	if (strcmp(method, "accept") == 0)
		n = snprintf(line, sizeof(line), "accept\n");
	else
		n = snprintf(line, sizeof(line), "%s %s auth=%d status=%d\n", method, target, auth,
			     status);
	if (n <= 0 || (fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
		return;
	if (write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		(void)0;
	close(fd);
}

/* The request being answered, logged once, just before its answer is
 * written: a client that has read the answer finds the line in the log
 * (logged after the answer, a test that truncated the log right after its
 * request sometimes got the line afterwards, in the next step's log). */
static const char *req_method = "-", *req_target = "-";
static int req_auth, req_logged;

static void
log_answer(int status)
{
	if (req_logged)
		return;
	req_logged = 1;
	logline(req_method, req_target, req_auth, status);
}

static int
swrite(SSL *s, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		int w = SSL_write(s, c, n > (1 << 20) ? 1 << 20 : (int)n);

		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
answer(SSL *s, int status, const char *extra, const char *body, size_t len, int head)
{
	char h[4096];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
			 len, extra ? extra : "");

	log_answer(status);
	if (n > 0 && (size_t)n < sizeof(h) && swrite(s, h, (size_t)n) == 0 && !head && len)
		(void)swrite(s, body, len);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	struct stat st;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= FILE_MAX &&
	    (b = malloc((size_t)st.st_size + 1)) != NULL &&
	    fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(b);
		b = NULL;
	}
	if (b)
		*len = (size_t)st.st_size;
	fclose(f);
	return b;
}

static void
serve_file(SSL *s, const char *path, int head, int *status)
{
	size_t len = 0;
	char *b = strstr(path, "..") ? NULL : slurp(path, &len);

	*status = b ? 200 : 404;
	if (b)
		answer(s, 200, "Content-Type: application/octet-stream\r\n", b, len, head);
	else
		answer(s, 404, NULL, "not found\n", 10, head);
	free(b);
}

/* Relay the request to a plain-http upstream and its answer back. */
static void
proxy(SSL *s, const char *upstream, const char *req, size_t req_len, int *status)
{
	char host[256], buf[65536];
	const char *colon = strrchr(upstream, ':'), *eol;
	struct sockaddr_in sa;
	int fd = -1, first = 1;
	ssize_t n;
	size_t off = 0;

	*status = 502;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - upstream) >= sizeof(host))
		goto fail;
	memcpy(host, upstream, (size_t)(colon - upstream));
	host[colon - upstream] = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	/* The request line and headers, minus Connection, plus ours. */
	while (off < req_len) {
		eol = memchr(req + off, '\n', req_len - off);
		if (eol == NULL)
			break;
		if ((size_t)(eol - (req + off)) <= 1)
			break; /* the blank line */
		if (strncasecmp(req + off, "Connection:", 11) != 0 &&
		    write(fd, req + off, (size_t)(eol - (req + off)) + 1) < 0)
			goto fail;
		off = (size_t)(eol - req) + 1;
	}
	if (write(fd, "Connection: close\r\n\r\n", 21) < 0)
		goto fail;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
			*status = atoi(buf + 9);
		if (first)
			log_answer(*status);
		first = 0;
		if (swrite(s, buf, (size_t)n) != 0)
			break;
	}
	close(fd);
	return;
fail:
	if (fd >= 0)
		close(fd);
	answer(s, 502, NULL, "bad gateway\n", 12, 0);
}

static void
handle(SSL *s)
{
	char req[REQ_MAX + 1], method[16], target[REQ_MAX], path[REQ_MAX], full[REQ_MAX + 512];
	const char *query, *hex;
	size_t len = 0;
	int r, i, auth, head, status = 404;

	while (len < REQ_MAX) {
		if ((r = SSL_read(s, req + len, (int)(REQ_MAX - len))) <= 0)
			return;
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (sscanf(req, "%15s %16383s", method, target) != 2)
		return;
	head = strcmp(method, "HEAD") == 0;
	auth = strcasestr(req, "\nAuthorization:") != NULL;
	req_method = method; /* handle runs once per (forked) connection */
	req_target = target;
	req_auth = auth;
	(void)snprintf(path, sizeof(path), "%s", target);
	query = "";
	if (strchr(path, '?')) {
		query = strchr(target, '?') + 1;
		*strchr(path, '?') = '\0';
	}
	for (i = 0; i < n_rules; i++) {
		const rule *u = &rules[i];
		const char *rest = path + strlen(u->prefix);

		if (u->kind == R_FILE ? strcmp(path, u->prefix) != 0
				      : strncmp(path, u->prefix, strlen(u->prefix)) != 0)
			continue;
		if (u->path_has && strstr(path, u->path_has) == NULL)
			continue;
		if (strcmp(method, "GET") != 0 && !head) {
			answer(s, status = 405, NULL, "", 0, 0);
			break;
		}
		if (u->need_query && strstr(query, u->need_query) == NULL) {
			answer(s, status = 403, NULL, "query does not carry the signature\n", 35, head);
			break;
		}
		if (u->need_auth && !auth) {
			answer(s, status = 401, NULL, "credentials required\n", 21, head);
			break;
		}
		if (u->no_auth && auth) {
			answer(s, status = 400, NULL,
			       "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
			       "parameter, Signature query string parameter or the Authorization "
			       "header should be specified\n",
			       149, head);
			break;
		}
		switch (u->kind) {
		case R_PROXY:
			proxy(s, u->arg, req, len, &status);
			break;
		case R_REDIRECT: {
			char loc[REQ_MAX + 1024];

			status = u->status ? u->status : 307;
			(void)snprintf(loc, sizeof(loc), "Location: %s%s%s%s\r\n", u->arg, rest,
				       u->query ? "?" : "", u->query ? u->query : "");
			answer(s, status, loc, "", 0, head);
			break;
		}
		case R_BLOBS:
			hex = strrchr(path, ':');
			if (hex == NULL || strlen(hex + 1) != 64 || strchr(hex + 1, '/')) {
				answer(s, status = 404, NULL, "", 0, head);
				break;
			}
			hex++;
			(void)snprintf(full, sizeof(full), "%s/docker/registry/v2/blobs/sha256/%.2s/%s/data",
				       u->arg, hex, hex);
			serve_file(s, full, head, &status);
			break;
		case R_FILES:
			(void)snprintf(full, sizeof(full), "%s/%s", u->arg, rest);
			serve_file(s, full, head, &status);
			break;
		case R_FILE:
			serve_file(s, u->arg, head, &status);
			break;
		case R_CHALLENGE: {
			char h[2048];

			(void)snprintf(h, sizeof(h), "WWW-Authenticate: %s\r\n", u->arg);
			answer(s, status = 401, h, "", 0, head);
			break;
		}
		}
		break;
	}
	if (i == n_rules)
		answer(s, 404, NULL, "no rule\n", 8, head);
	log_answer(status);
}

static int
usage(void)
{
	fprintf(stderr, "usage: replay --listen ADDR:PORT --cert PEM --key PEM --log FILE "
			"[--lifetime S] RULE...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *listen_on = NULL, *cert = NULL, *key = NULL, *colon;
	char addr[64];
	struct sockaddr_in sa;
	int i, lfd, one = 1, lifetime = 900;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		rule *u = n_rules ? &rules[n_rules - 1] : NULL;
		int kind = -1;

		if (strcmp(a, "--listen") == 0 && i + 1 < argc)
			listen_on = argv[++i];
		else if (strcmp(a, "--cert") == 0 && i + 1 < argc)
			cert = argv[++i];
		else if (strcmp(a, "--key") == 0 && i + 1 < argc)
			key = argv[++i];
		else if (strcmp(a, "--log") == 0 && i + 1 < argc)
			log_path = argv[++i];
		else if (strcmp(a, "--lifetime") == 0 && i + 1 < argc)
			lifetime = atoi(argv[++i]);
		else if (strcmp(a, "--path-has") == 0 && u && i + 1 < argc)
			u->path_has = argv[++i];
		else if (strcmp(a, "--query") == 0 && u && i + 1 < argc)
			u->query = argv[++i];
		else if (strcmp(a, "--status") == 0 && u && i + 1 < argc)
			u->status = atoi(argv[++i]);
		else if (strcmp(a, "--need-query") == 0 && u && i + 1 < argc)
			u->need_query = argv[++i];
		else if (strcmp(a, "--need-auth") == 0 && u)
			u->need_auth = 1;
		else if (strcmp(a, "--no-auth") == 0 && u)
			u->no_auth = 1;
		else if ((kind = strcmp(a, "--proxy") == 0      ? R_PROXY
				 : strcmp(a, "--redirect") == 0 ? R_REDIRECT
				 : strcmp(a, "--blobs") == 0    ? R_BLOBS
				 : strcmp(a, "--files") == 0    ? R_FILES
				 : strcmp(a, "--file") == 0     ? R_FILE
				 : strcmp(a, "--challenge") == 0 ? R_CHALLENGE
								: -1) >= 0 &&
			 i + 2 < argc && n_rules < RULES_MAX) {
			rules[n_rules].kind = kind;
			rules[n_rules].prefix = argv[++i];
			rules[n_rules].arg = argv[++i];
			n_rules++;
		} else
			return usage();
	}
	if (!listen_on || !cert || !key || !log_path || (colon = strrchr(listen_on, ':')) == NULL ||
	    (size_t)(colon - listen_on) >= sizeof(addr))
		return usage();
	memcpy(addr, listen_on, (size_t)(colon - listen_on));
	addr[colon - listen_on] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return usage();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0) {
		perror("replay: listen");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)lifetime);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		logline("accept", "-", 0, 0);
		/* Headers and body are two writes: without NODELAY the second
		 * waits for the client's delayed ACK (40 ms an answer). */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((pid = fork()) == 0) {
			SSL *s;

			close(lfd);
			alarm(CHILD_ALARM_S);
			if ((s = SSL_new(ctx)) != NULL && SSL_set_fd(s, fd) == 1 && SSL_accept(s) == 1) {
				handle(s);
				(void)SSL_shutdown(s);
			}
			SSL_free(s);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
