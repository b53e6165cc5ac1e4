/*
 * attest — what an attestation says, judged against what a rule asks:
 * the in-toto statement (v0.1, v1) inside a verified DSSE envelope, its
 * subject digest (sha256 or sha512) against the admitted digest, its
 * predicateType, SLSA provenance v0.2 / v1 fields, and conditions
 *
 *     {path: <JSON pointer into the statement>, equals|in|prefix|regExp}
 *     {cert: <Fulcio claim name>,              equals|in|prefix|regExp}
 *
 * all of which must hold.  Pure logic on bytes the sigstore room already
 * authenticated (signature, log, time, certificate chain, identity): no
 * crypto, no I/O.  Also the GitHub preset (`gh attestation verify`'s
 * --owner/--repo/--signer-workflow/--signer-repo/--source-ref/
 * --deny-self-hosted-runners) expanded into identity and claim conditions.
 *
 * Claim comparisons are exact, except sourceRepositoryURI and
 * sourceRepositoryOwnerURI, which GitHub treats case-insensitively (owner
 * and repository names): those compare ASCII case-insensitively for
 * equals/in/prefix.  Refs, digests, runner environment, workflow paths:
 * exact (a branch "MAIN" is not "main").
 */
#ifndef PG_ATTEST_H
#define PG_ATTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"
#include "sigstore/sigstore.h"

/* Conditions per requirement and values per `in` list. */
#define PG_ATTEST_CONDS_MAX 64
#define PG_ATTEST_IN_MAX 64
/* A condition value longer than this is refused (its JSON pointer is
 * bounded by json/'s PG_JSON_POINTER_MAX, the same 4 KiB). */
#define PG_ATTEST_VALUE_MAX 4096

#define PG_SLSA_V1 "https://slsa.dev/provenance/v1"
#define PG_SLSA_V02 "https://slsa.dev/provenance/v0.2"
#define PG_GITHUB_ISSUER "https://token.actions.githubusercontent.com"

typedef enum pg_cond_op {
	PG_COND_EQUALS,
	PG_COND_IN,
	PG_COND_PREFIX,
	PG_COND_REGEXP,
} pg_cond_op;

/* One condition: on the statement (path != NULL) or on a certificate
 * claim (path == NULL, claim = PG_CLAIM_*). */
typedef struct pg_attest_cond {
	const char *path;
	int claim;
	pg_cond_op op;
	const char *value;	   /* equals, prefix, regExp */
	const char *const *values; /* in */
	size_t nvalues;
} pg_attest_cond;

/* One attestation requirement of a rule. */
typedef struct pg_attest_req {
	const char *predicate_type; /* exact; NULL accepts any */
	const pg_attest_cond *conds;
	size_t nconds;
} pg_attest_req;

/* What admitted: for the audit log and the CLI.  malloc'd, may be NULL. */
typedef struct pg_attest_info {
	char *predicate_type;
	char *subject;	   /* name of the subject that matched */
	char *builder_id;  /* SLSA v1 runDetails.builder.id / v0.2 builder.id */
	char *source_repo; /* the certificate's, else the predicate's */
	char *source_ref;
} pg_attest_info;

void pg_attest_info_free(pg_attest_info *i);

/* PG_OK when a condition is well-formed (pointer syntax, claim name, op
 * operands, regexp compiles): for policy load and CLI parsing. */
int pg_attest_cond_check(const pg_attest_cond *c, pg_err *err);

/*
 * Judge a verified DSSE payload (application/vnd.in-toto+json):
 *   - a statement v0.1 or v1 with a subject list and a predicateType;
 *   - a subject whose digest[alg] equals digest ("sha256:hex"/"sha512:hex");
 *   - predicateType == req->predicate_type when set;
 *   - SLSA v1 with a GitHub workflow buildType, and SLSA v0.2 with a
 *     git+https://github.com/ configSource: the predicate's repository and
 *     ref must agree with the certificate's claims when both are present
 *     (a build cannot say it was built from something its certificate
 *     denies);
 *   - every condition holds (claims from the certificate; NULL when keyed).
 * info (may be NULL) is filled on success.  PG_EVERIFY with the reason
 * (which check failed first), PG_EINVAL for a malformed digest or
 * condition.
 */
int pg_attest_check(pg_attest_info *info, const unsigned char *payload, size_t len,
		    const char *digest, char *const claims[PG_CLAIM_N], const pg_attest_req *req,
		    pg_err *err);

/* The GitHub preset (`gh attestation verify`). */
typedef struct pg_github_preset {
	const char *owner;	     /* O */
	const char *repo;	     /* O/R */
	const char *signer_workflow; /* O/R/PATH (.github/workflows/x.yml) */
	const char *signer_repo;     /* O/R */
	const char *source_ref;	     /* refs/heads/main */
	bool deny_self_hosted;
} pg_github_preset;

/* What the preset expands to: keyless identity (a SAN regexp and the
 * GitHub issuer), predicate type SLSA v1 and claim conditions.  Owns its
 * strings; conds points into it. */
typedef struct pg_github_policy {
	char *identity_regexp;
	const char *issuer;
	const char *predicate_type;
	pg_attest_cond conds[4];
	size_t nconds;
	char *vals[4];
} pg_github_policy;

/* PG_EINVAL when neither owner nor repo is given, or a name is not a
 * GitHub name ([A-Za-z0-9._-], repo "O/R", workflow "O/R/path"). */
int pg_github_expand(pg_github_policy *out, const pg_github_preset *p, pg_err *err);
void pg_github_policy_free(pg_github_policy *g);

#endif
