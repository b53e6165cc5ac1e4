/*
 * cli/verify_bundle — `provgate verify-bundle`, the sigstore-conformance
 * client protocol (docs/cli_protocol.md):
 *
 *   verify-bundle [--staging] --bundle FILE
 *       (--certificate-identity ID --certificate-oidc-issuer URL | --key FILE)
 *       [--trusted-root FILE] FILE_OR_DIGEST
 *
 * FILE_OR_DIGEST is a digest only when it is "sha256:<64 hex>" and not an
 * existing path.  Without --trusted-root the root comes from
 * $PROVGATE_TRUSTED_ROOT (or $PROVGATE_STAGING_TRUSTED_ROOT with
 * --staging): provgate never fetches one.  Exit 0 verified, 1 not verified,
 * 2 usage error or unreadable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf/buf.h"
#include "cli/cli.h"
#include "digest/digest.h"
#include "sigstore/sigstore.h"

/* Artifacts are read whole (Ed25519 signs the bytes, not a digest). */
#define PG_ARTIFACT_MAX ((size_t)512 << 20)

static bool
is_digest(const char *s)
{
	struct stat st;
	size_t i;

	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != PG_SHA256_STR_MAX - 1)
		return false;
	for (i = 7; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return stat(s, &st) != 0;
}

static int
usage(const char *why)
{
	return pg_cli_fail(PG_EXIT_USAGE,
			   "%s\nusage: provgate verify-bundle [--staging] --bundle FILE "
			   "(--certificate-identity ID --certificate-oidc-issuer URL | "
			   "--key FILE) [--trusted-root FILE] FILE_OR_DIGEST",
			   why);
}

int
pg_cmd_verify_bundle(int argc, char **argv)
{
	const char *bundle_path = NULL, *key_path = NULL, *root_path = NULL;
	const char *identity = NULL, *issuer = NULL, *target = NULL;
	char *bundle = NULL, *key = NULL, *root_json = NULL, *artifact = NULL;
	char *signer = NULL, digest[PG_SHA256_STR_MAX];
	size_t bundle_len = 0, key_len = 0, root_len = 0, art_len = 0;
	pg_trusted_root *root = NULL;
	bool staging = false;
	pg_sig_trust t;
	pg_err err;
	int i, rc, code = PG_EXIT_USAGE;

	pg_err_clear(&err);
	memset(&t, 0, sizeof(t));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (strcmp(a, "--staging") == 0) {
			staging = true;
			continue;
		}
		if (strcmp(a, "--bundle") == 0)
			dst = &bundle_path;
		else if (strcmp(a, "--key") == 0)
			dst = &key_path;
		else if (strcmp(a, "--trusted-root") == 0)
			dst = &root_path;
		else if (strcmp(a, "--certificate-identity") == 0)
			dst = &identity;
		else if (strcmp(a, "--certificate-oidc-issuer") == 0)
			dst = &issuer;
		if (dst != NULL) {
			if (i + 1 >= argc)
				return usage("missing value after an option");
			*dst = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1] == '-')
			return usage("unknown option");
		if (target != NULL)
			return usage("more than one artifact given");
		target = a;
	}
	if (bundle_path == NULL || target == NULL)
		return usage("--bundle and an artifact are required");
	if ((key_path != NULL) == (identity != NULL || issuer != NULL))
		return usage("give either --key or --certificate-identity with "
			     "--certificate-oidc-issuer");
	if (key_path == NULL && (identity == NULL || issuer == NULL))
		return usage("--certificate-identity and --certificate-oidc-issuer go together");
	if (root_path == NULL)
		root_path =
		    getenv(staging ? "PROVGATE_STAGING_TRUSTED_ROOT" : "PROVGATE_TRUSTED_ROOT");
	if (root_path == NULL || root_path[0] == '\0')
		return usage("no trusted root: pass --trusted-root FILE");

	if (pg_buf_read_file(&bundle, &bundle_len, bundle_path, PG_SIGSTORE_JSON_MAX, &err) !=
		PG_OK ||
	    pg_buf_read_file(&root_json, &root_len, root_path, PG_SIGSTORE_JSON_MAX, &err) !=
		PG_OK ||
	    (key_path &&
	     pg_buf_read_file(&key, &key_len, key_path, PG_CLI_KEY_FILE_MAX, &err) != PG_OK)) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (is_digest(target)) {
		(void)snprintf(digest, sizeof(digest), "sha256:%s", target + 7);
		for (i = 7; digest[i]; i++)
			if (digest[i] >= 'A' && digest[i] <= 'F')
				digest[i] = (char)(digest[i] - 'A' + 'a');
	} else if (pg_buf_read_file(&artifact, &art_len, target, PG_ARTIFACT_MAX, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	rc = pg_trusted_root_load(&root, root_json, root_len, &err);
	if (rc != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
		goto out;
	}
	t.root = root;
	t.key_pem = key;
	t.key_len = key_len;
	t.identity = identity;
	t.issuer = issuer;
	t.tlog_required = true;
	rc = pg_sigstore_verify_bundle(&signer, bundle, bundle_len, (const unsigned char *)artifact,
				       art_len, artifact ? NULL : digest, &t, &err);
	if (rc != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg[0] ? err.msg : pg_err_name(rc));
		goto out;
	}
	printf("Verified OK: %s\n", signer);
	code = PG_EXIT_OK;
out:
	free(signer);
	free(bundle);
	free(key);
	free(root_json);
	free(artifact);
	pg_trusted_root_free(root);
	return code;
}
