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

/* Signature of the policy directory and of every trust file the policy in
 * force read (keys and keyrings may live outside the directory, e.g. in a
 * mounted Secret). */
static void
policy_sig(char *out, size_t n)
{
	const char **files = NULL;
	size_t nf = 0;
	pg_policy *p = pg_server__policy_get();

	if (p != NULL && pg_policy_trust_files(&files, &nf, p) != PG_OK)
		files = NULL;
	pg_server__files_sig(out, n, pg_server__opts.policy_dir, files);
	free(files);
	pg_policy_unref(p);
}

int
pg_server__policy_reload(int initial, pg_err *err)
{
	pg_policy *np = NULL, *old;
	char sig[64];
	int rc;

	policy_sig(sig, sizeof(sig));
	if (!initial && strcmp(sig, g_pol.sig) == 0)
		return PG_OK;
	rc = pg_policy_load_dir(&np, pg_server__opts.policy_dir, err);
	/* Trust material that does not parse is a load error too, not a deny
	 * of everything its rules match at admission. */
	if (rc == PG_OK && (rc = pg_decide_policy_check(np, err)) != PG_OK) {
		pg_policy_unref(np);
		np = NULL;
	}
	pthread_mutex_lock(&g_pol.mu);
	memcpy(g_pol.sig, sig, sizeof(sig));
	if (rc != PG_OK) {
		(void)snprintf(g_pol.last_error, sizeof(g_pol.last_error), "%s", err->msg);
		pthread_mutex_unlock(&g_pol.mu);
		pg_metrics_policy_load(0, 0);
		pg_log_diag("error",
			    initial ? "policy does not load"
				    : "policy reload failed; the last good policy stays in force",
			    err->msg);
		return rc;
	}
	old = g_pol.cur;
	g_pol.cur = np;
	g_pol.last_error[0] = '\0';
	pthread_mutex_unlock(&g_pol.mu);
	pg_policy_unref(old);
	/* From now on, watch the trust files the new policy read. */
	policy_sig(sig, sizeof(sig));
	memcpy(g_pol.sig, sig, sizeof(sig));
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
