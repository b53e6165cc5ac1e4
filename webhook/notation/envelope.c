/*
 * notation/envelope — the two envelope formats of the Notary Project
 * signature specification, parsed into one nv_env:
 *
 *  - JWS JSON flattened serialization (signature-envelope-jws.md): strict
 *    base64url without padding for payload/protected/signature, the
 *    signature over ASCII(protected "." payload) exactly as received;
 *  - COSE_Sign1_Tagged (signature-envelope-cose.md): tag 18, the signature
 *    over the Sig_structure ["Signature1", protected, h'', payload].
 *
 * Only signed (protected) attributes are believed; from the unprotected
 * header we take the certificate chain (checked later against the key and
 * the trust stores), the timestamp token (verified on its own) and the
 * signing agent (informative).  Unknown unprotected entries are ignored, as
 * notation does; unknown critical protected entries are kept by name so the
 * verifier can fail on them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf/buf.h"
#include "json/json.h"
#include "notation/notation_int.h"

#define HDR_SCHEME "io.cncf.notary.signingScheme"
#define HDR_STIME "io.cncf.notary.signingTime"
#define HDR_ATIME "io.cncf.notary.authenticSigningTime"
#define HDR_EXPIRY "io.cncf.notary.expiry"
#define HDR_PLUGIN "io.cncf.notary.verificationPlugin"
#define HDR_PLUGINV "io.cncf.notary.verificationPluginMinVersion"
#define HDR_TST "io.cncf.notary.timestampSignature"
#define HDR_AGENT "io.cncf.notary.signingAgent"

void
nv_env_free(nv_env *e)
{
	if (e == NULL)
		return;
	free(e->cty);
	free(e->scheme);
	free(e->plugin);
	free(e->unknown_crit);
	free(e->payload);
	free(e->tbs);
	free(e->sig);
	sk_X509_pop_free(e->chain, X509_free);
	free(e->tst);
	free(e->agent);
	memset(e, 0, sizeof(*e));
}

/* ---- times ---- */

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
nv_time_parse(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	struct tm tm;
	const char *p;
	time_t t;
	int64_t off = 0;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return PG_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return PG_EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return PG_EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !digits(p + 1, 2, &oh) &&
		   p[3] == ':' && !digits(p + 4, 2, &om) && oh <= 23 && om <= 59) {
		off = (int64_t)(oh * 3600 + om * 60);
		if (*p == '-')
			off = -off;
	} else {
		return PG_EINVAL;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return PG_EINVAL;
	*out = (int64_t)t - off;
	return PG_OK;
}

int
pg_notation_time_parse(int64_t *out, const char *s)
{
	return nv_time_parse(out, s);
}

void
nv_time_format(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, n, "@%lld", (long long)t);
}

/* ---- shared ---- */

static int
dup_bytes(unsigned char **out, size_t *out_len, const void *p, size_t n)
{
	*out = malloc(n ? n : 1);
	if (*out == NULL)
		return PG_ENOMEM;
	if (n)
		memcpy(*out, p, n);
	*out_len = n;
	return PG_OK;
}

static int
push_cert(nv_env *e, const unsigned char *der, size_t len, pg_err *err)
{
	const unsigned char *p = der;
	X509 *c;

	if (e->chain == NULL && (e->chain = sk_X509_new_null()) == NULL)
		return PG_ENOMEM;
	if (sk_X509_num(e->chain) >= NV_CHAIN_MAX)
		return pg_err_set(err, PG_EINVAL, "certificate chain longer than %d", NV_CHAIN_MAX);
	if (len > 65536 || (c = d2i_X509(NULL, &p, (long)len)) == NULL)
		return pg_err_set(err, PG_EINVAL, "malformed certificate in the chain");
	if (p != der + len) {
		X509_free(c);
		return pg_err_set(err, PG_EINVAL,
				  "trailing bytes after a certificate in the chain");
	}
	if (!sk_X509_push(e->chain, c)) {
		X509_free(c);
		return PG_ENOMEM;
	}
	return PG_OK;
}

static nv_alg
alg_by_name(const char *s)
{
	static const struct {
		const char *n;
		nv_alg a;
	} t[] = {{"PS256", NV_PS256}, {"PS384", NV_PS384}, {"PS512", NV_PS512},
		 {"ES256", NV_ES256}, {"ES384", NV_ES384}, {"ES512", NV_ES512}};
	size_t i;

	for (i = 0; s && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].n) == 0)
			return t[i].a;
	return NV_ALG_NONE;
}

static bool
known_header(const char *k)
{
	return strcmp(k, HDR_SCHEME) == 0 || strcmp(k, HDR_STIME) == 0 ||
	       strcmp(k, HDR_ATIME) == 0 || strcmp(k, HDR_EXPIRY) == 0 ||
	       strcmp(k, HDR_PLUGIN) == 0 || strcmp(k, HDR_PLUGINV) == 0;
}

/* The crit rules common to both formats, on the list of critical names
 * (strings; COSE integer labels are checked by the caller). */
static int
check_crit(nv_env *e, const char *const *crit, size_t ncrit, bool (*present)(void *, const char *),
	   void *ctx, pg_err *err)
{
	static const char *const must[] = {HDR_SCHEME, HDR_ATIME, HDR_EXPIRY, HDR_PLUGIN,
					   HDR_PLUGINV};
	size_t i, j;

	if (ncrit == 0)
		return pg_err_set(err, PG_EINVAL, "crit is empty");
	for (i = 0; i < ncrit; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(crit[i], crit[j]) == 0)
				return pg_err_set(err, PG_EINVAL, "crit lists %s twice", crit[i]);
		if (!present(ctx, crit[i]))
			return pg_err_set(err, PG_EINVAL,
					  "crit lists %s, which is not a protected header",
					  crit[i]);
		if (!known_header(crit[i]) && e->unknown_crit == NULL &&
		    (e->unknown_crit = pg_strdup(crit[i])) == NULL)
			return PG_ENOMEM;
	}
	/* signingScheme is always critical; the others when present. */
	for (j = 0; j < sizeof(must) / sizeof(must[0]); j++) {
		bool listed = false;

		if (j > 0 && !present(ctx, must[j]))
			continue;
		for (i = 0; i < ncrit; i++)
			if (strcmp(crit[i], must[j]) == 0)
				listed = true;
		if (!listed)
			return pg_err_set(err, PG_EINVAL, "%s is not marked critical", must[j]);
	}
	return PG_OK;
}

static int
check_times(const nv_env *e, pg_err *err)
{
	if (e->scheme == NULL)
		return pg_err_set(err, PG_EINVAL, "no signing scheme");
	if (strcmp(e->scheme, "notary.x509") == 0) {
		if (!e->has_signing_time)
			return pg_err_set(err, PG_EINVAL, "notary.x509 without signingTime");
		if (e->has_auth_time)
			return pg_err_set(err, PG_EINVAL,
					  "notary.x509 must not carry authenticSigningTime");
	} else if (strcmp(e->scheme, "notary.x509.signingAuthority") == 0) {
		if (!e->has_auth_time)
			return pg_err_set(err, PG_EINVAL,
					  "notary.x509.signingAuthority without "
					  "authenticSigningTime");
		if (e->has_signing_time)
			return pg_err_set(err, PG_EINVAL,
					  "notary.x509.signingAuthority must not carry "
					  "signingTime");
	} else {
		return pg_err_set(err, PG_EINVAL, "unknown signing scheme \"%.64s\"", e->scheme);
	}
	if (e->has_expiry && e->expiry <= (e->has_auth_time ? e->auth_time : e->signing_time))
		return pg_err_set(err, PG_EINVAL, "expiry is not after the signing time");
	return PG_OK;
}

/* ---- JWS ---- */

/* base64url without padding, as Go's RawURLEncoding: '=' '+' '/' and
 * whitespace are errors. */
static int
b64url(unsigned char **out, size_t *out_len, const char *s, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return PG_EINVAL;
	if (n % 4 == 1)
		return PG_EINVAL;
	return pg_base64_decode_alloc(out, out_len, s, n, max, PG_B64_URLSAFE | PG_B64_NO_SPACE);
}

static bool
json_present(void *ctx, const char *k)
{
	return json_object_get((json_t *)ctx, k) != NULL;
}

static int
jws_time(bool *has, int64_t *out, json_t *hdr, const char *k, pg_err *err)
{
	json_t *v = json_object_get(hdr, k);

	if (v == NULL)
		return PG_OK;
	if (!json_is_string(v) || nv_time_parse(out, json_string_value(v)) != PG_OK)
		return pg_err_set(err, PG_EINVAL, "%s is not an RFC 3339 time", k);
	*has = true;
	return PG_OK;
}

static int
jws_protected(nv_env *e, const unsigned char *hdr_json, size_t len, pg_err *err)
{
	json_t *h = json_loadb((const char *)hdr_json, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *crit, *v;
	const char *names[NV_CRIT_MAX] = {0};
	size_t i, n;
	int rc = PG_EINVAL;

	if (h == NULL || !json_is_object(h)) {
		rc = pg_err_set(err, PG_EINVAL, "protected header is not a JSON object");
		goto out;
	}
	if ((e->alg = alg_by_name(pg_json_str(h, "alg"))) == NV_ALG_NONE) {
		rc = pg_err_set(err, PG_EINVAL, "unsupported or missing alg");
		goto out;
	}
	v = json_object_get(h, "cty");
	if (!json_is_string(v) || (e->cty = pg_strdup(json_string_value(v))) == NULL) {
		rc = pg_err_set(err, PG_EINVAL, "missing cty");
		goto out;
	}
	v = json_object_get(h, HDR_SCHEME);
	if (!json_is_string(v) || (e->scheme = pg_strdup(json_string_value(v))) == NULL) {
		rc = pg_err_set(err, PG_EINVAL, "missing %s", HDR_SCHEME);
		goto out;
	}
	if ((rc = jws_time(&e->has_signing_time, &e->signing_time, h, HDR_STIME, err)) ||
	    (rc = jws_time(&e->has_auth_time, &e->auth_time, h, HDR_ATIME, err)) ||
	    (rc = jws_time(&e->has_expiry, &e->expiry, h, HDR_EXPIRY, err)))
		goto out;
	rc = PG_EINVAL;
	v = json_object_get(h, HDR_PLUGIN);
	if (v != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			rc = pg_err_set(err, PG_EINVAL, "%s is not a name", HDR_PLUGIN);
			goto out;
		}
		if ((e->plugin = pg_strdup(json_string_value(v))) == NULL) {
			rc = PG_ENOMEM;
			goto out;
		}
	}
	v = json_object_get(h, HDR_PLUGINV);
	if (v != NULL && !json_is_string(v)) {
		rc = pg_err_set(err, PG_EINVAL, "%s is not a string", HDR_PLUGINV);
		goto out;
	}
	crit = json_object_get(h, "crit");
	if (!json_is_array(crit) || (n = json_array_size(crit)) > NV_CRIT_MAX) {
		rc = pg_err_set(err, PG_EINVAL, "crit is missing or not a short array");
		goto out;
	}
	for (i = 0; i < n; i++) {
		v = json_array_get(crit, i);
		if (!json_is_string(v)) {
			rc = pg_err_set(err, PG_EINVAL, "crit entry is not a string");
			goto out;
		}
		names[i] = json_string_value(v);
	}
	/* The JOSE headers themselves may not be listed (RFC 7515 4.1.11). */
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "alg") == 0 || strcmp(names[i], "cty") == 0 ||
		    strcmp(names[i], "crit") == 0) {
			rc = pg_err_set(err, PG_EINVAL, "crit lists the JOSE header %s", names[i]);
			goto out;
		}
	if ((rc = check_crit(e, names, n, json_present, h, err)) != PG_OK)
		goto out;
	rc = check_times(e, err);
out:
	json_decref(h);
	return rc;
}

int
nv_jws_parse(nv_env *out, const unsigned char *in, size_t len, pg_err *err)
{
	json_t *root = NULL, *hdr, *v, *x5c;
	const char *prot, *pay, *sig;
	unsigned char *pj = NULL;
	size_t pj_len, i, plen, ylen;
	pg_buf tbs, tmp;
	int rc = PG_EINVAL;

	memset(out, 0, sizeof(*out));
	pg_buf_init(&tbs, PG_NOTATION_ENVELOPE_MAX);
	pg_buf_init(&tmp, 65536);
	if (len > PG_NOTATION_ENVELOPE_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "envelope too large");
		goto out;
	}
	root = json_loadb((const char *)in, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || !json_is_object(root)) {
		rc = pg_err_set(err, PG_EINVAL, "JWS envelope is not a JSON object");
		goto out;
	}
	/* Flattened serialization only: the general form has "signatures". */
	if (json_object_get(root, "signatures") != NULL) {
		rc = pg_err_set(err, PG_EINVAL, "JWS general serialization is not supported");
		goto out;
	}
	prot = pg_json_str(root, "protected");
	pay = pg_json_str(root, "payload");
	sig = pg_json_str(root, "signature");
	hdr = json_object_get(root, "header");
	if (prot == NULL || pay == NULL || sig == NULL || !json_is_object(hdr)) {
		rc = pg_err_set(err, PG_EINVAL,
				"JWS envelope lacks protected, payload, signature or header");
		goto out;
	}
	plen = json_string_length(json_object_get(root, "protected"));
	ylen = json_string_length(json_object_get(root, "payload"));
	if (b64url(&pj, &pj_len, prot, plen, 65536) != PG_OK ||
	    b64url(&out->payload, &out->payload_len, pay, ylen, PG_NOTATION_ENVELOPE_MAX) !=
		PG_OK ||
	    b64url(&out->sig, &out->sig_len, sig,
		   json_string_length(json_object_get(root, "signature")), 4096) != PG_OK) {
		rc = pg_err_set(err, PG_EINVAL, "JWS field is not strict unpadded base64url");
		goto out;
	}
	if ((rc = jws_protected(out, pj, pj_len, err)) != PG_OK)
		goto out;
	if ((rc = pg_buf_append(&tbs, prot, plen)) != PG_OK ||
	    (rc = pg_buf_append(&tbs, ".", 1)) != PG_OK ||
	    (rc = pg_buf_append(&tbs, pay, ylen)) != PG_OK ||
	    (rc = pg_buf_detach((char **)&out->tbs, &out->tbs_len, &tbs)) != PG_OK)
		goto out;
	rc = PG_EINVAL;
	x5c = json_object_get(hdr, "x5c");
	if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
		rc = pg_err_set(err, PG_EINVAL, "JWS header has no x5c certificate chain");
		goto out;
	}
	for (i = 0; i < json_array_size(x5c); i++) {
		v = json_array_get(x5c, i);
		pg_buf_reset(&tmp);
		if (!json_is_string(v) ||
		    pg_base64_decode(&tmp, json_string_value(v), json_string_length(v),
				     PG_B64_NO_SPACE) != PG_OK ||
		    tmp.len == 0) {
			rc = pg_err_set(err, PG_EINVAL, "x5c entry is not base64");
			goto out;
		}
		if ((rc = push_cert(out, tmp.data, tmp.len, err)) != PG_OK)
			goto out;
	}
	v = json_object_get(hdr, HDR_TST);
	if (v != NULL) {
		pg_buf_reset(&tmp);
		if (!json_is_string(v) ||
		    pg_base64_decode(&tmp, json_string_value(v), json_string_length(v),
				     PG_B64_NO_SPACE) != PG_OK) {
			rc = pg_err_set(err, PG_EINVAL, "timestampSignature is not base64");
			goto out;
		}
		if ((rc = dup_bytes(&out->tst, &out->tst_len, tmp.data, tmp.len)) != PG_OK)
			goto out;
	}
	v = json_object_get(hdr, HDR_AGENT);
	if (json_is_string(v) && (out->agent = pg_strdup(json_string_value(v))) == NULL) {
		rc = PG_ENOMEM;
		goto out;
	}
	rc = PG_OK;
out:
	if (rc != PG_OK)
		nv_env_free(out);
	json_decref(root);
	free(pj);
	pg_buf_free(&tbs);
	pg_buf_free(&tmp);
	return rc;
}

/* ---- COSE ---- */

/* COSE algorithm identifiers (RFC 9053, RFC 8230). */
static nv_alg
alg_by_cose(int64_t id)
{
	switch (id) {
	case -37:
		return NV_PS256;
	case -38:
		return NV_PS384;
	case -39:
		return NV_PS512;
	case -7:
		return NV_ES256;
	case -35:
		return NV_ES384;
	case -36:
		return NV_ES512;
	default:
		return NV_ALG_NONE;
	}
}

/* The protected map's string labels, for the crit check. */
typedef struct cose_labels {
	const char *k[NV_CBOR_ITEMS_MAX];
	size_t klen[NV_CBOR_ITEMS_MAX];
	size_t n;
} cose_labels;

static bool
cose_present(void *ctx, const char *name)
{
	const cose_labels *l = ctx;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strlen(name) == l->klen[i] && memcmp(name, l->k[i], l->klen[i]) == 0)
			return true;
	return false;
}

/* An integer data item (major 0 or 1) into *out. */
static int
cbor_int(nv_cbor *c, int64_t *out)
{
	int major;
	uint64_t arg;

	if (nv_cbor_head(c, &major, &arg, NULL) != PG_OK || arg > (uint64_t)INT64_MAX)
		return PG_EINVAL;
	if (major == NV_CBOR_UINT)
		*out = (int64_t)arg;
	else if (major == NV_CBOR_NINT)
		*out = -1 - (int64_t)arg;
	else
		return PG_EINVAL;
	return PG_OK;
}

static int
cbor_text(nv_cbor *c, char **out)
{
	int major;
	uint64_t arg;
	const unsigned char *p;

	if (nv_cbor_head(c, &major, &arg, &p) != PG_OK || major != NV_CBOR_TSTR ||
	    memchr(p, 0, (size_t)arg) != NULL)
		return PG_EINVAL;
	*out = pg_strndup((const char *)p, (size_t)arg);
	return *out ? PG_OK : PG_ENOMEM;
}

/* A time: tag 1 over an integer (notation writes integers). */
static int
cbor_time(nv_cbor *c, int64_t *out)
{
	int major;
	uint64_t arg;

	if (nv_cbor_head(c, &major, &arg, NULL) != PG_OK || major != NV_CBOR_TAG || arg != 1)
		return PG_EINVAL;
	return cbor_int(c, out);
}

static bool
label_is(const unsigned char *k, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(k, s, n) == 0;
}

static int
cose_protected(nv_env *e, const unsigned char *p, size_t len, pg_err *err)
{
	nv_cbor c = {p, p + len}, crit = {NULL, NULL};
	cose_labels *labels = NULL;
	const char *names[NV_CRIT_MAX] = {0};
	char *owned[NV_CRIT_MAX];
	size_t ncrit = 0, i, j;
	int major, rc = PG_EINVAL;
	uint64_t n, arg;
	int64_t ints[NV_CBOR_ITEMS_MAX];
	size_t nints = 0;
	bool has_alg = false, has_cty = false;

	memset(owned, 0, sizeof(owned));
	if ((labels = calloc(1, sizeof(*labels))) == NULL)
		return PG_ENOMEM;
	if (nv_cbor_head(&c, &major, &n, NULL) != PG_OK || major != NV_CBOR_MAP ||
	    n > NV_CBOR_ITEMS_MAX) {
		rc = pg_err_set(err, PG_EINVAL, "COSE protected header is not a map");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const unsigned char *k;

		major = nv_cbor_peek(&c);
		if (major == NV_CBOR_UINT || major == NV_CBOR_NINT) {
			int64_t label;

			if (cbor_int(&c, &label) != PG_OK)
				goto bad;
			for (j = 0; j < nints; j++)
				if (ints[j] == label)
					goto dup;
			ints[nints++] = label;
			if (label == 1) {
				int64_t a;

				if (cbor_int(&c, &a) != PG_OK ||
				    (e->alg = alg_by_cose(a)) == NV_ALG_NONE) {
					rc = pg_err_set(err, PG_EINVAL, "unsupported COSE alg");
					goto out;
				}
				has_alg = true;
			} else if (label == 2) {
				crit = c;
				if (nv_cbor_skip(&c, 2) != PG_OK)
					goto bad;
			} else if (label == 3) {
				if (cbor_text(&c, &e->cty) != PG_OK) {
					rc = pg_err_set(err, PG_EINVAL,
							"COSE content type is not a text string");
					goto out;
				}
				has_cty = true;
			} else if (nv_cbor_skip(&c, 2) != PG_OK) {
				goto bad;
			}
			continue;
		}
		if (nv_cbor_head(&c, &major, &arg, &k) != PG_OK || major != NV_CBOR_TSTR)
			goto bad;
		for (j = 0; j < labels->n; j++)
			if (labels->klen[j] == arg && memcmp(labels->k[j], k, (size_t)arg) == 0)
				goto dup;
		labels->k[labels->n] = (const char *)k;
		labels->klen[labels->n++] = (size_t)arg;
		if (label_is(k, (size_t)arg, HDR_SCHEME)) {
			if (cbor_text(&c, &e->scheme) != PG_OK)
				goto bad;
		} else if (label_is(k, (size_t)arg, HDR_STIME)) {
			if (cbor_time(&c, &e->signing_time) != PG_OK)
				goto badtime;
			e->has_signing_time = true;
		} else if (label_is(k, (size_t)arg, HDR_ATIME)) {
			if (cbor_time(&c, &e->auth_time) != PG_OK)
				goto badtime;
			e->has_auth_time = true;
		} else if (label_is(k, (size_t)arg, HDR_EXPIRY)) {
			if (cbor_time(&c, &e->expiry) != PG_OK)
				goto badtime;
			e->has_expiry = true;
		} else if (label_is(k, (size_t)arg, HDR_PLUGIN)) {
			if (cbor_text(&c, &e->plugin) != PG_OK || e->plugin[0] == '\0')
				goto bad;
		} else if (nv_cbor_skip(&c, 2) != PG_OK) {
			goto bad;
		}
	}
	if (c.p != c.end)
		goto bad;
	if (!has_alg || !has_cty || crit.p == NULL) {
		rc = pg_err_set(err, PG_EINVAL,
				"COSE protected header lacks alg, content type or crit");
		goto out;
	}
	/* crit: labels; integer labels must be present too, string ones go
	 * through the shared rules. */
	if (nv_cbor_head(&crit, &major, &n, NULL) != PG_OK || major != NV_CBOR_ARRAY ||
	    n > NV_CRIT_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		major = nv_cbor_peek(&crit);
		if (major == NV_CBOR_UINT || major == NV_CBOR_NINT) {
			int64_t label;
			bool found = false;

			if (cbor_int(&crit, &label) != PG_OK)
				goto bad;
			for (j = 0; j < nints; j++)
				found |= ints[j] == label;
			if (!found || label == 1 || label == 2 || label == 3) {
				rc = pg_err_set(err, PG_EINVAL,
						"crit lists label %lld, not allowed or absent",
						(long long)label);
				goto out;
			}
			if (e->unknown_crit == NULL) {
				char tmp[32];

				(void)snprintf(tmp, sizeof(tmp), "%lld", (long long)label);
				if ((e->unknown_crit = pg_strdup(tmp)) == NULL) {
					rc = PG_ENOMEM;
					goto out;
				}
			}
			continue;
		}
		if (cbor_text(&crit, &owned[ncrit]) != PG_OK)
			goto bad;
		names[ncrit] = owned[ncrit];
		ncrit++;
	}
	if (ncrit == 0 && n > 0) {
		rc = pg_err_set(err, PG_EINVAL, "%s is not marked critical", HDR_SCHEME);
		goto out;
	}
	if ((rc = check_crit(e, names, ncrit, cose_present, labels, err)) != PG_OK)
		goto out;
	rc = check_times(e, err);
	goto out;
dup:
	rc = pg_err_set(err, PG_EINVAL, "COSE protected header repeats a label");
	goto out;
badtime:
	rc = pg_err_set(err, PG_EINVAL, "COSE time is not a tag-1 integer");
	goto out;
bad:
	rc = pg_err_set(err, PG_EINVAL, "malformed COSE protected header");
out:
	for (i = 0; i < ncrit; i++)
		free(owned[i]);
	free(labels);
	return rc;
}

static int
cose_unprotected(nv_env *e, nv_cbor *c, pg_err *err)
{
	int major, rc;
	uint64_t n, arg, m, j;
	size_t i;
	const unsigned char *k, *v;

	if (nv_cbor_head(c, &major, &n, NULL) != PG_OK || major != NV_CBOR_MAP ||
	    n > NV_CBOR_ITEMS_MAX)
		return pg_err_set(err, PG_EINVAL, "COSE unprotected header is not a map");
	for (i = 0; i < n; i++) {
		major = nv_cbor_peek(c);
		if (major == NV_CBOR_UINT) {
			int64_t label;

			if (cbor_int(c, &label) != PG_OK)
				return PG_EINVAL;
			if (label != 33) {
				if (nv_cbor_skip(c, 2) != PG_OK)
					return pg_err_set(err, PG_EINVAL, "malformed COSE header");
				continue;
			}
			if (e->chain != NULL)
				return pg_err_set(err, PG_EINVAL, "x5chain given twice");
			if (nv_cbor_peek(c) == NV_CBOR_BSTR) {
				if (nv_cbor_head(c, &major, &arg, &v) != PG_OK)
					return PG_EINVAL;
				if ((rc = push_cert(e, v, (size_t)arg, err)) != PG_OK)
					return rc;
				continue;
			}
			if (nv_cbor_head(c, &major, &m, NULL) != PG_OK || major != NV_CBOR_ARRAY ||
			    m == 0 || m > NV_CHAIN_MAX)
				return pg_err_set(err, PG_EINVAL, "x5chain is not a short array");
			for (j = 0; j < m; j++) {
				if (nv_cbor_head(c, &major, &arg, &v) != PG_OK ||
				    major != NV_CBOR_BSTR)
					return pg_err_set(err, PG_EINVAL,
							  "x5chain entry is not a byte string");
				if ((rc = push_cert(e, v, (size_t)arg, err)) != PG_OK)
					return rc;
			}
			continue;
		}
		if (major != NV_CBOR_TSTR) {
			if (nv_cbor_skip(c, 1) != PG_OK || nv_cbor_skip(c, 1) != PG_OK)
				return pg_err_set(err, PG_EINVAL, "malformed COSE header");
			continue;
		}
		if (nv_cbor_head(c, &major, &arg, &k) != PG_OK)
			return PG_EINVAL;
		if (label_is(k, (size_t)arg, HDR_TST)) {
			if (e->tst != NULL || nv_cbor_head(c, &major, &arg, &v) != PG_OK ||
			    major != NV_CBOR_BSTR)
				return pg_err_set(err, PG_EINVAL,
						  "timestampSignature is not a byte string");
			if ((rc = dup_bytes(&e->tst, &e->tst_len, v, (size_t)arg)) != PG_OK)
				return rc;
		} else if (label_is(k, (size_t)arg, HDR_AGENT) && nv_cbor_peek(c) == NV_CBOR_TSTR) {
			free(e->agent);
			e->agent = NULL;
			if ((rc = cbor_text(c, &e->agent)) != PG_OK)
				return pg_err_set(err, PG_EINVAL, "malformed signingAgent");
		} else if (nv_cbor_skip(c, 1) != PG_OK) {
			return pg_err_set(err, PG_EINVAL, "malformed COSE header");
		}
	}
	if (e->chain == NULL)
		return pg_err_set(err, PG_EINVAL, "COSE envelope has no x5chain");
	return PG_OK;
}

/* CBOR head for a byte or text string of n bytes. */
static int
put_head(pg_buf *b, int major, uint64_t n)
{
	unsigned char h[9];
	size_t len, i;

	if (n < 24) {
		h[0] = (unsigned char)((major << 5) | (int)n);
		len = 1;
	} else {
		int ai = n <= 0xff ? 24 : n <= 0xffff ? 25 : n <= 0xffffffffu ? 26 : 27;
		size_t w = (size_t)1 << (ai - 24);

		h[0] = (unsigned char)((major << 5) | ai);
		for (i = 0; i < w; i++)
			h[1 + i] = (unsigned char)(n >> (8 * (w - 1 - i)));
		len = 1 + w;
	}
	return pg_buf_append(b, h, len);
}

int
nv_cose_parse(nv_env *out, const unsigned char *in, size_t len, pg_err *err)
{
	nv_cbor c = {in, in + len};
	const unsigned char *prot, *pay, *sig;
	uint64_t n, prot_len, pay_len, sig_len;
	int major, rc = PG_EINVAL;
	pg_buf tbs;

	memset(out, 0, sizeof(*out));
	pg_buf_init(&tbs, PG_NOTATION_ENVELOPE_MAX + 64);
	if (len > PG_NOTATION_ENVELOPE_MAX) {
		rc = pg_err_set(err, PG_ETOOBIG, "envelope too large");
		goto out;
	}
	if (nv_cbor_head(&c, &major, &n, NULL) != PG_OK || major != NV_CBOR_TAG || n != 18) {
		rc = pg_err_set(err, PG_EINVAL, "not a COSE_Sign1_Tagged message (tag 18)");
		goto out;
	}
	if (nv_cbor_head(&c, &major, &n, NULL) != PG_OK || major != NV_CBOR_ARRAY || n != 4)
		goto bad;
	if (nv_cbor_head(&c, &major, &prot_len, &prot) != PG_OK || major != NV_CBOR_BSTR)
		goto bad;
	if ((rc = cose_protected(out, prot, (size_t)prot_len, err)) != PG_OK)
		goto out;
	if ((rc = cose_unprotected(out, &c, err)) != PG_OK)
		goto out;
	rc = PG_EINVAL;
	/* Detached payloads (nil) are not notation's. */
	if (nv_cbor_head(&c, &major, &pay_len, &pay) != PG_OK || major != NV_CBOR_BSTR)
		goto bad;
	if (nv_cbor_head(&c, &major, &sig_len, &sig) != PG_OK || major != NV_CBOR_BSTR ||
	    sig_len == 0 || sig_len > 4096)
		goto bad;
	if (c.p != c.end) {
		rc = pg_err_set(err, PG_EINVAL, "trailing bytes after the COSE message");
		goto out;
	}
	if ((rc = dup_bytes(&out->payload, &out->payload_len, pay, (size_t)pay_len)) != PG_OK ||
	    (rc = dup_bytes(&out->sig, &out->sig_len, sig, (size_t)sig_len)) != PG_OK)
		goto out;
	/* Sig_structure = ["Signature1", body_protected, external_aad h'', payload] */
	if ((rc = put_head(&tbs, NV_CBOR_ARRAY, 4)) != PG_OK ||
	    (rc = put_head(&tbs, NV_CBOR_TSTR, 10)) != PG_OK ||
	    (rc = pg_buf_append(&tbs, "Signature1", 10)) != PG_OK ||
	    (rc = put_head(&tbs, NV_CBOR_BSTR, prot_len)) != PG_OK ||
	    (rc = pg_buf_append(&tbs, prot, (size_t)prot_len)) != PG_OK ||
	    (rc = put_head(&tbs, NV_CBOR_BSTR, 0)) != PG_OK ||
	    (rc = put_head(&tbs, NV_CBOR_BSTR, pay_len)) != PG_OK ||
	    (rc = pg_buf_append(&tbs, pay, (size_t)pay_len)) != PG_OK ||
	    (rc = pg_buf_detach((char **)&out->tbs, &out->tbs_len, &tbs)) != PG_OK)
		goto out;
	rc = PG_OK;
	goto out;
bad:
	rc = pg_err_set(err, PG_EINVAL, "malformed COSE_Sign1 message");
out:
	if (rc != PG_OK)
		nv_env_free(out);
	pg_buf_free(&tbs);
	return rc;
}
