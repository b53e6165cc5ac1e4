/*
 * fuzz_notation_policy — libFuzzer target for notation's trust policy
 * documents (trustpolicy.oci.json / trustpolicy.blob.json: statements,
 * scopes, levels, overrides, store references, x509.subject identities).
 * The first input byte picks OCI (even) or blob (odd) rules; a loaded
 * document is then asked to select a statement.  Stores are not read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notation/notation_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_notation_config *c = NULL;
	const pg_notation_trust *t;
	char *s;
	nv_dn dn;
	pg_err err;

	if (size < 1)
		return 0;
	if (pg_notation_config_parse(&c, (const char *)data + 1, size - 1, data[0] % 2, &err) ==
	    PG_OK) {
		(void)pg_notation_config_select(&t, c, "registry.example/app", NULL, &err);
		(void)pg_notation_config_select(&t, c, "registry.example/app", "x", &err);
		pg_notation_config_free(c);
	}
	/* The DN parser on its own, as a NUL-terminated string. */
	if ((s = malloc(size)) != NULL) {
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		if (nv_dn_parse(&dn, s, data[0] % 2, &err) == PG_OK)
			nv_dn_free(&dn);
		free(s);
	}
	return 0;
}
