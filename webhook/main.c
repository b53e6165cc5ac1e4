/*
 * provgate — a Kubernetes validating admission webhook that admits only
 * charts and images that prove their provenance.  This file is CLI dispatch
 * only: library initialisation that must precede threads, then one verb.
 */
#include <stdio.h>
#include <string.h>

#include <locale.h>
#include <malloc.h>

#include "cli/cli.h"
#include "fetch/fetch.h"
#include "jsonmem/jsonmem.h"
#include "pgp/pgp.h"

#ifndef PG_VERSION
#define PG_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
} verbs[] = {
    {"serve", pg_cmd_serve},
    {"review", pg_cmd_review},
    {"verify-chart", pg_cmd_verify_chart},
    {"verify-image", pg_cmd_verify_image},
    {"verify-bundle", pg_cmd_verify_bundle},
    {"verify-attestation", pg_cmd_verify_attestation},
    {"verify-notation", pg_cmd_verify_notation},
    {"policy", pg_cmd_policy},
};

/* The usage lines come from the verbs' help texts (cli/help.c). */
static int
usage(FILE *f)
{
	pg_cli_usage(f);
	return PG_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage(stderr);
	if (argc >= 3 && pg_cli_is_help(argv[2]) && strcmp(argv[1], "version") == 0)
		return pg_cli_help("version");
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("provgate %s\n", PG_VERSION);
		return PG_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0 && argc >= 3)
		return pg_cli_help(argv[2]);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		(void)usage(stdout);
		return PG_EXIT_OK;
	}
	/* `provgate VERB --help`: every verb, before it parses anything. */
	for (i = 0; argc >= 3 && pg_cli_is_help(argv[2]) && i < sizeof(verbs) / sizeof(verbs[0]);
	     i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return pg_cli_help(argv[1]);

	/* Libraries that are not thread-safe to initialise: once, here. */
	pg_json_init();
	/* Keep freed heap rather than hand it back after every review: at
	 * glibc's default threshold a review's parse tree, once freed, trims
	 * the thread's arena (madvise, a TLB shootdown on every CPU) and the
	 * next review faults the pages in again: ~9% of a busy loop thread
	 * (perf, pure-decision h2load).  8 MiB per arena is far more than a
	 * review holds, and the peak is what the RSS bounds measure. */
	(void)mallopt(M_TRIM_THRESHOLD, 8 << 20);
	setlocale(LC_ALL, "");
	if (pg_pgp_global_init() != PG_OK)
		return pg_cli_fail(PG_EXIT_USAGE, "OpenPGP (gpgme) could not be initialised");
	if (pg_fetch_global_init() != 0)
		return pg_cli_fail(PG_EXIT_USAGE, "libcurl could not be initialised");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "Error: unknown verb \"%s\"\n", argv[1]);
	return usage(stderr);
}
