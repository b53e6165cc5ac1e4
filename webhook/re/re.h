/*
 * re — the regular expressions a policy or a command line gives for
 * certificate identities and issuers, checked before glibc compiles them.
 *
 * cosign and sigstore-go match identities with Go's regexp (RE2 syntax).
 * We compile with POSIX ERE (regcomp), which accepts the same everyday
 * patterns but expands repetitions by copying: `a++++…` doubles the tree
 * at every `+`, `(a{1000}){1000}` makes a million nodes, and one policy
 * line could take gigabytes (fuzz_policy found it).  pg_re_compile first
 * refuses what Go's parser refuses and what would grow too large:
 *   - stacked repetition operators (`a**`, `a+{2}`; one lazy `?` after a
 *     repetition is allowed, as in Go, and does not change what matches),
 *   - repetition counts above 1000, or {m,n} with n < m,
 *   - a repetition with nothing to repeat,
 *   - back-references (\1 … \9; Go has none, glibc may take exponential
 *     time on them),
 *   - groups nested deeper than PG_RE_MAX_DEPTH,
 *   - patterns longer than PG_RE_MAX_LEN bytes,
 *   - patterns whose expanded size (every repetition copied out, as glibc
 *     does) exceeds PG_RE_MAX_NODES.
 * Matching is unanchored, as Go's MatchString: write ^…$ for a whole match.
 */
#ifndef PG_RE_H
#define PG_RE_H

#include <regex.h>
#include <stdbool.h>

#include "err/err.h"

#define PG_RE_MAX_LEN 4096
#define PG_RE_MAX_DEPTH 64
#define PG_RE_MAX_REPEAT 1000
#define PG_RE_MAX_NODES 10000

/* Refuse a pattern as above (PG_EINVAL with the reason in err), else
 * PG_OK. */
int pg_re_check(const char *re, pg_err *err);

/* pg_re_check, then regcomp(REG_EXTENDED | REG_NOSUB).  On PG_OK the
 * caller owns rx and frees it with regfree. */
int pg_re_compile(regex_t *rx, const char *re, pg_err *err);

/* Compile, search s, free: *match says whether re matches anywhere in s. */
int pg_re_find(const char *re, const char *s, bool *match, pg_err *err);

#endif
