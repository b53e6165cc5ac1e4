/*
 * verify/cosign — finds the cosign signatures of an image in its registry
 * (through oci/, the registry client) and hands them to sigstore/ for
 * verification, the way `cosign verify` does: the legacy
 * "sha256-<hex>.sig" manifest whose layers are simple-signing payloads
 * (one HEAD, and a GET when present, so first), then Sigstore bundles
 * attached as OCI 1.1 referrers (or the referrers tag-schema fallback).
 * Any one signature that verifies satisfies a trust entry; fetching stops
 * once enough entries are satisfied, and each source has its own budget,
 * so junk pushed to one cannot exhaust the search for the other.
 *
 * This file does no cryptography and decides nothing about policy: it
 * fetches (bounded, digest-checked) and reports which trust entries were
 * satisfied, by whom, or why none was.  A registry that cannot be reached
 * is reported as such (PG_EFETCH / PG_ETIMEOUT), never as a bad signature,
 * so a transient failure is not cached as a verdict.
 */
#include "verify/cosign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf/buf.h"
#include "digest/digest.h"
#include "oci/oci.h"
#include "ref/ref.h"
#include "sigstore/sigstore.h"

/* A legacy .sig manifest's layers: simple-signing payloads. */
#define MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
/* The artifactType of a Sigstore bundle referrer. */
#define AT_SIGSTORE_BUNDLE "application/vnd.dev.sigstore.bundle.v0.3+json"
/* What a bundle referrer's layer media type starts with (v0.1–v0.3). */
#define BUNDLE_MT_PREFIX "application/vnd.dev.sigstore.bundle"
/* "sha512:" + 128 hex + NUL: the longest digest a registry names. */
#define DIGEST_BUF 136

enum { SIG_LEGACY = 1, SIG_BUNDLE = 2 };

/*
 * One verification under way.  Signatures are verified as they are
 * fetched, each against every trust entry not yet satisfied; fetching stops
 * as soon as `need` entries are satisfied.  Each source (the legacy .sig
 * manifest's layers, the bundle referrers) has its own budget of
 * PG_VERIFY_SIGS_MAX signatures, so junk in one cannot hide the other; a
 * budget that cut the search short makes a failure indefinite (truncated).
 */
typedef struct vrun {
	pg_verify_cosign_result *out;
	const pg_sig_trust *trust;
	size_t n_trust, need, good;
	bool crypto_failed;
	int first_code;
	char first[PG_ERR_MSG_MAX];
} vrun;

static bool
satisfied(const vrun *v)
{
	return v->good >= v->need;
}

static void
note_failure(vrun *v, const char *where, int rc, const pg_err *e)
{
	pg_buf fb;

	if (v->first[0] != '\0')
		return;
	/* Truncation is fine: the message is capped anyway. */
	pg_buf_init(&fb, sizeof(v->first) - 1);
	if (pg_buf_printf(&fb, "%s: %s", where, e->msg[0] ? e->msg : pg_err_name(rc)) != PG_OK)
		(void)pg_buf_printf(&fb, "%.200s: %.700s", where,
				    e->msg[0] ? e->msg : pg_err_name(rc));
	memcpy(v->first, fb.data ? (const char *)fb.data : "", fb.len + 1);
	pg_buf_free(&fb);
	v->first_code = rc;
}

/*
 * Examine one signature: bytes (or fetch_err when it could not be
 * fetched) against every trust entry not yet satisfied.  PG_ENOMEM only.
 */
static int
consider(vrun *v, int kind, const char *where, const unsigned char *bytes, size_t len,
	 const json_t *annotations, const pg_err *fetch_err)
{
	size_t i;

	v->out->n_sigs++;
	for (i = 0; i < v->n_trust; i++) {
		char *signer = NULL;
		pg_err e = {0};
		int rc;

		if (v->out->trust_ok[i])
			continue;
		if (fetch_err != NULL) {
			rc = fetch_err->code ? fetch_err->code : PG_EFETCH;
			e = *fetch_err;
		} else if (kind == SIG_LEGACY) {
			rc = pg_cosign_verify_legacy(&signer, bytes, len, annotations,
						     v->out->digest, &v->trust[i], &e);
		} else {
			/* Images and OCI charts: DSSE in-toto bundles only. */
			pg_sig_trust ti = v->trust[i];

			ti.dsse_only = true;
			rc = pg_sigstore_verify_bundle(&signer, (const char *)bytes, len, NULL, 0,
						       v->out->digest, &ti, &e);
		}
		if (rc == PG_OK) {
			v->out->trust_ok[i] = true;
			v->good++;
			if (v->out->signer == NULL) {
				v->out->signer = signer;
				signer = NULL;
			}
		} else {
			if (fetch_err == NULL)
				v->crypto_failed = true;
			note_failure(v, where, rc, &e);
		}
		free(signer);
		if (rc == PG_ENOMEM)
			return PG_ENOMEM;
	}
	return PG_OK;
}

/* Legacy first: the layers of <repo>:sha256-<hex>.sig, probed (a HEAD,
 * then one GET by the digest it named: an image signed only with bundles
 * spends no pull on the absent tag), then one GET per layer until the rule
 * is satisfied. */
static int
find_legacy(vrun *v, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
	    pg_err *err)
{
	int rc;
	pg_oci_manifest *m = NULL;
	char tag[DIGEST_BUF + 8];
	const char *digest = v->out->digest, *colon = strchr(digest, ':');
	size_t i, seen = 0;

	(void)snprintf(tag, sizeof(tag), "%.*s-%s.sig", (int)(colon - digest), digest, colon + 1);
	rc = pg_oci_manifest_probe(&m, c, q, host, repo, tag, err);
	if (rc == PG_ENOTFOUND) {
		pg_err_clear(err);
		return PG_OK;
	}
	if (rc != PG_OK)
		return rc;
	if (pg_oci_manifest_is_index(m)) {
		rc = pg_err_set(err, PG_EVERIFY, "%s/%s:%s is an index, not a signature manifest",
				host, repo, tag);
		goto out;
	}
	for (i = 0; i < pg_oci_manifest_count(m) && !satisfied(v); i++) {
		const pg_oci_desc *d = pg_oci_manifest_desc(m, i);
		unsigned char *bytes = NULL;
		size_t len = 0;
		char where[DIGEST_BUF + 64];
		pg_err e = {0};

		if (strcmp(d->media_type, MT_SIMPLESIGNING) != 0)
			continue;
		if (seen++ == PG_VERIFY_SIGS_MAX) {
			v->out->truncated = true;
			break;
		}
		(void)snprintf(where, sizeof(where), "signature %zu in %s", i + 1, tag);
		rc = pg_oci_blob_get(&bytes, &len, c, q, host, repo, d->digest, d->size,
				     PG_VERIFY_COSIGN_PAYLOAD_MAX, &e);
		if (rc != PG_ENOMEM)
			rc = consider(v, SIG_LEGACY, where, bytes, len, d->annotations,
				      rc == PG_OK ? NULL : &e);
		free(bytes);
		if (rc == PG_ENOMEM) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = PG_OK;
out:
	pg_oci_manifest_free(m);
	return rc;
}

/* Bundles: referrers of the digest with the bundle artifact type, each a
 * manifest with exactly one bundle layer whose subject is the digest. */
static int
find_bundles(vrun *v, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
	     pg_err *err)
{
	int rc;
	pg_oci_desc *refs = NULL;
	const char *digest = v->out->digest;
	size_t n = 0, i;

	rc = pg_oci_referrers(&refs, &n, c, q, host, repo, digest, AT_SIGSTORE_BUNDLE, err);
	if (rc != PG_OK)
		return rc;
	for (i = 0; i < n && !satisfied(v); i++) {
		pg_oci_manifest *m = NULL;
		const pg_oci_desc *subj, *layer;
		unsigned char *bytes = NULL;
		size_t len = 0;
		char where[DIGEST_BUF + 64];
		pg_err e = {0};

		if (i == PG_VERIFY_SIGS_MAX) {
			v->out->truncated = true;
			break;
		}
		(void)snprintf(where, sizeof(where), "Sigstore bundle %s", refs[i].digest);
		rc = pg_oci_manifest_get(&m, c, q, host, repo, refs[i].digest, &e);
		if (rc == PG_OK) {
			subj = pg_oci_manifest_subject(m);
			layer = pg_oci_manifest_desc(m, 0);
			/* The listing is the registry's say-so; the manifest
			 * itself must point at the image. */
			if (subj == NULL || strcmp(subj->digest, digest) != 0)
				rc = pg_err_set(&e, PG_EVERIFY, "its subject is not %s", digest);
			else if (pg_oci_manifest_count(m) != 1 ||
				 strncmp(layer->media_type, BUNDLE_MT_PREFIX,
					 strlen(BUNDLE_MT_PREFIX)) != 0)
				rc = pg_err_set(&e, PG_EVERIFY,
						"it does not hold exactly one bundle layer");
			else
				rc = pg_oci_blob_get(&bytes, &len, c, q, host, repo, layer->digest,
						     layer->size, PG_SIGSTORE_JSON_MAX, &e);
		}
		pg_oci_manifest_free(m);
		if (rc != PG_ENOMEM)
			rc = consider(v, SIG_BUNDLE, where, bytes, len, NULL,
				      rc == PG_OK ? NULL : &e);
		free(bytes);
		if (rc == PG_ENOMEM) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = PG_OK;
out:
	pg_oci_descs_free(refs, n);
	return rc;
}

void
pg_verify_cosign_result_clear(pg_verify_cosign_result *v)
{
	if (v == NULL)
		return;
	free(v->digest);
	free(v->signer);
	free(v->trust_ok);
	memset(v, 0, sizeof(*v));
}

static bool
transient(int code)
{
	return code == PG_EFETCH || code == PG_ETIMEOUT || code == PG_ENOMEM;
}

/*
 * The code of a search, from what it saw: PG_OK when a trust entry was
 * satisfied.  Otherwise a definite PG_EVERIFY only when every candidate
 * was examined and at least one failed on its merits; a budget that cut the
 * search short (truncated) is PG_ETOOBIG, a source that could not be read
 * or signatures that could not be downloaded keep their transient code:
 * none of these may be cached as a verdict on the image.  disc_code is the
 * first discovery failure (0: none).
 */
static int
outcome(const vrun *v, int disc_code)
{
	/* Some entries satisfied, not enough, and a source was unreadable:
	 * the missing ones might have been there. */
	if (v->good > 0)
		return satisfied(v) || disc_code == 0 || !transient(disc_code) ? PG_OK : disc_code;
	if (v->out->n_sigs == 0) {
		if (v->out->truncated)
			return PG_ETOOBIG;
		return disc_code != 0 ? disc_code : PG_EVERIFY;
	}
	if (v->out->truncated)
		return PG_ETOOBIG;
	if (disc_code != 0 && transient(disc_code))
		return disc_code;
	return (!v->crypto_failed && transient(v->first_code)) ? v->first_code : PG_EVERIFY;
}

int
pg_verify_cosign_image(pg_verify_cosign_result *out, pg_oci *c, const pg_oci_req *q,
		       const pg_image_ref *ref, const pg_sig_trust *trust, size_t n_trust,
		       size_t need, pg_err *err)
{
	int rc, disc_code = 0;
	pg_err disc = {0}, first_disc = {0};
	vrun v;
	const char *host, *repo;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	if (ref == NULL || ref->registry == NULL || ref->repository == NULL || n_trust == 0)
		return pg_err_set(err, PG_EINVAL, "verify image: no reference or no trust given");
	host = ref->registry;
	repo = ref->repository;
	if ((out->trust_ok = calloc(n_trust, sizeof(*out->trust_ok))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	out->n_trust = n_trust;
	if (ref->digest) {
		if (!pg_digest_string_valid(ref->digest) || strncmp(ref->digest, "sha256:", 7) != 0)
			return pg_err_set(err, PG_EINVAL, "%s: only sha256 digests can be verified",
					  ref->normalized ? ref->normalized : repo);
		if ((out->digest = pg_strdup(ref->digest)) == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
	} else {
		rc = pg_oci_resolve(&out->digest, c, q, host, repo, ref->tag ? ref->tag : "latest",
				    err);
		if (rc != PG_OK)
			return rc;
	}
	v.out = out;
	v.trust = trust;
	v.n_trust = n_trust;
	v.need = need == 0 || need > n_trust ? n_trust : need;
	/* The legacy .sig first: one HEAD (and a GET when present), and what
	 * most images carry.  A
	 * discovery failure of one source does not hide the other (a registry
	 * without the referrers API still serves .sig tags). */
	rc = find_legacy(&v, c, q, host, repo, &disc);
	if (rc == PG_ENOMEM)
		goto fail_nomem;
	if (rc != PG_OK) {
		disc_code = rc;
		(void)pg_err_wrap(&disc, "looking for cosign signatures: ");
		first_disc = disc;
	}
	if (!satisfied(&v)) {
		pg_err_clear(&disc);
		rc = find_bundles(&v, c, q, host, repo, &disc);
		if (rc == PG_ENOMEM)
			goto fail_nomem;
		if (rc == PG_ETOOBIG)
			out->truncated = true; /* more referrers than we list */
		if (rc != PG_OK && disc_code == 0) {
			disc_code = rc;
			(void)pg_err_wrap(&disc, "looking for Sigstore bundles: ");
			first_disc = disc;
		}
	}
	rc = outcome(&v, disc_code);
	if (rc == PG_OK)
		goto out;
	if (v.good > 0) {
		rc = pg_err_set(err, rc,
				"%zu of the %zu trust entries needed verified for %s/%s@%s; %s",
				v.good, v.need, host, repo, out->digest, first_disc.msg);
		goto out;
	}
	if (out->n_sigs == 0) {
		if (disc_code != 0)
			rc = pg_err_set(err, rc, "%s", first_disc.msg);
		else
			rc = pg_err_set(err, rc, "no signatures found for %s/%s@%s", host, repo,
					out->digest);
		goto out;
	}
	if (out->truncated)
		(void)pg_err_set(
		    err, rc,
		    "no signature of %s/%s@%s verified among the %zu examined; more were "
		    "not examined (at most %d per source), so this is not a final "
		    "answer: %s",
		    host, repo, out->digest, out->n_sigs, PG_VERIFY_SIGS_MAX, v.first);
	else if (rc == disc_code)
		(void)pg_err_set(err, rc, "no signature of %s/%s@%s verified (%zu found): %s; %s",
				 host, repo, out->digest, out->n_sigs, v.first, first_disc.msg);
	else
		(void)pg_err_set(err, rc, "no signature of %s/%s@%s verified (%zu found): %s", host,
				 repo, out->digest, out->n_sigs, v.first);
	goto out;
fail_nomem:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	return rc;
}
