/*
 * buf/jsonw — JSON written straight into a bounded buffer (jsonw.h).
 * Strings go out in runs: bytes that need no escape (printable ASCII but
 * '"' and '\\', well-formed UTF-8 sequences) are copied in one append per
 * run, so a typical string is one memcpy.
 */
#include "buf/jsonw.h"

#include <stdio.h>
#include <string.h>

void
pg_jw_init(pg_jw *w, pg_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static void
put(pg_jw *w, const char *s, size_t n)
{
	if (w->rc == PG_OK)
		w->rc = pg_buf_append(w->b, s, n);
}

/* Before a value or a key: the comma when the container already has a
 * member (not between a key and its value). */
static void
sep(pg_jw *w)
{
	uint32_t bit;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	bit = 1u << (w->depth - 1);
	if (w->more & bit)
		put(w, ",", 1);
	w->more |= bit;
}

static void
jw_open(pg_jw *w, char c, bool arr)
{
	uint32_t bit;

	sep(w);
	if (w->rc != PG_OK)
		return;
	if (w->depth >= PG_JW_DEPTH) {
		w->rc = PG_EINVAL;
		return;
	}
	put(w, &c, 1);
	bit = 1u << w->depth;
	w->depth++;
	w->more &= ~bit;
	w->arr = arr ? w->arr | bit : w->arr & ~bit;
}

void
pg_jw_obj(pg_jw *w)
{
	jw_open(w, '{', false);
}

void
pg_jw_arr(pg_jw *w)
{
	jw_open(w, '[', true);
}

void
pg_jw_end(pg_jw *w)
{
	if (w->rc != PG_OK)
		return;
	if (w->depth == 0 || w->after_key) {
		w->rc = PG_EINVAL;
		return;
	}
	w->depth--;
	put(w, (w->arr >> w->depth) & 1u ? "]" : "}", 1);
}

int
pg_json_escape(pg_buf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int rc;

	while (i < n) {
		unsigned char c = p[i];
		char esc[6];
		size_t elen = 2;
		uint32_t r;
		int wd;

		if (c >= 0x20 && c != '"' && c != '\\') {
			if (c < 0x80) {
				i++;
				continue;
			}
			if ((wd = pg_utf8_decode(p + i, n - i, &r)) > 0) {
				i += (size_t)wd;
				continue;
			}
		}
		if (i > run && (rc = pg_buf_append(b, p + run, i - run)) != PG_OK)
			return rc;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			if (c >= 0x80) { /* not well-formed UTF-8 */
				esc[0] = '?';
				elen = 1;
			} else {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hexd[c >> 4];
				esc[5] = hexd[c & 15];
				elen = 6;
			}
		}
		if ((rc = pg_buf_append(b, esc, elen)) != PG_OK)
			return rc;
		run = ++i;
	}
	if (i > run)
		return pg_buf_append(b, p + run, i - run);
	return PG_OK;
}

void
pg_jw_strn(pg_jw *w, const char *s, size_t n)
{
	sep(w);
	put(w, "\"", 1);
	if (w->rc == PG_OK)
		w->rc = pg_json_escape(w->b, s, n);
	put(w, "\"", 1);
}

void
pg_jw_str(pg_jw *w, const char *s)
{
	if (s == NULL)
		pg_jw_null(w);
	else
		pg_jw_strn(w, s, strlen(s));
}

void
pg_jw_key(pg_jw *w, const char *k)
{
	if (w->rc == PG_OK && (w->depth == 0 || (w->arr >> (w->depth - 1)) & 1u || w->after_key)) {
		w->rc = PG_EINVAL;
		return;
	}
	pg_jw_strn(w, k, strlen(k));
	put(w, ":", 1);
	w->after_key = true;
}

void
pg_jw_bool(pg_jw *w, bool v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
pg_jw_null(pg_jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void
pg_jw_int(pg_jw *w, long long v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%lld", v);

	sep(w);
	put(w, t, (size_t)n);
}

void
pg_jw_millis(pg_jw *w, int64_t us)
{
	char t[32];
	uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
	/* at most 22 bytes: "-18446744073709551.616" */
	int n = snprintf(t, sizeof(t), "%s%llu.%03llu", us < 0 ? "-" : "",
			 (unsigned long long)(mag / 1000), (unsigned long long)(mag % 1000));

	sep(w);
	put(w, t, (size_t)n);
}

void
pg_jw_kstr(pg_jw *w, const char *k, const char *s)
{
	pg_jw_key(w, k);
	pg_jw_str(w, s);
}

void
pg_jw_kbool(pg_jw *w, const char *k, bool v)
{
	pg_jw_key(w, k);
	pg_jw_bool(w, v);
}

void
pg_jw_kint(pg_jw *w, const char *k, long long v)
{
	pg_jw_key(w, k);
	pg_jw_int(w, v);
}
