/*
 * server/pool — bounded job queue + worker threads (mutex/condvar ring).
 * Never blocks a submitter: a full queue is an immediate error.
 */
#include "server/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "err/err.h"

typedef struct item {
	pg_pool_fn fn;
	void *job;
} item;

struct pg_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	item *ring;
	size_t cap, head, count;
	bool stopping;
	pthread_t *threads;
	unsigned n_threads;
	atomic_uint alive;
	void *(*init)(void *);
	void (*fini)(void *);
	void *ctx;
};

static void *
worker_main(void *arg)
{
	pg_pool *p = arg;
	void *state = p->init ? p->init(p->ctx) : NULL;

	if (p->init && state == NULL)
		return NULL;
	atomic_fetch_add(&p->alive, 1);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		item it;

		while (p->count == 0 && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->count == 0 && p->stopping)
			break;
		it = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		pthread_mutex_unlock(&p->mu);
		it.fn(it.job, state);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	atomic_fetch_sub(&p->alive, 1);
	if (p->fini)
		p->fini(state);
	return NULL;
}

int
pg_pool_new(pg_pool **out, unsigned workers, size_t queue_max, void *(*init)(void *),
	    void (*fini)(void *), void *ctx)
{
	pg_pool *p;
	unsigned i;

	if (workers == 0 || queue_max == 0)
		return PG_EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PG_ENOMEM;
	p->ring = calloc(queue_max, sizeof(*p->ring));
	p->threads = calloc(workers, sizeof(*p->threads));
	if (p->ring == NULL || p->threads == NULL) {
		free(p->ring);
		free(p->threads);
		free(p);
		return PG_ENOMEM;
	}
	p->cap = queue_max;
	p->init = init;
	p->fini = fini;
	p->ctx = ctx;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < workers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
			break;
		p->n_threads++;
	}
	if (p->n_threads == 0) {
		pg_pool_free(p);
		return PG_EINTERNAL;
	}
	*out = p;
	return PG_OK;
}

int
pg_pool_submit(pg_pool *p, pg_pool_fn fn, void *job)
{
	int rc = PG_OK;

	pthread_mutex_lock(&p->mu);
	if (p->stopping) {
		rc = PG_EUNAVAIL;
	} else if (p->count == p->cap) {
		rc = PG_ETOOBIG;
	} else {
		p->ring[(p->head + p->count) % p->cap] = (item){fn, job};
		p->count++;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

unsigned
pg_pool_alive(pg_pool *p)
{
	return atomic_load(&p->alive);
}

size_t
pg_pool_queued(pg_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->count;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
pg_pool_free(pg_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->ring);
	free(p->threads);
	free(p);
}
