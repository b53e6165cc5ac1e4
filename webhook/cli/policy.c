/*
 * cli/policy — `provgate policy check DIR`: load a policy directory exactly
 * as the server would and say whether it is usable.  Exit 0 with a summary,
 * 2 with "Error: FILE:LINE: ..." when it is unreadable or invalid.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "verify/verify.h"

static int
policy_usage(void)
{
	return pg_cli_fail(PG_EXIT_USAGE, "usage: provgate policy check DIR");
}

static int
policy_check(const char *dir)
{
	pg_policy *p = NULL;
	pg_err err;

	pg_err_clear(&err);
	if (pg_policy_load_dir(&p, dir, &err) != PG_OK)
		return pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
	if (pg_verify_policy_check(p, &err) != PG_OK) {
		pg_policy_unref(p);
		return pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
	}
	printf("policy OK: %zu document%s, %zu image rule%s, %zu chart rule%s, mode %s\n",
	       pg_policy_n_docs(p), pg_policy_n_docs(p) == 1 ? "" : "s",
	       pg_policy_n_images(p), pg_policy_n_images(p) == 1 ? "" : "s",
	       pg_policy_n_charts(p), pg_policy_n_charts(p) == 1 ? "" : "s",
	       pg_policy_mode(p) == PG_MODE_AUDIT ? "audit" : "enforce");
	pg_policy_unref(p);
	return PG_EXIT_OK;
}

int
pg_cmd_policy(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "check") == 0 && argv[2][0] != '\0')
		return policy_check(argv[2]);
	return policy_usage();
}
