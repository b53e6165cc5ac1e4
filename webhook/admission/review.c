/*
 * admission/review — decoding of AdmissionReview requests.  The body is
 * parsed exactly once, here; everything later reads the jansson tree.
 * Never trusts the shape: every field is type-checked before use.
 */
#include "jsonmem/jsonmem.h"
#include "admission/admission_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

/* Arena bound for parsing len bytes: jansson keeps a node (~50 B) per
 * value and the strings; 24x the text plus a chunk covers the worst
 * shapes (arrays of 1-byte numbers) with room. */
#define REVIEW_ARENA_MAX(len) ((size_t)(len) * 24 + ((size_t)256 << 10))

int
pg_review_decode(pg_review **out, const char *body, size_t len, pg_err *err)
{
	int rc = PG_EINVAL;
	pg_review *rv = NULL;
	pg_arena *prev;
	json_error_t je;
	const json_t *req, *kind, *ui;
	const char *av, *k, *uid;

	if (len > PG_REVIEW_MAX)
		return pg_err_set(err, PG_ETOOBIG, "AdmissionReview larger than %zu bytes",
				  PG_REVIEW_MAX);
	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	/* The tree lives exactly as long as the review: parse it into an arena
	 * freed with it.  jansson needs a small multiple of the text. */
	if ((rv->arena = pg_arena_new(REVIEW_ARENA_MAX(len))) == NULL) {
		free(rv);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	prev = pg_arena_use(rv->arena);
	rv->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	(void)pg_arena_use(prev);
	if (rv->root == NULL) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: invalid JSON at line %d: %s",
			   je.line, je.text);
		goto out;
	}
	if (!json_is_object(rv->root)) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: not a JSON object");
		goto out;
	}
	av = json_str(rv->root, "apiVersion");
	k = json_str(rv->root, "kind");
	if (k == NULL || strcmp(k, "AdmissionReview") != 0) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: kind is %s",
			   k ? k : "missing");
		goto out;
	}
	if (av == NULL || (strcmp(av, "admission.k8s.io/v1") != 0 &&
			   strcmp(av, "admission.k8s.io/v1beta1") != 0)) {
		pg_err_set(err, PG_EINVAL,
			   "unsupported AdmissionReview apiVersion %s (want admission.k8s.io/v1 or v1beta1)",
			   av ? av : "(missing)");
		goto out;
	}
	rv->api_version = av;
	req = json_object_get(rv->root, "request");
	if (!json_is_object(req)) {
		pg_err_set(err, PG_EINVAL, "not an AdmissionReview: no request");
		goto out;
	}
	uid = json_str(req, "uid");
	if (uid == NULL || uid[0] == '\0') {
		pg_err_set(err, PG_EINVAL, "AdmissionReview request has no uid");
		goto out;
	}
	rv->uid = uid;
	kind = json_object_get(req, "kind");
	rv->kind = json_is_object(kind) ? json_str(kind, "kind") : NULL;
	rv->group = json_is_object(kind) ? json_str(kind, "group") : NULL;
	rv->kind = rv->kind ? rv->kind : "";
	rv->group = rv->group ? rv->group : "";
	rv->ns = json_str(req, "namespace");
	rv->ns = rv->ns ? rv->ns : "";
	rv->name = json_str(req, "name");
	rv->operation = json_str(req, "operation");
	rv->operation = rv->operation ? rv->operation : "";
	ui = json_object_get(req, "userInfo");
	rv->user = json_is_object(ui) ? json_str(ui, "username") : NULL;
	rv->user = rv->user ? rv->user : "";
	rv->object = json_object_get(req, "object");
	if (!json_is_object(rv->object))
		rv->object = NULL;
	/* CREATE of generateName objects has no request.name: use the
	 * object's metadata so the log still names something. */
	if (rv->name == NULL && rv->object) {
		const json_t *md = json_object_get(rv->object, "metadata");

		if (json_is_object(md))
			rv->name = json_str(md, "name") ? json_str(md, "name")
						      : json_str(md, "generateName");
	}
	rv->name = rv->name ? rv->name : "";
	*out = rv;
	rv = NULL;
	rc = PG_OK;
out:
	pg_review_free(rv);
	return rc;
}

void
pg_review_free(pg_review *rv)
{
	if (rv == NULL)
		return;
	json_decref(rv->root);
	pg_arena_free(rv->arena);
	free(rv);
}

const char *pg_review_uid(const pg_review *rv) { return rv->uid; }
const char *pg_review_api_version(const pg_review *rv) { return rv->api_version; }
const char *pg_review_kind(const pg_review *rv) { return rv->kind; }
const char *pg_review_namespace(const pg_review *rv) { return rv->ns; }
const char *pg_review_name(const pg_review *rv) { return rv->name; }
const char *pg_review_operation(const pg_review *rv) { return rv->operation; }
const char *pg_review_user(const pg_review *rv) { return rv->user; }
const json_t *pg_review_object(const pg_review *rv) { return rv->object; }

int
pg_review_error_json(char **out, size_t *len, const char *msg)
{
	json_t *o = json_pack("{s:s, s:i}", "error", msg, "code", 400);
	char *s;

	if (o == NULL)
		return PG_ENOMEM;
	s = pg_json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return PG_ENOMEM;
	*out = s;
	if (len)
		*len = strlen(s);
	return PG_OK;
}
