/*
 * libFuzzer target: trusted_root.json (validity windows, keys, chains).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iwebhook \
 *     tests/fuzz/fuzz_trusted_root.c webhook/sigstore/[a-z]*.c webhook/buf/buf.c \
 *     webhook/err/err.c -ljansson -lcrypto -o build/fuzz_trusted_root
 */
#include <stdint.h>

#include "sigstore/sigstore_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_trusted_root *r = NULL;
	pg_err e;

	if (pg_trusted_root_load(&r, (const char *)data, size, &e) == PG_OK) {
		size_t i;

		/* exercise lookups on whatever was accepted */
		for (i = 0; i < r->ntlogs; i++)
			(void)pg_trust_find_log(r->tlogs, r->ntlogs, r->tlogs[i].log_id,
						r->tlogs[i].log_id_len);
		for (i = 0; i < r->ncas; i++)
			(void)pg_trust_valid_at(r->cas[i].start, r->cas[i].end, r->cas[i].has_end,
						1700000000);
	}
	pg_trusted_root_free(r);
	return 0;
}
