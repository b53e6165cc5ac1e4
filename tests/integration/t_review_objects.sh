#!/bin/bash
# `provgate review` on what operators have at hand (issue 15.5): a plain
# object in YAML or JSON (wrapped as a CREATE AdmissionReview, like
# `kyverno apply --resource`), and a List (`kubectl get pods,deploy -A -o
# json`) answered with one line per object and a summary — the audit to run
# before switching a policy from audit to enforce.  Real registry, real
# signatures; an AdmissionReview input still behaves as before.
# tsan: skip (only one-threaded CLI commands: nothing for ThreadSanitizer to find)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"
. "$(dirname "$0")/lib_review.sh"
. "$(dirname "$0")/lib_server.sh"
. "$(dirname "$0")/lib_ops.sh"

[ -x /usr/bin/docker-registry ] || { skip "t_review_objects" "docker-registry not installed"; exit 0; }
export DOCKER_CONFIG="$T/nocfg"
mkdir -p "$DOCKER_CONFIG" "$T/pol"
ops_registry || { notok "registry with signed images" "$(tail -3 "$T"/registry-*.err 2>/dev/null)"; exit 1; }
ops_policy enforce a | put "$T/pol/policy.yaml"
S="$REG/app/signed:1"
O="$REG/app/other:1"
rv() { out=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" "$@" 2>"$T/rv.err"); rc=$?; }

# A plain Pod in YAML, as `kubectl get pod -o yaml` prints it.
cat >"$T/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: web
      image: $S
      ports:
        - containerPort: 8080
YAML
rv "$T/pod.yaml"
expect_eq "plain Pod YAML: wrapped as CREATE in its namespace, allowed (exit 0)" \
	"$rc $(jq -r '[.response.allowed, .response.auditAnnotations.decision] | join(" ")' <<<"$out")" "0 true allow"
expect_eq "plain Pod YAML: log line names namespace, name, operation" \
	"$(jq -r '[.namespace, .name, .operation, .kind] | join(" ")' "$T/rv.err")" "shop web CREATE Pod"
sed "s|$S|$O|" "$T/pod.yaml" >"$T/bad.yaml"
rv "$T/bad.yaml"
expect_eq "plain Pod YAML with an untrusted signature: denied (exit 1)" \
	"$rc $(jq -r .response.allowed <<<"$out")" "1 false"
# JSON, from stdin, with no namespace: lands in "default"
jq -n --arg i "$S" '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "d"},
	spec: {template: {spec: {containers: [{name: "c", image: $i}]}}}}' >"$T/dep.json"
out=$("$PG" review --policy "$T/pol" --ca-file "$PKI/ca.pem" - <"$T/dep.json" 2>"$T/rv.err")
rc=$?
expect_eq "plain Deployment JSON on stdin: allowed, namespace default" \
	"$rc $(jq -r .response.allowed <<<"$out") $(jq -r .namespace "$T/rv.err")" "0 true default"

# A List: one line per object, a summary, exit 1 when anything is denied.
jq -n --arg s "$S" --arg o "$O" '{apiVersion: "v1", kind: "List", items: [
	{apiVersion: "v1", kind: "Pod", metadata: {name: "good", namespace: "shop"},
	 spec: {containers: [{name: "c", image: $s}]}},
	{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "bad", namespace: "shop"},
	 spec: {template: {spec: {containers: [{name: "c", image: $o}]}}}},
	{apiVersion: "v1", kind: "Pod", metadata: {name: "sys", namespace: "kube-system"},
	 spec: {containers: [{name: "c", image: $o}]}},
	{apiVersion: "v1", kind: "ConfigMap", metadata: {name: "cm", namespace: "shop"}, data: {}}]}' >"$T/list.json"
rv "$T/list.json"
expect_eq "List: exit 1 (one object would be denied)" "$rc" "1"
expect_eq "List: one line per object, then the summary" "$(wc -l <<<"$out")" "5"
expect_match "List: the allowed Pod" "$(sed -n 1p <<<"$out")" "^allow +Pod shop/good: "
expect_match "List: the denied Deployment, with its reason" "$(sed -n 2p <<<"$out")" \
	"^deny +Deployment shop/bad: provgate denied .*$REG/app/other"
expect_match "List: the exempt namespace" "$(sed -n 3p <<<"$out")" "^exempt +Pod kube-system/sys: "
expect_match "List: a kind that is not checked is not counted as allowed" "$(sed -n 4p <<<"$out")" "^[a-z-]+ +ConfigMap shop/cm: "
# A kind provgate does not read is "allow" (no references) on builds before
# issue 10.2's "skip", "skip" after: counted where its label says.
cmlabel=$(sed -n 4p <<<"$out" | awk '{print $1}')
if [ "$cmlabel" = allow ]; then wa=2 ws=1; else wa=1 ws=2; fi
expect_eq "List: summary" "$(sed -n 5p <<<"$out")" \
	"4 objects: $wa allowed, 1 denied or would be denied, $ws skipped or exempt"
# near miss: the same List without the bad Deployment passes (exit 0)
jq 'del(.items[1])' "$T/list.json" >"$T/list-ok.json"
rv "$T/list-ok.json"
expect_eq "List with nothing denied: exit 0" "$rc $(tail -1 <<<"$out")" \
	"0 3 objects: $wa allowed, 0 denied or would be denied, $ws skipped or exempt"
# A PodList from kubectl works the same (kind ends in List)
jq '.kind = "PodList" | .items |= [.[0]]' "$T/list.json" >"$T/podlist.json"
rv "$T/podlist.json"
expect_eq "PodList: one line and the summary" "$rc $(tail -1 <<<"$out")" \
	"0 1 object: 1 allowed, 0 denied or would be denied, 0 skipped or exempt"

# An AdmissionReview still answers as before; garbage is a usage error.
pod_json ar "$S" >"$T/ar.json"
mkreview "$T/ar.json" default CREATE v1 ar-1 >"$T/ar.review"
rv "$T/ar.review"
expect_eq "AdmissionReview input unchanged (uid echoed)" "$rc $(jq -r .response.uid <<<"$out")" "0 ar-1"
printf 'just: [some, yaml]\n' >"$T/junk.yaml"
rv "$T/junk.yaml"
expect_match "neither an AdmissionReview nor an object: exit 2, says why" "$rc $(cat "$T/rv.err")" \
	"^2 Error: .*nor a Kubernetes object or List"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}' >"$T/noreq.json"
rv "$T/noreq.json"
expect_match "a broken AdmissionReview is not taken for an object: exit 2" "$rc $(cat "$T/rv.err")" "^2 Error: .*no request"
