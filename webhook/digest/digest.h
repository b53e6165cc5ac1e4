/*
 * digest — the one digest helper of the program: SHA-256/384/512 over
 * bytes, whole or incremental, as raw bytes or as an OCI digest string
 * ("sha256:<hex>").  The implementations are fetched from OpenSSL once per
 * process and shared read-only by every thread.  Only this room, sigstore/
 * (signature algorithms) and the TLS code call OpenSSL's digest functions.
 */
#ifndef PG_DIGEST_H
#define PG_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err/err.h"

typedef enum pg_digest_alg {
	PG_DIGEST_SHA256,
	PG_DIGEST_SHA384,
	PG_DIGEST_SHA512,
} pg_digest_alg;

/* Largest digest in bytes (SHA-512), and SHA-256's. */
#define PG_DIGEST_MAX 64
#define PG_SHA256_SIZE 32
/* Buffers for a digest in lower-case hex + NUL: the largest (128 digits)
 * and SHA-256 (64 digits: rule fingerprints, keyring sums). */
#define PG_DIGEST_HEX_MAX (2 * PG_DIGEST_MAX + 1)
#define PG_SHA256_HEX_MAX (2 * PG_SHA256_SIZE + 1)
/* Buffers for a digest string: the largest, "sha512:" + 128 hex digits +
 * NUL, and "sha256:" + 64 hex digits + NUL. */
#define PG_DIGEST_STR_MAX (7 + PG_DIGEST_HEX_MAX)
#define PG_SHA256_STR_MAX (7 + PG_SHA256_HEX_MAX)

/* Size in bytes of a digest of alg. */
size_t pg_digest_size(pg_digest_alg alg);
/* The OCI name of alg: "sha256", "sha384", "sha512". */
const char *pg_digest_name(pg_digest_alg alg);
/* OpenSSL's implementation (an EVP_MD), for code that signs or verifies
 * with a digest; never NULL, and the same pointer on every call (callers
 * compare them). */
const struct evp_md_st *pg_digest_md(pg_digest_alg alg);

/* out (pg_digest_size(alg) bytes) = alg(p[0..n)).  PG_EINTERNAL. */
int pg_digest(unsigned char *out, pg_digest_alg alg, const void *p, size_t n);
/* The same with an OpenSSL digest chosen by the caller's format (out must
 * hold EVP_MD_size(md) bytes). */
int pg_digest_evp(unsigned char *out, const struct evp_md_st *md, const void *p, size_t n);
/* SHA-256, the common case. */
int pg_sha256(unsigned char out[PG_SHA256_SIZE], const void *p, size_t n);
/* "<name>:<lower-case hex>" of alg(p[0..n)) into out (PG_DIGEST_STR_MAX). */
int pg_digest_string(char out[PG_DIGEST_STR_MAX], pg_digest_alg alg, const void *p, size_t n);

/* The one syntax check of a digest string: true when d is "sha256:" + 64
 * or "sha512:" + 128 lower-case hex digits and nothing after (the OCI
 * digest grammar for the algorithms provgate accepts).  NULL is false. */
bool pg_digest_string_valid(const char *d);

/* FNV-1a (64 bits) of the string s: an index into a hash table, never a
 * security digest. */
uint64_t pg_digest_fnv1a(const char *s);

/* Incremental: begin, update any number of times, then end (writes the
 * digest and frees) or abort (frees). */
typedef struct pg_digest_ctx pg_digest_ctx;
int pg_digest_begin(pg_digest_ctx **out, pg_digest_alg alg);
int pg_digest_update(pg_digest_ctx *c, const void *p, size_t n);
int pg_digest_end(pg_digest_ctx *c, unsigned char *out);
void pg_digest_abort(pg_digest_ctx *c);

#endif
