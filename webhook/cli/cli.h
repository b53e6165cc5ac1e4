/*
 * cli — one function per provgate verb.  Each parses its own arguments and
 * returns the process exit code of DESIGN.md §3: 0 verified/allowed,
 * 1 not verified/denied (any reason, fetch failures included), 2 usage error
 * or unreadable local input.  Failures print "Error: <reason>" on stderr.
 */
#ifndef PG_CLI_H
#define PG_CLI_H

#define PG_EXIT_OK 0
#define PG_EXIT_DENY 1
#define PG_EXIT_USAGE 2

/* Bounds the verbs share, each defined once here. */
/* A key file (a PEM public key, well under 4 KiB; 64 KiB allows a PEM
 * certificate too). */
#define PG_CLI_KEY_FILE_MAX ((size_t)64 << 10)
/* The online verify verbs' whole verification, registry round trips
 * included, unless --timeout says; and the most --timeout may say. */
#define PG_CLI_VERIFY_TIMEOUT_MS (60 * 1000)
#define PG_CLI_VERIFY_TIMEOUT_MAX_MS (3600 * 1000)
/* --timeout of serve and review (a review's answer): 100 ms to 10 min. */
#define PG_CLI_REVIEW_TIMEOUT_MIN_MS 100
#define PG_CLI_REVIEW_TIMEOUT_MAX_MS (10 * 60 * 1000)

int pg_cmd_serve(int argc, char **argv);
int pg_cmd_review(int argc, char **argv);
int pg_cmd_verify_chart(int argc, char **argv);
int pg_cmd_verify_image(int argc, char **argv);
int pg_cmd_verify_bundle(int argc, char **argv);
int pg_cmd_verify_notation(int argc, char **argv);
int pg_cmd_verify_attestation(int argc, char **argv);
int pg_cmd_policy(int argc, char **argv);

/* `--help` / `-h`? */
#include <stdbool.h>
bool pg_cli_is_help(const char *arg);
/* The usage lines of every verb's help text (`provgate help`, the README's
 * usage block), on f. */
#include <stdio.h>
void pg_cli_usage(FILE *f);
/* Print verb's help (every flag it parses, described) on stdout; exit code
 * 0, or 2 for an unknown verb. */
int pg_cli_help(const char *verb);

/* Print "Error: <msg>\n" to stderr and return code. */
int pg_cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Argument helper: if argv[*i] is `name VALUE` or `name=VALUE`, store the
 * value in *val, advance *i past it and return 1; 0 if argv[*i] is another
 * argument; -1 (after printing an error) if the value is missing.
 */
int pg_cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

/* The same without printing: 1 with *val NULL when the value is missing,
 * for verbs that word that error themselves. */
int pg_cli_opt_raw(int argc, char **argv, int *i, const char *name, const char **val);

/* Parse an unsigned decimal within [min, max]; 0 on success. */
int pg_cli_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/*
 * The one form of every time flag: a duration ("10s", "500ms", "2m", "1h",
 * "1m30s"), or a bare number in bare_unit_ms (1000: the flag took seconds;
 * 1: milliseconds), within [min_ms, max_ms].  0 on success with *out_ms set;
 * -1 otherwise.  pg_cli_duration_fail prints the one error for it (bare
 * names the bare number's unit) and returns PG_EXIT_USAGE.
 */
#include <stdint.h>
int pg_cli_duration(const char *s, uint64_t bare_unit_ms, uint64_t min_ms, uint64_t max_ms,
		    uint64_t *out_ms);
int pg_cli_duration_fail(const char *flag, const char *s, uint64_t min_ms, uint64_t max_ms,
			 const char *bare);
/* The user's cache directory for gpg homes ($XDG_CACHE_HOME/provgate/pgp,
 * else ~/.cache/provgate/pgp) into out; -1 when neither is set (absolute)
 * or the path does not fit. */
int pg_cli_pgp_cache_dir(char *out, size_t size);

/* pg_cli_opt for a time flag: 1 with *out_ms set, 0 when argv[*i] is
 * another argument, -1 after printing the error. */
int pg_cli_time_opt(int argc, char **argv, int *i, const char *name, uint64_t bare_unit_ms,
		    uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms);

#endif
