/* Unit tests of cli/: the one duration form of every time flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/cli/duration.c"

static uint64_t
dur(const char *s, uint64_t bare, int *rc)
{
	uint64_t v = 12345;

	*rc = pg_cli_duration(s, bare, 1, 3600000, &v);
	return *rc == 0 ? v : 0;
}

static void
test_duration_units(void **state)
{
	int rc;

	(void)state;
	assert_int_equal(dur("500ms", 1000, &rc), 500);
	assert_int_equal(dur("10s", 1000, &rc), 10000);
	assert_int_equal(dur("2m", 1000, &rc), 120000);
	assert_int_equal(dur("1h", 1000, &rc), 3600000);
	assert_int_equal(dur("1m30s", 1000, &rc), 90000);
	assert_int_equal(dur("1s500ms", 1000, &rc), 1500);
	/* a bare number is the flag's old unit */
	assert_int_equal(dur("8", 1000, &rc), 8000);
	assert_int_equal(dur("8000", 1, &rc), 8000);
	assert_int_equal(rc, 0);
}

static void
test_duration_refused(void **state)
{
	static const char *const bad[] = {
	    "",	   "s",	   "-1s",  "+1s",  "1.5s",
	    "10x", "10 s", " 10s", "10s ", "1m30",
	    "ms",  "1d",   "10S",  "1h1",  "99999999999999999999s",
	    "2h", /* over the bound */
	    "0s", /* under it */
	};
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)dur(bad[i], 1000, &rc);
		if (rc != -1)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	assert_int_equal(pg_cli_duration(NULL, 1, 0, 10, &(uint64_t){0}), -1);
}

static void
test_duration_human(void **state)
{
	char b[32];

	(void)state;
	human(b, sizeof(b), 3600000);
	assert_string_equal(b, "1h");
	human(b, sizeof(b), 600000);
	assert_string_equal(b, "10m");
	human(b, sizeof(b), 1000);
	assert_string_equal(b, "1s");
	human(b, sizeof(b), 1500);
	assert_string_equal(b, "1500ms");
	human(b, sizeof(b), 0);
	assert_string_equal(b, "0ms");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_units),
	    cmocka_unit_test(test_duration_refused),
	    cmocka_unit_test(test_duration_human),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
