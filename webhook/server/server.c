/*
 * server — h2o event loops: listening, loop threads, the metrics loop,
 * startup and shutdown.  (TLS, policy reload, jobs and routes are the
 * other files of the room.)
 *
 * Threads and ownership:
 *  - main thread: setup, then waits for SIGTERM/SIGINT and runs shutdown;
 *  - loop threads (opts.threads): one h2o evloop + context each, each
 *    accepting on its own SO_REUSEPORT socket, and each creating every h2o
 *    object it uses itself (h2o recycles socket buffers through thread-local
 *    free lists).  They decode the review, decide what policy alone can
 *    decide, and answer;
 *  - workers (server/pool): run pg_decide_finish for reviews that need
 *    evidence, then post the job back with h2o_multithread_send_message to
 *    the loop that owns the request;
 *  - watcher: polls the policy directory and the certificate files and
 *    swaps in new versions (policy under g_pol.mu in reload.c, certificate
 *    under g_cert.mu in tls.c, read by the TLS certificate callback at
 *    each handshake).
 *
 * Jobs (jobs.c): a review waiting for verification belongs to its loop
 * thread, to a worker while it verifies, and to its loop thread again;
 * h2o objects never leave their loop thread.  The rest of the room:
 * server_int.h.
 */
#include "server/server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o/http1.h>
#include <h2o/http2.h>

#include "admission/admission.h"
#include "clock/clock.h"
#include "obs/obs.h"

/* How long in-flight reviews get on SIGTERM before they are answered with
 * their prepared deny, and how long loops run after that at most (h2o has no
 * clean teardown; GOAWAY needs a moment to flush): the drain ends as soon
 * as every loop has no connection left. */
#define SHUTDOWN_GRACE_MS 3000
#define SHUTDOWN_DRAIN_MS 1100
/* How often a stopped loop looks at its connection lists, and the main
 * thread at the loops, while draining. */
#define DRAIN_POLL_MS 10
/* Accepts per readiness event, so one loop cannot starve on a flood. */
#define ACCEPT_BATCH 32
/* A connection that sends no request (HTTP/1.1) or no frame (HTTP/2) for
 * this long is closed, on both listeners; a TLS handshake gets 5 s. */
#define IDLE_TIMEOUT_MS 10000
#define HANDSHAKE_TIMEOUT_MS 5000

pg_server_opts pg_server__opts;
pg_pool *pg_server__pool;
pg_decider *pg_server__decider;
atomic_int pg_server__stopping;
atomic_int pg_server__inflight;

static h2o_globalconf_t g_conf;
static loop_ctx *g_loops;

/* ------------------------------------------------------------------ */
/* Loop threads                                                         */

/* One descriptor held in reserve.  Out of descriptors (EMFILE), a pending
 * connection can be neither accepted nor left pending: the listener stays
 * readable and the loop would spin on it.  The reserve is given up to
 * accept the connection and close it at once (shedding it), then taken
 * again. */
static int g_reserve_fd = -1;
static pthread_mutex_t g_reserve_mu = PTHREAD_MUTEX_INITIALIZER;

static void
shed_one(h2o_socket_t *listener)
{
	int fd;

	pthread_mutex_lock(&g_reserve_mu);
	if (g_reserve_fd >= 0) {
		close(g_reserve_fd);
		g_reserve_fd = -1;
	}
	fd = accept4(h2o_socket_get_fd(listener), NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	g_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pthread_mutex_unlock(&g_reserve_mu);
	pg_metrics_conn_shed();
}

/* Accept up to ACCEPT_BATCH pending connections of listener into ctx. */
static void
accept_batch(h2o_socket_t *listener, h2o_accept_ctx_t *ctx)
{
	int i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		h2o_socket_t *s;

		errno = 0;
		if ((s = h2o_evloop_socket_accept(listener)) == NULL) {
			if (errno == EMFILE || errno == ENFILE)
				shed_one(listener);
			break;
		}
		h2o_accept(ctx, s);
	}
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	loop_ctx *lc = listener->data;

	if (err == NULL)
		accept_batch(listener, &lc->accept_ctx);
}

static void
on_ctl(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	loop_ctx *lc = H2O_STRUCT_FROM_MEMBER(loop_ctx, ctl_rx, rx);
	int cmd = atomic_load(&lc->cmd);

	/* The messages only say "look at lc->cmd" (each is sent once). */
	while (!h2o_linklist_is_empty(messages))
		h2o_linklist_unlink(messages->next);
	if (cmd >= 1 && lc->listener) {
		h2o_socket_read_stop(lc->listener);
		h2o_socket_close(lc->listener);
		lc->listener = NULL;
	}
	if (cmd >= 2 && !lc->stopped) {
		pg_server__flush_active(lc);
		h2o_context_request_shutdown(&lc->ctx);
		lc->stopped = 1;
	}
}

static int
listen_socket(int *out, const char *addr, pg_err *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {0}, *res = NULL;
	int fd = -1, on = 1, rc;
	size_t hl;

	if (colon == NULL || colon == addr)
		return pg_err_set(err, PG_EINVAL, "listen address wants ADDR:PORT, got \"%s\"",
				  addr);
	hl = (size_t)(colon - addr);
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return pg_err_set(err, PG_EINVAL, "listen address too long");
	memcpy(host, addr, hl);
	host[hl] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
		return pg_err_set(err, PG_EINVAL, "listen address %s: %s", addr, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	/* SO_REUSEPORT: each loop thread gets a socket of its own and the
	 * kernel spreads connections over them; one shared socket let a single
	 * loop win every accept race and leave the other cores idle. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		rc =
		    pg_err_set(err, PG_EIO, "cannot listen on %s: %s", colon - hl, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return rc;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	freeaddrinfo(res);
	*out = fd;
	return PG_OK;
}

/* Everything h2o makes for a loop is made on the loop's own thread: h2o
 * sockets take their buffers from the creating thread's (thread-local)
 * socket buffer prototype and give them back to it.  Made on the main
 * thread, the queue sockets of all loops shared main's free list without a
 * lock, and a buffer was handed to two loops at once (ASan saw a
 * use-after-free, TSan the race). */
static void *
loop_main(void *arg)
{
	loop_ctx *lc = arg;

	lc->loop = h2o_evloop_create();
	h2o_context_init(&lc->ctx, lc->loop, &g_conf);
	lc->accept_ctx.ctx = &lc->ctx;
	lc->accept_ctx.hosts = g_conf.hosts;
	lc->accept_ctx.ssl_ctx = pg_server__ssl;
	lc->queue = h2o_multithread_create_queue(lc->loop);
	h2o_multithread_register_receiver(lc->queue, &lc->done_rx, pg_server__on_jobs_done);
	h2o_multithread_register_receiver(lc->queue, &lc->ctl_rx, on_ctl);
	h2o_timeout_init(lc->loop, &lc->deadline, pg_server__opts.timeout_ms);
	h2o_linklist_init_anchor(&lc->active);
	lc->listener = h2o_evloop_socket_create(lc->loop, lc->fd, H2O_SOCKET_FLAG_DONT_READ);
	lc->listener->data = lc;
	h2o_socket_read_start(lc->listener, on_accept);
	sem_post(&lc->ready);
	while (atomic_load(&lc->cmd) < 3) {
		h2o_evloop_run(lc->loop, lc->stopped ? DRAIN_POLL_MS : 100);
		/* h2o 2.2 has no call that says whether a context still has
		 * connections; its lists (public struct, h2o's own fields) are
		 * read here on the loop's own thread, the only one that
		 * changes them. */
		if (lc->stopped && !atomic_load(&lc->drained) &&
		    h2o_linklist_is_empty(&lc->ctx.http1._conns) &&
		    h2o_linklist_is_empty(&lc->ctx.http2._conns))
			atomic_store(&lc->drained, 1);
	}
	return NULL;
}

/* The metrics loop: one thread, plain HTTP/1.1 on its own socket and its
 * own h2o configuration (only on_metrics_req is registered there). */
static struct {
	h2o_globalconf_t conf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_evloop_t *loop;
	h2o_socket_t *listener;
	pthread_t tid;
	int fd;
	int running;
	sem_t ready;
} g_mx;

static void
on_metrics_accept(h2o_socket_t *listener, const char *err)
{
	if (err == NULL)
		accept_batch(listener, &g_mx.accept_ctx);
}

static void *
metrics_main(void *arg)
{
	(void)arg;
	g_mx.loop = h2o_evloop_create();
	h2o_context_init(&g_mx.ctx, g_mx.loop, &g_mx.conf);
	g_mx.accept_ctx.ctx = &g_mx.ctx;
	g_mx.accept_ctx.hosts = g_mx.conf.hosts;
	g_mx.accept_ctx.ssl_ctx = NULL;
	g_mx.listener = h2o_evloop_socket_create(g_mx.loop, g_mx.fd, H2O_SOCKET_FLAG_DONT_READ);
	h2o_socket_read_start(g_mx.listener, on_metrics_accept);
	sem_post(&g_mx.ready);
	while (!atomic_load(&pg_server__stopping))
		h2o_evloop_run(g_mx.loop, 100);
	h2o_socket_read_stop(g_mx.listener);
	h2o_socket_close(g_mx.listener);
	return NULL;
}

static int
metrics_start(pg_err *err)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;
	int rc;

	if ((rc = listen_socket(&g_mx.fd, pg_server__opts.metrics_listen, err)) != PG_OK)
		return rc;
	h2o_config_init(&g_mx.conf);
	g_mx.conf.max_request_entity_size = 1024;
	g_mx.conf.http1.req_timeout = IDLE_TIMEOUT_MS;
	g_mx.conf.server_name = h2o_iovec_init(H2O_STRLIT("provgate"));
	host = h2o_config_register_host(&g_mx.conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = pg_server__on_metrics_req;
	if (sem_init(&g_mx.ready, 0, 0) != 0 ||
	    pthread_create(&g_mx.tid, NULL, metrics_main, NULL) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start the metrics listener");
	while (sem_wait(&g_mx.ready) != 0 && errno == EINTR)
		;
	g_mx.running = 1;
	return PG_OK;
}

/* Start a loop thread accepting on fd (which it owns from now on); returns
 * once the loop can take commands and connections. */
static int
loop_start(loop_ctx *lc, int fd, pg_err *err)
{
	lc->fd = fd;
	if (sem_init(&lc->ready, 0, 0) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start loop thread");
	if (pthread_create(&lc->tid, NULL, loop_main, lc) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start loop thread");
	while (sem_wait(&lc->ready) != 0 && errno == EINTR)
		;
	return PG_OK;
}

static void
loops_command(int cmd)
{
	unsigned i;

	for (i = 0; i < pg_server__opts.threads; i++) {
		atomic_store(&g_loops[i].cmd, cmd);
		h2o_multithread_send_message(&g_loops[i].ctl_rx, &g_loops[i].ctl_msg[cmd - 1]);
	}
}

/* After loops_command(2): has every loop seen its connections close? */
static int
loops_drained(void)
{
	unsigned i;

	for (i = 0; i < pg_server__opts.threads; i++)
		if (!atomic_load(&g_loops[i].drained))
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Watcher: policy and certificate reload                               */

static int watch_wake = -1; /* eventfd: written once, at shutdown */

/* Watcher thread: every reload period, the policy and then the
 * certificate, each reloaded only when its files changed. */
static void *
watch_main(void *arg)
{
	pg_err err;

	(void)arg;
	for (;;) {
		/* Sleeps one reload period, or until shutdown writes to
		 * watch_wake (so a long period does not delay the exit). */
		struct pollfd pfd = {.fd = watch_wake, .events = POLLIN};

		(void)poll(&pfd, 1, (int)pg_server__opts.reload_ms);
		if (atomic_load(&pg_server__stopping))
			return NULL;
		pg_err_clear(&err);
		(void)pg_server__policy_reload(0, &err);
		pg_server__cert_reload();
	}
}

/* ------------------------------------------------------------------ */

void
pg_server_opts_default(pg_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->listen = "0.0.0.0:8443";
	o->threads = 2;
	o->workers = 4;
	o->queue = 1024;
	o->timeout_ms = PG_DECIDE_TIMEOUT_MS;
	o->max_body = PG_REVIEW_BODY_MAX;
	o->max_streams = 100;
	o->reload_ms = 1000;
	/* cache_entries, cache_bytes, cache_ttl_ms, cache_neg_ttl_ms stay 0:
	 * the verdict cache's own defaults, which the server does not see */
	o->cache_tag_ttl_ms = PG_DECIDE_TAG_TTL_MS;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int
pg_server_run(const pg_server_opts *o, pg_err *err)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;
	sigset_t set;
	pthread_t watcher;
	int fd = -1, sig = 0, rc;
	unsigned i;
	int64_t t_end;

	pg_server__opts = *o;
	if (pg_server__opts.threads == 0 || pg_server__opts.workers == 0 ||
	    pg_server__opts.timeout_ms < 100)
		return pg_err_set(err, PG_EINVAL,
				  "--threads and --workers must be >= 1, --timeout-ms >= 100");
	/* Signals are taken by sigwait on this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pg_server__opts.metrics_listen) {
		/* Both sockets use SO_REUSEPORT: on one port the kernel would
		 * spread API-server connections onto the plain-HTTP socket. */
		const char *a = strrchr(pg_server__opts.listen, ':'),
			   *b = strrchr(pg_server__opts.metrics_listen, ':');

		if (a && b && strcmp(a, b) == 0)
			return pg_err_set(err, PG_EINVAL,
					  "--metrics-listen must use another port than --listen");
	}
	if ((rc = pg_server__policy_reload(1, err)) != PG_OK)
		return rc;
	if ((rc = pg_server__tls_setup(err)) != PG_OK)
		return rc;
	if ((rc = listen_socket(&fd, pg_server__opts.listen, err)) != PG_OK)
		return rc;
	{
		/* Every connection is a descriptor: take all the system allows
		 * (the soft limit is often 1024), and keep one in reserve. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
		g_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}

	h2o_config_init(&g_conf);
	g_conf.max_request_entity_size = pg_server__opts.max_body;
	g_conf.http2.max_concurrent_requests_per_connection = pg_server__opts.max_streams;
	g_conf.http1.req_timeout = IDLE_TIMEOUT_MS;
	g_conf.http2.idle_timeout = IDLE_TIMEOUT_MS;
	g_conf.handshake_timeout = HANDSHAKE_TIMEOUT_MS;
	g_conf.server_name = h2o_iovec_init(H2O_STRLIT("provgate"));
	host = h2o_config_register_host(&g_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = pg_server__on_req;

	{
		pg_decider_opts dopt = {.cache_entries = pg_server__opts.cache_entries,
					.cache_bytes = pg_server__opts.cache_bytes,
					.cache_ttl_ms = pg_server__opts.cache_ttl_ms,
					.cache_neg_ttl_ms = pg_server__opts.cache_neg_ttl_ms,
					.cache_tag_ttl_ms = pg_server__opts.cache_tag_ttl_ms,
					.ca_file = pg_server__opts.ca_file};

		if ((rc = pg_decider_new(&pg_server__decider, &dopt, err)) != PG_OK)
			return rc;
	}
	if (pg_pool_new(&pg_server__pool, pg_server__opts.workers, pg_server__opts.queue,
			pg_server__worker_init, pg_server__worker_fini, NULL) != PG_OK)
		return pg_err_set(err, PG_EINTERNAL, "cannot start workers");
	if ((g_loops = calloc(pg_server__opts.threads, sizeof(*g_loops))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < pg_server__opts.threads; i++) {
		if (i > 0 && (rc = listen_socket(&fd, pg_server__opts.listen, err)) != PG_OK)
			return rc;
		if ((rc = loop_start(&g_loops[i], fd, err)) != PG_OK)
			return rc;
	}
	if ((watch_wake = eventfd(0, EFD_CLOEXEC)) < 0 ||
	    pthread_create(&watcher, NULL, watch_main, NULL) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start watcher");
	if (pg_server__opts.metrics_listen && (rc = metrics_start(err)) != PG_OK)
		return rc;
	pg_log_diag("info", "serving", pg_server__opts.listen);
	if (pg_server__opts.metrics_listen)
		pg_log_diag("info", "serving metrics (plain HTTP, GET /metrics)",
			    pg_server__opts.metrics_listen);

	while (sigwait(&set, &sig) != 0)
		;
	pg_log_diag("info", "shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	atomic_store(&pg_server__stopping, 1);
	loops_command(1); /* stop accepting */
	t_end = pg_clock_ms() + SHUTDOWN_GRACE_MS;
	while (atomic_load(&pg_server__inflight) > 0 && pg_clock_ms() < t_end)
		sleep_ms(20);
	loops_command(2); /* answer what is left, GOAWAY */
	/* Every waiting review has its answer: what the workers still verify
	 * is for no one, so it stops instead of running to its deadline. */
	pg_decider_cancel(pg_server__decider);
	t_end = pg_clock_ms() + SHUTDOWN_DRAIN_MS;
	while (!loops_drained() && pg_clock_ms() < t_end)
		sleep_ms(DRAIN_POLL_MS);
	loops_command(3);
	(void)eventfd_write(watch_wake, 1);
	for (i = 0; i < pg_server__opts.threads; i++)
		pthread_join(g_loops[i].tid, NULL);
	pthread_join(watcher, NULL);
	close(watch_wake);
	watch_wake = -1;
	if (g_mx.running)
		pthread_join(g_mx.tid, NULL);
	/* Workers hold jobs whose loops are gone: stop them last.  h2o has
	 * no teardown for contexts; the process exits next. */
	pg_pool_free(pg_server__pool);
	pg_server__pool = NULL;
	pg_decider_free(pg_server__decider);
	pg_server__decider = NULL;
	pg_server__policy_drop();
	pg_log_diag("info", "stopped", NULL);
	return PG_OK;
}
