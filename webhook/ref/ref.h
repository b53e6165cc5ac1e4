/*
 * ref — container image reference grammar, normalised exactly as Docker
 * (distribution/reference ParseNormalizedNamed + TagNameOnly) does:
 *   nginx                -> docker.io/library/nginx:latest
 *   user/app:1           -> docker.io/user/app:1
 *   localhost:5000/a     -> localhost:5000/a:latest
 *   a/b@sha256:<64 hex>  -> docker.io/a/b@sha256:<64 hex>   (no tag added)
 *   a:1@sha256:<hex>     -> docker.io/library/a:1@sha256:<hex>
 * Invalid forms (upper case in the path, empty components, bad tag or digest,
 * over-long names) are rejected with a message naming what is wrong.
 * This module never allocates anything but the returned struct and its strings.
 */
#ifndef PG_REF_H
#define PG_REF_H

#include <stdbool.h>

#include "err/err.h"

/* Bounds from distribution/reference: name total 255, tag 128 chars. */
#define PG_REF_NAME_MAX 255
#define PG_REF_TAG_MAX 128
/* The whole input string accepted (name + tag + digest). */
#define PG_REF_INPUT_MAX 1024

typedef struct pg_image_ref {
	char *normalized; /* registry/repository[:tag][@digest] */
	char *registry;	  /* "docker.io", "localhost:5000", "ghcr.io" */
	char *repository; /* "library/nginx" */
	char *tag;	  /* "latest" when neither tag nor digest given; NULL
			     when only a digest was given */
	char *digest;	  /* "sha256:<hex>" or NULL */
} pg_image_ref;

/*
 * Parse and normalise s.  *out is heap-owned by the caller (pg_ref_free).
 * PG_EINVAL with a message "invalid image reference \"s\": <why>".
 */
int pg_ref_parse_image(pg_image_ref **out, const char *s, pg_err *err);

/*
 * An OCI artifact named by a URL without its "oci://": "host[:port]/path
 * [:tag][@digest]".  The first component is the registry whatever its shape
 * ("zot/app:1.0.0" is on the host zot, not docker.io/zot/app) and no
 * "library/" is added: how Helm and Argo CD (ORAS) read an oci:// URL.
 * Otherwise as pg_ref_parse_image.
 */
int pg_ref_parse_oci(pg_image_ref **out, const char *s, pg_err *err);

/* Frees r and its strings; NULL is fine. */
void pg_ref_free(pg_image_ref *r);

/*
 * Chart references, as found in Argo CD, Flux and Helm release objects.
 * location is what chart rules match against:
 *   HTTP repo:  "<repo_url>/<name>"              (repo_url without trailing /)
 *   OCI:        "oci://host/path/<name>:<version>"  (version may be absent)
 *   RELEASE:    "release://<name>" (rules are found by chartNames instead)
 */
typedef enum {
	PG_CHART_REPO = 1,    /* classic https chart repository (index.yaml) */
	PG_CHART_OCI = 2,     /* OCI registry */
	PG_CHART_RELEASE = 3, /* Helm release Secret: content, no origin */
} pg_chart_kind;

typedef struct pg_chart_ref {
	pg_chart_kind kind;
	char *repo_url; /* "https://charts.example.com/sub" or "oci://host/path";
			   NULL for RELEASE */
	char *name;	/* chart name */
	char *version;	/* exact version or semver range; NULL = newest */
	char *location; /* see above */
	char *source;	/* Flux sourceRef to resolve through the Kubernetes API,
			   "Kind/namespace/name", or NULL when repo_url is known */
	char *release;	/* RELEASE: the raw data.release value (base64) */
	size_t release_len;
	bool range;	      /* version is a range the GitOps tool re-resolves
				 later (or absent: newest), not one pinned version */
	const char *range_by; /* who re-resolves it ("Argo CD", "Flux"), static */
} pg_chart_ref;

/*
 * Chart repository URLs (RFC 3986), as they are matched, fetched and logged.
 * Longest URL accepted: far above any real repository URL.
 */
#define PG_URL_MAX 2048
/* Longest URL we build (an index entry resolved against its repository, a
 * redirect's Location) or fetch: beyond this it is not one we follow. */
#define PG_URL_FETCH_MAX 8192

/*
 * Parse and normalise an https://, http:// or oci:// URL: refuses userinfo,
 * query, fragment, backslash, percent-encoding, non-ASCII, bad host or port;
 * lower-cases scheme and host, drops the default port (443, http 80),
 * removes dot segments and trailing '/'.  *out malloc'd.  PG_EINVAL with
 * "invalid URL ...: why".
 */
int pg_url_normalize(char **out, const char *s, pg_err *err);

/* Is v one exact version (strict semver X.Y.Z[-pre][+build], optional
 * leading 'v'), as opposed to a range, a partial version or nothing? */
bool pg_chart_version_exact(const char *v);

/* Build a chart ref; copies every string.  repo_url may be given with or
 * without a trailing '/', an OCI one with or without "oci://"; it is
 * normalised with pg_url_normalize (PG_EINVAL when it does not parse), so
 * the location matched is the URL fetched.  For OCI the location is
 * repo_url/name:version, or repo_url/name@sha256:... for a digest. */
int pg_chart_ref_new(pg_chart_ref **out, pg_chart_kind kind, const char *repo_url, const char *name,
		     const char *version, pg_err *err);
void pg_chart_ref_free(pg_chart_ref *c);

#endif
