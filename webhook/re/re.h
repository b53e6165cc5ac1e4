/*
 * re — the regular expressions a policy or a command line gives for
 * certificate identities and issuers: Go regexp syntax (what cosign and
 * sigstore-go match with), matched in time linear in the subject.
 *
 * glibc's regcomp/regexec are not used: regcomp copies every repetition
 * out (`a+++…` took 2 GiB in fuzz_policy) and regexec builds DFA states
 * without bound ((a|b)*a(a|b){999}c against 2000 bytes took 8 minutes and
 * 9.5 GiB).  Here a pattern compiles to at most PG_RE_MAX_INSTS
 * instructions and a match is a Pike-VM simulation: O(instructions x
 * subject) time, O(instructions) memory, no backtracking.
 *
 * Syntax (Go's regexp.Compile, without flags): literals (UTF-8), `.` (any
 * character but newline), `[...]` `[^...]` with ranges, escapes and
 * [:alpha:]-style classes, \d \D \s \S \w \W, \A \z, escaped punctuation,
 * \t \n \r \f \v \a, `^` `$` (start and end of text), groups, `|`, and
 * `*` `+` `?` `{m}` `{m,}` `{m,n}` (m, n <= 1000), each optionally lazy
 * (`*?`; laziness does not change whether a pattern matches).  Refused,
 * as Go refuses them: stacked repetition (`a**`), a repetition with
 * nothing to repeat, back-references, unknown escapes, invalid UTF-8.
 * Refused here although Go has them: (?flags) and non-capturing groups,
 * \b \B, \p{..} and \Q..\E.  Matching is unanchored, as Go's MatchString:
 * write ^…$ for a whole match.  Subjects longer than PG_RE_MAX_SUBJECT
 * bytes are refused (an error, never a match).
 */
#ifndef PG_RE_H
#define PG_RE_H

#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"

#define PG_RE_MAX_LEN 4096
#define PG_RE_MAX_DEPTH 64
#define PG_RE_MAX_REPEAT 1000
#define PG_RE_MAX_INSTS 10000
#define PG_RE_MAX_SUBJECT 8192

typedef struct pg_re pg_re;

/* Compile pattern; PG_EINVAL with the reason in err when refused. */
int pg_re_new(pg_re **out, const char *pattern, pg_err *err);
void pg_re_free(pg_re *re);

/* Whether re matches anywhere in s[0..len).  PG_ETOOBIG when len is above
 * PG_RE_MAX_SUBJECT, PG_ENOMEM; else PG_OK with *match set. */
int pg_re_match(const pg_re *re, const char *s, size_t len, bool *match, pg_err *err);

/* Compile, match the NUL-terminated s, free. */
int pg_re_find(const char *pattern, const char *s, bool *match, pg_err *err);

#endif
