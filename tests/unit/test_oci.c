/* Unit tests of oci/: header parsers, docker config credentials, digests,
 * manifest/index parsing and its bounds, the Accept set, name checks, the
 * token cache and the per-host concurrency cap.  (The network half is in
 * tests/integration/t_oci_registry.sh against a real registry.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "digest/digest.h"
#include "../../webhook/oci/header.c"
#include "../../webhook/oci/creds.c"
#include "../../webhook/oci/manifest.c"
#include "../../webhook/oci/client.c"

/* ---- WWW-Authenticate ---- */

typedef struct auth_case {
	const char *in;
	int rc;
	int scheme;
	const char *realm, *service, *scope;
} auth_case;

static const auth_case auth_cases[] = {
    {"Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
     "scope=\"repository:a/b:pull\"",
     PG_OK, PG_OCI__AUTH_BEARER, "https://auth.example.com/token", "registry.example.com",
     "repository:a/b:pull"},
    /* a comma inside quotes is not a separator */
    {"Bearer realm=\"https://t/x\",scope=\"repository:x:pull,push\"", PG_OK, PG_OCI__AUTH_BEARER,
     "https://t/x", NULL, "repository:x:pull,push"},
    /* scheme and names are case-insensitive; BWS around '='; token values */
    {"bearer  realm = \"r\" , SERVICE=svc", PG_OK, PG_OCI__AUTH_BEARER, "r", "svc", NULL},
    {"Basic realm=\"Registry Realm\"", PG_OK, PG_OCI__AUTH_BASIC, "Registry Realm", NULL, NULL},
    /* several challenges: Bearer preferred */
    {"Basic realm=\"x\", Bearer realm=\"https://t\",service=\"s\"", PG_OK, PG_OCI__AUTH_BEARER,
     "https://t", "s", NULL},
    /* an unknown scheme (with a token68) before a known one is skipped */
    {"Negotiate abc, Basic realm=\"b\"", PG_OK, PG_OCI__AUTH_BASIC, "b", NULL, NULL},
    {"Bearer realm=\"a\\\"b\"", PG_OK, PG_OCI__AUTH_BEARER, "a\"b", NULL, NULL},
    {"Bearer realm=\"r\",,error=\"invalid_token\"", PG_OK, PG_OCI__AUTH_BEARER, "r", NULL, NULL},
    {"Negotiate", PG_EINVAL, 0, NULL, NULL, NULL},
    {"Bearer service=\"x\"", PG_EINVAL, 0, NULL, NULL, NULL},
    {"Bearer realm=\"unterminated", PG_EINVAL, 0, NULL, NULL, NULL},
    {"Bearer realm=\"a\",realm=\"b\"", PG_EINVAL, 0, NULL, NULL, NULL},
    {"Bearer realm=r junk", PG_EINVAL, 0, NULL, NULL, NULL},
    {"Bearer realm=", PG_EINVAL, 0, NULL, NULL, NULL},
    {"", PG_EINVAL, 0, NULL, NULL, NULL},
    {"=,=", PG_EINVAL, 0, NULL, NULL, NULL},
    {"Bearer realm=\"a\x01\"", PG_EINVAL, 0, NULL, NULL, NULL},
};

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void
test_www_auth_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
		const auth_case *c = &auth_cases[i];
		pg_oci__challenge ch;
		pg_err e = {0};
		int rc = pg_oci__www_auth_parse(&ch, c->in, &e);

		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d, want %d (%s)", i, c->in, rc, c->rc,
				 e.msg);
		if (rc == PG_OK) {
			assert_int_equal(ch.scheme, c->scheme);
			assert_str_or_null(ch.realm, c->realm);
			assert_str_or_null(ch.service, c->service);
			assert_str_or_null(ch.scope, c->scope);
		} else {
			assert_true(e.msg[0] != '\0');
		}
		pg_oci__challenge_clear(&ch);
	}
}

static void
test_www_auth_bounds(void **state)
{
	char *big = malloc(PG_OCI__HEADER_MAX + 32);
	pg_oci__challenge ch;

	(void)state;
	memcpy(big, "Bearer realm=\"", 14);
	memset(big + 14, 'a', PG_OCI__HEADER_MAX);
	memcpy(big + 14 + PG_OCI__HEADER_MAX, "\"", 2);
	assert_int_equal(pg_oci__www_auth_parse(&ch, big, NULL), PG_EINVAL);
	/* a value over VALUE_MAX inside a header under the bound */
	memset(big + 14, 'a', VALUE_MAX + 10);
	memcpy(big + 14 + VALUE_MAX + 10, "\"", 2);
	assert_int_equal(pg_oci__www_auth_parse(&ch, big, NULL), PG_EINVAL);
	assert_int_equal(pg_oci__www_auth_parse(&ch, NULL, NULL), PG_EINVAL);
	free(big);
}

/* Every WWW-Authenticate line of a header block, each with comma-separated
 * challenges: the first Bearer wins wherever it is, else the first Basic. */
static void
test_www_auth_headers(void **state)
{
	static const struct {
		const char *headers;
		int rc, scheme;
		const char *realm;
	} tab[] = {
	    {"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"https://a/t\"\r\n\r\n",
	     PG_OK, PG_OCI__AUTH_BEARER, "https://a/t"},
	    /* Bearer on the second line: preferred over the first line's Basic */
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate: Basic realm=\"r\"\r\n"
	     "Content-Type: text/plain\r\nwww-authenticate: Bearer realm=\"https://b/t\"\r\n\r\n",
	     PG_OK, PG_OCI__AUTH_BEARER, "https://b/t"},
	    /* unknown scheme on one line, Basic on another */
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Basic "
	     "realm=\"r\"\r\n",
	     PG_OK, PG_OCI__AUTH_BASIC, "r"},
	    /* two Bearer lines: the first */
	    {"HTTP/2 401\r\nwww-authenticate: Bearer realm=\"https://1/t\"\r\n"
	     "www-authenticate: Bearer realm=\"https://2/t\"\r\n",
	     PG_OK, PG_OCI__AUTH_BEARER, "https://1/t"},
	    /* comma-separated challenges on one line, then another line */
	    {"HTTP/1.1 401 x\nWWW-Authenticate: Negotiate, Basic realm=\"r\"\nWWW-Authenticate: "
	     "Bearer realm=\"https://c/t\",service=\"s\"\n",
	     PG_OK, PG_OCI__AUTH_BEARER, "https://c/t"},
	    /* no line at all; only unknown schemes; junk on any line */
	    {"HTTP/1.1 401 x\r\nContent-Type: text/plain\r\n\r\n", PG_EINVAL, 0, NULL},
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\n",
	     PG_EINVAL, 0, NULL},
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate: Bearer realm=\"https://a/t\"\r\n"
	     "WWW-Authenticate: Basic realm=\"unterminated\r\n",
	     PG_EINVAL, 0, NULL},
	    /* a folded continuation of a challenge line */
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate: Basic realm=\"r\",\r\n Bearer realm=\"x\"\r\n",
	     PG_EINVAL, 0, NULL},
	    /* a header whose name only starts like it */
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate-X: Bearer realm=\"https://a/t\"\r\n", PG_EINVAL, 0,
	     NULL},
	    /* an empty value next to a good one */
	    {"HTTP/1.1 401 x\r\nWWW-Authenticate:\r\nWWW-Authenticate: Basic realm=\"r\"\r\n",
	     PG_OK, PG_OCI__AUTH_BASIC, "r"},
	};
	pg_buf many;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		pg_oci__challenge ch;
		pg_err e = {0};
		int rc = pg_oci__www_auth_parse_headers(&ch, tab[i].headers, &e);

		if (rc != tab[i].rc)
			fail_msg("row %zu: rc %d, want %d (%s)", i, rc, tab[i].rc, e.msg);
		if (rc == PG_OK) {
			assert_int_equal(ch.scheme, tab[i].scheme);
			assert_str_or_null(ch.realm, tab[i].realm);
		} else {
			assert_true(e.msg[0] != '\0');
		}
		pg_oci__challenge_clear(&ch);
	}
	assert_int_equal(pg_oci__www_auth_parse_headers(&(pg_oci__challenge){0}, NULL, NULL),
			 PG_EINVAL);
	/* bounded: more lines than PG_OCI__CHALLENGE_LINES_MAX */
	pg_buf_init(&many, 1 << 20);
	assert_int_equal(pg_buf_puts(&many, "HTTP/1.1 401 x\r\n"), PG_OK);
	for (i = 0; i <= PG_OCI__CHALLENGE_LINES_MAX; i++)
		assert_int_equal(pg_buf_puts(&many, "WWW-Authenticate: Basic realm=\"r\"\r\n"),
				 PG_OK);
	{
		pg_oci__challenge ch;

		assert_int_equal(pg_oci__www_auth_parse_headers(&ch, (const char *)many.data, NULL),
				 PG_EINVAL);
	}
	pg_buf_free(&many);
}

/* ---- docker config.json ---- */

static int
cfg(char **out, const char *json, const char *host)
{
	return pg_oci__docker_config_auth(out, json, strlen(json), host, NULL);
}

static void
test_docker_config(void **state)
{
	char *c = NULL;

	(void)state;
	/* "auth" = base64("alice:s3cret") */
	assert_int_equal(cfg(&c,
			     "{\"auths\":{\"reg.example.com\":{\"auth\":\"YWxpY2U6czNjcmV0\"}}}",
			     "reg.example.com"),
			 PG_OK);
	assert_string_equal(c, "alice:s3cret");
	free(c);
	/* key with scheme and path; password containing ':' */
	assert_int_equal(cfg(&c,
			     "{\"auths\":{\"https://reg.example.com:5000/v2/\":"
			     "{\"username\":\"bob\",\"password\":\"p:w\"}}}",
			     "reg.example.com:5000"),
			 PG_OK);
	assert_string_equal(c, "bob:p:w");
	free(c);
	/* Docker Hub's historic key */
	assert_int_equal(cfg(&c,
			     "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}",
			     "docker.io"),
			 PG_OK);
	assert_string_equal(c, "u:p");
	free(c);
	/* another host, port, or no auths: no credentials */
	assert_int_equal(cfg(&c, "{\"auths\":{\"reg.example.com\":{\"auth\":\"dTpw\"}}}",
			     "reg.example.com:5000"),
			 PG_OK);
	assert_null(c);
	assert_int_equal(cfg(&c, "{\"credsStore\":\"desktop\"}", "x"), PG_OK);
	assert_null(c);
	assert_int_equal(cfg(&c, "{\"auths\":{\"x\":{\"identitytoken\":\"t\"}}}", "x"), PG_OK);
	assert_null(c);
	/* junk */
	assert_int_equal(cfg(&c, "{\"auths\":{\"x\":{\"auth\":\"!!!\"}}}", "x"), PG_EINVAL);
	assert_int_equal(cfg(&c, "{\"auths\":{\"x\":{\"auth\":\"bm9jb2xvbg==\"}}}", "x"),
			 PG_EINVAL);
	assert_int_equal(cfg(&c, "{\"auths\":[]}", "x"), PG_EINVAL);
	assert_int_equal(cfg(&c, "not json", "x"), PG_EINVAL);
	assert_int_equal(cfg(&c, "{\"auths\":{\"x\":1}}", "x"), PG_EINVAL);
	assert_int_equal(
	    cfg(&c, "{\"auths\":{\"x\":{\"username\":\"a:b\",\"password\":\"p\"}}}", "x"),
	    PG_EINVAL);
	assert_null(c);
}

static void
test_b64(void **state)
{
	unsigned char *o = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    pg_base64_decode_alloc(&o, &n, "aGVsbG8=", 8, PG_BUF_DEFAULT_MAX, PG_B64_NO_SPACE),
	    PG_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(o, "hello", 5);
	free(o);
	assert_int_equal(
	    pg_base64_decode_alloc(&o, &n, "aGVsbG8", 7, PG_BUF_DEFAULT_MAX, PG_B64_NO_SPACE),
	    PG_OK); /* unpadded */
	assert_int_equal(n, 5);
	free(o);
	assert_int_equal(pg_base64_decode_alloc(&o, &n, "", 0, PG_BUF_DEFAULT_MAX, PG_B64_NO_SPACE),
			 PG_OK);
	assert_int_equal(n, 0);
	free(o);
	assert_int_equal(
	    pg_base64_decode_alloc(&o, &n, "a", 1, PG_BUF_DEFAULT_MAX, PG_B64_NO_SPACE), PG_EINVAL);
	assert_int_equal(
	    pg_base64_decode_alloc(&o, &n, "a b=", 4, PG_BUF_DEFAULT_MAX, PG_B64_NO_SPACE),
	    PG_EINVAL);
}

/* ---- Link, Retry-After, URL encoding ---- */

static void
test_link(void **state)
{
	char *n = NULL;

	(void)state;
	assert_int_equal(
	    pg_oci__link_next(&n, "</v2/a/referrers/sha256:ab?n=1&last=x>; rel=\"next\"", NULL),
	    PG_OK);
	assert_string_equal(n, "/v2/a/referrers/sha256:ab?n=1&last=x");
	free(n);
	assert_int_equal(
	    pg_oci__link_next(&n, "<https://r/p1>; rel=\"prev\", <https://r/p3>;rel=next", NULL),
	    PG_OK);
	assert_string_equal(n, "https://r/p3");
	free(n);
	assert_int_equal(
	    pg_oci__link_next(&n, "<https://r/p3>; type=\"x\"; rel=\"prev next\"", NULL), PG_OK);
	assert_string_equal(n, "https://r/p3");
	free(n);
	assert_int_equal(pg_oci__link_next(&n, "<https://r/p1>; rel=\"prev\"", NULL), PG_OK);
	assert_null(n);
	assert_int_equal(pg_oci__link_next(&n, NULL, NULL), PG_OK);
	assert_null(n);
	assert_int_equal(pg_oci__link_next(&n, "https://r/p1; rel=next", NULL), PG_EINVAL);
	assert_int_equal(pg_oci__link_next(&n, "<>; rel=next", NULL), PG_EINVAL);
	assert_int_equal(pg_oci__link_next(&n, "<https://r/p1", NULL), PG_EINVAL);
	assert_int_equal(pg_oci__link_next(&n, "<a b>; rel=next", NULL), PG_EINVAL);
	assert_int_equal(pg_oci__link_next(&n, "<a>; rel", NULL), PG_EINVAL);
	assert_int_equal(pg_oci__link_next(&n, "<a> junk", NULL), PG_EINVAL);
	assert_null(n);
}

static void
test_ratelimit_value(void **state)
{
	(void)state;
	assert_int_equal(pg_oci__ratelimit_value("100;w=21600"), 100);
	assert_int_equal(pg_oci__ratelimit_value(" 76 ;w=21600"), 76);
	assert_int_equal(pg_oci__ratelimit_value("0"), 0);
	assert_int_equal(pg_oci__ratelimit_value("100, 100;w=21600"), 100);
	assert_int_equal(pg_oci__ratelimit_value("w=21600"), -1);
	assert_int_equal(pg_oci__ratelimit_value("-5"), -1);
	assert_int_equal(pg_oci__ratelimit_value("12x"), -1);
	assert_int_equal(pg_oci__ratelimit_value(""), -1);
	assert_int_equal(pg_oci__ratelimit_value("99999999999999999999999"), -1);
	assert_int_equal(pg_oci__ratelimit_value(NULL), -1);
}

/* Hosts without the referrers API are remembered, case-insensitively, for
 * the process (not per client: each worker has its own); a full table stops
 * noting instead of growing. */
static void
test_noref(void **state)
{
	size_t i;

	(void)state;
	assert_false(noref_known("reg.example:5000"));
	noref_note("reg.example:5000");
	noref_note("REG.example:5000");
	assert_true(noref_known("Reg.Example:5000"));
	assert_false(noref_known("reg.example:5001"));
	for (i = 0; i < SLOTS_MAX + 5; i++) {
		char h[32];

		(void)snprintf(h, sizeof(h), "h%zu", i);
		noref_note(h);
	}
	assert_true(noref_known("h0"));
	assert_true(noref_known("h62"));
	assert_false(noref_known("h63"));
	assert_false(noref_known("h70"));
	assert_true(noref_known("reg.example:5000"));
}

static void
test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(pg_oci__retry_after_s("5", 1), 5);
	assert_int_equal(pg_oci__retry_after_s(" 10 ", 1), 10);
	assert_int_equal(pg_oci__retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", 3), 3);
	assert_int_equal(pg_oci__retry_after_s("999999999999999999999", 1), 86400);
	assert_int_equal(pg_oci__retry_after_s("5s", 2), 2);
	assert_int_equal(pg_oci__retry_after_s(NULL, 7), 7);
}

static void
test_urlenc(void **state)
{
	pg_buf b;

	(void)state;
	pg_buf_init(&b, 0);
	assert_int_equal(pg_oci__urlenc(&b, "repository:a/b:pull,push"), PG_OK);
	assert_string_equal((char *)b.data, "repository%3Aa%2Fb%3Apull%2Cpush");
	pg_buf_reset(&b);
	assert_int_equal(pg_oci__urlenc(&b, "application/vnd.dev.sigstore.bundle.v0.3+json"),
			 PG_OK);
	assert_string_equal((char *)b.data, "application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson");
	pg_buf_free(&b);
}

/* ---- digests ---- */

#define EMPTY_SHA256 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_digests(void **state)
{
	char d[PG_OCI__DIGEST_BUF];

	(void)state;
	pg_oci__sha256_digest(d, "", 0);
	assert_string_equal(d, EMPTY_SHA256);
	assert_true(pg_digest_string_valid(EMPTY_SHA256));
	assert_true(pg_oci__digest_matches(EMPTY_SHA256, "", 0));
	assert_false(pg_oci__digest_matches(EMPTY_SHA256, "x", 1));
	assert_true(pg_oci__digest_matches(
	    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
	    "", 0));
	assert_false(pg_digest_string_valid(
	    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	assert_false(pg_digest_string_valid("sha256:e3b0"));
	assert_false(pg_digest_string_valid(EMPTY_SHA256 "0"));
	assert_false(pg_digest_string_valid("md5:d41d8cd98f00b204e9800998ecf8427e"));
	assert_false(pg_digest_string_valid(NULL));
	assert_false(pg_oci__digest_matches("sha256:zz", "", 0));
}

/* ---- manifests ---- */

/* Media types the registry client passes through without knowing them
 * (verify/ gives them their meaning). */
#define MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define AT_BUNDLE "application/vnd.dev.sigstore.bundle.v0.3+json"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1
    "\",\"size\":10},"
    "\"layers\":[{\"mediaType\":\"application/"
    "vnd.dev.cosign.simplesigning.v1+json\",\"digest\":\"" D2 "\","
    "\"size\":239,\"annotations\":{\"dev.cosignproject.cosign/signature\":\"MEUC\"}}],"
    "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D1
    "\",\"size\":5},"
    "\"artifactType\":\"application/"
    "vnd.dev.sigstore.bundle.v0.3+json\",\"unknown\":{\"ignored\":true}}";

static void
test_manifest_parse(void **state)
{
	pg_oci_manifest *m = NULL;
	const pg_oci_desc *d;
	const char *bytes;
	size_t len;
	char want[PG_OCI__DIGEST_BUF];

	(void)state;
	assert_int_equal(pg_oci_manifest_parse(
			     &m, oci_manifest, strlen(oci_manifest),
			     "application/vnd.oci.image.manifest.v1+json; charset=utf-8", NULL),
			 PG_OK);
	assert_false(pg_oci_manifest_is_index(m));
	assert_string_equal(pg_oci_manifest_media_type(m), PG_OCI_MT_OCI_MANIFEST);
	assert_string_equal(pg_oci_manifest_artifact_type(m), AT_BUNDLE);
	assert_int_equal(pg_oci_manifest_count(m), 1);
	d = pg_oci_manifest_desc(m, 0);
	assert_string_equal(d->media_type, MT_SIMPLESIGNING);
	assert_string_equal(d->digest, D2);
	assert_int_equal(d->size, 239);
	assert_string_equal(json_string_value(json_object_get(
				d->annotations, "dev.cosignproject.cosign/signature")),
			    "MEUC");
	assert_null(pg_oci_manifest_desc(m, 1));
	assert_string_equal(pg_oci_manifest_config(m)->digest, D1);
	assert_string_equal(pg_oci_manifest_subject(m)->digest, D1);
	/* digest over the exact bytes, kept verbatim */
	bytes = pg_oci_manifest_bytes(m, &len);
	assert_int_equal(len, strlen(oci_manifest));
	assert_memory_equal(bytes, oci_manifest, len);
	pg_oci__sha256_digest(want, oci_manifest, strlen(oci_manifest));
	assert_string_equal(pg_oci_manifest_digest(m), want);
	pg_oci_manifest_free(m);
}

static void
test_index_and_docker_parse(void **state)
{
	pg_oci_manifest *m = NULL;
	const char *idx =
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
	    "vnd.oci.image.manifest.v1+json\","
	    "\"digest\":\"" D1 "\",\"size\":7,\"platform\":{\"os\":\"linux\"}},"
	    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D2
	    "\",\"size\":8,"
	    "\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}]}";
	const char *dl = "{\"schemaVersion\":2,\"mediaType\":\"application/"
			 "vnd.docker.distribution.manifest.list.v2+json\","
			 "\"manifests\":[]}";
	const char *dm = "{\"schemaVersion\":2,\"mediaType\":\"application/"
			 "vnd.docker.distribution.manifest.v2+json\","
			 "\"config\":{\"mediaType\":\"application/"
			 "vnd.docker.container.image.v1+json\",\"digest\":\"" D1 "\",\"size\":1},"
			 "\"layers\":[]}";

	(void)state;
	/* no mediaType: Content-Type decides, else the shape */
	assert_int_equal(pg_oci_manifest_parse(&m, idx, strlen(idx), NULL, NULL), PG_OK);
	assert_true(pg_oci_manifest_is_index(m));
	assert_int_equal(pg_oci_manifest_count(m), 2);
	assert_null(pg_oci_manifest_desc(m, 0)->artifact_type);
	assert_string_equal(pg_oci_manifest_desc(m, 1)->artifact_type, AT_BUNDLE);
	assert_null(pg_oci_manifest_config(m));
	pg_oci_manifest_free(m);
	assert_int_equal(pg_oci_manifest_parse(&m, idx, strlen(idx), PG_OCI_MT_OCI_INDEX, NULL),
			 PG_OK);
	pg_oci_manifest_free(m);
	assert_int_equal(pg_oci_manifest_parse(&m, dl, strlen(dl), NULL, NULL), PG_OK);
	assert_true(pg_oci_manifest_is_index(m));
	assert_int_equal(pg_oci_manifest_count(m), 0);
	pg_oci_manifest_free(m);
	assert_int_equal(pg_oci_manifest_parse(&m, dm, strlen(dm), PG_OCI_MT_DOCKER_MANIFEST, NULL),
			 PG_OK);
	assert_false(pg_oci_manifest_is_index(m));
	pg_oci_manifest_free(m);
}

static void
test_manifest_reject(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"schemaVersion\":1}",
	    "{\"schemaVersion\":\"2\"}",
	    "{\"schemaVersion\":2,\"mediaType\":\"application/"
	    "vnd.oci.image.manifest.v1+json\"}", /* no config */
	    "{\"schemaVersion\":2,\"mediaType\":\"application/"
	    "vnd.oci.artifact.manifest.v1+json\"}",
	    "{\"schemaVersion\":2,\"mediaType\":7}",
	    "{\"schemaVersion\":2,\"manifests\":{}}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/"
	    "b\",\"digest\":\"sha256:00\",\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
	    "\",\"size\":-1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\"}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"ab\",\"digest\":\"" D1
	    "\",\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
	    "\",\"size\":1,"
	    "\"annotations\":{\"k\":1}}]}",
	    "{\"schemaVersion\":2,\"manifests\":[1]}",
	    "{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}", /* duplicate key */
	    "{\"schemaVersion\":2,\"manifests\":[],\"subject\":{\"mediaType\":\"a/b\"}}",
	    "{\"schemaVersion\":2,\"manifests\":[],\"artifactType\":\"nope\"}",
	};
	pg_oci_manifest *m = NULL;
	pg_err e;
	size_t i;
	const char *idx = "{\"schemaVersion\":2,\"mediaType\":\"application/"
			  "vnd.oci.image.index.v1+json\",\"manifests\":[]}";

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = pg_oci_manifest_parse(&m, bad[i], strlen(bad[i]), NULL, &e);

		if (rc == PG_OK)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_null(m);
	}
	/* body says index, Content-Type says manifest */
	assert_int_equal(pg_oci_manifest_parse(&m, idx, strlen(idx), PG_OCI_MT_OCI_MANIFEST, &e),
			 PG_EINVAL);
	assert_non_null(strstr(e.msg, "differs from Content-Type"));
}

static void
test_manifest_bounds(void **state)
{
	pg_oci_manifest *m = NULL;
	pg_buf b;
	size_t i;

	(void)state;
	/* one byte over the bound is refused before parsing */
	assert_int_equal(pg_oci_manifest_parse(&m, "{}", PG_OCI_MANIFEST_MAX + 1, NULL, NULL),
			 PG_ETOOBIG);
	pg_buf_init(&b, 0);
	assert_int_equal(pg_buf_puts(&b, "{\"schemaVersion\":2,\"manifests\":["), PG_OK);
	for (i = 0; i <= PG_OCI_DESC_MAX; i++)
		assert_int_equal(
		    pg_buf_printf(&b, "%s{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1}",
				  i ? "," : ""),
		    PG_OK);
	assert_int_equal(pg_buf_puts(&b, "]}"), PG_OK);
	assert_int_equal(pg_oci_manifest_parse(&m, (char *)b.data, b.len, NULL, NULL), PG_ETOOBIG);
	pg_buf_free(&b);
}

static void
test_accept_set(void **state)
{
	(void)state;
	assert_true(strncmp(pg_oci_accept_manifests, "Accept: ", 8) == 0);
	assert_non_null(
	    strstr(pg_oci_accept_manifests, "application/vnd.oci.image.manifest.v1+json"));
	assert_non_null(strstr(pg_oci_accept_manifests, "application/vnd.oci.image.index.v1+json"));
	assert_non_null(strstr(pg_oci_accept_manifests,
			       "application/vnd.docker.distribution.manifest.v2+json"));
	assert_non_null(strstr(pg_oci_accept_manifests,
			       "application/vnd.docker.distribution.manifest.list.v2+json"));
	assert_null(strstr(pg_oci_accept_manifests, "artifact.manifest"));
	assert_null(strstr(pg_oci_accept_manifests, "schema1"));
}

/* ---- client internals ---- */

static void
test_names(void **state)
{
	char tag[PG_OCI__DIGEST_BUF];

	(void)state;
	assert_true(repo_ok("library/nginx"));
	assert_true(repo_ok("a/b-c/d_e.f"));
	assert_false(repo_ok(""));
	assert_false(repo_ok("a//b"));
	assert_false(repo_ok("/a"));
	assert_false(repo_ok("a/"));
	assert_false(repo_ok("a/../b"));
	assert_false(repo_ok("A/b"));
	assert_false(repo_ok("a?x=1"));
	assert_false(repo_ok("a#b"));
	assert_true(tag_ok("v1.2.3-rc_1"));
	assert_true(tag_ok("sha256-"
			   "1111111111111111111111111111111111111111111111111111111111111111"
			   ".sig"));
	assert_false(tag_ok(".hidden"));
	assert_false(tag_ok("a/b"));
	assert_false(tag_ok(""));
	assert_true(host_ok("127.0.0.1:5000"));
	assert_true(host_ok("[::1]:5000"));
	assert_false(host_ok("user@evil"));
	assert_false(host_ok("a/b"));
	assert_int_equal(check_names("r", "a", "v1", NULL), PG_OK);
	assert_int_equal(check_names("r", "a", D1, NULL), PG_OK);
	assert_int_equal(check_names("r", "a", "sha256:abc", NULL), PG_EINVAL);
	fallback_tag(tag, sizeof(tag), D1);
	assert_string_equal(
	    tag, "sha256-1111111111111111111111111111111111111111111111111111111111111111");
}

/* A probe checks the names before any request: a tag that is not one
 * (or a bad host or repository) is refused without touching the network
 * (no pg_fetch is given: a request would crash). */
static void
test_probe_names(void **state)
{
	pg_oci *c = NULL;
	pg_oci_manifest *m = (pg_oci_manifest *)&m;
	pg_oci_req q = {0};
	pg_err e = {0};

	(void)state;
	assert_int_equal(pg_oci_new(&c, NULL, &e), PG_OK);
	assert_int_equal(pg_oci_manifest_probe(&m, c, &q, "r", "a", "a/../b", &e), PG_EINVAL);
	assert_null(m);
	assert_int_equal(pg_oci_manifest_probe(&m, c, &q, "r", "a", "sha256:abc", &e), PG_EINVAL);
	assert_int_equal(pg_oci_manifest_probe(&m, c, &q, "user@evil", "a", "v1", &e), PG_EINVAL);
	assert_int_equal(pg_oci_manifest_probe(&m, c, &q, "r", "A/b", "v1", &e), PG_EINVAL);
	assert_null(m);
	pg_oci_free(c);
}

static void
test_token_cache(void **state)
{
	char *t = NULL;
	size_t i;

	(void)state;
	pg_oci_tokens_clear();
	assert_int_equal(cache_get("r", "repository:a:pull", "", &t), PG_OCI__AUTH_NONE);
	cache_put("r", "repository:a:pull", "", "realm", pg_strdup("tok-a"), PG_OCI__AUTH_BEARER,
		  60);
	assert_int_equal(cache_get("R", "repository:a:pull", "", &t), PG_OCI__AUTH_BEARER);
	assert_string_equal(t, "tok-a");
	free(t);
	/* per scope, and per credentials */
	assert_int_equal(cache_get("r", "repository:b:pull", "", &t), PG_OCI__AUTH_NONE);
	assert_null(t);
	assert_int_equal(cache_get("r", "repository:a:pull", "sha256:other", &t),
			 PG_OCI__AUTH_NONE);
	assert_null(t);
	/* replaced, not duplicated */
	cache_put("r", "repository:a:pull", "", "realm", pg_strdup("tok-a2"), PG_OCI__AUTH_BEARER,
		  60);
	assert_int_equal(cache_get("r", "repository:a:pull", "", &t), PG_OCI__AUTH_BEARER);
	assert_string_equal(t, "tok-a2");
	free(t);
	/* a 401 for a token we no longer hold keeps the newer one */
	cache_drop("r", "repository:a:pull", "", "tok-a");
	assert_int_equal(cache_get("r", "repository:a:pull", "", &t), PG_OCI__AUTH_BEARER);
	free(t);
	/* expired tokens are not used */
	cache_put("r", "repository:c:pull", "", "realm", pg_strdup("old"), PG_OCI__AUTH_BEARER, 0);
	assert_int_equal(cache_get("r", "repository:c:pull", "", &t), PG_OCI__AUTH_NONE);
	/* Basic notes apply to every scope of the host */
	cache_put("b", "repository:a:pull", "sha256:c", NULL, NULL, PG_OCI__AUTH_BASIC, 60);
	assert_int_equal(cache_get("b", "repository:z:pull", "sha256:c", &t), PG_OCI__AUTH_BASIC);
	cache_drop("b", "repository:z:pull", "sha256:c", NULL);
	assert_int_equal(cache_get("b", "repository:z:pull", "sha256:c", &t), PG_OCI__AUTH_NONE);
	cache_drop("r", "repository:a:pull", "", "tok-a2");
	assert_int_equal(cache_get("r", "repository:a:pull", "", &t), PG_OCI__AUTH_NONE);
	/* a full cache evicts instead of growing */
	for (i = 0; i < TOKENS_MAX + 10; i++) {
		char scope[64];

		(void)snprintf(scope, sizeof(scope), "repository:r%zu:pull", i);
		cache_put("h", scope, "", "realm", pg_strdup("t"), PG_OCI__AUTH_BEARER,
			  60 + (int64_t)i);
	}
	assert_int_equal(cache_get("h", "repository:r265:pull", "", &t), PG_OCI__AUTH_BEARER);
	free(t);
	assert_int_equal(cache_get("h", "repository:r0:pull", "", &t), PG_OCI__AUTH_NONE);
	pg_oci_tokens_clear();
	assert_int_equal(cache_get("h", "repository:r265:pull", "", &t), PG_OCI__AUTH_NONE);
}

static void
test_slots(void **state)
{
	pg_oci *c = NULL;
	pg_oci_opts o = {.max_per_host = 2};
	pg_err e = {0};

	(void)state;
	assert_int_equal(pg_oci_new(&c, &o, NULL), PG_OK);
	assert_int_equal(slot_acquire(c, "h", pg_clock_ms() + 1000, &e), PG_OK);
	assert_int_equal(slot_acquire(c, "h", pg_clock_ms() + 1000, &e), PG_OK);
	/* other hosts are not held up */
	assert_int_equal(slot_acquire(c, "other", pg_clock_ms() + 1000, &e), PG_OK);
	/* the third to h waits, then gives up at the deadline */
	assert_int_equal(slot_acquire(c, "h", pg_clock_ms() + 50, &e), PG_ETIMEOUT);
	assert_non_null(strstr(e.msg, "h"));
	slot_release(c, "h");
	assert_int_equal(slot_acquire(c, "h", pg_clock_ms() + 50, &e), PG_OK);
	/* a passed deadline fails at once */
	assert_int_equal(slot_acquire(c, "x", pg_clock_ms() - 1, &e), PG_ETIMEOUT);
	slot_release(c, "h");
	slot_release(c, "h");
	slot_release(c, "other");
	pg_oci_free(c);
}

static void
test_host_conf(void **state)
{
	pg_oci *c = NULL;
	pg_oci_host h[] = {{.host = "Reg.Example.com", .ca_file = "/ca.pem", .plain_http = true}};
	pg_oci_opts o = {.hosts = h, .n_hosts = 1, .ca_file = "/default.pem"};
	pg_buf b;

	(void)state;
	assert_int_equal(pg_oci_new(&c, &o, NULL), PG_OK);
	assert_string_equal(conf_for(c, "reg.example.com")->ca_file, "/ca.pem");
	assert_string_equal(conf_for(c, "other")->ca_file, "/default.pem");
	pg_buf_init(&b, 0);
	assert_int_equal(base_url(&b, c, "reg.example.com"), PG_OK);
	assert_string_equal((char *)b.data, "http://reg.example.com");
	pg_buf_reset(&b);
	assert_int_equal(base_url(&b, c, "docker.io"), PG_OK);
	assert_string_equal((char *)b.data, "https://registry-1.docker.io");
	pg_buf_free(&b);
	pg_oci_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_www_auth_table),
	    cmocka_unit_test(test_www_auth_bounds),
	    cmocka_unit_test(test_www_auth_headers),
	    cmocka_unit_test(test_docker_config),
	    cmocka_unit_test(test_b64),
	    cmocka_unit_test(test_link),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_ratelimit_value),
	    cmocka_unit_test(test_noref),
	    cmocka_unit_test(test_urlenc),
	    cmocka_unit_test(test_digests),
	    cmocka_unit_test(test_manifest_parse),
	    cmocka_unit_test(test_index_and_docker_parse),
	    cmocka_unit_test(test_manifest_reject),
	    cmocka_unit_test(test_manifest_bounds),
	    cmocka_unit_test(test_accept_set),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_probe_names),
	    cmocka_unit_test(test_token_cache),
	    cmocka_unit_test(test_slots),
	    cmocka_unit_test(test_host_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
