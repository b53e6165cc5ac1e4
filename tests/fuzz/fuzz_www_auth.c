/*
 * libFuzzer target: the registry response-header parsers —
 * WWW-Authenticate challenges (pg_oci__www_auth_parse, and
 * pg_oci__www_auth_parse_headers over the bytes as a whole header block),
 * Link rel="next" (pg_oci__link_next), Retry-After and RateLimit-* counts
 * (pg_oci__ratelimit_value) — fed the same bytes.
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
	pg_oci__challenge ch;
	char *next = NULL;
	pg_err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pg_oci__www_auth_parse(&ch, s, &e) == PG_OK) {
		if (ch.scheme != PG_OCI__AUTH_BEARER && ch.scheme != PG_OCI__AUTH_BASIC)
			abort();
		if (ch.scheme == PG_OCI__AUTH_BEARER && (ch.realm == NULL || ch.realm[0] == '\0'))
			abort();
		pg_oci__challenge_clear(&ch);
	}
	/* The same bytes as a raw header block: every WWW-Authenticate line. */
	if (pg_oci__www_auth_parse_headers(&ch, s, &e) == PG_OK) {
		if (ch.scheme != PG_OCI__AUTH_BEARER && ch.scheme != PG_OCI__AUTH_BASIC)
			abort();
		if (ch.scheme == PG_OCI__AUTH_BEARER && (ch.realm == NULL || ch.realm[0] == '\0'))
			abort();
		if (strcasestr(s, "www-authenticate:") == NULL)
			abort();
		pg_oci__challenge_clear(&ch);
	}
	if (pg_oci__link_next(&next, s, &e) == PG_OK && next != NULL) {
		if (next[0] == '\0' || strchr(next, ' ') != NULL)
			abort();
		free(next);
	}
	if (pg_oci__retry_after_s(s, 1) < 0 || pg_oci__retry_after_s(s, 1) > 86400)
		abort();
	if (pg_oci__ratelimit_value(s) < -1 || pg_oci__ratelimit_value(s) > 1000000000000LL)
		abort();
	free(s);
	return 0;
}
