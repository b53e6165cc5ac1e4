/*
 * digest — SHA-2 over bytes, through implementations fetched once.
 *
 * EVP_sha256() and friends are only names: each use makes OpenSSL look the
 * implementation up again under a lock, which showed up as ~7% of a bundle
 * verification.  A fetched EVP_MD is immutable, so one per algorithm is
 * shared by every thread and never freed (it lives as long as the process,
 * like OpenSSL's own tables).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf/buf.h"
#include "digest/digest.h"

struct pg_digest_ctx {
	EVP_MD_CTX *md;
	pg_digest_alg alg;
};

static const struct {
	const char *fetch, *name;
	size_t size;
} algs[] = {
    [PG_DIGEST_SHA256] = {"SHA2-256", "sha256", 32},
    [PG_DIGEST_SHA384] = {"SHA2-384", "sha384", 48},
    [PG_DIGEST_SHA512] = {"SHA2-512", "sha512", 64},
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static const EVP_MD *md_cached[NALGS];

static void
md_fetch_all(void)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		md_cached[i] = EVP_MD_fetch(NULL, algs[i].fetch, NULL);
}

size_t
pg_digest_size(pg_digest_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].size : 0;
}

const char *
pg_digest_name(pg_digest_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].name : "";
}

const EVP_MD *
pg_digest_md(pg_digest_alg alg)
{
	static const EVP_MD *(*const fallback[NALGS])(void) = {EVP_sha256, EVP_sha384, EVP_sha512};

	if ((size_t)alg >= NALGS)
		alg = PG_DIGEST_SHA256;
	if (pthread_once(&md_once, md_fetch_all) != 0 || md_cached[alg] == NULL)
		return fallback[alg]();
	return md_cached[alg];
}

int
pg_digest_evp(unsigned char *out, const EVP_MD *md, const void *p, size_t n)
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, md, NULL) == 1 ? PG_OK : PG_EINTERNAL;
}

int
pg_digest(unsigned char *out, pg_digest_alg alg, const void *p, size_t n)
{
	return pg_digest_evp(out, pg_digest_md(alg), p, n);
}

int
pg_sha256(unsigned char out[32], const void *p, size_t n)
{
	return pg_digest(out, PG_DIGEST_SHA256, p, n);
}

int
pg_digest_string(char out[PG_DIGEST_STR_MAX], pg_digest_alg alg, const void *p, size_t n)
{
	unsigned char h[PG_DIGEST_MAX];
	size_t nl;
	int rc;

	out[0] = '\0';
	if ((size_t)alg >= NALGS)
		return PG_EINVAL;
	if ((rc = pg_digest(h, alg, p, n)) != PG_OK)
		return rc;
	nl = strlen(algs[alg].name);
	memcpy(out, algs[alg].name, nl);
	out[nl] = ':';
	pg_hex(out + nl + 1, h, algs[alg].size);
	return PG_OK;
}

int
pg_digest_begin(pg_digest_ctx **out, pg_digest_alg alg)
{
	pg_digest_ctx *c;

	*out = NULL;
	if ((size_t)alg >= NALGS)
		return PG_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->md = EVP_MD_CTX_new()) == NULL) {
		free(c);
		return PG_ENOMEM;
	}
	c->alg = alg;
	if (EVP_DigestInit_ex(c->md, pg_digest_md(alg), NULL) != 1) {
		pg_digest_abort(c);
		return PG_EINTERNAL;
	}
	*out = c;
	return PG_OK;
}

int
pg_digest_update(pg_digest_ctx *c, const void *p, size_t n)
{
	return EVP_DigestUpdate(c->md, p, n) == 1 ? PG_OK : PG_EINTERNAL;
}

int
pg_digest_end(pg_digest_ctx *c, unsigned char *out)
{
	unsigned int len = 0;
	int ok = EVP_DigestFinal_ex(c->md, out, &len) == 1 && len == algs[c->alg].size;

	pg_digest_abort(c);
	return ok ? PG_OK : PG_EINTERNAL;
}

void
pg_digest_abort(pg_digest_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

static bool
lower_hex_n(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return p[n] == '\0';
}

bool
pg_digest_string_valid(const char *d)
{
	if (d == NULL)
		return false;
	if (strncmp(d, "sha256:", 7) == 0)
		return lower_hex_n(d + 7, 2 * algs[PG_DIGEST_SHA256].size);
	if (strncmp(d, "sha512:", 7) == 0)
		return lower_hex_n(d + 7, 2 * algs[PG_DIGEST_SHA512].size);
	return false;
}

uint64_t
pg_digest_fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}
