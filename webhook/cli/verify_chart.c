/* cli/verify_chart — `provgate verify-chart`: wired to its verifier by its own issue. */
#include "cli/cli.h"

int
pg_cmd_verify_chart(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pg_cli_fail(PG_EXIT_DENY, "verify-chart: verification not available in this build");
}
