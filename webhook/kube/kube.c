/*
 * kube — GET of Flux source objects through the API server with the
 * service-account token.  Read-only, bounded, within the caller's deadline.
 */
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A projected token is a JWT of a few KiB. */
#define TOKEN_MAX ((size_t)64 << 10)

static const char *
plural(const char *kind)
{
	if (strcmp(kind, "HelmRepository") == 0)
		return "helmrepositories";
	if (strcmp(kind, "HelmChart") == 0)
		return "helmcharts";
	if (strcmp(kind, "OCIRepository") == 0)
		return "ocirepositories";
	return NULL;
}

/* Kubernetes names: DNS labels/subdomains; anything else never reaches a URL. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return 0;
	/* a DNS subdomain starts and ends with an alphanumeric: never "." or
	 * "..", which the URL would turn into another path */
	if (s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-' || strstr(s, ".."))
		return 0;
	return 1;
}

int
pg_kube_get_source(json_t **out, pg_fetch *f, const char *kind, const char *ns, const char *name,
		   int64_t deadline, pg_err *err)
{
	static const char *const versions[] = {"v1", "v1beta2"};
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *tokf = getenv("PROVGATE_KUBE_TOKEN_FILE");
	const char *caf = getenv("PROVGATE_KUBE_CA_FILE");
	const char *pl = plural(kind);
	char *token = NULL, url[1024], auth[TOKEN_MAX + 32];
	const char *hdrs[3] = {auth, "Accept: application/json", NULL};
	pg_fetch_opts o = {0};
	pg_fetch_resp *r = NULL;
	size_t tl = 0, i;
	json_error_t je;
	int rc = PG_EINTERNAL;

	*out = NULL;
	if (pl == NULL || !name_ok(ns) || !name_ok(name))
		return pg_err_set(err, PG_EINVAL, "invalid Flux source reference %s/%s/%s", kind,
				  ns, name);
	if (host == NULL || host[0] == '\0')
		return pg_err_set(err, PG_EUNAVAIL,
				  "cannot look up %s %s/%s: not running in a cluster "
				  "(KUBERNETES_SERVICE_HOST is not set)",
				  kind, ns, name);
	if (pg_buf_read_file(&token, &tl, tokf ? tokf : SA_DIR "/token", TOKEN_MAX, err) != PG_OK)
		return pg_err_wrap(err, "cannot look up %s %s/%s: service account token: ", kind,
				   ns, name);
	while (tl > 0 && (token[tl - 1] == '\n' || token[tl - 1] == '\r' || token[tl - 1] == ' '))
		token[--tl] = '\0';
	(void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	o.ca_file = caf ? caf : SA_DIR "/ca.crt";
	o.ca_only = true; /* the cluster's CA, never a public one */
	o.max_bytes = PG_KUBE_OBJECT_MAX;
	o.deadline = deadline;
	o.headers = hdrs;
	o.max_redirects = -1;
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		(void)snprintf(
		    url, sizeof(url),
		    "https://%s%s%s:%s/apis/source.toolkit.fluxcd.io/%s/namespaces/%s/%s/%s",
		    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
		    port && port[0] ? port : "443", versions[i], ns, pl, name);
		pg_fetch_resp_free(r);
		r = NULL;
		rc = pg_fetch_do(&r, f, url, &o, err);
		if (rc != PG_OK) {
			pg_err_wrap(err, "cannot look up %s %s/%s in the Kubernetes API: ", kind,
				    ns, name);
			goto out;
		}
		if (r->status != 404)
			break;
	}
	if (r->status == 404) {
		rc = pg_err_set(err, PG_ENOTFOUND, "%s %s/%s not found", kind, ns, name);
	} else if (r->status == 401 || r->status == 403) {
		rc = pg_err_set(
		    err, PG_EDENIED,
		    "the Kubernetes API refused to show %s %s/%s (HTTP %ld): check provgate's RBAC",
		    kind, ns, name, r->status);
	} else if (r->status != 200) {
		rc = pg_err_set(err, PG_EFETCH, "the Kubernetes API answered HTTP %ld for %s %s/%s",
				r->status, kind, ns, name);
	} else if ((*out = json_loadb(r->body, r->len, 0, &je)) == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = pg_err_set(err, PG_EFETCH, "the Kubernetes API sent invalid JSON for %s %s/%s",
				kind, ns, name);
	} else {
		rc = PG_OK;
	}
out:
	if (token) {
		memset(token, 0, tl);
		free(token);
	}
	memset(auth, 0, sizeof(auth));
	pg_fetch_resp_free(r);
	return rc;
}
