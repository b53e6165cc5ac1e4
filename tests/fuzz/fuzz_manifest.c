/*
 * libFuzzer target: oci manifest / index parsing (pg_oci_manifest_parse),
 * the parser every registry response goes through.  The first byte picks
 * the Content-Type the "registry" claims; the rest is the body.
 *
 * Build by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iwebhook \
 *     tests/fuzz/fuzz_manifest.c webhook/buf/buf.c webhook/err/err.c \
 *     -ljansson -lcrypto -o build/fuzz_manifest
 *   build/fuzz_manifest tests/fuzz/corpus/fuzz_manifest
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../webhook/oci/manifest.c"

static const char *const types[] = {
    NULL,
    PG_OCI_MT_OCI_MANIFEST,
    PG_OCI_MT_OCI_INDEX,
    PG_OCI_MT_DOCKER_MANIFEST,
    PG_OCI_MT_DOCKER_LIST "; charset=utf-8",
    "text/plain",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_oci_manifest *m = NULL;
	pg_err e;
	const char *ct;
	size_t i, n;

	if (size < 1)
		return 0;
	ct = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	if (pg_oci_manifest_parse(&m, (const char *)data + 1, size - 1, ct, &e) != PG_OK)
		return 0;
	/* Touch everything a caller would. */
	n = pg_oci_manifest_count(m);
	for (i = 0; i < n; i++) {
		const pg_oci_desc *d = pg_oci_manifest_desc(m, i);

		if (!pg_digest_string_valid(d->digest) || strlen(d->media_type) == 0 || d->size < 0)
			abort();
	}
	if (pg_oci_manifest_is_index(m) == (pg_oci_manifest_config(m) != NULL))
		abort();
	if (!pg_oci__digest_matches(pg_oci_manifest_digest(m), data + 1, size - 1))
		abort();
	(void)pg_oci_manifest_subject(m);
	(void)pg_oci_manifest_artifact_type(m);
	pg_oci_manifest_free(m);
	return 0;
}
