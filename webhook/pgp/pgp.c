/*
 * pgp — gpgme-driven verification of clearsigned messages.  The only file
 * that includes gpgme.
 *
 * Each keyring set is written (binary, armor removed) as the pubring.gpg of
 * a private GnuPG home under this handle's temporary directory, with a
 * gpg.conf that trusts every key in it and never goes to the network.  Keys
 * are not "imported": gpg 2.2's import starts a gpg-agent per home, a
 * process we would then have to hunt down; reading a legacy keyring file
 * needs no agent.  The homes are cached by the SHA-256 of the keyring bytes.
 *
 * What this file must never do: decide validity from anything but gpgme's
 * per-signature status and summary bits, hand gpg the caller's bytes
 * unnormalised, or touch the user's own GnuPG home.
 */
#include "pgp/pgp.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gpgme.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf/buf.h"
#include "pgp/pgp_int.h"

/* Keyring sets kept imported per handle; a policy names a handful. */
#define HOMES_MAX 8
/* Fingerprints are 40 (v4) or 64 (v5/v6) hex digits. */
#define FPR_MAX 64
/* User ids kept per signer. */
#define UIDS_MAX 64

/* Signers seen in a home, remembered per home so a warm verification is
 * one gpg run (the verify) rather than two: a keyring's bytes fix its keys'
 * user ids and fingerprints; validity (expiry, revocation) is still judged
 * by gpg at every verify. */
#define SIGNERS_MAX 16
typedef struct signer {
	char *sigfpr; /* fingerprint gpg reported for the signature */
	pg_pgp_result info; /* fpr, signing_fpr, uids (no plaintext) */
} signer;

typedef struct home {
	unsigned char key[32]; /* SHA-256 over the keyring set */
	char *path;            /* NULL: slot empty */
	unsigned long used;    /* LRU stamp */
	signer signers[SIGNERS_MAX];
	size_t n_signers;
} home;

struct pg_pgp {
	gpgme_ctx_t ctx;
	home *cur; /* the home select_home chose last */
	char *tmpdir;
	home homes[HOMES_MAX];
	unsigned long tick;
	unsigned seq;
};

static int
gpg_fail(pg_err *err, gpgme_error_t ge, const char *what)
{
	return pg_err_set(err, PG_EUNAVAIL, "gpg: %s: %s", what, gpgme_strerror(ge));
}

int
pg_pgp_new(pg_pgp **out, pg_err *err)
{
	int rc = PG_ENOMEM;
	pg_pgp *p = NULL;
	gpgme_error_t ge;
	const char *tmp = getenv("TMPDIR");
	pg_buf path;

	pg_buf_init(&path, 4096);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if (pg_buf_printf(&path, "%s/provgate-pgp.XXXXXX", tmp) != PG_OK) {
		rc = pg_err_set(err, PG_EINVAL, "TMPDIR too long");
		goto out;
	}
	if (mkdtemp((char *)path.data) == NULL) {
		rc = pg_err_set(err, PG_EUNAVAIL, "cannot make a temporary directory in %s: %s",
				tmp, strerror(errno));
		goto out;
	}
	if (pg_buf_detach(&p->tmpdir, NULL, &path) != PG_OK)
		goto out;
	if ((ge = gpgme_new(&p->ctx)) != 0) {
		rc = gpg_fail(err, ge, "cannot create a context");
		goto out;
	}
	if ((ge = gpgme_set_protocol(p->ctx, GPGME_PROTOCOL_OpenPGP)) != 0) {
		rc = gpg_fail(err, ge, "OpenPGP engine unavailable");
		goto out;
	}
	gpgme_set_offline(p->ctx, 1);
	(void)gpgme_set_keylist_mode(p->ctx, GPGME_KEYLIST_MODE_LOCAL);
	*out = p;
	p = NULL;
	rc = PG_OK;
out:
	pg_buf_free(&path);
	pg_pgp_free(p);
	return rc;
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
signer_free(signer *sg)
{
	size_t i;

	free(sg->sigfpr);
	free(sg->info.fpr);
	free(sg->info.signing_fpr);
	for (i = 0; i < sg->info.nuids; i++)
		free(sg->info.uids[i]);
	free(sg->info.uids);
	memset(sg, 0, sizeof(*sg));
}

static void
home_drop(home *h)
{
	size_t i;

	for (i = 0; i < h->n_signers; i++)
		signer_free(&h->signers[i]);
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
	if (p->tmpdir)
		(void)rmdir(p->tmpdir);
	free(p->tmpdir);
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
			return pg_err_set(err, PG_ETOOBIG, "failed to load keyring: larger than %zu bytes",
					  (size_t)PG_PGP_KEYRING_MAX);
		if (pg_pgp_is_armored(r->data, r->len)) {
			rc = pg_pgp_dearmor_all(bin, (const char *)r->data, r->len, "PUBLIC KEY BLOCK");
			if (rc == 0)
				return pg_err_set(err, PG_EINVAL,
						  "failed to load keyring: no PGP PUBLIC KEY BLOCK in armored input");
			if (rc < 0)
				return pg_err_set(err, rc, "failed to load keyring: malformed armor");
		} else if (r->len == 0 || (r->data[0] & 0x80) == 0) {
			return pg_err_set(err, PG_EINVAL,
					  "failed to load keyring: openpgp: invalid data: tag byte does not have MSB set");
		} else if ((rc = pg_buf_append(bin, r->data, r->len)) != PG_OK) {
			return pg_err_set(err, rc, "failed to load keyring: too large");
		}
	}
	return PG_OK;
}

static int
rings_digest(unsigned char out[32], const pg_pgp_keyring *rings, size_t nrings)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char lenb[8];
	unsigned int olen = 0;
	size_t i;
	int b, ok;

	if (md == NULL)
		return PG_ENOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < nrings; i++) {
		for (b = 0; b < 8; b++)
			lenb[b] = (unsigned char)((uint64_t)rings[i].len >> (56 - 8 * b));
		ok = EVP_DigestUpdate(md, lenb, 8) == 1 &&
		     EVP_DigestUpdate(md, rings[i].data, rings[i].len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, out, &olen) == 1 && olen == 32;
	EVP_MD_CTX_free(md);
	return ok ? PG_OK : PG_EINTERNAL;
}

static int
use_home(pg_pgp *p, const char *path, pg_err *err)
{
	gpgme_error_t ge = gpgme_ctx_set_engine_info(p->ctx, GPGME_PROTOCOL_OpenPGP, NULL, path);

	return ge ? gpg_fail(err, ge, "cannot select the keyring home") : PG_OK;
}

/* Count the keys gpg can read from the current home. */
static int
count_keys(pg_pgp *p, size_t *n, pg_err *err)
{
	gpgme_key_t k;
	gpgme_error_t ge;

	*n = 0;
	if ((ge = gpgme_op_keylist_start(p->ctx, NULL, 0)) != 0)
		return gpg_fail(err, ge, "cannot list keys");
	while ((ge = gpgme_op_keylist_next(p->ctx, &k)) == 0) {
		(*n)++;
		gpgme_key_unref(k);
	}
	(void)gpgme_op_keylist_end(p->ctx);
	if (gpgme_err_code(ge) != GPG_ERR_EOF)
		return pg_err_set(err, PG_EINVAL, "failed to load keyring: %s", gpgme_strerror(ge));
	return PG_OK;
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
	unsigned char key[32];
	home *h = NULL;
	pg_buf bin, path;
	size_t i, nkeys;
	int rc;

	pg_buf_init(&bin, (size_t)HOMES_MAX * PG_PGP_KEYRING_MAX);
	pg_buf_init(&path, 4200);
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
			/* Selecting a home makes gpgme run `gpg --version` again:
			 * skip it when the context already points there. */
			rc = p->cur == &p->homes[i] ? PG_OK : use_home(p, p->homes[i].path, err);
			p->cur = rc == PG_OK ? &p->homes[i] : NULL;
			goto out;
		}
	}
	if ((rc = rings_binary(&bin, rings, nrings, err)) != PG_OK)
		goto out;
	/* Least recently used (or empty) slot. */
	h = &p->homes[0];
	for (i = 1; i < HOMES_MAX; i++)
		if (p->homes[i].path == NULL || (h->path && p->homes[i].used < h->used))
			h = &p->homes[i];
	if (p->cur == h)
		p->cur = NULL;
	home_drop(h);
	if ((rc = pg_buf_printf(&path, "%s/h%u", p->tmpdir, p->seq++)) != PG_OK) {
		rc = pg_err_set(err, rc, "temporary path too long");
		goto out;
	}
	if (mkdir((char *)path.data, 0700) != 0) {
		rc = pg_err_set(err, PG_EUNAVAIL, "cannot make %s: %s", (char *)path.data,
				strerror(errno));
		goto out;
	}
	if ((rc = pg_buf_detach(&h->path, NULL, &path)) != PG_OK)
		goto out;
	if ((rc = write_file(h->path, "gpg.conf", conf, sizeof(conf) - 1, err)) != PG_OK ||
	    (rc = write_file(h->path, "pubring.gpg", bin.data, bin.len, err)) != PG_OK ||
	    (rc = use_home(p, h->path, err)) != PG_OK ||
	    (rc = count_keys(p, &nkeys, err)) != PG_OK)
		goto out;
	if (nkeys == 0) {
		rc = pg_err_set(err, PG_EINVAL, "failed to load keyring: no OpenPGP public key found");
		goto out;
	}
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

/* The algorithm of the key that made s: gpg leaves pubkey_algo unset on a
 * bad signature, so look the issuer up in the keyring. */
static gpgme_pubkey_algo_t
sig_algo(gpgme_ctx_t ctx, gpgme_signature_t s)
{
	gpgme_key_t key = NULL;
	gpgme_subkey_t sk;
	gpgme_pubkey_algo_t a = s->pubkey_algo;
	size_t fl;

	if (a != 0 || s->fpr == NULL || gpgme_get_key(ctx, s->fpr, &key, 0) != 0 || key == NULL)
		return a;
	fl = strlen(s->fpr);
	for (sk = key->subkeys; sk; sk = sk->next) {
		size_t kl = sk->fpr ? strlen(sk->fpr) : 0;

		if (kl >= fl && strcasecmp(sk->fpr + kl - fl, s->fpr) == 0) {
			a = sk->pubkey_algo;
			break;
		}
	}
	gpgme_key_unref(key);
	return a;
}

/* Map gpgme's verdict on one signature to Helm's (go-crypto's) words.
 * s is not used after sig_algo, which runs another operation. */
static int
sig_verdict(gpgme_ctx_t ctx, gpgme_signature_t s, pg_err *err)
{
	gpgme_err_code_t st = gpgme_err_code(s->status);

	if (st == GPG_ERR_NO_PUBKEY || (s->summary & GPGME_SIGSUM_KEY_MISSING))
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature made by unknown entity");
	if (st == GPG_ERR_BAD_SIGNATURE || (s->summary & GPGME_SIGSUM_RED))
		return pg_err_set(err, PG_EVERIFY, "openpgp: invalid signature: %s verification failure",
				  algo_name(sig_algo(ctx, s)));
	if (st == GPG_ERR_CERT_REVOKED || (s->summary & GPGME_SIGSUM_KEY_REVOKED))
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature made by revoked key");
	if (st == GPG_ERR_KEY_EXPIRED || (s->summary & GPGME_SIGSUM_KEY_EXPIRED))
		return pg_err_set(err, PG_EVERIFY, "openpgp: key expired");
	if (st == GPG_ERR_SIG_EXPIRED || (s->summary & GPGME_SIGSUM_SIG_EXPIRED))
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature expired");
	if (s->summary & (GPGME_SIGSUM_BAD_POLICY | GPGME_SIGSUM_SYS_ERROR))
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature not acceptable (gpg summary 0x%x)",
				  (unsigned)s->summary);
	if (st != GPG_ERR_NO_ERROR)
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature not verified: %s",
				  gpgme_strerror(s->status));
	if (s->fpr == NULL || s->fpr[0] == '\0')
		return pg_err_set(err, PG_EVERIFY, "openpgp: signature without a signer");
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

static int
copy_info(pg_pgp_result *dst, const pg_pgp_result *src)
{
	size_t i;

	dst->fpr = pg_strdup(src->fpr);
	dst->signing_fpr = pg_strdup(src->signing_fpr);
	if (src->nuids && (dst->uids = calloc(src->nuids, sizeof(char *))) == NULL)
		return PG_ENOMEM;
	for (i = 0; i < src->nuids; i++) {
		if ((dst->uids[i] = pg_strdup(src->uids[i])) == NULL)
			return PG_ENOMEM;
		dst->nuids++;
	}
	return dst->fpr && dst->signing_fpr ? PG_OK : PG_ENOMEM;
}

static int signer_lookup(pg_pgp_result *r, pg_pgp *p, const char *sigfpr, pg_err *err);

/* Who made the signature: from the home's memory, else from gpg (and then
 * remembered). */
static int
signer_info(pg_pgp_result *r, pg_pgp *p, const char *sigfpr, pg_err *err)
{
	home *h = p->cur;
	signer *sg;
	size_t i;
	int rc;

	for (i = 0; h && i < h->n_signers; i++)
		if (strcmp(h->signers[i].sigfpr, sigfpr) == 0) {
			if (copy_info(r, &h->signers[i].info) != PG_OK)
				return pg_err_set(err, PG_ENOMEM, "out of memory");
			return PG_OK;
		}
	if ((rc = signer_lookup(r, p, sigfpr, err)) != PG_OK)
		return rc;
	if (h == NULL || h->n_signers == SIGNERS_MAX)
		return PG_OK;
	sg = &h->signers[h->n_signers];
	if ((sg->sigfpr = pg_strdup(sigfpr)) == NULL || copy_info(&sg->info, r) != PG_OK) {
		signer_free(sg);
		return PG_OK; /* not remembered; the answer stands */
	}
	h->n_signers++;
	return PG_OK;
}

static int
signer_lookup(pg_pgp_result *r, pg_pgp *p, const char *sigfpr, pg_err *err)
{
	gpgme_key_t key = NULL;
	gpgme_user_id_t u;
	gpgme_error_t ge;
	size_t n = 0;
	int rc = PG_ENOMEM;

	if ((ge = gpgme_get_key(p->ctx, sigfpr, &key, 0)) != 0 || key == NULL ||
	    key->subkeys == NULL || key->subkeys->fpr == NULL) {
		rc = pg_err_set(err, PG_EVERIFY, "openpgp: signing key %s not found after verification",
				sigfpr);
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

int
pg_pgp_verify_clearsigned(pg_pgp_result **out, pg_pgp *p, const pg_pgp_keyring *rings,
			  size_t nrings, const char *msg, size_t len, pg_err *err)
{
	int rc = PG_EINTERNAL;
	pg_buf norm;
	gpgme_data_t sig = NULL, plain = NULL;
	gpgme_verify_result_t vr;
	gpgme_signature_t s;
	gpgme_error_t ge;
	pg_pgp_result *r = NULL;
	char *pt = NULL, sfpr[FPR_MAX + 1];
	size_t ptlen = 0, nsig = 0;

	pg_buf_init(&norm, PG_PGP_MESSAGE_MAX + 1024);
	if (len > PG_PGP_MESSAGE_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "signed message larger than %zu bytes",
				(size_t)PG_PGP_MESSAGE_MAX);
		goto out;
	}
	if ((rc = pg_pgp_clearsign_normalize(&norm, msg, len, err)) != PG_OK)
		goto out;
	if ((rc = select_home(p, rings, nrings, err)) != PG_OK)
		goto out;
	if ((ge = gpgme_data_new_from_mem(&sig, (const char *)norm.data, norm.len, 0)) != 0 ||
	    (ge = gpgme_data_new(&plain)) != 0) {
		rc = gpg_fail(err, ge, "cannot set up data");
		goto out;
	}
	ge = gpgme_op_verify(p->ctx, sig, NULL, plain);
	vr = gpgme_op_verify_result(p->ctx);
	if (vr == NULL || vr->signatures == NULL) {
		rc = ge ? pg_err_set(err, PG_EVERIFY, "openpgp: %s", gpgme_strerror(ge))
			: pg_err_set(err, PG_EVERIFY, "openpgp: no signature found");
		goto out;
	}
	for (s = vr->signatures; s; s = s->next)
		nsig++;
	if (nsig != 1) {
		rc = pg_err_set(err, PG_EVERIFY, "openpgp: expected one signature, found %zu", nsig);
		goto out;
	}
	if ((rc = sig_verdict(p->ctx, vr->signatures, err)) != PG_OK)
		goto out;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	/* Copy: the next gpgme operation on the context frees the result. */
	(void)snprintf(sfpr, sizeof(sfpr), "%s", vr->signatures->fpr);
	vr = NULL;
	if ((rc = signer_info(r, p, sfpr, err)) != PG_OK)
		goto out;
	pt = gpgme_data_release_and_get_mem(plain, &ptlen);
	plain = NULL;
	if ((r->plaintext = pg_strndup(pt ? pt : "", pt ? ptlen : 0)) == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	r->plaintext_len = pt ? ptlen : 0;
	*out = r;
	r = NULL;
	rc = PG_OK;
out:
	if (pt)
		gpgme_free(pt);
	gpgme_data_release(plain);
	gpgme_data_release(sig);
	pg_pgp_result_free(r);
	pg_buf_free(&norm);
	return rc;
}

int
pg_pgp_keyring_check(pg_pgp *p, const pg_pgp_keyring *ring, pg_err *err)
{
	return select_home(p, ring, 1, err);
}
