/* Unit tests of json/: string at a key, values and strings at key paths,
 * proto3 int64s; every wrong shape gives NULL / PG_EINVAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "json/json.h"

static void
test_accessors(void **state)
{
	json_t *d =
	    json_loads("{\"a\":{\"b\":{\"c\":\"x\",\"n\":3},\"s\":\"y\"},\"arr\":[1]}", 0, NULL);

	(void)state;
	assert_non_null(d);
	assert_string_equal(PG_JSON_STR_AT(d, "a", "b", "c"), "x");
	assert_string_equal(pg_json_str(PG_JSON_AT(d, "a"), "s"), "y");
	assert_null(pg_json_str(d, "a"));		    /* an object, not a string */
	assert_null(PG_JSON_STR_AT(d, "a", "b", "n"));	    /* not a string */
	assert_null(PG_JSON_STR_AT(d, "a", "b", "c", "d")); /* through a string */
	assert_null(PG_JSON_AT(d, "arr", "0"));		    /* arrays are not objects */
	assert_null(PG_JSON_AT(d, "missing", "b"));
	assert_ptr_equal(PG_JSON_AT(d, "a"), json_object_get(d, "a"));
	assert_null(pg_json_str(NULL, "a"));
	assert_null(pg_json_str(json_object_get(d, "arr"), "a"));
	json_decref(d);
}

static void
test_int64(void **state)
{
	json_t *v;
	int64_t n = 0;

	(void)state;
	v = json_integer(42);
	assert_int_equal(pg_json_int64(&n, v), PG_OK);
	assert_int_equal(n, 42);
	json_decref(v);
	v = json_string("-123456789012345678");
	assert_int_equal(pg_json_int64(&n, v), PG_OK);
	assert_true(n == -123456789012345678LL);
	json_decref(v);
	v = json_string("1234567890123456789"); /* 19 digits: refused, no overflow */
	assert_int_equal(pg_json_int64(&n, v), PG_EINVAL);
	json_decref(v);
	v = json_string("12a");
	assert_int_equal(pg_json_int64(&n, v), PG_EINVAL);
	json_decref(v);
	v = json_string("");
	assert_int_equal(pg_json_int64(&n, v), PG_EINVAL);
	json_decref(v);
	v = json_true();
	assert_int_equal(pg_json_int64(&n, v), PG_EINVAL);
	assert_int_equal(pg_json_int64(&n, NULL), PG_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accessors),
	    cmocka_unit_test(test_int64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
