/*
 * buf/jsonw — JSON text written straight into a bounded pg_buf, without
 * building a tree first: the AdmissionReview response and the admission-log
 * line, once per review.
 *
 * The text is what jansson's json_dumps(JSON_COMPACT) writes for the same
 * members in the same order: no spaces; strings escaped exactly as jansson
 * escapes them ('"', '\\', \b \f \n \r \t, other control characters as
 * \u00XX in upper-case hex; '/', DEL and every non-ASCII character
 * verbatim).  Durations are exact decimals (pg_jw_millis), not reals.  A byte that
 * is not part of well-formed UTF-8 (Go's rules: no overlong forms, no
 * surrogates, nothing above U+10FFFF) is written as '?', where jansson
 * would refuse the string.
 *
 * Errors are sticky: the first failure (PG_ETOOBIG past the buffer's bound,
 * PG_ENOMEM, PG_EINVAL for nesting past PG_JW_DEPTH or a close that does
 * not match) is kept in w->rc and every later call does nothing.  Commas
 * and colons are the writer's: call key then a value inside an object, a
 * value at a time inside an array.
 */
#ifndef PG_BUF_JSONW_H
#define PG_BUF_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"

#define PG_JW_DEPTH 32

typedef struct pg_jw {
	pg_buf *b;
	int rc;		/* PG_OK or the first error */
	unsigned depth; /* containers open */
	uint32_t more;	/* bit per depth: a member was written there */
	uint32_t arr;	/* bit per depth: that container is an array */
	bool after_key; /* a key was written, its value comes next */
} pg_jw;

/* Start writing at the end of b (which keeps its contents and bound). */
void pg_jw_init(pg_jw *w, pg_buf *b);

void pg_jw_obj(pg_jw *w); /* '{' */
void pg_jw_arr(pg_jw *w); /* '[' */
void pg_jw_end(pg_jw *w); /* the '}' or ']' of the innermost one open */

/* An object member's key (escaped like a string). */
void pg_jw_key(pg_jw *w, const char *k);

/* Values.  pg_jw_str of NULL writes null. */
void pg_jw_str(pg_jw *w, const char *s);
void pg_jw_strn(pg_jw *w, const char *s, size_t n);
void pg_jw_bool(pg_jw *w, bool v);
void pg_jw_int(pg_jw *w, long long v);
/* A duration of us microseconds as milliseconds with exactly three
 * decimals (89 -> 0.089, -1500 -> -1.500): decimal, so never printed as
 * 0.088999999999999996 the way a double would be. */
void pg_jw_millis(pg_jw *w, int64_t us);
void pg_jw_null(pg_jw *w);

/* key then value, the common case. */
void pg_jw_kstr(pg_jw *w, const char *k, const char *s);
void pg_jw_kbool(pg_jw *w, const char *k, bool v);
void pg_jw_kint(pg_jw *w, const char *k, long long v);

/* The escaped body of the string s (n bytes), without quotes, appended to
 * b: what pg_jw_strn writes between its quotes.  PG_ETOOBIG, PG_ENOMEM. */
int pg_json_escape(pg_buf *b, const char *s, size_t n);

#endif
