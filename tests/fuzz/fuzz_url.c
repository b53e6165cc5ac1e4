/*
 * libFuzzer target for ref/url: any bytes as a chart repository URL, and
 * as a chart reference built on it.
 *
 * Beyond "does not crash", it checks what matching, fetching and logging
 * rely on, and aborts when it does not hold: an accepted URL is normalised
 * (normalising it again gives it back), holds none of '?', '#', '%', '@',
 * '\\', spaces or upper case in scheme and host, has no dot segment and no
 * trailing '/', no default port; a refusal has a message of printable
 * ASCII starting "invalid URL".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_url: invariant broken: %s\n", what);
		abort();
	}
}

static void
check_accepted(const char *u)
{
	const char *host, *path, *p;
	char *again = NULL;
	pg_err e;

	check(strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0 ||
		  strncmp(u, "oci://", 6) == 0,
	      "lower-case scheme");
	for (p = u; *p; p++)
		check(*p > 0x20 && *p < 0x7f && !strchr("?#%@\\", *p), "no trick characters");
	host = strstr(u, "://") + 3;
	path = host + strcspn(host, "/");
	check(path > host, "a host");
	for (p = host; p < path; p++)
		check(!(*p >= 'A' && *p <= 'Z'), "lower-case host");
	check(
	    !(path - host > 4 && strncmp(path - 4, ":443", 4) == 0 && strncmp(u, "http:", 5) != 0),
	    "no :443");
	check(!(path - host > 3 && strncmp(path - 3, ":80", 3) == 0 && strncmp(u, "http:", 5) == 0),
	      "no :80");
	check(strstr(path, "/./") == NULL && strstr(path, "/../") == NULL, "no dot segments");
	check(!(strlen(path) >= 2 && strcmp(path + strlen(path) - 2, "/.") == 0), "no trailing /.");
	check(!(strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0),
	      "no trailing /..");
	check(path[0] == '\0' || path[strlen(path) - 1] != '/', "no trailing /");
	check(pg_url_normalize(&again, u, &e) == PG_OK, "normalised form re-parses");
	check(strcmp(again, u) == 0, "normalising is idempotent");
	free(again);
}

static void
check_rejected(const pg_err *e)
{
	const char *p;

	check(e->code == PG_EINVAL, "code is PG_EINVAL");
	check(strncmp(e->msg, "invalid URL", 11) == 0, "message prefix");
	for (p = e->msg; *p; p++)
		check(*p >= 0x20 && *p < 0x7f, "message is printable ASCII");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *u = NULL;
	pg_chart_ref *c = NULL;
	pg_err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	pg_err_clear(&e);
	if (pg_url_normalize(&u, s, &e) == PG_OK)
		check_accepted(u);
	else if (e.code != PG_ENOMEM)
		check_rejected(&e);
	/* the chart location built on it holds the normalised URL */
	if (pg_chart_ref_new(&c, PG_CHART_REPO, s, "web", "1.0.0", &e) == PG_OK) {
		check(u != NULL, "a chart reference only on a URL that normalises");
		check(strncmp(c->location, u, strlen(u)) == 0 &&
			  strcmp(c->location + strlen(u), "/web") == 0,
		      "location is the normalised URL + /name");
	}
	pg_chart_ref_free(c);
	(void)pg_chart_version_exact(s);
	free(u);
	free(s);
	return 0;
}
