/*
 * oci/client — the registry client proper: per-host settings, the auth
 * dance (401 -> WWW-Authenticate -> Bearer token or Basic credentials ->
 * retry), the token cache, 429 back-off, the per-host concurrency cap, and
 * the manifest / blob / referrers calls built on them.
 *
 * It never speaks to the network but through pg_fetch, never sends a
 * request the caller's guard has not approved (pg_fetch asks it for every
 * URL, token realms included), and never waits past the caller's deadline:
 * Retry-After and the concurrency cap both give up when the deadline would
 * pass.  Shared state (tokens, slots) sits behind one mutex; nothing is held
 * locked across a network call.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "digest/digest.h"
#include "obs/obs.h"
#include "oci/oci_int.h"

/* Cached tokens / hosts with a concurrency slot: a webhook talks to a few
 * registries; beyond this the oldest token is evicted (and fetched again). */
#define TOKENS_MAX 256
#define SLOTS_MAX 64
/* Token lifetime when the server does not say (distribution's token spec),
 * and the longest we believe a server that does. */
#define TOKEN_DEFAULT_S 60
#define TOKEN_MAX_S 3600
/* A bearer token longer than this is not one. */
#define TOKEN_LEN_MAX 16384
/* How long a "this host wants Basic" note is kept. */
#define BASIC_NOTE_S 600
/* 429 answers we wait out per call, and the wait when Retry-After is junk. */
#define RATE_RETRIES 3
#define RATE_DEFAULT_S 1
/* Referrers pages followed (Link rel="next") for one listing. */
#define REFERRERS_PAGES_MAX 16
/* Host names (with port), as DNS bounds them.  Repository names and tags
 * take distribution's bounds from ref/ (PG_REF_NAME_MAX, PG_REF_TAG_MAX). */
#define HOST_MAX 255

typedef struct host_conf {
	char *host;
	char *ca_file;
	char *docker_config;
	bool plain_http;
} host_conf;

typedef struct tok_entry {
	char *host;
	char *scope; /* "" for a Basic note */
	char *cred;  /* digest of the credentials used, "" for none */
	char *realm; /* realm and service that issued the token */
	char *token; /* NULL for a Basic note or while pending */
	int scheme;
	bool pending;	 /* a thread is fetching this token */
	int64_t expires; /* pg_clock_ms() */
} tok_entry;

typedef struct slot {
	char host[HOST_MAX + 1];
	int active;
} slot;

struct pg_oci {
	host_conf *hosts;
	size_t n_hosts;
	host_conf dflt;
	int per_host;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC: a slot was released */
	slot slots[SLOTS_MAX];
};

/* Hosts that answered 404 to a referrers listing: no referrers API, straight
 * to the tag schema for the rest of the process (one 404 per host per
 * process, not one per image).  Process-wide, not per pg_oci: each worker
 * (and each policy generation) has its own client, and what a registry
 * serves is a fact about the registry.  Full: not noted. */
static char g_noref[SLOTS_MAX][HOST_MAX + 1];

/* Shared registry requests in flight at once (coalesced requests below). */
#define FLIGHTS_MAX 64

typedef struct flight {
	char *key; /* NULL: a free entry */
	bool done; /* rc, err and resp are set and read-only */
	int waiters;
	int rc;
	pg_err err;
	pg_fetch_resp *resp; /* copy for the waiters */
} flight;

static flight g_fl[FLIGHTS_MAX];
static pthread_mutex_t g_fl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_fl_cv; /* CLOCK_MONOTONIC (shared_init): a flight ended */
static pthread_mutex_t g_noref_mu = PTHREAD_MUTEX_INITIALIZER;

static void
host_conf_clear(host_conf *h)
{
	free(h->host);
	free(h->ca_file);
	free(h->docker_config);
	memset(h, 0, sizeof(*h));
}

static int
host_conf_set(host_conf *h, const char *host, const char *ca, const char *dc, bool plain)
{
	memset(h, 0, sizeof(*h));
	h->plain_http = plain;
	if ((host && (h->host = pg_strdup(host)) == NULL) ||
	    (ca && (h->ca_file = pg_strdup(ca)) == NULL) ||
	    (dc && (h->docker_config = pg_strdup(dc)) == NULL)) {
		host_conf_clear(h);
		return PG_ENOMEM;
	}
	return PG_OK;
}

int
pg_oci_new(pg_oci **out, const pg_oci_opts *o, pg_err *err)
{
	int rc = PG_ENOMEM;
	pg_oci *c = NULL;
	pthread_condattr_t ca;
	size_t i;
	pg_oci_opts none = {0};

	*out = NULL;
	if (o == NULL)
		o = &none;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	c->per_host = o->max_per_host > 0 ? o->max_per_host : PG_OCI_DEFAULT_PER_HOST;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return pg_err_set(err, PG_EINTERNAL, "cannot create a mutex");
	}
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&c->cv, &ca) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return pg_err_set(err, PG_EINTERNAL, "cannot create a condition variable");
	}
	(void)pthread_condattr_destroy(&ca);
	if (host_conf_set(&c->dflt, NULL, o->ca_file, o->docker_config, false) != PG_OK)
		goto fail;
	if (o->n_hosts > 0 && (c->hosts = calloc(o->n_hosts, sizeof(*c->hosts))) == NULL)
		goto fail;
	for (i = 0; i < o->n_hosts; i++) {
		const pg_oci_host *h = &o->hosts[i];

		if (h->host == NULL || strlen(h->host) > HOST_MAX) {
			rc = pg_err_set(err, PG_EINVAL, "registry setting without a valid host");
			goto fail_msg;
		}
		if (host_conf_set(&c->hosts[i], h->host, h->ca_file, h->docker_config,
				  h->plain_http) != PG_OK)
			goto fail;
		c->n_hosts = i + 1;
	}
	*out = c;
	return PG_OK;
fail:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
fail_msg:
	pg_oci_free(c);
	return rc;
}

static void
tok_clear(tok_entry *t)
{
	free(t->host);
	free(t->scope);
	free(t->cred);
	free(t->realm);
	if (t->token) {
		pg_wipe(t->token, strlen(t->token));
		free(t->token);
	}
	memset(t, 0, sizeof(*t));
}

void
pg_oci_free(pg_oci *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_hosts; i++)
		host_conf_clear(&c->hosts[i]);
	free(c->hosts);
	host_conf_clear(&c->dflt);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static const host_conf *
conf_for(const pg_oci *c, const char *host)
{
	size_t i;

	for (i = 0; i < c->n_hosts; i++)
		if (strcasecmp(c->hosts[i].host, host) == 0)
			return &c->hosts[i];
	return &c->dflt;
}

/* ---- token cache (process-wide) ---- */

/*
 * Tokens live for the process, not for one client: each worker thread
 * (and each policy generation) has its own pg_oci, and a token a registry
 * issued for a scope serves every thread until it expires.  An entry is
 * keyed by host, scope and the credentials it was obtained with (their
 * digest, "" when anonymous), and remembers the realm that issued it: a
 * token is never presented for other credentials, and a challenge naming
 * another realm gets a token of its own.  A 401 drops the token that was
 * sent (not one another thread has fetched since).  Fetching a token is a
 * single flight per key: the first thread to need one asks the realm, the
 * others wait for it (each within its own deadline) and retry by
 * themselves when it failed.
 */
static tok_entry g_toks[TOKENS_MAX];
static pthread_mutex_t g_tok_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_tok_cv; /* CLOCK_MONOTONIC: a token fetch ended */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void
shared_init(void)
{
	pthread_condattr_t ca;

	/* Without a monotonic clock the waits below still end (timedwait
	 * on the default clock with a monotonic deadline ends early). */
	if (pthread_condattr_init(&ca) == 0) {
		(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		(void)pthread_cond_init(&g_tok_cv, &ca);
		(void)pthread_cond_init(&g_fl_cv, &ca);
		(void)pthread_condattr_destroy(&ca);
	}
}

/* CLOCK_MONOTONIC time of the absolute pg_clock_ms() deadline. */
static void
deadline_ts(struct timespec *ts, int64_t deadline)
{
	int64_t left = pg_clock_left_ms(deadline);

	if (left < 0)
		left = 0;
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(left / 1000);
	ts->tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool
tok_key_eq(const tok_entry *t, const char *host, const char *scope, const char *cred, int scheme)
{
	return t->host && t->scheme == scheme && strcasecmp(t->host, host) == 0 &&
	       strcmp(t->cred, cred) == 0 && strcmp(t->scope, scope) == 0;
}

/* What to send to host for scope with credentials cred (their digest, ""
 * for none): PG_OCI__AUTH_BEARER with *token (malloc'd), PG_OCI__AUTH_BASIC, or
 * PG_OCI__AUTH_NONE. */
static int
cache_get(const char *host, const char *scope, const char *cred, char **token)
{
	int scheme = PG_OCI__AUTH_NONE;
	int64_t now = pg_clock_ms();
	size_t i;

	*token = NULL;
	pthread_mutex_lock(&g_tok_mu);
	for (i = 0; i < TOKENS_MAX; i++) {
		tok_entry *t = &g_toks[i];

		if (t->host == NULL || t->pending || t->expires <= now)
			continue;
		if (tok_key_eq(t, host, scope, cred, PG_OCI__AUTH_BEARER)) {
			*token = pg_strdup(t->token);
			scheme = *token ? PG_OCI__AUTH_BEARER : PG_OCI__AUTH_NONE;
			break;
		}
		if (tok_key_eq(t, host, "", cred, PG_OCI__AUTH_BASIC))
			scheme = PG_OCI__AUTH_BASIC;
	}
	pthread_mutex_unlock(&g_tok_mu);
	return scheme;
}

/* The server refused what we sent to host for scope: the token sent
 * (NULL: none was), and the host's Basic note for these credentials. */
static void
cache_drop(const char *host, const char *scope, const char *cred, const char *sent)
{
	size_t i;

	pthread_mutex_lock(&g_tok_mu);
	for (i = 0; i < TOKENS_MAX; i++) {
		tok_entry *t = &g_toks[i];

		if (t->host == NULL || t->pending)
			continue;
		if (tok_key_eq(t, host, "", cred, PG_OCI__AUTH_BASIC) ||
		    (sent && tok_key_eq(t, host, scope, cred, PG_OCI__AUTH_BEARER) &&
		     strcmp(t->token, sent) == 0))
			tok_clear(t);
	}
	pthread_mutex_unlock(&g_tok_mu);
}

/* The entry to (re)use for a key, locked: the key's own, else an empty or
 * expired one, else the one that expires first.  Pending entries (a fetch
 * in flight) are never taken: NULL when every entry is one. */
static tok_entry *
tok_slot_locked(const char *host, const char *scope, const char *cred, int scheme)
{
	int64_t now = pg_clock_ms();
	tok_entry *victim = NULL;
	size_t i;

	for (i = 0; i < TOKENS_MAX; i++)
		if (tok_key_eq(&g_toks[i], host, scope, cred, scheme))
			return g_toks[i].pending ? NULL : &g_toks[i];
	for (i = 0; i < TOKENS_MAX; i++)
		if (g_toks[i].host == NULL || (!g_toks[i].pending && g_toks[i].expires <= now))
			return &g_toks[i];
	for (i = 0; i < TOKENS_MAX; i++)
		if (!g_toks[i].pending && (victim == NULL || g_toks[i].expires < victim->expires))
			victim = &g_toks[i];
	return victim;
}

static int
tok_fill(tok_entry *t, const char *host, const char *scope, const char *cred, const char *realm,
	 int scheme)
{
	tok_clear(t);
	t->host = pg_strdup(host);
	t->scope = pg_strdup(scope);
	t->cred = pg_strdup(cred);
	t->realm = pg_strdup(realm ? realm : "");
	t->scheme = scheme;
	if (t->host == NULL || t->scope == NULL || t->cred == NULL || t->realm == NULL) {
		tok_clear(t);
		return PG_ENOMEM;
	}
	return PG_OK;
}

/* Remember token (NULL: a Basic note) for (host, scope, cred), issued by
 * realm, for ttl_s seconds.  Takes ownership of token.  Out of memory only
 * loses the cache entry. */
static void
cache_put(const char *host, const char *scope, const char *cred, const char *realm, char *token,
	  int scheme, int64_t ttl_s)
{
	tok_entry *t;

	if (scheme == PG_OCI__AUTH_BASIC)
		scope = "";
	pthread_mutex_lock(&g_tok_mu);
	t = tok_slot_locked(host, scope, cred, scheme);
	if (t && tok_fill(t, host, scope, cred, realm, scheme) == PG_OK) {
		t->token = token;
		token = NULL;
		t->expires = pg_clock_ms() + ttl_s * 1000;
	}
	pthread_mutex_unlock(&g_tok_mu);
	if (token) {
		pg_wipe(token, strlen(token));
		free(token);
	}
}

/* Every cached token wiped (tests; a process ends without it). */
void
pg_oci_tokens_clear(void)
{
	size_t i;

	pthread_mutex_lock(&g_tok_mu);
	for (i = 0; i < TOKENS_MAX; i++)
		if (!g_toks[i].pending)
			tok_clear(&g_toks[i]);
	pthread_mutex_unlock(&g_tok_mu);
}

/* ---- per-host concurrency cap ---- */

static int
slot_acquire(pg_oci *c, const char *host, int64_t deadline, pg_err *err)
{
	int rc = PG_OK;
	struct timespec ts;
	int64_t left = pg_clock_left_ms(deadline);

	if (left <= 0)
		return pg_err_set(err, PG_ETIMEOUT, "deadline passed before contacting %s", host);
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	for (;;) {
		slot *mine = NULL, *freeslot = NULL;
		size_t i;

		for (i = 0; i < SLOTS_MAX; i++) {
			if (c->slots[i].active > 0 && strcasecmp(c->slots[i].host, host) == 0)
				mine = &c->slots[i];
			else if (c->slots[i].active == 0 && freeslot == NULL)
				freeslot = &c->slots[i];
		}
		if (mine && mine->active < c->per_host) {
			mine->active++;
			break;
		}
		if (mine == NULL && freeslot) {
			(void)snprintf(freeslot->host, sizeof(freeslot->host), "%s", host);
			freeslot->active = 1;
			break;
		}
		if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0) {
			rc =
			    pg_err_set(err, PG_ETIMEOUT,
				       "deadline passed waiting for a connection slot to %s", host);
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static void
slot_release(pg_oci *c, const char *host)
{
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < SLOTS_MAX; i++)
		if (c->slots[i].active > 0 && strcasecmp(c->slots[i].host, host) == 0) {
			c->slots[i].active--;
			break;
		}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---- credentials and tokens ---- */

static int
load_creds(char **out, const host_conf *h, const char *host, pg_err *err)
{
	int rc;
	char *text = NULL;
	size_t len = 0;

	*out = NULL;
	if (h->docker_config == NULL)
		return PG_OK;
	rc = pg_buf_read_file(&text, &len, h->docker_config, PG_OCI_DOCKER_CONFIG_MAX, err);
	if (rc != PG_OK)
		return rc;
	rc = pg_oci__docker_config_auth(out, text, len, host, err);
	if (rc != PG_OK)
		(void)pg_err_wrap(err, "%s: ", h->docker_config);
	pg_wipe(text, len);
	free(text);
	return rc;
}

/* GET the realm for a bearer token; on success *token (malloc'd) and
 * *ttl_s. */
static int
token_fetch(char **token, int64_t *ttl_s, const pg_oci_req *q, const host_conf *h, const char *host,
	    const pg_oci__challenge *ch, const char *scope, const char *creds, int64_t deadline,
	    pg_err *err)
{
	int rc = PG_EINTERNAL;
	pg_buf url;
	pg_fetch_resp *r = NULL;
	pg_fetch_opts o = {0};
	json_t *root = NULL, *t, *e;
	json_error_t je;
	const char *sep;

	*token = NULL;
	pg_buf_init(&url, 8192);
	if (strncasecmp(ch->realm, "https://", 8) != 0 &&
	    !(h->plain_http && strncasecmp(ch->realm, "http://", 7) == 0)) {
		return pg_err_set(err, PG_EDENIED,
				  "registry %s names a token realm that is not https: %.200s", host,
				  ch->realm);
	}
	sep = strchr(ch->realm, '?') ? "&" : "?";
	if (pg_buf_puts(&url, ch->realm) != PG_OK)
		goto toolong;
	if (ch->service) {
		if (pg_buf_printf(&url, "%sservice=", sep) != PG_OK ||
		    pg_oci__urlenc(&url, ch->service) != PG_OK)
			goto toolong;
		sep = "&";
	}
	if (scope && scope[0]) {
		if (pg_buf_printf(&url, "%sscope=", sep) != PG_OK ||
		    pg_oci__urlenc(&url, scope) != PG_OK)
			goto toolong;
	}
	o.ca_file = h->ca_file;
	o.plain_http = h->plain_http;
	o.max_bytes = PG_OCI_TOKEN_MAX;
	o.deadline = deadline;
	o.guard = q->guard;
	o.guard_ctx = q->guard_ctx;
	o.userpwd = creds;
	/* The realm the registry names may live on another host (Docker Hub:
	 * auth.docker.io): reached like a policy host when the policy names
	 * it, else only over https at public addresses.  The registry's
	 * credentials go to it, as `docker login` sends them. */
	o.public_hops = PG_FETCH_PUBLIC_ALL;
	o.public_why = "token realm";
	rc = pg_fetch_do(&r, q->fetch, (const char *)url.data, &o, err);
	if (rc == PG_ETOOBIG) {
		/* Say what was too large: not the manifest being fetched.
		 * A token server's failure, not a bound on the image. */
		rc = pg_err_set(err, PG_EFETCH,
				"getting a token for %s: the token server's response is larger "
				"than %zu bytes",
				host, (size_t)PG_OCI_TOKEN_MAX);
		goto out;
	}
	if (rc != PG_OK) {
		(void)pg_err_wrap(err, "getting a token for %s: ", host);
		goto out;
	}
	if (r->status == 401 || r->status == 403) {
		rc = pg_err_set(err, PG_EFETCH, "token server for %s refused %s (HTTP %ld)", host,
				creds ? "the configured credentials" : "anonymous access",
				r->status);
		goto out;
	}
	if (r->status != 200) {
		rc = pg_err_set(err, PG_EFETCH, "token server for %s answered HTTP %ld", host,
				r->status);
		goto out;
	}
	root = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
	t = json_object_get(root, "token");
	if (!json_is_string(t) || json_string_length(t) == 0)
		t = json_object_get(root, "access_token");
	if (!json_is_string(t) || json_string_length(t) == 0 ||
	    json_string_length(t) > TOKEN_LEN_MAX) {
		rc = pg_err_set(err, PG_EFETCH, "token server for %s sent no usable token", host);
		goto out;
	}
	/* The token goes into a header line: no control characters. */
	{
		const char *s = json_string_value(t);
		size_t i, n = json_string_length(t);

		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) {
				rc = pg_err_set(err, PG_EFETCH,
						"token server for %s sent a malformed token", host);
				goto out;
			}
	}
	e = json_object_get(root, "expires_in");
	*ttl_s = TOKEN_DEFAULT_S;
	if (json_is_integer(e) && json_integer_value(e) > 0)
		*ttl_s = json_integer_value(e) > TOKEN_MAX_S ? TOKEN_MAX_S : json_integer_value(e);
	if ((*token = pg_strdup(json_string_value(t))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = PG_OK;
	goto out;
toolong:
	rc = pg_err_set(err, PG_EINVAL, "token URL for %s too long", host);
out:
	if (r && r->body)
		pg_wipe(r->body, r->len);
	pg_fetch_resp_free(r);
	json_decref(root);
	pg_buf_free(&url);
	return rc;
}

/* "realm service" of a challenge: which issuer a token came from. */
static int
realm_id(pg_buf *b, const pg_oci__challenge *ch)
{
	return pg_buf_printf(b, "%s %s", ch->realm ? ch->realm : "",
			     ch->service ? ch->service : "");
}

/*
 * A bearer token for (host, scope, cred) from the realm of ch, as a single
 * flight: when another thread holds a valid token for the key that is not
 * the one we sent (sent: refused, or NULL), or is fetching one, use or
 * await it; else fetch it ourselves and share it.  A failed fetch is not
 * shared: each waiter then tries on its own.
 */
static int
token_acquire(const pg_oci_req *q, const host_conf *h, const char *host, const char *scope,
	      const char *cred, const char *creds, const pg_oci__challenge *ch, const char *sent,
	      int64_t deadline, pg_err *err)
{
	int rc = PG_OK;
	bool fetch = false;
	tok_entry *mine = NULL;
	char *token = NULL;
	int64_t ttl = TOKEN_DEFAULT_S;
	pg_buf realm;
	struct timespec ts;

	pg_buf_init(&realm, 8192 + 256);
	if (realm_id(&realm, ch) != PG_OK) {
		pg_buf_free(&realm);
		return pg_err_set(err, PG_EINVAL, "token realm of %s too long", host);
	}
	deadline_ts(&ts, deadline);
	pthread_mutex_lock(&g_tok_mu);
	for (;;) {
		tok_entry *t = NULL;
		size_t i;

		for (i = 0; i < TOKENS_MAX && t == NULL; i++)
			if (tok_key_eq(&g_toks[i], host, scope, cred, PG_OCI__AUTH_BEARER))
				t = &g_toks[i];
		if (t && t->pending) {
			if (pthread_cond_timedwait(&g_tok_cv, &g_tok_mu, &ts) != 0 &&
			    pg_clock_left_ms(deadline) <= 0) {
				rc = pg_err_set(err, PG_ETIMEOUT,
						"deadline passed waiting for a token for %s", host);
				break;
			}
			continue;
		}
		if (t && t->expires > pg_clock_ms() &&
		    strcmp(t->realm, (const char *)realm.data) == 0 &&
		    (sent == NULL || strcmp(t->token, sent) != 0))
			break; /* fetched by another thread meanwhile */
		mine = tok_slot_locked(host, scope, cred, PG_OCI__AUTH_BEARER);
		if (mine && tok_fill(mine, host, scope, cred, (const char *)realm.data,
				     PG_OCI__AUTH_BEARER) == PG_OK)
			mine->pending = true;
		else
			mine = NULL; /* no room or memory: fetch, unshared */
		fetch = true;
		break;
	}
	pthread_mutex_unlock(&g_tok_mu);
	if (fetch) {
		rc = token_fetch(&token, &ttl, q, h, host, ch, ch->scope ? ch->scope : scope, creds,
				 deadline, err);
		pthread_mutex_lock(&g_tok_mu);
		if (mine) {
			mine->pending = false;
			if (rc == PG_OK) {
				mine->token = token;
				mine->expires = pg_clock_ms() + ttl * 1000;
				token = NULL;
			} else {
				tok_clear(mine);
			}
			pthread_cond_broadcast(&g_tok_cv);
		}
		pthread_mutex_unlock(&g_tok_mu);
		if (rc == PG_OK && token) /* unshared: this request only */
			cache_put(host, scope, cred, (const char *)realm.data, token,
				  PG_OCI__AUTH_BEARER, ttl);
		token = NULL;
	}
	pg_buf_free(&realm);
	return rc;
}

/* Answer the challenge in r (the reply to a request that sent token
 * `sent`, or none): obtain a token, or note Basic. */
static int
authenticate(const pg_oci_req *q, const host_conf *h, const char *host, const char *scope,
	     const char *cred, const char *sent, const pg_fetch_resp *r, int64_t deadline,
	     pg_err *err)
{
	int rc;
	pg_oci__challenge ch = {0};
	char *hdr = pg_fetch_resp_header(r, "WWW-Authenticate"), *creds = NULL;

	if (hdr == NULL) {
		rc = pg_err_set(err, PG_EFETCH, "registry %s answered 401 without a challenge",
				host);
		goto out;
	}
	/* Every challenge line, not only the first: Bearer preferred. */
	if ((rc = pg_oci__www_auth_parse_headers(&ch, r->headers, err)) != PG_OK) {
		(void)pg_err_wrap(err, "registry %s: ", host);
		rc = PG_EFETCH;
		if (err)
			err->code = rc;
		goto out;
	}
	if ((rc = load_creds(&creds, h, host, err)) != PG_OK)
		goto out;
	if (ch.scheme == PG_OCI__AUTH_BASIC) {
		if (creds == NULL) {
			rc = pg_err_set(
			    err, PG_EFETCH,
			    "registry %s requires credentials and none are configured for it",
			    host);
			goto out;
		}
		cache_put(host, scope, cred, NULL, NULL, PG_OCI__AUTH_BASIC, BASIC_NOTE_S);
		rc = PG_OK;
		goto out;
	}
	rc = token_acquire(q, h, host, scope, cred, creds, &ch, sent, deadline, err);
out:
	pg_wipe_free(creds);
	free(hdr);
	pg_oci__challenge_clear(&ch);
	return rc;
}

/* RateLimit-Limit / -Remaining of a registry's answer into the per-host
 * gauges (Docker Hub sends them on manifest requests, HEAD included). */
static void
note_ratelimit(const char *host, const pg_fetch_resp *r)
{
	char *lim = pg_fetch_resp_header(r, "RateLimit-Limit");
	char *rem = pg_fetch_resp_header(r, "RateLimit-Remaining");

	if (lim || rem)
		pg_metrics_registry_ratelimit(host, pg_oci__ratelimit_value(lim),
					      pg_oci__ratelimit_value(rem));
	free(lim);
	free(rem);
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * GET url on registry host with Accept accept (a full header line, or
 * NULL), at most max bytes, authenticating for scope ("" for none) when
 * challenged and waiting out 429s within the deadline.  Any final status
 * is returned to the caller.  public_why non-NULL: a redirect may go to a
 * public host no policy names (fetch.h), for content the caller checks by
 * digest (blobs: registries send them to their CDN or storage).  cred:
 * the digest of the host's credentials ("" for none), the token cache key.
 */
static int
reg_do(pg_fetch_resp **out, pg_oci *c, const pg_oci_req *q, const char *host, const char *scope,
       const char *url, const char *accept, size_t max, const char *public_why, const char *method,
       const char *cred, pg_err *err)
{
	int rc = PG_EINTERNAL, auth_rounds = 0, rate_rounds = 0;
	const host_conf *h = conf_for(c, host);
	int64_t deadline = q->deadline ? q->deadline : pg_clock_ms() + PG_FETCH_DEFAULT_TIMEOUT_MS;
	pg_fetch_resp *r = NULL;
	char *token = NULL, *creds = NULL;
	pg_buf authz;

	*out = NULL;
	pg_buf_init(&authz, TOKEN_LEN_MAX + 64);
	for (;;) {
		pg_fetch_opts o = {0};
		const char *hdrs[3];
		size_t nh = 0;
		int scheme;

		pg_wipe_free(token);
		pg_wipe_free(creds);
		token = creds = NULL;
		if (authz.data)
			pg_wipe(authz.data, authz.len);
		pg_buf_reset(&authz);
		scheme = cache_get(host, scope, cred, &token);
		if (scheme == PG_OCI__AUTH_BEARER &&
		    pg_buf_printf(&authz, "Authorization: Bearer %s", token) != PG_OK) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		if (scheme == PG_OCI__AUTH_BASIC &&
		    (rc = load_creds(&creds, h, host, err)) != PG_OK)
			goto out;
		if (accept)
			hdrs[nh++] = accept;
		if (authz.len)
			hdrs[nh++] = (const char *)authz.data;
		hdrs[nh] = NULL;
		o.method = method;
		o.ca_file = h->ca_file;
		o.plain_http = h->plain_http;
		o.max_bytes = max;
		o.deadline = deadline;
		o.headers = hdrs;
		o.guard = q->guard;
		o.guard_ctx = q->guard_ctx;
		o.userpwd = creds;
		if (public_why) {
			o.public_hops = PG_FETCH_PUBLIC_REDIRECTS;
			o.public_why = public_why;
		}
		if ((rc = slot_acquire(c, host, deadline, err)) != PG_OK)
			goto out;
		rc = pg_fetch_do(&r, q->fetch, url, &o, err);
		slot_release(c, host);
		if (rc != PG_OK)
			goto out;
		note_ratelimit(host, r);
		/* A 401 from a redirect target (a CDN, a storage host) is
		 * not the registry's challenge: answering it would send the
		 * registry's credentials to a realm that host names. */
		if (r->status == 401 && r->effective_url && strcmp(r->effective_url, url) != 0) {
			rc = pg_err_set(err, PG_EFETCH,
					"registry %s redirected to %.200s, which asked for "
					"credentials (HTTP 401): not answered",
					host, r->effective_url);
			goto out;
		}
		if (r->status == 401 && auth_rounds < 2) {
			/* A cached token may have expired server-side: one
			 * fresh round, then the 401 stands. */
			auth_rounds++;
			cache_drop(host, scope, cred, token);
			rc = authenticate(q, h, host, scope, cred, token, r, deadline, err);
			if (rc != PG_OK)
				goto out;
			pg_fetch_resp_free(r);
			r = NULL;
			continue;
		}
		if (r->status == 429 && rate_rounds < RATE_RETRIES) {
			char *ra = pg_fetch_resp_header(r, "Retry-After");
			int64_t wait_ms = pg_oci__retry_after_s(ra, RATE_DEFAULT_S) * 1000;

			free(ra);
			rate_rounds++;
			if (pg_clock_left_ms(deadline) <= wait_ms) {
				rc = pg_err_set(
				    err, PG_ETIMEOUT,
				    "registry rate limit: registry %s is rate-limiting requests "
				    "(HTTP 429) and asks to wait %lld s, past the deadline",
				    host, (long long)(wait_ms / 1000));
				goto out;
			}
			sleep_ms(wait_ms);
			pg_fetch_resp_free(r);
			r = NULL;
			continue;
		}
		break;
	}
	*out = r;
	r = NULL;
	rc = PG_OK;
out:
	pg_wipe_free(token);
	pg_wipe_free(creds);
	if (authz.data)
		pg_wipe(authz.data, authz.cap);
	pg_buf_free(&authz);
	pg_fetch_resp_free(r);
	return rc;
}

/* ---- coalesced requests (process-wide) ---- */

/*
 * Identical registry requests made at the same time by several threads
 * (two reviews of the same image, the same signature manifest, the same
 * blob) go out once: the first thread makes it, the others wait for its
 * answer, each within its own deadline, and get a copy.  Identical means
 * method, URL, Accept, size bound, redirect rule, guard and credentials:
 * threads under another policy or other credentials never share.  The
 * answer is shared with the threads waiting for it and forgotten at once:
 * nothing here is a cache.  A leader that ran out of its own time shares
 * nothing; its waiters ask for themselves.  At most FLIGHTS_MAX requests
 * are in flight shared; past that, requests go out alone.
 */
static void
flight_free_locked(flight *f)
{
	free(f->key);
	pg_fetch_resp_free(f->resp);
	memset(f, 0, sizeof(*f));
}

static pg_fetch_resp *
resp_dup(const pg_fetch_resp *r)
{
	pg_fetch_resp *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->status = r->status;
	d->len = r->len;
	if ((r->body && (d->body = malloc(r->len + 1)) == NULL) ||
	    (r->effective_url && (d->effective_url = pg_strdup(r->effective_url)) == NULL) ||
	    (r->headers && (d->headers = pg_strdup(r->headers)) == NULL)) {
		pg_fetch_resp_free(d);
		return NULL;
	}
	if (r->body) {
		memcpy(d->body, r->body, r->len);
		d->body[r->len] = '\0';
	}
	return d;
}

/* The key of a request: everything that decides its answer. */
static int
flight_key(pg_buf *b, const pg_oci_req *q, const char *url, const char *accept, size_t max,
	   const char *public_why, const char *method, const char *cred)
{
	unsigned char g[sizeof(q->guard)];
	size_t i;

	memcpy(g, &q->guard, sizeof(g));
	if (pg_buf_printf(b, "%s\n%s\n%s\n%zu\n%d\n%s\n%p\n", method ? method : "GET", url,
			  accept ? accept : "", max, public_why != NULL, cred,
			  q->guard_ctx) != PG_OK)
		return PG_ENOMEM;
	for (i = 0; i < sizeof(g); i++)
		if (pg_buf_printf(b, "%02x", g[i]) != PG_OK)
			return PG_ENOMEM;
	return PG_OK;
}

/*
 * reg_do as a coalesced request (see above): *out is the caller's own
 * response either way.
 */
static int
reg_get_ex(pg_fetch_resp **out, pg_oci *c, const pg_oci_req *q, const char *host, const char *scope,
	   const char *url, const char *accept, size_t max, const char *public_why,
	   const char *method, pg_err *err)
{
	int rc;
	const host_conf *h = conf_for(c, host);
	int64_t deadline = q->deadline ? q->deadline : pg_clock_ms() + PG_FETCH_DEFAULT_TIMEOUT_MS;
	char cred[PG_OCI__DIGEST_BUF] = "", *creds = NULL;
	pg_buf key;
	flight *f = NULL;
	bool lead = false;
	pg_err lerr;
	struct timespec ts;
	size_t i;

	*out = NULL;
	pg_err_clear(&lerr);
	(void)pthread_once(&g_once, shared_init);
	if ((rc = load_creds(&creds, h, host, err)) != PG_OK)
		return rc;
	if (creds) {
		pg_oci__sha256_digest(cred, creds, strlen(creds));
		pg_wipe_free(creds);
	}
	pg_buf_init(&key, 16384);
	if (flight_key(&key, q, url, accept, max, public_why, method, cred) != PG_OK) {
		pg_buf_free(&key);
		return reg_do(out, c, q, host, scope, url, accept, max, public_why, method, cred,
			      err);
	}
	pthread_mutex_lock(&g_fl_mu);
	for (i = 0; i < FLIGHTS_MAX && f == NULL; i++)
		if (g_fl[i].key && !g_fl[i].done &&
		    strcmp(g_fl[i].key, (const char *)key.data) == 0)
			f = &g_fl[i];
	if (f == NULL) {
		for (i = 0; i < FLIGHTS_MAX && f == NULL; i++)
			if (g_fl[i].key == NULL)
				f = &g_fl[i];
		if (f && (f->key = pg_strdup((const char *)key.data)) != NULL)
			lead = true;
		else
			f = NULL;
	} else {
		f->waiters++;
		deadline_ts(&ts, deadline);
		while (!f->done)
			if (pthread_cond_timedwait(&g_fl_cv, &g_fl_mu, &ts) != 0 &&
			    pg_clock_left_ms(deadline) <= 0)
				break;
	}
	pthread_mutex_unlock(&g_fl_mu);
	pg_buf_free(&key);
	if (lead) {
		rc = reg_do(out, c, q, host, scope, url, accept, max, public_why, method, cred,
			    &lerr);
		pthread_mutex_lock(&g_fl_mu);
		f->done = true;
		f->rc = rc;
		f->err = lerr;
		if (rc == PG_OK && f->waiters > 0 && (f->resp = resp_dup(*out)) == NULL)
			f->rc = PG_ETIMEOUT; /* out of memory: waiters ask for themselves */
		if (f->waiters == 0)
			flight_free_locked(f);
		pthread_cond_broadcast(&g_fl_cv);
		pthread_mutex_unlock(&g_fl_mu);
		if (rc != PG_OK && err)
			*err = lerr;
		return rc;
	}
	if (f == NULL) /* no room: alone */
		return reg_do(out, c, q, host, scope, url, accept, max, public_why, method, cred,
			      err);
	if (!f->done) {
		rc = pg_err_set(err, PG_ETIMEOUT, "deadline passed waiting for %s", host);
	} else if (f->rc == PG_ETIMEOUT) {
		rc = PG_ETIMEOUT; /* the leader's deadline, not ours: ask ourselves */
	} else if (f->rc != PG_OK) {
		rc = f->rc;
		if (err)
			*err = f->err;
	} else {
		/* done entries are read-only until the last waiter leaves */
		*out = resp_dup(f->resp);
		rc = *out ? PG_OK : pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&g_fl_mu);
	if (--f->waiters == 0 && f->done)
		flight_free_locked(f);
	pthread_mutex_unlock(&g_fl_mu);
	if (rc == PG_ETIMEOUT && pg_clock_left_ms(deadline) > 0)
		return reg_do(out, c, q, host, scope, url, accept, max, public_why, method, cred,
			      err);
	return rc;
}

/* reg_get_ex without public redirects: everything but blob downloads. */
static int
reg_get(pg_fetch_resp **out, pg_oci *c, const pg_oci_req *q, const char *host, const char *scope,
	const char *url, const char *accept, size_t max, pg_err *err)
{
	return reg_get_ex(out, c, q, host, scope, url, accept, max, NULL, NULL, err);
}

/* ---- names and URLs ---- */

static bool
host_ok(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n > HOST_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = h[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' ||
		      ch == '[' || ch == ']'))
			return false;
	}
	return true;
}

/* distribution's path grammar, loosely: lower-case alphanumerics and
 * separators, no empty or dot-only components (nothing that could walk the
 * URL path or start a query). */
static bool
repo_ok(const char *r)
{
	size_t i, n = strlen(r), comp = 0;
	bool alnum_in_comp = false;

	if (n == 0 || n > PG_REF_NAME_MAX)
		return false;
	for (i = 0; i <= n; i++) {
		char ch = r[i];

		if (ch == '/' || ch == '\0') {
			if (comp == 0 || !alnum_in_comp)
				return false;
			comp = 0;
			alnum_in_comp = false;
			continue;
		}
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			alnum_in_comp = true;
		else if (ch != '.' && ch != '_' && ch != '-')
			return false;
		comp++;
	}
	return true;
}

static bool
tag_ok(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > PG_REF_TAG_MAX || t[0] == '.' || t[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char ch = t[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static int
check_names(const char *host, const char *repo, const char *reference, pg_err *err)
{
	if (host == NULL || !host_ok(host))
		return pg_err_set(err, PG_EINVAL, "invalid registry host \"%.100s\"",
				  host ? host : "");
	if (repo && !repo_ok(repo))
		return pg_err_set(err, PG_EINVAL, "invalid repository name \"%.300s\"", repo);
	if (reference && !pg_digest_string_valid(reference) && !tag_ok(reference))
		return pg_err_set(err, PG_EINVAL, "invalid tag or digest \"%.200s\"", reference);
	return PG_OK;
}

/* scheme://api-host, into b.  Docker Hub's API lives on another name. */
static int
base_url(pg_buf *b, const pg_oci *c, const char *host)
{
	const host_conf *h = conf_for(c, host);
	const char *api =
	    strcasecmp(host, "docker.io") == 0 || strcasecmp(host, "index.docker.io") == 0
		? "registry-1.docker.io"
		: host;

	return pg_buf_printf(b, "%s://%s", h->plain_http ? "http" : "https", api);
}

static int
scope_for(pg_buf *b, const char *repo)
{
	return pg_buf_printf(b, "repository:%s:pull", repo);
}

/* Message for a status we did not expect. */
static int
status_error(pg_err *err, const char *host, long status, const char *what)
{
	/* Retries spent (reg_get_ex): its own words, never a verdict. */
	if (status == 429)
		return pg_err_set(err, PG_EFETCH,
				  "registry rate limit: registry %s still answers HTTP 429 (too "
				  "many requests) for %s",
				  host, what);
	if (status == 401 || status == 403)
		return pg_err_set(err, PG_EFETCH,
				  "registry %s refused access to %s (HTTP %ld): check the "
				  "credentials configured for it",
				  host, what, status);
	return pg_err_set(err, PG_EFETCH, "registry %s answered HTTP %ld for %s", host, status,
			  what);
}

/* ---- the API ---- */

int
pg_oci_ping(pg_oci *c, const pg_oci_req *q, const char *host, pg_err *err)
{
	int rc;
	pg_buf url;
	pg_fetch_resp *r = NULL;

	if ((rc = check_names(host, NULL, NULL, err)) != PG_OK)
		return rc;
	pg_buf_init(&url, 1024);
	if (base_url(&url, c, host) != PG_OK || pg_buf_puts(&url, "/v2/") != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = reg_get(&r, c, q, host, "", (const char *)url.data, NULL, 64 << 10, err);
	if (rc != PG_OK)
		goto out;
	rc = r->status == 200 ? PG_OK : status_error(err, host, r->status, "/v2/");
out:
	pg_fetch_resp_free(r);
	pg_buf_free(&url);
	return rc;
}

int
pg_oci_manifest_get(pg_oci_manifest **out, pg_oci *c, const pg_oci_req *q, const char *host,
		    const char *repo, const char *reference, pg_err *err)
{
	int rc;
	pg_buf url, scope, what;
	pg_fetch_resp *r = NULL;
	pg_oci_manifest *m = NULL;
	char *ct = NULL, *dcd = NULL;
	bool by_digest;

	*out = NULL;
	if ((rc = check_names(host, repo, reference, err)) != PG_OK)
		return rc;
	by_digest = pg_digest_string_valid(reference);
	pg_buf_init(&url, 2048);
	pg_buf_init(&scope, 1024);
	pg_buf_init(&what, 1024);
	if (base_url(&url, c, host) != PG_OK ||
	    pg_buf_printf(&url, "/v2/%s/manifests/%s", repo, reference) != PG_OK ||
	    scope_for(&scope, repo) != PG_OK ||
	    pg_buf_printf(&what, "%s/%s%s%s", host, repo, by_digest ? "@" : ":", reference) !=
		PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = reg_get(&r, c, q, host, (const char *)scope.data, (const char *)url.data,
		     pg_oci_accept_manifests, PG_OCI_MANIFEST_MAX, err);
	if (rc != PG_OK) {
		if (rc == PG_ETOOBIG)
			rc = pg_err_set(err, PG_ETOOBIG, "manifest %s is larger than %zu bytes",
					(const char *)what.data, PG_OCI_MANIFEST_MAX);
		goto out;
	}
	if (r->status == 404) {
		rc =
		    pg_err_set(err, PG_ENOTFOUND, "manifest %s not found", (const char *)what.data);
		goto out;
	}
	if (r->status != 200) {
		rc = status_error(err, host, r->status, (const char *)what.data);
		goto out;
	}
	ct = pg_fetch_resp_header(r, "Content-Type");
	if ((rc = pg_oci_manifest_parse(&m, r->body, r->len, ct, err)) != PG_OK) {
		(void)pg_err_wrap(err, "%s: ", (const char *)what.data);
		goto out;
	}
	dcd = pg_fetch_resp_header(r, "Docker-Content-Digest");
	if (dcd && dcd[0] && !pg_oci__digest_matches(dcd, r->body, r->len)) {
		rc = pg_err_set(
		    err, PG_EVERIFY,
		    "%s: registry says its digest is %.150s but the bytes received hash to %s",
		    (const char *)what.data, dcd, pg_oci_manifest_digest(m));
		goto out;
	}
	if (by_digest && !pg_oci__digest_matches(reference, r->body, r->len)) {
		rc = pg_err_set(err, PG_EVERIFY,
				"manifest requested as %s but the bytes received hash to %s",
				reference, pg_oci_manifest_digest(m));
		goto out;
	}
	*out = m;
	m = NULL;
	rc = PG_OK;
out:
	pg_oci_manifest_free(m);
	pg_fetch_resp_free(r);
	free(ct);
	free(dcd);
	pg_buf_free(&url);
	pg_buf_free(&scope);
	pg_buf_free(&what);
	return rc;
}

/* Content-Length of a response, or -1 when absent or not a count. */
static int64_t
content_length(const pg_fetch_resp *r)
{
	char *v = pg_fetch_resp_header(r, "Content-Length"), *end = NULL;
	long long n = -1;

	if (v && v[0] >= '0' && v[0] <= '9') {
		n = strtoll(v, &end, 10);
		if (end == NULL || *end != '\0' || n < 0)
			n = -1;
	}
	free(v);
	return (int64_t)n;
}

/*
 * HEAD host/repo/manifests/reference (full Accept set): what the registry
 * says the reference's digest is, without the bytes (Docker Hub counts a
 * manifest GET as a pull, a HEAD not).  PG_OK with *out a malloc'd sha256
 * digest, or *out NULL when the answer gives none to use (no or a malformed
 * Docker-Content-Digest, another algorithm, a status other than 200 / 404:
 * a registry or proxy without HEAD): the caller GETs instead.  404 is
 * PG_ENOTFOUND; a 429 past its retries is the rate-limit error.
 *
 * The digest is only the registry's claim: whatever is fetched by it is
 * hashed (pg_oci_manifest_get, pg_oci_blob_get), and a signature binds it
 * (its payload names the digest), so a lying HEAD gets a denial, never an
 * allow.  A GET by tag trusted the registry no more: the bytes are the
 * registry's choice either way.
 */
static int
manifest_head_ex(char **out, char **ct_out, int64_t *len_out, pg_oci *c, const pg_oci_req *q,
		 const char *host, const char *repo, const char *reference, pg_err *err)
{
	int rc;
	pg_buf url, scope;
	pg_fetch_resp *r = NULL;
	char *dcd = NULL;

	*out = NULL;
	if (ct_out)
		*ct_out = NULL;
	if (len_out)
		*len_out = -1;
	if ((rc = check_names(host, repo, reference, err)) != PG_OK)
		return rc;
	pg_buf_init(&url, 2048);
	pg_buf_init(&scope, 1024);
	if (base_url(&url, c, host) != PG_OK ||
	    pg_buf_printf(&url, "/v2/%s/manifests/%s", repo, reference) != PG_OK ||
	    scope_for(&scope, repo) != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = reg_get_ex(&r, c, q, host, (const char *)scope.data, (const char *)url.data,
			pg_oci_accept_manifests, PG_OCI_MANIFEST_MAX, NULL, "HEAD", err);
	if (rc == PG_ETOOBIG)
		rc = pg_err_set(err, PG_ETOOBIG, "manifest %s/%s:%s is larger than %zu bytes", host,
				repo, reference, PG_OCI_MANIFEST_MAX);
	if (rc != PG_OK)
		goto out;
	if (r->status == 404) {
		rc = pg_err_set(err, PG_ENOTFOUND, "manifest %s/%s:%s not found", host, repo,
				reference);
		goto out;
	}
	if (r->status == 429) {
		rc = status_error(err, host, r->status, reference);
		goto out;
	}
	dcd = pg_fetch_resp_header(r, "Docker-Content-Digest");
	if (r->status == 200 && dcd && strncmp(dcd, "sha256:", 7) == 0 &&
	    pg_digest_string_valid(dcd)) {
		*out = dcd;
		dcd = NULL;
		if (ct_out)
			*ct_out = pg_fetch_resp_header(r, "Content-Type");
		if (len_out)
			*len_out = content_length(r);
	}
	rc = PG_OK;
out:
	free(dcd);
	pg_fetch_resp_free(r);
	pg_buf_free(&url);
	pg_buf_free(&scope);
	return rc;
}

static int
manifest_head(char **out, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
	      const char *reference, pg_err *err)
{
	return manifest_head_ex(out, NULL, NULL, c, q, host, repo, reference, err);
}

static bool
known_manifest_type(const char *mt)
{
	return strcmp(mt, PG_OCI_MT_OCI_MANIFEST) == 0 || strcmp(mt, PG_OCI_MT_OCI_INDEX) == 0 ||
	       strcmp(mt, PG_OCI_MT_DOCKER_MANIFEST) == 0 || strcmp(mt, PG_OCI_MT_DOCKER_LIST) == 0;
}

int
pg_oci_manifest_describe(pg_oci_desc *out, pg_oci *c, const pg_oci_req *q, const char *host,
			 const char *repo, const char *reference, pg_err *err)
{
	pg_oci_manifest *m = NULL;
	char *dg = NULL, *ct = NULL;
	int64_t len = -1;
	size_t blen;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = manifest_head_ex(&dg, &ct, &len, c, q, host, repo, reference, err);
	if (rc != PG_OK)
		goto out;
	/* Everything a descriptor needs, and the digest asked for when a
	 * digest was: no GET.  Else the bytes decide. */
	if (ct && strchr(ct, ';'))
		*strchr(ct, ';') = '\0';
	/* A Content-Type that is not one of the manifest types asked for
	 * (a proxy's "application/json", say) is not taken for the media
	 * type: the body says it. */
	if (dg && ct && known_manifest_type(ct) && len > 0 &&
	    (uint64_t)len <= PG_OCI_MANIFEST_MAX &&
	    (!pg_digest_string_valid(reference) || strcmp(reference, dg) == 0)) {
		out->digest = dg;
		out->media_type = ct;
		out->size = len;
		dg = ct = NULL;
		goto out;
	}
	if ((rc = pg_oci_manifest_get(&m, c, q, host, repo, dg ? dg : reference, err)) != PG_OK)
		goto out;
	(void)pg_oci_manifest_bytes(m, &blen);
	out->digest = pg_strdup(pg_oci_manifest_digest(m));
	out->media_type =
	    pg_strdup(pg_oci_manifest_media_type(m) ? pg_oci_manifest_media_type(m) : "");
	out->size = (int64_t)blen;
	if (out->digest == NULL || out->media_type == NULL) {
		free(out->digest);
		free(out->media_type);
		memset(out, 0, sizeof(*out));
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
	}
out:
	pg_oci_manifest_free(m);
	free(dg);
	free(ct);
	return rc;
}

/*
 * HEAD first, then GET by the digest the HEAD named: the two requests go
 * out on the calling thread's pg_fetch, so on one kept-alive connection.
 */
int
pg_oci_manifest_probe(pg_oci_manifest **out, pg_oci *c, const pg_oci_req *q, const char *host,
		      const char *repo, const char *tag, pg_err *err)
{
	char *dg = NULL;
	int rc;

	*out = NULL;
	if ((rc = manifest_head(&dg, c, q, host, repo, tag, err)) != PG_OK)
		return rc;
	rc = pg_oci_manifest_get(out, c, q, host, repo, dg ? dg : tag, err);
	/* By the digest: say which tag named it (a lying HEAD is refused
	 * here, the bytes hashing to another digest). */
	if (rc != PG_OK && rc != PG_ENOTFOUND && rc != PG_ENOMEM && dg)
		(void)pg_err_wrap(err, "%s/%s:%s, by the digest its HEAD named: ", host, repo, tag);
	free(dg);
	return rc;
}

int
pg_oci_resolve(char **out, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
	       const char *reference, pg_err *err)
{
	pg_oci_manifest *m = NULL;
	int rc;

	*out = NULL;
	/* A tag by HEAD; GET only when the registry names no digest (a
	 * digest reference is fetched and hashed, as before). */
	if (!pg_digest_string_valid(reference) &&
	    ((rc = manifest_head(out, c, q, host, repo, reference, err)) != PG_OK || *out))
		return rc;
	rc = pg_oci_manifest_get(&m, c, q, host, repo, reference, err);
	if (rc != PG_OK)
		return rc;
	if ((*out = pg_strdup(pg_oci_manifest_digest(m))) == NULL)
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
	pg_oci_manifest_free(m);
	return rc;
}

int
pg_oci_blob_get(unsigned char **out, size_t *len_out, pg_oci *c, const pg_oci_req *q,
		const char *host, const char *repo, const char *digest, int64_t size, size_t max,
		pg_err *err)
{
	int rc;
	pg_buf url, scope;
	pg_fetch_resp *r = NULL;

	*out = NULL;
	if (len_out)
		*len_out = 0;
	if ((rc = check_names(host, repo, NULL, err)) != PG_OK)
		return rc;
	if (!pg_digest_string_valid(digest))
		return pg_err_set(err, PG_EINVAL, "invalid blob digest \"%.200s\"",
				  digest ? digest : "");
	if (size >= 0 && (uint64_t)size > (uint64_t)max)
		return pg_err_set(err, PG_ETOOBIG,
				  "blob %s of %s/%s is %lld bytes, more than the %zu allowed",
				  digest, host, repo, (long long)size, max);
	pg_buf_init(&url, 2048);
	pg_buf_init(&scope, 1024);
	if (base_url(&url, c, host) != PG_OK ||
	    pg_buf_printf(&url, "/v2/%s/blobs/%s", repo, digest) != PG_OK ||
	    scope_for(&scope, repo) != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	/* Registries send blob downloads to a CDN or a storage host (Docker
	 * Hub, GHCR, Quay, ECR's pre-signed S3 URLs): followed to public
	 * hosts without credentials; the digest check below decides. */
	rc = reg_get_ex(&r, c, q, host, (const char *)scope.data, (const char *)url.data, NULL, max,
			"blob redirect", NULL, err);
	if (rc != PG_OK)
		goto out;
	if (r->status == 404) {
		rc =
		    pg_err_set(err, PG_ENOTFOUND, "blob %s not found in %s/%s", digest, host, repo);
		goto out;
	}
	if (r->status != 200) {
		rc = status_error(err, host, r->status, "a blob");
		goto out;
	}
	if (size >= 0 && (uint64_t)r->len != (uint64_t)size) {
		rc = pg_err_set(err, PG_EVERIFY,
				"blob %s of %s/%s is %zu bytes, its descriptor says %lld", digest,
				host, repo, r->len, (long long)size);
		goto out;
	}
	if (!pg_oci__digest_matches(digest, r->body, r->len)) {
		char got[PG_OCI__DIGEST_BUF];

		pg_oci__sha256_digest(got, r->body, r->len);
		rc = pg_err_set(err, PG_EVERIFY, "blob requested as %s from %s/%s hashes to %s",
				digest, host, repo, got);
		goto out;
	}
	*out = (unsigned char *)r->body;
	if (len_out)
		*len_out = r->len;
	r->body = NULL;
	rc = PG_OK;
out:
	pg_fetch_resp_free(r);
	pg_buf_free(&url);
	pg_buf_free(&scope);
	return rc;
}

static bool
type_wanted(const pg_oci_desc *d, const char *artifact_type)
{
	return artifact_type == NULL ||
	       (d->artifact_type != NULL && strcmp(d->artifact_type, artifact_type) == 0);
}

/* Append the wanted descriptors of index m to the list. */
static int
append_descs(pg_oci_desc **list, size_t *n, const pg_oci_manifest *m, const char *artifact_type,
	     bool filter, pg_err *err)
{
	size_t i, k = pg_oci_manifest_count(m);

	for (i = 0; i < k; i++) {
		const pg_oci_desc *d = pg_oci_manifest_desc(m, i);
		pg_oci_desc *nl;

		if (filter && !type_wanted(d, artifact_type))
			continue;
		if (*n >= PG_OCI_DESC_MAX)
			return pg_err_set(err, PG_ETOOBIG, "more than %d referrers",
					  PG_OCI_DESC_MAX);
		if ((nl = realloc(*list, (*n + 1) * sizeof(**list))) == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		*list = nl;
		if (pg_oci__desc_copy(&nl[*n], d) != PG_OK)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		(*n)++;
	}
	return PG_OK;
}

/* The referrers tag schema: <alg>-<hex>, alg cut at 32 and hex at 64. */
static void
fallback_tag(char *out, size_t size, const char *digest)
{
	const char *colon = strchr(digest, ':');
	size_t al = (size_t)(colon - digest), hl = strlen(colon + 1);

	(void)snprintf(out, size, "%.*s-%.*s", (int)(al > 32 ? 32 : al), digest,
		       (int)(hl > 64 ? 64 : hl), colon + 1);
}

static bool
noref_known(const char *host)
{
	size_t i;
	bool known = false;

	pthread_mutex_lock(&g_noref_mu);
	for (i = 0; i < SLOTS_MAX && g_noref[i][0] && !known; i++)
		known = strcasecmp(g_noref[i], host) == 0;
	pthread_mutex_unlock(&g_noref_mu);
	return known;
}

static void
noref_note(const char *host)
{
	size_t i;

	if (strlen(host) > HOST_MAX)
		return;
	pthread_mutex_lock(&g_noref_mu);
	for (i = 0; i < SLOTS_MAX; i++) {
		if (g_noref[i][0] == '\0') {
			memcpy(g_noref[i], host, strlen(host) + 1);
			break;
		}
		if (strcasecmp(g_noref[i], host) == 0)
			break;
	}
	pthread_mutex_unlock(&g_noref_mu);
}

/* The tag schema: probed (most images have no such tag: no pull spent on
 * absence). */
static int
referrers_fallback(pg_oci_desc **list, size_t *n, pg_oci *c, const pg_oci_req *q, const char *host,
		   const char *repo, const char *digest, const char *artifact_type, pg_err *err)
{
	char tag[PG_OCI__DIGEST_BUF];
	pg_oci_manifest *m = NULL;
	int rc;

	fallback_tag(tag, sizeof(tag), digest);
	rc = pg_oci_manifest_probe(&m, c, q, host, repo, tag, err);
	if (rc == PG_ENOTFOUND) {
		pg_err_clear(err);
		return PG_OK;
	}
	if (rc != PG_OK)
		return rc;
	if (pg_oci_manifest_is_index(m))
		rc = append_descs(list, n, m, artifact_type, true, err);
	pg_oci_manifest_free(m);
	return rc;
}

/* The next page of a listing (a Link header's target) as a URL in *url:
 * pagination stays on the registry, so only a path, or a URL on the same
 * origin (base: scheme://host[:port]), is followed.  what ("referrers",
 * "tags") names the listing in messages. */
static int
next_page_url(pg_buf *url, const pg_buf *base, const char *next, const char *host, const char *what,
	      pg_err *err)
{
	int rc;

	pg_buf_reset(url);
	if (next[0] == '/' && next[1] != '/')
		rc = pg_buf_printf(url, "%s%s", (const char *)base->data, next);
	else if (strncmp(next, (const char *)base->data, base->len) == 0 && next[base->len] == '/')
		rc = pg_buf_puts(url, next);
	else
		return pg_err_set(err, PG_EFETCH,
				  "registry %s paginates %s to another origin: %.200s", host, what,
				  next);
	if (rc != PG_OK)
		return pg_err_set(err, PG_EINVAL, "%s pagination URL too long",
				  strcmp(what, "tags") == 0 ? "tag" : what);
	return PG_OK;
}

int
pg_oci_referrers(pg_oci_desc **out, size_t *n_out, pg_oci *c, const pg_oci_req *q, const char *host,
		 const char *repo, const char *digest, const char *artifact_type, pg_err *err)
{
	int rc, page;
	pg_buf url, scope, base;
	pg_fetch_resp *r = NULL;
	pg_oci_manifest *m = NULL;
	pg_oci_desc *list = NULL;
	size_t n = 0;
	char *ct = NULL, *filt = NULL, *link = NULL, *next = NULL;

	*out = NULL;
	*n_out = 0;
	if ((rc = check_names(host, repo, digest, err)) != PG_OK)
		return rc;
	if (!pg_digest_string_valid(digest))
		return pg_err_set(err, PG_EINVAL, "referrers of \"%.200s\": not a digest", digest);
	pg_buf_init(&url, 8192);
	pg_buf_init(&scope, 1024);
	pg_buf_init(&base, 1024);
	if (base_url(&base, c, host) != PG_OK || scope_for(&scope, repo) != PG_OK ||
	    pg_buf_printf(&url, "%s/v2/%s/referrers/%s", (const char *)base.data, repo, digest) !=
		PG_OK ||
	    (artifact_type && (pg_buf_puts(&url, "?artifactType=") != PG_OK ||
			       pg_oci__urlenc(&url, artifact_type) != PG_OK))) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (noref_known(host)) {
		rc = referrers_fallback(&list, &n, c, q, host, repo, digest, artifact_type, err);
		goto done;
	}
	for (page = 0;; page++) {
		rc = reg_get(&r, c, q, host, (const char *)scope.data, (const char *)url.data,
			     "Accept: " PG_OCI_MT_OCI_INDEX, PG_OCI_MANIFEST_MAX, err);
		if (rc != PG_OK)
			goto out;
		if (r->status == 404 && page == 0) {
			/* OCI 1.1: a registry with the API answers 200 (an
			 * empty index) for any digest; 404 is no API. */
			noref_note(host);
			rc = referrers_fallback(&list, &n, c, q, host, repo, digest, artifact_type,
						err);
			goto done;
		}
		if (r->status != 200) {
			rc = status_error(err, host, r->status, "a referrers listing");
			goto out;
		}
		ct = pg_fetch_resp_header(r, "Content-Type");
		if ((rc = pg_oci_manifest_parse(&m, r->body, r->len, ct, err)) != PG_OK) {
			(void)pg_err_wrap(err, "referrers of %s in %s/%s: ", digest, host, repo);
			goto out;
		}
		if (!pg_oci_manifest_is_index(m)) {
			rc = pg_err_set(err, PG_EINVAL,
					"referrers of %s in %s/%s: not an image index", digest,
					host, repo);
			goto out;
		}
		filt = pg_fetch_resp_header(r, "OCI-Filters-Applied");
		rc = append_descs(&list, &n, m, artifact_type,
				  filt == NULL || strstr(filt, "artifactType") == NULL, err);
		if (rc != PG_OK)
			goto out;
		link = pg_fetch_resp_header(r, "Link");
		if ((rc = pg_oci__link_next(&next, link, err)) != PG_OK)
			goto out;
		pg_oci_manifest_free(m);
		m = NULL;
		pg_fetch_resp_free(r);
		r = NULL;
		free(ct);
		free(filt);
		free(link);
		ct = filt = link = NULL;
		if (next == NULL)
			break;
		if (page + 1 >= REFERRERS_PAGES_MAX) {
			rc = pg_err_set(err, PG_ETOOBIG,
					"referrers of %s in %s/%s span more than %d pages", digest,
					host, repo, REFERRERS_PAGES_MAX);
			goto out;
		}
		if ((rc = next_page_url(&url, &base, next, host, "referrers", err)) != PG_OK)
			goto out;
		free(next);
		next = NULL;
	}
	rc = PG_OK;
done:
	if (rc == PG_OK) {
		*out = list;
		*n_out = n;
		list = NULL;
		n = 0;
	}
out:
	pg_oci_descs_free(list, n);
	pg_oci_manifest_free(m);
	pg_fetch_resp_free(r);
	free(ct);
	free(filt);
	free(link);
	free(next);
	pg_buf_free(&url);
	pg_buf_free(&scope);
	pg_buf_free(&base);
	return rc;
}

/* ---- tag listing ---- */

/* Pages of a tag listing followed, and tags kept: a repository with more
 * is not one whose "newest matching tag" we can pick with confidence. */
#define TAGS_PAGES_MAX 32
#define TAGS_MAX 10000

void
pg_oci_tags_free(char **tags, size_t n)
{
	size_t i;

	if (tags == NULL)
		return;
	for (i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
}

int
pg_oci_tags(char ***out, size_t *n_out, pg_oci *c, const pg_oci_req *q, const char *host,
	    const char *repo, pg_err *err)
{
	int rc, page;
	pg_buf url, scope, base;
	pg_fetch_resp *r = NULL;
	json_t *doc = NULL;
	char **tags = NULL, *link = NULL, *next = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if ((rc = check_names(host, repo, NULL, err)) != PG_OK)
		return rc;
	pg_buf_init(&url, 8192);
	pg_buf_init(&scope, 1024);
	pg_buf_init(&base, 1024);
	if (base_url(&base, c, host) != PG_OK || scope_for(&scope, repo) != PG_OK ||
	    pg_buf_printf(&url, "%s/v2/%s/tags/list?n=1000", (const char *)base.data, repo) !=
		PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	for (page = 0;; page++) {
		const json_t *arr;
		size_t i;

		rc = reg_get(&r, c, q, host, (const char *)scope.data, (const char *)url.data,
			     "Accept: application/json", PG_OCI_MANIFEST_MAX, err);
		if (rc != PG_OK)
			goto out;
		if (r->status != 200) {
			rc = status_error(err, host, r->status, "a tag listing");
			goto out;
		}
		if ((doc = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
		    !json_is_object(doc)) {
			rc = pg_err_set(err, PG_EINVAL, "tag listing of %s/%s is not a JSON object",
					host, repo);
			goto out;
		}
		arr = json_object_get(doc, "tags");
		for (i = 0; json_is_array(arr) && i < json_array_size(arr); i++) {
			const char *t = json_string_value(json_array_get(arr, i));
			char **nl;

			if (t == NULL || !tag_ok(t))
				continue;
			if (n >= TAGS_MAX) {
				rc = pg_err_set(err, PG_ETOOBIG, "%s/%s has more than %d tags",
						host, repo, TAGS_MAX);
				goto out;
			}
			if ((nl = realloc(tags, (n + 1) * sizeof(*nl))) == NULL ||
			    (nl[n] = pg_strdup(t)) == NULL) {
				if (nl)
					tags = nl;
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
			tags = nl;
			n++;
		}
		json_decref(doc);
		doc = NULL;
		link = pg_fetch_resp_header(r, "Link");
		if ((rc = pg_oci__link_next(&next, link, err)) != PG_OK)
			goto out;
		pg_fetch_resp_free(r);
		r = NULL;
		free(link);
		link = NULL;
		if (next == NULL)
			break;
		if (page + 1 >= TAGS_PAGES_MAX) {
			rc = pg_err_set(err, PG_ETOOBIG,
					"tag listing of %s/%s spans more than %d pages", host, repo,
					TAGS_PAGES_MAX);
			goto out;
		}
		if ((rc = next_page_url(&url, &base, next, host, "tags", err)) != PG_OK)
			goto out;
		free(next);
		next = NULL;
	}
	*out = tags;
	*n_out = n;
	tags = NULL;
	n = 0;
	rc = PG_OK;
out:
	pg_oci_tags_free(tags, n);
	json_decref(doc);
	pg_fetch_resp_free(r);
	free(link);
	free(next);
	pg_buf_free(&url);
	pg_buf_free(&scope);
	pg_buf_free(&base);
	return rc;
}
