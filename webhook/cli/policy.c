/*
 * cli/policy — `provgate policy check PATH [--root DIR]`: load a policy
 * exactly as the server would, trust material included, and say whether it
 * is usable.  PATH is the policy directory, a single policy file, a
 * ConfigMap manifest holding policy files (data keys), or the chart's
 * values (policy.files).  --root maps the in-cluster paths of trust files
 * (/etc/provgate/trust/...) to DIR/etc/provgate/trust/...; relative paths are
 * resolved against the policy's directory (in the cluster
 * /etc/provgate/policy, so DIR/etc/provgate/policy with --root).
 * Exit 0 with a summary, 2 with "Error: FILE:LINE: ..." when it is
 * unreadable or invalid.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf/buf.h"
#include "helm/helm.h"
#include "policy/policy.h"
#include "verify/verify.h"

/* A ConfigMap or values file holding policies: far above any real one. */
#define CHECK_INPUT_MAX ((size_t)PG_POLICY_FILE_MAX * 4)
#define CHECK_TEXTS_MAX PG_POLICY_FILES_MAX

static int
policy_usage(void)
{
	return pg_cli_fail(PG_EXIT_USAGE, "usage: provgate policy check DIR|FILE [--root DIR]");
}

static bool
policy_key(const char *k)
{
	size_t n = strlen(k);

	return k[0] != '.' && ((n > 5 && strcmp(k + n - 5, ".yaml") == 0) ||
			       (n > 4 && strcmp(k + n - 4, ".yml") == 0) ||
			       (n > 5 && strcmp(k + n - 5, ".json") == 0));
}

/* Load a file: a policy, a ConfigMap manifest, or chart values. */
static int
load_file(pg_policy **out, const char *path, const char *root, pg_err *err)
{
	char *text = NULL, *dcopy = NULL, base[4096];
	const char *names[CHECK_TEXTS_MAX], *texts[CHECK_TEXTS_MAX];
	char *owned[CHECK_TEXTS_MAX];
	size_t lens[CHECK_TEXTS_MAX], len = 0, n = 0, i;
	const json_t *files = NULL, *v;
	const char *k, *kind, *where = NULL;
	json_t *doc = NULL;
	pg_err yerr;
	int rc;

	if ((rc = pg_buf_read_file(&text, &len, path, CHECK_INPUT_MAX, err)) != PG_OK)
		return rc;
	if ((dcopy = pg_strdup(path)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (root)
		(void)snprintf(base, sizeof(base), "%s/etc/provgate/policy", root);
	else
		(void)snprintf(base, sizeof(base), "%s", dirname(dcopy));
	pg_err_clear(&yerr);
	if (pg_helm_yaml_to_json(&doc, text, len, &yerr) == PG_OK && json_is_object(doc)) {
		kind = json_string_value(json_object_get(doc, "kind"));
		if (kind && strcmp(kind, "ConfigMap") == 0) {
			files = json_object_get(doc, "data");
			where = "data";
		} else if (kind == NULL && json_is_object(json_object_get(doc, "policy"))) {
			files = json_object_get(json_object_get(doc, "policy"), "files");
			where = "policy.files";
		}
	}
	if (where == NULL) { /* a policy file itself */
		names[0] = path;
		texts[0] = text;
		lens[0] = len;
		rc = pg_policy_load_texts(out, names, texts, lens, 1, base, root, path, err);
		goto out;
	}
	if (!json_is_object(files)) {
		rc = pg_err_set(err, PG_EINVAL, "%s: %s holds no policy files", path, where);
		goto out;
	}
	json_object_foreach((json_t *)files, k, v)
	{
		char nm[4096];

		if (!policy_key(k) || !json_is_string(v))
			continue; /* the server reads only *.yaml, *.yml, *.json */
		if (n == CHECK_TEXTS_MAX) {
			rc = pg_err_set(err, PG_ETOOBIG, "%s: more than %d policy files", path,
					CHECK_TEXTS_MAX);
			goto free_names;
		}
		(void)snprintf(nm, sizeof(nm), "%s[%s.%s]", path, where, k);
		if ((owned[n] = pg_strdup(nm)) == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto free_names;
		}
		names[n] = owned[n];
		texts[n] = json_string_value(v);
		lens[n] = json_string_length(v);
		n++;
	}
	rc = pg_policy_load_texts(out, names, texts, lens, n, base, root, path, err);
free_names:
	for (i = 0; i < n; i++)
		free(owned[i]);
out:
	json_decref(doc);
	free(dcopy);
	free(text);
	return rc;
}

static int
policy_check(const char *path, const char *root)
{
	pg_policy *p = NULL;
	struct stat st;
	pg_err err;
	int rc;

	pg_err_clear(&err);
	if (stat(path, &st) != 0 || S_ISDIR(st.st_mode)) {
		if (root)
			return pg_cli_fail(PG_EXIT_USAGE,
					   "--root applies to a policy file, a ConfigMap manifest "
					   "or chart values, not a directory");
		rc = pg_policy_load_dir(&p, path, &err);
	} else {
		rc = load_file(&p, path, root, &err);
	}
	if (rc != PG_OK)
		return pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
	if (pg_verify_policy_check(p, &err) != PG_OK) {
		pg_policy_unref(p);
		return pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
	}
	printf("policy OK: %zu document%s, %zu image rule%s, %zu chart rule%s, mode %s\n",
	       pg_policy_n_docs(p), pg_policy_n_docs(p) == 1 ? "" : "s", pg_policy_n_images(p),
	       pg_policy_n_images(p) == 1 ? "" : "s", pg_policy_n_charts(p),
	       pg_policy_n_charts(p) == 1 ? "" : "s",
	       pg_policy_mode(p) == PG_MODE_AUDIT ? "audit" : "enforce");
	pg_policy_unref(p);
	return PG_EXIT_OK;
}

int
pg_cmd_policy(int argc, char **argv)
{
	const char *path = NULL, *root = NULL;
	int i, r;

	if (argc < 2 || strcmp(argv[1], "check") != 0)
		return policy_usage();
	for (i = 2; i < argc; i++) {
		if ((r = pg_cli_opt(argc, argv, &i, "--root", &root))) {
			if (r < 0)
				return PG_EXIT_USAGE;
			continue;
		}
		if (path != NULL || argv[i][0] == '\0')
			return policy_usage();
		path = argv[i];
	}
	if (path == NULL)
		return policy_usage();
	return policy_check(path, root);
}
