/* cli/fail — the one way a verb reports failure to a person. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>

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
