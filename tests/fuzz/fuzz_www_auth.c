/*
 * libFuzzer target: the registry response-header parsers —
 * WWW-Authenticate challenges (oci_www_auth_parse, and
 * oci_www_auth_parse_headers over the bytes as a whole header block),
 * Link rel="next" (oci_link_next), Retry-After and RateLimit-* counts
 * (oci_ratelimit_value) — fed the same bytes.
 *
 * Build by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iwebhook \
 *     tests/fuzz/fuzz_www_auth.c webhook/buf/buf.c webhook/err/err.c \
 *     -o build/fuzz_www_auth
 *   build/fuzz_www_auth tests/fuzz/corpus/fuzz_www_auth
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../webhook/oci/header.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	oci_challenge ch;
	char *next = NULL;
	pg_err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (oci_www_auth_parse(&ch, s, &e) == PG_OK) {
		if (ch.scheme != OCI_AUTH_BEARER && ch.scheme != OCI_AUTH_BASIC)
			abort();
		if (ch.scheme == OCI_AUTH_BEARER && (ch.realm == NULL || ch.realm[0] == '\0'))
			abort();
		oci_challenge_clear(&ch);
	}
	/* The same bytes as a raw header block: every WWW-Authenticate line. */
	if (oci_www_auth_parse_headers(&ch, s, &e) == PG_OK) {
		if (ch.scheme != OCI_AUTH_BEARER && ch.scheme != OCI_AUTH_BASIC)
			abort();
		if (ch.scheme == OCI_AUTH_BEARER && (ch.realm == NULL || ch.realm[0] == '\0'))
			abort();
		if (strcasestr(s, "www-authenticate:") == NULL)
			abort();
		oci_challenge_clear(&ch);
	}
	if (oci_link_next(&next, s, &e) == PG_OK && next != NULL) {
		if (next[0] == '\0' || strchr(next, ' ') != NULL)
			abort();
		free(next);
	}
	if (oci_retry_after_s(s, 1) < 0 || oci_retry_after_s(s, 1) > 86400)
		abort();
	if (oci_ratelimit_value(s) < -1 || oci_ratelimit_value(s) > 1000000000000LL)
		abort();
	free(s);
	return 0;
}
