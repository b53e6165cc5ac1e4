/*
 * policy — the ProvenancePolicy model (DESIGN.md §5): loading from a
 * directory of YAML files with libyaml (strict: unknown fields and kinds are
 * errors naming file and line), merging every ProvenancePolicy document, and
 * matching references to rules (first matching rule wins).
 *
 * A loaded pg_policy is immutable and reference-counted so the server can
 * swap in a reloaded policy while reviews still hold the old one.
 * libyaml never leaves this module.
 */
#ifndef PG_POLICY_H
#define PG_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "attest/attest.h"
#include "digest/digest.h"
#include "err/err.h"

/* Bounds: YAML input per file and nesting depth, and file count per dir. */
#define PG_POLICY_FILE_MAX ((size_t)1 << 20)
#define PG_POLICY_DEPTH_MAX 32
#define PG_POLICY_FILES_MAX 256
/* Image and chart rules together, across all files: far above any real
 * policy, and it keeps loading (a name check per rule) and matching (every
 * rule per reference) cheap. */
#define PG_POLICY_RULES_MAX 10000

typedef enum { PG_MODE_ENFORCE = 0, PG_MODE_AUDIT = 1 } pg_mode;
typedef enum { PG_REQUIRE_ANY = 0, PG_REQUIRE_ALL = 1, PG_REQUIRE_ATLEAST = 2 } pg_require_kind;
typedef enum { PG_TLOG_REQUIRED = 0, PG_TLOG_OPTIONAL = 1 } pg_tlog;

typedef enum {
	PG_VERIFY_COSIGN_KEY = 1,     /* cosign: {key: NAME} */
	PG_VERIFY_COSIGN_KEYLESS = 2, /* cosign: {keyless: {...}} */
	PG_VERIFY_PROV = 3,	      /* prov: {keyring: NAME} */
	PG_VERIFY_NOTATION = 4,	      /* notation: {ca: [NAME], ...} or {config: DIR} */
	PG_VERIFY_GITHUB = 5,	      /* github: {owner, repo, ...}: keyless
					 with attestations, expanded at load */
} pg_verify_kind;

/* Named trust material.  Exactly one of path / inline_data is set. */
typedef struct pg_trust {
	char *name;
	char *path;	   /* file path as written in the policy */
	char *inline_data; /* inline PEM / armored key / JSON */
} pg_trust;

typedef struct pg_verifier {
	pg_verify_kind kind;
	const pg_trust *key;	 /* COSIGN_KEY: trust.keys entry */
	const pg_trust *keyring; /* PROV: trust.keyrings entry */
	const pg_trust *root;	 /* KEYLESS: trust.roots entry (may be NULL) */
	char *issuer;		 /* KEYLESS: exact issuer, or NULL */
	char *issuer_regexp;	 /* KEYLESS */
	char *subject;		 /* KEYLESS: exact SAN */
	char *subject_regexp;	 /* KEYLESS */
	size_t line;		 /* line of the verify entry in its file */
	/* NOTATION: the entry as written (certificates are trust.certs
	 * entries, nv_cert_types[i] one of PG_NOTATION_STORE_*), and what was
	 * built from it at load: nv_trust for an inline entry, nv_config for
	 * `config: DIR` (a notation configuration directory, imported as-is). */
	const pg_trust **nv_certs;
	int *nv_cert_types;
	size_t n_nv_certs;
	char **nv_identities;
	size_t n_nv_identities;
	char *nv_level;
	char *nv_verify_timestamp;
	char *nv_revocation;
	char *nv_config_dir;
	struct pg_notation_trust *nv_trust;
	struct pg_notation_config *nv_config;
	char nv_config_fp[PG_SHA256_HEX_MAX]; /* fingerprint of nv_config */
	/* Attestations that must all be present, each verified with this
	 * entry's key or identity (cosign `attestations`, and what a github
	 * entry expands to).  When there are any, they, not a plain image
	 * signature, satisfy the entry.  Strings owned by the policy. */
	pg_attest_req *attest;
	size_t n_attest;
} pg_verifier;

typedef struct pg_rule {
	char *name;
	bool is_chart; /* from spec.charts (else spec.images) */
	char **match;  /* globs, n_match of them */
	size_t n_match;
	pg_verifier *verify;
	size_t n_verify;
	pg_require_kind require;
	unsigned at_least; /* PG_REQUIRE_ATLEAST */
	pg_tlog tlog;
	bool require_digest;
	bool allow_unsigned;
	bool allow_version_ranges; /* charts: a version range (or "newest") is
				      resolved and verified now, with a warning
				      that later versions are not covered */
	char *repository;	   /* charts: where release Secrets' charts are fetched
				      (normalised URL, see pg_url_normalize) */
	char **chart_names;	   /* charts: globs on the chart name */
	size_t n_chart_names;
	/* sha256 hex over the rule's canonical form and the bytes of the
	 * trust material it uses */
	char fingerprint[PG_SHA256_HEX_MAX];
	const char *source_file; /* file the rule came from */
} pg_rule;

typedef struct pg_registry_cfg {
	char *host;
	char *ca_file;
	char *docker_config;
	bool plain_http;
} pg_registry_cfg;

typedef struct pg_policy pg_policy;

/*
 * Load every regular, non-hidden *.yaml / *.yml / *.json file of dir (the
 * ConfigMap mount: keys are files, "..data" links are skipped; other files
 * such as a README and subdirectories are ignored), in file-name order, and
 * merge all ProvenancePolicy documents.  Paths of trust material are read
 * now (relative paths are resolved against dir), so a missing key file is a
 * load error.  No ProvenancePolicy at all is an error.  *out has one
 * reference.
 * Errors: PG_EINVAL/PG_EIO/PG_ETOOBIG with "FILE:LINE: what is wrong".
 */
int pg_policy_load_dir(pg_policy **out, const char *dir, pg_err *err);

/* Load from a single in-memory YAML text (tests, fuzzing); name is used in
 * messages, relative trust paths are resolved against the working dir. */
int pg_policy_load_buffer(pg_policy **out, const char *name, const char *yaml, size_t len,
			  pg_err *err);

/* Load policy texts that are not files of a directory (`policy check` of a
 * file, a ConfigMap manifest or the chart's values): names[i] is used in
 * messages, relative trust paths are resolved against base_dir, and, when
 * root is set, absolute ones under root (in-cluster paths mapped to local
 * files).  what names the input for "no ProvenancePolicy found in". */
int pg_policy_load_texts(pg_policy **out, const char *const *names, const char *const *texts,
			 const size_t *lens, size_t n, const char *base_dir, const char *root,
			 const char *what, pg_err *err);

void pg_policy_ref(pg_policy *p);
void pg_policy_unref(pg_policy *p); /* NULL is fine */

pg_mode pg_policy_mode(const pg_policy *p);
bool pg_policy_exempt_namespace(const pg_policy *p, const char *ns);

/* First image rule whose match globs match the normalised reference, or
 * NULL.  Matching ignores nothing: the glob sees the whole normalised string
 * (registry/repo:tag@digest); a glob without ':' or '@' also matches the
 * reference with its tag/digest stripped. */
const pg_rule *pg_policy_match_image(const pg_policy *p, const char *normalized);

/* First chart rule matching a chart location ("https://host/path/name-1.0.tgz",
 * "oci://host/repo/name:1.0", or repo URL + "/" + name), or NULL.  The
 * location is a normalised URL (pg_url_normalize); scheme, host and path are
 * matched separately, so a '*' in a pattern's host only ever sees the host. */
const pg_rule *pg_policy_match_chart(const pg_policy *p, const char *location);

/* First chart rule with a repository whose chartNames match name (release
 * Secrets), or NULL. */
const pg_rule *pg_policy_match_chart_name(const pg_policy *p, const char *name);

/* Registry settings for host ("host" or "host:port"), or NULL. */
const pg_registry_cfg *pg_policy_registry(const pg_policy *p, const char *host);

/* Bytes of a trust entry's material (file content read at load or inline),
 * with length.  Valid while the policy is referenced. */
const char *pg_policy_trust_bytes(const pg_policy *p, const pg_trust *t, size_t *len);

/* Every registries[] entry, n of them (valid while p is referenced). */
const pg_registry_cfg *const *pg_policy_registries(const pg_policy *p, size_t *n);

/* The trust root to check transparency-log evidence of key-based cosign
 * rules with: the policy's only trust.roots entry, or NULL when it has
 * none or several (then such rules cannot require a tlog). */
const pg_trust *pg_policy_default_root(const pg_policy *p);

/* The files trust material was read from (resolved paths), n of them:
 * a server reloads the policy when one of them changes.  *out is
 * malloc'd (free it); the strings belong to p. */
int pg_policy_trust_files(const char ***out, size_t *n, const pg_policy *p);

/* Could any rule match a URL on this host?  (SSRF guard input.)  host is
 * "host" or "host:port" as in the reference, compared case-insensitively
 * and exactly (a port is part of the host) with the host part of every
 * match glob (scheme stripped; a host part with '*' is matched as a glob),
 * every chart repository and every registries[].host.  A rule for
 * docker.io also allows registry-1.docker.io, where its API lives. */
bool pg_policy_host_allowed(const pg_policy *p, const char *host);

/* Like pg_policy_host_allowed, but only host parts without '*' count: the
 * policy names this host itself.  Link-local and metadata addresses are
 * contacted only when named so (a "*" host glob must not reach them). */
bool pg_policy_host_named(const pg_policy *p, const char *host);

/* Glob match: '*' matches within one '/'-separated segment, '**' any run
 * including '/'.  Exposed for tests. */
bool pg_glob_match(const char *pattern, const char *s);

/* Load-time checks of trust content (verify/ does them; this room does not
 * parse keys): the i-th trust entry (i < pg_policy_n_trust), with its
 * category ("keys", "keyrings", "roots") and the file and line defining it. */
size_t pg_policy_n_trust(const pg_policy *p);
const pg_trust *pg_policy_trust_at(const pg_policy *p, size_t i, const char **cat,
				   const char **file, size_t *line);
/* The i-th image rule (chart false, i < pg_policy_n_images) or chart rule. */
const pg_rule *pg_policy_rule_at(const pg_policy *p, bool chart, size_t i);

/* Counts and names for `policy check` output. */
size_t pg_policy_n_images(const pg_policy *p);
size_t pg_policy_n_charts(const pg_policy *p);
size_t pg_policy_n_docs(const pg_policy *p);

#endif
