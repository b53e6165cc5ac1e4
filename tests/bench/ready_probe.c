/*
 * ready_probe — start a server and time it to its first "200" on GET /readyz.
 *
 *   ready_probe PORT COMMAND [ARG...]
 *
 * Forks, execs COMMAND, and from the moment before the exec polls
 * https://127.0.0.1:PORT/readyz (TLS, certificate not checked: loopback,
 * bench only) every 0.2 ms until it answers 200 or 10 s pass.  Prints
 * "<milliseconds> <pid>" and leaves the server running for the caller to
 * measure and stop.  A curl process per poll would add its own start-up
 * (tens of ms on a busy machine) to the figure; this adds a TLS handshake.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 1: answered 200; 0: not (yet). */
static int
probe(SSL_CTX *ctx, int port)
{
	struct sockaddr_in a;
	char buf[512];
	int fd, n, ok = 0;
	SSL *ssl = NULL;
	const char req[] = "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto out;
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)
		goto out;
	if (SSL_write(ssl, req, (int)sizeof(req) - 1) <= 0)
		goto out;
	n = SSL_read(ssl, buf, (int)sizeof(buf) - 1);
	if (n > 12) {
		buf[n] = '\0';
		ok = strncmp(buf + 9, "200", 3) == 0;
	}
out:
	SSL_free(ssl);
	close(fd);
	return ok;
}

int
main(int argc, char **argv)
{
	SSL_CTX *ctx;
	double t0;
	pid_t pid;
	int port;

	if (argc < 3 || (port = (int)strtol(argv[1], NULL, 10)) <= 0 || port > 65535) {
		fprintf(stderr, "usage: ready_probe PORT COMMAND [ARG...]\n");
		return 2;
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return 2;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	{
		static const unsigned char alpn[] = "\x08http/1.1";
		SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	}
	t0 = now_ms();
	if ((pid = fork()) < 0)
		return 2;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	while (now_ms() - t0 < 10000) {
		if (probe(ctx, port)) {
			printf("%.1f %d\n", now_ms() - t0, (int)pid);
			return 0;
		}
		usleep(200);
	}
	printf("timeout %d\n", (int)pid);
	return 1;
}
