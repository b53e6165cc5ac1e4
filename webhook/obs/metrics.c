/*
 * obs/metrics — fixed-vocabulary counters and histograms.  Everything is a
 * relaxed atomic: a scrape may see one counter a moment ahead of another,
 * which Prometheus tolerates; nothing here takes a lock on the review path
 * (the fetch-error table takes one, only on errors).
 */
#include "jsonmem/jsonmem.h"
#include "obs/obs.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock/clock.h"

static const char *const decisions[] = {"allow", "deny", "exempt", "skip", "audit-deny", "error"};
#define N_DEC (sizeof(decisions) / sizeof(decisions[0]))
static const char *const reasons[] = {
    "",	      "invalid", "nomem",	"timeout", "notfound", "verify",     "toobig",	"fetch",
    "policy", "io",	 "unavailable", "denied",  "internal", "overloaded", "pending", "shutdown"};
#define N_REASON (sizeof(reasons) / sizeof(reasons[0]))

/* Seconds: 0.1 ms .. 10 s. */
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				 0.05,	 0.1,	  0.25,	  0.5,	 1,	 2.5,	5,    10};
#define N_BUCKET (sizeof(buckets) / sizeof(buckets[0]))

typedef struct histo {
	atomic_uint_fast64_t b[N_BUCKET + 1];
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
} histo;

static atomic_uint_fast64_t reviews[N_DEC][N_REASON];
static histo review_h;
static histo verify_h[2][2]; /* [image, chart][fail, ok] */
static atomic_uint_fast64_t cache_hits, cache_misses;
static atomic_uint_fast64_t conns_shed;
static atomic_int_fast64_t inflight;
static atomic_uint_fast64_t policy_ok, policy_fail;
static atomic_int_fast64_t policy_last_good;

/* Fetch errors by host: a small table; hosts past it are counted as
 * "other" so a hostile object cannot grow the series without bound. */
#define FETCH_HOSTS 64
static struct {
	char host[128];
	uint64_t n;
} fetch_err[FETCH_HOSTS];
static uint64_t fetch_err_other;
static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t
idx(const char *const *v, size_t n, const char *s, size_t dflt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return i;
	return dflt;
}

static void
observe(histo *h, int64_t us)
{
	double s = (double)us / 1e6;
	size_t i;

	for (i = 0; i < N_BUCKET && s > buckets[i]; i++)
		;
	atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)(us > 0 ? us : 0), memory_order_relaxed);
}

void
pg_metrics_review(const char *decision, const char *reason, int64_t duration_us)
{
	size_t d = idx(decisions, N_DEC, decision, N_DEC - 1);
	size_t r = idx(reasons, N_REASON, reason ? reason : "", 12 /* internal */);

	atomic_fetch_add_explicit(&reviews[d][r], 1, memory_order_relaxed);
	observe(&review_h, duration_us);
}

void
pg_metrics_verify(const char *kind, int ok, int64_t duration_us)
{
	observe(&verify_h[strcmp(kind, "chart") == 0][ok != 0], duration_us);
}

void
pg_metrics_conn_shed(void)
{
	atomic_fetch_add_explicit(&conns_shed, 1, memory_order_relaxed);
}

void
pg_metrics_cache(int hit)
{
	atomic_fetch_add_explicit(hit ? &cache_hits : &cache_misses, 1, memory_order_relaxed);
}

void
pg_metrics_inflight(int delta)
{
	atomic_fetch_add_explicit(&inflight, delta, memory_order_relaxed);
}

void
pg_metrics_policy_load(int ok, int64_t unix_time)
{
	if (ok) {
		atomic_fetch_add_explicit(&policy_ok, 1, memory_order_relaxed);
		atomic_store_explicit(&policy_last_good, unix_time, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&policy_fail, 1, memory_order_relaxed);
	}
}

void
pg_metrics_fetch_error(const char *host)
{
	char clean[128];
	size_t i, j = 0;

	/* Only host characters reach a label value: no quoting needed. */
	for (i = 0; host[i] && j < sizeof(clean) - 1; i++)
		if ((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || strchr(".-:[]_", host[i]))
			clean[j++] = host[i];
	clean[j] = '\0';
	host = clean;
	pthread_mutex_lock(&fetch_lock);
	for (i = 0; i < FETCH_HOSTS; i++) {
		if (fetch_err[i].host[0] == '\0') {
			(void)snprintf(fetch_err[i].host, sizeof(fetch_err[i].host), "%s", host);
			fetch_err[i].n = 1;
			break;
		}
		if (strcmp(fetch_err[i].host, host) == 0) {
			fetch_err[i].n++;
			break;
		}
	}
	if (i == FETCH_HOSTS)
		fetch_err_other++;
	pthread_mutex_unlock(&fetch_lock);
}

/* Hops to public hosts no policy names, by why and host: the same bounded
 * table shape as fetch errors (a hostile registry names many CDN hosts). */
static const char *const hop_whys[] = {"blob redirect",		 "token realm",
				       "chart redirect",	 "chart index entry",
				       "crl distribution point", "other"};
#define N_HOP_WHY (sizeof(hop_whys) / sizeof(hop_whys[0]))
static struct {
	size_t why;
	char host[128];
	uint64_t n;
} hops[FETCH_HOSTS];
static uint64_t hops_other[N_HOP_WHY];

void
pg_metrics_public_hop(const char *why, const char *host)
{
	char clean[128];
	size_t i, j = 0, w = idx(hop_whys, N_HOP_WHY, why ? why : "", N_HOP_WHY - 1);

	for (i = 0; host && host[i] && j < sizeof(clean) - 1; i++)
		if ((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || strchr(".-:[]_", host[i]))
			clean[j++] = host[i];
	clean[j] = '\0';
	pthread_mutex_lock(&fetch_lock);
	for (i = 0; i < FETCH_HOSTS; i++) {
		if (hops[i].host[0] == '\0') {
			hops[i].why = w;
			(void)snprintf(hops[i].host, sizeof(hops[i].host), "%s", clean);
			hops[i].n = 1;
			break;
		}
		if (hops[i].why == w && strcmp(hops[i].host, clean) == 0) {
			hops[i].n++;
			break;
		}
	}
	if (i == FETCH_HOSTS)
		hops_other[w]++;
	pthread_mutex_unlock(&fetch_lock);
}

/* Registry rate limits by host: last announced values. */
static struct {
	char host[128];
	int64_t limit, remaining; /* -1: never announced */
} rl[FETCH_HOSTS];

void
pg_metrics_registry_ratelimit(const char *host, int64_t limit, int64_t remaining)
{
	char clean[128];
	size_t i, j = 0;

	if (limit < 0 && remaining < 0)
		return;
	for (i = 0; host && host[i] && j < sizeof(clean) - 1; i++)
		if ((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || strchr(".-:[]_", host[i]))
			clean[j++] = host[i];
	clean[j] = '\0';
	pthread_mutex_lock(&fetch_lock);
	for (i = 0; i < FETCH_HOSTS; i++) {
		if (rl[i].host[0] == '\0') {
			(void)snprintf(rl[i].host, sizeof(rl[i].host), "%s", clean);
			rl[i].limit = rl[i].remaining = -1;
		}
		if (strcmp(rl[i].host, clean) == 0) {
			if (limit >= 0)
				rl[i].limit = limit;
			if (remaining >= 0)
				rl[i].remaining = remaining;
			break;
		}
	}
	pthread_mutex_unlock(&fetch_lock);
}

static int
render_ratelimit(pg_buf *o)
{
	size_t i;
	int rc = pg_buf_puts(
	    o, "# HELP provgate_registry_ratelimit_limit The request limit a registry last "
	       "announced (RateLimit-Limit), by host.\n"
	       "# TYPE provgate_registry_ratelimit_limit gauge\n");

	for (i = 0; i < FETCH_HOSTS && rc == PG_OK && rl[i].host[0]; i++)
		if (rl[i].limit >= 0)
			rc = pg_buf_printf(o,
					   "provgate_registry_ratelimit_limit{host=\"%s\"} %lld\n",
					   rl[i].host, (long long)rl[i].limit);
	if (rc == PG_OK)
		rc = pg_buf_puts(
		    o, "# HELP provgate_registry_ratelimit_remaining The requests a registry last "
		       "said remain (RateLimit-Remaining), by host.\n"
		       "# TYPE provgate_registry_ratelimit_remaining gauge\n");
	for (i = 0; i < FETCH_HOSTS && rc == PG_OK && rl[i].host[0]; i++)
		if (rl[i].remaining >= 0)
			rc = pg_buf_printf(
			    o, "provgate_registry_ratelimit_remaining{host=\"%s\"} %lld\n",
			    rl[i].host, (long long)rl[i].remaining);
	return rc;
}

static int
render_hops(pg_buf *o)
{
	size_t i;
	int rc = pg_buf_puts(
	    o, "# HELP provgate_public_hops_total Hops to public hosts no policy names "
	       "(token realms, blob and chart redirects, chart index entries), by why and host.\n"
	       "# TYPE provgate_public_hops_total counter\n");

	for (i = 0; i < FETCH_HOSTS && rc == PG_OK && hops[i].host[0]; i++)
		rc = pg_buf_printf(o, "provgate_public_hops_total{why=\"%s\",host=\"%s\"} %llu\n",
				   hop_whys[hops[i].why], hops[i].host,
				   (unsigned long long)hops[i].n);
	for (i = 0; i < N_HOP_WHY && rc == PG_OK; i++)
		if (hops_other[i])
			rc = pg_buf_printf(
			    o, "provgate_public_hops_total{why=\"%s\",host=\"other\"} %llu\n",
			    hop_whys[i], (unsigned long long)hops_other[i]);
	return rc;
}

static int
histo_render(pg_buf *o, const char *name, const char *labels, histo *h)
{
	uint64_t cum = 0;
	size_t i;
	int rc = PG_OK;

	for (i = 0; i <= N_BUCKET && rc == PG_OK; i++) {
		cum += atomic_load_explicit(&h->b[i], memory_order_relaxed);
		if (i < N_BUCKET)
			rc = pg_buf_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
					   labels[0] ? "," : "", buckets[i],
					   (unsigned long long)cum);
		else
			rc = pg_buf_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
					   labels[0] ? "," : "", (unsigned long long)cum);
	}
	if (rc == PG_OK)
		rc = pg_buf_printf(
		    o, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "",
		    labels, labels[0] ? "}" : "",
		    (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6, name,
		    labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		    (unsigned long long)atomic_load_explicit(&h->count, memory_order_relaxed));
	return rc;
}

/* /mutate answers by result, and the image tags they pinned. */
static const char *const mutate_results[] = {"patched", "unpatched", "timeout", "error"};
#define N_MUTATE (sizeof(mutate_results) / sizeof(mutate_results[0]))
static atomic_uint_fast64_t mutations[N_MUTATE];
static atomic_uint_fast64_t pinned;
/* notAfter of the serving certificate in use (Unix seconds; 0: none). */
static atomic_int_fast64_t cert_not_after;

void
pg_metrics_mutate(const char *result, size_t npinned)
{
	atomic_fetch_add_explicit(&mutations[idx(mutate_results, N_MUTATE, result, N_MUTATE - 1)],
				  1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pinned, npinned, memory_order_relaxed);
}

void
pg_metrics_cert_expiry(int64_t unix_time)
{
	atomic_store_explicit(&cert_not_after, unix_time, memory_order_relaxed);
}

static int
render_more(pg_buf *o)
{
	size_t i;
	int rc;

	rc = pg_buf_puts(o, "# HELP provgate_mutations_total /mutate answers, by result.\n"
			    "# TYPE provgate_mutations_total counter\n");
	for (i = 0; i < N_MUTATE && rc == PG_OK; i++)
		rc = pg_buf_printf(o, "provgate_mutations_total{result=\"%s\"} %llu\n",
				   mutate_results[i],
				   (unsigned long long)atomic_load(&mutations[i]));
	if (rc == PG_OK)
		rc = pg_buf_printf(
		    o,
		    "# HELP provgate_mutate_images_pinned_total Image tags /mutate pinned to their "
		    "verified digest.\n"
		    "# TYPE provgate_mutate_images_pinned_total counter\n"
		    "provgate_mutate_images_pinned_total %llu\n"
		    "# HELP provgate_tls_certificate_not_after_timestamp_seconds Expiry (notAfter, "
		    "Unix time) of the serving certificate in use.\n"
		    "# TYPE provgate_tls_certificate_not_after_timestamp_seconds gauge\n"
		    "provgate_tls_certificate_not_after_timestamp_seconds %lld\n",
		    (unsigned long long)atomic_load(&pinned),
		    (long long)atomic_load(&cert_not_after));
	return rc;
}

int
pg_metrics_render(pg_buf *o)
{
	size_t d, r, i;
	int rc;

	rc = pg_buf_puts(
	    o, "# HELP provgate_reviews_total Admission reviews answered, by decision and reason.\n"
	       "# TYPE provgate_reviews_total counter\n");
	for (d = 0; d < N_DEC && rc == PG_OK; d++)
		for (r = 0; r < N_REASON && rc == PG_OK; r++) {
			uint64_t v = atomic_load_explicit(&reviews[d][r], memory_order_relaxed);

			if (v == 0 && !(r == 0 && (d == 0 || d == 1)))
				continue;
			rc = pg_buf_printf(
			    o, "provgate_reviews_total{decision=\"%s\",reason=\"%s\"} %llu\n",
			    decisions[d], reasons[r], (unsigned long long)v);
		}
	if (rc == PG_OK)
		rc = pg_buf_puts(
		    o, "# HELP provgate_review_duration_seconds Time to answer a review.\n"
		       "# TYPE provgate_review_duration_seconds histogram\n");
	if (rc == PG_OK)
		rc = histo_render(o, "provgate_review_duration_seconds", "", &review_h);
	if (rc == PG_OK)
		rc = pg_buf_puts(o, "# HELP provgate_verification_duration_seconds Time to verify "
				    "one reference (cache misses).\n"
				    "# TYPE provgate_verification_duration_seconds histogram\n");
	for (i = 0; i < 4 && rc == PG_OK; i++) {
		char lab[64];

		(void)snprintf(lab, sizeof(lab), "kind=\"%s\",result=\"%s\"",
			       i / 2 ? "chart" : "image", i % 2 ? "verified" : "failed");
		rc = histo_render(o, "provgate_verification_duration_seconds", lab,
				  &verify_h[i / 2][i % 2]);
	}
	if (rc == PG_OK)
		rc = pg_buf_printf(
		    o,
		    "# HELP provgate_cache_requests_total Verdict cache lookups.\n"
		    "# TYPE provgate_cache_requests_total counter\n"
		    "provgate_cache_requests_total{result=\"hit\"} %llu\n"
		    "provgate_cache_requests_total{result=\"miss\"} %llu\n"
		    "# HELP provgate_connections_shed_total Connections closed at accept, the "
		    "process being out of file descriptors.\n"
		    "# TYPE provgate_connections_shed_total counter\n"
		    "provgate_connections_shed_total %llu\n"
		    "# HELP provgate_inflight_reviews Reviews waiting for verification.\n"
		    "# TYPE provgate_inflight_reviews gauge\n"
		    "provgate_inflight_reviews %lld\n"
		    "# HELP provgate_policy_loads_total Policy loads, by result.\n"
		    "# TYPE provgate_policy_loads_total counter\n"
		    "provgate_policy_loads_total{result=\"ok\"} %llu\n"
		    "provgate_policy_loads_total{result=\"error\"} %llu\n"
		    "# HELP provgate_policy_last_good_load_timestamp_seconds Unix time of the last "
		    "good policy load.\n"
		    "# TYPE provgate_policy_last_good_load_timestamp_seconds gauge\n"
		    "provgate_policy_last_good_load_timestamp_seconds %lld\n"
		    "# HELP provgate_fetch_errors_total Failed fetches, by host.\n"
		    "# TYPE provgate_fetch_errors_total counter\n",
		    (unsigned long long)atomic_load(&cache_hits),
		    (unsigned long long)atomic_load(&cache_misses),
		    (unsigned long long)atomic_load(&conns_shed), (long long)atomic_load(&inflight),
		    (unsigned long long)atomic_load(&policy_ok),
		    (unsigned long long)atomic_load(&policy_fail),
		    (long long)atomic_load(&policy_last_good));
	pthread_mutex_lock(&fetch_lock);
	for (i = 0; i < FETCH_HOSTS && rc == PG_OK && fetch_err[i].host[0]; i++)
		rc = pg_buf_printf(o, "provgate_fetch_errors_total{host=\"%s\"} %llu\n",
				   fetch_err[i].host, (unsigned long long)fetch_err[i].n);
	if (rc == PG_OK && fetch_err_other)
		rc = pg_buf_printf(o, "provgate_fetch_errors_total{host=\"other\"} %llu\n",
				   (unsigned long long)fetch_err_other);
	if (rc == PG_OK)
		rc = render_hops(o);
	if (rc == PG_OK)
		rc = render_ratelimit(o);
	pthread_mutex_unlock(&fetch_lock);
	if (rc == PG_OK)
		rc = render_more(o);
	return rc;
}

void
pg_log_diag(const char *level, const char *msg, const char *detail)
{
	char ts[40];
	json_t *o;
	char *s;

	pg_clock_rfc3339(ts, sizeof(ts));
	o = json_pack("{s:s, s:s, s:s, s:s?}", "time", ts, "level", level, "msg", msg, "detail",
		      detail);
	if (o == NULL)
		return;
	s = pg_json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return;
	fprintf(stderr, "%s\n", s);
	free(s);
}
