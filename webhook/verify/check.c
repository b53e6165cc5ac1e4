/*
 * verify/check — the load-time check of a policy's trust material, done by
 * `policy check`, `review` and the server on every (re)load: what the policy
 * room only stores, this room can parse.
 *
 *   trust.keys      must parse as a cosign public key of an accepted type;
 *   trust.keyrings  gpg must import at least one OpenPGP public key;
 *   trust.roots     must parse as a Sigstore trusted_root.json;
 *   a keyless verifier needs a trusted root with a certificate authority
 *   (its own `root`, or the policy's only root);
 *   `tlog: required` (the default) on a rule with cosign verifiers needs a
 *   trusted root with a transparency log.
 *
 * Without this, each of those mistakes loads fine and then denies every
 * reference the rule matches, at admission, with a reason about evidence.
 * Messages name file, line and field path, like the schema's.
 */
#include "verify/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgp/pgp.h"
#include "sigstore/sigstore.h"

typedef struct loaded_root {
	const pg_trust *t;
	pg_trusted_root *root;
} loaded_root;

static const pg_trusted_root *
find_root(const loaded_root *v, size_t n, const pg_trust *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].t == t)
			return v[i].root;
	return NULL;
}

static int
check_trust(const pg_policy *p, pg_pgp **pgp, loaded_root *roots, size_t *nroots, pg_err *err)
{
	size_t i, n = pg_policy_n_trust(p), len;
	const char *cat, *file, *bytes;
	size_t line;
	pg_err e;
	int rc;

	for (i = 0; i < n; i++) {
		const pg_trust *t = pg_policy_trust_at(p, i, &cat, &file, &line);
		char what[PG_ERR_MSG_MAX];

		if (t == NULL || (bytes = pg_policy_trust_bytes(p, t, &len)) == NULL)
			continue;
		(void)snprintf(what, sizeof(what), "%s:%zu: spec.trust.%s.%s%s%s%s", file, line,
			       cat, t->name, t->path ? " (" : "", t->path ? t->path : "",
			       t->path ? ")" : "");
		pg_err_clear(&e);
		if (strcmp(cat, "keys") == 0) {
			if ((rc = pg_sigstore_key_check(bytes, len, &e)) != PG_OK)
				return pg_err_set(err, PG_EINVAL,
						  "%s: not a usable cosign public key (PEM): %s",
						  what, e.msg);
		} else if (strcmp(cat, "keyrings") == 0) {
			pg_pgp_keyring ring = {(const unsigned char *)bytes, len};

			if (*pgp == NULL && (rc = pg_pgp_new(pgp, &e)) != PG_OK)
				return pg_err_set(err, rc, "%s: cannot check the keyring: %s", what,
						  e.msg);
			if ((rc = pg_pgp_keyring_check(*pgp, &ring, &e)) != PG_OK)
				return pg_err_set(err, rc == PG_EUNAVAIL ? rc : PG_EINVAL,
						  "%s: not an OpenPGP keyring: %s", what, e.msg);
		} else if (strcmp(cat, "roots") == 0) {
			pg_trusted_root *r = NULL;

			if ((rc = pg_trusted_root_load(&r, bytes, len, &e)) != PG_OK)
				return pg_err_set(err, PG_EINVAL,
						  "%s: not a Sigstore trusted_root.json: %s", what,
						  e.msg);
			roots[*nroots].t = t;
			roots[(*nroots)++].root = r;
		}
	}
	return PG_OK;
}

static int
check_rule(const pg_policy *p, const pg_rule *r, size_t ri, const loaded_root *roots, size_t nroots,
	   pg_err *err)
{
	const char *sect = r->is_chart ? "charts" : "images";
	size_t i;

	for (i = 0; i < r->n_verify; i++) {
		const pg_verifier *v = &r->verify[i];
		const pg_trust *rt = v->root ? v->root : pg_policy_default_root(p);
		const pg_trusted_root *root = rt ? find_root(roots, nroots, rt) : NULL;
		char where[PG_ERR_MSG_MAX];

		/* notation entries: their certificates are checked when the
		 * notation trust is built at load (policy/schema.c) */
		if (v->kind != PG_VERIFY_COSIGN_KEY && v->kind != PG_VERIFY_COSIGN_KEYLESS &&
		    v->kind != PG_VERIFY_GITHUB)
			continue;
		(void)snprintf(where, sizeof(where), "%s:%zu: spec.%s[%zu].verify[%zu].%s",
			       r->source_file ? r->source_file : "policy", v->line, sect, ri, i,
			       v->kind == PG_VERIFY_GITHUB ? "github" : "cosign");
		if (v->kind == PG_VERIFY_COSIGN_KEYLESS || v->kind == PG_VERIFY_GITHUB) {
			if (rt == NULL)
				return pg_err_set(
				    err, PG_EINVAL,
				    "%s.keyless: no trusted root to check Fulcio certificates "
				    "with: name one with root: NAME (spec.trust.roots; needed "
				    "when the policy has none or several)",
				    where);
			if (root && pg_trusted_root_ncas(root) == 0)
				return pg_err_set(
				    err, PG_EINVAL,
				    "%s.keyless: trusted root %s lists no certificate "
				    "authority (certificateAuthorities)",
				    where, rt->name);
		}
		if (r->tlog != PG_TLOG_REQUIRED)
			continue;
		if (rt == NULL)
			return pg_err_set(
			    err, PG_EINVAL,
			    "%s: rule %s has tlog: required (the default) but no trusted "
			    "root with a transparency log to check it against: add one to "
			    "spec.trust.roots (the only root, or the keyless verifier's "
			    "root), or set tlog: optional for signatures made without "
			    "Rekor (cosign --tlog-upload=false)",
			    where, r->name);
		if (root && pg_trusted_root_ntlogs(root) == 0)
			return pg_err_set(
			    err, PG_EINVAL,
			    "%s: rule %s has tlog: required but trusted root %s lists no "
			    "transparency log (tlogs)",
			    where, r->name, rt->name);
	}
	return PG_OK;
}

int
pg_verify_policy_check(const pg_policy *p, pg_err *err)
{
	loaded_root *roots = NULL;
	size_t nroots = 0, i, n = pg_policy_n_trust(p);
	pg_pgp *pgp = NULL;
	int rc = PG_OK;

	if (n && (roots = calloc(n, sizeof(*roots))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	rc = check_trust(p, &pgp, roots, &nroots, err);
	for (i = 0; rc == PG_OK && i < pg_policy_n_images(p); i++)
		rc = check_rule(p, pg_policy_rule_at(p, false, i), i, roots, nroots, err);
	for (i = 0; rc == PG_OK && i < pg_policy_n_charts(p); i++)
		rc = check_rule(p, pg_policy_rule_at(p, true, i), i, roots, nroots, err);
	for (i = 0; i < nroots; i++)
		pg_trusted_root_free(roots[i].root);
	free(roots);
	pg_pgp_free(pgp);
	return rc;
}
