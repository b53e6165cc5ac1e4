/*
 * libFuzzer target for ref/: any bytes as an image reference.
 *
 * Beyond "does not crash", it checks what callers rely on, and aborts when
 * it does not hold: an accepted reference is normalised (parsing its
 * normalised form gives the same thing back), its fields agree with the
 * normalised string and the bounds; a rejection carries a message that
 * starts as documented and holds only printable ASCII (the input is echoed
 * escaped, so an object cannot inject control bytes into a deny reason).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "digest/digest.h"
#include "ref/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_ref: invariant broken: %s\n", what);
		abort();
	}
}

static void
check_accepted(const pg_image_ref *r)
{
	pg_image_ref *again = NULL;
	pg_buf b;
	pg_err e;

	check(r->normalized && r->registry && r->repository, "fields set");
	check(r->tag != NULL || r->digest != NULL, "tag or digest");
	check(r->digest == NULL || pg_digest_string_valid(r->digest), "digest valid");
	check(strlen(r->registry) + 1 + strlen(r->repository) <= PG_REF_NAME_MAX, "name bound");
	check(r->tag == NULL || strlen(r->tag) <= PG_REF_TAG_MAX, "tag bound");
	pg_buf_init(&b, 0);
	check(pg_buf_printf(&b, "%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "",
			    r->tag ? r->tag : "", r->digest ? "@" : "",
			    r->digest ? r->digest : "") == PG_OK,
	      "printf");
	check(strcmp((char *)b.data, r->normalized) == 0, "fields agree with normalized");
	pg_buf_free(&b);
	check(pg_ref_parse_image(&again, r->normalized, &e) == PG_OK, "normalized re-parses");
	check(strcmp(again->normalized, r->normalized) == 0, "normalizing is idempotent");
	check(strcmp(again->registry, r->registry) == 0, "same registry");
	check(strcmp(again->repository, r->repository) == 0, "same repository");
	pg_ref_free(again);
}

static void
check_rejected(const pg_err *e)
{
	const char *p;

	check(e->code == PG_EINVAL, "code is PG_EINVAL");
	check(strncmp(e->msg, "invalid image reference \"", 25) == 0, "message prefix");
	for (p = e->msg; *p; p++)
		check(*p >= 0x20 && *p < 0x7f, "message is printable ASCII");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	pg_image_ref *r = NULL;
	pg_err e;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	e.code = PG_OK;
	e.msg[0] = '\0';
	if (pg_ref_parse_image(&r, s, &e) == PG_OK)
		check_accepted(r);
	else
		check_rejected(&e);
	pg_ref_free(r);
	(void)pg_digest_string_valid(s);
	free(s);
	return 0;
}
