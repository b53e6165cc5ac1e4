/*
 * buf — bounded growable buffers.  The bound is checked before any
 * allocation so hostile lengths cannot make us allocate first and fail later.
 */
#include "buf/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pg_buf_init(pg_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : PG_BUF_DEFAULT_MAX;
}

static int
reserve(pg_buf *b, size_t extra)
{
	size_t need, ncap;
	unsigned char *p;

	if (b->max == 0)
		b->max = PG_BUF_DEFAULT_MAX;
	if (extra > b->max || b->len > b->max - extra)
		return PG_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return PG_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (ncap < need)
		ncap = need;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return PG_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return PG_OK;
}

int
pg_buf_reserve(pg_buf *b, size_t n)
{
	return reserve(b, n);
}

int
pg_buf_append(pg_buf *b, const void *p, size_t n)
{
	int rc = reserve(b, n);

	if (rc != PG_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PG_OK;
}

int
pg_buf_puts(pg_buf *b, const char *s)
{
	return pg_buf_append(b, s, strlen(s));
}

int
pg_buf_printf(pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PG_EINVAL;
	rc = reserve(b, (size_t)n);
	if (rc != PG_OK)
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PG_OK;
}

int
pg_buf_detach(char **out, size_t *len_out, pg_buf *b)
{
	if (b->data == NULL) {
		b->data = malloc(1);
		if (b->data == NULL)
			return PG_ENOMEM;
		b->data[0] = '\0';
	}
	*out = (char *)b->data;
	if (len_out)
		*len_out = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return PG_OK;
}

void
pg_buf_reset(pg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
pg_buf_free(pg_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
pg_buf_read_file(char **out, size_t *len_out, const char *path, size_t max, pg_err *err)
{
	int rc = PG_EIO;
	FILE *f = NULL;
	pg_buf b;
	unsigned char chunk[16384];
	size_t n;

	pg_buf_init(&b, max);
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else if ((f = fopen(path, "rb")) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = pg_buf_append(&b, chunk, n);
		if (rc == PG_ETOOBIG) {
			pg_err_set(err, rc, "%s is larger than %zu bytes", path, b.max);
			goto out;
		} else if (rc != PG_OK) {
			pg_err_set(err, rc, "out of memory reading %s", path);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = pg_err_set(err, PG_EIO, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	rc = pg_buf_detach(out, len_out, &b);
out:
	if (f != NULL && f != stdin)
		fclose(f);
	pg_buf_free(&b);
	return rc;
}

char *
pg_strdup(const char *s)
{
	return s ? pg_strndup(s, strlen(s)) : NULL;
}

char *
pg_strndup(const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
pg_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
pg_wipe_free(char *s)
{
	if (s != NULL) {
		pg_wipe(s, strlen(s));
		free(s);
	}
}

void
pg_hex(char *out, const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
pg_utf8_decode(const unsigned char *p, size_t n, uint32_t *r)
{
	uint32_t c;
	size_t w, i;

	if (n == 0)
		return -1;
	c = p[0];
	if (c < 0x80) {
		*r = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		w = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		w = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		w = 4, c &= 0x07;
	else
		return -1;
	if (n < w)
		return -1;
	for (i = 1; i < w; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((w == 3 && c < 0x800) || (w == 4 && c < 0x10000) || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*r = c;
	return (int)w;
}

/* Replace, in place, every byte that does not belong to a well-formed UTF-8
 * sequence with '?': text cut at a byte bound (snprintf, "%.64s") or taken
 * from a registry's answer can end mid-character, and jansson refuses to
 * put such a string in JSON. */
void
pg_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = s ? strlen(s) : 0;

	while (n > 0) {
		uint32_t r;
		int w = pg_utf8_decode(p, n, &r);

		if (w < 0) {
			*p = '?';
			w = 1;
		}
		p += w;
		n -= (size_t)w;
	}
}

int
pg_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
