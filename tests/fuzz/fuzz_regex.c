/*
 * libFuzzer target: re/ — the identity and issuer regular expressions of
 * policies and of verify-image's flags.  Input: pattern, a NUL byte, then
 * a subject.  Whatever compiles must match within libFuzzer's memory and
 * time limits.  Small patterns over a tiny alphabet are also matched with
 * glibc's regexec, whose ERE means the same there, and the two must agree.
 */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../webhook/re/re.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Patterns where Go's syntax and POSIX ERE agree on meaning. */
static bool
comparable(const char *p, const char *s)
{
	if (strlen(p) > 12 || strlen(s) > 16)
		return false;
	if (strspn(p, "abc().*+?|^$[]") != strlen(p) || strspn(s, "abc") != strlen(s))
		return false;
	/* an empty group or alternative, or an anchor followed by a
	 * repetition, is read differently by glibc */
	/* glibc lets an anchor inside a repeated group match again after the
	 * first round ("(^b)+$" matches "bb"); Go's ^ and $ mean only the ends
	 * of the text, so anchors are compared only at the pattern's ends */
	if (strchr(p, '^') != NULL && (p[0] != '^' || strchr(p + 1, '^') != NULL))
		return false;
	if (strchr(p, '$') != NULL && strchr(p, '$') != p + strlen(p) - 1)
		return false;
	return strstr(p, "()") == NULL && strstr(p, "(|") == NULL && strstr(p, "|)") == NULL &&
	       strstr(p, "||") == NULL && p[0] != '|' &&
	       (p[0] == '\0' || p[strlen(p) - 1] != '|') && strstr(p, "^*") == NULL &&
	       strstr(p, "^+") == NULL && strstr(p, "^?") == NULL && strstr(p, "$*") == NULL &&
	       strstr(p, "$+") == NULL && strstr(p, "$?") == NULL && strstr(p, "*?") == NULL &&
	       strstr(p, "+?") == NULL && strstr(p, "??") == NULL && strchr(p, '[') == NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *pat, *subj;
	pg_re *re;
	pg_err e;
	bool mine;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	pat = buf;
	subj = buf + strlen(buf) + 1;
	if (subj > buf + size)
		subj = buf + size + 1;
	pg_err_clear(&e);
	if (pg_re_new(&re, pat, &e) != PG_OK) {
		if (e.msg[0] == '\0')
			abort(); /* every refusal says why */
		free(buf);
		return 0;
	}
	if (pg_re_match(re, subj, strlen(subj), &mine, &e) == PG_OK && comparable(pat, subj)) {
		regex_t rx;

		if (regcomp(&rx, pat, REG_EXTENDED | REG_NOSUB) == 0) {
			bool theirs = regexec(&rx, subj, 0, NULL, 0) == 0;

			regfree(&rx);
			if (mine != theirs)
				abort();
		}
	}
	pg_re_free(re);
	free(buf);
	return 0;
}
