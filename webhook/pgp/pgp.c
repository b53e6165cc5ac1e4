/*
 * pgp — verification of clearsigned messages by gpgv.  The only file that
 * includes gpgme.
 *
 * Each keyring set is written (binary, armor removed) as the pubring.gpg of
 * a private GnuPG home under this handle's temporary directory, with a
 * gpg.conf that trusts every key in it and never goes to the network.  Keys
 * are not "imported": gpg 2.2's import starts a gpg-agent per home, a
 * process we would then have to hunt down; reading a legacy keyring file
 * needs no agent.  The homes are cached by the SHA-256 of the keyring bytes.
 *
 * When a home is made, one key listing (gpgme) records every key's primary
 * and subkey fingerprints, algorithms and user ids (the "key table").  A
 * verification is then one run of gpgv against the home's pubring.gpg
 * (pgp/run.c: posix_spawn, bounded by the handle's deadline), its status
 * lines read by pgp/status.c; who signed is looked up in the table, not
 * asked of gpg.  gpgme is not used for it: through gpgme every run costs
 * two more gpg processes (`gpg --version` when the context is made and
 * again when it is pointed at a home) and a double fork.  A stored handle
 * (pg_pgp_new_stored, for the command line) keeps its homes in a directory
 * of the caller's, named by the digest, with the table in a file beside the
 * keyring: a new process verifying with a keyring it has seen before
 * writes nothing, lists nothing and runs gpgv once.  A stored home is used
 * only when its directory is ours, not a symlink and closed to others, and
 * its keyring file still hashes to what the table says; otherwise it is
 * made afresh.
 *
 * What this file must never do: decide validity from anything but gpg's
 * verdict line for the one signature (GOODSIG, and gpgv's exit status 0),
 * hand gpg the caller's bytes unnormalised, or touch the user's own GnuPG
 * home.
 */
#include "pgp/pgp.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdbool.h>
#include <time.h>
#include <ftw.h>
#include <gpgme.h>
#include "digest/digest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf/buf.h"
#include "pgp/pgp_int.h"

/* Keyring sets kept imported per handle; a policy names a handful. */
#define HOMES_MAX 8
#define FPR_MAX PG_PGP_FPR_MAX
/* User ids kept per signer. */
#define UIDS_MAX 64

/* Keys recorded per home (a keyring past this is still verified; signers
 * beyond the table are then looked up with gpg). */
#define KEYS_MAX 256
/* Subkeys recorded per key. */
#define SUBKEYS_MAX 32
/* Homes kept in a store directory; the least recently used go first. */
#define STORE_HOMES_MAX 32
/* Age past which a half-made home in the store is a killed process's. */
#define STORE_LEFTOVER_SECS 600
/* The key table file in a stored home, and its first line. */
#define KEYTAB_FILE "provgate-keys"
#define KEYTAB_MAGIC "provgate-keys 2"
/* Largest key table file read back. */
#define KEYTAB_MAX ((size_t)1 << 20)

typedef struct keyinfo {
	char *subs[SUBKEYS_MAX]; /* upper-case fingerprints; subs[0] is the primary */
	int algos[SUBKEYS_MAX];	 /* their gpgme public-key algorithms */
	size_t nsubs;
	char **uids; /* not revoked, not invalid */
	size_t nuids;
} keyinfo;

typedef struct home {
	unsigned char key[32]; /* SHA-256 over the keyring set */
	char *path;	       /* NULL: slot empty */
	unsigned long used;    /* LRU stamp */
	keyinfo *keys;
	size_t nkeys;
	bool complete; /* every key of the keyring is in keys */
	bool stored;   /* lives in the store: kept when dropped */
} home;

struct pg_pgp {
	gpgme_ctx_t ctx;  /* made when gpgme is first needed (listing a new home) */
	char *ctx_home;	  /* the home ctx points at */
	home *cur;	  /* the home select_home chose last */
	char *tmpdir;	  /* made when the first temporary home is */
	int64_t deadline; /* for each gpg run; 0: none given */
	char *store;	  /* NULL: homes live in tmpdir only */
	home homes[HOMES_MAX];
	unsigned long tick;
	unsigned seq;
};

static int
gpg_fail(pg_err *err, gpgme_error_t ge, const char *what)
{
	return pg_err_set(err, PG_EUNAVAIL, "gpg: %s: %s", what, gpgme_strerror(ge));
}

/* Make the store directory (and its parents) owner-only; refuse one that
 * is not ours or that others may write. */
static int
store_ready(const char *dir)
{
	char path[4096];
	struct stat st;
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(path) || dir[0] != '/')
		return -1;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		path[i] = dir[i];
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		return -1;
	return 0;
}

static int new_handle(pg_pgp **out, const char *store, pg_err *err);
static void rm_tree(const char *path);

int
pg_pgp_global_init(void)
{
	/* gpgme asks gpgconf where everything is and probes every engine's
	 * version (five processes, ~30 ms) before the first operation; we only
	 * ever run gpg, at its Debian path. */
	(void)gpgme_set_global_flag("disable-gpgconf", "1");
	return gpgme_check_version(NULL) != NULL ? PG_OK : PG_EUNAVAIL;
}

/* The store every pg_pgp_new handle uses (pg_pgp_set_store). */
static char *g_store;

int
pg_pgp_set_store(const char *dir)
{
	char *d = NULL;

	if (dir && (d = pg_strdup(dir)) == NULL)
		return PG_ENOMEM;
	free(g_store);
	g_store = d;
	return PG_OK;
}

int
pg_pgp_new(pg_pgp **out, pg_err *err)
{
	return g_store ? pg_pgp_new_stored(out, g_store, err) : new_handle(out, NULL, err);
}

int
pg_pgp_new_stored(pg_pgp **out, const char *store, pg_err *err)
{
	return new_handle(out, store && store_ready(store) == 0 ? store : NULL, err);
}

/* A handle starts no process and makes no directory: gpgme's context (its
 * first use runs `gpg --version`) and the temporary directory are made
 * when a home must be made, so a verification against a stored home is
 * one gpgv run and nothing else. */
static int
new_handle(pg_pgp **out, const char *store, pg_err *err)
{
	pg_pgp *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	if (store && (p->store = pg_strdup(store)) == NULL) {
		free(p);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	*out = p;
	return PG_OK;
}

void
pg_pgp_set_deadline(pg_pgp *p, int64_t deadline)
{
	if (p)
		p->deadline = deadline;
}

/* The temporary directory for homes that are not stored. */
static int
ensure_tmpdir(pg_pgp *p, pg_err *err)
{
	const char *tmp = getenv("TMPDIR");
	pg_buf path;
	int rc;

	if (p->tmpdir)
		return PG_OK;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	pg_buf_init(&path, 4096);
	if (pg_buf_printf(&path, "%s/provgate-pgp.XXXXXX", tmp) != PG_OK) {
		pg_buf_free(&path);
		return pg_err_set(err, PG_EINVAL, "TMPDIR too long");
	}
	if (mkdtemp((char *)path.data) == NULL) {
		rc = pg_err_set(err, PG_EUNAVAIL, "cannot make a temporary directory in %s: %s",
				tmp, strerror(errno));
		pg_buf_free(&path);
		return rc;
	}
	if (pg_buf_detach(&p->tmpdir, NULL, &path) != PG_OK) {
		rm_tree((char *)path.data);
		pg_buf_free(&path);
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	}
	return PG_OK;
}

/* gpgme's context, for listing keys (and, when a keyring's table could not
 * hold every key, looking one up). */
static int
ensure_ctx(pg_pgp *p, pg_err *err)
{
	gpgme_error_t ge;

	if (p->ctx)
		return PG_OK;
	if ((ge = gpgme_new(&p->ctx)) != 0)
		return gpg_fail(err, ge, "cannot create a context");
	if ((ge = gpgme_set_protocol(p->ctx, GPGME_PROTOCOL_OpenPGP)) != 0) {
		gpgme_release(p->ctx);
		p->ctx = NULL;
		return gpg_fail(err, ge, "OpenPGP engine unavailable");
	}
	gpgme_set_offline(p->ctx, 1);
	(void)gpgme_set_keylist_mode(p->ctx, GPGME_KEYLIST_MODE_LOCAL);
	return PG_OK;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

static void
rm_tree(const char *path)
{
	if (path != NULL)
		(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
keys_free(keyinfo *keys, size_t n)
{
	size_t i, j;

	for (i = 0; keys && i < n; i++) {
		for (j = 0; j < keys[i].nsubs; j++)
			free(keys[i].subs[j]);
		for (j = 0; j < keys[i].nuids; j++)
			free(keys[i].uids[j]);
		free(keys[i].uids);
	}
	free(keys);
}

static void
home_drop(home *h)
{
	keys_free(h->keys, h->nkeys);
	if (!h->stored)
		rm_tree(h->path);
	free(h->path);
	memset(h, 0, sizeof(*h));
}

void
pg_pgp_free(pg_pgp *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < HOMES_MAX; i++)
		home_drop(&p->homes[i]);
	if (p->ctx)
		gpgme_release(p->ctx);
	free(p->ctx_home);
	if (p->tmpdir)
		rm_tree(p->tmpdir);
	free(p->tmpdir);
	free(p->store);
	free(p);
}

void
pg_pgp_result_free(pg_pgp_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nuids; i++)
		free(r->uids[i]);
	free(r->uids);
	free(r->fpr);
	free(r->signing_fpr);
	free(r->plaintext);
	free(r);
}

static int
write_file(const char *dir, const char *name, const void *data, size_t len, pg_err *err)
{
	char path[4200];
	FILE *f;
	int fd, ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return pg_err_set(err, PG_EINTERNAL, "temporary path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
		if (fd >= 0)
			close(fd);
		return pg_err_set(err, PG_EUNAVAIL, "cannot write %s: %s", path, strerror(errno));
	}
	ok = fwrite(data, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	return ok ? PG_OK : pg_err_set(err, PG_EUNAVAIL, "cannot write %s", path);
}

/* Binary packets of all rings, armor removed. */
static int
rings_binary(pg_buf *bin, const pg_pgp_keyring *rings, size_t nrings, pg_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < nrings; i++) {
		const pg_pgp_keyring *r = &rings[i];

		if (r->len > PG_PGP_KEYRING_MAX)
			return pg_err_set(err, PG_ETOOBIG,
					  "failed to load keyring: larger than %zu bytes",
					  (size_t)PG_PGP_KEYRING_MAX);
		if (pg_pgp_is_armored(r->data, r->len)) {
			rc = pg_pgp_dearmor_all(bin, (const char *)r->data, r->len,
						"PUBLIC KEY BLOCK");
			if (rc == 0)
				return pg_err_set(err, PG_EINVAL,
						  "failed to load keyring: no PGP PUBLIC KEY BLOCK "
						  "in armored input");
			if (rc < 0)
				return pg_err_set(err, rc,
						  "failed to load keyring: malformed armor");
		} else if (r->len == 0 || (r->data[0] & 0x80) == 0) {
			return pg_err_set(err, PG_EINVAL,
					  "failed to load keyring: openpgp: invalid data: tag byte "
					  "does not have MSB set");
		} else if ((rc = pg_buf_append(bin, r->data, r->len)) != PG_OK) {
			return pg_err_set(err, rc, "failed to load keyring: too large");
		}
	}
	return PG_OK;
}

static int
rings_digest(unsigned char out[32], const pg_pgp_keyring *rings, size_t nrings)
{
	pg_digest_ctx *md;
	unsigned char lenb[8];
	size_t i;
	int b, rc;

	if ((rc = pg_digest_begin(&md, PG_DIGEST_SHA256)) != PG_OK)
		return rc;
	for (i = 0; rc == PG_OK && i < nrings; i++) {
		for (b = 0; b < 8; b++)
			lenb[b] = (unsigned char)((uint64_t)rings[i].len >> (56 - 8 * b));
		rc = pg_digest_update(md, lenb, 8);
		if (rc == PG_OK)
			rc = pg_digest_update(md, rings[i].data, rings[i].len);
	}
	if (rc != PG_OK) {
		pg_digest_abort(md);
		return rc;
	}
	return pg_digest_end(md, out);
}

/* Point gpgme's context at a home (each change runs `gpg --version`). */
static int
use_home(pg_pgp *p, const char *path, pg_err *err)
{
	gpgme_error_t ge;
	int rc;

	if (p->ctx_home && strcmp(p->ctx_home, path) == 0)
		return PG_OK;
	if ((rc = ensure_ctx(p, err)) != PG_OK)
		return rc;
	free(p->ctx_home);
	p->ctx_home = NULL;
	if ((ge = gpgme_ctx_set_engine_info(p->ctx, GPGME_PROTOCOL_OpenPGP, NULL, path)) != 0)
		return gpg_fail(err, ge, "cannot select the keyring home");
	if ((p->ctx_home = pg_strdup(path)) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	return PG_OK;
}

static char *
upper_dup(const char *s)
{
	char *d = pg_strndup(s, strnlen(s, FPR_MAX));
	size_t i;

	for (i = 0; d && d[i]; i++)
		if (d[i] >= 'a' && d[i] <= 'f')
			d[i] = (char)(d[i] - 'a' + 'A');
	return d;
}

/* Record one listed key in h's table (up to KEYS_MAX keys). */
static int
table_add(home *h, gpgme_key_t k)
{
	keyinfo *ki;
	gpgme_subkey_t sk;
	gpgme_user_id_t u;
	size_t n = 0;

	if (k->subkeys == NULL || k->subkeys->fpr == NULL)
		return PG_OK;
	if (h->nkeys == KEYS_MAX) {
		h->complete = false;
		return PG_OK;
	}
	if (h->keys == NULL && (h->keys = calloc(KEYS_MAX, sizeof(*h->keys))) == NULL)
		return PG_ENOMEM;
	ki = &h->keys[h->nkeys++];
	for (sk = k->subkeys; sk && ki->nsubs < SUBKEYS_MAX; sk = sk->next) {
		if (sk->fpr == NULL)
			continue;
		ki->algos[ki->nsubs] = (int)sk->pubkey_algo;
		if ((ki->subs[ki->nsubs++] = upper_dup(sk->fpr)) == NULL)
			return PG_ENOMEM;
	}
	if (sk != NULL)
		h->complete = false;
	for (u = k->uids; u; u = u->next)
		n++;
	if (n > UIDS_MAX)
		n = UIDS_MAX;
	if (n && (ki->uids = calloc(n, sizeof(char *))) == NULL)
		return PG_ENOMEM;
	for (u = k->uids; u && ki->nuids < n; u = u->next) {
		if (u->revoked || u->invalid || u->uid == NULL)
			continue;
		if ((ki->uids[ki->nuids++] = pg_strdup(u->uid)) == NULL)
			return PG_ENOMEM;
	}
	return PG_OK;
}

/* List the keys gpg can read from the current home into h's table. */
static int
list_keys(pg_pgp *p, home *h, pg_err *err)
{
	gpgme_key_t k;
	gpgme_error_t ge;
	int rc = PG_OK;

	h->complete = true;
	if ((ge = gpgme_op_keylist_start(p->ctx, NULL, 0)) != 0)
		return gpg_fail(err, ge, "cannot list keys");
	while ((ge = gpgme_op_keylist_next(p->ctx, &k)) == 0) {
		if (rc == PG_OK)
			rc = table_add(h, k);
		gpgme_key_unref(k);
	}
	(void)gpgme_op_keylist_end(p->ctx);
	if (rc != PG_OK)
		return pg_err_set(err, rc, "out of memory");
	if (gpgme_err_code(ge) != GPG_ERR_EOF)
		return pg_err_set(err, PG_EINVAL, "failed to load keyring: %s", gpgme_strerror(ge));
	return PG_OK;
}

/* The key table as a file: the magic and the keyring file's SHA-256 on the
 * first line, then per key "K", its fingerprints and gpgme public-key
 * algorithms as "S <FPR> <ALGO>" and its user
 * ids as "U <hex>" (a user id may hold any byte). */
static int
table_write(const home *h, const unsigned char ringsum[32], pg_err *err)
{
	pg_buf b;
	char sum[PG_SHA256_HEX_MAX];
	size_t i, j, k;
	int rc = PG_OK;

	pg_buf_init(&b, KEYTAB_MAX);
	pg_hex(sum, ringsum, 32);
	rc = pg_buf_printf(&b, "%s %s %s\n", KEYTAB_MAGIC, sum,
			   h->complete ? "complete" : "partial");
	for (i = 0; rc == PG_OK && i < h->nkeys; i++) {
		rc = pg_buf_printf(&b, "K\n");
		for (j = 0; rc == PG_OK && j < h->keys[i].nsubs; j++)
			rc =
			    pg_buf_printf(&b, "S %s %d\n", h->keys[i].subs[j], h->keys[i].algos[j]);
		for (j = 0; rc == PG_OK && j < h->keys[i].nuids; j++) {
			const char *u = h->keys[i].uids[j];

			rc = pg_buf_printf(&b, "U ");
			for (k = 0; rc == PG_OK && u[k]; k++)
				rc = pg_buf_printf(&b, "%02x", (unsigned)(unsigned char)u[k]);
			if (rc == PG_OK)
				rc = pg_buf_printf(&b, "\n");
		}
	}
	if (rc == PG_OK)
		rc = write_file(h->path, KEYTAB_FILE, b.data, b.len, err);
	else
		rc = pg_err_set(err, rc, "key table too large");
	pg_buf_free(&b);
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Read a stored home's table back; -1 when it is missing or malformed, or
 * when the keyring file beside it, or the one the table was made from, is
 * not the keyring asked for (want: SHA-256 of its binary packets). */
static int
table_read(home *h, const char *dir, const unsigned char want[32])
{
	char path[4200], sum[PG_SHA256_HEX_MAX], *tab = NULL, *ring = NULL, *line, *next, *end;
	unsigned char ringsum[32];
	size_t tablen = 0, ringlen = 0;
	keyinfo *ki = NULL;
	int ok = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, KEYTAB_FILE) >= sizeof(path) ||
	    pg_buf_read_file(&tab, &tablen, path, KEYTAB_MAX, NULL) != PG_OK ||
	    strlen(tab) != tablen ||
	    (size_t)snprintf(path, sizeof(path), "%s/pubring.gpg", dir) >= sizeof(path) ||
	    pg_buf_read_file(&ring, &ringlen, path, (size_t)HOMES_MAX * PG_PGP_KEYRING_MAX, NULL) !=
		PG_OK ||
	    pg_sha256(ringsum, ring, ringlen) != PG_OK || memcmp(ringsum, want, 32) != 0)
		goto out;
	pg_hex(sum, ringsum, 32);
	line = tab;
	if ((next = strchr(line, '\n')) == NULL)
		goto out;
	*next++ = '\0';
	if (strncmp(line, KEYTAB_MAGIC " ", sizeof(KEYTAB_MAGIC)) != 0 ||
	    strncmp(line + sizeof(KEYTAB_MAGIC), sum, 64) != 0)
		goto out;
	end = line + sizeof(KEYTAB_MAGIC) + 64;
	if (strcmp(end, " complete") == 0)
		h->complete = true;
	else if (strcmp(end, " partial") == 0)
		h->complete = false;
	else
		goto out;
	if ((h->keys = calloc(KEYS_MAX, sizeof(*h->keys))) == NULL)
		goto out;
	for (line = next; *line; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			goto out;
		*next++ = '\0';
		if (strcmp(line, "K") == 0) {
			if (h->nkeys == KEYS_MAX)
				goto out;
			ki = &h->keys[h->nkeys++];
		} else if (ki && line[0] == 'S' && line[1] == ' ' && ki->nsubs < SUBKEYS_MAX) {
			char *sp = strchr(line + 2, ' '), *e = NULL;
			long algo;

			if (sp == NULL || (size_t)(sp - (line + 2)) > FPR_MAX)
				goto out;
			*sp = '\0';
			errno = 0;
			algo = strtol(sp + 1, &e, 10);
			if (errno || e == sp + 1 || *e != '\0' || algo < 0 || algo > 1000)
				goto out;
			ki->algos[ki->nsubs] = (int)algo;
			if ((ki->subs[ki->nsubs++] = pg_strdup(line + 2)) == NULL)
				goto out;
		} else if (ki && line[0] == 'U' && line[1] == ' ' && ki->nuids < UIDS_MAX) {
			size_t n = strlen(line + 2), i;
			char *u;

			if (n % 2 || (u = malloc(n / 2 + 1)) == NULL)
				goto out;
			for (i = 0; i < n / 2; i++) {
				int hi = hexval(line[2 + 2 * i]), lo = hexval(line[3 + 2 * i]);

				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
					free(u);
					goto out;
				}
				u[i] = (char)(hi * 16 + lo);
			}
			u[n / 2] = '\0';
			if (ki->uids == NULL &&
			    (ki->uids = calloc(UIDS_MAX, sizeof(char *))) == NULL) {
				free(u);
				goto out;
			}
			ki->uids[ki->nuids++] = u;
		} else {
			goto out;
		}
	}
	ok = h->nkeys > 0 ? 0 : -1;
out:
	if (ok != 0) {
		keys_free(h->keys, h->nkeys);
		h->keys = NULL;
		h->nkeys = 0;
	}
	free(tab);
	free(ring);
	return ok;
}

/* A stored home's directory is usable only when it is ours and closed to
 * others, as the store itself is. */
static bool
dir_trusted(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       (st.st_mode & 077) == 0;
}

/* Keep at most STORE_HOMES_MAX homes in the store: remove the oldest
 * (by modification time; a used home is touched).  A half-made home or one
 * moved aside (.new.*, .old.*) that a killed process left for more than
 * STORE_LEFTOVER_SECS is removed too. */
static void
store_prune(const char *store)
{
	DIR *d = opendir(store);
	struct dirent *e;
	char oldest[4200] = "", path[4200];
	time_t t_old = 0;
	struct stat st;
	size_t n = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if ((strncmp(e->d_name, ".new.", 5) == 0 || strncmp(e->d_name, ".old.", 5) == 0) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", store, e->d_name) <
			sizeof(path) &&
		    lstat(path, &st) == 0 && st.st_mtime + STORE_LEFTOVER_SECS < time(NULL)) {
			rm_tree(path);
			continue;
		}
		if (strlen(e->d_name) != 64 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", store, e->d_name) >=
			sizeof(path) ||
		    lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		n++;
		if (oldest[0] == '\0' || st.st_mtime < t_old) {
			t_old = st.st_mtime;
			(void)snprintf(oldest, sizeof(oldest), "%s", path);
		}
	}
	closedir(d);
	if (n >= STORE_HOMES_MAX && oldest[0])
		rm_tree(oldest);
}

/* Move the home just made to its name in the store.  What is in the way
 * there was found unusable (not ours, open to others, another keyring or
 * malformed) and is moved aside and removed first, unless a racing process
 * has meanwhile put a good home there: then that one is left alone (it may
 * be verifying with it) and this handle keeps its own, unstored. */
static void
store_keep(pg_pgp *p, home *h, const char *final, const unsigned char ringsum[32])
{
	char *dst = pg_strdup(final), aside[4300];
	home probe;

	if (dst == NULL)
		return;
	store_prune(p->store);
	if (rename(h->path, dst) != 0) {
		memset(&probe, 0, sizeof(probe));
		if ((errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR) ||
		    (dir_trusted(dst) && table_read(&probe, dst, ringsum) == 0) ||
		    (size_t)snprintf(aside, sizeof(aside), "%s/.old.%ld.%u", p->store,
				     (long)getpid(), p->seq) >= sizeof(aside) ||
		    rename(dst, aside) != 0) {
			keys_free(probe.keys, probe.nkeys);
			free(dst);
			return;
		}
		rm_tree(aside);
		if (rename(h->path, dst) != 0) {
			free(dst);
			return;
		}
	}
	free(h->path);
	h->path = dst;
	h->stored = true;
}

/* Find or make the home for this keyring set and select it in the context. */
static int
select_home(pg_pgp *p, const pg_pgp_keyring *rings, size_t nrings, pg_err *err)
{
	static const char conf[] =
	    "# written by provgate: every key in pubring.gpg is trusted, no network\n"
	    "trust-model always\n"
	    "no-auto-key-retrieve\n"
	    "auto-key-locate local\n"
	    "no-greeting\n";
	unsigned char key[32], ringsum[32];
	char keyhex[PG_SHA256_HEX_MAX];
	home *h = NULL;
	pg_buf bin, path, final;
	size_t i;
	int rc;

	pg_buf_init(&bin, (size_t)HOMES_MAX * PG_PGP_KEYRING_MAX);
	pg_buf_init(&path, 4200);
	pg_buf_init(&final, 4200);
	if (nrings == 0) {
		rc = pg_err_set(err, PG_EINVAL, "failed to load keyring: no keyring given");
		goto out;
	}
	if ((rc = rings_digest(key, rings, nrings)) != PG_OK) {
		rc = pg_err_set(err, rc, "cannot hash the keyring");
		goto out;
	}
	for (i = 0; i < HOMES_MAX; i++) {
		if (p->homes[i].path && memcmp(p->homes[i].key, key, 32) == 0) {
			p->homes[i].used = ++p->tick;
			p->cur = &p->homes[i];
			rc = PG_OK;
			goto out;
		}
	}
	/* Least recently used (or empty) slot. */
	h = &p->homes[0];
	for (i = 1; i < HOMES_MAX; i++)
		if (p->homes[i].path == NULL || (h->path && p->homes[i].used < h->used))
			h = &p->homes[i];
	if (p->cur == h)
		p->cur = NULL;
	home_drop(h);
	if ((rc = rings_binary(&bin, rings, nrings, err)) != PG_OK)
		goto out;
	if ((rc = pg_sha256(ringsum, bin.data, bin.len)) != PG_OK) {
		rc = pg_err_set(err, rc, "cannot hash the keyring");
		goto out;
	}
	pg_hex(keyhex, key, 32);
	if (p->store && pg_buf_printf(&final, "%s/%s", p->store, keyhex) == PG_OK &&
	    dir_trusted((char *) final.data) && table_read(h, (char *) final.data, ringsum) == 0) {
		/* A home an earlier process made from these very keys: nothing
		 * to write or list. */
		(void)utimes((char *) final.data, NULL);
		if ((rc = pg_buf_detach(&h->path, NULL, &final)) != PG_OK)
			goto out;
		h->stored = true;
		goto done;
	}
	/* A home for the store is made inside it (the rename below never
	 * crosses file systems); any other in the temporary directory. */
	if (p->store)
		rc = pg_buf_printf(&path, "%s/.new.XXXXXX", p->store);
	else if ((rc = ensure_tmpdir(p, err)) != PG_OK)
		goto out;
	else
		rc = pg_buf_printf(&path, "%s/h%u", p->tmpdir, p->seq);
	p->seq++;
	if (rc != PG_OK) {
		rc = pg_err_set(err, rc, "temporary path too long");
		goto out;
	}
	if (p->store ? mkdtemp((char *)path.data) == NULL : mkdir((char *)path.data, 0700) != 0) {
		rc = pg_err_set(err, PG_EUNAVAIL, "cannot make %s: %s", (char *)path.data,
				strerror(errno));
		goto out;
	}
	if ((rc = pg_buf_detach(&h->path, NULL, &path)) != PG_OK)
		goto out;
	if ((rc = write_file(h->path, "gpg.conf", conf, sizeof(conf) - 1, err)) != PG_OK ||
	    (rc = write_file(h->path, "pubring.gpg", bin.data, bin.len, err)) != PG_OK ||
	    (rc = use_home(p, h->path, err)) != PG_OK || (rc = list_keys(p, h, err)) != PG_OK)
		goto out;
	if (h->nkeys == 0) {
		rc = pg_err_set(err, PG_EINVAL,
				"failed to load keyring: no OpenPGP public key found");
		goto out;
	}
	/* Keep it in the store for the next process: written whole, then
	 * moved in one rename (a racing process either finds it whole or
	 * makes its own). */
	if (p->store && final.len && table_write(h, ringsum, NULL) == PG_OK)
		store_keep(p, h, (const char *) final.data, ringsum);
done:
	memcpy(h->key, key, 32);
	h->used = ++p->tick;
	p->cur = h;
	h = NULL;
	rc = PG_OK;
out:
	if (h != NULL)
		home_drop(h);
	pg_buf_free(&bin);
	pg_buf_free(&path);
	pg_buf_free(&final);
	return rc;
}

static const char *
algo_name(gpgme_pubkey_algo_t a)
{
	switch (a) {
	case GPGME_PK_RSA:
	case GPGME_PK_RSA_S:
	case GPGME_PK_RSA_E:
		return "RSA";
	case GPGME_PK_DSA:
		return "DSA";
	case GPGME_PK_ECDSA:
		return "ECDSA";
	case GPGME_PK_EDDSA:
		return "EdDSA";
	default:
		return "signature";
	}
}

/* The key of the table whose (sub)key fingerprint ends in id (a
 * fingerprint whole, or a key id tail of at least 16 digits); *sub its
 * index.  NULL when the table has none. */
static const keyinfo *
table_find(const home *h, const char *id, size_t *sub)
{
	size_t i, j, fl = strlen(id);

	for (i = 0; h && fl >= 16 && i < h->nkeys; i++)
		for (j = 0; j < h->keys[i].nsubs; j++) {
			const char *f = h->keys[i].subs[j];
			size_t kl = strlen(f);

			if (kl >= fl && strcasecmp(f + kl - fl, id) == 0) {
				*sub = j;
				return &h->keys[i];
			}
		}
	return NULL;
}

/* The algorithm of the key that made a bad signature (gpg does not say):
 * from the key table, else (a table that could not hold every key) asked of
 * gpg through gpgme. */
static gpgme_pubkey_algo_t
sig_algo(pg_pgp *p, const char *keyid)
{
	gpgme_key_t key = NULL;
	gpgme_subkey_t sk;
	gpgme_pubkey_algo_t a = 0;
	const keyinfo *ki;
	size_t sub = 0, fl = strlen(keyid);
	pg_err ignored;

	if ((ki = table_find(p->cur, keyid, &sub)) != NULL)
		return (gpgme_pubkey_algo_t)ki->algos[sub];
	if (p->cur == NULL || p->cur->complete || use_home(p, p->cur->path, &ignored) != PG_OK ||
	    gpgme_get_key(p->ctx, keyid, &key, 0) != 0 || key == NULL)
		return 0;
	for (sk = key->subkeys; sk; sk = sk->next) {
		size_t kl = sk->fpr ? strlen(sk->fpr) : 0;

		if (kl >= fl && strcasecmp(sk->fpr + kl - fl, keyid) == 0) {
			a = sk->pubkey_algo;
			break;
		}
	}
	gpgme_key_unref(key);
	return a;
}

/* Map gpg's verdict on the one signature to Helm's (go-crypto's) words, as
 * gpgme's status and summary bits did (gpgme verify.c: ERRSIG 9 is a
 * missing key, any other ERRSIG reason a system error). */
static int
sig_verdict(pg_pgp *p, const pg_pgp_status *st, pg_err *err)
{
	switch (st->kind) {
	case PG_PGP_SIG_GOOD:
		break;
	case PG_PGP_SIG_ERROR:
		if (st->errsig_rc == 9)
			return pg_err_set(err, PG_EVERIFY,
					  "openpgp: signature made by unknown entity");
		return pg_err_set(err, PG_EVERIFY,
				  "openpgp: signature not acceptable (gpg summary 0x%x)",
				  (unsigned)GPGME_SIGSUM_SYS_ERROR);
	case PG_PGP_SIG_BAD:
		return pg_err_set(err, PG_EVERIFY,
				  "openpgp: invalid signature: %s verification failure",
				  algo_name(sig_algo(p, st->keyid)));
	case PG_PGP_SIG_REVOKED:
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature made by revoked key");
	case PG_PGP_SIG_KEYEXPIRED:
		return pg_err_set(err, PG_EVERIFY, "openpgp: key expired");
	case PG_PGP_SIG_EXPIRED:
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature expired");
	default:
		return pg_err_set(err, PG_EVERIFY, "openpgp: no signature found");
	}
	if (st->fpr[0] == '\0' && st->keyid[0] == '\0')
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature without a signer");
	/* gpgv never compares the creation time with now; Helm 4 (go-crypto)
	 * takes a signature from the future as expired. */
	if (st->sig_time > (int64_t)time(NULL) + PG_PGP_FUTURE_SKEW_S) {
		char when[40];
		time_t t = (time_t)st->sig_time;
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			(void)snprintf(when, sizeof(when), "%lld", (long long)st->sig_time);
		return pg_err_set(err, PG_EVERIFY,
				  "openpgp: signature expired: it was made in the future (%s)",
				  when);
	}
	return PG_OK;
}

static int
copy_key(pg_pgp_result *r, const keyinfo *ki, const char *sigfpr)
{
	size_t i;

	if ((r->fpr = pg_strdup(ki->subs[0])) == NULL ||
	    (r->signing_fpr = upper_dup(sigfpr)) == NULL)
		return PG_ENOMEM;
	if (ki->nuids && (r->uids = calloc(ki->nuids, sizeof(char *))) == NULL)
		return PG_ENOMEM;
	for (i = 0; i < ki->nuids; i++) {
		if ((r->uids[i] = pg_strdup(ki->uids[i])) == NULL)
			return PG_ENOMEM;
		r->nuids++;
	}
	return PG_OK;
}

static int signer_lookup(pg_pgp_result *r, pg_pgp *p, const char *sigfpr, pg_err *err);

/* Who made the signature: from the home's key table (a fingerprint gpg
 * reports matches a recorded one whole, or as its key-id tail); from gpg
 * only when the table could not hold every key. */
static int
signer_info(pg_pgp_result *r, pg_pgp *p, const char *sigfpr, pg_err *err)
{
	home *h = p->cur;
	const keyinfo *ki;
	size_t sub = 0;

	if ((ki = table_find(h, sigfpr, &sub)) != NULL)
		return copy_key(r, ki, sigfpr) == PG_OK
			   ? PG_OK
			   : pg_err_set(err, PG_ENOMEM, "out of memory");
	if (h && h->complete)
		return pg_err_set(err, PG_EVERIFY,
				  "openpgp: signing key %s not found after verification", sigfpr);
	return signer_lookup(r, p, sigfpr, err);
}

static int
signer_lookup(pg_pgp_result *r, pg_pgp *p, const char *sigfpr, pg_err *err)
{
	gpgme_key_t key = NULL;
	gpgme_user_id_t u;
	gpgme_error_t ge;
	size_t n = 0;
	int rc = PG_ENOMEM;

	if (p->cur == NULL || (rc = use_home(p, p->cur->path, err)) != PG_OK)
		return p->cur ? rc : pg_err_set(err, PG_EINTERNAL, "no keyring home");
	rc = PG_ENOMEM;
	if ((ge = gpgme_get_key(p->ctx, sigfpr, &key, 0)) != 0 || key == NULL ||
	    key->subkeys == NULL || key->subkeys->fpr == NULL) {
		rc = pg_err_set(err, PG_EVERIFY,
				"openpgp: signing key %s not found after verification", sigfpr);
		goto out;
	}
	if ((r->fpr = upper_dup(key->subkeys->fpr)) == NULL ||
	    (r->signing_fpr = upper_dup(sigfpr)) == NULL)
		goto out;
	for (u = key->uids; u; u = u->next)
		n++;
	if (n > UIDS_MAX)
		n = UIDS_MAX;
	if (n && (r->uids = calloc(n, sizeof(char *))) == NULL)
		goto out;
	for (u = key->uids; u && r->nuids < n; u = u->next) {
		if (u->revoked || u->invalid || u->uid == NULL)
			continue;
		if ((r->uids[r->nuids] = pg_strdup(u->uid)) == NULL)
			goto out;
		r->nuids++;
	}
	rc = PG_OK;
out:
	if (rc == PG_ENOMEM)
		pg_err_set(err, rc, "out of memory");
	if (key)
		gpgme_key_unref(key);
	return rc;
}

/* gpgv, the verify-only gpg: every key in the given keyring is trusted, no
 * options file, no trust database, no agent.  At a fixed path: never
 * whatever PATH names first. */
static const char *
gpgv_path(void)
{
	static const char *const paths[] = {"/usr/bin/gpgv", "/bin/gpgv", "/usr/local/bin/gpgv"};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int
pg_pgp_verify_clearsigned(pg_pgp_result **out, pg_pgp *p, const pg_pgp_keyring *rings,
			  size_t nrings, const char *msg, size_t len, pg_err *err)
{
	int rc = PG_EINTERNAL, code = 0;
	pg_buf norm, plain, status;
	pg_pgp_status st;
	pg_pgp_result *r = NULL;
	const char *gpgv = gpgv_path();
	char ring[4200];

	pg_buf_init(&norm, PG_PGP_MESSAGE_MAX + 1024);
	pg_buf_init(&plain, PG_PGP_MESSAGE_MAX);
	pg_buf_init(&status, PG_PGP_STATUS_MAX);
	if (len > PG_PGP_MESSAGE_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "signed message larger than %zu bytes",
				(size_t)PG_PGP_MESSAGE_MAX);
		goto out;
	}
	if ((rc = pg_pgp_clearsign_normalize(&norm, msg, len, err)) != PG_OK)
		goto out;
	if ((rc = select_home(p, rings, nrings, err)) != PG_OK)
		goto out;
	if (gpgv == NULL) {
		rc = pg_err_set(err, PG_EUNAVAIL, "gpg: gpgv is not installed");
		goto out;
	}
	if ((size_t)snprintf(ring, sizeof(ring), "%s/pubring.gpg", p->cur->path) >= sizeof(ring)) {
		rc = pg_err_set(err, PG_EINTERNAL, "keyring path too long");
		goto out;
	}
	{
		const char *argv[] = {gpgv, "--homedir",   p->cur->path, "--keyring",
				      ring, "--status-fd", "3",		 "--output",
				      "-",  "-",	   NULL};

		if ((rc = pg_pgp_run(argv, norm.data, norm.len, &plain, &status, p->deadline, &code,
				     err)) != PG_OK)
			goto out;
	}
	if (pg_pgp_status_parse(&st, (const char *)status.data, status.len) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "openpgp: gpg's status output is malformed");
		goto out;
	}
	if (st.nsigs == 0) {
		rc = pg_err_set(err, PG_EVERIFY,
				st.nodata ? "openpgp: No data" : "openpgp: no signature found");
		goto out;
	}
	if (st.nsigs != 1) {
		rc = pg_err_set(err, PG_EVERIFY, "openpgp: expected one signature, found %zu",
				st.nsigs);
		goto out;
	}
	if ((rc = sig_verdict(p, &st, err)) != PG_OK)
		goto out;
	/* gpgv says good only with exit status 0: both must agree */
	if (code != 0) {
		rc = pg_err_set(err, PG_EVERIFY, "openpgp: signature not verified: gpgv exit %d",
				code);
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = signer_info(r, p, st.fpr[0] ? st.fpr : st.keyid, err)) != PG_OK)
		goto out;
	r->plaintext_len = plain.len;
	if (pg_buf_detach(&r->plaintext, NULL, &plain) != PG_OK) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	*out = r;
	r = NULL;
	rc = PG_OK;
out:
	pg_pgp_result_free(r);
	pg_buf_free(&norm);
	pg_buf_free(&plain);
	pg_buf_free(&status);
	return rc;
}

int
pg_pgp_keyring_check(pg_pgp *p, const pg_pgp_keyring *ring, pg_err *err)
{
	return select_home(p, ring, 1, err);
}
