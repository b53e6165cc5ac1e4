/* cli/serve */
#include "cli/cli.h"

int
pg_cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pg_cli_fail(PG_EXIT_USAGE, "serve: unavailable");
}
