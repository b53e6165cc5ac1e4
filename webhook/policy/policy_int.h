/*
 * policy_int — what the files of webhook/policy/ share and nobody else sees:
 * the pg_policy struct, the small YAML node tree that yaml.c builds from
 * libyaml events, and the hand-offs between loading (load.c), the schema
 * (schema.c) and matching (match.c).
 *
 * Statics in these files have distinct names: the unit test includes all of
 * them into one translation unit.
 */
#ifndef PG_POLICY_INT_H
#define PG_POLICY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf/buf.h"
#include "policy/policy.h"

/* Nodes per file: a real policy has a few hundred; 64 Ki keeps a hostile
 * 1 MiB "[a,a,a,...]" from costing more than a few MiB of tree. */
#define PG_POLICY_NODES_MAX 65536
/* Trust material per item: a trusted_root.json is ~10 KiB, a large keyring
 * a few hundred KiB; 4 MiB is far above both. */
#define PG_POLICY_TRUST_MAX ((size_t)4 << 20)
/* A path or name we can quote in a message or a host part we compare. */
#define PG_POLICY_STR_MAX 4096

/* ---- YAML tree (yaml.c) ---- */

typedef enum { PG_YN_SCALAR = 1, PG_YN_MAP = 2, PG_YN_SEQ = 3 } pg_yn_type;

typedef struct pg_yn {
	pg_yn_type type;
	size_t line;	      /* 1-based */
	char *value;	      /* SCALAR: NUL-terminated text */
	size_t len;	      /* SCALAR: bytes in value */
	bool plain;	      /* SCALAR: unquoted (so "null" may be null) */
	struct pg_yn **items; /* SEQ: items; MAP: key, value, key, value... */
	size_t n;	      /* number of entries in items */
} pg_yn;

/*
 * Parse text into a list of document roots (*out_docs, *out_n; each may be
 * NULL for an empty document).  Anchors, aliases, tags, non-scalar or
 * duplicate keys and nesting deeper than PG_POLICY_DEPTH_MAX are errors
 * "FILE:LINE: ...".  The caller frees with pg_yn_free_docs.
 */
int pg_yn_parse(pg_yn ***out_docs, size_t *out_n, const char *file, const char *text, size_t len,
		pg_err *err);
void pg_yn_free(pg_yn *n);
void pg_yn_free_docs(pg_yn **docs, size_t n);
/* True for an absent value: plain "", "~", "null", "Null", "NULL". */
bool pg_yn_is_null(const pg_yn *n);

/* ---- the model ---- */

typedef enum {
	PG_TRUST_KEY = 0,
	PG_TRUST_KEYRING = 1,
	PG_TRUST_ROOT = 2,
	PG_TRUST_CERT = 3, /* certs: X.509 certificates (notation trust stores) */
} pg_trust_cat;
#define PG_TRUST_NCAT 4

/* A trust item: pg_trust first, so a const pg_trust * handed to callers
 * converts back to its container. */
typedef struct pg_trust_item {
	pg_trust pub;
	pg_trust_cat cat;
	char *bytes; /* material: file content or inline text; owned */
	size_t len;
	char *resolved;	  /* the file read (path resolved), or NULL; owned */
	const char *file; /* policy file that defined it */
	size_t line;
} pg_trust_item;

/* Free a trust item and everything it owns; NULL is fine. */
void pg_policy__trust_free(pg_trust_item *t);

/* A verifier's trust reference, resolved after every document is read so
 * trust may live in another document than the rules that use it. */
typedef struct pg_trust_use {
	pg_verifier *v;
	pg_trust_cat cat;
	size_t slot; /* PG_TRUST_CERT: index into v->nv_certs */
	char *name;
	char *where; /* field path, for the message */
	const char *file;
	size_t line;
} pg_trust_use;

struct pg_policy {
	atomic_uint refs;
	pg_mode mode;
	bool mode_set;
	const char *mode_file;
	size_t mode_line;
	size_t n_docs;

	char **files; /* every file name a message or rule points at; owned */
	size_t n_files;

	char **exempt;
	size_t n_exempt;

	pg_trust_item **trust[PG_TRUST_NCAT];
	size_t n_trust[PG_TRUST_NCAT];

	pg_rule **images;
	size_t n_images;
	pg_rule **charts;
	size_t n_charts;

	pg_registry_cfg **registries;
	size_t n_registries;

	const char *root; /* loading only: --root of `policy check`, or NULL */

	/* loading only; emptied when loading finishes */
	pg_trust_use *uses;
	size_t n_uses;
	const pg_rule **names; /* rules by name hash, open addressing */
	size_t names_cap;      /* 0 or a power of two, at most half full */
};

/* schema.c: add one parsed document (a mapping) of file to p.  base_dir is
 * where relative trust paths are resolved ("" or NULL: the working dir). */
int pg_policy_add_doc(pg_policy *p, const pg_yn *doc, const char *file, const char *base_dir,
		      pg_err *err);
/* schema.c: resolve trust references, compute fingerprints; after the last
 * document.  name is the dir or buffer name, for "no ProvenancePolicy". */
int pg_policy_finish(pg_policy *p, const char *name, pg_err *err);

/* schema.c: free one rule / registry entry (NULL is fine). */
void pg_policy_rule_free(pg_rule *r);
void pg_policy_registry_free(pg_registry_cfg *g);

/* policy.c */
pg_policy *pg_policy_new(void);
void pg_policy_free(pg_policy *p);
/* Keep a copy of a file name for the policy's lifetime; NULL on ENOMEM. */
const char *pg_policy_intern_file(pg_policy *p, const char *file);
/* Read a regular file, at most max bytes, without blocking on FIFOs or
 * devices.  *out is malloc'd and NUL-terminated. */
int pg_policy_read_file(char **out, size_t *len, const char *path, size_t max, pg_err *err);
/* Parse text (one file) and add its documents to p. */
int pg_policy_add_text(pg_policy *p, const char *file, const char *base_dir, const char *text,
		       size_t len, pg_err *err);

#endif
