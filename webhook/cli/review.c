/*
 * cli/review — `provgate review`: one AdmissionReview from a file or stdin,
 * decided by the same code as the server; the response on stdout, the
 * admission-log line on stderr.  Exit 0 allowed, 1 denied, 2 bad input.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "buf/buf.h"
#include "clock/clock.h"
#include "policy/policy.h"
#include "verify/verify.h"

int
pg_cmd_review(int argc, char **argv)
{
	const char *dir = NULL, *ca = NULL, *file = "-", *v = NULL;
	unsigned long timeout_ms = 9000;
	int i, r, rc = PG_EXIT_USAGE, mutate = 0;
	size_t npinned = 0;
	char *body = NULL, *resp = NULL, *line = NULL;
	size_t len = 0;
	pg_policy *pol = NULL;
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_verify_ctx *vctx = NULL;
	pg_verify_opts vo = {0};
	pg_err err;
	int64_t t0 = pg_clock_us();

	pg_err_clear(&err);
	for (i = 1; i < argc; i++) {
		if ((r = pg_cli_opt(argc, argv, &i, "--policy", &dir)) ||
		    (r = pg_cli_opt(argc, argv, &i, "--ca-file", &ca))) {
			if (r < 0)
				goto out;
			continue;
		}
		if ((r = pg_cli_opt(argc, argv, &i, "--timeout-ms", &v))) {
			if (r < 0 || pg_cli_uint(v, 100, 600000, &timeout_ms) != 0) {
				rc = pg_cli_fail(PG_EXIT_USAGE, "--timeout-ms wants 100..600000");
				goto out;
			}
			continue;
		}
		if (strcmp(argv[i], "--mutate") == 0) {
			/* answer as POST /mutate would: the patch pinning verified tags */
			mutate = 1;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			rc = pg_cli_fail(PG_EXIT_USAGE, "review: unknown option \"%s\"", argv[i]);
			goto out;
		}
		file = argv[i];
	}
	if (dir == NULL) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "usage: provgate review --policy DIR [--ca-file FILE] [--timeout-ms N] [--mutate] [FILE|-]");
		goto out;
	}
	if (pg_policy_load_dir(&pol, dir, &err) != PG_OK ||
	    pg_verify_policy_check(pol, &err) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_buf_read_file(&body, &len, file, PG_REVIEW_MAX, &err) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_review_decode(&rv, body, len, &err) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	if (pg_decision_begin(&d, rv, pol, &err) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
		goto out;
	}
	if (pg_decision_pending(d) > 0 && (!mutate || pg_decision_mutates(d))) {
		vo.ca_file = ca;
		if (pg_verify_ctx_new(&vctx, &vo) != PG_OK) {
			rc = pg_cli_fail(PG_EXIT_DENY, "cannot start verification");
			goto out;
		}
		pg_decision_verify(d, vctx, NULL, pg_clock_ms() + (int64_t)timeout_ms);
		pg_decision_fail_pending(d, PG_EINTERNAL, "not verified");
	}
	if (mutate) {
		if (pg_decision_mutate_response(&resp, &len, &npinned, d) != PG_OK ||
		    pg_decision_mutate_log_line(&line, NULL, d, npinned, NULL,
						pg_clock_us() - t0) != PG_OK) {
			rc = pg_cli_fail(PG_EXIT_DENY, "out of memory");
			goto out;
		}
		printf("%s\n", resp);
		fputs(line, stderr);
		rc = PG_EXIT_OK; /* /mutate always admits; /validate decides */
		goto out;
	}
	if (pg_decision_response(&resp, &len, d) != PG_OK ||
	    pg_decision_log_line(&line, NULL, d, pg_clock_us() - t0) != PG_OK) {
		rc = pg_cli_fail(PG_EXIT_DENY, "out of memory");
		goto out;
	}
	printf("%s\n", resp);
	fputs(line, stderr);
	rc = pg_decision_allowed(d) ? PG_EXIT_OK : PG_EXIT_DENY;
out:
	free(body);
	free(resp);
	free(line);
	pg_decision_free(d);
	pg_verify_ctx_free(vctx);
	pg_policy_unref(pol);
	return rc;
}
