/* cli/fail — the one way a verb reports failure to a person. */
#include "cli/cli.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
pg_cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
pg_cli_opt_raw(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	*val = *i + 1 < argc ? argv[++*i] : NULL;
	return 1;
}

int
pg_cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	int r = pg_cli_opt_raw(argc, argv, i, name, val);

	if (r == 1 && *val == NULL) {
		(void)pg_cli_fail(PG_EXIT_USAGE, "%s needs a value", name);
		return -1;
	}
	return r;
}

int
pg_cli_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
