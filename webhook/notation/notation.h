/*
 * notation — offline verification of Notary Project (Notation) signatures
 * (OpenSSL only; never touches the network).
 *
 *  - envelopes: JWS flattened JSON (application/jose+json) and
 *    COSE_Sign1_Tagged (application/cose), PS256/384/512 and ES256/384/512,
 *    the algorithm derived from the signing key and required to equal the
 *    envelope's;
 *  - both signing schemes, notary.x509 (ca stores, RFC 3161 timestamps from
 *    tsa stores) and notary.x509.signingAuthority (signingAuthority stores,
 *    authenticSigningTime);
 *  - the spec's certificate rules, trusted identities, expiry, the levels
 *    strict/permissive/audit/skip with override;
 *  - notation's configuration: trustpolicy.oci.json (or trustpolicy.json),
 *    trustpolicy.blob.json and truststore/x509/<type>/<name>/.
 *
 * Revocation is judged here, offline, on bytes: CRLs the operator gives
 * (pg_notation_spec, PG_NOTATION_CRL), and CRLs the caller fetched from a
 * certificate's CRL distribution points through a pg_notation_crl_src
 * callback (verify/crl.c does the fetching; this room never touches the
 * network).  Each CRL is checked (issuer name and signature, thisUpdate,
 * nextUpdate, the serial); a revoked certificate fails.  A certificate that
 * names an OCSP or CRL location and is covered by no current CRL has an
 * unknown status, which fails where revocation is enforced (strict) and is
 * logged otherwise, as the spec says for "revocation unavailable".  OCSP is
 * not asked (later); TSA-chain revocation is not checked.
 * Plugins are never run: a signature that needs one fails.
 */
#ifndef PG_NOTATION_H
#define PG_NOTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest/digest.h"
#include "err/err.h"

/* A signature envelope is a few KiB (a chain and a timestamp token);
 * notation-go refuses blobs above 32 MiB, we refuse far earlier. */
#define PG_NOTATION_ENVELOPE_MAX ((size_t)1 << 20)
/* A trust policy document is a few KiB. */
#define PG_NOTATION_POLICY_MAX ((size_t)1 << 20)

#define PG_NOTATION_MT_JWS "application/jose+json"
#define PG_NOTATION_MT_COSE "application/cose"
#define PG_NOTATION_ARTIFACT_TYPE "application/vnd.cncf.notary.signature"

enum { PG_NOTATION_STORE_CA = 0, PG_NOTATION_STORE_SA, PG_NOTATION_STORE_TSA };
/* Not a store: certificate revocation lists given as files (PEM or DER),
 * for clusters that cannot reach CRL distribution points. */
#define PG_NOTATION_CRL 3

/* One trust-policy statement with its certificates loaded; immutable after
 * loading and shared read-only between threads. */
typedef struct pg_notation_trust pg_notation_trust;
/* A whole notation configuration (every statement of one document). */
typedef struct pg_notation_config pg_notation_config;

/*
 * Load a notation configuration directory: for OCI artifacts
 * dir/trustpolicy.oci.json, else dir/trustpolicy.json; for blobs
 * dir/trustpolicy.blob.json.  Every statement's trust stores are read from
 * dir/truststore/x509/<type>/<name>/ (symlinks refused).  A store that
 * cannot be read makes its statement fail every verification (fail closed)
 * rather than the load.  *out owned by the caller.
 * PG_EIO (no policy file), PG_EINVAL (invalid document), PG_ENOMEM.
 */
int pg_notation_config_load(pg_notation_config **out, const char *dir, bool blob, pg_err *err);
void pg_notation_config_free(pg_notation_config *c);

/*
 * Parse and validate a trust policy document only (no stores).  blob
 * selects the blob rules (names and globalPolicy instead of scopes).
 * *out may be NULL to only validate.
 */
int pg_notation_config_parse(pg_notation_config **out, const char *json, size_t len, bool blob,
			     pg_err *err);

/*
 * The statement that applies: for OCI, repo is "registry/repository"
 * (exact scope first, then "*"); for blobs, the statement named name, or
 * the globalPolicy one when name is NULL (name is ignored for OCI).  The
 * result borrows from c.
 * PG_ENOTFOUND with a message when none applies.
 */
int pg_notation_config_select(const pg_notation_trust **out, const pg_notation_config *c,
			      const char *repo, const char *name, pg_err *err);

/* A trust statement written in provgate's own policy (a `notation:`
 * verifier entry): certificates come as bytes (PEM, or DER) instead of
 * store directories. */
typedef struct pg_notation_cert_src {
	int type;	   /* PG_NOTATION_STORE_CA, _SA, _TSA, or _CRL (CRLs) */
	const char *name;  /* the trust entry's name, for messages */
	const char *bytes; /* PEM (one or more certificates) or DER */
	size_t len;
} pg_notation_cert_src;

typedef struct pg_notation_spec {
	const char *name;	       /* for messages (the rule's name) */
	const char *level;	       /* strict | permissive | audit; NULL: strict */
	const char *verify_timestamp;  /* always | afterCertExpiry; NULL: always */
	const char *revocation;	       /* enforce | log | skip; NULL: the level's */
	const char *const *identities; /* "*" or "x509.subject: ..." */
	size_t n_identities;
	const pg_notation_cert_src *certs;
	size_t n_certs;
} pg_notation_spec;

/*
 * Build one trust statement from spec, validated as a trust-policy
 * statement is (level skip is refused here: a provgate rule that verifies
 * nothing is written allowUnsigned).  *out owned by the caller.
 * PG_EINVAL with a message naming what is wrong.
 */
int pg_notation_trust_new(pg_notation_trust **out, const pg_notation_spec *spec, pg_err *err);
void pg_notation_trust_free(pg_notation_trust *t);

/* sha256 hex (65 bytes with NUL) over a configuration's policy document
 * and every certificate it loaded: verdicts cached under a rule that
 * imports the configuration die when it changes. */
void pg_notation_config_fingerprint(char out[PG_SHA256_HEX_MAX], const pg_notation_config *c);

/* The descriptor of the artifact being admitted. */
typedef struct pg_notation_target {
	const char *media_type;
	const char *digest; /* "<alg>:<hex>" */
	int64_t size;
} pg_notation_target;

/* A user-metadata requirement (notation verify --user-metadata k=v). */
typedef struct pg_notation_kv {
	const char *key;
	const char *value;
} pg_notation_kv;

/* Step names as the spec spells them. */
#define PG_NOTATION_STEPS_LOG_MAX 2048

typedef struct pg_notation_outcome {
	bool skipped;				/* level skip: nothing verified */
	char signer[512];			/* leaf subject */
	const char *failed;			/* failing step name, or NULL */
	char logged[PG_NOTATION_STEPS_LOG_MAX]; /* failures only logged */
} pg_notation_outcome;

/*
 * Verify one envelope (media type PG_NOTATION_MT_JWS or _COSE) for target
 * under trust statement t at time now (seconds since the epoch), in the
 * spec's order: integrity, plugin/critical headers, authenticity,
 * expiry, authentic timestamp, revocation, target artifact, user metadata.
 * PG_OK when nothing enforced failed (out->logged lists what was only
 * logged; out->skipped when the level is skip).  PG_EVERIFY with
 * "<step>: <reason>" in err and out->failed set; PG_EINVAL for a bad
 * argument.
 */
int pg_notation_verify(pg_notation_outcome *out, const pg_notation_trust *t,
		       const char *env_media_type, const unsigned char *env, size_t env_len,
		       const pg_notation_target *target, const pg_notation_kv *meta, size_t nmeta,
		       int64_t now, pg_err *err);

/*
 * Where CRLs named by a certificate's distribution points come from: get
 * is called with an http:// or https:// URL taken from the certificate and
 * returns the bytes found there (DER or PEM) in *out (malloc'd, the
 * caller frees), or an error code with a message in err (the status is
 * then unavailable).  notation/ judges the bytes; get only fetches.
 */
typedef int (*pg_notation_crl_fn)(unsigned char **out, size_t *len, const char *url, pg_err *err,
				  void *ctx);
typedef struct pg_notation_crl_src {
	pg_notation_crl_fn get;
	void *ctx;
} pg_notation_crl_src;

/* Distribution-point URLs tried per certificate (a hostile chain names
 * many; each try may cost a fetch). */
#define PG_NOTATION_CDP_TRIES 4

/*
 * pg_notation_verify, with CRLs also taken from the distribution points of
 * the signing chain's certificates through crl (NULL: only the CRLs given
 * in t), for certificates no given, current CRL covers.
 */
int pg_notation_verify_crl(pg_notation_outcome *out, const pg_notation_trust *t,
			   const char *env_media_type, const unsigned char *env, size_t env_len,
			   const pg_notation_target *target, const pg_notation_kv *meta,
			   size_t nmeta, const pg_notation_crl_src *crl, int64_t now, pg_err *err);

/*
 * The nextUpdate of the CRL in der/len (DER, or PEM: the first CRL) as
 * seconds since the epoch, for caching it: PG_OK; PG_EINVAL when the bytes
 * are not a CRL or it has no nextUpdate.  Parses only; says nothing of
 * who signed it.
 */
int pg_notation_crl_next_update(int64_t *out, const unsigned char *der, size_t len);

/* The RFC 3339 time s as seconds since the epoch ("Z" or an offset). */
int pg_notation_time_parse(int64_t *out, const char *s);

#endif
