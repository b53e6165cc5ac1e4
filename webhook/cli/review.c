/*
 * cli/review — `provgate review`: decide admission requests offline, with
 * the server's code.  Input (a file or stdin):
 *   - an AdmissionReview: the response on stdout, the admission-log line
 *     on stderr (exit 0 allowed, 1 denied);
 *   - a plain object, JSON or YAML (`kubectl get pod x -o yaml`): wrapped
 *     as a CREATE AdmissionReview, as `kyverno apply --resource` does, then
 *     the same;
 *   - a List (`kubectl get pods,deploy -A -o json`): one line per object
 *     (decision, kind, namespace/name, reason) and a summary — the audit to
 *     run before switching a policy from audit to enforce (exit 0 when
 *     nothing would be denied, 1 otherwise).
 * Exit 2 for unreadable input or a policy that does not load.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "decide/decide.h"
#include "buf/buf.h"
#include "clock/clock.h"
#include "pgp/pgp.h"
#include "helm/helm.h"
#include "jsonmem/jsonmem.h"
#include "policy/policy.h"
#include "verify/verify.h"

/* Objects per List: `kubectl get -A` of a large cluster stays below this. */
#define REVIEW_LIST_MAX 100000

typedef struct review_run {
	pg_policy *pol;
	pg_verify_ctx *vctx;
	const char *ca;
	unsigned long timeout_ms;
	int mutate;
} review_run;

/* The AdmissionReview the API server would send for a CREATE of obj. */
static int
wrap_object(char **out, size_t *len, const json_t *obj, size_t seq)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *slash = av ? strchr(av, '/') : NULL;
	char group[256], version[64], resource[256], uid[64];
	size_t i;
	json_t *rv;
	char *s;

	if (av == NULL || kind == NULL || kind[0] == '\0')
		return PG_EINVAL;
	(void)snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - av) : 0, av);
	(void)snprintf(version, sizeof(version), "%s", slash ? slash + 1 : av);
	(void)snprintf(resource, sizeof(resource), "%ss", kind);
	for (i = 0; resource[i]; i++)
		resource[i] = (char)tolower((unsigned char)resource[i]);
	(void)snprintf(uid, sizeof(uid), "provgate-review-%zu", seq);
	rv = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s, s:s,"
		       " s:{s:s}, s:O, s:n, s:b}}",
		       "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview", "request",
		       "uid", uid, "kind", "group", group, "version", version, "kind", kind,
		       "resource", "group", group, "version", version, "resource", resource, "name",
		       name ? name : "", "namespace", ns ? ns : "default", "operation", "CREATE",
		       "userInfo", "username", "provgate-review", "object", obj, "oldObject",
		       "dryRun", 0);
	if (rv == NULL)
		return PG_ENOMEM;
	/* the object's own namespace wins; an object without one lands in
	 * "default", as `kubectl apply` would put it */
	if (ns == NULL && json_is_object(json_object_get(json_object_get(rv, "request"), "object")))
		(void)json_object_set_new(
		    json_object_get(json_object_get(json_object_get(rv, "request"), "object"),
				    "metadata"),
		    "namespace", json_string("default"));
	s = pg_json_dumps(rv, JSON_COMPACT);
	json_decref(rv);
	if (s == NULL)
		return PG_ENOMEM;
	*out = s;
	*len = strlen(s);
	return PG_OK;
}

/* Decide one AdmissionReview body by deadline (pg_clock_ms()).  *d owned
 * by the caller. */
static int
decide(pg_decision **d, review_run *run, const char *body, size_t len, int64_t deadline,
       pg_err *err)
{
	pg_review *rv = NULL;
	pg_verify_opts vo = {0};
	int rc;

	*d = NULL;
	if ((rc = pg_review_decode(&rv, body, len, err)) != PG_OK)
		return PG_EXIT_USAGE;
	pg_policy_ref(run->pol);
	rc = pg_decision_begin(d, rv, run->pol, err);
	pg_policy_unref(run->pol);
	if (rc != PG_OK)
		return PG_EXIT_DENY;
	if (pg_decision_pending(*d) > 0 && (!run->mutate || pg_decision_mutates(*d))) {
		vo.ca_file = run->ca;
		if (run->vctx == NULL && pg_verify_ctx_new(&run->vctx, &vo) != PG_OK) {
			pg_err_set(err, PG_EINTERNAL, "cannot start verification");
			return PG_EXIT_DENY;
		}
		pg_decision_verify(*d, run->vctx, NULL, deadline);
		pg_decision_fail_pending(*d, PG_EINTERNAL, "not verified");
	}
	return PG_EXIT_OK;
}

/* One AdmissionReview: the response on stdout, the log line on stderr. */
static int
review_one(review_run *run, const char *body, size_t len, int64_t t0)
{
	pg_decision *d = NULL;
	char *resp = NULL, *line = NULL;
	size_t rlen = 0, npinned = 0;
	pg_err err;
	int rc;

	pg_err_clear(&err);
	/* The deadline counts from the command's start, as an API server's
	 * from when it sent the review: loading the policy (a gpg key
	 * listing per keyring) on a busy machine is part of it. */
	if ((rc = decide(&d, run, body, len, t0 / 1000 + (int64_t)run->timeout_ms, &err)) !=
	    PG_EXIT_OK) {
		rc = pg_cli_fail(rc, "%s", err.msg);
		goto out;
	}
	if (run->mutate) {
		if (pg_decision_mutate_response(&resp, &rlen, &npinned, d) != PG_OK ||
		    pg_decision_mutate_log_line(&line, NULL, d, npinned, NULL,
						pg_clock_us() - t0) != PG_OK) {
			rc = pg_cli_fail(PG_EXIT_DENY, "out of memory");
			goto out;
		}
		rc = PG_EXIT_OK; /* /mutate always admits; /validate decides */
	} else {
		if (pg_decision_response(&resp, &rlen, d) != PG_OK ||
		    pg_decision_log_line(&line, NULL, d, pg_clock_us() - t0) != PG_OK) {
			rc = pg_cli_fail(PG_EXIT_DENY, "out of memory");
			goto out;
		}
		rc = pg_decision_allowed(d) ? PG_EXIT_OK : PG_EXIT_DENY;
	}
	printf("%s\n", resp);
	fputs(line, stderr);
out:
	free(resp);
	free(line);
	pg_decision_free(d);
	return rc;
}

/* A List: one line per object and a summary. */
static int
review_list(review_run *run, const json_t *items)
{
	size_t i, n = json_array_size(items), allowed = 0, denied = 0, other = 0;
	const json_t *obj;

	if (n > REVIEW_LIST_MAX)
		return pg_cli_fail(PG_EXIT_USAGE, "List of %zu objects: at most %d", n,
				   REVIEW_LIST_MAX);
	json_array_foreach(items, i, obj)
	{
		const json_t *md = json_object_get(obj, "metadata");
		const char *kind = json_string_value(json_object_get(obj, "kind"));
		const char *name = json_string_value(json_object_get(md, "name"));
		const char *ns = json_string_value(json_object_get(md, "namespace"));
		char *body = NULL, *resp = NULL;
		size_t len = 0;
		pg_decision *d = NULL;
		const char *label = "error", *why = "";
		json_t *r = NULL;
		pg_err err;

		pg_err_clear(&err);
		if (wrap_object(&body, &len, obj, i) != PG_OK) {
			why = "not a Kubernetes object (apiVersion, kind)";
		} else if (decide(&d, run, body, len, pg_clock_ms() + (int64_t)run->timeout_ms,
				  &err) != PG_EXIT_OK) {
			why = err.msg;
			label = "deny";
		} else if (pg_decision_response(&resp, NULL, d) == PG_OK &&
			   (r = json_loads(resp, 0, NULL)) != NULL) {
			const json_t *rs = json_object_get(r, "response");
			const char *msg = json_string_value(
			    json_object_get(json_object_get(rs, "status"), "message"));
			const json_t *w = json_object_get(rs, "warnings");

			label = pg_decision_label(d);
			why = msg		   ? msg
			      : json_array_size(w) ? json_string_value(json_array_get(w, 0))
						   : "";
			if (why == NULL)
				why = "";
		}
		if (strcmp(label, "allow") == 0)
			allowed++;
		else if (strcmp(label, "deny") == 0 || strcmp(label, "audit-deny") == 0 ||
			 strcmp(label, "error") == 0)
			denied++;
		else
			other++;
		printf("%-10s %s %s%s%s: %s\n", label, kind ? kind : "?", ns ? ns : "",
		       ns ? "/" : "", name ? name : "?", why);
		json_decref(r);
		free(resp);
		free(body);
		pg_decision_free(d);
	}
	printf("%zu object%s: %zu allowed, %zu denied or would be denied, %zu skipped or exempt\n",
	       n, n == 1 ? "" : "s", allowed, denied, other);
	return denied ? PG_EXIT_DENY : PG_EXIT_OK;
}

int
pg_cmd_review(int argc, char **argv)
{
	const char *dir = NULL, *file = "-";
	int i, r, rc = PG_EXIT_USAGE;
	char *body = NULL, *wrapped = NULL;
	size_t len = 0;
	review_run run = {.timeout_ms = PG_DECIDE_TIMEOUT_MS};
	pg_review *probe = NULL;
	json_t *obj = NULL;
	pg_err err, derr;
	int64_t t0 = pg_clock_us();
	uint64_t t;
	char store[4096];

	pg_err_clear(&err);
	for (i = 1; i < argc; i++) {
		if ((r = pg_cli_opt(argc, argv, &i, "--policy", &dir)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--ca-file", &run.ca))) {
			if (r < 0)
				goto out;
			continue;
		}
		/* --timeout-ms, the old name: a bare number is milliseconds */
		if ((r = pg_cli_time_opt(argc, argv, &i, "--timeout", 1000,
					 PG_CLI_REVIEW_TIMEOUT_MIN_MS, PG_CLI_REVIEW_TIMEOUT_MAX_MS,
					 &t)) ||
		    (r = pg_cli_time_opt(argc, argv, &i, "--timeout-ms", 1,
					 PG_CLI_REVIEW_TIMEOUT_MIN_MS, PG_CLI_REVIEW_TIMEOUT_MAX_MS,
					 &t))) {
			if (r < 0)
				goto out;
			run.timeout_ms = (unsigned long)t;
			continue;
		}
		if (strcmp(argv[i], "--mutate") == 0) {
			/* answer as POST /mutate would: the patch pinning verified tags */
			run.mutate = 1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			rc = pg_cli_fail(PG_EXIT_USAGE, "review: unknown option \"%s\"", argv[i]);
			goto out;
		}
		file = argv[i];
	}
	if (dir == NULL) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "usage: provgate review --policy DIR [--ca-file "
						"FILE] [--timeout DURATION] [--mutate] [FILE|-]");
		goto out;
	}
	/* Keyrings' gpg homes as verify-chart keeps them: the policy's
	 * load-time check and the chart verifications of this and later runs
	 * share one per keyring (a listing once, then one gpgv run each) */
	if (pg_cli_pgp_cache_dir(store, sizeof(store)) == 0 && pg_pgp_set_store(store) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_DENY, "out of memory");
		goto out;
	}
	if (pg_policy_load_dir(&run.pol, dir, &err) != PG_OK ||
	    pg_verify_policy_check(run.pol, &err) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_buf_read_file(&body, &len, file, PG_REVIEW_MAX, &err) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	/* An AdmissionReview as the API server sends it? */
	pg_err_clear(&derr);
	if (pg_review_decode(&probe, body, len, &derr) == PG_OK) {
		pg_review_free(probe);
		rc = review_one(&run, body, len, t0);
		goto out;
	}
	/* Otherwise a plain object or a List, in JSON or YAML. */
	if ((obj = json_loadb(body, len, 0, NULL)) == NULL &&
	    pg_helm_yaml_to_json(&obj, body, len, &err) != PG_OK)
		obj = NULL;
	if (!json_is_object(obj) || strcmp(json_string_value(json_object_get(obj, "kind"))
					       ? json_string_value(json_object_get(obj, "kind"))
					       : "AdmissionReview",
					   "AdmissionReview") == 0) {
		rc = pg_cli_fail(PG_EXIT_USAGE,
				 "%s (nor a Kubernetes object or List in JSON or YAML)", derr.msg);
		goto out;
	}
	if (json_is_array(json_object_get(obj, "items")) &&
	    strlen(json_string_value(json_object_get(obj, "kind"))) >= 4 &&
	    strcmp(json_string_value(json_object_get(obj, "kind")) +
		       strlen(json_string_value(json_object_get(obj, "kind"))) - 4,
		   "List") == 0) {
		rc = review_list(&run, json_object_get(obj, "items"));
		goto out;
	}
	if (wrap_object(&wrapped, &len, obj, 0) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_USAGE,
				 "not a Kubernetes object: apiVersion and kind are required");
		goto out;
	}
	rc = review_one(&run, wrapped, len, t0);
out:
	free(body);
	free(wrapped);
	json_decref(obj);
	pg_verify_ctx_free(run.vctx);
	pg_policy_unref(run.pol);
	return rc;
}
