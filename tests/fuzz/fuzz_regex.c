/*
 * libFuzzer target: re/ — the identity and issuer regular expressions of
 * policies and of verify-image's flags.  Whatever pg_re_check lets through
 * must compile and match within libFuzzer's memory and time limits (glibc
 * copies every repetition out; a pattern it accepted once took 2 GiB).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../webhook/re/re.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char subject[] =
	    "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3";
	char *s = malloc(size + 1);
	regex_t rx;
	pg_err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	pg_err_clear(&e);
	if (pg_re_compile(&rx, s, &e) == PG_OK) {
		(void)regexec(&rx, subject, 0, NULL, 0);
		(void)regexec(&rx, s, 0, NULL, 0);
		regfree(&rx);
	} else if (e.msg[0] == '\0') {
		abort(); /* every refusal says why */
	}
	free(s);
	return 0;
}
