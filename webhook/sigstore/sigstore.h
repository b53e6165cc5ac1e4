/*
 * sigstore — offline verification of cosign signatures and Sigstore bundles
 * (OpenSSL only; never touches the network).
 *
 *  - cosign legacy "simple signing" layers: signature over the payload bytes
 *    with a public key, or with a Fulcio certificate chained to a trusted
 *    root; payload's critical.image.docker-manifest-digest must equal the
 *    admitted digest; Rekor SET (dev.sigstore.cosign/bundle) checked against
 *    the log key chosen by logID.
 *  - Sigstore bundles v0.1–v0.3: message signatures and DSSE, inclusion
 *    proofs and signed checkpoints, SETs, RFC 3161 timestamps.
 *  - trusted_root.json with validity windows.
 *
 * Keys: ECDSA P-256/P-384, RSA PKCS#1 v1.5 SHA-256, Ed25519 (PEM SPKI).
 */
#ifndef PG_SIGSTORE_H
#define PG_SIGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "digest/digest.h"
#include "err/err.h"

/* Bounds on what we parse: a bundle or trusted root larger than this is not
 * one (the public-good trusted_root.json is ~10 KiB). */
#define PG_SIGSTORE_JSON_MAX ((size_t)4 << 20)

typedef struct pg_trusted_root pg_trusted_root;

/* Parse trusted_root.json. *out owned by caller. */
int pg_trusted_root_load(pg_trusted_root **out, const char *json, size_t len, pg_err *err);
void pg_trusted_root_free(pg_trusted_root *r);
/* How many transparency logs (Rekor) and certificate authorities (Fulcio)
 * the root lists: a rule that requires a tlog, or a keyless rule, needs
 * at least one. */
size_t pg_trusted_root_ntlogs(const pg_trusted_root *r);
size_t pg_trusted_root_ncas(const pg_trusted_root *r);

/* Load-time check of a cosign public key (policy trust.keys): PEM SPKI (or
 * a certificate's key) of a type sigstore.h accepts.  PG_EINVAL with why. */
int pg_sigstore_key_check(const char *pem, size_t len, pg_err *err);

/* What one cosign verifier of a rule demands. */
typedef struct pg_sig_trust {
	const char *key_pem; /* key mode: PEM SPKI, or NULL */
	size_t key_len;
	const pg_trusted_root *root; /* keyless and tlog: CAs, Rekor, CT, TSA */
	const char *identity;	     /* keyless: exact SAN, or NULL */
	const char *identity_regexp; /* keyless: POSIX ERE on the SAN */
	const char *issuer;	     /* keyless: exact OIDC issuer */
	const char *issuer_regexp;
	bool tlog_required; /* a valid SET / inclusion proof needed */
	bool ignore_sct;    /* keyless without CT (private PKI) */
	bool dsse_only;	    /* bundles: refuse a messageSignature; the
			       content must be a DSSE in-toto statement
			       (images and OCI charts, as cosign v3) */
} pg_sig_trust;

/*
 * Verify one cosign legacy signature layer.
 *   payload/payload_len: the layer blob (exactly the signed bytes)
 *   annotations: the layer descriptor's annotations object
 *   expected_digest: "sha256:<hex>" of the admitted image manifest
 * On success *signer_out (malloc'd) says who signed ("key", or the SAN and
 * issuer).  PG_EVERIFY with a reason on any mismatch.
 */
int pg_cosign_verify_legacy(char **signer_out, const unsigned char *payload, size_t payload_len,
			    const json_t *annotations, const char *expected_digest,
			    const pg_sig_trust *t, pg_err *err);

/*
 * Verify a Sigstore bundle (JSON text).  The artifact is given either as
 * bytes (artifact != NULL) or as its digest "sha256:<hex>".  For DSSE
 * in-toto bundles the statement's subject digest must equal it.
 * Every tlog entry present must verify (SET in v0.1, inclusion proof and
 * signed checkpoint from v0.2); with tlog_required at least one entry must
 * exist.  At least one verified time is always needed: an integrated
 * time counts only when its entry's SET verified, otherwise an RFC 3161
 * timestamp from a trusted TSA; keyless certificates are checked at each.
 * Regexps are POSIX ERE matched anywhere in the value, as cosign and
 * sigstore-go (Go regexp.MatchString) do: anchor them with ^...$.
 * On success *signer_out (malloc'd) is "key" or "SAN (issuer)".
 * PG_EVERIFY with a reason; PG_EINVAL for a malformed artifact digest.
 */
int pg_sigstore_verify_bundle(char **signer_out, const char *bundle_json, size_t bundle_len,
			      const unsigned char *artifact, size_t artifact_len,
			      const char *artifact_digest, const pg_sig_trust *t, pg_err *err);

/* ---- attestations (DSSE bundles whose statement the caller judges) ---- */

/* The Fulcio certificate claims, OIDs 1.3.6.1.4.1.57264.1.8 to .22 (the
 * issuer falls back to 1.1 when 1.8 is absent).  Names are Fulcio's. */
enum {
	PG_CLAIM_ISSUER,			     /* 1.8 (or 1.1) */
	PG_CLAIM_BUILD_SIGNER_URI,		     /* 1.9 */
	PG_CLAIM_BUILD_SIGNER_DIGEST,		     /* 1.10 */
	PG_CLAIM_RUNNER_ENVIRONMENT,		     /* 1.11 */
	PG_CLAIM_SOURCE_REPOSITORY_URI,		     /* 1.12 */
	PG_CLAIM_SOURCE_REPOSITORY_DIGEST,	     /* 1.13 */
	PG_CLAIM_SOURCE_REPOSITORY_REF,		     /* 1.14 */
	PG_CLAIM_SOURCE_REPOSITORY_IDENTIFIER,	     /* 1.15 */
	PG_CLAIM_SOURCE_REPOSITORY_OWNER_URI,	     /* 1.16 */
	PG_CLAIM_SOURCE_REPOSITORY_OWNER_IDENTIFIER, /* 1.17 */
	PG_CLAIM_BUILD_CONFIG_URI,		     /* 1.18 */
	PG_CLAIM_BUILD_CONFIG_DIGEST,		     /* 1.19 */
	PG_CLAIM_BUILD_TRIGGER,			     /* 1.20 */
	PG_CLAIM_RUN_INVOCATION_URI,		     /* 1.21 */
	PG_CLAIM_SOURCE_REPOSITORY_VISIBILITY,	     /* 1.22 */
	PG_CLAIM_N
};

/* "issuer", "buildSignerURI", ... for an index; NULL when out of range. */
const char *pg_claim_name(int i);
/* Index of a claim name (exact, as the policy and CLI spell it), or -1. */
int pg_claim_index(const char *name);

/* What a verified DSSE envelope leaves for the statement checks.  The
 * payload is authenticated (signature, log entry, time, certificate chain
 * and identity all verified); nothing in it is checked yet. */
typedef struct pg_dsse_result {
	char *payload_type;
	unsigned char *payload; /* NUL-terminated one past payload_len */
	size_t payload_len;
	char *signer;				 /* "key" or "SAN (issuer)" */
	int bundle_minor;			 /* 0.<minor>; 0 for a cosign legacy layer */
	size_t ntlog, ntsa;			 /* verified log entries and RFC 3161 stamps */
	char *claims[PG_CLAIM_N];		 /* keyless: Fulcio claims present, else NULL */
	char envelope_digest[PG_SHA256_STR_MAX]; /* "sha256:" of the DSSE envelope JSON */
} pg_dsse_result;

void pg_dsse_result_free(pg_dsse_result *r);

/*
 * Verify a Sigstore bundle that holds a DSSE envelope (an attestation),
 * exactly as pg_sigstore_verify_bundle verifies one, except that the
 * in-toto subject is not compared here (the caller does it, sha256 or
 * sha512) and the authenticated-time rule holds: a Rekor integrated time
 * counts only when its SET (inclusion promise) verified; an entry proven
 * by an inclusion proof alone gives no time, and then an RFC 3161
 * timestamp from a trusted TSA must.  at > 0: the certificate must also be
 * valid at that instant (an operator's --at; never replaces a verified
 * time).  On success *out is filled (free with pg_dsse_result_free).
 */
int pg_sigstore_verify_dsse_bundle(pg_dsse_result *out, const char *bundle_json, size_t bundle_len,
				   int64_t at, const pg_sig_trust *t, pg_err *err);

/*
 * The same for a cosign legacy attestation layer (tag sha256-<hex>.att):
 * the layer blob is the DSSE envelope; the certificate, chain, Rekor
 * bundle (intoto 0.0.1/0.0.2 or dsse 0.0.1 entry) and RFC 3161 stamp come
 * as the layer's annotations.  bundle_minor is 0; envelope_digest is the
 * layer's digest.
 */
int pg_cosign_verify_legacy_dsse(pg_dsse_result *out, const unsigned char *layer, size_t layer_len,
				 const json_t *annotations, int64_t at, const pg_sig_trust *t,
				 pg_err *err);

#endif
