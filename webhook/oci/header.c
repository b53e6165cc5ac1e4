/*
 * oci/header — parsers for the response headers a registry client acts on:
 * WWW-Authenticate (RFC 7235 challenges), Link (RFC 8288, rel="next" for
 * referrers pagination) and Retry-After; and percent-encoding of query
 * values.  All input here is hostile: every parser is bounded, rejects what
 * it does not understand, and never reads past the terminating NUL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf/buf.h"
#include "oci/oci_int.h"

/* Longest single value (realm URL, scope list) we keep. */
#define VALUE_MAX 2048

static bool
is_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read a token at p; sets *n to its length (0: none). */
static const char *
token(const char *p, size_t *n)
{
	const char *s = p;

	while (is_tchar((unsigned char)*p))
		p++;
	*n = (size_t)(p - s);
	return p;
}

/* Parse a token or quoted-string value at p into *out (malloc'd,
 * unescaped).  Returns the position after it, or NULL on junk / ENOMEM
 * (*out NULL in both cases; the caller reports junk). */
static const char *
value(char **out, const char *p)
{
	pg_buf b;
	size_t n;

	*out = NULL;
	pg_buf_init(&b, VALUE_MAX);
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				goto junk;
			if (*p == '\\') {
				p++;
				if (*p == '\0')
					goto junk;
			}
			if ((unsigned char)*p < 0x20 && *p != '\t')
				goto junk;
			if (pg_buf_append(&b, p, 1) != PG_OK)
				goto junk;
		}
		p++;
	} else {
		const char *e = token(p, &n);

		if (n == 0 || pg_buf_append(&b, p, n) != PG_OK)
			goto junk;
		p = e;
	}
	if (pg_buf_detach(out, NULL, &b) != PG_OK)
		goto junk;
	return p;
junk:
	pg_buf_free(&b);
	return NULL;
}

void
pg_oci__challenge_clear(pg_oci__challenge *ch)
{
	if (ch == NULL)
		return;
	free(ch->realm);
	free(ch->service);
	free(ch->scope);
	memset(ch, 0, sizeof(*ch));
}

static int
scheme_of(const char *s, size_t n)
{
	if (n == 6 && strncasecmp(s, "Bearer", 6) == 0)
		return PG_OCI__AUTH_BEARER;
	if (n == 5 && strncasecmp(s, "Basic", 5) == 0)
		return PG_OCI__AUTH_BASIC;
	return PG_OCI__AUTH_NONE;
}

/* Is cur a better challenge than best?  Docker's order: Bearer, then
 * Basic; the first of a scheme wins. */
static bool
better(const pg_oci__challenge *cur, const pg_oci__challenge *best)
{
	return (cur->scheme == PG_OCI__AUTH_BEARER && best->scheme != PG_OCI__AUTH_BEARER) ||
	       (cur->scheme == PG_OCI__AUTH_BASIC && best->scheme == PG_OCI__AUTH_NONE);
}

/*
 * Parse every challenge of one WWW-Authenticate value (comma-separated,
 * RFC 7235 §4.1) into *best, keeping the best so far.  PG_EINVAL for junk
 * or a repeated parameter; unknown schemes are parsed and dropped.
 */
static int
parse_value(pg_oci__challenge *best, const char *v, pg_err *err)
{
	int rc = PG_EINVAL;
	pg_oci__challenge cur = {0};
	const char *p = v, *name;
	size_t n, nn;
	char *val = NULL;

	if (v == NULL || strlen(v) > PG_OCI__HEADER_MAX)
		return pg_err_set(err, PG_EINVAL, "missing or over-long WWW-Authenticate header");
	for (;;) {
		/* One challenge: scheme, then auth-params separated by commas
		 * until a token not followed by '=' starts the next one. */
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		name = p;
		p = token(p, &n);
		if (n == 0)
			goto junk;
		cur.scheme = scheme_of(name, n);
		if (cur.scheme == PG_OCI__AUTH_NONE)
			cur.scheme = -1; /* unknown scheme: parse, then drop */
		p = skip_ws(p);
		for (;;) {
			const char *save = p;
			char **slot = NULL;

			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			if (*p == '\0')
				break;
			name = p;
			p = skip_ws(token(p, &nn));
			if (nn == 0)
				goto junk;
			if (*p != '=') {
				p = save; /* the next challenge's scheme */
				break;
			}
			p = value(&val, skip_ws(p + 1));
			if (p == NULL)
				goto junk;
			if (nn == 5 && strncasecmp(name, "realm", 5) == 0)
				slot = &cur.realm;
			else if (nn == 7 && strncasecmp(name, "service", 7) == 0)
				slot = &cur.service;
			else if (nn == 5 && strncasecmp(name, "scope", 5) == 0)
				slot = &cur.scope;
			if (slot && *slot) {
				rc = pg_err_set(err, PG_EINVAL,
						"WWW-Authenticate repeats the parameter \"%.*s\"",
						(int)nn, name);
				goto out;
			}
			if (slot) {
				*slot = val;
				val = NULL;
			}
			free(val);
			val = NULL;
			p = skip_ws(p);
			if (*p != ',' && *p != '\0')
				goto junk;
		}
		if (better(&cur, best)) {
			pg_oci__challenge_clear(best);
			*best = cur;
			memset(&cur, 0, sizeof(cur));
		}
		pg_oci__challenge_clear(&cur);
	}
	rc = PG_OK;
	goto out;
junk:
	rc = pg_err_set(err, PG_EINVAL, "malformed WWW-Authenticate header \"%.200s\"", v);
out:
	free(val);
	pg_oci__challenge_clear(&cur);
	return rc;
}

/* The checks on the chosen challenge; hands best over to *out. */
static int
finish(pg_oci__challenge *out, pg_oci__challenge *best, pg_err *err)
{
	if (best->scheme == PG_OCI__AUTH_NONE)
		return pg_err_set(
		    err, PG_EINVAL,
		    "registry asks for an authentication scheme other than Bearer or Basic");
	if (best->scheme == PG_OCI__AUTH_BEARER && (best->realm == NULL || best->realm[0] == '\0'))
		return pg_err_set(err, PG_EINVAL, "registry's Bearer challenge names no realm");
	*out = *best;
	memset(best, 0, sizeof(*best));
	return PG_OK;
}

int
pg_oci__www_auth_parse(pg_oci__challenge *out, const char *v, pg_err *err)
{
	pg_oci__challenge best = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_value(&best, v, err);
	if (rc == PG_OK)
		rc = finish(out, &best, err);
	pg_oci__challenge_clear(&best);
	return rc;
}

int
pg_oci__www_auth_parse_headers(pg_oci__challenge *out, const char *headers, pg_err *err)
{
	static const char name[] = "WWW-Authenticate";
	const size_t nl = sizeof(name) - 1;
	pg_oci__challenge best = {0};
	const char *p, *eol;
	pg_buf line;
	size_t lines = 0;
	bool in_challenge = false;
	int rc = PG_OK;

	memset(out, 0, sizeof(*out));
	if (headers == NULL)
		return pg_err_set(err, PG_EINVAL, "no WWW-Authenticate header");
	pg_buf_init(&line, PG_OCI__HEADER_MAX + 1);
	for (p = headers; *p && rc == PG_OK; p = *eol ? eol + 1 : eol) {
		const char *v, *e;

		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		/* An obsolete folded continuation of a challenge line would
		 * carry part of a challenge we did not see: refuse it. */
		if ((*p == ' ' || *p == '\t') && in_challenge) {
			rc = pg_err_set(err, PG_EINVAL, "folded WWW-Authenticate header");
			break;
		}
		in_challenge = false;
		if ((size_t)(eol - p) <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
			continue;
		in_challenge = true;
		if (++lines > PG_OCI__CHALLENGE_LINES_MAX) {
			rc = pg_err_set(err, PG_EINVAL, "more than %d WWW-Authenticate headers",
					PG_OCI__CHALLENGE_LINES_MAX);
			break;
		}
		v = skip_ws(p + nl + 1);
		e = eol;
		while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (v > e)
			v = e;
		pg_buf_reset(&line);
		if ((size_t)(e - v) > PG_OCI__HEADER_MAX ||
		    pg_buf_append(&line, v, (size_t)(e - v)) != PG_OK ||
		    pg_buf_append(&line, "", 1) != PG_OK) {
			rc = pg_err_set(err, PG_EINVAL, "over-long WWW-Authenticate header");
			break;
		}
		rc = parse_value(&best, (const char *)line.data, err);
	}
	if (rc == PG_OK && lines == 0)
		rc = pg_err_set(err, PG_EINVAL, "no WWW-Authenticate header");
	if (rc == PG_OK)
		rc = finish(out, &best, err);
	pg_buf_free(&line);
	pg_oci__challenge_clear(&best);
	return rc;
}

/* Is "next" one of the space-separated relation types in rel? */
static bool
rel_has_next(const char *rel)
{
	const char *p = rel;

	while (*p) {
		const char *s;

		while (*p == ' ')
			p++;
		s = p;
		while (*p && *p != ' ')
			p++;
		if (p - s == 4 && strncasecmp(s, "next", 4) == 0)
			return true;
	}
	return false;
}

int
pg_oci__link_next(char **out, const char *v, pg_err *err)
{
	int rc = PG_EINVAL;
	const char *p = v, *u, *ue, *name;
	char *val = NULL;
	size_t nn;

	*out = NULL;
	if (v == NULL)
		return PG_OK;
	if (strlen(v) > PG_OCI__HEADER_MAX)
		return pg_err_set(err, PG_EINVAL, "over-long Link header");
	for (;;) {
		bool next = false;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p != '<')
			goto junk;
		u = p + 1;
		ue = strchr(u, '>');
		if (ue == NULL || ue == u)
			goto junk;
		p = skip_ws(ue + 1);
		while (*p == ';') {
			p = skip_ws(p + 1);
			name = p;
			p = skip_ws(token(p, &nn));
			if (nn == 0 || *p != '=')
				goto junk;
			p = value(&val, skip_ws(p + 1));
			if (p == NULL)
				goto junk;
			if (nn == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(val))
				next = true;
			free(val);
			val = NULL;
			p = skip_ws(p);
		}
		if (*p != ',' && *p != '\0')
			goto junk;
		if (next) {
			size_t i;

			for (i = 0; u + i < ue; i++)
				if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
					goto junk;
			*out = pg_strndup(u, (size_t)(ue - u));
			rc = *out ? PG_OK : pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = PG_OK;
	goto out;
junk:
	rc = pg_err_set(err, PG_EINVAL, "malformed Link header \"%.200s\"", v);
out:
	free(val);
	return rc;
}

int64_t
pg_oci__retry_after_s(const char *v, int64_t fallback_s)
{
	int64_t s = 0;
	const char *p;

	if (v == NULL)
		return fallback_s;
	p = skip_ws(v);
	if (*p < '0' || *p > '9')
		return fallback_s;
	for (; *p >= '0' && *p <= '9'; p++) {
		s = s * 10 + (*p - '0');
		if (s > 86400)
			return 86400;
	}
	p = skip_ws(p);
	return *p == '\0' ? s : fallback_s;
}

/* RateLimit-Limit / RateLimit-Remaining: the leading count of "100",
 * "100;w=21600" (Docker Hub) or "100, 100;w=21600" (the IETF draft's
 * list form; the first item).  -1 for anything else; capped at 10^12. */
int64_t
pg_oci__ratelimit_value(const char *v)
{
	int64_t n = 0;
	const char *p;

	if (v == NULL)
		return -1;
	p = skip_ws(v);
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > 1000000000000LL)
			return -1;
	}
	p = skip_ws(p);
	return (*p == '\0' || *p == ';' || *p == ',') ? n : -1;
}

/* The hex digits of a percent-encoded octet: upper case, as RFC 3986 2.1
 * says producers SHOULD use.  This is deliberately not buf/'s pg_hex, whose
 * lower-case digits are those of digests and fingerprints; this table is
 * the only upper-case one, and is used for percent-encoding alone. */
static const char urlenc_hex[] = "0123456789ABCDEF";

int
pg_oci__urlenc(pg_buf *b, const char *s)
{
	int rc = PG_OK;

	for (; *s && rc == PG_OK; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			rc = pg_buf_append(b, s, 1);
		} else {
			char e[3] = {'%', urlenc_hex[ch >> 4], urlenc_hex[ch & 15]};

			rc = pg_buf_append(b, e, 3);
		}
	}
	return rc;
}
