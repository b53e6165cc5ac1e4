/*
 * pgp/status — gpg's machine-readable status lines (--status-fd, gnupg
 * doc/DETAILS "Format of the --status-fd output") for one verification.
 * Pure parsing: no gpg, no gpgme.  Only the words a verdict depends on are
 * read; the user-id text gpg appends to a verdict line is never used (who
 * signed comes from the keyring's key table).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgp/pgp_int.h"

#define PREFIX "[GNUPG:] "

/* Copy the next space-separated word of *s (at most max chars) into out,
 * upper-cased; 0 when it is 16..PG_PGP_FPR_MAX hex digits. */
static int
hex_word(char *out, size_t max, const char **s, const char *end)
{
	const char *p = *s;
	size_t n = 0;

	while (p < end && *p != ' ') {
		char c = *p++;

		if (c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) || n == max)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	*s = p < end ? p + 1 : p;
	return n >= 16 ? 0 : -1;
}

/* Skip k words. */
static const char *
skip_words(const char *p, const char *end, int k)
{
	while (k-- > 0 && p < end) {
		while (p < end && *p != ' ')
			p++;
		if (p < end)
			p++;
	}
	return p;
}

static bool
word_is(const char *p, const char *end, const char *w, const char **rest)
{
	size_t n = strlen(w);

	if ((size_t)(end - p) < n || memcmp(p, w, n) != 0 || (p + n < end && p[n] != ' '))
		return false;
	*rest = p + n < end ? p + n + 1 : p + n;
	return true;
}

static int
verdict(pg_pgp_status *st, pg_pgp_sigkind kind, const char *args, const char *end)
{
	char id[PG_PGP_FPR_MAX + 1];

	if (hex_word(id, PG_PGP_FPR_MAX, &args, end) != 0)
		return PG_EINVAL;
	if (st->nsigs++ == 0) {
		st->kind = kind;
		memcpy(st->keyid, id, sizeof(id));
	}
	if (kind == PG_PGP_SIG_ERROR) {
		long rc = 0;
		const char *p = skip_words(args, end, 4);
		int digits = 0;

		while (p < end && *p >= '0' && *p <= '9' && rc < 100000) {
			rc = rc * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (p < end && *p != ' '))
			return PG_EINVAL;
		if (st->nsigs == 1)
			st->errsig_rc = (int)rc;
	}
	return PG_OK;
}

/* A VALIDSIG time field: Unix seconds, or ISO 8601 "yyyymmddThhmmss"
 * (UTC); 0 when it is neither. */
static int64_t
status_time(const char *p, const char *end)
{
	char buf[32];
	size_t n = 0;
	struct tm tm;
	char *e;

	while (p + n < end && p[n] != ' ' && n < sizeof(buf) - 1) {
		buf[n] = p[n];
		n++;
	}
	buf[n] = '\0';
	if (n == 0)
		return 0;
	if (strspn(buf, "0123456789") == n)
		return n <= 12 ? (int64_t)strtoll(buf, NULL, 10) : 0;
	memset(&tm, 0, sizeof(tm));
	e = strptime(buf, "%Y%m%dT%H%M%S", &tm);
	return e && *e == '\0' ? (int64_t)timegm(&tm) : 0;
}

static int
validsig(pg_pgp_status *st, const char *args, const char *end)
{
	char fpr[PG_PGP_FPR_MAX + 1], primary[PG_PGP_FPR_MAX + 1] = "";
	const char *p = args;
	int64_t when;

	if (hex_word(fpr, PG_PGP_FPR_MAX, &p, end) != 0)
		return PG_EINVAL;
	when = status_time(skip_words(p, end, 1), end); /* after the date: the timestamp */
	p = skip_words(p, end, 8);
	if (p < end && hex_word(primary, PG_PGP_FPR_MAX, &p, end) != 0)
		return PG_EINVAL;
	if (st->fpr[0] == '\0') { /* the first signature's */
		memcpy(st->fpr, fpr, sizeof(fpr));
		memcpy(st->primary, primary, sizeof(primary));
		st->sig_time = when;
	}
	return PG_OK;
}

int
pg_pgp_status_parse(pg_pgp_status *st, const char *text, size_t len)
{
	static const struct {
		const char *word;
		pg_pgp_sigkind kind;
	} verdicts[] = {
	    {"GOODSIG", PG_PGP_SIG_GOOD},      {"BADSIG", PG_PGP_SIG_BAD},
	    {"EXPSIG", PG_PGP_SIG_EXPIRED},    {"EXPKEYSIG", PG_PGP_SIG_KEYEXPIRED},
	    {"REVKEYSIG", PG_PGP_SIG_REVOKED}, {"ERRSIG", PG_PGP_SIG_ERROR},
	};
	const char *line = text, *end = text + len;
	size_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	if (len > PG_PGP_STATUS_MAX)
		return PG_ETOOBIG;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *args;

		if (eol == NULL)
			eol = end; /* a last line without its newline */
		if ((size_t)(eol - line) > sizeof(PREFIX) - 1 &&
		    memcmp(line, PREFIX, sizeof(PREFIX) - 1) == 0) {
			const char *w = line + sizeof(PREFIX) - 1;

			for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
				if (word_is(w, eol, verdicts[i].word, &args)) {
					if ((rc = verdict(st, verdicts[i].kind, args, eol)) !=
					    PG_OK)
						return rc;
					break;
				}
			if (i == sizeof(verdicts) / sizeof(verdicts[0])) {
				if (word_is(w, eol, "VALIDSIG", &args)) {
					if ((rc = validsig(st, args, eol)) != PG_OK)
						return rc;
				} else if (word_is(w, eol, "NODATA", &args)) {
					st->nodata = true;
				}
			}
		}
		line = eol < end ? eol + 1 : end;
	}
	return PG_OK;
}
