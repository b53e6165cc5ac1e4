/*
 * decide/mutate — the optional `POST /mutate` answer: pin each verified
 * image tag of a Pod to the digest that was verified, as Kyverno's
 * `mutateDigest` and sigstore policy-controller do.
 *
 * A tag can be re-pushed between admission and the kubelet's pull; a Pod
 * whose image reads `name:tag@sha256:<verified digest>` is pulled by digest.
 * Only Pods are patched (the objects GitOps tools own, Deployments and the
 * rest, would otherwise drift from their source), only on CREATE (changing
 * the image of a running Pod restarts its container), and only images whose
 * reference was verified (state ALLOW with a well-formed digest): an image
 * allowed unsigned, denied, still pending or unparseable is never patched.
 * The answer is always `allowed: true`: denying is /validate's job, which
 * runs after every mutating webhook and sees the pinned reference.
 *
 * This file only renders; the decision (and its verification) is the one
 * /validate uses.
 */
#include "decide/decide_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "buf/jsonw.h"
#include "digest/digest.h"
#include "jsonmem/jsonmem.h"
#include "ref/ref.h"

/* A Pod's image fields, in the order a patch lists them. */
static const char *const container_lists[] = {"containers", "initContainers",
					      "ephemeralContainers"};

bool
pg_decision_mutates(const pg_decision *d)
{
	return !d->skipped && !d->exempt && pg_review_object(d->rv) != NULL &&
	       strcmp(pg_review_operation(d->rv), "CREATE") == 0 &&
	       strcmp(pg_review_kind(d->rv), "Pod") == 0 && strcmp(pg_review_group(d->rv), "") == 0;
}

int
pg_json_pointer_append(pg_buf *b, const char *token)
{
	int rc = pg_buf_puts(b, "/");
	const char *s;

	for (s = token; rc == PG_OK && *s; s++) {
		if (*s == '~')
			rc = pg_buf_puts(b, "~0");
		else if (*s == '/')
			rc = pg_buf_puts(b, "~1");
		else
			rc = pg_buf_append(b, s, 1);
	}
	return rc;
}

/* The verified decision of image text `raw`, or NULL.  References are
 * deduplicated by their raw text, so the first image entry with that text
 * is the one. */
static const pg_refdec *
verified(const pg_decision *d, const char *raw)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const pg_refdec *rd = &d->d[i];

		if (rd->ref->kind != PG_REF_IMAGE || strcmp(rd->ref->raw, raw) != 0)
			continue;
		if (rd->state != PG_RD_ALLOW || rd->ref->image == NULL || rd->ref->invalid ||
		    rd->digest == NULL || !pg_digest_string_valid(rd->digest))
			return NULL;
		return rd;
	}
	return NULL;
}

/* Whether the last path component of an image reference names a tag
 * ("host:5000/app" has a port, not a tag). */
static bool
has_tag(const char *raw)
{
	const char *slash = strrchr(raw, '/');

	return strchr(slash ? slash + 1 : raw, ':') != NULL;
}

/* Add a replace operation for the image text at pointer path, when it is a
 * verified tag. */
static int
pin(json_t *ops, const pg_decision *d, const char *path, const json_t *v)
{
	const pg_refdec *rd;
	const char *raw;
	pg_buf val;
	json_t *op;
	int rc;

	if (!json_is_string(v))
		return PG_OK;
	raw = json_string_value(v);
	if ((rd = verified(d, raw)) == NULL || rd->ref->image->digest != NULL)
		return PG_OK; /* not verified, or already pinned by digest */
	pg_buf_init(&val, PG_REF_INPUT_MAX + 200);
	rc = pg_buf_puts(&val, raw);
	if (rc == PG_OK && !has_tag(raw) && rd->ref->image->tag)
		rc = pg_buf_printf(&val, ":%s", rd->ref->image->tag);
	if (rc == PG_OK)
		rc = pg_buf_printf(&val, "@%s", rd->digest);
	if (rc != PG_OK) {
		pg_buf_free(&val);
		return rc;
	}
	op = json_pack("{s:s, s:s, s:s}", "op", "replace", "path", path, "value",
		       (const char *)val.data);
	pg_buf_free(&val);
	if (op == NULL || json_array_append_new(ops, op) != 0)
		return PG_ENOMEM;
	return PG_OK;
}

/* Pointer "/spec/<list>/<i>/<leaf...>" built with escaping. */
static int
pointer(pg_buf *b, const char *list, size_t i, const char *leaf1, const char *leaf2)
{
	char idx[32];
	int rc;

	(void)snprintf(idx, sizeof(idx), "%zu", i);
	pg_buf_reset(b);
	rc = pg_json_pointer_append(b, "spec");
	if (rc == PG_OK)
		rc = pg_json_pointer_append(b, list);
	if (rc == PG_OK)
		rc = pg_json_pointer_append(b, idx);
	if (rc == PG_OK)
		rc = pg_json_pointer_append(b, leaf1);
	if (rc == PG_OK && leaf2)
		rc = pg_json_pointer_append(b, leaf2);
	return rc;
}

/* Every replace operation of the Pod, in object order. */
static int
patch_ops(json_t *ops, const pg_decision *d)
{
	const json_t *spec = json_object_get(pg_review_object(d->rv), "spec");
	const json_t *arr, *el;
	pg_buf p;
	size_t k, i;
	int rc = PG_OK;

	if (!json_is_object(spec))
		return PG_OK;
	pg_buf_init(&p, 4096);
	for (k = 0; rc == PG_OK && k < sizeof(container_lists) / sizeof(container_lists[0]); k++) {
		arr = json_object_get(spec, container_lists[k]);
		if (!json_is_array(arr))
			continue;
		json_array_foreach(arr, i, el)
		{
			if (!json_is_object(el))
				continue;
			if ((rc = pointer(&p, container_lists[k], i, "image", NULL)) != PG_OK ||
			    (rc = pin(ops, d, (const char *)p.data,
				      json_object_get(el, "image"))) != PG_OK)
				break;
		}
	}
	arr = json_object_get(spec, "volumes");
	if (rc == PG_OK && json_is_array(arr)) {
		json_array_foreach(arr, i, el)
		{
			const json_t *img =
			    json_is_object(el) ? json_object_get(el, "image") : NULL;

			if (!json_is_object(img))
				continue;
			if ((rc = pointer(&p, "volumes", i, "image", "reference")) != PG_OK ||
			    (rc = pin(ops, d, (const char *)p.data,
				      json_object_get(img, "reference"))) != PG_OK)
				break;
		}
	}
	pg_buf_free(&p);
	return rc;
}

/* The AdmissionReview answer: allowed, with an optional base64 JSONPatch
 * and warnings. */
static int
render(char **out, size_t *len, const char *api_version, const char *uid, const json_t *ops,
       json_t *warnings)
{
	json_t *root = NULL, *resp;
	pg_buf b64;
	char *patch = NULL, *s;
	int rc = PG_ENOMEM;

	pg_buf_init(&b64, PG_REVIEW_MAX * 2);
	root = json_pack("{s:s, s:s, s:{s:s, s:b}}", "apiVersion", api_version, "kind",
			 "AdmissionReview", "response", "uid", uid, "allowed", 1);
	if (root == NULL)
		goto out;
	resp = json_object_get(root, "response");
	if (ops && json_array_size(ops) > 0) {
		if ((patch = pg_json_dumps(ops, JSON_COMPACT)) == NULL)
			goto out;
		if ((rc = pg_base64_encode(&b64, patch, strlen(patch))) != PG_OK ||
		    (rc = pg_buf_puts(&b64, "")) != PG_OK)
			goto out;
		rc = PG_ENOMEM;
		if (json_object_set_new(resp, "patchType", json_string("JSONPatch")) != 0 ||
		    json_object_set_new(resp, "patch", json_string((const char *)b64.data)) != 0)
			goto out;
	}
	if (warnings && json_array_size(warnings) > 0 &&
	    json_object_set(resp, "warnings", warnings) != 0)
		goto out;
	if ((s = pg_json_dumps(root, JSON_COMPACT)) == NULL)
		goto out;
	*out = s;
	if (len)
		*len = strlen(s);
	rc = PG_OK;
out:
	free(patch);
	pg_buf_free(&b64);
	json_decref(root);
	return rc;
}

int
pg_decision_mutate_response(char **out, size_t *len, size_t *npatched, const pg_decision *d)
{
	json_t *ops = json_array();
	int rc = PG_ENOMEM;

	*npatched = 0;
	if (ops == NULL)
		return PG_ENOMEM;
	if (pg_decision_mutates(d) && (rc = patch_ops(ops, d)) != PG_OK) {
		/* Out of memory while building a patch: no patch at all rather
		 * than half of one; /validate still decides. */
		json_array_clear(ops);
	}
	*npatched = json_array_size(ops);
	rc = render(out, len, pg_review_api_version(d->rv), pg_review_uid(d->rv), ops, NULL);
	if (rc == PG_ETOOBIG) {
		/* A patch past its bound (tens of thousands of containers) is
		 * not sent; the object is admitted unpatched, as /mutate admits
		 * anything, and /validate still decides it. */
		char msg[160];

		(void)snprintf(msg, sizeof(msg),
			       "provgate: the patch pinning %zu images is larger than %zu bytes; "
			       "no image was pinned",
			       *npatched, (size_t)(PG_REVIEW_MAX * 2));
		*npatched = 0;
		rc = pg_review_mutate_nopatch(out, len, pg_review_api_version(d->rv),
					      pg_review_uid(d->rv), msg);
	}
	json_decref(ops);
	return rc;
}

int
pg_review_mutate_nopatch(char **out, size_t *len, const char *api_version, const char *uid,
			 const char *warning)
{
	json_t *w = NULL;
	int rc;

	if (warning && (w = json_array()) != NULL)
		(void)json_array_append_new(w, json_string(warning));
	rc = render(out, len, api_version, uid, NULL, w);
	json_decref(w);
	return rc;
}

int
pg_decision_mutate_log_line(char **out, size_t *len, const pg_decision *d, size_t npatched,
			    const char *note, int64_t duration_us)
{
	pg_buf b;
	pg_jw w;

	pg_buf_init(&b, 0);
	pg_jw_init(&w, &b);
	pg_decide__log_head(&w, "mutate", d);
	pg_jw_kint(&w, "pinned", (long long)npatched);
	if (note)
		pg_jw_kstr(&w, "note", note);
	pg_jw_key(&w, "duration_ms");
	pg_jw_millis(&w, duration_us);
	pg_jw_end(&w);
	if (w.rc == PG_OK)
		w.rc = pg_buf_append(&b, "\n", 1);
	if (w.rc != PG_OK || pg_buf_detach(out, len, &b) != PG_OK) {
		pg_buf_free(&b);
		return PG_ENOMEM;
	}
	return PG_OK;
}
