/*
 * fetch — libcurl behind a bounded interface.  (Filled in by the registry
 * client work; until then every request fails closed.)
 */
#include "fetch/fetch.h"

#include <curl/curl.h>
#include <stdlib.h>

int
pg_fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? PG_OK : PG_EINTERNAL;
}

void
pg_fetch_global_cleanup(void)
{
	curl_global_cleanup();
}
