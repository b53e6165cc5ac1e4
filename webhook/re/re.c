/*
 * re — see re.h.  The checker is a small recursive-descent reading of the
 * ERE grammar that computes, with saturating arithmetic, how many nodes
 * glibc's parser would build once every repetition is copied out.
 */
#include "re/re.h"

#include <stddef.h>
#include <string.h>

typedef struct {
	const char *p;
	pg_err *err;
	int rc;
} rp;

static size_t
sat_add(size_t a, size_t b)
{
	return a > PG_RE_MAX_NODES || b > PG_RE_MAX_NODES ? PG_RE_MAX_NODES + 1 : a + b;
}

static size_t
sat_mul(size_t a, size_t b)
{
	if (a == 0 || b == 0)
		return 0;
	return a > (PG_RE_MAX_NODES + 1) / b ? PG_RE_MAX_NODES + 1 : a * b;
}

static void
re_fail(rp *r, const char *what)
{
	if (r->rc == PG_OK)
		r->rc = pg_err_set(r->err, PG_EINVAL, "%s", what);
}

/* "{m}", "{m,}", "{m,n}" or "{,n}" at p: 1 and the bounds (max -1 when
 * open), else 0 (then `{` is an ordinary character). */
static int
interval(const char *p, long *min, long *max, const char **end)
{
	long a = -1, b = -1;

	if (*p++ != '{')
		return 0;
	if (*p >= '0' && *p <= '9')
		for (a = 0; *p >= '0' && *p <= '9'; p++)
			a = a > 100000 ? a : a * 10 + (*p - '0');
	if (*p == ',') {
		p++;
		if (*p >= '0' && *p <= '9')
			for (b = 0; *p >= '0' && *p <= '9'; p++)
				b = b > 100000 ? b : b * 10 + (*p - '0');
	} else {
		b = a;
	}
	if (*p != '}' || (a < 0 && b < 0))
		return 0;
	*min = a < 0 ? 0 : a;
	*max = b;
	*end = p + 1;
	return 1;
}

static size_t alternation(rp *r, int depth);

/* A bracket expression, p just past '['. */
static void
bracket(rp *r)
{
	const char *p = r->p;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];

			p += 2;
			while (*p && !(p[0] == close && p[1] == ']'))
				p++;
			if (*p == '\0')
				break;
			p += 2;
			continue;
		}
		p++;
	}
	if (*p != ']') {
		re_fail(r, "unterminated [ ] in regular expression");
		r->p = p;
		return;
	}
	r->p = p + 1;
}

static int
is_repeat(const char *p)
{
	long a, b;
	const char *e;

	return *p == '*' || *p == '+' || *p == '?' || (*p == '{' && interval(p, &a, &b, &e));
}

/* One atom and the repetitions after it; returns its expanded size. */
static size_t
piece(rp *r, int depth)
{
	size_t n = 1;
	int repeated = 0;

	switch (*r->p) {
	case '(':
		if (depth >= PG_RE_MAX_DEPTH) {
			re_fail(r, "regular expression nests groups too deeply");
			return 0;
		}
		r->p++;
		if (*r->p == '?') {
			re_fail(r, "(?...) groups (Go or Perl flags, non-capturing) are not supported in regular expressions");
			return 0;
		}
		n = sat_add(alternation(r, depth + 1), 1);
		if (r->rc != PG_OK)
			return 0;
		if (*r->p != ')') {
			re_fail(r, "missing ) in regular expression");
			return 0;
		}
		r->p++;
		break;
	case '[':
		r->p++;
		bracket(r);
		break;
	case '\\':
		r->p++;
		if (*r->p == '\0') {
			re_fail(r, "trailing \\ in regular expression");
			return 0;
		}
		if (*r->p >= '1' && *r->p <= '9') {
			re_fail(r, "back-references (\\1-\\9) are not supported in regular expressions");
			return 0;
		}
		r->p++;
		break;
	default:
		if (is_repeat(r->p)) {
			re_fail(r, "missing argument to a repetition operator in regular expression");
			return 0;
		}
		r->p++;
		break;
	}
	while (r->rc == PG_OK && is_repeat(r->p)) {
		long min = 0, max = 0;
		const char *end;

		if (repeated) {
			re_fail(r, "invalid nested repetition operator in regular expression");
			return 0;
		}
		repeated = 1;
		switch (*r->p) {
		case '*':
		case '?':
			n = sat_add(n, 1);
			r->p++;
			break;
		case '+':
			n = sat_add(sat_mul(n, 2), 1);
			r->p++;
			break;
		default:
			(void)interval(r->p, &min, &max, &end);
			if (min > PG_RE_MAX_REPEAT || max > PG_RE_MAX_REPEAT) {
				re_fail(r, "repetition count above 1000 in regular expression");
				return 0;
			}
			if (max >= 0 && max < min) {
				re_fail(r, "invalid repetition range in regular expression");
				return 0;
			}
			n = sat_add(sat_mul(n, (size_t)(max < 0 ? min + 1 : (max > 0 ? max : 1))), 1);
			r->p = end;
			break;
		}
		/* One `?` after a repetition makes it lazy (Go): same matches. */
		if (*r->p == '?')
			r->p++;
	}
	return n;
}

static size_t
sequence(rp *r, int depth)
{
	size_t n = 1;

	while (r->rc == PG_OK && *r->p && *r->p != '|' && *r->p != ')')
		n = sat_add(n, piece(r, depth));
	return n;
}

static size_t
alternation(rp *r, int depth)
{
	size_t n = sequence(r, depth);

	while (r->rc == PG_OK && *r->p == '|') {
		r->p++;
		n = sat_add(n, sat_add(sequence(r, depth), 1));
	}
	return n;
}

int
pg_re_check(const char *re, pg_err *err)
{
	rp r = {.p = re, .err = err, .rc = PG_OK};
	size_t n;

	if (strlen(re) > PG_RE_MAX_LEN)
		return pg_err_set(err, PG_EINVAL, "regular expression longer than %d bytes",
				  PG_RE_MAX_LEN);
	n = alternation(&r, 0);
	if (r.rc != PG_OK)
		return r.rc;
	if (*r.p == ')') /* glibc would take it literally, Go refuses it */
		return pg_err_set(err, PG_EINVAL, "unmatched ) in regular expression");
	if (n > PG_RE_MAX_NODES)
		return pg_err_set(err, PG_EINVAL,
				  "regular expression too large once its repetitions are expanded (limit %d)",
				  PG_RE_MAX_NODES);
	return PG_OK;
}

int
pg_re_compile(regex_t *rx, const char *re, pg_err *err)
{
	char why[128];
	int rc = pg_re_check(re, err);

	if (rc != PG_OK)
		return rc;
	rc = regcomp(rx, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		(void)regerror(rc, rx, why, sizeof(why));
		return pg_err_set(err, PG_EINVAL, "%s", why);
	}
	return PG_OK;
}

int
pg_re_find(const char *re, const char *s, bool *match, pg_err *err)
{
	regex_t rx;
	int rc = pg_re_compile(&rx, re, err);

	if (rc != PG_OK)
		return rc;
	*match = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return PG_OK;
}
