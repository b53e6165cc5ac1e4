/*
 * decide/advice — the part of a deny message a person acts on: where in
 * the object each denied reference is written (its field path), the rule
 * and trust entry it was judged by, what to do about it, and where the
 * policy lives.  The same reference written in several places is told once.
 *
 * Text only: nothing here changes a decision, and every output is bounded
 * by the caller's pg_buf.  Advice is chosen from the rule and the reason's
 * wording (the reasons come from verify/, oci/, sigstore/, helm/ and
 * fetch/); a reason no case knows gets the path, rule and trust entry only.
 */
#include "decide/decide_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "buf/jsonw.h"

/* Bound of one field path or one piece of advice. */
#define PIECE_MAX 512

static const char *
label(const pg_refent *e)
{
	if (e->image)
		return e->image->normalized;
	if (e->chart && (e->chart->kind == PG_CHART_RELEASE || e->chart->source == NULL))
		return e->chart->location;
	return e->raw;
}

static bool
denied(const pg_refdec *rd)
{
	return rd->state != PG_RD_ALLOW && rd->state != PG_RD_UNSIGNED;
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool
pg__advice_repeat(const pg_decision *d, size_t i)
{
	const pg_refdec *rd = &d->d[i];
	size_t j;

	for (j = 0; j < i; j++) {
		const pg_refdec *o = &d->d[j];

		if (o->state == rd->state && same_str(o->reason, rd->reason) &&
		    strcmp(label(o->ref), label(rd->ref)) == 0)
			return true;
	}
	return false;
}

static bool
ends_with(const char *s, const char *t)
{
	size_t n = strlen(s), m = strlen(t);

	return n >= m && strcmp(s + n - m, t) == 0;
}

/*
 * The field path of a reference from the extractor's location: containers
 * are located "BASE.FIELD[i] (NAME)", image volumes "BASE.volumes[NAME]",
 * chart fields by the object holding them.
 */
static void
field_path(char *out, size_t n, const pg_refent *e, const char *where)
{
	const char *paren;

	if (where == NULL || where[0] == '\0') {
		(void)snprintf(out, n, "%s", e->kind == PG_REF_IMAGE ? "image" : "chart");
		return;
	}
	if (e->kind == PG_REF_IMAGE) {
		paren = strstr(where, "] (");
		if (paren && ends_with(where, ")"))
			(void)snprintf(out, n, "%.*s].image (container %s", (int)(paren - where),
				       where, paren + 3);
		else if (strstr(where, "volumes[") && ends_with(where, "]"))
			(void)snprintf(out, n, "%s.image.reference", where);
		else if (ends_with(where, "]"))
			(void)snprintf(out, n, "%s.image", where);
		else
			(void)snprintf(out, n, "%s", where);
	} else if ((strncmp(where, "spec.source", 11) == 0 && strchr(where + 11, '.') == NULL) ||
		   strcmp(where, "spec.chart.spec") == 0 || strcmp(where, "spec") == 0) {
		/* an Argo CD source names its chart in `chart` (a native OCI
		 * source is located at its repoURL already) */
		(void)snprintf(out, n, "%s.chart", where);
	} else {
		(void)snprintf(out, n, "%s", where);
	}
	pg_utf8_clean(out);
}

/* Every place the reference of d->d[i] is written, its repeats included. */
static int
places(pg_buf *m, const pg_decision *d, size_t i)
{
	const pg_refdec *rd = &d->d[i];
	char p[PIECE_MAX];
	size_t j, more = rd->ref->n_also, shown = 1;
	const char *second = rd->ref->also;
	int rc;

	for (j = i + 1; j < d->n; j++) {
		const pg_refdec *o = &d->d[j];

		if (o->state != rd->state || !same_str(o->reason, rd->reason) ||
		    strcmp(label(o->ref), label(rd->ref)) != 0)
			continue;
		if (second == NULL)
			second = o->ref->where;
		more += 1 + o->ref->n_also;
	}
	field_path(p, sizeof(p), rd->ref, rd->ref->where);
	if ((rc = pg_buf_printf(m, "at %s", p)) != PG_OK)
		return rc;
	if (more >= 1 && second) {
		field_path(p, sizeof(p), rd->ref, second);
		if ((rc = pg_buf_printf(m, " and %s", p)) != PG_OK)
			return rc;
		shown++;
	}
	if (more + 1 > shown)
		rc = pg_buf_printf(m, " and %zu more place%s", more + 1 - shown,
				   more + 1 - shown == 1 ? "" : "s");
	return rc;
}

static const pg_verifier *
first_of(const pg_rule *r, pg_verify_kind k)
{
	size_t i;

	for (i = 0; r && i < r->n_verify; i++)
		if (r->verify[i].kind == k)
			return &r->verify[i];
	return NULL;
}

/* "key NAME", "keyless issuer I", ... for each verifier of the rule. */
static int
trust_entries(pg_buf *m, const pg_rule *r)
{
	size_t i;
	int rc = PG_OK;

	for (i = 0; i < r->n_verify && rc == PG_OK; i++) {
		const pg_verifier *v = &r->verify[i];
		const char *sep = i ? ", " : "; trust ";

		switch (v->kind) {
		case PG_VERIFY_COSIGN_KEY:
			rc = pg_buf_printf(m, "%scosign key %s", sep, v->key ? v->key->name : "?");
			break;
		case PG_VERIFY_PROV:
			rc = pg_buf_printf(m, "%skeyring %s", sep,
					   v->keyring ? v->keyring->name : "?");
			break;
		case PG_VERIFY_NOTATION:
			if (v->nv_config_dir)
				rc =
				    pg_buf_printf(m, "%snotation config %s", sep, v->nv_config_dir);
			else
				rc = pg_buf_printf(
				    m, "%snotation ca %s", sep,
				    v->n_nv_certs && v->nv_certs[0] ? v->nv_certs[0]->name : "?");
			break;
		default:
			rc = pg_buf_printf(m, "%skeyless issuer %s%s%s", sep,
					   v->issuer	      ? v->issuer
					   : v->issuer_regexp ? v->issuer_regexp
							      : "(any)",
					   v->root ? " root " : "", v->root ? v->root->name : "");
			break;
		}
		if (rc == PG_OK && v->n_attest)
			rc = pg_buf_printf(m, " with %zu attestation%s", v->n_attest,
					   v->n_attest == 1 ? "" : "s");
	}
	return rc;
}

static const char *
host_of(const pg_refent *e, char *buf, size_t n)
{
	const char *s, *end;

	if (e->image)
		return e->image->registry;
	s = e->chart ? e->chart->location : e->raw;
	if (s == NULL)
		return "the registry";
	if ((end = strstr(s, "://")) != NULL)
		s = end + 3;
	end = strchr(s, '/');
	(void)snprintf(buf, n, "%.*s", end ? (int)(end - s) : (int)strlen(s), s);
	return buf;
}

/* What to do, from the rule and the reason's wording; "" when no case fits. */
static void
advice(char *out, size_t n, const pg_refdec *rd)
{
	const char *why = rd->reason ? rd->reason : "";
	const pg_refent *e = rd->ref;
	const pg_rule *r = rd->rule;
	const pg_verifier *kl = first_of(r, PG_VERIFY_COSIGN_KEYLESS);
	const pg_verifier *ky = first_of(r, PG_VERIFY_COSIGN_KEY);
	const pg_verifier *nv = first_of(r, PG_VERIFY_NOTATION);
	const pg_verifier *kr = first_of(r, PG_VERIFY_PROV);
	char hb[256];

	out[0] = '\0';
	if (rd->state == PG_RD_PENDING)
		return;
	if (e->invalid) {
		(void)snprintf(out, n, "fix the reference in the object");
	} else if (strstr(why, "no policy rule matches")) {
		(void)snprintf(
		    out, n, "add a spec.%s rule whose match covers it (or use one a rule covers)",
		    e->kind == PG_REF_IMAGE ? "images" : "charts");
	} else if (strstr(why, "has no provenance") ||
		   (strstr(why, "failed to fetch provenance") && strstr(why, "404"))) {
		(void)snprintf(out, n,
			       "this chart has no .prov — publish one with `helm package --sign` "
			       "and upload it beside the .tgz (keyring %s must hold the key)",
			       kr && kr->keyring ? kr->keyring->name : "of the rule");
	} else if (strstr(why, "has no certificate and no key was given")) {
		(void)snprintf(
		    out, n,
		    "key-signed, but rule %s wants a Fulcio certificate from issuer %s — "
		    "sign keyless (`cosign sign` with that identity) or give the rule a cosign key",
		    r ? r->name : "?",
		    kl && kl->issuer	      ? kl->issuer
		    : kl && kl->issuer_regexp ? kl->issuer_regexp
					      : "(any)");
	} else if (strstr(why, "certificate identity") || strstr(why, "OIDC issuer")) {
		(void)snprintf(out, n,
			       "signed by another identity: rule %s accepts issuer %s, subject %s",
			       r ? r->name : "?",
			       kl && kl->issuer		 ? kl->issuer
			       : kl && kl->issuer_regexp ? kl->issuer_regexp
							 : "(any)",
			       kl && kl->subject	  ? kl->subject
			       : kl && kl->subject_regexp ? kl->subject_regexp
							  : "(any)");
	} else if (strstr(why, "signature does not verify with")) {
		(void)snprintf(
		    out, n,
		    "signed, but not by the key the rule trusts — sign with the private key of "
		    "cosign key %s, or add the signer's public key to trust.keys",
		    ky && ky->key ? ky->key->name : "?");
	} else if (strstr(why, "no Notation signature")) {
		(void)snprintf(out, n,
			       "sign it with `notation sign` using a certificate that chains to "
			       "notation ca %s",
			       nv && nv->n_nv_certs && nv->nv_certs[0] ? nv->nv_certs[0]->name
								       : "of the rule");
	} else if (strstr(why, "no attestations found")) {
		(void)snprintf(
		    out, n,
		    "attach the attestation rule %s requires (`cosign attest --type ...`, or "
		    "GitHub's attest-build-provenance)",
		    r ? r->name : "?");
	} else if (strstr(why, "no signatures found") || strstr(why, "no signature of")) {
		if (kl && !ky)
			(void)snprintf(out, n,
				       "unsigned: sign it keyless with `cosign sign` as issuer %s",
				       kl->issuer	   ? kl->issuer
				       : kl->issuer_regexp ? kl->issuer_regexp
							   : "(any)");
		else if (nv && !ky)
			(void)snprintf(out, n, "unsigned: sign it with `notation sign`");
		else
			(void)snprintf(
			    out, n,
			    "unsigned: sign it with `cosign sign --key` (the private key of "
			    "cosign key %s) or `notation sign`",
			    ky && ky->key ? ky->key->name : "?");
	} else if (strstr(why, "certificate problem") || strstr(why, "certificate verify") ||
		   strstr(why, "local issuer certificate") ||
		   strstr(why, "self-signed certificate") ||
		   strstr(why, "self signed certificate")) {
		(void)snprintf(out, n, "registry CA unknown — set registries[].caFile for %s",
			       host_of(e, hb, sizeof(hb)));
	} else if (strstr(why, " 401") || strstr(why, "unauthorized") ||
		   strstr(why, "UNAUTHORIZED") || strstr(why, "DENIED")) {
		(void)snprintf(
		    out, n, "the registry wants credentials — set registries[].dockerConfig for %s",
		    host_of(e, hb, sizeof(hb)));
	} else if (strstr(why, "cannot reach")) {
		(void)snprintf(
		    out, n,
		    "check the host name %s and that provgate can reach it (DNS, proxy, egress)",
		    host_of(e, hb, sizeof(hb)));
	} else if (strstr(why, "refusing to connect")) {
		(void)snprintf(out, n,
			       "name %s in a rule or registries[].host of the policy if it is "
			       "meant to be reached",
			       host_of(e, hb, sizeof(hb)));
	} else if (rd->code == PG_ETIMEOUT) {
		(void)snprintf(
		    out, n, "%s did not answer in time — retry, or raise the deadline (--timeout)",
		    host_of(e, hb, sizeof(hb)));
	} else if (rd->code == PG_ENOTFOUND) {
		(void)snprintf(out, n, "check that the tag or digest exists in %s",
			       host_of(e, hb, sizeof(hb)));
	} else if (kr && rd->code == PG_EVERIFY) {
		(void)snprintf(out, n,
			       "sign the chart with a key in keyring %s (`helm package --sign`)",
			       kr->keyring ? kr->keyring->name : "?");
	}
	pg_utf8_clean(out);
}

int
pg__advice_detail(pg_buf *m, const pg_decision *d, size_t i)
{
	const pg_refdec *rd = &d->d[i];
	char adv[PIECE_MAX];
	int rc;

	if ((rc = pg_buf_puts(m, " [")) != PG_OK || (rc = places(m, d, i)) != PG_OK)
		return rc;
	if (rd->rule) {
		if ((rc = pg_buf_printf(m, "; rule %s", rd->rule->name)) != PG_OK)
			return rc;
		if (denied(rd) && (rc = trust_entries(m, rd->rule)) != PG_OK)
			return rc;
	}
	if ((rc = pg_buf_puts(m, "]")) != PG_OK)
		return rc;
	if (!denied(rd))
		return PG_OK;
	advice(adv, sizeof(adv), rd);
	return adv[0] ? pg_buf_printf(m, " — %s", adv) : PG_OK;
}

int
pg__advice_policy(pg_buf *m, const pg_decision *d)
{
	const char *src = getenv("PROVGATE_POLICY_SOURCE");
	const pg_rule *r = NULL;
	const char *f, *slash;
	size_t i;

	if (src && src[0])
		return pg_buf_printf(m, " (policy: %.200s)", src);
	for (i = 0; i < d->n && r == NULL; i++)
		r = d->d[i].rule;
	if (r == NULL)
		r = pg_policy_rule_at(d->pol, false, 0);
	if (r == NULL)
		r = pg_policy_rule_at(d->pol, true, 0);
	if (r == NULL || (f = r->source_file) == NULL)
		return PG_OK;
	slash = strrchr(f, '/');
	if (slash == NULL)
		return pg_buf_printf(m, " (policy: %.300s)", f);
	return pg_buf_printf(m, " (policy: directory %.*s)", (int)(slash - f), f);
}

void
pg__advice_append(char *buf, size_t n, const pg_decision *d, size_t i)
{
	size_t have = strnlen(buf, n);
	pg_buf m;

	pg_buf_init(&m, n > have + 1 ? n - have - 1 : 1);
	(void)pg__advice_detail(&m, d, i); /* cut when full */
	if (m.data && m.len)
		(void)snprintf(buf + have, n - have, "%.*s", (int)m.len, (const char *)m.data);
	pg_utf8_clean(buf);
	pg_buf_free(&m);
}

void
pg__advice_log_fields(pg_jw *w, const pg_refent *e)
{
	char p[PIECE_MAX];

	field_path(p, sizeof(p), e, e->where);
	pg_jw_kstr(w, "path", p);
	if (e->n_also)
		pg_jw_kint(w, "places", (long long)e->n_also + 1);
}
