/*
 * buf/base64 — the one base64 codec (RFC 4648): every module that reads or
 * writes base64 (release Secrets, armor, registry credentials, sigstore and
 * Notation JSON, JSON patches) goes through here.  One alphabet: the decode
 * table is derived from the encoder's string once per process.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decode table: 0..63 for the standard alphabet; URL-safe '-' and '_' carry
 * URL_ONLY beside their value; -1 for anything else. */
#define URL_ONLY 64
static signed char dec[256];
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void
dec_init(void)
{
	size_t i;

	memset(dec, -1, sizeof(dec));
	for (i = 0; i < 64; i++)
		dec[(unsigned char)alphabet[i]] = (signed char)i;
	dec['-'] = URL_ONLY | 62;
	dec['_'] = URL_ONLY | 63;
}

/* Decode s[0..n) into o (room for n / 4 * 3 + 3 bytes), *olen bytes.  The
 * flags are buf.h's PG_B64_*. */
static int
decode(unsigned char *o, size_t *olen, const char *s, size_t n, unsigned flags)
{
	const int bad = flags & PG_B64_URLSAFE ? ~0x7f : ~0x3f;
	size_t i, k = 0, pad = 0, nchars = 0;
	uint32_t acc = 0;
	int bits = 0;

	(void)pthread_once(&dec_once, dec_init);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		/* Four alphabet characters on a quantum boundary are three bytes:
		 * the general step below, four times over, in one go. */
		if (bits == 0 && pad == 0 && n - i >= 4) {
			int a = dec[(unsigned char)s[i]], b = dec[(unsigned char)s[i + 1]];
			int d = dec[(unsigned char)s[i + 2]], e = dec[(unsigned char)s[i + 3]];

			if (((a | b | d | e) & bad) == 0) {
				uint32_t w = (uint32_t)(a & 63) << 18 | (uint32_t)(b & 63) << 12 |
					     (uint32_t)(d & 63) << 6 | (uint32_t)(e & 63);

				o[k++] = (unsigned char)(w >> 16);
				o[k++] = (unsigned char)(w >> 8);
				o[k++] = (unsigned char)w;
				nchars += 4;
				i += 3;
				continue;
			}
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (flags & PG_B64_NO_SPACE)
				return PG_EINVAL;
			continue;
		}
		if (c == '=') {
			if (flags & PG_B64_STOP_AT_PAD) {
				*olen = k;
				return PG_OK;
			}
			pad++;
			continue;
		}
		v = dec[c];
		if (pad || (v & bad) != 0)
			return PG_EINVAL; /* data after padding, or not in the alphabet */
		nchars++;
		acc = (acc << 6) | (uint32_t)(v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* One character left over never makes a byte. */
	if (nchars % 4 == 1 || pad > 2)
		return PG_EINVAL;
	if ((flags & PG_B64_STRICT) && (acc != 0 || (pad && (nchars + pad) % 4 != 0)))
		return PG_EINVAL;
	*olen = k;
	return PG_OK;
}

int
pg_base64_decode(pg_buf *out, const char *s, size_t n, unsigned flags)
{
	unsigned char *tmp;
	size_t k = 0;
	int rc;

	if ((tmp = malloc(n / 4 * 3 + 4)) == NULL)
		return PG_ENOMEM;
	rc = decode(tmp, &k, s, n, flags);
	if (rc == PG_OK)
		rc = pg_buf_append(out, tmp, k);
	free(tmp);
	return rc;
}

int
pg_base64_decode_alloc(unsigned char **out, size_t *out_len, const char *s, size_t n, size_t max,
		       unsigned flags)
{
	unsigned char *o;
	size_t k = 0;
	int rc;

	*out = NULL;
	*out_len = 0;
	/* Without whitespace the decoded size is known before decoding. */
	if ((flags & PG_B64_NO_SPACE) && n / 4 > max / 3 + 1)
		return PG_ETOOBIG;
	if ((o = malloc(n / 4 * 3 + 4)) == NULL)
		return PG_ENOMEM;
	rc = decode(o, &k, s, n, flags);
	if (rc == PG_OK && k > max)
		rc = PG_ETOOBIG;
	if (rc != PG_OK) {
		free(o);
		return rc;
	}
	o[k] = '\0';
	*out = o;
	*out_len = k;
	return PG_OK;
}

int
pg_base64_encode(pg_buf *out, const void *p, size_t n)
{
	const unsigned char *s = p;
	char q[4];
	size_t i;
	int rc;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? alphabet[v & 63] : '=';
		if ((rc = pg_buf_append(out, q, 4)) != PG_OK)
			return rc;
	}
	return PG_OK;
}

int
pg_base64_encode_alloc(char **out, const void *p, size_t n)
{
	pg_buf b;
	int rc;

	*out = NULL;
	if (n > (SIZE_MAX - 5) / 4 * 3)
		return PG_ETOOBIG;
	pg_buf_init(&b, n / 3 * 4 + 8);
	rc = pg_base64_encode(&b, p, n);
	if (rc == PG_OK)
		rc = pg_buf_detach(out, NULL, &b);
	pg_buf_free(&b);
	return rc;
}
