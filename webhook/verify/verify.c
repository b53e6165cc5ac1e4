/*
 * verify — dispatch from a rule's verifier list to the evidence modules.
 * Until a verifier kind is wired to its module it answers "verification not
 * available" (PG_EUNAVAIL): deny-by-default, and honest about why.
 */
#include "verify/verify.h"

#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

struct pg_verify_ctx {
	pg_verify_opts opts;
};

int
pg_verify_ctx_new(pg_verify_ctx **out, const pg_verify_opts *opts)
{
	pg_verify_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return PG_ENOMEM;
	if (opts)
		c->opts = *opts;
	*out = c;
	return PG_OK;
}

void
pg_verify_ctx_free(pg_verify_ctx *c)
{
	free(c);
}

void
pg_verdict_set(pg_verdict *v, bool ok, int code, const char *digest,
	       const char *signer, const char *reason)
{
	pg_verdict_clear(v);
	v->ok = ok;
	v->code = code;
	v->digest = pg_strdup(digest);
	v->signer = pg_strdup(signer);
	v->reason = pg_strdup(reason ? reason : (ok ? "verified" : "not verified"));
}

void
pg_verdict_clear(pg_verdict *v)
{
	free(v->digest);
	free(v->signer);
	free(v->reason);
	memset(v, 0, sizeof(*v));
}

int
pg_verify_image(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p,
		const pg_rule *r, const pg_image_ref *ref, int64_t deadline)
{
	(void)c; (void)p; (void)r; (void)deadline;
	memset(out, 0, sizeof(*out));
	pg_verdict_set(out, false, PG_EUNAVAIL, ref->digest, NULL,
		       "verification not available");
	return out->code;
}

int
pg_verify_chart(pg_verdict *out, pg_verify_ctx *c, const pg_policy *p,
		const pg_rule *r, const pg_chart_ref *ref, int64_t deadline)
{
	(void)c; (void)p; (void)r; (void)ref; (void)deadline;
	memset(out, 0, sizeof(*out));
	pg_verdict_set(out, false, PG_EUNAVAIL, NULL, NULL,
		       "verification not available");
	return out->code;
}
