/*
 * helm/tar — a chart archive unpacked in memory: bounded gunzip (zlib) and a
 * small tar reader (ustar, pax 'x' path/size records, GNU 'L' long names).
 * Only regular files are kept; links, devices and directories are skipped.
 * Every size is checked before it is used: total and per-file bounds, file
 * count, header checksums.  Never writes to disk.
 */
#include "helm/helm_int.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512
/* A path inside a chart archive (pax may carry long ones; Helm's own
 * limit for a chart file path is far below this). */
#define PATH_MAX_LEN 4096
/* pax extended header records we are willing to read. */
#define PAX_MAX ((size_t)64 << 10)

int
pg_helm_gunzip(pg_buf *out, const unsigned char *src, size_t len, pg_err *err)
{
	z_stream z;
	unsigned char chunk[16384];
	int zr, rc = PG_OK;

	memset(&z, 0, sizeof(z));
	if (len > UINT32_MAX)
		return pg_err_set(err, PG_ETOOBIG, "compressed data too large");
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return pg_err_set(err, PG_ENOMEM, "out of memory");
	z.next_in = (unsigned char *)(uintptr_t)src;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = pg_err_set(err, PG_EINVAL, "invalid gzip data: %s",
					z.msg ? z.msg : "corrupt stream");
			break;
		}
		/* Refuse as soon as the bound is passed: a bomb never expands
		 * further than one chunk past it. */
		if ((rc = pg_buf_append(out, chunk, sizeof(chunk) - z.avail_out)) != PG_OK) {
			rc = rc == PG_ETOOBIG
				 ? pg_err_set(err, rc, "decompressed data larger than %zu bytes",
					      out->max)
				 : pg_err_set(err, rc, "out of memory");
			break;
		}
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			rc = pg_err_set(err, PG_EINVAL, "invalid gzip data: truncated");
			break;
		}
	} while (zr != Z_STREAM_END);
	(void)inflateEnd(&z);
	return rc;
}

void
pg_helm_files_free(pg_helm_files *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].data);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

const pg_helm_file *
pg_helm_files_get(const pg_helm_files *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return &f->v[i];
	return NULL;
}

static int
octal(const unsigned char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80)
		return -1; /* base-256 sizes are for files far past our bounds */
	while (i < n && (p[i] == ' ' || p[i] == '\0'))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return -1;
		v = (v << 3) | (uint64_t)(p[i] - '0');
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

static int
checksum_ok(const unsigned char *h)
{
	uint64_t want;
	unsigned long sum = 0;
	size_t i;

	if (octal(h + 148, 8, &want) != 0)
		return 0;
	for (i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

/* Normalised copy of a member path: "./" and leading "/" removed; NULL
 * (and *bad set) for "..", empty or over-long paths. */
static char *
clean_path(const char *p, size_t n, int *bad)
{
	pg_buf b;
	char *out = NULL;
	size_t i = 0;

	*bad = 0;
	pg_buf_init(&b, PATH_MAX_LEN);
	while (i < n) {
		size_t s = i, l;

		while (i < n && p[i] != '/')
			i++;
		l = i - s;
		if (i < n)
			i++;
		if (l == 0 || (l == 1 && p[s] == '.'))
			continue;
		if (l == 2 && p[s] == '.' && p[s + 1] == '.') {
			*bad = 1;
			goto out;
		}
		if ((b.len && pg_buf_puts(&b, "/") != PG_OK) ||
		    pg_buf_append(&b, p + s, l) != PG_OK) {
			*bad = 1;
			goto out;
		}
	}
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		*bad = 1;
		goto out;
	}
	(void)pg_buf_detach(&out, NULL, &b);
out:
	pg_buf_free(&b);
	return out;
}

/* pax records "LEN key=value\n": take path and size. */
static int
pax_parse(const unsigned char *d, size_t n, char **path, uint64_t *size, int *has_size)
{
	size_t i = 0;

	while (i < n) {
		size_t len = 0, j = i, k;

		while (j < n && d[j] >= '0' && d[j] <= '9' && len < n)
			len = len * 10 + (size_t)(d[j++] - '0');
		if (j >= n || d[j] != ' ' || len == 0 || len > n - i || d[i + len - 1] != '\n')
			return -1;
		j++;
		for (k = j; k < i + len - 1 && d[k] != '='; k++)
			;
		if (k >= i + len - 1)
			return -1;
		if (k - j == 4 && memcmp(d + j, "path", 4) == 0) {
			free(*path);
			if ((*path = pg_strndup((const char *)d + k + 1, i + len - 1 - (k + 1))) ==
			    NULL)
				return -1;
		} else if (k - j == 4 && memcmp(d + j, "size", 4) == 0) {
			uint64_t v = 0;
			size_t m;

			for (m = k + 1; m < i + len - 1; m++) {
				if (d[m] < '0' || d[m] > '9' || v > UINT64_MAX / 10 - 10)
					return -1;
				v = v * 10 + (uint64_t)(d[m] - '0');
			}
			*size = v;
			*has_size = 1;
		}
		i += len;
	}
	return 0;
}

int
pg_helm_untar(pg_helm_files *out, const unsigned char *t, size_t len, pg_err *err)
{
	size_t off = 0, total = 0, cap = 0;
	char *longname = NULL, *paxpath = NULL, *name = NULL;
	uint64_t paxsize = 0;
	int has_paxsize = 0, rc = PG_OK, bad;

	memset(out, 0, sizeof(*out));
	while (off + BLOCK <= len) {
		const unsigned char *h = t + off;
		uint64_t size;
		size_t padded, i, nl;
		char type = (char)h[156];
		char raw[256 + 2];

		for (i = 0; i < BLOCK && h[i] == 0; i++)
			;
		if (i == BLOCK)
			break; /* end-of-archive block */
		if (!checksum_ok(h) || octal(h + 124, 12, &size) != 0) {
			rc = pg_err_set(err, PG_EINVAL, "invalid tar header at offset %zu", off);
			goto out;
		}
		if (has_paxsize)
			size = paxsize;
		if (size > PG_HELM_UNTAR_MAX || size > len - off - BLOCK) {
			rc = pg_err_set(err, PG_EINVAL,
					"tar member at offset %zu runs past the archive", off);
			goto out;
		}
		padded = (size_t)((size + BLOCK - 1) / BLOCK * BLOCK);
		off += BLOCK;
		if (type == 'x' || type == 'L') {
			if (size > PAX_MAX) {
				rc = pg_err_set(err, PG_ETOOBIG, "tar extended header too large");
				goto out;
			}
			if (type == 'x') {
				if (pax_parse(t + off, (size_t)size, &paxpath, &paxsize,
					      &has_paxsize) != 0) {
					rc = pg_err_set(err, PG_EINVAL,
							"invalid pax header at offset %zu", off);
					goto out;
				}
			} else {
				free(longname);
				nl = strnlen((const char *)t + off, (size_t)size);
				if ((longname = pg_strndup((const char *)t + off, nl)) == NULL)
					goto nomem;
			}
			off += padded;
			continue;
		}
		if (type == '0' || type == '\0' || type == '7') {
			if (paxpath || longname) {
				name = clean_path(paxpath ? paxpath : longname,
						  strlen(paxpath ? paxpath : longname), &bad);
			} else {
				size_t pl = 0, bl = strnlen((const char *)h, 100);

				if (memcmp(h + 257, "ustar", 5) == 0)
					pl = strnlen((const char *)h + 345, 155);
				memcpy(raw, h + 345, pl);
				if (pl)
					raw[pl++] = '/';
				memcpy(raw + pl, h, bl);
				name = clean_path(raw, pl + bl, &bad);
			}
			if (name == NULL) {
				rc = bad ? pg_err_set(err, PG_EINVAL,
						      "chart archive holds an illegal path")
					 : pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
			if (size > PG_HELM_UNTAR_FILE_MAX || total + size > PG_HELM_UNTAR_MAX ||
			    out->n >= PG_HELM_UNTAR_FILES_MAX) {
				rc = pg_err_set(err, PG_ETOOBIG,
						"chart archive too large when unpacked (%s)", name);
				goto out;
			}
			if (out->n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				pg_helm_file *nv = realloc(out->v, nc * sizeof(*nv));

				if (nv == NULL)
					goto nomem;
				out->v = nv;
				cap = nc;
			}
			out->v[out->n].name = name;
			out->v[out->n].len = (size_t)size;
			if ((out->v[out->n].data = malloc((size_t)size + 1)) == NULL) {
				out->v[out->n].name = NULL;
				goto nomem;
			}
			memcpy(out->v[out->n].data, t + off, (size_t)size);
			out->v[out->n].data[size] = 0;
			out->n++;
			name = NULL;
			total += (size_t)size;
		}
		/* Anything else (directories, links, devices, 'g'): skipped. */
		off += padded;
		free(longname);
		free(paxpath);
		longname = paxpath = NULL;
		has_paxsize = 0;
	}
	goto out;
nomem:
	rc = pg_err_set(err, PG_ENOMEM, "out of memory");
out:
	free(name);
	free(longname);
	free(paxpath);
	if (rc != PG_OK)
		pg_helm_files_free(out);
	return rc;
}
