/* libFuzzer target: index.yaml parsing and version selection, and the
 * semver constraint parser (first line of the input is the constraint). */
#include <stdlib.h>
#include <string.h>

#include "helm/helm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t cl = nl ? (size_t)(nl - (const char *)data) : 0;
	char *c = malloc(cl + 1), *u = NULL, *v = NULL;

	if (c == NULL)
		return 0;
	memcpy(c, data, cl);
	c[cl] = '\0';
	if (memchr(c, '\0', cl) == NULL) {
		(void)pg_helm_semver_match(c, "1.2.3-rc.1", NULL);
		(void)pg_helm_semver_cmp(c, "1.0.0");
	}
	if (pg_helm_index_resolve(&u, &v, (const char *)data, size, "https://r.example/c?x=1",
				  "web", memchr(c, '\0', cl) ? NULL : c, NULL) == PG_OK) {
		free(u);
		free(v);
	}
	u = NULL;
	if (memchr(c, '\0', cl) == NULL &&
	    pg_helm_url_resolve(&u, "https://r.example/a/b?q", c, NULL) == PG_OK)
		free(u);
	free(c);
	return 0;
}
