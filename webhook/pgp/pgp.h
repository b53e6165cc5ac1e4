/*
 * pgp — verification of OpenPGP clearsigned messages (Helm .prov files)
 * against caller-supplied keyrings.  gpgme never leaves this module.
 *
 * A verification is one run of gpgv (the verify-only gpg) against the
 * keyring's home, its status lines read by this module; gpgme lists a
 * keyring's keys once, when its home is made.
 *
 * Trust model: every key in the given keyrings is trusted, as `helm verify
 * --keyring` trusts every key of its keyring.  Nothing else is: the user's
 * ~/.gnupg and $GNUPGHOME are never read or written.  Each keyring set gets a
 * private GnuPG home inside a temporary directory made by this module and
 * removed by pg_pgp_free (or, for a stored handle, in the caller's store).
 *
 * Threads: a pg_pgp holds one gpgme context and is used by one thread at a
 * time (the caller keeps one handle per worker).  pg_pgp_global_init must
 * have run once, before threads start, before any handle is made.
 */
#ifndef PG_PGP_H
#define PG_PGP_H

#include <stddef.h>
#include <stdint.h>

#include "err/err.h"

/* A keyring file's contents: binary OpenPGP packets or ASCII armor (one or
 * more "PGP PUBLIC KEY BLOCK"s).  Borrowed for the duration of a call. */
typedef struct pg_pgp_keyring {
	const unsigned char *data;
	size_t len;
} pg_pgp_keyring;

/* Largest keyring accepted (1 MiB: thousands of keys; real ones are a few KB). */
#define PG_PGP_KEYRING_MAX ((size_t)1 << 20)
/* Largest clearsigned message accepted (a .prov is metadata + one hash). */
#define PG_PGP_MESSAGE_MAX ((size_t)4 << 20)

typedef struct pg_pgp_result {
	char **uids; /* user ids of the signer's certificate, not revoked */
	size_t nuids;
	char *fpr;	   /* primary key fingerprint, upper-case hex */
	char *signing_fpr; /* fingerprint of the (sub)key that made the signature */
	char *plaintext;   /* signed text as gpg recovered it (dash-escapes
			      undone, lines end in "\n"); NUL-terminated */
	size_t plaintext_len;
} pg_pgp_result;

typedef struct pg_pgp pg_pgp;

/* Initialise gpgme for the process: once, from main, before threads start
 * (gpgme's global set-up is not thread-safe).  PG_EUNAVAIL when gpgme
 * cannot be used. */
int pg_pgp_global_init(void);

/* Make a handle.  It runs nothing and makes nothing until a keyring needs
 * a home; its gpgme context and temporary directory are made then.
 * PG_EUNAVAIL when gpg cannot be used (message says why). */
int pg_pgp_new(pg_pgp **out, pg_err *err);

/* The same, keeping each keyring's home (the keyring and the table of its
 * keys) in store, a directory named by the caller (made owner-only if it
 * does not exist), so a later process with the same keyring runs gpg once
 * per verification and lists no keys.  A store that is not ours or that
 * others may write is not used: the handle then works as pg_pgp_new's.
 * At most 32 homes are kept there; the least recently used go first. */
int pg_pgp_new_stored(pg_pgp **out, const char *store, pg_err *err);

/* The deadline (a pg_clock_ms() value; 0: none, a gpg run then has 30 s)
 * of every later gpgv run: at it, gpgv is killed and reaped and the call
 * fails with PG_ETIMEOUT ("gpg: did not finish in time"). */
void pg_pgp_set_deadline(pg_pgp *p, int64_t deadline);

/* Make every later pg_pgp_new handle a stored one on dir (the server's
 * --state-dir/pgp: its workers, the policy's load-time keyring check and
 * the next process share one home per keyring).  NULL: back to temporary
 * homes.  Once, before threads start.  PG_ENOMEM. */
int pg_pgp_set_store(const char *dir);

/* Remove the temporary directory and free everything; NULL is fine. */
void pg_pgp_free(pg_pgp *p);

/* Load-time check of a keyring (policy trust.keyrings): gpg imports it and
 * finds at least one OpenPGP public key.  PG_EINVAL "failed to load
 * keyring: ..." otherwise; PG_EUNAVAIL when gpg cannot run. */
int pg_pgp_keyring_check(pg_pgp *p, const pg_pgp_keyring *ring, pg_err *err);

/*
 * Verify the clearsigned msg (both Helm layouts; with or without the armor
 * CRC line) against the union of rings[0..nrings).  Imported keyrings are
 * cached in p by the digest of their bytes, so repeating a keyring set does
 * not import again.
 *
 * On success *out is the caller's (pg_pgp_result_free).  Errors:
 *   PG_EINVAL   no clearsigned block ("signature block not found"), keyring
 *               holds no usable key ("failed to load keyring: ...")
 *   PG_EVERIFY  bad signature, unknown signer ("openpgp: signature made by
 *               unknown entity"), expired or revoked key, expired signature
 *   PG_ETOOBIG  input past the bounds above
 *   PG_ETIMEOUT the deadline passed (pg_pgp_set_deadline)
 *   PG_EUNAVAIL gpg failed to run
 */
int pg_pgp_verify_clearsigned(pg_pgp_result **out, pg_pgp *p, const pg_pgp_keyring *rings,
			      size_t nrings, const char *msg, size_t len, pg_err *err);

void pg_pgp_result_free(pg_pgp_result *r);

#endif
