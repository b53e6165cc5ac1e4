/*
 * policy/match — which rule applies to a reference, and which hosts a
 * policy could ever send us to.  Pure string work on a loaded policy: no
 * allocation on the common path, no locks (the policy is immutable).
 *
 * The glob is evaluated by dynamic programming over the subject, so its cost
 * is O(pattern x subject) whatever the pattern: an admitted object chooses
 * the subject, and backtracking matchers go exponential on "*a*a*a*b".
 */
#include "policy/policy_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Subjects up to this length are matched without allocating. */
#define PM_STACK_SUBJECT 1024
/* Hostnames are at most 253 characters, plus ":port". */
#define PM_HOST_MAX 262

static bool
pm_glob(const char *pat, const char *s, size_t n)
{
	bool stack_a[PM_STACK_SUBJECT + 1], stack_b[PM_STACK_SUBJECT + 1];
	bool *cur = stack_a, *nxt = stack_b, *heap = NULL, *tmp, any, res;
	size_t i, j;

	if (n > PM_STACK_SUBJECT) {
		if ((heap = calloc(2 * (n + 1), sizeof(*heap))) == NULL)
			return false; /* deny-by-default: no match */
		cur = heap;
		nxt = heap + n + 1;
	}
	memset(cur, 0, (n + 1) * sizeof(*cur));
	cur[0] = true;
	for (i = 0; pat[i] != '\0';) {
		any = false;
		if (pat[i] == '*' && pat[i + 1] == '*') {
			/* "**": any run, '/' included */
			while (pat[i] == '*')
				i++;
			nxt[0] = cur[0];
			for (j = 1; j <= n; j++)
				nxt[j] = cur[j] || nxt[j - 1];
		} else if (pat[i] == '*') {
			/* "*": any run within one path segment */
			i++;
			nxt[0] = cur[0];
			for (j = 1; j <= n; j++)
				nxt[j] = cur[j] || (nxt[j - 1] && s[j - 1] != '/');
		} else {
			nxt[0] = false;
			for (j = 1; j <= n; j++)
				nxt[j] = cur[j - 1] && s[j - 1] == pat[i];
			i++;
		}
		for (j = 0; j <= n && !any; j++)
			any = nxt[j];
		tmp = cur;
		cur = nxt;
		nxt = tmp;
		if (!any)
			break;
	}
	res = cur[n];
	free(heap);
	return res;
}

bool
pg_glob_match(const char *pattern, const char *s)
{
	if (pattern == NULL || s == NULL)
		return false;
	return pm_glob(pattern, s, strlen(s));
}

/* Does the pattern pin a tag or digest (":" after its last '/', or '@')? */
static bool
pm_pattern_pins(const char *pat)
{
	const char *slash = strrchr(pat, '/'), *colon = strrchr(pat, ':');

	if (strchr(pat, '@') != NULL)
		return true;
	return colon != NULL && (slash == NULL || colon > slash);
}

/* Length of ref without its ":tag" and "@digest". */
static size_t
pm_name_len(const char *ref)
{
	const char *at = strchr(ref, '@');
	size_t n = at ? (size_t)(at - ref) : strlen(ref), i, slash = 0, colon = 0;
	bool have_slash = false, have_colon = false;

	for (i = 0; i < n; i++) {
		if (ref[i] == '/') {
			slash = i;
			have_slash = true;
		} else if (ref[i] == ':') {
			colon = i;
			have_colon = true;
		}
	}
	if (have_colon && (!have_slash || colon > slash))
		return colon;
	return n;
}

static bool
pm_match_ref(const char *pat, const char *ref)
{
	size_t nl;

	if (pg_glob_match(pat, ref))
		return true;
	if (pm_pattern_pins(pat))
		return false;
	nl = pm_name_len(ref);
	return nl < strlen(ref) && pm_glob(pat, ref, nl);
}

const pg_rule *
pg_policy_match_image(const pg_policy *p, const char *normalized)
{
	size_t i, j;

	if (p == NULL || normalized == NULL)
		return NULL;
	for (i = 0; i < p->n_images; i++)
		for (j = 0; j < p->images[i]->n_match; j++)
			if (pm_match_ref(p->images[i]->match[j], normalized))
				return p->images[i];
	return NULL;
}

/* One chart pattern against a normalised location: scheme exactly, host by
 * a glob that sees only the host, path by a glob that sees only the path
 * (an OCI path carries ":version" like an image tag).  A location never
 * holds '?', '#' or '@' (pg_url_normalize refuses them), and the split
 * keeps a host '*' from reaching into the path. */
static bool
pm_chart(const char *pat, const char *loc, bool oci)
{
	char hp[PM_HOST_MAX + 1], hl[PM_HOST_MAX + 1];
	const char *ps = strstr(pat, "://"), *ls = strstr(loc, "://");
	const char *pp, *lp;
	size_t pn, ln;

	if (strcmp(pat, "**") == 0)
		return true;
	if (ps == NULL || ls == NULL || ps - pat != ls - loc ||
	    strncmp(pat, loc, (size_t)(ps - pat)) != 0)
		return false;
	ps += 3;
	ls += 3;
	pn = strcspn(ps, "/");
	ln = strcspn(ls, "/");
	if (pn == 0 || ln == 0 || pn > PM_HOST_MAX || ln > PM_HOST_MAX)
		return false;
	memcpy(hp, ps, pn);
	hp[pn] = '\0';
	memcpy(hl, ls, ln);
	hl[ln] = '\0';
	if (!pg_glob_match(hp, hl))
		return false;
	pp = ps + pn;
	lp = ls + ln;
	return oci ? pm_match_ref(pp, lp) : pg_glob_match(pp, lp);
}

const pg_rule *
pg_policy_match_chart(const pg_policy *p, const char *location)
{
	size_t i, j;
	bool oci;

	if (p == NULL || location == NULL)
		return NULL;
	oci = strncmp(location, "oci://", 6) == 0;
	for (i = 0; i < p->n_charts; i++)
		for (j = 0; j < p->charts[i]->n_match; j++)
			if (pm_chart(p->charts[i]->match[j], location, oci))
				return p->charts[i];
	return NULL;
}

const pg_rule *
pg_policy_match_chart_name(const pg_policy *p, const char *name)
{
	size_t i, j;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->n_charts; i++) {
		if (p->charts[i]->repository == NULL)
			continue;
		for (j = 0; j < p->charts[i]->n_chart_names; j++)
			if (pg_glob_match(p->charts[i]->chart_names[j], name))
				return p->charts[i];
	}
	return NULL;
}

/* The host part of a glob or URL: after "scheme://", up to the first '/'.
 * Lower-cased into buf; false when it does not fit. */
static bool
pm_host_part(char *buf, size_t cap, const char *s)
{
	const char *sep = strstr(s, "://"), *end;
	size_t n, i;

	if (sep != NULL && strchr(s, '/') > sep)
		s = sep + 3;
	end = strchr(s, '/');
	n = end ? (size_t)(end - s) : strlen(s);
	if (n == 0 || n >= cap)
		return false;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[n] = '\0';
	return true;
}

static bool
pm_host_matches(const char *pattern_or_url, const char *host, bool exact)
{
	char hp[PM_HOST_MAX + 1];

	if (!pm_host_part(hp, sizeof(hp), pattern_or_url))
		return false;
	if (strchr(hp, '*') != NULL)
		return !exact && pg_glob_match(hp, host);
	if (strcmp(hp, host) == 0)
		return true;
	/* image references say docker.io; its API lives on registry-1 */
	return strcmp(hp, "docker.io") == 0 && strcmp(host, "registry-1.docker.io") == 0;
}

static bool
pm_host_listed(const pg_policy *p, const char *host, bool exact)
{
	char h[PM_HOST_MAX + 1];
	size_t i, j, n;

	if (p == NULL || host == NULL)
		return false;
	n = strlen(host);
	if (n == 0 || n > PM_HOST_MAX || strchr(host, '/') != NULL)
		return false;
	for (i = 0; i <= n; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	for (i = 0; i < p->n_images + p->n_charts; i++) {
		const pg_rule *r = i < p->n_images ? p->images[i] : p->charts[i - p->n_images];

		for (j = 0; j < r->n_match; j++)
			if (pm_host_matches(r->match[j], h, exact))
				return true;
		if (r->repository && pm_host_matches(r->repository, h, exact))
			return true;
	}
	for (i = 0; i < p->n_registries; i++)
		if (strcasecmp(p->registries[i]->host, h) == 0)
			return true;
	return false;
}

bool
pg_policy_host_allowed(const pg_policy *p, const char *host)
{
	return pm_host_listed(p, host, false);
}

bool
pg_policy_host_named(const pg_policy *p, const char *host)
{
	return pm_host_listed(p, host, true);
}

const pg_registry_cfg *const *
pg_policy_registries(const pg_policy *p, size_t *n)
{
	*n = p->n_registries;
	return (const pg_registry_cfg *const *)p->registries;
}

const pg_trust *
pg_policy_default_root(const pg_policy *p)
{
	if (p->n_trust[PG_TRUST_ROOT] != 1)
		return NULL;
	return &p->trust[PG_TRUST_ROOT][0]->pub;
}

int
pg_policy_trust_files(const char ***out, size_t *n, const pg_policy *p)
{
	size_t c, i, k = 0, total = 0;
	const char **v;

	for (c = 0; c < PG_TRUST_NCAT; c++)
		total += p->n_trust[c];
	if ((v = calloc(total + 1, sizeof(*v))) == NULL) /* NULL-terminated too */
		return PG_ENOMEM;
	for (c = 0; c < PG_TRUST_NCAT; c++)
		for (i = 0; i < p->n_trust[c]; i++)
			if (p->trust[c][i]->resolved)
				v[k++] = p->trust[c][i]->resolved;
	*out = v;
	*n = k;
	return PG_OK;
}
