/* json — field accessors over jansson documents, and Go's key folding
 * (json.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

const char *
pg_json_str(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

const json_t *
pg_json_field(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

const json_t *
pg_json_path(const json_t *o, const char *const *keys)
{
	for (; *keys && o; keys++)
		o = json_is_object(o) ? json_object_get(o, *keys) : NULL;
	return o;
}

const char *
pg_json_str_path(const json_t *o, const char *const *keys)
{
	const json_t *v = pg_json_path(o, keys);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One step of a pointer from cur by the unescaped segment seg (n bytes). */
static const json_t *
pointer_step(const json_t *cur, const char *seg, size_t n)
{
	char *end = NULL;
	unsigned long idx;

	if (json_is_object(cur))
		return json_object_get(cur, seg);
	if (!json_is_array(cur))
		return NULL;
	if (n == 0 || (n > 1 && seg[0] == '0') || seg[0] < '0' || seg[0] > '9')
		return NULL;
	idx = strtoul(seg, &end, 10);
	return (*end == '\0' && idx < json_array_size(cur)) ? json_array_get(cur, idx) : NULL;
}

int
pg_json_pointer(const json_t **out, const json_t *doc, const char *p)
{
	char seg[PG_JSON_POINTER_MAX + 1];
	const json_t *cur = doc;
	int depth = 0;

	*out = NULL;
	if (p == NULL || strlen(p) > PG_JSON_POINTER_MAX)
		return PG_EINVAL;
	if (*p == '\0') {
		*out = doc;
		return PG_OK;
	}
	if (*p != '/')
		return PG_EINVAL;
	while (*p == '/') {
		size_t n = 0;

		if (++depth > PG_JSON_POINTER_DEPTH_MAX)
			return PG_EINVAL;
		p++;
		while (*p && *p != '/') {
			if (*p == '~') {
				if (p[1] == '0')
					seg[n++] = '~';
				else if (p[1] == '1')
					seg[n++] = '/';
				else
					return PG_EINVAL;
				p += 2;
			} else {
				seg[n++] = *p++;
			}
		}
		seg[n] = '\0';
		if (cur != NULL) /* past a missing step, keep checking the syntax */
			cur = pointer_step(cur, seg, n);
	}
	*out = cur;
	return PG_OK;
}

int
pg_json_int64(int64_t *out, const json_t *v)
{
	const char *s;
	int64_t r = 0;
	bool neg = false;

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return PG_OK;
	}
	if (!json_is_string(v))
		return PG_EINVAL;
	s = json_string_value(v);
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s == '\0' || strlen(s) > 18)
		return PG_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return PG_EINVAL;
		r = r * 10 + (*s - '0');
	}
	*out = neg ? -r : r;
	return PG_OK;
}

/* ASCII lower case. */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool
pg_json_go_fold_eq(const char *key, const char *field)
{
	for (; *field; field++) {
		unsigned char k = (unsigned char)*key, w = lower((unsigned char)*field);

		if (k < 0x80) {
			if (lower(k) != w)
				return false;
			key++;
		} else if (w == 'k' && strncmp(key, "\xe2\x84\xaa", 3) == 0) {
			key += 3;
		} else if (w == 's' && strncmp(key, "\xc5\xbf", 2) == 0) {
			key += 2;
		} else {
			return false;
		}
	}
	return *key == '\0';
}

size_t
pg_json_go_fold_count(const json_t *obj, const char *field)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach((json_t *)obj, k, v)
	{
		(void)v;
		if (pg_json_go_fold_eq(k, field))
			n++;
	}
	return n;
}
