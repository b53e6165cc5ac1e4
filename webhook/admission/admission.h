/*
 * admission — AdmissionReview in, decision out.
 *
 *   pg_review_decode   parse the request body once (jansson), size-bounded
 *   pg_extract         every image and chart reference of the object
 *   pg_decision_*      apply the policy per reference; references that need
 *                      evidence are left PENDING for a worker to verify
 *                      (pg_decision_verify), or for the cache to answer
 *   pg_decision_response / _log   the AdmissionReview response and the one
 *                      JSON admission-log line
 *
 * The same code runs behind `provgate review` and the server.  Nothing here
 * blocks except pg_decision_verify, which must run on a worker thread.
 * A pg_decision is heap-owned by exactly one thread at a time.
 */
#ifndef PG_ADMISSION_H
#define PG_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err/err.h"
#include "policy/policy.h"
#include "ref/ref.h"

/* 3 MiB: the API server's own request limit is 3 MiB of object. */
#define PG_REVIEW_MAX ((size_t)3 << 20)
/* References per object: far above any real pod (Kubernetes has no hard
 * limit on containers, but an object with more is an attack on us). */
#define PG_REFS_MAX 1024

typedef struct pg_review pg_review;

/*
 * Decode an AdmissionReview (admission.k8s.io/v1 or v1beta1).  PG_EINVAL
 * with a message when body is not one (not JSON, wrong kind/apiVersion, no
 * request or uid); PG_ETOOBIG past PG_REVIEW_MAX.  *out owned by caller.
 */
int pg_review_decode(pg_review **out, const char *body, size_t len, pg_err *err);
void pg_review_free(pg_review *rv);

const char *pg_review_uid(const pg_review *rv);
const char *pg_review_api_version(const pg_review *rv);
const char *pg_review_kind(const pg_review *rv);      /* request.kind.kind */
const char *pg_review_namespace(const pg_review *rv); /* "" if none */
const char *pg_review_name(const pg_review *rv);      /* "" if none */
const char *pg_review_operation(const pg_review *rv);
const char *pg_review_user(const pg_review *rv);
const json_t *pg_review_object(const pg_review *rv);  /* may be NULL */

typedef enum { PG_REF_IMAGE = 1, PG_REF_CHART = 2, PG_REF_SOURCE = 3 } pg_ref_kind;

/* One reference found in the object. */
typedef struct pg_refent {
	pg_ref_kind kind;
	char *raw;            /* as written in the object */
	char *where;          /* JSON path-ish location, for messages */
	char *also;           /* the second place the same image is written, or NULL */
	size_t n_also;        /* how many more places it is written */
	pg_image_ref *image;  /* IMAGE, when it parsed */
	pg_chart_ref *chart;  /* CHART / SOURCE */
	char *invalid;        /* why it did not parse, or NULL */
} pg_refent;

typedef struct pg_refs {
	pg_refent *v;
	size_t n;
	size_t cap;
} pg_refs;

/*
 * Append every reference of object (of kind `kind`, from request.kind) to
 * out, images deduplicated by their raw string.  Unparseable references are
 * kept with `invalid` set (they are denied, never skipped).  PG_ETOOBIG past
 * PG_REFS_MAX; PG_EINVAL with the field's path when a pod spec field has the
 * wrong type (`containers` not an array, a container not an object, ...).
 * Pod specs are read for containers, initContainers, ephemeralContainers
 * and image volumes (volumes[].image.reference, located "volumes[NAME]").
 */
int pg_extract(pg_refs *out, const char *kind, const json_t *object, pg_err *err);

/* Whether pg_extract reads objects of this API group ("" = core) and kind:
 * the kinds table, beside the extractor. */
bool pg_extract_reads(const char *group, const char *kind);

/*
 * Any other kind: the pod specs at the well-known pod-template places
 * (spec.template.spec, spec.jobTemplate.spec.template.spec, and spec itself
 * when it names containers), appended to out like pg_extract.  *found says
 * whether the object has any such place; when it has none the kind is not
 * checked.  Errors as pg_extract.
 */
int pg_extract_generic(pg_refs *out, bool *found, const json_t *object, pg_err *err);
void pg_refs_free(pg_refs *r);

/* The state of one reference's decision. */
typedef enum {
	PG_RD_PENDING = 0,   /* needs verification */
	PG_RD_ALLOW,         /* verified */
	PG_RD_UNSIGNED,      /* allowed by allowUnsigned (logged unverified) */
	PG_RD_DENY,
} pg_rd_state;

typedef struct pg_refdec {
	pg_refent *ref;
	const pg_rule *rule; /* NULL when none matched */
	pg_rd_state state;
	int code;            /* PG_OK or the PG_E* behind a deny */
	char *reason;
	char *digest;
	char *signer;
	int64_t verify_us;   /* time spent verifying, 0 if none */
	bool cached;         /* answered from the verdict cache */
	char *warning;       /* admission warning for this reference, or NULL */
	char *chart_name;    /* charts: name and version verified, or NULL */
	char *chart_version;
} pg_refdec;

typedef struct pg_decision pg_decision;

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
	int64_t tag_ttl_ms;     /* TTL of verdicts for tag (not digest) references */
} pg_decision_cache;

/* Loop side: answer PENDING references from the cache where it has a live
 * verdict (no waiting, no I/O).  Returns how many were answered. */
size_t pg_decision_from_cache(pg_decision *d, const pg_decision_cache *dc);

/* Worker side: verify every PENDING reference (identical references once;
 * identical verifications running in other workers are waited for, not
 * repeated).  vctx is a pg_verify_ctx*; dc may be NULL; deadline absolute
 * pg_clock_ms. */
struct pg_verify_ctx;
void pg_decision_verify(pg_decision *d, struct pg_verify_ctx *vctx,
			const pg_decision_cache *dc, int64_t deadline);

/* Deny every still-PENDING reference with reason (e.g. "verification timed
 * out") and code. */
void pg_decision_fail_pending(pg_decision *d, int code, const char *reason);

/* Render the response, log line and decision label as they would be if
 * every PENDING reference were denied with (code, reason), without changing
 * d: the server's deadline answer, prepared before a worker takes d.
 * *resp and *log malloc'd; *label static. */
int pg_decision_render_failed(pg_decision *d, int code, const char *reason,
			      char **resp, size_t *rlen, char **log, size_t *llen,
			      const char **label, int64_t duration_us);

/* Set one reference's outcome (copies strings). */
void pg_refdec_set(pg_refdec *rd, pg_rd_state st, int code, const char *reason,
		   const char *digest, const char *signer);

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
 * The optional /mutate answer (admission/mutate.c): always allowed; for a
 * Pod CREATE (not exempt), a JSONPatch (patchType JSONPatch, base64) that
 * replaces each image tag whose reference was verified with
 * `tag@<verified digest>`.  Images not verified are never patched.
 * *npatched: how many operations.  *out malloc'd.
 */
int pg_decision_mutate_response(char **out, size_t *len, size_t *npatched,
				const pg_decision *d);
/* Whether /mutate would patch anything for this review at all (a Pod
 * CREATE, not exempt): when false, there is nothing to verify. */
bool pg_decision_mutates(const pg_decision *d);
/* The /mutate answer without a patch (allowed), for a review whose
 * verification failed or timed out; warning may be NULL. */
int pg_review_mutate_nopatch(char **out, size_t *len, const char *api_version, const char *uid,
			     const char *warning);

/* The /mutate admission-log line ("msg":"mutate", how many images were
 * pinned, an optional note).  *out malloc'd, with a trailing '\n'. */
int pg_decision_mutate_log_line(char **out, size_t *len, const pg_decision *d, size_t npatched,
				const char *note, int64_t duration_us);

struct pg_buf;
/* Append "/" and token to b, escaped as an RFC 6901 JSON pointer token
 * ('~' -> "~0", '/' -> "~1"). */
int pg_json_pointer_append(struct pg_buf *b, const char *token);

/* Response for a body that is not an AdmissionReview, HTTP 400. */
int pg_review_error_json(char **out, size_t *len, const char *msg);

#endif
