/*
 * ref/url — chart repository URLs parsed (RFC 3986) and normalised before
 * anything matches, fetches or logs them, so the three see one string.
 *
 * Accepted: scheme "https", "http" or "oci" (any case), "://", a host
 * (DNS name, IPv4, or [IPv6]) with an optional port, and a path.  Refused,
 * each with its own message: userinfo ("https://good@evil"), a query, a
 * fragment, a backslash, percent-encoding (a decoder would have to agree
 * with every server's), bytes outside printable ASCII, an empty host or
 * label, a port outside 1..65535.  Normalised: scheme and host lower-case,
 * the scheme's default port dropped (https and oci 443, http 80), dot
 * segments removed (RFC 3986 §5.2.4, never above the root), trailing '/'
 * dropped.  The output never holds '?', '#', '%', '@' or '\\', so a glob on
 * it cannot be fooled by them.  Pure string work; nothing is fetched.
 */
#include "ref/ref.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

static char
lc(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 3986 pchar without pct-encoded: unreserved / sub-delims / ":" / "@"
 * ('@' is refused separately: in a path it only ever confuses readers). */
static int
path_char(char c)
{
	return is_alnum(c) || strchr("-._~!$&'()*+,;=:/", c) != NULL;
}

/* Append the path with dot segments removed; a ".." at the root stays at
 * the root, as RFC 3986 says. */
static int
put_path(pg_buf *out, const char *p, size_t n)
{
	size_t root = out->len, i = 0;
	int rc = PG_OK;

	while (i < n && rc == PG_OK) {
		size_t s = i + 1, e = s;

		/* p[i] is '/': the segment is p[s..e) */
		while (e < n && p[e] != '/')
			e++;
		if (e - s == 1 && p[s] == '.') {
			/* "." : nothing */
		} else if (e - s == 2 && p[s] == '.' && p[s + 1] == '.') {
			while (out->len > root && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > root)
				out->len--; /* the '/' before the dropped segment */
			out->data[out->len] = '\0';
		} else {
			rc = pg_buf_append(out, p + i, e - i);
		}
		i = e;
	}
	/* no trailing '/': a repository base with or without one is the same */
	while (rc == PG_OK && out->len > root && out->data[out->len - 1] == '/')
		out->data[--out->len] = '\0';
	return rc;
}

int
pg_url_normalize(char **out, const char *s, pg_err *err)
{
	static const struct {
		const char *name;
		unsigned port;
	} schemes[] = {{"https", 443}, {"http", 80}, {"oci", 443}};
	pg_buf b;
	const char *auth, *host_end, *path, *p;
	char scheme[8];
	size_t n, i, sl;
	unsigned defport = 0;
	unsigned long port = 0;
	int rc = PG_EINVAL, have_port = 0;

	*out = NULL;
	pg_buf_init(&b, PG_URL_MAX + 1);
	if (s == NULL || (n = strlen(s)) == 0)
		return pg_err_set(err, PG_EINVAL, "invalid URL: empty");
	if (n > PG_URL_MAX)
		return pg_err_set(err, PG_EINVAL, "invalid URL: longer than %d bytes", PG_URL_MAX);
	/* first, so every message below may quote s: printable ASCII only */
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return pg_err_set(err, PG_EINVAL,
					  "invalid URL: control, space or non-ASCII byte");
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\')
			return pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\": backslash", s);
		if (c == '%')
			return pg_err_set(
			    err, PG_EINVAL,
			    "invalid URL \"%.200s\": percent-encoded characters are not accepted",
			    s);
		if (c == '?')
			return pg_err_set(err, PG_EINVAL,
					  "invalid URL \"%.200s\": query (?) not accepted", s);
		if (c == '#')
			return pg_err_set(err, PG_EINVAL,
					  "invalid URL \"%.200s\": fragment (#) not accepted", s);
	}
	for (sl = 0; sl < n && s[sl] != ':'; sl++)
		;
	if (sl == 0 || sl >= sizeof(scheme) || strncmp(s + sl, "://", 3) != 0)
		return pg_err_set(
		    err, PG_EINVAL,
		    "invalid URL \"%.200s\": must start with https://, http:// or oci://", s);
	for (i = 0; i < sl; i++)
		scheme[i] = lc(s[i]);
	scheme[sl] = '\0';
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcmp(scheme, schemes[i].name) == 0)
			defport = schemes[i].port;
	if (defport == 0)
		return pg_err_set(err, PG_EINVAL,
				  "invalid URL \"%.200s\": scheme must be https, http or oci", s);
	auth = s + sl + 3;
	path = auth + strcspn(auth, "/");
	if (memchr(auth, '@', (size_t)(path - auth)) != NULL)
		return pg_err_set(
		    err, PG_EINVAL,
		    "invalid URL \"%.200s\": user information (user@host) not accepted", s);
	if (strchr(path, '@') != NULL)
		return pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\": '@' in the path", s);
	/* host: [v6] or reg-name; then ":port" */
	if (auth[0] == '[') {
		host_end = auth + 1;
		while (host_end < path && *host_end != ']') {
			char c = *host_end;

			if (!((c >= '0' && c <= '9') || (lc(c) >= 'a' && lc(c) <= 'f') ||
			      c == ':' || c == '.'))
				return pg_err_set(err, PG_EINVAL,
						  "invalid URL \"%.200s\": bad IPv6 host", s);
			host_end++;
		}
		if (host_end >= path || host_end == auth + 1)
			return pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\": bad IPv6 host",
					  s);
		host_end++;
	} else {
		const char *label = auth;

		host_end = auth;
		while (host_end < path && *host_end != ':') {
			char c = *host_end;

			if (c == '.') {
				if (host_end == label)
					return pg_err_set(
					    err, PG_EINVAL,
					    "invalid URL \"%.200s\": empty host label", s);
				label = host_end + 1;
			} else if (!is_alnum(c) && c != '-' && c != '_') {
				return pg_err_set(err, PG_EINVAL,
						  "invalid URL \"%.200s\": '%c' in the host", s, c);
			}
			host_end++;
		}
		if (host_end == auth)
			return pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\": no host", s);
		if (host_end == label)
			return pg_err_set(err, PG_EINVAL,
					  "invalid URL \"%.200s\": empty host label", s);
	}
	if (host_end - auth > 253 + 2)
		return pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\": host too long", s);
	if (host_end < path) {
		if (*host_end != ':')
			return pg_err_set(err, PG_EINVAL, "invalid URL \"%.200s\": bad host", s);
		for (p = host_end + 1; p < path; p++) {
			if (*p < '0' || *p > '9' || port > 65535)
				return pg_err_set(err, PG_EINVAL,
						  "invalid URL \"%.200s\": bad port", s);
			port = port * 10 + (unsigned long)(*p - '0');
		}
		/* "host:" is the default port (RFC 3986 §6.2.3) */
		if (p > host_end + 1) {
			if (port == 0 || port > 65535)
				return pg_err_set(err, PG_EINVAL,
						  "invalid URL \"%.200s\": bad port", s);
			have_port = port != defport;
		}
	}
	for (p = path; *p; p++)
		if (!path_char(*p))
			return pg_err_set(err, PG_EINVAL,
					  "invalid URL \"%.200s\": '%c' in the path", s, *p);
	if ((rc = pg_buf_printf(&b, "%s://", scheme)) != PG_OK)
		goto out;
	for (p = auth; p < host_end && rc == PG_OK; p++) {
		char c = lc(*p);

		rc = pg_buf_append(&b, &c, 1);
	}
	if (rc == PG_OK && have_port)
		rc = pg_buf_printf(&b, ":%lu", port);
	if (rc == PG_OK)
		rc = put_path(&b, path, strlen(path));
	if (rc == PG_OK)
		rc = pg_buf_detach(out, NULL, &b);
out:
	if (rc != PG_OK)
		rc = pg_err_set(err, rc,
				rc == PG_ENOMEM ? "out of memory" : "invalid URL: too long");
	pg_buf_free(&b);
	return rc;
}

/* Strict semver 2.0 with an optional leading 'v': three numeric parts,
 * prerelease and build of [0-9A-Za-z.-]. */
bool
pg_chart_version_exact(const char *v)
{
	int part = 0;
	const char *p;

	if (v == NULL || v[0] == '\0')
		return false;
	p = v[0] == 'v' ? v + 1 : v;
	for (part = 0; part < 3; part++) {
		const char *d = p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == d || (p - d > 1 && *d == '0'))
			return false;
		if (part < 2) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	if (*p == '-' || *p == '+') {
		const char *q = p + 1;

		if (*q == '\0')
			return false;
		for (; *q; q++)
			if (!is_alnum(*q) && *q != '.' && *q != '-' && *q != '+')
				return false;
		return true;
	}
	return *p == '\0';
}
