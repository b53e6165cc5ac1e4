/* Unit tests of re/: Go regexp syntax and its refusals, unanchored
 * matching with Go's semantics (\d, `.` and newlines, `$` at the end of
 * text, UTF-8 characters), and linear time on patterns that take glibc's
 * regexec minutes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "../../webhook/re/re.c"

static void
accepts(const char *re)
{
	pg_err e;
	pg_re *r;

	pg_err_clear(&e);
	if (pg_re_new(&r, re, &e) != PG_OK)
		fail_msg("refused \"%s\": %s", re, e.msg);
	pg_re_free(r);
}

static void
refuses(const char *re, const char *why)
{
	pg_err e;
	pg_re *r;

	pg_err_clear(&e);
	if (pg_re_new(&r, re, &e) == PG_OK) {
		pg_re_free(r);
		fail_msg("accepted \"%s\"", re);
	}
	if (strstr(e.msg, why) == NULL)
		fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", re, e.msg, why);
}

static bool
m(const char *re, const char *s)
{
	pg_err e;
	bool r = false;

	pg_err_clear(&e);
	if (pg_re_find(re, s, &r, &e) != PG_OK)
		fail_msg("\"%s\" on \"%s\": %s", re, s, e.msg);
	return r;
}

static void
test_everyday_patterns(void **state)
{
	(void)state;
	accepts("^https://github\\.com/acme/.+/\\.github/workflows/release\\.ya?ml@refs/tags/"
		"v[0-9]+\\.[0-9]+\\.[0-9]+$");
	accepts("^https://token\\.actions\\.githubusercontent\\.com$");
	accepts(".*@example\\.com");
	accepts("[[:alnum:]._-]{1,63}@(corp|ops)\\.example\\.org");
	accepts("[]a-z]+");
	accepts("[^]]*");
	accepts("a*?b+?c??"); /* lazy forms, as Go allows */
	accepts("x{2,}y{,3}z{0}");
	accepts("(a{10}){100}"); /* 1000 copies: at Go's limit */
	accepts("a{1000}");
	accepts("");
	accepts("a{");
	accepts("a|");
	accepts("()");
}

static void
test_refused(void **state)
{
	char big[PG_RE_MAX_LEN + 2];
	char nest[2 * PG_RE_MAX_DEPTH + 8];
	int i;

	(void)state;
	/* found by fuzz_policy: every + doubled glibc's tree */
	refuses("^https++++++++++++++++++++++++++++++++++++++++://.*$", "nested repetition");
	refuses("a**", "nested repetition");
	refuses("a+{2}", "nested repetition");
	refuses("a???", "nested repetition");
	refuses("a{1001}", "above 1000");
	refuses("a{2,1001}", "above 1000");
	refuses("a{3,2}", "invalid repetition range");
	refuses("(a{1000}){1000}", "too large");
	refuses("((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+", "too large");
	refuses("*a", "missing argument");
	refuses("(+a)", "missing argument");
	refuses("a|{2}", "missing argument");
	refuses("(a)\\1", "back-references");
	refuses("(?i)github", "(?...)");
	refuses("(ab", "missing )");
	refuses("ab)", "unmatched )");
	refuses("[a-z", "unterminated");
	refuses("[[:alpha:]", "unterminated");
	refuses("[[:alfa:]]", "invalid character class");
	refuses("[z-a]", "invalid character class range");
	refuses("abc\\", "trailing");
	refuses("\\q", "invalid escape");
	refuses("\\bword", "not supported");
	refuses("\\pL", "not supported");
	refuses("a\xff", "invalid UTF-8");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refuses(big, "longer than");
	for (i = 0; i <= PG_RE_MAX_DEPTH; i++)
		nest[i] = '(';
	nest[i] = '\0';
	refuses(nest, "too deeply");
}

static void
test_matching(void **state)
{
	(void)state;
	/* unanchored, as Go's MatchString */
	assert_true(m("example\\.com", "ci@example.com"));
	assert_false(m("^example\\.com$", "ci@example.com"));
	assert_true(m("^ci@example\\.com$", "ci@example.com"));
	assert_false(m("^ci@example\\.com$", "ci@example.com\n")); /* $ is end of text */
	assert_false(m("example.com", "exampleXcon"));
	assert_true(m("example.com", "exampleXcom"));
	/* Go's classes, not glibc's: \d is a digit, not the letter d */
	assert_true(m("^v\\d+\\.\\d+$", "v1.22"));
	assert_false(m("^v\\d+$", "vd"));
	assert_true(m("^\\w+$", "a_Z9"));
	assert_false(m("^\\w+$", "a-b"));
	assert_true(m("^\\S+\\s\\S+$", "a b"));
	assert_true(m("^[\\d.]+$", "1.2.3"));
	assert_true(m("^[^\\d]+$", "abc"));
	assert_false(m("^[^\\d]+$", "a1c"));
	assert_true(m("^[[:upper:]][[:lower:]]+$", "Acme"));
	assert_true(m("^[[:^digit:]]+$", "ab"));
	/* `.` never matches a newline; a negated class does */
	assert_false(m("^a.b$", "a\nb"));
	assert_true(m("^a[^x]b$", "a\nb"));
	/* characters, not bytes */
	assert_true(m("^.$", "\xc3\xa9"));
	assert_true(m("^[\xc3\xa0-\xc3\xbf]+$", "\xc3\xa9\xc3\xa8"));
	assert_true(m("^\\x41\\x{1F600}$", "A\xf0\x9f\x98\x80"));
	/* alternation, groups, repetition */
	assert_true(m("^(corp|ops)\\.example$", "ops.example"));
	assert_false(m("^(corp|ops)\\.example$", "dev.example"));
	assert_true(m("a|", "zzz"));
	assert_true(m("^(ab){2,3}$", "ababab"));
	assert_false(m("^(ab){2,3}$", "ab"));
	assert_false(m("^(ab){2,3}$", "abababab"));
	assert_true(m("^a{2,}$", "aaaa"));
	assert_true(m("^x{,3}$", "x{,3}")); /* Go: not a repetition */
	assert_true(m("^(a*)*b$", "aaab"));
	assert_true(m("^(a|b)*a(a|b){3}$", "baabaa"));
	assert_false(m("^(a|b)*a(a|b){3}$", "babbaa"));
	assert_true(m("^$", ""));
	assert_true(m("", "anything"));
	assert_true(m("\\Aab\\z", "ab"));
}

/* glibc's regexec took 8 minutes and 9.5 GiB on this pattern and a
 * 2000-byte subject; the Pike VM visits each instruction once per byte. */
static void
test_linear_time(void **state)
{
	static char s[PG_RE_MAX_SUBJECT + 1];
	pg_re *r;
	pg_err e;
	bool mt = true;
	size_t i;

	(void)state;
	for (i = 0; i < PG_RE_MAX_SUBJECT; i++)
		s[i] = (i * 7 % 3) ? 'a' : 'b';
	pg_err_clear(&e);
	assert_int_equal(pg_re_new(&r, "(a|b)*a(a|b){999}c", &e), PG_OK);
	assert_int_equal(pg_re_match(r, s, PG_RE_MAX_SUBJECT, &mt, &e), PG_OK);
	assert_false(mt);
	assert_int_equal(pg_re_match(r, s, PG_RE_MAX_SUBJECT + 1, &mt, &e), PG_ETOOBIG);
	assert_false(mt);
	pg_re_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_everyday_patterns),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_matching),
	    cmocka_unit_test(test_linear_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
