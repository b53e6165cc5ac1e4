/*
 * server/pool — a fixed set of worker threads fed by one bounded queue.
 * Workers do the slow work (fetches, gpg, crypto); an event loop never
 * waits on them: it submits and is told back by message.
 */
#ifndef PG_POOL_H
#define PG_POOL_H

#include <stddef.h>

typedef struct pg_pool pg_pool;

/* fn runs on a worker with that worker's state (from init). */
typedef void (*pg_pool_fn)(void *job, void *worker_state);

/*
 * Start `workers` threads; each calls init(ctx) once for its state (NULL
 * return = the worker exits, counted as not alive) and fini(state) at stop.
 * The queue holds at most queue_max jobs.
 */
int pg_pool_new(pg_pool **out, unsigned workers, size_t queue_max, void *(*init)(void *ctx),
		void (*fini)(void *state), void *ctx);

/* Queue a job.  PG_ETOOBIG when the queue is full (the caller answers
 * "overloaded" rather than wait), PG_EUNAVAIL when stopping. */
int pg_pool_submit(pg_pool *p, pg_pool_fn fn, void *job);

/* Workers currently alive (started and initialised). */
unsigned pg_pool_alive(pg_pool *p);
/* Jobs queued but not yet started. */
size_t pg_pool_queued(pg_pool *p);

/* Stop accepting, let running jobs finish, join, free.  Queued jobs that
 * never started are run anyway (their owners wait for a reply). */
void pg_pool_free(pg_pool *p);

#endif
