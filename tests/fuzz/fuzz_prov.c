/* libFuzzer target: .prov framing and plaintext — the clearsign normaliser
 * that decides what gpg sees, and the plaintext split + files: map. */
#include <stddef.h>
#include <stdint.h>

#include "helm/helm.h"
#include "pgp/pgp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_buf b;
	pg_helm_prov *p = NULL;

	pg_buf_init(&b, PG_PGP_MESSAGE_MAX + 1024);
	(void)pg_pgp_clearsign_normalize(&b, (const char *)data, size, NULL);
	pg_buf_free(&b);
	if (pg_helm_prov_parse(&p, (const char *)data, size, NULL) == PG_OK)
		(void)pg_helm_prov_sum(p, "x-1.0.0.tgz");
	pg_helm_prov_free(p);
	return 0;
}
