/* Unit tests of buf/ and err/: bounds, detach, file reading, messages;
 * the JSON writer against jansson's own encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include <jansson.h>

#include "../../webhook/buf/base64.c"
#include "../../webhook/buf/buf.c"
#include "../../webhook/buf/jsonw.c"
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

/* jansson's compact encoding of the string s (n bytes) as a JSON value;
 * NULL when jansson refuses it (not UTF-8). */
static char *
jansson_str(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *out;

	if (j == NULL)
		return NULL;
	out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return out;
}

static char *
jw_str(const char *s, size_t n)
{
	pg_buf b;
	pg_jw w;
	char *out = NULL;

	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	pg_jw_strn(&w, s, n);
	assert_int_equal(w.rc, PG_OK);
	assert_int_equal(pg_buf_detach(&out, NULL, &b), PG_OK);
	return out;
}

/* Every byte value alone, and between text, quotes and backslashes: the
 * same bytes as jansson (control characters as \uXXXX upper case, DEL and
 * '/' verbatim); bytes that are not UTF-8 as '?'. */
static void
test_jsonw_escape_like_jansson(void **state)
{
	int c;

	(void)state;
	for (c = 1; c < 256; c++) {
		char in[8] = {'a', (char)c, '"', '\\', (char)c, 'z', '\0'};
		char *want = jansson_str(in, 6), *got = jw_str(in, 6);

		if (c < 0x80) {
			assert_non_null(want);
			assert_string_equal(got, want);
		} else {
			assert_null(want); /* a lone byte >= 0x80 is not UTF-8 */
			assert_string_equal(got, "\"a?\\\"\\\\?z\"");
		}
		free(want);
		free(got);
	}
	{
		/* NUL inside a counted string: \u0000, as jansson */
		char *want = jansson_str("a\0b", 3), *got = jw_str("a\0b", 3);

		assert_string_equal(got, want);
		assert_string_equal(got, "\"a\\u0000b\"");
		free(want);
		free(got);
	}
}

static void
test_jsonw_utf8(void **state)
{
	static const char *const ok[] = {
	    "caf\xc3\xa9",		/* 2 bytes */
	    "\xe2\x80\xa8\xe2\x80\xa9", /* U+2028, U+2029: verbatim, as jansson */
	    "\xef\xbf\xbf",		/* U+FFFF */
	    "\xf0\x9f\x98\x80",		/* 4 bytes */
	    "\xf4\x8f\xbf\xbf",		/* U+10FFFF */
	    "\x7f/\x1f",
	};
	static const struct {
		const char *in, *out;
	} bad[] = {
	    {"\xc0\xaf", "\"??\""},	      /* overlong '/' */
	    {"\xed\xa0\x80", "\"???\""},      /* surrogate */
	    {"\xf4\x90\x80\x80", "\"????\""}, /* above U+10FFFF */
	    {"x\xe2\x82", "\"x??\""},	      /* cut short */
	    {"\xff\xfe", "\"??\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *want = jansson_str(ok[i], strlen(ok[i])), *got = jw_str(ok[i], strlen(ok[i]));

		assert_non_null(want);
		assert_string_equal(got, want);
		free(want);
		free(got);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *want = jansson_str(bad[i].in, strlen(bad[i].in));
		char *got = jw_str(bad[i].in, strlen(bad[i].in));

		assert_null(want);
		assert_string_equal(got, bad[i].out);
		free(got);
	}
}

/* A uid made of every troublesome character comes back unchanged through
 * a JSON parser. */
static void
test_jsonw_roundtrip(void **state)
{
	char uid[300];
	size_t n = 0;
	int c;
	char *text = NULL;
	json_t *j;
	json_error_t je;

	(void)state;
	for (c = 1; c < 0x80; c++)
		uid[n++] = (char)c;
	memcpy(uid + n, "\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\"\\/", 12);
	n += 12;
	uid[n] = '\0';
	{
		pg_buf b;
		pg_jw w;

		pg_buf_init(&b, 0);
		pg_jw_init(&w, &b);
		pg_jw_obj(&w);
		pg_jw_kstr(&w, "uid", uid);
		pg_jw_kbool(&w, "allowed", false);
		pg_jw_key(&w, "list");
		pg_jw_arr(&w);
		pg_jw_str(&w, uid);
		pg_jw_null(&w);
		pg_jw_int(&w, -42);
		pg_jw_obj(&w);
		pg_jw_end(&w);
		pg_jw_end(&w);
		pg_jw_end(&w);
		assert_int_equal(w.rc, PG_OK);
		assert_int_equal(w.depth, 0);
		assert_int_equal(pg_buf_detach(&text, NULL, &b), PG_OK);
	}
	j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "uid")), uid);
	assert_true(json_is_false(json_object_get(j, "allowed")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "list"), 0)), uid);
	assert_true(json_is_null(json_array_get(json_object_get(j, "list"), 1)));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "list"), 2)), -42);
	assert_true(json_is_object(json_array_get(json_object_get(j, "list"), 3)));
	{
		/* the whole text is what jansson writes for the tree it read */
		char *again = json_dumps(j, JSON_COMPACT);

		assert_string_equal(text, again);
		free(again);
	}
	json_decref(j);
	free(text);
}

/* Durations: exact decimal milliseconds from integer microseconds, a
 * JSON number that reads back to the same value. */
static void
test_jsonw_millis(void **state)
{
	static const struct {
		int64_t us;
		const char *text;
	} c[] = {{0, "0.000"},	    {89, "0.089"},
		 {1000, "1.000"},   {12345678, "12345.678"},
		 {-1500, "-1.500"}, {INT64_MIN, "-9223372036854775.808"}};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_buf b;
		pg_jw w;
		char *text = NULL, want[40];
		json_t *j;

		pg_buf_init(&b, 0);
		pg_jw_init(&w, &b);
		pg_jw_arr(&w);
		pg_jw_millis(&w, c[i].us);
		pg_jw_end(&w);
		assert_int_equal(w.rc, PG_OK);
		assert_int_equal(pg_buf_detach(&text, NULL, &b), PG_OK);
		snprintf(want, sizeof(want), "[%s]", c[i].text);
		assert_string_equal(text, want);
		j = json_loads(text, 0, NULL);
		assert_non_null(j);
		assert_true(json_is_real(json_array_get(j, 0)));
		json_decref(j);
		free(text);
	}
}

/* Misuse and bounds are sticky errors, never broken text. */
static void
test_jsonw_errors(void **state)
{
	pg_buf b;
	pg_jw w;
	int i;

	(void)state;
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	pg_jw_obj(&w);
	pg_jw_str(&w, "a value where a key belongs"); /* written: the writer trusts values */
	pg_jw_end(&w);
	pg_jw_end(&w); /* nothing open */
	assert_int_equal(w.rc, PG_EINVAL);
	pg_buf_free(&b);

	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	pg_jw_arr(&w);
	pg_jw_key(&w, "k"); /* a key in an array */
	assert_int_equal(w.rc, PG_EINVAL);
	pg_buf_free(&b);

	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	for (i = 0; i < PG_JW_DEPTH + 1; i++)
		pg_jw_arr(&w);
	assert_int_equal(w.rc, PG_EINVAL);
	pg_buf_free(&b);

	pg_buf_init(&b, 16);
	pg_jw_init(&w, &b);
	pg_jw_obj(&w);
	pg_jw_kstr(&w, "key", "a value longer than the bound");
	pg_jw_end(&w);
	assert_int_equal(w.rc, PG_ETOOBIG);
	assert_true(b.len <= 16);
	pg_buf_free(&b);
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
	    cmocka_unit_test(test_jsonw_escape_like_jansson),
	    cmocka_unit_test(test_jsonw_utf8),
	    cmocka_unit_test(test_jsonw_roundtrip),
	    cmocka_unit_test(test_jsonw_millis),
	    cmocka_unit_test(test_jsonw_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
