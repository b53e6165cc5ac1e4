/*
 * oci/sigstore_pending — TEMPORARY weak stand-ins for the sigstore/ module
 * (being written in its own branch) so that this branch links and its
 * tests run.  Each says "not available" and verifies nothing.  The real
 * definitions are strong and replace these at link time; delete this file
 * when sigstore/ is merged.
 */
#include "sigstore/sigstore.h"

#define PENDING "signature verification is not available in this build (sigstore module pending)"

__attribute__((weak)) int
pg_trusted_root_load(pg_trusted_root **out, const char *json, size_t len, pg_err *err)
{
	(void)json;
	(void)len;
	*out = NULL;
	return pg_err_set(err, PG_EUNAVAIL, PENDING);
}

__attribute__((weak)) void
pg_trusted_root_free(pg_trusted_root *r)
{
	(void)r;
}

__attribute__((weak)) int
pg_cosign_verify_legacy(char **signer_out, const unsigned char *payload, size_t payload_len,
			const json_t *annotations, const char *expected_digest,
			const pg_sig_trust *t, pg_err *err)
{
	(void)payload;
	(void)payload_len;
	(void)annotations;
	(void)expected_digest;
	(void)t;
	*signer_out = NULL;
	return pg_err_set(err, PG_EUNAVAIL, PENDING);
}

__attribute__((weak)) int
pg_sigstore_verify_bundle(char **signer_out, const char *bundle_json, size_t bundle_len,
			  const unsigned char *artifact, size_t artifact_len,
			  const char *artifact_digest, const pg_sig_trust *t, pg_err *err)
{
	(void)bundle_json;
	(void)bundle_len;
	(void)artifact;
	(void)artifact_len;
	(void)artifact_digest;
	(void)t;
	*signer_out = NULL;
	return pg_err_set(err, PG_EUNAVAIL, PENDING);
}
