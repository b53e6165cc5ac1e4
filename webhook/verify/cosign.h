/*
 * verify/cosign — the cosign signatures of one image, found in its
 * registry and verified (verify/cosign.c): for `verify-image` and for the
 * cosign verifiers of image rules and OCI chart rules, which the server
 * reaches through pg_verify_image / pg_verify_chart.
 *
 * Discovery only: the registry calls are oci/'s, the cryptography is
 * sigstore/'s, the policy (which verifiers, `require`) is verify.c's.
 */
#ifndef PG_VERIFY_COSIGN_H
#define PG_VERIFY_COSIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"
#include "oci/oci.h"
#include "ref/ref.h"
#include "sigstore/sigstore.h"

/* A simple-signing payload is a few hundred bytes; 1 MiB leaves room for
 * generous `optional` annotations and nothing more. */
#define PG_VERIFY_COSIGN_PAYLOAD_MAX ((size_t)1 << 20)
/* Signatures examined per source for one image (legacy .sig layers; bundle
 * referrers; attestations, verify/attest.c): bounds the fetching and the
 * crypto a hostile registry can make us do.  Per source, so junk referrers
 * cannot hide a .sig. */
#define PG_VERIFY_SIGS_MAX 64

typedef struct pg_verify_cosign_result {
	char *digest;	/* the image digest the signatures were checked
			   against ("sha256:<hex>"), once resolved; or NULL */
	char *signer;	/* who signed (first trust that verified), or NULL */
	bool *trust_ok; /* n_trust entries: which trust entries verified */
	size_t n_trust;
	size_t n_sigs;	/* signatures examined (legacy layers + bundles) */
	bool truncated; /* a budget (PG_VERIFY_SIGS_MAX per source, or the
			   referrers listing bound) left candidates
			   unexamined: a failure is then not definite */
} pg_verify_cosign_result;

/*
 * Resolve ref to its digest (ref->digest when given), find its signatures
 * (the legacy "sha256-<hex>.sig" manifest, then Sigstore bundle referrers
 * via referrers/tag fallback; bundles must be DSSE in-toto), and verify
 * them against each of the n_trust entries: a trust entry is satisfied when
 * any one signature verifies with it.  Fetching stops once need entries
 * are satisfied (0: all of them).  0 when at least one entry is satisfied
 * (out->trust_ok says which; out->truncated when a budget cut the search
 * before need were), unless fewer than need are and a source could not be
 * read (then that source's transient code); PG_EVERIFY with "no
 * signatures found for ..." or "no signature of ... verified: <first
 * failure>"; PG_ETOOBIG when nothing verified and a budget left candidates
 * unexamined; PG_EFETCH/PG_ETIMEOUT/PG_ENOTFOUND when the registry could
 * not answer (never a verdict on the image).  *out is always filled
 * (pg_verify_cosign_result_clear).
 */
int pg_verify_cosign_image(pg_verify_cosign_result *out, pg_oci *c, const pg_oci_req *q,
			   const pg_image_ref *ref, const pg_sig_trust *trust, size_t n_trust,
			   size_t need, pg_err *err);

/* Frees what *v holds and zeroes it; NULL is fine. */
void pg_verify_cosign_result_clear(pg_verify_cosign_result *v);

#endif
