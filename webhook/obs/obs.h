/*
 * obs — Prometheus metrics and the process's diagnostics.
 *
 * Counters are process-wide atomics, safe from any thread, never blocking.
 * Label sets are small closed vocabularies (decision labels and pg_err names)
 * so the number of series is bounded whatever the input.
 */
#ifndef PG_OBS_H
#define PG_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"

/* One review's outcome: decision label (pg_decision_label or "error") and
 * reason class (pg_decision_reason_class, or "" when allowed). */
void pg_metrics_review(const char *decision, const char *reason, int64_t duration_us);

/* One verification's duration, by kind "image" or "chart", and outcome. */
void pg_metrics_verify(const char *kind, int ok, int64_t duration_us);

void pg_metrics_cache(int hit);
void pg_metrics_inflight(int delta);
void pg_metrics_policy_load(int ok, int64_t unix_time);
void pg_metrics_fetch_error(const char *host);
/* One hop fetch/ took to a public host no policy names (fetch.h), by why
 * ("blob redirect", "token realm", "chart redirect", "chart index entry", "crl distribution point";
 * anything else counts as "other") and host (a bounded table, as for fetch
 * errors). */
void pg_metrics_public_hop(const char *why, const char *host);
/* One /mutate answer: result "patched", "unpatched", "timeout" or "error",
 * and how many image tags it pinned. */
void pg_metrics_mutate(const char *result, size_t npinned);
/* One connection closed at accept: out of file descriptors. */
void pg_metrics_conn_shed(void);
/* The serving certificate in use expires at unix_time (notAfter). */
void pg_metrics_cert_expiry(int64_t unix_time);

/* The rate limit a registry host last announced (RateLimit-Limit and
 * RateLimit-Remaining, Docker Hub's "100;w=21600" form): gauges by host, a
 * bounded table as for fetch errors (hosts past it are not reported).  A
 * negative value leaves that gauge as it was. */
void pg_metrics_registry_ratelimit(const char *host, int64_t limit, int64_t remaining);

/* Render everything in the Prometheus text format (version 0.0.4). */
int pg_metrics_render(pg_buf *out);

/* Diagnostics to stderr as one JSON line: level, msg, and an optional
 * detail. */
void pg_log_diag(const char *level, const char *msg, const char *detail);

#endif
