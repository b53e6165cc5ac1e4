/*
 * libFuzzer target: the JSON writer of buf/jsonw.c (the AdmissionReview
 * response and the admission-log line are written with it), against
 * jansson's own encoding of the same values.
 *
 * Invariants, for any bytes as a string:
 *  - when jansson accepts them as a string (well-formed UTF-8), the writer
 *    writes exactly the bytes json_dumps writes for it;
 *  - whatever they are, the text parses back (jansson) to the same string
 *    with each byte that is not part of well-formed UTF-8 replaced by '?';
 *  - a document of members and arrays holding it is the text jansson
 *    writes for the tree it reads back;
 * and for the first 8 bytes as a count of microseconds, the duration is
 * written as milliseconds with exactly three decimals that read back (the
 * digits without the point) as the same count.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_jsonw: invariant broken: %s\n", what);
		abort();
	}
}

/* s with every byte outside well-formed UTF-8 replaced by '?'. */
static char *
cleaned(const uint8_t *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i = 0;
	uint32_t r;
	int w;

	check(out != NULL, "malloc");
	while (i < n) {
		if (s[i] >= 0x80 && (w = pg_utf8_decode(s + i, n - i, &r)) > 0) {
			memcpy(out + i, s + i, (size_t)w);
			i += (size_t)w;
		} else {
			out[i] = s[i] >= 0x80 ? '?' : (char)s[i];
			i++;
		}
	}
	out[n] = '\0';
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	json_t *js = json_stringn(s, size), *back;
	json_error_t je;
	char *want, *text = NULL, *clean = cleaned(data, size), *again;
	pg_buf b;
	pg_jw w;

	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	pg_jw_strn(&w, s, size);
	check(w.rc == PG_OK, "a string is written");
	check(pg_buf_detach(&text, NULL, &b) == PG_OK, "detach");
	if (js) {
		want = json_dumps(js, JSON_COMPACT | JSON_ENCODE_ANY);
		check(want && strcmp(want, text) == 0, "the bytes jansson writes");
		free(want);
		json_decref(js);
	}
	back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	check(json_is_string(back), "the text is a JSON string");
	check(json_string_length(back) == size && memcmp(json_string_value(back), clean, size) == 0,
	      "it reads back as the string, bytes outside UTF-8 as '?'");
	json_decref(back);
	free(text);

	/* inside a document */
	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	pg_jw_obj(&w);
	pg_jw_kstr(&w, clean, clean);
	pg_jw_key(&w, strcmp(clean, "a") == 0 ? "b" : "a"); /* keys unique */
	pg_jw_arr(&w);
	pg_jw_str(&w, clean);
	pg_jw_bool(&w, size % 2 == 0);
	pg_jw_int(&w, (long long)size - 7);
	pg_jw_null(&w);
	pg_jw_obj(&w);
	pg_jw_end(&w);
	pg_jw_end(&w);
	pg_jw_end(&w);
	check(w.rc == PG_OK && w.depth == 0, "a document is written");
	check(pg_buf_detach(&text, NULL, &b) == PG_OK, "detach");
	/* a NUL cuts the C-string key and values: compare what jansson reads */
	back = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	check(back != NULL, "the document is JSON");
	again = json_dumps(back, JSON_COMPACT);
	check(again && strcmp(again, text) == 0, "jansson writes the same document");
	free(again);
	json_decref(back);
	free(text);
	free(clean);

	if (size >= sizeof(int64_t)) {
		int64_t us;
		char count[32], *t, *dot;

		memcpy(&us, data, sizeof(us));
		pg_buf_init(&b, 64);
		pg_jw_init(&w, &b);
		pg_jw_millis(&w, us);
		check(w.rc == PG_OK && pg_buf_detach(&text, NULL, &b) == PG_OK,
		      "a duration is written");
		dot = strchr(text, '.');
		check(dot != NULL && strlen(dot) == 4 && dot > text && dot[-1] >= '0' &&
			  dot[-1] <= '9',
		      "digits, a point, three decimals");
		memmove(dot, dot + 1, strlen(dot));
		t = text + (text[0] == '-');
		while (t[0] == '0' && t[1] != '\0')
			memmove(t, t + 1, strlen(t));
		snprintf(count, sizeof(count), "%lld", (long long)us);
		check(strcmp(text, count) == 0, "the digits are the count");
		free(text);
	}
	return 0;
}
