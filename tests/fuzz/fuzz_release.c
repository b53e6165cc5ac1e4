/* libFuzzer target: release Secret decoding (base64, base64, gzip, JSON)
 * and the in-memory tar/gzip reader used to compare it with an archive. */
#include <stdint.h>
#include <stdlib.h>

#include "helm/helm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_helm_release *r = NULL;
	pg_helm_files f = {0};
	pg_buf b;

	if (pg_helm_release_decode(&r, (const char *)data, size, NULL) == PG_OK) {
		(void)pg_helm_release_chart_name(r);
		(void)pg_helm_release_match_archive(r, data, size, NULL);
	}
	pg_helm_release_free(r);
	{
		char *n = NULL, *v = NULL;

		if (pg_helm_chart_meta(&n, &v, data, size, NULL) == PG_OK &&
		    (n == NULL || v == NULL))
			abort(); /* both set on success */
		free(n);
		free(v);
	}
	if (pg_helm_untar(&f, data, size, NULL) == PG_OK)
		pg_helm_files_free(&f);
	pg_buf_init(&b, (size_t)1 << 20);
	(void)pg_helm_gunzip(&b, data, size, NULL);
	pg_buf_free(&b);
	return 0;
}
