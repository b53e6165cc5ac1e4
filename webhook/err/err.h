/*
 * err — the one error type of provgate.
 *
 * Every fallible function returns 0 or a negative PG_E* code and may take a
 * caller-supplied pg_err that receives a human message.  That message is what
 * an operator reads in a deny reason or after "Error: ", so write it for them:
 * say what was wrong and with what, not where in the code it happened.
 */
#ifndef PG_ERR_H
#define PG_ERR_H

#include <stddef.h>

enum {
	PG_OK = 0,
	PG_EINTERNAL = -1, /* a bug or an impossible state */
	PG_EINVAL = -2,	   /* malformed input */
	PG_ENOMEM = -3,
	PG_ETIMEOUT = -4,  /* a deadline passed */
	PG_ENOTFOUND = -5, /* the thing asked for does not exist */
	PG_EVERIFY = -6,   /* evidence present but does not verify */
	PG_ETOOBIG = -7,   /* a size bound was hit */
	PG_EFETCH = -8,	   /* network or remote-server failure */
	PG_EPOLICY = -9,   /* the policy forbids it */
	PG_EIO = -10,	   /* local file could not be read */
	PG_EUNAVAIL = -11, /* a capability is not available */
	PG_EDENIED = -12,  /* refused by a guard (host not allowed, ...) */
};

/* Longest message kept; longer messages are truncated with "...". */
#define PG_ERR_MSG_MAX 1024

typedef struct pg_err {
	int code;
	char msg[PG_ERR_MSG_MAX];
} pg_err;

/*
 * Record code and a printf-style message in err (which may be NULL) and
 * return code, so callers can write `return pg_err_set(err, PG_EINVAL, ...)`.
 * An earlier message is replaced.
 */
int pg_err_set(pg_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Prefix the existing message with a printf-style context ("fetching X: ").
 * Keeps the code.  Returns err->code (or PG_EINTERNAL when err is NULL).
 */
int pg_err_wrap(pg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to no error. */
void pg_err_clear(pg_err *err);

/* Short stable name of a code ("timeout", "verify", ...), for logs/metrics. */
const char *pg_err_name(int code);

#endif
