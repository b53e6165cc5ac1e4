/*
 * jsonmem — jansson's allocator, with per-request arenas.
 *
 * Decoding an AdmissionReview makes thousands of small jansson
 * allocations; from an arena they cost a pointer bump each and are all
 * released at once when the review is freed (h2o's req->pool habit).
 * Every allocation carries a 16-byte header saying where it came from, so
 * jansson's free works on any thread, arena or heap alike.
 *
 * Only pg_review_decode parses into an arena; everything else jansson
 * allocates comes from the heap as before.  Strings returned by json_dumps
 * must be released with pg_json_free.
 */
#ifndef PG_JSONMEM_H
#define PG_JSONMEM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

typedef struct pg_arena pg_arena;

/* Install the allocator: once, in main, before any jansson call or thread.
 * Without it jansson uses malloc and pg_json_free is free. */
void pg_json_init(void);

/* An arena of at most max bytes (allocations past it fail, which jansson
 * reports as a parse error). */
pg_arena *pg_arena_new(size_t max);
/* Whether an allocation from a was refused (its bound, or malloc): jansson
 * does not always say so in its error (a failed json_array() is reported
 * as an unknown error). */
bool pg_arena_failed(const pg_arena *a);
/* Whether anything was allocated from a: false when the allocator is not
 * installed (jansson then used the heap, and its trees must be decref'd). */
bool pg_arena_holds(const pg_arena *a);
void pg_arena_free(pg_arena *a); /* NULL is fine; every json_t in it must
				    be released (decref'd) first or never used */

/* Route this thread's jansson allocations to a (NULL: back to the heap).
 * Returns the previous one. */
pg_arena *pg_arena_use(pg_arena *a);

/* Free what jansson allocated (json_dumps results). */
void pg_json_free(void *p);

/* json_dumps into plain malloc'd memory (free()), whatever allocator
 * jansson uses; NULL on failure. */
char *pg_json_dumps(const json_t *j, size_t flags);

#endif
