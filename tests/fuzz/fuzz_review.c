/*
 * libFuzzer target for admission/: any bytes as an AdmissionReview body,
 * through decoding, extraction, the policy decision and both renderings
 * (response and log line), against a fixed policy.
 *
 * Invariants checked beyond "no crash": whatever the input, a decoded
 * review is always decided (answered, never an error: malformed objects,
 * too many references and bodies past the parser's limits are denials), a
 * decided review with a denied reference is never allowed in enforce mode,
 * a "skip" or "exempt" decision carries its reason, and the response is
 * valid JSON that echoes the request uid, as is the log line (one line,
 * every reference), both exactly the text jansson writes for them; the /mutate answer of the same
 * decision patches nothing that was not verified.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "decide/decide.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_yaml[] =
    "apiVersion: provgate.dev/v1alpha1\n"
    "kind: ProvenancePolicy\n"
    "metadata: {name: fuzz}\n"
    "spec:\n"
    "  mode: enforce\n"
    "  exemptNamespaces: [kube-system]\n"
    "  images:\n"
    "    - name: pause\n"
    "      match: [\"registry.k8s.io/pause:*\"]\n"
    "      allowUnsigned: true\n"
    "  charts:\n"
    "    - name: team\n"
    "      match: [\"https://charts.example.com/**\", \"oci://registry.example.com/**\"]\n"
    "      allowUnsigned: true\n";

static pg_policy *pol;

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_review: invariant broken: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_err e;
	char *resp = NULL, *line = NULL;
	size_t n, i;
	pg_refdec *rd;
	json_t *o;
	json_error_t je;
	char uid[256];

	if (pol == NULL && pg_policy_load_buffer(&pol, "fuzz.yaml", policy_yaml,
						 sizeof(policy_yaml) - 1, &e) != PG_OK) {
		fprintf(stderr, "fuzz policy does not load: %s\n", e.msg);
		abort();
	}
	if (pg_review_decode(&rv, (const char *)data, size, &e) != PG_OK)
		return 0;
	(void)snprintf(uid, sizeof(uid), "%s", pg_review_uid(rv));
	if (pg_decision_begin(&d, rv, pol, &e) != PG_OK) {
		check(e.code == PG_ENOMEM, "a decoded review is decided");
		return 0;
	}
	/* No verifier in the fuzzer: whatever is pending is denied. */
	pg_decision_fail_pending(d, PG_EUNAVAIL, "not verified");
	rd = pg_decision_refs(d, &n);
	for (i = 0; i < n; i++)
		if (rd[i].state == PG_RD_DENY)
			check(!pg_decision_allowed(d), "a denied reference was allowed");
	check(pg_decision_response(&resp, NULL, d) == PG_OK, "response renders");
	o = json_loads(resp, 0, &je);
	check(o != NULL, "response is JSON");
	if (strlen(uid) < sizeof(uid) - 1)
		check(strcmp(
			  json_string_value(json_object_get(json_object_get(o, "response"), "uid")),
			  uid) == 0,
		      "uid echoed");
	if (strcmp(pg_decision_label(d), "skip") == 0 ||
	    strcmp(pg_decision_label(d), "exempt") == 0) {
		json_t *a = json_object_get(json_object_get(o, "response"), "auditAnnotations");

		check(pg_decision_allowed(d), "skip and exempt are allowed");
		check(json_is_string(json_object_get(a, "reason")),
		      "skip and exempt carry a reason");
	}
	{
		/* written directly (buf/jsonw): the text jansson writes for it */
		char *again = json_dumps(o, JSON_COMPACT);

		check(again && strcmp(again, resp) == 0, "response is jansson's compact text");
		free(again);
	}
	json_decref(o);
	check(pg_decision_log_line(&line, NULL, d, 1234) == PG_OK, "log line renders");
	o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	check(o != NULL && strchr(line, '\n') == line + strlen(line) - 1,
	      "log line is JSON on one line");
	if (strlen(uid) < sizeof(uid) - 1)
		check(strcmp(json_string_value(json_object_get(o, "uid")), uid) == 0,
		      "log line uid echoed");
	check(json_array_size(json_object_get(o, "references")) == n, "every reference logged");
	{
		char *again = json_dumps(o, JSON_COMPACT);

		check(again && strncmp(again, line, strlen(line) - 1) == 0 &&
			  strlen(again) == strlen(line) - 1,
		      "log line is jansson's compact text");
		free(again);
	}
	json_decref(o);
	free(resp);
	free(line);
	resp = line = NULL;
	/* /mutate over the same decision: nothing was verified here (the
	 * policy only allows unsigned), so nothing may ever be patched, and
	 * the answer is always an allowed AdmissionReview echoing the uid. */
	check(pg_decision_mutate_response(&resp, NULL, &n, d) == PG_OK, "mutate response renders");
	check(n == 0, "an image that was not verified was patched");
	o = json_loads(resp, 0, &je);
	check(o != NULL, "mutate response is JSON");
	check(json_is_true(json_object_get(json_object_get(o, "response"), "allowed")),
	      "mutate response allowed");
	check(json_object_get(json_object_get(o, "response"), "patch") == NULL, "no patch");
	if (strlen(uid) < sizeof(uid) - 1)
		check(strcmp(
			  json_string_value(json_object_get(json_object_get(o, "response"), "uid")),
			  uid) == 0,
		      "mutate uid echoed");
	json_decref(o);
	check(pg_decision_mutate_log_line(&line, NULL, d, n, NULL, 0) == PG_OK,
	      "mutate log line renders");
	free(resp);
	free(line);
	pg_decision_free(d);
	return 0;
}
