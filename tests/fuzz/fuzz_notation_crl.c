/*
 * fuzz_notation_crl — libFuzzer target for the CRL bytes Notation
 * revocation takes from a distribution point (verify/crl.c hands them to
 * notation/ unjudged): the nextUpdate the cache keys on, the PEM/DER
 * reader, and what revocation reads of each CRL found (issuer, times, the
 * signature against a fixed key, a serial lookup).  Any input must be read
 * or refused, never crash, leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "notation/notation_int.h"

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	key = EVP_EC_gen("P-256");
	return key ? 0 : 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509_CRL) *s = sk_X509_CRL_new_null();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	int64_t t;
	int i;

	(void)pg_notation_crl_next_update(&t, data, size);
	if (s != NULL && serial != NULL && size <= INT32_MAX &&
	    nv_crls_add(s, data, size) == PG_OK) {
		(void)ASN1_INTEGER_set(serial, 0x1000);
		for (i = 0; i < sk_X509_CRL_num(s); i++) {
			X509_CRL *c = sk_X509_CRL_value(s, i);
			X509_REVOKED *rv = NULL;

			(void)X509_NAME_cmp(X509_CRL_get_issuer(c), X509_CRL_get_issuer(c));
			(void)nv_asn1_time(&t, X509_CRL_get0_lastUpdate(c));
			if (X509_CRL_get0_nextUpdate(c) != NULL)
				(void)nv_asn1_time(&t, X509_CRL_get0_nextUpdate(c));
			(void)X509_CRL_verify(c, key);
			(void)X509_CRL_get0_by_serial(c, &rv, serial);
		}
	}
	sk_X509_CRL_pop_free(s, X509_CRL_free);
	ASN1_INTEGER_free(serial);
	ERR_clear_error();
	return 0;
}
