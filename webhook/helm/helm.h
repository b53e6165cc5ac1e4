/*
 * helm — Helm chart provenance exactly as `helm verify` checks it, chart
 * repositories (index.yaml, version selection, URL resolution), and Helm
 * release Secrets (decoding and comparison with a verified archive).
 *
 * Ownership: every *out is the caller's and has a _free() that accepts NULL.
 * Inputs are borrowed for the duration of the call.  Nothing here keeps
 * global state; a pg_pgp and a pg_fetch are per-thread handles the caller
 * passes in.
 */
#ifndef PG_HELM_H
#define PG_HELM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "digest/digest.h"
#include "err/err.h"
#include "fetch/fetch.h"
#include "pgp/pgp.h"

/* Bounds, each with the reason for its size. */
/* Chart archives: real charts are KBs to a few MB; 16 MiB is far above any
 * published chart and keeps a hostile server from filling memory. */
#define PG_HELM_CHART_MAX ((size_t)16 << 20)
/* A .prov is Chart.yaml metadata plus one hash and one signature. */
#define PG_HELM_PROV_MAX ((size_t)1 << 20)
/* index.yaml of the largest public repositories is ~20 MB. */
#define PG_HELM_INDEX_MAX ((size_t)32 << 20)
/* Unpacked chart, total and per file: Helm's own loader limits
 * (MaxDecompressedChartSize 100 MiB, MaxDecompressedFileSize 5 MiB). */
#define PG_HELM_UNTAR_MAX ((size_t)100 << 20)
#define PG_HELM_UNTAR_FILE_MAX ((size_t)5 << 20)
/* Files in one chart archive. */
#define PG_HELM_UNTAR_FILES_MAX 10000
/* Release Secret data.release as found in the API object (Secrets are at
 * most 1 MiB in etcd; base64 adds a third). */
#define PG_HELM_RELEASE_B64_MAX ((size_t)2 << 20)
/* Release JSON after gunzip: a release holds one chart plus its rendered
 * manifest; 32 MiB is far above real ones and stops gzip bombs early. */
#define PG_HELM_RELEASE_JSON_MAX ((size_t)32 << 20)
/* Documents in one release's manifests: real releases hold tens to a few
 * hundred objects. */
#define PG_HELM_MANIFEST_DOCS_MAX 10000
/* A "# Source:" path: chart names and template paths are short. */
#define PG_HELM_SOURCE_MAX 1024
/* Subchart archives (charts/<sub>.tgz, at any depth) opened to find templates
 * named by a release manifest; and how deep subcharts nest. */
#define PG_HELM_SUBCHARTS_MAX 256
#define PG_HELM_SUBCHART_DEPTH_MAX 8

/* ---- provenance -------------------------------------------------------- */

/* The parsed plaintext of a .prov. */
typedef struct pg_helm_prov {
	char *name;    /* metadata "name", or NULL */
	char *version; /* metadata "version", or NULL */
	size_t nfiles;
	char **files; /* file names of the files: map */
	char **sums;  /* their values, "sha256:<hex>" as written */
} pg_helm_prov;

/*
 * Parse the signed plaintext: split on the first "\n...\n" (Helm's
 * parseMessageBlock), read the second part's "files:" map.  The metadata is
 * read for name/version but, as in Helm v4, does not have to be valid.
 * PG_EINVAL "message block must have at least two parts" etc.
 */
int pg_helm_prov_parse(pg_helm_prov **out, const char *plaintext, size_t len, pg_err *err);
void pg_helm_prov_free(pg_helm_prov *p);
/* The files: entry for name, or NULL. */
const char *pg_helm_prov_sum(const pg_helm_prov *p, const char *name);

/* A chart that verified. */
typedef struct pg_helm_verified {
	char **uids; /* "Signed by" lines */
	size_t nuids;
	char *fpr;		      /* signer's primary key fingerprint, upper-case hex */
	char hash[PG_SHA256_STR_MAX]; /* "sha256:<hex>" of the archive */
	char *name;		      /* from the provenance metadata, or NULL */
	char *version;
} pg_helm_verified;

/*
 * What `helm verify` does after reading the files: check the signature of
 * prov against rings (first), then that the sha256 of the exact archive
 * bytes equals the provenance entry for archive_name (the base name the
 * archive is saved under).  Errors carry Helm's texts:
 *   openpgp: signature made by unknown entity            (PG_EVERIFY)
 *   provenance does not contain a SHA for a file named "NAME"   (PG_EVERIFY)
 *   sha256 sum does not match for NAME: "sha256:E" != "sha256:A" (PG_EVERIFY)
 */
int pg_helm_verify(pg_helm_verified **out, pg_pgp *pgp, const pg_pgp_keyring *rings, size_t nrings,
		   const char *archive_name, const unsigned char *tgz, size_t tgz_len,
		   const char *prov, size_t prov_len, pg_err *err);
void pg_helm_verified_free(pg_helm_verified *v);

/* ---- versions ---------------------------------------------------------- */

/*
 * Does version satisfy constraint?  Masterminds semver v3 rules as Helm
 * uses them: = != > < >= <= ~ ~> ^, x, X and * wildcards, partial versions,
 * "a - b" ranges, "," or space for AND, "||" for OR; a prerelease version
 * only matches a constraint that itself names a prerelease.
 * Returns 1 (yes), 0 (no), or PG_EINVAL for an unparsable constraint
 * (message says so) or version.
 */
int pg_helm_semver_match(const char *constraint, const char *version, pg_err *err);

/* Compare two versions by semver precedence: <0, 0, >0.  Unparsable
 * versions sort below every valid one. */
int pg_helm_semver_cmp(const char *a, const char *b);

/* ---- repositories ------------------------------------------------------ */

/*
 * Resolve ref against the repository URL as Helm's ResolveReferenceURL:
 * an absolute ref is used as is; a relative one is resolved against
 * repo_url with a trailing "/" forced, and repo_url's query string is
 * carried over.  *out malloc'd.
 */
int pg_helm_url_resolve(char **out, const char *repo_url, const char *ref, pg_err *err);

/* The index.yaml URL of a repository (query string kept). */
int pg_helm_index_url(char **out, const char *repo_url, pg_err *err);

/*
 * Pick name's chart version from index.yaml bytes as Helm's IndexFile.Get:
 * entries sorted newest first; an exact version string wins, else the first
 * that satisfies the constraint (NULL or "" means any release).  *url_out
 * is the resolved chart URL, *version_out the version picked.
 * PG_ENOTFOUND: chart "NAME" [version "V"] not found in REPO repository.
 */
int pg_helm_index_resolve(char **url_out, char **version_out, const char *index, size_t len,
			  const char *repo_url, const char *name, const char *constraint,
			  pg_err *err);

typedef struct pg_helm_fetch_opts {
	const char *ca_file;	 /* extra CA bundle for https, or NULL */
	pg_fetch_guard_fn guard; /* SSRF guard for every host, or NULL */
	void *guard_ctx;
	int64_t deadline; /* absolute pg_clock_ms(); 0: fetch's default */
} pg_helm_fetch_opts;

/* An archive and its provenance, as downloaded. */
typedef struct pg_helm_download {
	char *url;	    /* chart URL */
	char *archive_name; /* base name the archive is saved under */
	unsigned char *tgz;
	size_t tgz_len;
	char *prov;
	size_t prov_len;
	char *name;    /* the chart asked for (repository: the name looked up;
			  OCI: the repository's last component), or NULL */
	char *version; /* the version resolved (index entry picked, OCI tag;
			  OCI by digest: the archive's own), or NULL */
} pg_helm_download;

/* Fetch url and url + ".prov" (https, bounded).  PG_EFETCH etc. */
int pg_helm_download_url(pg_helm_download **out, pg_fetch *f, const char *url,
			 const pg_helm_fetch_opts *o, pg_err *err);

/* index.yaml of repo_url, resolve name/version, then pg_helm_download_url. */
int pg_helm_download_repo(pg_helm_download **out, pg_fetch *f, const char *repo_url,
			  const char *name, const char *version, const pg_helm_fetch_opts *o,
			  pg_err *err);

/*
 * An OCI chart "oci://host/repo/name:VERSION" (or @sha256:...): the
 * manifest's chart content layer and, when present, its provenance layer
 * (application/vnd.cncf.helm.chart.provenance.v1.prov), through the
 * registry client (auth, digests, bounds, guard: all of q).  The archive is
 * named NAME-VERSION.tgz, as Helm saves it and as its provenance names it.
 * A chart without a provenance layer has prov NULL.  PG_EVERIFY when the
 * artifact is not a Helm chart.
 */
struct pg_oci;
struct pg_oci_req;
int pg_helm_download_oci(pg_helm_download **out, struct pg_oci *oci, const struct pg_oci_req *q,
			 const char *ref, pg_err *err);

void pg_helm_download_free(pg_helm_download *d);

/*
 * The name and version of a chart archive's own Chart.yaml (as Helm's loader
 * finds it: <any top dir>/Chart.yaml, exactly one).  *name_out and
 * *version_out malloc'd.  PG_EVERIFY when there is none, or more than one.
 */
int pg_helm_chart_meta(char **name_out, char **version_out, const unsigned char *tgz, size_t len,
		       pg_err *err);

/* ---- release Secrets --------------------------------------------------- */

typedef struct pg_helm_release pg_helm_release;

/*
 * Decode a release Secret's data.release as it appears in the API object:
 * base64, base64 again, then gunzip (magic 1f 8b; otherwise the legacy
 * uncompressed JSON), every stage bounded (a gzip bomb stops at
 * PG_HELM_RELEASE_JSON_MAX with PG_ETOOBIG).
 */
int pg_helm_release_decode(pg_helm_release **out, const char *data, size_t len, pg_err *err);
void pg_helm_release_free(pg_helm_release *r);

/* Release name, chart name and version (borrowed from r; NULL if absent). */
const char *pg_helm_release_name(const pg_helm_release *r);
const char *pg_helm_release_chart_name(const pg_helm_release *r);
const char *pg_helm_release_chart_version(const pg_helm_release *r);

/*
 * Compare the release's chart with a verified archive: Chart.yaml fields
 * equal to chart.metadata, every template and file byte-equal (and none
 * missing on either side), values equal to values.yaml.  PG_EVERIFY
 * "release chart differs from the verified archive: <first file>".
 * Then the release's recorded manifests (what rollback/upgrade apply): every
 * object of `manifest` must name, in its "# Source:" line, a template of the
 * archive (<chart>/templates/..., or <chart>/charts/<sub>/templates/... of a
 * subchart, unpacked or as charts/<sub>.tgz), and every hook's `path` likewise.
 * PG_EVERIFY "release manifest: ..." otherwise.  What the objects contain is
 * not re-rendered (values are not proven).
 */
int pg_helm_release_match_archive(const pg_helm_release *r, const unsigned char *tgz, size_t len,
				  pg_err *err);

/*
 * Every object a release would apply, as a jansson array (caller's) of
 * {"source": <template path or null>, "hook": bool, "object": <document>}:
 * the documents of `manifest` (source from their "# Source:" line) and of
 * each `hooks[].manifest` (source: the hook's `path`).  Empty documents are
 * left out.  PG_EINVAL when a manifest is not a string or does not parse,
 * PG_ETOOBIG past PG_HELM_MANIFEST_DOCS_MAX.
 */
int pg_helm_release_objects(json_t **out, const pg_helm_release *r, pg_err *err);

/*
 * Split one rendered manifest (Helm's "---\n# Source: P\n<yaml>" stream)
 * and append {"source", "object"} per non-empty YAML document to out (a
 * jansson array).  Pieces are cut at every line that begins with "---";
 * every YAML document in a piece is kept.  PG_EINVAL on invalid YAML.
 */
int pg_helm_manifest_parse(json_t *out, const char *text, size_t len, pg_err *err);
/* The first YAML document of text as JSON, scalars typed as go-yaml v2
 * (sigs.k8s.io/yaml, what kubectl uses) types them, with the bounds of the
 * chart parser (depth, nodes).  For `provgate review` of a plain object.
 * *out json_decref'd by the caller. */
struct json_t;
int pg_helm_yaml_to_json(struct json_t **out, const char *text, size_t len, pg_err *err);

#endif
