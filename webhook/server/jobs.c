/*
 * server/jobs — answers, and the hand-off of a review to a worker and back.
 *
 * A job (one review waiting for verification) is created on a loop thread,
 * owned by a worker while it verifies (pg_decide_finish), and always freed
 * back on its loop thread.  h2o objects never leave their loop thread: the
 * worker only touches job->d.  If the client goes away, the request pool's
 * dispose hook clears job->req; if the deadline fires first, the loop
 * answers with the timeout response rendered before the hand-off, and the
 * late verdict is dropped.
 */
#include "server/server_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock/clock.h"
#include "decide/decide.h"
#include "obs/obs.h"
#include "server/pool.h"

/* Workers finish this long before the loop deadline so their verdict, not
 * the timeout, is what the API server sees. */
#define WORKER_MARGIN_MS 250

struct job {
	h2o_multithread_message_t msg; /* link for the way back */
	h2o_linklist_t active;	       /* in loop_ctx.active while req waits */
	loop_ctx *lc;
	pg_decision *d; /* owned by the worker in between */
	h2o_req_t *req; /* loop thread only; NULL once gone */
	job **slot;	/* in req->pool, points back here */
	h2o_timeout_entry_t timer;
	pg_answer timeout; /* rendered before hand-off */
	int64_t t0_us;
	int64_t deadline; /* for the worker, absolute ms */
	bool mutate;	  /* answers /mutate, not /validate */
};

/* ------------------------------------------------------------------ */
/* Responses                                                            */

void
pg_server__send_body(h2o_req_t *req, int status, const char *reason, const char *ctype,
		     const char *body, size_t len)
{
	req->res.status = status;
	req->res.reason = reason;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
		       strlen(ctype));
	h2o_send_inline(req, body, len);
}

static void
write_log(const char *line, size_t len)
{
	/* One write per line: lines from several threads never interleave
	 * mid-line on a pipe (below PIPE_BUF) or a file opened O_APPEND. */
	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, line, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		line += w;
		len -= (size_t)w;
	}
}

/* Answer a finished decision (nothing pending), log it, count it. */
void
pg_server__answer(h2o_req_t *req, pg_decision *d, int64_t t0_us, bool is_mutate)
{
	pg_answer a;
	int64_t dur = pg_clock_us() - t0_us;

	if (pg_decide_answer(&a, d, is_mutate, dur) != PG_OK) {
		pg_server__send_body(req, 500, "Internal Server Error", "application/json",
				     H2O_STRLIT("{\"error\":\"cannot render response\"}"));
		if (is_mutate)
			pg_metrics_mutate("error", 0);
		else
			pg_metrics_review("error", "nomem", dur);
		return;
	}
	pg_server__send_body(req, 200, "OK", "application/json", a.body, a.len);
	if (a.log)
		write_log(a.log, a.log_len);
	if (is_mutate)
		pg_metrics_mutate(a.npatched ? "patched" : "unpatched", a.npatched);
	else
		pg_metrics_review(a.label, a.reason, dur);
	pg_answer_clear(&a);
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */

static void
job_free(job *j)
{
	pg_decision_free(j->d);
	pg_answer_clear(&j->timeout);
	free(j);
}

/* Loop thread: the request will not be answered by this job any more. */
static void
job_detach(job *j)
{
	if (h2o_timeout_is_linked(&j->timer))
		h2o_timeout_unlink(&j->timer);
	if (h2o_linklist_is_linked(&j->active))
		h2o_linklist_unlink(&j->active);
	if (j->slot)
		*j->slot = NULL;
	j->slot = NULL;
	j->req = NULL;
	atomic_fetch_sub(&pg_server__inflight, 1);
	pg_metrics_inflight(-1);
}

static void
on_req_dispose(void *p)
{
	job *j = *(job **)p;

	if (j != NULL)
		job_detach(j); /* client gone: the worker's verdict is dropped */
}

static void
answer_timeout(job *j)
{
	h2o_req_t *req = j->req;

	job_detach(j);
	pg_server__send_body(req, 200, "OK", "application/json", j->timeout.body, j->timeout.len);
	write_log(j->timeout.log, j->timeout.log_len);
	if (j->mutate)
		pg_metrics_mutate("timeout", 0);
	else
		pg_metrics_review(j->timeout.label, "timeout", pg_clock_us() - j->t0_us);
}

static void
on_deadline(h2o_timeout_entry_t *entry)
{
	job *j = H2O_STRUCT_FROM_MEMBER(job, timer, entry);

	if (j->req != NULL)
		answer_timeout(j);
}

/* Loop thread: verdicts coming back from workers. */
void
pg_server__on_jobs_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	(void)rx;
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m =
		    H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		job *j = H2O_STRUCT_FROM_MEMBER(job, msg, m);

		h2o_linklist_unlink(&m->link);
		if (j->req != NULL) {
			h2o_req_t *req = j->req;

			job_detach(j);
			pg_server__answer(req, j->d, j->t0_us, j->mutate);
		}
		job_free(j);
	}
}

static void
worker_run(void *arg, void *state)
{
	job *j = arg;

	pg_decide_finish(j->d, state, j->deadline);
	h2o_multithread_send_message(&j->lc->done_rx, &j->msg);
}

void *
pg_server__worker_init(void *ctx)
{
	pg_decide_worker *w = NULL;

	(void)ctx;
	if (pg_decide_worker_new(&w, pg_server__decider) != PG_OK)
		return NULL;
	return w;
}

void
pg_server__worker_fini(void *state)
{
	pg_decide_worker_free(state);
}

/* Hand a decision with pending references to a worker.  Returns 0 when the
 * job now owns d (and will answer req), else the decision is still ours. */
int
pg_server__dispatch(loop_ctx *lc, h2o_req_t *req, pg_decision *d, int64_t t0_us, bool is_mutate)
{
	job *j = calloc(1, sizeof(*j));
	int rc;

	if (j == NULL)
		return PG_ENOMEM;
	j->lc = lc;
	j->d = d;
	j->t0_us = t0_us;
	j->mutate = is_mutate;
	j->deadline = t0_us / 1000 + (int64_t)pg_server__opts.timeout_ms - WORKER_MARGIN_MS;
	/* The timeout answer is rendered now, while d is still ours; the
	 * deadline callback must not touch d while a worker has it. */
	rc = pg_decide_timeout_answer(&j->timeout, d, is_mutate, pg_server__opts.timeout_ms);
	if (rc != PG_OK) {
		j->d = NULL;
		job_free(j);
		return rc;
	}
	j->req = req;
	j->slot = h2o_mem_alloc_shared(&req->pool, sizeof(*j->slot), on_req_dispose);
	*j->slot = j;
	j->timer.cb = on_deadline;
	h2o_timeout_link(lc->loop, &lc->deadline, &j->timer);
	h2o_linklist_insert(&lc->active, &j->active);
	atomic_fetch_add(&pg_server__inflight, 1);
	pg_metrics_inflight(1);
	rc = pg_pool_submit(pg_server__pool, worker_run, j);
	if (rc != PG_OK) {
		job_detach(j);
		j->d = NULL;
		job_free(j);
		return rc;
	}
	return PG_OK;
}

/* Answer every request still waiting on a worker (shutdown). */
void
pg_server__flush_active(loop_ctx *lc)
{
	while (!h2o_linklist_is_empty(&lc->active)) {
		job *j = H2O_STRUCT_FROM_MEMBER(job, active, lc->active.next);

		answer_timeout(j);
	}
}
