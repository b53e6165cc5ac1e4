/*
 * ref — image reference parsing and Docker's normalisation.
 *
 * The accepted language is distribution/reference's grammar:
 *   reference := name [":" tag] ["@" digest]
 *   name      := [registry "/"] path-component ("/" path-component)*
 *   registry  := host [":" digits]; host := dns-labels | "[" ipv6 "]"
 * and the normalisation is ParseNormalizedNamed + TagNameOnly: the first
 * component is a registry only when it contains '.' or ':', is "localhost",
 * or holds upper case (a path may not); otherwise the registry is docker.io,
 * and a single-component docker.io name gets "library/".
 *
 * Rather than one big regular expression, the input is cut where the grammar
 * allows only one cut ('@' starts the digest; a ':' after the last '/'
 * starts the tag; the first '/' ends a registry) and each piece is checked
 * on its own, so every rejection can say which piece is wrong and why.
 *
 * Deliberate difference from upstream: where upstream would fall back to
 * parsing a malformed registry ("a_b.com/x") as a path with an empty domain,
 * we reject; such a reference cannot be pulled, and a webhook must not guess.
 *
 * Input is hostile (it comes from admitted objects): it is bounded by
 * PG_REF_INPUT_MAX before anything else, and echoed in messages escaped and
 * shortened.  Nothing is allocated but the returned struct and its strings.
 */
#include "ref/ref.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "digest/digest.h"

#define DEFAULT_REGISTRY "docker.io"
#define LEGACY_REGISTRY "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DEFAULT_TAG "latest"

/* Characters of the input shown in a message: enough to recognise the
 * reference, short enough to keep a deny reason readable. */
#define QUOTE_MAX 160
/* Room for a reason: fixed text plus at most two quoted input pieces. */
#define WHY_MAX 640

/* Hex digits of the digests a reference may pin. */
#define SHA256_HEX (2 * PG_SHA256_SIZE)
#define SHA512_HEX (2 * PG_DIGEST_MAX)

/* One parse: the input (for messages) and where errors go. */
struct parse {
	const char *s;
	size_t n;
	pg_err *err;
};

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool
is_hex(char c)
{
	return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

/* Every character any part of a valid reference may hold. */
static bool
is_ref_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '/' || c == ':' ||
	       c == '@' || c == '[' || c == ']';
}

static bool
span_eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

static const char *
span_chr(const char *p, size_t n, char c)
{
	return n ? memchr(p, c, n) : NULL;
}

static const char *
span_rchr(const char *p, size_t n, char c)
{
	while (n > 0) {
		n--;
		if (p[n] == c)
			return p + n;
	}
	return NULL;
}

/*
 * Copy at most QUOTE_MAX characters of s into out for display inside double
 * quotes: '"' and '\' are escaped, bytes outside printable ASCII become
 * \xNN, and a cut is marked with "...".  out must hold QUOTE_MAX * 4 + 4.
 */
static void
quote(char *out, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c > 0x7e) {
			out[o++] = '\\';
			out[o++] = 'x';
			pg_hex(out + o, &c, 1);
			o += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Record `invalid image reference "<input>": <why>` and return PG_EINVAL. */
static int reject(const struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
reject(const struct parse *ps, const char *fmt, ...)
{
	char q[QUOTE_MAX * 4 + 4];
	char why[WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, sizeof(why), fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
	quote(q, ps->s, ps->n);
	return pg_err_set(ps->err, PG_EINVAL, "invalid image reference \"%s\": %s", q, why);
}

/* Pieces are cut from input already known to hold only is_ref_char()
 * characters, so they can be printed with %.*s; this caps their length. */
static int
shown(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

/* A DNS-style label: [A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]. */
static int
check_label(const struct parse *ps, const char *host, size_t hn, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return reject(ps,
			      "registry host \"%.*s\" has an empty label (look for \"..\" or a "
			      "leading or trailing '.')",
			      shown(hn), host);
	for (i = 0; i < n; i++) {
		if (!is_alnum(p[i]) && p[i] != '-')
			return reject(ps,
				      "registry host \"%.*s\" may only contain letters, digits, "
				      "'.' and '-', not '%c'",
				      shown(hn), host, p[i]);
	}
	if (p[0] == '-' || p[n - 1] == '-')
		return reject(ps,
			      "registry host label \"%.*s\" must start and end with a letter or "
			      "digit",
			      shown(n), p);
	return PG_OK;
}

static int
check_registry(const struct parse *ps, const char *p, size_t n)
{
	const char *port = NULL, *end, *dot;
	size_t hn, pn, i;

	if (p[0] == '[') {
		end = span_chr(p, n, ']');
		if (end == NULL)
			return reject(ps,
				      "registry \"%.*s\" opens an IPv6 address with '[' but "
				      "never closes it",
				      shown(n), p);
		hn = (size_t)(end - p) + 1;
		if (hn == 2)
			return reject(ps, "registry \"%.*s\" has an empty IPv6 address", shown(n),
				      p);
		for (i = 1; i + 1 < hn; i++) {
			if (!is_hex(p[i]) && p[i] != ':')
				return reject(
				    ps,
				    "IPv6 registry host \"%.*s\" may only hold hex digits and "
				    "':' between the brackets, not '%c'",
				    shown(hn), p, p[i]);
		}
		if (hn < n && p[hn] != ':')
			return reject(ps,
				      "registry \"%.*s\": only \":<port>\" may follow an IPv6 "
				      "address",
				      shown(n), p);
	} else {
		end = span_chr(p, n, ':');
		hn = end ? (size_t)(end - p) : n;
		if (hn == 0)
			return reject(ps, "registry \"%.*s\" has no host name before the port",
				      shown(n), p);
		for (i = 0; i < hn; i = (size_t)(dot - p) + 1) {
			int rc;

			dot = span_chr(p + i, hn - i, '.');
			if (dot == NULL)
				dot = p + hn;
			rc = check_label(ps, p, hn, p + i, (size_t)(dot - (p + i)));
			if (rc != PG_OK)
				return rc;
			if (dot == p + hn - 1)
				return check_label(ps, p, hn, p + hn, 0);
		}
	}
	if (hn < n) {
		port = p + hn + 1;
		pn = n - hn - 1;
		for (i = 0; i < pn; i++) {
			if (!is_digit(port[i]))
				break;
		}
		if (pn == 0 || i < pn)
			return reject(ps, "registry port \"%.*s\" in \"%.*s\" must be a number",
				      shown(pn), port, shown(n), p);
	}
	return PG_OK;
}

/* [a-z0-9]+ joined by exactly ".", "_", "__" or one or more "-". */
static int
check_component(const struct parse *ps, const char *p, size_t n)
{
	size_t i = 0, j;

	if (!is_lower_alnum(p[0]) || !is_lower_alnum(p[n - 1]))
		return reject(ps,
			      "path component \"%.*s\" must start and end with a lower-case "
			      "letter or digit",
			      shown(n), p);
	while (i < n) {
		while (i < n && is_lower_alnum(p[i]))
			i++;
		if (i == n)
			break;
		for (j = i; j < n && !is_lower_alnum(p[j]); j++) {
			if (p[j] != '.' && p[j] != '_' && p[j] != '-')
				return reject(ps,
					      "character '%c' is not allowed in the repository "
					      "path (component \"%.*s\")",
					      p[j], shown(n), p);
		}
		if (!(span_eq(p + i, j - i, ".") || span_eq(p + i, j - i, "_") ||
		      span_eq(p + i, j - i, "__") || strspn(p + i, "-") >= j - i))
			return reject(
			    ps,
			    "path component \"%.*s\" joins letters or digits with \"%.*s\"; "
			    "only '.', '_', '__' or dashes may separate them",
			    shown(n), p, shown(j - i), p + i);
		i = j;
	}
	return PG_OK;
}

static int
check_path(const struct parse *ps, const char *p, size_t n)
{
	const char *slash;
	size_t i;
	int rc;

	if (n == 0)
		return reject(ps, "no repository name after the registry");
	for (i = 0; i < n; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z')
			return reject(ps,
				      "repository name must be lowercase (\"%.*s\"); only the "
				      "registry host may hold upper case",
				      shown(n), p);
	}
	for (i = 0; i <= n; i = (size_t)(slash - p) + 1) {
		slash = span_chr(p + i, n - i, '/');
		if (slash == NULL)
			slash = p + n;
		if (slash == p + i)
			return reject(ps,
				      "repository path \"%.*s\" has an empty component (look for "
				      "\"//\" or a leading or trailing '/')",
				      shown(n), p);
		rc = check_component(ps, p + i, (size_t)(slash - (p + i)));
		if (rc != PG_OK)
			return rc;
	}
	return PG_OK;
}

/* [\w][\w.-]{0,127} */
static int
check_tag(const struct parse *ps, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return reject(ps, "the tag after ':' is empty");
	if (n > PG_REF_TAG_MAX)
		return reject(ps, "the tag is %zu characters long, more than %d", n,
			      PG_REF_TAG_MAX);
	if (!is_word(p[0]))
		return reject(ps, "tag \"%.*s\" must start with a letter, digit or '_'", shown(n),
			      p);
	for (i = 1; i < n; i++) {
		if (!is_word(p[i]) && p[i] != '.' && p[i] != '-')
			return reject(ps,
				      "tag \"%.*s\" may only contain letters, digits, '_', '.' "
				      "and '-', not '%c'",
				      shown(n), p, p[i]);
	}
	return PG_OK;
}

static int
check_digest(const struct parse *ps, const char *p, size_t n)
{
	const char *colon;
	size_t an, hn, want, i;

	if (n == 0)
		return reject(ps, "the digest after '@' is empty");
	if (span_chr(p, n, '@') != NULL)
		return reject(ps, "more than one '@'; only one digest may follow the name");
	colon = span_chr(p, n, ':');
	if (colon == NULL || colon == p)
		return reject(ps,
			      "digest \"%.*s\" must be <algorithm>:<hex>, e.g. sha256:<64 hex "
			      "digits>",
			      shown(n), p);
	an = (size_t)(colon - p);
	hn = n - an - 1;
	if (span_eq(p, an, "sha256"))
		want = SHA256_HEX;
	else if (span_eq(p, an, "sha512"))
		want = SHA512_HEX;
	else
		return reject(ps,
			      "digest algorithm \"%.*s\" is not supported (use sha256 or sha512)",
			      shown(an), p);
	for (i = 0; i < hn; i++) {
		if (!is_hex(colon[1 + i]))
			return reject(ps, "digest \"%.*s\" holds '%c', which is not a hex digit",
				      shown(n), p, colon[1 + i]);
		if (!is_lower_hex(colon[1 + i]))
			return reject(ps, "digest \"%.*s\" must be written in lower-case hex",
				      shown(n), p);
	}
	if (hn != want)
		return reject(ps, "a %.*s digest has %zu hex digits, not %zu", shown(an), p, want,
			      hn);
	return PG_OK;
}

/* Reject what no piece-wise check explains well: oversize, empty, URLs,
 * characters no reference may hold, and bare image IDs. */
static int
check_whole(const struct parse *ps)
{
	size_t i;

	if (ps->n > PG_REF_INPUT_MAX)
		return reject(ps, "longer than %d characters", PG_REF_INPUT_MAX);
	if (ps->n == 0)
		return reject(ps, "the reference is empty");
	if (strstr(ps->s, "://") != NULL)
		return reject(ps, "an image reference has no URL scheme; write host/path[:tag], "
				  "without \"http://\" or similar");
	for (i = 0; i < ps->n; i++) {
		char c = ps->s[i];

		if (is_ref_char(c))
			continue;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			return reject(ps, "white space at position %zu; a reference has none",
				      i + 1);
		if (c > 0x20 && c < 0x7f)
			return reject(ps, "character '%c' at position %zu is not allowed", c,
				      i + 1);
		return reject(ps, "byte 0x%02x at position %zu is not allowed",
			      (unsigned)(unsigned char)c, i + 1);
	}
	if (ps->n == SHA256_HEX) {
		for (i = 0; i < ps->n && is_lower_hex(ps->s[i]); i++)
			;
		if (i == ps->n)
			return reject(ps, "a bare 64-digit hex string is an image ID, not a "
					  "reference; write name@sha256:<hex>");
	}
	return PG_OK;
}

static bool
looks_like_registry(const char *p, size_t n)
{
	size_t i;

	if (span_eq(p, n, "localhost") || span_chr(p, n, '.') || span_chr(p, n, ':'))
		return true;
	for (i = 0; i < n; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z')
			return true;
	}
	return false;
}

/* oci: the first component is the registry whatever its shape, and
 * nothing is added to the path (ORAS, as Helm and Argo CD pull charts). */
static int
parse_ref(pg_image_ref **out, const char *s, bool oci, pg_err *err)
{
	int rc = PG_ENOMEM;
	struct parse ps = {s ? s : "", 0, err};
	const char *at, *slash, *colon, *first;
	const char *reg = DEFAULT_REGISTRY, *prefix = "";
	const char *path, *tag = NULL, *dig = NULL;
	size_t name_n, reg_n = strlen(DEFAULT_REGISTRY), path_n, tag_n = 0, dig_n = 0, total;
	bool explicit_reg = false;
	pg_image_ref *r = NULL;
	pg_buf b;

	pg_buf_init(&b, 2 * PG_REF_INPUT_MAX);
	*out = NULL;
	ps.n = strnlen(ps.s, PG_REF_INPUT_MAX + 1);
	if ((rc = check_whole(&ps)) != PG_OK)
		goto out;

	/* name[:tag] '@' digest: neither name nor tag may hold '@'. */
	name_n = ps.n;
	if ((at = span_chr(ps.s, ps.n, '@')) != NULL) {
		name_n = (size_t)(at - ps.s);
		dig = at + 1;
		dig_n = ps.n - name_n - 1;
	}
	/* The tag starts at a ':' after the last '/': a path holds no ':'. */
	slash = span_rchr(ps.s, name_n, '/');
	first = slash ? slash + 1 : ps.s;
	if ((colon = span_chr(first, name_n - (size_t)(first - ps.s), ':')) != NULL) {
		tag = colon + 1;
		tag_n = name_n - (size_t)(tag - ps.s);
		name_n = (size_t)(colon - ps.s);
	}
	if (name_n == 0) {
		rc =
		    reject(&ps, "no repository name before the %s", dig && !tag ? "digest" : "tag");
		goto out;
	}

	path = ps.s;
	path_n = name_n;
	slash = span_chr(ps.s, name_n, '/');
	if (oci && slash == NULL) {
		rc = reject(&ps, "an OCI reference is host/path: it names no host");
		goto out;
	}
	if (slash != NULL && (oci || looks_like_registry(ps.s, (size_t)(slash - ps.s)))) {
		explicit_reg = true;
		reg = ps.s;
		reg_n = (size_t)(slash - ps.s);
		path = slash + 1;
		path_n = name_n - reg_n - 1;
		if (span_eq(reg, reg_n, LEGACY_REGISTRY)) {
			reg = DEFAULT_REGISTRY;
			reg_n = strlen(DEFAULT_REGISTRY);
		}
	}
	if (!oci && span_eq(reg, reg_n, DEFAULT_REGISTRY) && span_chr(path, path_n, '/') == NULL)
		prefix = OFFICIAL_PREFIX;

	if (explicit_reg && (rc = check_registry(&ps, reg, reg_n)) != PG_OK)
		goto out;
	if ((rc = check_path(&ps, path, path_n)) != PG_OK)
		goto out;
	if (tag && (rc = check_tag(&ps, tag, tag_n)) != PG_OK)
		goto out;
	if (dig && (rc = check_digest(&ps, dig, dig_n)) != PG_OK)
		goto out;
	total = reg_n + 1 + strlen(prefix) + path_n;
	if (total > PG_REF_NAME_MAX) {
		rc = reject(&ps,
			    "the name (registry/repository) is %zu characters long, more "
			    "than %d",
			    total, PG_REF_NAME_MAX);
		goto out;
	}
	if (tag == NULL && dig == NULL) {
		tag = DEFAULT_TAG;
		tag_n = strlen(DEFAULT_TAG);
	}

	rc = PG_ENOMEM;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	if ((r->registry = pg_strndup(reg, reg_n)) == NULL)
		goto out;
	if (pg_buf_puts(&b, prefix) != PG_OK || pg_buf_append(&b, path, path_n) != PG_OK ||
	    pg_buf_detach(&r->repository, NULL, &b) != PG_OK)
		goto out;
	if (tag && (r->tag = pg_strndup(tag, tag_n)) == NULL)
		goto out;
	if (dig && (r->digest = pg_strndup(dig, dig_n)) == NULL)
		goto out;
	if (pg_buf_printf(&b, "%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "",
			  r->tag ? r->tag : "", r->digest ? "@" : "",
			  r->digest ? r->digest : "") != PG_OK ||
	    pg_buf_detach(&r->normalized, NULL, &b) != PG_OK)
		goto out;
	*out = r;
	r = NULL;
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM)
		pg_err_set(err, rc, "out of memory");
	pg_buf_free(&b);
	pg_ref_free(r);
	return rc;
}

int
pg_ref_parse_image(pg_image_ref **out, const char *s, pg_err *err)
{
	return parse_ref(out, s, false, err);
}

int
pg_ref_parse_oci(pg_image_ref **out, const char *s, pg_err *err)
{
	return parse_ref(out, s, true, err);
}

void
pg_ref_free(pg_image_ref *r)
{
	if (r == NULL)
		return;
	free(r->normalized);
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	free(r);
}
