/*
 * libFuzzer target: Sigstore bundle parsing and verification, plus the two
 * parsers a bundle feeds (signed checkpoints, tlog entry bodies).
 * The first input byte picks the parser; the rest is the input.
 * The trusted root is $PROVGATE_FUZZ_TRUSTED_ROOT if set (a real root goes
 * deeper), else an empty one.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iwebhook \
 *     tests/fuzz/fuzz_bundle.c webhook/sigstore/[a-z]*.c webhook/buf/buf.c \
 *     webhook/err/err.c -ljansson -lcrypto -o build/fuzz_bundle
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
	static const unsigned char artifact[] = "artifact\n";
	unsigned char dg[32], sig[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	pg_entry_expect x;
	pg_checkpoint cp;
	pg_sig_trust t;
	char *who = NULL;
	pg_err e;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		memset(&t, 0, sizeof(t));
		t.root = root;
		t.identity_regexp = ".*";
		t.tlog_required = true;
		(void)pg_sigstore_verify_bundle(&who, (const char *)data + 1, size - 1, artifact,
						sizeof(artifact) - 1, NULL, &t, &e);
		free(who);
		break;
	case 1:
		(void)pg_checkpoint_parse(&cp, (const char *)data + 1, size - 1, &e);
		break;
	default:
		(void)pg_sha256(dg, artifact, sizeof(artifact) - 1);
		memset(&x, 0, sizeof(x));
		x.sig = sig;
		x.sig_len = sizeof(sig);
		x.signer_der = sig;
		x.signer_der_len = sizeof(sig);
		x.digest = dg;
		(void)pg_entry_body_check(NULL, NULL, data + 1, size - 1, &x, &e);
		x.payload = artifact;
		x.payload_len = sizeof(artifact) - 1;
		x.pae_digest = dg;
		x.signer_is_cert = true;
		(void)pg_entry_body_check(NULL, NULL, data + 1, size - 1, &x, &e);
		break;
	}
	return 0;
}
