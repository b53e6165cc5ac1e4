/*
 * policy/schema — the ProvenancePolicy v1alpha1 schema (DESIGN.md §5) over
 * the YAML tree of yaml.c.  Strict by design: an unknown field, a wrong
 * type, a reference to trust that does not exist or an ambiguous rule is a
 * load error "FILE:LINE: where: what", because a policy that silently
 * ignores a typo ("verfy:") would admit what its author meant to deny.
 *
 * Trust material named by path is read here, at load time, so a missing
 * key is a reload failure (the last good policy stays) rather than a deny
 * storm later.  Each rule's fingerprint covers the rule and the bytes of the
 * trust it uses, so cached verdicts die with the evidence they relied on.
 */
#include "policy/policy_int.h"
#include "digest/digest.h"
#include "notation/notation.h"
#include "re/re.h"
#include "ref/ref.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define PG_API_VERSION "provgate.dev/v1alpha1"
#define PG_KIND "ProvenancePolicy"

typedef struct sc_ctx {
	pg_policy *p;
	const char *file;
	const char *base_dir;
	const char *root; /* `policy check --root`: prefix of absolute paths */
	pg_err *err;
	char path[256]; /* field path for messages: spec.images[0].verify */
	size_t plen;
} sc_ctx;

static const char *sc_cat_field[PG_TRUST_NCAT] = {"keys", "keyrings", "roots", "certs"};

static int sc_fail(sc_ctx *c, const pg_yn *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
sc_fail(sc_ctx *c, const pg_yn *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pg_err_set(c->err, PG_EINVAL, "%s:%zu: %s%s%s", c->file, n ? n->line : 1, c->path,
			  c->plen ? ": " : "", msg);
}

static size_t sc_push(sc_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a segment to the field path; returns the mark to restore. */
static size_t
sc_push(sc_ctx *c, const char *fmt, ...)
{
	size_t mark = c->plen;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (k > 0)
		c->plen += (size_t)k < sizeof(c->path) - c->plen ? (size_t)k
								 : sizeof(c->path) - c->plen - 1;
	return mark;
}

static void
sc_pop(sc_ctx *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = '\0';
}

static int
sc_oom(sc_ctx *c)
{
	return pg_err_set(c->err, PG_ENOMEM, "out of memory loading policy");
}

static const char *
sc_type_name(const pg_yn *n)
{
	if (pg_yn_is_null(n))
		return "nothing";
	return n->type == PG_YN_MAP ? "a mapping" : n->type == PG_YN_SEQ ? "a list" : "a string";
}

/* A non-empty string scalar without NUL bytes; *out is a copy. */
static int
sc_str(char **out, sc_ctx *c, const pg_yn *n)
{
	if (n->type != PG_YN_SCALAR || pg_yn_is_null(n))
		return sc_fail(c, n, "expected a string, found %s", sc_type_name(n));
	if (strlen(n->value) != n->len)
		return sc_fail(c, n, "a string must not contain NUL bytes");
	if (n->len == 0)
		return sc_fail(c, n, "must not be empty");
	if ((*out = pg_strndup(n->value, n->len)) == NULL)
		return sc_oom(c);
	return PG_OK;
}

/* A string that must be a short name (trust names, rule names...). */
static int
sc_name(char **out, sc_ctx *c, const pg_yn *n)
{
	if (n->type == PG_YN_SCALAR && n->len > 253)
		return sc_fail(c, n, "longer than 253 characters");
	return sc_str(out, c, n);
}

static int
sc_bool(bool *out, sc_ctx *c, const pg_yn *n)
{
	if (n->type == PG_YN_SCALAR && n->plain) {
		if (!strcmp(n->value, "true") || !strcmp(n->value, "True") ||
		    !strcmp(n->value, "TRUE")) {
			*out = true;
			return PG_OK;
		}
		if (!strcmp(n->value, "false") || !strcmp(n->value, "False") ||
		    !strcmp(n->value, "FALSE")) {
			*out = false;
			return PG_OK;
		}
	}
	return sc_fail(c, n, "expected true or false");
}

static int
sc_expect_map(sc_ctx *c, const pg_yn *n)
{
	if (n->type != PG_YN_MAP)
		return sc_fail(c, n, "expected a mapping, found %s", sc_type_name(n));
	return PG_OK;
}

static int
sc_unknown(sc_ctx *c, const pg_yn *key, const char *allowed)
{
	return sc_fail(c, key, "unknown field \"%.128s\" (allowed: %s)", key->value, allowed);
}

/* A list of non-empty strings (null: empty list).  Appends to *list. */
static int
sc_str_list(char ***list, size_t *nlist, sc_ctx *c, const pg_yn *n)
{
	int rc;
	size_t i, mark;
	char **nl;

	if (pg_yn_is_null(n))
		return PG_OK;
	if (n->type != PG_YN_SEQ)
		return sc_fail(c, n, "expected a list of strings, found %s", sc_type_name(n));
	if (n->n == 0)
		return PG_OK;
	if ((nl = realloc(*list, (*nlist + n->n) * sizeof(*nl))) == NULL)
		return sc_oom(c);
	*list = nl;
	for (i = 0; i < n->n; i++) {
		mark = sc_push(c, "[%zu]", i);
		rc = sc_str(&nl[*nlist], c, n->items[i]);
		sc_pop(c, mark);
		if (rc != PG_OK)
			return rc;
		(*nlist)++;
	}
	return PG_OK;
}

static int
sc_regexp(sc_ctx *c, const pg_yn *n)
{
	pg_re *re;
	pg_err e;

	pg_err_clear(&e);
	if (pg_re_new(&re, n->value, &e) != PG_OK)
		return sc_fail(c, n, "invalid regular expression \"%.128s\": %s", n->value, e.msg);
	pg_re_free(re);
	return PG_OK;
}

/* ---- trust ---- */

static char *
sc_resolve_path(const sc_ctx *c, const char *path)
{
	const char *base_dir = c->base_dir;
	pg_buf b;
	char *s = NULL;

	if (path[0] == '/' && c->root && c->root[0])
		base_dir = c->root; /* the in-cluster path, under a local root */
	else if (path[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
		return pg_strdup(path);
	pg_buf_init(&b, 2 * PG_POLICY_STR_MAX);
	if (pg_buf_printf(&b, "%s%s%s", base_dir, path[0] == '/' ? "" : "/", path) != PG_OK ||
	    pg_buf_detach(&s, NULL, &b) != PG_OK)
		s = NULL;
	pg_buf_free(&b);
	return s;
}

/* Files read from a trust.certs directory: the spec's trust stores hold a
 * few certificates; a directory of thousands is a mistake or an attack on
 * load time. */
#define SC_CERT_DIR_FILES_MAX 64

static int
sc_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A trust.certs path that is a directory, as the Notary Project's trust
 * stores are: every entry a regular file (symlinks, subdirectories and the
 * like refused, as the spec says), at most SC_CERT_DIR_FILES_MAX, read in
 * name order and joined into one PEM text (a DER file becomes one PEM
 * CERTIFICATE block), at most PG_POLICY_TRUST_MAX bytes in all.
 * PG_EINVAL/PG_EIO/PG_ETOOBIG with a message in err.
 */
static int
sc_read_cert_dir(char **out, size_t *len, const char *dir, pg_err *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, *path = NULL, *text = NULL;
	size_t n = 0, i, tl, k;
	struct stat st;
	pg_buf b, enc;
	int rc = PG_ENOMEM;

	pg_buf_init(&b, PG_POLICY_TRUST_MAX);
	pg_buf_init(&enc, PG_POLICY_TRUST_MAX * 2);
	if ((names = calloc(SC_CERT_DIR_FILES_MAX, sizeof(*names))) == NULL)
		goto oom;
	if ((d = opendir(dir)) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == SC_CERT_DIR_FILES_MAX) {
			rc = pg_err_set(err, PG_ETOOBIG, "%s has more than %d files", dir,
					SC_CERT_DIR_FILES_MAX);
			goto out;
		}
		if ((names[n] = pg_strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	qsort(names, n, sizeof(*names), sc_name_cmp);
	for (i = 0; i < n; i++) {
		free(path);
		pg_buf_init(&enc, PG_POLICY_TRUST_MAX * 2);
		if ((path = malloc(strlen(dir) + strlen(names[i]) + 2)) == NULL)
			goto oom;
		(void)snprintf(path, strlen(dir) + strlen(names[i]) + 2, "%s/%s", dir, names[i]);
		if (lstat(path, &st) != 0) {
			rc = pg_err_set(err, PG_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = pg_err_set(err, PG_EINVAL,
					"%s is not a regular file (a trust store directory holds "
					"certificate files only; symlinks are refused)",
					path);
			goto out;
		}
		free(text);
		text = NULL;
		if ((rc = pg_policy_read_file(&text, &tl, path, PG_POLICY_TRUST_MAX, err)) != PG_OK)
			goto out;
		if (tl > 10 && memmem(text, tl, "-----BEGIN", 10) != NULL) {
			rc = pg_buf_append(&b, text, tl);
			if (rc == PG_OK)
				rc = pg_buf_puts(&b, "\n");
		} else {
			if ((rc = pg_base64_encode(&enc, text, tl)) != PG_OK)
				goto big;
			rc = pg_buf_puts(&b, "-----BEGIN CERTIFICATE-----\n");
			for (k = 0; rc == PG_OK && k < enc.len; k += 64) {
				rc = pg_buf_append(&b, enc.data + k,
						   enc.len - k < 64 ? enc.len - k : 64);
				if (rc == PG_OK)
					rc = pg_buf_puts(&b, "\n");
			}
			if (rc == PG_OK)
				rc = pg_buf_puts(&b, "-----END CERTIFICATE-----\n");
			pg_buf_free(&enc);
		}
		if (rc != PG_OK)
			goto big;
	}
	if (n == 0) {
		rc = pg_err_set(err, PG_EINVAL, "%s is an empty directory", dir);
		goto out;
	}
	if ((rc = pg_buf_detach(out, len, &b)) != PG_OK)
		goto oom;
	rc = PG_OK;
	goto out;
big:
	rc = rc == PG_ETOOBIG
		 ? pg_err_set(err, PG_ETOOBIG, "the files of %s are larger than %zu bytes", dir,
			      PG_POLICY_TRUST_MAX)
		 : pg_err_set(err, PG_ENOMEM, "out of memory");
	goto out;
oom:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	if (d)
		closedir(d);
	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(path);
	free(text);
	pg_buf_free(&b);
	pg_buf_free(&enc);
	return rc;
}

void
pg_policy__trust_free(pg_trust_item *t)
{
	if (t == NULL)
		return;
	free(t->pub.name);
	free(t->pub.path);
	free(t->resolved);
	free(t->pub.inline_data);
	free(t->bytes);
	free(t);
}

/* A cosign key must be a PEM SubjectPublicKeyInfo; say so at load time. */
static int
sc_check_key(sc_ctx *c, const pg_yn *n, const pg_trust_item *t)
{
	BIO *bio;
	EVP_PKEY *k = NULL;

	if (t->len > (size_t)0x7fffffff)
		return sc_fail(c, n, "key is too large");
	if ((bio = BIO_new_mem_buf(t->bytes, (int)t->len)) == NULL)
		return sc_oom(c);
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL)
		return sc_fail(c, n,
			       "not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
	EVP_PKEY_free(k);
	return PG_OK;
}

static int
sc_trust_item(sc_ctx *c, pg_trust_cat cat, const pg_yn *key, const pg_yn *val)
{
	int rc = PG_EINVAL;
	pg_trust_item *t = NULL, **nt;
	const pg_yn *pathn = NULL, *inl = NULL;
	char *resolved = NULL;
	struct stat st;
	pg_err rerr;
	size_t i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return sc_oom(c);
	t->cat = cat;
	t->file = c->file;
	t->line = key->line;
	if ((rc = sc_name(&t->pub.name, c, key)) != PG_OK)
		goto out;
	for (i = 0; i < c->p->n_trust[cat]; i++) {
		const pg_trust_item *o = c->p->trust[cat][i];

		if (strcmp(o->pub.name, t->pub.name) == 0) {
			rc = sc_fail(c, key, "\"%s\" is already defined at %s:%zu", t->pub.name,
				     o->file, o->line);
			goto out;
		}
	}
	if ((rc = sc_expect_map(c, val)) != PG_OK)
		goto out;
	for (i = 0; i < val->n; i += 2) {
		if (strcmp(val->items[i]->value, "path") == 0)
			pathn = val->items[i + 1];
		else if (strcmp(val->items[i]->value, "inline") == 0)
			inl = val->items[i + 1];
		else {
			rc = sc_unknown(c, val->items[i], "path, inline");
			goto out;
		}
	}
	if ((pathn == NULL) == (inl == NULL)) {
		rc = sc_fail(c, val, "exactly one of path or inline is required");
		goto out;
	}
	if (pathn) {
		if ((rc = sc_str(&t->pub.path, c, pathn)) != PG_OK)
			goto out;
		if ((resolved = sc_resolve_path(c, t->pub.path)) == NULL) {
			rc = sc_oom(c);
			goto out;
		}
		if (cat == PG_TRUST_CERT && stat(resolved, &st) == 0 && S_ISDIR(st.st_mode))
			rc = sc_read_cert_dir(&t->bytes, &t->len, resolved, &rerr);
		else
			rc = pg_policy_read_file(&t->bytes, &t->len, resolved, PG_POLICY_TRUST_MAX,
						 &rerr);
		if (rc == PG_OK) {
			t->resolved = resolved; /* kept: the server watches it */
			resolved = NULL;
		}
		if (rc != PG_OK) {
			rc = sc_fail(c, pathn, "%s", rerr.msg);
			goto out;
		}
	} else {
		if ((rc = sc_str(&t->pub.inline_data, c, inl)) != PG_OK)
			goto out;
		if (inl->len > PG_POLICY_TRUST_MAX) {
			rc = sc_fail(c, inl, "inline material larger than %zu bytes",
				     PG_POLICY_TRUST_MAX);
			goto out;
		}
		if ((t->bytes = pg_strndup(inl->value, inl->len)) == NULL) {
			rc = sc_oom(c);
			goto out;
		}
		t->len = inl->len;
	}
	if (cat == PG_TRUST_KEY && (rc = sc_check_key(c, pathn ? pathn : inl, t)) != PG_OK)
		goto out;
	if ((nt = realloc(c->p->trust[cat], (c->p->n_trust[cat] + 1) * sizeof(*nt))) == NULL) {
		rc = sc_oom(c);
		goto out;
	}
	c->p->trust[cat] = nt;
	nt[c->p->n_trust[cat]++] = t;
	t = NULL;
	rc = PG_OK;
out:
	free(resolved);
	pg_policy__trust_free(t);
	return rc;
}

static int
sc_trust(sc_ctx *c, const pg_yn *n)
{
	int rc;
	size_t i, j, mark, mark2;
	int cat;

	if (pg_yn_is_null(n))
		return PG_OK;
	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *v = n->items[i + 1];

		for (cat = 0; cat < PG_TRUST_NCAT; cat++)
			if (strcmp(k->value, sc_cat_field[cat]) == 0)
				break;
		if (cat == PG_TRUST_NCAT)
			return sc_unknown(c, k, "keys, keyrings, roots, certs");
		mark = sc_push(c, ".%s", k->value);
		if (!pg_yn_is_null(v) && (rc = sc_expect_map(c, v)) != PG_OK)
			return rc;
		for (j = 0; !pg_yn_is_null(v) && j < v->n; j += 2) {
			mark2 = sc_push(c, ".%.64s", v->items[j]->value);
			rc = sc_trust_item(c, (pg_trust_cat)cat, v->items[j], v->items[j + 1]);
			sc_pop(c, mark2);
			if (rc != PG_OK)
				return rc;
		}
		sc_pop(c, mark);
	}
	return PG_OK;
}

/* ---- rules ---- */

static void
sc_attest_free(pg_attest_req *a, size_t n)
{
	size_t i, j, k;

	for (i = 0; a && i < n; i++) {
		for (j = 0; j < a[i].nconds; j++) {
			pg_attest_cond *c = (pg_attest_cond *)&a[i].conds[j];

			free((void *)c->path);
			free((void *)c->value);
			for (k = 0; k < c->nvalues; k++)
				free((void *)c->values[k]);
			free((void *)c->values);
		}
		free((void *)a[i].conds);
		free((void *)a[i].predicate_type);
	}
	free(a);
}

static void
sc_verifier_clear(pg_verifier *v)
{
	free(v->issuer);
	free(v->issuer_regexp);
	free(v->subject);
	free(v->subject_regexp);
	free(v->nv_certs);
	free(v->nv_cert_types);
	for (size_t i = 0; i < v->n_nv_identities; i++)
		free(v->nv_identities[i]);
	free(v->nv_identities);
	free(v->nv_level);
	free(v->nv_verify_timestamp);
	free(v->nv_revocation);
	free(v->nv_config_dir);
	pg_notation_trust_free(v->nv_trust);
	pg_notation_config_free(v->nv_config);
	sc_attest_free(v->attest, v->n_attest);
}

/* ---- attestations (issue 13) ---- */

static int sc_use(sc_ctx *c, pg_verifier *v, pg_trust_cat cat, const pg_yn *n);

#define SC_COND_FIELDS "path, cert, equals, in, prefix, regExp"

/* One condition {path|cert: ..., equals|in|prefix|regExp: ...} into *d. */
static int
sc_condition(sc_ctx *c, pg_attest_cond *d, const pg_yn *n)
{
	const pg_yn *where = NULL, *op = NULL;
	char **vals = NULL;
	size_t i, nv = 0;
	pg_err e;
	int rc;

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	d->claim = -1;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *v = n->items[i + 1];
		size_t mark = sc_push(c, ".%s", k->value);
		char *s = NULL;

		if (strcmp(k->value, "path") == 0 || strcmp(k->value, "cert") == 0) {
			if (where)
				return sc_fail(c, k, "exactly one of path or cert");
			where = k;
			if ((rc = sc_str(&s, c, v)) != PG_OK)
				return rc;
			if (k->value[0] == 'p') {
				d->path = s;
			} else {
				d->claim = pg_claim_index(s);
				free(s);
				if (d->claim < 0)
					return sc_fail(
					    c, v,
					    "unknown certificate claim \"%.100s\" (claims: "
					    "issuer, buildSignerURI, buildSignerDigest, "
					    "runnerEnvironment, sourceRepositoryURI, "
					    "sourceRepositoryDigest, sourceRepositoryRef, "
					    "sourceRepositoryIdentifier, sourceRepositoryOwnerURI, "
					    "sourceRepositoryOwnerIdentifier, buildConfigURI, "
					    "buildConfigDigest, buildTrigger, runInvocationURI, "
					    "sourceRepositoryVisibilityAtSigning)",
					    v->value);
			}
		} else if (strcmp(k->value, "equals") == 0 || strcmp(k->value, "prefix") == 0 ||
			   strcmp(k->value, "regExp") == 0 || strcmp(k->value, "in") == 0) {
			if (op)
				return sc_fail(c, k, "exactly one of equals, in, prefix or regExp");
			op = k;
			if (k->value[0] == 'i') {
				d->op = PG_COND_IN;
				if (v->type != PG_YN_SEQ || v->n == 0)
					return sc_fail(c, v,
						       "expected a non-empty list of strings");
				if ((rc = sc_str_list(&vals, &nv, c, v)) != PG_OK) {
					for (i = 0; i < nv; i++)
						free(vals[i]);
					free(vals);
					return rc;
				}
				d->values = (const char *const *)vals;
				d->nvalues = nv;
			} else {
				d->op = k->value[0] == 'e'   ? PG_COND_EQUALS
					: k->value[0] == 'p' ? PG_COND_PREFIX
							     : PG_COND_REGEXP;
				if ((rc = sc_str(&s, c, v)) != PG_OK)
					return rc;
				d->value = s;
				if (d->op == PG_COND_REGEXP && (rc = sc_regexp(c, v)) != PG_OK)
					return rc;
			}
		} else {
			sc_pop(c, mark);
			return sc_unknown(c, k, SC_COND_FIELDS);
		}
		sc_pop(c, mark);
	}
	if (where == NULL)
		return sc_fail(c, n, "a condition needs path (a JSON pointer) or cert (a claim)");
	if (op == NULL)
		return sc_fail(c, n, "a condition needs one of equals, in, prefix or regExp");
	pg_err_clear(&e);
	if (pg_attest_cond_check(d, &e) != PG_OK)
		return sc_fail(c, n, "%s", e.msg);
	return PG_OK;
}

/* A list of conditions appended to a->conds. */
static int
sc_conditions(sc_ctx *c, pg_attest_req *a, const pg_yn *n)
{
	pg_attest_cond *nc;
	size_t i;
	int rc;

	if (n->type != PG_YN_SEQ)
		return sc_fail(c, n, "expected a list of conditions, found %s", sc_type_name(n));
	if (a->nconds + n->n > PG_ATTEST_CONDS_MAX)
		return sc_fail(c, n, "more than %d conditions", PG_ATTEST_CONDS_MAX);
	if (n->n == 0)
		return PG_OK;
	if ((nc = realloc((void *)a->conds, (a->nconds + n->n) * sizeof(*nc))) == NULL)
		return sc_oom(c);
	a->conds = nc;
	for (i = 0; i < n->n; i++) {
		size_t mark = sc_push(c, "[%zu]", i);

		memset(&nc[a->nconds], 0, sizeof(nc[0]));
		a->nconds++;
		if ((rc = sc_condition(c, &nc[a->nconds - 1], n->items[i])) != PG_OK)
			return rc;
		sc_pop(c, mark);
	}
	return PG_OK;
}

/* cosign's attestations: [{predicateType, conditions}] */
static int
sc_attestations(sc_ctx *c, pg_verifier *v, const pg_yn *n)
{
	size_t i, j;
	int rc;

	if (n->type != PG_YN_SEQ || n->n == 0)
		return sc_fail(c, n, "expected a non-empty list of attestations");
	if (n->n > 16)
		return sc_fail(c, n, "more than 16 attestations");
	if ((v->attest = calloc(n->n, sizeof(*v->attest))) == NULL)
		return sc_oom(c);
	for (i = 0; i < n->n; i++) {
		const pg_yn *a = n->items[i];
		pg_attest_req *q = &v->attest[i];
		size_t mark = sc_push(c, "[%zu]", i);
		char *s = NULL;

		v->n_attest = i + 1;
		if ((rc = sc_expect_map(c, a)) != PG_OK)
			return rc;
		for (j = 0; j < a->n; j += 2) {
			const pg_yn *k = a->items[j], *val = a->items[j + 1];
			size_t m2 = sc_push(c, ".%s", k->value);

			if (strcmp(k->value, "predicateType") == 0) {
				if ((rc = sc_str(&s, c, val)) != PG_OK)
					return rc;
				q->predicate_type = s;
			} else if (strcmp(k->value, "conditions") == 0) {
				if ((rc = sc_conditions(c, q, val)) != PG_OK)
					return rc;
			} else {
				sc_pop(c, m2);
				return sc_unknown(c, k, "predicateType, conditions");
			}
			sc_pop(c, m2);
		}
		if (q->predicate_type == NULL)
			return sc_fail(c, a, "predicateType is required");
		sc_pop(c, mark);
	}
	return PG_OK;
}

static char *
sc_dup_or_null(const char *s)
{
	return s ? pg_strdup(s) : NULL;
}

/* github: {owner, repo, signerWorkflow, signerRepo, sourceRef,
 * denySelfHostedRunners, root, conditions} -> keyless identity and one
 * SLSA v1 attestation with the claim conditions (attest.h). */
static int
sc_github(sc_ctx *c, pg_verifier *v, const pg_yn *n)
{
	char *owned[5] = {0};
	const char **dst;
	pg_github_preset gp;
	pg_github_policy g;
	const pg_yn *conds = NULL;
	pg_attest_cond *nc;
	size_t i;
	pg_err e;
	int rc = PG_OK;

	memset(&gp, 0, sizeof(gp));
	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	v->kind = PG_VERIFY_GITHUB;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *val = n->items[i + 1];
		size_t mark = sc_push(c, ".%s", k->value);
		int slot = -1;

		dst = NULL;
		if (strcmp(k->value, "owner") == 0)
			dst = &gp.owner, slot = 0;
		else if (strcmp(k->value, "repo") == 0)
			dst = &gp.repo, slot = 1;
		else if (strcmp(k->value, "signerWorkflow") == 0)
			dst = &gp.signer_workflow, slot = 2;
		else if (strcmp(k->value, "signerRepo") == 0)
			dst = &gp.signer_repo, slot = 3;
		else if (strcmp(k->value, "sourceRef") == 0)
			dst = &gp.source_ref, slot = 4;
		if (dst) {
			if ((rc = sc_str(&owned[slot], c, val)) != PG_OK)
				goto out;
			*dst = owned[slot];
		} else if (strcmp(k->value, "denySelfHostedRunners") == 0) {
			if ((rc = sc_bool(&gp.deny_self_hosted, c, val)) != PG_OK)
				goto out;
		} else if (strcmp(k->value, "root") == 0) {
			if ((rc = sc_use(c, v, PG_TRUST_ROOT, val)) != PG_OK)
				goto out;
		} else if (strcmp(k->value, "conditions") == 0) {
			conds = val;
		} else {
			sc_pop(c, mark);
			rc = sc_unknown(c, k,
					"owner, repo, signerWorkflow, signerRepo, sourceRef, "
					"denySelfHostedRunners, root, conditions");
			goto out;
		}
		sc_pop(c, mark);
	}
	pg_err_clear(&e);
	if (pg_github_expand(&g, &gp, &e) != PG_OK) {
		rc = e.code == PG_ENOMEM ? sc_oom(c) : sc_fail(c, n, "%s", e.msg);
		goto out;
	}
	v->subject_regexp = g.identity_regexp;
	g.identity_regexp = NULL;
	v->issuer = pg_strdup(g.issuer);
	v->attest = calloc(1, sizeof(*v->attest));
	nc = calloc(g.nconds ? g.nconds : 1, sizeof(*nc));
	if (v->issuer == NULL || v->attest == NULL || nc == NULL) {
		free(nc);
		pg_github_policy_free(&g);
		rc = sc_oom(c);
		goto out;
	}
	v->n_attest = 1;
	v->attest[0].conds = nc;
	v->attest[0].predicate_type = pg_strdup(g.predicate_type);
	for (i = 0; i < g.nconds; i++) {
		nc[i].claim = g.conds[i].claim;
		nc[i].op = g.conds[i].op;
		nc[i].value = sc_dup_or_null(g.conds[i].value);
		v->attest[0].nconds++;
		if (nc[i].value == NULL)
			break;
	}
	pg_github_policy_free(&g);
	if (v->attest[0].predicate_type == NULL || v->attest[0].nconds != i) {
		rc = sc_oom(c);
		goto out;
	}
	if (conds) {
		size_t mark = sc_push(c, ".conditions");

		if ((rc = sc_conditions(c, &v->attest[0], conds)) != PG_OK)
			goto out;
		sc_pop(c, mark);
	}
out:
	for (i = 0; i < 5; i++)
		free(owned[i]);
	return rc;
}

void
pg_policy_rule_free(pg_rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->name);
	for (i = 0; i < r->n_match; i++)
		free(r->match[i]);
	free(r->match);
	for (i = 0; i < r->n_verify; i++)
		sc_verifier_clear(&r->verify[i]);
	free(r->verify);
	free(r->repository);
	for (i = 0; i < r->n_chart_names; i++)
		free(r->chart_names[i]);
	free(r->chart_names);
	free(r);
}

/* Record that v uses the trust item named by n, to be resolved later. */
static int
sc_use(sc_ctx *c, pg_verifier *v, pg_trust_cat cat, const pg_yn *n)
{
	int rc;
	pg_trust_use *nu;
	char *name = NULL;

	if ((rc = sc_name(&name, c, n)) != PG_OK)
		return rc;
	if ((nu = realloc(c->p->uses, (c->p->n_uses + 1) * sizeof(*nu))) == NULL) {
		free(name);
		return sc_oom(c);
	}
	c->p->uses = nu;
	if ((nu[c->p->n_uses].where = pg_strdup(c->path)) == NULL) {
		free(name);
		return sc_oom(c);
	}
	nu[c->p->n_uses].v = v;
	nu[c->p->n_uses].cat = cat;
	nu[c->p->n_uses].slot = cat == PG_TRUST_CERT ? v->n_nv_certs - 1 : 0;
	nu[c->p->n_uses].name = name;
	nu[c->p->n_uses].file = c->file;
	nu[c->p->n_uses].line = n->line;
	c->p->n_uses++;
	return PG_OK;
}

static int
sc_keyless(sc_ctx *c, pg_verifier *v, const pg_yn *n)
{
	int rc;
	size_t i, mark;
	char **dst;

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *val = n->items[i + 1];

		mark = sc_push(c, ".%s", k->value);
		if (strcmp(k->value, "root") == 0) {
			rc = sc_use(c, v, PG_TRUST_ROOT, val);
			sc_pop(c, mark);
			if (rc != PG_OK)
				return rc;
			continue;
		}
		if (strcmp(k->value, "issuer") == 0)
			dst = &v->issuer;
		else if (strcmp(k->value, "issuerRegExp") == 0)
			dst = &v->issuer_regexp;
		else if (strcmp(k->value, "subject") == 0)
			dst = &v->subject;
		else if (strcmp(k->value, "subjectRegExp") == 0)
			dst = &v->subject_regexp;
		else {
			sc_pop(c, mark);
			return sc_unknown(c, k,
					  "root, issuer, issuerRegExp, subject, subjectRegExp");
		}
		if ((rc = sc_str(dst, c, val)) != PG_OK)
			return rc;
		if ((dst == &v->issuer_regexp || dst == &v->subject_regexp) &&
		    (rc = sc_regexp(c, val)) != PG_OK)
			return rc;
		sc_pop(c, mark);
	}
	if ((v->issuer == NULL) == (v->issuer_regexp == NULL))
		return sc_fail(c, n, "exactly one of issuer or issuerRegExp is required");
	if ((v->subject == NULL) == (v->subject_regexp == NULL))
		return sc_fail(c, n, "exactly one of subject or subjectRegExp is required");
	return PG_OK;
}

static int sc_path_field(char **out, sc_ctx *c, const pg_yn *n);

/* A value among allowed ("a|b|c"); *out a copy. */
static int
sc_enum(char **out, sc_ctx *c, const pg_yn *n, const char *allowed)
{
	char buf[128];
	int rc;

	if ((rc = sc_str(out, c, n)) != PG_OK)
		return rc;
	(void)snprintf(buf, sizeof(buf), "|%s|", allowed);
	if (strchr(*out, '|') == NULL && strlen(*out) < 64) {
		char want[80];

		(void)snprintf(want, sizeof(want), "|%s|", *out);
		if (strstr(buf, want) != NULL)
			return PG_OK;
	}
	return sc_fail(c, n, "must be one of %s", allowed);
}

/*
 * notation: {ca: [certs...], signingAuthority: [...], tsa: [...],
 *            crls: [certs...], identities: ["*" | "x509.subject: ..."], level,
 *            verifyTimestamp, revocation}
 * or notation: {config: DIR} (a notation configuration directory, as
 * notation, Ratify and Flux read it).
 */
static int
sc_notation(sc_ctx *c, pg_verifier *v, const pg_yn *n)
{
	/* In PG_NOTATION_STORE_* order, then PG_NOTATION_CRL. */
	static const char *const types[] = {"ca", "signingAuthority", "tsa", "crls"};
	const pg_yn *config = NULL;
	size_t i, j, mark;
	int rc, t;

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	v->kind = PG_VERIFY_NOTATION;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *val = n->items[i + 1];

		mark = sc_push(c, ".%s", k->value);
		for (t = 0; t < 4; t++)
			if (strcmp(k->value, types[t]) == 0)
				break;
		if (t < 4) {
			const pg_trust **nc;
			int *nt;

			if (val->type != PG_YN_SEQ || val->n == 0)
				return sc_fail(c, val, "expected a list of trust.certs names");
			nc = realloc(v->nv_certs, (v->n_nv_certs + val->n) * sizeof(*nc));
			if (nc == NULL)
				return sc_oom(c);
			v->nv_certs = nc;
			nt = realloc(v->nv_cert_types, (v->n_nv_certs + val->n) * sizeof(*nt));
			if (nt == NULL)
				return sc_oom(c);
			v->nv_cert_types = nt;
			for (j = 0; j < val->n; j++) {
				size_t m2 = sc_push(c, "[%zu]", j);

				v->nv_certs[v->n_nv_certs] = NULL;
				v->nv_cert_types[v->n_nv_certs++] = t;
				if ((rc = sc_use(c, v, PG_TRUST_CERT, val->items[j])) != PG_OK)
					return rc;
				sc_pop(c, m2);
			}
		} else if (strcmp(k->value, "identities") == 0) {
			if ((rc = sc_str_list(&v->nv_identities, &v->n_nv_identities, c, val)) !=
			    PG_OK)
				return rc;
		} else if (strcmp(k->value, "level") == 0) {
			if ((rc = sc_enum(&v->nv_level, c, val, "strict|permissive|audit")) !=
			    PG_OK)
				return rc;
		} else if (strcmp(k->value, "verifyTimestamp") == 0) {
			if ((rc = sc_enum(&v->nv_verify_timestamp, c, val,
					  "always|afterCertExpiry")) != PG_OK)
				return rc;
		} else if (strcmp(k->value, "revocation") == 0) {
			if ((rc = sc_enum(&v->nv_revocation, c, val, "enforce|log|skip")) != PG_OK)
				return rc;
		} else if (strcmp(k->value, "config") == 0) {
			config = val;
			if ((rc = sc_path_field(&v->nv_config_dir, c, val)) != PG_OK)
				return rc;
		} else {
			sc_pop(c, mark);
			return sc_unknown(c, k,
					  "ca, signingAuthority, tsa, crls, identities, level, "
					  "verifyTimestamp, revocation, config");
		}
		sc_pop(c, mark);
	}
	if (config != NULL) {
		pg_err e;

		if (v->n_nv_certs || v->n_nv_identities || v->nv_level || v->nv_verify_timestamp ||
		    v->nv_revocation)
			return sc_fail(c, n,
				       "config imports a whole notation configuration: it takes no "
				       "other field");
		pg_err_clear(&e);
		if ((rc = pg_notation_config_load(&v->nv_config, v->nv_config_dir, false, &e)) !=
		    PG_OK)
			return sc_fail(c, config, "notation configuration: %s", e.msg);
		pg_notation_config_fingerprint(v->nv_config_fp, v->nv_config);
		return PG_OK;
	}
	for (i = 0; i < v->n_nv_certs; i++)
		if (v->nv_cert_types[i] == PG_NOTATION_STORE_CA ||
		    v->nv_cert_types[i] == PG_NOTATION_STORE_SA)
			break;
	if (i == v->n_nv_certs)
		return sc_fail(c, n, "needs ca or signingAuthority certificates (or config)");
	if (v->n_nv_identities == 0)
		return sc_fail(c, n, "identities is required (\"*\" or \"x509.subject: ...\")");
	return PG_OK;
}

/* After trust references are resolved: build the notation statement. */
static int
sc_notation_build(pg_verifier *v, const char *rule, pg_policy *p, pg_err *err)
{
	pg_notation_cert_src *src;
	pg_notation_spec s;
	size_t i;
	int rc;

	if (v->kind != PG_VERIFY_NOTATION || v->nv_config != NULL)
		return PG_OK;
	if ((src = calloc(v->n_nv_certs, sizeof(*src))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < v->n_nv_certs; i++) {
		src[i].type = v->nv_cert_types[i];
		src[i].name = v->nv_certs[i]->name;
		src[i].bytes = pg_policy_trust_bytes(p, v->nv_certs[i], &src[i].len);
	}
	memset(&s, 0, sizeof(s));
	s.name = rule;
	s.level = v->nv_level;
	s.verify_timestamp = v->nv_verify_timestamp;
	s.revocation = v->nv_revocation;
	s.identities = (const char *const *)v->nv_identities;
	s.n_identities = v->n_nv_identities;
	s.certs = src;
	s.n_certs = v->n_nv_certs;
	rc = pg_notation_trust_new(&v->nv_trust, &s, err);
	free(src);
	if (rc != PG_OK)
		pg_err_wrap(err, "rule %s: notation: ", rule);
	return rc;
}

static int
sc_verifier(sc_ctx *c, pg_verifier *v, const pg_yn *n, bool is_chart)
{
	int rc;
	const pg_yn *k, *val, *kk, *kv;
	size_t mark;

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	if (n->n != 2)
		return sc_fail(c, n,
			       "each verify entry has exactly one of cosign, prov or notation");
	v->line = n->line;
	k = n->items[0];
	val = n->items[1];
	mark = sc_push(c, ".%s", k->value);
	if (strcmp(k->value, "cosign") == 0) {
		if ((rc = sc_expect_map(c, val)) != PG_OK)
			return rc;
		/* attestations: (issue 13) may come with key or keyless. */
		if (val->n == 4 && strcmp(val->items[0]->value, "attestations") == 0) {
			/* Charts too: OCI charts only, judged when the
			 * reference is known (as cosign signatures). */
			(void)sc_push(c, ".attestations");
			if ((rc = sc_attestations(c, v, val->items[1])) != PG_OK)
				return rc;
			sc_pop(c, mark);
			(void)sc_push(c, ".%s", k->value);
			kk = val->items[2];
			kv = val->items[3];
		} else if (val->n == 4 && strcmp(val->items[2]->value, "attestations") == 0) {
			/* Charts too: OCI charts only, judged when the
			 * reference is known (as cosign signatures). */
			(void)sc_push(c, ".attestations");
			if ((rc = sc_attestations(c, v, val->items[3])) != PG_OK)
				return rc;
			sc_pop(c, mark);
			(void)sc_push(c, ".%s", k->value);
			kk = val->items[0];
			kv = val->items[1];
		} else if (val->n != 2) {
			return sc_fail(c, val, "exactly one of key or keyless is required");
		} else {
			kk = val->items[0];
			kv = val->items[1];
		}
		(void)sc_push(c, ".%s", kk->value);
		if (strcmp(kk->value, "key") == 0) {
			v->kind = PG_VERIFY_COSIGN_KEY;
			rc = sc_use(c, v, PG_TRUST_KEY, kv);
		} else if (strcmp(kk->value, "keyless") == 0) {
			v->kind = PG_VERIFY_COSIGN_KEYLESS;
			rc = sc_keyless(c, v, kv);
		} else {
			sc_pop(c, mark);
			rc = sc_unknown(c, kk, "key, keyless");
		}
	} else if (strcmp(k->value, "notation") == 0) {
		/* Charts: OCI charts only, judged when the reference is known. */
		rc = sc_notation(c, v, val);
	} else if (strcmp(k->value, "prov") == 0) {
		if (!is_chart) {
			sc_pop(c, mark);
			return sc_fail(c, k, "prov verification is only for charts rules");
		}
		if ((rc = sc_expect_map(c, val)) != PG_OK)
			return rc;
		if (val->n != 2 || strcmp(val->items[0]->value, "keyring") != 0)
			return val->n == 2 ? sc_unknown(c, val->items[0], "keyring")
					   : sc_fail(c, val, "keyring is required");
		(void)sc_push(c, ".keyring");
		v->kind = PG_VERIFY_PROV;
		rc = sc_use(c, v, PG_TRUST_KEYRING, val->items[1]);
	} else if (strcmp(k->value, "github") == 0) {
		/* Charts: OCI charts only, as cosign `attestations`. */
		rc = sc_github(c, v, val);
	} else {
		sc_pop(c, mark);
		return sc_unknown(c, k, "cosign, prov, notation, github");
	}
	if (rc == PG_OK)
		sc_pop(c, mark);
	return rc;
}

static int
sc_require(sc_ctx *c, pg_rule *r, const pg_yn *n)
{
	char *end = NULL;
	unsigned long v;
	const pg_yn *num;

	if (n->type == PG_YN_SCALAR && strcmp(n->value, "any") == 0) {
		r->require = PG_REQUIRE_ANY;
		return PG_OK;
	}
	if (n->type == PG_YN_SCALAR && strcmp(n->value, "all") == 0) {
		r->require = PG_REQUIRE_ALL;
		return PG_OK;
	}
	if (n->type != PG_YN_MAP)
		return sc_fail(c, n, "expected any, all or {atLeast: N}");
	if (n->n != 2 || strcmp(n->items[0]->value, "atLeast") != 0)
		return n->n == 2 ? sc_unknown(c, n->items[0], "atLeast")
				 : sc_fail(c, n, "expected any, all or {atLeast: N}");
	num = n->items[1];
	if (num->type != PG_YN_SCALAR || !num->plain || num->len == 0 || num->len > 6 ||
	    num->value[0] < '0' || num->value[0] > '9')
		return sc_fail(c, num, "atLeast must be a positive number");
	v = strtoul(num->value, &end, 10);
	if (*end != '\0' || v == 0)
		return sc_fail(c, num, "atLeast must be a positive number");
	r->require = PG_REQUIRE_ATLEAST;
	r->at_least = (unsigned)v;
	return PG_OK;
}

static bool
sc_has_scheme(const char *s)
{
	return strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0 ||
	       strncasecmp(s, "oci://", 6) == 0;
}

/* The rule's repository, normalised as every chart URL is (what release
 * Secrets' charts are fetched from is what the log shows). */
static int
sc_repository(sc_ctx *c, const pg_yn *n, pg_rule *r)
{
	char *norm = NULL;
	pg_err e;

	pg_err_clear(&e);
	if (pg_url_normalize(&norm, r->repository, &e) != PG_OK)
		return sc_fail(c, n, "%s", e.code == PG_ENOMEM ? "out of memory" : e.msg);
	free(r->repository);
	r->repository = norm;
	return PG_OK;
}

/* Why a chart pattern can never match a normalised chart URL
 * (pg_url_normalize), or NULL when it can. */
static const char *
sc_chart_pattern_bad(const char *pat)
{
	const char *host, *path, *p;
	size_t sl;
	int oci;

	if (strcmp(pat, "**") == 0)
		return NULL;
	if (strncmp(pat, "https://", 8) == 0)
		sl = 5;
	else if (strncmp(pat, "http://", 7) == 0)
		sl = 4;
	else if (strncmp(pat, "oci://", 6) == 0)
		sl = 3;
	else
		return "a chart pattern starts with https://, http:// or oci:// in lower case "
		       "(or is \"**\")";
	oci = sl == 3;
	host = pat + sl + 3;
	path = host + strcspn(host, "/");
	if (path == host)
		return "no host after the scheme";
	for (p = host; p < path; p++) {
		if (*p >= 'A' && *p <= 'Z')
			return "upper case in the host: hosts are matched lower-cased";
		if (*p == '@')
			return "user information (user@host) never appears in a chart URL";
		if (*p == '*' && p[1] == '*')
			return "\"**\" in the host: use \"*\" (a host has no '/')";
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr(".-_:*[]", *p)))
			return "a character that never appears in a normalised host";
	}
	if ((size_t)(path - host) > 4 && strncmp(path - 4, ":443", 4) == 0 && sl != 4)
		return "the default port :443 is dropped from chart URLs: write the host alone";
	if ((size_t)(path - host) > 3 && strncmp(path - 3, ":80", 3) == 0 && sl == 4)
		return "the default port :80 is dropped from chart URLs: write the host alone";
	for (p = path; *p; p++) {
		if (strchr("?#%\\@", *p) || (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "'?', '#', '%', '@', '\\' and spaces never appear in a normalised "
			       "chart URL";
		if (oci && *p >= 'A' && *p <= 'Z')
			return "upper case in an OCI repository path";
		if (*p == '/' && p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
			return "dot segments (/./, /../) are removed from chart URLs";
	}
	if (*path && path[strlen(path) - 1] == '/')
		return "a trailing '/' never appears in a chart location (REPO/NAME)";
	return NULL;
}

static int
sc_chart_patterns(sc_ctx *c, const pg_yn *n, const pg_rule *r)
{
	size_t i;

	for (i = 0; i < r->n_match && n->type == PG_YN_SEQ && i < n->n; i++) {
		const char *why = sc_chart_pattern_bad(r->match[i]);

		if (why)
			return sc_fail(
			    c, n->items[i],
			    "chart pattern \"%.200s\" cannot match a normalised chart URL: %s",
			    r->match[i], why);
	}
	return PG_OK;
}

/* A rule name is unique across images and charts: a hash set of the rules
 * so far (loading only), so a large policy loads in linear time.  Makes
 * room for one more; the rule goes in once it is in the lists. */
static int
sc_rule_name_taken(sc_ctx *c, const pg_yn *n, const pg_rule *r)
{
	pg_policy *p = c->p;
	size_t i, mask;

	if (p->names_cap == 0 || 2 * (p->n_images + p->n_charts + 1) > p->names_cap) {
		size_t cap = p->names_cap ? 2 * p->names_cap : 64, k, j;
		const pg_rule **nt = calloc(cap, sizeof(*nt));

		if (nt == NULL)
			return sc_oom(c);
		for (k = 0; k < p->names_cap; k++) {
			if (p->names[k] == NULL)
				continue;
			for (j = (size_t)pg_digest_fnv1a(p->names[k]->name) & (cap - 1); nt[j];
			     j = (j + 1) & (cap - 1))
				;
			nt[j] = p->names[k];
		}
		free(p->names);
		p->names = nt;
		p->names_cap = cap;
	}
	mask = p->names_cap - 1;
	for (i = (size_t)pg_digest_fnv1a(r->name) & mask; p->names[i]; i = (i + 1) & mask)
		if (strcmp(p->names[i]->name, r->name) == 0)
			return sc_fail(c, n, "duplicate rule name \"%s\" (also in %s)", r->name,
				       p->names[i]->source_file);
	return PG_OK;
}

/* r, now in the policy's lists, into the name set (room was made by
 * sc_rule_name_taken). */
static void
sc_rule_name_add(pg_policy *p, const pg_rule *r)
{
	size_t i, mask = p->names_cap - 1;

	for (i = (size_t)pg_digest_fnv1a(r->name) & mask; p->names[i]; i = (i + 1) & mask)
		;
	p->names[i] = r;
}

static int
sc_rule(sc_ctx *c, const pg_yn *n, bool is_chart)
{
	int rc = PG_EINVAL;
	pg_rule *r = NULL, ***list;
	pg_rule **nl;
	size_t i, j, mark, *count;
	const pg_yn *verify = NULL, *require = NULL, *allow = NULL, *match = NULL, *namen = NULL;
	const pg_yn *repo = NULL, *names = NULL;
	const char *allowed = is_chart ? "name, match, verify, require, tlog, requireDigest, "
					 "allowUnsigned, allowVersionRanges, repository, chartNames"
				       : "name, match, verify, require, tlog, requireDigest, "
					 "allowUnsigned";

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return sc_oom(c);
	r->is_chart = is_chart;
	r->source_file = c->file;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *v = n->items[i + 1];

		mark = sc_push(c, ".%s", k->value);
		if (strcmp(k->value, "name") == 0) {
			namen = v;
			rc = sc_name(&r->name, c, v);
		} else if (strcmp(k->value, "match") == 0) {
			match = v;
			rc = sc_str_list(&r->match, &r->n_match, c, v);
			if (rc == PG_OK && is_chart)
				rc = sc_chart_patterns(c, v, r);
		} else if (strcmp(k->value, "verify") == 0) {
			verify = v;
			rc = PG_OK;
		} else if (strcmp(k->value, "require") == 0) {
			require = v;
			rc = PG_OK;
		} else if (strcmp(k->value, "tlog") == 0) {
			if (v->type == PG_YN_SCALAR && strcmp(v->value, "required") == 0)
				r->tlog = PG_TLOG_REQUIRED;
			else if (v->type == PG_YN_SCALAR && strcmp(v->value, "optional") == 0)
				r->tlog = PG_TLOG_OPTIONAL;
			else
				rc = sc_fail(c, v, "expected required or optional");
		} else if (strcmp(k->value, "requireDigest") == 0) {
			rc = sc_bool(&r->require_digest, c, v);
		} else if (strcmp(k->value, "allowUnsigned") == 0) {
			allow = v;
			rc = sc_bool(&r->allow_unsigned, c, v);
		} else if (is_chart && strcmp(k->value, "allowVersionRanges") == 0) {
			rc = sc_bool(&r->allow_version_ranges, c, v);
		} else if (is_chart && strcmp(k->value, "repository") == 0) {
			repo = v;
			if ((rc = sc_str(&r->repository, c, v)) == PG_OK &&
			    !sc_has_scheme(r->repository))
				rc = sc_fail(c, v, "must start with https://, http:// or oci://");
			if (rc == PG_OK)
				rc = sc_repository(c, v, r);
		} else if (is_chart && strcmp(k->value, "chartNames") == 0) {
			names = v;
			rc = sc_str_list(&r->chart_names, &r->n_chart_names, c, v);
		} else {
			sc_pop(c, mark);
			rc = sc_unknown(c, k, allowed);
		}
		if (rc != PG_OK)
			goto out;
		sc_pop(c, mark);
	}
	if (namen == NULL) {
		rc = sc_fail(c, n, "name is required");
		goto out;
	}
	if (c->p->n_images + c->p->n_charts >= PG_POLICY_RULES_MAX) {
		rc = sc_fail(c, n, "more than %d rules (images and charts together)",
			     PG_POLICY_RULES_MAX);
		goto out;
	}
	if ((rc = sc_rule_name_taken(c, namen, r)) != PG_OK)
		goto out;
	if (r->n_match == 0 && !(is_chart && r->repository)) {
		rc = sc_fail(c, match ? match : n, "match needs at least one pattern");
		goto out;
	}
	if (repo && r->n_chart_names == 0) {
		rc = sc_fail(c, repo, "repository needs chartNames (which charts it publishes)");
		goto out;
	}
	if (names && repo == NULL) {
		rc =
		    sc_fail(c, names, "chartNames needs repository (where the charts are fetched)");
		goto out;
	}
	if (verify && !pg_yn_is_null(verify)) {
		mark = sc_push(c, ".verify");
		if (verify->type != PG_YN_SEQ) {
			rc = sc_fail(c, verify, "expected a list, found %s", sc_type_name(verify));
			goto out;
		}
		if (verify->n && (r->verify = calloc(verify->n, sizeof(*r->verify))) == NULL) {
			rc = sc_oom(c);
			goto out;
		}
		for (j = 0; j < verify->n; j++) {
			size_t m2 = sc_push(c, "[%zu]", j);

			r->n_verify = j + 1;
			if ((rc = sc_verifier(c, &r->verify[j], verify->items[j], is_chart)) !=
			    PG_OK)
				goto out;
			sc_pop(c, m2);
		}
		sc_pop(c, mark);
	}
	if (r->n_verify && r->allow_unsigned) {
		rc = sc_fail(c, allow, "a rule has either verify or allowUnsigned: true, not both");
		goto out;
	}
	if (r->n_verify == 0 && !r->allow_unsigned) {
		rc = sc_fail(c, verify ? verify : n,
			     "rule \"%s\" needs verify entries (or allowUnsigned: true)", r->name);
		goto out;
	}
	if (require) {
		mark = sc_push(c, ".require");
		if ((rc = sc_require(c, r, require)) != PG_OK)
			goto out;
		if (r->require == PG_REQUIRE_ATLEAST && r->at_least > r->n_verify) {
			rc = sc_fail(c, require, "atLeast %u but only %zu verify entries",
				     r->at_least, r->n_verify);
			goto out;
		}
		sc_pop(c, mark);
	}
	list = is_chart ? &c->p->charts : &c->p->images;
	count = is_chart ? &c->p->n_charts : &c->p->n_images;
	if ((nl = realloc(*list, (*count + 1) * sizeof(*nl))) == NULL) {
		rc = sc_oom(c);
		goto out;
	}
	*list = nl;
	nl[(*count)++] = r;
	sc_rule_name_add(c->p, r);
	r = NULL;
	rc = PG_OK;
out:
	pg_policy_rule_free(r);
	return rc;
}

static int
sc_rules(sc_ctx *c, const pg_yn *n, bool is_chart)
{
	int rc;
	size_t i, mark;

	if (pg_yn_is_null(n))
		return PG_OK;
	if (n->type != PG_YN_SEQ)
		return sc_fail(c, n, "expected a list of rules, found %s", sc_type_name(n));
	for (i = 0; i < n->n; i++) {
		mark = sc_push(c, "[%zu]", i);
		if ((rc = sc_rule(c, n->items[i], is_chart)) != PG_OK)
			return rc;
		sc_pop(c, mark);
	}
	return PG_OK;
}

/* ---- registries ---- */

void
pg_policy_registry_free(pg_registry_cfg *g)
{
	if (g == NULL)
		return;
	free(g->host);
	free(g->ca_file);
	free(g->docker_config);
	free(g);
}

static int
sc_path_field(char **out, sc_ctx *c, const pg_yn *n)
{
	char *s = NULL;
	int rc = sc_str(&s, c, n);

	if (rc != PG_OK)
		return rc;
	*out = sc_resolve_path(c, s);
	free(s);
	return *out ? PG_OK : sc_oom(c);
}

static int
sc_registry(sc_ctx *c, const pg_yn *n)
{
	int rc = PG_EINVAL;
	pg_registry_cfg *g = NULL, **ng;
	size_t i, mark;
	const pg_yn *hostn = NULL;

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return sc_oom(c);
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *v = n->items[i + 1];

		mark = sc_push(c, ".%s", k->value);
		if (strcmp(k->value, "host") == 0) {
			hostn = v;
			if ((rc = sc_str(&g->host, c, v)) == PG_OK &&
			    (strchr(g->host, '/') || strchr(g->host, '*') || strchr(g->host, '@') ||
			     strlen(g->host) > 261))
				rc = sc_fail(c, v,
					     "expected a host or host:port (no scheme, path or "
					     "wildcard)");
		} else if (strcmp(k->value, "caFile") == 0) {
			rc = sc_path_field(&g->ca_file, c, v);
		} else if (strcmp(k->value, "dockerConfig") == 0) {
			rc = sc_path_field(&g->docker_config, c, v);
		} else if (strcmp(k->value, "plainHTTP") == 0) {
			rc = sc_bool(&g->plain_http, c, v);
		} else {
			sc_pop(c, mark);
			rc = sc_unknown(c, k, "host, caFile, dockerConfig, plainHTTP");
		}
		if (rc != PG_OK)
			goto out;
		sc_pop(c, mark);
	}
	if (hostn == NULL) {
		rc = sc_fail(c, n, "host is required");
		goto out;
	}
	for (i = 0; i < c->p->n_registries; i++) {
		if (strcasecmp(c->p->registries[i]->host, g->host) == 0) {
			rc = sc_fail(c, hostn, "registry \"%s\" is listed twice", g->host);
			goto out;
		}
	}
	if ((ng = realloc(c->p->registries, (c->p->n_registries + 1) * sizeof(*ng))) == NULL) {
		rc = sc_oom(c);
		goto out;
	}
	c->p->registries = ng;
	ng[c->p->n_registries++] = g;
	g = NULL;
	rc = PG_OK;
out:
	pg_policy_registry_free(g);
	return rc;
}

/* ---- spec and document ---- */

static int
sc_mode(sc_ctx *c, const pg_yn *n)
{
	pg_mode m;

	if (n->type == PG_YN_SCALAR && strcmp(n->value, "enforce") == 0)
		m = PG_MODE_ENFORCE;
	else if (n->type == PG_YN_SCALAR && strcmp(n->value, "audit") == 0)
		m = PG_MODE_AUDIT;
	else
		return sc_fail(c, n, "expected enforce or audit");
	if (c->p->mode_set && c->p->mode != m)
		return sc_fail(c, n, "mode %s conflicts with mode %s set at %s:%zu",
			       m == PG_MODE_AUDIT ? "audit" : "enforce",
			       c->p->mode == PG_MODE_AUDIT ? "audit" : "enforce", c->p->mode_file,
			       c->p->mode_line);
	if (!c->p->mode_set) {
		c->p->mode = m;
		c->p->mode_set = true;
		c->p->mode_file = c->file;
		c->p->mode_line = n->line;
	}
	return PG_OK;
}

static int
sc_exempt(sc_ctx *c, const pg_yn *n)
{
	int rc;
	char **list = NULL;
	size_t nl = 0, i, j;
	char **grown;

	if ((rc = sc_str_list(&list, &nl, c, n)) != PG_OK)
		goto out;
	if (nl && (grown = realloc(c->p->exempt, (c->p->n_exempt + nl) * sizeof(*grown))) == NULL) {
		rc = sc_oom(c);
		goto out;
	} else if (nl) {
		c->p->exempt = grown;
	}
	for (i = 0; i < nl; i++) {
		for (j = 0; j < c->p->n_exempt; j++)
			if (strcmp(c->p->exempt[j], list[i]) == 0)
				break;
		if (j < c->p->n_exempt)
			continue;
		c->p->exempt[c->p->n_exempt++] = list[i];
		list[i] = NULL;
	}
out:
	for (i = 0; i < nl; i++)
		free(list[i]);
	free(list);
	return rc;
}

static int
sc_spec(sc_ctx *c, const pg_yn *n)
{
	int rc = PG_OK;
	size_t i, j, mark;
	/* trust first, so a key that is missing is reported before the rules
	 * that use it; then rules in the order written */
	static const char *order[] = {"mode",	"exemptNamespaces", "trust",
				      "images", "charts",	    "registries"};

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	for (i = 0; i < n->n; i += 2) {
		for (j = 0; j < sizeof(order) / sizeof(order[0]); j++)
			if (strcmp(n->items[i]->value, order[j]) == 0)
				break;
		if (j == sizeof(order) / sizeof(order[0]))
			return sc_unknown(
			    c, n->items[i],
			    "mode, exemptNamespaces, trust, images, charts, registries");
	}
	for (j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
		for (i = 0; i < n->n; i += 2) {
			const pg_yn *v = n->items[i + 1];

			if (strcmp(n->items[i]->value, order[j]) != 0)
				continue;
			mark = sc_push(c, ".%s", order[j]);
			if (j == 0)
				rc = sc_mode(c, v);
			else if (j == 1)
				rc = sc_exempt(c, v);
			else if (j == 2)
				rc = sc_trust(c, v);
			else if (j == 3 || j == 4)
				rc = sc_rules(c, v, j == 4);
			else if (pg_yn_is_null(v))
				rc = PG_OK;
			else if (v->type != PG_YN_SEQ)
				rc = sc_fail(c, v, "expected a list, found %s", sc_type_name(v));
			else {
				size_t k;

				for (k = 0; k < v->n && rc == PG_OK; k++) {
					size_t m2 = sc_push(c, "[%zu]", k);

					rc = sc_registry(c, v->items[k]);
					if (rc == PG_OK)
						sc_pop(c, m2);
				}
			}
			if (rc != PG_OK)
				return rc;
			sc_pop(c, mark);
		}
	}
	return PG_OK;
}

static const pg_yn *
sc_get(const pg_yn *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i += 2)
		if (strcmp(map->items[i]->value, key) == 0)
			return map->items[i + 1];
	return NULL;
}

static int
sc_metadata(sc_ctx *c, const pg_yn *n)
{
	int rc;
	size_t i, j;
	char *name = NULL;

	if ((rc = sc_expect_map(c, n)) != PG_OK)
		return rc;
	for (i = 0; i < n->n; i += 2) {
		const pg_yn *k = n->items[i], *v = n->items[i + 1];

		if (strcmp(k->value, "name") == 0) {
			size_t mark = sc_push(c, ".name");

			rc = sc_name(&name, c, v);
			free(name);
			name = NULL;
			if (rc != PG_OK)
				return rc;
			sc_pop(c, mark);
		} else if (strcmp(k->value, "labels") == 0 ||
			   strcmp(k->value, "annotations") == 0) {
			size_t mark = sc_push(c, ".%s", k->value);

			if (!pg_yn_is_null(v)) {
				if ((rc = sc_expect_map(c, v)) != PG_OK)
					return rc;
				for (j = 1; j < v->n; j += 2)
					if (v->items[j]->type != PG_YN_SCALAR)
						return sc_fail(c, v->items[j], "expected a string");
			}
			sc_pop(c, mark);
		} else {
			return sc_unknown(c, k, "name, labels, annotations");
		}
	}
	if (sc_get(n, "name") == NULL)
		return sc_fail(c, n, "name is required");
	return PG_OK;
}

int
pg_policy_add_doc(pg_policy *p, const pg_yn *doc, const char *file, const char *base_dir,
		  pg_err *err)
{
	int rc;
	sc_ctx c;
	const pg_yn *kind, *api, *meta, *spec;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.base_dir = base_dir;
	c.root = p->root;
	c.err = err;
	if ((c.file = pg_policy_intern_file(p, file)) == NULL)
		return sc_oom(&c);
	if (doc->type != PG_YN_MAP)
		return sc_fail(&c, doc,
			       "expected a ProvenancePolicy document (a mapping), found %s",
			       sc_type_name(doc));
	kind = sc_get(doc, "kind");
	if (kind == NULL)
		return sc_fail(&c, doc, "kind is missing (expected kind: " PG_KIND ")");
	if (kind->type != PG_YN_SCALAR || strcmp(kind->value, PG_KIND) != 0)
		return sc_fail(&c, kind,
			       "unknown kind \"%.128s\": a policy directory holds only " PG_KIND
			       " documents",
			       kind->type == PG_YN_SCALAR ? kind->value : sc_type_name(kind));
	api = sc_get(doc, "apiVersion");
	if (api == NULL)
		return sc_fail(&c, doc, "apiVersion is missing (expected " PG_API_VERSION ")");
	if (api->type != PG_YN_SCALAR || strcmp(api->value, PG_API_VERSION) != 0)
		return sc_fail(&c, api,
			       "unsupported apiVersion \"%.128s\" (expected " PG_API_VERSION ")",
			       api->type == PG_YN_SCALAR ? api->value : sc_type_name(api));
	for (i = 0; i < doc->n; i += 2) {
		const char *k = doc->items[i]->value;

		if (strcmp(k, "kind") && strcmp(k, "apiVersion") && strcmp(k, "metadata") &&
		    strcmp(k, "spec"))
			return sc_unknown(&c, doc->items[i], "apiVersion, kind, metadata, spec");
	}
	if ((meta = sc_get(doc, "metadata")) == NULL)
		return sc_fail(&c, doc, "metadata is missing (metadata.name names the policy)");
	(void)sc_push(&c, "metadata");
	if ((rc = sc_metadata(&c, meta)) != PG_OK)
		return rc;
	sc_pop(&c, 0);
	if ((spec = sc_get(doc, "spec")) == NULL)
		return sc_fail(&c, doc, "spec is missing");
	(void)sc_push(&c, "spec");
	if ((rc = sc_spec(&c, spec)) != PG_OK)
		return rc;
	p->n_docs++;
	return PG_OK;
}

/* ---- finishing: references and fingerprints ---- */

static int
sc_fp_put(pg_digest_ctx *md, const char *tag, const char *data, size_t len)
{
	char hdr[96];
	int k;

	if (data == NULL)
		k = snprintf(hdr, sizeof(hdr), "%s=-\n", tag);
	else
		k = snprintf(hdr, sizeof(hdr), "%s=%zu:", tag, len);
	if (k < 0 || (size_t)k >= sizeof(hdr) || pg_digest_update(md, hdr, (size_t)k) != PG_OK)
		return PG_EINTERNAL;
	if (data &&
	    (pg_digest_update(md, data, len) != PG_OK || pg_digest_update(md, "\n", 1) != PG_OK))
		return PG_EINTERNAL;
	return PG_OK;
}

static int
sc_fp_str(pg_digest_ctx *md, const char *tag, const char *s)
{
	return sc_fp_put(md, tag, s, s ? strlen(s) : 0);
}

static int
sc_fp_trust(pg_digest_ctx *md, const char *tag, const pg_trust *t)
{
	const pg_trust_item *it = (const pg_trust_item *)t;
	int rc;

	if (t == NULL)
		return sc_fp_put(md, tag, NULL, 0);
	if ((rc = sc_fp_str(md, tag, t->name)) != PG_OK)
		return rc;
	return sc_fp_put(md, "bytes", it->bytes, it->len);
}

/* A verifier's attestation requirements, in order. */
static int
sc_fp_attest(pg_digest_ctx *md, const pg_verifier *v)
{
	char num[64];
	size_t i, j, k;
	int rc;

	(void)snprintf(num, sizeof(num), "%zu", v->n_attest);
	if ((rc = sc_fp_str(md, "attestations", num)) != PG_OK)
		return rc;
	for (i = 0; i < v->n_attest; i++) {
		const pg_attest_req *a = &v->attest[i];

		(void)snprintf(num, sizeof(num), "%zu", a->nconds);
		if ((rc = sc_fp_str(md, "predicateType", a->predicate_type)) != PG_OK ||
		    (rc = sc_fp_str(md, "conditions", num)) != PG_OK)
			return rc;
		for (j = 0; j < a->nconds; j++) {
			const pg_attest_cond *c = &a->conds[j];

			(void)snprintf(num, sizeof(num), "%d %d %zu", c->claim, (int)c->op,
				       c->nvalues);
			if ((rc = sc_fp_str(md, "cond", num)) != PG_OK ||
			    (rc = sc_fp_str(md, "path", c->path)) != PG_OK ||
			    (rc = sc_fp_str(md, "value", c->value)) != PG_OK)
				return rc;
			for (k = 0; k < c->nvalues; k++)
				if ((rc = sc_fp_str(md, "in", c->values[k])) != PG_OK)
					return rc;
		}
	}
	return PG_OK;
}

/* The canonical form: every field in a fixed order, each length-prefixed,
 * so no two different rules serialise to the same bytes.  It covers every
 * byte of trust material a verdict of the rule can depend on: the named
 * keys, keyrings and roots, and for a cosign verifier without `root:` the
 * policy's default trusted root (dflt_root, may be NULL), which such a
 * verifier checks tlog entries, CAs and TSAs against.  A withdrawn Rekor
 * key or Fulcio CA therefore changes the cache key of every verdict that
 * used it. */
static int
sc_fingerprint(pg_rule *r, const pg_trust *dflt_root)
{
	int rc;
	pg_digest_ctx *md;
	unsigned char h[32];
	char num[64];
	size_t i;

	if ((rc = pg_digest_begin(&md, PG_DIGEST_SHA256)) != PG_OK)
		return rc;
	(void)snprintf(num, sizeof(num), "%s %zu %zu %d %u %d %d %d",
		       r->is_chart ? "chart" : "image", r->n_match, r->n_verify, (int)r->require,
		       r->at_least, (int)r->tlog, (int)r->require_digest, (int)r->allow_unsigned);
	if ((rc = sc_fp_str(md, "provgate-rule-v1", num)) != PG_OK ||
	    (rc = sc_fp_str(md, "name", r->name)) != PG_OK)
		goto out;
	for (i = 0; i < r->n_match; i++)
		if ((rc = sc_fp_str(md, "match", r->match[i])) != PG_OK)
			goto out;
	for (i = 0; i < r->n_verify; i++) {
		const pg_verifier *v = &r->verify[i];

		(void)snprintf(num, sizeof(num), "%d", (int)v->kind);
		if ((rc = sc_fp_str(md, "verify", num)) != PG_OK ||
		    (rc = sc_fp_trust(md, "key", v->key)) != PG_OK ||
		    (rc = sc_fp_trust(md, "keyring", v->keyring)) != PG_OK ||
		    (rc = sc_fp_trust(md, "root", v->root)) != PG_OK ||
		    (rc = sc_fp_str(md, "issuer", v->issuer)) != PG_OK ||
		    (rc = sc_fp_str(md, "issuerRegExp", v->issuer_regexp)) != PG_OK ||
		    (rc = sc_fp_str(md, "subject", v->subject)) != PG_OK ||
		    (rc = sc_fp_str(md, "subjectRegExp", v->subject_regexp)) != PG_OK)
			goto out;
		if (v->root == NULL &&
		    (v->kind == PG_VERIFY_COSIGN_KEY || v->kind == PG_VERIFY_COSIGN_KEYLESS ||
		     v->kind == PG_VERIFY_GITHUB) &&
		    (rc = sc_fp_trust(md, "defaultRoot", dflt_root)) != PG_OK)
			goto out;
		if (v->kind == PG_VERIFY_NOTATION) {
			size_t j;

			if ((rc = sc_fp_str(md, "nvLevel", v->nv_level)) != PG_OK ||
			    (rc = sc_fp_str(md, "nvVerifyTimestamp", v->nv_verify_timestamp)) !=
				PG_OK ||
			    (rc = sc_fp_str(md, "nvRevocation", v->nv_revocation)) != PG_OK ||
			    (rc = sc_fp_str(md, "nvConfig",
					    v->nv_config ? v->nv_config_fp : NULL)) != PG_OK)
				goto out;
			for (j = 0; j < v->n_nv_certs; j++) {
				(void)snprintf(num, sizeof(num), "nvCert%d", v->nv_cert_types[j]);
				if ((rc = sc_fp_trust(md, num, v->nv_certs[j])) != PG_OK)
					goto out;
			}
			for (j = 0; j < v->n_nv_identities; j++)
				if ((rc = sc_fp_str(md, "nvIdentity", v->nv_identities[j])) !=
				    PG_OK)
					goto out;
		}
		if ((rc = sc_fp_attest(md, v)) != PG_OK)
			goto out;
	}
	if ((rc = sc_fp_str(md, "repository", r->repository)) != PG_OK)
		goto out;
	(void)snprintf(num, sizeof(num), "%zu", r->n_chart_names);
	if ((rc = sc_fp_str(md, "chartNames", num)) != PG_OK)
		goto out;
	for (i = 0; i < r->n_chart_names; i++)
		if ((rc = sc_fp_str(md, "chartName", r->chart_names[i])) != PG_OK)
			goto out;
	if (r->allow_version_ranges && (rc = sc_fp_str(md, "allowVersionRanges", "true")) != PG_OK)
		goto out;
	rc = pg_digest_end(md, h);
	md = NULL;
	if (rc == PG_OK)
		pg_hex(r->fingerprint, h, 32);
out:
	pg_digest_abort(md);
	return rc;
}

int
pg_policy_finish(pg_policy *p, const char *name, pg_err *err)
{
	size_t i, j;
	int rc;

	if (p->n_docs == 0)
		return pg_err_set(err, PG_EINVAL, "no ProvenancePolicy found in %s", name);
	for (i = 0; i < p->n_uses; i++) {
		pg_trust_use *u = &p->uses[i];
		const pg_trust *t = NULL;

		for (j = 0; j < p->n_trust[u->cat]; j++)
			if (strcmp(p->trust[u->cat][j]->pub.name, u->name) == 0)
				t = &p->trust[u->cat][j]->pub;
		if (t == NULL)
			return pg_err_set(err, PG_EINVAL,
					  "%s:%zu: %s: %s \"%s\" is not defined in spec.trust.%s",
					  u->file, u->line, u->where,
					  u->cat == PG_TRUST_KEY       ? "key"
					  : u->cat == PG_TRUST_KEYRING ? "keyring"
					  : u->cat == PG_TRUST_CERT    ? "certificate"
								       : "root",
					  u->name, sc_cat_field[u->cat]);
		if (u->cat == PG_TRUST_KEY)
			u->v->key = t;
		else if (u->cat == PG_TRUST_KEYRING)
			u->v->keyring = t;
		else if (u->cat == PG_TRUST_CERT)
			u->v->nv_certs[u->slot] = t;
		else
			u->v->root = t;
	}
	for (i = 0; i < p->n_uses; i++) {
		free(p->uses[i].name);
		free(p->uses[i].where);
	}
	free(p->uses);
	p->uses = NULL;
	p->n_uses = 0;
	free(p->names);
	p->names = NULL;
	p->names_cap = 0;
	for (i = 0; i < p->n_images; i++)
		for (j = 0; j < p->images[i]->n_verify; j++)
			if ((rc = sc_notation_build(&p->images[i]->verify[j], p->images[i]->name, p,
						    err)) != PG_OK)
				return rc;
	for (i = 0; i < p->n_charts; i++)
		for (j = 0; j < p->charts[i]->n_verify; j++)
			if ((rc = sc_notation_build(&p->charts[i]->verify[j], p->charts[i]->name, p,
						    err)) != PG_OK)
				return rc;
	for (i = 0; i < p->n_images; i++)
		if ((rc = sc_fingerprint(p->images[i], pg_policy_default_root(p))) != PG_OK)
			return pg_err_set(err, rc, "cannot compute a rule fingerprint");
	for (i = 0; i < p->n_charts; i++)
		if ((rc = sc_fingerprint(p->charts[i], pg_policy_default_root(p))) != PG_OK)
			return pg_err_set(err, rc, "cannot compute a rule fingerprint");
	return PG_OK;
}
