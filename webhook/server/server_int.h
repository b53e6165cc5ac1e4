/*
 * server internals shared by its files (h2o types stay inside server/).
 *
 *   server.c   listening sockets, loop threads, the metrics loop, the
 *              watcher thread, startup and shutdown (pg_server_run)
 *   tls.c      TLS context, certificate and key, their reload
 *   reload.c   the policy in force and its reload
 *   jobs.c     answers; the hand-off of a review to a worker and back
 *   routes.c   what each path answers
 *
 * The globals below are set by pg_server_run before any thread starts and
 * only read afterwards, except the two atomics.
 */
#ifndef PG_SERVER_INT_H
#define PG_SERVER_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>

#include "decide/decide.h"
#include "server/pool.h"
#include "server/server.h"

typedef struct job job;

typedef struct loop_ctx {
	h2o_context_t ctx; /* first: h2o hands us &ctx, we cast back */
	h2o_evloop_t *loop;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t done_rx; /* finished jobs */
	h2o_multithread_receiver_t ctl_rx;  /* control: stop / flush */
	/* One message per command (1, 2, 3), each sent once: h2o 2.2 calls a
	 * receiver only for real messages (a NULL one merely wakes the loop),
	 * and a message may be queued only once at a time. */
	h2o_multithread_message_t ctl_msg[3];
	h2o_timeout_t deadline;
	h2o_linklist_t active; /* jobs whose request is still waiting */
	pthread_t tid;
	atomic_int cmd; /* 1: stop listening + flush; 2: shutdown */
	int stopped;
	atomic_int drained; /* after shutdown: no HTTP/1 or HTTP/2 connection left */
	int fd;		    /* listening socket, until the loop thread takes it */
	sem_t ready;	    /* posted by the loop thread once it is set up */
} loop_ctx;

extern pg_server_opts pg_server__opts;
extern SSL_CTX *pg_server__ssl; /* tls.c */
extern pg_pool *pg_server__pool;
extern pg_decider *pg_server__decider;
extern atomic_int pg_server__stopping;
extern atomic_int pg_server__inflight; /* jobs whose request still waits */

/* tls.c: load the certificate and make the TLS context (startup); reload
 * the pair when its files changed (watcher). */
int pg_server__tls_setup(pg_err *err);
void pg_server__cert_reload(void);

/* reload.c */
/* The policy in force with a reference taken (pg_policy_unref it), or
 * NULL when none loaded. */
pg_policy *pg_server__policy_get(void);
/* Load the policy directory (initial: always; else only when it or a trust
 * file changed).  A failed reload keeps the last good policy. */
int pg_server__policy_reload(int initial, pg_err *err);
bool pg_server__policy_state(char *last_error, size_t n);
void pg_server__policy_drop(void);
/* A fingerprint of dir's entries and of files (NULL-terminated). */
void pg_server__files_sig(char *out, size_t n, const char *dir, const char *const *files);

/* jobs.c (loop threads, except the worker hooks) */
void pg_server__send_body(h2o_req_t *req, int status, const char *reason, const char *ctype,
			  const char *body, size_t len);
/* Answer a finished decision (nothing pending), log it, count it. */
void pg_server__answer(h2o_req_t *req, pg_decision *d, int64_t t0_us, bool is_mutate);
/* Hand a decision with pending references to a worker.  PG_OK when the
 * job now owns d (and will answer req), else the decision is still ours
 * (PG_ETOOBIG: the queue is full). */
int pg_server__dispatch(loop_ctx *lc, h2o_req_t *req, pg_decision *d, int64_t t0_us,
			bool is_mutate);
void pg_server__on_jobs_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages);
/* Answer every request still waiting on a worker (shutdown). */
void pg_server__flush_active(loop_ctx *lc);
void *pg_server__worker_init(void *ctx);
void pg_server__worker_fini(void *state);

/* routes.c */
int pg_server__on_req(h2o_handler_t *self, h2o_req_t *req);
int pg_server__on_metrics_req(h2o_handler_t *self, h2o_req_t *req);

#endif
