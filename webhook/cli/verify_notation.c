/*
 * cli/verify_notation — `provgate verify-notation`, like `notation verify`,
 * offline, for one envelope:
 *
 *   verify-notation --config DIR --envelope FILE --media-type TYPE
 *       --artifact REF@DIGEST --artifact-media-type TYPE --artifact-size N
 *       [--at RFC3339] [--policy-name NAME] [--user-metadata KEY=VALUE]...
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
#include "notation/notation.h"

/* --user-metadata options we take. */
#define PG_NV_META_MAX 32

static int
usage(const char *why)
{
	return pg_cli_fail(PG_EXIT_USAGE,
			   "%s\nusage: provgate verify-notation --config DIR --envelope FILE "
			   "--media-type TYPE --artifact REF@DIGEST --artifact-media-type TYPE "
			   "--artifact-size N [--at RFC3339] [--policy-name NAME] "
			   "[--user-metadata KEY=VALUE]...",
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
		    (r = pg_cli_opt(argc, argv, &a, "--policy-name", &pname))) {
			if (r < 0)
				goto out;
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
		code = usage(argv[a][0] == '-' ? "unknown option" : "unexpected argument");
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
