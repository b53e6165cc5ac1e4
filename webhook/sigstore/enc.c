/*
 * sigstore/enc — the small encodings every sigstore format uses (base64 is
 * buf's codec, see PG_SIGSTORE_B64): hex, RFC 3339 times,
 * int64s that proto3 JSON writes as strings.  Strict and bounded: a decoder
 * here never allocates more than its caller's limit.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

int
pg_unhex(unsigned char *out, size_t n, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * n)
		return PG_EINVAL;
	for (i = 0; i < n; i++) {
		int hi = pg_hex_digit(hex[2 * i]), lo = pg_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return PG_EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return PG_OK;
}

int64_t
pg_civil_to_epoch(int64_t y, int mon, int d, int h, int mi, int s)
{
	/* Howard Hinnant's days_from_civil. */
	int64_t era, yoe, doy, doe, m = mon;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s;
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
pg_time_parse(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, sec;
	const char *p;

	if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return PG_EINVAL;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return PG_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return PG_EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return PG_EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (!((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') && strcmp(p, "+00:00") != 0)
		return PG_EINVAL;
	*out = pg_civil_to_epoch(y, mo, d, h, mi, sec);
	return PG_OK;
}

int
pg_asn1_time_epoch(int64_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return PG_EINVAL;
	*out = pg_civil_to_epoch((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec);
	return PG_OK;
}

int
pg_der_take(unsigned char **out, size_t *out_len, unsigned char *p, int n)
{
	*out = NULL;
	if (n <= 0) {
		OPENSSL_free(p);
		return PG_EINTERNAL;
	}
	if ((*out = malloc((size_t)n)) == NULL) {
		OPENSSL_free(p);
		return PG_ENOMEM;
	}
	memcpy(*out, p, (size_t)n);
	*out_len = (size_t)n;
	OPENSSL_free(p);
	return PG_OK;
}
