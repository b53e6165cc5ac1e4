/*
 * server/reload — the policy in force and its hot reload.  The watcher
 * thread polls the policy directory and every trust file the policy read,
 * and swaps a new policy in only when it loads and its trust material
 * parses; otherwise the last good policy stays in force and /readyz says
 * why.  Loop threads take a reference on the current policy per review
 * (pg_server__policy_get), so a swap never frees one in use.  The watcher
 * thread itself is in server.c, with the other threads.
 */
#include "server/server_int.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "decide/decide.h"
#include "obs/obs.h"
#include "policy/policy.h"

/* How far before a load's start an mtime still counts as written during
 * it: file systems stamp from a clock up to a tick (<= 10 ms) behind. */
#define LOAD_MTIME_SLACK_NS 20000000L

static struct {
	pthread_mutex_t mu;
	pg_policy *cur;
	char last_error[PG_ERR_MSG_MAX];
	char sig[64]; /* signature of the directory state last loaded */
} g_pol = {.mu = PTHREAD_MUTEX_INITIALIZER};

pg_policy *
pg_server__policy_get(void)
{
	pg_policy *p;

	pthread_mutex_lock(&g_pol.mu);
	p = g_pol.cur;
	if (p)
		pg_policy_ref(p);
	pthread_mutex_unlock(&g_pol.mu);
	return p;
}

/* The later of *newest and st's mtime, in *newest. */
static void
note_mtime(struct timespec *newest, const struct stat *st)
{
	if (newest &&
	    (st->st_mtim.tv_sec > newest->tv_sec ||
	     (st->st_mtim.tv_sec == newest->tv_sec && st->st_mtim.tv_nsec > newest->tv_nsec)))
		*newest = st->st_mtim;
}

/* A cheap fingerprint of files' names, sizes, mtimes and inodes: when it
 * changes, something was written (ConfigMap updates swap a symlink). */
void
pg_server__files_sig(char *out, size_t n, const char *dir, const char *const *files)
{
	unsigned long long h = 1469598103934665603ULL;
	struct stat st;
	char path[4096];
	size_t i;

#define MIX(v) (h = (h ^ (unsigned long long)(v)) * 1099511628211ULL)
	if (dir) {
		DIR *dp = opendir(dir);
		struct dirent *de;

		while (dp && (de = readdir(dp)) != NULL) {
			const char *c;

			/* ".." is the parent: its mtime moves whenever anything
			 * beside the policy directory changes.  "." adds nothing
			 * the entry names do not already say. */
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			for (c = de->d_name; *c; c++)
				MIX(*c);
			if (stat(path, &st) == 0) {
				MIX(st.st_size);
				MIX(st.st_mtim.tv_sec);
				MIX(st.st_mtim.tv_nsec);
				MIX(st.st_ino);
			}
		}
		if (dp)
			closedir(dp);
	}
	for (i = 0; files && files[i]; i++)
		if (stat(files[i], &st) == 0) {
			MIX(st.st_size);
			MIX(st.st_mtim.tv_sec);
			MIX(st.st_mtim.tv_nsec);
			MIX(st.st_ino);
		}
#undef MIX
	(void)snprintf(out, n, "%016llx", h);
}

/* Signature of the policy directory and of every trust file policy p read
 * (keys and keyrings may live outside the directory, e.g. in a mounted
 * Secret); p NULL: the directory alone. */
static void
policy_sig(char *out, size_t n, pg_policy *p)
{
	const char **files = NULL;
	size_t nf = 0;

	if (p != NULL && pg_policy_trust_files(&files, &nf, p) != PG_OK)
		files = NULL;
	pg_server__files_sig(out, n, pg_server__opts.policy_dir, files);
	free(files);
}

/* The newest mtime of the trust files np reads and old did not, in
 * *newest (left alone when there are none). */
static void
new_files_mtime(struct timespec *newest, pg_policy *old, pg_policy *np)
{
	const char **nf = NULL, **of = NULL;
	size_t nn = 0, on = 0, i, k;
	struct stat st;

	if (pg_policy_trust_files(&nf, &nn, np) != PG_OK)
		return;
	/* without old's list every file counts as new */
	if (old != NULL && pg_policy_trust_files(&of, &on, old) != PG_OK)
		on = 0;
	for (i = 0; i < nn; i++) {
		for (k = 0; k < on && strcmp(nf[i], of[k]) != 0; k++)
			;
		if (k == on && stat(nf[i], &st) == 0)
			note_mtime(newest, &st);
	}
	free(nf);
	free(of);
}

/* What to remember as loaded after np was loaded from a state whose
 * signature over the old policy's files was before.  A write that landed
 * while the loader was reading must not be taken as loaded, or it would
 * never be.  np's files are signed first, then the old policy's again:
 * for the directory and every file both read, any write after the load
 * began shows as a change of the second signature (and a later one as a
 * change the next poll sees).  A trust file only np reads was never signed
 * before the load: an mtime from the load's start on counts as a write
 * during it.  Either way the state is remembered as "unknown", and the
 * next poll loads again. */
static void
loaded_sig(char *out, size_t n, pg_policy *old, pg_policy *np, const char *before,
	   const struct timespec *start)
{
	char again[64];
	struct timespec newest = {0, 0};

	policy_sig(out, n, np);
	policy_sig(again, sizeof(again), old);
	new_files_mtime(&newest, old, np);
	if (strcmp(again, before) != 0 || newest.tv_sec > start->tv_sec ||
	    (newest.tv_sec == start->tv_sec && newest.tv_nsec >= start->tv_nsec))
		(void)snprintf(out, n, "%s", "unknown");
}

int
pg_server__policy_reload(int initial, pg_err *err)
{
	pg_policy *np = NULL, *old = pg_server__policy_get();
	char sig[64], now_sig[64];
	struct timespec start;
	int rc;

	/* A file system stamps mtimes from a coarse clock (a tick behind the
	 * real one): start counts from a little earlier. */
	(void)clock_gettime(CLOCK_REALTIME, &start);
	start.tv_nsec -= LOAD_MTIME_SLACK_NS;
	if (start.tv_nsec < 0) {
		start.tv_nsec += 1000000000L;
		start.tv_sec--;
	}
	policy_sig(sig, sizeof(sig), old);
	if (!initial && strcmp(sig, g_pol.sig) == 0) {
		pg_policy_unref(old);
		return PG_OK;
	}
	rc = pg_policy_load_dir(&np, pg_server__opts.policy_dir, err);
#ifdef PG_SERVER_TEST_HOOKS
	{
		/* Test builds only: hold a load open after it read the
		 * directory, so a test can write into it meanwhile. */
		const char *d = getenv("PROVGATE_TEST_LOAD_DELAY_MS");
		long ms = d ? strtol(d, NULL, 10) : 0;

		if (ms > 0 && ms < 60000) {
			struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
#endif
	/* Trust material that does not parse is a load error too, not a deny
	 * of everything its rules match at admission. */
	if (rc == PG_OK && (rc = pg_decide_policy_check(np, err)) != PG_OK) {
		pg_policy_unref(np);
		np = NULL;
	}
	if (rc != PG_OK) {
		pthread_mutex_lock(&g_pol.mu);
		memcpy(g_pol.sig, sig, sizeof(sig));
		(void)snprintf(g_pol.last_error, sizeof(g_pol.last_error), "%s", err->msg);
		pthread_mutex_unlock(&g_pol.mu);
		pg_policy_unref(old);
		pg_metrics_policy_load(0, 0);
		pg_log_diag("error",
			    initial ? "policy does not load"
				    : "policy reload failed; the last good policy stays in force",
			    err->msg);
		return rc;
	}
	/* From now on, watch the trust files the new policy read. */
	loaded_sig(now_sig, sizeof(now_sig), old, np, sig, &start);
	pg_policy_unref(old);
	pthread_mutex_lock(&g_pol.mu);
	old = g_pol.cur;
	g_pol.cur = np;
	memcpy(g_pol.sig, now_sig, sizeof(now_sig));
	g_pol.last_error[0] = '\0';
	pthread_mutex_unlock(&g_pol.mu);
	pg_policy_unref(old);
	pg_metrics_policy_load(1, (int64_t)time(NULL));
	pg_log_diag("info", initial ? "policy loaded" : "policy reloaded",
		    pg_server__opts.policy_dir);
	return PG_OK;
}

/* For /readyz: whether a policy is in force; the last load error (or "")
 * copied to last_error. */
bool
pg_server__policy_state(char *last_error, size_t n)
{
	bool loaded;

	pthread_mutex_lock(&g_pol.mu);
	loaded = g_pol.cur != NULL;
	(void)snprintf(last_error, n, "%s", g_pol.last_error);
	pthread_mutex_unlock(&g_pol.mu);
	return loaded;
}

/* At shutdown, once no thread decides any more. */
void
pg_server__policy_drop(void)
{
	pthread_mutex_lock(&g_pol.mu);
	pg_policy_unref(g_pol.cur);
	g_pol.cur = NULL;
	pthread_mutex_unlock(&g_pol.mu);
}
