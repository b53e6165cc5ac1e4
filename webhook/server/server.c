/*
 * server — h2o event loops, TLS, routes, the hand-off to workers and back.
 *
 * Threads and ownership:
 *  - main thread: setup, then waits for SIGTERM/SIGINT and runs shutdown;
 *  - loop threads (opts.threads): one h2o evloop + context each, each
 *    accepting on its own SO_REUSEPORT socket, and each creating every h2o
 *    object it uses itself (h2o recycles socket buffers through thread-local
 *    free lists).  They decode the review, decide what policy alone can
 *    decide, and answer;
 *  - workers (server/pool): run pg_decide_finish for reviews that need
 *    evidence, then post the job back with h2o_multithread_send_message to
 *    the loop that owns the request;
 *  - watcher: polls the policy directory and the certificate files and
 *    swaps in new versions (policy under g_pol.mu, certificate under
 *    g_cert.mu, read by the TLS certificate callback at each handshake).
 *
 * A job (one review waiting for verification) is created on a loop thread,
 * owned by a worker while it verifies, and always freed back on its loop
 * thread.  h2o objects never leave their loop thread: the worker only
 * touches job->d.  If the client goes away, the request pool's dispose hook
 * clears job->req; if the deadline fires first, the loop answers with the
 * timeout response rendered before the hand-off, and the late verdict is
 * dropped.
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/http2.h>

#include "admission/admission.h"
#include "buf/buf.h"
#include "clock/clock.h"
#include "decide/decide.h"
#include "obs/obs.h"
#include "policy/policy.h"
#include "server/pool.h"

/* Workers finish this long before the loop deadline so their verdict, not
 * the timeout, is what the API server sees. */
#define WORKER_MARGIN_MS 250
/* How long in-flight reviews get on SIGTERM before they are answered
 * "shutting down", and how long loops run after that (h2o has no clean
 * teardown; GOAWAY needs a moment to flush). */
#define SHUTDOWN_GRACE_MS 3000
#define SHUTDOWN_DRAIN_MS 1100
/* Accepts per readiness event, so one loop cannot starve on a flood. */
#define ACCEPT_BATCH 32

typedef struct job job;

typedef struct loop_ctx {
	h2o_context_t ctx; /* first: h2o hands us &ctx, we cast back */
	h2o_evloop_t *loop;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t done_rx; /* finished jobs */
	h2o_multithread_receiver_t ctl_rx;  /* control: stop / flush */
	h2o_timeout_t deadline;
	h2o_linklist_t active; /* jobs whose request is still waiting */
	pthread_t tid;
	atomic_int cmd; /* 1: stop listening + flush; 2: shutdown */
	int stopped;
	int fd;        /* listening socket, until the loop thread takes it */
	sem_t ready;   /* posted by the loop thread once it is set up */
} loop_ctx;

struct job {
	h2o_multithread_message_t msg; /* link for the way back */
	h2o_linklist_t active;          /* in loop_ctx.active while req waits */
	loop_ctx *lc;
	pg_decision *d;                 /* owned by the worker in between */
	h2o_req_t *req;                 /* loop thread only; NULL once gone */
	job **slot;                     /* in req->pool, points back here */
	h2o_timeout_entry_t timer;
	pg_answer timeout;              /* rendered before hand-off */
	int64_t t0_us;
	int64_t deadline;               /* for the worker, absolute ms */
	bool mutate;                    /* answers /mutate, not /validate */
};

static pg_server_opts g_opts;
static h2o_globalconf_t g_conf;
static SSL_CTX *g_ssl;
static pg_pool *g_pool;
static pg_decider *g_decider;
static loop_ctx *g_loops;
static atomic_int g_stopping;
static atomic_int g_inflight; /* jobs whose request still waits */

static struct {
	pthread_mutex_t mu;
	pg_policy *cur;
	char last_error[PG_ERR_MSG_MAX];
	char sig[64]; /* signature of the directory state last loaded */
} g_pol = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct {
	pthread_mutex_t mu;
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	char sig[64];
} g_cert = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ------------------------------------------------------------------ */
/* Policy and certificate state                                          */

static pg_policy *
policy_get(void)
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
static void
files_sig(char *out, size_t n, const char *dir, const char *const *files)
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
	pg_policy *p = policy_get();

	if (p != NULL && pg_policy_trust_files(&files, &nf, p) != PG_OK)
		files = NULL;
	files_sig(out, n, g_opts.policy_dir, files);
	free(files);
	pg_policy_unref(p);
}

static int
policy_reload(int initial, pg_err *err)
{
	pg_policy *np = NULL, *old;
	char sig[64];
	int rc;

	policy_sig(sig, sizeof(sig));
	if (!initial && strcmp(sig, g_pol.sig) == 0)
		return PG_OK;
	rc = pg_policy_load_dir(&np, g_opts.policy_dir, err);
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
		pg_log_diag("error", initial ? "policy does not load"
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
	pg_log_diag("info", initial ? "policy loaded" : "policy reloaded", g_opts.policy_dir);
	return PG_OK;
}

static int
cert_load(pg_err *err)
{
	int rc = PG_EINVAL;
	BIO *b = NULL;
	X509 *leaf = NULL, *x;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	const char *files[] = {g_opts.tls_cert, g_opts.tls_key, NULL};
	char sig[64];

	files_sig(sig, sizeof(sig), NULL, files);
	if ((b = BIO_new_file(g_opts.tls_cert, "r")) == NULL ||
	    (leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read TLS certificate %s", g_opts.tls_cert);
		goto out;
	}
	if ((chain = sk_X509_new_null()) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			goto out;
		}
	ERR_clear_error();
	BIO_free(b);
	if ((b = BIO_new_file(g_opts.tls_key, "r")) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read TLS key %s", g_opts.tls_key);
		goto out;
	}
	if (X509_check_private_key(leaf, key) != 1) {
		rc = pg_err_set(err, PG_EINVAL, "TLS key %s does not match certificate %s",
				g_opts.tls_key, g_opts.tls_cert);
		goto out;
	}
	{
		/* Expiry as a metric: an alert on it beats an outage when a
		 * renewal silently stopped. */
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1)
			pg_metrics_cert_expiry((int64_t)timegm(&tm));
	}
	pthread_mutex_lock(&g_cert.mu);
	X509_free(g_cert.cert);
	sk_X509_pop_free(g_cert.chain, X509_free);
	EVP_PKEY_free(g_cert.key);
	g_cert.cert = leaf;
	g_cert.chain = chain;
	g_cert.key = key;
	memcpy(g_cert.sig, sig, sizeof(sig));
	pthread_mutex_unlock(&g_cert.mu);
	leaf = NULL;
	chain = NULL;
	key = NULL;
	rc = PG_OK;
out:
	if (rc == PG_EINVAL && err && err->msg[0] == '\0')
		pg_err_set(err, rc, "cannot load TLS certificate");
	ERR_clear_error();
	BIO_free(b);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

/* Called by OpenSSL at every handshake: the newest certificate wins, so
 * rotation needs no restart. */
static int
on_cert(SSL *ssl, void *arg)
{
	int ok = 0;

	(void)arg;
	pthread_mutex_lock(&g_cert.mu);
	if (g_cert.cert && SSL_use_certificate(ssl, g_cert.cert) == 1 &&
	    SSL_use_PrivateKey(ssl, g_cert.key) == 1 &&
	    SSL_set1_chain(ssl, g_cert.chain) == 1)
		ok = 1;
	pthread_mutex_unlock(&g_cert.mu);
	return ok;
}

static int
on_verify_client(int preverify, X509_STORE_CTX *xs)
{
	X509 *c;
	size_t i;

	if (!preverify)
		return 0;
	if (X509_STORE_CTX_get_error_depth(xs) != 0 || g_opts.n_client_names == 0)
		return 1;
	c = X509_STORE_CTX_get_current_cert(xs);
	for (i = 0; i < g_opts.n_client_names; i++) {
		const char *nm = g_opts.client_names[i];
		X509_NAME *sn = X509_get_subject_name(c);
		char cn[256];

		if (X509_check_host(c, nm, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1 ||
		    X509_check_email(c, nm, 0, 0) == 1)
			return 1;
		/* The API server's client certificate usually names itself in
		 * the CN only. */
		if (sn && X509_NAME_get_text_by_NID(sn, NID_commonName, cn, sizeof(cn)) > 0 &&
		    strcmp(cn, nm) == 0)
			return 1;
	}
	X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

static int
tls_setup(pg_err *err)
{
	static h2o_iovec_t alpn_h2[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};
	static h2o_iovec_t alpn_h1[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};
	int rc;

	if ((rc = cert_load(err)) != PG_OK)
		return rc;
	if ((g_ssl = SSL_CTX_new(TLS_server_method())) == NULL)
		return pg_err_set(err, PG_EINTERNAL, "cannot create TLS context");
	SSL_CTX_set_min_proto_version(g_ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(g_ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					   SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_cert_cb(g_ssl, on_cert, NULL);
	if (g_opts.client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(g_opts.client_ca);

		if (names == NULL ||
		    SSL_CTX_load_verify_locations(g_ssl, g_opts.client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			return pg_err_set(err, PG_EIO, "cannot read client CA %s", g_opts.client_ca);
		}
		SSL_CTX_set_client_CA_list(g_ssl, names);
		SSL_CTX_set_verify(g_ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   on_verify_client);
	}
	h2o_ssl_register_alpn_protocols(g_ssl, g_opts.http1_only ? alpn_h1 : alpn_h2);
	return PG_OK;
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */

static void
send_body(h2o_req_t *req, int status, const char *reason, const char *ctype,
	  const char *body, size_t len)
{
	req->res.status = status;
	req->res.reason = reason;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
		       strlen(ctype));
	h2o_send_inline(req, body, len);
}

static void
write_log(const char *line, size_t len)
{
	/* One write per line: lines from several threads never interleave
	 * mid-line on a pipe (below PIPE_BUF) or a file opened O_APPEND. */
	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, line, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		line += w;
		len -= (size_t)w;
	}
}

/* Answer a finished decision (nothing pending), log it, count it. */
static void
answer_decision(h2o_req_t *req, pg_decision *d, int64_t t0_us, bool is_mutate)
{
	pg_answer a;
	int64_t dur = pg_clock_us() - t0_us;

	if (pg_decide_answer(&a, d, is_mutate, dur) != PG_OK) {
		send_body(req, 500, "Internal Server Error", "application/json",
			  H2O_STRLIT("{\"error\":\"cannot render response\"}"));
		if (is_mutate)
			pg_metrics_mutate("error", 0);
		else
			pg_metrics_review("error", "nomem", dur);
		return;
	}
	send_body(req, 200, "OK", "application/json", a.body, a.len);
	if (a.log)
		write_log(a.log, a.log_len);
	if (is_mutate)
		pg_metrics_mutate(a.npatched ? "patched" : "unpatched", a.npatched);
	else
		pg_metrics_review(a.label, a.reason, dur);
	pg_answer_clear(&a);
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */

static void
job_free(job *j)
{
	pg_decision_free(j->d);
	pg_answer_clear(&j->timeout);
	free(j);
}

/* Loop thread: the request will not be answered by this job any more. */
static void
job_detach(job *j)
{
	if (h2o_timeout_is_linked(&j->timer))
		h2o_timeout_unlink(&j->timer);
	if (h2o_linklist_is_linked(&j->active))
		h2o_linklist_unlink(&j->active);
	if (j->slot)
		*j->slot = NULL;
	j->slot = NULL;
	j->req = NULL;
	atomic_fetch_sub(&g_inflight, 1);
	pg_metrics_inflight(-1);
}

static void
on_req_dispose(void *p)
{
	job *j = *(job **)p;

	if (j != NULL)
		job_detach(j); /* client gone: the worker's verdict is dropped */
}

static void
answer_timeout(job *j)
{
	h2o_req_t *req = j->req;

	job_detach(j);
	send_body(req, 200, "OK", "application/json", j->timeout.body, j->timeout.len);
	write_log(j->timeout.log, j->timeout.log_len);
	if (j->mutate)
		pg_metrics_mutate("timeout", 0);
	else
		pg_metrics_review(j->timeout.label, "timeout", pg_clock_us() - j->t0_us);
}

static void
on_deadline(h2o_timeout_entry_t *entry)
{
	job *j = H2O_STRUCT_FROM_MEMBER(job, timer, entry);

	if (j->req != NULL)
		answer_timeout(j);
}

/* Loop thread: verdicts coming back from workers. */
static void
on_jobs_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	(void)rx;
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m =
			H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		job *j = H2O_STRUCT_FROM_MEMBER(job, msg, m);

		h2o_linklist_unlink(&m->link);
		if (j->req != NULL) {
			h2o_req_t *req = j->req;

			job_detach(j);
			answer_decision(req, j->d, j->t0_us, j->mutate);
		}
		job_free(j);
	}
}

static void
worker_run(void *arg, void *state)
{
	job *j = arg;

	pg_decide_finish(j->d, state, j->deadline);
	h2o_multithread_send_message(&j->lc->done_rx, &j->msg);
}

static void *
worker_init(void *ctx)
{
	pg_decide_worker *w = NULL;

	(void)ctx;
	if (pg_decide_worker_new(&w, g_decider) != PG_OK)
		return NULL;
	return w;
}

static void
worker_fini(void *state)
{
	pg_decide_worker_free(state);
}

/* Hand a decision with pending references to a worker.  Returns 0 when the
 * job now owns d (and will answer req), else the decision is still ours. */
static int
dispatch(loop_ctx *lc, h2o_req_t *req, pg_decision *d, int64_t t0_us, bool is_mutate)
{
	job *j = calloc(1, sizeof(*j));
	int rc;

	if (j == NULL)
		return PG_ENOMEM;
	j->lc = lc;
	j->d = d;
	j->t0_us = t0_us;
	j->mutate = is_mutate;
	j->deadline = t0_us / 1000 + (int64_t)g_opts.timeout_ms - WORKER_MARGIN_MS;
	/* The timeout answer is rendered now, while d is still ours; the
	 * deadline callback must not touch d while a worker has it. */
	rc = pg_decide_timeout_answer(&j->timeout, d, is_mutate, g_opts.timeout_ms);
	if (rc != PG_OK) {
		j->d = NULL;
		job_free(j);
		return rc;
	}
	j->req = req;
	j->slot = h2o_mem_alloc_shared(&req->pool, sizeof(*j->slot), on_req_dispose);
	*j->slot = j;
	j->timer.cb = on_deadline;
	h2o_timeout_link(lc->loop, &lc->deadline, &j->timer);
	h2o_linklist_insert(&lc->active, &j->active);
	atomic_fetch_add(&g_inflight, 1);
	pg_metrics_inflight(1);
	rc = pg_pool_submit(g_pool, worker_run, j);
	if (rc != PG_OK) {
		job_detach(j);
		j->d = NULL;
		job_free(j);
		return rc;
	}
	return PG_OK;
}

/* ------------------------------------------------------------------ */
/* Routes                                                               */

static int
is(h2o_iovec_t v, const char *s)
{
	return h2o_memis(v.base, v.len, s, strlen(s));
}

static void
validate(loop_ctx *lc, h2o_req_t *req)
{
	int64_t t0 = pg_clock_us();
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_decide_state st;
	pg_policy *pol;
	pg_err err;
	char *body = NULL;
	size_t blen = 0;
	int rc;

	pg_err_clear(&err);
	rc = pg_review_decode(&rv, req->entity.base ? req->entity.base : "", req->entity.len, &err);
	if (rc != PG_OK) {
		if (pg_review_error_json(&body, &blen, err.msg) == PG_OK)
			send_body(req, rc == PG_ETOOBIG ? 413 : 400,
				  rc == PG_ETOOBIG ? "Payload Too Large" : "Bad Request",
				  "application/json", body, blen);
		else
			send_body(req, 400, "Bad Request", "text/plain", H2O_STRLIT("bad request\n"));
		free(body);
		pg_metrics_review("error", pg_err_name(rc), pg_clock_us() - t0);
		return;
	}
	pol = policy_get();
	if (pol == NULL) {
		pg_review_free(rv);
		send_body(req, 503, "Service Unavailable", "application/json",
			  H2O_STRLIT("{\"error\":\"no policy loaded\"}"));
		pg_metrics_review("error", "unavailable", pg_clock_us() - t0);
		return;
	}
	rc = pg_decide_submit(&d, &st, g_decider, rv, pol, false, &err);
	pg_policy_unref(pol);
	if (rc != PG_OK) {
		/* Only out of memory is left here: a malformed object (too many
		 * references, a wrong-typed field) is a decision, denied with
		 * its reason.  Not the client's fault, so not a 400. */
		if (pg_review_error_json(&body, &blen, err.msg) == PG_OK)
			send_body(req, 500, "Internal Server Error", "application/json", body, blen);
		free(body);
		pg_metrics_review("error", pg_err_name(rc), pg_clock_us() - t0);
		return;
	}
	if (st == PG_DECIDE_PENDING) {
		if (atomic_load(&g_stopping)) {
			pg_decision_fail_pending(d, PG_EUNAVAIL, "provgate is shutting down");
		} else {
			rc = dispatch(lc, req, d, t0, false);
			if (rc == PG_OK)
				return;
			pg_decision_fail_pending(d, PG_EUNAVAIL,
						 rc == PG_ETOOBIG ? "overloaded: verification queue is full"
								  : "cannot start verification");
		}
	}
	answer_decision(req, d, t0, false);
	pg_decision_free(d);
}

/* POST /mutate (optional MutatingWebhookConfiguration, Pods only): the same
 * decision and verification as /validate (cache included), answered as a
 * patch that pins verified tags.  Always allowed; a review that cannot be
 * decided or verified gets no patch, and /validate denies it. */
static void
mutate(loop_ctx *lc, h2o_req_t *req)
{
	int64_t t0 = pg_clock_us();
	pg_review *rv = NULL;
	pg_decision *d = NULL;
	pg_decide_state st;
	pg_policy *pol;
	pg_err err;
	char *body = NULL, *uid = NULL, *apiv = NULL;
	size_t blen = 0;
	int rc;

	pg_err_clear(&err);
	rc = pg_review_decode(&rv, req->entity.base ? req->entity.base : "", req->entity.len, &err);
	if (rc != PG_OK) {
		if (pg_review_error_json(&body, &blen, err.msg) == PG_OK)
			send_body(req, rc == PG_ETOOBIG ? 413 : 400,
				  rc == PG_ETOOBIG ? "Payload Too Large" : "Bad Request",
				  "application/json", body, blen);
		else
			send_body(req, 400, "Bad Request", "text/plain", H2O_STRLIT("bad request\n"));
		free(body);
		pg_metrics_mutate("error", 0);
		return;
	}
	uid = pg_strdup(pg_review_uid(rv));
	apiv = pg_strdup(pg_review_api_version(rv));
	pol = policy_get();
	if (pol == NULL || uid == NULL || apiv == NULL) {
		pg_review_free(rv);
		pg_policy_unref(pol);
		send_body(req, 503, "Service Unavailable", "application/json",
			  H2O_STRLIT("{\"error\":\"no policy loaded\"}"));
		pg_metrics_mutate("error", 0);
		goto out;
	}
	rc = pg_decide_submit(&d, &st, g_decider, rv, pol, true, &err);
	pg_policy_unref(pol);
	if (rc != PG_OK) {
		/* Not decidable (too many references...): no patch; /validate
		 * denies it with the reason. */
		if (pg_review_mutate_nopatch(&body, &blen, apiv, uid, NULL) == PG_OK)
			send_body(req, 200, "OK", "application/json", body, blen);
		else
			send_body(req, 500, "Internal Server Error", "text/plain", H2O_STRLIT("mutate\n"));
		pg_metrics_mutate("unpatched", 0);
		goto out;
	}
	if (st == PG_DECIDE_PENDING) {
		if (atomic_load(&g_stopping)) {
			pg_decision_fail_pending(d, PG_EUNAVAIL, "provgate is shutting down");
		} else if (dispatch(lc, req, d, t0, true) == PG_OK) {
			goto out;
		} else {
			pg_decision_fail_pending(d, PG_EUNAVAIL, "cannot start verification");
		}
	}
	answer_decision(req, d, t0, true);
	pg_decision_free(d);
out:
	free(body);
	free(uid);
	free(apiv);
}

static void
readyz(h2o_req_t *req)
{
	pg_buf b;
	int ready;

	pg_buf_init(&b, 4096);
	pthread_mutex_lock(&g_pol.mu);
	ready = g_pol.cur != NULL && g_pool && pg_pool_alive(g_pool) > 0 &&
		!atomic_load(&g_stopping);
	(void)pg_buf_printf(&b, "%s\npolicy: %s\nworkers alive: %u\n",
			    ready ? "ready" : "not ready",
			    g_pol.cur ? "loaded" : "not loaded", g_pool ? pg_pool_alive(g_pool) : 0);
	if (g_pol.last_error[0])
		(void)pg_buf_printf(&b, "last policy load failed (last good policy in force): %s\n",
				    g_pol.last_error);
	pthread_mutex_unlock(&g_pol.mu);
	send_body(req, ready ? 200 : 503, ready ? "OK" : "Service Unavailable", "text/plain",
		  (char *)b.data, b.len);
	pg_buf_free(&b);
}

static void
metrics(h2o_req_t *req)
{
	pg_buf b;

	pg_buf_init(&b, (size_t)1 << 20);
	if (pg_metrics_render(&b) == PG_OK && pg_decider_metrics(&b, g_decider) == PG_OK)
		send_body(req, 200, "OK", "text/plain; version=0.0.4", (char *)b.data, b.len);
	else
		send_body(req, 500, "Internal Server Error", "text/plain", H2O_STRLIT("metrics\n"));
	pg_buf_free(&b);
}

/* The plain-HTTP metrics listener (--metrics-listen) serves GET /metrics
 * and nothing else: no admission endpoint is ever reachable without TLS. */
static int
on_metrics_req(h2o_handler_t *self, h2o_req_t *req)
{
	(void)self;
	if (!is(req->path_normalized, "/metrics")) {
		send_body(req, 404, "Not Found", "text/plain", H2O_STRLIT("not found\n"));
		return 0;
	}
	if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
		send_body(req, 405, "Method Not Allowed", "text/plain", H2O_STRLIT("GET only\n"));
		return 0;
	}
	metrics(req);
	return 0;
}

static int
on_req(h2o_handler_t *self, h2o_req_t *req)
{
	loop_ctx *lc = (loop_ctx *)req->conn->ctx;
	h2o_iovec_t path = req->path_normalized;

	(void)self;
	if (is(path, "/validate")) {
		if (!is(req->method, "POST")) {
			send_body(req, 405, "Method Not Allowed", "text/plain", H2O_STRLIT("POST only\n"));
			return 0;
		}
		validate(lc, req);
		return 0;
	}
	if (is(path, "/mutate")) {
		if (!is(req->method, "POST")) {
			send_body(req, 405, "Method Not Allowed", "text/plain", H2O_STRLIT("POST only\n"));
			return 0;
		}
		mutate(lc, req);
		return 0;
	}
	if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
		send_body(req, 405, "Method Not Allowed", "text/plain", H2O_STRLIT("GET only\n"));
		return 0;
	}
	if (is(path, "/healthz")) {
		send_body(req, 200, "OK", "text/plain", H2O_STRLIT("ok\n"));
	} else if (is(path, "/readyz")) {
		readyz(req);
	} else if (is(path, "/metrics")) {
		metrics(req);
	} else {
		send_body(req, 404, "Not Found", "text/plain", H2O_STRLIT("not found\n"));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loop threads                                                         */

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	loop_ctx *lc = listener->data;
	int i;

	if (err != NULL)
		return;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		h2o_socket_t *s = h2o_evloop_socket_accept(listener);

		if (s == NULL)
			break;
		h2o_accept(&lc->accept_ctx, s);
	}
}

/* Answer every request still waiting on a worker (shutdown). */
static void
flush_active(loop_ctx *lc)
{
	while (!h2o_linklist_is_empty(&lc->active)) {
		job *j = H2O_STRUCT_FROM_MEMBER(job, active, lc->active.next);

		answer_timeout(j);
	}
}

static void
on_ctl(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	loop_ctx *lc = H2O_STRUCT_FROM_MEMBER(loop_ctx, ctl_rx, rx);
	int cmd = atomic_load(&lc->cmd);

	(void)messages; /* wake-ups only: the command is in lc->cmd */
	if (cmd >= 1 && lc->listener) {
		h2o_socket_read_stop(lc->listener);
		h2o_socket_close(lc->listener);
		lc->listener = NULL;
	}
	if (cmd >= 2 && !lc->stopped) {
		flush_active(lc);
		h2o_context_request_shutdown(&lc->ctx);
		lc->stopped = 1;
	}
}


static int
listen_socket(int *out, const char *addr, pg_err *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {0}, *res = NULL;
	int fd = -1, on = 1, rc;
	size_t hl;

	if (colon == NULL || colon == addr)
		return pg_err_set(err, PG_EINVAL, "listen address wants ADDR:PORT, got \"%s\"", addr);
	hl = (size_t)(colon - addr);
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return pg_err_set(err, PG_EINVAL, "listen address too long");
	memcpy(host, addr, hl);
	host[hl] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
		return pg_err_set(err, PG_EINVAL, "listen address %s: %s", addr, gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	/* SO_REUSEPORT: each loop thread gets a socket of its own and the
	 * kernel spreads connections over them; one shared socket let a single
	 * loop win every accept race and leave the other cores idle. */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		rc = pg_err_set(err, PG_EIO, "cannot listen on %s: %s", colon - hl, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return rc;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	freeaddrinfo(res);
	*out = fd;
	return PG_OK;
}

/* Everything h2o makes for a loop is made on the loop's own thread: h2o
 * sockets take their buffers from the creating thread's (thread-local)
 * socket buffer prototype and give them back to it.  Made on the main
 * thread, the queue sockets of all loops shared main's free list without a
 * lock, and a buffer was handed to two loops at once (ASan saw a
 * use-after-free, TSan the race). */
static void *
loop_main(void *arg)
{
	loop_ctx *lc = arg;

	lc->loop = h2o_evloop_create();
	h2o_context_init(&lc->ctx, lc->loop, &g_conf);
	lc->accept_ctx.ctx = &lc->ctx;
	lc->accept_ctx.hosts = g_conf.hosts;
	lc->accept_ctx.ssl_ctx = g_ssl;
	lc->queue = h2o_multithread_create_queue(lc->loop);
	h2o_multithread_register_receiver(lc->queue, &lc->done_rx, on_jobs_done);
	h2o_multithread_register_receiver(lc->queue, &lc->ctl_rx, on_ctl);
	h2o_timeout_init(lc->loop, &lc->deadline, g_opts.timeout_ms);
	h2o_linklist_init_anchor(&lc->active);
	lc->listener = h2o_evloop_socket_create(lc->loop, lc->fd, H2O_SOCKET_FLAG_DONT_READ);
	lc->listener->data = lc;
	h2o_socket_read_start(lc->listener, on_accept);
	sem_post(&lc->ready);
	while (atomic_load(&lc->cmd) < 3)
		h2o_evloop_run(lc->loop, 100);
	return NULL;
}

/* The metrics loop: one thread, plain HTTP/1.1 on its own socket and its
 * own h2o configuration (only on_metrics_req is registered there). */
static struct {
	h2o_globalconf_t conf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_evloop_t *loop;
	h2o_socket_t *listener;
	pthread_t tid;
	int fd;
	int running;
	sem_t ready;
} g_mx;

static void
on_metrics_accept(h2o_socket_t *listener, const char *err)
{
	int i;

	if (err != NULL)
		return;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		h2o_socket_t *s = h2o_evloop_socket_accept(listener);

		if (s == NULL)
			break;
		h2o_accept(&g_mx.accept_ctx, s);
	}
}

static void *
metrics_main(void *arg)
{
	(void)arg;
	g_mx.loop = h2o_evloop_create();
	h2o_context_init(&g_mx.ctx, g_mx.loop, &g_mx.conf);
	g_mx.accept_ctx.ctx = &g_mx.ctx;
	g_mx.accept_ctx.hosts = g_mx.conf.hosts;
	g_mx.accept_ctx.ssl_ctx = NULL;
	g_mx.listener = h2o_evloop_socket_create(g_mx.loop, g_mx.fd, H2O_SOCKET_FLAG_DONT_READ);
	h2o_socket_read_start(g_mx.listener, on_metrics_accept);
	sem_post(&g_mx.ready);
	while (!atomic_load(&g_stopping))
		h2o_evloop_run(g_mx.loop, 100);
	h2o_socket_read_stop(g_mx.listener);
	h2o_socket_close(g_mx.listener);
	return NULL;
}

static int
metrics_start(pg_err *err)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;
	int rc;

	if ((rc = listen_socket(&g_mx.fd, g_opts.metrics_listen, err)) != PG_OK)
		return rc;
	h2o_config_init(&g_mx.conf);
	g_mx.conf.max_request_entity_size = 1024;
	g_mx.conf.http1.req_timeout = 10000;
	g_mx.conf.server_name = h2o_iovec_init(H2O_STRLIT("provgate"));
	host = h2o_config_register_host(&g_mx.conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = on_metrics_req;
	if (sem_init(&g_mx.ready, 0, 0) != 0 ||
	    pthread_create(&g_mx.tid, NULL, metrics_main, NULL) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start the metrics listener");
	while (sem_wait(&g_mx.ready) != 0 && errno == EINTR)
		;
	g_mx.running = 1;
	return PG_OK;
}

/* Start a loop thread accepting on fd (which it owns from now on); returns
 * once the loop can take commands and connections. */
static int
loop_start(loop_ctx *lc, int fd, pg_err *err)
{
	lc->fd = fd;
	if (sem_init(&lc->ready, 0, 0) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start loop thread");
	if (pthread_create(&lc->tid, NULL, loop_main, lc) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start loop thread");
	while (sem_wait(&lc->ready) != 0 && errno == EINTR)
		;
	return PG_OK;
}

static void
loops_command(int cmd)
{
	unsigned i;

	for (i = 0; i < g_opts.threads; i++) {
		atomic_store(&g_loops[i].cmd, cmd);
		h2o_multithread_send_message(&g_loops[i].ctl_rx, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Watcher: policy and certificate reload                               */

static void *
watch_main(void *arg)
{
	sigset_t *stop = arg;
	struct timespec ts;
	const char *files[3] = {g_opts.tls_cert, g_opts.tls_key, NULL};
	char sig[64];
	pg_err err;

	(void)stop;
	for (;;) {
		ts.tv_sec = g_opts.reload_ms / 1000;
		ts.tv_nsec = (long)(g_opts.reload_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		if (atomic_load(&g_stopping))
			return NULL;
		pg_err_clear(&err);
		(void)policy_reload(0, &err);
		files_sig(sig, sizeof(sig), NULL, files);
		pthread_mutex_lock(&g_cert.mu);
		if (strcmp(sig, g_cert.sig) == 0) {
			pthread_mutex_unlock(&g_cert.mu);
			continue;
		}
		pthread_mutex_unlock(&g_cert.mu);
		pg_err_clear(&err);
		if (cert_load(&err) == PG_OK) {
			pg_log_diag("info", "TLS certificate reloaded", g_opts.tls_cert);
		} else {
			/* A half-written pair is retried next tick; the old
			 * certificate stays in use. */
			pg_log_diag("error", "TLS certificate reload failed; keeping the old one", err.msg);
			pthread_mutex_lock(&g_cert.mu);
			memcpy(g_cert.sig, sig, sizeof(sig));
			pthread_mutex_unlock(&g_cert.mu);
		}
	}
}

/* ------------------------------------------------------------------ */

void
pg_server_opts_default(pg_server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->listen = "0.0.0.0:8443";
	o->threads = 2;
	o->workers = 4;
	o->queue = 1024;
	o->timeout_ms = 9000;
	o->max_body = (size_t)3 << 20;
	o->max_streams = 100;
	o->reload_ms = 1000;
	o->cache_entries = 100000;
	o->cache_bytes = (size_t)48 << 20;
	o->cache_ttl_ms = 10 * 60 * 1000;
	o->cache_neg_ttl_ms = 30 * 1000;
	o->cache_tag_ttl_ms = 30 * 1000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int
pg_server_run(const pg_server_opts *o, pg_err *err)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;
	sigset_t set;
	pthread_t watcher;
	int fd = -1, sig = 0, rc;
	unsigned i;
	int64_t t_end;

	g_opts = *o;
	if (g_opts.threads == 0 || g_opts.workers == 0 || g_opts.timeout_ms < 100)
		return pg_err_set(err, PG_EINVAL, "--threads and --workers must be >= 1, --timeout-ms >= 100");
	/* Signals are taken by sigwait on this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (g_opts.metrics_listen) {
		/* Both sockets use SO_REUSEPORT: on one port the kernel would
		 * spread API-server connections onto the plain-HTTP socket. */
		const char *a = strrchr(g_opts.listen, ':'), *b = strrchr(g_opts.metrics_listen, ':');

		if (a && b && strcmp(a, b) == 0)
			return pg_err_set(err, PG_EINVAL, "--metrics-listen must use another port than --listen");
	}
	if ((rc = policy_reload(1, err)) != PG_OK)
		return rc;
	if ((rc = tls_setup(err)) != PG_OK)
		return rc;
	if ((rc = listen_socket(&fd, g_opts.listen, err)) != PG_OK)
		return rc;

	h2o_config_init(&g_conf);
	g_conf.max_request_entity_size = g_opts.max_body;
	g_conf.http2.max_concurrent_requests_per_connection = g_opts.max_streams;
	g_conf.http1.req_timeout = 10000;
	g_conf.http2.idle_timeout = 10000;
	g_conf.handshake_timeout = 5000;
	g_conf.server_name = h2o_iovec_init(H2O_STRLIT("provgate"));
	host = h2o_config_register_host(&g_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof(*h));
	h->on_req = on_req;

	{
		pg_decider_opts dopt = {.cache_entries = g_opts.cache_entries,
					.cache_bytes = g_opts.cache_bytes,
					.cache_ttl_ms = g_opts.cache_ttl_ms,
					.cache_neg_ttl_ms = g_opts.cache_neg_ttl_ms,
					.cache_tag_ttl_ms = g_opts.cache_tag_ttl_ms,
					.ca_file = g_opts.ca_file};

		if ((rc = pg_decider_new(&g_decider, &dopt, err)) != PG_OK)
			return rc;
	}
	if (pg_pool_new(&g_pool, g_opts.workers, g_opts.queue, worker_init, worker_fini, NULL) != PG_OK)
		return pg_err_set(err, PG_EINTERNAL, "cannot start workers");
	if ((g_loops = calloc(g_opts.threads, sizeof(*g_loops))) == NULL)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < g_opts.threads; i++) {
		if (i > 0 && (rc = listen_socket(&fd, g_opts.listen, err)) != PG_OK)
			return rc;
		if ((rc = loop_start(&g_loops[i], fd, err)) != PG_OK)
			return rc;
	}
	if (pthread_create(&watcher, NULL, watch_main, NULL) != 0)
		return pg_err_set(err, PG_EINTERNAL, "cannot start watcher");
	if (g_opts.metrics_listen && (rc = metrics_start(err)) != PG_OK)
		return rc;
	pg_log_diag("info", "serving", g_opts.listen);
	if (g_opts.metrics_listen)
		pg_log_diag("info", "serving metrics (plain HTTP, GET /metrics)", g_opts.metrics_listen);

	while (sigwait(&set, &sig) != 0)
		;
	pg_log_diag("info", "shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	atomic_store(&g_stopping, 1);
	loops_command(1); /* stop accepting */
	t_end = pg_clock_ms() + SHUTDOWN_GRACE_MS;
	while (atomic_load(&g_inflight) > 0 && pg_clock_ms() < t_end)
		sleep_ms(20);
	loops_command(2); /* answer what is left, GOAWAY */
	sleep_ms(SHUTDOWN_DRAIN_MS);
	loops_command(3);
	for (i = 0; i < g_opts.threads; i++)
		pthread_join(g_loops[i].tid, NULL);
	pthread_join(watcher, NULL);
	if (g_mx.running)
		pthread_join(g_mx.tid, NULL);
	/* Workers hold jobs whose loops are gone: stop them last.  h2o has
	 * no teardown for contexts; the process exits next. */
	pg_pool_free(g_pool);
	g_pool = NULL;
	pg_decider_free(g_decider);
	g_decider = NULL;
	pthread_mutex_lock(&g_pol.mu);
	pg_policy_unref(g_pol.cur);
	g_pol.cur = NULL;
	pthread_mutex_unlock(&g_pol.mu);
	pg_log_diag("info", "stopped", NULL);
	return PG_OK;
}
