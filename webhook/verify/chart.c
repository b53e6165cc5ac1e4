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
	int dl_rc;            /* result of the download attempt (once) */
	pg_err dl_err;
	int tried;
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
	return pg_ref_parse_image(out, loc + 6, err);
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

/* Download archive + provenance once per job. */
static int
download(chart_job *j, pg_err *err)
{
	pg_helm_fetch_opts o = {repo_ca_file(j), pg_verify__guard, (void *)j->p, j->deadline};

	if (!j->tried) {
		j->tried = 1;
		pg_err_clear(&j->dl_err);
		pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};

		if (j->ref->kind == PG_CHART_OCI)
			j->dl_rc = pg_helm_download_oci(&j->dl, j->c->oci, &q, j->ref->location,
							&j->dl_err);
		else
			j->dl_rc = pg_helm_download_repo(&j->dl, j->c->fetch, j->ref->repo_url,
							 j->ref->name, j->ref->version, &o,
							 &j->dl_err);
	}
	if (j->dl_rc != PG_OK)
		*err = j->dl_err;
	return j->dl_rc;
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
	return pg_helm_verify(hv, j->c->pgp, &ring, 1, j->dl->archive_name, j->dl->tgz,
			      j->dl->tgz_len, j->dl->prov, j->dl->prov_len, err);
}

/* One cosign verifier (OCI charts only). */
static int
verify_cosign(chart_job *j, const pg_verifier *v, char **digest, char **signer, pg_err *err)
{
	pg_image_ref *img = NULL;
	pg_oci_verified ver = {0};
	pg_sig_trust t = {0};
	pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};
	const pg_trust *root = v->root ? v->root : pg_policy_default_root(j->p);
	int rc;

	if (j->ref->kind != PG_CHART_OCI)
		return pg_err_set(err, PG_EVERIFY,
				  "cosign signatures apply to OCI charts only; %s is in a chart repository",
				  j->ref->location);
	if ((rc = oci_image_ref(&img, j->ref, err)) != PG_OK)
		return rc;
	if (v->kind == PG_VERIFY_COSIGN_KEY)
		t.key_pem = pg_policy_trust_bytes(j->p, v->key, &t.key_len);
	t.root = pg_verify__root_for(j->c, j->p, root, err);
	if (root && t.root == NULL) {
		pg_ref_free(img);
		return err->code ? err->code : PG_EINVAL;
	}
	t.identity = v->subject;
	t.identity_regexp = v->subject_regexp;
	t.issuer = v->issuer;
	t.issuer_regexp = v->issuer_regexp;
	t.tlog_required = j->r->tlog == PG_TLOG_REQUIRED;
	rc = pg_oci_verify_image(&ver, j->c->oci, &q, img, &t, 1, err);
	if (rc == PG_OK) {
		*digest = pg_strdup(ver.digest);
		*signer = pg_strdup(ver.signer ? ver.signer : "cosign");
	}
	pg_oci_verified_clear(&ver);
	pg_ref_free(img);
	return rc;
}

/* One notation verifier (OCI charts only): the chart manifest's Notation
 * signatures, discovered and judged as for images. */
static int
verify_notation(chart_job *j, const pg_verifier *v, char **digest, char **signer, pg_err *err)
{
	pg_image_ref *img = NULL;
	pg_oci_req q = {j->c->fetch, j->deadline, pg_verify__guard, (void *)j->p};
	int rc;

	if (j->ref->kind != PG_CHART_OCI)
		return pg_err_set(err, PG_EVERIFY,
				  "Notation signatures apply to OCI charts only; %s is in a chart "
				  "repository",
				  j->ref->location);
	if ((rc = oci_image_ref(&img, j->ref, err)) != PG_OK)
		return rc;
	rc = pg_verify__notation_image(digest, signer, j->c->oci, &q, v, img, (int64_t)time(NULL),
				       err);
	pg_ref_free(img);
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
					       hv->nuids ? hv->uids[0] : "unknown user id", hv->fpr);
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
		if (first[0] == '\0' || (transient(rc) && !transient(first_code))) {
			(void)snprintf(first, sizeof(first), "%s", err.msg[0] ? err.msg : "not verified");
			first_code = rc;
		}
		/* An unreachable repository is not a verdict on the chart:
		 * stop, and say so (never cached as bad). */
		if (transient(rc))
			break;
	}
	if (good >= need && good > 0) {
		(void)snprintf(msg, sizeof(msg), "verified by rule %s (%zu of %zu verifiers): %s",
			       r->name, good, r->n_verify, signer ? signer : "signed");
		pg_verdict_set(out, true, PG_OK, digest, signer, msg);
	} else if (good > 0) {
		(void)snprintf(msg, sizeof(msg),
			       "rule %s requires %zu of %zu verifiers, only %zu verified: %s",
			       r->name, need, r->n_verify, good, first);
		pg_verdict_set(out, false, transient(first_code) ? first_code : PG_EVERIFY, digest,
			       signer, msg);
	} else {
		pg_verdict_set(out, false, first_code, digest, NULL, first[0] ? first : "not verified");
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
		return pg_err_set(err, PG_EVERIFY,
				  "charts from a Flux %s (%s/%s) carry no provenance provgate can verify",
				  kind, ns, name);
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
					"HelmChart %s/%s has no chart from a HelmRepository", ns, name);
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
			rc = pg_err_set(err, PG_EVERIFY, "%s %s/%s has no spec.url", kind, ns, name);
			goto out;
		}
		if (strcmp(kind, "OCIRepository") == 0) {
			/* the artifact itself: url + ref.digest|tag */
			const json_t *r = json_object_get(spec, "ref");
			const char *v = json_string_value(json_object_get(r, "digest"));
			const char *slash = strrchr(url, '/');
			char repo[1024];

			v = v ? v : json_string_value(json_object_get(r, "tag"));
			if (slash == NULL || (size_t)(slash - url) >= sizeof(repo)) {
				rc = pg_err_set(err, PG_EVERIFY, "OCIRepository %s/%s: invalid url", ns, name);
				goto out;
			}
			memcpy(repo, url, (size_t)(slash - url));
			repo[slash - url] = '\0';
			rc = pg_chart_ref_new(out, PG_CHART_OCI, repo, slash + 1, v, err);
		} else if (type && strcmp(type, "oci") == 0) {
			rc = pg_chart_ref_new(out, PG_CHART_OCI, url, chart, ver, err);
		} else {
			rc = pg_chart_ref_new(out, PG_CHART_REPO, url, chart, ver, err);
		}
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
	r = pg_policy_match_chart_name(p, name);
	out->rule = r;
	if (r == NULL) {
		(void)snprintf(msg, sizeof(msg),
			       "no policy rule names chart %s (Helm release %s): add it to a rule's chartNames",
			       name, pg_helm_release_name(rel) ? pg_helm_release_name(rel) : "?");
		pg_verdict_set(out, false, PG_EPOLICY, NULL, NULL, msg);
		out->rule = NULL;
		goto out;
	}
	if (r->allow_unsigned) {
		(void)snprintf(msg, sizeof(msg), "allowed unverified by rule %s (allowUnsigned)", r->name);
		pg_verdict_set(out, true, PG_OK, NULL, NULL, msg);
		out->rule = r;
		out->unsigned_ok = true;
		goto out;
	}
	rc = pg_chart_ref_new(&src, strncmp(r->repository, "oci://", 6) == 0 ? PG_CHART_OCI
									 : PG_CHART_REPO,
			      r->repository, name, ver, &err);
	if (rc != PG_OK) {
		pg_verdict_set(out, false, rc, NULL, NULL, err.msg);
		out->rule = r;
		goto out;
	}
	j = (chart_job){.c = c, .p = p, .r = r, .ref = src, .deadline = deadline};
	verify_artifact(out, &j);
	out->rule = r;
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
	pg_helm_download_free(j.dl);
	pg_chart_ref_free(src);
	pg_helm_release_free(rel);
}

int
pg_verify_chart(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p,
		const pg_rule *r, const pg_chart_ref *ref, int64_t deadline)
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
			(void)snprintf(msg, sizeof(msg), "no policy rule matches %s (Flux source %s)",
				       ref->location, source);
			pg_verdict_set(out, false, PG_EPOLICY, NULL, NULL, msg);
			goto out;
		}
		out->rule = r;
		if (r->allow_unsigned) {
			(void)snprintf(msg, sizeof(msg), "allowed unverified by rule %s (allowUnsigned)",
				       r->name);
			pg_verdict_set(out, true, PG_OK, NULL, NULL, msg);
			out->rule = r;
			out->unsigned_ok = true;
			goto out;
		}
	}
	if (r == NULL || r->n_verify == 0) {
		pg_verdict_set(out, false, PG_EPOLICY, NULL, NULL, "no rule with verifiers applies");
		goto out;
	}
	j = (chart_job){.c = c, .p = p, .r = r, .ref = ref, .deadline = deadline};
	verify_artifact(out, &j);
	if (resolved)
		out->rule = r;
out:
	pg_helm_download_free(j.dl);
	pg_chart_ref_free(resolved);
	return out->code;
}
