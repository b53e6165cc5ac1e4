/*
 * helm/ocichart — Helm charts stored in OCI registries: the chart content
 * layer and the provenance layer, fetched through the registry client
 * (oci/), which itself knows nothing of charts.
 */
#include "helm/helm.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "oci/oci.h"
#include "ref/ref.h"

#define OCI_CHART_CONTENT "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
#define OCI_CHART_PROV "application/vnd.cncf.helm.chart.provenance.v1.prov"

int
pg_helm_download_oci(pg_helm_download **out, struct pg_oci *oci, const struct pg_oci_req *q,
		     const char *ref, pg_err *err)
{
	pg_image_ref *img = NULL;
	pg_oci_manifest *m = NULL;
	pg_helm_download *d = NULL;
	const pg_oci_desc *content = NULL, *prov = NULL;
	const char *name;
	pg_buf an;
	size_t i;
	int rc;

	pg_buf_init(&an, 1024);
	if (strncmp(ref, "oci://", 6) != 0) {
		rc = pg_err_set(err, PG_EINVAL, "not an oci:// chart reference: %.200s", ref);
		goto out;
	}
	if ((rc = pg_ref_parse_oci(&img, ref + 6, err)) != PG_OK)
		goto out;
	if (img->digest == NULL && (img->tag == NULL || strstr(ref + 6, ":") == NULL)) {
		/* a chart needs its version: "latest" is never implied */
		rc = pg_err_set(err, PG_EINVAL, "OCI chart %.200s names no version", ref);
		goto out;
	}
	name = strrchr(img->repository, '/');
	name = name ? name + 1 : img->repository;
	rc = pg_oci_manifest_get(&m, oci, q, img->registry, img->repository,
				 img->digest ? img->digest : img->tag, err);
	if (rc != PG_OK)
		goto out;
	for (i = 0; i < pg_oci_manifest_count(m); i++) {
		const pg_oci_desc *ds = pg_oci_manifest_desc(m, i);

		if (ds->media_type && strcmp(ds->media_type, OCI_CHART_CONTENT) == 0 && !content)
			content = ds;
		else if (ds->media_type && strcmp(ds->media_type, OCI_CHART_PROV) == 0 && !prov)
			prov = ds;
	}
	if (content == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "%.200s is not a Helm chart (no %s layer)", ref,
				OCI_CHART_CONTENT);
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL || (d->url = pg_strdup(ref)) == NULL ||
	    (d->name = pg_strdup(name)) == NULL ||
	    (img->tag && (d->version = pg_strdup(img->tag)) == NULL)) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = pg_oci_blob_get(&d->tgz, &d->tgz_len, oci, q, img->registry, img->repository,
			     content->digest, content->size, PG_HELM_CHART_MAX, err);
	if (rc != PG_OK)
		goto out;
	if (d->version == NULL) {
		/* pinned by digest: the version is the one these bytes carry */
		char *cn = NULL;

		rc = pg_helm_chart_meta(&cn, &d->version, d->tgz, d->tgz_len, err);
		free(cn);
		if (rc != PG_OK)
			goto out;
	}
	if (pg_buf_printf(&an, "%s-%s.tgz", name, d->version) != PG_OK ||
	    pg_buf_detach(&d->archive_name, NULL, &an) != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (prov) {
		unsigned char *pb = NULL;

		rc = pg_oci_blob_get(&pb, &d->prov_len, oci, q, img->registry, img->repository,
				     prov->digest, prov->size, PG_HELM_PROV_MAX, err);
		if (rc != PG_OK)
			goto out;
		d->prov = (char *)pb;
	}
	*out = d;
	d = NULL;
	rc = PG_OK;
out:
	pg_buf_free(&an);
	pg_helm_download_free(d);
	pg_oci_manifest_free(m);
	pg_ref_free(img);
	return rc;
}
