/*
 * helm internals shared by the module's files (YAML loading, gzip, tar).
 */
#ifndef PG_HELM_INT_H
#define PG_HELM_INT_H

#include <jansson.h>
#include <stddef.h>

#include "buf/buf.h"
#include "err/err.h"
#include "helm/helm.h"

/* Nesting a chart's values really use is < 20; 64 stops stack games. */
#define PG_HELM_YAML_DEPTH_MAX 64
/* Nodes built or skipped in one document (a 32 MiB index is ~2M nodes). */
#define PG_HELM_YAML_NODES_MAX 4000000

/*
 * Parse the first YAML document of text into a jansson tree.  typed: plain
 * scalars resolve to null/bool/int/float as go-yaml v2 does (values.yaml);
 * otherwise every scalar is a string and only empty/~/null is null
 * (Chart.yaml, index.yaml, .prov, whose fields are strings).  path: NULL or
 * a NULL-terminated list of mapping keys; only the subtree there is built
 * (*out NULL when absent).
 */
int pg_helm_yaml_load(json_t **out, const char *text, size_t len, int typed,
		      const char *const *path, pg_err *err);

/* Every YAML document of text, in order, as a jansson array (an empty
 * document is null); the same bounds per document as pg_helm_yaml_load.
 * strict: what go-yaml would read otherwise is refused (PG_EINVAL): merge
 * keys (`<<`) and tags other than the core schema's (yaml.c). */
int pg_helm_yaml_load_all(json_t **out, const char *text, size_t len, int typed, int strict,
			  pg_err *err);

/* gunzip src into out (bounded by out->max: PG_ETOOBIG, never more). */
int pg_helm_gunzip(pg_buf *out, const unsigned char *src, size_t len, pg_err *err);

/* Standard base64 into out, with the message release decoding reports. */
int pg_helm_base64_decode(pg_buf *out, const char *s, size_t n, pg_err *err);

/* One regular file of an archive. */
typedef struct pg_helm_file {
	char *name;
	unsigned char *data;
	size_t len;
} pg_helm_file;

typedef struct pg_helm_files {
	pg_helm_file *v;
	size_t n;
} pg_helm_files;

/* Read a (ustar / pax / GNU long name) tar from memory: regular files only,
 * bounded by the PG_HELM_UNTAR_* limits.  Names are normalised ("./"
 * removed); ".." components are refused. */
int pg_helm_untar(pg_helm_files *out, const unsigned char *tar, size_t len, pg_err *err);
void pg_helm_files_free(pg_helm_files *f);
const pg_helm_file *pg_helm_files_get(const pg_helm_files *f, const char *name);

/* Go's %q for a short string, into out (always NUL-terminated). */
void pg_helm_quote(char *out, size_t size, const char *s);

#endif
