/* admission internals shared by its files. */
#ifndef PG_ADMISSION_INT_H
#define PG_ADMISSION_INT_H

#include "admission/admission.h"
#include "jsonmem/jsonmem.h"

/* The string at key k of object o, or NULL when o is not an object or the
 * value is not a string. */
static inline const char *
json_str(const json_t *o, const char *k)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, k) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct pg_review {
	pg_arena *arena;         /* the tree's memory */
	json_t *root;            /* owns every string below */
	const char *api_version;
	const char *uid;
	const char *kind;
	const char *group;
	const char *ns;
	const char *name;
	const char *operation;
	const char *user;
	const json_t *object;    /* request.object when a JSON object, else NULL */
	const json_t *old_object; /* request.oldObject when a JSON object, else NULL */
	const char *object_type; /* what request.object is when not an object
				    ("missing", "null", "a string", ...), else NULL */
	char *undecoded;         /* the body is an AdmissionReview with a readable
				    uid that the parser refused (too deep, over the
				    arena bound): why, to deny with; else NULL */
	char *scanned;           /* owns the strings the pre-scan read */
};

struct pg_decision {
	pg_review *rv;
	pg_policy *pol;
	pg_refs refs;
	pg_refdec *d;
	size_t n;
	bool exempt;      /* exempt namespace: no checks */
	bool skipped;     /* not checked: DELETE/CONNECT, a kind we do not
			     read, an UPDATE whose references are unchanged */
	int malformed;    /* PG_OK, or why the object itself is denied (a
			     wrong-typed field, too many references, ...):
			     the reason is in note */
	char *note;       /* why skipped/exempt, for the message */
};

/* Append to out the images of the manifests recorded in a Helm release
 * (ch of kind PG_CHART_RELEASE; anything else: nothing), each once, not
 * repeating an image out already holds (admission/release.c). */
int pg__release_image_refs(pg_refs *out, const pg_chart_ref *ch, pg_err *err);

/* admission/advice.c: deny messages a person can act on.  Whether
 * d->d[i] repeats an earlier reference (same reference, state and reason:
 * told once); " [at PATH...; rule R; trust T] — what to do" for d->d[i]
 * (every place it is written, its repeats' included); " (policy: where it
 * lives)".  Each appends to m; PG_ETOOBIG when m is full. */
bool pg__advice_repeat(const pg_decision *d, size_t i);
int pg__advice_detail(struct pg_buf *m, const pg_decision *d, size_t i);
int pg__advice_policy(struct pg_buf *m, const pg_decision *d);
/* The same detail appended to the string in buf (n bytes), cut to fit
 * (valid UTF-8 either way): audit-mode warnings. */
void pg__advice_append(char *buf, size_t n, const pg_decision *d, size_t i);
/* Log-line fields of a reference (best effort): "path", its field path,
 * and "places", how many places the object writes it when more than one. */
void pg__advice_log_fields(json_t *o, const pg_refent *e);

#endif
