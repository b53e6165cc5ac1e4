/*
 * decide — the deny-by-default decision of one review.
 *
 * admission/ decodes the AdmissionReview and extracts its references; this
 * room decides: it matches each reference to a rule (exemptions and kinds
 * not checked included), answers what the verdict cache already knows
 * (identical verifications in flight are waited for, not repeated), hands
 * the rest to a worker for verify/, and assembles the verdict: the
 * AdmissionReview response, the /mutate patch and the admission-log line.
 *
 * What the server calls (the hand-off contract with the worker pool):
 *
 *   loop thread   pg_decide_submit   an answer now, or PENDING (never blocks)
 *   worker        pg_decide_finish   verify; nothing is left PENDING after
 *   loop thread   pg_decide_answer   render what to send, log and count
 *
 * A pg_decision is heap-owned by exactly one thread at a time: the loop
 * thread that submitted it, the worker while pg_decide_finish runs, then
 * the loop thread again.  Before the hand-off the loop renders the answer
 * it will give if the worker is late (pg_decide_timeout_answer), so that
 * it never touches a decision a worker holds.
 *
 * `provgate review` uses the pg_decision_* calls below directly.
 */
#ifndef PG_DECIDE_H
#define PG_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admission/admission.h"
#include "err/err.h"
#include "policy/policy.h"

typedef struct pg_decision pg_decision;

/* ------------------------------------------------------------------ */
/* The server's interface                                               */

/* The process-wide side of deciding: the verdict cache and what workers
 * need to verify.  Shared by every thread (the cache locks itself). */
typedef struct pg_decider pg_decider;

/* A review is answered within 9 s unless the operator says otherwise: the
 * API server's default webhook timeout is 10 s, and a late answer is no
 * answer (failurePolicy decides instead of us). */
#define PG_DECIDE_TIMEOUT_MS 9000
/* A verdict on a tag lives 30 s at most: the tag can be pushed again, and
 * its digest is resolved anew after that. */
#define PG_DECIDE_TAG_TTL_MS (30 * 1000)

/* Zero cache options take the verdict cache's defaults (cache/cache.h), a
 * zero cache_tag_ttl_ms PG_DECIDE_TAG_TTL_MS. */
typedef struct pg_decider_opts {
	size_t cache_entries;	   /* verdict cache bound (entries) */
	size_t cache_bytes;	   /* verdict cache bound (bytes) */
	unsigned cache_ttl_ms;	   /* verified verdicts */
	unsigned cache_neg_ttl_ms; /* definite failures */
	unsigned cache_tag_ttl_ms; /* any verdict of a tag (not digest) reference */
	const char *ca_file;	   /* extra CA for registries / chart repos, or
				      NULL; must outlive the decider */
} pg_decider_opts;

/* PG_ENOMEM with a message when the cache cannot be made.  *out owned by
 * caller; free it after every worker handle and decision using it. */
int pg_decider_new(pg_decider **out, const pg_decider_opts *o, pg_err *err);
void pg_decider_free(pg_decider *dr);
/* Shutdown, once every waiting review has been answered: the verifications
 * still running on workers give up (their registry and repository requests
 * stop within about a second, later ones fail at once), so the workers can
 * be joined without waiting out their deadlines.  Process-wide, not undone. */
void pg_decider_cancel(pg_decider *dr);

struct pg_buf;
/* Append the verdict cache's counters (Prometheus text) to b; dr may be
 * NULL (zeros). */
int pg_decider_metrics(struct pg_buf *b, const pg_decider *dr);

/* Whether every trust file pol names parses (keys, keyrings, roots): a
 * policy whose evidence could never be checked is a load error, not a deny
 * of everything its rules match.  PG_OK or the error with its message. */
int pg_decide_policy_check(const pg_policy *pol, pg_err *err);

/* One per worker thread (its own verification context: one curl handle,
 * one gpgme context).  Made and freed on the worker. */
typedef struct pg_decide_worker pg_decide_worker;
int pg_decide_worker_new(pg_decide_worker **out, pg_decider *dr);
void pg_decide_worker_free(pg_decide_worker *w);

typedef enum {
	PG_DECIDE_ANSWER = 0, /* *out is final: answer it now */
	PG_DECIDE_PENDING,    /* references need evidence: hand *out to a
				 worker (pg_decide_finish), or refuse it with
				 pg_decision_fail_pending */
} pg_decide_state;

/*
 * Loop side: decide rv under pol as far as policy and the cache can,
 * without waiting or I/O.  mutate: the /mutate endpoint (only a Pod CREATE
 * needs its images verified; anything else is answered unpatched).  Takes
 * ownership of rv (even on error), takes a reference on pol.  PG_OK with
 * *out (owned by caller) and *st; otherwise only out of memory is left (a
 * malformed object is a decision, denied with its reason), with a message.
 */
int pg_decide_submit(pg_decision **out, pg_decide_state *st, pg_decider *dr, pg_review *rv,
		     pg_policy *pol, bool mutate, pg_err *err);

/* Worker side: verify every PENDING reference of d before deadline
 * (absolute pg_clock_ms); anything left undecided is denied.  d is the
 * worker's until it returns. */
void pg_decide_finish(pg_decision *d, pg_decide_worker *w, int64_t deadline);

/* What to send for one review, and what to log and count. */
typedef struct pg_answer {
	char *body; /* HTTP 200 body (JSON), malloc'd */
	size_t len;
	char *log; /* admission-log line with '\n', malloc'd, or NULL */
	size_t log_len;
	const char *label;  /* /validate: decision label for metrics (static) */
	const char *reason; /* /validate: reason class for metrics (static) */
	size_t npatched;    /* /mutate: tags pinned */
} pg_answer;

/* Loop side: the answer for d, nothing PENDING (/validate: the
 * AdmissionReview response; /mutate: the patch).  duration_us: the
 * review's whole time.  PG_ENOMEM when the body cannot be rendered (a
 * missing log line is not an error).  *out cleared first; free with
 * pg_answer_clear. */
int pg_decide_answer(pg_answer *out, const pg_decision *d, bool mutate, int64_t duration_us);

/* Loop side, before the hand-off: the answer if the worker misses the
 * deadline (every PENDING reference denied "verification timed out";
 * /mutate: no patch), logged with duration timeout_ms.  d is unchanged. */
int pg_decide_timeout_answer(pg_answer *out, pg_decision *d, bool mutate, unsigned timeout_ms);

void pg_answer_clear(pg_answer *a);

/* ------------------------------------------------------------------ */
/* The decision itself                                                  */

/* The state of one reference's decision. */
typedef enum {
	PG_RD_PENDING = 0, /* needs verification */
	PG_RD_ALLOW,	   /* verified */
	PG_RD_UNSIGNED,	   /* allowed by allowUnsigned (logged unverified) */
	PG_RD_DENY,
} pg_rd_state;

typedef struct pg_refdec {
	pg_refent *ref;
	const pg_rule *rule; /* NULL when none matched */
	pg_rd_state state;
	int code; /* PG_OK or the PG_E* behind a deny */
	char *reason;
	char *digest;
	char *signer;
	int64_t verify_us; /* time spent verifying, 0 if none */
	bool cached;	   /* answered from the verdict cache */
	char *warning;	   /* admission warning for this reference, or NULL */
	char *chart_name;  /* charts: name and version verified, or NULL */
	char *chart_version;
} pg_refdec;

/*
 * Start deciding: DELETE/CONNECT and exempt namespaces are allowed at once;
 * otherwise references are extracted and matched to rules.  Takes ownership
 * of rv, takes a reference on pol.  *out owned by caller.
 */
int pg_decision_begin(pg_decision **out, pg_review *rv, pg_policy *pol, pg_err *err);
void pg_decision_free(pg_decision *d);

/* Number of references still PENDING. */
size_t pg_decision_pending(const pg_decision *d);
/* The per-reference decisions (n of them). */
pg_refdec *pg_decision_refs(pg_decision *d, size_t *n);
const pg_policy *pg_decision_policy(const pg_decision *d);
const pg_review *pg_decision_review(const pg_decision *d);

/* Verdict-cache settings the decision code needs. */
struct pg_cache;
typedef struct pg_decision_cache {
	struct pg_cache *cache; /* NULL: no caching */
	int64_t tag_ttl_ms;	/* TTL of verdicts for tag (not digest) references */
} pg_decision_cache;

/* Loop side: answer PENDING references from the cache where it has a live
 * verdict (no waiting, no I/O).  Returns how many were answered. */
size_t pg_decision_from_cache(pg_decision *d, const pg_decision_cache *dc);

/* Worker side: verify every PENDING reference (identical references once;
 * identical verifications running in other workers are waited for, not
 * repeated).  vctx is a pg_verify_ctx*; dc may be NULL; deadline absolute
 * pg_clock_ms. */
struct pg_verify_ctx;
void pg_decision_verify(pg_decision *d, struct pg_verify_ctx *vctx, const pg_decision_cache *dc,
			int64_t deadline);

/* Deny every still-PENDING reference with reason (e.g. "verification timed
 * out") and code. */
void pg_decision_fail_pending(pg_decision *d, int code, const char *reason);

/* Render the response, log line and decision label as they would be if
 * every PENDING reference were denied with (code, reason), without changing
 * d: the server's deadline answer, prepared before a worker takes d.
 * *resp and *log malloc'd; *label static. */
int pg_decision_render_failed(pg_decision *d, int code, const char *reason, char **resp,
			      size_t *rlen, char **log, size_t *llen, const char **label,
			      int64_t duration_us);

/* Set one reference's outcome (copies strings). */
void pg_refdec_set(pg_refdec *rd, pg_rd_state st, int code, const char *reason, const char *digest,
		   const char *signer);

/* Overall outcome once nothing is pending: allowed (enforce: every reference
 * allowed; audit: always, with warnings). */
bool pg_decision_allowed(const pg_decision *d);

/*
 * The AdmissionReview response JSON, in the version asked, compact, with
 * uid, allowed, status (on deny), warnings (audit mode), auditAnnotations.
 * *out malloc'd.
 */
int pg_decision_response(char **out, size_t *len, const pg_decision *d);

/* One JSON admission-log line (with trailing '\n'). duration_us is the
 * review's whole time.  *out malloc'd. */
int pg_decision_log_line(char **out, size_t *len, const pg_decision *d, int64_t duration_us);

/* Short decision label for metrics: "allow", "deny", "exempt", "audit-deny". */
const char *pg_decision_label(const pg_decision *d);
/* Main reason label for metrics (first deny's class), or "" */
const char *pg_decision_reason_class(const pg_decision *d);

/*
 * The optional /mutate answer (decide/mutate.c): always allowed; for a
 * Pod CREATE (not exempt), a JSONPatch (patchType JSONPatch, base64) that
 * replaces each image tag whose reference was verified with
 * `tag@<verified digest>`.  Images not verified are never patched.
 * *npatched: how many operations.  *out malloc'd.
 */
int pg_decision_mutate_response(char **out, size_t *len, size_t *npatched, const pg_decision *d);
/* Whether /mutate would patch anything for this review at all (a Pod
 * CREATE, not exempt): when false, there is nothing to verify. */
bool pg_decision_mutates(const pg_decision *d);
/* The /mutate admission-log line ("msg":"mutate", how many images were
 * pinned, an optional note).  *out malloc'd, with a trailing '\n'. */
int pg_decision_mutate_log_line(char **out, size_t *len, const pg_decision *d, size_t npatched,
				const char *note, int64_t duration_us);

/* The /mutate answer without a patch (allowed), for a review whose
 * verification failed or timed out, or that cannot be decided; warning may
 * be NULL. */
int pg_review_mutate_nopatch(char **out, size_t *len, const char *api_version, const char *uid,
			     const char *warning);

struct pg_buf;
/* Append "/" and token to b, escaped as an RFC 6901 JSON pointer token
 * ('~' -> "~0", '/' -> "~1"). */
int pg_json_pointer_append(struct pg_buf *b, const char *token);

#endif
