/*
 * bundle_bench — in-process cost of pg_sigstore_verify_bundle: load every
 * case of a manifest (the sigstore-conformance bundles, written by
 * verify.sh) into memory, parse each distinct trusted root once, then
 * verify every bundle N times.  The same work sigstore_js_verify.js does
 * in its "loop" mode, so the two per-verification figures compare.
 *
 * Manifest: one case per line, tab-separated:
 *   name bundle artifact root key|id KEYFILE|IDENTITY ISSUER|- pass|fail
 * Prints: "cases N rounds R total_us T per_verify_us P agree A".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "sigstore/sigstore.h"

#define CASES_MAX 256
#define FIELDS 8
#define FILE_MAX ((size_t)8 << 20)

typedef struct bcase {
	char *f[FIELDS];
	char *bundle, *artifact, *key;
	size_t bundle_len, artifact_len, key_len;
	pg_trusted_root *root;
	pg_sig_trust t;
	bool want_pass;
} bcase;

static char *
slurp(const char *path, size_t *len)
{
	char *b = NULL;
	pg_err e = {0};

	if (pg_buf_read_file(&b, len, path, FILE_MAX, &e) != PG_OK) {
		fprintf(stderr, "bundle_bench: %s\n", e.msg);
		exit(2);
	}
	return b;
}

int
main(int argc, char **argv)
{
	static bcase cs[CASES_MAX];
	static struct {
		char *path;
		pg_trusted_root *r;
	} roots[CASES_MAX];
	size_t n = 0, nroots = 0, i, j, agree = 0;
	char line[8192];
	long rounds, r;
	int64_t t0, t1;
	FILE *fp;

	if (argc != 3 || (rounds = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: bundle_bench MANIFEST ROUNDS\n");
		return 2;
	}
	if ((fp = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (n < CASES_MAX && fgets(line, sizeof(line), fp)) {
		bcase *c = &cs[n];
		char *p = line, *tab;
		size_t k;

		line[strcspn(line, "\n")] = '\0';
		for (k = 0; k < FIELDS; k++) {
			tab = strchr(p, '\t');
			if (tab)
				*tab = '\0';
			c->f[k] = strdup(p);
			p = tab ? tab + 1 : p + strlen(p);
		}
		c->bundle = slurp(c->f[1], &c->bundle_len);
		c->artifact = slurp(c->f[2], &c->artifact_len);
		for (j = 0; j < nroots && strcmp(roots[j].path, c->f[3]) != 0; j++)
			;
		if (j == nroots) {
			size_t len;
			char *json = slurp(c->f[3], &len);
			pg_err e = {0};

			roots[j].path = strdup(c->f[3]);
			if (pg_trusted_root_load(&roots[j].r, json, len, &e) != PG_OK)
				roots[j].r = NULL; /* a case whose root is invalid fails */
			free(json);
			nroots++;
		}
		c->root = roots[j].r;
		c->t.root = c->root;
		c->t.tlog_required = true;
		if (strcmp(c->f[4], "key") == 0) {
			c->key = slurp(c->f[5], &c->key_len);
			c->t.key_pem = c->key;
			c->t.key_len = c->key_len;
		} else {
			c->t.identity = c->f[5];
			c->t.issuer = c->f[6];
		}
		c->want_pass = strcmp(c->f[7], "pass") == 0;
		n++;
	}
	fclose(fp);
	t0 = pg_clock_us();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			bcase *c = &cs[i];
			char *signer = NULL;
			pg_err e = {0};
			int rc = c->root == NULL
				     ? PG_EVERIFY
				     : pg_sigstore_verify_bundle(&signer, c->bundle, c->bundle_len,
								 (const unsigned char *)c->artifact,
								 c->artifact_len, NULL, &c->t, &e);

			if (r == 0 && (rc == PG_OK) == c->want_pass)
				agree++;
			free(signer);
		}
	}
	t1 = pg_clock_us();
	printf("cases %zu rounds %ld total_us %lld per_verify_us %.1f agree %zu\n", n, rounds,
	       (long long)(t1 - t0), (double)(t1 - t0) / (double)(n * (size_t)rounds), agree);
	for (i = 0; i < n; i++) {
		for (j = 0; j < FIELDS; j++)
			free(cs[i].f[j]);
		free(cs[i].bundle);
		free(cs[i].artifact);
		free(cs[i].key);
	}
	for (j = 0; j < nroots; j++) {
		free(roots[j].path);
		pg_trusted_root_free(roots[j].r);
	}
	return 0;
}
