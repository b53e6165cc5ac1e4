/*
 * pgp/armor — ASCII armor and clearsign framing (RFC 4880 §6, §7), parsed
 * here rather than by gpg so that what gpg is given is always one
 * well-formed clearsigned block with a correct CRC line.  Pure byte work:
 * no gpgme, no allocation beyond the caller's pg_buf.
 */
#include "pgp/pgp_int.h"

#include <stdio.h>
#include <string.h>

#define BEGIN_SIGNED "-----BEGIN PGP SIGNED MESSAGE-----"
#define BEGIN_SIG "-----BEGIN PGP SIGNATURE-----"
#define END_SIG "-----END PGP SIGNATURE-----"
/* Go's clearsign accepts any number of Hash headers; real files have one. */
#define MAX_HEADERS 16
/* Base64 characters per armor line, as gpg writes them. */
#define ARMOR_LINE 64

uint32_t
pg_pgp_crc24(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xB704CEu;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 16;
		for (b = 0; b < 8; b++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

/* One line of [p, end): sets *l and *ll (without "\n" and a trailing "\r")
 * and returns the start of the next line (end when none). */
static const char *
next_line(const char *p, const char *end, const char **l, size_t *ll)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;

	*l = p;
	*ll = (size_t)(e - p);
	if (*ll > 0 && p[*ll - 1] == '\r')
		(*ll)--;
	return nl ? nl + 1 : end;
}

/* Line equal to marker, ignoring trailing blanks (Go trims them too). */
static int
line_is(const char *l, size_t ll, const char *marker)
{
	size_t ml = strlen(marker);

	while (ll > 0 && (l[ll - 1] == ' ' || l[ll - 1] == '\t'))
		ll--;
	return ll == ml && memcmp(l, marker, ml) == 0;
}

int
pg_pgp_is_armored(const unsigned char *data, size_t n)
{
	size_t i = 0;

	while (i < n && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	/* A binary packet always has the top bit of its first byte set. */
	return i < n && (data[i] & 0x80) == 0 && n - i >= 5 && memcmp(data + i, "-----", 5) == 0;
}

/*
 * Decode the armor body starting at p (just after a BEGIN line): armor
 * headers, blank line, base64, optional =CRC, END line.  Appends the packets
 * to out and returns where parsing stopped via *next.
 */
static int
armor_body(pg_buf *out, const char *p, const char *end, const char *endmark, const char **next)
{
	const char *l, *b64 = NULL, *b64end = NULL;
	size_t ll;
	int rc;

	/* Headers ("Key: value") up to a blank line.  A body without the blank
	 * line is tolerated when its first line is not a header (gpg does). */
	while (p < end) {
		const char *q = next_line(p, end, &l, &ll);

		if (ll == 0) {
			p = q;
			break;
		}
		if (memchr(l, ':', ll) == NULL)
			break;
		p = q;
	}
	b64 = p;
	b64end = p;
	while (p < end) {
		const char *q = next_line(p, end, &l, &ll);

		if (line_is(l, ll, endmark)) {
			rc = pg_base64_decode(out, b64, (size_t)(b64end - b64), PG_B64_STOP_AT_PAD);
			*next = q;
			return rc;
		}
		if (ll > 0 && l[0] == '=') {
			/* The CRC line: only the END line may follow. */
			p = q;
			if (p >= end)
				break;
			q = next_line(p, end, &l, &ll);
			if (!line_is(l, ll, endmark))
				return PG_EINVAL;
			rc = pg_base64_decode(out, b64, (size_t)(b64end - b64), PG_B64_STOP_AT_PAD);
			*next = q;
			return rc;
		}
		b64end = l + ll;
		p = q;
	}
	return PG_EINVAL;
}

int
pg_pgp_dearmor_all(pg_buf *out, const char *text, size_t n, const char *label)
{
	char begin[64], endm[64];
	const char *p = text, *end = text + n, *l;
	size_t ll;
	int blocks = 0, rc;

	if ((size_t)snprintf(begin, sizeof(begin), "-----BEGIN PGP %s-----", label) >=
		sizeof(begin) ||
	    (size_t)snprintf(endm, sizeof(endm), "-----END PGP %s-----", label) >= sizeof(endm))
		return PG_EINVAL;
	while (p < end) {
		p = next_line(p, end, &l, &ll);
		if (!line_is(l, ll, begin))
			continue;
		if ((rc = armor_body(out, p, end, endm, &p)) != PG_OK)
			return rc;
		blocks++;
	}
	return blocks;
}

static int
notfound(pg_err *err)
{
	return pg_err_set(err, PG_EINVAL, "signature block not found");
}

int
pg_pgp_clearsign_normalize(pg_buf *out, const char *msg, size_t n, pg_err *err)
{
	const char *p = msg, *end = msg + n, *l, *text, *text_end;
	const char *hdr[MAX_HEADERS];
	size_t hdrlen[MAX_HEADERS], nhdr = 0, ll, i;
	pg_buf sig;
	int rc = PG_EINVAL, found = 0;
	uint32_t crc;
	unsigned char crcb[3];
	pg_buf b64;

	pg_buf_init(&sig, PG_PGP_SIG_MAX);
	pg_buf_init(&b64, 2 * PG_PGP_SIG_MAX);
	if (memchr(msg, '\0', n) != NULL) {
		rc = notfound(err);
		goto out;
	}
	while (p < end) {
		p = next_line(p, end, &l, &ll);
		if (line_is(l, ll, BEGIN_SIGNED)) {
			found = 1;
			break;
		}
	}
	if (!found) {
		rc = notfound(err);
		goto out;
	}
	/* Armor headers of the cleartext: only "Hash" is legal (go-crypto
	 * rejects the rest, and so does RFC 4880 §7). */
	for (;;) {
		if (p >= end) {
			rc = notfound(err);
			goto out;
		}
		p = next_line(p, end, &l, &ll);
		if (ll == 0)
			break;
		if (nhdr == MAX_HEADERS || ll < 6 || memcmp(l, "Hash: ", 6) != 0) {
			rc = notfound(err);
			goto out;
		}
		hdr[nhdr] = l;
		hdrlen[nhdr++] = ll;
	}
	text = p;
	text_end = NULL;
	while (p < end) {
		const char *q = next_line(p, end, &l, &ll);

		if (line_is(l, ll, BEGIN_SIG)) {
			text_end = p;
			p = q;
			break;
		}
		p = q;
	}
	if (text_end == NULL) {
		rc = notfound(err);
		goto out;
	}
	rc = armor_body(&sig, p, end, END_SIG, &p);
	if (rc != PG_OK || sig.len == 0) {
		rc = rc == PG_ETOOBIG
			 ? pg_err_set(err, PG_ETOOBIG, "signature larger than %zu bytes",
				      (size_t)PG_PGP_SIG_MAX)
			 : pg_err_set(err, PG_EINVAL, "signature block not found: malformed armor");
		goto out;
	}
	/* Rebuild: what gpg sees is exactly one block, in the plainest form. */
	rc = pg_buf_puts(out, BEGIN_SIGNED "\n");
	for (i = 0; rc == PG_OK && i < nhdr; i++) {
		rc = pg_buf_append(out, hdr[i], hdrlen[i]);
		if (rc == PG_OK)
			rc = pg_buf_puts(out, "\n");
	}
	if (rc == PG_OK)
		rc = pg_buf_puts(out, "\n");
	for (p = text; rc == PG_OK && p < text_end;) {
		p = next_line(p, text_end, &l, &ll);
		rc = pg_buf_append(out, l, ll);
		if (rc == PG_OK)
			rc = pg_buf_puts(out, "\n");
	}
	if (rc == PG_OK)
		rc = pg_buf_puts(out, BEGIN_SIG "\n\n");
	/* The signature in lines of 64 base64 characters, then "=" and the
	 * CRC-24 in base64 (RFC 4880 §6.2). */
	if (rc == PG_OK)
		rc = pg_base64_encode(&b64, sig.data, sig.len);
	for (i = 0; rc == PG_OK && i < b64.len; i += ARMOR_LINE) {
		rc = pg_buf_append(out, b64.data + i,
				   b64.len - i < ARMOR_LINE ? b64.len - i : ARMOR_LINE);
		if (rc == PG_OK && i + ARMOR_LINE < b64.len)
			rc = pg_buf_puts(out, "\n");
	}
	crc = pg_pgp_crc24(sig.data, sig.len);
	crcb[0] = (unsigned char)(crc >> 16);
	crcb[1] = (unsigned char)(crc >> 8);
	crcb[2] = (unsigned char)crc;
	pg_buf_reset(&b64);
	if (rc == PG_OK)
		rc = pg_base64_encode(&b64, crcb, sizeof(crcb));
	if (rc == PG_OK)
		rc = pg_buf_printf(out, "\n=%.*s\n" END_SIG "\n", (int)b64.len,
				   (const char *)b64.data);
	if (rc != PG_OK)
		rc = pg_err_set(err, rc,
				rc == PG_ETOOBIG ? "provenance too large" : "out of memory");
out:
	pg_buf_free(&sig);
	pg_buf_free(&b64);
	return rc;
}
