/*
 * libFuzzer target: the certificate extensions we read — SANs, the Fulcio
 * issuer OIDs (1.8 UTF8String, 1.1 raw), the embedded SCT list — and the
 * identity match on a DER certificate.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iwebhook \
 *     tests/fuzz/fuzz_cert_ext.c webhook/sigstore/[a-z]*.c webhook/buf/buf.c \
 *     webhook/err/err.c -ljansson -lcrypto -o build/fuzz_cert_ext
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "sigstore/sigstore_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static pg_trusted_root empty;
	char **sans = NULL, *iss = NULL, *who = NULL;
	size_t n = 0;
	X509 *c = NULL;
	pg_sig_trust t;
	pg_err e;

	if (pg_cert_from_der(&c, data, size, &e) != PG_OK)
		return 0;
	if (pg_cert_sans(&sans, &n, c) == PG_OK)
		pg_strv_free(sans, PG_SAN_MAX);
	if (pg_cert_fulcio_issuer(&iss, c) == PG_OK)
		free(iss);
	(void)pg_cert_self_signed(c);
	(void)pg_cert_valid_at(c, 1700000000);
	/* the leaf as its own issuer: parses the SCT list, finds no log */
	(void)pg_cert_verify_sct(&empty, c, c, &e);
	memset(&t, 0, sizeof(t));
	t.identity_regexp = "@";
	t.issuer_regexp = "^https://";
	(void)pg_cert_check_identity(&who, c, &t, &e);
	free(who);
	X509_free(c);
	return 0;
}
