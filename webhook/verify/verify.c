/*
 * verify — from a rule's verifier list to the evidence modules, and the
 * rule's `require` over their results.
 *
 * Every network request made here goes through guard(): a host no rule of
 * the policy can match is never contacted, so an admitted object cannot
 * steer provgate to an arbitrary address (DESIGN §5).
 *
 * Per-worker state: the fetch handle (connection reuse), and the registry
 * client and parsed trust roots of the policy version last used; a new
 * policy (pointer) rebuilds them.
 */
#include "verify/verify_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf/buf.h"
#include "fetch/fetch.h"
#include "oci/oci.h"
#include "sigstore/sigstore.h"

int
pg_verify_ctx_new(pg_verify_ctx **out, const pg_verify_opts *opts)
{
	pg_verify_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return PG_ENOMEM;
	if (opts)
		c->opts = *opts;
	if (pg_fetch_new(&c->fetch) != PG_OK) {
		free(c);
		return PG_ENOMEM;
	}
	*out = c;
	return PG_OK;
}

static void
drop_policy_state(pg_verify_ctx *c)
{
	size_t i;

	pg_oci_free(c->oci);
	c->oci = NULL;
	for (i = 0; i < c->n_roots; i++)
		pg_trusted_root_free(c->roots[i].root);
	c->n_roots = 0;
	pg_policy_unref(c->pol);
	c->pol = NULL;
}

void
pg_verify_ctx_free(pg_verify_ctx *c)
{
	if (c == NULL)
		return;
	drop_policy_state(c);
	pg_pgp_free(c->pgp);
	pg_fetch_free(c->fetch);
	free(c);
}

void
pg_verdict_set(pg_verdict *v, bool ok, int code, const char *digest, const char *signer,
	       const char *reason)
{
	char *cn = v->chart_name, *cv = v->chart_version, *w = v->warning;

	v->chart_name = v->chart_version = v->warning = NULL;
	pg_verdict_clear(v);
	v->chart_name = cn;
	v->chart_version = cv;
	v->warning = w;
	v->ok = ok;
	v->code = code;
	v->digest = pg_strdup(digest);
	v->signer = pg_strdup(signer);
	v->reason = pg_strdup(reason ? reason : (ok ? "verified" : "not verified"));
}

void
pg_verdict_clear(pg_verdict *v)
{
	free(v->digest);
	free(v->signer);
	free(v->reason);
	free(v->chart_name);
	free(v->chart_version);
	free(v->warning);
	memset(v, 0, sizeof(*v));
}

/* ---------------------------------------------------------------- */
/* The SSRF guard                                                      */

/* Link-local and cloud metadata addresses: reachable from a pod, never a
 * registry.  Refused unless a rule names the address itself.  fetch/ owns
 * the list of ranges, and also refuses names that resolve into them. */
static bool
link_local(const char *host)
{
	return pg_fetch_addr_special(host);
}

/* Plain http:// only to a registries[] entry with plainHTTP: true; a
 * redirect or token realm must not downgrade any other host. */
static bool
plain_ok(const pg_policy *p, const char *hp, const char *host, int dflt)
{
	const pg_registry_cfg *const *regs;
	size_t n, i;

	regs = pg_policy_registries(p, &n);
	for (i = 0; i < n; i++)
		if (regs[i]->plain_http && (strcasecmp(regs[i]->host, hp) == 0 ||
					    (dflt && strcasecmp(regs[i]->host, host) == 0)))
			return true;
	return false;
}

static int
guard(const char *scheme, const char *host, int port, pg_err *err, void *ctx)
{
	const pg_policy *p = ctx;
	char hp[300];
	int dflt = (strcasecmp(scheme, "https") == 0 && port == 443) ||
		   (strcasecmp(scheme, "http") == 0 && port == 80);
	bool allowed;

	(void)snprintf(hp, sizeof(hp), "%s:%d", host, port);
	allowed = pg_policy_host_allowed(p, hp) || (dflt && pg_policy_host_allowed(p, host));
	if (!allowed)
		return pg_err_set(
		    err, PG_EDENIED,
		    "refusing to contact %s: no policy rule or registry names this host",
		    dflt ? host : hp);
	if (link_local(host) && !pg_policy_host_named(p, hp) &&
	    !(dflt && pg_policy_host_named(p, host)))
		return pg_err_set(err, PG_EDENIED,
				  "refusing to contact link-local or metadata address %s: no rule "
				  "names it exactly",
				  host);
	if (strcasecmp(scheme, "https") != 0 && !plain_ok(p, hp, host, dflt))
		return pg_err_set(err, PG_EDENIED,
				  "refusing %s:// to %s: only registries with plainHTTP: true are "
				  "reached without TLS",
				  scheme, dflt ? host : hp);
	return PG_OK;
}

/* ---------------------------------------------------------------- */
/* Per-policy state                                                    */

int
pg_verify__use_policy(pg_verify_ctx *c, const pg_policy *p, pg_err *err)
{
	const pg_registry_cfg *const *regs;
	pg_oci_host *hosts = NULL;
	pg_oci_opts o = {0};
	size_t n, i;
	int rc;

	if (c->pol == p && c->oci)
		return PG_OK;
	drop_policy_state(c);
	regs = pg_policy_registries(p, &n);
	if (n && (hosts = calloc(n, sizeof(*hosts))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		hosts[i].host = regs[i]->host;
		hosts[i].ca_file = regs[i]->ca_file ? regs[i]->ca_file : c->opts.ca_file;
		hosts[i].docker_config = regs[i]->docker_config;
		hosts[i].plain_http = regs[i]->plain_http;
	}
	o.hosts = hosts;
	o.n_hosts = n;
	o.ca_file = c->opts.ca_file;
	rc = pg_oci_new(&c->oci, &o, err);
	free(hosts);
	if (rc != PG_OK)
		return rc;
	pg_policy_ref((pg_policy *)p);
	c->pol = (pg_policy *)p;
	return PG_OK;
}

const pg_trusted_root *
pg_verify__root_for(pg_verify_ctx *c, const pg_policy *p, const pg_trust *t, pg_err *err)
{
	pg_trusted_root *r = NULL;
	const char *bytes;
	size_t i, len;

	if (t == NULL)
		return NULL;
	for (i = 0; i < c->n_roots; i++)
		if (c->roots[i].t == t)
			return c->roots[i].root;
	bytes = pg_policy_trust_bytes(p, t, &len);
	if (bytes == NULL || pg_trusted_root_load(&r, bytes, len, err) != PG_OK) {
		pg_err_wrap(err, "trust root %s: ", t->name);
		return NULL;
	}
	if (c->n_roots == ROOTS_MAX) {
		pg_trusted_root_free(c->roots[0].root);
		memmove(&c->roots[0], &c->roots[1], (ROOTS_MAX - 1) * sizeof(c->roots[0]));
		c->n_roots--;
	}
	c->roots[c->n_roots].t = t;
	c->roots[c->n_roots].root = r;
	c->n_roots++;
	return r;
}

int
pg_verify__sig_trust(pg_sig_trust *t, pg_verify_ctx *c, const pg_policy *p, const pg_rule *r,
		     const pg_verifier *v, pg_err *err)
{
	const pg_trust *root = v->root ? v->root : pg_policy_default_root(p);

	if (v->kind == PG_VERIFY_COSIGN_KEY)
		t->key_pem = pg_policy_trust_bytes(p, v->key, &t->key_len);
	t->root = pg_verify__root_for(c, p, root, err);
	if (root && t->root == NULL)
		return err->code ? err->code : PG_EINVAL;
	t->identity = v->subject;
	t->identity_regexp = v->subject_regexp;
	t->issuer = v->issuer;
	t->issuer_regexp = v->issuer_regexp;
	t->tlog_required = r->tlog == PG_TLOG_REQUIRED;
	return PG_OK;
}

/* How many of n verifiers must pass under the rule's `require`. */
size_t
pg_verify__needed(const pg_rule *r, size_t n)
{
	switch (r->require) {
	case PG_REQUIRE_ALL:
		return n;
	case PG_REQUIRE_ATLEAST:
		return r->at_least;
	default:
		return 1;
	}
}

/*
 * A rule with notation verifiers (and maybe cosign ones): every verifier
 * is judged on its own and the rule's `require` counts the passes.  The
 * cosign verifiers run as one discovery (pg_verify_cosign_image); each
 * notation verifier runs its own.  A registry failure that leaves the rule
 * unsatisfied is reported as such (never cached as a bad image).
 */
static int
verify_with_notation(pg_verdict *out, pg_verify_ctx *c, const pg_oci_req *q, const pg_rule *r,
		     const pg_image_ref *ref, const pg_sig_trust *trust, size_t n, size_t n_nv)
{
	pg_verify_cosign_result ver = {0};
	char *digest = NULL, *signer = NULL, *nd, *ns;
	char why[PG_ERR_MSG_MAX + 256], who[1024];
	int fetch_rc = PG_OK, rc;
	size_t i, good = 0, need = pg_verify__needed(r, n + n_nv);
	pg_err err, first;

	pg_err_clear(&first);
	if (n > 0) {
		pg_err_clear(&err);
		rc = pg_verify_cosign_image(&ver, c->oci, q, ref, trust, n, 0, &err);
		for (i = 0; rc == PG_OK && i < ver.n_trust && i < n; i++)
			good += ver.trust_ok[i] ? 1 : 0;
		if (rc != PG_OK && rc != PG_EVERIFY)
			fetch_rc = rc;
		if (rc != PG_OK)
			first = err;
		digest = pg_strdup(ver.digest);
		signer = pg_strdup(ver.signer);
	}
	for (i = 0; i < r->n_verify; i++) {
		const pg_verifier *v = &r->verify[i];

		if (v->kind != PG_VERIFY_NOTATION)
			continue;
		pg_err_clear(&err);
		nd = ns = NULL;
		rc = pg_verify__notation_image(&nd, &ns, c->oci, q, v, ref, (int64_t)time(NULL),
					       &err);
		/* One resolution per reference: a tag that named another
		 * manifest for this verifier than for the others (moved, or
		 * raced) proves nothing about the digest admitted. */
		if (rc == PG_OK && digest && nd && strcmp(digest, nd) != 0)
			rc = pg_err_set(
			    &err, PG_EFETCH,
			    "the tag resolved to %s for one verifier and %s for another; "
			    "it moved during verification",
			    digest, nd);
		if (rc == PG_OK) {
			good++;
			if (signer == NULL) {
				signer = ns;
				ns = NULL;
			}
		} else {
			if (rc != PG_EVERIFY && rc != PG_EPOLICY)
				fetch_rc = rc;
			if (first.code == 0)
				first = err;
		}
		if (digest == NULL) {
			digest = nd;
			nd = NULL;
		}
		free(nd);
		free(ns);
	}
	if (good >= need) {
		(void)snprintf(who, sizeof(who), "verified by rule %s (%zu of %zu verifiers): %s",
			       r->name, good, n + n_nv, signer ? signer : "signed");
		pg_verdict_set(out, true, PG_OK, digest, signer, who);
	} else {
		if (good > 0)
			(void)snprintf(
			    why, sizeof(why),
			    "rule %s requires %zu of %zu verifiers, only %zu verified: %s", r->name,
			    need, n + n_nv, good, first.msg);
		else
			(void)snprintf(why, sizeof(why), "%s",
				       first.msg[0] ? first.msg : "not verified");
		pg_verdict_set(out, false, fetch_rc != PG_OK ? fetch_rc : PG_EVERIFY,
			       digest ? digest : ref->digest, NULL, why);
	}
	pg_verify_cosign_result_clear(&ver);
	free(digest);
	free(signer);
	return out->code;
}

int
pg_verify_image(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p, const pg_rule *r,
		const pg_image_ref *ref, int64_t deadline)
{
	pg_sig_trust *trust = NULL, *atrust = NULL;
	const pg_verifier **av = NULL;
	pg_verify_cosign_result ver = {0};
	pg_oci_req q = {0};
	pg_err err;
	size_t i, n = 0, na = 0, good = 0, need, n_nv = 0;
	char why[PG_ERR_MSG_MAX + 256], who[2048];
	char *digest = NULL, *adesc = NULL;
	int rc, sig_rc = PG_OK;

	memset(out, 0, sizeof(*out));
	pg_err_clear(&err);
	if (r->n_verify == 0) {
		pg_verdict_set(out, false, PG_EPOLICY, ref->digest, NULL, "rule has no verifiers");
		return out->code;
	}
	if ((rc = pg_verify__use_policy(c, p, &err)) != PG_OK) {
		pg_verdict_set(out, false, rc, ref->digest, NULL, err.msg);
		return out->code;
	}
	if ((trust = calloc(r->n_verify, sizeof(*trust))) == NULL ||
	    (atrust = calloc(r->n_verify, sizeof(*atrust))) == NULL ||
	    (av = calloc(r->n_verify, sizeof(*av))) == NULL) {
		pg_verdict_set(out, false, PG_ENOMEM, ref->digest, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < r->n_verify; i++) {
		const pg_verifier *v = &r->verify[i];
		/* Entries with attestations (cosign `attestations`, github) are
		 * satisfied by attestations, the others by image signatures. */
		pg_sig_trust *t = v->n_attest ? &atrust[na] : &trust[n];

		n_nv += v->kind == PG_VERIFY_NOTATION;
		if (v->kind != PG_VERIFY_COSIGN_KEY && v->kind != PG_VERIFY_COSIGN_KEYLESS &&
		    v->kind != PG_VERIFY_GITHUB)
			continue; /* prov verifiers have nothing to say about images */
		if ((rc = pg_verify__sig_trust(t, c, p, r, v, &err)) != PG_OK) {
			(void)snprintf(why, sizeof(why), "%s", err.msg);
			pg_verdict_set(out, false, rc, ref->digest, NULL, why);
			goto out;
		}
		if (v->n_attest)
			av[na++] = v;
		else
			n++;
	}
	if (n == 0 && na == 0 && n_nv == 0) {
		pg_verdict_set(out, false, PG_EPOLICY, ref->digest, NULL,
			       "rule has no cosign or notation verifier for images");
		goto out;
	}
	q.fetch = c->fetch;
	q.deadline = deadline;
	q.guard = guard;
	q.guard_ctx = (void *)p;
	if (n_nv > 0) {
		if (na > 0) {
			(void)snprintf(
			    why, sizeof(why),
			    "rule %s mixes notation and attestation verifiers, which is not "
			    "supported",
			    r->name);
			pg_verdict_set(out, false, PG_EPOLICY, ref->digest, NULL, why);
			goto out;
		}
		rc = verify_with_notation(out, c, &q, r, ref, trust, n, n_nv);
		goto out;
	}
	if (n > 0) {
		/* Fetching may stop once enough signature entries are satisfied;
		 * with attestation entries counting too, look for all of them. */
		sig_rc = pg_verify_cosign_image(&ver, c->oci, &q, ref, trust, n,
						na > 0 ? 0 : pg_verify__needed(r, n), &err);
		for (i = 0; i < ver.n_trust && i < n; i++)
			good += ver.trust_ok[i] ? 1 : 0;
		/* Missing or bad signatures only fail the signature entries
		 * when attestation entries may still count. */
		if (sig_rc != PG_OK && !(sig_rc == PG_EVERIFY && na > 0 && ver.digest)) {
			pg_verdict_set(out, false, sig_rc, ver.digest ? ver.digest : ref->digest,
				       NULL, err.msg[0] ? err.msg : "not verified");
			goto out;
		}
		if (ver.digest && (digest = pg_strdup(ver.digest)) == NULL) {
			pg_verdict_set(out, false, PG_ENOMEM, ref->digest, NULL, "out of memory");
			goto out;
		}
	} else if (ref->digest) {
		digest = pg_strdup(ref->digest);
	} else {
		rc = pg_oci_resolve(&digest, c->oci, &q, ref->registry, ref->repository,
				    ref->tag ? ref->tag : "latest", &err);
		if (rc != PG_OK) {
			pg_verdict_set(out, false, rc, ref->digest, NULL,
				       err.msg[0] ? err.msg : "could not resolve the image");
			goto out;
		}
	}
	for (i = 0; i < na && digest; i++) {
		char *d = NULL;
		pg_err ae;

		pg_err_clear(&ae);
		rc = pg_verify__attest_image(&d, c, &q, ref, digest, &atrust[i], av[i], &ae);
		if (rc == PG_OK) {
			good++;
			if (adesc == NULL)
				adesc = d;
			else
				free(d);
			continue;
		}
		if (rc == PG_EFETCH || rc == PG_ETIMEOUT || rc == PG_ENOMEM) {
			pg_verdict_set(out, false, rc, digest, NULL, ae.msg);
			goto out;
		}
		if (err.msg[0] == '\0' || sig_rc == PG_OK)
			err = ae; /* the attestation failure is the news */
	}
	need = pg_verify__needed(r, n + na);
	if (good >= need) {
		(void)snprintf(who, sizeof(who), "verified by rule %s (%zu of %zu verifiers): %s",
			       r->name, good, n + na,
			       adesc	    ? adesc
			       : ver.signer ? ver.signer
					    : "signed");
		pg_verdict_set(out, true, PG_OK, digest, adesc ? adesc : ver.signer, who);
	} else if (good > 0 || (sig_rc == PG_OK && n > 0)) {
		/* A budget that cut the signature search short is no final
		 * answer: the deny is not cached as a definite one (PG_ETOOBIG). */
		(void)snprintf(why, sizeof(why),
			       "rule %s requires %zu of %zu verifiers, only %zu verified%s%s%.900s",
			       r->name, need, n + na, good,
			       ver.truncated
				   ? " among the signatures examined (at most 64 per source; "
				     "more were not examined, so this is not a final answer)"
				   : "",
			       err.msg[0] ? ": " : "", err.msg);
		pg_verdict_set(out, false, ver.truncated ? PG_ETOOBIG : PG_EVERIFY, digest,
			       ver.signer, why);
	} else {
		pg_verdict_set(out, false, PG_EVERIFY, digest ? digest : ref->digest, NULL,
			       err.msg[0] ? err.msg : "not verified");
	}
out:
	pg_verify_cosign_result_clear(&ver);
	free(trust);
	free(atrust);
	free(av);
	free(digest);
	free(adesc);
	return out->code;
}

int
pg_verify__guard(const char *scheme, const char *host, int port, pg_err *err, void *ctx)
{
	return guard(scheme, host, port, err, ctx);
}
