/*
 * verify/attest — the attestations of one image, found in its registry
 * and verified (verify/attest.c): for `verify-attestation IMAGE`; the
 * server reaches the same code through pg_verify_image.
 */
#ifndef PG_VERIFY_ATTEST_H
#define PG_VERIFY_ATTEST_H

#include <stddef.h>

#include "attest/attest.h"
#include "err/err.h"
#include "oci/oci.h"
#include "ref/ref.h"
#include "sigstore/sigstore.h"

/*
 * Find the attestations of ref@digest (Sigstore bundle referrers, tag
 * fallback included; cosign's legacy sha256-<hex>.att), verify each with t
 * and judge it against reqs: PG_OK when every requirement is met by some
 * attestation; *desc_out (malloc'd) then names them ("attestation
 * sha256:.. TYPE builder=.. source=REPO@REF signer=.."; "; " between).
 * PG_EVERIFY with the most telling failure; PG_EFETCH / PG_ETIMEOUT when
 * the registry could not answer.
 */
int pg_verify_attestations(char **desc_out, pg_oci *oci, const pg_oci_req *q,
			   const pg_image_ref *ref, const char *digest, const pg_sig_trust *t,
			   const pg_attest_req *reqs, size_t nreqs, pg_err *err);

#endif
