/* Unit tests of pgp/: CRC-24, base64, armor, clearsign normalisation, gpg's
 * status lines, the deadline of a gpg run, and verification by gpgv with
 * the keyring-home cache (against the shared Helm vectors when they are
 * present). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "clock/clock.h"
#include "../../webhook/pgp/armor.c"
#include "../../webhook/pgp/pgp.c"

static void
test_crc24(void **state)
{
	(void)state;
	assert_int_equal(pg_pgp_crc24(NULL, 0), 0xB704CE);
	assert_int_equal(pg_pgp_crc24((const unsigned char *)"a", 1), 0xF25713);
}

static void
test_base64(void **state)
{
	pg_buf b;

	(void)state;
	pg_buf_init(&b, 0);
	assert_int_equal(pg_base64_decode(&b, "aGVs\nbG8=", 9, PG_B64_STOP_AT_PAD), PG_OK);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	pg_buf_reset(&b);
	assert_int_equal(pg_base64_decode(&b, "a*b", 3, PG_B64_STOP_AT_PAD), PG_EINVAL);
	pg_buf_free(&b);
}

static void
test_dearmor(void **state)
{
	static const char two[] =
	    "junk\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: x\n\nmQ==\n=AAAA\n"
	    "-----END PGP PUBLIC KEY BLOCK-----\n"
	    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ\n"
	    "-----END PGP PUBLIC KEY BLOCK-----\n";
	pg_buf b;

	(void)state;
	pg_buf_init(&b, 0);
	assert_int_equal(pg_pgp_dearmor_all(&b, two, strlen(two), "PUBLIC KEY BLOCK"), 2);
	assert_int_equal(b.len, 2);
	assert_int_equal(b.data[0], 0x99);
	assert_true(pg_pgp_is_armored((const unsigned char *)two + 5, strlen(two) - 5));
	assert_false(pg_pgp_is_armored((const unsigned char *)"\x99\x01", 2));
	pg_buf_reset(&b);
	assert_int_equal(pg_pgp_dearmor_all(&b, "nothing", 7, "PUBLIC KEY BLOCK"), 0);
	pg_buf_free(&b);
}

/* A syntactically valid clearsigned message (the signature bytes are not
 * a real signature: only framing is tested here). */
#define SIGNED_HEAD "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
#define SIG_TAIL "-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCgAQBQJ\n-----END PGP SIGNATURE-----"

static void
test_normalize(void **state)
{
	static const char old_layout[] =
	    "prefix junk\n" SIGNED_HEAD "name: x\n- - dash\n\n...\nfiles: {}\n" SIG_TAIL;
	static const char new_layout[] = SIGNED_HEAD "name: x\r\n\r\n" SIG_TAIL "\ntrailing junk\n";
	static const char bad_header[] =
	    "-----BEGIN PGP SIGNED MESSAGE-----\nComment: x\n\nname: x\n" SIG_TAIL;
	static const char no_end[] = SIGNED_HEAD "name: x\n-----BEGIN PGP SIGNATURE-----\n\nwsBc\n";
	pg_buf b;
	pg_err e;
	const char *s;

	(void)state;
	pg_buf_init(&b, 0);
	assert_int_equal(pg_pgp_clearsign_normalize(&b, old_layout, strlen(old_layout), &e), PG_OK);
	s = (const char *)b.data;
	assert_true(
	    strncmp(s,
		    SIGNED_HEAD
		    "name: x\n- - dash\n\n...\nfiles: {}\n-----BEGIN PGP SIGNATURE-----\n\n",
		    strlen(SIGNED_HEAD) + 60) == 0);
	assert_non_null(strstr(s, "\n=")); /* a CRC line was added */
	assert_non_null(strstr(s, "-----END PGP SIGNATURE-----\n"));
	assert_null(strstr(s, "junk"));
	pg_buf_reset(&b);
	assert_int_equal(pg_pgp_clearsign_normalize(&b, new_layout, strlen(new_layout), &e), PG_OK);
	assert_non_null(strstr((const char *)b.data, "name: x\n\n-----BEGIN PGP SIGNATURE-----"));
	assert_null(strstr((const char *)b.data, "\r"));
	pg_buf_reset(&b);
	assert_int_equal(pg_pgp_clearsign_normalize(&b, bad_header, strlen(bad_header), &e),
			 PG_EINVAL);
	assert_string_equal(e.msg, "signature block not found");
	assert_int_equal(pg_pgp_clearsign_normalize(&b, no_end, strlen(no_end), &e), PG_EINVAL);
	assert_int_equal(pg_pgp_clearsign_normalize(&b, "plain text\n", 11, &e), PG_EINVAL);
	pg_buf_free(&b);
}

static void
test_status(void **state)
{
	pg_pgp_status st;
	static const char good[] =
	    "[GNUPG:] PLAINTEXT 74 0 \n"
	    "[GNUPG:] NEWSIG charts@provgate.test\n"
	    "[GNUPG:] KEY_CONSIDERED 2EFBBB400FA6EB9A0A417E735531B724834B1085 0\n"
	    "[GNUPG:] GOODSIG 5531B724834B1085 Bench Charts <charts@provgate.test>\n"
	    "[GNUPG:] VALIDSIG 2EFBBB400FA6EB9A0A417E735531B724834B1085 2026-12-05 "
	    "1796476061 0 4 0 22 8 01 2EFBBB400FA6EB9A0A417E735531B724834B1085\n";
	static const char errsig[] = "[GNUPG:] NEWSIG\n"
				     "[GNUPG:] ERRSIG 843BBF981FC18762 1 10 01 1554152840 9 -\n"
				     "[GNUPG:] NO_PUBKEY 843BBF981FC18762\n";

	(void)state;
	assert_int_equal(pg_pgp_status_parse(&st, good, sizeof(good) - 1), PG_OK);
	assert_int_equal(st.nsigs, 1);
	assert_int_equal(st.kind, PG_PGP_SIG_GOOD);
	assert_string_equal(st.keyid, "5531B724834B1085");
	assert_string_equal(st.fpr, "2EFBBB400FA6EB9A0A417E735531B724834B1085");
	assert_string_equal(st.primary, "2EFBBB400FA6EB9A0A417E735531B724834B1085");
	assert_int_equal(st.sig_time, 1796476061);
	{
		static const char iso[] =
		    "[GNUPG:] GOODSIG 5531B724834B1085 x\n"
		    "[GNUPG:] VALIDSIG 2EFBBB400FA6EB9A0A417E735531B724834B1085 2040-01-01 "
		    "20400101T000000 0 4 0 22 8 01\n";

		assert_int_equal(pg_pgp_status_parse(&st, iso, sizeof(iso) - 1), PG_OK);
		assert_int_equal(st.sig_time, 2208988800);
	}
	assert_int_equal(pg_pgp_status_parse(&st, errsig, sizeof(errsig) - 1), PG_OK);
	assert_int_equal(st.kind, PG_PGP_SIG_ERROR);
	assert_int_equal(st.errsig_rc, 9);
	assert_string_equal(st.fpr, "");
	/* each verdict word, and two signatures */
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] BADSIG 843bbf981fc18762 x", 34), PG_OK);
	assert_int_equal(st.kind, PG_PGP_SIG_BAD);
	assert_string_equal(st.keyid, "843BBF981FC18762");
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] EXPKEYSIG 843BBF981FC18762 x\n", 37),
			 PG_OK);
	assert_int_equal(st.kind, PG_PGP_SIG_KEYEXPIRED);
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] REVKEYSIG 843BBF981FC18762 x\n", 37),
			 PG_OK);
	assert_int_equal(st.kind, PG_PGP_SIG_REVOKED);
	assert_int_equal(pg_pgp_status_parse(&st,
					     "[GNUPG:] EXPSIG 843BBF981FC18762 x\n"
					     "[GNUPG:] GOODSIG 843BBF981FC18762 x\n",
					     70),
			 PG_OK);
	assert_int_equal(st.kind, PG_PGP_SIG_EXPIRED);
	assert_int_equal(st.nsigs, 2);
	/* near misses: a word that only starts like a verdict, a line
	 * without the prefix, no data */
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] GOODSIGX 843BBF981FC18762 x\n", 37),
			 PG_OK);
	assert_int_equal(st.nsigs, 0);
	assert_int_equal(pg_pgp_status_parse(&st, "GOODSIG 843BBF981FC18762 x\n", 27), PG_OK);
	assert_int_equal(st.nsigs, 0);
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] NODATA 1\n", 18), PG_OK);
	assert_true(st.nodata);
	/* malformed verdict lines */
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] GOODSIG 843BBF98 x\n", 28), PG_EINVAL);
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] GOODSIG 843BBF981FC1876Z x\n", 36),
			 PG_EINVAL);
	assert_int_equal(pg_pgp_status_parse(&st, "[GNUPG:] GOODSIG\n", 17), PG_EINVAL);
	assert_int_equal(
	    pg_pgp_status_parse(&st, "[GNUPG:] ERRSIG 843BBF981FC18762 1 10 01 1554152840\n", 52),
	    PG_EINVAL);
}

/* A gpg run that does not end is killed at its deadline and reaped. */
static void
test_run_deadline(void **state)
{
	const char *argv[] = {"/bin/sleep", "10", NULL};
	const char *cat[] = {"/bin/cat", NULL};
	pg_buf out, st;
	int code = -1;
	int64_t t0;
	pg_err e;

	(void)state;
	pg_buf_init(&out, 1 << 20);
	pg_buf_init(&st, 1024);
	t0 = pg_clock_ms();
	assert_int_equal(pg_pgp_run(argv, "x", 1, &out, &st, t0 + 200, &code, &e), PG_ETIMEOUT);
	assert_true(pg_clock_ms() - t0 < 2000);
	assert_string_equal(e.msg, "gpg: did not finish in time");
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child left */
	/* stdin to stdout, larger than a pipe holds */
	{
		size_t n = 300000, i;
		char *big = malloc(n);

		assert_non_null(big);
		for (i = 0; i < n; i++)
			big[i] = (char)('a' + i % 26);
		assert_int_equal(pg_pgp_run(cat, big, n, &out, &st, 0, &code, &e), PG_OK);
		assert_int_equal(code, 0);
		assert_int_equal(out.len, n);
		assert_memory_equal(out.data, big, n);
		/* output past its bound */
		pg_buf_free(&out);
		pg_buf_init(&out, 1000);
		assert_int_equal(pg_pgp_run(cat, big, n, &out, &st, 0, &code, &e), PG_ETOOBIG);
		assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
		free(big);
	}
	pg_buf_free(&out);
	pg_buf_free(&st);
}

static char *
vector(const char *name, size_t *len)
{
	const char *dir = getenv("PROVGATE_VECTORS");
	char path[1024];
	char *data = NULL;

	snprintf(path, sizeof(path), "%s/helm/%s", dir ? dir : "../shared/vectors", name);
	if (pg_buf_read_file(&data, len, path, 1 << 20, NULL) != PG_OK)
		return NULL;
	return data;
}

static void
test_verify_vectors(void **state)
{
	size_t klen, plen, tlen;
	char *key = vector("helm-test-key.pub", &klen);
	char *prov = vector("hashtest-1.2.3.tgz.prov", &plen);
	char *tampered = vector("msgblock.yaml.tampered", &tlen);
	pg_pgp *p = NULL;
	pg_pgp_result *r = NULL;
	pg_pgp_keyring ring;
	pg_err e;

	(void)state;
	if (key == NULL || prov == NULL || tampered == NULL) {
		free(key);
		free(prov);
		free(tampered);
		skip();
	}
	ring.data = (const unsigned char *)key;
	ring.len = klen;
	assert_int_equal(pg_pgp_new(&p, &e), PG_OK);
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring, 1, prov, plen, &e), PG_OK);
	assert_string_equal(r->fpr, "5E615389B53CA37F0EE60BD3843BBF981FC18762");
	assert_int_equal(r->nuids, 1);
	assert_non_null(
	    strstr(r->plaintext, "\n...\nfiles:\n  hashtest-1.2.3.tgz: sha256:c6841b3a"));
	pg_pgp_result_free(r);
	r = NULL;
	/* the same keyring again: served from the cached home */
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring, 1, tampered, tlen, &e),
			 PG_EVERIFY);
	assert_string_equal(e.msg, "openpgp: invalid signature: RSA verification failure");
	assert_int_equal(p->seq, 1);
	/* no keyring, garbage keyring */
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring, 0, prov, plen, &e), PG_EINVAL);
	ring.data = (const unsigned char *)"\x99\x00\x01x";
	ring.len = 4;
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring, 1, prov, plen, &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "failed to load keyring"));
	pg_pgp_free(p);
	free(key);
	free(prov);
	free(tampered);
}

/* A stored handle: the second handle finds the home and its key table and
 * lists no keys; a keyring file swapped in the store is not trusted (the
 * home is made again from the keyring asked for); a store others may write
 * is not used at all. */
static void
test_stored_homes(void **state)
{
	size_t klen, plen;
	char *key = vector("helm-test-key.pub", &klen);
	char *prov = vector("hashtest-1.2.3.tgz.prov", &plen);
	char store[] = "/tmp/provgate-test-store.XXXXXX", sub[128], path[300];
	pg_pgp *p = NULL;
	pg_pgp_result *r = NULL;
	pg_pgp_keyring ring;
	pg_err e;
	int round;
	FILE *f;

	(void)state;
	if (key == NULL || prov == NULL) {
		free(key);
		free(prov);
		skip();
	}
	assert_non_null(mkdtemp(store));
	ring.data = (const unsigned char *)key;
	ring.len = klen;
	for (round = 0; round < 3; round++) {
		assert_int_equal(pg_pgp_new_stored(&p, store, &e), PG_OK);
		assert_non_null(p->store);
		assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring, 1, prov, plen, &e), PG_OK);
		assert_string_equal(r->fpr, "5E615389B53CA37F0EE60BD3843BBF981FC18762");
		assert_int_equal(r->nuids, 1);
		assert_true(p->cur->stored);
		/* round 0 made the home (seq 1), round 1 reused it (seq 0),
		 * round 2 found its keyring replaced and made it again */
		assert_int_equal(p->seq, round == 1 ? 0u : 1u);
		assert_int_equal(snprintf(sub, sizeof(sub), "%s", p->cur->path + strlen(store) + 1),
				 64);
		pg_pgp_result_free(r);
		r = NULL;
		pg_pgp_free(p);
		p = NULL;
		if (round == 1) {
			snprintf(path, sizeof(path), "%s/%s/pubring.gpg", store, sub);
			assert_non_null(f = fopen(path, "wb"));
			fputs("\x99\x00\x01x", f);
			fclose(f);
		}
	}
	/* a group-writable store is refused: the handle falls back to a
	 * temporary home */
	assert_int_equal(chmod(store, 0770), 0);
	assert_int_equal(pg_pgp_new_stored(&p, store, &e), PG_OK);
	assert_null(p->store);
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring, 1, prov, plen, &e), PG_OK);
	assert_false(p->cur->stored);
	pg_pgp_result_free(r);
	pg_pgp_free(p);
	rm_tree(store);
	free(key);
	free(prov);
}

/* Copy a stored home's three files into dst (made 0700). */
static void
copy_home(const char *src, const char *dst)
{
	static const char *const files[] = {"gpg.conf", "pubring.gpg", KEYTAB_FILE};
	char path[600], *data = NULL;
	size_t i, len = 0;
	FILE *f;

	assert_int_equal(mkdir(dst, 0700), 0);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", src, files[i]);
		assert_int_equal(pg_buf_read_file(&data, &len, path, 1 << 20, NULL), PG_OK);
		snprintf(path, sizeof(path), "%s/%s", dst, files[i]);
		assert_non_null(f = fopen(path, "wb"));
		assert_int_equal(fwrite(data, 1, len, f), len);
		fclose(f);
		free(data);
	}
}

/* Verify prov with ring in a new handle on store; the handle's home path
 * into where (when given) and whether the home was made (seq) into *made. */
static int
stored_verify(const char *store, const pg_pgp_keyring *ring, const char *prov, size_t plen,
	      char *where, size_t hsize, unsigned *made, pg_err *e)
{
	pg_pgp *p = NULL;
	pg_pgp_result *r = NULL;
	int rc;

	assert_int_equal(pg_pgp_new_stored(&p, store, e), PG_OK);
	rc = pg_pgp_verify_clearsigned(&r, p, ring, 1, prov, plen, e);
	if (where)
		snprintf(where, hsize, "%s", p->cur ? p->cur->path : "");
	*made = p->seq;
	if (rc == PG_OK)
		assert_string_equal(r->fpr, "5E615389B53CA37F0EE60BD3843BBF981FC18762");
	pg_pgp_result_free(r);
	pg_pgp_free(p);
	return rc;
}

/* The store's near misses.  A keyring's home under another keyring's name
 * is never used, both ways (the signer's keys under the stranger's name
 * must not make the stranger's keyring verify; the stranger's keys under
 * the signer's name are replaced); a home that is a symlink, or that others
 * may read or write, is made again as a real owner-only directory; a
 * verification past its deadline is refused. */
static void
test_stored_near_misses(void **state)
{
	size_t klen, olen = 0, plen;
	char *key = vector("helm-test-key.pub", &klen), *other = NULL;
	char *prov = vector("hashtest-1.2.3.tgz.prov", &plen);
	char store[] = "/tmp/provgate-test-store.XXXXXX", home_a[600], home_b[600], tmp[700];
	pg_pgp_keyring ring_a, ring_b;
	struct stat st;
	unsigned made;
	pg_pgp *p = NULL;
	pg_pgp_result *r = NULL;
	pg_err e;

	(void)state;
	if (key == NULL || prov == NULL ||
	    pg_buf_read_file(&other, &olen, "policy/examples/trust/charts.gpg", 1 << 20, NULL) !=
		PG_OK) {
		free(key);
		free(prov);
		free(other);
		skip();
	}
	assert_non_null(mkdtemp(store));
	ring_a = (pg_pgp_keyring){(const unsigned char *)key, klen};
	ring_b = (pg_pgp_keyring){(const unsigned char *)other, olen};
	assert_int_equal(
	    stored_verify(store, &ring_a, prov, plen, home_a, sizeof(home_a), &made, &e), PG_OK);
	assert_int_equal(made, 1);
	assert_int_equal(stored_verify(store, &ring_a, prov, plen, NULL, 0, &made, &e), PG_OK);
	assert_int_equal(made, 0);
	/* the other keyring: its own home, and the signature's key is not in it */
	assert_int_equal(
	    stored_verify(store, &ring_b, prov, plen, home_b, sizeof(home_b), &made, &e),
	    PG_EVERIFY);
	assert_string_equal(e.msg, "openpgp: signature made by unknown entity");
	assert_string_not_equal(home_a, home_b);
	/* near miss 1: the signer's home under the other keyring's name */
	rm_tree(home_b);
	copy_home(home_a, home_b);
	assert_int_equal(stored_verify(store, &ring_b, prov, plen, NULL, 0, &made, &e), PG_EVERIFY);
	assert_string_equal(e.msg, "openpgp: signature made by unknown entity");
	assert_int_equal(made, 1);
	/* near miss 2: the other keyring's home under the signer's name */
	snprintf(tmp, sizeof(tmp), "%s.keep", store);
	assert_int_equal(rename(home_a, tmp), 0);
	copy_home(home_b, home_a);
	assert_int_equal(stored_verify(store, &ring_a, prov, plen, NULL, 0, &made, &e), PG_OK);
	assert_int_equal(made, 1);
	/* a symlink to a good home is not used, and is replaced */
	rm_tree(home_a);
	assert_int_equal(symlink(tmp, home_a), 0);
	assert_int_equal(stored_verify(store, &ring_a, prov, plen, NULL, 0, &made, &e), PG_OK);
	assert_int_equal(made, 1);
	assert_int_equal(lstat(home_a, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* a home others may write, or read, is not used */
	assert_int_equal(chmod(home_a, 0722), 0);
	assert_int_equal(stored_verify(store, &ring_a, prov, plen, NULL, 0, &made, &e), PG_OK);
	assert_int_equal(made, 1);
	assert_int_equal(chmod(home_a, 0750), 0);
	assert_int_equal(stored_verify(store, &ring_a, prov, plen, NULL, 0, &made, &e), PG_OK);
	assert_int_equal(made, 1);
	assert_int_equal(stored_verify(store, &ring_a, prov, plen, NULL, 0, &made, &e), PG_OK);
	assert_int_equal(made, 0);
	/* the process-wide store (the server's --state-dir/pgp): plain
	 * handles share its homes */
	assert_int_equal(pg_pgp_set_store(store), PG_OK);
	assert_int_equal(pg_pgp_new(&p, &e), PG_OK);
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring_a, 1, prov, plen, &e), PG_OK);
	assert_true(p->cur->stored);
	assert_int_equal(p->seq, 0);
	pg_pgp_result_free(r);
	r = NULL;
	pg_pgp_free(p);
	p = NULL;
	assert_int_equal(pg_pgp_set_store(NULL), PG_OK);
	assert_int_equal(pg_pgp_new(&p, &e), PG_OK);
	assert_null(p->store);
	pg_pgp_free(p);
	p = NULL;
	/* a killed process's half-made home goes when the next home is
	 * made, once it is old; a young one (another process's, in the
	 * making) stays */
	{
		char left[700], young[700];
		struct timeval old_tv[2] = {{1000, 0}, {1000, 0}};

		snprintf(left, sizeof(left), "%s/.new.abcdef", store);
		snprintf(young, sizeof(young), "%s/.new.ghijkl", store);
		assert_int_equal(mkdir(left, 0700), 0);
		assert_int_equal(mkdir(young, 0700), 0);
		assert_int_equal(utimes(left, old_tv), 0);
		rm_tree(home_b);
		assert_int_equal(stored_verify(store, &ring_b, prov, plen, NULL, 0, &made, &e),
				 PG_EVERIFY);
		assert_int_equal(made, 1);
		assert_int_not_equal(lstat(left, &st), 0);
		assert_int_equal(lstat(young, &st), 0);
		rm_tree(young);
	}
	/* homes are made inside the store and moved: none left half-made,
	 * nothing moved aside left behind */
	{
		DIR *d = opendir(store);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d)) != NULL)
			assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
				    strlen(de->d_name) == 64);
		closedir(d);
	}
	/* past its deadline: gpgv is not waited for */
	assert_int_equal(pg_pgp_new_stored(&p, store, &e), PG_OK);
	pg_pgp_set_deadline(p, pg_clock_ms() - 1);
	assert_int_equal(pg_pgp_verify_clearsigned(&r, p, &ring_a, 1, prov, plen, &e), PG_ETIMEOUT);
	assert_null(r);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	pg_pgp_free(p);
	rm_tree(tmp);
	rm_tree(store);
	free(key);
	free(other);
	free(prov);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc24),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_dearmor),
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_run_deadline),
	    cmocka_unit_test(test_verify_vectors),
	    cmocka_unit_test(test_stored_homes),
	    cmocka_unit_test(test_stored_near_misses),
	};
	if (pg_pgp_global_init() != PG_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
