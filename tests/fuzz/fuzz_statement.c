/*
 * libFuzzer target: in-toto statements and the attestation condition
 * language (attest/attest.h).  Input: a JSON pointer, a newline, a value,
 * a newline, then the statement.  The statement is judged against both a
 * sha256 and a sha512 digest, with conditions on that pointer (equals, in,
 * prefix, regExp with the value as pattern) and on certificate claims, and
 * the GitHub preset is expanded with the value as every name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "buf/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char d256[] =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
static const char d512[] = "sha512:"
			   "00000000000000000000000000000000000000000000000000000000000000000"
			   "000000000000000000000000000000000000000000000000000000000000000";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *ptr, *val, *st, *nl;
	char *claims[PG_CLAIM_N] = {0};
	const char *vals[2];
	pg_attest_cond conds[6];
	pg_attest_req req;
	pg_attest_info info;
	pg_github_preset gp;
	pg_github_policy g;
	pg_err e;
	size_t n;

	if (size > (1 << 20))
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	ptr = buf;
	nl = memchr(ptr, '\n', size);
	if (nl == NULL)
		goto out;
	*nl = '\0';
	val = nl + 1;
	nl = memchr(val, '\n', size - (size_t)(val - buf));
	if (nl == NULL)
		goto out;
	*nl = '\0';
	st = nl + 1;
	n = size - (size_t)(st - buf);
	claims[PG_CLAIM_SOURCE_REPOSITORY_URI] = val;
	claims[PG_CLAIM_SOURCE_REPOSITORY_REF] = val;
	claims[PG_CLAIM_RUNNER_ENVIRONMENT] = val;
	vals[0] = val;
	vals[1] = "x";
	memset(conds, 0, sizeof(conds));
	conds[0] = (pg_attest_cond){.path = ptr, .op = PG_COND_EQUALS, .value = val};
	conds[1] = (pg_attest_cond){.path = ptr, .op = PG_COND_IN, .values = vals, .nvalues = 2};
	conds[2] = (pg_attest_cond){.path = ptr, .op = PG_COND_PREFIX, .value = val};
	conds[3] = (pg_attest_cond){.path = ptr, .op = PG_COND_REGEXP, .value = val};
	conds[4] = (pg_attest_cond){
	    .claim = PG_CLAIM_SOURCE_REPOSITORY_URI, .op = PG_COND_PREFIX, .value = val};
	conds[5] = (pg_attest_cond){
	    .claim = PG_CLAIM_RUNNER_ENVIRONMENT, .op = PG_COND_EQUALS, .value = "github-hosted"};
	memset(&req, 0, sizeof(req));
	req.conds = conds;
	for (req.nconds = 0; req.nconds <= 6; req.nconds++) {
		if (pg_attest_check(&info, (const unsigned char *)st, n, d256, claims, &req, &e) ==
		    PG_OK)
			pg_attest_info_free(&info);
		if (pg_attest_check(&info, (const unsigned char *)st, n, d512, NULL, &req, &e) ==
		    PG_OK)
			pg_attest_info_free(&info);
		(void)pg_attest_cond_check(&conds[req.nconds < 6 ? req.nconds : 0], &e);
	}
	memset(&gp, 0, sizeof(gp));
	gp.owner = ptr;
	gp.repo = val;
	gp.signer_workflow = st;
	gp.source_ref = val;
	gp.deny_self_hosted = true;
	if (pg_github_expand(&g, &gp, &e) == PG_OK)
		pg_github_policy_free(&g);
	gp.signer_workflow = NULL;
	gp.signer_repo = val;
	gp.owner = NULL;
	if (pg_github_expand(&g, &gp, &e) == PG_OK)
		pg_github_policy_free(&g);
out:
	free(buf);
	return 0;
}
