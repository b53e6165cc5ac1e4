/*
 * sigstore/cert — X.509 for keyless signing: the leaf is chained to a CA of
 * the trusted root at the observer's time (integrated or TSA time, never
 * "now" unless nothing else exists), must carry EKU codeSigning, and its
 * identity (SAN) and OIDC issuer (Fulcio OIDs) must match the policy.
 * Embedded SCTs are verified as RFC 6962 precertificate entries.
 * Never trusts a certificate that arrived with the signature as an anchor.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "buf/buf.h"
#include "re/re.h"
#include "sigstore/sigstore_int.h"

/* Fulcio issuer OIDs (fulcio docs/oid-info.md). */
#define OID_FULCIO_ISSUER_V2 "1.3.6.1.4.1.57264.1.8"
#define OID_FULCIO_ISSUER_V1 "1.3.6.1.4.1.57264.1.1"
/* Longest SAN or issuer we keep: URIs of CI workflows are ~200 bytes. */
#define PG_NAME_MAX 4096
/* verify_ca_fast: no short path to this CA; the full path check decides. */
#define FAST_MISS 1

int
pg_cert_from_der(X509 **out, const unsigned char *der, size_t len, pg_err *err)
{
	const unsigned char *p = der;
	X509 *c;

	*out = NULL;
	if (len == 0 || len > LONG_MAX)
		return pg_err_set(err, PG_EINVAL, "empty or oversized certificate");
	c = d2i_X509(NULL, &p, (long)len);
	if (c == NULL || p != der + len) {
		X509_free(c);
		ERR_clear_error();
		return pg_err_set(err, PG_EINVAL, "malformed certificate");
	}
	*out = c;
	return PG_OK;
}

int
pg_certs_from_pem(STACK_OF(X509) * *out, const char *pem, size_t len, pg_err *err)
{
	STACK_OF(X509) *sk = NULL;
	BIO *b = NULL;
	X509 *c;
	int rc = PG_EINVAL;

	*out = NULL;
	if (len > INT_MAX)
		return pg_err_set(err, PG_ETOOBIG, "certificate PEM too large");
	b = BIO_new_mem_buf(pem, (int)len);
	sk = sk_X509_new_null();
	if (b == NULL || sk == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= PG_CHAIN_MAX) {
			X509_free(c);
			rc = pg_err_set(err, PG_ETOOBIG, "more than %d certificates in a chain",
					PG_CHAIN_MAX);
			goto out;
		}
		if (!sk_X509_push(sk, c)) {
			X509_free(c);
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		rc = pg_err_set(err, PG_EINVAL, "no PEM certificate found");
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = PG_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return rc;
}

bool
pg_cert_self_signed(X509 *c)
{
	return (X509_get_extension_flags(c) & EXFLAG_SS) != 0;
}

int
pg_cert_der(unsigned char **out, size_t *out_len, X509 *c)
{
	unsigned char *p = NULL;
	int n = i2d_X509(c, &p);

	return pg_der_take(out, out_len, p, n);
}

bool
pg_cert_valid_at(X509 *c, int64_t t)
{
	int64_t nb, na;

	if (pg_asn1_time_epoch(&nb, X509_get0_notBefore(c)) != PG_OK ||
	    pg_asn1_time_epoch(&na, X509_get0_notAfter(c)) != PG_OK)
		return false;
	return nb <= t && t <= na;
}

static void
fmt_time(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, n, "%lld", (long long)t);
}

/* Validity is checked by us, inclusively, at t for the whole path (OpenSSL
 * treats t == notAfter as expired; Go and sigstore do not). */
static int
ignore_time_errors(int ok, X509_STORE_CTX *ctx)
{
	int e = X509_STORE_CTX_get_error(ctx);

	if (!ok && (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

bool
pg_certs_valid_at_openssl(STACK_OF(X509) * chain, int64_t t)
{
	time_t tt = (time_t)t;
	int i;

	/* X509_cmp_time: -1 when the certificate's time <= tt, 1 when later,
	 * 0 on error; the exact rule OpenSSL's own time check applies. */
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		if (X509_cmp_time(X509_get0_notBefore(c), &tt) >= 0 ||
		    X509_cmp_time(X509_get0_notAfter(c), &tt) <= 0)
			return false;
	}
	return true;
}

/* Extensions that make a CA above chain[0] constrain the certificates
 * below it (name constraints, policy processing): with one of these,
 * cutting the path at chain[0] would drop a check, so no fast path. */
static bool
constrains_below(X509 *c)
{
	static const int nids[] = {NID_name_constraints, NID_policy_constraints,
				   NID_policy_mappings, NID_inhibit_any_policy};
	size_t i;

	for (i = 0; i < sizeof(nids) / sizeof(nids[0]); i++)
		if (X509_get_ext_by_NID(c, nids[i], -1) >= 0)
			return true;
	return false;
}

/* X509_verify_cert of chain[0] against the anchor chain[n-1] with the
 * other certificates as untrusted intermediates, the way a verification
 * builds the path, but at no particular time (validity is checked per
 * verification).  True when it verifies along exactly chain. */
static int
chain_verifies(bool *ok, STACK_OF(X509) * chain, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509) * built;
	int i, n = sk_X509_num(chain), rc = PG_ENOMEM;

	*ok = false;
	if (store == NULL || ctx == NULL || untrusted == NULL ||
	    !X509_STORE_add_cert(store, sk_X509_value(chain, n - 1)))
		goto out;
	for (i = 0; i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
			goto out;
	if (!X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted))
		goto out;
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
	if (purpose != 0 && !X509_STORE_CTX_set_purpose(ctx, purpose))
		goto out;
	X509_STORE_CTX_set_verify_cb(ctx, ignore_time_errors);
	rc = PG_OK;
	if (X509_verify_cert(ctx) != 1)
		goto out;
	built = X509_STORE_CTX_get0_chain(ctx);
	if (built == NULL || sk_X509_num(built) != n)
		goto out;
	for (i = 0; i < n; i++)
		if (X509_cmp(sk_X509_value(built, i), sk_X509_value(chain, i)) != 0)
			goto out;
	*ok = true;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return rc;
}

/*
 * When is anchoring at chain[0] the same as verifying the whole path?
 *
 * Both kinds: the chain verifies as a path at load, so the signatures and
 * extensions between its own certificates hold at any time; subject names
 * are distinct, so OpenSSL's path building (trusted store first, then the
 * untrusted list in order) can only ever take chain's own path.
 *
 * TSA: chain[0] is the signing certificate and the path of a verification
 * is exactly the one checked here (same target, same purpose), so only its
 * time remains, and the ESS signing-certificate attribute, which tsa.c
 * checks against the whole chain itself.
 *
 * Fulcio: a per-verification path is leaf, chain[0], ..., anchor.  With
 * chain[0] anchored OpenSSL no longer sees what the certificates above it
 * impose on the leaf, so we demand here that there is nothing: no name or
 * policy constraints above chain[0], every path length above chain[0] leaves
 * room for chain[0] itself, and chain[0] is a CA without ambiguity
 * (X509_check_ca == 1, which OpenSSL demands of every intermediate).
 */
int
pg_ca_prepare(pg_ca *ca, pg_ca_kind kind)
{
	int i, j, n = sk_X509_num(ca->chain), below = 0, rc;
	bool ok;

	ca->fast = false;
	ca->anchor = NULL;
	if (n < 2)
		return PG_OK; /* already a single anchor: nothing to save */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(ca->chain, i)),
					  X509_get_subject_name(sk_X509_value(ca->chain, j))) == 0)
				return PG_OK;
	if (kind == PG_CA_FULCIO) {
		if (X509_check_ca(sk_X509_value(ca->chain, 0)) != 1)
			return PG_OK;
		for (i = 1; i < n; i++) {
			X509 *c = sk_X509_value(ca->chain, i),
			     *lower = sk_X509_value(ca->chain, i - 1);
			long pl = X509_get_pathlen(c);

			/* non-self-issued CAs between the leaf and c, as
			 * OpenSSL counts them for c's pathLenConstraint */
			if (!(X509_get_extension_flags(lower) & EXFLAG_SI))
				below++;
			if (constrains_below(c) || (pl >= 0 && below > pl))
				return PG_OK;
		}
	}
	rc = chain_verifies(&ok, ca->chain, kind == PG_CA_TSA ? X509_PURPOSE_TIMESTAMP_SIGN : 0);
	if (rc != PG_OK || !ok)
		return rc;
	if (kind == PG_CA_FULCIO) {
		ca->anchor = X509_STORE_new();
		if (ca->anchor == NULL ||
		    !X509_STORE_add_cert(ca->anchor, sk_X509_value(ca->chain, 0))) {
			X509_STORE_free(ca->anchor);
			ca->anchor = NULL;
			return PG_ENOMEM;
		}
	}
	ca->fast = true;
	return PG_OK;
}

int
pg_cert_verify_chain(X509 **issuer_out, STACK_OF(X509) * anchors, STACK_OF(X509) * untrusted,
		     X509 *leaf, int64_t t, bool need_codesign, pg_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) * chain;
	char ts[32];
	int i, rc = PG_EVERIFY;

	if (issuer_out)
		*issuer_out = NULL;
	fmt_time(ts, sizeof(ts), t);
	if (!pg_cert_valid_at(leaf, t))
		return pg_err_set(err, PG_EVERIFY, "signing certificate was not valid at %s", ts);
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(anchors, i))) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)t);
	/* The trusted root names its anchor; it need not be self-signed. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_verify_cb(ctx, ignore_time_errors);
	if (X509_verify_cert(ctx) != 1) {
		rc = pg_err_set(err, PG_EVERIFY, "certificate chain does not verify at %s: %s", ts,
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	/* Like Go's x509: no EKU extension means any usage; one that is
	 * present must allow code signing. */
	if (need_codesign && (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(leaf) & (XKU_CODE_SIGN | XKU_ANYEKU))) {
		rc = pg_err_set(err, PG_EVERIFY,
				"signing certificate lacks extended key usage codeSigning");
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(ctx);
	for (i = 0; chain && i < sk_X509_num(chain); i++)
		if (!pg_cert_valid_at(sk_X509_value(chain, i), t)) {
			rc = pg_err_set(err, PG_EVERIFY,
					"certificate chain does not verify at %s: a CA "
					"certificate was not valid then",
					ts);
			goto out;
		}
	if (issuer_out && chain && sk_X509_num(chain) >= 2) {
		*issuer_out = sk_X509_value(chain, 1);
		X509_up_ref(*issuer_out);
	}
	rc = PG_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}

/*
 * The leaf against a CA prepared with fast (see pg_ca_prepare): one
 * signature to check, the leaf's.  PG_OK when it verifies, FAST_MISS when
 * the leaf does not chain to chain[0] this way (the caller then builds the
 * whole path, which is what decides, and words, a failure), PG_EVERIFY
 * with the same reasons as pg_cert_verify_chain for the checks after path
 * building.
 */
static int
verify_ca_fast(X509 **issuer_out, const pg_ca *ca, X509 *leaf, int64_t t, pg_err *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) * chain;
	char ts[32];
	int i, rc = FAST_MISS;

	if (ctx == NULL || !X509_STORE_CTX_init(ctx, ca->anchor, leaf, NULL)) {
		rc = pg_err_set(err, PG_ENOMEM, "out of memory");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)t);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_verify_cb(ctx, ignore_time_errors);
	if (X509_verify_cert(ctx) != 1)
		goto out;
	chain = X509_STORE_CTX_get0_chain(ctx);
	if (chain == NULL || sk_X509_num(chain) != 2 ||
	    X509_cmp(sk_X509_value(chain, 1), sk_X509_value(ca->chain, 0)) != 0)
		goto out;
	fmt_time(ts, sizeof(ts), t);
	if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) &&
	    !(X509_get_extended_key_usage(leaf) & (XKU_CODE_SIGN | XKU_ANYEKU))) {
		rc = pg_err_set(err, PG_EVERIFY,
				"signing certificate lacks extended key usage codeSigning");
		goto out;
	}
	/* The path is the leaf and all of ca->chain: each valid at t. */
	for (i = 0; i < sk_X509_num(ca->chain); i++)
		if (!pg_cert_valid_at(sk_X509_value(ca->chain, i), t)) {
			rc = pg_err_set(err, PG_EVERIFY,
					"certificate chain does not verify at %s: a CA "
					"certificate was not valid then",
					ts);
			goto out;
		}
	if (issuer_out) {
		*issuer_out = sk_X509_value(ca->chain, 0);
		X509_up_ref(*issuer_out);
	}
	rc = PG_OK;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
pg_cert_verify_ca(X509 **issuer_out, const pg_trusted_root *r, X509 *leaf, STACK_OF(X509) * hints,
		  int64_t t, pg_err *err)
{
	size_t i;
	int rc = PG_EVERIFY, tried = 0;
	char ts[32];

	for (i = 0; r && i < r->ncas; i++) {
		const pg_ca *ca = &r->cas[i];
		STACK_OF(X509) *anchors = NULL, *untrusted = NULL;
		int j, n = sk_X509_num(ca->chain);
		int nh = hints ? sk_X509_num(hints) : 0;

		if (!pg_trust_valid_at(ca->start, ca->end, ca->has_end, t))
			continue;
		/* Hints could make a different path: only the plain case is
		 * short-cut.  A leaf not valid at t is left to the full check,
		 * which says so. */
		if (ca->fast && ca->anchor != NULL && nh == 0 && pg_cert_valid_at(leaf, t)) {
			tried++;
			if (issuer_out)
				*issuer_out = NULL;
			rc = verify_ca_fast(issuer_out, ca, leaf, t, err);
			if (rc == PG_OK)
				return PG_OK;
			if (rc != FAST_MISS)
				continue; /* as a failed full check of this CA */
			tried--;
		}
		anchors = sk_X509_new_null();
		untrusted = sk_X509_new_null();
		if (anchors == NULL || untrusted == NULL ||
		    !sk_X509_push(anchors, sk_X509_value(ca->chain, n - 1))) {
			sk_X509_free(anchors);
			sk_X509_free(untrusted);
			return pg_err_set(err, PG_ENOMEM, "out of memory");
		}
		for (j = 0; j < n - 1 + nh; j++) {
			X509 *c = j < n - 1 ? sk_X509_value(ca->chain, j)
					    : sk_X509_value(hints, j - (n - 1));

			if (!sk_X509_push(untrusted, c)) {
				sk_X509_free(anchors);
				sk_X509_free(untrusted);
				return pg_err_set(err, PG_ENOMEM, "out of memory");
			}
		}
		tried++;
		rc = pg_cert_verify_chain(issuer_out, anchors, untrusted, leaf, t, true, err);
		sk_X509_free(anchors);
		sk_X509_free(untrusted);
		if (rc == PG_OK)
			return PG_OK;
		/* A leaf not valid at t fails against every CA: say that. */
		if (!pg_cert_valid_at(leaf, t))
			return rc;
	}
	if (tried == 0) {
		fmt_time(ts, sizeof(ts), t);
		return pg_err_set(err, PG_EVERIFY,
				  "no certificate authority in the trusted root is valid at %s",
				  ts);
	}
	return rc;
}

void
pg_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static char *
asn1_text(const ASN1_STRING *s)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);

	if (d == NULL || n < 0 || n > PG_NAME_MAX || memchr(d, 0, (size_t)n))
		return NULL;
	return pg_strndup((const char *)d, (size_t)n);
}

int
pg_cert_sans(char ***out, size_t *n_out, X509 *c)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	char **v = NULL;
	size_t n = 0;
	int i;

	*out = NULL;
	*n_out = 0;
	if (gens == NULL) {
		ERR_clear_error();
		return PG_OK;
	}
	v = calloc(PG_SAN_MAX, sizeof(*v));
	if (v == NULL) {
		GENERAL_NAMES_free(gens);
		return PG_ENOMEM;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && n < PG_SAN_MAX; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN];
		char *s = NULL;

		switch (g->type) {
		case GEN_EMAIL:
		case GEN_URI:
		case GEN_DNS:
			s = asn1_text(g->d.ia5);
			break;
		case GEN_IPADD:
			if (g->d.ip->length == 4 &&
			    inet_ntop(AF_INET, g->d.ip->data, ip, sizeof(ip)))
				s = pg_strdup(ip);
			else if (g->d.ip->length == 16 &&
				 inet_ntop(AF_INET6, g->d.ip->data, ip, sizeof(ip)))
				s = pg_strdup(ip);
			break;
		case GEN_OTHERNAME:
			if (g->d.otherName->value->type == V_ASN1_UTF8STRING)
				s = asn1_text(g->d.otherName->value->value.utf8string);
			break;
		default:
			break;
		}
		if (s)
			v[n++] = s;
	}
	GENERAL_NAMES_free(gens);
	*out = v;
	*n_out = n;
	return PG_OK;
}

static const ASN1_OCTET_STRING *
ext_by_oid(X509 *c, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int idx;

	if (o == NULL)
		return NULL;
	idx = X509_get_ext_by_OBJ(c, o, -1);
	ASN1_OBJECT_free(o);
	if (idx < 0)
		return NULL;
	return X509_EXTENSION_get_data(X509_get_ext(c, idx));
}

int
pg_cert_fulcio_issuer(char **out, X509 *c)
{
	const ASN1_OCTET_STRING *v = ext_by_oid(c, OID_FULCIO_ISSUER_V2);

	*out = NULL;
	if (v != NULL) {
		const unsigned char *p = ASN1_STRING_get0_data(v);
		ASN1_UTF8STRING *u = d2i_ASN1_UTF8STRING(NULL, &p, ASN1_STRING_length(v));

		if (u == NULL) {
			ERR_clear_error();
			return PG_EINVAL;
		}
		*out = asn1_text(u);
		ASN1_UTF8STRING_free(u);
		return *out ? PG_OK : PG_EINVAL;
	}
	v = ext_by_oid(c, OID_FULCIO_ISSUER_V1);
	if (v == NULL)
		return PG_OK;
	*out = asn1_text(v);
	return *out ? PG_OK : PG_EINVAL;
}

int
pg_cert_check_identity(char **signer_out, X509 *c, const pg_sig_trust *t, pg_err *err)
{
	char **sans = NULL, *iss = NULL;
	size_t n = 0, i;
	const char *who = NULL;
	bool m = false;
	int rc = PG_EVERIFY;
	pg_buf b;
	pg_err rerr;

	pg_err_clear(&rerr);
	pg_buf_init(&b, 2 * PG_NAME_MAX);
	if (signer_out)
		*signer_out = NULL;
	if (t->identity == NULL && t->identity_regexp == NULL)
		return pg_err_set(err, PG_EPOLICY,
				  "keyless verification needs a certificate identity");
	if (pg_cert_sans(&sans, &n, c) != PG_OK)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	for (i = 0; i < n && who == NULL; i++) {
		if (t->identity && strcmp(sans[i], t->identity) == 0)
			who = sans[i];
		else if (t->identity_regexp) {
			if (pg_re_find(t->identity_regexp, sans[i], &m, &rerr) != PG_OK) {
				rc = pg_err_set(err, PG_EPOLICY,
						"invalid identity regexp \"%.200s\": %s",
						t->identity_regexp, rerr.msg);
				goto out;
			}
			if (m)
				who = sans[i];
		}
	}
	if (who == NULL) {
		rc = pg_err_set(
		    err, PG_EVERIFY, "certificate identity \"%s\" does not match \"%s\"",
		    n ? sans[0] : "(none)", t->identity ? t->identity : t->identity_regexp);
		goto out;
	}
	if (pg_cert_fulcio_issuer(&iss, c) != PG_OK) {
		rc = pg_err_set(err, PG_EVERIFY, "malformed OIDC issuer extension");
		goto out;
	}
	if (t->issuer || t->issuer_regexp) {
		if (iss == NULL) {
			rc = pg_err_set(err, PG_EVERIFY, "certificate carries no OIDC issuer");
			goto out;
		}
		m = t->issuer && strcmp(iss, t->issuer) == 0;
		if (!m && t->issuer_regexp &&
		    pg_re_find(t->issuer_regexp, iss, &m, &rerr) != PG_OK) {
			rc = pg_err_set(err, PG_EPOLICY, "invalid issuer regexp \"%.200s\": %s",
					t->issuer_regexp, rerr.msg);
			goto out;
		}
		if (!m) {
			rc = pg_err_set(err, PG_EVERIFY,
					"certificate OIDC issuer \"%s\" does not match \"%s\"", iss,
					t->issuer ? t->issuer : t->issuer_regexp);
			goto out;
		}
	}
	if (signer_out) {
		if (pg_buf_printf(&b, "%s", who) != PG_OK ||
		    (iss && pg_buf_printf(&b, " (%s)", iss) != PG_OK) ||
		    pg_buf_detach(signer_out, NULL, &b) != PG_OK) {
			rc = pg_err_set(err, PG_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = PG_OK;
out:
	pg_buf_free(&b);
	free(iss);
	pg_strv_free(sans, PG_SAN_MAX);
	return rc;
}

static int
put_be(pg_buf *b, uint64_t v, int n)
{
	unsigned char tmp[8];
	int i;

	for (i = 0; i < n; i++)
		tmp[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
	return pg_buf_append(b, tmp, (size_t)n);
}

/* RFC 6962 §3.2 digitally-signed data of a precert SCT. */
static int
sct_signed_data(pg_buf *b, const SCT *sct, const unsigned char *tbs, size_t tbs_len,
		const unsigned char issuer_hash[32])
{
	unsigned char *ext = NULL;
	size_t ext_len = SCT_get0_extensions(sct, &ext);

	if (tbs_len >= (1u << 24) || ext_len >= (1u << 16))
		return PG_ETOOBIG;
	if (put_be(b, 0, 1) || put_be(b, 0, 1) || put_be(b, SCT_get_timestamp(sct), 8) ||
	    put_be(b, 1, 2) || pg_buf_append(b, issuer_hash, 32) || put_be(b, tbs_len, 3) ||
	    pg_buf_append(b, tbs, tbs_len) || put_be(b, ext_len, 2) ||
	    (ext_len && pg_buf_append(b, ext, ext_len)))
		return PG_ENOMEM;
	return PG_OK;
}

int
pg_cert_verify_sct(const pg_trusted_root *r, X509 *leaf, X509 *issuer, pg_err *err)
{
	STACK_OF(SCT) *scts = NULL;
	X509_EXTENSION *ext = NULL;
	unsigned char *tbs = NULL, *spki = NULL, ih[32];
	int tbs_len, spki_len, i, idx, rc = PG_EVERIFY;
	const char *why = "no embedded SCT";
	pg_buf b;

	pg_buf_init(&b, 1 << 20);
	if (issuer == NULL)
		return pg_err_set(err, PG_EVERIFY,
				  "cannot check SCT: issuer of the certificate unknown");
	scts = X509_get_ext_d2i(leaf, NID_ct_precert_scts, NULL, NULL);
	if (scts == NULL || sk_SCT_num(scts) == 0)
		goto fail;
	/* The precertificate is the leaf without its SCT list.  Taking the
	 * extension out of the leaf and putting it back costs a re-encoding;
	 * X509_dup (encode, then a full parse with its public key) cost 5% of
	 * a bundle verification. */
	idx = X509_get_ext_by_NID(leaf, NID_ct_precert_scts, -1);
	ext = X509_delete_ext(leaf, idx);
	if (ext == NULL)
		goto nomem;
	tbs_len = i2d_re_X509_tbs(leaf, &tbs);
	if (!X509_add_ext(leaf, ext, idx))
		goto nomem;
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki);
	if (tbs_len <= 0 || spki_len <= 0)
		goto nomem;
	if (pg_sha256(ih, spki, (size_t)spki_len) != PG_OK)
		goto nomem;
	why = "no SCT from a trusted CT log verifies";
	for (i = 0; i < sk_SCT_num(scts); i++) {
		const SCT *sct = sk_SCT_value(scts, i);
		unsigned char *id = NULL, *sig = NULL;
		size_t id_len = SCT_get0_log_id(sct, &id);
		size_t sig_len = SCT_get0_signature(sct, &sig);
		const pg_tlog *log;
		int64_t ts;

		if (SCT_get_version(sct) != SCT_VERSION_V1)
			continue;
		log = pg_trust_find_log(r->ctlogs, r->nctlogs, id, id_len);
		if (log == NULL)
			continue;
		ts = (int64_t)(SCT_get_timestamp(sct) / 1000);
		if (!pg_trust_valid_at(log->start, log->end, log->has_end, ts))
			continue;
		pg_buf_reset(&b);
		if (sct_signed_data(&b, sct, tbs, (size_t)tbs_len, ih) != PG_OK)
			goto nomem;
		if (pg_key_verify(log->key, pg_digest_md(PG_DIGEST_SHA256), b.data, b.len, sig,
				  sig_len) == PG_OK) {
			rc = PG_OK;
			goto out;
		}
	}
fail:
	rc = pg_err_set(err, PG_EVERIFY, "certificate transparency: %s", why);
	goto out;
nomem:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	ERR_clear_error();
	pg_buf_free(&b);
	OPENSSL_free(tbs);
	OPENSSL_free(spki);
	X509_EXTENSION_free(ext);
	SCT_LIST_free(scts);
	return rc;
}
