/* Unit tests of re/: what Go's regexp refuses and what glibc would expand
 * out of all proportion is refused before regcomp; everyday identity
 * patterns compile and match as cosign's do (unanchored). */
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
	regex_t rx;

	pg_err_clear(&e);
	if (pg_re_compile(&rx, re, &e) != PG_OK)
		fail_msg("refused \"%s\": %s", re, e.msg);
	regfree(&rx);
}

static void
refuses(const char *re, const char *why)
{
	pg_err e;
	regex_t rx;

	pg_err_clear(&e);
	if (pg_re_compile(&rx, re, &e) == PG_OK) {
		regfree(&rx);
		fail_msg("accepted \"%s\"", re);
	}
	if (strstr(e.msg, why) == NULL)
		fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", re, e.msg, why);
}

static void
test_everyday_patterns(void **state)
{
	(void)state;
	accepts("^https://github\\.com/acme/.+/\\.github/workflows/release\\.ya?ml@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$");
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
}

static void
test_refused(void **state)
{
	char big[PG_RE_MAX_LEN + 2];
	char nest[2 * PG_RE_MAX_DEPTH + 8];
	int i;

	(void)state;
	/* found by fuzz_policy: every + doubles glibc's tree */
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
	refuses("abc\\", "trailing");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refuses(big, "longer than");
	for (i = 0; i <= PG_RE_MAX_DEPTH; i++)
		nest[i] = '(';
	nest[i] = '\0';
	refuses(nest, "too deeply");
}

static void
test_find_is_unanchored(void **state)
{
	pg_err e;
	bool m = false;

	(void)state;
	pg_err_clear(&e);
	assert_int_equal(pg_re_find("example\\.com", "ci@example.com", &m, &e), PG_OK);
	assert_true(m);
	assert_int_equal(pg_re_find("^example\\.com$", "ci@example.com", &m, &e), PG_OK);
	assert_false(m);
	assert_int_equal(pg_re_find("a**", "aaa", &m, &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "nested repetition"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everyday_patterns),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_find_is_unanchored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
