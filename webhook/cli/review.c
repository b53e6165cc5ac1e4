/* cli/review */
#include "cli/cli.h"

int
pg_cmd_review(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pg_cli_fail(PG_EXIT_USAGE, "review: unavailable");
}
