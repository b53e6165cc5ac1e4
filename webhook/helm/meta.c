/*
 * helm/meta — the name and version a chart archive says it is, read from
 * its own Chart.yaml the way Helm's loader finds it (the first path
 * component, whatever it is called, is dropped).  A .prov proves bytes, the
 * index.yaml that named them is unauthenticated: this is what lets a
 * verifier bind the verified bytes to the chart that was asked for.
 */
#include "helm/helm_int.h"

#include <stdlib.h>
#include <string.h>

int
pg_helm_chart_meta(char **name_out, char **version_out, const unsigned char *tgz, size_t len,
		   pg_err *err)
{
	pg_buf tar;
	pg_helm_files files = {0};
	const pg_helm_file *cf = NULL;
	json_t *cy = NULL;
	const char *n, *v;
	size_t i;
	int rc;

	*name_out = *version_out = NULL;
	pg_buf_init(&tar, PG_HELM_UNTAR_MAX + 4 * 512);
	if ((rc = pg_helm_gunzip(&tar, tgz, len, err)) != PG_OK ||
	    (rc = pg_helm_untar(&files, tar.data, tar.len, err)) != PG_OK) {
		rc = pg_err_wrap(err, "cannot read the chart archive: ");
		goto out;
	}
	for (i = 0; i < files.n; i++) {
		const char *slash = strchr(files.v[i].name, '/');

		if (slash == NULL || strcmp(slash + 1, "Chart.yaml") != 0)
			continue;
		if (cf != NULL) {
			/* Helm would read one and overwrite it with the other */
			rc = pg_err_set(err, PG_EVERIFY,
					"chart archive holds more than one Chart.yaml");
			goto out;
		}
		cf = &files.v[i];
	}
	if (cf == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "chart archive has no Chart.yaml");
		goto out;
	}
	if ((rc = pg_helm_yaml_load(&cy, (const char *)cf->data, cf->len, 0, NULL, err)) != PG_OK) {
		rc = pg_err_wrap(err, "cannot parse the archive's Chart.yaml: ");
		goto out;
	}
	n = json_string_value(json_object_get(cy, "name"));
	v = json_string_value(json_object_get(cy, "version"));
	if (n == NULL || v == NULL) {
		rc = pg_err_set(err, PG_EVERIFY,
				"the archive's Chart.yaml names no name or version");
		goto out;
	}
	if ((*name_out = pg_strdup(n)) == NULL || (*version_out = pg_strdup(v)) == NULL) {
		free(*name_out);
		*name_out = NULL;
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = PG_OK;
out:
	json_decref(cy);
	pg_helm_files_free(&files);
	pg_buf_free(&tar);
	return rc;
}
