/*
 * oci/manifest — parsing of image manifests and indexes (OCI and Docker
 * schema 2) into descriptors, and the digest arithmetic around them.
 *
 * The digest of a manifest is sha256 over the exact bytes received: we
 * keep those bytes and never re-serialise.  Parsing is bounded
 * (PG_OCI_MANIFEST_MAX, PG_OCI_DESC_MAX) and strict about the fields we act
 * on (media types, digests, sizes); unknown fields are ignored, as the spec
 * asks.
 */
#include "digest/digest.h"
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf/buf.h"
#include "oci/oci_int.h"

const char *const pg_oci_accept_manifests =
    "Accept: " PG_OCI_MT_OCI_INDEX ", " PG_OCI_MT_OCI_MANIFEST ", " PG_OCI_MT_DOCKER_LIST
    ", " PG_OCI_MT_DOCKER_MANIFEST;

/* A media type longer than this is not one (RFC 6838 caps names at 127
 * per part). */
#define MEDIA_TYPE_MAX 255

struct pg_oci_manifest {
	char *bytes;
	size_t len;
	char digest[PG_OCI__DIGEST_BUF];
	char *media_type;
	char *artifact_type;
	bool is_index;
	bool has_config, has_subject;
	pg_oci_desc config, subject;
	pg_oci_desc *descs;
	size_t n_descs;
};

static void
digest_of(char out[PG_OCI__DIGEST_BUF], pg_digest_alg alg, const void *p, size_t n)
{
	if (pg_digest_string(out, alg, p, n) != PG_OK)
		out[0] = '\0'; /* matches no digest */
}

void
pg_oci__sha256_digest(char out[PG_OCI__DIGEST_BUF], const void *p, size_t n)
{
	digest_of(out, PG_DIGEST_SHA256, p, n);
}

bool
pg_oci__digest_matches(const char *digest, const void *p, size_t n)
{
	char got[PG_OCI__DIGEST_BUF];

	if (!pg_digest_string_valid(digest))
		return false;
	if (strncmp(digest, "sha256:", 7) == 0)
		digest_of(got, PG_DIGEST_SHA256, p, n);
	else
		digest_of(got, PG_DIGEST_SHA512, p, n);
	return strcmp(got, digest) == 0;
}

static void
desc_clear(pg_oci_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->artifact_type);
	json_decref(d->annotations);
	memset(d, 0, sizeof(*d));
}

int
pg_oci__desc_copy(pg_oci_desc *dst, const pg_oci_desc *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->media_type = pg_strdup(src->media_type);
	dst->digest = pg_strdup(src->digest);
	dst->size = src->size;
	if (src->artifact_type)
		dst->artifact_type = pg_strdup(src->artifact_type);
	if (src->annotations)
		dst->annotations = json_deep_copy(src->annotations);
	if (dst->media_type == NULL || dst->digest == NULL ||
	    (src->artifact_type && dst->artifact_type == NULL) ||
	    (src->annotations && dst->annotations == NULL)) {
		desc_clear(dst);
		return PG_ENOMEM;
	}
	return PG_OK;
}

void
pg_oci_descs_free(pg_oci_desc *d, size_t n)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < n; i++)
		desc_clear(&d[i]);
	free(d);
}

static bool
media_type_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > MEDIA_TYPE_MAX || strchr(s, '/') == NULL)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool
annotations_ok(const json_t *a)
{
	const char *k;
	json_t *v;

	if (!json_is_object(a))
		return false;
	json_object_foreach((json_t *)a, k, v) if (!json_is_string(v)) return false;
	(void)k;
	return true;
}

/* Fill d from the JSON descriptor j; what names where it is in messages. */
static int
desc_parse(pg_oci_desc *d, const json_t *j, const char *what, pg_err *err)
{
	json_t *mt = json_object_get(j, "mediaType"), *dg = json_object_get(j, "digest");
	json_t *sz = json_object_get(j, "size"), *at = json_object_get(j, "artifactType");
	json_t *an = json_object_get(j, "annotations");

	memset(d, 0, sizeof(*d));
	if (!json_is_object(j))
		return pg_err_set(err, PG_EINVAL, "%s is not a JSON object", what);
	if (!json_is_string(mt) || !media_type_ok(json_string_value(mt)))
		return pg_err_set(err, PG_EINVAL, "%s has no valid mediaType", what);
	if (!json_is_string(dg) || !pg_digest_string_valid(json_string_value(dg)))
		return pg_err_set(err, PG_EINVAL, "%s has no valid sha256/sha512 digest", what);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return pg_err_set(err, PG_EINVAL, "%s has no valid size", what);
	if (at != NULL && !(json_is_string(at) && media_type_ok(json_string_value(at))))
		return pg_err_set(err, PG_EINVAL, "%s has an invalid artifactType", what);
	if (an != NULL && !json_is_null(an) && !annotations_ok(an))
		return pg_err_set(err, PG_EINVAL, "%s has annotations that are not strings", what);
	d->media_type = pg_strdup(json_string_value(mt));
	d->digest = pg_strdup(json_string_value(dg));
	d->size = (int64_t)json_integer_value(sz);
	if (at)
		d->artifact_type = pg_strdup(json_string_value(at));
	if (an && json_is_object(an))
		d->annotations = json_incref(an);
	if (d->media_type == NULL || d->digest == NULL || (at && d->artifact_type == NULL)) {
		desc_clear(d);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	return PG_OK;
}

void
pg_oci_manifest_free(pg_oci_manifest *m)
{
	if (m == NULL)
		return;
	free(m->bytes);
	free(m->media_type);
	free(m->artifact_type);
	desc_clear(&m->config);
	desc_clear(&m->subject);
	pg_oci_descs_free(m->descs, m->n_descs);
	free(m);
}

/* Content-Type without parameters, into out. */
static void
bare_type(char *out, size_t size, const char *ct)
{
	size_t n = 0;

	while (ct[n] && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t' && n + 1 < size) {
		out[n] = ct[n];
		n++;
	}
	out[n] = '\0';
}

static bool
type_is_index(const char *mt)
{
	return strcmp(mt, PG_OCI_MT_OCI_INDEX) == 0 || strcmp(mt, PG_OCI_MT_DOCKER_LIST) == 0;
}

static bool
type_is_manifest(const char *mt)
{
	return strcmp(mt, PG_OCI_MT_OCI_MANIFEST) == 0 ||
	       strcmp(mt, PG_OCI_MT_DOCKER_MANIFEST) == 0;
}

int
pg_oci_manifest_parse(pg_oci_manifest **out, const char *bytes, size_t len,
		      const char *content_type, pg_err *err)
{
	int rc = PG_EINVAL;
	pg_oci_manifest *m = NULL;
	json_t *root = NULL, *list, *v;
	json_error_t je;
	char ct[MEDIA_TYPE_MAX + 1] = "";
	const char *mt = NULL, *list_key;
	size_t i, n;

	*out = NULL;
	if (len > PG_OCI_MANIFEST_MAX)
		return pg_err_set(err, PG_ETOOBIG, "manifest larger than %zu bytes",
				  PG_OCI_MANIFEST_MAX);
	if (content_type)
		bare_type(ct, sizeof(ct), content_type);
	root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL || !json_is_object(root)) {
		rc = pg_err_set(err, PG_EINVAL, "manifest is not a JSON object%s%s",
				root ? "" : ": ", root ? "" : je.text);
		goto out;
	}
	v = json_object_get(root, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2) {
		rc = pg_err_set(err, PG_EINVAL, "manifest is not schemaVersion 2");
		goto out;
	}
	v = json_object_get(root, "mediaType");
	if (v != NULL) {
		if (!json_is_string(v)) {
			rc = pg_err_set(err, PG_EINVAL, "manifest mediaType is not a string");
			goto out;
		}
		mt = json_string_value(v);
		/* The spec: a mediaType differing from Content-Type is an
		 * error (a client must not be told one thing and parse
		 * another). */
		if (ct[0] && strcmp(ct, mt) != 0) {
			rc = pg_err_set(
			    err, PG_EINVAL,
			    "manifest mediaType \"%.100s\" differs from Content-Type \"%.100s\"",
			    mt, ct);
			goto out;
		}
	} else if (ct[0]) {
		mt = ct;
	} else if (json_object_get(root, "manifests") != NULL) {
		mt = PG_OCI_MT_OCI_INDEX;
	} else {
		mt = PG_OCI_MT_OCI_MANIFEST;
	}
	if (!type_is_index(mt) && !type_is_manifest(mt)) {
		rc = pg_err_set(err, PG_EINVAL, "unsupported manifest type \"%.100s\"", mt);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->bytes = malloc(len + 1)) == NULL ||
	    (m->media_type = pg_strdup(mt)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(m->bytes, bytes, len);
	m->bytes[len] = '\0';
	m->len = len;
	pg_oci__sha256_digest(m->digest, bytes, len);
	m->is_index = type_is_index(mt);
	v = json_object_get(root, "artifactType");
	if (v != NULL) {
		if (!json_is_string(v) || !media_type_ok(json_string_value(v))) {
			rc = pg_err_set(err, PG_EINVAL, "manifest artifactType is invalid");
			goto out;
		}
		if ((m->artifact_type = pg_strdup(json_string_value(v))) == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!m->is_index) {
		v = json_object_get(root, "config");
		if (v == NULL) {
			rc = pg_err_set(err, PG_EINVAL, "image manifest has no config");
			goto out;
		}
		if ((rc = desc_parse(&m->config, v, "manifest config", err)) != PG_OK)
			goto out;
		m->has_config = true;
	}
	v = json_object_get(root, "subject");
	if (v != NULL && !json_is_null(v)) {
		if ((rc = desc_parse(&m->subject, v, "manifest subject", err)) != PG_OK)
			goto out;
		m->has_subject = true;
	}
	list_key = m->is_index ? "manifests" : "layers";
	list = json_object_get(root, list_key);
	if (list == NULL || json_is_null(list)) {
		n = 0;
	} else if (!json_is_array(list)) {
		rc = pg_err_set(err, PG_EINVAL, "manifest \"%s\" is not an array", list_key);
		goto out;
	} else {
		n = json_array_size(list);
	}
	if (n > PG_OCI_DESC_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "manifest lists more than %d %s", PG_OCI_DESC_MAX,
				list_key);
		goto out;
	}
	if (n > 0 && (m->descs = calloc(n, sizeof(*m->descs))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char what[64];

		(void)snprintf(what, sizeof(what), "manifest %s[%zu]", list_key, i);
		if ((rc = desc_parse(&m->descs[i], json_array_get(list, i), what, err)) != PG_OK)
			goto out;
		m->n_descs = i + 1;
	}
	*out = m;
	m = NULL;
	rc = PG_OK;
out:
	pg_oci_manifest_free(m);
	json_decref(root);
	return rc;
}

const char *
pg_oci_manifest_digest(const pg_oci_manifest *m)
{
	return m->digest;
}

const char *
pg_oci_manifest_media_type(const pg_oci_manifest *m)
{
	return m->media_type;
}

const char *
pg_oci_manifest_artifact_type(const pg_oci_manifest *m)
{
	return m->artifact_type;
}

const char *
pg_oci_manifest_bytes(const pg_oci_manifest *m, size_t *len_out)
{
	if (len_out)
		*len_out = m->len;
	return m->bytes;
}

bool
pg_oci_manifest_is_index(const pg_oci_manifest *m)
{
	return m->is_index;
}

size_t
pg_oci_manifest_count(const pg_oci_manifest *m)
{
	return m->n_descs;
}

const pg_oci_desc *
pg_oci_manifest_desc(const pg_oci_manifest *m, size_t i)
{
	return i < m->n_descs ? &m->descs[i] : NULL;
}

const pg_oci_desc *
pg_oci_manifest_config(const pg_oci_manifest *m)
{
	return m->has_config ? &m->config : NULL;
}

const pg_oci_desc *
pg_oci_manifest_subject(const pg_oci_manifest *m)
{
	return m->has_subject ? &m->subject : NULL;
}
