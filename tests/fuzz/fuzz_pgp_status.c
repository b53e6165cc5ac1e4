/*
 * libFuzzer target: gpg's status lines as pgp/status.c reads them
 * (pg_pgp_status_parse).  What it checks beyond not crashing: a parse that
 * succeeds with a signature names a verdict and a key id of 16..64
 * upper-case hex digits, and a fingerprint that is empty or the same.
 *
 * Build by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iwebhook \
 *     tests/fuzz/fuzz_pgp_status.c -o build/fuzz_pgp_status
 *   build/fuzz_pgp_status tests/fuzz/corpus/fuzz_pgp_status
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../webhook/pgp/status.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_hex(const char *s, size_t min)
{
	size_t n = strlen(s), i;

	if (n < min || n > PG_PGP_FPR_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_pgp_status st;

	if (pg_pgp_status_parse(&st, (const char *)data, size) != PG_OK)
		return 0;
	if (st.nsigs > 0) {
		if (st.kind == PG_PGP_SIG_NONE)
			abort();
		check_hex(st.keyid, 16);
	} else if (st.kind != PG_PGP_SIG_NONE || st.keyid[0] != '\0') {
		abort();
	}
	if (st.fpr[0])
		check_hex(st.fpr, 16);
	if (st.primary[0])
		check_hex(st.primary, 16);
	return 0;
}
