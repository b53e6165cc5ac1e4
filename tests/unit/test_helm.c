/* Unit tests of helm/: prov split and files map, semver constraints, URL and
 * index resolution, tar reader, release decoding, bounded inflate, release
 * manifest splitting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>

#include "../../webhook/helm/meta.c"
#include "../../webhook/helm/manifest.c"
#include "../../webhook/helm/prov.c"
#include "../../webhook/helm/release.c"
#include "../../webhook/helm/repo.c"
#include "../../webhook/helm/semver.c"
#include "../../webhook/helm/tar.c"
#include "../../webhook/helm/yaml.c"

static void
test_prov_split(void **state)
{
	static const char pt[] = "apiVersion: v1\nname: hashtest\nversion: 1.2.3\n\n...\nfiles:\n"
				 "  hashtest-1.2.3.tgz: sha256:c6841b3a\n  other.tgz: sha256:00\n";
	pg_helm_prov *p = NULL;
	pg_err e;

	(void)state;
	assert_int_equal(pg_helm_prov_parse(&p, pt, strlen(pt), &e), PG_OK);
	assert_string_equal(p->name, "hashtest");
	assert_string_equal(p->version, "1.2.3");
	assert_int_equal(p->nfiles, 2);
	assert_string_equal(pg_helm_prov_sum(p, "hashtest-1.2.3.tgz"), "sha256:c6841b3a");
	assert_null(pg_helm_prov_sum(p, "nope.tgz"));
	pg_helm_prov_free(p);

	assert_int_equal(pg_helm_prov_parse(&p, "name: x\nfiles: {}\n", 18, &e), PG_EINVAL);
	assert_string_equal(e.msg, "message block must have at least two parts");
}

#define P1 "x: 1\n\n...\nfiles: [1]\n"
#define P2 "x\n...\nfiles:\n  a: [1]\n"
#define P3 "x\n...\nother: 1\n"

static void
test_prov_second_part_only(void **state)
{
	/* bytes.Split: parts[1] ends at the next separator; junk metadata is
	 * ignored (Helm v4). */
	static const char pt[] =
	    ": : bad yaml [\n...\nfiles:\n  a.tgz: sha256:1\n...\nfiles:\n  b.tgz: sha256:2\n";
	pg_helm_prov *p = NULL;
	pg_err e;

	(void)state;
	assert_int_equal(pg_helm_prov_parse(&p, pt, strlen(pt), &e), PG_OK);
	assert_null(p->name);
	assert_string_equal(pg_helm_prov_sum(p, "a.tgz"), "sha256:1");
	assert_null(pg_helm_prov_sum(p, "b.tgz"));
	pg_helm_prov_free(p);
	assert_int_equal(pg_helm_prov_parse(&p, P1, strlen(P1), &e), PG_EINVAL);
	assert_int_equal(pg_helm_prov_parse(&p, P2, strlen(P2), &e), PG_EINVAL);
	/* no files section: parses, then no entry */
	assert_int_equal(pg_helm_prov_parse(&p, P3, strlen(P3), &e), PG_OK);
	assert_int_equal(p->nfiles, 0);
	pg_helm_prov_free(p);
}

static void
test_quote(void **state)
{
	char q[64];

	(void)state;
	pg_helm_quote(q, sizeof(q), "a\"b\\c\n\x01");
	assert_string_equal(q, "\"a\\\"b\\\\c\\n\\x01\"");
}

static const struct {
	const char *c, *v;
	int want;
} semver_cases[] = {
    {"1.2.3", "1.2.3", 1},
    {"=1.2.3", "1.2.4", 0},
    {"!=1.2.3", "1.2.4", 1},
    {"!=1.2.3", "1.2.3", 0},
    {">1.2.3", "1.2.4", 1},
    {">1.2.3", "1.2.3", 0},
    {"<1.2.3", "1.2.2", 1},
    {">=1.2.3", "1.2.3", 1},
    {"=>1.2.3", "1.3.0", 1},
    {"<=1.2.3", "1.2.4", 0},
    {"=<1.2.3", "1.2.3", 1},
    {"~1.2.3", "1.2.9", 1},
    {"~1.2.3", "1.3.0", 0},
    {"~>1.2", "1.2.0", 1},
    {"~1", "1.9.9", 1},
    {"~1", "2.0.0", 0},
    {"1.2", "1.2.5", 1},
    {"=1.2", "1.3.0", 0},
    {"^0", "0.9.0", 1},
    {"^0", "1.0.0", 0},
    {"^1.2", "1.9.0", 1},
    {"^1.2.3", "1.9.0", 1},
    {"^1.2.3", "2.0.0", 0},
    {"^1.2.3", "1.2.2", 0},
    {"^0.2.3", "0.2.9", 1},
    {"^0.2.3", "0.3.0", 0},
    {"^0.0.3", "0.0.3", 1},
    {"^0.0.3", "0.0.4", 0},
    {"1.2.x", "1.2.7", 1},
    {"1.2.x", "1.3.0", 0},
    {"1.x", "1.9.0", 1},
    {"*", "9.9.9", 1},
    {"", "0.0.1", 1},
    {"*", "1.0.0-rc.1", 0},
    {">=1.0.0", "1.1.0-beta", 0},
    {">=1.1.0-0", "1.1.0-beta", 1},
    {"~1.3.0-0", "1.3.0-rc.1", 1},
    {">=1.0.0-0 <2", "1.3.0-rc.1", 0},
    {">1.x", "2.0.0", 1},
    {">1.x", "1.9.0", 0},
    {">1.2.x", "1.3.0", 1},
    {"<=1.2.x", "1.2.99", 1},
    {"<=1.2.x", "1.3.0", 0},
    {"!=1.2.x", "1.2.5", 0},
    {"!=1.2.x", "1.3.0", 1},
    {">=1.2, <1.4", "1.3.5", 1},
    {">=1.2, <1.4", "1.4.0", 0},
    {">= 1.2 < 1.4", "1.2.0", 1},
    {"<1 || >=3", "3.1.0", 1},
    {"<1 || >=3", "2.0.0", 0},
    {"1.2 - 1.4.5", "1.4.5", 1},
    {"1.2 - 1.4.5", "1.4.6", 0},
    {"v1.2.3", "1.2.3", 1},
    {"1.2.3", "v1.2.3", 1},
    {"1.2.3", "1.2.3+build.7", 1},
    {"1.0.0-alpha.1", "1.0.0-alpha.1", 1},
};

static void
test_semver_table(void **state)
{
	size_t i;
	pg_err e;

	(void)state;
	for (i = 0; i < sizeof(semver_cases) / sizeof(semver_cases[0]); i++) {
		int got = pg_helm_semver_match(semver_cases[i].c, semver_cases[i].v, &e);

		if (got != semver_cases[i].want)
			fail_msg("constraint \"%s\" version \"%s\": got %d want %d",
				 semver_cases[i].c, semver_cases[i].v, got, semver_cases[i].want);
	}
	assert_true(i >= 25);
	assert_int_equal(pg_helm_semver_match(">>1", "1.0.0", &e), PG_EINVAL);
	assert_int_equal(pg_helm_semver_match("1.0.0", "banana", &e), PG_EINVAL);
	assert_int_equal(pg_helm_semver_match("1.2.3.4", "1.0.0", &e), PG_EINVAL);
}

static void
test_semver_order(void **state)
{
	(void)state;
	assert_true(pg_helm_semver_cmp("1.0.0", "1.0.0-rc.1") > 0);
	assert_true(pg_helm_semver_cmp("1.0.0-rc.2", "1.0.0-rc.10") < 0);
	assert_true(pg_helm_semver_cmp("1.0.0-alpha", "1.0.0-1") > 0);
	assert_true(pg_helm_semver_cmp("1.0.0-alpha", "1.0.0-alpha.1") < 0);
	assert_true(pg_helm_semver_cmp("1.10.0", "1.9.0") > 0);
	assert_true(pg_helm_semver_cmp("nope", "0.0.1") < 0);
	assert_int_equal(pg_helm_semver_cmp("1.0.0+a", "1.0.0+b"), 0);
}

static void
check_url(const char *base, const char *ref, const char *want)
{
	char *out = NULL;
	pg_err e;

	assert_int_equal(pg_helm_url_resolve(&out, base, ref, &e), PG_OK);
	assert_string_equal(out, want);
	free(out);
}

static void
test_url_resolve(void **state)
{
	char *out = NULL;
	pg_err e;

	(void)state;
	check_url("https://h/charts", "x-1.0.0.tgz", "https://h/charts/x-1.0.0.tgz");
	check_url("https://h/charts/", "x-1.0.0.tgz", "https://h/charts/x-1.0.0.tgz");
	check_url("https://h/charts?token=a%20b", "sub/x.tgz",
		  "https://h/charts/sub/x.tgz?token=a%20b");
	check_url("https://h/a/b", "../x.tgz", "https://h/a/x.tgz");
	check_url("https://h/a/b", "/root/x.tgz", "https://h/root/x.tgz");
	check_url("https://h/a?q=1", "//cdn.example/x.tgz", "https://cdn.example/x.tgz?q=1");
	check_url("https://h/a?q=1", "https://other/x.tgz", "https://other/x.tgz");
	check_url("https://h", "x.tgz", "https://h/x.tgz");
	check_url("https://h/a", "./x.tgz?own=1", "https://h/a/x.tgz");
	assert_int_equal(pg_helm_index_url(&out, "https://h/charts/?t=1", &e), PG_OK);
	assert_string_equal(out, "https://h/charts/index.yaml?t=1");
	free(out);
	assert_int_equal(pg_helm_url_resolve(&out, "not a url", "x.tgz", &e), PG_EINVAL);
}

static const char index_yaml[] =
    "apiVersion: v1\n"
    "entries:\n"
    "  other:\n"
    "  - {name: other, version: 9.0.0, urls: [o.tgz]}\n"
    "  web:\n"
    "  - name: web\n    version: 1.0.0\n    urls: [web-1.0.0.tgz]\n"
    "  - name: web\n    version: 2.0.0-rc.1\n    urls: [web-2.0.0-rc.1.tgz]\n"
    "  - name: web\n    version: 1.10.0\n    urls: [https://cdn.example/web-1.10.0.tgz]\n"
    "  - name: web\n    version: 1.9.0\n    urls: [web-1.9.0.tgz]\n"
    "  - name: web\n    version: not-semver\n    urls: [web-weird.tgz]\n"
    "  - name: web\n    version: 0.1.0\n    urls: []\n"
    "generated: 2026-01-01T00:00:00Z\n";

static void
check_index(const char *c, const char *want_url, const char *want_ver)
{
	char *u = NULL, *v = NULL;
	pg_err e;

	assert_int_equal(pg_helm_index_resolve(&u, &v, index_yaml, strlen(index_yaml),
					       "https://r.example/charts?k=1", "web", c, &e),
			 PG_OK);
	assert_string_equal(u, want_url);
	assert_string_equal(v, want_ver);
	free(u);
	free(v);
}

static void
test_index_resolve(void **state)
{
	char *u = NULL, *v = NULL;
	pg_err e;

	(void)state;
	check_index(NULL, "https://cdn.example/web-1.10.0.tgz", "1.10.0");
	check_index("^1.0", "https://cdn.example/web-1.10.0.tgz", "1.10.0");
	check_index("<1.10", "https://r.example/charts/web-1.9.0.tgz?k=1", "1.9.0");
	check_index("1.0.0", "https://r.example/charts/web-1.0.0.tgz?k=1", "1.0.0");
	check_index(">=2.0.0-0", "https://r.example/charts/web-2.0.0-rc.1.tgz?k=1", "2.0.0-rc.1");
	assert_int_equal(pg_helm_index_resolve(&u, &v, index_yaml, strlen(index_yaml), "https://r",
					       "web", "^3", &e),
			 PG_ENOTFOUND);
	assert_string_equal(e.msg,
			    "chart \"web\" version \"^3\" not found in https://r repository");
	assert_int_equal(pg_helm_index_resolve(&u, &v, index_yaml, strlen(index_yaml), "https://r",
					       "nope", NULL, &e),
			 PG_ENOTFOUND);
	assert_int_equal(pg_helm_index_resolve(&u, &v, index_yaml, strlen(index_yaml), "https://r",
					       "web", "0.1.0", &e),
			 PG_ENOTFOUND);
	assert_non_null(strstr(e.msg, "no downloadable URLs"));
	assert_int_equal(
	    pg_helm_index_resolve(&u, &v, "entries: [", 10, "https://r", "web", NULL, &e),
	    PG_EINVAL);
	assert_int_equal(pg_helm_index_resolve(&u, &v, "a: &x 1\nentries: *x\n", 20, "https://r",
					       "web", NULL, &e),
			 PG_EINVAL);
}

static void
test_yaml_depth(void **state)
{
	char deep[400];
	static const char yv[] = "a: yes\nb: 1.5\nc: 0x10\nd: ~\ne: '1'\n";
	json_t *j = NULL;
	pg_err e;
	size_t i;

	(void)state;
	for (i = 0; i < 150; i++)
		deep[i] = '[';
	deep[150] = '\0';
	assert_int_equal(pg_helm_yaml_load(&j, deep, 150, 0, NULL, &e), PG_ETOOBIG);
	assert_int_equal(pg_helm_yaml_load(&j, yv, strlen(yv), 1, NULL, &e), PG_OK);
	assert_true(json_is_true(json_object_get(j, "a")));
	assert_true(json_is_real(json_object_get(j, "b")));
	assert_int_equal(json_integer_value(json_object_get(j, "c")), 16);
	assert_true(json_is_null(json_object_get(j, "d")));
	assert_string_equal(json_string_value(json_object_get(j, "e")), "1");
	json_decref(j);
}

/* --- archives built in memory ------------------------------------------- */

static void
tar_add(pg_buf *t, const char *name, const char *data, size_t n, char type)
{
	unsigned char h[512];
	unsigned long sum = 0;
	size_t i;
	char pad[512] = {0};

	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 124, 12, "%011lo", (unsigned long)(n & 0x1FFFFFFFFul));
	snprintf((char *)h + 136, 12, "%011o", 0);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06lo", sum);
	assert_int_equal(pg_buf_append(t, h, 512), PG_OK);
	assert_int_equal(pg_buf_append(t, data, n), PG_OK);
	if (n % 512)
		assert_int_equal(pg_buf_append(t, pad, 512 - n % 512), PG_OK);
}

static void
gzip_buf(pg_buf *out, const unsigned char *p, size_t n)
{
	z_stream z;
	unsigned char chunk[4096];
	int zr;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		assert_int_equal(pg_buf_append(out, chunk, sizeof(chunk) - z.avail_out), PG_OK);
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
}

static void
b64(pg_buf *out, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char q[4] = {a[v >> 18 & 63], a[v >> 12 & 63], i + 1 < n ? a[v >> 6 & 63] : '=',
			     i + 2 < n ? a[v & 63] : '='};

		assert_int_equal(pg_buf_append(out, q, 4), PG_OK);
	}
}

static const char chart_yaml[] = "apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: \"1.0\"\n"
				 "description: a demo\nunknownField: ignored\n";
static const char values_yaml[] = "replicas: 2\nimage:\n  tag: \"1.0\"\n  pull: true\n";
static const char tpl[] = "kind: Deployment\n";

static void
make_chart(pg_buf *tgz, const char *tpl_data)
{
	pg_buf t;
	char zero[1024] = {0};

	pg_buf_init(&t, 0);
	tar_add(&t, "demo/", "", 0, '5');
	tar_add(&t, "demo/Chart.yaml", chart_yaml, strlen(chart_yaml), '0');
	tar_add(&t, "./demo/values.yaml", values_yaml, strlen(values_yaml), '0');
	tar_add(&t, "demo/templates/deployment.yaml", tpl_data, strlen(tpl_data), '0');
	tar_add(&t, "demo/README.md", "# hi\n", 5, '0');
	assert_int_equal(pg_buf_append(&t, zero, sizeof(zero)), PG_OK);
	gzip_buf(tgz, t.data, t.len);
	pg_buf_free(&t);
}

static void
test_tar_reader(void **state)
{
	pg_buf tgz, tar;
	pg_helm_files f = {0};
	pg_err e;
	const pg_helm_file *x;

	(void)state;
	pg_buf_init(&tgz, 0);
	pg_buf_init(&tar, 0);
	make_chart(&tgz, tpl);
	assert_int_equal(pg_helm_gunzip(&tar, tgz.data, tgz.len, &e), PG_OK);
	assert_int_equal(pg_helm_untar(&f, tar.data, tar.len, &e), PG_OK);
	assert_int_equal(f.n, 4);
	assert_non_null(x = pg_helm_files_get(&f, "demo/values.yaml"));
	assert_int_equal(x->len, strlen(values_yaml));
	assert_non_null(pg_helm_files_get(&f, "demo/templates/deployment.yaml"));
	pg_helm_files_free(&f);
	/* a corrupted checksum is refused */
	tar.data[150] ^= 1;
	assert_int_equal(pg_helm_untar(&f, tar.data, tar.len, &e), PG_EINVAL);
	pg_buf_reset(&tar);
	tar_add(&tar, "demo/../../etc/passwd", "x", 1, '0');
	assert_int_equal(pg_helm_untar(&f, tar.data, tar.len, &e), PG_EINVAL);
	pg_buf_reset(&tar);
	tar_add(&tar, "PaxHeaders/x", "28 path=demo/very/long/name\n", 28, 'x');
	tar_add(&tar, "short", "abc", 3, '0');
	assert_int_equal(pg_helm_untar(&f, tar.data, tar.len, &e), PG_OK);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].name, "demo/very/long/name");
	pg_helm_files_free(&f);
	/* a size past the end of the archive */
	pg_buf_reset(&tar);
	tar_add(&tar, "a", "abc", 3, '0');
	tar.len = 512 + 1;
	assert_int_equal(pg_helm_untar(&f, tar.data, tar.len, &e), PG_EINVAL);
	pg_buf_free(&tgz);
	pg_buf_free(&tar);
}

static void
test_gunzip_bomb(void **state)
{
	unsigned char *zeros = calloc(1, 4 << 20);
	pg_buf gz, out;
	pg_err e;

	(void)state;
	assert_non_null(zeros);
	pg_buf_init(&gz, 0);
	gzip_buf(&gz, zeros, 4 << 20); /* 4 MiB of zeros: ~4 KB compressed */
	assert_true(gz.len < 10000);
	pg_buf_init(&out, 1 << 20);
	assert_int_equal(pg_helm_gunzip(&out, gz.data, gz.len, &e), PG_ETOOBIG);
	assert_true(out.len <= 1 << 20);
	pg_buf_free(&out);
	pg_buf_init(&out, 8 << 20);
	assert_int_equal(pg_helm_gunzip(&out, gz.data, gz.len, &e), PG_OK);
	assert_int_equal(out.len, 4 << 20);
	pg_buf_free(&out);
	pg_buf_init(&out, 0);
	assert_int_equal(pg_helm_gunzip(&out, gz.data, gz.len / 2, &e), PG_EINVAL);
	pg_buf_free(&out);
	pg_buf_free(&gz);
	free(zeros);
}

/* data.release as the API shows it: base64(base64(gzip(json))) or, legacy,
 * base64(base64(json)). */
static void
release_data(pg_buf *out, const char *json, int gz)
{
	pg_buf z, one;

	pg_buf_init(&z, 0);
	pg_buf_init(&one, 0);
	if (gz)
		gzip_buf(&z, (const unsigned char *)json, strlen(json));
	else
		assert_int_equal(pg_buf_puts(&z, json), PG_OK);
	b64(&one, z.data, z.len);
	b64(out, one.data, one.len);
	pg_buf_free(&z);
	pg_buf_free(&one);
}

static char *
release_json(const char *tpl_data, const char *values)
{
	pg_buf t, j;
	char *s = NULL;

	pg_buf_init(&t, 0);
	pg_buf_init(&j, 0);
	b64(&t, (const unsigned char *)tpl_data, strlen(tpl_data));
	assert_int_equal(
	    pg_buf_printf(
		&j,
		"{\"name\":\"rel\",\"namespace\":\"ns\",\"version\":1,\"chart\":{"
		"\"metadata\":{\"name\":\"demo\",\"version\":\"1.0.0\",\"appVersion\":\"1.0\","
		"\"description\":\"a demo\",\"apiVersion\":\"v2\"},"
		"\"templates\":[{\"name\":\"templates/deployment.yaml\",\"data\":\"%s\"}],"
		"\"files\":[{\"name\":\"README.md\",\"data\":\"IyBoaQo=\"}],"
		"\"values\":%s}}",
		(char *)t.data, values),
	    PG_OK);
	assert_int_equal(pg_buf_detach(&s, NULL, &j), PG_OK);
	pg_buf_free(&t);
	return s;
}

static void
test_release_decode_and_match(void **state)
{
	pg_buf tgz, d;
	pg_helm_release *r = NULL;
	pg_err e;
	char *js;
	static const char vals[] = "{\"replicas\":2.0,\"image\":{\"tag\":\"1.0\",\"pull\":true}}";

	(void)state;
	pg_buf_init(&tgz, 0);
	make_chart(&tgz, tpl);
	/* gzip'd */
	js = release_json(tpl, vals);
	pg_buf_init(&d, 0);
	release_data(&d, js, 1);
	assert_int_equal(pg_helm_release_decode(&r, (char *)d.data, d.len, &e), PG_OK);
	assert_string_equal(pg_helm_release_name(r), "rel");
	assert_string_equal(pg_helm_release_chart_name(r), "demo");
	assert_string_equal(pg_helm_release_chart_version(r), "1.0.0");
	assert_int_equal(pg_helm_release_match_archive(r, tgz.data, tgz.len, &e), PG_OK);
	pg_helm_release_free(r);
	/* legacy: uncompressed JSON */
	pg_buf_reset(&d);
	release_data(&d, js, 0);
	assert_int_equal(pg_helm_release_decode(&r, (char *)d.data, d.len, &e), PG_OK);
	assert_int_equal(pg_helm_release_match_archive(r, tgz.data, tgz.len, &e), PG_OK);
	pg_helm_release_free(r);
	free(js);
	/* a template that differs is named */
	js = release_json("kind: Evil\n", vals);
	pg_buf_reset(&d);
	release_data(&d, js, 1);
	assert_int_equal(pg_helm_release_decode(&r, (char *)d.data, d.len, &e), PG_OK);
	assert_int_equal(pg_helm_release_match_archive(r, tgz.data, tgz.len, &e), PG_EVERIFY);
	assert_string_equal(
	    e.msg, "release chart differs from the verified archive: templates/deployment.yaml");
	pg_helm_release_free(r);
	free(js);
	/* values that differ */
	js = release_json(tpl, "{\"replicas\":3,\"image\":{\"tag\":\"1.0\",\"pull\":true}}");
	pg_buf_reset(&d);
	release_data(&d, js, 1);
	assert_int_equal(pg_helm_release_decode(&r, (char *)d.data, d.len, &e), PG_OK);
	assert_int_equal(pg_helm_release_match_archive(r, tgz.data, tgz.len, &e), PG_EVERIFY);
	assert_string_equal(e.msg, "release chart differs from the verified archive: values.yaml");
	pg_helm_release_free(r);
	free(js);
	/* garbage */
	assert_int_equal(pg_helm_release_decode(&r, "!!!", 3, &e), PG_EINVAL);
	pg_buf_reset(&d);
	release_data(&d, "not json", 1);
	assert_int_equal(pg_helm_release_decode(&r, (char *)d.data, d.len, &e), PG_EINVAL);
	pg_buf_free(&d);
	pg_buf_free(&tgz);
}

/* Helm reads the release with Go's encoding/json (keys case-insensitive,
 * K = U+212A, s = U+017F, last match wins): a key that names a field of
 * Helm's structs without spelling it is refused at every struct level;
 * the user's maps and keys naming no field are not. */
static void
test_release_fold_keys(void **state)
{
	static const struct {
		const char *json;
		const char *msg; /* NULL: decodes */
	} tab[] = {
	    {"{\"name\":\"rel\",\"manifest\":\"\",\"config\":{\"Manifest\":1,\"NAME\":2},"
	     "\"manifests\":1,\"Name_\":2,\"chart\":{\"values\":{\"Metadata\":1},"
	     "\"metadata\":{\"annotations\":{\"Name\":\"x\"}}},"
	     "\"info\":{\"resources\":{\"Notes\":[]}}}",
	     NULL},
	    {"{\"manifest\":\"a\",\"Manifest\":\"b\"}",
	     "key \"Manifest\" where Helm reads \"manifest\""},
	    {"{\"MANIFEST\":\"b\"}", "key \"MANIFEST\" where Helm reads \"manifest\""},
	    {"{\"manife\\u017ft\":\"b\"}", "where Helm reads \"manifest\""},
	    {"{\"Hooks\":[]}", "key \"Hooks\" where Helm reads \"hooks\""},
	    {"{\"Apply_Method\":\"ssa\"}", "where Helm reads \"apply_method\""},
	    {"{\"info\":{\"Status\":\"x\"}}",
	     "key \"info.Status\" where Helm reads \"info.status\""},
	    {"{\"chart\":{\"Templates\":[]}}", "where Helm reads \"chart.templates\""},
	    {"{\"chart\":{\"metadata\":{\"APIVERSION\":\"v2\"}}}",
	     "where Helm reads \"chart.metadata.apiVersion\""},
	    {"{\"chart\":{\"metadata\":{\"\\u212aeywords\":[]}}}",
	     "where Helm reads \"chart.metadata.keywords\""},
	    {"{\"chart\":{\"metadata\":{\"maintainers\":[{\"name\":\"a\"},{\"Email\":\"b\"}]}}}",
	     "key \"chart.metadata.maintainers[1].Email\""},
	    {"{\"chart\":{\"metadata\":{\"dependencies\":[{\"Import-Values\":[]}]}}}",
	     "where Helm reads \"chart.metadata.dependencies[0].import-values\""},
	    {"{\"chart\":{\"lock\":{\"dependencies\":[{\"Alias\":\"x\"}]}}}",
	     "where Helm reads \"chart.lock.dependencies[0].alias\""},
	    {"{\"chart\":{\"files\":[{\"name\":\"a\",\"Data\":\"\"}]}}",
	     "where Helm reads \"chart.files[0].data\""},
	    {"{\"hooks\":[{\"path\":\"p\",\"PATH\":\"q\"}]}", "where Helm reads \"hooks[0].path\""},
	    {"{\"hooks\":[{\"last_run\":{\"Phase\":\"x\"}}]}",
	     "where Helm reads \"hooks[0].last_run.phase\""},
	};
	pg_buf d;
	pg_helm_release *r;
	pg_err e;
	size_t i;
	int rc;

	(void)state;
	pg_buf_init(&d, 0);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		r = NULL;
		pg_buf_reset(&d);
		release_data(&d, tab[i].json, 1);
		rc = pg_helm_release_decode(&r, (char *)d.data, d.len, &e);
		if (tab[i].msg == NULL && rc != PG_OK)
			fail_msg("row %zu: %s", i, e.msg);
		if (tab[i].msg != NULL && (rc != PG_EVERIFY || strstr(e.msg, tab[i].msg) == NULL))
			fail_msg("row %zu: %d %s", i, rc, rc ? e.msg : "decoded");
		pg_helm_release_free(r);
	}
	pg_buf_free(&d);
}

static void
test_release_bomb(void **state)
{
	/* 64 MiB of '[' gzip'd: past PG_HELM_RELEASE_JSON_MAX, refused while
	 * inflating. */
	size_t n = (size_t)64 << 20;
	unsigned char *p = malloc(n);
	pg_buf gz, one, two;
	pg_helm_release *r = NULL;
	pg_err e;

	(void)state;
	assert_non_null(p);
	memset(p, ' ', n);
	pg_buf_init(&gz, 0);
	pg_buf_init(&one, 0);
	pg_buf_init(&two, 0);
	gzip_buf(&gz, p, n);
	free(p);
	b64(&one, gz.data, gz.len);
	b64(&two, one.data, one.len);
	assert_true(two.len < PG_HELM_RELEASE_B64_MAX);
	assert_int_equal(pg_helm_release_decode(&r, (char *)two.data, two.len, &e), PG_ETOOBIG);
	assert_null(r);
	pg_buf_free(&gz);
	pg_buf_free(&one);
	pg_buf_free(&two);
}

/* The archive's own Chart.yaml, as Helm's loader finds it. */
static void
test_chart_meta(void **state)
{
	pg_buf tar, tgz;
	char *n = NULL, *v = NULL;
	pg_err e;
	const char cy[] = "apiVersion: v2\nname: team-b\nversion: 1.0.0\n";

	(void)state;
	pg_buf_init(&tar, 0);
	pg_buf_init(&tgz, 0);
	tar_add(&tar, "whatever/Chart.yaml", cy, sizeof(cy) - 1, '0');
	tar_add(&tar, "whatever/charts/sub/Chart.yaml", "name: sub\nversion: 9.9.9\n", 24, '0');
	gzip_buf(&tgz, tar.data, tar.len);
	assert_int_equal(pg_helm_chart_meta(&n, &v, tgz.data, tgz.len, &e), PG_OK);
	assert_string_equal(n, "team-b");
	assert_string_equal(v, "1.0.0");
	free(n);
	free(v);
	/* two top-level Chart.yaml: Helm would read one over the other */
	pg_buf_reset(&tgz);
	tar_add(&tar, "other/Chart.yaml", cy, sizeof(cy) - 1, '0');
	gzip_buf(&tgz, tar.data, tar.len);
	assert_int_equal(pg_helm_chart_meta(&n, &v, tgz.data, tgz.len, &e), PG_EVERIFY);
	assert_string_equal(e.msg, "chart archive holds more than one Chart.yaml");
	/* none, or one without a version */
	pg_buf_reset(&tar);
	pg_buf_reset(&tgz);
	tar_add(&tar, "x/values.yaml", "a: 1\n", 5, '0');
	gzip_buf(&tgz, tar.data, tar.len);
	assert_int_equal(pg_helm_chart_meta(&n, &v, tgz.data, tgz.len, &e), PG_EVERIFY);
	pg_buf_reset(&tar);
	pg_buf_reset(&tgz);
	tar_add(&tar, "x/Chart.yaml", "name: x\n", 8, '0');
	gzip_buf(&tgz, tar.data, tar.len);
	assert_int_equal(pg_helm_chart_meta(&n, &v, tgz.data, tgz.len, &e), PG_EVERIFY);
	assert_null(n);
	pg_buf_free(&tar);
	pg_buf_free(&tgz);
}

/* The rendered manifest of a release: pieces, sources, every document. */
static const char *
src_at(json_t *a, size_t i)
{
	return json_string_value(json_object_get(json_array_get(a, i), "source"));
}

static const char *
kind_at(json_t *a, size_t i)
{
	return json_string_value(
	    json_object_get(json_object_get(json_array_get(a, i), "object"), "kind"));
}

static void
test_manifest_parse(void **state)
{
	static const char helm[] =
	    "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
	    "---\n# Source: web/charts/db/templates/sts.yaml\r\nkind: StatefulSet\n\n";
	static const char hidden[] =
	    "---\n# Source: web/templates/cm.yaml\nkind: ConfigMap\n"
	    "--- # not Helm's separator, but the Kubernetes reader's\nkind: ClusterRoleBinding\n"
	    "---\n# only a comment\n\n---\n";
	static const char nosrc[] = "kind: Pod\n";
	static const char bad[] = "---\n# Source: web/templates/a.yaml\nkind: [unclosed\n";
	static const char alias[] = "---\n# Source: web/templates/a.yaml\na: &x 1\nb: *x\n";
	json_t *a;
	pg_err e;
	char big[PG_HELM_SOURCE_MAX + 64];

	(void)state;
	a = json_array();
	assert_int_equal(pg_helm_manifest_parse(a, helm, strlen(helm), &e), PG_OK);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(src_at(a, 0), "web/templates/cm.yaml");
	assert_string_equal(kind_at(a, 0), "ConfigMap");
	assert_string_equal(src_at(a, 1), "web/charts/db/templates/sts.yaml");
	assert_string_equal(kind_at(a, 1), "StatefulSet");
	json_decref(a);

	/* a piece after any line beginning with "---" stands alone, sourceless;
	 * comment-only pieces hold nothing */
	a = json_array();
	assert_int_equal(pg_helm_manifest_parse(a, hidden, strlen(hidden), &e), PG_OK);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(kind_at(a, 1), "ClusterRoleBinding");
	assert_null(src_at(a, 1));
	json_decref(a);

	a = json_array();
	assert_int_equal(pg_helm_manifest_parse(a, nosrc, strlen(nosrc), &e), PG_OK);
	assert_int_equal(json_array_size(a), 1);
	assert_null(src_at(a, 0));
	assert_int_equal(pg_helm_manifest_parse(a, "", 0, &e), PG_OK);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);

	/* never "no objects" for what does not parse */
	a = json_array();
	assert_int_equal(pg_helm_manifest_parse(a, bad, strlen(bad), &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "web/templates/a.yaml"));
	assert_int_equal(pg_helm_manifest_parse(a, alias, strlen(alias), &e), PG_EINVAL);
	assert_int_equal(pg_helm_manifest_parse(a, "kind: A\0", 8, &e), PG_EINVAL);
	memset(big, 'a', sizeof(big));
	memcpy(big, "# Source: ", 10);
	memcpy(big + sizeof(big) - 9, "\nkind: A\n", 9);
	assert_int_equal(pg_helm_manifest_parse(a, big, sizeof(big), &e), PG_EINVAL);
	json_decref(a);
}

/* Release manifests read as go-yaml reads them: a merge key or a tag beyond
 * the core schema, anywhere (value, key, mapping, sequence), is refused;
 * core tags, full or short, and "<<" as a value are not.  Other YAML Helm
 * reads (values.yaml) keeps its tags as text. */
static void
test_manifest_go_yaml(void **state)
{
	static const struct {
		const char *yaml;
		const char *msg; /* NULL: parses */
	} tab[] = {
	    {"kind: !!str Deployment\nspec: !!map {replicas: !!int 1, paused: !!bool false, "
	     "f: !!float 1.5, n: !!null ~, l: !!seq [a], v: \"<<\", w: <<}\n"
	     "x: !<tag:yaml.org,2002:str> y\n",
	     NULL},
	    {"a:\n  <<: {image: x}\n", "merge key (<<) at line 2"},
	    {"a:\n  \"<<\": {image: x}\n", "merge key (<<)"},
	    {"a:\n  !!merge <<: {image: x}\n", "merge key (<<)"},
	    {"kind: !!binary RGVwbG95bWVudA==\n", "tag \"tag:yaml.org,2002:binary\" at line 1"},
	    {"!!binary a2luZA==: Deployment\n", "tag \"tag:yaml.org,2002:binary\""},
	    {"a: !!timestamp 2001-12-14\n", "tag \"tag:yaml.org,2002:timestamp\""},
	    {"a: !!set {x: null}\n", "tag \"tag:yaml.org,2002:set\""},
	    {"a: !!omap [x: 1]\n", "tag \"tag:yaml.org,2002:omap\""},
	    {"a: !local x\n", "tag \"!local\""},
	    {"a: ! x\n", "tag \"!\""},
	    {"%TAG !! tag:evil.example,2000:\n---\na: !!str x\n",
	     "tag \"tag:evil.example,2000:str\""},
	};
	static const char bin[] =
	    "---\n# Source: w/templates/a.yaml\nkind: !!binary RGVwbG95bWVudA==\n";
	json_t *docs = NULL;
	pg_err e;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		rc = pg_helm_yaml_load_all(&docs, tab[i].yaml, strlen(tab[i].yaml), 1, 1, &e);
		if (tab[i].msg == NULL && rc != PG_OK)
			fail_msg("row %zu: %s", i, e.msg);
		if (tab[i].msg != NULL && (rc != PG_EINVAL || strstr(e.msg, tab[i].msg) == NULL))
			fail_msg("row %zu: %d %s", i, rc, rc ? e.msg : "parsed");
		json_decref(docs);
		docs = NULL;
		/* not strict: the same YAML parses, tags kept as text */
		rc = pg_helm_yaml_load_all(&docs, tab[i].yaml, strlen(tab[i].yaml), 1, 0, &e);
		if (rc != PG_OK)
			fail_msg("row %zu, not strict: %s", i, e.msg);
		json_decref(docs);
		docs = NULL;
	}
	/* through the manifest reader, with its Source line */
	docs = json_array();
	assert_int_equal(pg_helm_manifest_parse(docs, bin, strlen(bin), &e), PG_EINVAL);
	assert_non_null(strstr(e.msg, "w/templates/a.yaml"));
	assert_non_null(strstr(e.msg, "tag:yaml.org,2002:binary"));
	json_decref(docs);
}

/* Which "# Source:" paths name a rendered template of a chart: its own
 * templates, unpacked subcharts, packed ones (nested), never partials. */
static void
test_release_template_in(void **state)
{
	pg_buf inner, itgz, outer, otgz, tar;
	pg_helm_files f = {0};
	subs *sp = calloc(1, sizeof(*sp));
	char zero[1024] = {0};
	pg_err e;
	static const char *const yes[] = {"templates/a.yaml", "charts/side/templates/s.yaml",
					  "charts/db/templates/d.yaml",
					  "charts/db/charts/inner/templates/i.yaml", NULL};
	static const char *const no[] = {"templates/_h.tpl",
					 "templates/NOTES.txt",
					 "templates/missing.yaml",
					 "charts/db/templates/nope.yaml",
					 "charts/other/templates/d.yaml",
					 "Chart.yaml",
					 "charts/side/Chart.yaml",
					 "charts/db/Chart.yaml",
					 "templates/../Chart.yaml",
					 "charts//templates/a.yaml",
					 NULL};
	size_t i;

	(void)state;
	assert_non_null(sp);
	pg_buf_init(&inner, 0);
	pg_buf_init(&itgz, 0);
	pg_buf_init(&outer, 0);
	pg_buf_init(&otgz, 0);
	pg_buf_init(&tar, PG_HELM_UNTAR_MAX);
	tar_add(&inner, "db/Chart.yaml", "name: db\n", 9, '0');
	tar_add(&inner, "db/templates/d.yaml", "kind: A\n", 8, '0');
	tar_add(&inner, "db/charts/inner/Chart.yaml", "name: inner\n", 12, '0');
	tar_add(&inner, "db/charts/inner/templates/i.yaml", "kind: B\n", 8, '0');
	assert_int_equal(pg_buf_append(&inner, zero, sizeof(zero)), PG_OK);
	gzip_buf(&itgz, inner.data, inner.len);
	tar_add(&outer, "demo/Chart.yaml", chart_yaml, strlen(chart_yaml), '0');
	tar_add(&outer, "demo/templates/a.yaml", "kind: C\n", 8, '0');
	tar_add(&outer, "demo/templates/_h.tpl", "x\n", 2, '0');
	tar_add(&outer, "demo/templates/NOTES.txt", "x\n", 2, '0');
	tar_add(&outer, "demo/charts/side/Chart.yaml", "name: side\n", 11, '0');
	tar_add(&outer, "demo/charts/side/templates/s.yaml", "kind: D\n", 8, '0');
	tar_add(&outer, "demo/charts/db-1.0.0.tgz", (const char *)itgz.data, itgz.len, '0');
	assert_int_equal(pg_buf_append(&outer, zero, sizeof(zero)), PG_OK);
	gzip_buf(&otgz, outer.data, outer.len);
	assert_int_equal(pg_helm_gunzip(&tar, otgz.data, otgz.len, &e), PG_OK);
	assert_int_equal(pg_helm_untar(&f, tar.data, tar.len, &e), PG_OK);
	for (i = 0; yes[i]; i++)
		if (template_in(&f, "demo", yes[i], sp, 0, &e) != 1)
			fail_msg("%s should be a template", yes[i]);
	for (i = 0; no[i]; i++)
		if (template_in(&f, "demo", no[i], sp, 0, &e) != 0)
			fail_msg("%s should not be a template", no[i]);
	assert_int_equal(sp->n, 1); /* the packed subchart was opened once */
	subs_free(sp);
	free(sp);
	pg_helm_files_free(&f);
	pg_buf_free(&inner);
	pg_buf_free(&itgz);
	pg_buf_free(&outer);
	pg_buf_free(&otgz);
	pg_buf_free(&tar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prov_split),
	    cmocka_unit_test(test_prov_second_part_only),
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_semver_table),
	    cmocka_unit_test(test_semver_order),
	    cmocka_unit_test(test_url_resolve),
	    cmocka_unit_test(test_index_resolve),
	    cmocka_unit_test(test_yaml_depth),
	    cmocka_unit_test(test_tar_reader),
	    cmocka_unit_test(test_gunzip_bomb),
	    cmocka_unit_test(test_release_decode_and_match),
	    cmocka_unit_test(test_release_fold_keys),
	    cmocka_unit_test(test_release_bomb),
	    cmocka_unit_test(test_chart_meta),
	    cmocka_unit_test(test_manifest_parse),
	    cmocka_unit_test(test_manifest_go_yaml),
	    cmocka_unit_test(test_release_template_in),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
