/*
 * notation_int.h — internals shared by the files of webhook/notation/.
 * Nothing outside this folder includes it (the fuzz targets and unit tests
 * do, to reach the parsers): OpenSSL types stay here.
 *
 *   cbor.c     a small bounded CBOR decoder (COSE needs no more)
 *   envelope.c JWS (flattened JSON) and COSE_Sign1 envelopes -> nv_env
 *   cert.c     keys, algorithms, the spec's certificate-chain rules, DNs
 *   tst.c      RFC 3161 timestamp countersignatures
 *   policy.c   trustpolicy(.oci|.blob).json and the trust-store directories
 *   verify.c   the verification steps and levels
 */
#ifndef PG_NOTATION_INT_H
#define PG_NOTATION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err/err.h"
#include "digest/digest.h"
#include "notation/notation.h"

/* Certificates in an envelope's chain: notation signs with leaf..root,
 * private PKIs use 2-4; 10 is generous and bounds the work. */
#define NV_CHAIN_MAX 10
/* CBOR nesting we follow: a COSE_Sign1 is 3 deep (array > map > array). */
#define NV_CBOR_DEPTH_MAX 16
/* Entries of one CBOR map or array we accept (a protected header has < 20). */
#define NV_CBOR_ITEMS_MAX 256
/* crit entries. */
#define NV_CRIT_MAX 32

/* ---- cbor.c ---- */

enum {
	NV_CBOR_UINT = 0,
	NV_CBOR_NINT = 1,
	NV_CBOR_BSTR = 2,
	NV_CBOR_TSTR = 3,
	NV_CBOR_ARRAY = 4,
	NV_CBOR_MAP = 5,
	NV_CBOR_TAG = 6,
	NV_CBOR_SIMPLE = 7,
};

typedef struct nv_cbor {
	const unsigned char *p, *end;
} nv_cbor;

/* One data item's head: major type, argument; for strings *ptr points at
 * the bytes (arg of them, already bounds-checked).  Indefinite lengths,
 * reserved values and truncation are PG_EINVAL. */
int nv_cbor_head(nv_cbor *c, int *major, uint64_t *arg, const unsigned char **ptr);
/* Skip one whole data item (depth-bounded). */
int nv_cbor_skip(nv_cbor *c, int depth);
/* Peek the major type of the next item, or -1 at the end. */
int nv_cbor_peek(const nv_cbor *c);

/* ---- envelope.c ---- */

typedef enum nv_alg {
	NV_ALG_NONE = 0,
	NV_PS256,
	NV_PS384,
	NV_PS512,
	NV_ES256,
	NV_ES384,
	NV_ES512,
} nv_alg;

/* What the verifier needs from a parsed envelope.  Every field owned. */
typedef struct nv_env {
	nv_alg alg;
	char *cty;
	char *scheme;
	bool has_signing_time, has_auth_time, has_expiry;
	int64_t signing_time, auth_time, expiry;
	char *plugin;	    /* io.cncf.notary.verificationPlugin, or NULL */
	char *unknown_crit; /* first critical header we do not know, or NULL */
	unsigned char *payload;
	size_t payload_len;
	unsigned char *tbs; /* the exact bytes the signature covers */
	size_t tbs_len;
	unsigned char *sig; /* raw signature (ECDSA: r||s) */
	size_t sig_len;
	STACK_OF(X509) * chain; /* leaf first */
	unsigned char *tst;	/* timestamp token (CMS ContentInfo DER) */
	size_t tst_len;
	char *agent; /* signingAgent, informative */
} nv_env;

void nv_env_free(nv_env *e);
int nv_jws_parse(nv_env *out, const unsigned char *in, size_t len, pg_err *err);
int nv_cose_parse(nv_env *out, const unsigned char *in, size_t len, pg_err *err);
/* RFC 3339 with "Z" or a numeric offset; fractions dropped. */
int nv_time_parse(int64_t *out, const char *s);
void nv_time_format(char *out, size_t n, int64_t t);

/* ---- cert.c ---- */

/* The algorithm the spec derives from a key, NV_ALG_NONE if unsupported. */
nv_alg nv_alg_of_key(EVP_PKEY *k);
const char *nv_alg_name(nv_alg a);
/* Verify sig over msg with the leaf key under alg (PSS salt = hash length,
 * ECDSA r||s). */
int nv_sig_verify(EVP_PKEY *k, nv_alg a, const unsigned char *msg, size_t len,
		  const unsigned char *sig, size_t sig_len);
/* The spec's "Certificate Requirements" for a code-signing chain, without
 * time: order, signatures, self-signed root, CA/leaf extensions, key sizes,
 * no SHA-1. */
int nv_chain_check(STACK_OF(X509) * chain, pg_err *err);
int nv_cert_time(int64_t *not_before, int64_t *not_after, X509 *c);
int nv_asn1_time(int64_t *out, const ASN1_TIME *t);
/* Leaf subject as "CN=..,O=.." (one line, for messages). */
void nv_subject(char *out, size_t n, X509 *c);

/* A parsed x509.subject DN: attribute type (upper-case short name or
 * dotted OID) and value. */
typedef struct nv_rdn {
	char *type;
	char *value;
} nv_rdn;
typedef struct nv_dn {
	nv_rdn *v;
	size_t n;
} nv_dn;
/* Parse "C=US, ST=WA, O=x" with RFC 4514 escapes; C, ST, O required when
 * require_cso. */
int nv_dn_parse(nv_dn *out, const char *s, bool require_cso, pg_err *err);
void nv_dn_free(nv_dn *d);
/* The certificate's subject reads as one value per attribute type: no
 * type twice and no multi-valued RDN (notation parses the subject that way
 * and refuses any other).  false with why ("repeats O") when not. */
bool nv_subject_plain(X509 *c, char *why, size_t n);
/* Every RDN of want is in the certificate's subject (order-free); callers
 * check nv_subject_plain first. */
bool nv_dn_match(const nv_dn *want, X509 *c);

/* ---- tst.c ---- */

/* Verify an RFC 3161 TimeStampToken: signature and chain to one of roots
 * at genTime, ESS signing-certificate-v2, TSA leaf rules, imprint over
 * data.  lo and hi get genTime -/+ accuracy. */
int nv_tst_verify(int64_t *lo, int64_t *hi, const unsigned char *tst, size_t tst_len,
		  STACK_OF(X509) * roots, const unsigned char *data, size_t data_len, pg_err *err);

/* ---- policy.c ---- */

typedef enum nv_action { NV_ENFORCE = 0, NV_LOG, NV_SKIP } nv_action;

typedef struct nv_store_ref {
	int type; /* one of PG_NOTATION_STORE_CA, _SA, _TSA */
	char *name;
} nv_store_ref;

/* One trust-policy statement, with its stores loaded. */
struct pg_notation_trust {
	char *name;
	char **scopes;
	size_t nscopes;
	bool blob;   /* from a blob trust policy: the digest is integrity */
	bool global; /* blob: globalPolicy */
	bool skip;   /* level skip */
	nv_action authenticity, timestamp, expiry, revocation;
	bool ts_after_expiry; /* verifyTimestamp afterCertExpiry */
	nv_store_ref *stores;
	size_t nstores;
	bool any_identity;
	nv_dn *ids;
	size_t nids;
	STACK_OF(X509) * ca, *sa, *tsa; /* loaded certificates */
	STACK_OF(X509_CRL) * crls;	/* CRLs given by the operator (air-gapped) */
	char *store_error;		/* a store failed to load: fail closed */
};

void nv_trust_free_fields(pg_notation_trust *t);
/* Append every CRL of a PEM text, or the one DER CRL p/len is, to dst
 * (at most NV_STORE_CERTS_MAX in dst).  PG_EINVAL when none is found,
 * PG_ETOOBIG, PG_ENOMEM. */
int nv_crls_add(STACK_OF(X509_CRL) * dst, const unsigned char *p, size_t len);

#endif
