/*
 * server/routes — what each path answers: POST /validate and /mutate (the
 * review decoded by admission/, submitted to decide/, answered now or
 * handed to a worker), /healthz, /readyz and /metrics; and the single
 * route of the plain-HTTP metrics listener.  Runs on loop threads and
 * never blocks.
 */
#include "server/server_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "buf/buf.h"
#include "clock/clock.h"
#include "decide/decide.h"
#include "obs/obs.h"
#include "policy/policy.h"
#include "server/pool.h"

static int
is(h2o_iovec_t v, const char *s)
{
	return h2o_memis(v.base, v.len, s, strlen(s));
}
/* A body that is not an AdmissionReview: 400 (413 when too large) with
 * the codec's JSON error, or plain text when even that cannot be built. */
static void
send_decode_error(h2o_req_t *req, int rc, const char *why)
{
	char *body = NULL;
	size_t blen = 0;

	if (pg_review_error_json(&body, &blen, why) == PG_OK)
		pg_server__send_body(req, rc == PG_ETOOBIG ? 413 : 400,
				     rc == PG_ETOOBIG ? "Payload Too Large" : "Bad Request",
				     "application/json", body, blen);
	else
		pg_server__send_body(req, 400, "Bad Request", "text/plain",
				     H2O_STRLIT("bad request\n"));
	free(body);
}

static void
validate(loop_ctx *lc, h2o_req_t *req)
{
	int64_t t0 = pg_clock_us();
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_decide_state st;
	pg_policy *pol;
	pg_err err;
	char *body = NULL;
	size_t blen = 0;
	int rc;

	pg_err_clear(&err);
	rc = pg_review_decode(&rv, req->entity.base ? req->entity.base : "", req->entity.len, &err);
	if (rc != PG_OK) {
		send_decode_error(req, rc, err.msg);
		pg_metrics_review("error", pg_err_name(rc), pg_clock_us() - t0);
		return;
	}
	pol = pg_server__policy_get();
	if (pol == NULL) {
		pg_review_free(rv);
		pg_server__send_body(req, 503, "Service Unavailable", "application/json",
				     H2O_STRLIT("{\"error\":\"no policy loaded\"}"));
		pg_metrics_review("error", "unavailable", pg_clock_us() - t0);
		return;
	}
	rc = pg_decide_submit(&d, &st, pg_server__decider, rv, pol, false, &err);
	pg_policy_unref(pol);
	if (rc != PG_OK) {
		/* Only out of memory is left here: a malformed object (too many
		 * references, a wrong-typed field) is a decision, denied with
		 * its reason.  Not the client's fault, so not a 400. */
		if (pg_review_error_json(&body, &blen, err.msg) == PG_OK)
			pg_server__send_body(req, 500, "Internal Server Error", "application/json",
					     body, blen);
		free(body);
		pg_metrics_review("error", pg_err_name(rc), pg_clock_us() - t0);
		return;
	}
	if (st == PG_DECIDE_PENDING) {
		if (atomic_load(&pg_server__stopping)) {
			pg_decision_fail_pending(d, PG_EUNAVAIL, "provgate is shutting down");
		} else {
			rc = pg_server__dispatch(lc, req, d, t0, false);
			if (rc == PG_OK)
				return;
			pg_decision_fail_pending(d, PG_EUNAVAIL,
						 rc == PG_ETOOBIG
						     ? "overloaded: verification queue is full"
						     : "cannot start verification");
		}
	}
	pg_server__answer(req, d, t0, false);
	pg_decision_free(d);
}

/* POST /mutate (optional MutatingWebhookConfiguration, Pods only): the same
 * decision and verification as /validate (cache included), answered as a
 * patch that pins verified tags.  Always allowed; a review that cannot be
 * decided or verified gets no patch, and /validate denies it. */
static void
mutate(loop_ctx *lc, h2o_req_t *req)
{
	int64_t t0 = pg_clock_us();
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_decide_state st;
	pg_policy *pol;
	pg_err err;
	char *body = NULL, *uid = NULL, *apiv = NULL;
	size_t blen = 0;
	int rc;

	pg_err_clear(&err);
	rc = pg_review_decode(&rv, req->entity.base ? req->entity.base : "", req->entity.len, &err);
	if (rc != PG_OK) {
		send_decode_error(req, rc, err.msg);
		pg_metrics_mutate("error", 0);
		return;
	}
	uid = pg_strdup(pg_review_uid(rv));
	apiv = pg_strdup(pg_review_api_version(rv));
	pol = pg_server__policy_get();
	if (pol == NULL || uid == NULL || apiv == NULL) {
		pg_review_free(rv);
		pg_policy_unref(pol);
		pg_server__send_body(req, 503, "Service Unavailable", "application/json",
				     H2O_STRLIT("{\"error\":\"no policy loaded\"}"));
		pg_metrics_mutate("error", 0);
		goto out;
	}
	rc = pg_decide_submit(&d, &st, pg_server__decider, rv, pol, true, &err);
	pg_policy_unref(pol);
	if (rc != PG_OK) {
		/* Not decidable (too many references...): no patch; /validate
		 * denies it with the reason. */
		if (pg_review_mutate_nopatch(&body, &blen, apiv, uid, NULL) == PG_OK)
			pg_server__send_body(req, 200, "OK", "application/json", body, blen);
		else
			pg_server__send_body(req, 500, "Internal Server Error", "text/plain",
					     H2O_STRLIT("mutate\n"));
		pg_metrics_mutate("unpatched", 0);
		goto out;
	}
	if (st == PG_DECIDE_PENDING) {
		if (atomic_load(&pg_server__stopping)) {
			pg_decision_fail_pending(d, PG_EUNAVAIL, "provgate is shutting down");
		} else if (pg_server__dispatch(lc, req, d, t0, true) == PG_OK) {
			goto out;
		} else {
			pg_decision_fail_pending(d, PG_EUNAVAIL, "cannot start verification");
		}
	}
	pg_server__answer(req, d, t0, true);
	pg_decision_free(d);
out:
	free(body);
	free(uid);
	free(apiv);
}

static void
readyz(h2o_req_t *req)
{
	pg_buf b;
	char last_error[PG_ERR_MSG_MAX];
	bool loaded = pg_server__policy_state(last_error, sizeof(last_error));
	int ready;

	pg_buf_init(&b, 4096);
	ready = loaded && pg_server__pool && pg_pool_alive(pg_server__pool) > 0 &&
		!atomic_load(&pg_server__stopping);
	(void)pg_buf_printf(&b, "%s\npolicy: %s\nworkers alive: %u\n",
			    ready ? "ready" : "not ready", loaded ? "loaded" : "not loaded",
			    pg_server__pool ? pg_pool_alive(pg_server__pool) : 0);
	if (last_error[0])
		(void)pg_buf_printf(&b, "last policy load failed (last good policy in force): %s\n",
				    last_error);
	pg_server__send_body(req, ready ? 200 : 503, ready ? "OK" : "Service Unavailable",
			     "text/plain", (char *)b.data, b.len);
	pg_buf_free(&b);
}

static void
metrics(h2o_req_t *req)
{
	pg_buf b;

	pg_buf_init(&b, (size_t)1 << 20);
	if (pg_metrics_render(&b) == PG_OK && pg_decider_metrics(&b, pg_server__decider) == PG_OK)
		pg_server__send_body(req, 200, "OK", "text/plain; version=0.0.4", (char *)b.data,
				     b.len);
	else
		pg_server__send_body(req, 500, "Internal Server Error", "text/plain",
				     H2O_STRLIT("metrics\n"));
	pg_buf_free(&b);
}

/* The plain-HTTP metrics listener (--metrics-listen) serves GET /metrics,
 * /healthz and /readyz and nothing else: no admission endpoint is ever
 * reachable without TLS.  The health endpoints are here for the kubelet's
 * probes, which bring no client certificate when --client-ca is set. */
int
pg_server__on_metrics_req(h2o_handler_t *self, h2o_req_t *req)
{
	h2o_iovec_t path = req->path_normalized;

	(void)self;
	if (!is(path, "/metrics") && !is(path, "/healthz") && !is(path, "/readyz")) {
		pg_server__send_body(req, 404, "Not Found", "text/plain",
				     H2O_STRLIT("not found\n"));
		return 0;
	}
	if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
		pg_server__send_body(req, 405, "Method Not Allowed", "text/plain",
				     H2O_STRLIT("GET only\n"));
		return 0;
	}
	if (is(path, "/healthz"))
		pg_server__send_body(req, 200, "OK", "text/plain", H2O_STRLIT("ok\n"));
	else if (is(path, "/readyz"))
		readyz(req);
	else
		metrics(req);
	return 0;
}

int
pg_server__on_req(h2o_handler_t *self, h2o_req_t *req)
{
	loop_ctx *lc = (loop_ctx *)req->conn->ctx;
	h2o_iovec_t path = req->path_normalized;

	(void)self;
	if (is(path, "/validate")) {
		if (!is(req->method, "POST")) {
			pg_server__send_body(req, 405, "Method Not Allowed", "text/plain",
					     H2O_STRLIT("POST only\n"));
			return 0;
		}
		validate(lc, req);
		return 0;
	}
	if (is(path, "/mutate")) {
		if (!is(req->method, "POST")) {
			pg_server__send_body(req, 405, "Method Not Allowed", "text/plain",
					     H2O_STRLIT("POST only\n"));
			return 0;
		}
		mutate(lc, req);
		return 0;
	}
	if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
		pg_server__send_body(req, 405, "Method Not Allowed", "text/plain",
				     H2O_STRLIT("GET only\n"));
		return 0;
	}
	if (is(path, "/healthz")) {
		pg_server__send_body(req, 200, "OK", "text/plain", H2O_STRLIT("ok\n"));
	} else if (is(path, "/readyz")) {
		readyz(req);
	} else if (is(path, "/metrics")) {
		metrics(req);
	} else {
		pg_server__send_body(req, 404, "Not Found", "text/plain",
				     H2O_STRLIT("not found\n"));
	}
	return 0;
}
