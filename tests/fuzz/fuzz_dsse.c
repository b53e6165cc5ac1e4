/*
 * libFuzzer target: attestation bundles (a DSSE envelope in a Sigstore
 * bundle) through pg_sigstore_verify_dsse_bundle, and the Fulcio claim
 * extensions of a DER certificate (pg_cert_fulcio_claims).  The first
 * input byte picks which; the rest is the input.  The trusted root is
 * $PROVGATE_FUZZ_TRUSTED_ROOT if set, else an empty one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

static pg_trusted_root *root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("PROVGATE_FUZZ_TRUSTED_ROOT");
	char *s = NULL;
	size_t n = 0;

	(void)argc;
	(void)argv;
	if (path && pg_buf_read_file(&s, &n, path, PG_SIGSTORE_JSON_MAX, NULL) == PG_OK)
		(void)pg_trusted_root_load(&root, s, n, NULL);
	free(s);
	if (root == NULL)
		(void)pg_trusted_root_load(&root, "{}", 2, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_dsse_result r;
	char *claims[PG_CLAIM_N];
	pg_sig_trust t;
	X509 *c = NULL;
	pg_err e;
	int i;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		memset(&t, 0, sizeof(t));
		t.root = root;
		t.identity_regexp = ".*";
		if (pg_sigstore_verify_dsse_bundle(&r, (const char *)data + 1, size - 1,
						   data[0] & 2 ? 1700000000 : 0, &t, &e) == PG_OK)
			pg_dsse_result_free(&r);
		return 0;
	}
	if (pg_cert_from_der(&c, data + 1, size - 1, &e) != PG_OK)
		return 0;
	if (pg_cert_fulcio_claims(claims, c) == PG_OK)
		for (i = 0; i < PG_CLAIM_N; i++)
			free(claims[i]);
	X509_free(c);
	return 0;
}
