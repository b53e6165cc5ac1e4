/* Unit tests of admission/mutate: RFC 6901 pointer escaping of patch paths,
 * tag detection, and the base64 encoding the patch travels in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/decide/mutate.c"

static void
test_pointer_escaping(void **state)
{
	static const struct {
		const char *tok, *want;
	} c[] = {
	    {"spec", "/spec"}, {"a/b", "/a~1b"}, {"m~n", "/m~0n"},
	    {"~/", "/~0~1"},   {"~1", "/~01"}, /* not "/~1": "~1" must not decode to "/" */
	    {"", "/"},	       {"0", "/0"},
	};
	pg_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_buf_init(&b, 0);
		assert_int_equal(pg_json_pointer_append(&b, c[i].tok), PG_OK);
		assert_string_equal((char *)b.data, c[i].want);
		pg_buf_free(&b);
	}
	pg_buf_init(&b, 0);
	assert_int_equal(pointer(&b, "volumes", 3, "image", "reference"), PG_OK);
	assert_string_equal((char *)b.data, "/spec/volumes/3/image/reference");
	pg_buf_free(&b);
}

static void
test_has_tag(void **state)
{
	(void)state;
	assert_true(has_tag("nginx:1"));
	assert_true(has_tag("localhost:5000/app:1"));
	assert_false(has_tag("localhost:5000/app"));
	assert_false(has_tag("nginx"));
	assert_false(has_tag("a.io/b/c"));
}

static void
test_base64_encode(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {"",	       "Zg==",	   "Zm8=",    "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	unsigned char all[256];
	pg_buf e, d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		pg_buf_init(&e, 0);
		assert_int_equal(pg_base64_encode(&e, in[i], strlen(in[i])), PG_OK);
		assert_int_equal(pg_buf_puts(&e, ""), PG_OK);
		assert_string_equal((char *)e.data, want[i]);
		pg_buf_free(&e);
	}
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(255 - i);
	pg_buf_init(&e, 0);
	pg_buf_init(&d, 0);
	assert_int_equal(pg_base64_encode(&e, all, sizeof(all)), PG_OK);
	assert_int_equal(pg_base64_decode(&d, (char *)e.data, e.len, PG_B64_NO_SPACE), PG_OK);
	assert_int_equal(d.len, sizeof(all));
	assert_memory_equal(d.data, all, sizeof(all));
	pg_buf_free(&e);
	pg_buf_free(&d);
	/* the bound is honoured */
	pg_buf_init(&e, 8);
	assert_int_equal(pg_base64_encode(&e, "foobarfoobar", 12), PG_ETOOBIG);
	pg_buf_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pointer_escaping),
	    cmocka_unit_test(test_has_tag),
	    cmocka_unit_test(test_base64_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
