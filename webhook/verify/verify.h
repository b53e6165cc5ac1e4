/*
 * verify — runs the verifiers a rule names against one reference and
 * combines their results per the rule's `require`.  This is the code a
 * worker thread runs; it may block on the network and on gpg, so it must
 * never run on an event-loop thread.
 *
 * A pg_verify_ctx is per worker thread (it owns that thread's fetch handle
 * and OpenPGP handle); never share one between threads.
 */
#ifndef PG_VERIFY_H
#define PG_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "err/err.h"
#include "policy/policy.h"
#include "ref/ref.h"

typedef struct pg_verify_ctx pg_verify_ctx;

typedef struct pg_verify_opts {
	const char *ca_file; /* extra CA for registries/repos (CLI --ca-file) */
} pg_verify_opts;

typedef struct pg_verdict {
	bool ok;	     /* verified per the rule */
	int code;	     /* PG_OK, or why not: PG_EVERIFY (bad/missing evidence,
				cacheable), PG_ETIMEOUT/PG_EFETCH (never cached as bad) */
	char *digest;	     /* what was verified: "sha256:<hex>", or NULL */
	char *signer;	     /* who signed it, human-readable, or NULL */
	char *reason;	     /* short reason a person can act on; never NULL after
				pg_verify_* returns */
	const pg_rule *rule; /* the rule the verifier found itself (release
				Secrets, Flux sources), or NULL */
	bool unsigned_ok;    /* allowed by an allowUnsigned rule, not verified */
	/* Charts: the name and version that were verified (a range resolved),
	 * and a warning for the admission response (a range admitted under
	 * allowVersionRanges), or NULL.  pg_verdict_set keeps these. */
	char *chart_name;
	char *chart_version;
	char *warning;
} pg_verdict;

int pg_verify_ctx_new(pg_verify_ctx **out, const pg_verify_opts *opts);
void pg_verify_ctx_free(pg_verify_ctx *c);

/* Verify an image against rule r of policy p, before deadline (absolute
 * pg_clock_ms).  Always fills *out (free with pg_verdict_clear); the return
 * value is out->code. */
int pg_verify_image(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p, const pg_rule *r,
		    const pg_image_ref *ref, int64_t deadline);

/* The same for a chart reference.  r may be NULL for a Helm release
 * Secret (the rule is found by the release's chart name) and for a Flux
 * source (the rule is found once the source's URL is looked up); the rule
 * found is returned in out->rule. */
int pg_verify_chart(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p, const pg_rule *r,
		    const pg_chart_ref *ref, int64_t deadline);

/*
 * A chart version range (ref->range) under rule r: 0 when the version is
 * pinned; 1 when r allows ranges (msg: the warning to give); PG_EPOLICY when
 * it does not (msg: the deny reason).  Pure; used at admission for charts
 * whose rule is known and by pg_verify_chart for Flux sources.
 */
int pg_verify_chart_range(const pg_rule *r, const pg_chart_ref *ref, char *msg, size_t n);
/* Load-time check of the policy's trust material and of what its rules need
 * from it (verify/check.c): keys parse, keyrings hold OpenPGP keys, roots
 * parse; keyless verifiers have a root with a CA; tlog: required has a root
 * with a transparency log.  PG_EINVAL "FILE:LINE: path: what is wrong".
 * Runs gpg for keyrings: never on an event-loop thread. */
int pg_verify_policy_check(const pg_policy *p, pg_err *err);
/* The Notation signatures of ref under an imported notation configuration
 * (`provgate verify-notation IMAGE --config DIR`), at time now, with the
 * caller's registry client.  PG_OK when one verifies: *digest_out is the
 * verified digest, *signer_out who signed (both malloc'd).  PG_EVERIFY
 * with the reason; PG_EFETCH/PG_ETIMEOUT/PG_ENOTFOUND from the registry. */
struct pg_oci;
struct pg_oci_req;
struct pg_notation_config;
int pg_verify_notation_config(char **digest_out, char **signer_out, struct pg_oci *oci,
			      const struct pg_oci_req *q, struct pg_notation_config *cfg,
			      const pg_image_ref *ref, int64_t now, pg_err *err);

/* Set a verdict's fields (copies strings). */
void pg_verdict_set(pg_verdict *v, bool ok, int code, const char *digest, const char *signer,
		    const char *reason);
void pg_verdict_clear(pg_verdict *v);

#endif
