/*
 * sigstore/trust — trusted_root.json (protobuf-specs TrustedRoot, media
 * types ...trustedroot+json;version=0.1 and ...trustedroot.v0.2+json).
 * Every validFor is a closed interval.  A log key without validFor.start is
 * a malformed root, not an unbounded one (sigstore-go does the same).
 * Keys and certificates are parsed once here, and what can be checked of
 * the root's own certificate chains and log keys once is checked here
 * (pg_ca_prepare, pg_tlog_prepare); verifiers only look them up.  A loaded
 * root is never modified again, so threads share it without locks.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "buf/buf.h"
#include "sigstore/sigstore_int.h"

bool
pg_trust_valid_at(int64_t start, int64_t end, bool has_end, int64_t t)
{
	return t >= start && (!has_end || t <= end);
}

const pg_tlog *
pg_trust_find_log(const pg_tlog *logs, size_t n, const unsigned char *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (logs[i].log_id_len == id_len && memcmp(logs[i].log_id, id, id_len) == 0)
			return &logs[i];
	return NULL;
}

static int
valid_for(int64_t *start, int64_t *end, bool *has_end, const json_t *vf, bool need_start,
	  const char *what, pg_err *err)
{
	const char *s = pg_json_str(vf, "start"), *e = pg_json_str(vf, "end");

	*start = INT64_MIN;
	*end = INT64_MAX;
	*has_end = false;
	if (s == NULL) {
		if (need_start)
			return pg_err_set(err, PG_EINVAL, "trusted root: %s has no validFor.start",
					  what);
	} else if (pg_time_parse(start, s) != PG_OK) {
		return pg_err_set(err, PG_EINVAL, "trusted root: %s: bad time \"%s\"", what, s);
	}
	if (e != NULL) {
		if (pg_time_parse(end, e) != PG_OK)
			return pg_err_set(err, PG_EINVAL, "trusted root: %s: bad time \"%s\"", what,
					  e);
		*has_end = true;
	}
	return PG_OK;
}

static char *
url_host(const char *url)
{
	const char *p = strstr(url, "://"), *e;

	p = p ? p + 3 : url;
	e = p + strcspn(p, "/?#"); /* keep a port: it is part of the log's name */
	return pg_strndup(p, (size_t)(e - p));
}

static int
parse_log(pg_tlog *l, const json_t *j, const char *what, pg_err *err)
{
	const json_t *pk = json_object_get(j, "publicKey");
	const char *url = pg_json_str(j, "baseUrl");
	const char *raw = pg_json_str(pk, "rawBytes");
	const char *kd = pg_json_str(pk, "keyDetails");
	const char *id = pg_json_str(json_object_get(j, "logId"), "keyId");
	unsigned char *der = NULL, *idb = NULL;
	size_t der_len, id_len;
	int rc;

	if (raw == NULL || id == NULL)
		return pg_err_set(err, PG_EINVAL,
				  "trusted root: %s without publicKey.rawBytes or logId", what);
	l->base_url = pg_strdup(url ? url : "");
	l->host = url_host(url ? url : "");
	if (l->base_url == NULL || l->host == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	rc = pg_base64_decode_alloc(&idb, &id_len, id, strlen(id), 64, PG_SIGSTORE_B64);
	if (rc != PG_OK || id_len == 0 || id_len > sizeof(l->log_id)) {
		free(idb);
		return pg_err_set(err, PG_EINVAL, "trusted root: %s: bad logId", what);
	}
	memcpy(l->log_id, idb, id_len);
	l->log_id_len = id_len;
	free(idb);
	rc = pg_base64_decode_alloc(&der, &der_len, raw, strlen(raw), 16384, PG_SIGSTORE_B64);
	if (rc != PG_OK)
		return pg_err_set(err, PG_EINVAL, "trusted root: %s: bad key", what);
	rc = pg_key_from_der(&l->key, der, der_len, err);
	if (rc != PG_OK && kd != NULL && strncmp(kd, "PKCS1_RSA", 9) == 0) {
		/* Older roots give RSA keys as a bare PKCS#1 RSAPublicKey. */
		const unsigned char *p = der;

		l->key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)der_len);
		rc = l->key != NULL && p == der + der_len ? pg_key_check_type(l->key, err)
							  : PG_EINVAL;
		ERR_clear_error();
	}
	free(der);
	if (rc != PG_OK)
		return pg_err_wrap(err, "trusted root: %s %s: ", what, l->base_url);
	pg_tlog_prepare(l);
	return valid_for(&l->start, &l->end, &l->has_end, json_object_get(pk, "validFor"), true,
			 what, err);
}

static int
parse_ca(pg_ca *ca, const json_t *j, const char *what, pg_err *err)
{
	const json_t *certs = json_object_get(json_object_get(j, "certChain"), "certificates");
	size_t i;
	int rc;

	if (!json_is_array(certs) || json_array_size(certs) == 0 ||
	    json_array_size(certs) > PG_CHAIN_MAX)
		return pg_err_set(err, PG_EINVAL, "trusted root: %s without a usable certChain",
				  what);
	ca->chain = sk_X509_new_null();
	if (ca->chain == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < json_array_size(certs); i++) {
		const char *raw = pg_json_str(json_array_get(certs, i), "rawBytes");
		unsigned char *der = NULL;
		size_t len;
		X509 *c = NULL;

		if (raw == NULL || pg_base64_decode_alloc(&der, &len, raw, strlen(raw), 65536,
							  PG_SIGSTORE_B64) != PG_OK)
			return pg_err_set(err, PG_EINVAL, "trusted root: %s: bad certificate",
					  what);
		rc = pg_cert_from_der(&c, der, len, err);
		free(der);
		if (rc != PG_OK)
			return pg_err_wrap(err, "trusted root: %s: ", what);
		if (!sk_X509_push(ca->chain, c)) {
			X509_free(c);
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		}
	}
	rc = valid_for(&ca->start, &ca->end, &ca->has_end, json_object_get(j, "validFor"), false,
		       what, err);
	if (rc != PG_OK)
		return rc;
	if (pg_ca_prepare(ca, strcmp(what, "timestampAuthorities") == 0 ? PG_CA_TSA
									: PG_CA_FULCIO) != PG_OK)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

static int
parse_list(void **out, size_t *n_out, size_t elem, const json_t *root, const char *key, bool is_log,
	   pg_err *err)
{
	const json_t *a = json_object_get(root, key);
	size_t i, n;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (a == NULL)
		return PG_OK;
	if (!json_is_array(a))
		return pg_err_set(err, PG_EINVAL, "trusted root: %s is not a list", key);
	n = json_array_size(a);
	if (n > PG_TRUST_LIST_MAX)
		return pg_err_set(err, PG_ETOOBIG, "trusted root: too many %s", key);
	if (n == 0)
		return PG_OK;
	*out = calloc(n, elem);
	if (*out == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(a, i);

		(*n_out)++;
		if (is_log)
			rc = parse_log((pg_tlog *)*out + i, e, key, err);
		else
			rc = parse_ca((pg_ca *)*out + i, e, key, err);
		if (rc != PG_OK)
			return rc;
	}
	return PG_OK;
}

int
pg_trusted_root_load(pg_trusted_root **out, const char *json, size_t len, pg_err *err)
{
	pg_trusted_root *r = NULL;
	json_t *j = NULL;
	json_error_t je;
	const char *mt;
	int rc;

	*out = NULL;
	if (len > PG_SIGSTORE_JSON_MAX)
		return pg_err_set(err, PG_ETOOBIG, "trusted root larger than %zu bytes",
				  PG_SIGSTORE_JSON_MAX);
	j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		rc = pg_err_set(err, PG_EINVAL, "trusted root is not JSON: %s", je.text);
		goto out;
	}
	if (!json_is_object(j)) {
		rc = pg_err_set(err, PG_EINVAL, "trusted root is not a JSON object");
		goto out;
	}
	mt = pg_json_str(j, "mediaType");
	if (mt != NULL &&
	    strcmp(mt, "application/vnd.dev.sigstore.trustedroot+json;version=0.1") != 0 &&
	    strcmp(mt, "application/vnd.dev.sigstore.trustedroot.v0.1+json") != 0 &&
	    strcmp(mt, "application/vnd.dev.sigstore.trustedroot.v0.2+json") != 0) {
		rc = pg_err_set(err, PG_EINVAL, "trusted root: unknown mediaType \"%s\"", mt);
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = parse_list((void **)&r->tlogs, &r->ntlogs, sizeof(pg_tlog), j, "tlogs", true, err);
	if (rc == PG_OK)
		rc = parse_list((void **)&r->ctlogs, &r->nctlogs, sizeof(pg_tlog), j, "ctlogs",
				true, err);
	if (rc == PG_OK)
		rc = parse_list((void **)&r->cas, &r->ncas, sizeof(pg_ca), j,
				"certificateAuthorities", false, err);
	if (rc == PG_OK)
		rc = parse_list((void **)&r->tsas, &r->ntsas, sizeof(pg_ca), j,
				"timestampAuthorities", false, err);
	if (rc != PG_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	pg_trusted_root_free(r);
	json_decref(j);
	return rc;
}

static void
free_logs(pg_tlog *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].base_url);
		free(l[i].host);
		EVP_PKEY_free(l[i].key);
	}
	free(l);
}

static void
free_cas(pg_ca *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sk_X509_pop_free(c[i].chain, X509_free);
		X509_STORE_free(c[i].anchor);
	}
	free(c);
}

void
pg_trusted_root_free(pg_trusted_root *r)
{
	if (r == NULL)
		return;
	free_logs(r->tlogs, r->ntlogs);
	free_logs(r->ctlogs, r->nctlogs);
	free_cas(r->cas, r->ncas);
	free_cas(r->tsas, r->ntsas);
	free(r);
}

size_t
pg_trusted_root_ntlogs(const pg_trusted_root *r)
{
	return r->ntlogs;
}

size_t
pg_trusted_root_ncas(const pg_trusted_root *r)
{
	return r->ncas;
}
