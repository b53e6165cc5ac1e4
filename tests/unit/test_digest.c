/* Unit tests of digest/: known answers (FIPS 180-2 "abc"), incremental
 * equals one-shot, OCI digest strings, the shared implementations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "buf/buf.h"
#include "digest/digest.h"

static void
test_known_answers(void **state)
{
	static const char *const want[3] = {
	    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha384:"
	    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc23"
	    "58baeca134c825a7",
	    "sha512:"
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
	    "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	};
	char s[PG_DIGEST_STR_MAX];
	int a;

	(void)state;
	for (a = PG_DIGEST_SHA256; a <= PG_DIGEST_SHA512; a++) {
		assert_int_equal(pg_digest_string(s, (pg_digest_alg)a, "abc", 3), PG_OK);
		assert_string_equal(s, want[a]);
		assert_int_equal(strlen(s), strlen(pg_digest_name((pg_digest_alg)a)) + 1 +
						2 * pg_digest_size((pg_digest_alg)a));
	}
	assert_int_equal(pg_digest_string(s, (pg_digest_alg)7, "abc", 3), PG_EINVAL);
	assert_string_equal(s, "");
}

static void
test_incremental(void **state)
{
	unsigned char one[PG_DIGEST_MAX], inc[PG_DIGEST_MAX];
	pg_digest_ctx *c;
	int a;

	(void)state;
	for (a = PG_DIGEST_SHA256; a <= PG_DIGEST_SHA512; a++) {
		assert_int_equal(pg_digest(one, (pg_digest_alg)a, "hello, world", 12), PG_OK);
		assert_int_equal(pg_digest_begin(&c, (pg_digest_alg)a), PG_OK);
		assert_int_equal(pg_digest_update(c, "hello", 5), PG_OK);
		assert_int_equal(pg_digest_update(c, ", ", 2), PG_OK);
		assert_int_equal(pg_digest_update(c, "world", 5), PG_OK);
		assert_int_equal(pg_digest_end(c, inc), PG_OK);
		assert_memory_equal(one, inc, pg_digest_size((pg_digest_alg)a));
		/* one changed byte changes the digest */
		assert_int_equal(pg_digest(inc, (pg_digest_alg)a, "hello, World", 12), PG_OK);
		assert_memory_not_equal(one, inc, pg_digest_size((pg_digest_alg)a));
	}
	assert_int_equal(pg_digest_begin(&c, PG_DIGEST_SHA256), PG_OK);
	pg_digest_abort(c); /* no leak under ASan */
	pg_digest_abort(NULL);
	assert_int_equal(pg_sha256(one, "abc", 3), PG_OK);
	assert_int_equal(one[0], 0xba);
}

static void
test_md_shared(void **state)
{
	(void)state;
	assert_non_null(pg_digest_md(PG_DIGEST_SHA256));
	assert_ptr_equal(pg_digest_md(PG_DIGEST_SHA384), pg_digest_md(PG_DIGEST_SHA384));
	assert_ptr_not_equal(pg_digest_md(PG_DIGEST_SHA256), pg_digest_md(PG_DIGEST_SHA512));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_answers),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_md_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
