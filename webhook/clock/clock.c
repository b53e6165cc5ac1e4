/*
 * clock — the only place that reads clocks, so tests and logs agree on them.
 */
#include "clock/clock.h"

#include <stdio.h>
#include <time.h>

int64_t
pg_clock_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
pg_clock_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
pg_clock_left_ms(int64_t deadline)
{
	if (deadline == 0)
		return INT64_MAX;
	return deadline - pg_clock_ms();
}

void
pg_clock_rfc3339(char *out, unsigned long size)
{
	/* Every admission-log line carries one: the date and time are
	 * formatted once per second per thread, the milliseconds each time. */
	static _Thread_local time_t sec = -1;
	static _Thread_local char head[80]; /* 2006-01-02T15:04:05 */
	struct timespec ts;
	struct tm tm;
	long ms;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		(void)gmtime_r(&ts.tv_sec, &tm);
		(void)snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d",
			       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			       tm.tm_sec);
		sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	(void)snprintf(out, size, "%s.%c%c%cZ", head, (char)('0' + ms / 100),
		       (char)('0' + ms / 10 % 10), (char)('0' + ms % 10));
}
