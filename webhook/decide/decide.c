/*
 * decide/decide — the deny-by-default decision per reference and for the
 * whole review, and its three renderings: the AdmissionReview response, the
 * auditAnnotations, and the JSON admission-log line.
 *
 * Rule of the room: a reference is allowed only by an explicit ALLOW
 * (verified) or UNSIGNED (allowUnsigned rule) state; every other path,
 * including "still pending" and any internal error, is a deny.  A review
 * is allowed without references only as "skip" (DELETE/CONNECT, a kind with
 * no pod template we can read, an UPDATE whose references are the
 * oldObject's) or "exempt", each with its reason in the log line and the
 * annotations; a malformed object (wrong-typed field, too many references,
 * past the parser's limits) is denied as a whole, with its reason.
 */
#include "decide/decide_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "buf/jsonw.h"
#include "clock/clock.h"
#include "verify/verify.h"

/* status.message is shown by kubectl; keep it readable and bounded. */
#define MESSAGE_MAX ((size_t)16 << 10)
/* Per-reference audit annotation value bound. */
#define ANNOTATION_MAX 1024

void
pg_refdec_set(pg_refdec *rd, pg_rd_state st, int code, const char *reason, const char *digest,
	      const char *signer)
{
	char *r = pg_strdup(reason), *dg = pg_strdup(digest), *sg = pg_strdup(signer);

	/* reasons quote registries and cut text at byte bounds: keep them
	 * valid UTF-8, or the response and the log line could not carry them */
	pg_utf8_clean(r);
	pg_utf8_clean(dg);
	pg_utf8_clean(sg);
	free(rd->reason);
	free(rd->digest);
	free(rd->signer);
	rd->state = st;
	rd->code = code;
	rd->reason = r;
	rd->digest = dg;
	rd->signer = sg;
	/* Out of memory while recording an allow must not allow. */
	if (reason && r == NULL && st != PG_RD_DENY) {
		rd->state = PG_RD_DENY;
		rd->code = PG_ENOMEM;
	}
}

static void
setf(pg_refdec *rd, pg_rd_state st, int code, const char *fmt, const char *a, const char *b)
{
	char msg[1024];

	(void)snprintf(msg, sizeof(msg), fmt, a, b ? b : "");
	pg_refdec_set(rd, st, code, msg, rd->ref->image ? rd->ref->image->digest : NULL, NULL);
}

void
pg_decide__match_one(pg_decision *d, pg_refdec *rd)
{
	const pg_refent *e = rd->ref;
	const pg_rule *r = NULL;
	const char *label = ref_label(e);

	if (e->invalid) {
		setf(rd, PG_RD_DENY, PG_EINVAL, "%s", e->invalid, NULL);
		return;
	}
	if (e->kind == PG_REF_IMAGE) {
		r = pg_policy_match_image(d->pol, e->image->normalized);
	} else if (e->chart->kind == PG_CHART_RELEASE || e->chart->source) {
		/* Rule found after decoding the release / resolving the
		 * Flux source: that is a worker's job. */
		rd->state = PG_RD_PENDING;
		return;
	} else {
		r = pg_policy_match_chart(d->pol, e->chart->location);
	}
	rd->rule = r;
	if (r == NULL) {
		setf(rd, PG_RD_DENY, PG_EPOLICY, "no policy rule matches %s", label, NULL);
		return;
	}
	if (e->kind == PG_REF_SOURCE) {
		setf(rd, PG_RD_ALLOW, PG_OK, "source allowed by rule %s%s", r->name, NULL);
		return;
	}
	if (r->allow_unsigned) {
		setf(rd, PG_RD_UNSIGNED, PG_OK, "allowed unverified by rule %s (allowUnsigned)%s",
		     r->name, NULL);
		return;
	}
	if (e->chart && e->chart->range) {
		char msg[1024];
		int rr = pg_verify_chart_range(r, e->chart, msg, sizeof(msg));

		if (rr < 0) {
			pg_refdec_set(rd, PG_RD_DENY, rr, msg, NULL, NULL);
			return;
		}
		free(rd->warning);
		rd->warning = pg_strdup(msg);
	}
	if (r->require_digest && e->image && e->image->digest == NULL) {
		setf(rd, PG_RD_DENY, PG_EPOLICY,
		     "rule %s requires a digest: use %s@sha256:... (a tag can be re-pushed after "
		     "admission)",
		     r->name, e->image->normalized);
		return;
	}
	rd->state = PG_RD_PENDING;
}

/* Every reference of the object (*read false: a kind not checked). */
static int
extract(pg_refs *out, bool *read, const pg_review *rv, const json_t *obj, pg_err *err)
{
	return pg_extract_object(out, read, pg_review_group(rv), pg_review_kind(rv), obj, err);
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Same artifact, read the same way: an image by its text, a chart by
 * everything that says what is fetched and how the tool resolves it (a
 * release Secret: its whole payload, since that content is what is
 * verified).  The same text as a tag and as a range is not the same
 * reference: Flux's ref.tag "1.2" is one tag, ref.semver "1.2" the newest
 * 1.2.x from then on. */
static bool
same_ref(const pg_refent *a, const pg_refent *b)
{
	const pg_chart_ref *x = a->chart, *y = b->chart;

	if (a->kind != b->kind || a->invalid || b->invalid || !str_eq(a->raw, b->raw) ||
	    (a->image == NULL) != (b->image == NULL) || (x == NULL) != (y == NULL))
		return false;
	if (x == NULL)
		return true;
	return x->kind == y->kind && str_eq(x->repo_url, y->repo_url) && str_eq(x->name, y->name) &&
	       str_eq(x->version, y->version) && str_eq(x->location, y->location) &&
	       str_eq(x->source, y->source) && x->range == y->range &&
	       str_eq(x->range_by, y->range_by) && x->release_len == y->release_len &&
	       (x->release_len == 0 || memcmp(x->release, y->release, x->release_len) == 0);
}

static bool
subset(const pg_refs *a, const pg_refs *b)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++)
			if (same_ref(&a->v[i], &b->v[j]))
				break;
		if (j == b->n)
			return false;
	}
	return true;
}

/*
 * An UPDATE that would run nothing new: its set of references equals the
 * oldObject's (scaling, finalizers, labels).  Anything that cannot be
 * read, an invalid reference, or an object without references is
 * decided as usual.
 */
static bool
refs_unchanged(const pg_decision *d)
{
	pg_refs old = {0};
	pg_err e;
	bool read, same = false;
	size_t i;

	if (strcmp(pg_review_operation(d->rv), "UPDATE") != 0 ||
	    pg_review_old_object(d->rv) == NULL || d->refs.n == 0)
		return false;
	for (i = 0; i < d->refs.n; i++)
		if (d->refs.v[i].invalid)
			return false;
	pg_err_clear(&e);
	if (extract(&old, &read, d->rv, pg_review_old_object(d->rv), &e) == PG_OK && read)
		same = subset(&d->refs, &old) && subset(&old, &d->refs);
	pg_refs_free(&old);
	return same;
}

/* Deny the object itself (no reference decided): why is the reason. */
static int
malformed(pg_decision *d, int code, const char *why)
{
	pg_refs_free(&d->refs);
	d->malformed = code;
	free(d->note);
	if ((d->note = pg_strdup(why)) == NULL)
		return PG_ENOMEM;
	pg_utf8_clean(d->note);
	return PG_OK;
}

int
pg_decision_begin(pg_decision **out, pg_review *rv, pg_policy *pol, pg_err *err)
{
	int rc = PG_ENOMEM;
	pg_decision *d = calloc(1, sizeof(*d));
	pg_err xerr;
	bool read;
	size_t i;

	if (d == NULL) {
		pg_review_free(rv);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	d->rv = rv;
	d->pol = pol;
	pg_policy_ref(pol);
	pg_err_clear(&xerr);
	if (strcmp(pg_review_operation(rv), "CREATE") != 0 &&
	    strcmp(pg_review_operation(rv), "UPDATE") != 0) {
		d->skipped = true;
		d->note = pg_strdup("operation not checked");
	} else if (pg_review_undecoded(rv)) {
		/* The namespace is not known: no exemption applies. */
		if (malformed(d, PG_EINVAL, pg_review_undecoded(rv)) != PG_OK)
			goto nomem;
	} else if (pg_policy_exempt_namespace(pol, pg_review_namespace(rv))) {
		d->exempt = true;
		d->note = pg_strdup("namespace exempt by policy");
	} else if (pg_review_object(rv) == NULL) {
		char why[96];

		(void)snprintf(why, sizeof(why), "request.object is %s, not a JSON object",
			       pg_review_object_type(rv) ? pg_review_object_type(rv) : "missing");
		if (malformed(d, PG_EINVAL, why) != PG_OK)
			goto nomem;
	} else if ((rc = extract(&d->refs, &read, rv, pg_review_object(rv), &xerr)) != PG_OK) {
		/* Too many references, a wrong-typed field: answered, denied. */
		if (rc == PG_ENOMEM || malformed(d, rc, xerr.msg) != PG_OK)
			goto nomem;
	} else if (!read) {
		d->skipped = true;
		d->note = pg_strdup("kind not checked");
	} else if (refs_unchanged(d)) {
		d->skipped = true;
		d->note = pg_strdup("references unchanged");
		pg_refs_free(&d->refs);
	} else {
		if (d->refs.n && (d->d = calloc(d->refs.n, sizeof(*d->d))) == NULL)
			goto nomem;
		d->n = d->refs.n;
		for (i = 0; i < d->n; i++) {
			d->d[i].ref = &d->refs.v[i];
			pg_decide__match_one(d, &d->d[i]);
		}
	}
	if ((d->skipped || d->exempt) && d->note == NULL)
		goto nomem;
	*out = d;
	d = NULL;
	rc = PG_OK;
	goto out;
nomem:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	pg_decision_free(d);
	return rc;
}

void
pg_decision_free(pg_decision *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->d[i].reason);
		free(d->d[i].digest);
		free(d->d[i].signer);
		free(d->d[i].warning);
		free(d->d[i].chart_name);
		free(d->d[i].chart_version);
	}
	free(d->d);
	pg_refs_free(&d->refs);
	pg_review_free(d->rv);
	pg_policy_unref(d->pol);
	free(d->note);
	free(d);
}

size_t
pg_decision_pending(const pg_decision *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++)
		n += d->d[i].state == PG_RD_PENDING;
	return n;
}

pg_refdec *
pg_decision_refs(pg_decision *d, size_t *n)
{
	*n = d->n;
	return d->d;
}

const pg_policy *
pg_decision_policy(const pg_decision *d)
{
	return d->pol;
}
const pg_review *
pg_decision_review(const pg_decision *d)
{
	return d->rv;
}

void
pg_decision_fail_pending(pg_decision *d, int code, const char *reason)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->d[i].state == PG_RD_PENDING)
			pg_refdec_set(&d->d[i], PG_RD_DENY, code, reason, NULL, NULL);
}

static bool
any_deny(const pg_decision *d)
{
	size_t i;

	if (d->malformed != PG_OK)
		return true;
	for (i = 0; i < d->n; i++)
		if (d->d[i].state != PG_RD_ALLOW && d->d[i].state != PG_RD_UNSIGNED)
			return true;
	return false;
}

static bool
audit(const pg_decision *d)
{
	return pg_policy_mode(d->pol) == PG_MODE_AUDIT;
}

bool
pg_decision_allowed(const pg_decision *d)
{
	if (d->skipped || d->exempt)
		return true;
	return !any_deny(d) || audit(d);
}

const char *
pg_decision_label(const pg_decision *d)
{
	if (d->skipped)
		return "skip";
	if (d->exempt)
		return "exempt";
	if (!any_deny(d))
		return "allow";
	return audit(d) ? "audit-deny" : "deny";
}

const char *
pg_decision_reason_class(const pg_decision *d)
{
	size_t i;

	if (d->malformed != PG_OK)
		return pg_err_name(d->malformed);
	for (i = 0; i < d->n; i++)
		if (d->d[i].state != PG_RD_ALLOW && d->d[i].state != PG_RD_UNSIGNED)
			return d->d[i].state == PG_RD_PENDING ? "pending"
							      : pg_err_name(d->d[i].code);
	return "";
}

static const char *
state_name(pg_rd_state s)
{
	switch (s) {
	case PG_RD_ALLOW:
		return "allow";
	case PG_RD_UNSIGNED:
		return "allow-unverified";
	case PG_RD_DENY:
		return "deny";
	default:
		return "deny";
	}
}

static const char *
reason_of(const pg_refdec *rd)
{
	if (rd->state == PG_RD_PENDING)
		return "not verified";
	return rd->reason ? rd->reason : "no reason recorded";
}

/* status.message: what kubectl shows.  Denied references first, each with
 * its reason, so the first line says what to fix. */
static int
message(pg_buf *m, const pg_decision *d, bool allowed)
{
	size_t i, head;
	int pass, rc = PG_OK;
	const char *ns = pg_review_namespace(d->rv)[0] ? pg_review_namespace(d->rv) : "";

	rc = pg_buf_printf(m, "provgate %s %s %s%s%s", allowed ? "allowed" : "denied",
			   pg_review_kind(d->rv)[0] ? pg_review_kind(d->rv) : "object", ns,
			   ns[0] ? "/" : "", pg_review_name(d->rv));
	if (rc != PG_OK)
		return rc;
	if (d->note)
		return pg_buf_printf(m, ": %s", d->note);
	if (d->n == 0)
		return pg_buf_puts(m, ": no image or chart references");
	head = m->len;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < d->n; i++) {
			const pg_refdec *rd = &d->d[i];
			bool denied = rd->state != PG_RD_ALLOW && rd->state != PG_RD_UNSIGNED;

			if (denied != (pass == 0) || pg__advice_repeat(d, i))
				continue;
			rc =
			    pg_buf_printf(m, "%s %s %s: %s", m->len > head ? ";" : ":",
					  ref_label(rd->ref), state_name(rd->state), reason_of(rd));
			if (rc == PG_OK)
				rc = pg__advice_detail(m, d, i);
			if (rc == PG_ETOOBIG)
				return PG_OK; /* a long list is cut, not failed */
			if (rc != PG_OK)
				return rc;
		}
	}
	rc = any_deny(d) ? pg__advice_policy(m, d) : PG_OK;
	return rc == PG_ETOOBIG ? PG_OK : rc;
}

/* auditAnnotations: the decision, why it was skipped or exempt, and one
 * line per reference (bounded, so a long reason cannot bloat the object). */
static void
annotations(pg_jw *w, const pg_decision *d)
{
	char key[32], val[ANNOTATION_MAX];
	size_t i;

	pg_jw_key(w, "auditAnnotations");
	pg_jw_obj(w);
	pg_jw_kstr(w, "decision", pg_decision_label(d));
	if (d->note)
		pg_jw_kstr(w, "reason", d->note);
	for (i = 0; i < d->n; i++) {
		const pg_refdec *rd = &d->d[i];

		(void)snprintf(key, sizeof(key), "ref-%zu", i);
		(void)snprintf(val, sizeof(val), "%s %s rule=%s digest=%s: %s", ref_label(rd->ref),
			       state_name(rd->state), rd->rule ? rd->rule->name : "none",
			       rd->digest ? rd->digest : "none", reason_of(rd));
		pg_utf8_clean(val); /* the bound may cut a character */
		pg_jw_kstr(w, key, val);
	}
	pg_jw_end(w);
}

/* One element of response.warnings, the array opened at the first one. */
static void
warning(pg_jw *w, bool *open, const char *text)
{
	if (!*open) {
		pg_jw_key(w, "warnings");
		pg_jw_arr(w);
		*open = true;
	}
	pg_jw_str(w, text);
}

/* response.warnings of an admitted review: in audit mode what would be
 * denied; what was admitted but is not fully covered (version ranges); and
 * for every admitted image tag the digest that was verified, since a tag
 * can be re-pushed after admission (so the user can pin it, or turn on
 * /mutate, which pins it in Pods). */
static void
warnings(pg_jw *w, const pg_decision *d)
{
	bool open = false;
	char buf[1400];
	size_t i;

	if (d->skipped || d->exempt)
		goto tags;
	if (any_deny(d)) {
		/* the array is there even if every deny repeats another */
		pg_jw_key(w, "warnings");
		pg_jw_arr(w);
		open = true;
		if (d->malformed != PG_OK) {
			(void)snprintf(buf, 1200, "provgate audit: would deny %s: %s",
				       pg_review_kind(d->rv)[0] ? pg_review_kind(d->rv) : "object",
				       d->note);
			pg_utf8_clean(buf);
			warning(w, &open, buf);
		}
		for (i = 0; i < d->n; i++) {
			const pg_refdec *rd = &d->d[i];

			if (rd->state == PG_RD_ALLOW || rd->state == PG_RD_UNSIGNED ||
			    pg__advice_repeat(d, i))
				continue;
			(void)snprintf(buf, 1200, "provgate audit: would deny %s: %s",
				       ref_label(rd->ref), reason_of(rd));
			pg__advice_append(buf, 1200, d, i);
			warning(w, &open, buf);
		}
	}
	for (i = 0; i < d->n; i++) {
		const pg_refdec *rd = &d->d[i];

		if (rd->warning == NULL ||
		    (rd->state != PG_RD_ALLOW && rd->state != PG_RD_UNSIGNED))
			continue;
		(void)snprintf(buf, 1200, "provgate: %s: %s", ref_label(rd->ref), rd->warning);
		pg_utf8_clean(buf);
		warning(w, &open, buf);
	}
tags:
	for (i = 0; i < d->n; i++) {
		const pg_refdec *rd = &d->d[i];

		if (rd->state != PG_RD_ALLOW || rd->ref->image == NULL ||
		    rd->ref->image->digest != NULL || rd->digest == NULL)
			continue;
		(void)snprintf(buf, sizeof(buf),
			       "provgate: tag %s verified as %s; a tag can move, pin it as %s@%s",
			       rd->ref->raw, rd->digest, rd->ref->raw, rd->digest);
		pg_utf8_clean(buf);
		warning(w, &open, buf);
	}
	if (open)
		pg_jw_end(w);
}

/* The writer's text as a malloc'd string; PG_ENOMEM for any failure. */
static int
detach(char **out, size_t *len, pg_jw *w)
{
	if (w->rc != PG_OK || w->depth != 0 || pg_buf_detach(out, len, w->b) != PG_OK)
		return PG_ENOMEM;
	return PG_OK;
}

/* Room for a typical response or log line without growing. */
#define RENDER_START 2048

int
pg_decision_response(char **out, size_t *len, const pg_decision *d)
{
	int rc = PG_ENOMEM;
	bool allowed = pg_decision_allowed(d);
	pg_buf m, b;
	pg_jw w;

	pg_buf_init(&m, MESSAGE_MAX);
	pg_buf_init(&b, 0);
	if (!allowed && message(&m, d, false) != PG_OK)
		goto out;
	pg_utf8_clean((char *)m.data);
	(void)pg_buf_reserve(&b, RENDER_START);
	pg_jw_init(&w, &b);
	pg_jw_obj(&w);
	pg_jw_kstr(&w, "apiVersion", pg_review_api_version(d->rv));
	pg_jw_kstr(&w, "kind", "AdmissionReview");
	pg_jw_key(&w, "response");
	pg_jw_obj(&w);
	pg_jw_kstr(&w, "uid", pg_review_uid(d->rv));
	pg_jw_kbool(&w, "allowed", allowed);
	if (!allowed) {
		pg_jw_key(&w, "status");
		pg_jw_obj(&w);
		pg_jw_kint(&w, "code", 403);
		pg_jw_kstr(&w, "reason", "Forbidden");
		pg_jw_kstr(&w, "message", m.data ? (const char *)m.data : "");
		pg_jw_end(&w);
	} else {
		warnings(&w, d);
	}
	annotations(&w, d);
	pg_jw_end(&w);
	pg_jw_end(&w);
	rc = detach(out, len, &w);
out:
	pg_buf_free(&b);
	pg_buf_free(&m);
	return rc;
}

/* Charts: the name and version that were verified (a resolved range), else
 * those asked for; with the digest already on the line, every chart
 * reference says exactly which chart it admitted or refused. */
static void
chart_fields(pg_jw *w, const pg_refdec *rd)
{
	const pg_chart_ref *c = rd->ref->chart;
	const char *name = rd->chart_name, *ver = rd->chart_version;

	if (c == NULL)
		return;
	if (name == NULL && c->kind != PG_CHART_RELEASE && strcmp(c->name, "*") != 0)
		name = c->name;
	if (ver == NULL && !c->range)
		ver = c->version;
	if (name)
		pg_jw_kstr(w, "chart", name);
	if (ver)
		pg_jw_kstr(w, "version", ver);
	if (rd->warning && (rd->state == PG_RD_ALLOW || rd->state == PG_RD_UNSIGNED))
		pg_jw_kstr(w, "warning", rd->warning);
}

void
pg_decide__log_head(struct pg_jw *w, const char *msg, const pg_decision *d)
{
	char ts[40];

	pg_clock_rfc3339(ts, sizeof(ts));
	pg_jw_obj(w);
	pg_jw_kstr(w, "time", ts);
	pg_jw_kstr(w, "msg", msg);
	pg_jw_kstr(w, "uid", pg_review_uid(d->rv));
	pg_jw_kstr(w, "namespace", pg_review_namespace(d->rv));
	pg_jw_kstr(w, "kind", pg_review_kind(d->rv));
	pg_jw_kstr(w, "name", pg_review_name(d->rv));
	pg_jw_kstr(w, "operation", pg_review_operation(d->rv));
	pg_jw_kstr(w, "user", pg_review_user(d->rv));
}

int
pg_decision_log_line(char **out, size_t *len, const pg_decision *d, int64_t duration_us)
{
	pg_buf b;
	pg_jw w;
	size_t i;
	int rc;

	pg_buf_init(&b, 0);
	(void)pg_buf_reserve(&b, RENDER_START);
	pg_jw_init(&w, &b);
	pg_decide__log_head(&w, "admission", d);
	pg_jw_kbool(&w, "allowed", pg_decision_allowed(d));
	pg_jw_kstr(&w, "decision", pg_decision_label(d));
	pg_jw_key(&w, "references");
	pg_jw_arr(&w);
	for (i = 0; i < d->n; i++) {
		const pg_refdec *rd = &d->d[i];

		pg_jw_obj(&w);
		pg_jw_kstr(&w, "ref", ref_label(rd->ref));
		pg_jw_kstr(&w, "type",
			   rd->ref->kind == PG_REF_IMAGE    ? "image"
			   : rd->ref->kind == PG_REF_SOURCE ? "source"
							    : "chart");
		pg_jw_kstr(&w, "where", rd->ref->where ? rd->ref->where : "");
		pg_jw_kstr(&w, "digest", rd->digest); /* null when none */
		pg_jw_kstr(&w, "rule", rd->rule ? rd->rule->name : "");
		pg_jw_kstr(&w, "decision", state_name(rd->state));
		pg_jw_kstr(&w, "signer", rd->signer);
		pg_jw_kstr(&w, "reason", reason_of(rd));
		pg_jw_kbool(&w, "cached", rd->cached);
		chart_fields(&w, rd);
		pg__advice_log_fields(&w, rd->ref);
		pg_jw_end(&w);
	}
	pg_jw_end(&w);
	pg_jw_key(&w, "duration_ms");
	pg_jw_millis(&w, duration_us);
	if (d->note)
		pg_jw_kstr(&w, "reason", d->note);
	if (audit(d))
		pg_jw_kstr(&w, "mode", "audit");
	pg_jw_end(&w);
	if (w.rc == PG_OK)
		w.rc = pg_buf_append(&b, "\n", 1);
	rc = detach(out, len, &w);
	pg_buf_free(&b);
	return rc;
}

int
pg_decision_render_failed(pg_decision *d, int code, const char *reason, char **resp, size_t *rlen,
			  char **log, size_t *llen, const char **label, int64_t duration_us)
{
	bool *was = calloc(d->n ? d->n : 1, sizeof(*was));
	size_t i;
	int rc;

	*resp = *log = NULL;
	if (was == NULL)
		return PG_ENOMEM;
	for (i = 0; i < d->n; i++)
		was[i] = d->d[i].state == PG_RD_PENDING;
	pg_decision_fail_pending(d, code, reason);
	*label = pg_decision_label(d);
	rc = pg_decision_response(resp, rlen, d);
	if (rc == PG_OK)
		rc = pg_decision_log_line(log, llen, d, duration_us);
	for (i = 0; i < d->n; i++) {
		pg_refdec *rd = &d->d[i];

		if (!was[i])
			continue;
		free(rd->reason);
		free(rd->digest);
		free(rd->signer);
		rd->reason = rd->digest = rd->signer = NULL;
		rd->state = PG_RD_PENDING;
		rd->code = PG_OK;
	}
	free(was);
	if (rc != PG_OK) {
		free(*resp);
		free(*log);
		*resp = *log = NULL;
	}
	return rc;
}
