/*
 * clock — monotonic milliseconds for deadlines, wall seconds for logs.
 */
#ifndef PG_CLOCK_H
#define PG_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC). Deadlines are absolute values
 * of this clock. */
int64_t pg_clock_ms(void);

/* Monotonic microseconds, for latency measurement. */
int64_t pg_clock_us(void);

/* Milliseconds left until deadline (<= 0: passed). deadline 0 = none
 * (returns INT64_MAX). */
int64_t pg_clock_left_ms(int64_t deadline);

/* Wall-clock time as RFC 3339 UTC with milliseconds into out (>= 32 bytes). */
void pg_clock_rfc3339(char *out, unsigned long size);

#endif
