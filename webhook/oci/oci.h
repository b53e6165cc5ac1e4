/*
 * oci — a registry client (OCI distribution spec / Docker registry v2) over
 * pg_fetch: ping, auth challenges, manifests, blobs, referrers and their
 * tag-schema fallback, tags.  Bytes in, bytes out: it knows no signature
 * format.  What a referrer or a layer means (cosign, Notation, attestations)
 * is the business of the discovery files in verify/.
 *
 * Everything that arrives from a registry is size-bounded and checked
 * against the digest it claims or was asked for; every call runs within the
 * caller's absolute deadline; every host contacted (registry, token realm,
 * redirect) is first approved by the caller's guard.
 *
 * Threads: one pg_oci may be shared by worker threads (per-host settings
 * and a per-host concurrency cap, mutex-protected).  Bearer tokens and
 * requests in flight are process-wide, shared by every pg_oci: a token
 * serves every thread until it expires, and identical concurrent requests
 * go out once.  Each call takes the calling thread's own pg_fetch in
 * pg_oci_req.
 */
#ifndef PG_OCI_H
#define PG_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err/err.h"
#include "ref/ref.h"
#include "fetch/fetch.h"

/* 4 MiB: distribution's own limit on a manifest body it accepts. */
#define PG_OCI_MANIFEST_MAX ((size_t)4 << 20)
/* Descriptors kept from one manifest/index or one referrers listing: far
 * above real images (tens of layers), low enough to bound the work. */
#define PG_OCI_DESC_MAX 1024
/* A token endpoint answers with a few KiB of JSON. */
#define PG_OCI_TOKEN_MAX ((size_t)64 << 10)
/* A docker config.json with many registries is still a few KiB. */
#define PG_OCI_DOCKER_CONFIG_MAX ((size_t)1 << 20)
/* Concurrent requests to one registry host, unless set otherwise. */
#define PG_OCI_DEFAULT_PER_HOST 4

#define PG_OCI_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define PG_OCI_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define PG_OCI_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define PG_OCI_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* The Accept header sent for manifests: OCI manifest + index, Docker v2
 * manifest + manifest list.  A narrower set lets a registry down-convert,
 * which changes the digest. */
extern const char *const pg_oci_accept_manifests;

/* How to reach one registry host. */
typedef struct pg_oci_host {
	const char *host;	   /* "registry.example.com" or "127.0.0.1:5000",
				      as in image references ("docker.io" too) */
	const char *ca_file;	   /* extra trusted CA (PEM), or NULL */
	const char *docker_config; /* config.json with an `auths` entry, or NULL */
	bool plain_http;	   /* http:// instead of https:// */
} pg_oci_host;

typedef struct pg_oci_opts {
	const pg_oci_host *hosts; /* copied by pg_oci_new */
	size_t n_hosts;
	/* For hosts not listed: */
	const char *ca_file;	   /* extra trusted CA, or NULL */
	const char *docker_config; /* credentials file, or NULL (none) */
	int max_per_host;	   /* concurrency cap; 0: PG_OCI_DEFAULT_PER_HOST */
} pg_oci_opts;

typedef struct pg_oci pg_oci;

/* Per call: what the calling thread brings.  guard approves every host
 * contacted, registry, token realm and redirect alike (NULL: any). */
typedef struct pg_oci_req {
	pg_fetch *fetch;  /* the calling thread's handle */
	int64_t deadline; /* absolute pg_clock_ms(); 0: 30 s from now */
	pg_fetch_guard_fn guard;
	void *guard_ctx;
} pg_oci_req;

/* A content descriptor.  Every member is owned by the object holding the
 * descriptor (manifest or list); annotations is an object or NULL. */
typedef struct pg_oci_desc {
	char *media_type;
	char *digest; /* "sha256:<hex>" (or sha512) */
	int64_t size;
	char *artifact_type; /* or NULL */
	json_t *annotations; /* string -> string, or NULL */
} pg_oci_desc;

typedef struct pg_oci_manifest pg_oci_manifest;

/* Settings are copied; *out is the caller's (pg_oci_free). */
int pg_oci_new(pg_oci **out, const pg_oci_opts *o, pg_err *err);
/* NULL is fine.  No call may be running.  Tokens are not the client's:
 * they are shared by every client of the process (pg_oci_tokens_clear). */
void pg_oci_free(pg_oci *c);
/* Wipe the process-wide bearer-token cache (tokens reused per host, scope
 * and credentials by every client until they expire).  Safe while calls
 * run: a token being fetched is kept. */
void pg_oci_tokens_clear(void);

/* GET /v2/ on host, authenticating if challenged.  0 when the registry
 * answers 200; PG_EFETCH (with the status) otherwise. */
int pg_oci_ping(pg_oci *c, const pg_oci_req *q, const char *host, pg_err *err);

/*
 * Fetch the manifest or index `reference` (a tag or "sha256:<hex>") of
 * host/repo with the full Accept set.  The digest is sha256 over the exact
 * bytes; it must equal Docker-Content-Digest when the registry sends one and
 * the reference when that is a digest (PG_EVERIFY naming both otherwise).
 * PG_ENOTFOUND for 404, PG_ETOOBIG past PG_OCI_MANIFEST_MAX, PG_EINVAL for a
 * body that is not a schema 2 manifest or index.  *out is the caller's.
 */
int pg_oci_manifest_get(pg_oci_manifest **out, pg_oci *c, const pg_oci_req *q, const char *host,
			const char *repo, const char *reference, pg_err *err);

/*
 * Fetch manifest `tag` of host/repo where it is as likely absent as present
 * (a cosign "sha256-<hex>.sig" or ".att" tag, the referrers tag schema):
 * HEAD it first, so an absent tag costs no GET (Docker Hub counts manifest
 * GETs as pulls and no HEAD); when present, GET it by the digest the HEAD
 * named (Docker-Content-Digest, sha256), so the bytes must hash to that
 * digest (PG_EVERIFY otherwise: a HEAD naming other bytes is refused), or
 * by the tag when the HEAD named none (a registry or proxy without it: the
 * checks of pg_oci_manifest_get as for any GET by tag).  PG_ENOTFOUND when
 * the tag is absent (or gone between the two requests); otherwise as
 * pg_oci_manifest_get.  A present tag costs one round trip more than a
 * GET, on the same connection.  *out is the caller's.
 */
int pg_oci_manifest_probe(pg_oci_manifest **out, pg_oci *c, const pg_oci_req *q, const char *host,
			  const char *repo, const char *tag, pg_err *err);

/* Resolve a tag (or digest) to the digest of what it names: for a
 * multi-arch image the index digest, as cosign signs it.  *out malloc'd. */
int pg_oci_resolve(char **out, pg_oci *c, const pg_oci_req *q, const char *host, const char *repo,
		   const char *reference, pg_err *err);

/*
 * The descriptor of manifest `reference` (tag or digest) of host/repo as a
 * HEAD answers it (full Accept set): digest from Docker-Content-Digest,
 * media type from Content-Type, size from Content-Length; no bytes, so no
 * pull on Docker Hub.  When the answer lacks one of them, or names another
 * digest than a digest reference, the manifest is fetched and hashed (one
 * GET) instead.  Like a tag resolved by HEAD, the result is the registry's
 * claim: use it only where a signature binds digest, media type and size
 * (a Notation signature's target descriptor does).  out's members are the
 * caller's (media_type and digest malloc'd; annotations NULL).
 */
int pg_oci_manifest_describe(pg_oci_desc *out, pg_oci *c, const pg_oci_req *q, const char *host,
			     const char *repo, const char *reference, pg_err *err);

/* Download blob `digest` of host/repo, at most max bytes; the bytes must
 * hash to digest and, when size >= 0, be exactly size long.  *out is
 * malloc'd and NUL-terminated one past *len_out. */
int pg_oci_blob_get(unsigned char **out, size_t *len_out, pg_oci *c, const pg_oci_req *q,
		    const char *host, const char *repo, const char *digest, int64_t size,
		    size_t max, pg_err *err);

/*
 * List the referrers of host/repo@digest whose artifactType is
 * artifact_type (NULL: all).  OCI 1.1 referrers API with Link pagination;
 * when it answers 404, the "sha256-<hex>" tag-schema index instead (absent
 * tag: no referrers).  Filters on the client when the server did not say it
 * did.  *out (n_out entries, possibly none) is the caller's
 * (pg_oci_descs_free).
 */
int pg_oci_referrers(pg_oci_desc **out, size_t *n_out, pg_oci *c, const pg_oci_req *q,
		     const char *host, const char *repo, const char *digest,
		     const char *artifact_type, pg_err *err);

void pg_oci_descs_free(pg_oci_desc *d, size_t n);

/*
 * Every tag of host/repo (GET /v2/<repo>/tags/list, Link pagination on the
 * same origin, at most 32 pages and 10000 tags: PG_ETOOBIG past them).
 * Tags that are not valid tag syntax are dropped.  *out (n_out strings)
 * is the caller's: pg_oci_tags_free.
 */
int pg_oci_tags(char ***out, size_t *n_out, pg_oci *c, const pg_oci_req *q, const char *host,
		const char *repo, pg_err *err);
void pg_oci_tags_free(char **tags, size_t n);

/*
 * Parse a manifest or index body (no network): bounded, schemaVersion 2,
 * descriptors checked.  content_type (may be NULL) is the response's
 * Content-Type; when both it and the body's mediaType are present they must
 * agree.  The bytes are copied and their sha256 becomes the digest.
 */
int pg_oci_manifest_parse(pg_oci_manifest **out, const char *bytes, size_t len,
			  const char *content_type, pg_err *err);
void pg_oci_manifest_free(pg_oci_manifest *m);

/* Accessors; pointers live as long as m. */
const char *pg_oci_manifest_digest(const pg_oci_manifest *m);
const char *pg_oci_manifest_media_type(const pg_oci_manifest *m);
const char *pg_oci_manifest_artifact_type(const pg_oci_manifest *m); /* or NULL */
const char *pg_oci_manifest_bytes(const pg_oci_manifest *m, size_t *len_out);
bool pg_oci_manifest_is_index(const pg_oci_manifest *m);
/* Layers of a manifest, or manifests of an index. */
size_t pg_oci_manifest_count(const pg_oci_manifest *m);
const pg_oci_desc *pg_oci_manifest_desc(const pg_oci_manifest *m, size_t i);
const pg_oci_desc *pg_oci_manifest_config(const pg_oci_manifest *m);  /* or NULL */
const pg_oci_desc *pg_oci_manifest_subject(const pg_oci_manifest *m); /* or NULL */

#endif
