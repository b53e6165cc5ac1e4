/*
 * pgp internals shared by armor.c (pure parsing, no gpgme) and pgp.c.
 */
#ifndef PG_PGP_INT_H
#define PG_PGP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/buf.h"
#include "err/err.h"

/* A signature packet is a few hundred bytes; 64 KiB leaves room for
 * notations and never lets armor expand into something large. */
#define PG_PGP_SIG_MAX ((size_t)64 << 10)

/* RFC 4880 §6.1 CRC-24 of n bytes. */
uint32_t pg_pgp_crc24(const unsigned char *p, size_t n);

/*
 * Append the binary packets of every "-----BEGIN PGP <label>-----" armor
 * block in text to out.  Returns the number of blocks decoded (0: none) or
 * a negative PG_E* code.
 */
int pg_pgp_dearmor_all(pg_buf *out, const char *text, size_t n, const char *label);

/* True when data looks like ASCII armor rather than binary packets. */
int pg_pgp_is_armored(const unsigned char *data, size_t n);

/*
 * Parse a clearsigned message strictly and write a normalised copy to out:
 * the same "Hash:" headers and (still dash-escaped) text lines with "\n"
 * line ends, then the signature re-armored with a CRC-24 line and no armor
 * headers.  The copy is what gpg sees, so gpg 2.2's radix64 bug (T7071,
 * CRC-less armor without '=' padding) and prefix/suffix junk never reach it.
 * PG_EINVAL "signature block not found" when there is no well-formed block.
 */
int pg_pgp_clearsign_normalize(pg_buf *out, const char *msg, size_t n, pg_err *err);

/* gpg's status output of one verification is a few hundred bytes. */
#define PG_PGP_STATUS_MAX ((size_t)64 << 10)
/* Fingerprints are 40 (v4) or 64 (v5/v6) hex digits. */
#define PG_PGP_FPR_MAX 64
/* A signature made this far after now is taken as expired (clocks of the
 * signing machine and the cluster differ by less). */
#define PG_PGP_FUTURE_SKEW_S 300

/*
 * Run argv[0] (an absolute path) with argv: in[0..inlen) on its stdin, its
 * stdout appended to out and its status descriptor (fd 3) to status (both
 * bounded by their buffers' max), stderr to /dev/null, no other descriptor
 * inherited.  At the deadline (pg_clock_ms() value; 0: 30 s from now) the
 * child is killed by its pid and reaped.  PG_OK with *exit_code when it ran
 * to its end; PG_ETIMEOUT; PG_ETOOBIG; PG_EUNAVAIL when it could not run.
 */
int pg_pgp_run(const char *const argv[], const void *in, size_t inlen, pg_buf *out, pg_buf *status,
	       int64_t deadline, int *exit_code, pg_err *err);

/* What one signature's verdict line said (gpg doc/DETAILS, "Status codes"). */
typedef enum pg_pgp_sigkind {
	PG_PGP_SIG_NONE = 0,
	PG_PGP_SIG_GOOD,       /* GOODSIG */
	PG_PGP_SIG_BAD,	       /* BADSIG */
	PG_PGP_SIG_EXPIRED,    /* EXPSIG: the signature expired */
	PG_PGP_SIG_KEYEXPIRED, /* EXPKEYSIG */
	PG_PGP_SIG_REVOKED,    /* REVKEYSIG */
	PG_PGP_SIG_ERROR,      /* ERRSIG: not checked (rc says why) */
} pg_pgp_sigkind;

typedef struct pg_pgp_status {
	size_t nsigs;			  /* verdict lines: one per signature */
	pg_pgp_sigkind kind;		  /* the first signature's verdict */
	char keyid[PG_PGP_FPR_MAX + 1];	  /* its key id or fingerprint, upper-case hex */
	char fpr[PG_PGP_FPR_MAX + 1];	  /* VALIDSIG: the signing key's fingerprint */
	char primary[PG_PGP_FPR_MAX + 1]; /* VALIDSIG: its primary key's, "" if not given */
	int64_t sig_time;		  /* VALIDSIG: its creation time (Unix seconds), 0 if
					     not given */
	int errsig_rc;			  /* ERRSIG's reason (9: no public key) */
	bool nodata;			  /* NODATA: no OpenPGP data found */
} pg_pgp_status;

/* Read gpg's status lines ("[GNUPG:] KEYWORD ARGS\n"); other lines and
 * keywords are ignored.  PG_EINVAL when a verdict line the result depends
 * on is malformed (a key id that is not hex, a missing field). */
int pg_pgp_status_parse(pg_pgp_status *st, const char *text, size_t len);

#endif
