/* admission internals shared by its files. */
#ifndef PG_ADMISSION_INT_H
#define PG_ADMISSION_INT_H

#include "admission/admission.h"
#include "json/json.h"
#include "jsonmem/jsonmem.h"

struct pg_review {
	pg_arena *arena; /* the tree's memory */
	json_t *root;	 /* owns every string below */
	const char *api_version;
	const char *uid;
	const char *kind;
	const char *group;
	const char *ns;
	const char *name;
	const char *operation;
	const char *user;
	const json_t *object;	  /* request.object when a JSON object, else NULL */
	const json_t *old_object; /* request.oldObject when a JSON object, else NULL */
	const char *object_type;  /* what request.object is when not an object
				     ("missing", "null", "a string", ...), else NULL */
	char *undecoded;	  /* the body is an AdmissionReview with a readable
				     uid that the parser refused (too deep, over the
				     arena bound): why, to deny with; else NULL */
	char *scanned;		  /* owns the strings the pre-scan read */
};

#endif
