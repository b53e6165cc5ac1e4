/*
 * oci/creds — registry credentials from a docker config.json (`auths`
 * entries: base64 "auth" or username/password).  Credential helpers
 * (credsStore/credHelpers) are programs we will not run from an admission
 * webhook, so they are not consulted.  Secrets are wiped once used.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "buf/buf.h"
#include "oci/oci_int.h"

/* The host part of an `auths` key: "https://host/v1/" -> "host". */
static char *
key_host(const char *key)
{
	const char *p = key, *e;

	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	e = strchr(p, '/');
	return pg_strndup(p, e ? (size_t)(e - p) : strlen(p));
}

static bool
is_docker_hub(const char *h)
{
	return strcasecmp(h, "docker.io") == 0 || strcasecmp(h, "index.docker.io") == 0 ||
	       strcasecmp(h, "registry-1.docker.io") == 0;
}

static bool
host_matches(const char *key, const char *host)
{
	char *kh = key_host(key);
	bool m;

	if (kh == NULL)
		return false;
	m = strcasecmp(kh, host) == 0 || (is_docker_hub(kh) && is_docker_hub(host));
	free(kh);
	return m;
}

int
pg_oci__docker_config_auth(char **out, const char *text, size_t len, const char *host, pg_err *err)
{
	int rc = PG_EINVAL;
	json_t *root = NULL, *auths, *entry, *v;
	json_error_t je;
	const char *key;
	unsigned char *dec = NULL;
	size_t dlen = 0;
	pg_buf b;

	*out = NULL;
	pg_buf_init(&b, 4096);
	if (len > PG_OCI_DOCKER_CONFIG_MAX)
		return pg_err_set(err, PG_ETOOBIG, "docker config larger than %zu bytes",
				  PG_OCI_DOCKER_CONFIG_MAX);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL || !json_is_object(root)) {
		rc = pg_err_set(err, PG_EINVAL, "docker config is not a JSON object (line %d: %s)",
				je.line, root ? "not an object" : je.text);
		goto out;
	}
	auths = json_object_get(root, "auths");
	if (auths == NULL) {
		rc = PG_OK;
		goto out;
	}
	if (!json_is_object(auths)) {
		rc = pg_err_set(err, PG_EINVAL, "docker config: \"auths\" is not an object");
		goto out;
	}
	json_object_foreach(auths, key, entry)
	{
		if (!host_matches(key, host))
			continue;
		if (!json_is_object(entry)) {
			rc = pg_err_set(err, PG_EINVAL,
					"docker config: entry \"%.100s\" is not an object", key);
			goto out;
		}
		if ((v = json_object_get(entry, "auth")) != NULL && json_is_string(v) &&
		    json_string_length(v) > 0) {
			if (pg_base64_decode_alloc(&dec, &dlen, json_string_value(v),
						   json_string_length(v), PG_BUF_DEFAULT_MAX,
						   PG_B64_NO_SPACE) != PG_OK ||
			    memchr(dec, ':', dlen) == NULL || memchr(dec, '\0', dlen) != NULL) {
				rc = pg_err_set(err, PG_EINVAL,
						"docker config: \"auth\" of \"%.100s\" is not "
						"base64 of user:password",
						key);
				goto out;
			}
			if ((*out = pg_strndup((char *)dec, dlen)) == NULL) {
				rc = pg_err_set(err, PG_ENOMEM, "out of memory");
				goto out;
			}
			rc = PG_OK;
			goto out;
		}
		{
			json_t *u = json_object_get(entry, "username");
			json_t *pw = json_object_get(entry, "password");

			if (json_is_string(u) && json_is_string(pw) && json_string_length(u) > 0) {
				if (strchr(json_string_value(u), ':') != NULL) {
					rc = pg_err_set(
					    err, PG_EINVAL,
					    "docker config: user name of \"%.100s\" contains ':'",
					    key);
					goto out;
				}
				if (pg_buf_printf(&b, "%s:%s", json_string_value(u),
						  json_string_value(pw)) != PG_OK ||
				    pg_buf_detach(out, NULL, &b) != PG_OK) {
					rc = pg_err_set(err, PG_ETOOBIG,
							"docker config: credentials too long");
					goto out;
				}
				rc = PG_OK;
				goto out;
			}
		}
		/* An entry without credentials (identitytoken only, say) is
		 * no credentials for us: keep looking. */
	}
	rc = PG_OK;
out:
	if (dec) {
		pg_wipe(dec, dlen);
		free(dec);
	}
	if (b.data)
		pg_wipe(b.data, b.cap);
	pg_buf_free(&b);
	json_decref(root);
	return rc;
}
