/*
 * policy — loading a policy directory and owning the result.  This file
 * walks the directory (the ConfigMap mount: key files, "..data" links),
 * reads each file with a bound and hands the text to yaml.c and schema.c.
 * A loaded policy is never changed again; threads share it through
 * pg_policy_ref/unref, and the last unref frees it.  Nothing here fetches
 * anything or touches the network.
 */
#include "policy/policy_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

pg_policy *
pg_policy_new(void)
{
	pg_policy *p = calloc(1, sizeof(*p));

	if (p != NULL)
		atomic_init(&p->refs, 1);
	return p;
}

void
pg_policy_free(pg_policy *p)
{
	size_t i;
	int cat;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_images; i++)
		pg_policy_rule_free(p->images[i]);
	free(p->images);
	for (i = 0; i < p->n_charts; i++)
		pg_policy_rule_free(p->charts[i]);
	free(p->charts);
	for (cat = 0; cat < PG_TRUST_NCAT; cat++) {
		for (i = 0; i < p->n_trust[cat]; i++) {
			pg_policy__trust_free(p->trust[cat][i]);
		}
		free(p->trust[cat]);
	}
	for (i = 0; i < p->n_registries; i++)
		pg_policy_registry_free(p->registries[i]);
	free(p->registries);
	for (i = 0; i < p->n_exempt; i++)
		free(p->exempt[i]);
	free(p->exempt);
	for (i = 0; i < p->n_uses; i++) {
		free(p->uses[i].name);
		free(p->uses[i].where);
	}
	free(p->uses);
	free(p->names);
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

void
pg_policy_ref(pg_policy *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void
pg_policy_unref(pg_policy *p)
{
	if (p == NULL)
		return;
	/* acq_rel: the freeing thread must see every other holder's reads done */
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		pg_policy_free(p);
}

const char *
pg_policy_intern_file(pg_policy *p, const char *file)
{
	char **nf;

	if (p->n_files && strcmp(p->files[p->n_files - 1], file) == 0)
		return p->files[p->n_files - 1];
	if ((nf = realloc(p->files, (p->n_files + 1) * sizeof(*nf))) == NULL)
		return NULL;
	p->files = nf;
	if ((nf[p->n_files] = pg_strdup(file)) == NULL)
		return NULL;
	return nf[p->n_files++];
}

int
pg_policy_read_file(char **out, size_t *len, const char *path, size_t max, pg_err *err)
{
	int rc = PG_EIO, fd;
	struct stat st;
	pg_buf b;
	char chunk[16384];
	ssize_t k;

	pg_buf_init(&b, max);
	/* O_NONBLOCK: a FIFO named in a policy must not hang a reload */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return pg_err_set(err, PG_EIO, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = pg_err_set(err, PG_EIO, "cannot read %s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = pg_err_set(err, PG_ETOOBIG, "%s is larger than %zu bytes", path, max);
		goto out;
	}
	for (;;) {
		k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = pg_err_set(err, PG_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		rc = pg_buf_append(&b, chunk, (size_t)k);
		if (rc == PG_ETOOBIG) {
			rc = pg_err_set(err, rc, "%s is larger than %zu bytes", path, max);
			goto out;
		} else if (rc != PG_OK) {
			rc = pg_err_set(err, rc, "out of memory reading %s", path);
			goto out;
		}
	}
	if ((rc = pg_buf_detach(out, len, &b)) != PG_OK)
		rc = pg_err_set(err, rc, "out of memory reading %s", path);
out:
	(void)close(fd);
	pg_buf_free(&b);
	return rc;
}

int
pg_policy_add_text(pg_policy *p, const char *file, const char *base_dir, const char *text,
		   size_t len, pg_err *err)
{
	int rc;
	pg_yn **docs = NULL;
	size_t n = 0, i;

	if (len > PG_POLICY_FILE_MAX)
		return pg_err_set(err, PG_ETOOBIG, "%s is larger than %zu bytes", file,
				  PG_POLICY_FILE_MAX);
	if ((rc = pg_yn_parse(&docs, &n, file, text, len, err)) != PG_OK)
		return rc;
	for (i = 0; i < n; i++) {
		/* "---" with nothing after it, or a file of comments */
		if (pg_yn_is_null(docs[i]))
			continue;
		if ((rc = pg_policy_add_doc(p, docs[i], file, base_dir, err)) != PG_OK)
			break;
	}
	pg_yn_free_docs(docs, n);
	return rc;
}

static int
pl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Which directory entries are policy files: not hidden (that also skips
 * the ConfigMap mount's "..data" and "..2024_..." entries) and named like
 * YAML, so a README or a trust/ directory beside the policies is ignored. */
static bool
pl_wanted(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	return (n > 5 && strcasecmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcasecmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcasecmp(name + n - 5, ".json") == 0);
}

int
pg_policy_load_dir(pg_policy **out, const char *dir, pg_err *err)
{
	int rc = PG_ENOMEM;
	pg_policy *p = NULL;
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, **nn, *text = NULL, *base = NULL, *path = NULL;
	size_t n = 0, i, len, dl;
	struct stat st;
	pg_buf b;

	pg_buf_init(&b, 2 * PG_POLICY_STR_MAX);
	dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if ((base = pg_strndup(dir, dl)) == NULL || (p = pg_policy_new()) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((d = opendir(base)) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read policy directory %s: %s", base,
				strerror(errno));
		goto out;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!pl_wanted(de->d_name))
			continue;
		if (n == PG_POLICY_FILES_MAX) {
			rc = pg_err_set(err, PG_ETOOBIG, "%s: more than %d policy files", base,
					PG_POLICY_FILES_MAX);
			goto out;
		}
		if ((nn = realloc(names, (n + 1) * sizeof(*nn))) == NULL ||
		    (nn[n] = pg_strdup(de->d_name)) == NULL) {
			if (nn)
				names = nn;
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		names = nn;
		n++;
	}
	if (errno != 0) {
		rc = pg_err_set(err, PG_EIO, "cannot read policy directory %s: %s", base,
				strerror(errno));
		goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), pl_cmp);
	for (i = 0; i < n; i++) {
		pg_buf_reset(&b);
		if (pg_buf_printf(&b, "%s%s%s", base, strcmp(base, "/") ? "/" : "", names[i]) !=
		    PG_OK) {
			rc = pg_err_set(err, PG_ETOOBIG, "%s: file name too long", base);
			goto out;
		}
		path = (char *)b.data;
		if (stat(path, &st) != 0) {
			rc = pg_err_set(err, PG_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue; /* a directory named x.yaml, a socket... */
		rc = pg_policy_read_file(&text, &len, path, PG_POLICY_FILE_MAX, err);
		if (rc != PG_OK)
			goto out;
		rc = pg_policy_add_text(p, path, base, text, len, err);
		free(text);
		text = NULL;
		if (rc != PG_OK)
			goto out;
	}
	if ((rc = pg_policy_finish(p, base, err)) != PG_OK)
		goto out;
	*out = p;
	p = NULL;
	rc = PG_OK;
out:
	if (d)
		(void)closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(text);
	free(base);
	pg_buf_free(&b);
	pg_policy_free(p);
	return rc;
}

int
pg_policy_load_buffer(pg_policy **out, const char *name, const char *yaml, size_t len, pg_err *err)
{
	int rc;
	pg_policy *p = pg_policy_new();

	if (p == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	if ((rc = pg_policy_add_text(p, name, NULL, yaml, len, err)) == PG_OK &&
	    (rc = pg_policy_finish(p, name, err)) == PG_OK) {
		*out = p;
		p = NULL;
	}
	pg_policy_free(p);
	return rc;
}

int
pg_policy_load_texts(pg_policy **out, const char *const *names, const char *const *texts,
		     const size_t *lens, size_t n, const char *base_dir, const char *root,
		     const char *what, pg_err *err)
{
	int rc = PG_OK;
	size_t i;
	pg_policy *p = pg_policy_new();

	if (p == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	p->root = root;
	for (i = 0; rc == PG_OK && i < n; i++)
		rc = pg_policy_add_text(p, names[i], base_dir, texts[i], lens[i], err);
	if (rc == PG_OK && (rc = pg_policy_finish(p, what, err)) == PG_OK) {
		p->root = NULL;
		*out = p;
		p = NULL;
	}
	pg_policy_free(p);
	return rc;
}

pg_mode
pg_policy_mode(const pg_policy *p)
{
	return p->mode;
}

bool
pg_policy_exempt_namespace(const pg_policy *p, const char *ns)
{
	size_t i;

	if (ns == NULL)
		return false;
	for (i = 0; i < p->n_exempt; i++)
		if (strcmp(p->exempt[i], ns) == 0)
			return true;
	return false;
}

const pg_registry_cfg *
pg_policy_registry(const pg_policy *p, const char *host)
{
	size_t i;

	if (host == NULL)
		return NULL;
	for (i = 0; i < p->n_registries; i++)
		if (strcasecmp(p->registries[i]->host, host) == 0)
			return p->registries[i];
	return NULL;
}

const char *
pg_policy_trust_bytes(const pg_policy *p, const pg_trust *t, size_t *len)
{
	const pg_trust_item *it = (const pg_trust_item *)t;

	(void)p;
	if (t == NULL) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = it->len;
	return it->bytes;
}

size_t
pg_policy_n_trust(const pg_policy *p)
{
	size_t c, n = 0;

	for (c = 0; c < PG_TRUST_NCAT; c++)
		n += p->n_trust[c];
	return n;
}

const pg_trust *
pg_policy_trust_at(const pg_policy *p, size_t i, const char **cat, const char **file, size_t *line)
{
	static const char *const names[PG_TRUST_NCAT] = {"keys", "keyrings", "roots", "certs"};
	size_t c;

	for (c = 0; c < PG_TRUST_NCAT; c++) {
		if (i < p->n_trust[c]) {
			const pg_trust_item *t = p->trust[c][i];

			*cat = names[c];
			*file = t->file;
			*line = t->line;
			return &t->pub;
		}
		i -= p->n_trust[c];
	}
	return NULL;
}

const pg_rule *
pg_policy_rule_at(const pg_policy *p, bool chart, size_t i)
{
	if (chart)
		return i < p->n_charts ? p->charts[i] : NULL;
	return i < p->n_images ? p->images[i] : NULL;
}

size_t
pg_policy_n_images(const pg_policy *p)
{
	return p->n_images;
}

size_t
pg_policy_n_charts(const pg_policy *p)
{
	return p->n_charts;
}

size_t
pg_policy_n_docs(const pg_policy *p)
{
	return p->n_docs;
}
