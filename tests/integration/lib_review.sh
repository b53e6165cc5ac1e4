# AdmissionReview helpers (bash).  Source after lib.sh.
#
#   mkreview OBJ.json NAMESPACE OPERATION [v1|v1beta1] [UID]
#       prints an AdmissionReview request wrapping the object, with
#       request.kind/resource derived from its apiVersion and kind
#   review_cases         the shared table: name|object|ns|op|version|policy|allowed|regex
#   review_summary JSON  "allowed<TAB>text" where text is status.message or the warnings

mkreview() {
	local obj=$1 ns=$2 op=$3 ver=${4:-v1} uid=${5:-$(cat /proc/sys/kernel/random/uuid)}
	jq -c --arg ns "$ns" --arg op "$op" --arg ver "admission.k8s.io/$ver" --arg uid "$uid" '
		(.apiVersion | split("/")) as $gv
		| {apiVersion: $ver, kind: "AdmissionReview",
		   request: {uid: $uid,
			kind: {group: (if ($gv|length) == 2 then $gv[0] else "" end),
			       version: $gv[-1], kind: .kind},
			resource: {group: (if ($gv|length) == 2 then $gv[0] else "" end),
			       version: $gv[-1], resource: ((.kind|ascii_downcase) + "s")},
			name: .metadata.name, namespace: $ns, operation: $op,
			userInfo: {username: "kubernetes-admin", groups: ["system:masters"]},
			object: (if $op == "DELETE" then null else (.metadata.namespace = $ns) end),
			oldObject: null, dryRun: false}}' "$obj"
}

review_summary() {
	jq -r '[(.response.allowed|tostring),
		(.response.status.message // ((.response.warnings // []) | join("; ")))] | @tsv' <<<"$1"
}

# name|object|namespace|operation|version|policy dir|want allowed|regex (ERE) on the text
review_cases() {
	cat <<'CASES'
unmatched-image|pod-nginx.json|default|CREATE|v1|enforce|false|no policy rule matches docker\.io/library/nginx:latest
exempt-namespace|pod-nginx.json|kube-system|CREATE|v1|enforce|true|^$
allow-unsigned|pod-pause.json|default|CREATE|v1|enforce|true|^$
init-container|pod-init.json|default|CREATE|v1|enforce|false|docker\.io/evil/init:1 deny: no policy rule matches
ephemeral-container|pod-ephemeral.json|default|CREATE|v1|enforce|false|docker\.io/library/busybox:1\.36 deny: no policy rule matches
cronjob-template|cronjob.json|default|CREATE|v1|enforce|false|quay\.io/acme/backup:2\.0 deny: no policy rule matches
deployment|deployment.json|default|UPDATE|v1|enforce|false|docker\.io/library/nginx:1\.25 deny
job|job.json|default|CREATE|v1|enforce|false|docker\.io/library/busybox:1\.36 deny
multi-container|pod-multi.json|default|CREATE|v1|enforce|false|fluent/fluent-bit:2\.2 deny.*registry\.k8s\.io/pause:3\.9 allow-unverified
invalid-reference|pod-invalid.json|default|CREATE|v1|enforce|false|invalid image reference
require-digest|pod-pinned-tag.json|default|CREATE|v1|enforce|false|rule pinned requires a digest
verification-needed|pod-apps.json|default|CREATE|v1|enforce|false|registry\.example\.com/apps/web:1\.0 deny
delete-allowed|pod-nginx.json|default|DELETE|v1|enforce|true|^$
plain-secret|secret-plain.json|default|CREATE|v1|enforce|true|^$
v1beta1|pod-nginx.json|default|CREATE|v1beta1|enforce|false|no policy rule matches docker\.io/library/nginx:latest
audit-mode|pod-nginx.json|default|CREATE|v1|audit|true|would deny docker\.io/library/nginx:latest: no policy rule matches
argo-unmatched-repo|argo-app-unmatched.json|argocd|CREATE|v1|enforce|false|no policy rule matches https://charts\.elsewhere\.example\.org/mystery
argo-multi-sources|argo-app-multi.json|argocd|CREATE|v1|enforce|false|no policy rule matches oci://ghcr\.io/unknown/charts/x:1\.0\.0
flux-oci-repository-unmatched|flux-ocirepository.json|flux-system|CREATE|v1|enforce|false|no policy rule matches oci://ghcr\.io/stefanprodan/charts/podinfo:6\.5\.0
flux-helmrepository-oci-allowed|flux-helmrepository-oci.json|flux-system|CREATE|v1|enforce|true|^$
CASES
}
