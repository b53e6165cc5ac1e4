/*
 * admission — the AdmissionReview codec and reference extraction.
 *
 *   pg_review_decode   parse the request body once (jansson), size-bounded;
 *                      pg_review_* read the decoded fields (the only way
 *                      in: no other room reads struct pg_review)
 *   pg_extract         every image and chart reference of the object (the
 *                      table of kinds read is beside it, pg_extract_reads;
 *                      a Helm release's images, pg_extract_release)
 *
 * The decision itself (rules, cache, verification, the answer) is decide/.
 * The same code runs behind `provgate review` and the server; nothing here
 * blocks.
 */
#ifndef PG_ADMISSION_H
#define PG_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err/err.h"
#include "ref/ref.h"

/* 3 MiB: the most a review is parsed from (the API server's request limit
 * is 3 MiB of object; a review carries object and oldObject, escaped). */
#define PG_REVIEW_MAX ((size_t)3 << 20)
/* The server reads bodies up to twice that by default (--max-body): one
 * past PG_REVIEW_MAX is not parsed but answered with a deny for its uid,
 * not an HTTP error that failurePolicy: Ignore would admit. */
#define PG_REVIEW_BODY_MAX (2 * PG_REVIEW_MAX)
/* References per object: far above any real pod (Kubernetes has no hard
 * limit on containers, but an object with more is an attack on us). */
#define PG_REFS_MAX 1024

typedef struct pg_review pg_review;

/*
 * Decode an AdmissionReview (admission.k8s.io/v1 or v1beta1).  PG_EINVAL
 * with a message when body is not one (not JSON, wrong kind/apiVersion, no
 * request or uid); PG_ETOOBIG past PG_REVIEW_MAX.  *out owned by caller.
 */
int pg_review_decode(pg_review **out, const char *body, size_t len, pg_err *err);
void pg_review_free(pg_review *rv);

/* The decoded fields, borrowed from rv (valid until pg_review_free).  The
 * strings are never NULL unless said. */
const char *pg_review_uid(const pg_review *rv);
const char *pg_review_api_version(const pg_review *rv);
const char *pg_review_kind(const pg_review *rv);      /* request.kind.kind, "" if none */
const char *pg_review_group(const pg_review *rv);     /* request.kind.group, "" = core */
const char *pg_review_namespace(const pg_review *rv); /* "" if none */
const char *pg_review_name(const pg_review *rv);      /* "" if none */
const char *pg_review_operation(const pg_review *rv); /* "" if none */
const char *pg_review_user(const pg_review *rv);      /* "" if none */
/* request.object / request.oldObject when a JSON object, else NULL. */
const json_t *pg_review_object(const pg_review *rv);
const json_t *pg_review_old_object(const pg_review *rv);
/* What request.object is when it is not an object ("missing", "null",
 * "a string", ...), to say so in the deny; NULL when it is one. */
const char *pg_review_object_type(const pg_review *rv);
/* Why the review could not be read although its uid could (the body is
 * an AdmissionReview the parser refused: too deep, over the arena bound):
 * the review is to be denied with this reason.  NULL for a decoded review. */
const char *pg_review_undecoded(const pg_review *rv);

typedef enum { PG_REF_IMAGE = 1, PG_REF_CHART = 2, PG_REF_SOURCE = 3 } pg_ref_kind;

/* One reference found in the object. */
typedef struct pg_refent {
	pg_ref_kind kind;
	char *raw;	     /* as written in the object */
	char *where;	     /* JSON path-ish location, for messages */
	char *also;	     /* the second place the same image is written, or NULL */
	size_t n_also;	     /* how many more places it is written */
	pg_image_ref *image; /* IMAGE, when it parsed */
	pg_chart_ref *chart; /* CHART / SOURCE */
	char *invalid;	     /* why it did not parse, or NULL */
} pg_refent;

typedef struct pg_refs {
	pg_refent *v;
	size_t n;
	size_t cap;
} pg_refs;

/*
 * Append every reference of object (of kind `kind`, from request.kind) to
 * out, images deduplicated by their raw string.  Unparseable references are
 * kept with `invalid` set (they are denied, never skipped).  PG_ETOOBIG past
 * PG_REFS_MAX; PG_EINVAL with the field's path when a pod spec field has the
 * wrong type (`containers` not an array, a container not an object, ...).
 * Pod specs are read for containers, initContainers, ephemeralContainers
 * and image volumes (volumes[].image.reference, located "volumes[NAME]").
 */
int pg_extract(pg_refs *out, const char *kind, const json_t *object, pg_err *err);

/* Whether pg_extract reads objects of this API group ("" = core) and kind:
 * the kinds table, beside the extractor. */
bool pg_extract_reads(const char *group, const char *kind);

/*
 * Any other kind: the pod specs at the well-known pod-template places
 * (spec.template.spec, spec.jobTemplate.spec.template.spec, and spec itself
 * when it names containers), appended to out like pg_extract.  *found says
 * whether the object has any such place; when it has none the kind is not
 * checked.  Errors as pg_extract.
 */
int pg_extract_generic(pg_refs *out, bool *found, const json_t *object, pg_err *err);

/* An object of API group and kind, read the one way every object is read
 * (a review's object and each object of a Helm release): pg_extract when
 * the kinds table reads it, else pg_extract_generic (*read false when that
 * finds no pod-template place: the kind is not checked). */
int pg_extract_object(pg_refs *out, bool *read, const char *group, const char *kind,
		      const json_t *object, pg_err *err);

/*
 * Append to out the images of the manifests recorded in a Helm release
 * (ch of kind PG_CHART_RELEASE; anything else: nothing), each once, not
 * repeating an image out already holds (admission/release.c).  Decoding a
 * release is gunzip + JSON + YAML work: call it on a worker.
 */
int pg_extract_release(pg_refs *out, const pg_chart_ref *ch, pg_err *err);
void pg_refs_free(pg_refs *r);

/* Response for a body that is not an AdmissionReview, HTTP 400. */
int pg_review_error_json(char **out, size_t *len, const char *msg);

#endif
