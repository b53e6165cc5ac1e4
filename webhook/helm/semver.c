/*
 * helm/semver — versions and constraints with the semantics of
 * Masterminds/semver v3, which Helm uses to pick a chart version from an
 * index (`--version "^1.2"`).  Written from its documented behaviour: loose
 * versions ("1", "v1.2"), x, X and * wildcards that make a constraint "dirty",
 * prereleases excluded unless the constraint itself names one.
 */
#include "helm/helm_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A constraint string longer than this is not something a person wrote. */
#define CONSTRAINT_MAX 1024
/* AND terms in one constraint. */
#define TERMS_MAX 64
#define PRE_MAX 256

typedef struct ver {
	uint64_t major, minor, patch;
	char pre[PRE_MAX]; /* "" when none */
} ver;

enum op { OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_TILDE, OP_CARET };

typedef struct term {
	enum op op;
	ver con;
	int dirty, minor_dirty, patch_dirty;
} term;

static int
is_x(const char *s, size_t n)
{
	return n == 1 && (s[0] == 'x' || s[0] == 'X' || s[0] == '*');
}

static int
parse_num(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
ident_ok(const char *s, size_t n, int pre)
{
	size_t i, start = 0;

	if (n == 0)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t len = i - start, j;
			int num = 1;

			if (len == 0)
				return 0;
			for (j = start; j < i; j++)
				if (!isdigit((unsigned char)s[j]))
					num = 0;
			/* semver: numeric prerelease identifiers have no leading zero */
			if (pre && num && len > 1 && s[start] == '0')
				return 0;
			start = i + 1;
		} else if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
			return 0;
		}
	}
	return 1;
}

/* Split "v?A(.B)?(.C)?(-pre)?(+build)?"; parts may be wildcards when
 * allow_x.  Returns 0 and fills pointers, or -1. */
typedef struct vparts {
	const char *p[3];
	size_t n[3];
	size_t count;
	const char *pre;
	size_t pre_n;
} vparts;

static int
split_version(vparts *vp, const char *s, size_t n, int allow_x)
{
	size_t i = 0, k;

	memset(vp, 0, sizeof(*vp));
	if (i < n && (s[i] == 'v' || s[i] == 'V'))
		i++;
	for (k = 0; k < 3; k++) {
		size_t st = i;

		if (k > 0) {
			if (i >= n || s[i] != '.')
				break;
			st = ++i;
		}
		while (i < n && (isdigit((unsigned char)s[i]) ||
				 (allow_x && (s[i] == 'x' || s[i] == 'X' || s[i] == '*'))))
			i++;
		if (i == st)
			return -1;
		vp->p[k] = s + st;
		vp->n[k] = i - st;
		vp->count++;
	}
	if (i < n && s[i] == '-') {
		size_t st = ++i;

		while (i < n && s[i] != '+')
			i++;
		if (!ident_ok(s + st, i - st, 1) || i - st >= PRE_MAX)
			return -1;
		vp->pre = s + st;
		vp->pre_n = i - st;
	}
	if (i < n && s[i] == '+') {
		if (!ident_ok(s + i + 1, n - i - 1, 0))
			return -1;
		i = n;
	}
	return i == n && vp->count > 0 ? 0 : -1;
}

static int
parse_ver(ver *v, const char *s, size_t n)
{
	vparts vp;
	uint64_t *f[3] = {&v->major, &v->minor, &v->patch};
	size_t k;

	memset(v, 0, sizeof(*v));
	if (split_version(&vp, s, n, 0) != 0)
		return -1;
	for (k = 0; k < vp.count; k++)
		if (parse_num(vp.p[k], vp.n[k], f[k]) != 0)
			return -1;
	if (vp.pre) {
		memcpy(v->pre, vp.pre, vp.pre_n);
		v->pre[vp.pre_n] = '\0';
	}
	return 0;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
cmp_pre_part(const char *s, size_t sn, const char *o, size_t on)
{
	uint64_t a = 0, b = 0;
	int sd = all_digits(s, sn) && parse_num(s, sn, &a) == 0;
	int od = all_digits(o, on) && parse_num(o, on, &b) == 0;
	int c;

	if (sn == on && memcmp(s, o, sn) == 0)
		return 0;
	if (sn == 0)
		return -1;
	if (on == 0)
		return 1;
	if (sd && od)
		return a > b ? 1 : -1;
	if (sd)
		return -1; /* numbers sort below identifiers */
	if (od)
		return 1;
	c = memcmp(s, o, sn < on ? sn : on);
	if (c == 0)
		return sn > on ? 1 : -1;
	return c > 0 ? 1 : -1;
}

static int
cmp_pre(const char *a, const char *b)
{
	while (*a || *b) {
		size_t an = strcspn(a, "."), bn = strcspn(b, ".");
		int d = cmp_pre_part(a, an, b, bn);

		if (d)
			return d;
		a += an + (a[an] == '.');
		b += bn + (b[bn] == '.');
	}
	return 0;
}

static int
cmp_ver(const ver *a, const ver *b)
{
	if (a->major != b->major)
		return a->major > b->major ? 1 : -1;
	if (a->minor != b->minor)
		return a->minor > b->minor ? 1 : -1;
	if (a->patch != b->patch)
		return a->patch > b->patch ? 1 : -1;
	if (a->pre[0] == '\0' && b->pre[0] == '\0')
		return 0;
	if (a->pre[0] == '\0')
		return 1;
	if (b->pre[0] == '\0')
		return -1;
	return cmp_pre(a->pre, b->pre);
}

int
pg_helm_semver_cmp(const char *a, const char *b)
{
	ver va, vb;
	int ea = parse_ver(&va, a, strlen(a)), eb = parse_ver(&vb, b, strlen(b));

	if (ea || eb)
		return ea && eb ? 0 : (ea ? -1 : 1);
	return cmp_ver(&va, &vb);
}

/* Parse one term "OP VERSION" (op may be empty; version may be empty only
 * when the whole term is, meaning "*"). */
static int
parse_term(term *t, const char *op, size_t opn, const char *s, size_t n)
{
	vparts vp;
	char buf[64 + PRE_MAX];
	size_t k, len = 0;
	uint64_t dummy;

	memset(t, 0, sizeof(*t));
	if (opn == 0 || (opn == 1 && op[0] == '='))
		t->op = OP_EQ;
	else if (opn == 2 && memcmp(op, "!=", 2) == 0)
		t->op = OP_NE;
	else if (opn == 1 && op[0] == '>')
		t->op = OP_GT;
	else if (opn == 1 && op[0] == '<')
		t->op = OP_LT;
	else if (opn == 2 && (memcmp(op, ">=", 2) == 0 || memcmp(op, "=>", 2) == 0))
		t->op = OP_GE;
	else if (opn == 2 && (memcmp(op, "<=", 2) == 0 || memcmp(op, "=<", 2) == 0))
		t->op = OP_LE;
	else if ((opn == 1 && op[0] == '~') || (opn == 2 && memcmp(op, "~>", 2) == 0))
		t->op = OP_TILDE;
	else if (opn == 1 && op[0] == '^')
		t->op = OP_CARET;
	else
		return -1;
	if (split_version(&vp, s, n, 1) != 0)
		return -1;
	/* Wildcards and missing parts are "dirty" and become 0: "1.2" is
	 * "1.2.x" and "1" is "1.x", as in Masterminds v3. */
	if (is_x(vp.p[0], vp.n[0])) {
		t->dirty = 1;
	} else {
		if (parse_num(vp.p[0], vp.n[0], &t->con.major) != 0)
			return -1;
		if (vp.count < 2 || is_x(vp.p[1], vp.n[1])) {
			t->dirty = t->minor_dirty = 1;
		} else {
			if (parse_num(vp.p[1], vp.n[1], &t->con.minor) != 0)
				return -1;
			if (vp.count < 3 || is_x(vp.p[2], vp.n[2]))
				t->dirty = t->patch_dirty = 1;
			else if (parse_num(vp.p[2], vp.n[2], &t->con.patch) != 0)
				return -1;
		}
	}
	for (k = 0; k < vp.count; k++)
		if (!is_x(vp.p[k], vp.n[k]) && parse_num(vp.p[k], vp.n[k], &dummy) != 0)
			return -1;
	if (vp.pre) {
		len = vp.pre_n;
		memcpy(buf, vp.pre, len);
		buf[len] = '\0';
		memcpy(t->con.pre, buf, len + 1);
	}
	return 0;
}

/* Prerelease versions only match constraints that name a prerelease
 * (Masterminds issue 21). */
static int
pre_blocked(const ver *v, const term *t)
{
	return v->pre[0] != '\0' && t->con.pre[0] == '\0';
}

static int
check_tilde(const ver *v, const term *t)
{
	if (cmp_ver(v, &t->con) < 0)
		return 0;
	if (t->con.major == 0 && t->con.minor == 0 && t->con.patch == 0 && !t->minor_dirty &&
	    !t->patch_dirty)
		return 1; /* ~0.0.0 and ~* accept everything */
	if (v->major != t->con.major)
		return 0;
	if (v->minor != t->con.minor && !t->minor_dirty)
		return 0;
	return 1;
}

static int
check_term(const ver *v, const term *t)
{
	int c;

	if (pre_blocked(v, t))
		return 0;
	c = cmp_ver(v, &t->con);
	switch (t->op) {
	case OP_EQ:
		return t->dirty ? check_tilde(v, t) : c == 0;
	case OP_NE:
		if (t->dirty) {
			if (t->con.major != v->major)
				return 1;
			if (t->con.minor != v->minor && !t->minor_dirty)
				return 1;
			if (t->minor_dirty)
				return 0;
			if (t->con.patch != v->patch && !t->patch_dirty)
				return 1;
			if (t->patch_dirty) {
				if (v->pre[0] || t->con.pre[0])
					return cmp_pre(v->pre, t->con.pre) != 0;
				return 0;
			}
		}
		return c != 0;
	case OP_GT:
		if (!t->dirty)
			return c > 0;
		if (v->major != t->con.major)
			return v->major > t->con.major;
		if (t->minor_dirty)
			return 0; /* >1.x: needs 2 or higher */
		if (t->patch_dirty)
			return v->minor > t->con.minor;
		return c > 0;
	case OP_LT:
		return c < 0;
	case OP_GE:
		return c >= 0;
	case OP_LE:
		if (!t->dirty)
			return c <= 0;
		if (v->major > t->con.major)
			return 0;
		if (v->major == t->con.major && v->minor > t->con.minor && !t->minor_dirty)
			return 0;
		return 1;
	case OP_TILDE:
		return check_tilde(v, t);
	case OP_CARET:
		if (c < 0)
			return 0;
		if (t->con.major > 0 || t->minor_dirty)
			return v->major == t->con.major;
		if (v->major > 0)
			return 0;
		if (t->con.minor > 0 || t->patch_dirty)
			return v->minor == t->con.minor;
		if (v->minor > 0)
			return 0;
		return v->patch == t->con.patch;
	}
	return 0;
}

static int
is_opc(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>' || c == '~' || c == '^';
}

static int
is_vc(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '*' || c == '+' || c == '-';
}

/* Parse one AND group [s, e) into terms.  Returns the count or -1. */
static int
parse_group(term *terms, const char *s, const char *e)
{
	int n = 0;
	const char *p = s;

	for (;;) {
		const char *op, *vs;
		size_t opn, vn;

		while (p < e && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (p >= e)
			break;
		op = p;
		while (p < e && is_opc(*p))
			p++;
		opn = (size_t)(p - op);
		while (p < e && isspace((unsigned char)*p))
			p++;
		vs = p;
		while (p < e && is_vc(*p))
			p++;
		vn = (size_t)(p - vs);
		if (vn == 0 || n >= TERMS_MAX - 1)
			return -1;
		/* "A - B": an inclusive range, >= A and <= B. */
		{
			const char *q = p;

			while (q < e && isspace((unsigned char)*q))
				q++;
			if (opn == 0 && q > p && q < e && *q == '-' && q + 1 < e &&
			    isspace((unsigned char)q[1])) {
				const char *bs;

				q++;
				while (q < e && isspace((unsigned char)*q))
					q++;
				bs = q;
				while (q < e && is_vc(*q))
					q++;
				if (q == bs || parse_term(&terms[n], ">=", 2, vs, vn) != 0 ||
				    parse_term(&terms[n + 1], "<=", 2, bs, (size_t)(q - bs)) != 0)
					return -1;
				n += 2;
				p = q;
				continue;
			}
		}
		if (parse_term(&terms[n], op, opn, vs, vn) != 0)
			return -1;
		n++;
	}
	return n;
}

int
pg_helm_semver_match(const char *constraint, const char *version, pg_err *err)
{
	term terms[TERMS_MAX];
	ver v;
	const char *s = constraint, *e, *bar;
	int n, i, ok, any_group = 0;

	if (strlen(constraint) > CONSTRAINT_MAX)
		return pg_err_set(err, PG_EINVAL, "version constraint longer than %d bytes",
				  CONSTRAINT_MAX);
	if (parse_ver(&v, version, strlen(version)) != 0)
		return pg_err_set(err, PG_EINVAL, "invalid semantic version \"%.100s\"", version);
	e = constraint + strlen(constraint);
	for (;;) {
		bar = strstr(s, "||");
		if (bar == NULL)
			bar = e;
		n = parse_group(terms, s, bar);
		if (n < 0)
			return pg_err_set(err, PG_EINVAL, "improper constraint: %.200s",
					  constraint);
		if (n == 0) {
			/* "" (or an empty OR branch) is "*": any release */
			if (parse_term(&terms[0], "", 0, "*", 1) != 0)
				return PG_EINTERNAL;
			n = 1;
		}
		for (ok = 1, i = 0; i < n && ok; i++)
			ok = check_term(&v, &terms[i]);
		any_group |= ok;
		if (bar == e)
			break;
		s = bar + 2;
	}
	return any_group;
}
