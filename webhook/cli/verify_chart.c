/*
 * cli/verify_chart — `provgate verify-chart`, the `helm verify` of provgate
 * (DESIGN.md §3).  Four forms: a local CHART.tgz (provenance next to it or
 * --prov), an https chart URL, --repo URL --version VER NAME, and oci://.
 * Output on success is exactly helm verify's three kinds of lines.  Exit 0
 * verified, 1 not verified (fetch failures included), 2 usage or an
 * unreadable local file.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "fetch/fetch.h"
#include "helm/helm.h"
#include "oci/oci.h"
#include "pgp/pgp.h"

/* --keyring may repeat; a handful is plenty. */
#define KEYRINGS_MAX 16

typedef struct args {
	const char *target; /* CHART.tgz, URL, oci://..., or NAME with --repo */
	const char *prov;
	const char *repo;
	const char *version;
	const char *ca_file;
	const char *keyrings[KEYRINGS_MAX];
	size_t nkeyrings;
	uint64_t timeout_ms; /* remote forms: overall deadline; 0: fetch's default */
} args;

static int
usage(const char *why)
{
	pg_cli_fail(PG_EXIT_USAGE, "%s", why);
	fputs("usage: provgate verify-chart CHART.tgz --keyring FILE [--keyring FILE]... [--prov "
	      "FILE]\n"
	      "       provgate verify-chart https://host/path/name-1.2.3.tgz --keyring FILE "
	      "[--ca-file FILE]\n"
	      "       provgate verify-chart --repo URL --version VER NAME --keyring FILE "
	      "[--ca-file FILE]\n"
	      "       provgate verify-chart oci://host/repo/name:VER --keyring FILE [--ca-file "
	      "FILE]\n"
	      "       (remote forms: [--timeout DURATION])\n",
	      stderr);
	return PG_EXIT_USAGE;
}

static int
parse_args(args *a, int argc, char **argv)
{
	int i, r;
	const char *v;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (pg_cli_opt_raw(argc, argv, &i, "--keyring", &v)) {
			if (v == NULL || v[0] == '\0')
				return usage("--keyring needs a file");
			if (a->nkeyrings == KEYRINGS_MAX)
				return usage("too many --keyring options");
			a->keyrings[a->nkeyrings++] = v;
		} else if (pg_cli_opt_raw(argc, argv, &i, "--prov", &v)) {
			if ((a->prov = v) == NULL)
				return usage("--prov needs a file");
		} else if (pg_cli_opt_raw(argc, argv, &i, "--repo", &v)) {
			if ((a->repo = v) == NULL)
				return usage("--repo needs a URL");
		} else if (pg_cli_opt_raw(argc, argv, &i, "--version", &v)) {
			if ((a->version = v) == NULL)
				return usage("--version needs a version or range");
		} else if (pg_cli_opt_raw(argc, argv, &i, "--ca-file", &v)) {
			if ((a->ca_file = v) == NULL)
				return usage("--ca-file needs a file");
		} else if ((r = pg_cli_time_opt(argc, argv, &i, "--timeout", 1000, 1000,
						PG_CLI_VERIFY_TIMEOUT_MAX_MS, &a->timeout_ms)) !=
			   0) {
			if (r < 0)
				return PG_EXIT_USAGE;
		} else if (s[0] == '-' && s[1] != '\0') {
			pg_cli_fail(PG_EXIT_USAGE, "unknown option %s", s);
			return usage("see usage");
		} else if (a->target == NULL) {
			a->target = s;
		} else {
			return usage("more than one chart given");
		}
	}
	if (a->target == NULL)
		return usage(a->repo ? "--repo needs a chart NAME" : "no chart given");
	if (a->nkeyrings == 0)
		return usage("--keyring FILE is required");
	if (a->prov && (a->repo || strstr(a->target, "://")))
		return usage("--prov is only for a local chart archive");
	return PG_EXIT_OK;
}

/* Go prints syscall errors in lower case ("no such file or directory"). */
static void
errno_text(char *out, size_t size, int e)
{
	(void)snprintf(out, size, "%s", strerror(e));
	if (out[0] >= 'A' && out[0] <= 'Z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int
print_verified(const pg_helm_verified *v)
{
	size_t i;

	for (i = 0; i < v->nuids; i++)
		printf("Signed by: %s\n", v->uids[i]);
	printf("Using Key With Fingerprint: %s\n", v->fpr);
	printf("Chart Hash Verified: %s\n", v->hash);
	return fflush(stdout) == 0 ? PG_EXIT_OK : PG_EXIT_DENY;
}

/* oci://: through the registry client; credentials from the docker config
 * cosign and helm also read ($DOCKER_CONFIG/config.json, ~/.docker). */
static int
download_oci(pg_helm_download **out, pg_fetch *f, const char *ref, const char *ca_file,
	     int64_t deadline, pg_err *err)
{
	pg_oci_opts oo = {0};
	pg_oci *oci = NULL;
	pg_oci_req q = {0};
	int rc;

	oo.ca_file = ca_file;
	if ((rc = pg_oci_new(&oci, &oo, err)) != PG_OK)
		return rc;
	q.fetch = f;
	q.deadline = deadline;
	rc = pg_helm_download_oci(out, oci, &q, ref, err);
	pg_oci_free(oci);
	return rc;
}

int
pg_cli_pgp_cache_dir(char *out, size_t size)
{
	const char *base = getenv("XDG_CACHE_HOME"), *suffix = "/provgate/pgp";

	if (base == NULL || base[0] != '/') {
		base = getenv("HOME");
		suffix = "/.cache/provgate/pgp";
	}
	if (base == NULL || base[0] != '/' ||
	    (size_t)snprintf(out, size, "%s%s", base, suffix) >= size)
		return -1;
	return 0;
}

/* The imported keyrings live in the user's cache directory
 * (pg_cli_pgp_cache_dir), so a second verification with the same keyring
 * runs gpgv once and imports nothing; without a usable one, in a temporary
 * directory removed at exit. */
static int
new_pgp(pg_pgp **out, pg_err *err)
{
	char dir[4096];

	if (pg_cli_pgp_cache_dir(dir, sizeof(dir)) != 0)
		return pg_pgp_new(out, err);
	return pg_pgp_new_stored(out, dir, err);
}

int
pg_cmd_verify_chart(int argc, char **argv)
{
	int ex = PG_EXIT_DENY, rc;
	args a;
	pg_err err = {0};
	pg_pgp *pgp = NULL;
	pg_fetch *f = NULL;
	pg_helm_download *d = NULL;
	pg_helm_verified *v = NULL;
	pg_pgp_keyring rings[KEYRINGS_MAX];
	char *ringdata[KEYRINGS_MAX] = {0};
	char *tgz = NULL, *prov = NULL, *provpath = NULL, etext[128];
	size_t tgz_len = 0, prov_len = 0, i;
	const char *archive_name;
	struct stat st;
	pg_helm_fetch_opts fo = {0};

	if ((ex = parse_args(&a, argc, argv)) != PG_EXIT_OK)
		return ex;
	ex = PG_EXIT_DENY;
	/* Local inputs first: an unreadable keyring is a usage problem (2). */
	for (i = 0; i < a.nkeyrings; i++) {
		if (pg_buf_read_file(&ringdata[i], &rings[i].len, a.keyrings[i], PG_PGP_KEYRING_MAX,
				     &err) != PG_OK) {
			ex = pg_cli_fail(PG_EXIT_USAGE, "failed to load keyring: %s", err.msg);
			goto out;
		}
		rings[i].data = (const unsigned char *)ringdata[i];
	}
	fo.ca_file = a.ca_file;
	fo.deadline = a.timeout_ms ? pg_clock_ms() + (int64_t)a.timeout_ms : 0;
	if (a.repo == NULL && strncasecmp(a.target, "https://", 8) != 0 &&
	    strncasecmp(a.target, "http://", 7) != 0 && strncasecmp(a.target, "oci://", 6) != 0) {
		/* The local form, in helm verify's order. */
		if (stat(a.target, &st) != 0) {
			errno_text(etext, sizeof(etext), errno);
			ex = pg_cli_fail(PG_EXIT_USAGE, "stat %s: %s", a.target, etext);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			ex = pg_cli_fail(PG_EXIT_USAGE, "unpacked charts cannot be verified");
			goto out;
		}
		if (strlen(a.target) < 4 ||
		    strcasecmp(a.target + strlen(a.target) - 4, ".tgz") != 0) {
			ex = pg_cli_fail(PG_EXIT_USAGE, "chart must be a tgz file");
			goto out;
		}
		if (a.prov == NULL) {
			pg_buf pb;

			pg_buf_init(&pb, 0);
			if (pg_buf_printf(&pb, "%s.prov", a.target) != PG_OK ||
			    pg_buf_detach(&provpath, NULL, &pb) != PG_OK) {
				pg_buf_free(&pb);
				ex = pg_cli_fail(PG_EXIT_DENY, "out of memory");
				goto out;
			}
		}
		if (stat(a.prov ? a.prov : provpath, &st) != 0) {
			errno_text(etext, sizeof(etext), errno);
			ex = pg_cli_fail(
			    PG_EXIT_USAGE, "could not load provenance file %s: stat %s: %s",
			    a.prov ? a.prov : provpath, a.prov ? a.prov : provpath, etext);
			goto out;
		}
		rc = pg_buf_read_file(&prov, &prov_len, a.prov ? a.prov : provpath,
				      PG_HELM_PROV_MAX, &err);
		if (rc != PG_OK) {
			ex = pg_cli_fail(rc == PG_ETOOBIG ? PG_EXIT_DENY : PG_EXIT_USAGE,
					 "could not load provenance file %s: %s",
					 a.prov ? a.prov : provpath, err.msg);
			goto out;
		}
		rc = pg_buf_read_file(&tgz, &tgz_len, a.target, PG_HELM_CHART_MAX, &err);
		if (rc != PG_OK) {
			ex = pg_cli_fail(rc == PG_ETOOBIG ? PG_EXIT_DENY : PG_EXIT_USAGE, "%s",
					 err.msg);
			goto out;
		}
		archive_name = base_name(a.target);
	} else {
		if (a.repo == NULL && strncasecmp(a.target, "http://", 7) == 0) {
			ex = pg_cli_fail(PG_EXIT_DENY, "refusing http:// chart URL %s: only https",
					 a.target);
			goto out;
		}
		if (pg_fetch_new(&f) != PG_OK) {
			ex = pg_cli_fail(PG_EXIT_DENY, "out of memory");
			goto out;
		}
		if (a.repo)
			rc = pg_helm_download_repo(&d, f, a.repo, a.target, a.version, &fo, &err);
		else if (strncasecmp(a.target, "oci://", 6) == 0)
			rc = download_oci(&d, f, a.target, a.ca_file, fo.deadline, &err);
		else
			rc = pg_helm_download_url(&d, f, a.target, &fo, &err);
		if (rc != PG_OK) {
			ex = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
			goto out;
		}
		tgz = (char *)d->tgz;
		tgz_len = d->tgz_len;
		prov = d->prov;
		prov_len = d->prov_len;
		d->tgz = NULL;
		d->prov = NULL;
		archive_name = d->archive_name;
	}
	if ((rc = new_pgp(&pgp, &err)) != PG_OK) {
		ex = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
		goto out;
	}
	rc = pg_helm_verify(&v, pgp, rings, a.nkeyrings, archive_name, (const unsigned char *)tgz,
			    tgz_len, prov, prov_len, &err);
	if (rc != PG_OK) {
		ex = pg_cli_fail(PG_EXIT_DENY, "%s", err.msg);
		goto out;
	}
	ex = print_verified(v);
out:
	pg_helm_verified_free(v);
	pg_helm_download_free(d);
	pg_pgp_free(pgp);
	pg_fetch_free(f);
	for (i = 0; i < KEYRINGS_MAX; i++)
		free(ringdata[i]);
	free(tgz);
	free(prov);
	free(provpath);
	return ex;
}
