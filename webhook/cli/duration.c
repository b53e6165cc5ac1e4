/*
 * cli/duration — the one form every verb's time flags take: a duration as
 * kubectl, cosign and helm write it ("10s", "500ms", "2m", "1h", "1m30s"),
 * or, for compatibility, a bare number in the flag's old unit (seconds for
 * --timeout of the verify verbs, milliseconds for the *-ms flags).
 */
#include "cli/cli.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Longest duration any flag takes: a day is far beyond every bound below
 * and keeps the arithmetic far from overflow. */
#define DURATION_MAX_MS ((uint64_t)7 * 24 * 3600 * 1000)

static const struct {
	const char *suffix;
	uint64_t ms;
} units[] = {
    {"ms", 1},
    {"s", 1000},
    {"m", 60000},
    {"h", 3600000},
};

int
pg_cli_duration(const char *s, uint64_t bare_unit_ms, uint64_t min_ms, uint64_t max_ms,
		uint64_t *out_ms)
{
	uint64_t total = 0;
	const char *p = s;
	size_t i;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	while (*p) {
		uint64_t v = 0, unit = 0;

		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > DURATION_MAX_MS)
				return -1;
		}
		if (*p == '\0' && p != s && total == 0 && strspn(s, "0123456789") == strlen(s)) {
			unit = bare_unit_ms; /* the whole text is a bare number */
		} else {
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t n = strlen(units[i].suffix);

				/* "m" must not take the "m" of "ms" */
				if (strncmp(p, units[i].suffix, n) == 0 &&
				    !(n == 1 && p[0] == 'm' && p[1] == 's')) {
					unit = units[i].ms;
					p += n;
					break;
				}
			}
		}
		if (unit == 0)
			return -1;
		total += v * unit;
		if (total > DURATION_MAX_MS)
			return -1;
	}
	if (total < min_ms || total > max_ms)
		return -1;
	*out_ms = total;
	return 0;
}

/* ms as the largest unit that divides it: "1h", "10m", "30s", "500ms". */
static void
human(char *out, size_t n, uint64_t ms)
{
	size_t i = sizeof(units) / sizeof(units[0]);

	while (--i > 0 && (ms == 0 || ms % units[i].ms != 0))
		;
	(void)snprintf(out, n, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].suffix);
}

int
pg_cli_duration_fail(const char *flag, const char *s, uint64_t min_ms, uint64_t max_ms,
		     const char *bare)
{
	char lo[32], hi[32];

	human(lo, sizeof(lo), min_ms);
	human(hi, sizeof(hi), max_ms);
	return pg_cli_fail(PG_EXIT_USAGE,
			   "%s wants a duration from %s to %s such as 10s, 500ms or 2m "
			   "(a bare number is %s), got \"%s\"",
			   flag, lo, hi, bare, s ? s : "");
}

int
pg_cli_time_opt(int argc, char **argv, int *i, const char *name, uint64_t bare_unit_ms,
		uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms)
{
	const char *v = NULL;
	int r = pg_cli_opt(argc, argv, i, name, &v);

	if (r <= 0)
		return r;
	if (pg_cli_duration(v, bare_unit_ms, min_ms, max_ms, out_ms) != 0) {
		(void)pg_cli_duration_fail(name, v, min_ms, max_ms,
					   bare_unit_ms == 1 ? "milliseconds" : "seconds");
		return -1;
	}
	return 1;
}
