/*
 * fuzz_notation_env — libFuzzer target for the Notation envelope parsers
 * and everything a parsed envelope reaches: the first input byte picks JWS
 * (even) or COSE (odd); the rest is the envelope.  It is parsed, then
 * verified whole under an audit-level policy (so every step runs: chain
 * rules, trusted identities, timestamp token, descriptor), and the CBOR
 * skipper walks the input on its own.  Any input must be judged or refused
 * with a message, never crash, leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notation/notation_int.h"

static pg_notation_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char doc[] =
	    "{\"version\":\"1.0\",\"trustPolicies\":[{\"name\":\"f\",\"registryScopes\":[\"*\"],"
	    "\"signatureVerification\":{\"level\":\"audit\"},\"trustStores\":[\"ca:a\",\"tsa:t\"],"
	    "\"trustedIdentities\":[\"x509.subject: C=US, ST=WA, O=Notary\"]}]}";

	(void)argc;
	(void)argv;
	(void)pg_notation_config_parse(&cfg, doc, sizeof(doc) - 1, false, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const pg_notation_trust *t = NULL;
	pg_notation_target tgt = {
	    "application/vnd.oci.image.manifest.v1+json",
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000", 2};
	pg_notation_kv kv = {"k", "v"};
	pg_notation_outcome o;
	nv_cbor c;
	nv_env e;
	pg_err err;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		if (nv_jws_parse(&e, data + 1, size - 1, &err) == PG_OK)
			nv_env_free(&e);
	} else {
		if (nv_cose_parse(&e, data + 1, size - 1, &err) == PG_OK)
			nv_env_free(&e);
		c.p = data + 1;
		c.end = data + size;
		while (nv_cbor_skip(&c, 0) == PG_OK && c.p < c.end)
			;
	}
	if (cfg && pg_notation_config_select(&t, cfg, "r.example/x", NULL, NULL) == PG_OK)
		(void)pg_notation_verify(&o, t,
					 data[0] % 2 ? PG_NOTATION_MT_COSE : PG_NOTATION_MT_JWS,
					 data + 1, size - 1, &tgt, &kv, 1, 1700000000, &err);
	return 0;
}
