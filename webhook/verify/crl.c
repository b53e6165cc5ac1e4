/*
 * verify/crl — the network side of Notation revocation: CRLs named by a
 * signing certificate's CRL distribution points, fetched through fetch/
 * and the policy's host guard, and cached until their nextUpdate.
 * notation/ judges the bytes (issuer, signature, times, serial); this file
 * never decides anything about a certificate.
 *
 * Fetching follows the rules of registry and redirect fetches: a host the
 * policy names (https; plain http only to a registries[] entry with
 * plainHTTP: true), or any public https host (PG_FETCH_PUBLIC_ALL: every
 * address the name resolves to must be public; counted in
 * provgate_public_hops_total as "crl distribution point").  A CRL is at
 * most PG_CRL_MAX bytes and one fetch takes at most PG_CRL_TIMEOUT_MS,
 * inside the review's deadline.
 *
 * The cache is process-wide (one mutex, shared by the worker threads):
 * at most PG_CRL_CACHE_N CRLs and PG_CRL_CACHE_BYTES bytes, keyed by URL,
 * least recently used evicted first.  Only bytes that parse as a CRL with a
 * nextUpdate in the future are kept, until that nextUpdate; failures are
 * not cached (the next review asks again).  A cached CRL that is not the
 * issuer's fails notation/'s checks exactly as a fresh one would.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "notation/notation.h"
#include "verify/verify_int.h"

/* CRLs of code-signing CAs are KiB to a few MiB (a large public CA's can
 * reach a few MiB); anything larger is refused rather than buffered. */
#define PG_CRL_MAX ((size_t)4 << 20)
/* One distribution point may use this much of the review's time. */
#define PG_CRL_TIMEOUT_MS 5000
/* Cache bounds: a policy names few CAs; a hostile chain names at most
 * PG_NOTATION_CDP_TRIES URLs per certificate, and LRU keeps the rest. */
#define PG_CRL_CACHE_N 32
#define PG_CRL_CACHE_BYTES ((size_t)32 << 20)
#define PG_CRL_URL_MAX 1024

typedef struct crl_entry {
	char *url;
	unsigned char *bytes;
	size_t len;
	int64_t next_update; /* seconds since the epoch */
	uint64_t used;	     /* LRU clock */
} crl_entry;

static pthread_mutex_t crl_lock = PTHREAD_MUTEX_INITIALIZER;
static crl_entry crl_cache[PG_CRL_CACHE_N];
static size_t crl_bytes;
static uint64_t crl_clock;

static void
entry_drop(crl_entry *e)
{
	crl_bytes -= e->len;
	free(e->url);
	free(e->bytes);
	memset(e, 0, sizeof(*e));
}

/* A copy of the cached CRL of url, current at now: PG_OK, else
 * PG_ENOTFOUND (an expired entry is dropped). */
static int
cache_get(unsigned char **out, size_t *len, const char *url, int64_t now)
{
	int rc = PG_ENOTFOUND;
	size_t i;

	pthread_mutex_lock(&crl_lock);
	for (i = 0; i < PG_CRL_CACHE_N; i++) {
		crl_entry *e = &crl_cache[i];

		if (e->url == NULL || strcmp(e->url, url) != 0)
			continue;
		if (now >= e->next_update) {
			entry_drop(e);
			break;
		}
		if ((*out = malloc(e->len)) == NULL) {
			rc = PG_ENOMEM;
			break;
		}
		memcpy(*out, e->bytes, e->len);
		*len = e->len;
		e->used = ++crl_clock;
		rc = PG_OK;
		break;
	}
	pthread_mutex_unlock(&crl_lock);
	return rc;
}

/* Keep a copy of bytes for url until next_update; best effort. */
static void
cache_put(const char *url, const unsigned char *bytes, size_t len, int64_t next_update)
{
	crl_entry *slot = NULL;
	size_t i;

	if (len > PG_CRL_CACHE_BYTES)
		return;
	pthread_mutex_lock(&crl_lock);
	for (i = 0; i < PG_CRL_CACHE_N; i++)
		if (crl_cache[i].url && strcmp(crl_cache[i].url, url) == 0)
			entry_drop(&crl_cache[i]);
	for (;;) {
		crl_entry *lru = NULL;

		slot = NULL;
		for (i = 0; i < PG_CRL_CACHE_N; i++) {
			if (crl_cache[i].url == NULL) {
				slot = slot ? slot : &crl_cache[i];
				continue;
			}
			if (lru == NULL || crl_cache[i].used < lru->used)
				lru = &crl_cache[i];
		}
		if (slot != NULL && crl_bytes + len <= PG_CRL_CACHE_BYTES)
			break;
		if (lru == NULL)
			break;
		entry_drop(lru);
	}
	if (slot == NULL)
		goto out;
	slot->url = pg_strdup(url);
	slot->bytes = malloc(len);
	if (slot->url == NULL || slot->bytes == NULL) {
		free(slot->url);
		free(slot->bytes);
		memset(slot, 0, sizeof(*slot));
		goto out;
	}
	memcpy(slot->bytes, bytes, len);
	slot->len = len;
	slot->next_update = next_update;
	slot->used = ++crl_clock;
	crl_bytes += len;
out:
	pthread_mutex_unlock(&crl_lock);
}

/* The CA bundle for url's host: its registries[] entry's caFile, else the
 * CLI's --ca-file. */
static const char *
ca_for(const pg_verify_crl_ctx *c, const char *url)
{
	const pg_registry_cfg *const *regs;
	const char *h = strstr(url, "://");
	char host[300];
	size_t n, i, hl;

	if (h == NULL)
		return c->ca_file;
	h += 3;
	hl = strcspn(h, "/?#");
	if (hl >= sizeof(host))
		return c->ca_file;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (c->policy == NULL)
		return c->ca_file;
	regs = pg_policy_registries(c->policy, &n);
	for (i = 0; i < n; i++)
		if (regs[i]->ca_file && strcasecmp(regs[i]->host, host) == 0)
			return regs[i]->ca_file;
	return c->ca_file;
}

int
pg_verify__crl_get(unsigned char **out, size_t *len, const char *url, pg_err *err, void *ctx)
{
	const pg_verify_crl_ctx *c = ctx;
	pg_fetch_opts o;
	pg_fetch_resp *r = NULL;
	int64_t now = (int64_t)time(NULL), next, deadline;
	int rc;

	*out = NULL;
	*len = 0;
	if (strlen(url) >= PG_CRL_URL_MAX)
		return pg_err_set(err, PG_EINVAL, "distribution point URL is too long");
	if ((rc = cache_get(out, len, url, now)) != PG_ENOTFOUND)
		return rc == PG_OK ? PG_OK : pg_err_set(err, rc, "out of memory");
	deadline = pg_clock_ms() + PG_CRL_TIMEOUT_MS;
	if (c->deadline > 0 && c->deadline < deadline)
		deadline = c->deadline;
	memset(&o, 0, sizeof(o));
	o.max_bytes = PG_CRL_MAX;
	o.deadline = deadline;
	o.ca_file = ca_for(c, url);
	o.plain_http = strncmp(url, "http://", 7) == 0; /* the guard still decides */
	o.guard = c->guard;
	o.guard_ctx = c->guard_ctx;
	o.public_hops = PG_FETCH_PUBLIC_ALL;
	o.public_why = "crl distribution point";
	if ((rc = pg_fetch_do(&r, c->fetch, url, &o, err)) != PG_OK)
		return rc;
	if (r->status != 200) {
		rc = pg_err_set(err, PG_EFETCH, "HTTP status %ld", r->status);
		goto out;
	}
	if (pg_notation_crl_next_update(&next, (const unsigned char *)r->body, r->len) != PG_OK) {
		rc = pg_err_set(err, PG_EINVAL, "the response is not a CRL with a nextUpdate");
		goto out;
	}
	if (next > now)
		cache_put(url, (const unsigned char *)r->body, r->len, next);
	*out = (unsigned char *)r->body;
	*len = r->len;
	r->body = NULL;
	rc = PG_OK;
out:
	pg_fetch_resp_free(r);
	return rc;
}

void
pg_verify__crl_cache_clear(void)
{
	size_t i;

	pthread_mutex_lock(&crl_lock);
	for (i = 0; i < PG_CRL_CACHE_N; i++)
		if (crl_cache[i].url)
			entry_drop(&crl_cache[i]);
	pthread_mutex_unlock(&crl_lock);
}
