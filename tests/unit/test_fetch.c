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
	    "169.254.169.254",
	    "169.254.0.1",
	    "0.0.0.0",
	    "0.1.2.3",
	    "100.100.100.200",
	    "168.63.129.16",
	    "::",
	    "[::]",
	    "fe80::1",
	    "[fe80::1%25eth0]",
	    "febf::1",
	    "fd00:ec2::254",
	    "::ffff:169.254.169.254",
	    "::ffff:0.0.0.0",
	    "64:ff9b::169.254.169.254",
	    "[::ffff:a9fe:a9fe]",
	};
	static const char *const good[] = {
	    "127.0.0.1",
	    "10.0.0.1",
	    "192.168.1.1",
	    "8.8.8.8",
	    "::1",
	    "2001:db8::1",
	    "fec0::1",
	    "169.253.1.1",
	    "100.100.100.201",
	    "registry.example.com",
	    "",
	    "[",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(pg_fetch_addr_special(bad[i]));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_false(pg_fetch_addr_special(good[i]));
	assert_false(pg_fetch_addr_special(NULL));
}

/* Public addresses: what a redirect, token realm or chart index entry on a
 * host no policy names may resolve to. */
static void
test_addr_public(void **state)
{
	static const char *const no[] = {
	    "127.0.0.1",
	    "127.255.255.254",
	    "10.0.0.1",
	    "172.16.0.1",
	    "172.31.255.255",
	    "192.168.1.1",
	    "100.64.0.1",
	    "100.127.255.255",
	    "100.100.100.200",
	    "169.254.169.254",
	    "0.0.0.0",
	    "0.1.2.3",
	    "168.63.129.16",
	    "192.0.0.9",
	    "192.0.2.10",
	    "198.51.100.7",
	    "203.0.113.1",
	    "198.18.0.1",
	    "198.19.255.255",
	    "224.0.0.1",
	    "239.255.255.250",
	    "240.0.0.1",
	    "255.255.255.255",
	    "192.88.99.1",
	    "::",
	    "::1",
	    "[::1]",
	    "fe80::1",
	    "[fe80::1%25eth0]",
	    "fc00::1",
	    "fd12:3456::1",
	    "fd00:ec2::254",
	    "fec0::1",
	    "ff02::1",
	    "2001:db8::1",
	    "3fff::1",
	    "2001::1",
	    "2001:0:4136:e378::1",
	    "2002:c000:0201::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3",
	    "[::ffff:a9fe:a9fe]",
	    "64:ff9b::10.0.0.1",
	    "64:ff9b::127.0.0.1",
	    "64:ff9b:1::1",
	    "::127.0.0.1",
	    "100::1",
	    "registry.example.com",
	    "",
	    "[",
	    "1.2.3",
	};
	static const char *const yes[] = {
	    "8.8.8.8",	       "1.1.1.1",	   "104.16.0.1",   "172.15.255.255",
	    "172.32.0.1",      "100.63.255.255",   "100.128.0.1",  "169.253.1.1",
	    "192.0.1.1",       "198.17.255.255",   "198.20.0.1",   "203.0.114.1",
	    "223.255.255.254", "2606:4700::1",	   "2a00:1450::1", "[2606:4700::6810:84e5]",
	    "::ffff:8.8.8.8",  "64:ff9b::8.8.8.8", "2001:200::1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (pg_fetch_addr_public(no[i]))
			fail_msg("%s counted as public", no[i]);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!pg_fetch_addr_public(yes[i]))
			fail_msg("%s not counted as public", yes[i]);
	assert_false(pg_fetch_addr_public(NULL));
	/* The documentation ranges become public only in a test build with
	 * the variable set; in this (shipped) code path the flag is off. */
	g_test_nets = true;
	assert_true(pg_fetch_addr_public("198.51.100.7"));
	assert_true(pg_fetch_addr_public("203.0.113.1"));
	assert_false(pg_fetch_addr_public("10.0.0.1"));
	assert_false(pg_fetch_addr_public("127.0.0.1"));
	assert_false(pg_fetch_addr_public("2001:db8::1"));
	g_test_nets = false;
	assert_false(pg_fetch_addr_public("198.51.100.7"));
}

/* The public-hop rule: which hops may take it, https only, and names
 * resolving anywhere non-public refused (localhost: loopback). */
static void
test_public_hop(void **state)
{
	pg_fetch_opts o = {0};
	pg_err err;

	(void)state;
	pg_err_set(&err, PG_EDENIED, "refusing to contact x");
	assert_int_equal(public_hop("https", "localhost", 443, 1, &o, &err), PG_EDENIED);
	o.public_hops = PG_FETCH_PUBLIC_REDIRECTS;
	o.public_why = "blob redirect";
	assert_int_equal(public_hop("https", "localhost", 443, 0, &o, &err), PG_EDENIED);
	assert_int_equal(public_hop("https", "localhost", 443, 1, &o, &err), PG_EDENIED);
	assert_non_null(strstr(err.msg, "not followed as a public host (blob redirect): localhost "
					"resolves to"));
	assert_non_null(strstr(err.msg, "loopback"));
	pg_err_set(&err, PG_EDENIED, "refusing to contact x");
	assert_int_equal(public_hop("http", "8.8.8.8", 80, 1, &o, &err), PG_EDENIED);
	assert_non_null(strstr(err.msg, "only over https"));
	pg_err_set(&err, PG_EDENIED, "refusing to contact x");
	assert_int_equal(public_hop("https", "[::1]", 443, 1, &o, &err), PG_EDENIED);
	assert_int_equal(public_hop("https", "169.254.169.254", 443, 1, &o, &err), PG_EDENIED);
	o.public_hops = PG_FETCH_PUBLIC_ALL;
	assert_int_equal(public_hop("https", "10.1.2.3", 443, 0, &o, &err), PG_EDENIED);
	/* A public literal resolves to itself: taken (no connection here). */
	pg_err_set(&err, PG_EDENIED, "refusing to contact x");
	assert_int_equal(public_hop("https", "8.8.8.8", 443, 0, &o, &err), PG_OK);
	assert_int_equal(err.code, 0);
	o.public_hops = PG_FETCH_PUBLIC_REDIRECTS;
	assert_int_equal(public_hop("https", "[2606:4700::1]", 443, 2, &o, &err), PG_OK);
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
	assert_int_equal(
	    pg_fetch_addr_default("::ffff:169.254.169.254", "169.254.169.254", &err, NULL), PG_OK);
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
	    cmocka_unit_test(test_addr_special),   cmocka_unit_test(test_addr_public),
	    cmocka_unit_test(test_public_hop),	   cmocka_unit_test(test_addr_default),
	    cmocka_unit_test(test_faults_parse),   cmocka_unit_test(test_fault_after),
	    cmocka_unit_test(test_fault_fail_nth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
