/*
 * verify/notation — Notation signatures of an image: discovery on the
 * generic registry client of oci/ (which knows nothing of Notation), and
 * the verdict of notation/.
 *
 * Discovery, as notation does it: the referrers of the image digest with
 * artifactType application/vnd.cncf.notary.signature (oci/ falls back to
 * the referrers tag schema when the registry has no referrers API); each
 * signature manifest must name that artifactType, or (the older form)
 * carry no artifactType and config.mediaType
 * application/vnd.cncf.notary.signature; its subject must be the image;
 * it has exactly one layer, the envelope (JWS or COSE), fetched by digest.
 * The first signature that verifies decides; when none does, the first
 * failure is reported with the count.  The admitted descriptor of a tag
 * comes from a HEAD (Docker-Content-Digest, Content-Type, Content-Length),
 * as notation's own resolve does: the signed payload names all three.
 * Without them, and for a digest, it is the manifest as the registry
 * served it, checked against its digest by oci/.  Revocation: CRLs from
 * the signing chain's distribution points come through crl.c (fetch/ and
 * the guard, cached); notation/ judges them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "notation/notation.h"
#include "verify/verify_int.h"

/* Signatures examined per image (notation's maxSignatureAttempts defaults
 * to 100; a hostile registry gets far fewer fetches and verifications). */
#define PG_NV_SIGS_MAX 32

/* One signature manifest: the envelope's media type and bytes, after the
 * shape checks.  PG_EVERIFY with a reason when it is not a Notation
 * signature of digest. */
static int
fetch_envelope(char **mt_out, unsigned char **env_out, size_t *len_out, pg_oci *oci,
	       const pg_oci_req *q, const pg_image_ref *ref, const char *sig_digest,
	       const char *digest, pg_err *err)
{
	pg_oci_manifest *m = NULL;
	const pg_oci_desc *cfg, *sub, *layer;
	const char *at;
	int rc;

	if ((rc = pg_oci_manifest_get(&m, oci, q, ref->registry, ref->repository, sig_digest,
				      err)) != PG_OK)
		return rc;
	rc = PG_EVERIFY;
	at = pg_oci_manifest_artifact_type(m);
	cfg = pg_oci_manifest_config(m);
	if (pg_oci_manifest_is_index(m) ||
	    !((at && strcmp(at, PG_NOTATION_ARTIFACT_TYPE) == 0) ||
	      (at == NULL && cfg && strcmp(cfg->media_type, PG_NOTATION_ARTIFACT_TYPE) == 0))) {
		pg_err_set(err, PG_EVERIFY, "%s is not a Notation signature manifest", sig_digest);
		goto out;
	}
	sub = pg_oci_manifest_subject(m);
	if (sub == NULL || strcmp(sub->digest, digest) != 0) {
		pg_err_set(err, PG_EVERIFY, "signature %s is not about %s", sig_digest, digest);
		goto out;
	}
	if (pg_oci_manifest_count(m) != 1) {
		pg_err_set(err, PG_EVERIFY, "signature %s has %zu layers, not one envelope",
			   sig_digest, pg_oci_manifest_count(m));
		goto out;
	}
	layer = pg_oci_manifest_desc(m, 0);
	if (strcmp(layer->media_type, PG_NOTATION_MT_JWS) != 0 &&
	    strcmp(layer->media_type, PG_NOTATION_MT_COSE) != 0) {
		pg_err_set(err, PG_EVERIFY, "signature %s has an envelope of unknown type %.64s",
			   sig_digest, layer->media_type);
		goto out;
	}
	if (layer->size < 0 || (uint64_t)layer->size > PG_NOTATION_ENVELOPE_MAX) {
		pg_err_set(err, PG_EVERIFY, "signature %s envelope is larger than %zu bytes",
			   sig_digest, PG_NOTATION_ENVELOPE_MAX);
		goto out;
	}
	if ((rc = pg_oci_blob_get(env_out, len_out, oci, q, ref->registry, ref->repository,
				  layer->digest, layer->size, PG_NOTATION_ENVELOPE_MAX, err)) !=
	    PG_OK)
		goto out;
	if ((*mt_out = pg_strdup(layer->media_type)) == NULL) {
		free(*env_out);
		*env_out = NULL;
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = PG_OK;
out:
	pg_oci_manifest_free(m);
	return rc;
}

int
pg_verify__notation_image(char **digest_out, char **signer_out, pg_oci *oci, const pg_oci_req *q,
			  const pg_verifier *v, const pg_image_ref *ref, int64_t now, pg_err *err)
{
	const pg_notation_trust *t = v->nv_trust;
	pg_oci_desc td = {0};
	pg_oci_desc *refs = NULL;
	size_t nrefs = 0, i, tried = 0;
	char scope[1024], first[PG_ERR_MSG_MAX], *mt = NULL;
	unsigned char *env = NULL;
	size_t env_len = 0;
	pg_notation_target target;
	pg_notation_outcome o;
	pg_err e;
	pg_verify_crl_ctx cc = {
	    q->fetch, q->deadline, q->guard, q->guard_ctx, q->guard ? q->guard_ctx : NULL, NULL};
	pg_notation_crl_src crl = {pg_verify__crl_get, &cc};
	int rc;

	*digest_out = NULL;
	*signer_out = NULL;
	first[0] = '\0';
	(void)snprintf(scope, sizeof(scope), "%s/%s", ref->registry, ref->repository);
	if (t == NULL && v->nv_config != NULL &&
	    pg_notation_config_select(&t, v->nv_config, scope, NULL, err) != PG_OK)
		return PG_EVERIFY;
	if (t == NULL)
		return pg_err_set(err, PG_EPOLICY, "notation verifier has no trust statement");
	/* The admitted artifact's descriptor, by HEAD when the registry gives
	 * it whole (no pull spent): the signature binds digest, media type
	 * and size, so a registry's false claim is a denial. */
	if ((rc = pg_oci_manifest_describe(&td, oci, q, ref->registry, ref->repository,
					   ref->digest ? ref->digest : ref->tag, err)) != PG_OK)
		return rc;
	target.digest = td.digest;
	target.media_type = td.media_type[0] ? td.media_type : NULL;
	target.size = td.size;
	if ((*digest_out = pg_strdup(target.digest)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (target.media_type == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "%s has no media type to compare", target.digest);
		goto out;
	}
	if ((rc = pg_oci_referrers(&refs, &nrefs, oci, q, ref->registry, ref->repository,
				   target.digest, PG_NOTATION_ARTIFACT_TYPE, err)) != PG_OK)
		goto out;
	for (i = 0; i < nrefs && tried < PG_NV_SIGS_MAX; i++) {
		pg_err_clear(&e);
		tried++;
		free(env);
		free(mt);
		env = NULL;
		mt = NULL;
		rc = fetch_envelope(&mt, &env, &env_len, oci, q, ref, refs[i].digest, target.digest,
				    &e);
		if (rc == PG_ETIMEOUT) {
			pg_err_set(err, rc, "%s", e.msg);
			goto out;
		}
		if (rc == PG_OK) {
			rc = pg_notation_verify_crl(&o, t, mt, env, env_len, &target, NULL, 0, &crl,
						    now, &e);
			if (rc == PG_OK && o.skipped) {
				rc =
				    pg_err_set(&e, PG_EVERIFY,
					       "trust policy \"%s\" skips verification: provgate "
					       "admits nothing on it (write allowUnsigned instead)",
					       "notation");
			} else if (rc == PG_OK) {
				char who[700];

				(void)snprintf(who, sizeof(who), "notation: %.250s%s%.400s",
					       o.signer, o.logged[0] ? " (logged: " : "",
					       o.logged[0] ? o.logged : "");
				if (o.logged[0])
					(void)snprintf(who + strlen(who), sizeof(who) - strlen(who),
						       ")");
				if ((*signer_out = pg_strdup(who)) == NULL)
					rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (first[0] == '\0')
			(void)snprintf(first, sizeof(first), "%.100s: %.800s", refs[i].digest,
				       e.msg);
	}
	if (tried == 0)
		rc = pg_err_set(err, PG_EVERIFY, "no Notation signatures found for %s@%s", scope,
				target.digest);
	else
		rc = pg_err_set(err, PG_EVERIFY,
				"no Notation signature of %s@%s verified (%zu tried): %s", scope,
				target.digest, tried, first);
out:
	free(env);
	free(mt);
	pg_oci_descs_free(refs, nrefs);
	free(td.digest);
	free(td.media_type);
	return rc;
}

int
pg_verify_notation_config(char **digest_out, char **signer_out, pg_oci *oci, const pg_oci_req *q,
			  pg_notation_config *cfg, const pg_image_ref *ref, int64_t now,
			  pg_err *err)
{
	pg_verifier v;

	memset(&v, 0, sizeof(v));
	v.kind = PG_VERIFY_NOTATION;
	v.nv_config = cfg;
	return pg_verify__notation_image(digest_out, signer_out, oci, q, &v, ref, now, err);
}
