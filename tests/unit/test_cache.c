/* Unit tests of cache/: TTLs, what is never cached, bounds, LRU order,
 * coalescing with per-waiter deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "../../webhook/cache/cache.c"

static int64_t fake_now = 1000000;
static int64_t
fake_clock(void)
{
	return fake_now;
}

static pg_cache *
mk(size_t entries, size_t bytes)
{
	pg_cache *c = NULL;
	pg_cache_opts o = {
	    .max_entries = entries, .max_bytes = bytes, .pos_ttl_ms = 600000, .neg_ttl_ms = 30000};

	assert_int_equal(pg_cache_new(&c, &o), PG_OK);
	pg_cache_set_clock(c, fake_clock);
	return c;
}

static void
put(pg_cache *c, const char *k, bool ok, int code, int64_t ttl)
{
	pg_cache_val v = {.ok = ok,
			  .code = code,
			  .digest = "sha256:ab",
			  .signer = "key",
			  .reason = ok ? "verified" : "bad signature"};

	(void)pg_cache_put(c, k, &v, ttl);
}

static int
has(pg_cache *c, const char *k)
{
	pg_cache_val v;
	int h = pg_cache_get(c, k, &v);

	if (h)
		pg_cache_val_clear(&v);
	return h;
}

static void
test_positive_ttl(void **state)
{
	pg_cache *c = mk(0, 0);
	pg_cache_val v;

	(void)state;
	put(c, "k", true, PG_OK, 0);
	assert_int_equal(pg_cache_get(c, "k", &v), 1);
	assert_true(v.ok);
	assert_string_equal(v.digest, "sha256:ab");
	assert_string_equal(v.reason, "verified");
	pg_cache_val_clear(&v);
	fake_now += 599999;
	assert_true(has(c, "k"));
	fake_now += 2;
	assert_false(has(c, "k"));
	pg_cache_free(c);
}

static void
test_negative_ttl(void **state)
{
	pg_cache *c = mk(0, 0);

	(void)state;
	put(c, "bad", false, PG_EVERIFY, 0);
	assert_true(has(c, "bad"));
	fake_now += 30001;
	assert_false(has(c, "bad"));
	pg_cache_free(c);
}

static void
test_explicit_ttl(void **state)
{
	pg_cache *c = mk(0, 0);

	(void)state;
	put(c, "tag", true, PG_OK, 5000);
	fake_now += 4999;
	assert_true(has(c, "tag"));
	fake_now += 2;
	assert_false(has(c, "tag"));
	pg_cache_free(c);
}

/* A caller's TTL (a tag's) never stretches a verdict past its kind's
 * default: a bad tag is re-checked after the negative TTL, not the tag's. */
static void
test_explicit_ttl_capped(void **state)
{
	pg_cache *c = mk(0, 0);

	(void)state;
	put(c, "badtag", false, PG_EVERIFY, 300000);
	put(c, "goodtag", true, PG_OK, 3600000);
	fake_now += 30001;
	assert_false(has(c, "badtag"));
	assert_true(has(c, "goodtag"));
	fake_now += 600000 - 30001 + 1;
	assert_false(has(c, "goodtag"));
	pg_cache_free(c);
}

static void
test_never_cached(void **state)
{
	pg_cache *c = mk(0, 0);
	const int codes[] = {PG_ETIMEOUT, PG_EFETCH,  PG_EUNAVAIL, PG_EINTERNAL,
			     PG_ENOMEM,	  PG_EDENIED, PG_ETOOBIG};
	size_t i;
	char k[16];

	(void)state;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		(void)snprintf(k, sizeof(k), "k%zu", i);
		put(c, k, false, codes[i], 0);
		assert_false(has(c, k));
		assert_false(pg_cache_cacheable(false, codes[i]));
	}
	assert_true(pg_cache_cacheable(false, PG_EVERIFY));
	assert_true(pg_cache_cacheable(true, PG_OK));
	pg_cache_free(c);
}

static void
test_entry_bound_lru(void **state)
{
	pg_cache *c = mk(3, 0);
	pg_cache_stats st;

	(void)state;
	put(c, "a", true, PG_OK, 0);
	put(c, "b", true, PG_OK, 0);
	put(c, "c", true, PG_OK, 0);
	assert_true(has(c, "a")); /* a is now most recent; b least */
	put(c, "d", true, PG_OK, 0);
	assert_false(has(c, "b"));
	assert_true(has(c, "a"));
	assert_true(has(c, "c"));
	assert_true(has(c, "d"));
	pg_cache_stats_get(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 1);
	pg_cache_free(c);
}

static void
test_byte_bound(void **state)
{
	pg_cache *c = mk(1000, 4096);
	pg_cache_stats st;
	char k[64];
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		(void)snprintf(k, sizeof(k), "key-%d", i);
		put(c, k, true, PG_OK, 0);
	}
	pg_cache_stats_get(c, &st);
	assert_true(st.bytes <= 4096);
	assert_true(st.entries < 200);
	assert_true(st.evictions > 0);
	assert_true(has(c, "key-199"));
	assert_false(has(c, "key-0"));
	pg_cache_free(c);
}

static void
test_replace(void **state)
{
	pg_cache *c = mk(0, 0);
	pg_cache_val v;
	pg_cache_stats st;

	(void)state;
	put(c, "k", false, PG_EVERIFY, 0);
	put(c, "k", true, PG_OK, 0);
	assert_int_equal(pg_cache_get(c, "k", &v), 1);
	assert_true(v.ok);
	pg_cache_val_clear(&v);
	pg_cache_stats_get(c, &st);
	assert_int_equal(st.entries, 1);
	pg_cache_free(c);
}

/* Coalescing: one owner, many waiters, all get the owner's verdict. */
typedef struct waiter_arg {
	pg_cache *c;
	int64_t deadline;
	pg_claim result;
	int ok;
} waiter_arg;

static void *
waiter(void *p)
{
	waiter_arg *a = p;
	pg_cache_val v;

	memset(&v, 0, sizeof(v));
	a->result = pg_cache_claim(a->c, "img", a->deadline, &v);
	a->ok = v.ok;
	pg_cache_val_clear(&v);
	return NULL;
}

static void
test_coalesce(void **state)
{
	pg_cache *c = NULL;
	pg_cache_val v = {0};
	pthread_t t[8];
	waiter_arg a[8];
	pg_cache_stats st;
	int i;

	(void)state;
	assert_int_equal(pg_cache_new(&c, NULL), PG_OK);
	assert_int_equal(pg_cache_claim(c, "img", pg_clock_ms() + 5000, &v), PG_CLAIM_OWNER);
	for (i = 0; i < 8; i++) {
		a[i] = (waiter_arg){.c = c, .deadline = pg_clock_ms() + 5000};
		pthread_create(&t[i], NULL, waiter, &a[i]);
	}
	usleep(100000);
	v.ok = true;
	v.code = PG_OK;
	v.reason = "verified";
	assert_int_equal(pg_cache_put(c, "img", &v, 0), 1);
	pg_cache_release(c, "img");
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].result, PG_CLAIM_HIT);
		assert_true(a[i].ok);
	}
	pg_cache_stats_get(c, &st);
	assert_int_equal(st.misses, 1); /* exactly one verification */
	pg_cache_free(c);
}

/* A waiter's own deadline is honoured while the owner is still busy. */
static void
test_waiter_deadline(void **state)
{
	pg_cache *c = NULL;
	pg_cache_val v = {0};
	waiter_arg a;
	pthread_t t;
	int64_t t0;

	(void)state;
	assert_int_equal(pg_cache_new(&c, NULL), PG_OK);
	assert_int_equal(pg_cache_claim(c, "img", pg_clock_ms() + 5000, &v), PG_CLAIM_OWNER);
	t0 = pg_clock_ms();
	a = (waiter_arg){.c = c, .deadline = t0 + 200};
	pthread_create(&t, NULL, waiter, &a);
	pthread_join(t, NULL);
	assert_int_equal(a.result, PG_CLAIM_TIMEOUT);
	assert_true(pg_clock_ms() - t0 >= 190);
	assert_true(pg_clock_ms() - t0 < 2000);
	pg_cache_release(c, "img");
	pg_cache_free(c);
}

/* A non-cacheable owner result (timeout) makes a waiter the next owner. */
static void
test_uncacheable_handover(void **state)
{
	pg_cache *c = NULL;
	pg_cache_val v = {0};
	waiter_arg a;
	pthread_t t;

	(void)state;
	assert_int_equal(pg_cache_new(&c, NULL), PG_OK);
	assert_int_equal(pg_cache_claim(c, "img", pg_clock_ms() + 5000, &v), PG_CLAIM_OWNER);
	a = (waiter_arg){.c = c, .deadline = pg_clock_ms() + 5000};
	pthread_create(&t, NULL, waiter, &a);
	usleep(50000);
	v.code = PG_ETIMEOUT;
	assert_int_equal(pg_cache_put(c, "img", &v, 0), 0);
	pg_cache_release(c, "img");
	pthread_join(t, NULL);
	assert_int_equal(a.result, PG_CLAIM_OWNER);
	pg_cache_release(c, "img");
	pg_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positive_ttl),
	    cmocka_unit_test(test_negative_ttl),
	    cmocka_unit_test(test_explicit_ttl),
	    cmocka_unit_test(test_explicit_ttl_capped),
	    cmocka_unit_test(test_never_cached),
	    cmocka_unit_test(test_entry_bound_lru),
	    cmocka_unit_test(test_byte_bound),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_coalesce),
	    cmocka_unit_test(test_waiter_deadline),
	    cmocka_unit_test(test_uncacheable_handover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
