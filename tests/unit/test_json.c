/* Unit tests of json/: string at a key, present members, values and
 * strings at key paths, RFC 6901 pointers, proto3 int64s; every wrong shape
 * gives NULL / PG_EINVAL.  Go's key folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
test_field(void **state)
{
	json_t *d = json_loads("{\"n\":null,\"s\":\"x\",\"o\":{},\"z\":0}", 0, NULL);

	(void)state;
	assert_non_null(d);
	assert_null(pg_json_field(d, "n")); /* null reads as absent */
	assert_null(pg_json_field(d, "missing"));
	assert_ptr_equal(pg_json_field(d, "s"), json_object_get(d, "s"));
	assert_ptr_equal(pg_json_field(d, "o"), json_object_get(d, "o"));
	assert_ptr_equal(pg_json_field(d, "z"), json_object_get(d, "z"));
	assert_null(pg_json_field(json_object_get(d, "s"), "s")); /* not an object */
	assert_null(pg_json_field(NULL, "s"));
	json_decref(d);
}

static void
test_pointer(void **state)
{
	json_t *d = json_loads("{\"a\":{\"b\":[\"x\",\"y\"]},\"a/b\":1,\"t~x\":2,\"\":3}", 0, NULL);
	const json_t *v = NULL;
	char *p;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pg_json_pointer(&v, d, ""), PG_OK);
	assert_ptr_equal(v, d); /* the whole document */
	assert_int_equal(pg_json_pointer(&v, d, "/a/b/1"), PG_OK);
	assert_string_equal(json_string_value(v), "y");
	assert_int_equal(pg_json_pointer(&v, d, "/a~1b"), PG_OK);
	assert_int_equal(json_integer_value(v), 1);
	assert_int_equal(pg_json_pointer(&v, d, "/t~0x"), PG_OK);
	assert_int_equal(json_integer_value(v), 2);
	assert_int_equal(pg_json_pointer(&v, d, "/"), PG_OK); /* the "" key */
	assert_int_equal(json_integer_value(v), 3);
	/* well formed, leading nowhere: NULL, PG_OK */
	assert_int_equal(pg_json_pointer(&v, d, "/a/b/01"), PG_OK); /* leading zero */
	assert_null(v);
	assert_int_equal(pg_json_pointer(&v, d, "/a/b/2"), PG_OK);
	assert_null(v);
	assert_int_equal(pg_json_pointer(&v, d, "/a/b/-"), PG_OK);
	assert_null(v);
	assert_int_equal(pg_json_pointer(&v, d, "/a/b/0/deeper"), PG_OK);
	assert_null(v);
	assert_int_equal(pg_json_pointer(&v, d, "/missing/x"), PG_OK);
	assert_null(v);
	/* malformed, even past a missing step */
	assert_int_equal(pg_json_pointer(&v, d, "a"), PG_EINVAL);
	assert_int_equal(pg_json_pointer(&v, d, "/a~2"), PG_EINVAL);
	assert_int_equal(pg_json_pointer(&v, d, "/missing/~"), PG_EINVAL);
	assert_int_equal(pg_json_pointer(&v, d, NULL), PG_EINVAL);
	/* bounds: length and depth */
	p = malloc(PG_JSON_POINTER_MAX + 2);
	assert_non_null(p);
	memset(p, '/', PG_JSON_POINTER_DEPTH_MAX);
	p[PG_JSON_POINTER_DEPTH_MAX] = '\0';
	assert_int_equal(pg_json_pointer(&v, d, p), PG_OK);
	p[PG_JSON_POINTER_DEPTH_MAX] = '/';
	p[PG_JSON_POINTER_DEPTH_MAX + 1] = '\0';
	assert_int_equal(pg_json_pointer(&v, d, p), PG_EINVAL);
	p[0] = '/';
	memset(p + 1, 'k', PG_JSON_POINTER_MAX - 1);
	p[PG_JSON_POINTER_MAX] = '\0';
	assert_int_equal(pg_json_pointer(&v, d, p), PG_OK);
	assert_null(v);
	p[PG_JSON_POINTER_MAX] = 'k';
	p[PG_JSON_POINTER_MAX + 1] = '\0';
	assert_int_equal(pg_json_pointer(&v, d, p), PG_EINVAL);
	free(p);
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

/* Go's encoding/json key matching: ASCII case on both sides (fields such as
 * apiVersion are mixed case), K = U+212A and s = U+017F, nothing else. */
static void
test_go_fold(void **state)
{
	json_t *o = json_loads("{\"manifest\":1,\"MANIFEST\":2,\"manife\\u017ft\":3,"
			       "\"manifests\":4,\"Kind\":5}",
			       JSON_REJECT_DUPLICATES, NULL);

	(void)state;
	assert_non_null(o);
	assert_true(pg_json_go_fold_eq("manifest", "manifest"));
	assert_true(pg_json_go_fold_eq("Manifest", "manifest"));
	assert_true(pg_json_go_fold_eq("apiversion", "apiVersion"));
	assert_true(pg_json_go_fold_eq("APIVERSION", "apiVersion"));
	assert_true(pg_json_go_fold_eq("\xe2\x84\xaa"
				       "ind",
				       "kind"));
	assert_true(pg_json_go_fold_eq("\xe2\x84\xaa"
				       "ubeVersion",
				       "kubeVersion"));
	assert_true(pg_json_go_fold_eq("manife\xc5\xbf"
				       "t",
				       "manifest"));
	assert_true(pg_json_go_fold_eq("import-VALUES", "import-values"));
	assert_true(pg_json_go_fold_eq("CrItIcAl", "critical"));
	/* near misses */
	assert_false(pg_json_go_fold_eq("manifests", "manifest"));
	assert_false(pg_json_go_fold_eq("manifes", "manifest"));
	assert_false(pg_json_go_fold_eq("\xe2\x84\xaa"
					"ind",
					"mind"));
	assert_false(pg_json_go_fold_eq("manife\xc5\xbf"
					"t",
					"manifext"));
	assert_false(pg_json_go_fold_eq("import_values", "import-values"));
	assert_false(pg_json_go_fold_eq("na\xc3\xafme", "naime")); /* i-diaeresis */
	assert_false(pg_json_go_fold_eq("criticaI", "critical"));  /* capital i, not l */
	assert_int_equal(pg_json_go_fold_count(o, "manifest"), 3);
	assert_int_equal(pg_json_go_fold_count(o, "kind"), 1);
	assert_int_equal(pg_json_go_fold_count(o, "hooks"), 0);
	assert_int_equal(pg_json_go_fold_count(json_object_get(o, "Kind"), "kind"), 0);
	assert_int_equal(pg_json_go_fold_count(NULL, "kind"), 0);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accessors), cmocka_unit_test(test_field),
	    cmocka_unit_test(test_pointer),   cmocka_unit_test(test_int64),
	    cmocka_unit_test(test_go_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
