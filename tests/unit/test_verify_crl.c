/* Unit tests of verify/crl.c's CRL cache: kept until nextUpdate, bounded
 * in entries (LRU), a URL replaced in place, copies handed out, and what
 * pg_notation_crl_next_update says about bytes that are not a CRL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "../../webhook/verify/crl.c"

static void
url_of(char *out, size_t n, int i)
{
	(void)snprintf(out, n, "https://crl.example/%d.crl", i);
}

static void
test_until_next_update(void **state)
{
	unsigned char *b = NULL;
	size_t len = 0;

	(void)state;
	pg_verify__crl_cache_clear();
	cache_put("https://a/x.crl", (const unsigned char *)"abc", 3, 2000);
	assert_int_equal(cache_get(&b, &len, "https://a/x.crl", 1999), PG_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(b, "abc", 3);
	free(b);
	assert_int_equal(cache_get(&b, &len, "https://a/other.crl", 1999), PG_ENOTFOUND);
	/* past nextUpdate: gone, and dropped */
	assert_int_equal(cache_get(&b, &len, "https://a/x.crl", 2000), PG_ENOTFOUND);
	assert_int_equal(crl_bytes, 0);
	/* a newer copy replaces the old one */
	cache_put("https://a/x.crl", (const unsigned char *)"abc", 3, 2000);
	cache_put("https://a/x.crl", (const unsigned char *)"defg", 4, 3000);
	assert_int_equal(crl_bytes, 4);
	assert_int_equal(cache_get(&b, &len, "https://a/x.crl", 2500), PG_OK);
	assert_int_equal(len, 4);
	free(b);
	pg_verify__crl_cache_clear();
	assert_int_equal(crl_bytes, 0);
}

static void
test_bounded_lru(void **state)
{
	unsigned char *b = NULL;
	size_t len = 0, n = 0, i;
	char u[64];

	(void)state;
	pg_verify__crl_cache_clear();
	for (i = 0; i < PG_CRL_CACHE_N; i++) {
		url_of(u, sizeof(u), (int)i);
		cache_put(u, (const unsigned char *)"x", 1, 5000);
	}
	/* touch 0: 1 is now the least recently used */
	url_of(u, sizeof(u), 0);
	assert_int_equal(cache_get(&b, &len, u, 100), PG_OK);
	free(b);
	url_of(u, sizeof(u), 1000);
	cache_put(u, (const unsigned char *)"y", 1, 5000);
	for (i = 0; i < PG_CRL_CACHE_N; i++)
		n += crl_cache[i].url != NULL;
	assert_int_equal(n, PG_CRL_CACHE_N);
	url_of(u, sizeof(u), 1);
	assert_int_equal(cache_get(&b, &len, u, 100), PG_ENOTFOUND);
	url_of(u, sizeof(u), 0);
	assert_int_equal(cache_get(&b, &len, u, 100), PG_OK);
	free(b);
	/* a CRL larger than the whole cache is not kept */
	cache_put("https://big/", (const unsigned char *)"z", PG_CRL_CACHE_BYTES + 1, 5000);
	assert_int_equal(cache_get(&b, &len, "https://big/", 100), PG_ENOTFOUND);
	pg_verify__crl_cache_clear();
}

static void
test_not_a_crl(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(pg_notation_crl_next_update(&t, (const unsigned char *)"hello", 5),
			 PG_EINVAL);
	assert_int_equal(pg_notation_crl_next_update(&t, NULL, 0), PG_EINVAL);
	assert_int_equal(pg_notation_crl_next_update(
			     &t, (const unsigned char *)"-----BEGIN X509 CRL-----\nAAAA\n", 29),
			 PG_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_until_next_update),
	    cmocka_unit_test(test_bounded_lru),
	    cmocka_unit_test(test_not_a_crl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
