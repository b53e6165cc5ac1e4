/*
 * oci_int — what the files of oci/ share and nothing else sees: header
 * parsers (WWW-Authenticate, Link, Retry-After), docker config decoding,
 * digests, and the request core of the client.
 */
#ifndef PG_OCI_INT_H
#define PG_OCI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"
#include "digest/digest.h"
#include "oci/oci.h"

/* A header value longer than this is not one a registry sends. */
#define PG_OCI__HEADER_MAX 8192
/* "sha512:" + 128 hex + NUL */
#define PG_OCI__DIGEST_BUF PG_DIGEST_STR_MAX

enum { PG_OCI__AUTH_NONE = 0, PG_OCI__AUTH_BASIC = 1, PG_OCI__AUTH_BEARER = 2 };

/* One challenge from WWW-Authenticate; strings malloc'd or NULL. */
typedef struct pg_oci__challenge {
	int scheme;
	char *realm;
	char *service;
	char *scope;
} pg_oci__challenge;

/* Parse a WWW-Authenticate value.  Picks the Bearer challenge when there
 * are several, else Basic.  PG_EINVAL for anything else or junk. */
int pg_oci__www_auth_parse(pg_oci__challenge *out, const char *value, pg_err *err);
/* WWW-Authenticate lines one response may carry that we read. */
#define PG_OCI__CHALLENGE_LINES_MAX 16
/* Every WWW-Authenticate line of a raw header block (as pg_fetch keeps
 * it), each with comma-separated challenges, chosen from as Docker does:
 * the first Bearer, else the first Basic.  PG_EINVAL when there is none,
 * for junk in any of them, or more than PG_OCI__CHALLENGE_LINES_MAX lines. */
int pg_oci__www_auth_parse_headers(pg_oci__challenge *out, const char *headers, pg_err *err);
void pg_oci__challenge_clear(pg_oci__challenge *ch);

/* The target of rel="next" in a Link header value, malloc'd, or NULL in
 * *out when there is none.  PG_EINVAL for a malformed value. */
int pg_oci__link_next(char **out, const char *value, pg_err *err);

/* Retry-After as delay-seconds (the form registries send); an HTTP date
 * or junk gives fallback_s.  Capped at one day. */
int64_t pg_oci__retry_after_s(const char *value, int64_t fallback_s);

/* The count a RateLimit-Limit / RateLimit-Remaining value starts with
 * ("100;w=21600" -> 100), or -1 when it is not one. */
int64_t pg_oci__ratelimit_value(const char *value);

/* Find credentials for registry host in a docker config.json text:
 * `auths` keys matched by host (scheme and path ignored; docker.io also as
 * index.docker.io), "auth" (base64 user:password) or username + password.
 * *out = "user:password" malloc'd (wipe it), or NULL when no entry. */
int pg_oci__docker_config_auth(char **out, const char *json, size_t len, const char *host,
			       pg_err *err);

/* "sha256:<hex>" of p into out (PG_OCI__DIGEST_BUF). */
void pg_oci__sha256_digest(char out[PG_OCI__DIGEST_BUF], const void *p, size_t n);
/* Does p hash to digest?  Only sha256 and sha512 are known. */
bool pg_oci__digest_matches(const char *digest, const void *p, size_t n);

/* Deep copy of a descriptor into *dst (zeroed first). */
int pg_oci__desc_copy(pg_oci_desc *dst, const pg_oci_desc *src);

/* Percent-encode s (RFC 3986 unreserved kept, other octets %XX in upper-case
 * hex) onto b. */
int pg_oci__urlenc(pg_buf *b, const char *s);

#endif
