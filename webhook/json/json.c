/* json — field accessors over jansson documents (json.h). */
#include <stdbool.h>
#include <string.h>

#include "json/json.h"

const char *
pg_json_str(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
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
