/*
 * cache — a chained hash table with an intrusive LRU list, and an in-flight
 * table for coalescing, all under one mutex.  Work under the lock is O(key
 * length); waiting happens on a condition variable, never while holding
 * anything else.
 */
#include "cache/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest/digest.h"

#include "buf/buf.h"
#include "clock/clock.h"

/* Longest key accepted: keys are reference + fingerprint, far below. */
#define KEY_MAX 4096

/* Kept small: 100k of these must fit the RSS budget.  The strings follow
 * the struct in one allocation: digest at data, then signer and reason at
 * their offsets. */
#define HAS_DIGEST 1u
#define HAS_SIGNER 2u
#define HAS_REASON 4u
#define STRINGS_MAX 65535 /* offsets are 16-bit */

typedef struct entry {
	struct entry *hnext;	   /* hash chain */
	struct entry *prev, *next; /* LRU: head = most recent */
	int64_t expires;
	uint32_t bytes;
	int16_t code;
	uint8_t ok;
	uint8_t has; /* HAS_* */
	uint16_t signer_off, reason_off;
	unsigned char kd[32]; /* SHA-256 of the key: keys (reference +
				 version + fingerprint) are longer than
				 the verdicts they hold */
	char data[];
} entry;

static const char *
e_digest(const entry *e)
{
	return (e->has & HAS_DIGEST) ? e->data : NULL;
}

static const char *
e_signer(const entry *e)
{
	return (e->has & HAS_SIGNER) ? e->data + e->signer_off : NULL;
}

static const char *
e_reason(const entry *e)
{
	return (e->has & HAS_REASON) ? e->data + e->reason_off : NULL;
}

typedef struct flight {
	struct flight *next;
	uint64_t hash;
	int done; /* owner released */
	int waiters;
	char key[];
} flight;

struct pg_cache {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	entry **tab;
	size_t nbuckets;
	entry *head, *tail;
	flight *flights;
	size_t entries, bytes;
	pg_cache_opts o;
	uint64_t hits, misses, evictions, coalesced;
	int64_t (*now)(void);
};

static void
key_digest(unsigned char kd[32], const char *key)
{
	if (pg_sha256(kd, key, strlen(key)) != PG_OK)
		memset(kd, 0, 32); /* cannot happen with the default provider */
}

static uint64_t
kd_hash(const unsigned char kd[32])
{
	uint64_t h;

	memcpy(&h, kd, sizeof(h));
	return h;
}

int
pg_cache_new(pg_cache **out, const pg_cache_opts *opts)
{
	pg_cache *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (c == NULL)
		return PG_ENOMEM;
	if (opts)
		c->o = *opts;
	if (c->o.max_entries == 0)
		c->o.max_entries = PG_CACHE_DEFAULT_ENTRIES;
	if (c->o.max_bytes == 0)
		c->o.max_bytes = PG_CACHE_DEFAULT_BYTES;
	if (c->o.pos_ttl_ms == 0)
		c->o.pos_ttl_ms = PG_CACHE_DEFAULT_POS_TTL_MS;
	if (c->o.neg_ttl_ms == 0)
		c->o.neg_ttl_ms = PG_CACHE_DEFAULT_NEG_TTL_MS;
	c->nbuckets = 1024;
	while (c->nbuckets < c->o.max_entries && c->nbuckets < ((size_t)1 << 20))
		c->nbuckets *= 2;
	if ((c->tab = calloc(c->nbuckets, sizeof(*c->tab))) == NULL) {
		free(c);
		return PG_ENOMEM;
	}
	c->now = pg_clock_ms;
	pthread_mutex_init(&c->mu, NULL);
	/* Waiters' deadlines are monotonic clock values. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = c;
	return PG_OK;
}

static void
lru_unlink(pg_cache *c, entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_front(pg_cache *c, entry *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static entry **
find_slot(pg_cache *c, const unsigned char kd[32], uint64_t h)
{
	entry **pp = &c->tab[h & (c->nbuckets - 1)];

	(void)h;
	while (*pp && memcmp((*pp)->kd, kd, 32) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
remove_entry(pg_cache *c, entry *e)
{
	entry **pp = find_slot(c, e->kd, kd_hash(e->kd));

	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(c, e);
	c->entries--;
	c->bytes -= e->bytes;
	free(e);
}

void
pg_cache_free(pg_cache *c)
{
	if (c == NULL)
		return;
	pg_cache_clear(c);
	while (c->flights) {
		flight *f = c->flights;

		c->flights = f->next;
		free(f);
	}
	free(c->tab);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

void
pg_cache_clear(pg_cache *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->head)
		remove_entry(c, c->head);
	pthread_mutex_unlock(&c->mu);
}

void
pg_cache_val_clear(pg_cache_val *v)
{
	free(v->digest);
	free(v->signer);
	free(v->reason);
	memset(v, 0, sizeof(*v));
}

/* Under the lock: a live entry or NULL (expired ones are dropped). */
static entry *
lookup(pg_cache *c, const unsigned char kd[32])
{
	uint64_t h = kd_hash(kd);
	entry *e = *find_slot(c, kd, h);

	if (e == NULL)
		return NULL;
	if (e->expires <= c->now()) {
		remove_entry(c, e);
		return NULL;
	}
	lru_unlink(c, e);
	lru_front(c, e);
	return e;
}

static int
copy_out(const entry *e, pg_cache_val *out)
{
	memset(out, 0, sizeof(*out));
	out->ok = e->ok;
	out->code = e->code;
	out->digest = pg_strdup(e_digest(e));
	out->signer = pg_strdup(e_signer(e));
	out->reason = pg_strdup(e_reason(e));
	if ((e_digest(e) && !out->digest) || (e_signer(e) && !out->signer) ||
	    (e_reason(e) && !out->reason)) {
		pg_cache_val_clear(out);
		return 0;
	}
	return 1;
}

int
pg_cache_get(pg_cache *c, const char *key, pg_cache_val *out)
{
	unsigned char kd[32];
	entry *e;
	int hit = 0;

	key_digest(kd, key); /* outside the lock */
	pthread_mutex_lock(&c->mu);
	e = lookup(c, kd);
	if (e)
		hit = copy_out(e, out);
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

bool
pg_cache_cacheable(bool ok, int code)
{
	if (ok)
		return true;
	/* Definite negatives only: the evidence was there and was bad, or
	 * was definitely absent, or the policy refused. */
	return code == PG_EVERIFY || code == PG_EPOLICY || code == PG_EINVAL;
}

int
pg_cache_put(pg_cache *c, const char *key, const pg_cache_val *v, int64_t ttl_ms)
{
	size_t kl = strlen(key) + 1, dl, sl, rl, sz;
	unsigned char kd[32];
	uint64_t h;
	int64_t dflt;
	entry *e, **pp;
	char *p;

	if (!pg_cache_cacheable(v->ok, v->code) || kl > KEY_MAX)
		return 0;
	dl = v->digest ? strlen(v->digest) + 1 : 0;
	sl = v->signer ? strlen(v->signer) + 1 : 0;
	rl = v->reason ? strlen(v->reason) + 1 : 0;
	sz = sizeof(*e) + dl + sl + rl;
	if (sz > c->o.max_bytes || dl + sl + rl > STRINGS_MAX || v->code < INT16_MIN ||
	    v->code > INT16_MAX)
		return 0;
	if ((e = malloc(sz)) == NULL)
		return 0;
	memset(e, 0, sizeof(*e));
	key_digest(kd, key);
	h = kd_hash(kd);
	memcpy(e->kd, kd, sizeof(kd));
	p = e->data;
	if (dl) {
		memcpy(p, v->digest, dl);
		e->has |= HAS_DIGEST;
	}
	if (sl) {
		memcpy(p + dl, v->signer, sl);
		e->signer_off = (uint16_t)dl;
		e->has |= HAS_SIGNER;
	}
	if (rl) {
		memcpy(p + dl + sl, v->reason, rl);
		e->reason_off = (uint16_t)(dl + sl);
		e->has |= HAS_REASON;
	}
	e->ok = v->ok;
	e->code = (int16_t)v->code;
	e->bytes = (uint32_t)sz;
	/* A caller's ttl only shortens a verdict's life (a tag's verdict):
	 * a negative never outlives the negative TTL, a positive never the
	 * positive one. */
	dflt = v->ok ? c->o.pos_ttl_ms : c->o.neg_ttl_ms;
	if (ttl_ms <= 0 || ttl_ms > dflt)
		ttl_ms = dflt;
	pthread_mutex_lock(&c->mu);
	e->expires = c->now() + ttl_ms;
	pp = find_slot(c, kd, h);
	if (*pp)
		remove_entry(c, *pp);
	while (c->tail && (c->entries + 1 > c->o.max_entries || c->bytes + sz > c->o.max_bytes)) {
		remove_entry(c, c->tail);
		c->evictions++;
	}
	pp = find_slot(c, kd, h);
	e->hnext = *pp;
	*pp = e;
	lru_front(c, e);
	c->entries++;
	c->bytes += sz;
	pthread_mutex_unlock(&c->mu);
	return 1;
}

static flight *
find_flight(pg_cache *c, const char *key, uint64_t h)
{
	flight *f;

	for (f = c->flights; f; f = f->next)
		if (f->hash == h && !f->done && strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

pg_claim
pg_cache_claim(pg_cache *c, const char *key, int64_t deadline, pg_cache_val *out)
{
	uint64_t h = pg_digest_fnv1a(key);
	unsigned char kd[32];
	pg_claim r;
	entry *e;
	flight *f;
	size_t kl = strlen(key) + 1;

	key_digest(kd, key);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		e = lookup(c, kd);
		if (e && copy_out(e, out)) {
			c->hits++;
			r = PG_CLAIM_HIT;
			break;
		}
		f = find_flight(c, key, h);
		if (f == NULL) {
			f = malloc(sizeof(*f) + kl);
			if (f == NULL) {
				r = PG_CLAIM_OWNER; /* verify alone, uncoalesced */
				c->misses++;
				break;
			}
			f->hash = h;
			f->done = 0;
			f->waiters = 0;
			memcpy(f->key, key, kl);
			f->next = c->flights;
			c->flights = f;
			c->misses++;
			r = PG_CLAIM_OWNER;
			break;
		}
		/* Someone verifies this now: wait for their verdict. */
		f->waiters++;
		c->coalesced++;
		while (!f->done) {
			struct timespec ts;
			int64_t dl = deadline;

			ts.tv_sec = (time_t)(dl / 1000);
			ts.tv_nsec = (long)(dl % 1000) * 1000000L;
			if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT && !f->done)
				break;
		}
		f->waiters--;
		if (!f->done) {
			r = PG_CLAIM_TIMEOUT;
			break;
		}
		if (f->waiters == 0) {
			flight **pp = &c->flights;

			while (*pp != f)
				pp = &(*pp)->next;
			*pp = f->next;
			free(f);
		}
		if (deadline && pg_clock_ms() >= deadline) {
			r = PG_CLAIM_TIMEOUT;
			break;
		}
		/* loop: the owner's verdict is in the cache now, or it was not
		 * cacheable and we may become the next owner */
	}
	pthread_mutex_unlock(&c->mu);
	return r;
}

void
pg_cache_release(pg_cache *c, const char *key)
{
	uint64_t h = pg_digest_fnv1a(key);
	flight **pp, *f;

	pthread_mutex_lock(&c->mu);
	for (pp = &c->flights; (f = *pp) != NULL; pp = &f->next)
		if (f->hash == h && !f->done && strcmp(f->key, key) == 0)
			break;
	if (f) {
		f->done = 1;
		if (f->waiters == 0) {
			*pp = f->next;
			free(f);
		}
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
}

void
pg_cache_stats_get(pg_cache *c, pg_cache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	out->entries = c->entries;
	out->bytes = c->bytes;
	out->hits = c->hits;
	out->misses = c->misses;
	out->evictions = c->evictions;
	out->coalesced = c->coalesced;
	pthread_mutex_unlock(&c->mu);
}

void
pg_cache_set_clock(pg_cache *c, int64_t (*now_ms)(void))
{
	c->now = now_ms ? now_ms : pg_clock_ms;
}
