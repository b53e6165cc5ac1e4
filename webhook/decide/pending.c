/*
 * decide/pending — what becomes of the references the policy alone could
 * not settle: the verdict cache on the loop thread (pg_decision_from_cache,
 * no waiting), and on a worker the expansion of Helm releases into their
 * images, verification through verify/ (identical references once;
 * identical verifications in other workers waited for through the cache's
 * claims, not repeated), and the verdicts stored for the next review.
 *
 * Rule of the room: only definite answers are stored (cache/ decides), and
 * a deadline that passes leaves a deny, never a PENDING.
 */
#include "decide/decide_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "clock/clock.h"
#include "obs/obs.h"
#include "verify/verify.h"

/* What is verified: the normalised image, or the chart location with its
 * version (two Applications may name one chart at two versions). */
static const char *
target_version(const pg_refent *e)
{
	return e->chart && e->chart->version ? e->chart->version : "";
}

static bool
same_target(const pg_refdec *a, const pg_refdec *b)
{
	if (a->rule != b->rule || a->ref->kind != b->ref->kind)
		return false;
	/* Release Secrets and Flux sources find their rule while verifying:
	 * each is its own target. */
	if (a->rule == NULL)
		return false;
	return strcmp(ref_label(a->ref), ref_label(b->ref)) == 0 &&
	       strcmp(target_version(a->ref), target_version(b->ref)) == 0;
}

/* Cache key of a reference under its rule: what was matched (normalised
 * reference or chart location) and the rule's fingerprint, which covers
 * the trust material's bytes.  0 when the reference is not cacheable here. */
static int
cache_key(char *out, size_t n, const pg_refdec *rd)
{
	int w;

	if (rd->rule == NULL)
		return 0;
	/* a range resolves to whatever is newest now: resolve it every time */
	if (rd->ref->chart && rd->ref->chart->range)
		return 0;
	w = snprintf(out, n, "%s|%s|%s|%s", rd->ref->kind == PG_REF_IMAGE ? "img" : "chart",
		     ref_label(rd->ref), target_version(rd->ref), rd->rule->fingerprint);
	return w > 0 && (size_t)w < n;
}

static int64_t
cache_ttl(const pg_refdec *rd, const pg_decision_cache *dc)
{
	const pg_chart_ref *c = rd->ref->chart;

	/* A tag can be re-pushed: its verdict lives only as long as a
	 * tag-to-digest resolution may.  So can a chart version: an OCI
	 * chart's tag, a repository's index entry, the chart a release names;
	 * only an OCI chart pinned by digest is not. */
	if (rd->ref->kind == PG_REF_IMAGE && rd->ref->image->digest == NULL)
		return dc->tag_ttl_ms;
	if (c && !(c->kind == PG_CHART_OCI && c->location && strchr(c->location, '@')))
		return dc->tag_ttl_ms;
	return 0;
}

static void
set_from_cache(pg_refdec *rd, pg_cache_val *v)
{
	pg_refdec_set(rd, v->ok ? PG_RD_ALLOW : PG_RD_DENY, v->ok ? PG_OK : v->code, v->reason,
		      v->digest, v->signer);
	rd->cached = true;
	pg_cache_val_clear(v);
}

size_t
pg_decision_from_cache(pg_decision *d, const pg_decision_cache *dc)
{
	char key[4096];
	size_t i, n = 0;

	if (dc == NULL || dc->cache == NULL)
		return 0;
	for (i = 0; i < d->n; i++) {
		pg_refdec *rd = &d->d[i];
		pg_cache_val v;

		if (rd->state != PG_RD_PENDING || !cache_key(key, sizeof(key), rd))
			continue;
		if (pg_cache_get(dc->cache, key, &v)) {
			set_from_cache(rd, &v);
			pg_metrics_cache(1);
			n++;
		} else {
			pg_metrics_cache(0);
		}
	}
	return n;
}

/* The host a reference's evidence comes from ("registry:port" or the
 * chart URL's authority), for the fetch-error metric. */
static void
evidence_host(char *out, size_t n, const pg_refent *e)
{
	const char *s, *end;

	out[0] = '\0';
	if (e->image) {
		(void)snprintf(out, n, "%s", e->image->registry);
		return;
	}
	if (e->chart == NULL || e->chart->location == NULL)
		return;
	s = strstr(e->chart->location, "://");
	s = s ? s + 3 : e->chart->location;
	end = strchr(s, '/');
	(void)snprintf(out, n, "%.*s", (int)(end ? (size_t)(end - s) : strlen(s)), s);
}

static void
verify_one(pg_refdec *rd, pg_decision *d, struct pg_verify_ctx *vctx, int64_t deadline)
{
	pg_verdict v;
	int64_t t0;

	memset(&v, 0, sizeof(v));
	t0 = pg_clock_us();
	if (rd->ref->kind == PG_REF_IMAGE)
		(void)pg_verify_image(&v, vctx, d->pol, rd->rule, rd->ref->image, deadline);
	else
		(void)pg_verify_chart(&v, vctx, d->pol, rd->rule, rd->ref->chart, deadline);
	rd->verify_us = pg_clock_us() - t0;
	pg_metrics_verify(rd->ref->kind == PG_REF_IMAGE ? "image" : "chart", v.ok, rd->verify_us);
	if (!v.ok && (v.code == PG_EFETCH || v.code == PG_ETIMEOUT)) {
		char host[256];

		evidence_host(host, sizeof(host), rd->ref);
		if (host[0])
			pg_metrics_fetch_error(host);
	}
	if (rd->rule == NULL)
		rd->rule = v.rule;
	if (v.warning) {
		free(rd->warning);
		rd->warning = pg_strdup(v.warning);
	}
	if (v.chart_name || v.chart_version) {
		free(rd->chart_name);
		free(rd->chart_version);
		rd->chart_name = pg_strdup(v.chart_name);
		rd->chart_version = pg_strdup(v.chart_version);
	}
	/* Every deadline, whichever layer noticed it, reads the same way. */
	if (!v.ok && v.code == PG_ETIMEOUT && v.reason &&
	    strncmp(v.reason, "verification timed out", 23) != 0) {
		char msg[PG_ERR_MSG_MAX + 32];

		(void)snprintf(msg, sizeof(msg), "verification timed out: %s", v.reason);
		free(v.reason);
		v.reason = pg_strdup(msg);
	}
	pg_refdec_set(rd, v.ok ? (v.unsigned_ok ? PG_RD_UNSIGNED : PG_RD_ALLOW) : PG_RD_DENY,
		      v.ok ? PG_OK : v.code, v.reason, v.digest, v.signer);
	pg_verdict_clear(&v);
}

/* Worker side: the images of each Helm release Secret's recorded manifests
 * become references of the review (matched and verified like any image,
 * each logged with where it was found).  A release whose manifests cannot
 * be read is denied. */
static void
expand_releases(pg_decision *d)
{
	size_t i, j, n0 = d->n;
	pg_refdec *nd;

	for (i = 0; i < n0; i++) {
		pg_refdec *rd = &d->d[i];
		char msg[PG_ERR_MSG_MAX + 64];
		pg_err err;
		int rc;

		if (rd->state != PG_RD_PENDING || rd->ref->chart == NULL ||
		    rd->ref->chart->kind != PG_CHART_RELEASE)
			continue;
		pg_err_clear(&err);
		rc = pg_extract_release(&d->refs, rd->ref->chart, &err);
		for (j = 0; j < d->n; j++) /* refs may have moved */
			d->d[j].ref = &d->refs.v[j];
		if (rc != PG_OK) {
			(void)snprintf(msg, sizeof(msg),
				       "images of the release cannot be checked: %s",
				       err.msg[0] ? err.msg : pg_err_name(rc));
			pg_refdec_set(rd, PG_RD_DENY, rc, msg, NULL, NULL);
		}
	}
	if (d->refs.n <= d->n)
		return;
	if ((nd = realloc(d->d, d->refs.n * sizeof(*nd))) == NULL) {
		pg_decision_fail_pending(d, PG_ENOMEM, "out of memory");
		return;
	}
	d->d = nd;
	memset(&d->d[d->n], 0, (d->refs.n - d->n) * sizeof(*nd));
	for (j = 0; j < d->refs.n; j++)
		d->d[j].ref = &d->refs.v[j];
	j = d->n;
	d->n = d->refs.n;
	for (; j < d->n; j++)
		pg_decide__match_one(d, &d->d[j]);
}

void
pg_decision_verify(pg_decision *d, struct pg_verify_ctx *vctx, const pg_decision_cache *dc,
		   int64_t deadline)
{
	char key[4096];
	size_t i, j;

	expand_releases(d);
	for (i = 0; i < d->n; i++) {
		pg_refdec *rd = &d->d[i];
		pg_cache_val cv;

		if (rd->state != PG_RD_PENDING)
			continue;
		for (j = 0; j < i; j++)
			if (d->d[j].state != PG_RD_PENDING && same_target(&d->d[j], rd))
				break;
		if (j < i) {
			pg_refdec_set(rd, d->d[j].state, d->d[j].code, d->d[j].reason,
				      d->d[j].digest, d->d[j].signer);
			continue;
		}
		if (pg_clock_left_ms(deadline) <= 0) {
			pg_refdec_set(rd, PG_RD_DENY, PG_ETIMEOUT, "verification timed out", NULL,
				      NULL);
			continue;
		}
		if (dc == NULL || dc->cache == NULL || !cache_key(key, sizeof(key), rd)) {
			verify_one(rd, d, vctx, deadline);
			continue;
		}
		memset(&cv, 0, sizeof(cv));
		switch (pg_cache_claim(dc->cache, key, deadline, &cv)) {
		case PG_CLAIM_HIT:
			set_from_cache(rd, &cv);
			break;
		case PG_CLAIM_TIMEOUT:
			pg_refdec_set(rd, PG_RD_DENY, PG_ETIMEOUT, "verification timed out", NULL,
				      NULL);
			break;
		default:
			verify_one(rd, d, vctx, deadline);
			cv.ok = rd->state == PG_RD_ALLOW;
			cv.code = rd->code;
			cv.digest = rd->digest;
			cv.signer = rd->signer;
			cv.reason = rd->reason;
			(void)pg_cache_put(dc->cache, key, &cv, cache_ttl(rd, dc));
			pg_cache_release(dc->cache, key);
			break;
		}
	}
}
