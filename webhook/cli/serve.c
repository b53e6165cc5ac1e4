/*
 * cli/serve — `provgate serve`: flags to pg_server_opts, then the server.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgp/pgp.h"
#include "server/server.h"

static int
num(const char *flag, const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	if (pg_cli_uint(v, min, max, out) != 0)
		return pg_cli_fail(PG_EXIT_USAGE, "%s wants a number from %lu to %lu, got \"%s\"",
				   flag, min, max, v);
	return 0;
}

int
pg_cmd_serve(int argc, char **argv)
{
	pg_server_opts o;
	pg_err err;
	int i, r;
	unsigned long n;
	uint64_t t;
	char store[4096];

	pg_server_opts_default(&o);
	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if ((r = pg_cli_opt(argc, argv, &i, "--policy", &o.policy_dir)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--tls-cert", &o.tls_cert)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--tls-key", &o.tls_key)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--listen", &o.listen)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--metrics-listen", &o.metrics_listen)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--client-ca", &o.client_ca)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--ca-file", &o.ca_file))) {
			if (r < 0)
				return PG_EXIT_USAGE;
			continue;
		}
		if ((r = pg_cli_opt(argc, argv, &i, "--client-name", &v))) {
			if (r < 0)
				return PG_EXIT_USAGE;
			if (o.n_client_names == PG_SERVER_MAX_CLIENT_NAMES)
				return pg_cli_fail(PG_EXIT_USAGE, "at most %d --client-name",
						   PG_SERVER_MAX_CLIENT_NAMES);
			o.client_names[o.n_client_names++] = v;
			continue;
		}
		if ((r = pg_cli_opt(argc, argv, &i, "--state-dir", &v))) {
			/* Writable state (per-keyring gpg homes) lives here; with a
			 * read-only root filesystem this is the emptyDir.  Set before
			 * any thread starts. */
			if (r < 0 || setenv("TMPDIR", v, 1) != 0)
				return PG_EXIT_USAGE;
			/* one gpg home per keyring, keyed by its digest, kept
			 * across workers and restarts */
			if (snprintf(store, sizeof(store), "%s/pgp", v) >= (int)sizeof(store) ||
			    pg_pgp_set_store(store) != PG_OK)
				return pg_cli_fail(PG_EXIT_USAGE, "--state-dir: path too long");
			continue;
		}
		if (strcmp(argv[i], "--http1-only") == 0) {
			o.http1_only = true;
			continue;
		}
#define NUMOPT(flag, lo, hi, field, type)                                                          \
	if ((r = pg_cli_opt(argc, argv, &i, flag, &v))) {                                          \
		if (r < 0 || num(flag, v, lo, hi, &n))                                             \
			return PG_EXIT_USAGE;                                                      \
		o.field = (type)n;                                                                 \
		continue;                                                                          \
	}
		NUMOPT("--threads", 1, 64, threads, unsigned)
		NUMOPT("--workers", 1, 256, workers, unsigned)
		NUMOPT("--queue", 1, 1000000, queue, size_t)
		NUMOPT("--max-body", 1024, 64UL << 20, max_body, size_t)
		NUMOPT("--max-streams", 1, 1000, max_streams, unsigned)
		NUMOPT("--cache-entries", 1, 10000000, cache_entries, size_t)
		NUMOPT("--cache-bytes", 1024, 4UL << 30, cache_bytes, size_t)
#undef NUMOPT
		/* Time flags: a duration (10s, 500ms); the *-ms names, older,
		 * read a bare number as milliseconds, the others as seconds. */
#define TIMEOPT(flag, unit, lo, hi, field)                                                         \
	if ((r = pg_cli_time_opt(argc, argv, &i, flag, unit, lo, hi, &t))) {                       \
		if (r < 0)                                                                         \
			return PG_EXIT_USAGE;                                                      \
		o.field = (unsigned)t;                                                             \
		continue;                                                                          \
	}
		TIMEOPT("--timeout", 1000, PG_CLI_REVIEW_TIMEOUT_MIN_MS,
			PG_CLI_REVIEW_TIMEOUT_MAX_MS, timeout_ms)
		TIMEOPT("--timeout-ms", 1, PG_CLI_REVIEW_TIMEOUT_MIN_MS,
			PG_CLI_REVIEW_TIMEOUT_MAX_MS, timeout_ms)
		TIMEOPT("--reload", 1000, 50, 3600000, reload_ms)
		TIMEOPT("--reload-ms", 1, 50, 3600000, reload_ms)
		TIMEOPT("--cache-ttl", 1000, 1, 86400000, cache_ttl_ms)
		TIMEOPT("--cache-ttl-ms", 1, 1, 86400000, cache_ttl_ms)
		TIMEOPT("--cache-negative-ttl", 1000, 1, 86400000, cache_neg_ttl_ms)
		TIMEOPT("--cache-negative-ttl-ms", 1, 1, 86400000, cache_neg_ttl_ms)
		TIMEOPT("--cache-tag-ttl", 1000, 1, 86400000, cache_tag_ttl_ms)
		TIMEOPT("--cache-tag-ttl-ms", 1, 1, 86400000, cache_tag_ttl_ms)
#undef TIMEOPT
		return pg_cli_fail(PG_EXIT_USAGE, "serve: unknown argument \"%s\"", argv[i]);
	}
	if (o.policy_dir == NULL || o.tls_cert == NULL || o.tls_key == NULL)
		return pg_cli_fail(PG_EXIT_USAGE, "usage: provgate serve --policy DIR --tls-cert "
						  "FILE --tls-key FILE [--listen ADDR:PORT] ...");
	if (o.n_client_names && o.client_ca == NULL)
		return pg_cli_fail(PG_EXIT_USAGE, "--client-name needs --client-ca");
	pg_err_clear(&err);
	if (pg_server_run(&o, &err) != PG_OK)
		return pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
	return PG_EXIT_OK;
}
