/*
 * err — formatting of pg_err messages.  Never allocates: a pg_err lives on
 * the caller's stack and is safe to use on any thread.
 */
#include "err/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
mark_truncated(pg_err *err, int n)
{
	if (n >= (int)sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
}

int
pg_err_set(pg_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	else
		mark_truncated(err, n);
	return code;
}

int
pg_err_wrap(pg_err *err, const char *fmt, ...)
{
	char prefix[PG_ERR_MSG_MAX];
	char old[PG_ERR_MSG_MAX];
	va_list ap;
	int n;

	if (err == NULL)
		return PG_EINTERNAL;
	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return err->code;
	memcpy(old, err->msg, sizeof(old));
	n = snprintf(err->msg, sizeof(err->msg), "%s%s", prefix, old);
	mark_truncated(err, n);
	return err->code;
}

void
pg_err_clear(pg_err *err)
{
	if (err == NULL)
		return;
	err->code = PG_OK;
	err->msg[0] = '\0';
}

const char *
pg_err_name(int code)
{
	switch (code) {
	case PG_OK:
		return "ok";
	case PG_EINVAL:
		return "invalid";
	case PG_ENOMEM:
		return "nomem";
	case PG_ETIMEOUT:
		return "timeout";
	case PG_ENOTFOUND:
		return "notfound";
	case PG_EVERIFY:
		return "verify";
	case PG_ETOOBIG:
		return "toobig";
	case PG_EFETCH:
		return "fetch";
	case PG_EPOLICY:
		return "policy";
	case PG_EIO:
		return "io";
	case PG_EUNAVAIL:
		return "unavailable";
	case PG_EDENIED:
		return "denied";
	default:
		return "internal";
	}
}
