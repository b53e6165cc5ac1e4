/* cli/verify_image — `provgate verify-image`: wired to its verifier by its own issue. */
#include "cli/cli.h"

int
pg_cmd_verify_image(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pg_cli_fail(PG_EXIT_DENY, "verify-image: verification not available in this build");
}
