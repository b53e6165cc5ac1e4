/*
 * server/tls — the TLS context, the certificate and key (reloaded without
 * a restart: the newest pair wins at each handshake), and the optional
 * check of the API server's client certificate.  OpenSSL calls on_cert and
 * on_verify_client on loop threads; the watcher replaces the pair under
 * g_cert.mu.
 */
#include "server/server_int.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "obs/obs.h"

SSL_CTX *pg_server__ssl;

static struct {
	pthread_mutex_t mu;
	X509 *cert;
	STACK_OF(X509) * chain;
	EVP_PKEY *key;
	char sig[64];
} g_cert = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int
cert_load(pg_err *err)
{
	int rc = PG_EINVAL;
	BIO *b = NULL;
	X509 *leaf = NULL, *x;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	const char *files[] = {pg_server__opts.tls_cert, pg_server__opts.tls_key, NULL};
	char sig[64];

	pg_server__files_sig(sig, sizeof(sig), NULL, files);
	if ((b = BIO_new_file(pg_server__opts.tls_cert, "r")) == NULL ||
	    (leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read TLS certificate %s",
				pg_server__opts.tls_cert);
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
	if ((b = BIO_new_file(pg_server__opts.tls_key, "r")) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		rc = pg_err_set(err, PG_EIO, "cannot read TLS key %s", pg_server__opts.tls_key);
		goto out;
	}
	if (X509_check_private_key(leaf, key) != 1) {
		rc = pg_err_set(err, PG_EINVAL, "TLS key %s does not match certificate %s",
				pg_server__opts.tls_key, pg_server__opts.tls_cert);
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
	    SSL_use_PrivateKey(ssl, g_cert.key) == 1 && SSL_set1_chain(ssl, g_cert.chain) == 1)
		ok = 1;
	pthread_mutex_unlock(&g_cert.mu);
	return ok;
}

/* Does a CN of c's subject say exactly nm (its whole length: a CN
 * "kube-apiserver\0.evil.example" is not "kube-apiserver")?  The API
 * server's client certificate usually names itself in the CN only. */
static bool
cn_is(X509 *c, const char *nm)
{
	X509_NAME *sn = X509_get_subject_name(c);
	size_t n = strlen(nm);
	int i = -1;

	while (sn && (i = X509_NAME_get_index_by_NID(sn, NID_commonName, i)) >= 0) {
		unsigned char *u = NULL;
		int len =
		    ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(sn, i)));
		bool same = len >= 0 && (size_t)len == n && memcmp(u, nm, n) == 0;

		OPENSSL_free(u);
		if (same)
			return true;
	}
	return false;
}

static int
on_verify_client(int preverify, X509_STORE_CTX *xs)
{
	X509 *c;
	size_t i;

	if (!preverify)
		return 0;
	if (X509_STORE_CTX_get_error_depth(xs) != 0 || pg_server__opts.n_client_names == 0)
		return 1;
	c = X509_STORE_CTX_get_current_cert(xs);
	for (i = 0; i < pg_server__opts.n_client_names; i++) {
		const char *nm = pg_server__opts.client_names[i];

		/* A client is named exactly: no wildcard stands for it. */
		if (X509_check_host(c, nm, 0,
				    X509_CHECK_FLAG_NO_WILDCARDS |
					X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
				    NULL) == 1 ||
		    X509_check_email(c, nm, 0, 0) == 1 || cn_is(c, nm))
			return 1;
	}
	X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

int
pg_server__tls_setup(pg_err *err)
{
	static h2o_iovec_t alpn_h2[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};
	static h2o_iovec_t alpn_h1[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};
	int rc;

	if ((rc = cert_load(err)) != PG_OK)
		return rc;
	if ((pg_server__ssl = SSL_CTX_new(TLS_server_method())) == NULL)
		return pg_err_set(err, PG_EINTERNAL, "cannot create TLS context");
	SSL_CTX_set_min_proto_version(pg_server__ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(pg_server__ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
						SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_cert_cb(pg_server__ssl, on_cert, NULL);
	if (pg_server__opts.client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(pg_server__opts.client_ca);

		if (names == NULL || SSL_CTX_load_verify_locations(
					 pg_server__ssl, pg_server__opts.client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			return pg_err_set(err, PG_EIO, "cannot read client CA %s",
					  pg_server__opts.client_ca);
		}
		SSL_CTX_set_client_CA_list(pg_server__ssl, names);
		SSL_CTX_set_verify(pg_server__ssl,
				   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   on_verify_client);
	}
	h2o_ssl_register_alpn_protocols(pg_server__ssl,
					pg_server__opts.http1_only ? alpn_h1 : alpn_h2);
	return PG_OK;
}

/* Watcher thread: reload the certificate and key when their files
 * changed. */
void
pg_server__cert_reload(void)
{
	const char *files[3] = {pg_server__opts.tls_cert, pg_server__opts.tls_key, NULL};
	char sig[64];
	pg_err err;

	pg_server__files_sig(sig, sizeof(sig), NULL, files);
	pthread_mutex_lock(&g_cert.mu);
	if (strcmp(sig, g_cert.sig) == 0) {
		pthread_mutex_unlock(&g_cert.mu);
		return;
	}
	pthread_mutex_unlock(&g_cert.mu);
	pg_err_clear(&err);
	if (cert_load(&err) == PG_OK) {
		pg_log_diag("info", "TLS certificate reloaded", pg_server__opts.tls_cert);
	} else {
		/* A half-written pair is retried next tick; the old
		 * certificate stays in use. */
		pg_log_diag("error", "TLS certificate reload failed; keeping the old one", err.msg);
		pthread_mutex_lock(&g_cert.mu);
		memcpy(g_cert.sig, sig, sizeof(sig));
		pthread_mutex_unlock(&g_cert.mu);
	}
}
