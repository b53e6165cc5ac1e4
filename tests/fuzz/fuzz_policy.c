/*
 * fuzz_policy — libFuzzer target for the policy loader (YAML tree, schema,
 * fingerprints): any input must load or fail with a message, never crash,
 * leak or hang.  Build by hand with clang -fsanitize=fuzzer,address,undefined
 * -Iwebhook, this file, every .c of webhook/policy, webhook/buf/buf.c and
 * webhook/err/err.c, linked with -lyaml -lcrypto.
 * Trust "path:" entries are read relative to the working directory; run
 * it from an empty directory.
 */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_policy *p = NULL;
	pg_err err;

	if (pg_policy_load_buffer(&p, "fuzz.yaml", (const char *)data, size, &err) == 0) {
		/* exercise the matchers on a loaded policy */
		(void)pg_policy_match_image(p, "registry.example.com/apps/web:1.0");
		(void)pg_policy_match_chart(p, "oci://registry.example.com/charts/app:1.0");
		(void)pg_policy_match_chart_name(p, "team-a");
		(void)pg_policy_host_allowed(p, "registry.example.com");
		pg_policy_unref(p);
	}
	return 0;
}
