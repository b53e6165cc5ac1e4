/*
 * obs: the per-host registry rate-limit gauges (issue 14): last values
 * win, a negative value leaves a gauge alone, label values are host
 * characters only, and the host table is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/obs.h"

static char *
render(void)
{
	pg_buf b;
	char *s = NULL;

	pg_buf_init(&b, 1 << 20);
	assert_int_equal(pg_metrics_render(&b), PG_OK);
	assert_int_equal(pg_buf_detach(&s, NULL, &b), PG_OK);
	return s;
}

static void
test_ratelimit_gauges(void **state)
{
	char *s;
	int i;

	(void)state;
	s = render();
	assert_null(strstr(s, "provgate_registry_ratelimit_limit{"));
	assert_non_null(strstr(s, "# TYPE provgate_registry_ratelimit_remaining gauge"));
	free(s);
	pg_metrics_registry_ratelimit("registry-1.docker.io", 100, 76);
	pg_metrics_registry_ratelimit("registry-1.docker.io", -1, 75);
	pg_metrics_registry_ratelimit("only-remaining.example", -1, 3);
	pg_metrics_registry_ratelimit("nothing.example", -1, -1);
	pg_metrics_registry_ratelimit("evil\"} 1\nx{a=\"b", 5, 5);
	s = render();
	assert_non_null(
	    strstr(s, "provgate_registry_ratelimit_limit{host=\"registry-1.docker.io\"} 100\n"));
	assert_non_null(
	    strstr(s, "provgate_registry_ratelimit_remaining{host=\"registry-1.docker.io\"} 75\n"));
	assert_non_null(strstr(
	    s, "provgate_registry_ratelimit_remaining{host=\"only-remaining.example\"} 3\n"));
	assert_null(
	    strstr(s, "provgate_registry_ratelimit_limit{host=\"only-remaining.example\"}"));
	assert_null(strstr(s, "nothing.example"));
	assert_null(strstr(s, "evil\""));
	assert_non_null(strstr(s, "provgate_registry_ratelimit_limit{host=\"evil1xab\"} 5\n"));
	free(s);
	/* bounded: many hosts do not grow the series without limit */
	for (i = 0; i < 1000; i++) {
		char h[32];

		(void)snprintf(h, sizeof(h), "h%d.example", i);
		pg_metrics_registry_ratelimit(h, 1, 1);
	}
	s = render();
	assert_non_null(strstr(s, "host=\"h0.example\""));
	assert_null(strstr(s, "host=\"h999.example\""));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratelimit_gauges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
