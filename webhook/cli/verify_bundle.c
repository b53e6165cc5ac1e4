/* cli/verify_bundle — `provgate verify-bundle`: wired to its verifier by its own issue. */
#include "cli/cli.h"

int
pg_cmd_verify_bundle(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pg_cli_fail(PG_EXIT_DENY, "verify-bundle: verification not available in this build");
}
