/* libFuzzer target: a Helm release's rendered manifest — split into pieces
 * at "---" lines, "# Source:" lines read, every YAML document parsed
 * (helm/manifest.c, multi-document YAML in helm/yaml.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helm/helm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *out = json_array(), *e;
	size_t i;

	if (out == NULL)
		return 0;
	if (pg_helm_manifest_parse(out, (const char *)data, size, NULL) == PG_OK) {
		json_array_foreach(out, i, e)
		{
			const char *s = json_string_value(json_object_get(e, "source"));

			/* a source is one line, bounded, without NUL */
			if (s && (strlen(s) > PG_HELM_SOURCE_MAX || strchr(s, '\n')))
				abort();
			if (json_object_get(e, "object") == NULL ||
			    json_is_null(json_object_get(e, "object")))
				abort();
		}
	}
	json_decref(out);
	return 0;
}
