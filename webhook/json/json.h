/*
 * json — the ground floor's accessors over jansson documents: a string at
 * a key, a value at a path of keys, a present (non-null) member, an RFC 6901
 * JSON pointer, a proto3 int64.  Every room that reads JSON reads fields
 * through these instead of a helper of its own.
 *
 * jansson's json_t is a vocabulary type: it may appear in the headers of
 * rooms whose interface is a JSON document (docs/internals.md, "Ground
 * floor and foreign libraries"); every other room keeps it inside.
 */
#ifndef PG_JSON_H
#define PG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err/err.h"

/* o[key] as a C string (borrowed), or NULL when o is not an object, key is
 * absent or its value is not a string. */
const char *pg_json_str(const json_t *o, const char *key);

/* o[key] when present: NULL when o is not an object, key is absent or its
 * value is JSON null (Kubernetes clients write an omitted field either
 * way, so null must read as absent).  Borrowed. */
const json_t *pg_json_field(const json_t *o, const char *key);

/* The value at a path of object keys (NULL-terminated; borrowed), or NULL
 * when a step is missing or not an object. */
const json_t *pg_json_path(const json_t *o, const char *const *keys);
/* The same as a string, or NULL when the value is not a string. */
const char *pg_json_str_path(const json_t *o, const char *const *keys);
/* Literal paths: PG_JSON_AT(o, "spec", "chart") and PG_JSON_STR_AT(...). */
#define PG_JSON_AT(o, ...) pg_json_path((o), (const char *const[]){__VA_ARGS__, NULL})
#define PG_JSON_STR_AT(o, ...) pg_json_str_path((o), (const char *const[]){__VA_ARGS__, NULL})

/* Bounds of a JSON pointer: pointers are written in policies (4 KiB, as
 * any policy value), and no document we read nests deeper than 64. */
#define PG_JSON_POINTER_MAX 4096
#define PG_JSON_POINTER_DEPTH_MAX 64

/*
 * RFC 6901: "" is the whole document; otherwise "/"-separated segments with
 * ~0 for '~' and ~1 for '/', an array step a decimal index without leading
 * zeros.  *out is the value (borrowed from doc), or NULL when the pointer is
 * well formed but leads nowhere.  PG_EINVAL for a malformed pointer (the
 * whole pointer is checked even past a missing step), one longer than
 * PG_JSON_POINTER_MAX or with more than PG_JSON_POINTER_DEPTH_MAX segments.
 */
int pg_json_pointer(const json_t **out, const json_t *doc, const char *p);

/* A decimal int64 given as a JSON integer or as a string (proto3 JSON
 * writes int64 as strings).  PG_EINVAL otherwise. */
int pg_json_int64(int64_t *out, const json_t *v);

/*
 * Go's encoding/json, which reads the documents other programs act on
 * (cosign's payloads, Helm's releases), matches an object key to a struct
 * field case-insensitively, with Unicode simple folding, and the last key
 * matching a field wins; we read exact keys.  Under that folding the only
 * non-ASCII runes that fold to ASCII letters are U+212A KELVIN SIGN (k) and
 * U+017F LATIN SMALL LETTER LONG S (s).  A reader finds with these where the
 * two readings of one document could differ, and refuses it.
 *
 * pg_json_go_fold_eq: does key (UTF-8) name the field `field` (ASCII, as
 * its json tag spells it) under Go's rule?  Exact spelling included.
 */
bool pg_json_go_fold_eq(const char *key, const char *field);
/* How many keys of obj name field under Go's rule (0 when obj is not an
 * object). */
size_t pg_json_go_fold_count(const json_t *obj, const char *field);

#endif
