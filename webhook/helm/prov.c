/*
 * helm/prov — the .prov plaintext and the `helm verify` sequence
 * (pkg/provenance Signatory.Verify): signature first, then the archive's
 * sha256 against the files: entry for its saved name.  Messages are Helm's
 * where Helm has one, because operators search for them.
 */
#include "helm/helm_int.h"

#include "digest/digest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pg_helm_quote(char *out, size_t size, const char *s)
{
	size_t o = 0;

	if (size == 0)
		return;
	/* Each input byte takes at most 4 output bytes; stop while 6 remain
	 * for the closing quote and the NUL. */
	out[o++] = '"';
	for (; *s && o + 6 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			pg_hex(out + o, &c, 1);
			o += 2;
		} else {
			out[o++] = (char)c; /* UTF-8 passes through, as %q prints it */
		}
	}
	if (o < size - 1)
		out[o++] = '"';
	out[o] = '\0';
}

void
pg_helm_prov_free(pg_helm_prov *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nfiles; i++) {
		free(p->files[i]);
		free(p->sums[i]);
	}
	free(p->files);
	free(p->sums);
	free(p->name);
	free(p->version);
	free(p);
}

const char *
pg_helm_prov_sum(const pg_helm_prov *p, const char *name)
{
	size_t i;

	for (i = 0; p && i < p->nfiles; i++)
		if (strcmp(p->files[i], name) == 0)
			return p->sums[i];
	return NULL;
}

static const char *
memmem_s(const char *h, size_t hl, const char *n)
{
	return memmem(h, hl, n, strlen(n));
}

int
pg_helm_prov_parse(pg_helm_prov **out, const char *pt, size_t len, pg_err *err)
{
	static const char sep[] = "\n...\n";
	static const char *const files_path[] = {"files", NULL};
	const char *s, *part1, *end1;
	json_t *meta = NULL, *files = NULL, *v;
	pg_helm_prov *p = NULL;
	const char *key;
	int rc = PG_ENOMEM;
	pg_err ignored;

	if ((s = memmem_s(pt, len, sep)) == NULL) {
		rc = pg_err_set(err, PG_EINVAL, "message block must have at least two parts");
		goto out;
	}
	part1 = s + strlen(sep);
	/* bytes.Split: the second part ends at the next separator. */
	end1 = memmem_s(part1, len - (size_t)(part1 - pt), sep);
	if (end1 == NULL)
		end1 = pt + len;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	/* Helm v4 ignores the metadata; we only read name and version. */
	if (pg_helm_yaml_load(&meta, pt, (size_t)(s - pt) + 1, 0, NULL, &ignored) == PG_OK &&
	    json_is_object(meta)) {
		if (json_is_string(v = json_object_get(meta, "name")) &&
		    (p->name = pg_strdup(json_string_value(v))) == NULL)
			goto out;
		if (json_is_string(v = json_object_get(meta, "version")) &&
		    (p->version = pg_strdup(json_string_value(v))) == NULL)
			goto out;
	}
	if ((rc = pg_helm_yaml_load(&files, part1, (size_t)(end1 - part1), 0, files_path, err)) !=
	    PG_OK) {
		rc = pg_err_wrap(err, "cannot parse the provenance files section: ");
		goto out;
	}
	rc = PG_ENOMEM;
	if (json_is_object(files) && json_object_size(files) > 0) {
		size_t n = json_object_size(files);

		if ((p->files = calloc(n, sizeof(char *))) == NULL ||
		    (p->sums = calloc(n, sizeof(char *))) == NULL)
			goto out;
		json_object_foreach(files, key, v)
		{
			if (!json_is_string(v)) {
				rc = pg_err_set(err, PG_EINVAL,
						"cannot parse the provenance files section: value "
						"of %s is not a string",
						key);
				goto out;
			}
			p->files[p->nfiles] = pg_strdup(key);
			p->sums[p->nfiles] = pg_strdup(json_string_value(v));
			if (p->files[p->nfiles] == NULL || p->sums[p->nfiles] == NULL) {
				free(p->files[p->nfiles]);
				free(p->sums[p->nfiles]);
				goto out;
			}
			p->nfiles++;
		}
	} else if (files != NULL && !json_is_null(files) && !json_is_object(files)) {
		rc = pg_err_set(err, PG_EINVAL,
				"cannot parse the provenance files section: files is not a map");
		goto out;
	}
	*out = p;
	p = NULL;
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM)
		pg_err_set(err, rc, "out of memory");
	json_decref(meta);
	json_decref(files);
	pg_helm_prov_free(p);
	return rc;
}

void
pg_helm_verified_free(pg_helm_verified *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nuids; i++)
		free(v->uids[i]);
	free(v->uids);
	free(v->fpr);
	free(v->name);
	free(v->version);
	free(v);
}

static int
sha256_hex(char out[PG_SHA256_HEX_MAX], const unsigned char *p, size_t n)
{
	unsigned char md[32];

	if (pg_sha256(md, p, n) != PG_OK)
		return PG_EINTERNAL;
	pg_hex(out, md, 32);
	return PG_OK;
}

int
pg_helm_verify(pg_helm_verified **out, pg_pgp *pgp, const pg_pgp_keyring *rings, size_t nrings,
	       const char *archive_name, const unsigned char *tgz, size_t tgz_len, const char *prov,
	       size_t prov_len, pg_err *err)
{
	int rc = PG_EINTERNAL;
	pg_pgp_result *sig = NULL;
	pg_helm_prov *pv = NULL;
	pg_helm_verified *v = NULL;
	const char *want;
	char hex[PG_SHA256_HEX_MAX], qn[600], qw[300], qg[300], actual[PG_SHA256_STR_MAX];

	if (tgz_len > PG_HELM_CHART_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "chart archive larger than %zu bytes",
				(size_t)PG_HELM_CHART_MAX);
		goto out;
	}
	if (prov_len > PG_HELM_PROV_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "provenance file larger than %zu bytes",
				(size_t)PG_HELM_PROV_MAX);
		goto out;
	}
	/* 1. the signature, before anything in the plaintext is believed */
	if ((rc = pg_pgp_verify_clearsigned(&sig, pgp, rings, nrings, prov, prov_len, err)) !=
	    PG_OK)
		goto out;
	/* 2. the archive hash */
	if ((rc = sha256_hex(hex, tgz, tgz_len)) != PG_OK) {
		rc = pg_err_set(err, rc, "cannot hash the chart archive");
		goto out;
	}
	if ((rc = pg_helm_prov_parse(&pv, sig->plaintext, sig->plaintext_len, err)) != PG_OK) {
		if (rc != PG_ENOMEM)
			rc = err ? (err->code = PG_EVERIFY) : PG_EVERIFY;
		goto out;
	}
	pg_helm_quote(qn, sizeof(qn), archive_name);
	if ((want = pg_helm_prov_sum(pv, archive_name)) == NULL) {
		rc = pg_err_set(err, PG_EVERIFY,
				"provenance does not contain a SHA for a file named %s", qn);
		goto out;
	}
	(void)snprintf(actual, sizeof(actual), "sha256:%s", hex);
	if (strcmp(want, actual) != 0) {
		pg_helm_quote(qw, sizeof(qw), want);
		pg_helm_quote(qg, sizeof(qg), actual);
		rc = pg_err_set(err, PG_EVERIFY, "sha256 sum does not match for %s: %s != %s",
				archive_name, qw, qg);
		goto out;
	}
	rc = PG_ENOMEM;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		goto out;
	memcpy(v->hash, actual, sizeof(actual));
	v->uids = sig->uids;
	v->nuids = sig->nuids;
	sig->uids = NULL;
	sig->nuids = 0;
	v->fpr = sig->fpr;
	sig->fpr = NULL;
	v->name = pv->name;
	pv->name = NULL;
	v->version = pv->version;
	pv->version = NULL;
	*out = v;
	v = NULL;
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM)
		pg_err_set(err, rc, "out of memory");
	pg_pgp_result_free(sig);
	pg_helm_prov_free(pv);
	pg_helm_verified_free(v);
	return rc;
}
