/*
 * notation/verify — the verification of one signature envelope under one
 * trust-policy statement, in the order of trust-store-trust-policy.md
 * "Signature Verification":
 *
 *   integrity          envelope, cty, algorithm from the key = alg, the
 *                      signature, the chain's certificate requirements
 *   plugin             a verification plugin or an unknown critical
 *                      attribute is required: we run none, so this fails
 *   authenticity       a chain certificate is in a store of the type the
 *                      scheme selects; trustedIdentities
 *   expiry             the signed expiry
 *   authenticTimestamp RFC 3161 (notary.x509, tsa store, verifyTimestamp)
 *                      or the chain valid now; authenticSigningTime inside
 *                      the chain (notary.x509.signingAuthority)
 *   revocation         CRLs given by the operator, then CRLs the caller
 *                      fetched from distribution points (bytes in); a
 *                      certificate naming OCSP/CRL without a current CRL
 *                      is unknown
 *   targetArtifact     mediaType, digest and size equal the admitted ones
 *   userMetadata       requested annotations present and equal
 *
 * Integrity, plugin, targetArtifact and userMetadata are always enforced;
 * the others follow the statement's level and override: an enforced
 * failure stops, a logged one is recorded in the outcome and the next step
 * runs.  A statement whose stores failed to load fails everything.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "buf/buf.h"
#include "notation/notation_int.h"

#define NV_PAYLOAD_CTY "application/vnd.cncf.notary.payload.v1+json"

typedef struct step_ctx {
	pg_notation_outcome *out;
	pg_err *err;
} step_ctx;

/* A failed step under action a: PG_EVERIFY (stop) when enforced, else
 * recorded in the outcome and PG_OK (go on).  msg is already in e. */
static int
step_fail(step_ctx *s, const char *step, nv_action a, pg_err *e)
{
	if (a == NV_ENFORCE) {
		s->out->failed = step;
		pg_err_set(s->err, PG_EVERIFY, "%s: %s", step, e->msg);
		return PG_EVERIFY;
	}
	if (a == NV_LOG) {
		size_t n = strlen(s->out->logged);

		(void)snprintf(s->out->logged + n, sizeof(s->out->logged) - n, "%s%s: %s",
			       n ? "; " : "", step, e->msg);
	}
	return PG_OK;
}

static int
integrity(nv_env *env, const char *mt, const unsigned char *in, size_t len, pg_err *e)
{
	EVP_PKEY *k;
	nv_alg a;
	int rc;

	if (strcmp(mt, PG_NOTATION_MT_JWS) == 0)
		rc = nv_jws_parse(env, in, len, e);
	else if (strcmp(mt, PG_NOTATION_MT_COSE) == 0)
		rc = nv_cose_parse(env, in, len, e);
	else
		return pg_err_set(e, PG_EINVAL, "unsupported envelope media type \"%.64s\"", mt);
	if (rc != PG_OK)
		return rc;
	if (strcmp(env->cty, NV_PAYLOAD_CTY) != 0)
		return pg_err_set(e, PG_EVERIFY, "unsupported payload content type \"%.64s\"",
				  env->cty);
	k = X509_get0_pubkey(sk_X509_value(env->chain, 0));
	if (k == NULL || (a = nv_alg_of_key(k)) == NV_ALG_NONE)
		return pg_err_set(e, PG_EVERIFY,
				  "signing key is not RSA 2048/3072/4096 or ECDSA P-256/384/521");
	if (a != env->alg)
		return pg_err_set(e, PG_EVERIFY,
				  "envelope algorithm %s differs from %s, the one the signing "
				  "key implies",
				  nv_alg_name(env->alg), nv_alg_name(a));
	if (nv_sig_verify(k, a, env->tbs, env->tbs_len, env->sig, env->sig_len) != PG_OK)
		return pg_err_set(e, PG_EVERIFY, "signature does not verify with the signing key");
	return nv_chain_check(env->chain, e);
}

static bool
in_store(STACK_OF(X509) * store, X509 *c)
{
	int i;

	for (i = 0; store && i < sk_X509_num(store); i++)
		if (X509_cmp(sk_X509_value(store, i), c) == 0)
			return true;
	return false;
}

static int
authenticity(const pg_notation_trust *t, const nv_env *env, pg_err *e)
{
	bool sa = strcmp(env->scheme, "notary.x509.signingAuthority") == 0;
	STACK_OF(X509) *store = sa ? t->sa : t->ca;
	X509 *leaf = sk_X509_value(env->chain, 0);
	int i;
	size_t j;
	bool trusted = false;
	char why[96];

	if (store == NULL || sk_X509_num(store) == 0)
		return pg_err_set(e, PG_EVERIFY, "no %s trust store configured for scheme %s",
				  sa ? "signingAuthority" : "ca", env->scheme);
	for (i = 0; i < sk_X509_num(env->chain) && !trusted; i++)
		trusted = in_store(store, sk_X509_value(env->chain, i));
	if (!trusted)
		return pg_err_set(e, PG_EVERIFY,
				  "the signature's certificate chain does not contain any trusted "
				  "certificate");
	if (t->any_identity)
		return PG_OK;
	/* Matching attribute by attribute would let a subject carrying both
	 * "O=Mallory" and "O=Acme" pass for Acme. */
	if (!nv_subject_plain(leaf, why, sizeof(why)))
		return pg_err_set(e, PG_EVERIFY,
				  "trustedIdentities: the signing certificate's subject %s; "
				  "it cannot be matched to a trusted identity",
				  why);
	for (j = 0; j < t->nids; j++)
		if (nv_dn_match(&t->ids[j], leaf))
			return PG_OK;
	return pg_err_set(e, PG_EVERIFY,
			  "trustedIdentities: signing certificate subject matches no trusted "
			  "identity");
}

static bool
chain_valid_at(STACK_OF(X509) * chain, int64_t lo, int64_t hi, char *why, size_t n)
{
	int i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		int64_t nb, na;
		char subj[256], ts[40];

		if (nv_cert_time(&nb, &na, c) != PG_OK) {
			(void)snprintf(why, n, "certificate %d has an unreadable validity", i);
			return false;
		}
		if (lo < nb || hi > na) {
			nv_subject(subj, sizeof(subj), c);
			nv_time_format(ts, sizeof(ts), lo < nb ? nb : na);
			(void)snprintf(why, n, "certificate \"%s\" is not valid then (%s %s)", subj,
				       lo < nb ? "valid from" : "expired at", ts);
			return false;
		}
	}
	return true;
}

static int
authentic_time(const pg_notation_trust *t, const nv_env *env, int64_t now, pg_err *e)
{
	char why[512];
	bool perform, tsa = false, expired = false;
	int64_t lo, hi, nb, na;
	size_t i;
	int j, rc;

	if (strcmp(env->scheme, "notary.x509.signingAuthority") == 0) {
		if (!chain_valid_at(env->chain, env->auth_time, env->auth_time, why, sizeof(why)))
			return pg_err_set(e, PG_EVERIFY, "authenticSigningTime: %s", why);
		return PG_OK;
	}
	for (i = 0; i < t->nstores; i++)
		tsa |= t->stores[i].type == PG_NOTATION_STORE_TSA;
	for (j = 0; j < sk_X509_num(env->chain); j++)
		if (nv_cert_time(&nb, &na, sk_X509_value(env->chain, j)) != PG_OK || now > na)
			expired = true;
	perform = tsa && (!t->ts_after_expiry || expired);
	if (!perform) {
		if (!chain_valid_at(env->chain, now, now, why, sizeof(why)))
			return pg_err_set(e, PG_EVERIFY, "%s at verification time", why);
		return PG_OK;
	}
	if (env->tst == NULL || env->tst_len == 0)
		return pg_err_set(e, PG_EVERIFY,
				  "no timestamp countersignature was found in the signature "
				  "envelope");
	if ((rc = nv_tst_verify(&lo, &hi, env->tst, env->tst_len, t->tsa, env->sig, env->sig_len,
				e)) != PG_OK)
		return rc;
	if (!chain_valid_at(env->chain, lo, hi, why, sizeof(why)))
		return pg_err_set(e, PG_EVERIFY, "timestamp range: %s", why);
	return PG_OK;
}

/* Does the distribution point name of a CRL's IDP name one of c's own
 * distribution points (a URI in both)?  A partitioned CRL covers only the
 * certificates that point at it. */
static bool
idp_names_cdp_of(const DIST_POINT_NAME *dpn, X509 *c)
{
	STACK_OF(DIST_POINT) * dps;
	bool hit = false;
	int i, j, k;

	if (dpn->type != 0)
		return false; /* a relative name: not read */
	dps = X509_get_ext_d2i(c, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; dps && i < sk_DIST_POINT_num(dps) && !hit; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dpn->name.fullname) && !hit; j++)
			for (k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && !hit;
			     k++)
				hit = GENERAL_NAME_cmp(sk_GENERAL_NAME_value(dpn->name.fullname, j),
						       sk_GENERAL_NAME_value(
							   dp->distpoint->name.fullname, k)) == 0;
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return hit;
}

/* Why crl cannot say, on its own or with a delta, whether c is revoked
 * (RFC 5280 5.2, as notation judges a CRL), or NULL: a critical extension
 * it does not know, or an issuing distribution point that narrows its
 * scope (some reasons, indirect, attribute or CA or end-entity
 * certificates only, another partition).  delta: crl is a delta CRL, which
 * is read only beside its base. */
static const char *
crl_unusable(X509_CRL *crl, X509 *c, bool delta)
{
	ISSUING_DIST_POINT *idp;
	const char *why = NULL;
	int i, crit = -1, ca;

	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		X509_EXTENSION *ex = X509_CRL_get_ext(crl, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));

		if (nid == NID_delta_crl && !delta)
			return "it is a delta CRL";
		if (X509_EXTENSION_get_critical(ex) && nid != NID_crl_number &&
		    nid != NID_authority_key_identifier && nid != NID_delta_crl &&
		    nid != NID_issuing_distribution_point)
			return "it has a critical extension provgate does not know";
	}
	if (delta && X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) < 0)
		return "it is not a delta CRL";
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	if (idp == NULL) {
		ERR_clear_error();
		return crit == -1 ? NULL : "its issuing distribution point does not parse";
	}
	ca = X509_check_ca(c);
	if (idp->onlysomereasons)
		why = "it covers only some revocation reasons";
	else if (idp->indirectCRL)
		why = "it is an indirect CRL";
	else if (idp->onlyattr)
		why = "it covers only attribute certificates";
	else if (idp->onlyCA && !ca)
		why = "it covers only CA certificates";
	else if (idp->onlyuser && ca)
		why = "it covers only end-entity certificates";
	else if (idp->distpoint && !idp_names_cdp_of(idp->distpoint, c))
		why = "it is the partition of another distribution point";
	ISSUING_DIST_POINT_free(idp);
	return why;
}

/* What a CRL search looks for: a complete CRL for c, or (base set) a delta
 * of base. */
typedef struct crl_want {
	X509 *c, *issuer;
	X509_CRL *base; /* NULL: a complete CRL */
	int64_t now;
	bool stale;	      /* one signed by issuer was not current */
	const char *unusable; /* why one signed by issuer and current was not used */
} crl_want;

/* A delta CRL d goes with base when d's Delta CRL Indicator (the base it
 * builds on) is at most base's CRL number and d's own number is greater. */
static bool
delta_of(X509_CRL *d, X509_CRL *base)
{
	ASN1_INTEGER *bn = X509_CRL_get_ext_d2i(base, NID_crl_number, NULL, NULL);
	ASN1_INTEGER *ind = X509_CRL_get_ext_d2i(d, NID_delta_crl, NULL, NULL);
	ASN1_INTEGER *dn = X509_CRL_get_ext_d2i(d, NID_crl_number, NULL, NULL);
	bool ok = bn && ind && dn && ASN1_INTEGER_cmp(ind, bn) <= 0 && ASN1_INTEGER_cmp(dn, bn) > 0;

	ASN1_INTEGER_free(bn);
	ASN1_INTEGER_free(ind);
	ASN1_INTEGER_free(dn);
	ERR_clear_error();
	return ok;
}

/* The CRL of crls that w->issuer signed, that is current at w->now and
 * that can speak for w->c (complete, or a delta of w->base), or NULL. */
static X509_CRL *
crl_pick(STACK_OF(X509_CRL) * crls, crl_want *w)
{
	EVP_PKEY *k = X509_get0_pubkey(w->issuer);
	int i;

	for (i = 0; crls && k && i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		const char *why;
		int64_t last, next;

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(w->issuer)) !=
			0 ||
		    X509_CRL_verify(crl, k) != 1) {
			ERR_clear_error();
			continue;
		}
		if (nv_asn1_time(&last, X509_CRL_get0_lastUpdate(crl)) != PG_OK ||
		    X509_CRL_get0_nextUpdate(crl) == NULL ||
		    nv_asn1_time(&next, X509_CRL_get0_nextUpdate(crl)) != PG_OK || w->now < last ||
		    w->now > next) {
			w->stale = true;
			continue;
		}
		if ((why = crl_unusable(crl, w->c, w->base != NULL)) != NULL) {
			/* a delta met while looking for a base is no news */
			if (w->base != NULL || strcmp(why, "it is a delta CRL") != 0)
				w->unusable = why;
			continue;
		}
		if (w->base != NULL && !delta_of(crl, w->base)) {
			w->unusable = "it is a delta of another base CRL";
			continue;
		}
		return crl;
	}
	return NULL;
}

/*
 * A CRL as w asks, from the distribution points dps (a certificate's, or a
 * base CRL's Freshest CRL), via src: the full-name http(s) URIs, at most
 * PG_NOTATION_CDP_TRIES of them, in order, until one gives one.  Fetched
 * CRLs go to *pool (kept until the verification ends).  NULL with why
 * filled when none does.
 */
static X509_CRL *
crl_from_points(STACK_OF(X509_CRL) * *pool, STACK_OF(DIST_POINT) * dps,
		const pg_notation_crl_src *src, crl_want *w, char *why, size_t whylen)
{
	X509_CRL *found = NULL;
	int i, j, tries = 0;

	(void)snprintf(why, whylen, "no http or https distribution point");
	for (i = 0; dps && i < sk_DIST_POINT_num(dps) && !found; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *names;

		/* Only whole-CRL points: one that covers a subset of reasons
		 * cannot say a certificate is not revoked. */
		if (dp->distpoint == NULL || dp->distpoint->type != 0 || dp->reasons != NULL)
			continue;
		names = dp->distpoint->name.fullname;
		for (j = 0; j < sk_GENERAL_NAME_num(names) && !found; j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
			STACK_OF(X509_CRL) * got;
			unsigned char *bytes = NULL;
			size_t len = 0;
			char url[1024];
			int ulen;
			pg_err e;

			if (gn->type != GEN_URI)
				continue;
			ulen = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
			if (ulen <= 0 || (size_t)ulen >= sizeof(url))
				continue;
			memcpy(url, ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
			       (size_t)ulen);
			url[ulen] = '\0';
			if (memchr(url, '\0', (size_t)ulen) != NULL ||
			    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
				continue;
			if (tries++ == PG_NOTATION_CDP_TRIES)
				return NULL;
			pg_err_clear(&e);
			if (src->get(&bytes, &len, url, &e, src->ctx) != PG_OK) {
				(void)snprintf(why, whylen, "CRL at %.200s unavailable: %.300s",
					       url, e.msg[0] ? e.msg : "fetch failed");
				continue;
			}
			if (*pool == NULL && (*pool = sk_X509_CRL_new_null()) == NULL) {
				free(bytes);
				return NULL;
			}
			if ((got = sk_X509_CRL_new_null()) == NULL ||
			    nv_crls_add(got, bytes, len) != PG_OK) {
				(void)snprintf(why, whylen, "%.200s is not a CRL", url);
			} else {
				while (sk_X509_CRL_num(got) > 0) {
					X509_CRL *x = sk_X509_CRL_shift(got);

					if (!sk_X509_CRL_push(*pool, x))
						X509_CRL_free(x);
				}
				w->stale = false;
				w->unusable = NULL;
				found = crl_pick(*pool, w);
				if (found == NULL)
					(void)snprintf(why, whylen, "the CRL at %.200s %s%s", url,
						       w->stale ? "is out of date"
						       : w->unusable
							   ? "cannot be used: "
							   : "is not signed by the certificate's "
							     "issuer",
						       w->stale || !w->unusable ? "" : w->unusable);
			}
			sk_X509_CRL_pop_free(got, X509_CRL_free);
			free(bytes);
		}
	}
	ERR_clear_error();
	return found;
}

/* Is c revoked by crl and its delta (NULL when none)?  A delta entry lists
 * what was revoked since the base, or with reason removeFromCRL a
 * certificate taken off hold since. */
static bool
revoked_by(X509_CRL *crl, X509_CRL *delta, X509 *c)
{
	X509_REVOKED *rv = NULL;
	ASN1_ENUMERATED *reason;
	bool removed;

	if (delta != NULL && X509_CRL_get0_by_cert(delta, &rv, c) == 1) {
		reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, NULL, NULL);
		removed = reason && ASN1_ENUMERATED_get(reason) == CRL_REASON_REMOVE_FROM_CRL;
		ASN1_ENUMERATED_free(reason);
		ERR_clear_error();
		return !removed;
	}
	rv = NULL;
	return X509_CRL_get0_by_cert(crl, &rv, c) == 1;
}

/* Revocation (see notation.h): each certificate below the root is looked
 * up in a current, complete CRL its issuer signed, given ones first, then
 * (with src) one from its distribution points, together with the delta CRL
 * that base names (Freshest CRL) or that is given beside it, as notation
 * merges them; revoked fails; a base whose delta is unavailable, or a
 * certificate naming OCSP/CRL locations without such a CRL, is unknown. */
static int
revocation(const pg_notation_trust *t, const nv_env *env, const pg_notation_crl_src *src,
	   int64_t now, pg_err *e)
{
	STACK_OF(X509_CRL) *pool = NULL;
	int i, n = sk_X509_num(env->chain), rc = PG_OK;

	for (i = 0; i < n && rc == PG_OK; i++) {
		X509 *c = sk_X509_value(env->chain, i), *issuer;
		X509_CRL *crl = NULL, *delta = NULL;
		crl_want w;
		bool stale = false, cdp;
		const char *unusable = NULL;
		char subj[256], why[600];

		why[0] = '\0';
		issuer = i + 1 < n ? sk_X509_value(env->chain, i + 1) : NULL;
		cdp = X509_get_ext_by_NID(c, NID_crl_distribution_points, -1) >= 0;
		nv_subject(subj, sizeof(subj), c);
		memset(&w, 0, sizeof(w));
		w.c = c;
		w.issuer = issuer;
		w.now = now;
		if (issuer != NULL) {
			crl = crl_pick(t->crls, &w);
			stale = w.stale;
			unusable = w.unusable;
		}
		if (crl == NULL && issuer != NULL && cdp && src != NULL && src->get != NULL) {
			STACK_OF(DIST_POINT) *dps =
			    X509_get_ext_d2i(c, NID_crl_distribution_points, NULL, NULL);

			crl = crl_from_points(&pool, dps, src, &w, why, sizeof(why));
			sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
			ERR_clear_error();
		}
		if (crl != NULL) {
			bool fresh = X509_CRL_get_ext_by_NID(crl, NID_freshest_crl, -1) >= 0;

			w.base = crl;
			w.stale = false;
			w.unusable = NULL;
			if ((delta = crl_pick(t->crls, &w)) == NULL)
				delta = crl_pick(pool, &w);
			if (delta == NULL && fresh && src != NULL && src->get != NULL) {
				STACK_OF(DIST_POINT) *dps =
				    X509_CRL_get_ext_d2i(crl, NID_freshest_crl, NULL, NULL);

				delta = crl_from_points(&pool, dps, src, &w, why, sizeof(why));
				sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
				ERR_clear_error();
			}
			if (delta == NULL && fresh) {
				rc = pg_err_set(
				    e, PG_EVERIFY,
				    "revocation status of certificate \"%s\" is unknown "
				    "(its CRL names a delta CRL, and no current delta was "
				    "found%s%s)",
				    subj, why[0] ? ": " : "", why);
				continue;
			}
			if (revoked_by(crl, delta, c))
				rc = pg_err_set(e, PG_EVERIFY, "certificate \"%s\" is revoked",
						subj);
			continue;
		}
		if (stale)
			rc = pg_err_set(
			    e, PG_EVERIFY,
			    "revocation status of certificate \"%s\" is unknown (its CRL is "
			    "out of date)",
			    subj);
		else if (unusable)
			rc = pg_err_set(e, PG_EVERIFY,
					"revocation status of certificate \"%s\" is unknown (its "
					"CRL cannot be used: %s)",
					subj, unusable);
		else if (cdp || X509_get_ext_by_NID(c, NID_info_access, -1) >= 0)
			rc =
			    pg_err_set(e, PG_EVERIFY,
				       "revocation status of certificate \"%s\" is unknown (no CRL "
				       "given for it%s%s)",
				       subj, why[0] ? "; " : "",
				       why[0] ? why
				       : cdp  ? ""
					      : "; OCSP is not asked");
	}
	sk_X509_CRL_pop_free(pool, X509_CRL_free);
	return rc;
}

static int
target(json_t **desc_out, const nv_env *env, const pg_notation_target *want, pg_err *e)
{
	json_t *p =
	    json_loadb((const char *)env->payload, env->payload_len, JSON_REJECT_DUPLICATES, NULL);
	json_t *d = json_object_get(p, "targetArtifact"), *sz;
	const char *mt, *dg;
	int rc = PG_EVERIFY;

	*desc_out = NULL;
	if (!json_is_object(d)) {
		rc = pg_err_set(e, PG_EVERIFY, "payload has no targetArtifact descriptor");
		goto out;
	}
	mt = json_string_value(json_object_get(d, "mediaType"));
	dg = json_string_value(json_object_get(d, "digest"));
	sz = json_object_get(d, "size");
	if (mt == NULL || dg == NULL || !json_is_integer(sz)) {
		rc =
		    pg_err_set(e, PG_EVERIFY, "payload descriptor lacks mediaType, digest or size");
		goto out;
	}
	if (strcmp(dg, want->digest) != 0 || strcmp(mt, want->media_type) != 0 ||
	    json_integer_value(sz) != want->size) {
		rc = pg_err_set(e, PG_EVERIFY,
				"the signed artifact (%.64s %.100s, %lld bytes) is not the one "
				"verified (%.64s %.100s, %lld bytes)",
				mt, dg, (long long)json_integer_value(sz), want->media_type,
				want->digest, (long long)want->size);
		goto out;
	}
	*desc_out = json_incref(d);
	rc = PG_OK;
out:
	json_decref(p);
	return rc;
}

int
pg_notation_verify(pg_notation_outcome *out, const pg_notation_trust *t, const char *env_media_type,
		   const unsigned char *env_bytes, size_t env_len, const pg_notation_target *want,
		   const pg_notation_kv *meta, size_t nmeta, int64_t now, pg_err *err)
{
	return pg_notation_verify_crl(out, t, env_media_type, env_bytes, env_len, want, meta, nmeta,
				      NULL, now, err);
}

int
pg_notation_crl_next_update(int64_t *out, const unsigned char *der, size_t len)
{
	STACK_OF(X509_CRL) *s = sk_X509_CRL_new_null();
	const ASN1_TIME *nu;
	int rc = PG_EINVAL;

	if (s == NULL)
		return PG_ENOMEM;
	if (der != NULL && len > 0 && len <= INT32_MAX && nv_crls_add(s, der, len) == PG_OK &&
	    (nu = X509_CRL_get0_nextUpdate(sk_X509_CRL_value(s, 0))) != NULL &&
	    nv_asn1_time(out, nu) == PG_OK)
		rc = PG_OK;
	sk_X509_CRL_pop_free(s, X509_CRL_free);
	ERR_clear_error();
	return rc;
}

int
pg_notation_verify_crl(pg_notation_outcome *out, const pg_notation_trust *t,
		       const char *env_media_type, const unsigned char *env_bytes, size_t env_len,
		       const pg_notation_target *want, const pg_notation_kv *meta, size_t nmeta,
		       const pg_notation_crl_src *crl, int64_t now, pg_err *err)
{
	step_ctx s = {out, err};
	nv_env env;
	pg_err e;
	json_t *desc = NULL, *ann;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&env, 0, sizeof(env));
	if (t == NULL || env_media_type == NULL || env_bytes == NULL || want == NULL ||
	    want->digest == NULL || want->media_type == NULL)
		return pg_err_set(err, PG_EINVAL, "notation verify: missing argument");
	if (t->skip) {
		out->skipped = true;
		return PG_OK;
	}
	pg_err_clear(&e);
	if (t->store_error) {
		out->failed = "trustStore";
		return pg_err_set(err, PG_EVERIFY, "trust policy \"%s\": %s", t->name,
				  t->store_error);
	}
	if (integrity(&env, env_media_type, env_bytes, env_len, &e) != PG_OK) {
		rc = step_fail(&s, "integrity", NV_ENFORCE, &e);
		goto out;
	}
	nv_subject(out->signer, sizeof(out->signer), sk_X509_value(env.chain, 0));
	if (env.plugin || env.unknown_crit) {
		if (env.plugin)
			pg_err_set(&e, PG_EVERIFY,
				   "signature requires verification plugin \"%.64s\", and "
				   "provgate runs no plugins",
				   env.plugin);
		else
			pg_err_set(&e, PG_EVERIFY,
				   "signature has the unknown critical attribute \"%.64s\"",
				   env.unknown_crit);
		rc = step_fail(&s, "plugin", NV_ENFORCE, &e);
		goto out;
	}
	if (authenticity(t, &env, &e) != PG_OK &&
	    (rc = step_fail(&s, "authenticity", t->authenticity, &e)) != PG_OK)
		goto out;
	if (env.has_expiry && now >= env.expiry) {
		char ts[40];

		nv_time_format(ts, sizeof(ts), env.expiry);
		pg_err_set(&e, PG_EVERIFY, "digital signature has expired on %s", ts);
		if ((rc = step_fail(&s, "expiry", t->expiry, &e)) != PG_OK)
			goto out;
	}
	if (authentic_time(t, &env, now, &e) != PG_OK &&
	    (rc = step_fail(&s, "authenticTimestamp", t->timestamp, &e)) != PG_OK)
		goto out;
	if (t->revocation != NV_SKIP && revocation(t, &env, crl, now, &e) != PG_OK &&
	    (rc = step_fail(&s, "revocation", t->revocation, &e)) != PG_OK)
		goto out;
	if (target(&desc, &env, want, &e) != PG_OK) {
		/* A blob's digest is part of its integrity (spec step 3). */
		rc = step_fail(&s, t->blob ? "integrity" : "targetArtifact", NV_ENFORCE, &e);
		goto out;
	}
	ann = json_object_get(desc, "annotations");
	for (i = 0; i < nmeta; i++) {
		const char *v = json_string_value(json_object_get(ann, meta[i].key));

		if (v == NULL || strcmp(v, meta[i].value) != 0) {
			pg_err_set(
			    &e, PG_EVERIFY,
			    "unable to find specified metadata %.64s=%.128s in the signature",
			    meta[i].key, meta[i].value);
			rc = step_fail(&s, "userMetadata", NV_ENFORCE, &e);
			goto out;
		}
	}
	rc = PG_OK;
out:
	json_decref(desc);
	nv_env_free(&env);
	return rc;
}
