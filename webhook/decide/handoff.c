/*
 * decide/handoff — what the server calls: submit a decoded review on its
 * loop thread (an answer now, or PENDING for a worker), finish it on a
 * worker, render the answer back on the loop thread.
 *
 * Rule of the room: pg_decide_submit never waits and never does I/O (it
 * runs on an event loop); everything slow is in pg_decide_finish, which
 * runs on a worker and leaves nothing PENDING, so a decision handed back is
 * final.  The decider (the verdict cache and the settings workers need) is
 * shared by every thread; a worker handle belongs to one worker.
 */
#include "decide/decide_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "cache/cache.h"
#include "fetch/fetch.h"
#include "verify/verify.h"

struct pg_decider {
	pg_cache *cache;
	pg_decision_cache dc; /* what pg_decision_from_cache/_verify read */
	const char *ca_file;
};

struct pg_decide_worker {
	pg_decider *dr;
	pg_verify_ctx *vctx;
};

int
pg_decider_new(pg_decider **out, const pg_decider_opts *o, pg_err *err)
{
	pg_cache_opts co = {.max_entries = o->cache_entries,
			    .max_bytes = o->cache_bytes,
			    .pos_ttl_ms = o->cache_ttl_ms,
			    .neg_ttl_ms = o->cache_neg_ttl_ms};
	pg_decider *dr = calloc(1, sizeof(*dr));

	if (dr == NULL || pg_cache_new(&dr->cache, &co) != PG_OK) {
		free(dr);
		return pg_err_set(err, PG_ENOMEM, "cannot create the verdict cache");
	}
	dr->dc.cache = dr->cache;
	dr->dc.tag_ttl_ms = o->cache_tag_ttl_ms ? o->cache_tag_ttl_ms : PG_DECIDE_TAG_TTL_MS;
	dr->ca_file = o->ca_file;
	*out = dr;
	return PG_OK;
}

void
pg_decider_cancel(pg_decider *dr)
{
	(void)dr; /* the network is the only thing a verification waits on */
	pg_fetch_cancel_all();
}

void
pg_decider_free(pg_decider *dr)
{
	if (dr == NULL)
		return;
	pg_cache_free(dr->cache);
	free(dr);
}

/* The cache's own counters (obs/ does not see the cache): how full it is,
 * what the bounds evicted, how many reviews waited on another's fetch. */
int
pg_decider_metrics(pg_buf *b, const pg_decider *dr)
{
	pg_cache_stats st = {0};

	if (dr && dr->cache)
		pg_cache_stats_get(dr->cache, &st);
	return pg_buf_printf(
	    b,
	    "# HELP provgate_cache_entries Verdicts held in the cache.\n"
	    "# TYPE provgate_cache_entries gauge\n"
	    "provgate_cache_entries %zu\n"
	    "# HELP provgate_cache_bytes Bytes the cache accounts to its entries.\n"
	    "# TYPE provgate_cache_bytes gauge\n"
	    "provgate_cache_bytes %zu\n"
	    "# HELP provgate_cache_evictions_total Verdicts dropped by the entry or byte bound.\n"
	    "# TYPE provgate_cache_evictions_total counter\n"
	    "provgate_cache_evictions_total %llu\n"
	    "# HELP provgate_cache_coalesced_total Verifications that waited for an identical one "
	    "in flight.\n"
	    "# TYPE provgate_cache_coalesced_total counter\n"
	    "provgate_cache_coalesced_total %llu\n",
	    st.entries, st.bytes, (unsigned long long)st.evictions,
	    (unsigned long long)st.coalesced);
}

int
pg_decide_policy_check(const pg_policy *pol, pg_err *err)
{
	return pg_verify_policy_check(pol, err);
}

int
pg_decide_worker_new(pg_decide_worker **out, pg_decider *dr)
{
	pg_decide_worker *w = calloc(1, sizeof(*w));
	pg_verify_opts vo = {.ca_file = dr->ca_file};

	if (w == NULL || pg_verify_ctx_new(&w->vctx, &vo) != PG_OK) {
		free(w);
		return PG_ENOMEM;
	}
	w->dr = dr;
	*out = w;
	return PG_OK;
}

void
pg_decide_worker_free(pg_decide_worker *w)
{
	if (w == NULL)
		return;
	pg_verify_ctx_free(w->vctx);
	free(w);
}

int
pg_decide_submit(pg_decision **out, pg_decide_state *st, pg_decider *dr, pg_review *rv,
		 pg_policy *pol, bool mutate, pg_err *err)
{
	pg_decision *d = NULL;
	int rc;

	*st = PG_DECIDE_ANSWER;
	if ((rc = pg_decision_begin(&d, rv, pol, err)) != PG_OK)
		return rc;
	if (mutate && !pg_decision_mutates(d)) {
		/* not a Pod CREATE, or exempt: nothing to pin, nothing to verify */
	} else if (pg_decision_pending(d) > 0 && pg_decision_from_cache(d, &dr->dc) > 0 &&
		   pg_decision_pending(d) == 0) {
		/* every reference answered from the cache, on this thread */
	} else if (pg_decision_pending(d) > 0) {
		*st = PG_DECIDE_PENDING;
	}
	*out = d;
	return PG_OK;
}

void
pg_decide_finish(pg_decision *d, pg_decide_worker *w, int64_t deadline)
{
	pg_decision_verify(d, w->vctx, &w->dr->dc, deadline);
	/* Anything the worker left undecided is a deny. */
	pg_decision_fail_pending(d, PG_EINTERNAL, "not verified");
}

void
pg_answer_clear(pg_answer *a)
{
	free(a->body);
	free(a->log);
	memset(a, 0, sizeof(*a));
}

int
pg_decide_answer(pg_answer *out, const pg_decision *d, bool mutate, int64_t duration_us)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (mutate) {
		/* allowed, with a patch pinning every verified tag of a Pod
		 * (nothing else is patched; /validate decides) */
		rc = pg_decision_mutate_response(&out->body, &out->len, &out->npatched, d);
		if (rc != PG_OK)
			return rc;
		if (pg_decision_mutate_log_line(&out->log, &out->log_len, d, out->npatched, NULL,
						duration_us) != PG_OK)
			out->log = NULL;
		return PG_OK;
	}
	if ((rc = pg_decision_response(&out->body, &out->len, d)) != PG_OK)
		return rc;
	if (pg_decision_log_line(&out->log, &out->log_len, d, duration_us) != PG_OK)
		out->log = NULL;
	out->label = pg_decision_label(d);
	out->reason = pg_decision_reason_class(d);
	return PG_OK;
}

int
pg_decide_timeout_answer(pg_answer *out, pg_decision *d, bool mutate, unsigned timeout_ms)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (mutate) {
		/* Late verification: nothing is pinned (nothing was verified in
		 * time); /validate answers for itself. */
		const pg_review *rv = pg_decision_review(d);

		rc = pg_review_mutate_nopatch(
		    &out->body, &out->len, pg_review_api_version(rv), pg_review_uid(rv),
		    "provgate: verification timed out; image tags not pinned");
		if (rc == PG_OK)
			rc = pg_decision_mutate_log_line(&out->log, &out->log_len, d, 0,
							 "verification timed out",
							 (int64_t)timeout_ms * 1000);
	} else {
		rc = pg_decision_render_failed(d, PG_ETIMEOUT, "verification timed out", &out->body,
					       &out->len, &out->log, &out->log_len, &out->label,
					       (int64_t)timeout_ms * 1000);
	}
	if (rc != PG_OK)
		pg_answer_clear(out);
	return rc;
}
