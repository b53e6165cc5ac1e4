/*
 * parse_floor — the design's own ceiling for a jansson-based webhook: N
 * threads doing nothing but json_loadb + json_decref of the same review for
 * a fixed time.  No server built on jansson can answer faster than this on
 * the same cores.  Prints "parses_per_sec N cpu_us_per_parse C": the rate,
 * and the CPU time (user + system, all threads) each parse cost, which a
 * busy machine moves much less than the rate.
 */
#include <jansson.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *body;
static size_t blen;
static atomic_ulong total;
static double seconds = 3.0;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
run(void *arg)
{
	double end = now() + seconds;
	unsigned long n = 0;

	(void)arg;
	while (now() < end) {
		int i;

		for (i = 0; i < 64; i++) {
			json_error_t je;
			json_t *o = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je);

			if (o == NULL)
				abort();
			json_decref(o);
		}
		n += 64;
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

int
main(int argc, char **argv)
{
	FILE *f;
	long sz;
	int threads, i;
	pthread_t t[64];
	double t0, cpu0, cpu;
	struct rusage ru;

	if (argc < 3)
		return 2;
	threads = (int)strtol(argv[2], NULL, 10);
	if (argc > 3)
		seconds = strtod(argv[3], NULL);
	if (threads < 1 || threads > 64 || (f = fopen(argv[1], "rb")) == NULL)
		return 2;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	body = malloc((size_t)sz);
	if (body == NULL || fread(body, 1, (size_t)sz, f) != (size_t)sz)
		return 2;
	blen = (size_t)sz;
	fclose(f);
	getrusage(RUSAGE_SELF, &ru);
	cpu0 = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	t0 = now();
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6 - cpu0;
	printf("parses_per_sec %.0f cpu_us_per_parse %.2f\n",
	       (double)atomic_load(&total) / (now() - t0), cpu * 1e6 / (double)atomic_load(&total));
	return 0;
}
