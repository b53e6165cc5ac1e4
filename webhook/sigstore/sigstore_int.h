/*
 * sigstore_int.h — internals shared by the files of webhook/sigstore/.
 * Nothing outside this folder includes it: OpenSSL types stay here.
 *
 *   enc.c      base64, hex, RFC 3339 times, bounded JSON helpers
 *   trust.c    trusted_root.json
 *   key.c      public keys and signature checks
 *   cert.c     X.509: chain at a time, SAN, Fulcio issuer, EKU, SCT
 *   tlog.c     Rekor: SET, Merkle inclusion, signed checkpoints, entry bodies
 *   tsa.c      RFC 3161 timestamps
 *   bundle.c   Sigstore bundles
 *   cosign.c   cosign legacy simple-signing layers
 */
#ifndef PG_SIGSTORE_INT_H
#define PG_SIGSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf/buf.h"
#include "digest/digest.h"
#include "json/json.h"
#include "err/err.h"
#include "sigstore/sigstore.h"

/* Longest certificate chain we accept anywhere (trusted root or
 * annotation): Fulcio and TSAs use 2-3; 8 leaves room for private PKI. */
#define PG_CHAIN_MAX 8
/* Entries per trusted-root list and tlog entries per bundle: production
 * has fewer than 10 of each. */
#define PG_TRUST_LIST_MAX 64
#define PG_TLOG_ENTRIES_MAX 16
/* Merkle audit path: a tree of 2^64 leaves needs 64 hashes. */
#define PG_MERKLE_PATH_MAX 64
/* A checkpoint note is a few hundred bytes; cosigned ones a little more. */
#define PG_CHECKPOINT_MAX 8192
/* Signature lines per checkpoint we look at. */
#define PG_CHECKPOINT_SIGS_MAX 16
/* SANs per certificate we collect (Fulcio issues exactly one). */
#define PG_SAN_MAX 16

/* ---- enc.c ---- */

/* base64 as sigstore's JSON carries it (buf's codec): proto3 JSON accepts
 * the standard and the URL-safe alphabet, padding optional, strict trailing
 * bits; whitespace only where cosign wraps (annotations, RFC 3161). */
#define PG_SIGSTORE_B64 (PG_B64_URLSAFE | PG_B64_NO_SPACE | PG_B64_STRICT)
#define PG_SIGSTORE_B64_WRAPPED (PG_B64_URLSAFE | PG_B64_STRICT)
/* Lower-case hex to bytes; exactly n bytes wanted. */
int pg_unhex(unsigned char *out, size_t n, const char *hex);
/* Seconds since the epoch of a UTC civil time (proleptic Gregorian). */
int64_t pg_civil_to_epoch(int64_t y, int mon, int d, int h, int mi, int s);
/* RFC 3339 UTC time ("2021-01-12T11:53:27Z", fraction allowed, "Z" or
 * "+00:00"); fractions are dropped. */
int pg_time_parse(int64_t *out, const char *s);
/* Time of an ASN1_TIME in seconds since the epoch. */
int pg_asn1_time_epoch(int64_t *out, const ASN1_TIME *t);

/* ---- key.c ---- */

/* Parse a PEM public key (SubjectPublicKeyInfo) or, failing that, a PEM
 * certificate's key.  Only the key types of sigstore.h are accepted. */
int pg_key_from_pem(EVP_PKEY **out, const char *pem, size_t len, pg_err *err);
/* The DER of a PEM text that holds exactly one block, named type and
 * without headers; *out OPENSSL_malloc'd.  PG_EINVAL for anything else. */
int pg_pem_only_block(unsigned char **out, size_t *out_len, const char *pem, size_t len,
		      const char *type);
/* DER SubjectPublicKeyInfo. */
int pg_key_from_der(EVP_PKEY **out, const unsigned char *der, size_t len, pg_err *err);
/* PG_OK when the key is ECDSA P-256/P-384/P-521, RSA >= 2048 or Ed25519. */
int pg_key_check_type(EVP_PKEY *key, pg_err *err);
bool pg_key_is_ed25519(EVP_PKEY *key);
/* The hash sigstore pairs with the key: SHA-384 for P-384, SHA-512 for
 * P-521, SHA-256 otherwise (NULL for Ed25519). */
const EVP_MD *pg_key_default_md(EVP_PKEY *key);
/* Verify sig over msg (hashing with md; Ed25519 signs msg itself). */
int pg_key_verify(EVP_PKEY *key, const EVP_MD *md, const unsigned char *msg, size_t len,
		  const unsigned char *sig, size_t sig_len);
/* Verify sig over a digest made with md (not possible for Ed25519). */
int pg_key_verify_digest(EVP_PKEY *key, const EVP_MD *md, const unsigned char *dgst,
			 size_t dgst_len, const unsigned char *sig, size_t sig_len);
/* DER SPKI of a key; *out malloc'd. */
int pg_key_spki(unsigned char **out, size_t *out_len, EVP_PKEY *key);

/* ---- trust.c ---- */

typedef struct pg_tlog {
	char *base_url;
	char *host;		  /* host of base_url: checkpoint name */
	unsigned char log_id[32]; /* logId.keyId */
	size_t log_id_len;
	EVP_PKEY *key;
	int64_t start, end; /* validFor, inclusive */
	bool has_end;
	/* Key hint of the log's checkpoint signatures (signed-note key ID for
	 * the name host), computed once by pg_tlog_prepare. */
	unsigned char hint[4];
	bool has_hint;
} pg_tlog;

/*
 * A certificate authority or TSA of the trusted root.  Everything here is
 * filled while the root is loaded and only read afterwards: the root is
 * shared by worker threads without a lock.
 *
 * pg_ca_prepare verifies, once, everything about chain that does not depend
 * on the signature being checked or on its time (the signatures between the
 * chain's own certificates, their extensions, path lengths).  When that
 * succeeds and cutting the path at chain[0] loses no check (see cert.c),
 * fast is set and a verification may anchor at chain[0]: for a Fulcio CA
 * the leaf is then verified against anchor (a store holding only chain[0]);
 * for a TSA chain[0] is the signing certificate itself.  The validity of
 * every certificate of chain is still checked at each verification's time.
 */
typedef struct pg_ca {
	STACK_OF(X509) * chain; /* leaf-to-anchor, last is the anchor */
	int64_t start, end;
	bool has_end;
	bool fast;
	X509_STORE *anchor; /* Fulcio CAs with fast: chain[0] as the only anchor */
} pg_ca;

/* What a pg_ca is used for: it decides the X.509 purpose checked. */
typedef enum pg_ca_kind { PG_CA_FULCIO, PG_CA_TSA } pg_ca_kind;

struct pg_trusted_root {
	pg_tlog *tlogs;
	size_t ntlogs;
	pg_tlog *ctlogs;
	size_t nctlogs;
	pg_ca *cas;
	size_t ncas;
	pg_ca *tsas;
	size_t ntsas;
};

/* Log (tlog or ctlog) with this id, or NULL. */
const pg_tlog *pg_trust_find_log(const pg_tlog *logs, size_t n, const unsigned char *id,
				 size_t id_len);
bool pg_trust_valid_at(int64_t start, int64_t end, bool has_end, int64_t t);
/* Fill the load-time caches of a log whose key and host are set. */
void pg_tlog_prepare(pg_tlog *l);

/* ---- cert.c ---- */

int pg_cert_from_der(X509 **out, const unsigned char *der, size_t len, pg_err *err);
/* Load-time checks of a CA's own chain (see pg_ca above): sets ca->fast and
 * ca->anchor.  A chain that does not verify is not an error here (it fails
 * each verification, as before); PG_ENOMEM is. */
int pg_ca_prepare(pg_ca *ca, pg_ca_kind kind);
/* The validity of every certificate of chain at t as OpenSSL judges it
 * (notBefore <= t < notAfter). */
bool pg_certs_valid_at_openssl(STACK_OF(X509) * chain, int64_t t);
/* Every certificate of a PEM text, at most PG_CHAIN_MAX. */
int pg_certs_from_pem(STACK_OF(X509) * *out, const char *pem, size_t len, pg_err *err);
bool pg_cert_self_signed(X509 *c);
/* DER of a certificate; *out malloc'd. */
int pg_cert_der(unsigned char **out, size_t *out_len, X509 *c);
/* Chain leaf to one of the root's CAs valid at t, every certificate of
 * the path valid at t (inclusive, as Go's x509), EKU codeSigning if the
 * leaf has an EKU.  hints (may be NULL) are extra untrusted intermediates
 * that came with the signature: they can complete a path, never anchor it.
 * *issuer_out (may be NULL) gets a reference to the leaf's issuer, for SCTs. */
int pg_cert_verify_ca(X509 **issuer_out, const pg_trusted_root *r, X509 *leaf,
		      STACK_OF(X509) * hints, int64_t t, pg_err *err);
/* Same against an explicit anchor set: untrusted may be NULL. */
int pg_cert_verify_chain(X509 **issuer_out, STACK_OF(X509) * anchors, STACK_OF(X509) * untrusted,
			 X509 *leaf, int64_t t, bool need_codesign, pg_err *err);
/* All SANs (email, URI, DNS, IP as text, OtherName UTF8) as malloc'd
 * strings; *n_out of them. */
int pg_cert_sans(char ***out, size_t *n_out, X509 *c);
void pg_strv_free(char **v, size_t n);
/* Fulcio OIDC issuer: OID 1.3.6.1.4.1.57264.1.8 (UTF8String), else 1.1
 * (raw bytes).  *out malloc'd or NULL when absent. */
int pg_cert_fulcio_issuer(char **out, X509 *c);
/* Identity and issuer demands of t against the certificate; PG_EVERIFY
 * with a reason.  *signer_out (may be NULL) gets "SAN (issuer)". */
int pg_cert_check_identity(char **signer_out, X509 *c, const pg_sig_trust *t, pg_err *err);
/* At least one embedded SCT from a trusted ctlog verifies.  leaf is
 * changed and changed back while its precertificate is encoded: it must be
 * the caller's own (per-verification) certificate, not shared. */
int pg_cert_verify_sct(const pg_trusted_root *r, X509 *leaf, X509 *issuer, pg_err *err);
bool pg_cert_valid_at(X509 *c, int64_t t);

/* ---- claims.c ---- */

/* Every Fulcio claim (sigstore.h PG_CLAIM_*) the certificate carries, as
 * malloc'd strings (NULL when absent).  PG_EINVAL for a malformed or
 * repeated claim extension (out is then all NULL). */
int pg_cert_fulcio_claims(char *out[PG_CLAIM_N], X509 *c);

/* ---- tlog.c ---- */

/* RFC 8785 SET payload and its check with the log's key. */
int pg_set_canonical(char **out, const char *body_b64, int64_t integrated_time,
		     const unsigned char *log_id, size_t log_id_len, int64_t log_index);
int pg_set_verify(const pg_tlog *log, const char *body_b64, int64_t integrated_time,
		  int64_t log_index, const unsigned char *set, size_t set_len, pg_err *err);
/* RFC 9162 §2.1.3.2 inclusion. */
int pg_merkle_verify(const unsigned char leaf_hash[32], uint64_t index, uint64_t size,
		     const unsigned char (*path)[32], size_t path_len,
		     const unsigned char root[32]);
void pg_merkle_leaf(unsigned char out[32], const unsigned char *p, size_t n);

typedef struct pg_checkpoint {
	char origin[256];
	uint64_t size;
	unsigned char root[32];
	size_t body_len; /* bytes of the note text that are signed */
} pg_checkpoint;

/* Parse the note text (origin, size, root hash) of a signed checkpoint. */
int pg_checkpoint_parse(pg_checkpoint *out, const char *env, size_t len, pg_err *err);
/* Parse and verify: one signature line named after the log host with the
 * log's key hint must verify. */
int pg_checkpoint_verify(pg_checkpoint *out, const pg_tlog *log, const char *env, size_t len,
			 pg_err *err);

/* What a tlog entry body must agree with. */
typedef struct pg_entry_expect {
	const unsigned char *sig; /* raw signature bytes */
	size_t sig_len;
	const unsigned char *signer_der; /* leaf cert DER, or ... */
	size_t signer_der_len;
	bool signer_is_cert;		 /* ... SPKI DER when false */
	const unsigned char *digest;	 /* sha256 of artifact (hashedrekord) */
	const unsigned char *pae_digest; /* sha256(PAE) for v0.0.2 DSSE */
	const unsigned char *payload;	 /* DSSE payload bytes, or NULL */
	size_t payload_len;
	/* sha256 of the DSSE envelope's exact bytes, when they are known (a
	 * cosign legacy .att layer): what an intoto v0.0.1 entry commits to. */
	const unsigned char *envelope_digest;
} pg_entry_expect;

int pg_entry_body_check(const char *kind, const char *version, const unsigned char *body,
			size_t body_len, const pg_entry_expect *x, pg_err *err);

/* ---- tsa.c ---- */

/* Verify an RFC 3161 TimeStampResp against the root's TSAs, its message
 * imprint over data; *time_out gets genTime. */
int pg_tsa_verify(int64_t *time_out, const pg_trusted_root *r, const unsigned char *tsr,
		  size_t tsr_len, const unsigned char *data, size_t data_len, pg_err *err);

/* Move n bytes of OpenSSL-allocated DER at p (from an i2d_* call that
 * returned n) into a malloc'd *out, freeing p.  PG_EINTERNAL when n <= 0,
 * PG_ENOMEM. */
int pg_der_take(unsigned char **out, size_t *out_len, unsigned char *p, int n);

#endif
