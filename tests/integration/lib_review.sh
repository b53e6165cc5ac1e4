# AdmissionReview helpers (bash).  Source after lib.sh.
#
#   mkreview OBJ.json NAMESPACE OPERATION [v1|v1beta1] [UID]
#       prints an AdmissionReview request wrapping the object, with
#       request.kind/resource derived from its apiVersion and kind;
#       OBJ.json<OLD.json (OLD in OBJ's directory) sets oldObject too
#   review_text JSON     like review_summary; when allowed without warnings
#                        and the decision is skip: "skip: <reason>"
#   malformed_reviews DIR   writes AdmissionReviews with a readable uid and a
#                        malformed object to DIR/NAME.json; prints NAME|ERE
#                        (each must be answered allowed:false, reason ~ ERE)
#   review_cases         the shared table: name|object|ns|op|version|policy|allowed|regex
#   review_summary JSON  "allowed<TAB>text" where text is status.message or the warnings
#   review_fields JSON   RV_ALLOWED, RV_TEXT (as review_text), RV_UID, RV_API, one jq

mkreview() {
	local obj=$1 ns=$2 op=$3 ver=${4:-v1} uid=${5:-$(cat /proc/sys/kernel/random/uuid)} old=/dev/null
	case $obj in *'<'*) old=$(dirname "$obj")/${obj#*<}; obj=${obj%%<*} ;; esac
	jq -c --arg ns "$ns" --arg op "$op" --arg ver "admission.k8s.io/$ver" --arg uid "$uid" \
		--slurpfile old "$old" '
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
			oldObject: (if ($old|length) > 0 then ($old[0] | .metadata.namespace = $ns) else null end),
			dryRun: false}}' "$obj"
}

review_summary() {
	jq -r '[(.response.allowed|tostring),
		(.response.status.message // ((.response.warnings // []) | join("; ")))] | @tsv' <<<"$1"
}

review_text() {
	jq -r '. as $r | [(.response.allowed|tostring),
		(.response.status.message // ((.response.warnings // []) | join("; "))
		 | if . == "" and $r.response.auditAnnotations.decision == "skip"
		   then "skip: " + ($r.response.auditAnnotations.reason // "") else . end)] | @tsv' <<<"$1"
}

# review_fields JSON: review_text's two fields and the answer's uid and
# apiVersion, read with one jq (a jq process is ~15 ms, and the table runs
# through it hundreds of times), into RV_ALLOWED, RV_TEXT, RV_UID, RV_API
# (all empty when JSON does not parse).
review_fields() {
	local sum
	sum=$(jq -r '. as $r | [(.response.allowed|tostring),
		(.response.uid // "" | tostring), (.apiVersion // "" | tostring),
		([.response.status.message // ((.response.warnings // []) | join("; "))
		 | if . == "" and $r.response.auditAnnotations.decision == "skip"
		   then "skip: " + ($r.response.auditAnnotations.reason // "") else . end] | @tsv)]
		| join("\u001f")' <<<"$1" 2>/dev/null)
	split_fields "$sum" RV_ALLOWED RV_UID RV_API RV_TEXT
}

# AdmissionReviews the parser or the extractor refuses, each with a readable
# uid: answered (HTTP 200, allowed:false, the reason), never an HTTP error.
malformed_reviews() {
	local dir=$1 pod=$FIX/objects/pod-nginx.json dep=$FIX/objects/deployment.json base
	mkdir -p "$dir"
	mk() { # NAME REGEX OBJ jq-filter
		mkreview "$3" default CREATE v1 "uid-$1" | jq -c "$4" >"$dir/$1.json"
		echo "$1|$2"
	}
	mk object-string 'request\.object is a string, not a JSON object' "$pod" '.request.object = "pod"'
	mk object-array 'request\.object is an array, not a JSON object' "$pod" '.request.object = []'
	mk object-null 'request\.object is null, not a JSON object' "$pod" '.request.object = null'
	mk object-missing 'request\.object is missing, not a JSON object' "$pod" 'del(.request.object)'
	mk containers-not-array 'spec\.containers is not an array' "$pod" '.request.object.spec.containers = {"image":"nginx"}'
	mk container-not-object 'spec\.containers\[0\] is not an object' "$pod" '.request.object.spec.containers = ["nginx"]'
	mk spec-not-object 'spec is not an object' "$pod" '.request.object.spec = "nginx"'
	mk template-not-object 'spec\.template is not an object' "$dep" '.request.object.spec.template = ["x"]'
	mk volumes-not-array 'spec\.volumes is not an array' "$pod" '.request.object.spec.volumes = {}'
	mk volume-image-not-object 'spec\.volumes\[t\]\.image is not an object' "$pod" \
		'.request.object.spec.volumes = [{"name":"t","image":"evil:1"}]'
	mk volume-reference-not-string 'spec\.volumes\[t\]\.image\.reference is not a string' "$pod" \
		'.request.object.spec.volumes = [{"name":"t","image":{"reference":["evil:1"]}}]'
	mk too-many-references 'more than 1024 references' "$pod" \
		'.request.object.spec.containers = [range(1100) | {name: "c\(.)", image: "img\(.):1"}]'
	# Past the parser: text surgery on a valid review (jq cannot write these).
	base=$(mkreview "$pod" default CREATE v1 uid-too-deep)
	{ printf '%s' "${base%\}\}}"; printf ',"deep":'; printf '[%.0s' $(seq 3000); printf ']%.0s' $(seq 3000); printf '}}'; } >"$dir/too-deep.json"
	echo "too-deep|nests deeper than 2048 levels"
	base=$(mkreview "$pod" default CREATE v1 uid-arena)
	{ printf '%s' "${base%\}\}}"; printf ',"wide":['; head -c 2400000 /dev/zero | tr '\0' ' ' | sed 's/ /[],/g' | head -c 2400000; printf '[]]}}'; } >"$dir/arena.json"
	echo "arena|needs more memory to parse than its bound"
	base=$(mkreview "$pod" default CREATE v1 uid-duplicate-key)
	printf '%s' "$base" | sed 's/"spec":{/"spec":{"containers":[],/' >"$dir/duplicate-key.json"
	echo "duplicate-key|object cannot be read: duplicate object key"
	base=$(mkreview "$pod" default CREATE v1 uid-huge-number)
	printf '%s' "$base" | sed 's/"spec":{/"spec":{"priority":123456789012345678901234567890,/' >"$dir/huge-number.json"
	echo "huge-number|object cannot be read: too big integer"
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
delete-allowed|pod-nginx.json|default|DELETE|v1|enforce|true|^skip: operation not checked$
plain-secret|secret-plain.json|default|CREATE|v1|enforce|true|^$
v1beta1|pod-nginx.json|default|CREATE|v1beta1|enforce|false|no policy rule matches docker\.io/library/nginx:latest
audit-mode|pod-nginx.json|default|CREATE|v1|audit|true|would deny docker\.io/library/nginx:latest: no policy rule matches
argo-unmatched-repo|argo-app-unmatched.json|argocd|CREATE|v1|enforce|false|no policy rule matches https://charts\.elsewhere\.example\.org/mystery
argo-multi-sources|argo-app-multi.json|argocd|CREATE|v1|enforce|false|no policy rule matches oci://ghcr\.io/unknown/charts/x:1\.0\.0
flux-oci-repository-unmatched|flux-ocirepository.json|flux-system|CREATE|v1|enforce|false|no policy rule matches oci://ghcr\.io/stefanprodan/charts/podinfo:6\.5\.0
flux-helmrepository-oci-allowed|flux-helmrepository-oci.json|flux-system|CREATE|v1|enforce|true|^$
image-volume-unmatched|pod-image-volume.json|default|CREATE|v1|enforce|false|docker\.io/evil/tools:1 deny: no policy rule matches
image-volume-allowed|pod-image-volume-pause.json|default|CREATE|v1|enforce|true|^$
argo-rollout-generic|argo-rollout.json|default|CREATE|v1|enforce|false|Rollout default/web: docker\.io/library/nginx:1\.25 deny: no policy rule matches
knative-service-generic|knative-service.json|default|CREATE|v1|enforce|false|ghcr\.io/knative/helloworld-go:latest deny: no policy rule matches
deployment-other-group|deployment-other-group.json|default|CREATE|v1|enforce|false|docker\.io/library/nginx:1\.25 deny
kind-not-checked|configmap.json|default|CREATE|v1|enforce|true|^skip: kind not checked$
update-scale-down|replicaset-scaled.json<replicaset.json|default|UPDATE|v1|enforce|true|^skip: references unchanged$
update-image-changed|replicaset-new-image.json<replicaset.json|default|UPDATE|v1|enforce|false|docker\.io/library/nginx:1\.26 deny: no policy rule matches
update-no-old-object|replicaset-scaled.json|default|UPDATE|v1|enforce|false|docker\.io/library/nginx:1\.25 deny
update-finalizer-removed|pod-terminating.json<pod-terminating-finalizers.json|default|UPDATE|v1|enforce|true|^skip: references unchanged$
update-ephemeral-on-terminating|pod-terminating-debug.json<pod-terminating.json|default|UPDATE|v1|enforce|false|docker\.io/library/busybox:1\.36 deny: no policy rule matches
update-release-relabel|secret-release-relabel.json<secret-release.json|default|UPDATE|v1|enforce|true|^skip: references unchanged$
update-release-changed|secret-release-changed.json<secret-release.json|default|UPDATE|v1|enforce|false|deny
CASES
}
