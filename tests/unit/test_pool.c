/* Unit tests of server/pool: a full queue is refused at once ("overloaded",
 * never a wait), a submitter never waits past its deadline even when every
 * worker is busy, a stopping pool refuses new jobs but runs every job it
 * accepted, and workers whose setup failed are not counted alive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/server/pool.c"

#include <time.h>

#include "clock/clock.h"

/* A gate the jobs wait at, and counters of what ran. */
typedef struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
	unsigned started;  /* jobs that began */
	unsigned finished; /* jobs that ran to the end */
} gate;

static void
gate_init(gate *g)
{
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->open = false;
	g->started = 0;
	g->finished = 0;
}

static void
gate_fini(gate *g)
{
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
}

static void
gate_open(gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Wait (bounded: a broken pool fails the test, not hangs it) until n jobs
 * have started. */
static bool
gate_wait_started(gate *g, unsigned n)
{
	int64_t end = pg_clock_ms() + 5000;
	bool ok;

	pthread_mutex_lock(&g->mu);
	while (g->started < n && pg_clock_ms() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&g->cv, &g->mu, &ts);
	}
	ok = g->started >= n;
	pthread_mutex_unlock(&g->mu);
	return ok;
}

static void
job_wait(void *job, void *state)
{
	gate *g = job;

	(void)state;
	pthread_mutex_lock(&g->mu);
	g->started++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	g->finished++;
	pthread_mutex_unlock(&g->mu);
}

static void
test_overloaded(void **state)
{
	pg_pool *p = NULL;
	gate g;
	int i;

	(void)state;
	gate_init(&g);
	assert_int_equal(pg_pool_new(&p, 1, 2, NULL, NULL, NULL), PG_OK);
	/* the one worker takes the first job and holds it */
	assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	assert_true(gate_wait_started(&g, 1));
	/* the queue holds two more, the next is refused at once */
	assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	assert_int_equal(pg_pool_queued(p), 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_ETOOBIG);
	assert_int_equal(pg_pool_queued(p), 2);
	/* once the worker moves on, there is room again */
	gate_open(&g);
	assert_true(gate_wait_started(&g, 3));
	assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	pg_pool_free(p);
	assert_int_equal(g.finished, 4);
	gate_fini(&g);
}

/* An event loop submits with a review's deadline running: submitting must
 * cost no waiting, whatever the workers are doing. */
static void
test_submit_within_deadline(void **state)
{
	pg_pool *p = NULL;
	gate g;
	int64_t t0, deadline;
	int i, ok = 0, full = 0;

	(void)state;
	gate_init(&g);
	assert_int_equal(pg_pool_new(&p, 2, 8, NULL, NULL, NULL), PG_OK);
	assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	assert_true(gate_wait_started(&g, 2));
	t0 = pg_clock_ms();
	deadline = t0 + 500;
	for (i = 0; i < 1000; i++) {
		int rc = pg_pool_submit(p, job_wait, &g);

		if (rc == PG_OK)
			ok++;
		else if (rc == PG_ETOOBIG)
			full++;
	}
	assert_true(pg_clock_ms() <= deadline);
	assert_int_equal(ok, 8);
	assert_int_equal(full, 1000 - 8);
	gate_open(&g);
	pg_pool_free(p);
	assert_int_equal(g.finished, 2 + 8);
	gate_fini(&g);
}

typedef struct stopper {
	pg_pool *p;
	gate *g;
	int late_rc; /* what a submit got once the pool was stopping */
} stopper;

/* While pg_pool_free waits for the busy workers: a late submit is refused
 * (PG_EUNAVAIL), then the workers are let go. */
static void *
stop_helper(void *arg)
{
	stopper *s = arg;
	int64_t end = pg_clock_ms() + 5000;
	bool stopping = false;

	while (!stopping && pg_clock_ms() < end) {
		struct timespec ts = {0, 1000000L};

		pthread_mutex_lock(&s->p->mu);
		stopping = s->p->stopping;
		pthread_mutex_unlock(&s->p->mu);
		if (!stopping)
			nanosleep(&ts, NULL);
	}
	s->late_rc = pg_pool_submit(s->p, job_wait, s->g);
	gate_open(s->g);
	return NULL;
}

static void
test_drain_on_stop(void **state)
{
	pg_pool *p = NULL;
	pthread_t t;
	stopper s;
	gate g;
	int i;

	(void)state;
	gate_init(&g);
	assert_int_equal(pg_pool_new(&p, 2, 16, NULL, NULL, NULL), PG_OK);
	for (i = 0; i < 12; i++)
		assert_int_equal(pg_pool_submit(p, job_wait, &g), PG_OK);
	assert_true(gate_wait_started(&g, 2));
	assert_int_equal(pg_pool_queued(p), 10);
	s = (stopper){.p = p, .g = &g, .late_rc = PG_OK};
	assert_int_equal(pthread_create(&t, NULL, stop_helper, &s), 0);
	/* returns only after every accepted job ran, queued ones included:
	 * their owners wait for a reply */
	pg_pool_free(p);
	pthread_join(t, NULL);
	assert_int_equal(s.late_rc, PG_EUNAVAIL);
	assert_int_equal(g.started, 12);
	assert_int_equal(g.finished, 12);
	gate_fini(&g);
}

static atomic_int n_fini;

static void *
init_fails(void *ctx)
{
	(void)ctx;
	return NULL;
}

static void *
init_ok(void *ctx)
{
	return ctx;
}

static void
fini_count(void *st)
{
	(void)st;
	atomic_fetch_add(&n_fini, 1);
}

static void
test_alive(void **state)
{
	pg_pool *p = NULL;
	int64_t end;
	static int token;

	(void)state;
	/* workers whose state cannot be made exit, and are not alive */
	assert_int_equal(pg_pool_new(&p, 3, 4, init_fails, fini_count, NULL), PG_OK);
	assert_int_equal(pg_pool_alive(p), 0);
	pg_pool_free(p);
	assert_int_equal(atomic_load(&n_fini), 0);

	assert_int_equal(pg_pool_new(&p, 3, 4, init_ok, fini_count, &token), PG_OK);
	end = pg_clock_ms() + 5000;
	while (pg_pool_alive(p) < 3 && pg_clock_ms() < end) {
		struct timespec ts = {0, 1000000L};

		nanosleep(&ts, NULL);
	}
	assert_int_equal(pg_pool_alive(p), 3);
	pg_pool_free(p);
	assert_int_equal(atomic_load(&n_fini), 3);

	assert_int_equal(pg_pool_new(&p, 0, 4, NULL, NULL, NULL), PG_EINVAL);
	assert_int_equal(pg_pool_new(&p, 1, 0, NULL, NULL, NULL), PG_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_overloaded),
	    cmocka_unit_test(test_submit_within_deadline),
	    cmocka_unit_test(test_drain_on_stop),
	    cmocka_unit_test(test_alive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
