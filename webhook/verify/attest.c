/*
 * verify/attest — build-provenance attestations of an image (issue 13):
 * discovery with the generic registry calls of oci/ (referrers and the
 * tag-schema fallback, the legacy sha256-<hex>.att manifest), verification
 * by sigstore/ (DSSE signature, log, time, certificate, identity) and the
 * statement checks of attest/ (subject = the admitted digest, predicate
 * type, conditions, certificate claims).
 *
 * A verifier entry with attestations is satisfied when every one of its
 * requirements is met by some attestation that verifies with the entry's
 * key or keyless identity.  A registry that could not answer is reported
 * as such (PG_EFETCH / PG_ETIMEOUT), never as missing evidence.
 */
#include "verify/verify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "verify/attest.h"
#include "buf/buf.h"
#include "digest/digest.h"

#define BUNDLE_PREFIX "application/vnd.dev.sigstore.bundle"
#define MT_DSSE "application/vnd.dsse.envelope.v1+json"
/* Attestations examined per image and verifier entry. */
#define ATT_MAX PG_VERIFY_SIGS_MAX

typedef struct att_ctx {
	const pg_attest_req *reqs;
	size_t nreqs;
	const pg_sig_trust *t;
	const char *digest;
	bool *met;			/* v->n_attest */
	pg_attest_info *info;		/* v->n_attest: what met each */
	char (*env)[PG_SHA256_STR_MAX]; /* v->n_attest: envelope digests */
	char **signer;			/* v->n_attest */
	size_t n_met, n_seen;
	int fetch_code;		  /* first transient failure */
	char why[PG_ERR_MSG_MAX]; /* most telling failure so far */
	int why_rank;
} att_ctx;

static bool
transient(int code)
{
	return code == PG_EFETCH || code == PG_ETIMEOUT || code == PG_ENOMEM;
}

/* Keep the failure that says most: a statement check beats a signature
 * failure beats "not an attestation". */
static void
note(att_ctx *a, int rank, const char *where, const char *msg)
{
	if (rank <= a->why_rank)
		return;
	a->why_rank = rank;
	(void)snprintf(a->why, sizeof(a->why), "%.200s: %.700s", where, msg);
}

/* One verified envelope against every requirement not met yet. */
static int
judge(att_ctx *a, pg_dsse_result *d, const char *where)
{
	size_t i;
	pg_err e;
	int rc;

	for (i = 0; i < a->nreqs; i++) {
		pg_attest_info in;

		if (a->met[i])
			continue;
		pg_err_clear(&e);
		rc = pg_attest_check(&in, d->payload, d->payload_len, a->digest,
				     a->t->key_pem ? NULL : d->claims, &a->reqs[i], &e);
		if (rc == PG_ENOMEM)
			return rc;
		if (rc != PG_OK) {
			note(a, 3, where, e.msg);
			continue;
		}
		a->met[i] = true;
		a->n_met++;
		a->info[i] = in;
		memcpy(a->env[i], d->envelope_digest, sizeof(a->env[i]));
		a->signer[i] = d->signer;
		d->signer = NULL;
		if (a->signer[i] == NULL && (a->signer[i] = pg_strdup("?")) == NULL)
			return PG_ENOMEM;
	}
	return PG_OK;
}

static void
fetch_failed(att_ctx *a, int code, const char *where, const char *msg)
{
	if (a->fetch_code == 0)
		a->fetch_code = code;
	note(a, 1, where, msg);
}

/* Sigstore bundles among the referrers of digest. */
static int
from_referrers(att_ctx *a, pg_oci *oci, const pg_oci_req *q, const char *host, const char *repo,
	       pg_err *err)
{
	pg_oci_desc *refs = NULL;
	size_t n = 0, i, j;
	int rc;

	rc = pg_oci_referrers(&refs, &n, oci, q, host, repo, a->digest, NULL, err);
	if (rc != PG_OK)
		return rc;
	for (i = 0; i < n && a->n_seen < ATT_MAX && a->n_met < a->nreqs; i++) {
		pg_oci_manifest *m = NULL;
		const pg_oci_desc *subj;
		char where[160];
		pg_err e;

		if (refs[i].artifact_type == NULL ||
		    strncmp(refs[i].artifact_type, BUNDLE_PREFIX, strlen(BUNDLE_PREFIX)) != 0)
			continue;
		a->n_seen++;
		(void)snprintf(where, sizeof(where), "bundle %.100s", refs[i].digest);
		pg_err_clear(&e);
		rc = pg_oci_manifest_get(&m, oci, q, host, repo, refs[i].digest, &e);
		if (rc != PG_OK) {
			if (rc == PG_ENOMEM)
				goto out;
			fetch_failed(a, transient(rc) ? rc : 0, where, e.msg);
			continue;
		}
		subj = pg_oci_manifest_subject(m);
		if (subj == NULL || strcmp(subj->digest, a->digest) != 0) {
			note(a, 1, where, "its subject is not the image");
			pg_oci_manifest_free(m);
			continue;
		}
		for (j = 0; j < pg_oci_manifest_count(m) && a->n_met < a->nreqs; j++) {
			const pg_oci_desc *l = pg_oci_manifest_desc(m, j);
			unsigned char *b = NULL;
			size_t blen = 0;
			pg_dsse_result d;

			if (strncmp(l->media_type, BUNDLE_PREFIX, strlen(BUNDLE_PREFIX)) != 0)
				continue;
			pg_err_clear(&e);
			rc = pg_oci_blob_get(&b, &blen, oci, q, host, repo, l->digest, l->size,
					     PG_SIGSTORE_JSON_MAX, &e);
			if (rc != PG_OK) {
				free(b);
				if (rc == PG_ENOMEM)
					break;
				fetch_failed(a, transient(rc) ? rc : 0, where, e.msg);
				continue;
			}
			rc = pg_sigstore_verify_dsse_bundle(&d, (const char *)b, blen, 0, a->t, &e);
			free(b);
			if (rc == PG_ENOMEM)
				break;
			if (rc != PG_OK) {
				note(a, 2, where, e.msg);
				continue;
			}
			rc = judge(a, &d, where);
			pg_dsse_result_free(&d);
			if (rc != PG_OK)
				break;
		}
		pg_oci_manifest_free(m);
		if (rc == PG_ENOMEM)
			goto out;
	}
	rc = PG_OK;
out:
	pg_oci_descs_free(refs, n);
	if (rc == PG_ENOMEM)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return rc;
}

/* cosign's legacy <repo>:sha256-<hex>.att: DSSE envelopes as layers.
 * Probed (HEAD, then GET by the digest it named): most images have none. */
static int
from_legacy(att_ctx *a, pg_oci *oci, const pg_oci_req *q, const char *host, const char *repo,
	    pg_err *err)
{
	pg_oci_manifest *m = NULL;
	const char *colon = strchr(a->digest, ':');
	char tag[200];
	size_t i;
	int rc;

	(void)snprintf(tag, sizeof(tag), "%.*s-%s.att", (int)(colon - a->digest), a->digest,
		       colon + 1);
	rc = pg_oci_manifest_probe(&m, oci, q, host, repo, tag, err);
	if (rc == PG_ENOTFOUND) {
		pg_err_clear(err);
		return PG_OK;
	}
	if (rc != PG_OK)
		return rc;
	for (i = 0; i < pg_oci_manifest_count(m) && a->n_seen < ATT_MAX && a->n_met < a->nreqs;
	     i++) {
		const pg_oci_desc *l = pg_oci_manifest_desc(m, i);
		unsigned char *b = NULL;
		size_t blen = 0;
		pg_dsse_result d;
		char where[200];
		pg_err e;

		if (pg_oci_manifest_is_index(m) || strcmp(l->media_type, MT_DSSE) != 0)
			continue;
		a->n_seen++;
		(void)snprintf(where, sizeof(where), "attestation %zu in %.140s", i + 1, tag);
		pg_err_clear(&e);
		rc = pg_oci_blob_get(&b, &blen, oci, q, host, repo, l->digest, l->size,
				     PG_SIGSTORE_JSON_MAX, &e);
		if (rc != PG_OK) {
			free(b);
			if (rc == PG_ENOMEM)
				break;
			fetch_failed(a, transient(rc) ? rc : 0, where, e.msg);
			continue;
		}
		rc = pg_cosign_verify_legacy_dsse(&d, b, blen, l->annotations, 0, a->t, &e);
		free(b);
		if (rc == PG_ENOMEM)
			break;
		if (rc != PG_OK) {
			note(a, 2, where, e.msg);
			continue;
		}
		rc = judge(a, &d, where);
		pg_dsse_result_free(&d);
		if (rc != PG_OK)
			break;
	}
	pg_oci_manifest_free(m);
	if (rc == PG_ENOMEM)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

/* "attestation sha256:.. https://slsa.dev/provenance/v1 builder=.. source=..@..
 *  by SAN (issuer)" for each requirement, "; "-separated. */
static int
describe(char **out, const att_ctx *a)
{
	pg_buf b;
	size_t i;
	int rc = PG_OK;

	pg_buf_init(&b, 16384);
	for (i = 0; i < a->nreqs && rc == PG_OK; i++) {
		const pg_attest_info *in = &a->info[i];

		rc = pg_buf_printf(&b, "%sattestation %s %s", i ? "; " : "", a->env[i],
				   in->predicate_type ? in->predicate_type : "?");
		if (rc == PG_OK && in->builder_id)
			rc = pg_buf_printf(&b, " builder=%s", in->builder_id);
		if (rc == PG_OK && in->source_repo)
			rc = pg_buf_printf(&b, " source=%s%s%s", in->source_repo,
					   in->source_ref ? "@" : "",
					   in->source_ref ? in->source_ref : "");
		if (rc == PG_OK)
			rc = pg_buf_printf(&b, " signer=%s", a->signer[i]);
	}
	if (rc == PG_OK)
		rc = pg_buf_detach(out, NULL, &b);
	pg_buf_free(&b);
	return rc;
}

int
pg_verify_attestations(char **desc_out, pg_oci *oci, const pg_oci_req *q, const pg_image_ref *ref,
		       const char *digest, const pg_sig_trust *t, const pg_attest_req *reqs,
		       size_t nreqs, pg_err *err)
{
	att_ctx a;
	size_t i;
	int rc;

	*desc_out = NULL;
	memset(&a, 0, sizeof(a));
	if (nreqs == 0)
		return pg_err_set(err, PG_EINVAL, "verifier has no attestation requirement");
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0)
		return pg_err_set(err, PG_EINVAL, "attestations: image digest unknown");
	a.reqs = reqs;
	a.nreqs = nreqs;
	a.t = t;
	a.digest = digest;
	a.met = calloc(nreqs, sizeof(*a.met));
	a.info = calloc(nreqs, sizeof(*a.info));
	a.env = calloc(nreqs, sizeof(*a.env));
	a.signer = calloc(nreqs, sizeof(*a.signer));
	if (!a.met || !a.info || !a.env || !a.signer) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	rc = from_referrers(&a, oci, q, ref->registry, ref->repository, err);
	if (rc == PG_OK && a.n_met < nreqs)
		rc = from_legacy(&a, oci, q, ref->registry, ref->repository, err);
	if (rc != PG_OK)
		goto out;
	if (a.n_met == nreqs) {
		rc = describe(desc_out, &a);
		if (rc != PG_OK)
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (a.fetch_code != 0) {
		rc = pg_err_set(err, a.fetch_code, "attestations of %s could not be fetched: %s",
				digest, a.why);
		goto out;
	}
	for (i = 0; i < nreqs && a.met[i]; i++)
		;
	if (a.n_seen == 0)
		rc = pg_err_set(err, PG_EVERIFY, "no attestations found for %s", digest);
	else
		rc = pg_err_set(err, PG_EVERIFY,
				"no attestation of %s satisfies %s (%zu examined): %s", digest,
				reqs[i].predicate_type ? reqs[i].predicate_type : "the requirement",
				a.n_seen, a.why[0] ? a.why : "none verified");
out:
	for (i = 0; i < nreqs; i++) {
		if (a.info)
			pg_attest_info_free(&a.info[i]);
		if (a.signer)
			free(a.signer[i]);
	}
	free(a.met);
	free(a.info);
	free(a.env);
	free(a.signer);
	return rc;
}

int
pg_verify__attest_image(char **desc_out, pg_verify_ctx *c, const pg_oci_req *q,
			const pg_image_ref *ref, const char *digest, const pg_sig_trust *t,
			const pg_verifier *v, pg_err *err)
{
	return pg_verify_attestations(desc_out, c->oci, q, ref, digest, t, v->attest, v->n_attest,
				      err);
}
