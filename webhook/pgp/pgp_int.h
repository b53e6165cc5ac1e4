/*
 * pgp internals shared by armor.c (pure parsing, no gpgme) and pgp.c.
 */
#ifndef PG_PGP_INT_H
#define PG_PGP_INT_H

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

#endif
