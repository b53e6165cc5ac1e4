/*
 * cli/verify_notation — `provgate verify-notation`, like `notation verify`,
 * offline, for one envelope:
 *
 *   verify-notation --config DIR --envelope FILE --media-type TYPE
 *       --artifact REF@DIGEST --artifact-media-type TYPE --artifact-size N
 *       [--at RFC3339] [--policy-name NAME] [--user-metadata KEY=VALUE]...
 *
 * or online, for an image in a registry (referrers, then the tag schema):
 *
 *   verify-notation IMAGE --config DIR [--ca-file FILE] [--at RFC3339]
 *       [--timeout DURATION]
 *
 * DIR is a notation configuration directory (trustpolicy.oci.json or
 * trustpolicy.json, truststore/x509/...).  When it has neither but has a
 * trustpolicy.blob.json, the envelope is judged as a blob signature
 * (--policy-name, else the global policy).  --at fixes the verification
 * time.  Prints "Successfully verified signature for REF@DIGEST", or
 * "Error: <step>: <reason>"; failures that the policy only logs are
 * printed as "Warning: ...".  Exit 0 verified, 1 not verified, 2 usage
 * error or unreadable/invalid local input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf/buf.h"
#include "cli/cli.h"
#include "clock/clock.h"
#include "fetch/fetch.h"
#include "notation/notation.h"
#include "oci/oci.h"
#include "ref/ref.h"
#include "verify/verify.h"

/* --user-metadata options we take. */
#define PG_NV_META_MAX 32

static int
usage(const char *why)
{
	return pg_cli_fail(PG_EXIT_USAGE,
			   "%s\nusage: provgate verify-notation --config DIR --envelope FILE "
			   "--media-type TYPE --artifact REF@DIGEST --artifact-media-type TYPE "
			   "--artifact-size N [--at RFC3339] [--policy-name NAME] "
			   "[--user-metadata KEY=VALUE]...\n       provgate verify-notation IMAGE "
			   "--config DIR [--ca-file FILE] [--at RFC3339] [--timeout DURATION]",
			   why);
}

/* "registry/repo" of "registry/repo[:tag]@digest": the scope notation
 * matches against. */
static char *
repo_of(const char *ref, size_t n)
{
	size_t i, slash = 0;

	for (i = 0; i < n; i++)
		if (ref[i] == '/')
			slash = i;
	for (i = slash; i < n; i++)
		if (ref[i] == ':' && slash > 0)
			return pg_strndup(ref, i);
	return pg_strndup(ref, n);
}

/* $DOCKER_CONFIG/config.json, else ~/.docker/config.json, if it exists. */
static char *
docker_config(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char p[4096];
	struct stat st;

	if (dir && dir[0])
		(void)snprintf(p, sizeof(p), "%s/config.json", dir);
	else if (home && home[0])
		(void)snprintf(p, sizeof(p), "%s/.docker/config.json", home);
	else
		return NULL;
	return stat(p, &st) == 0 ? pg_strdup(p) : NULL;
}

static int
online(const char *image, const char *config, const char *ca, int64_t now, unsigned long timeout_s)
{
	pg_notation_config *cfg = NULL;
	pg_image_ref *ref = NULL;
	pg_fetch *f = NULL;
	pg_oci *oci = NULL;
	pg_oci_opts oo;
	pg_oci_req q;
	char *digest = NULL, *signer = NULL, *dcfg = NULL;
	pg_err err;
	int code;

	pg_err_clear(&err);
	memset(&oo, 0, sizeof(oo));
	memset(&q, 0, sizeof(q));
	if (pg_ref_parse_image(&ref, image, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_notation_config_load(&cfg, config, false, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	dcfg = docker_config();
	oo.ca_file = ca;
	oo.docker_config = dcfg;
	if (pg_fetch_new(&f) != PG_OK || pg_oci_new(&oci, &oo, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	q.fetch = f;
	q.deadline = pg_clock_ms() + (int64_t)timeout_s * 1000;
	if (pg_verify_notation_config(&digest, &signer, oci, &q, cfg, ref, now, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "signature verification failed for %s: %s", image,
				   err.msg);
		goto out;
	}
	printf("Successfully verified signature for %s/%s@%s\n", ref->registry, ref->repository,
	       digest);
	if (signer)
		printf("Signer: %s\n", signer);
	code = PG_EXIT_OK;
out:
	free(digest);
	free(signer);
	free(dcfg);
	pg_oci_free(oci);
	pg_fetch_free(f);
	pg_ref_free(ref);
	pg_notation_config_free(cfg);
	return code;
}

static bool
file_exists(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

int
pg_cmd_verify_notation(int argc, char **argv)
{
	const char *config = NULL, *env_path = NULL, *mt = NULL, *artifact = NULL;
	const char *amt = NULL, *asize = NULL, *at = NULL, *pname = NULL, *at_sign;
	const char *image = NULL, *ca = NULL;
	unsigned long timeout_s = PG_CLI_VERIFY_TIMEOUT_MS / 1000;
	uint64_t tms;
	pg_notation_kv meta[PG_NV_META_MAX];
	char *meta_buf[PG_NV_META_MAX];
	size_t nmeta = 0, env_len = 0, i;
	char *env = NULL, *repo = NULL;
	pg_notation_config *cfg = NULL;
	const pg_notation_trust *trust;
	pg_notation_outcome outcome;
	pg_notation_target target;
	unsigned long size;
	int64_t now;
	bool blob;
	pg_err err;
	int a, code = PG_EXIT_USAGE, rc;

	pg_err_clear(&err);
	memset(meta_buf, 0, sizeof(meta_buf));
	for (a = 1; a < argc; a++) {
		const char *v = NULL;
		int r;

		if ((r = pg_cli_opt(argc, argv, &a, "--config", &config)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--envelope", &env_path)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--media-type", &mt)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--artifact-media-type", &amt)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--artifact-size", &asize)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--artifact", &artifact)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--at", &at)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--policy-name", &pname)) ||
		    (r = pg_cli_opt(argc, argv, &a, "--ca-file", &ca))) {
			if (r < 0)
				goto out;
			continue;
		}
		if ((r = pg_cli_time_opt(argc, argv, &a, "--timeout", 1000, 1000,
					 PG_CLI_VERIFY_TIMEOUT_MAX_MS, &tms))) {
			if (r < 0)
				goto out;
			timeout_s = (unsigned long)(tms + 999) / 1000;
			continue;
		}
		if ((r = pg_cli_opt(argc, argv, &a, "--user-metadata", &v)) != 0) {
			char *eq;

			if (r < 0)
				goto out;
			if (nmeta >= PG_NV_META_MAX) {
				code = usage("too many --user-metadata");
				goto out;
			}
			if ((meta_buf[nmeta] = pg_strdup(v)) == NULL ||
			    (eq = strchr(meta_buf[nmeta], '=')) == NULL || eq == meta_buf[nmeta]) {
				code = usage("--user-metadata takes KEY=VALUE");
				goto out;
			}
			*eq = '\0';
			meta[nmeta].key = meta_buf[nmeta];
			meta[nmeta].value = eq + 1;
			nmeta++;
			continue;
		}
		if (argv[a][0] != '-' && image == NULL) {
			image = argv[a];
			continue;
		}
		code = usage(argv[a][0] == '-' ? "unknown option" : "unexpected argument");
		goto out;
	}
	if (image != NULL) {
		if (!config || env_path || mt || artifact || amt || asize || nmeta || pname) {
			code =
			    usage("IMAGE takes --config DIR (and --ca-file, --at, --timeout) only");
			goto out;
		}
		now = (int64_t)time(NULL);
		if (at != NULL && pg_notation_time_parse(&now, at) != PG_OK) {
			code = usage("--at must be an RFC 3339 time");
			goto out;
		}
		code = online(image, config, ca, now, timeout_s);
		goto out;
	}
	if (!config || !env_path || !mt || !artifact || !amt || !asize) {
		code = usage("--config, --envelope, --media-type, --artifact, "
			     "--artifact-media-type and --artifact-size are required");
		goto out;
	}
	at_sign = strrchr(artifact, '@');
	if (at_sign == NULL || at_sign == artifact || strchr(at_sign, ':') == NULL) {
		code = usage("--artifact must be REF@DIGEST");
		goto out;
	}
	if (pg_cli_uint(asize, 0, (unsigned long)INT64_MAX, &size) != 0) {
		code = usage("--artifact-size must be a byte count");
		goto out;
	}
	if (at != NULL) {
		if (pg_notation_time_parse(&now, at) != PG_OK) {
			code = usage("--at must be an RFC 3339 time");
			goto out;
		}
	} else {
		now = (int64_t)time(NULL);
	}
	if ((repo = repo_of(artifact, (size_t)(at_sign - artifact))) == NULL) {
		code = pg_cli_fail(PG_EXIT_USAGE, "out of memory");
		goto out;
	}
	blob = !file_exists(config, "trustpolicy.oci.json") &&
	       !file_exists(config, "trustpolicy.json") &&
	       file_exists(config, "trustpolicy.blob.json");
	if (pg_notation_config_load(&cfg, config, blob, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_buf_read_file(&env, &env_len, env_path, PG_NOTATION_ENVELOPE_MAX, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_notation_config_select(&trust, cfg, repo, blob ? pname : NULL, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "signature verification failed: %s", err.msg);
		goto out;
	}
	target.media_type = amt;
	target.digest = at_sign + 1;
	target.size = (int64_t)size;
	rc = pg_notation_verify(&outcome, trust, mt, (const unsigned char *)env, env_len, &target,
				meta, nmeta, now, &err);
	if (outcome.logged[0])
		fprintf(stderr, "Warning: %s\n", outcome.logged);
	if (rc == PG_EINVAL) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (rc != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "signature verification failed for %s: %s",
				   artifact, err.msg);
		goto out;
	}
	if (outcome.skipped)
		printf("Trust policy is configured to skip signature verification for %s\n",
		       artifact);
	else
		printf("Successfully verified signature for %s\n", artifact);
	code = PG_EXIT_OK;
out:
	for (i = 0; i < nmeta + 1 && i < PG_NV_META_MAX; i++)
		free(meta_buf[i]);
	free(env);
	free(repo);
	pg_notation_config_free(cfg);
	return code;
}
