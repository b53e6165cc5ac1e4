/*
 * verify/chart — charts: classic repositories (index.yaml, .prov), OCI
 * charts (content + provenance layers, or cosign signatures), Helm release
 * Secrets (the release's chart must be exactly a verified archive), and
 * Flux sources (looked up through the Kubernetes API first).
 *
 * The archive is downloaded once per reference and shared by every prov
 * verifier of the rule; cosign verifiers of OCI charts go through the same
 * registry client as images.
 */
#include "verify/verify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "helm/helm.h"
#include "kube/kube.h"

typedef struct chart_job {
	pg_verify_ctx *c;
	const pg_policy *p;
	const pg_rule *r;
	const pg_chart_ref *ref;
	int64_t deadline;
	pg_helm_download *dl; /* downloaded archive + prov, or NULL */
	int dl_rc;	      /* result of the download attempt (once) */
	pg_err dl_err;
	int tried;
	/* OCI charts: the one resolution of the reference, made before any
	 * evidence or content is fetched (issue 17): every verifier and the
	 * archive download then go by this digest, so a registry that answers
	 * the tag differently on each request cannot have one manifest's
	 * signature vouch for another's archive. */
	char *digest;	   /* "sha256:<hex>" the tag resolved to */
	pg_image_ref *img; /* the reference, digest set to digest */
	char *pinned;	   /* "oci://host/repo:version@digest" for downloads */
	int res_rc;
	pg_err res_err;
	int res_tried;
} chart_job;

/* "oci://host/path/name:ver" -> image reference "host/path/name:ver". */
static int
oci_image_ref(pg_image_ref **out, const pg_chart_ref *ref, pg_err *err)
{
	const char *loc = ref->location;

	if (strncmp(loc, "oci://", 6) != 0)
		return pg_err_set(err, PG_EINVAL, "not an OCI chart: %s", loc);
	if (ref->version == NULL)
		return pg_err_set(err, PG_EINVAL, "OCI chart %s names no version", loc);
	return pg_ref_parse_oci(out, loc + 6, err);
}

/* The CA to trust for a chart repository: its `registries` entry's caFile
 * (registries say how to reach any host, chart repositories included),
 * else --ca-file. */
static const char *
repo_ca_file(const chart_job *j)
{
	const char *u = j->ref->repo_url, *h, *end;
	const pg_registry_cfg *rc;
	char host[300];

	if (u == NULL || (h = strstr(u, "://")) == NULL)
		return j->c->opts.ca_file;
	h += 3;
	end = h + strcspn(h, "/?#");
	if ((size_t)(end - h) >= sizeof(host))
		return j->c->opts.ca_file;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	rc = pg_policy_registry(j->p, host);
	return rc && rc->ca_file ? rc->ca_file : j->c->opts.ca_file;
}

/* Resolve an OCI chart's tag to its manifest digest: once per job. */
static int
pin_oci(chart_job *j, pg_err *err)
{
	pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};
	pg_image_ref *img = NULL;
	char *digest = NULL;
	pg_buf b;
	int rc;

	pg_buf_init(&b, 4096);
	if ((rc = oci_image_ref(&img, j->ref, err)) != PG_OK)
		goto out;
	if (img->digest) {
		if (strncmp(img->digest, "sha256:", 7) != 0) {
			rc = pg_err_set(err, PG_EINVAL, "%s: only sha256 digests can be verified",
					j->ref->location);
			goto out;
		}
		digest = pg_strdup(img->digest);
	} else {
		rc = pg_oci_resolve(&digest, j->c->oci, &q, img->registry, img->repository,
				    img->tag, err);
		if (rc != PG_OK)
			goto out;
	}
	if (digest == NULL ||
	    pg_buf_printf(&b, "oci://%s/%s%s%s@%s", img->registry, img->repository,
			  img->tag ? ":" : "", img->tag ? img->tag : "", digest) != PG_OK ||
	    pg_buf_detach(&j->pinned, NULL, &b) != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	free(img->digest);
	img->digest = digest;
	digest = NULL;
	if ((j->digest = pg_strdup(img->digest)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	j->img = img;
	img = NULL;
	rc = PG_OK;
out:
	free(digest);
	pg_ref_free(img);
	pg_buf_free(&b);
	return rc;
}

static int
resolve_once(chart_job *j, pg_err *err)
{
	if (j->ref->kind != PG_CHART_OCI)
		return PG_OK;
	if (!j->res_tried) {
		j->res_tried = 1;
		pg_err_clear(&j->res_err);
		j->res_rc = pin_oci(j, &j->res_err);
	}
	if (j->res_rc != PG_OK)
		*err = j->res_err;
	return j->res_rc;
}

static void
chart_job_clear(chart_job *j)
{
	pg_helm_download_free(j->dl);
	j->dl = NULL;
	free(j->digest);
	free(j->pinned);
	pg_ref_free(j->img);
	j->digest = j->pinned = NULL;
	j->img = NULL;
}

/* Download archive + provenance once per job; an OCI chart by the digest
 * its tag resolved to, never by the tag again. */
static int
download(chart_job *j, pg_err *err)
{
	pg_helm_fetch_opts o = {repo_ca_file(j), pg_verify__guard, (void *)j->p, j->deadline};

	if (!j->tried) {
		j->tried = 1;
		pg_err_clear(&j->dl_err);
		pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};

		if (j->ref->kind == PG_CHART_OCI) {
			j->dl_rc = resolve_once(j, &j->dl_err);
			if (j->dl_rc == PG_OK)
				j->dl_rc = pg_helm_download_oci(&j->dl, j->c->oci, &q, j->pinned,
								&j->dl_err);
		} else
			j->dl_rc =
			    pg_helm_download_repo(&j->dl, j->c->fetch, j->ref->repo_url,
						  j->ref->name, j->ref->version, &o, &j->dl_err);
	}
	if (j->dl_rc != PG_OK)
		*err = j->dl_err;
	return j->dl_rc;
}

/* ---- the chart that was asked for (issue 10 items 3 and 5) ---------- */

int
pg_verify_chart_range(const pg_rule *r, const pg_chart_ref *ref, char *msg, size_t n)
{
	const char *by = ref->range_by ? ref->range_by : "the GitOps tool";
	char what[640];

	if (!ref->range)
		return 0;
	if (ref->version)
		(void)snprintf(what, sizeof(what), "version range \"%.500s\" of chart %s",
			       ref->version, ref->name);
	else
		(void)snprintf(what, sizeof(what), "no version (the newest) for chart %s",
			       ref->name);
	if (r && r->allow_version_ranges) {
		(void)snprintf(msg, n,
			       "%s was resolved and verified now (rule %s allows version ranges); "
			       "versions %s resolves later are not covered",
			       what, r->name, by);
		return 1;
	}
	(void)snprintf(msg, n,
		       "%s is resolved again by %s later, so what it deploys cannot be proven at "
		       "admission: pin one exact version%s",
		       what, by, r ? ", or set allowVersionRanges: true on rule " : "");
	if (r) {
		size_t l = strlen(msg);

		(void)snprintf(msg + l, n > l ? n - l : 0, "%s", r->name);
	}
	return PG_EPOLICY;
}

/* OCI tags carry '_' where the chart version has '+' (Helm's push). */
static bool
version_eq(const char *tagged, const char *v, bool oci)
{
	size_t i;

	if (!oci)
		return strcmp(tagged, v) == 0;
	for (i = 0; tagged[i] && v[i]; i++)
		if (tagged[i] != v[i] && !(tagged[i] == '_' && v[i] == '+'))
			return false;
	return tagged[i] == v[i];
}

/*
 * index.yaml (and an OCI tag) is unauthenticated and a .prov proves only
 * the archive it names.  So, beyond `helm verify`: the archive is named
 * <name>-<version>.tgz, and the .prov metadata and the archive's own
 * Chart.yaml both say the name asked for and the version resolved.
 */
static int
chart_binding(const chart_job *j, const pg_helm_verified *hv, pg_err *err)
{
	const pg_helm_download *dl = j->dl;
	const char *name = dl->name ? dl->name : j->ref->name;
	const char *ver = dl->version ? dl->version : j->ref->version;
	bool oci = j->ref->kind == PG_CHART_OCI;
	char want[1100], *cn = NULL, *cv = NULL;
	int rc;

	if (ver == NULL)
		return pg_err_set(err, PG_EVERIFY, "chart %s: the version verified is not known",
				  name);
	(void)snprintf(want, sizeof(want), "%s-%s.tgz", name, ver);
	if (dl->archive_name == NULL || strcmp(dl->archive_name, want) != 0)
		return pg_err_set(err, PG_EVERIFY,
				  "chart %s %s: the archive is %s, not %s (the repository index "
				  "points at another chart)",
				  name, ver, dl->archive_name ? dl->archive_name : "unnamed", want);
	if (hv->name == NULL || hv->version == NULL || strcmp(hv->name, name) != 0 ||
	    !version_eq(ver, hv->version, oci))
		return pg_err_set(err, PG_EVERIFY,
				  "chart %s %s: its provenance is signed for chart %s %s", name,
				  ver, hv->name ? hv->name : "(no name)",
				  hv->version ? hv->version : "(no version)");
	if ((rc = pg_helm_chart_meta(&cn, &cv, dl->tgz, dl->tgz_len, err)) != PG_OK)
		return rc == PG_ENOMEM ? rc : PG_EVERIFY;
	if (strcmp(cn, name) != 0 || !version_eq(ver, cv, oci))
		rc = pg_err_set(err, PG_EVERIFY,
				"chart %s %s: the archive's Chart.yaml says chart %.200s %.200s",
				name, ver, cn, cv);
	free(cn);
	free(cv);
	return rc;
}

/* A version range of an OCI chart, once a rule allowed it, resolved as the
 * tools do: Flux's OCIRepository without any ref pulls "latest"; a range is
 * the highest tag (Helm's '_' read as '+') that satisfies it, from the
 * registry's full tag list.  Two tags of equal precedence ("1.0.0" and
 * "v1.0.0") are ambiguous, and so is a tag spelled like the range itself:
 * denied, never guessed. */
static int
oci_range_resolve(pg_chart_ref **out, pg_verify_ctx *c, const pg_policy *p, const pg_chart_ref *ref,
		  int64_t deadline, pg_err *err)
{
	pg_oci_req q = {c->fetch, deadline, pg_verify__guard, (void *)p};
	pg_image_ref *img = NULL;
	char **tags = NULL, v[PG_REF_TAG_MAX + 1], bv[PG_REF_TAG_MAX + 1] = "";
	const char *best = NULL, *pick;
	size_t n = 0, i, k;
	int rc, tie = 0;

	if (ref->repo_url == NULL)
		return pg_err_set(err, PG_EINVAL, "OCI chart %s names no registry", ref->location);
	if (ref->version == NULL) {
		if (ref->range_by == NULL || strcmp(ref->range_by, "Flux") != 0)
			return pg_err_set(err, PG_EPOLICY,
					  "OCI chart %s names no version: pin a tag or digest",
					  ref->location);
		pick = "latest";
		goto build;
	}
	/* neither a version nor a range: Argo CD's default revision HEAD, a moving
	 * tag such as "stable" */
	if ((rc = pg_helm_semver_match(ref->version, "0.0.0", err)) < 0)
		return pg_err_wrap(err,
				   "OCI chart %s: \"%.200s\" is neither one version nor a "
				   "version range, pin a tag or digest: ",
				   ref->location, ref->version);
	{
		char nm[PG_URL_MAX + 600];

		(void)snprintf(nm, sizeof(nm), "%s/%s", ref->repo_url + 6, ref->name);
		if ((rc = pg_ref_parse_oci(&img, nm, err)) != PG_OK)
			return rc;
	}
	rc = pg_oci_tags(&tags, &n, c->oci, &q, img->registry, img->repository, err);
	if (rc != PG_OK)
		goto out;
	for (i = 0; i < n; i++) {
		/* Argo CD and helm pull a tag spelled exactly like the range
		 * ("1.x") before they read it as one: which is pulled is not
		 * certain (a range that is one version, a Flux semver "1.2.0",
		 * picks that very tag anyway) */
		if (strcmp(tags[i], ref->version) == 0 && !pg_chart_version_exact(ref->version)) {
			rc = pg_err_set(err, PG_EVERIFY,
					"version range \"%s\" of %s is also a tag of that name; "
					"a tool may pull the tag rather than resolve the range: "
					"pin one version",
					ref->version, ref->location);
			goto out;
		}
		(void)snprintf(v, sizeof(v), "%s", tags[i]);
		for (k = 0; v[k]; k++)
			if (v[k] == '_')
				v[k] = '+';
		if (pg_helm_semver_match(ref->version, v, NULL) != 1)
			continue;
		if (best == NULL || pg_helm_semver_cmp(v, bv) > 0) {
			best = tags[i];
			(void)snprintf(bv, sizeof(bv), "%s", v);
			tie = 0;
		} else if (pg_helm_semver_cmp(v, bv) == 0) {
			tie = 1;
		}
	}
	if (best == NULL) {
		rc = pg_err_set(err, PG_ENOTFOUND, "no tag of %s satisfies version range \"%s\"",
				ref->location, ref->version);
		goto out;
	}
	if (tie) {
		rc = pg_err_set(
		    err, PG_EVERIFY,
		    "version range \"%s\" of %s: several tags have the precedence of %s; "
		    "which one the tool pulls is not certain",
		    ref->version, ref->location, best);
		goto out;
	}
	pick = best;
build:
	if ((rc = pg_chart_ref_new(out, PG_CHART_OCI, ref->repo_url, ref->name, pick, err)) ==
	    PG_OK) {
		(*out)->range = true;
		(*out)->range_by = ref->range_by;
	}
out:
	pg_oci_tags_free(tags, n);
	pg_ref_free(img);
	return rc;
}

/* The chart name and version the verdict is about: what was downloaded
 * (a range resolved), else what was asked for when it was one version. */
static void
verdict_chart(pg_verdict *out, const chart_job *j, const pg_chart_ref *ref)
{
	const char *n = j->dl && j->dl->name ? j->dl->name : ref->name;
	const char *v = j->dl && j->dl->version ? j->dl->version : NULL;

	if (v == NULL && !ref->range)
		v = ref->version;
	free(out->chart_name);
	free(out->chart_version);
	out->chart_name = pg_strdup(n);
	out->chart_version = pg_strdup(v);
}

/* One prov verifier. */
static int
verify_prov(chart_job *j, const pg_verifier *v, pg_helm_verified **hv, pg_err *err)
{
	pg_pgp_keyring ring;
	size_t len = 0;
	int rc;

	if ((rc = download(j, err)) != PG_OK)
		return rc;
	if (j->dl->prov == NULL)
		return pg_err_set(err, PG_EVERIFY, "%s has no provenance (.prov)", j->dl->url);
	if (j->c->pgp == NULL && (rc = pg_pgp_new(&j->c->pgp, err)) != PG_OK)
		return rc;
	ring.data = (const unsigned char *)pg_policy_trust_bytes(j->p, v->keyring, &len);
	ring.len = len;
	if (ring.data == NULL)
		return pg_err_set(err, PG_EPOLICY, "keyring %s has no material", v->keyring->name);
	/* gpgv is killed at the review's deadline like any fetch */
	pg_pgp_set_deadline(j->c->pgp, j->deadline);
	if ((rc = pg_helm_verify(hv, j->c->pgp, &ring, 1, j->dl->archive_name, j->dl->tgz,
				 j->dl->tgz_len, j->dl->prov, j->dl->prov_len, err)) != PG_OK)
		return rc;
	if ((rc = chart_binding(j, *hv, err)) != PG_OK) {
		pg_helm_verified_free(*hv);
		*hv = NULL;
	}
	return rc;
}

/* One cosign verifier (OCI charts only). */
static int
verify_cosign(chart_job *j, const pg_verifier *v, char **digest, char **signer, pg_err *err)
{
	pg_verify_cosign_result ver = {0};
	pg_sig_trust t = {0};
	pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};
	int rc;

	if (j->ref->kind != PG_CHART_OCI)
		return pg_err_set(
		    err, PG_EVERIFY,
		    "cosign signatures apply to OCI charts only; %s is in a chart repository",
		    j->ref->location);
	/* The digest the tag resolved to once for this job: the signature
	 * is looked up and checked for exactly that manifest. */
	if ((rc = resolve_once(j, err)) != PG_OK)
		return rc;
	if ((rc = pg_verify__sig_trust(&t, j->c, j->p, j->r, v, err)) != PG_OK)
		return rc;
	rc = pg_verify_cosign_image(&ver, j->c->oci, &q, j->img, &t, 1, 1, err);
	if (rc == PG_OK && (ver.digest == NULL || strcmp(ver.digest, j->digest) != 0))
		rc =
		    pg_err_set(err, PG_EVERIFY, "%s: signature checked for %s, not the resolved %s",
			       j->ref->location, ver.digest ? ver.digest : "no digest", j->digest);
	if (rc == PG_OK) {
		*digest = pg_strdup(ver.digest);
		*signer = pg_strdup(ver.signer ? ver.signer : "cosign");
	}
	pg_verify_cosign_result_clear(&ver);
	return rc;
}

/* One verifier entry with attestations (cosign `attestations`, github; OCI
 * charts only): the attestations whose subject is the chart manifest's
 * digest, discovered and judged as for images (verify/attest.c). */
static int
verify_attest(chart_job *j, const pg_verifier *v, char **digest, char **signer, pg_err *err)
{
	pg_sig_trust t = {0};
	pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};
	int rc;

	if (j->ref->kind != PG_CHART_OCI)
		return pg_err_set(
		    err, PG_EVERIFY,
		    "attestations apply to OCI charts only; %s is in a chart repository",
		    j->ref->location);
	if ((rc = resolve_once(j, err)) != PG_OK)
		return rc;
	if ((rc = pg_verify__sig_trust(&t, j->c, j->p, j->r, v, err)) != PG_OK)
		return rc;
	if ((rc = pg_verify__attest_image(signer, j->c, &q, j->img, j->digest, &t, v, err)) !=
	    PG_OK)
		return rc;
	if ((*digest = pg_strdup(j->digest)) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

/* One notation verifier (OCI charts only): the chart manifest's Notation
 * signatures, discovered and judged as for images, for the digest the tag
 * resolved to once for this job (as cosign, attestations and prov). */
static int
verify_notation(chart_job *j, const pg_verifier *v, char **digest, char **signer, pg_err *err)
{
	pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};
	int rc;

	if (j->ref->kind != PG_CHART_OCI)
		return pg_err_set(err, PG_EVERIFY,
				  "Notation signatures apply to OCI charts only; %s is in a chart "
				  "repository",
				  j->ref->location);
	if ((rc = resolve_once(j, err)) != PG_OK)
		return rc;
	rc = pg_verify__notation_image(digest, signer, j->c->oci, &q, v, j->img,
				       (int64_t)time(NULL), err);
	if (rc == PG_OK && (*digest == NULL || strcmp(*digest, j->digest) != 0))
		rc = pg_err_set(err, PG_EVERIFY,
				"%s: Notation signature checked for %s, not the resolved %s",
				j->ref->location, *digest ? *digest : "no digest", j->digest);
	return rc;
}

static bool
transient(int code)
{
	return code == PG_EFETCH || code == PG_ETIMEOUT || code == PG_EUNAVAIL ||
	       code == PG_ENOMEM || code == PG_EINTERNAL;
}

/* Run the rule's verifiers on the chart and combine them per `require`. */
static void
verify_artifact(pg_verdict *out, chart_job *j)
{
	const pg_rule *r = j->r;
	size_t i, good = 0, need = pg_verify__needed(r, r->n_verify);
	char *digest = NULL, *signer = NULL;
	char first[PG_ERR_MSG_MAX] = "";
	int first_code = PG_EVERIFY;
	bool cut = false; /* a size bound or evidence budget cut a verifier short */
	char msg[PG_ERR_MSG_MAX + 256];

	for (i = 0; i < r->n_verify; i++) {
		const pg_verifier *v = &r->verify[i];
		pg_err err;
		int rc;

		pg_err_clear(&err);
		if (pg_clock_left_ms(j->deadline) <= 0) {
			rc = pg_err_set(&err, PG_ETIMEOUT, "verification timed out");
		} else if (v->kind == PG_VERIFY_PROV) {
			pg_helm_verified *hv = NULL;

			rc = verify_prov(j, v, &hv, &err);
			if (rc == PG_OK) {
				char who[512];

				(void)snprintf(who, sizeof(who), "%s (%s)",
					       hv->nuids ? hv->uids[0] : "unknown user id",
					       hv->fpr);
				if (digest == NULL)
					digest = pg_strdup(hv->hash);
				if (signer == NULL)
					signer = pg_strdup(who);
			}
			pg_helm_verified_free(hv);
		} else {
			char *d = NULL, *s = NULL;

			if (v->kind == PG_VERIFY_NOTATION)
				rc = verify_notation(j, v, &d, &s, &err);
			else if (v->n_attest > 0)
				rc = verify_attest(j, v, &d, &s, &err);
			else
				rc = verify_cosign(j, v, &d, &s, &err);
			if (rc == PG_OK && digest == NULL) {
				digest = d;
				d = NULL;
			}
			if (rc == PG_OK && signer == NULL) {
				signer = s;
				s = NULL;
			}
			free(d);
			free(s);
		}
		if (rc == PG_OK) {
			good++;
			continue;
		}
		if (rc == PG_ETOOBIG)
			cut = true;
		if (first[0] == '\0' || (transient(rc) && !transient(first_code))) {
			(void)snprintf(first, sizeof(first), "%s",
				       err.msg[0] ? err.msg : "not verified");
			first_code = rc;
		}
		/* An unreachable repository is not a verdict on the chart:
		 * stop, and say so (never cached as bad). */
		if (transient(rc))
			break;
	}
	/* An OCI chart is named by the one digest its tag resolved to: every
	 * verifier checked evidence bound to it (cosign: its signature; prov:
	 * the archive its manifest names). */
	if (j->digest) {
		free(digest);
		if ((digest = pg_strdup(j->digest)) == NULL)
			good = 0;
	}
	if (good >= need && good > 0) {
		(void)snprintf(msg, sizeof(msg), "verified by rule %s (%zu of %zu verifiers): %s",
			       r->name, good, r->n_verify, signer ? signer : "signed");
		pg_verdict_set(out, true, PG_OK, digest, signer, msg);
	} else if (good > 0) {
		(void)snprintf(msg, sizeof(msg),
			       "rule %s requires %zu of %zu verifiers, only %zu verified: %s",
			       r->name, need, r->n_verify, good, first);
		/* A verifier cut short by a bound is no final answer: never a
		 * definite (cached) deny. */
		pg_verdict_set(out, false,
			       transient(first_code) ? first_code : (cut ? PG_ETOOBIG : PG_EVERIFY),
			       digest, signer, msg);
	} else {
		pg_verdict_set(out, false, !transient(first_code) && cut ? PG_ETOOBIG : first_code,
			       digest, NULL, first[0] ? first : "not verified");
	}
	free(digest);
	free(signer);
}

/* Flux: look the source up, build the chart reference it stands for. */
static int
resolve_source(pg_chart_ref **out, pg_verify_ctx *c, const pg_chart_ref *ref, int64_t deadline,
	       pg_err *err)
{
	char kind[64], ns[256], name[256];
	const char *s = ref->source, *a, *b;
	json_t *obj = NULL, *obj2 = NULL;
	const char *url, *type, *ver = ref->version, *chart = ref->name;
	int rc;

	a = strchr(s, '/');
	b = a ? strchr(a + 1, '/') : NULL;
	if (a == NULL || b == NULL || (size_t)(a - s) >= sizeof(kind) ||
	    (size_t)(b - a - 1) >= sizeof(ns) || strlen(b + 1) >= sizeof(name))
		return pg_err_set(err, PG_EINVAL, "invalid Flux source %s", s);
	memcpy(kind, s, (size_t)(a - s));
	kind[a - s] = '\0';
	memcpy(ns, a + 1, (size_t)(b - a - 1));
	ns[b - a - 1] = '\0';
	(void)snprintf(name, sizeof(name), "%s", b + 1);
	if (strcmp(kind, "HelmRepository") != 0 && strcmp(kind, "HelmChart") != 0 &&
	    strcmp(kind, "OCIRepository") != 0)
		return pg_err_set(
		    err, PG_EVERIFY,
		    "charts from a Flux %s (%s/%s) carry no provenance provgate can verify", kind,
		    ns, name);
	if ((rc = pg_kube_get_source(&obj, c->fetch, kind, ns, name, deadline, err)) != PG_OK)
		return rc;
	if (strcmp(kind, "HelmChart") == 0) {
		/* HelmRelease.chartRef -> HelmChart -> its HelmRepository */
		const json_t *spec = json_object_get(obj, "spec");
		const json_t *sref = json_object_get(spec, "sourceRef");
		const char *sk = json_string_value(json_object_get(sref, "kind"));
		const char *sn = json_string_value(json_object_get(sref, "name"));

		chart = json_string_value(json_object_get(spec, "chart"));
		ver = json_string_value(json_object_get(spec, "version"));
		if (chart == NULL || sn == NULL || (sk && strcmp(sk, "HelmRepository") != 0)) {
			rc = pg_err_set(err, PG_EVERIFY,
					"HelmChart %s/%s has no chart from a HelmRepository", ns,
					name);
			goto out;
		}
		if ((rc = pg_kube_get_source(&obj2, c->fetch, "HelmRepository", ns, sn, deadline,
					     err)) != PG_OK)
			goto out;
		(void)snprintf(kind, sizeof(kind), "HelmRepository");
	}
	{
		const json_t *o = obj2 ? obj2 : obj;
		const json_t *spec = json_object_get(o, "spec");

		url = json_string_value(json_object_get(spec, "url"));
		type = json_string_value(json_object_get(spec, "type"));
		if (url == NULL) {
			rc =
			    pg_err_set(err, PG_EVERIFY, "%s %s/%s has no spec.url", kind, ns, name);
			goto out;
		}
		if (strcmp(kind, "OCIRepository") == 0) {
			/* the artifact itself: url + ref.digest|tag */
			/* source-controller's precedence: digest > semver > tag > latest */
			const json_t *r = json_object_get(spec, "ref");
			const char *v = json_string_value(json_object_get(r, "digest"));
			const char *slash = strrchr(url, '/');
			char repo[1024];
			bool range = false;

			if (v == NULL || v[0] == '\0') {
				const char *f =
				    json_string_value(json_object_get(r, "semverFilter"));

				v = json_string_value(json_object_get(r, "semver"));
				range = true;
				if (v && v[0] && f && f[0]) {
					/* extract.c semver_filter: Flux's pick, not ours */
					rc = pg_err_set(
					    err, PG_EVERIFY,
					    "OCIRepository %s/%s: Flux picks among the tags "
					    "that match spec.ref.semverFilter, which provgate "
					    "does not apply: pin spec.ref.tag or spec.ref.digest",
					    ns, name);
					goto out;
				}
			}
			if (v == NULL || v[0] == '\0') {
				v = json_string_value(json_object_get(r, "tag"));
				range = v == NULL || v[0] == '\0';
			}
			if (slash == NULL || (size_t)(slash - url) >= sizeof(repo)) {
				rc = pg_err_set(err, PG_EVERIFY, "OCIRepository %s/%s: invalid url",
						ns, name);
				goto out;
			}
			memcpy(repo, url, (size_t)(slash - url));
			repo[slash - url] = '\0';
			rc = pg_chart_ref_new(out, PG_CHART_OCI, repo, slash + 1,
					      v && v[0] ? v : NULL, err);
			if (rc == PG_OK)
				(*out)->range = range;
		} else if (type && strcmp(type, "oci") == 0) {
			rc = pg_chart_ref_new(out, PG_CHART_OCI, url, chart, ver, err);
			if (rc == PG_OK)
				(*out)->range = !pg_chart_version_exact(ver);
		} else {
			rc = pg_chart_ref_new(out, PG_CHART_REPO, url, chart, ver, err);
			if (rc == PG_OK)
				(*out)->range = !pg_chart_version_exact(ver);
		}
		if (rc == PG_OK)
			(*out)->range_by = "Flux";
	}
out:
	json_decref(obj);
	json_decref(obj2);
	return rc;
}

/* A Helm release Secret: find the rule by chart name, verify that chart
 * from the rule's repository, then compare contents. */
static void
verify_release(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p, const pg_chart_ref *ref,
	       int64_t deadline)
{
	pg_helm_release *rel = NULL;
	pg_chart_ref *src = NULL;
	const pg_rule *r;
	const char *name, *ver;
	chart_job j = {0};
	char msg[PG_ERR_MSG_MAX + 256];
	pg_err err;
	int rc;

	pg_err_clear(&err);
	if ((rc = pg_helm_release_decode(&rel, ref->release, ref->release_len, &err)) != PG_OK) {
		pg_verdict_set(out, false, rc == PG_ETOOBIG ? PG_ETOOBIG : PG_EINVAL, NULL, NULL,
			       err.msg);
		return;
	}
	name = pg_helm_release_chart_name(rel);
	ver = pg_helm_release_chart_version(rel);
	if (name == NULL || ver == NULL) {
		pg_verdict_set(out, false, PG_EINVAL, NULL, NULL,
			       "Helm release names no chart name and version");
		goto out;
	}
	/* logged whatever the outcome: which chart this release claims */
	free(out->chart_name);
	free(out->chart_version);
	out->chart_name = pg_strdup(name);
	out->chart_version = pg_strdup(ver);
	r = pg_policy_match_chart_name(p, name);
	out->rule = r;
	if (r == NULL) {
		(void)snprintf(msg, sizeof(msg),
			       "no policy rule names chart %s (Helm release %s): add it to a "
			       "rule's chartNames",
			       name, pg_helm_release_name(rel) ? pg_helm_release_name(rel) : "?");
		pg_verdict_set(out, false, PG_EPOLICY, NULL, NULL, msg);
		out->rule = NULL;
		goto out;
	}
	if (r->allow_unsigned) {
		(void)snprintf(msg, sizeof(msg), "allowed unverified by rule %s (allowUnsigned)",
			       r->name);
		pg_verdict_set(out, true, PG_OK, NULL, NULL, msg);
		out->rule = r;
		out->unsigned_ok = true;
		goto out;
	}
	rc = pg_chart_ref_new(
	    &src, strncmp(r->repository, "oci://", 6) == 0 ? PG_CHART_OCI : PG_CHART_REPO,
	    r->repository, name, ver, &err);
	if (rc != PG_OK) {
		pg_verdict_set(out, false, rc, NULL, NULL, err.msg);
		out->rule = r;
		goto out;
	}
	j = (chart_job){.c = c, .p = p, .r = r, .ref = src, .deadline = deadline};
	verify_artifact(out, &j);
	out->rule = r;
	verdict_chart(out, &j, src);
	if (!out->ok)
		goto out;
	/* The release's content must be exactly the verified archive. */
	if (download(&j, &err) != PG_OK ||
	    pg_helm_release_match_archive(rel, j.dl->tgz, j.dl->tgz_len, &err) != PG_OK) {
		char *d = pg_strdup(out->digest);

		pg_verdict_set(out, false, err.code ? err.code : PG_EVERIFY, d, NULL, err.msg);
		out->rule = r;
		free(d);
	}
out:
	chart_job_clear(&j);
	pg_chart_ref_free(src);
	pg_helm_release_free(rel);
}

int
pg_verify_chart(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p, const pg_rule *r,
		const pg_chart_ref *ref, int64_t deadline)
{
	pg_chart_ref *resolved = NULL;
	const char *source = ref->source;
	chart_job j = {0};
	char msg[PG_ERR_MSG_MAX + 256];
	pg_err err;
	int rc;

	memset(out, 0, sizeof(*out));
	pg_err_clear(&err);
	if ((rc = pg_verify__use_policy(c, p, &err)) != PG_OK) {
		pg_verdict_set(out, false, rc, NULL, NULL, err.msg);
		return out->code;
	}
	if (ref->kind == PG_CHART_RELEASE) {
		verify_release(out, c, p, ref, deadline);
		return out->code;
	}
	if (ref->source) {
		if ((rc = resolve_source(&resolved, c, ref, deadline, &err)) != PG_OK) {
			pg_verdict_set(out, false, rc, NULL, NULL, err.msg);
			return out->code;
		}
		ref = resolved;
		r = pg_policy_match_chart(p, ref->location);
		if (r == NULL) {
			(void)snprintf(msg, sizeof(msg),
				       "no policy rule matches %s (Flux source %s)", ref->location,
				       source);
			pg_verdict_set(out, false, PG_EPOLICY, NULL, NULL, msg);
			goto out;
		}
		out->rule = r;
		if (r->allow_unsigned) {
			(void)snprintf(msg, sizeof(msg),
				       "allowed unverified by rule %s (allowUnsigned)", r->name);
			pg_verdict_set(out, true, PG_OK, NULL, NULL, msg);
			out->rule = r;
			out->unsigned_ok = true;
			goto out;
		}
		/* the Flux object's version range, known only now */
		if ((rc = pg_verify_chart_range(r, ref, msg, sizeof(msg))) < 0) {
			pg_verdict_set(out, false, rc, NULL, NULL, msg);
			out->rule = r;
			goto out;
		}
		if (rc == 1 && (out->warning = pg_strdup(msg)) == NULL) {
			pg_verdict_set(out, false, PG_ENOMEM, NULL, NULL, "out of memory");
			goto out;
		}
	}
	if (ref->range && ref->kind == PG_CHART_OCI && r && !r->allow_unsigned) {
		/* a rule allowed the range (else the decision denied it) */
		pg_chart_ref *latest = NULL;

		if ((rc = oci_range_resolve(&latest, c, p, ref, deadline, &err)) != PG_OK) {
			pg_verdict_set(out, false, rc, NULL, NULL, err.msg);
			if (resolved)
				out->rule = r;
			goto out;
		}
		pg_chart_ref_free(resolved);
		ref = resolved = latest;
	}
	if (r == NULL || r->n_verify == 0) {
		pg_verdict_set(out, false, PG_EPOLICY, NULL, NULL,
			       "no rule with verifiers applies");
		goto out;
	}
	j = (chart_job){.c = c, .p = p, .r = r, .ref = ref, .deadline = deadline};
	verify_artifact(out, &j);
	if (resolved)
		out->rule = r;
	verdict_chart(out, &j, ref);
out:
	chart_job_clear(&j);
	pg_chart_ref_free(resolved);
	return out->code;
}
