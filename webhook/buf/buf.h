/*
 * buf — a growable byte buffer with a hard upper bound, and bounded file
 * reading.  Every buffer that holds input from outside has a limit: hitting
 * it is PG_ETOOBIG, never a silent truncation (curl's dynbuf "toobig").
 * The data is always NUL-terminated one past len, so text can be used as a
 * C string (binary data may contain NULs; use len).
 */
#ifndef PG_BUF_H
#define PG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err/err.h"

typedef struct pg_buf {
	unsigned char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* bound on len; 0 means PG_BUF_DEFAULT_MAX */
} pg_buf;

/* 64 MiB: larger than any chart archive or manifest we accept anywhere. */
#define PG_BUF_DEFAULT_MAX ((size_t)64 << 20)

/* Zero the struct and set the bound (0: default). Never fails. */
void pg_buf_init(pg_buf *b, size_t max);

/* Append n bytes. PG_ETOOBIG past max, PG_ENOMEM; b unchanged on error. */
int pg_buf_append(pg_buf *b, const void *p, size_t n);

/* Make room for n more bytes (bounded by max like an append), so that
 * the appends after it do not grow the buffer.  PG_ETOOBIG, PG_ENOMEM. */
int pg_buf_reserve(pg_buf *b, size_t n);

/* Append a C string. */
int pg_buf_puts(pg_buf *b, const char *s);

/* Append printf-formatted text. */
int pg_buf_printf(pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hand the data to the caller (NUL-terminated, malloc'd; never NULL on
 * success: an empty buffer gives ""), resetting b.  *len_out may be NULL. */
int pg_buf_detach(char **out, size_t *len_out, pg_buf *b);

/* Drop the contents, keep the bound. */
void pg_buf_reset(pg_buf *b);

/* Free the data. Accepts a zeroed or NULL buf. */
void pg_buf_free(pg_buf *b);

/* Read a whole file, at most max bytes ("-" reads stdin).  *out is
 * malloc'd, NUL-terminated.  PG_EIO (message names the path), PG_ETOOBIG. */
int pg_buf_read_file(char **out, size_t *len_out, const char *path, size_t max, pg_err *err);

/* Overwrite n bytes at p with zeros in a way the compiler keeps (secrets:
 * passwords, tokens, keys).  NULL is fine. */
void pg_wipe(void *p, size_t n);
/* Wipe the C string s (its length) and free it.  NULL is fine. */
void pg_wipe_free(char *s);

/* strdup that returns NULL only on NULL input or out of memory. */
char *pg_strdup(const char *s);
/* strndup of n bytes. */
char *pg_strndup(const char *s, size_t n);

/* base64 (RFC 4648), the one codec of the program (buf/base64.c).
 * Decoding: whitespace is skipped; the standard alphabet; padding optional
 * but only at the end.  PG_EINVAL on a character outside the alphabet, data
 * after padding or one dangling character; PG_ETOOBIG; PG_ENOMEM. */
#define PG_B64_URLSAFE 1u     /* also accept '-' and '_' (base64url) */
#define PG_B64_STOP_AT_PAD 2u /* end at the first '=' and ignore the rest */
#define PG_B64_NO_SPACE 4u    /* whitespace is an error, not skipped */
#define PG_B64_STRICT 8u      /* unused trailing bits zero, padding completes the quantum */
/* Appended to out (bounded by out's max); out is unchanged on error. */
int pg_base64_decode(pg_buf *out, const char *s, size_t n, unsigned flags);
/* Into *out, malloc'd and NUL-terminated one past *out_len; PG_ETOOBIG when
 * the decoded size passes max. */
int pg_base64_decode_alloc(unsigned char **out, size_t *out_len, const char *s, size_t n,
			   size_t max, unsigned flags);

/* base64 encoding (standard alphabet, padded) of n bytes at p, appended to
 * out.  PG_ETOOBIG, PG_ENOMEM. */
int pg_base64_encode(pg_buf *out, const void *p, size_t n);
/* The same as a malloc'd C string in *out. */
int pg_base64_encode_alloc(char **out, const void *p, size_t n);

/* The character at p (n bytes available) as Go decodes UTF-8: its width,
 * or -1 when the bytes are not well-formed (overlong, surrogate, above
 * U+10FFFF, cut short). */
int pg_utf8_decode(const unsigned char *p, size_t n, uint32_t *r);

/* Replace every byte of s that is not part of well-formed UTF-8 with '?',
 * in place (NULL is ignored). */
void pg_utf8_clean(char *s);

/* The value of hex digit c (either case), or -1. */
int pg_hex_digit(int c);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void pg_hex(char *out, const unsigned char *p, size_t n);

#endif
