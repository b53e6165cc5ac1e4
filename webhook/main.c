/*
 * provgate — a Kubernetes validating admission webhook that admits only
 * charts and images that prove their provenance.  This file is CLI dispatch
 * only: library initialisation that must precede threads, then one verb.
 */
#include <stdio.h>
#include <string.h>

#include <gpgme.h>
#include <locale.h>
#include <malloc.h>

#include "cli/cli.h"
#include "fetch/fetch.h"
#include "jsonmem/jsonmem.h"

#ifndef PG_VERSION
#define PG_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} verbs[] = {
	{"serve", pg_cmd_serve, "serve --policy DIR --tls-cert FILE --tls-key FILE [--listen ADDR:PORT] ..."},
	{"review", pg_cmd_review, "review --policy DIR [--ca-file FILE] [--mutate] [FILE|-]"},
	{"verify-chart", pg_cmd_verify_chart, "verify-chart CHART.tgz|URL|oci://...|--repo URL --version VER NAME --keyring FILE"},
	{"verify-image", pg_cmd_verify_image, "verify-image IMAGE (--key PEM | --certificate-identity[-regexp] ...)"},
	{"verify-bundle", pg_cmd_verify_bundle, "verify-bundle --bundle FILE (--certificate-identity ID --certificate-oidc-issuer URL | --key FILE) FILE_OR_DIGEST"},
	{"verify-attestation", pg_cmd_verify_attestation, "verify-attestation --bundle FILE --digest sha256:HEX|sha512:HEX (--key PEM | --certificate-identity[-regexp] ... | --owner O | --repo O/R) [--type URI] ..."},
	{"verify-notation", pg_cmd_verify_notation, "verify-notation (IMAGE --config DIR [--ca-file FILE] | --config DIR --envelope FILE --media-type TYPE --artifact REF@DIGEST --artifact-media-type TYPE --artifact-size N) [--at RFC3339]"},
	{"policy", pg_cmd_policy, "policy check DIR|FILE [--root DIR]"},
};

static int
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: provgate VERB [options]\n\nverbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  provgate %s\n", verbs[i].usage);
	fprintf(f, "  provgate version\n");
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
	for (i = 0; argc >= 3 && pg_cli_is_help(argv[2]) && i < sizeof(verbs) / sizeof(verbs[0]); i++)
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
	/* gpgme asks gpgconf where everything is and probes every engine's
	 * version (five processes, ~30 ms) before the first operation; we only
	 * ever run gpg, at its Debian path. */
	(void)gpgme_set_global_flag("disable-gpgconf", "1");
	if (gpgme_check_version(NULL) == NULL)
		return pg_cli_fail(PG_EXIT_USAGE, "gpgme could not be initialised");
	if (pg_fetch_global_init() != 0)
		return pg_cli_fail(PG_EXIT_USAGE, "libcurl could not be initialised");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "Error: unknown verb \"%s\"\n", argv[1]);
	return usage(stderr);
}
