/* Unit tests of buf/ and err/: bounds, detach, file reading, messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "../../webhook/buf/base64.c"
#include "../../webhook/buf/buf.c"
#include "../../webhook/err/err.c"

static void
test_append_bound(void **state)
{
	pg_buf b;

	(void)state;
	pg_buf_init(&b, 8);
	assert_int_equal(pg_buf_puts(&b, "12345678"), PG_OK);
	assert_int_equal(pg_buf_puts(&b, "9"), PG_ETOOBIG);
	assert_int_equal(b.len, 8);
	assert_string_equal((char *)b.data, "12345678");
	pg_buf_free(&b);
}

static void
test_printf_and_detach(void **state)
{
	pg_buf b;
	char *s = NULL;
	size_t n = 0;

	(void)state;
	pg_buf_init(&b, 0);
	assert_int_equal(pg_buf_printf(&b, "%s-%d", "a", 42), PG_OK);
	assert_int_equal(pg_buf_detach(&s, &n, &b), PG_OK);
	assert_string_equal(s, "a-42");
	assert_int_equal(n, 4);
	assert_null(b.data);
	free(s);
	pg_buf_init(&b, 0);
	assert_int_equal(pg_buf_detach(&s, &n, &b), PG_OK);
	assert_string_equal(s, "");
	free(s);
}

static void
test_printf_bound(void **state)
{
	pg_buf b;

	(void)state;
	pg_buf_init(&b, 4);
	assert_int_equal(pg_buf_printf(&b, "%s", "toolong"), PG_ETOOBIG);
	assert_int_equal(b.len, 0);
	pg_buf_free(&b);
}

static void
test_read_file(void **state)
{
	char *s = NULL;
	size_t n;
	pg_err e;
	FILE *f;
	char path[] = "/tmp/pgbufXXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("hello world", f);
	fclose(f);
	assert_int_equal(pg_buf_read_file(&s, &n, path, 100, &e), PG_OK);
	assert_string_equal(s, "hello world");
	free(s);
	assert_int_equal(pg_buf_read_file(&s, &n, path, 5, &e), PG_ETOOBIG);
	assert_non_null(strstr(e.msg, "larger than 5 bytes"));
	unlink(path);
	assert_int_equal(pg_buf_read_file(&s, &n, path, 5, &e), PG_EIO);
	assert_non_null(strstr(e.msg, path));
}

static void
test_err_wrap_and_truncate(void **state)
{
	pg_err e;
	char big[3000];

	(void)state;
	pg_err_set(&e, PG_EFETCH, "connection refused");
	assert_int_equal(pg_err_wrap(&e, "fetching %s: ", "x"), PG_EFETCH);
	assert_string_equal(e.msg, "fetching x: connection refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pg_err_set(&e, PG_EINVAL, "%s", big);
	assert_int_equal(strlen(e.msg), PG_ERR_MSG_MAX - 1);
	assert_string_equal(e.msg + PG_ERR_MSG_MAX - 4, "...");
	assert_string_equal(pg_err_name(PG_ETIMEOUT), "timeout");
}

static void
test_hex(void **state)
{
	char out[9];
	const unsigned char in[] = {0xde, 0xad, 0x01, 0xff};

	(void)state;
	pg_hex(out, in, 4);
	assert_string_equal(out, "dead01ff");
}

static void
test_base64(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		int rc;
		const char *out;
	} c[] = {
	    {"aGVsbG8=", 0, PG_OK, "hello"},
	    {"aGVsbG8", 0, PG_OK, "hello"},
	    {"aGVs\n bG8=\r\n", 0, PG_OK, "hello"},
	    {"", 0, PG_OK, ""},
	    {"aGVsbG8=x", 0, PG_EINVAL, NULL},
	    {"aGVsbG8===", 0, PG_EINVAL, NULL},
	    {"a", 0, PG_EINVAL, NULL},
	    {"a*b=", 0, PG_EINVAL, NULL},
	    {"-_8=", 0, PG_EINVAL, NULL},
	    {"-_8=", PG_B64_URLSAFE, PG_OK, "\xfb\xff"},
	    {"aGVsbG8=\n=Zm9v", PG_B64_STOP_AT_PAD, PG_OK, "hello"},
	    {"aGVs bG8=", PG_B64_NO_SPACE, PG_EINVAL, NULL},
	};
	size_t i;
	pg_buf b;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_buf_init(&b, 0);
		if (pg_base64_decode(&b, c[i].in, strlen(c[i].in), c[i].flags) != c[i].rc)
			fail_msg("case %zu (%s): wrong result", i, c[i].in);
		if (c[i].out &&
		    (b.len != strlen(c[i].out) || (b.len && memcmp(b.data, c[i].out, b.len) != 0)))
			fail_msg("case %zu (%s): wrong bytes", i, c[i].in);
		pg_buf_free(&b);
	}
	pg_buf_init(&b, 4);
	assert_int_equal(pg_base64_decode(&b, "aGVsbG8=", 8, 0), PG_ETOOBIG);
	pg_buf_free(&b);
}

static void
test_utf8_clean(void **state)
{
	char ok[] = "caf\xc3\xa9 \xf0\x9f\x98\x80 ascii";
	char cut[] = "registry\xcd"; /* "%.Ns" cut a 2-byte character */
	char bad[] = "a\xff\xc0\xaf"
		     "b\xed\xa0\x80"
		     "c";	       /* stray, overlong, surrogate */
	char four[] = "x\xf0\x9f\x98"; /* a 4-byte character cut short */

	(void)state;
	pg_utf8_clean(ok);
	assert_string_equal(ok, "caf\xc3\xa9 \xf0\x9f\x98\x80 ascii");
	pg_utf8_clean(cut);
	assert_string_equal(cut, "registry?");
	pg_utf8_clean(bad);
	assert_string_equal(bad, "a???b???c");
	pg_utf8_clean(four);
	assert_string_equal(four, "x???");
	pg_utf8_clean(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_bound),
	    cmocka_unit_test(test_printf_and_detach),
	    cmocka_unit_test(test_printf_bound),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_err_wrap_and_truncate),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_utf8_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
