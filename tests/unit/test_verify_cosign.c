/* Unit tests of verify/cosign.c, the discovery of an image's cosign
 * signatures: its evidence budgets and the outcome of a search.  (The
 * network half is in tests/integration/t_image_admission.sh,
 * t_evidence_budget.sh and t_registries.sh against a real registry.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../webhook/verify/cosign.c"
#include "cache/cache.h"

/*
 * The outcome of a signature search, as a table: only a search that saw
 * every candidate and found at least one bad on its merits is a definite
 * PG_EVERIFY (cacheable); a budget that cut it short is PG_ETOOBIG, a
 * source that could not be read keeps its transient code.
 */
static void
test_sig_outcome_table(void **state)
{
	static const struct {
		size_t good, n_sigs;
		bool truncated, crypto_failed;
		int first_code, disc_code, want;
		size_t need; /* 0: 1 */
	} tab[] = {
	    /* satisfied: whatever else happened */
	    {1, 1, false, false, 0, 0, PG_OK, 0},
	    {1, 65, true, true, PG_EVERIFY, PG_ETOOBIG, PG_OK, 0},
	    {1, 2, false, true, PG_EVERIFY, PG_EFETCH, PG_OK, 0},
	    /* some satisfied, not enough: the caller counts (PG_OK) unless a
	     * source could not be read, then that transient code */
	    {1, 2, false, true, PG_EVERIFY, 0, PG_OK, 2},
	    {1, 2, false, true, PG_EVERIFY, PG_EVERIFY, PG_OK, 2},
	    {1, 2, false, true, PG_EVERIFY, PG_EFETCH, PG_EFETCH, 2},
	    {1, 2, false, true, PG_EVERIFY, PG_ETIMEOUT, PG_ETIMEOUT, 2},
	    /* nothing found */
	    {0, 0, false, false, 0, 0, PG_EVERIFY, 0},
	    {0, 0, false, false, 0, PG_EFETCH, PG_EFETCH, 0},
	    {0, 0, false, false, 0, PG_EVERIFY, PG_EVERIFY, 0},
	    {0, 0, true, false, 0, PG_ETOOBIG, PG_ETOOBIG, 0}, /* listing too long */
	    /* every candidate examined, bad on its merits: definite */
	    {0, 3, false, true, PG_EVERIFY, 0, PG_EVERIFY, 0},
	    {0, 64, false, true, PG_EVERIFY, 0, PG_EVERIFY, 0},
	    /* budget reached: never definite */
	    {0, 64, true, true, PG_EVERIFY, 0, PG_ETOOBIG, 0},
	    {0, 128, true, true, PG_EVERIFY, 0, PG_ETOOBIG, 0},
	    {0, 10, true, true, PG_EVERIFY, PG_ETOOBIG, PG_ETOOBIG, 0},
	    /* a source unreadable (bundles listing failed), .sig bad */
	    {0, 1, false, true, PG_EVERIFY, PG_EFETCH, PG_EFETCH, 0},
	    {0, 1, false, true, PG_EVERIFY, PG_ETIMEOUT, PG_ETIMEOUT, 0},
	    /* .sig was an index (definite), a bundle bad */
	    {0, 1, false, true, PG_EVERIFY, PG_EVERIFY, PG_EVERIFY, 0},
	    /* every signature failed to download: the registry's failure */
	    {0, 2, false, false, PG_EFETCH, 0, PG_EFETCH, 0},
	    {0, 2, false, false, PG_ENOTFOUND, 0, PG_EVERIFY, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		pg_verify_cosign_result out = {0};
		vrun v;
		int got;

		memset(&v, 0, sizeof(v));
		v.out = &out;
		v.good = tab[i].good;
		v.need = tab[i].need ? tab[i].need : 1;
		v.crypto_failed = tab[i].crypto_failed;
		v.first_code = tab[i].first_code;
		out.n_sigs = tab[i].n_sigs;
		out.truncated = tab[i].truncated;
		got = outcome(&v, tab[i].disc_code);
		if (got != tab[i].want)
			fail_msg("row %zu: outcome %d, want %d", i, got, tab[i].want);
		/* what the verdict cache will make of it */
		assert_int_equal(pg_cache_cacheable(got == PG_OK, got),
				 got == PG_OK || (got == PG_EVERIFY && !tab[i].truncated));
		assert_false(got == PG_EVERIFY && tab[i].truncated);
	}
}

/* The per-source budget: satisfied() stops a search at need, and a
 * source's loop marks truncated only past PG_VERIFY_SIGS_MAX. */
static void
test_sig_need(void **state)
{
	pg_verify_cosign_result out = {0};
	vrun v;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.out = &out;
	v.n_trust = 3;
	v.need = 2;
	assert_false(satisfied(&v));
	v.good = 1;
	assert_false(satisfied(&v));
	v.good = 2;
	assert_true(satisfied(&v));
	assert_int_equal(PG_VERIFY_SIGS_MAX, 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sig_outcome_table),
	    cmocka_unit_test(test_sig_need),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
