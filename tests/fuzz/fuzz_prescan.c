/*
 * libFuzzer target: the AdmissionReview pre-scan (admission/review.c), the
 * bounded reader of bodies the JSON parser refuses for its own limits.
 * Includes review.c for its static functions (as the unit tests do); the
 * archive's copy of review.o is then never linked.
 *
 * Differential invariants, against jansson on the same bytes:
 *  - whatever jansson accepts (an object at the root, within its depth)
 *    the pre-scan accepts too: it never calls valid JSON invalid;
 *  - when both accept, every key the pre-scan read (root apiVersion and
 *    kind, request.uid and request.operation, unescaped strings) has the
 *    value jansson sees there.
 * And through pg_review_decode: a review decoded from a body jansson
 * refused is denied by construction (undecoded set, object NULL).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../webhook/admission/review.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_prescan: invariant broken: %s\n", what);
		abort();
	}
}

static void
same(const scan *sc, int k, const json_t *v)
{
	if (sc->v[k] == NULL)
		return;
	check(json_is_string(v), "a key the pre-scan read is a string for jansson");
	check(json_string_length(v) == sc->n[k] &&
		  memcmp(json_string_value(v), sc->v[k], sc->n[k]) == 0,
	      "the pre-scan read the value jansson sees");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	json_error_t je;
	/* duplicates refused: the pre-scan refuses a second uid, kind, ... */
	json_t *root = json_loadb(s, size, JSON_REJECT_DUPLICATES, &je);
	pg_review *rv = NULL;
	scan sc;
	int rc;

	rc = prescan(&sc, s, size);
	check(rc == PG_OK || rc == PG_EINVAL || rc == PG_ENOMEM, "prescan returns a known code");
	if (root && json_is_object(root))
		check(rc == PG_OK, "JSON jansson accepts is accepted");
	if (root && rc == PG_OK) {
		const json_t *req = json_object_get(root, "request");

		same(&sc, K_APIVERSION, json_object_get(root, "apiVersion"));
		same(&sc, K_KIND, json_object_get(root, "kind"));
		if (sc.v[K_UID] || sc.v[K_OPERATION])
			check(json_is_object(req), "request is an object");
		same(&sc, K_UID, json_object_get(req, "uid"));
		same(&sc, K_OPERATION, json_object_get(req, "operation"));
	}
	json_decref(root);
	if (pg_review_decode(&rv, s, size, NULL) == PG_OK && rv->undecoded) {
		check(rv->root == NULL && rv->object == NULL, "an undecoded review has no object");
		check(rv->uid && rv->uid[0], "an undecoded review has its uid");
	}
	pg_review_free(rv);
	return 0;
}
