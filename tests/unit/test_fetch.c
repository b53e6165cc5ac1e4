/* Unit tests of fetch/: the address classes behind the SSRF address check,
 * the default address guard, and the PROVGATE_FAULTS parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/fetch/fetch.c"

static void
test_addr_special(void **state)
{
	static const char *const bad[] = {
		"169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3", "100.100.100.200",
		"168.63.129.16", "::", "[::]", "fe80::1", "[fe80::1%25eth0]", "febf::1",
		"fd00:ec2::254", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
		"64:ff9b::169.254.169.254", "[::ffff:a9fe:a9fe]",
	};
	static const char *const good[] = {
		"127.0.0.1", "10.0.0.1", "192.168.1.1", "8.8.8.8", "::1", "2001:db8::1",
		"fec0::1", "169.253.1.1", "100.100.100.201", "registry.example.com", "", "[",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(pg_fetch_addr_special(bad[i]));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_false(pg_fetch_addr_special(good[i]));
	assert_false(pg_fetch_addr_special(NULL));
}

static void
test_addr_default(void **state)
{
	pg_err err;

	(void)state;
	pg_err_clear(&err);
	assert_int_equal(pg_fetch_addr_default("127.0.0.1", "registry.local", &err, NULL), PG_OK);
	assert_int_equal(pg_fetch_addr_default("169.254.169.254", "registry.local", &err, NULL),
			 PG_EDENIED);
	assert_non_null(strstr(err.msg, "resolves to 169.254.169.254"));
	/* the URL named the literal itself: the name guard decided */
	assert_int_equal(pg_fetch_addr_default("169.254.169.254", "169.254.169.254", &err, NULL),
			 PG_OK);
	assert_int_equal(pg_fetch_addr_default("::ffff:169.254.169.254", "169.254.169.254", &err,
					       NULL),
			 PG_OK);
	assert_int_equal(pg_fetch_addr_default("fe80::1", "fe80::2", &err, NULL), PG_EDENIED);
	assert_int_equal(pg_fetch_addr_default("0.0.0.0", "localhost", &err, NULL), PG_EDENIED);
	assert_int_equal(pg_fetch_addr_default("not-an-address", "x", &err, NULL), PG_EDENIED);
}

static void
reset_faults(void)
{
	curl_slist_free_all(g_faults.resolve);
	memset(&g_faults, 0, sizeof(g_faults));
}

static void
test_faults_parse(void **state)
{
	(void)state;
	assert_int_equal(faults_parse("fail:3,delay:200,truncate:100,corrupt:1"), 0);
	assert_true(g_faults.on);
	assert_int_equal(g_faults.fail_nth, 3);
	assert_int_equal(g_faults.delay_ms, 200);
	assert_true(g_faults.truncate);
	assert_int_equal(g_faults.truncate_at, 100);
	assert_int_equal(g_faults.corrupt_every, 1);
	reset_faults();
	assert_int_equal(faults_parse("failall,resolve:a.test:443:127.0.0.1"), 0);
	assert_true(g_faults.fail_all);
	assert_non_null(g_faults.resolve);
	reset_faults();
	assert_int_equal(faults_parse("fail:0"), -1);
	reset_faults();
	assert_int_equal(faults_parse("fail:x"), -1);
	reset_faults();
	assert_int_equal(faults_parse("delay:-1"), -1);
	reset_faults();
	assert_int_equal(faults_parse("corrupt"), -1);
	reset_faults();
	assert_int_equal(faults_parse("explode:1"), -1);
	reset_faults();
	assert_int_equal(faults_parse("resolve:nocolon"), -1);
	reset_faults();
}

static void
test_fault_after(void **state)
{
	pg_fetch_resp r = {0};
	char body[] = "0123456789";

	(void)state;
	r.body = body;
	r.len = 10;
	g_faults.truncate = true;
	g_faults.truncate_at = 4;
	g_faults.corrupt_every = 2;
	fault_after(&r, 1); /* call 1: truncated, not corrupted */
	assert_int_equal(r.len, 4);
	assert_string_equal(r.body, "0123");
	fault_after(&r, 2); /* call 2: middle byte flipped */
	assert_int_equal(r.body[2], '2' ^ 0x01);
	reset_faults();
}

static void
test_fault_fail_nth(void **state)
{
	pg_err err;
	unsigned long call;

	(void)state;
	atomic_store(&g_fault_calls, 0);
	g_faults.on = true;
	g_faults.fail_nth = 2;
	assert_int_equal(fault_before(&call, "https://x/", pg_clock_ms() + 1000, &err), PG_OK);
	assert_int_equal(fault_before(&call, "https://x/", pg_clock_ms() + 1000, &err), PG_EFETCH);
	assert_int_equal(call, 2);
	assert_non_null(strstr(err.msg, "injected fault"));
	assert_int_equal(fault_before(&call, "https://x/", pg_clock_ms() + 1000, &err), PG_OK);
	reset_faults();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_special),
		cmocka_unit_test(test_addr_default),
		cmocka_unit_test(test_faults_parse),
		cmocka_unit_test(test_fault_after),
		cmocka_unit_test(test_fault_fail_nth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
