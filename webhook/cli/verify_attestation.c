/*
 * cli/verify_attestation — `provgate verify-attestation`, offline, in the
 * words of `cosign verify-attestation` and `gh attestation verify`:
 *
 *   verify-attestation --bundle FILE --digest sha256:HEX|sha512:HEX
 *       (--key PEM | --certificate-identity ID | --certificate-identity-regexp RE
 *        | --owner O | --repo O/R)
 *       [--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp RE]
 *       [--certificate-claim NAME=VALUE]... [--condition POINTER=VALUE]...
 *       [--signer-workflow O/R/PATH | --signer-repo O/R] [--source-ref REF]
 *       [--deny-self-hosted-runners] [--type URI] [--trusted-root FILE]
 *       [--at RFC3339] [--min-bundle-version 0.N] [--min-tlog-entries N]
 *       [--min-timestamps N] [--insecure-ignore-sct]
 *
 * FILE holds one bundle (JSON) or several (JSON lines, or concatenated
 * JSON values): one that passes every check suffices, as in gh.  --type
 * defaults to SLSA provenance v1 (as gh).  The GitHub flags expand as the
 * `github:` policy preset does (attest.h); explicit identity and issuer
 * flags take the place of the preset's.  --at RFC3339: the certificate
 * must also be valid at that instant (it never replaces the verified
 * time).  Without --trusted-root the root comes from $PROVGATE_TRUSTED_ROOT.
 * Exit 0 verified, 1 not verified, 2 usage error or unreadable input.
 *
 *   verify-attestation IMAGE [--ca-file FILE] [--allow-http-registry] ...
 *
 * (online) finds IMAGE's attestations in its registry as the server does
 * (bundle referrers, tag fallback, legacy .att) with the same identity,
 * claim, condition, GitHub and --type flags; a transparency log entry is
 * required as for verify-image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest/attest.h"
#include "buf/buf.h"
#include "cli/cli.h"
#include "clock/clock.h"
#include "digest/digest.h"
#include "fetch/fetch.h"
#include "oci/oci.h"
#include "ref/ref.h"
#include "sigstore/sigstore.h"
#include "verify/attest.h"

/* A file of bundles: GitHub returns up to 30 per artifact. */
#define PG_BUNDLES_FILE_MAX ((size_t)32 << 20)
#define PG_BUNDLES_MAX 256

typedef struct args {
	const char *bundle, *digest, *key, *root, *identity, *identity_re, *issuer, *issuer_re;
	const char *type, *at, *image, *ca;
	bool plain_http;
	pg_github_preset gh;
	bool have_gh;
	bool ignore_sct;
	uint64_t timeout_ms; /* online: overall deadline; 0 = PG_CLI_VERIFY_TIMEOUT_MS */
	pg_attest_cond conds[PG_ATTEST_CONDS_MAX];
	char *cond_mem[PG_ATTEST_CONDS_MAX];
	size_t nconds;
	unsigned long min_minor, min_tlog, min_tsa;
} args;

static int
usage(const char *why)
{
	return pg_cli_fail(
	    PG_EXIT_USAGE,
	    "%s\nusage: provgate verify-attestation (IMAGE [--ca-file FILE] "
	    "[--allow-http-registry] | "
	    "--bundle FILE --digest sha256:HEX|sha512:HEX) "
	    "(--key PEM | --certificate-identity ID | --certificate-identity-regexp RE | "
	    "--owner O | --repo O/R) [--certificate-oidc-issuer URL] "
	    "[--certificate-claim NAME=VALUE]... [--condition POINTER=VALUE]... "
	    "[--signer-workflow O/R/PATH] [--signer-repo O/R] [--source-ref REF] "
	    "[--deny-self-hosted-runners] [--type URI] [--trusted-root FILE] [--at RFC3339]",
	    why);
}

/* NAME=VALUE into a condition; claim != 0 for --certificate-claim. */
static int
add_cond(args *a, const char *arg, bool claim)
{
	const char *eq = strchr(arg, '=');
	pg_attest_cond *c;
	char *name;
	pg_err err;

	if (eq == NULL || eq == arg)
		return usage(claim ? "--certificate-claim wants NAME=VALUE"
				   : "--condition wants POINTER=VALUE");
	if (a->nconds >= PG_ATTEST_CONDS_MAX)
		return usage("too many conditions");
	name = pg_strndup(arg, (size_t)(eq - arg));
	if (name == NULL)
		return pg_cli_fail(PG_EXIT_USAGE, "out of memory");
	a->cond_mem[a->nconds] = name;
	c = &a->conds[a->nconds++];
	memset(c, 0, sizeof(*c));
	c->op = PG_COND_EQUALS;
	c->value = eq + 1;
	if (claim) {
		/* gh and the vectors spell them SourceRepositoryURI; Fulcio
		 * sourceRepositoryURI: accept both. */
		char lower[64];

		(void)snprintf(lower, sizeof(lower), "%s", name);
		if (lower[0] >= 'A' && lower[0] <= 'Z')
			lower[0] = (char)(lower[0] - 'A' + 'a');
		c->claim = pg_claim_index(lower);
		if (c->claim < 0 && strcmp(lower, "oidcIssuer") == 0)
			c->claim = PG_CLAIM_ISSUER;
		if (c->claim < 0)
			return pg_cli_fail(PG_EXIT_USAGE, "unknown certificate claim \"%s\"", name);
	} else {
		c->path = name;
	}
	pg_err_clear(&err);
	if (pg_attest_cond_check(c, &err) != PG_OK)
		return pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
	return PG_OK;
}

/* n decimal digits at s; -1 when one is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC) to epoch seconds. */
static int
parse_at(int64_t *out, const char *s)
{
	struct tm tm;
	time_t t;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	t = timegm(&tm);
	if (t <= 0)
		return -1;
	*out = (int64_t)t;
	return 0;
}

static int
parse_args(args *a, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i], *val = NULL;
		unsigned long *num = NULL;
		int r;

		if (strcmp(s, "--deny-self-hosted-runners") == 0) {
			a->gh.deny_self_hosted = true;
			continue;
		}
		if (strcmp(s, "--allow-http-registry") == 0) {
			a->plain_http = true;
			continue;
		}
		if (strcmp(s, "--insecure-ignore-sct") == 0) {
			a->ignore_sct = true;
			continue;
		}
		if ((r = pg_cli_time_opt(argc, argv, &i, "--timeout", 1000, 1000,
					 PG_CLI_VERIFY_TIMEOUT_MAX_MS, &a->timeout_ms)) != 0) {
			if (r < 0)
				return PG_EXIT_USAGE;
			continue;
		}
#define OPT(name, dst)                                                                             \
	if ((r = pg_cli_opt(argc, argv, &i, name, &val)) != 0) {                                   \
		if (r < 0)                                                                         \
			return PG_EXIT_USAGE;                                                      \
		dst = val;                                                                         \
		continue;                                                                          \
	}
		OPT("--bundle", a->bundle)
		OPT("--digest", a->digest)
		OPT("--key", a->key)
		OPT("--trusted-root", a->root)
		OPT("--certificate-identity", a->identity)
		OPT("--certificate-identity-regexp", a->identity_re)
		OPT("--certificate-oidc-issuer", a->issuer)
		OPT("--certificate-oidc-issuer-regexp", a->issuer_re)
		OPT("--type", a->type)
		OPT("--at", a->at)
		OPT("--owner", a->gh.owner)
		OPT("--repo", a->gh.repo)
		OPT("--signer-workflow", a->gh.signer_workflow)
		OPT("--signer-repo", a->gh.signer_repo)
		OPT("--source-ref", a->gh.source_ref)
		OPT("--ca-file", a->ca)
#undef OPT
		if ((r = pg_cli_opt(argc, argv, &i, "--certificate-claim", &val)) != 0 ||
		    (r = pg_cli_opt(argc, argv, &i, "--condition", &val)) != 0) {
			if (r < 0)
				return PG_EXIT_USAGE;
			if (add_cond(a, val, strncmp(s, "--certificate-claim", 19) == 0) != PG_OK)
				return PG_EXIT_USAGE;
			continue;
		}
		if ((r = pg_cli_opt(argc, argv, &i, "--min-bundle-version", &val)) != 0) {
			if (r < 0)
				return PG_EXIT_USAGE;
			if (strncmp(val, "0.", 2) != 0 ||
			    pg_cli_uint(val + 2, 1, 3, &a->min_minor) != 0)
				return usage("--min-bundle-version wants 0.1, 0.2 or 0.3");
			continue;
		}
		if ((r = pg_cli_opt(argc, argv, &i, "--min-tlog-entries", &val)) != 0)
			num = &a->min_tlog;
		else if ((r = pg_cli_opt(argc, argv, &i, "--min-timestamps", &val)) != 0)
			num = &a->min_tsa;
		if (num != NULL) {
			if (r < 0)
				return PG_EXIT_USAGE;
			if (pg_cli_uint(val, 0, 16, num) != 0)
				return usage("a threshold wants a number from 0 to 16");
			continue;
		}
		if (s[0] == '-')
			return usage("unknown option");
		if (a->image != NULL)
			return usage("more than one IMAGE");
		a->image = s;
	}
	a->have_gh = a->gh.owner || a->gh.repo || a->gh.signer_workflow || a->gh.signer_repo ||
		     a->gh.source_ref || a->gh.deny_self_hosted;
	return PG_OK;
}

/* Print what admitted. */
static void
report(const pg_dsse_result *d, const pg_attest_info *in, size_t idx)
{
	printf("Verified OK: attestation %zu\n", idx + 1);
	printf("  predicate type: %s\n", in->predicate_type);
	printf("  subject:        %s\n", in->subject && in->subject[0] ? in->subject : "(unnamed)");
	printf("  signer:         %s\n", d->signer ? d->signer : "?");
	if (in->builder_id)
		printf("  builder:        %s\n", in->builder_id);
	if (in->source_repo)
		printf("  source:         %s%s%s\n", in->source_repo, in->source_ref ? " @ " : "",
		       in->source_ref ? in->source_ref : "");
	if (d->claims[PG_CLAIM_RUNNER_ENVIRONMENT])
		printf("  runner:         %s\n", d->claims[PG_CLAIM_RUNNER_ENVIRONMENT]);
	printf("  bundle digest:  %s\n", d->envelope_digest);
}

/* Verify one bundle; PG_OK when it passes everything. */
static int
one(const char *json, size_t len, size_t idx, const args *a, const pg_sig_trust *t,
    const pg_attest_req *req, int64_t at, pg_err *err)
{
	pg_dsse_result d;
	pg_attest_info in;
	int rc;

	memset(&in, 0, sizeof(in));
	rc = pg_sigstore_verify_dsse_bundle(&d, json, len, at, t, err);
	if (rc != PG_OK)
		return rc;
	if (a->min_minor && (unsigned long)d.bundle_minor < a->min_minor)
		rc = pg_err_set(err, PG_EVERIFY, "bundle version 0.%d is below 0.%lu",
				d.bundle_minor, a->min_minor);
	else if (d.ntlog < a->min_tlog)
		rc = pg_err_set(err, PG_EVERIFY, "%zu transparency log entries, %lu required",
				d.ntlog, a->min_tlog);
	else if (d.ntsa < a->min_tsa)
		rc = pg_err_set(err, PG_EVERIFY, "%zu RFC 3161 timestamps, %lu required", d.ntsa,
				a->min_tsa);
	else
		rc = pg_attest_check(&in, d.payload, d.payload_len, a->digest,
				     a->key ? NULL : d.claims, req, err);
	if (rc == PG_OK)
		report(&d, &in, idx);
	pg_attest_info_free(&in);
	pg_dsse_result_free(&d);
	return rc;
}

/* $DOCKER_CONFIG/config.json, else ~/.docker/config.json, if it exists
 * (as verify-image and cosign). */
static char *
docker_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	pg_buf b;
	char *p = NULL;

	pg_buf_init(&b, 4096);
	if (dir && dir[0])
		(void)pg_buf_printf(&b, "%s/config.json", dir);
	else if (home && home[0])
		(void)pg_buf_printf(&b, "%s/.docker/config.json", home);
	if (b.len > 0 && access((const char *)b.data, F_OK) == 0)
		(void)pg_buf_detach(&p, NULL, &b);
	pg_buf_free(&b);
	return p;
}

/* verify-attestation IMAGE: the registry's attestations of IMAGE. */
static int
online(const args *a, const pg_sig_trust *t, const pg_attest_req *req)
{
	pg_image_ref *ref = NULL;
	pg_fetch *f = NULL;
	pg_oci *oci = NULL;
	pg_oci_opts oo = {0};
	pg_oci_host hconf = {0};
	pg_oci_req q = {0};
	char *dcfg = NULL, *digest = NULL, *desc = NULL;
	pg_err err;
	int code = PG_EXIT_DENY;

	pg_err_clear(&err);
	if (pg_ref_parse_image(&ref, a->image, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	dcfg = docker_config_path();
	oo.ca_file = a->ca;
	oo.docker_config = dcfg;
	if (a->plain_http) {
		hconf.host = ref->registry;
		hconf.ca_file = a->ca;
		hconf.docker_config = dcfg;
		hconf.plain_http = true;
		oo.hosts = &hconf;
		oo.n_hosts = 1;
	}
	if (pg_fetch_new(&f) != PG_OK || pg_oci_new(&oci, &oo, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	q.fetch = f;
	q.deadline =
	    pg_clock_ms() + (a->timeout_ms ? (int64_t)a->timeout_ms : PG_CLI_VERIFY_TIMEOUT_MS);
	if (ref->digest)
		digest = pg_strdup(ref->digest);
	else if (pg_oci_resolve(&digest, oci, &q, ref->registry, ref->repository,
				ref->tag ? ref->tag : "latest", &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
		goto out;
	}
	if (digest == NULL ||
	    pg_verify_attestations(&desc, oci, &q, ref, digest, t, req, 1, &err) != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	printf("Verified: %s/%s@%s\n", ref->registry, ref->repository, digest);
	printf("Digest: %s\n", digest);
	printf("Attestation: %s\n", desc);
	code = PG_EXIT_OK;
out:
	free(desc);
	free(digest);
	free(dcfg);
	pg_oci_free(oci);
	pg_fetch_free(f);
	pg_ref_free(ref);
	return code;
}

int
pg_cmd_verify_attestation(int argc, char **argv)
{
	args a;
	char *file = NULL, *key = NULL, *root_json = NULL;
	size_t file_len = 0, key_len = 0, root_len = 0, off = 0, n = 0, i;
	pg_trusted_root *root = NULL;
	pg_github_policy gp;
	pg_attest_cond conds[PG_ATTEST_CONDS_MAX + 4];
	pg_attest_req req;
	pg_sig_trust t;
	pg_err err, last;
	int64_t at = 0;
	int code = PG_EXIT_USAGE, rc;

	memset(&a, 0, sizeof(a));
	memset(&gp, 0, sizeof(gp));
	memset(&t, 0, sizeof(t));
	pg_err_clear(&err);
	pg_err_clear(&last);
	if (parse_args(&a, argc, argv) != PG_OK)
		goto out;
	if (a.image != NULL && (a.bundle || a.digest || a.at)) {
		code = usage("IMAGE (online) excludes --bundle, --digest and --at");
		goto out;
	}
	if (a.image == NULL && (a.bundle == NULL || a.digest == NULL)) {
		code = usage("give IMAGE, or --bundle FILE and --digest DIGEST");
		goto out;
	}
	if (a.image == NULL && !pg_digest_string_valid(a.digest)) {
		code = usage("--digest must be sha256:<64 hex> or sha512:<128 hex>");
		goto out;
	}
	if (a.at && parse_at(&at, a.at) != 0) {
		code = usage("--at wants an RFC 3339 UTC time (2024-01-02T03:04:05Z)");
		goto out;
	}
	if (a.key && (a.identity || a.identity_re || a.issuer || a.issuer_re || a.have_gh)) {
		code = usage("--key excludes the certificate identity, issuer and GitHub flags");
		goto out;
	}
	if (a.identity && a.identity_re) {
		code =
		    usage("give --certificate-identity or --certificate-identity-regexp, not both");
		goto out;
	}
	if (a.issuer && a.issuer_re) {
		code = usage("give --certificate-oidc-issuer or its -regexp form, not both");
		goto out;
	}
	if (a.have_gh) {
		if (pg_github_expand(&gp, &a.gh, &err) != PG_OK) {
			code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
			goto out;
		}
		if (!a.identity && !a.identity_re)
			a.identity_re = gp.identity_regexp;
		if (!a.issuer && !a.issuer_re)
			a.issuer = gp.issuer;
	}
	if (!a.key && !a.identity && !a.identity_re) {
		code = usage("no identity: give --key, --certificate-identity(-regexp), --owner or "
			     "--repo");
		goto out;
	}
	if (a.root == NULL)
		a.root = getenv("PROVGATE_TRUSTED_ROOT");
	if (a.root == NULL || a.root[0] == '\0') {
		code = usage("no trusted root: pass --trusted-root FILE");
		goto out;
	}
	if ((a.bundle &&
	     pg_buf_read_file(&file, &file_len, a.bundle, PG_BUNDLES_FILE_MAX, &err) != PG_OK) ||
	    pg_buf_read_file(&root_json, &root_len, a.root, PG_SIGSTORE_JSON_MAX, &err) != PG_OK ||
	    (a.key &&
	     pg_buf_read_file(&key, &key_len, a.key, PG_CLI_KEY_FILE_MAX, &err) != PG_OK)) {
		code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
		goto out;
	}
	rc = pg_trusted_root_load(&root, root_json, root_len, &err);
	if (rc != PG_OK) {
		code = pg_cli_fail(PG_EXIT_DENY, "trusted root: %s", err.msg);
		goto out;
	}
	t.root = root;
	t.key_pem = key;
	t.key_len = key_len;
	t.identity = a.identity;
	t.identity_regexp = a.identity_re;
	t.issuer = a.issuer;
	t.issuer_regexp = a.issuer_re;
	t.ignore_sct = a.ignore_sct;
	memcpy(conds, a.conds, a.nconds * sizeof(conds[0]));
	memcpy(conds + a.nconds, gp.conds, gp.nconds * sizeof(conds[0]));
	memset(&req, 0, sizeof(req));
	req.predicate_type = a.type ? a.type : PG_SLSA_V1;
	req.conds = conds;
	req.nconds = a.nconds + gp.nconds;
	if (a.image != NULL) {
		t.tlog_required = true;
		code = online(&a, &t, &req);
		goto out;
	}

	/* One JSON value after another (a pretty-printed bundle, JSON lines). */
	for (;;) {
		json_error_t je;
		json_t *j;
		size_t start;

		while (off < file_len && strchr(" \t\r\n", file[off]) && file[off] != '\0')
			off++;
		if (off >= file_len)
			break;
		if (++n > PG_BUNDLES_MAX) {
			pg_err_set(&last, PG_EVERIFY, "more than %d bundles in the file",
				   PG_BUNDLES_MAX);
			break;
		}
		start = off;
		j = json_loadb(file + off, file_len - off, JSON_DISABLE_EOF_CHECK, &je);
		if (j == NULL) {
			pg_err_set(&last, PG_EVERIFY, "bundle %zu is not valid JSON: %s", n,
				   je.text);
			break;
		}
		json_decref(j);
		off += je.position > 0 ? (size_t)je.position : file_len - off;
		pg_err_clear(&err);
		rc = one(file + start, off - start, n - 1, &a, &t, &req, at, &err);
		if (rc == PG_OK) {
			code = PG_EXIT_OK;
			goto out;
		}
		if (rc == PG_EPOLICY || rc == PG_EINVAL) {
			code = pg_cli_fail(PG_EXIT_USAGE, "%s", err.msg);
			goto out;
		}
		last = err;
		(void)snprintf(last.msg, sizeof(last.msg), "attestation %zu: %.900s", n, err.msg);
	}
	if (n == 0)
		code = pg_cli_fail(PG_EXIT_DENY, "no bundle in %s", a.bundle);
	else
		code = pg_cli_fail(PG_EXIT_DENY, "%s", last.msg[0] ? last.msg : "not verified");
out:
	for (i = 0; i < a.nconds; i++)
		free(a.cond_mem[i]);
	pg_github_policy_free(&gp);
	free(file);
	free(key);
	free(root_json);
	pg_trusted_root_free(root);
	return code;
}
