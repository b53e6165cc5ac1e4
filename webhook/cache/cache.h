/*
 * cache — the verdict cache and in-flight coalescing.
 *
 * Keys are strings built by the caller from the artifact (digest or
 * normalised reference), the rule fingerprint (which covers the bytes of
 * the trust material) and nothing else: a policy or key change changes the
 * key, so a stale allow can never be served.
 *
 * Only definite answers are cached: verified (positive TTL) and "evidence
 * present but bad / absent" (negative TTL).  Timeouts, unreachable hosts and
 * internal errors are never cached.
 *
 * Coalescing: pg_cache_claim makes the first caller for a key the one that
 * verifies; later callers wait (each until its own deadline) and receive the
 * same verdict.  Thread-safe; lookups take one mutex for O(1) work.
 */
#ifndef PG_CACHE_H
#define PG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err/err.h"

typedef struct pg_cache pg_cache;

/* The defaults, what a zero option means.  100000 verdicts of ~350 B each
 * (entry + strings) fit the 48 MiB; a verified verdict lives 10 min, a
 * definite failure 30 s (a signature pushed later is seen soon). */
#define PG_CACHE_DEFAULT_ENTRIES 100000
#define PG_CACHE_DEFAULT_BYTES ((size_t)48 << 20)
#define PG_CACHE_DEFAULT_POS_TTL_MS (10 * 60 * 1000)
#define PG_CACHE_DEFAULT_NEG_TTL_MS (30 * 1000)

typedef struct pg_cache_opts {
	size_t max_entries; /* 0: PG_CACHE_DEFAULT_ENTRIES */
	size_t max_bytes;   /* 0: PG_CACHE_DEFAULT_BYTES (entries + strings) */
	int64_t pos_ttl_ms; /* 0: PG_CACHE_DEFAULT_POS_TTL_MS */
	int64_t neg_ttl_ms; /* 0: PG_CACHE_DEFAULT_NEG_TTL_MS */
} pg_cache_opts;

/* A cached verdict; strings are malloc'd copies owned by the caller
 * (pg_cache_val_clear). */
typedef struct pg_cache_val {
	bool ok;
	int code;
	char *digest;
	char *signer;
	char *reason;
} pg_cache_val;

int pg_cache_new(pg_cache **out, const pg_cache_opts *opts);
void pg_cache_free(pg_cache *c);

/* 1 and *out filled on a live hit; 0 on a miss. */
int pg_cache_get(pg_cache *c, const char *key, pg_cache_val *out);

/* Store a verdict.  Not stored (returns 0) when code says the answer is
 * not definite (timeouts, fetch errors, unavailable, internal).  ttl_ms
 * can only shorten the positive or negative default (a tag's verdict
 * lives min(tag TTL, that default)); 0 means the default. */
int pg_cache_put(pg_cache *c, const char *key, const pg_cache_val *v, int64_t ttl_ms);

/* Whether a verdict with this code may be cached. */
bool pg_cache_cacheable(bool ok, int code);

typedef enum {
	PG_CLAIM_OWNER = 0,   /* you verify, then pg_cache_put + pg_cache_release */
	PG_CLAIM_HIT = 1,     /* *out filled (cached, or another verifier's result) */
	PG_CLAIM_TIMEOUT = 2, /* deadline passed while waiting */
} pg_claim;

/*
 * Claim key: a hit returns at once; if another thread verifies it now, wait
 * for its result until deadline (absolute pg_clock_ms); else become the
 * owner.  An owner's non-cacheable result wakes the waiters, who then claim
 * again (one of them becomes the next owner).
 */
pg_claim pg_cache_claim(pg_cache *c, const char *key, int64_t deadline, pg_cache_val *out);

/* Owner done (after pg_cache_put, or without it on a non-cacheable
 * result): wake the waiters. */
void pg_cache_release(pg_cache *c, const char *key);

void pg_cache_val_clear(pg_cache_val *v);

/* Drop everything (tests, and a trust-root change if ever needed). */
void pg_cache_clear(pg_cache *c);

/* Counters for tests and metrics. */
typedef struct pg_cache_stats {
	size_t entries;
	size_t bytes;
	uint64_t hits, misses, evictions, coalesced;
} pg_cache_stats;
void pg_cache_stats_get(pg_cache *c, pg_cache_stats *out);

/* For tests: a clock override (NULL = pg_clock_ms). */
void pg_cache_set_clock(pg_cache *c, int64_t (*now_ms)(void));

#endif
