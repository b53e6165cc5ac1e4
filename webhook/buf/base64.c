/*
 * buf/base64 — the one base64 decoder: every module that reads base64
 * (release Secrets, armor, registry credentials, sigstore JSON) decodes
 * through here into a bounded pg_buf.
 */
#include "buf/buf.h"

static int
b64val(unsigned char c, unsigned flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || (c == '-' && (flags & PG_B64_URLSAFE)))
		return 62;
	if (c == '/' || (c == '_' && (flags & PG_B64_URLSAFE)))
		return 63;
	return -1;
}

int
pg_base64_decode(pg_buf *out, const char *s, size_t n, unsigned flags)
{
	uint32_t acc = 0;
	int bits = 0, v, rc;
	size_t i, pad = 0;
	unsigned char b;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (flags & PG_B64_NO_SPACE)
				return PG_EINVAL;
			continue;
		}
		if (c == '=') {
			if (flags & PG_B64_STOP_AT_PAD)
				return PG_OK;
			pad++;
			continue;
		}
		if (pad || (v = b64val(c, flags)) < 0)
			return PG_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b = (unsigned char)(acc >> bits);
			if ((rc = pg_buf_append(out, &b, 1)) != PG_OK)
				return rc;
		}
	}
	return pad > 2 || bits >= 6 ? PG_EINVAL : PG_OK;
}

int
pg_base64_encode(pg_buf *out, const void *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		if ((rc = pg_buf_append(out, q, 4)) != PG_OK)
			return rc;
	}
	return PG_OK;
}
