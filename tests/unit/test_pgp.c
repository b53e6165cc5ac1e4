/* Unit tests of pgp/: CRC-24, base64, armor, clearsign normalisation, and
 * gpgme verification with the keyring-home cache (against the shared Helm
 * vectors when they are present). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc24),	   cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_dearmor),	   cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_verify_vectors), cmocka_unit_test(test_stored_homes),
	};
	if (pg_pgp_global_init() != PG_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
