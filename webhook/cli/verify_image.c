/*
 * cli/verify_image — `provgate verify-image IMAGE_REF ...`, like
 * `cosign verify`: resolve the reference to a digest, find its signatures
 * (Sigstore bundle referrers, legacy .sig tag), verify them against one
 * key or one keyless identity, and print the verified digest and signer.
 *
 * Exit codes (DESIGN §3): 0 verified; 1 not verified, whatever the reason
 * (registry unreachable included); 2 usage error or unreadable local input
 * (key, trusted root).  Credentials come from the docker config, as for
 * cosign: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf/buf.h"
#include "cli/cli.h"
#include "clock/clock.h"
#include "fetch/fetch.h"
#include "oci/oci.h"
#include "verify/cosign.h"
#include "ref/ref.h"
#include "sigstore/sigstore.h"

enum {
	OPT_KEY = 1,
	OPT_ID,
	OPT_ID_RE,
	OPT_ISSUER,
	OPT_ISSUER_RE,
	OPT_ROOT,
	OPT_NO_TLOG,
	OPT_CA,
	OPT_HTTP,
	OPT_TIMEOUT,
	OPT_HELP,
};

static const struct option opts[] = {
    {"key", required_argument, NULL, OPT_KEY},
    {"certificate-identity", required_argument, NULL, OPT_ID},
    {"certificate-identity-regexp", required_argument, NULL, OPT_ID_RE},
    {"certificate-oidc-issuer", required_argument, NULL, OPT_ISSUER},
    {"certificate-oidc-issuer-regexp", required_argument, NULL, OPT_ISSUER_RE},
    {"trusted-root", required_argument, NULL, OPT_ROOT},
    {"insecure-ignore-tlog", optional_argument, NULL, OPT_NO_TLOG},
    {"ca-file", required_argument, NULL, OPT_CA},
    {"allow-http-registry", no_argument, NULL, OPT_HTTP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "usage: provgate verify-image IMAGE_REF (--key PEMFILE | --certificate-identity ID |\n"
    "         --certificate-identity-regexp RE) [--certificate-oidc-issuer URL |\n"
    "         --certificate-oidc-issuer-regexp RE] [--trusted-root FILE]\n"
    "         [--insecure-ignore-tlog] [--ca-file FILE] [--allow-http-registry]\n"
    "         [--timeout DURATION]\n";

typedef struct args {
	const char *image, *key, *id, *id_re, *issuer, *issuer_re, *root, *ca;
	bool no_tlog, plain_http;
	int64_t timeout_ms;
} args;

static int
usage_fail(const char *fmt, const char *what)
{
	fprintf(stderr, "Error: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n%s", usage_text);
	return PG_EXIT_USAGE;
}

static int
parse_args(args *a, int argc, char **argv)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = PG_CLI_VERIFY_TIMEOUT_MS;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_KEY:
			a->key = optarg;
			break;
		case OPT_ID:
			a->id = optarg;
			break;
		case OPT_ID_RE:
			a->id_re = optarg;
			break;
		case OPT_ISSUER:
			a->issuer = optarg;
			break;
		case OPT_ISSUER_RE:
			a->issuer_re = optarg;
			break;
		case OPT_ROOT:
			a->root = optarg;
			break;
		case OPT_CA:
			a->ca = optarg;
			break;
		case OPT_HTTP:
			a->plain_http = true;
			break;
		case OPT_NO_TLOG:
			if (optarg == NULL || strcmp(optarg, "true") == 0)
				a->no_tlog = true;
			else if (strcmp(optarg, "false") == 0)
				a->no_tlog = false;
			else
				return usage_fail(
				    "--insecure-ignore-tlog takes true or false, not \"%s\"",
				    optarg);
			break;
		case OPT_TIMEOUT: {
			uint64_t ms;

			if (pg_cli_duration(optarg, 1000, 1000, PG_CLI_VERIFY_TIMEOUT_MAX_MS,
					    &ms) != 0) {
				return pg_cli_duration_fail("--timeout", optarg, 1000,
							    PG_CLI_VERIFY_TIMEOUT_MAX_MS,
							    "seconds");
			}
			a->timeout_ms = (int64_t)ms;
			break;
		}
		case OPT_HELP:
			fputs(usage_text, stdout);
			return -1;
		case ':':
			return usage_fail("option %s needs a value", argv[optind - 1]);
		default:
			return usage_fail("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_fail("%s",
				  optind >= argc ? "missing IMAGE_REF" : "more than one IMAGE_REF");
	a->image = argv[optind];
	if ((a->key != NULL) + (a->id != NULL) + (a->id_re != NULL) != 1)
		return usage_fail("%s", "give exactly one of --key, --certificate-identity, "
					"--certificate-identity-regexp");
	if (a->issuer && a->issuer_re)
		return usage_fail("%s", "give at most one of --certificate-oidc-issuer, "
					"--certificate-oidc-issuer-regexp");
	if (a->key && (a->issuer || a->issuer_re))
		return usage_fail(
		    "%s", "--certificate-oidc-issuer* applies to keyless verification, not --key");
	if (!a->key && !a->issuer && !a->issuer_re)
		return usage_fail("%s", "keyless verification needs --certificate-oidc-issuer or "
					"--certificate-oidc-issuer-regexp");
	if (!a->key && !a->root)
		return usage_fail("%s", "keyless verification needs --trusted-root FILE");
	if (a->key && !a->no_tlog && !a->root)
		return usage_fail("%s", "checking the transparency log needs --trusted-root FILE "
					"(or --insecure-ignore-tlog)");
	return PG_EXIT_OK;
}

/* $DOCKER_CONFIG/config.json, else ~/.docker/config.json, if it exists. */
static char *
docker_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	pg_buf b;
	char *p = NULL;

	pg_buf_init(&b, 4096);
	if (dir && dir[0])
		(void)pg_buf_printf(&b, "%s/config.json", dir);
	else if (home && home[0])
		(void)pg_buf_printf(&b, "%s/.docker/config.json", home);
	if (b.len > 0 && access((const char *)b.data, F_OK) == 0)
		(void)pg_buf_detach(&p, NULL, &b);
	pg_buf_free(&b);
	return p;
}

int
pg_cmd_verify_image(int argc, char **argv)
{
	int rc, code = PG_EXIT_DENY;
	args a;
	pg_err err = {0};
	char *key = NULL, *root_json = NULL, *dcfg = NULL;
	size_t key_len = 0, root_len = 0;
	pg_trusted_root *root = NULL;
	pg_image_ref *ref = NULL;
	pg_fetch *f = NULL;
	pg_oci *oci = NULL;
	pg_oci_opts oo = {0};
	pg_oci_host hconf = {0};
	pg_oci_req q = {0};
	pg_sig_trust t = {0};
	pg_verify_cosign_result v = {0};

	rc = parse_args(&a, argc, argv);
	if (rc < 0)
		return PG_EXIT_OK;
	if (rc != PG_EXIT_OK)
		return rc;
	if (a.key && pg_buf_read_file(&key, &key_len, a.key, PG_CLI_KEY_FILE_MAX, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (a.root) {
		if (pg_buf_read_file(&root_json, &root_len, a.root, PG_SIGSTORE_JSON_MAX, &err) !=
		    PG_OK) {
			code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
			goto out;
		}
		rc = pg_trusted_root_load(&root, root_json, root_len, &err);
		if (rc != PG_OK) {
			code = pg_cli_fail(rc == PG_EUNAVAIL ? PG_EXIT_DENY : PG_EXIT_USAGE,
					   "%s: %s", a.root, err.msg);
			goto out;
		}
	}
	if (pg_ref_parse_image(&ref, a.image, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	dcfg = docker_config_path();
	oo.ca_file = a.ca;
	oo.docker_config = dcfg;
	if (a.plain_http) {
		hconf.host = ref->registry;
		hconf.ca_file = a.ca;
		hconf.docker_config = dcfg;
		hconf.plain_http = true;
		oo.hosts = &hconf;
		oo.n_hosts = 1;
	}
	if (pg_fetch_new(&f) != PG_OK || pg_oci_new(&oci, &oo, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	t.key_pem = key;
	t.key_len = key_len;
	t.root = root;
	t.identity = a.id;
	t.identity_regexp = a.id_re;
	t.issuer = a.issuer;
	t.issuer_regexp = a.issuer_re;
	t.tlog_required = !a.no_tlog;
	q.fetch = f;
	q.deadline = pg_clock_ms() + a.timeout_ms;
	rc = pg_verify_cosign_image(&v, oci, &q, ref, &t, 1, 1, &err);
	if (rc != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
		goto out;
	}
	printf("Verified: %s/%s@%s\n", ref->registry, ref->repository, v.digest);
	printf("Digest: %s\n", v.digest);
	printf("Signer: %s\n", v.signer ? v.signer : "unknown");
	code = PG_EXIT_OK;
out:
	pg_verify_cosign_result_clear(&v);
	pg_oci_free(oci);
	pg_fetch_free(f);
	pg_ref_free(ref);
	pg_trusted_root_free(root);
	if (key) {
		pg_wipe(key, key_len);
		free(key);
	}
	free(root_json);
	free(dcfg);
	return code;
}
