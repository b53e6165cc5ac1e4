/*
 * attest/attest — in-toto statements, SLSA provenance and the condition
 * language of attestation rules (attest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "attest/attest.h"
#include "buf/buf.h"
#include "json/json.h"
#include "re/re.h"

#define STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define STATEMENT_V01 "https://in-toto.io/Statement/v0.1"
/* Subjects we look at: a release names a few dozen files at most. */
#define SUBJECTS_MAX 1024

static const char *const gh_buildtypes[] = {
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
    "https://actions.github.io/buildtypes/workflow/v1",
};

void
pg_attest_info_free(pg_attest_info *i)
{
	if (i == NULL)
		return;
	free(i->predicate_type);
	free(i->subject);
	free(i->builder_id);
	free(i->source_repo);
	free(i->source_ref);
	memset(i, 0, sizeof(*i));
}

static bool
claim_folds(int claim)
{
	return claim == PG_CLAIM_SOURCE_REPOSITORY_URI ||
	       claim == PG_CLAIM_SOURCE_REPOSITORY_OWNER_URI;
}

int
pg_attest_cond_check(const pg_attest_cond *c, pg_err *err)
{
	const json_t *dummy;
	json_t *empty;
	size_t i;
	pg_re *re = NULL;
	int rc;

	if (c->path != NULL) {
		empty = json_object();
		rc = empty ? pg_json_pointer(&dummy, empty, c->path) : PG_ENOMEM;
		json_decref(empty);
		if (rc == PG_ENOMEM)
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		if (rc != PG_OK)
			return pg_err_set(err, PG_EINVAL,
					  "condition path \"%.200s\" is not a JSON pointer "
					  "(\"/predicate/...\")",
					  c->path);
	} else if (pg_claim_name(c->claim) == NULL) {
		return pg_err_set(err, PG_EINVAL, "condition names no certificate claim");
	}
	switch (c->op) {
	case PG_COND_IN:
		if (c->nvalues == 0 || c->nvalues > PG_ATTEST_IN_MAX)
			return pg_err_set(err, PG_EINVAL, "condition \"in\" needs 1 to %d values",
					  PG_ATTEST_IN_MAX);
		for (i = 0; i < c->nvalues; i++)
			if (c->values[i] == NULL || strlen(c->values[i]) > PG_ATTEST_VALUE_MAX)
				return pg_err_set(err, PG_EINVAL, "condition value too long");
		return PG_OK;
	case PG_COND_EQUALS:
	case PG_COND_PREFIX:
		if (c->value == NULL || strlen(c->value) > PG_ATTEST_VALUE_MAX)
			return pg_err_set(err, PG_EINVAL, "condition needs a value");
		if (c->op == PG_COND_PREFIX && c->value[0] == '\0')
			return pg_err_set(err, PG_EINVAL,
					  "condition prefix is empty (it would match anything)");
		return PG_OK;
	case PG_COND_REGEXP:
		if (c->value == NULL)
			return pg_err_set(err, PG_EINVAL, "condition needs a regexp");
		rc = pg_re_new(&re, c->value, err);
		pg_re_free(re);
		return rc == PG_OK ? PG_OK : pg_err_wrap(err, "condition regexp: ");
	}
	return pg_err_set(err, PG_EINVAL, "unknown condition operator");
}

static bool
same(const char *a, const char *b, bool fold)
{
	return fold ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* Whether the condition holds for the value s (NULL: absent). */
static int
cond_holds(bool *ok, const pg_attest_cond *c, const char *s, bool fold, pg_err *err)
{
	size_t i, n;
	pg_err rerr;

	*ok = false;
	if (s == NULL)
		return PG_OK;
	switch (c->op) {
	case PG_COND_EQUALS:
		*ok = c->value && same(s, c->value, fold);
		return PG_OK;
	case PG_COND_IN:
		for (i = 0; i < c->nvalues && !*ok; i++)
			*ok = c->values[i] && same(s, c->values[i], fold);
		return PG_OK;
	case PG_COND_PREFIX:
		n = c->value ? strlen(c->value) : 0;
		*ok = n > 0 &&
		      (fold ? strncasecmp(s, c->value, n) == 0 : strncmp(s, c->value, n) == 0);
		return PG_OK;
	case PG_COND_REGEXP:
		pg_err_clear(&rerr);
		if (pg_re_find(c->value, s, ok, &rerr) != PG_OK) {
			*ok = false;
			return pg_err_set(err, PG_EVERIFY, "condition regexp \"%.200s\" failed: %s",
					  c->value ? c->value : "", rerr.msg);
		}
		return PG_OK;
	}
	return pg_err_set(err, PG_EINVAL, "unknown condition operator");
}

static const char *
op_name(pg_cond_op op)
{
	switch (op) {
	case PG_COND_EQUALS:
		return "equals";
	case PG_COND_IN:
		return "in";
	case PG_COND_PREFIX:
		return "prefix";
	case PG_COND_REGEXP:
		return "regExp";
	}
	return "?";
}

/* The text a scalar is compared as: strings as they are, numbers and
 * booleans as their JSON text; objects, arrays and null never match. */
static char *
scalar_text(const json_t *v)
{
	char tmp[64];

	if (json_is_string(v)) {
		/* An embedded NUL would make two different strings compare equal. */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return NULL;
		return pg_strdup(json_string_value(v));
	}
	if (json_is_true(v))
		return pg_strdup("true");
	if (json_is_false(v))
		return pg_strdup("false");
	if (json_is_integer(v)) {
		(void)snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return pg_strdup(tmp);
	}
	return NULL;
}

static int
check_cond(const pg_attest_cond *c, const json_t *st, char *const claims[PG_CLAIM_N], pg_err *err)
{
	const json_t *v = NULL;
	char *s = NULL;
	const char *what;
	bool ok = false;
	int rc;

	rc = pg_attest_cond_check(c, err);
	if (rc != PG_OK)
		return rc;
	if (c->path != NULL) {
		(void)pg_json_pointer(&v, st, c->path);
		s = v ? scalar_text(v) : NULL;
		rc = cond_holds(&ok, c, s, false, err);
		what = c->path;
	} else {
		const char *cv = claims ? claims[c->claim] : NULL;

		rc = cond_holds(&ok, c, cv, claim_folds(c->claim), err);
		what = pg_claim_name(c->claim);
		if (rc == PG_OK && !ok) {
			rc = pg_err_set(
			    err, PG_EVERIFY,
			    "certificate claim %s is \"%.300s\", condition %s \"%.300s\" "
			    "does not hold",
			    what, cv ? cv : "(absent)", op_name(c->op),
			    c->value	 ? c->value
			    : c->nvalues ? c->values[0]
					 : "");
		}
		return rc;
	}
	if (rc == PG_OK && !ok)
		rc = pg_err_set(err, PG_EVERIFY,
				"statement %s is %s%.300s%s, condition %s \"%.300s\" does not hold",
				what, s ? "\"" : "",
				s   ? s
				: v ? "not a string"
				    : "absent",
				s ? "\"" : "", op_name(c->op),
				c->value     ? c->value
				: c->nvalues ? c->values[0]
					     : "");
	free(s);
	return rc;
}

/* The predicate's own account of its source: SLSA v1 GitHub workflow
 * (repository, ref), or v0.2 configSource "git+<repo>@<ref>".  *repo and
 * *ref malloc'd or NULL. */
static int
predicate_source(char **repo, char **ref, const json_t *st, const char *ptype)
{
	const char *bt, *uri, *at;
	size_t i;

	*repo = *ref = NULL;
	if (strcmp(ptype, PG_SLSA_V1) == 0) {
		bt = PG_JSON_STR_AT(st, "predicate", "buildDefinition", "buildType");
		for (i = 0; bt && i < sizeof(gh_buildtypes) / sizeof(gh_buildtypes[0]); i++) {
			if (strcmp(bt, gh_buildtypes[i]) != 0)
				continue;
			uri = PG_JSON_STR_AT(st, "predicate", "buildDefinition",
					     "externalParameters", "workflow", "repository");
			at = PG_JSON_STR_AT(st, "predicate", "buildDefinition",
					    "externalParameters", "workflow", "ref");
			if ((uri && (*repo = pg_strdup(uri)) == NULL) ||
			    (at && (*ref = pg_strdup(at)) == NULL))
				return PG_ENOMEM;
			return PG_OK;
		}
		return PG_OK;
	}
	if (strcmp(ptype, PG_SLSA_V02) == 0) {
		uri = PG_JSON_STR_AT(st, "predicate", "invocation", "configSource", "uri");
		if (uri == NULL || strncmp(uri, "git+https://github.com/", 23) != 0)
			return PG_OK;
		at = strchr(uri + 4, '@');
		*repo = at ? pg_strndup(uri + 4, (size_t)(at - (uri + 4))) : pg_strdup(uri + 4);
		if (*repo == NULL || (at && (*ref = pg_strdup(at + 1)) == NULL))
			return PG_ENOMEM;
	}
	return PG_OK;
}

static int
subject_match(char **name, const json_t *st, const char *digest, pg_err *err)
{
	const json_t *subj = json_object_get(st, "subject");
	char alg[8];
	const char *want = digest + 7;
	size_t i;

	memcpy(alg, digest, 6);
	alg[6] = '\0';
	*name = NULL;
	if (!json_is_array(subj) || json_array_size(subj) == 0)
		return pg_err_set(err, PG_EVERIFY, "statement has no subject");
	if (json_array_size(subj) > SUBJECTS_MAX)
		return pg_err_set(err, PG_EVERIFY, "statement has more than %d subjects",
				  SUBJECTS_MAX);
	for (i = 0; i < json_array_size(subj); i++) {
		const json_t *s = json_array_get(subj, i);
		const json_t *dg = json_object_get(s, "digest");
		const json_t *d = json_object_get(dg, alg);

		if (!json_is_object(s) || !json_is_object(dg))
			return pg_err_set(err, PG_EVERIFY, "statement subject %zu is malformed", i);
		if (json_is_string(d) && json_string_length(d) == strlen(want) &&
		    strcasecmp(json_string_value(d), want) == 0) {
			const char *n = pg_json_str(s, "name");

			*name = pg_strdup(n ? n : "");
			return *name ? PG_OK : pg_err_set(err, PG_ENOMEM, "out of memory");
		}
	}
	return pg_err_set(err, PG_EVERIFY, "no subject of the statement has digest %s", digest);
}

int
pg_attest_check(pg_attest_info *info, const unsigned char *payload, size_t len, const char *digest,
		char *const claims[PG_CLAIM_N], const pg_attest_req *req, pg_err *err)
{
	json_t *st = NULL;
	json_error_t je;
	const char *type, *ptype;
	char *subject = NULL, *prepo = NULL, *pref = NULL;
	const json_t *pred;
	pg_attest_info tmp;
	size_t i;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	if (info)
		memset(info, 0, sizeof(*info));
	if (!pg_digest_string_valid(digest))
		return pg_err_set(err, PG_EINVAL,
				  "digest must be sha256:<64 hex> or sha512:<128 hex>");
	if (req->nconds > PG_ATTEST_CONDS_MAX)
		return pg_err_set(err, PG_EINVAL, "more than %d conditions", PG_ATTEST_CONDS_MAX);
	if (len > PG_SIGSTORE_JSON_MAX)
		return pg_err_set(err, PG_ETOOBIG, "statement too large");
	st = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(st)) {
		rc = pg_err_set(err, PG_EVERIFY, "DSSE payload is not a JSON object: %s", je.text);
		goto out;
	}
	type = pg_json_str(st, "_type");
	if (type == NULL || (strcmp(type, STATEMENT_V1) != 0 && strcmp(type, STATEMENT_V01) != 0)) {
		rc =
		    pg_err_set(err, PG_EVERIFY, "DSSE payload is not an in-toto statement v0.1/v1");
		goto out;
	}
	ptype = pg_json_str(st, "predicateType");
	pred = json_object_get(st, "predicate");
	if (ptype == NULL || ptype[0] == '\0' || (pred != NULL && !json_is_object(pred))) {
		rc = pg_err_set(err, PG_EVERIFY, "statement has no predicateType");
		goto out;
	}
	rc = subject_match(&subject, st, digest, err);
	if (rc != PG_OK)
		goto out;
	if (req->predicate_type && strcmp(ptype, req->predicate_type) != 0) {
		rc = pg_err_set(err, PG_EVERIFY, "predicate type is %.300s, not %.300s", ptype,
				req->predicate_type);
		goto out;
	}
	if (predicate_source(&prepo, &pref, st, ptype) != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (claims && claims[PG_CLAIM_SOURCE_REPOSITORY_URI] && prepo &&
	    strcasecmp(claims[PG_CLAIM_SOURCE_REPOSITORY_URI], prepo) != 0) {
		rc = pg_err_set(err, PG_EVERIFY,
				"predicate says source repository %.300s, the certificate %.300s",
				prepo, claims[PG_CLAIM_SOURCE_REPOSITORY_URI]);
		goto out;
	}
	if (claims && claims[PG_CLAIM_SOURCE_REPOSITORY_REF] && pref &&
	    strcmp(claims[PG_CLAIM_SOURCE_REPOSITORY_REF], pref) != 0) {
		rc = pg_err_set(err, PG_EVERIFY,
				"predicate says source ref %.300s, the certificate %.300s", pref,
				claims[PG_CLAIM_SOURCE_REPOSITORY_REF]);
		goto out;
	}
	for (i = 0; i < req->nconds; i++) {
		rc = check_cond(&req->conds[i], st, claims, err);
		if (rc != PG_OK)
			goto out;
	}
	if (info) {
		const char *b = strcmp(ptype, PG_SLSA_V1) == 0
				    ? PG_JSON_STR_AT(st, "predicate", "runDetails", "builder", "id")
				    : PG_JSON_STR_AT(st, "predicate", "builder", "id");
		const char *cr = claims ? claims[PG_CLAIM_SOURCE_REPOSITORY_URI] : NULL;
		const char *cf = claims ? claims[PG_CLAIM_SOURCE_REPOSITORY_REF] : NULL;

		tmp.predicate_type = pg_strdup(ptype);
		tmp.subject = subject;
		subject = NULL;
		tmp.builder_id = b ? pg_strdup(b) : NULL;
		tmp.source_repo = cr ? pg_strdup(cr) : prepo;
		tmp.source_ref = cf ? pg_strdup(cf) : pref;
		if (!cr)
			prepo = NULL;
		if (!cf)
			pref = NULL;
		if (tmp.predicate_type == NULL || (b && !tmp.builder_id) ||
		    (cr && !tmp.source_repo) || (cf && !tmp.source_ref)) {
			pg_attest_info_free(&tmp);
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
		*info = tmp;
	}
	rc = PG_OK;
out:
	free(subject);
	free(prepo);
	free(pref);
	json_decref(st);
	return rc;
}

/* ---- the GitHub preset ---- */

void
pg_github_policy_free(pg_github_policy *g)
{
	size_t i;

	if (g == NULL)
		return;
	free(g->identity_regexp);
	for (i = 0; i < sizeof(g->vals) / sizeof(g->vals[0]); i++)
		free(g->vals[i]);
	memset(g, 0, sizeof(*g));
}

/* A GitHub owner or repository name; parts: how many '/'-separated names
 * (1 owner, 2 owner/repo); path: a workflow path may follow. */
static bool
gh_name(const char *s, int parts, bool path)
{
	int seen = 1;
	size_t run = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 1024)
		return false;
	for (; *s; s++) {
		if (*s == '/') {
			if (run == 0)
				return false;
			if (seen == parts && path)
				return s[1] != '\0' && strstr(s, "..") == NULL &&
				       strpbrk(s, "@ \t\n") == NULL;
			if (++seen > parts)
				return false;
			run = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
		run++;
	}
	return run > 0 && seen == parts && !path;
}

/* "^https://github\.com/" + s with regexp metacharacters escaped + tail.
 * The owner and repository names (the first two components) match
 * case-insensitively, as GitHub resolves them (each letter becomes [xX]:
 * re/ has no (?i)); a workflow path after them matches exactly. */
static char *
gh_regexp(const char *s, const char *tail)
{
	pg_buf b;
	char *out = NULL;
	int slashes = 0;

	pg_buf_init(&b, 8192);
	if (pg_buf_printf(&b, "^https://github\\.com/") != PG_OK)
		goto out;
	for (; *s; s++) {
		char c = *s;

		if (c == '/')
			slashes++;
		if (slashes < 2 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
			char lo = (char)(c | 0x20);

			if (pg_buf_printf(&b, "[%c%c]", lo, (char)(lo - 'a' + 'A')) != PG_OK)
				goto out;
			continue;
		}
		if (strchr("\\.+*?()|[]{}^$", c) && pg_buf_append(&b, "\\", 1) != PG_OK)
			goto out;
		if (pg_buf_append(&b, &c, 1) != PG_OK)
			goto out;
	}
	if (pg_buf_printf(&b, "%s", tail) != PG_OK)
		goto out;
	(void)pg_buf_detach(&out, NULL, &b);
out:
	pg_buf_free(&b);
	return out;
}

static int
add_claim(pg_github_policy *g, int claim, char *val)
{
	if (val == NULL)
		return PG_ENOMEM;
	g->vals[g->nconds] = val;
	g->conds[g->nconds].path = NULL;
	g->conds[g->nconds].claim = claim;
	g->conds[g->nconds].op = PG_COND_EQUALS;
	g->conds[g->nconds].value = val;
	g->nconds++;
	return PG_OK;
}

static char *
cat2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

int
pg_github_expand(pg_github_policy *out, const pg_github_preset *p, pg_err *err)
{
	char *owner = NULL;
	int rc = PG_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (p->owner == NULL && p->repo == NULL)
		return pg_err_set(err, PG_EINVAL, "github: owner or repo is required");
	if (p->owner && !gh_name(p->owner, 1, false))
		return pg_err_set(err, PG_EINVAL, "github: owner \"%.200s\" is not a GitHub name",
				  p->owner);
	if (p->repo && !gh_name(p->repo, 2, false))
		return pg_err_set(err, PG_EINVAL, "github: repo \"%.200s\" is not OWNER/REPO",
				  p->repo);
	if (p->signer_repo && !gh_name(p->signer_repo, 2, false))
		return pg_err_set(err, PG_EINVAL, "github: signerRepo \"%.200s\" is not OWNER/REPO",
				  p->signer_repo);
	if (p->signer_workflow && !gh_name(p->signer_workflow, 2, true))
		return pg_err_set(err, PG_EINVAL,
				  "github: signerWorkflow \"%.200s\" is not OWNER/REPO/PATH",
				  p->signer_workflow);
	if (p->signer_workflow && p->signer_repo)
		return pg_err_set(err, PG_EINVAL,
				  "github: give signerWorkflow or signerRepo, not both");
	if (p->source_ref && (p->source_ref[0] == '\0' || strncmp(p->source_ref, "refs/", 5) != 0))
		return pg_err_set(
		    err, PG_EINVAL,
		    "github: sourceRef must be a full ref (refs/heads/..., refs/tags/...)");
	if (p->repo) {
		size_t n = (size_t)(strchr(p->repo, '/') - p->repo);

		if (p->owner && (strlen(p->owner) != n || strncasecmp(p->owner, p->repo, n) != 0))
			return pg_err_set(err, PG_EINVAL,
					  "github: repo %.200s is not owned by %.200s", p->repo,
					  p->owner);
		owner = pg_strndup(p->repo, n);
	} else {
		owner = pg_strdup(p->owner);
	}
	if (owner == NULL)
		goto fail;
	/* The signer: a workflow (up to the '@' before its ref), a
	 * repository's workflows, else the source repository's or owner's. */
	if (p->signer_workflow)
		out->identity_regexp = gh_regexp(p->signer_workflow, "@");
	else if (p->signer_repo)
		out->identity_regexp = gh_regexp(p->signer_repo, "/");
	else
		out->identity_regexp = gh_regexp(p->repo ? p->repo : owner, "/");
	if (out->identity_regexp == NULL)
		goto fail;
	out->issuer = PG_GITHUB_ISSUER;
	out->predicate_type = PG_SLSA_V1;
	if (add_claim(out, PG_CLAIM_SOURCE_REPOSITORY_OWNER_URI,
		      cat2("https://github.com/", owner)) != PG_OK ||
	    (p->repo && add_claim(out, PG_CLAIM_SOURCE_REPOSITORY_URI,
				  cat2("https://github.com/", p->repo)) != PG_OK) ||
	    (p->source_ref &&
	     add_claim(out, PG_CLAIM_SOURCE_REPOSITORY_REF, pg_strdup(p->source_ref)) != PG_OK) ||
	    (p->deny_self_hosted &&
	     add_claim(out, PG_CLAIM_RUNNER_ENVIRONMENT, pg_strdup("github-hosted")) != PG_OK))
		goto fail;
	free(owner);
	return PG_OK;
fail:
	free(owner);
	pg_github_policy_free(out);
	return pg_err_set(err, rc, "out of memory");
}
