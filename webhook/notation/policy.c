/*
 * notation/policy — notation's own configuration, read as notation reads it
 * (trust-store-trust-policy.md):
 *
 *   DIR/trustpolicy.oci.json (else DIR/trustpolicy.json)   OCI artifacts
 *   DIR/trustpolicy.blob.json                              blobs
 *   DIR/truststore/x509/{ca,signingAuthority,tsa}/<name>/  PEM or DER files
 *
 * The document is validated whole before anything is used: version 1.0,
 * unique names, registryScopes (fully qualified, "*" alone and in one
 * statement only, no scope in two statements), levels and overrides, store
 * references, trustedIdentities ("*" alone, or x509.subject DNs with C, ST
 * and O).  Trust-store directories and files must not be symlinks (the
 * spec says so: a store is a trust decision, not a pointer to one); store
 * names are plain names, never paths.  Subdirectories are ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "buf/buf.h"
#include "digest/digest.h"
#include "notation/notation_int.h"

/* Statements per document, scopes and stores per statement. */
#define NV_POLICIES_MAX 256
#define NV_LIST_MAX 256
/* Files per store, certificates per store, bytes per file. */
#define NV_STORE_FILES_MAX 256
#define NV_STORE_CERTS_MAX 512
#define NV_CERT_FILE_MAX ((size_t)1 << 20)

struct pg_notation_config {
	pg_notation_trust *v;
	size_t n;
	bool blob;
	char *doc; /* the policy document, for the fingerprint */
};

void
nv_trust_free_fields(pg_notation_trust *t)
{
	size_t i;

	free(t->name);
	for (i = 0; i < t->nscopes; i++)
		free(t->scopes[i]);
	free(t->scopes);
	for (i = 0; i < t->nstores; i++)
		free(t->stores[i].name);
	free(t->stores);
	for (i = 0; i < t->nids; i++)
		nv_dn_free(&t->ids[i]);
	free(t->ids);
	sk_X509_pop_free(t->ca, X509_free);
	sk_X509_pop_free(t->sa, X509_free);
	sk_X509_pop_free(t->tsa, X509_free);
	sk_X509_CRL_pop_free(t->crls, X509_CRL_free);
	free(t->store_error);
	memset(t, 0, sizeof(*t));
}

void
pg_notation_config_free(pg_notation_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		nv_trust_free_fields(&c->v[i]);
	free(c->v);
	free(c->doc);
	free(c);
}

static int
action(nv_action *out, const char *s, bool allow_skip)
{
	if (strcmp(s, "enforce") == 0)
		*out = NV_ENFORCE;
	else if (strcmp(s, "log") == 0)
		*out = NV_LOG;
	else if (allow_skip && strcmp(s, "skip") == 0)
		*out = NV_SKIP;
	else
		return PG_EINVAL;
	return PG_OK;
}

static bool
store_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strlen(s) > 255)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static bool
scope_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '*') == NULL && strchr(s, '/') != NULL &&
	       strchr(s, '@') == NULL && s[strlen(s) - 1] != '/' && strlen(s) < 1024;
}

static int
parse_verification(pg_notation_trust *t, json_t *sv, pg_err *err)
{
	const char *level = json_string_value(json_object_get(sv, "level"));
	json_t *ov = json_object_get(sv, "override"), *vt = json_object_get(sv, "verifyTimestamp");
	const char *k;
	json_t *v;

	if (!json_is_object(sv) || level == NULL)
		return pg_err_set(err, PG_EINVAL, "signatureVerification.level is required");
	if (strcmp(level, "strict") == 0) {
		t->authenticity = t->timestamp = t->expiry = t->revocation = NV_ENFORCE;
	} else if (strcmp(level, "permissive") == 0) {
		t->authenticity = NV_ENFORCE;
		t->timestamp = t->expiry = t->revocation = NV_LOG;
	} else if (strcmp(level, "audit") == 0) {
		t->authenticity = t->timestamp = t->expiry = t->revocation = NV_LOG;
	} else if (strcmp(level, "skip") == 0) {
		t->skip = true;
	} else {
		return pg_err_set(err, PG_EINVAL, "unknown verification level \"%.32s\"", level);
	}
	if (ov != NULL) {
		if (!json_is_object(ov) || t->skip)
			return pg_err_set(err, PG_EINVAL,
					  "override must be a map, and level skip takes none");
		json_object_foreach(ov, k, v)
		{
			const char *a = json_string_value(v);
			nv_action *dst;
			bool allow_skip = false;

			if (strcmp(k, "authenticity") == 0)
				dst = &t->authenticity;
			else if (strcmp(k, "authenticTimestamp") == 0)
				dst = &t->timestamp;
			else if (strcmp(k, "expiry") == 0)
				dst = &t->expiry;
			else if (strcmp(k, "revocation") == 0)
				dst = &t->revocation, allow_skip = true;
			else
				return pg_err_set(err, PG_EINVAL,
						  "override of \"%.32s\" is not allowed", k);
			if (a == NULL || action(dst, a, allow_skip) != PG_OK)
				return pg_err_set(err, PG_EINVAL, "bad override value for %s", k);
		}
	}
	if (vt != NULL) {
		const char *s = json_string_value(vt);

		if (s != NULL && strcmp(s, "always") == 0)
			t->ts_after_expiry = false;
		else if (s != NULL && strcmp(s, "afterCertExpiry") == 0)
			t->ts_after_expiry = true;
		else
			return pg_err_set(err, PG_EINVAL,
					  "verifyTimestamp must be always or afterCertExpiry");
	}
	return PG_OK;
}

static int
parse_statement(pg_notation_trust *t, json_t *o, bool blob, pg_err *err)
{
	json_t *v, *e;
	const char *name = json_string_value(json_object_get(o, "name"));
	size_t i, j, n;
	int rc;

	if (!json_is_object(o) || name == NULL || name[0] == '\0')
		return pg_err_set(err, PG_EINVAL, "every trust policy needs a name");
	if ((t->name = pg_strdup(name)) == NULL)
		return PG_ENOMEM;
	t->blob = blob;
	if ((rc = parse_verification(t, json_object_get(o, "signatureVerification"), err)) != PG_OK)
		return pg_err_wrap(err, "trust policy \"%.64s\": ", name);
	if (blob) {
		v = json_object_get(o, "globalPolicy");
		if (v != NULL && !json_is_boolean(v))
			return pg_err_set(err, PG_EINVAL, "globalPolicy must be a boolean");
		t->global = json_is_true(v);
		if (t->global && t->skip)
			return pg_err_set(err, PG_EINVAL,
					  "the global trust policy cannot use level skip");
	} else {
		v = json_object_get(o, "registryScopes");
		if (!json_is_array(v) || (n = json_array_size(v)) == 0 || n > NV_LIST_MAX)
			return pg_err_set(err, PG_EINVAL,
					  "trust policy \"%.64s\" needs registryScopes", name);
		if ((t->scopes = calloc(n, sizeof(*t->scopes))) == NULL)
			return PG_ENOMEM;
		for (i = 0; i < n; i++) {
			const char *s = json_string_value(json_array_get(v, i));

			if (s == NULL || (strcmp(s, "*") != 0 && !scope_ok(s)) ||
			    (strcmp(s, "*") == 0 && n != 1))
				return pg_err_set(
				    err, PG_EINVAL,
				    "trust policy \"%.64s\": registry scope must be a "
				    "fully qualified repository, or \"*\" alone",
				    name);
			for (j = 0; j < t->nscopes; j++)
				if (strcmp(t->scopes[j], s) == 0)
					return pg_err_set(err, PG_EINVAL,
							  "registry scope %.200s repeated", s);
			if ((t->scopes[t->nscopes++] = pg_strdup(s)) == NULL)
				return PG_ENOMEM;
		}
		if (t->skip && strcmp(t->scopes[0], "*") == 0)
			return pg_err_set(err, PG_EINVAL,
					  "level skip cannot be used with the global scope \"*\"");
	}
	v = json_object_get(o, "trustStores");
	if (v != NULL && (!json_is_array(v) || json_array_size(v) > NV_LIST_MAX))
		return pg_err_set(err, PG_EINVAL, "trustStores must be an array");
	n = json_array_size(v);
	if (n > 0 && (t->stores = calloc(n, sizeof(*t->stores))) == NULL)
		return PG_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(v, i)), *colon;

		colon = s ? strchr(s, ':') : NULL;
		if (colon == NULL || !store_name_ok(colon + 1))
			return pg_err_set(err, PG_EINVAL,
					  "trust store reference must be <type>:<name>");
		if ((size_t)(colon - s) == 2 && strncmp(s, "ca", 2) == 0)
			t->stores[i].type = PG_NOTATION_STORE_CA;
		else if ((size_t)(colon - s) == 16 && strncmp(s, "signingAuthority", 16) == 0)
			t->stores[i].type = PG_NOTATION_STORE_SA;
		else if ((size_t)(colon - s) == 3 && strncmp(s, "tsa", 3) == 0)
			t->stores[i].type = PG_NOTATION_STORE_TSA;
		else
			return pg_err_set(err, PG_EINVAL, "unknown trust store type in \"%.64s\"",
					  s);
		for (j = 0; j < t->nstores; j++)
			if (t->stores[j].type == t->stores[i].type &&
			    strcmp(t->stores[j].name, colon + 1) == 0)
				return pg_err_set(err, PG_EINVAL, "trust store %.64s repeated", s);
		if ((t->stores[i].name = pg_strdup(colon + 1)) == NULL)
			return PG_ENOMEM;
		t->nstores++;
	}
	v = json_object_get(o, "trustedIdentities");
	if (v != NULL && (!json_is_array(v) || json_array_size(v) > NV_LIST_MAX))
		return pg_err_set(err, PG_EINVAL, "trustedIdentities must be an array");
	n = json_array_size(v);
	if (!t->skip && (t->nstores == 0 || n == 0))
		return pg_err_set(err, PG_EINVAL,
				  "trust policy \"%.64s\" needs trustStores and trustedIdentities",
				  name);
	if (t->skip && (t->nstores > 0 || n > 0))
		return pg_err_set(err, PG_EINVAL,
				  "trust policy \"%.64s\" with level skip must not name trust "
				  "stores or identities",
				  name);
	if (n > 0 && (t->ids = calloc(n, sizeof(*t->ids))) == NULL)
		return PG_ENOMEM;
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);

		if (s != NULL && strcmp(s, "*") == 0) {
			if (n != 1)
				return pg_err_set(err, PG_EINVAL,
						  "trustedIdentities \"*\" must stand alone");
			t->any_identity = true;
			continue;
		}
		if (s == NULL || strncmp(s, "x509.subject:", 13) != 0)
			return pg_err_set(
			    err, PG_EINVAL,
			    "trusted identity must be \"*\" or \"x509.subject: ...\"");
		if ((rc = nv_dn_parse(&t->ids[t->nids], s + 13, true, err)) != PG_OK)
			return rc;
		t->nids++;
	}
	return PG_OK;
}

int
pg_notation_config_parse(pg_notation_config **out, const char *json, size_t len, bool blob,
			 pg_err *err)
{
	pg_notation_config *c = NULL;
	json_t *root = NULL, *pols;
	const char *ver;
	size_t i, j, k, n;
	int rc = PG_EINVAL, globals = 0;

	if (out)
		*out = NULL;
	if (len > PG_NOTATION_POLICY_MAX)
		return pg_err_set(err, PG_ETOOBIG, "trust policy document too large");
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		rc = pg_err_set(err, PG_EINVAL, "trust policy is not a JSON object");
		goto out;
	}
	ver = json_string_value(json_object_get(root, "version"));
	if (ver == NULL || strcmp(ver, "1.0") != 0) {
		rc = pg_err_set(err, PG_EINVAL, "trust policy version must be \"1.0\"");
		goto out;
	}
	pols = json_object_get(root, "trustPolicies");
	if (!json_is_array(pols) || (n = json_array_size(pols)) == 0 || n > NV_POLICIES_MAX) {
		rc = pg_err_set(err, PG_EINVAL, "trust policy has no trustPolicies");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->v = calloc(n, sizeof(*c->v))) == NULL) {
		rc = PG_ENOMEM;
		goto out;
	}
	c->blob = blob;
	if ((c->doc = pg_strndup(json, len)) == NULL) {
		rc = PG_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		c->n++;
		if ((rc = parse_statement(&c->v[i], json_array_get(pols, i), blob, err)) != PG_OK)
			goto out;
		for (j = 0; j < i; j++) {
			if (strcmp(c->v[j].name, c->v[i].name) == 0) {
				rc = pg_err_set(err, PG_EINVAL, "trust policy name %.64s repeated",
						c->v[i].name);
				goto out;
			}
			for (k = 0; k < c->v[i].nscopes; k++) {
				size_t m;

				for (m = 0; m < c->v[j].nscopes; m++)
					if (strcmp(c->v[i].scopes[k], c->v[j].scopes[m]) == 0) {
						rc = pg_err_set(err, PG_EINVAL,
								"registry scope %.200s is in two "
								"trust policies",
								c->v[i].scopes[k]);
						goto out;
					}
			}
		}
		globals += c->v[i].global;
	}
	if (globals > 1) {
		rc = pg_err_set(err, PG_EINVAL, "more than one global trust policy");
		goto out;
	}
	if (out) {
		*out = c;
		c = NULL;
	}
	rc = PG_OK;
out:
	pg_notation_config_free(c);
	json_decref(root);
	return rc;
}

/* Every certificate of a PEM text, or else of concatenated DER. */
static int
add_certs(STACK_OF(X509) * dst, const unsigned char *p, size_t len)
{
	BIO *b;
	X509 *x;
	int added = 0;

	if (len > 10 && memmem(p, len, "-----BEGIN", 10) != NULL) {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL)
			return PG_ENOMEM;
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (sk_X509_num(dst) >= NV_STORE_CERTS_MAX || !sk_X509_push(dst, x)) {
				X509_free(x);
				BIO_free(b);
				return PG_ETOOBIG;
			}
			added++;
		}
		BIO_free(b);
		ERR_clear_error();
		return added ? PG_OK : PG_EINVAL;
	}
	while (len > 0) {
		const unsigned char *q = p;

		if ((x = d2i_X509(NULL, &q, (long)len)) == NULL) {
			ERR_clear_error();
			return PG_EINVAL;
		}
		if (sk_X509_num(dst) >= NV_STORE_CERTS_MAX || !sk_X509_push(dst, x)) {
			X509_free(x);
			return PG_ETOOBIG;
		}
		len -= (size_t)(q - p);
		p = q;
		added++;
	}
	return added ? PG_OK : PG_EINVAL;
}

/* Every CRL of a PEM text, or one DER CRL (see notation_int.h). */
int
nv_crls_add(STACK_OF(X509_CRL) * dst, const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	X509_CRL *x;
	BIO *b;
	int added = 0;

	if (len > 10 && memmem(p, len, "-----BEGIN", 10) != NULL) {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL)
			return PG_ENOMEM;
		while ((x = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
			if (sk_X509_CRL_num(dst) >= NV_STORE_CERTS_MAX ||
			    !sk_X509_CRL_push(dst, x)) {
				X509_CRL_free(x);
				BIO_free(b);
				return PG_ETOOBIG;
			}
			added++;
		}
		BIO_free(b);
		ERR_clear_error();
		return added ? PG_OK : PG_EINVAL;
	}
	if ((x = d2i_X509_CRL(NULL, &q, (long)len)) == NULL || q != p + len) {
		X509_CRL_free(x);
		ERR_clear_error();
		return PG_EINVAL;
	}
	if (!sk_X509_CRL_push(dst, x)) {
		X509_CRL_free(x);
		return PG_ENOMEM;
	}
	return PG_OK;
}

static int
load_store(STACK_OF(X509) * dst, const char *dir, const char *type, const char *name, pg_err *err)
{
	static const char *const parts[] = {"truststore", "truststore/x509", NULL};
	char path[4096], file[4096];
	struct stat st;
	DIR *d = NULL;
	struct dirent *de;
	size_t nfiles = 0, before = (size_t)sk_X509_num(dst);
	int rc = PG_EIO, i, fd;

	for (i = 0; parts[i]; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, parts[i]);
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			return pg_err_set(err, PG_EIO, "%s is not a directory", path);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/truststore/x509/%s", dir, type) >=
		sizeof(path) ||
	    lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return pg_err_set(err, PG_EIO,
				  "trust store type directory %s missing (or a symlink)", path);
	(void)snprintf(path, sizeof(path), "%s/truststore/x509/%s/%s", dir, type, name);
	if (lstat(path, &st) != 0)
		return pg_err_set(err, PG_EIO, "trust store %s:%s does not exist", type, name);
	if (S_ISLNK(st.st_mode))
		return pg_err_set(err, PG_EIO, "trust store %s:%s is a symlink (refused)", type,
				  name);
	if (!S_ISDIR(st.st_mode))
		return pg_err_set(err, PG_EIO, "trust store %s:%s is not a directory", type, name);
	if ((d = opendir(path)) == NULL)
		return pg_err_set(err, PG_EIO, "cannot read trust store %s:%s", type, name);
	while ((de = readdir(d)) != NULL) {
		char *data = NULL;
		size_t len = 0;
		ssize_t r;
		pg_buf b;

		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if ((size_t)snprintf(file, sizeof(file), "%s/%s", path, de->d_name) >= sizeof(file))
			continue;
		if (lstat(file, &st) != 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			rc = pg_err_set(err, PG_EIO,
					"trust store %s:%s holds a symlink %s (refused)", type,
					name, de->d_name);
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue; /* subdirectories are ignored */
		if (++nfiles > NV_STORE_FILES_MAX) {
			rc = pg_err_set(err, PG_ETOOBIG, "trust store %s:%s has too many files",
					type, name);
			goto out;
		}
		/* O_NOFOLLOW: a file swapped for a symlink after lstat. */
		if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			rc = pg_err_set(err, PG_EIO, "cannot open %s", file);
			goto out;
		}
		pg_buf_init(&b, NV_CERT_FILE_MAX);
		for (;;) {
			char tmp[8192];

			r = read(fd, tmp, sizeof(tmp));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0 || pg_buf_append(&b, tmp, (size_t)r) != PG_OK)
				break;
		}
		(void)close(fd);
		if (r != 0 || pg_buf_detach(&data, &len, &b) != PG_OK) {
			pg_buf_free(&b);
			rc = pg_err_set(err, PG_EIO, "cannot read %s (or larger than 1 MiB)", file);
			goto out;
		}
		if (add_certs(dst, (const unsigned char *)data, len) != PG_OK) {
			free(data);
			rc = pg_err_set(err, PG_EINVAL,
					"trust store %s:%s: %s holds no readable certificate", type,
					name, de->d_name);
			goto out;
		}
		free(data);
	}
	if ((size_t)sk_X509_num(dst) == before) {
		rc =
		    pg_err_set(err, PG_EINVAL, "trust store %s:%s has no certificates", type, name);
		goto out;
	}
	rc = PG_OK;
out:
	if (d)
		(void)closedir(d);
	return rc;
}

static int
load_trust(pg_notation_trust *t, const char *dir)
{
	static const char *const tnames[] = {"ca", "signingAuthority", "tsa"};
	pg_err e;
	size_t i;
	int rc;

	if ((t->ca = sk_X509_new_null()) == NULL || (t->sa = sk_X509_new_null()) == NULL ||
	    (t->tsa = sk_X509_new_null()) == NULL)
		return PG_ENOMEM;
	for (i = 0; i < t->nstores; i++) {
		STACK_OF(X509) *dst = t->stores[i].type == PG_NOTATION_STORE_CA	  ? t->ca
				      : t->stores[i].type == PG_NOTATION_STORE_SA ? t->sa
										  : t->tsa;

		pg_err_clear(&e);
		rc = load_store(dst, dir, tnames[t->stores[i].type], t->stores[i].name, &e);
		if (rc == PG_ENOMEM)
			return rc;
		if (rc != PG_OK && t->store_error == NULL &&
		    (t->store_error = pg_strdup(e.msg)) == NULL)
			return PG_ENOMEM;
	}
	return PG_OK;
}

int
pg_notation_config_load(pg_notation_config **out, const char *dir, bool blob, pg_err *err)
{
	pg_notation_config *c = NULL;
	char path[4096], *json = NULL;
	size_t len = 0, i;
	int rc;

	*out = NULL;
	if (blob) {
		(void)snprintf(path, sizeof(path), "%s/trustpolicy.blob.json", dir);
	} else {
		struct stat st;

		(void)snprintf(path, sizeof(path), "%s/trustpolicy.oci.json", dir);
		if (stat(path, &st) != 0)
			(void)snprintf(path, sizeof(path), "%s/trustpolicy.json", dir);
	}
	if ((rc = pg_buf_read_file(&json, &len, path, PG_NOTATION_POLICY_MAX, err)) != PG_OK)
		return rc;
	if ((rc = pg_notation_config_parse(&c, json, len, blob, err)) != PG_OK) {
		pg_err_wrap(err, "%s: ", path);
		goto out;
	}
	for (i = 0; i < c->n; i++)
		if ((rc = load_trust(&c->v[i], dir)) != PG_OK)
			goto out;
	*out = c;
	c = NULL;
	rc = PG_OK;
out:
	free(json);
	pg_notation_config_free(c);
	return rc;
}

int
pg_notation_config_select(const pg_notation_trust **out, const pg_notation_config *c,
			  const char *repo, const char *name, pg_err *err)
{
	const pg_notation_trust *global = NULL;
	size_t i, j;

	*out = NULL;
	if (c->blob) {
		for (i = 0; i < c->n; i++) {
			if (name != NULL && strcmp(c->v[i].name, name) == 0) {
				*out = &c->v[i];
				return PG_OK;
			}
			if (name == NULL && c->v[i].global) {
				*out = &c->v[i];
				return PG_OK;
			}
		}
		return pg_err_set(err, PG_ENOTFOUND,
				  name ? "no trust policy named \"%.64s\""
				       : "no global trust policy (and no policy name given)%.0s",
				  name ? name : "");
	}
	for (i = 0; i < c->n; i++)
		for (j = 0; j < c->v[i].nscopes; j++) {
			if (strcmp(c->v[i].scopes[j], "*") == 0)
				global = &c->v[i];
			else if (repo != NULL && strcmp(c->v[i].scopes[j], repo) == 0) {
				*out = &c->v[i];
				return PG_OK;
			}
		}
	if (global) {
		*out = global;
		return PG_OK;
	}
	return pg_err_set(err, PG_ENOTFOUND, "no applicable trust policy for %.200s",
			  repo ? repo : "(no repository)");
}

/* ---- statements built from provgate's policy ---- */

void
pg_notation_trust_free(pg_notation_trust *t)
{
	if (t == NULL)
		return;
	nv_trust_free_fields(t);
	free(t);
}

int
pg_notation_trust_new(pg_notation_trust **out, const pg_notation_spec *spec, pg_err *err)
{
	static const char *const tnames[] = {"ca", "signingAuthority", "tsa"};
	pg_notation_trust *t = NULL;
	json_t *o = NULL, *sv, *stores, *ids;
	char ref[300];
	size_t i;
	int rc = PG_ENOMEM;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL || (o = json_object()) == NULL ||
	    (sv = json_object()) == NULL)
		goto out;
	if (json_object_set_new(o, "signatureVerification", sv) != 0 ||
	    json_object_set_new(sv, "level", json_string(spec->level ? spec->level : "strict")) !=
		0 ||
	    json_object_set_new(o, "name", json_string(spec->name ? spec->name : "provgate")) !=
		0 ||
	    json_object_set_new(o, "registryScopes", json_pack("[s]", "*")) != 0 ||
	    (stores = json_array()) == NULL || json_object_set_new(o, "trustStores", stores) != 0 ||
	    (ids = json_array()) == NULL || json_object_set_new(o, "trustedIdentities", ids) != 0)
		goto out;
	if (spec->level && strcmp(spec->level, "skip") == 0) {
		rc = pg_err_set(err, PG_EINVAL,
				"level skip is not a verification: write allowUnsigned instead");
		goto out;
	}
	if (spec->verify_timestamp &&
	    json_object_set_new(sv, "verifyTimestamp", json_string(spec->verify_timestamp)) != 0)
		goto out;
	if (spec->revocation &&
	    json_object_set_new(sv, "override",
				json_pack("{s:s}", "revocation", spec->revocation)) != 0)
		goto out;
	for (i = 0; i < spec->n_certs; i++) {
		const pg_notation_cert_src *c = &spec->certs[i];
		bool seen = false;
		size_t j;

		if (c->type == PG_NOTATION_CRL)
			continue;
		if (c->type < 0 || c->type > 2) {
			rc = pg_err_set(err, PG_EINVAL, "unknown certificate store type");
			goto out;
		}
		for (j = 0; j < i; j++)
			seen |= spec->certs[j].type == c->type;
		if (!seen) {
			/* One store per type: the names only matter for messages. */
			(void)snprintf(ref, sizeof(ref), "%s:provgate", tnames[c->type]);
			if (json_array_append_new(stores, json_string(ref)) != 0)
				goto out;
		}
	}
	for (i = 0; i < spec->n_identities; i++)
		if (json_array_append_new(ids, json_string(spec->identities[i])) != 0)
			goto out;
	if ((rc = parse_statement(t, o, false, err)) != PG_OK)
		goto out;
	if ((t->ca = sk_X509_new_null()) == NULL || (t->sa = sk_X509_new_null()) == NULL ||
	    (t->tsa = sk_X509_new_null()) == NULL || (t->crls = sk_X509_CRL_new_null()) == NULL) {
		rc = PG_ENOMEM;
		goto out;
	}
	for (i = 0; i < spec->n_certs; i++) {
		const pg_notation_cert_src *c = &spec->certs[i];
		STACK_OF(X509) * dst;

		if (c->type == PG_NOTATION_CRL) {
			if (c->len > NV_CERT_FILE_MAX ||
			    nv_crls_add(t->crls, (const unsigned char *)c->bytes, c->len) !=
				PG_OK) {
				rc = pg_err_set(
				    err, PG_EINVAL,
				    "trust entry %.64s holds no readable CRL (PEM or DER)",
				    c->name ? c->name : "?");
				goto out;
			}
			continue;
		}
		dst = c->type == PG_NOTATION_STORE_CA	? t->ca
		      : c->type == PG_NOTATION_STORE_SA ? t->sa
							: t->tsa;
		if (c->len > NV_CERT_FILE_MAX ||
		    add_certs(dst, (const unsigned char *)c->bytes, c->len) != PG_OK) {
			rc = pg_err_set(
			    err, PG_EINVAL,
			    "trust entry %.64s holds no readable certificate (PEM or DER)",
			    c->name ? c->name : "?");
			goto out;
		}
	}
	*out = t;
	t = NULL;
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM && err && err->code == 0)
		pg_err_set(err, PG_ENOMEM, "out of memory");
	pg_notation_trust_free(t);
	json_decref(o);
	return rc;
}

void
pg_notation_config_fingerprint(char out[PG_SHA256_HEX_MAX], const pg_notation_config *c)
{
	pg_digest_ctx *md;
	unsigned char h[32];
	size_t i;
	int j, k, rc;

	memset(out, '0', 64);
	out[64] = '\0';
	if (pg_digest_begin(&md, PG_DIGEST_SHA256) != PG_OK)
		return;
	rc = pg_digest_update(md, c->doc ? c->doc : "", c->doc ? strlen(c->doc) : 0);
	for (i = 0; rc == PG_OK && i < c->n; i++) {
		STACK_OF(X509) * sets[3] = {c->v[i].ca, c->v[i].sa, c->v[i].tsa};

		rc = pg_digest_update(md, c->v[i].store_error ? "E" : "-", 1);
		for (k = 0; k < 3; k++)
			for (j = 0; rc == PG_OK && sets[k] && j < sk_X509_num(sets[k]); j++) {
				unsigned char *der = NULL;
				int n = i2d_X509(sk_X509_value(sets[k], j), &der);

				if (n <= 0)
					rc = PG_ENOMEM;
				else
					rc = pg_digest_update(md, der, (size_t)n);
				OPENSSL_free(der);
				if (rc == PG_OK)
					rc = pg_digest_update(md,
							      k == 0   ? "c"
							      : k == 1 ? "s"
								       : "t",
							      1);
			}
	}
	if (rc != PG_OK) {
		pg_digest_abort(md);
		return;
	}
	if (pg_digest_end(md, h) == PG_OK)
		pg_hex(out, h, 32);
}
