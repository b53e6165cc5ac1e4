/*
 * re — see re.h.  Parse (recursive descent, Go's rules) into a node tree,
 * compile the tree into Pike-VM instructions (every counted repetition
 * copied out, capped at PG_RE_MAX_INSTS), and match by advancing the set
 * of live instructions one character at a time.
 */
#include "re/re.h"

#include "buf/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNE 0x10FFFFu

typedef struct {
	uint32_t lo, hi;
} rng;

typedef struct {
	rng *r;
	size_t n, cap;
	bool neg;
} cls;

enum { N_CLASS, N_BOL, N_EOL, N_CAT, N_ALT, N_REP };

typedef struct {
	int type;
	int child;    /* CAT, ALT: first child; REP: the repeated node */
	int last;     /* CAT, ALT: last child, for appending */
	int next;     /* next sibling in a CAT or ALT list */
	int min, max; /* REP; max -1: unbounded */
	int cls;      /* CLASS */
} node;

enum { I_CLASS, I_SPLIT, I_JMP, I_BOL, I_EOL, I_MATCH };

typedef struct {
	int op, x, y; /* x: CLASS's class, SPLIT/JMP targets */
} inst;

struct pg_re {
	inst *code;
	size_t n;
	cls *classes;
	size_t nc;
};

typedef struct {
	const unsigned char *p, *end;
	node *nodes;
	size_t nn, ncap;
	cls *classes;
	size_t nc, ccap;
	inst *code;
	size_t ni, icap;
	pg_err *err;
	int rc;
} ps;

/* ---- helpers ---- */

static int
re_fail(ps *s, int code, const char *what)
{
	if (s->rc == PG_OK)
		s->rc = pg_err_set(s->err, code, "%s", what);
	return -1;
}

static int
utf8(const unsigned char *p, const unsigned char *end, uint32_t *r)
{
	return pg_utf8_decode(p, (size_t)(end - p), r);
}

/* Room for one more element in *arr (n used of *cap, each size bytes). */
static int
grow(ps *s, void **arr, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t nc;
	void *a;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	if ((a = realloc(*arr, nc * size)) == NULL)
		return re_fail(s, PG_ENOMEM, "out of memory");
	*arr = a;
	*cap = nc;
	return 0;
}

static int
new_node(ps *s, int type)
{
	if (grow(s, (void **)&s->nodes, s->nn, &s->ncap, sizeof(node), 64) < 0)
		return -1;
	memset(&s->nodes[s->nn], 0, sizeof(node));
	s->nodes[s->nn].type = type;
	s->nodes[s->nn].child = s->nodes[s->nn].last = s->nodes[s->nn].next = -1;
	return (int)s->nn++;
}

static void
append(ps *s, int list, int x)
{
	node *l = &s->nodes[list];

	if (l->child < 0)
		l->child = x;
	else
		s->nodes[l->last].next = x;
	s->nodes[list].last = x;
}

static int
new_class(ps *s)
{
	if (grow(s, (void **)&s->classes, s->nc, &s->ccap, sizeof(cls), 16) < 0)
		return -1;
	memset(&s->classes[s->nc], 0, sizeof(cls));
	return (int)s->nc++;
}

static int
cls_add(ps *s, int ci, uint32_t lo, uint32_t hi)
{
	cls *c = &s->classes[ci];

	if (grow(s, (void **)&c->r, c->n, &c->cap, sizeof(rng), 4) < 0)
		return -1;
	c->r[c->n].lo = lo;
	c->r[c->n].hi = hi;
	c->n++;
	return 0;
}

/* Add a sorted, disjoint set of ranges, or its complement. */
static int
cls_add_set(ps *s, int ci, const rng *set, size_t n, bool neg)
{
	uint32_t next = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!neg) {
			if (cls_add(s, ci, set[i].lo, set[i].hi) < 0)
				return -1;
			continue;
		}
		if (set[i].lo > next && cls_add(s, ci, next, set[i].lo - 1) < 0)
			return -1;
		next = set[i].hi + 1;
	}
	if (neg && next <= MAX_RUNE && cls_add(s, ci, next, MAX_RUNE) < 0)
		return -1;
	return 0;
}

static const rng R_DIGIT[] = {{'0', '9'}};
static const rng R_SPACE_PERL[] = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
static const rng R_WORD[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
static const rng R_ALNUM[] = {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}};
static const rng R_ALPHA[] = {{'A', 'Z'}, {'a', 'z'}};
static const rng R_ASCII[] = {{0, 0x7F}};
static const rng R_BLANK[] = {{'\t', '\t'}, {' ', ' '}};
static const rng R_CNTRL[] = {{0, 0x1F}, {0x7F, 0x7F}};
static const rng R_GRAPH[] = {{'!', '~'}};
static const rng R_LOWER[] = {{'a', 'z'}};
static const rng R_PRINT[] = {{' ', '~'}};
static const rng R_PUNCT[] = {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}};
static const rng R_SPACE[] = {{'\t', '\r'}, {' ', ' '}};
static const rng R_UPPER[] = {{'A', 'Z'}};
static const rng R_XDIGIT[] = {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};

#define SET(x) x, sizeof(x) / sizeof(x[0])

static const struct {
	const char *name;
	const rng *set;
	size_t n;
} POSIX[] = {
    {"alnum", SET(R_ALNUM)}, {"alpha", SET(R_ALPHA)},	{"ascii", SET(R_ASCII)},
    {"blank", SET(R_BLANK)}, {"cntrl", SET(R_CNTRL)},	{"digit", SET(R_DIGIT)},
    {"graph", SET(R_GRAPH)}, {"lower", SET(R_LOWER)},	{"print", SET(R_PRINT)},
    {"punct", SET(R_PUNCT)}, {"space", SET(R_SPACE)},	{"upper", SET(R_UPPER)},
    {"word", SET(R_WORD)},   {"xdigit", SET(R_XDIGIT)},
};

/* ---- parsing ---- */

enum { E_RUNE, E_CLASS, E_BOL, E_EOL };

/* An escape, s->p just past the backslash.  E_RUNE: *r is the character;
 * E_CLASS: ranges added to class ci (in_class) or to a new class (*r). */
static int
escape(ps *s, uint32_t *r, bool in_class, int ci)
{
	int c, v, d;
	const rng *set = NULL;
	size_t n = 0;

	if (s->p >= s->end)
		return re_fail(s, PG_EINVAL, "trailing \\ in regular expression");
	c = *s->p++;
	switch (c) {
	case 'd':
	case 'D':
		set = R_DIGIT;
		n = 1;
		break;
	case 's':
	case 'S':
		set = R_SPACE_PERL;
		n = 3;
		break;
	case 'w':
	case 'W':
		set = R_WORD;
		n = 4;
		break;
	case 't':
		*r = '\t';
		return E_RUNE;
	case 'n':
		*r = '\n';
		return E_RUNE;
	case 'r':
		*r = '\r';
		return E_RUNE;
	case 'f':
		*r = '\f';
		return E_RUNE;
	case 'v':
		*r = '\v';
		return E_RUNE;
	case 'a':
		*r = '\a';
		return E_RUNE;
	case 'A':
	case 'z':
		if (in_class)
			return re_fail(s, PG_EINVAL,
				       "invalid escape sequence in regular expression");
		return c == 'A' ? E_BOL : E_EOL;
	case 'x':
		v = 0;
		if (s->p < s->end && *s->p == '{') {
			s->p++;
			for (n = 0; s->p < s->end && (d = pg_hex_digit(*s->p)) >= 0; s->p++, n++)
				if ((v = v * 16 + d) > (int)MAX_RUNE)
					return re_fail(
					    s, PG_EINVAL,
					    "invalid escape sequence in regular expression");
			if (n == 0 || s->p >= s->end || *s->p != '}')
				return re_fail(s, PG_EINVAL,
					       "invalid escape sequence in regular expression");
			s->p++;
		} else {
			if (s->end - s->p < 2 || pg_hex_digit(s->p[0]) < 0 ||
			    pg_hex_digit(s->p[1]) < 0)
				return re_fail(s, PG_EINVAL,
					       "invalid escape sequence in regular expression");
			v = pg_hex_digit(s->p[0]) * 16 + pg_hex_digit(s->p[1]);
			s->p += 2;
		}
		*r = (uint32_t)v;
		return E_RUNE;
	case 'b':
	case 'B':
	case 'p':
	case 'P':
	case 'Q':
	case 'E':
	case 'C':
		return re_fail(s, PG_EINVAL,
			       "\\b, \\B, \\p, \\P, \\Q, \\E and \\C are not supported in regular "
			       "expressions");
	default:
		if (c >= '1' && c <= '9')
			return re_fail(
			    s, PG_EINVAL,
			    "back-references (\\1-\\9) are not supported in regular expressions");
		if (c < 0x80 && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
		    !(c >= 'A' && c <= 'Z')) {
			*r = (uint32_t)c;
			return E_RUNE;
		}
		return re_fail(s, PG_EINVAL, "invalid escape sequence in regular expression");
	}
	if (!in_class && (ci = new_class(s)) < 0)
		return -1;
	if (cls_add_set(s, ci, set, n, c >= 'A' && c <= 'Z') < 0)
		return -1;
	*r = (uint32_t)ci;
	return E_CLASS;
}

/* One character of a bracket expression: E_RUNE with *r, or E_CLASS when
 * an escape added a class to ci. */
static int
class_char(ps *s, int ci, uint32_t *r)
{
	int w;

	if (*s->p == '\\') {
		s->p++;
		return escape(s, r, true, ci);
	}
	if ((w = utf8(s->p, s->end, r)) < 0)
		return re_fail(s, PG_EINVAL, "invalid UTF-8 in regular expression");
	s->p += w;
	return E_RUNE;
}

/* A bracket expression, s->p at '['. */
static int
bracket(ps *s)
{
	int ci, k, x;
	bool first = true;
	uint32_t lo, hi;

	s->p++;
	if ((ci = new_class(s)) < 0)
		return -1;
	if (s->p < s->end && *s->p == '^') {
		s->classes[ci].neg = true;
		s->p++;
	}
	while (s->p < s->end && (*s->p != ']' || first)) {
		first = false;
		if (s->end - s->p >= 2 && s->p[0] == '[' && s->p[1] == ':') {
			const unsigned char *q = s->p + 2, *e;
			bool neg = false;
			size_t i;

			if (q < s->end && *q == '^')
				neg = true, q++;
			for (e = q; e + 1 < s->end && !(e[0] == ':' && e[1] == ']'); e++)
				;
			if (e + 1 >= s->end)
				return re_fail(s, PG_EINVAL,
					       "unterminated [ ] in regular expression");
			for (i = 0; i < sizeof(POSIX) / sizeof(POSIX[0]); i++)
				if ((size_t)(e - q) == strlen(POSIX[i].name) &&
				    memcmp(q, POSIX[i].name, (size_t)(e - q)) == 0)
					break;
			if (i == sizeof(POSIX) / sizeof(POSIX[0]))
				return re_fail(s, PG_EINVAL,
					       "invalid character class in regular expression");
			if (cls_add_set(s, ci, POSIX[i].set, POSIX[i].n, neg) < 0)
				return -1;
			s->p = e + 2;
			continue;
		}
		if ((k = class_char(s, ci, &lo)) < 0)
			return -1;
		if (k == E_CLASS)
			continue;
		if (s->end - s->p >= 2 && s->p[0] == '-' && s->p[1] != ']') {
			s->p++;
			if ((x = class_char(s, ci, &hi)) < 0)
				return -1;
			if (x != E_RUNE || hi < lo)
				return re_fail(
				    s, PG_EINVAL,
				    "invalid character class range in regular expression");
		} else {
			hi = lo;
		}
		if (cls_add(s, ci, lo, hi) < 0)
			return -1;
	}
	if (s->p >= s->end)
		return re_fail(s, PG_EINVAL, "unterminated [ ] in regular expression");
	s->p++;
	if ((x = new_node(s, N_CLASS)) < 0)
		return -1;
	s->nodes[x].cls = ci;
	return x;
}

static int
number(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	int v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		v = v > 100000 ? v : v * 10 + (*p - '0');
	*pp = p;
	return v;
}

/* Go's repetition forms at p: {m} {m,} {m,n}; else `{` is a character. */
static bool
interval(const unsigned char *p, const unsigned char *end, int *min, int *max,
	 const unsigned char **after)
{
	int a, b;

	if (p >= end || *p++ != '{' || (a = number(&p, end)) < 0)
		return false;
	b = a;
	if (p < end && *p == ',') {
		p++;
		b = (p < end && *p == '}') ? -1 : number(&p, end);
		if (b == -1 && (p >= end || *p != '}'))
			return false;
	}
	if (p >= end || *p != '}')
		return false;
	*min = a;
	*max = b;
	*after = p + 1;
	return true;
}

static bool
at_repeat(ps *s)
{
	int a, b;
	const unsigned char *e;

	return s->p < s->end &&
	       (*s->p == '*' || *s->p == '+' || *s->p == '?' || interval(s->p, s->end, &a, &b, &e));
}

static int alternation(ps *s, int depth);

static int
literal(ps *s, uint32_t r)
{
	int ci = new_class(s), x;

	if (ci < 0 || cls_add(s, ci, r, r) < 0 || (x = new_node(s, N_CLASS)) < 0)
		return -1;
	s->nodes[x].cls = ci;
	return x;
}

static int
piece(ps *s, int depth)
{
	int x, k, ci;
	uint32_t r;
	bool repeated = false;

	switch (*s->p) {
	case '(':
		if (depth >= PG_RE_MAX_DEPTH)
			return re_fail(s, PG_EINVAL, "regular expression nests groups too deeply");
		s->p++;
		if (s->p < s->end && *s->p == '?')
			return re_fail(s, PG_EINVAL,
				       "(?...) groups (flags, non-capturing) are not supported in "
				       "regular expressions");
		if ((x = alternation(s, depth + 1)) < 0)
			return -1;
		if (s->p >= s->end || *s->p != ')')
			return re_fail(s, PG_EINVAL, "missing ) in regular expression");
		s->p++;
		break;
	case '[':
		if ((x = bracket(s)) < 0)
			return -1;
		break;
	case '.':
		s->p++;
		if ((ci = new_class(s)) < 0 || cls_add(s, ci, 0, '\n' - 1) < 0 ||
		    cls_add(s, ci, '\n' + 1, MAX_RUNE) < 0 || (x = new_node(s, N_CLASS)) < 0)
			return -1;
		s->nodes[x].cls = ci;
		break;
	case '^':
	case '$':
		x = new_node(s, *s->p == '^' ? N_BOL : N_EOL);
		s->p++;
		if (x < 0)
			return -1;
		break;
	case '\\':
		s->p++;
		if ((k = escape(s, &r, false, -1)) < 0)
			return -1;
		if (k == E_RUNE)
			x = literal(s, r);
		else if (k == E_CLASS) {
			if ((x = new_node(s, N_CLASS)) >= 0)
				s->nodes[x].cls = (int)r;
		} else
			x = new_node(s, k == E_BOL ? N_BOL : N_EOL);
		if (x < 0)
			return -1;
		break;
	default:
		if (at_repeat(s))
			return re_fail(
			    s, PG_EINVAL,
			    "missing argument to a repetition operator in regular expression");
		if ((k = utf8(s->p, s->end, &r)) < 0)
			return re_fail(s, PG_EINVAL, "invalid UTF-8 in regular expression");
		s->p += k;
		if ((x = literal(s, r)) < 0)
			return -1;
		break;
	}
	while (at_repeat(s)) {
		int min, max, rep;
		const unsigned char *after = s->p + 1;

		if (repeated)
			return re_fail(s, PG_EINVAL,
				       "invalid nested repetition operator in regular expression");
		repeated = true;
		switch (*s->p) {
		case '*':
			min = 0, max = -1;
			break;
		case '+':
			min = 1, max = -1;
			break;
		case '?':
			min = 0, max = 1;
			break;
		default:
			(void)interval(s->p, s->end, &min, &max, &after);
			if (min > PG_RE_MAX_REPEAT || max > PG_RE_MAX_REPEAT)
				return re_fail(s, PG_EINVAL,
					       "repetition count above 1000 in regular expression");
			if (max >= 0 && max < min)
				return re_fail(s, PG_EINVAL,
					       "invalid repetition range in regular expression");
			break;
		}
		s->p = after;
		if ((rep = new_node(s, N_REP)) < 0)
			return -1;
		s->nodes[rep].child = x;
		s->nodes[rep].min = min;
		s->nodes[rep].max = max;
		x = rep;
		/* one `?` after a repetition makes it lazy: same matches */
		if (s->p < s->end && *s->p == '?')
			s->p++;
	}
	return x;
}

static int
sequence(ps *s, int depth)
{
	int cat = new_node(s, N_CAT), x;

	if (cat < 0)
		return -1;
	while (s->p < s->end && *s->p != '|' && *s->p != ')') {
		if ((x = piece(s, depth)) < 0)
			return -1;
		append(s, cat, x);
	}
	return cat;
}

static int
alternation(ps *s, int depth)
{
	int alt = new_node(s, N_ALT), x;

	if (alt < 0 || (x = sequence(s, depth)) < 0)
		return -1;
	append(s, alt, x);
	while (s->p < s->end && *s->p == '|') {
		s->p++;
		if ((x = sequence(s, depth)) < 0)
			return -1;
		append(s, alt, x);
	}
	return alt;
}

/* ---- compiling ---- */

static int
emit(ps *s, int op, int x)
{
	if (s->ni >= PG_RE_MAX_INSTS)
		return re_fail(s, PG_EINVAL,
			       "regular expression too large once its repetitions are expanded");
	if (grow(s, (void **)&s->code, s->ni, &s->icap, sizeof(inst), 64) < 0)
		return -1;
	s->code[s->ni].op = op;
	s->code[s->ni].x = x;
	s->code[s->ni].y = -1;
	return (int)s->ni++;
}

static int
comp(ps *s, int ni)
{
	const node *n = &s->nodes[ni];
	int c, i, sp, j, pending = -1;

	switch (n->type) {
	case N_CLASS:
		return emit(s, I_CLASS, n->cls) < 0 ? -1 : 0;
	case N_BOL:
		return emit(s, I_BOL, -1) < 0 ? -1 : 0;
	case N_EOL:
		return emit(s, I_EOL, -1) < 0 ? -1 : 0;
	case N_CAT:
		for (c = n->child; c >= 0; c = s->nodes[c].next)
			if (comp(s, c) < 0)
				return -1;
		return 0;
	case N_ALT:
		for (c = n->child; c >= 0; c = s->nodes[c].next) {
			if (s->nodes[c].next < 0) {
				if (comp(s, c) < 0)
					return -1;
				break;
			}
			if ((sp = emit(s, I_SPLIT, (int)s->ni + 1)) < 0 || comp(s, c) < 0 ||
			    (j = emit(s, I_JMP, pending)) < 0)
				return -1;
			pending = j; /* chained through x until the end is known */
			s->code[sp].y = (int)s->ni;
		}
		while (pending >= 0) {
			j = s->code[pending].x;
			s->code[pending].x = (int)s->ni;
			pending = j;
		}
		return 0;
	default: /* N_REP */
		for (i = 0; i < n->min; i++)
			if (comp(s, n->child) < 0)
				return -1;
		if (n->max < 0) {
			if ((sp = emit(s, I_SPLIT, (int)s->ni + 1)) < 0 || comp(s, n->child) < 0 ||
			    emit(s, I_JMP, sp) < 0)
				return -1;
			s->code[sp].y = (int)s->ni;
			return 0;
		}
		for (i = n->min; i < n->max; i++) {
			if ((sp = emit(s, I_SPLIT, (int)s->ni + 1)) < 0 || comp(s, n->child) < 0)
				return -1;
			s->code[sp].y = (int)s->ni;
		}
		return 0;
	}
}

void
pg_re_free(pg_re *re)
{
	size_t i;

	if (re == NULL)
		return;
	for (i = 0; i < re->nc; i++)
		free(re->classes[i].r);
	free(re->classes);
	free(re->code);
	free(re);
}

int
pg_re_new(pg_re **out, const char *pattern, pg_err *err)
{
	size_t len = strlen(pattern), i;
	ps s;
	int top;

	*out = NULL;
	if (len > PG_RE_MAX_LEN)
		return pg_err_set(err, PG_EINVAL, "regular expression longer than %d bytes",
				  PG_RE_MAX_LEN);
	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)pattern;
	s.end = s.p + len;
	s.err = err;
	s.rc = PG_OK;
	top = alternation(&s, 0);
	if (top >= 0 && s.p < s.end)
		top = re_fail(&s, PG_EINVAL, "unmatched ) in regular expression");
	if (top >= 0 && comp(&s, top) == 0 && emit(&s, I_MATCH, -1) >= 0) {
		pg_re *re = calloc(1, sizeof(*re));

		if (re != NULL) {
			re->code = s.code;
			re->n = s.ni;
			re->classes = s.classes;
			re->nc = s.nc;
			free(s.nodes);
			*out = re;
			return PG_OK;
		}
		re_fail(&s, PG_ENOMEM, "out of memory");
	}
	for (i = 0; i < s.nc; i++)
		free(s.classes[i].r);
	free(s.classes);
	free(s.code);
	free(s.nodes);
	return s.rc != PG_OK ? s.rc : pg_err_set(err, PG_EINTERNAL, "regular expression");
}

/* ---- matching ---- */

typedef struct {
	int *pc;
	size_t n;
	uint32_t stamp;
} tlist;

static bool
cls_has(const cls *c, uint32_t r)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (r >= c->r[i].lo && r <= c->r[i].hi)
			return !c->neg;
	return c->neg;
}

/* Add pc and everything reachable from it without reading a character. */
static void
add(const pg_re *re, tlist *l, uint32_t *mark, int *stack, int pc, size_t pos, size_t len)
{
	size_t sp = 0;

#define PUSH(q)                                                                                    \
	do {                                                                                       \
		if (mark[(q)] != l->stamp) {                                                       \
			mark[(q)] = l->stamp;                                                      \
			stack[sp++] = (q);                                                         \
		}                                                                                  \
	} while (0)
	PUSH(pc);
	while (sp > 0) {
		const inst *in;

		pc = stack[--sp];
		in = &re->code[pc];
		l->pc[l->n++] = pc;
		switch (in->op) {
		case I_JMP:
			PUSH(in->x);
			break;
		case I_SPLIT:
			PUSH(in->y);
			PUSH(in->x);
			break;
		case I_BOL:
			if (pos == 0)
				PUSH(pc + 1);
			break;
		case I_EOL:
			if (pos == len)
				PUSH(pc + 1);
			break;
		default:
			break;
		}
	}
#undef PUSH
}

int
pg_re_match(const pg_re *re, const char *subject, size_t len, bool *match, pg_err *err)
{
	const unsigned char *s = (const unsigned char *)subject;
	uint32_t *mark, stamp = 1;
	int *buf;
	tlist a, b, *cl = &a, *nl = &b, *t;
	size_t pos = 0, i;

	*match = false;
	if (len > PG_RE_MAX_SUBJECT)
		return pg_err_set(err, PG_ETOOBIG,
				  "value of %zu bytes is longer than the %d a regular expression "
				  "is matched against",
				  len, PG_RE_MAX_SUBJECT);
	mark = calloc(re->n, sizeof(*mark));
	buf = malloc(3 * re->n * sizeof(*buf));
	if (mark == NULL || buf == NULL) {
		free(mark);
		free(buf);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	a.pc = buf;
	b.pc = buf + re->n;
	a.n = b.n = 0;
	a.stamp = stamp;
	for (;;) {
		add(re, cl, mark, buf + 2 * re->n, 0, pos, len); /* unanchored */
		for (i = 0; i < cl->n; i++)
			if (re->code[cl->pc[i]].op == I_MATCH) {
				*match = true;
				goto out;
			}
		if (pos >= len)
			break;
		{
			uint32_t r;
			int w = utf8(s + pos, s + len, &r);

			if (w < 0)
				r = 0xFFFD, w = 1;
			nl->n = 0;
			nl->stamp = ++stamp;
			for (i = 0; i < cl->n; i++) {
				const inst *in = &re->code[cl->pc[i]];

				if (in->op == I_CLASS && cls_has(&re->classes[in->x], r))
					add(re, nl, mark, buf + 2 * re->n, cl->pc[i] + 1,
					    pos + (size_t)w, len);
			}
			pos += (size_t)w;
		}
		t = cl, cl = nl, nl = t;
	}
out:
	free(mark);
	free(buf);
	return PG_OK;
}

int
pg_re_find(const char *pattern, const char *s, bool *match, pg_err *err)
{
	pg_re *re;
	int rc = pg_re_new(&re, pattern, err);

	if (rc != PG_OK)
		return rc;
	rc = pg_re_match(re, s, strlen(s), match, err);
	pg_re_free(re);
	return rc;
}
