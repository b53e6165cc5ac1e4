/*
 * kube — the little of the Kubernetes API provgate reads: Flux source
 * objects (HelmRepository, HelmChart, OCIRepository) named by a HelmRelease
 * or HelmChart, with the pod's service account.
 *
 * Where the API is: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT (set
 * by the kubelet in every pod).  Credentials: the projected service-account
 * token and CA, read at each call (tokens rotate); paths overridable with
 * PROVGATE_KUBE_TOKEN_FILE and PROVGATE_KUBE_CA_FILE.  The API server's
 * address comes from the pod's environment, never from an admitted object,
 * so the policy's host guard does not apply to it.
 */
#ifndef PG_KUBE_H
#define PG_KUBE_H

#include <stdint.h>

#include <jansson.h>

#include "err/err.h"
#include "fetch/fetch.h"

/* Objects we read are small; 1 MiB is far above any HelmRepository. */
#define PG_KUBE_OBJECT_MAX ((size_t)1 << 20)

/*
 * GET a namespaced Flux source object: kind is "HelmRepository",
 * "HelmChart" or "OCIRepository".  Tries the v1 API, then v1beta2.
 * *out is the object (json_decref).  PG_EUNAVAIL when not in a cluster,
 * PG_ENOTFOUND for 404, PG_EFETCH / PG_ETIMEOUT when the API does not
 * answer, PG_EDENIED for 401/403 (RBAC).
 */
int pg_kube_get_source(json_t **out, pg_fetch *f, const char *kind, const char *ns,
		       const char *name, int64_t deadline, pg_err *err);

#endif
