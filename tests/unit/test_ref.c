/*
 * Unit tests of ref/: image reference grammar and Docker normalisation
 * (table-driven, one cmocka test per row so a failure names its input),
 * digest syntax, and chart reference construction.
 *
 * chart.c is linked from libprovgate.a rather than included: ref.h's chart
 * declarations sit outside its include guard, so one translation unit
 * cannot include both ref.c and chart.c.
 *
 * Valid rows follow distribution/reference's normalize tests; rows marked
 * "deviation" are where we reject what upstream would accept with an empty
 * domain (an unpullable reference a webhook must not guess about).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/digest.h"
#include "../../webhook/ref/ref.c"

/* chart.c's bound on a chart name or version (static there). */
#define CHART_FIELD_MAX 512

#define H64 "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
#define D64 "sha256:" H64
#define H63 "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"
#define U64 "DBCC1C35AC38DF41FD2F5E4130B32FFDB93EBAE8B3DBE638C23575912276FC9C"
#define D128 "sha512:" H64 H64
#define BB "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
#define T16 "abcdefghijklmnop"
#define T128 T16 T16 T16 T16 T16 T16 T16 T16
#define LONGNS                                                                                     \
	"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_"       \
	"valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_"     \
	"because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_"   \
	"is_greater_than_255/docker"

struct ref_case {
	const char *in;
	const char *norm; /* NULL: must be rejected */
	const char *registry;
	const char *repository;
	const char *tag;
	const char *digest;
	const char *why; /* for rejections: a substring of the message */
};

#define OK(in, norm, reg, repo, tag, dig)                                                          \
	{                                                                                          \
		in, norm, reg, repo, tag, dig, NULL                                                \
	}
#define BAD(in, why)                                                                               \
	{                                                                                          \
		in, NULL, NULL, NULL, NULL, NULL, why                                              \
	}

static const struct ref_case cases[] = {
    /* the header's own examples */
    OK("nginx", "docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", NULL),
    OK("user/app:1", "docker.io/user/app:1", "docker.io", "user/app", "1", NULL),
    OK("localhost:5000/a", "localhost:5000/a:latest", "localhost:5000", "a", "latest", NULL),
    OK("a/b@" D64, "docker.io/a/b@" D64, "docker.io", "a/b", NULL, D64),
    OK("a:1@" D64, "docker.io/library/a:1@" D64, "docker.io", "library/a", "1", D64),
    /* TestValidateReferenceName, valid */
    OK("docker/docker", "docker.io/docker/docker:latest", "docker.io", "docker/docker", "latest",
       NULL),
    OK("library/debian", "docker.io/library/debian:latest", "docker.io", "library/debian", "latest",
       NULL),
    OK("debian", "docker.io/library/debian:latest", "docker.io", "library/debian", "latest", NULL),
    OK("docker.io/docker/docker", "docker.io/docker/docker:latest", "docker.io", "docker/docker",
       "latest", NULL),
    OK("docker.io/library/debian", "docker.io/library/debian:latest", "docker.io", "library/debian",
       "latest", NULL),
    OK("docker.io/debian", "docker.io/library/debian:latest", "docker.io", "library/debian",
       "latest", NULL),
    OK("index.docker.io/docker/docker", "docker.io/docker/docker:latest", "docker.io",
       "docker/docker", "latest", NULL),
    OK("index.docker.io/library/debian", "docker.io/library/debian:latest", "docker.io",
       "library/debian", "latest", NULL),
    OK("index.docker.io/debian", "docker.io/library/debian:latest", "docker.io", "library/debian",
       "latest", NULL),
    OK("127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker:latest", "127.0.0.1:5000",
       "docker/docker", "latest", NULL),
    OK("127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian:latest", "127.0.0.1:5000",
       "library/debian", "latest", NULL),
    OK("127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest", "127.0.0.1:5000", "debian",
       "latest", NULL),
    OK("192.168.0.1", "docker.io/library/192.168.0.1:latest", "docker.io", "library/192.168.0.1",
       "latest", NULL),
    OK("192.168.0.1:80", "docker.io/library/192.168.0.1:80", "docker.io", "library/192.168.0.1",
       "80", NULL),
    OK("192.168.0.1:8/debian", "192.168.0.1:8/debian:latest", "192.168.0.1:8", "debian", "latest",
       NULL),
    OK("192.168.0.2:25000/debian", "192.168.0.2:25000/debian:latest", "192.168.0.2:25000", "debian",
       "latest", NULL),
    OK("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
       "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:"
       "latest",
       "docker.io", "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
       "latest", NULL),
    OK("[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest", "[fc00::1]:5000", "docker",
       "latest", NULL),
    OK("[fc00::1]:5000/docker/docker", "[fc00::1]:5000/docker/docker:latest", "[fc00::1]:5000",
       "docker/docker", "latest", NULL),
    OK("[fc00:1:2:3:4:5:6:7]:5000/library/debian",
       "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest", "[fc00:1:2:3:4:5:6:7]:5000",
       "library/debian", "latest", NULL),
    OK("docker.io/" H64, "docker.io/library/" H64 ":latest", "docker.io", "library/" H64, "latest",
       NULL),
    OK("Docker/docker", "Docker/docker:latest", "Docker", "docker", "latest", NULL),
    OK("DOCKER/docker", "DOCKER/docker:latest", "DOCKER", "docker", "latest", NULL),
    /* TestValidateRemoteName, valid */
    OK("docker-rules/docker", "docker.io/docker-rules/docker:latest", "docker.io",
       "docker-rules/docker", "latest", NULL),
    OK("docker---rules/docker", "docker.io/docker---rules/docker:latest", "docker.io",
       "docker---rules/docker", "latest", NULL),
    OK("doc/docker", "docker.io/doc/docker:latest", "docker.io", "doc/docker", "latest", NULL),
    OK("d/docker", "docker.io/d/docker:latest", "docker.io", "d/docker", "latest", NULL),
    OK("jess/t", "docker.io/jess/t:latest", "docker.io", "jess/t", "latest", NULL),
    OK("dock__er/docker", "docker.io/dock__er/docker:latest", "docker.io", "dock__er/docker",
       "latest", NULL),
    /* TestParseRepositoryInfo */
    OK("fooo/bar", "docker.io/fooo/bar:latest", "docker.io", "fooo/bar", "latest", NULL),
    OK("index.docker.io/fooo/bar", "docker.io/fooo/bar:latest", "docker.io", "fooo/bar", "latest",
       NULL),
    OK("ubuntu", "docker.io/library/ubuntu:latest", "docker.io", "library/ubuntu", "latest", NULL),
    OK("other/library", "docker.io/other/library:latest", "docker.io", "other/library", "latest",
       NULL),
    OK("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase:latest",
       "127.0.0.1:8000", "private/moonbase", "latest", NULL),
    OK("127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase:latest", "127.0.0.1:8000",
       "privatebase", "latest", NULL),
    OK("example.com/private/moonbase", "example.com/private/moonbase:latest", "example.com",
       "private/moonbase", "latest", NULL),
    OK("example.com:8000/privatebasee", "example.com:8000/privatebasee:latest", "example.com:8000",
       "privatebasee", "latest", NULL),
    OK("ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest", "docker.io",
       "library/ubuntu-12.04-base", "latest", NULL),
    OK("library/foo/bar", "docker.io/library/foo/bar:latest", "docker.io", "library/foo/bar",
       "latest", NULL),
    OK("store/foo/bar", "docker.io/store/foo/bar:latest", "docker.io", "store/foo/bar", "latest",
       NULL),
    OK("Foo/bar", "Foo/bar:latest", "Foo", "bar", "latest", NULL),
    OK("FOO/bar", "FOO/bar:latest", "FOO", "bar", "latest", NULL),
    /* TestParseReferenceWithTagAndDigest, TestParseAnyReference */
    OK("busybox:latest@sha256:" BB, "docker.io/library/busybox:latest@sha256:" BB, "docker.io",
       "library/busybox", "latest", "sha256:" BB),
    OK("redis:latest", "docker.io/library/redis:latest", "docker.io", "library/redis", "latest",
       NULL),
    OK("redis@" D64, "docker.io/library/redis@" D64, "docker.io", "library/redis", NULL, D64),
    OK("docker.io/library/redis@" D64, "docker.io/library/redis@" D64, "docker.io", "library/redis",
       NULL, D64),
    OK("dmcgowan/myapp@" D64, "docker.io/dmcgowan/myapp@" D64, "docker.io", "dmcgowan/myapp", NULL,
       D64),
    OK("docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest", "docker.io",
       "mcgowan/myapp", "latest", NULL),
    OK(H63, "docker.io/library/" H63 ":latest", "docker.io", "library/" H63, "latest", NULL),
    OK("dbcc1", "docker.io/library/dbcc1:latest", "docker.io", "library/dbcc1", "latest", NULL),
    /* TestNormalizedSplitHostname */
    OK("test.com/foo", "test.com/foo:latest", "test.com", "foo", "latest", NULL),
    OK("test_com/foo", "docker.io/test_com/foo:latest", "docker.io", "test_com/foo", "latest",
       NULL),
    OK("docker/migrator", "docker.io/docker/migrator:latest", "docker.io", "docker/migrator",
       "latest", NULL),
    OK("test.com:8080/foo", "test.com:8080/foo:latest", "test.com:8080", "foo", "latest", NULL),
    OK("test-com:8080/foo", "test-com:8080/foo:latest", "test-com:8080", "foo", "latest", NULL),
    OK("xn--n3h.com/foo", "xn--n3h.com/foo:latest", "xn--n3h.com", "foo", "latest", NULL),
    OK("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest", "xn--n3h.com:18080", "foo",
       "latest", NULL),
    OK("docker.io/library/foo/bar", "docker.io/library/foo/bar:latest", "docker.io",
       "library/foo/bar", "latest", NULL),
    /* more of our own */
    OK("localhost/foo", "localhost/foo:latest", "localhost", "foo", "latest", NULL),
    OK("localhost", "docker.io/library/localhost:latest", "docker.io", "library/localhost",
       "latest", NULL),
    OK("localhost:5000", "docker.io/library/localhost:5000", "docker.io", "library/localhost",
       "5000", NULL),
    OK("[::1]:5000/a/b:v1", "[::1]:5000/a/b:v1", "[::1]:5000", "a/b", "v1", NULL),
    OK("[::1]/x", "[::1]/x:latest", "[::1]", "x", "latest", NULL),
    OK("ghcr.io/org/app:v1.2.3-rc.1_X", "ghcr.io/org/app:v1.2.3-rc.1_X", "ghcr.io", "org/app",
       "v1.2.3-rc.1_X", NULL),
    OK("foo:_x", "docker.io/library/foo:_x", "docker.io", "library/foo", "_x", NULL),
    OK("foo:" T128, "docker.io/library/foo:" T128, "docker.io", "library/foo", T128, NULL),
    OK("foo@" D128, "docker.io/library/foo@" D128, "docker.io", "library/foo", NULL, D128),
    OK("Registry.Example.COM/app", "Registry.Example.COM/app:latest", "Registry.Example.COM", "app",
       "latest", NULL),
    OK("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9",
       NULL),
    OK("quay.io/a/b/c/d:t@" D64, "quay.io/a/b/c/d:t@" D64, "quay.io", "a/b/c/d", "t", D64),
    OK("a-b.c-d:0/x", "a-b.c-d:0/x:latest", "a-b.c-d:0", "x", "latest", NULL),
    OK("docker.io", "docker.io/library/docker.io:latest", "docker.io", "library/docker.io",
       "latest", NULL),

    /* TestValidateReferenceName, invalid */
    BAD("https://github.com/docker/docker", "no URL scheme"),
    BAD("docker/Docker", "repository name must be lowercase"),
    BAD("-docker", "must start and end with a lower-case letter or digit"),
    BAD("-docker/docker", "path component \"-docker\""),
    BAD("-docker.io/docker/docker", "registry host label \"-docker\""),
    BAD("docker///docker", "empty component"),
    BAD("docker.io/docker/Docker", "repository name must be lowercase"),
    BAD("docker.io/docker///docker", "empty component"),
    BAD("[fc00::1]", "path component"),
    BAD("[fc00::1]:5000", "must start and end"),
    BAD("fc00::1:5000/debian", "registry port"),
    BAD("[fe80::1%eth0]:5000/debian", "character '%' at position 9 is not allowed"),
    BAD("[2001:db8:3:4::192.0.2.33]:5000/debian", "hex digits and ':'"),
    BAD(H64, "is an image ID, not a reference"),
    /* TestValidateRemoteName, invalid */
    BAD("docker-/docker", "path component \"docker-\""),
    BAD("-docker-/docker", "must start and end"),
    BAD("____/____", "must start and end"),
    BAD("_docker/_docker", "must start and end"),
    BAD("dock..er/docker", "empty label"), /* a '.' makes it a registry */
    BAD("dock_.er/docker", "not '_'"),
    BAD("dock-.er/docker", "registry host label \"dock-\""),
    BAD("docker/", "empty component"),
    BAD(LONGNS, "more than 255"),
    /* TestInvalidReferenceComponents, Parse */
    BAD("-foo", "must start and end"),
    BAD("busybox:-foo", "tag \"-foo\" must start with"),
    BAD("busybox@foo", "must be <algorithm>:<hex>"),
    /* more of our own */
    BAD("", "the reference is empty"),
    BAD("http://x/y", "no URL scheme"),
    BAD("Foo", "repository name must be lowercase"),
    BAD("a//b", "empty component"),
    BAD("foo:", "the tag after ':' is empty"),
    BAD("foo@", "the digest after '@' is empty"),
    BAD("@" D64, "no repository name before the digest"),
    BAD("@sha256:", "no repository name"),
    BAD(":tag", "no repository name before the tag"),
    BAD("foo@sha256:" H63, "has 64 hex digits, not 63"),
    BAD("foo@sha256:" H64 "0", "has 64 hex digits, not 65"),
    BAD("foo@sha256:", "not 0"),
    BAD("foo@sha256:" U64, "lower-case hex"),
    BAD("foo@sha256:" H63 "g", "'g', which is not a hex digit"),
    BAD("foo@md5:" H64, "algorithm \"md5\" is not supported"),
    BAD("foo@sha384:" H64 H64, "not supported"),
    BAD("foo@:" H64, "must be <algorithm>:<hex>"),
    BAD("foo@" D64 "@" D64, "more than one '@'"),
    BAD("foo bar", "white space at position 4"),
    BAD(" foo", "white space at position 1"),
    BAD("foo\n", "white space"),
    BAD("foo\x01", "byte 0x01 at position 4"),
    BAD("f\303\251e", "byte 0xc3"), /* UTF-8 e-acute */
    BAD("foo:.tag", "must start with a letter"),
    BAD("foo:" T128 "x", "129 characters long, more than 128"),
    BAD("foo:bar:baz", "not ':'"),
    BAD("foo:a/b", "registry port"),
    BAD("a..b/c", "empty label"),
    BAD(".a/c", "empty label"),
    BAD("a.b./c", "empty label"),
    BAD("a_b.com/x", "not '_'"), /* deviation: upstream gives an empty domain */
    BAD("localhost:/foo", "registry port \"\""),
    BAD("localhost:abc/foo", "registry port \"abc\""),
    BAD(":5000/foo", "no host name"),
    BAD("[]/foo", "path component \"[]\""), /* no ':': not a registry */
    BAD("[]:5000/foo", "empty IPv6 address"),
    BAD("[::1/foo", "never closes"),
    BAD("[::1]x:5000/foo", "only \":<port>\" may follow"),
    BAD("[::1]:/foo", "registry port"),
    BAD("localhost:5000/", "no repository name after the registry"),
    BAD("docker.io/", "no repository name after the registry"),
    BAD("abc.def:1/a..b", "with \"..\""),
    BAD("abc.def:1/a_.b", "with \"_.\""),
    BAD("abc.def:1/a-.b", "with \"-.\""),
    BAD("abc.def:1/a___b", "with \"___\""),
    BAD("/foo", "empty component"),
    BAD("foo/bar:tag/baz", "character ':' is not allowed"),
    BAD("foo/b:ar/baz", "character ':' is not allowed"),
    BAD("foo/ba$r", "character '$' at position 7"),
    BAD("foo/\"bar", "\\\"bar"),
    BAD("foo/b[a]r", "character '[' is not allowed in the repository path"),
    BAD("localhost/Foo:v1", "repository name must be lowercase (\"Foo\")"),
};

static void
test_parse_case(void **state)
{
	const struct ref_case *c = *state;
	pg_image_ref *r = NULL;
	pg_err e;
	int rc;

	pg_err_clear(&e);
	rc = pg_ref_parse_image(&r, c->in, &e);
	if (c->norm == NULL) {
		if (rc != PG_EINVAL)
			print_error("accepted \"%s\" as %s\n", c->in, r ? r->normalized : "?");
		assert_int_equal(rc, PG_EINVAL);
		assert_null(r);
		assert_int_equal(e.code, PG_EINVAL);
		assert_true(strncmp(e.msg, "invalid image reference \"", 25) == 0);
		if (strstr(e.msg, c->why) == NULL)
			print_error("message \"%s\" lacks \"%s\"\n", e.msg, c->why);
		assert_non_null(strstr(e.msg, c->why));
		return;
	}
	if (rc != PG_OK)
		print_error("rejected \"%s\": %s\n", c->in, e.msg);
	assert_int_equal(rc, PG_OK);
	assert_non_null(r);
	assert_string_equal(r->normalized, c->norm);
	assert_string_equal(r->registry, c->registry);
	assert_string_equal(r->repository, c->repository);
	if (c->tag)
		assert_string_equal(r->tag, c->tag);
	else
		assert_null(r->tag);
	if (c->digest)
		assert_string_equal(r->digest, c->digest);
	else
		assert_null(r->digest);
	/* Normalising is idempotent: the normalised form parses to itself. */
	{
		pg_image_ref *again = NULL;

		assert_int_equal(pg_ref_parse_image(&again, r->normalized, &e), PG_OK);
		assert_string_equal(again->normalized, r->normalized);
		pg_ref_free(again);
	}
	pg_ref_free(r);
}

/* A name of exactly 255 characters passes; 256 does not.  The bound is on
 * the normalised name, so docker.io/library/ counts. */
static void
test_name_length_bound(void **state)
{
	char in[PG_REF_NAME_MAX + 16];
	pg_image_ref *r = NULL;
	pg_err e;

	(void)state;
	memcpy(in, "r.io/", 5);
	memset(in + 5, 'a', PG_REF_NAME_MAX - 5);
	in[PG_REF_NAME_MAX] = '\0';
	assert_int_equal(pg_ref_parse_image(&r, in, &e), PG_OK);
	assert_int_equal(strlen(r->registry) + 1 + strlen(r->repository), PG_REF_NAME_MAX);
	pg_ref_free(r);
	in[PG_REF_NAME_MAX] = 'a';
	in[PG_REF_NAME_MAX + 1] = '\0';
	assert_int_equal(pg_ref_parse_image(&r, in, &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "256 characters long, more than 255"));
	/* 237 characters are fine alone, but not under docker.io/library/. */
	memset(in, 'a', 238);
	in[238] = '\0';
	assert_int_equal(pg_ref_parse_image(&r, in, &e), PG_EINVAL);
	in[237] = '\0';
	assert_int_equal(pg_ref_parse_image(&r, in, &e), PG_OK);
	pg_ref_free(r);
}

/* oci:// URLs: the first component is the host whatever its shape, and
 * no docker.io/library/ is implied (the image parser reads "zot/app" as
 * docker.io/zot/app). */
static void
test_parse_oci(void **state)
{
	static const struct {
		const char *in, *registry, *repository, *tag;
	} ok[] = {
	    {"zot/app:1.0.0", "zot", "app", "1.0.0"},
	    {"zot/charts/app:1.0.0", "zot", "charts/app", "1.0.0"},
	    {"harbor:8443/a/b:2", "harbor:8443", "a/b", "2"},
	    {"docker.io/nginx:1", "docker.io", "nginx", "1"},
	    {"ghcr.io/org/chart:0.1.0", "ghcr.io", "org/chart", "0.1.0"},
	};
	pg_image_ref *r = NULL;
	pg_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(pg_ref_parse_oci(&r, ok[i].in, &e), PG_OK);
		assert_string_equal(r->registry, ok[i].registry);
		assert_string_equal(r->repository, ok[i].repository);
		assert_string_equal(r->tag, ok[i].tag);
		pg_ref_free(r);
	}
	/* the image parser keeps Docker's rule */
	assert_int_equal(pg_ref_parse_image(&r, "zot/app:1.0.0", &e), PG_OK);
	assert_string_equal(r->registry, "docker.io");
	pg_ref_free(r);
	assert_int_equal(pg_ref_parse_oci(&r, "app:1.0.0", &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "names no host"));
	assert_int_equal(pg_ref_parse_oci(&r, "zot_/app:1", &e), PG_EINVAL);
	assert_int_equal(pg_ref_parse_oci(&r, "zot/App:1", &e), PG_EINVAL);
}

/* Input longer than PG_REF_INPUT_MAX is refused before it is looked at,
 * and the message quotes only its start. */
static void
test_input_bound(void **state)
{
	char *in = malloc(PG_REF_INPUT_MAX + 2);
	pg_image_ref *r = NULL;
	pg_err e;

	(void)state;
	assert_non_null(in);
	memset(in, 'a', PG_REF_INPUT_MAX + 1);
	in[PG_REF_INPUT_MAX + 1] = '\0';
	assert_int_equal(pg_ref_parse_image(&r, in, &e), PG_EINVAL);
	assert_null(r);
	assert_non_null(strstr(e.msg, "longer than 1024 characters"));
	assert_non_null(strstr(e.msg, "...\""));
	assert_true(strlen(e.msg) < 400);
	free(in);
	assert_int_equal(pg_ref_parse_image(&r, NULL, &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "empty"));
	/* A NULL pg_err is allowed. */
	assert_int_equal(pg_ref_parse_image(&r, "A", NULL), PG_EINVAL);
}

/* Hostile bytes are escaped in the message, so a deny reason cannot carry
 * control characters or break out of its quotes. */
static void
test_message_escapes_input(void **state)
{
	pg_image_ref *r = NULL;
	pg_err e;

	(void)state;
	assert_int_equal(pg_ref_parse_image(&r, "a\"b\x1b[2J\\", &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "\"a\\\"b\\x1b[2J\\\\\""));
}

static void
test_digest_valid(void **state)
{
	(void)state;
	assert_true(pg_digest_string_valid(D64));
	assert_true(pg_digest_string_valid(D128));
	assert_false(pg_digest_string_valid(NULL));
	assert_false(pg_digest_string_valid(""));
	assert_false(pg_digest_string_valid("sha256:"));
	assert_false(pg_digest_string_valid("sha256:" H63));
	assert_false(pg_digest_string_valid(D64 "0"));
	assert_false(pg_digest_string_valid("sha256:" U64));
	assert_false(pg_digest_string_valid("SHA256:" H64));
	assert_false(pg_digest_string_valid("sha512:" H64));
	assert_false(pg_digest_string_valid("sha256:" H64 H64));
	assert_false(pg_digest_string_valid("sha384:" H64 H64));
	assert_false(pg_digest_string_valid(H64));
	assert_false(pg_digest_string_valid("sha256-" H64));
	assert_false(pg_digest_string_valid(" sha256:" H64));
}

static void
check_chart(pg_chart_kind kind, const char *repo, const char *name, const char *version,
	    const char *want_repo, const char *want_version, const char *want_loc)
{
	pg_chart_ref *c = NULL;
	pg_err e;

	pg_err_clear(&e);
	assert_int_equal(pg_chart_ref_new(&c, kind, repo, name, version, &e), PG_OK);
	assert_int_equal(c->kind, kind);
	assert_string_equal(c->name, name);
	if (want_repo)
		assert_string_equal(c->repo_url, want_repo);
	else
		assert_null(c->repo_url);
	if (want_version)
		assert_string_equal(c->version, want_version);
	else
		assert_null(c->version);
	assert_string_equal(c->location, want_loc);
	assert_null(c->release);
	pg_chart_ref_free(c);
}

static void
test_chart_ref(void **state)
{
	(void)state;
	check_chart(PG_CHART_REPO, "https://charts.example.com/", "app", "1.2.3",
		    "https://charts.example.com", "1.2.3", "https://charts.example.com/app");
	check_chart(PG_CHART_REPO, "https://charts.example.com/sub//", "app", NULL,
		    "https://charts.example.com/sub", NULL, "https://charts.example.com/sub/app");
	check_chart(PG_CHART_REPO, "https://charts.example.com", "app", "",
		    "https://charts.example.com", NULL, "https://charts.example.com/app");
	check_chart(PG_CHART_OCI, "registry.example.com/charts/", "app", "1.2.3",
		    "oci://registry.example.com/charts", "1.2.3",
		    "oci://registry.example.com/charts/app:1.2.3");
	check_chart(PG_CHART_OCI, "oci://registry.example.com/charts", "app", "1.2.3",
		    "oci://registry.example.com/charts", "1.2.3",
		    "oci://registry.example.com/charts/app:1.2.3");
	check_chart(PG_CHART_OCI, "oci://ghcr.io/org/", "app", NULL, "oci://ghcr.io/org", NULL,
		    "oci://ghcr.io/org/app");
	check_chart(PG_CHART_OCI, "oci://ghcr.io/org", "app", ">=1.0.0 <2.0.0", "oci://ghcr.io/org",
		    ">=1.0.0 <2.0.0", "oci://ghcr.io/org/app:>=1.0.0 <2.0.0");
	check_chart(PG_CHART_RELEASE, NULL, "team-app", "0.1.0", NULL, "0.1.0",
		    "release://team-app");
}

static void
test_chart_ref_invalid(void **state)
{
	pg_chart_ref *c = NULL;
	pg_err e;
	char *big = malloc(4096);

	(void)state;
	assert_non_null(big);
	assert_int_equal(pg_chart_ref_new(&c, PG_CHART_REPO, "https://x", NULL, NULL, &e),
			 PG_EINVAL);
	assert_non_null(strstr(e.msg, "no chart name"));
	assert_int_equal(pg_chart_ref_new(&c, PG_CHART_REPO, "https://x", "", NULL, &e), PG_EINVAL);
	memset(big, 'n', 600);
	big[600] = '\0';
	assert_int_equal(pg_chart_ref_new(&c, PG_CHART_REPO, "https://x", big, NULL, &e),
			 PG_EINVAL);
	assert_non_null(strstr(e.msg, "too long"));
	assert_int_equal(pg_chart_ref_new(&c, PG_CHART_REPO, "https://x", "a", big, &e), PG_EINVAL);
	memset(big, 'r', 2000);
	big[2000] = '\0';
	assert_int_equal(pg_chart_ref_new(&c, PG_CHART_OCI, big, "a", "1", &e), PG_EINVAL);
	assert_null(c);
	free(big);
}

/* Every field at its largest accepted size still gives a location (and
 * never an error without a message). */
static void
test_chart_ref_largest(void **state)
{
	pg_chart_ref *c = NULL;
	pg_err e;
	char repo[2 * CHART_FIELD_MAX + 1], name[CHART_FIELD_MAX + 1], ver[CHART_FIELD_MAX + 1];

	(void)state;
	memset(repo, 'r', sizeof(repo) - 1);
	memcpy(repo, "h/", 2); /* a host, then the longest path */
	repo[sizeof(repo) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(ver, 'v', sizeof(ver) - 1);
	ver[sizeof(ver) - 1] = '\0';
	pg_err_clear(&e);
	assert_int_equal(pg_chart_ref_new(&c, PG_CHART_OCI, repo, name, ver, &e), PG_OK);
	assert_int_equal(strlen(c->location),
			 6 + 2 * CHART_FIELD_MAX + 1 + CHART_FIELD_MAX + 1 + CHART_FIELD_MAX);
	pg_chart_ref_free(c);
}

/* Chart URLs (url.c): each row an input and its normalised form, or NULL
 * and a piece of the refusal.  Near misses both ways: the trick refused,
 * the look-alike that is fine accepted. */
static void
test_url_table(void **state)
{
	static const struct {
		const char *in, *out, *why;
	} c[] = {
	    {"https://charts.example.com", "https://charts.example.com", NULL},
	    {"https://charts.example.com/", "https://charts.example.com", NULL},
	    {"HTTPS://Charts.Example.COM/Sub/", "https://charts.example.com/Sub", NULL},
	    {"https://charts.example.com:443/x", "https://charts.example.com/x", NULL},
	    {"https://charts.example.com:8443/x", "https://charts.example.com:8443/x", NULL},
	    {"https://charts.example.com:/x", "https://charts.example.com/x", NULL},
	    {"https://charts.example.com:0443/x", "https://charts.example.com/x", NULL},
	    {"http://c.example.com:80", "http://c.example.com", NULL},
	    {"http://c.example.com:443", "http://c.example.com:443", NULL},
	    {"oci://r.example.com:443/charts", "oci://r.example.com/charts", NULL},
	    {"oci://127.0.0.1:5000/charts", "oci://127.0.0.1:5000/charts", NULL},
	    {"https://[::1]:8443/c", "https://[::1]:8443/c", NULL},
	    {"https://c.example.com/a/./b", "https://c.example.com/a/b", NULL},
	    {"https://c.example.com/a/../b", "https://c.example.com/b", NULL},
	    {"https://c.example.com/../../b", "https://c.example.com/b", NULL},
	    {"https://c.example.com/good/..", "https://c.example.com", NULL},
	    {"https://c.example.com/a..b/.c", "https://c.example.com/a..b/.c", NULL},
	    {"https://c.example.com/a~b_c-d.e", "https://c.example.com/a~b_c-d.e", NULL},
	    {"https://good@evil.example.com", NULL, "user information"},
	    {"https://good.example.com:x@evil.example.com", NULL, "user information"},
	    {"https://good.example.com/@evil", NULL, "'@' in the path"},
	    {"https://good.example.com?.evil.com", NULL, "query"},
	    {"https://good.example.com/c?x=1", NULL, "query"},
	    {"https://good.example.com#.evil.com", NULL, "fragment"},
	    {"https://good.example.com/%2e%2e/x", NULL, "percent-encoded"},
	    {"https://good.example.com%2f@evil", NULL, "percent-encoded"},
	    {"https://good.example.com\\@evil.com", NULL, "backslash"},
	    {"https://good.example.com/a\\..\\b", NULL, "backslash"},
	    {"https://good.example.com /x", NULL, "space"},
	    {"https://g\xc3\xb6od.example.com", NULL, "non-ASCII"},
	    {"ftp://c.example.com", NULL, "scheme must be"},
	    {"c.example.com/x", NULL, "must start with"},
	    {"https:/c.example.com", NULL, "must start with"},
	    {"https://", NULL, "no host"},
	    {"https:///x", NULL, "no host"},
	    {"https://.example.com", NULL, "empty host label"},
	    {"https://c..example.com", NULL, "empty host label"},
	    {"https://c.example.com./x", NULL, "empty host label"},
	    {"https://c.example.com:65536", NULL, "bad port"},
	    {"https://c.example.com:0", NULL, "bad port"},
	    {"https://c.example.com:99999999999999999999", NULL, "bad port"},
	    {"https://c.example.com:44a3", NULL, "bad port"},
	    {"https://c*.example.com", NULL, "in the host"},
	    {"https://c.example.com/a\"b", NULL, "in the path"},
	    {"", NULL, "empty"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *out = NULL;
		pg_err e;
		int rc;

		pg_err_clear(&e);
		rc = pg_url_normalize(&out, c[i].in, &e);
		if (c[i].out) {
			if (rc != PG_OK || strcmp(out, c[i].out) != 0)
				fail_msg("%s: got %s (%s), want %s", c[i].in, out ? out : "error",
					 e.msg, c[i].out);
			/* normalising is idempotent */
			{
				char *again = NULL;

				assert_int_equal(pg_url_normalize(&again, out, &e), PG_OK);
				assert_string_equal(again, out);
				free(again);
			}
		} else if (rc != PG_EINVAL || strstr(e.msg, c[i].why) == NULL) {
			fail_msg("%s: got %s [%s], want refusal with [%s]", c[i].in,
				 out ? out : "error", e.msg, c[i].why);
		}
		free(out);
	}
}

static void
test_version_exact(void **state)
{
	static const char *const exact[] = {
	    "1.2.3", "v1.2.3", "0.0.0", "1.2.3-rc.1", "1.2.3+build.5", "10.20.30-alpha-1+x", NULL};
	static const char *const range[] = {
	    "",	      "1",	 "1.2",	   "1.2.x",	    "1.2.*",	      "*",	"^1.2.3",
	    "~1.2.3", ">=1.2.3", "=1.2.3", "1.2.3 - 2.0.0", "1.2.3 || 2.0.0", "01.2.3", "1.2.3-",
	    "latest", "1.2.3.4", NULL};
	size_t i;

	(void)state;
	assert_false(pg_chart_version_exact(NULL));
	for (i = 0; exact[i]; i++)
		if (!pg_chart_version_exact(exact[i]))
			fail_msg("%s should be exact", exact[i]);
	for (i = 0; range[i]; i++)
		if (pg_chart_version_exact(range[i]))
			fail_msg("%s should be a range", range[i]);
}

static void
test_chart_ref_url(void **state)
{
	static const struct {
		pg_chart_kind k;
		const char *repo, *name, *ver, *loc;
	} c[] = {
	    {PG_CHART_REPO, "HTTPS://C.io:443/x/../y/", "w", "1.0.0", "https://c.io/y/w"},
	    {PG_CHART_OCI, "R.io/c", "w", "1.0.0", "oci://r.io/c/w:1.0.0"},
	    {PG_CHART_OCI, "oci://r.io/c", "w", D64, "oci://r.io/c/w@" D64},
	    {PG_CHART_REPO, "https://good@evil.io", "w", "1.0.0", NULL},
	    {PG_CHART_REPO, "oci://r.io/c", "w", "1.0.0", NULL},
	    {PG_CHART_OCI, "https://r.io/c", "w", "1.0.0", NULL},
	    {PG_CHART_REPO, "https://c.io", "../w", "1.0.0", NULL},
	    {PG_CHART_REPO, "https://c.io", "a/b", "1.0.0", NULL},
	    {PG_CHART_OCI, "oci://r.io/c", "w", "1.0/../../x", NULL},
	    {PG_CHART_OCI, "oci://r.io/c", "w", "1.0#x", NULL},
	    {PG_CHART_OCI, "oci://r.io/c", "w", "sha256:abc", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		pg_chart_ref *r = NULL;
		pg_err e;
		int rc = pg_chart_ref_new(&r, c[i].k, c[i].repo, c[i].name, c[i].ver, &e);

		if (c[i].loc == NULL) {
			if (rc != PG_EINVAL || strncmp(e.msg, "invalid chart reference", 23) != 0)
				fail_msg("row %zu: accepted or wrong error: %s", i,
					 rc ? e.msg : r->location);
		} else if (rc != PG_OK || strcmp(r->location, c[i].loc) != 0) {
			fail_msg("row %zu: %s, want %s", i, rc ? e.msg : r->location, c[i].loc);
		}
		pg_chart_ref_free(r);
	}
}

static void
test_free_null(void **state)
{
	(void)state;
	pg_ref_free(NULL);
	pg_chart_ref_free(NULL);
}

/* Test names: "parse <input>", printable and short. */
static char *
case_name(const char *in)
{
	char *s = malloc(64);
	size_t i, o = 0;

	if (s == NULL)
		return NULL;
	memcpy(s, "parse ", 6);
	o = 6;
	for (i = 0; in[i] && o < 56; i++)
		s[o++] = (in[i] > 0x20 && in[i] < 0x7f) ? in[i] : '?';
	if (in[i]) {
		memcpy(s + o, "...", 3);
		o += 3;
	}
	if (in[0] == '\0') {
		memcpy(s + o, "(empty)", 7);
		o += 7;
	}
	s[o] = '\0';
	return s;
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_name_length_bound), cmocka_unit_test(test_input_bound),
	    cmocka_unit_test(test_parse_oci),	      cmocka_unit_test(test_message_escapes_input),
	    cmocka_unit_test(test_digest_valid),      cmocka_unit_test(test_chart_ref),
	    cmocka_unit_test(test_chart_ref_invalid), cmocka_unit_test(test_chart_ref_largest),
	    cmocka_unit_test(test_url_table),	      cmocka_unit_test(test_version_exact),
	    cmocka_unit_test(test_chart_ref_url),     cmocka_unit_test(test_free_null),
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
	size_t i;
	int rc;

	if (tests == NULL)
		return 1;
	for (i = 0; i < ncases; i++) {
		tests[i].name = case_name(cases[i].in);
		tests[i].test_func = test_parse_case;
		tests[i].initial_state = (void *)&cases[i];
		if (tests[i].name == NULL)
			return 1;
	}
	memcpy(tests + ncases, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("test_ref", tests, ncases + nfixed, NULL, NULL);
	for (i = 0; i < ncases; i++)
		free((char *)tests[i].name);
	free(tests);
	return rc;
}
