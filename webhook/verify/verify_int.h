/* verify internals shared by its files (image and chart verification). */
#ifndef PG_VERIFY_INT_H
#define PG_VERIFY_INT_H

#include "verify/verify.h"

#include "fetch/fetch.h"
#include "oci/oci.h"
#include "verify/cosign.h"
#include "pgp/pgp.h"
#include "sigstore/sigstore.h"

/* Distinct trust roots one policy version may use at once in a worker. */
#define ROOTS_MAX 16

struct pg_verify_ctx {
	pg_verify_opts opts;
	pg_fetch *fetch;
	pg_pgp *pgp;	/* OpenPGP handle of this worker, made on first use */
	pg_policy *pol; /* referenced: the version oci and roots belong to */
	pg_oci *oci;
	struct {
		const pg_trust *t;
		pg_trusted_root *root;
	} roots[ROOTS_MAX];
	size_t n_roots;
};

/* Make c's registry client and roots belong to policy p. */
int pg_verify__use_policy(pg_verify_ctx *c, const pg_policy *p, pg_err *err);
/* The parsed trust root t (NULL t: NULL, no error). */
const pg_trusted_root *pg_verify__root_for(pg_verify_ctx *c, const pg_policy *p, const pg_trust *t,
					   pg_err *err);
/* The signature trust of cosign/github verifier v under rule r: its key or
 * trusted root (v's own, else the policy's default), identity, issuer and
 * tlog requirement.  PG_OK, or the root's load error (message in err). */
int pg_verify__sig_trust(pg_sig_trust *t, pg_verify_ctx *c, const pg_policy *p, const pg_rule *r,
			 const pg_verifier *v, pg_err *err);
/* How many of n verifiers must pass under r's `require`. */
size_t pg_verify__needed(const pg_rule *r, size_t n);
/* notation.c: the Notation signatures of ref under notation verifier v
 * at time now.  PG_OK when one verifies (*signer_out says who); the
 * admitted digest in *digest_out (both malloc'd, or NULL).  PG_EVERIFY
 * with the reason; PG_EFETCH/PG_ETIMEOUT/PG_ENOTFOUND from the registry. */
int pg_verify__notation_image(char **digest_out, char **signer_out, pg_oci *oci,
			      const pg_oci_req *q, const pg_verifier *v, const pg_image_ref *ref,
			      int64_t now, pg_err *err);
/* crl.c: what fetching a CRL distribution point needs: the worker's fetch
 * handle, the review's deadline, the guard (NULL: any https host, the CLI
 * without a policy) and the policy for its registries' caFile (NULL: none;
 * every pg_oci_req made in verify/ has the policy as guard_ctx). */
typedef struct pg_verify_crl_ctx {
	pg_fetch *fetch;
	int64_t deadline;
	pg_fetch_guard_fn guard;
	void *guard_ctx;
	const pg_policy *policy;
	const char *ca_file;
} pg_verify_crl_ctx;
/* A pg_notation_crl_fn (ctx: a pg_verify_crl_ctx): the bytes at url, from
 * the process-wide cache while current, else fetched (4 MiB, 5 s, inside
 * the deadline) and cached until the CRL's nextUpdate. */
int pg_verify__crl_get(unsigned char **out, size_t *len, const char *url, pg_err *err, void *ctx);
/* Empty the CRL cache (tests, exit). */
void pg_verify__crl_cache_clear(void);
/* The SSRF guard (ctx: the pg_policy). */
int pg_verify__guard(const char *scheme, const char *host, int port, pg_err *err, void *ctx);

/* attest.c: the attestations of ref@digest against verifier v (which has
 * n_attest > 0), verified with t.  PG_OK when all its requirements are met;
 * *desc_out (malloc'd) then names the attestations (envelope digest,
 * predicate type, builder, source repository and ref, signer). */
int pg_verify__attest_image(char **desc_out, pg_verify_ctx *c, const pg_oci_req *q,
			    const pg_image_ref *ref, const char *digest, const pg_sig_trust *t,
			    const pg_verifier *v, pg_err *err);

#endif
