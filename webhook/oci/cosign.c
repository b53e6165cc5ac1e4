/*
 * oci/cosign — finds the signatures of an image in its registry and hands
 * them to sigstore/ for verification, the way `cosign verify` does:
 * Sigstore bundles attached as OCI 1.1 referrers (or the referrers
 * tag-schema fallback), then the legacy "sha256-<hex>.sig" manifest whose
 * layers are simple-signing payloads.  Any one signature that verifies
 * satisfies a trust entry.
 *
 * This file does no cryptography and decides nothing about policy: it
 * fetches (bounded, digest-checked) and reports which trust entries were
 * satisfied, by whom, or why none was.  A registry that cannot be reached
 * is reported as such (PG_EFETCH / PG_ETIMEOUT), never as a bad signature,
 * so a transient failure is not cached as a verdict.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf/buf.h"
#include "oci/oci_int.h"
#include "ref/ref.h"
#include "sigstore/sigstore.h"

/* What a bundle referrer's layer media type starts with (v0.1–v0.3). */
#define BUNDLE_MT_PREFIX "application/vnd.dev.sigstore.bundle"

enum { SIG_LEGACY = 1, SIG_BUNDLE = 2 };

typedef struct sig {
	int kind;
	char *where;         /* names the signature in messages */
	unsigned char *bytes;
	size_t len;
	json_t *annotations; /* legacy: the layer's annotations */
	int fetch_code;      /* != 0: could not be fetched; why in fetch_msg */
	char *fetch_msg;
} sig;

typedef struct sigs {
	sig *v;
	size_t n;
} sigs;

static void
sigs_free(sigs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].where);
		free(s->v[i].bytes);
		json_decref(s->v[i].annotations);
		free(s->v[i].fetch_msg);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Add a signature named by printf-style where; NULL when out of memory. */
static sig *
sigs_add(sigs *s, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static sig *
sigs_add(sigs *s, int kind, const char *fmt, ...)
{
	sig *nv, *g;
	char where[512];
	va_list ap;

	if ((nv = realloc(s->v, (s->n + 1) * sizeof(*nv))) == NULL)
		return NULL;
	s->v = nv;
	va_start(ap, fmt);
	(void)vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	g = &s->v[s->n];
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	if ((g->where = pg_strdup(where)) == NULL)
		return NULL;
	s->n++;
	return g;
}

static int
sig_fetch_failed(sig *g, const pg_err *e)
{
	g->fetch_code = e->code ? e->code : PG_EFETCH;
	g->fetch_msg = pg_strdup(e->msg);
	return g->fetch_msg ? PG_OK : PG_ENOMEM;
}

/* Bundles: referrers of digest with the bundle artifact type, each a
 * manifest with exactly one bundle layer whose subject is digest. */
static int
find_bundles(sigs *s, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
	     const char *digest, pg_err *err)
{
	int rc;
	pg_oci_desc *refs = NULL;
	size_t n = 0, i;

	rc = pg_oci_referrers(&refs, &n, c, q, host, repo, digest, PG_OCI_AT_SIGSTORE_BUNDLE, err);
	if (rc != PG_OK)
		return rc;
	for (i = 0; i < n && s->n < PG_OCI_SIGS_MAX; i++) {
		pg_oci_manifest *m = NULL;
		const pg_oci_desc *subj, *layer;
		pg_err e = {0};
		sig *g = sigs_add(s, SIG_BUNDLE, "Sigstore bundle %s", refs[i].digest);

		if (g == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		rc = pg_oci_manifest_get(&m, c, q, host, repo, refs[i].digest, &e);
		if (rc == PG_OK) {
			subj = pg_oci_manifest_subject(m);
			layer = pg_oci_manifest_desc(m, 0);
			/* The listing is the registry's say-so; the manifest
			 * itself must point at the image. */
			if (subj == NULL || strcmp(subj->digest, digest) != 0)
				rc = pg_err_set(&e, PG_EVERIFY, "its subject is not %s", digest);
			else if (pg_oci_manifest_count(m) != 1 ||
				 strncmp(layer->media_type, BUNDLE_MT_PREFIX, strlen(BUNDLE_MT_PREFIX)) != 0)
				rc = pg_err_set(&e, PG_EVERIFY, "it does not hold exactly one bundle layer");
			else
				rc = pg_oci_blob_get(&g->bytes, &g->len, c, q, host, repo, layer->digest,
						     layer->size, PG_SIGSTORE_JSON_MAX, &e);
		}
		pg_oci_manifest_free(m);
		if (rc == PG_ENOMEM) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		if (rc != PG_OK && sig_fetch_failed(g, &e) != PG_OK) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = PG_OK;
out:
	pg_oci_descs_free(refs, n);
	return rc;
}

/* Legacy: the layers of <repo>:sha256-<hex>.sig. */
static int
find_legacy(sigs *s, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
	    const char *digest, pg_err *err)
{
	int rc;
	pg_oci_manifest *m = NULL;
	char tag[OCI_DIGEST_BUF + 8];
	const char *colon = strchr(digest, ':');
	size_t i;

	(void)snprintf(tag, sizeof(tag), "%.*s-%s.sig", (int)(colon - digest), digest, colon + 1);
	rc = pg_oci_manifest_get(&m, c, q, host, repo, tag, err);
	if (rc == PG_ENOTFOUND) {
		pg_err_clear(err);
		return PG_OK;
	}
	if (rc != PG_OK)
		return rc;
	if (pg_oci_manifest_is_index(m)) {
		rc = pg_err_set(err, PG_EVERIFY, "%s/%s:%s is an index, not a signature manifest", host,
				repo, tag);
		goto out;
	}
	for (i = 0; i < pg_oci_manifest_count(m) && s->n < PG_OCI_SIGS_MAX; i++) {
		const pg_oci_desc *d = pg_oci_manifest_desc(m, i);
		pg_err e = {0};
		sig *g;

		if (strcmp(d->media_type, PG_OCI_MT_SIMPLESIGNING) != 0)
			continue;
		if ((g = sigs_add(s, SIG_LEGACY, "signature %zu in %s", i + 1, tag)) == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		g->annotations = d->annotations ? json_deep_copy(d->annotations) : json_object();
		if (g->annotations == NULL) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		rc = pg_oci_blob_get(&g->bytes, &g->len, c, q, host, repo, d->digest, d->size,
				     PG_OCI_PAYLOAD_MAX, &e);
		if (rc == PG_ENOMEM || (rc != PG_OK && sig_fetch_failed(g, &e) != PG_OK)) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = PG_OK;
out:
	pg_oci_manifest_free(m);
	return rc;
}

void
pg_oci_verified_clear(pg_oci_verified *v)
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

int
pg_oci_verify_image(pg_oci_verified *out, pg_oci *c, const pg_oci_req *q, const pg_image_ref *ref,
		    const pg_sig_trust *trust, size_t n_trust, pg_err *err)
{
	int rc, first_code = 0, disc_code = 0;
	sigs s = {0};
	pg_err e = {0}, disc = {0};
	char first[PG_ERR_MSG_MAX] = "";
	bool any = false, crypto_failed = false;
	size_t i, j;
	const char *host, *repo;

	memset(out, 0, sizeof(*out));
	if (ref == NULL || ref->registry == NULL || ref->repository == NULL || n_trust == 0)
		return pg_err_set(err, PG_EINVAL, "verify image: no reference or no trust given");
	host = ref->registry;
	repo = ref->repository;
	if ((out->trust_ok = calloc(n_trust, sizeof(*out->trust_ok))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	out->n_trust = n_trust;
	if (ref->digest) {
		if (!oci_digest_valid(ref->digest) || strncmp(ref->digest, "sha256:", 7) != 0)
			return pg_err_set(err, PG_EINVAL, "%s: only sha256 digests can be verified",
					  ref->normalized ? ref->normalized : repo);
		if ((out->digest = pg_strdup(ref->digest)) == NULL)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
	} else {
		rc = pg_oci_resolve(&out->digest, c, q, host, repo, ref->tag ? ref->tag : "latest", err);
		if (rc != PG_OK)
			return rc;
	}
	/* Discovery failures of one kind do not hide signatures of the other
	 * (a registry without the referrers API still serves .sig tags). */
	rc = find_bundles(&s, c, q, host, repo, out->digest, &disc);
	if (rc == PG_ENOMEM)
		goto fail_disc;
	if (rc != PG_OK) {
		disc_code = rc;
		(void)pg_err_wrap(&disc, "looking for Sigstore bundles: ");
		e = disc;
	}
	pg_err_clear(&disc);
	rc = find_legacy(&s, c, q, host, repo, out->digest, &disc);
	if (rc == PG_ENOMEM)
		goto fail_disc;
	if (rc != PG_OK && disc_code == 0) {
		disc_code = rc;
		(void)pg_err_wrap(&disc, "looking for cosign signatures: ");
		e = disc;
	}
	out->n_sigs = s.n;
	if (s.n == 0) {
		if (disc_code != 0)
			rc = pg_err_set(err, disc_code, "%s", e.msg);
		else
			rc = pg_err_set(err, PG_EVERIFY, "no signatures found for %s/%s@%s", host, repo,
					out->digest);
		goto out;
	}
	for (i = 0; i < n_trust; i++) {
		for (j = 0; j < s.n && !out->trust_ok[i]; j++) {
			sig *g = &s.v[j];
			char *signer = NULL;

			pg_err_clear(&e);
			if (g->fetch_code != 0) {
				rc = pg_err_set(&e, g->fetch_code, "%s", g->fetch_msg);
			} else if (g->kind == SIG_LEGACY) {
				rc = pg_cosign_verify_legacy(&signer, g->bytes, g->len, g->annotations,
							     out->digest, &trust[i], &e);
			} else {
				/* Images and OCI charts: DSSE in-toto bundles only. */
				pg_sig_trust ti = trust[i];

				ti.dsse_only = true;
				rc = pg_sigstore_verify_bundle(&signer, (const char *)g->bytes, g->len,
							       NULL, 0, out->digest, &ti, &e);
			}
			if (rc == PG_OK) {
				out->trust_ok[i] = true;
				any = true;
				if (out->signer == NULL) {
					out->signer = signer;
					signer = NULL;
				}
			} else {
				if (g->fetch_code == 0)
					crypto_failed = true;
				if (first[0] == '\0') {
					pg_buf fb;

					/* Truncation is fine: the message is capped anyway. */
					pg_buf_init(&fb, sizeof(first) - 1);
					if (pg_buf_printf(&fb, "%s: %s", g->where,
							  e.msg[0] ? e.msg : pg_err_name(rc)) != PG_OK)
						(void)pg_buf_printf(&fb, "%.200s: %.700s", g->where,
								    e.msg[0] ? e.msg : pg_err_name(rc));
					memcpy(first, fb.data ? (const char *)fb.data : "", fb.len + 1);
					pg_buf_free(&fb);
					first_code = rc;
				}
			}
			free(signer);
		}
	}
	if (any) {
		rc = PG_OK;
		goto out;
	}
	/* Nothing verified.  If every signature failed only because it
	 * could not be fetched, that is the registry's failure, not the
	 * image's. */
	rc = (!crypto_failed && transient(first_code)) ? first_code : PG_EVERIFY;
	(void)pg_err_set(err, rc, "no signature of %s/%s@%s verified (%zu found): %s", host, repo,
			 out->digest, s.n, first);
	goto out;
fail_disc:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	sigs_free(&s);
	return rc;
}
