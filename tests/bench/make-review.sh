#!/bin/sh
# Builds the benchmark's ~5 KB Deployment AdmissionReview from real kubectl
# output (a Deployment with realistic env, probes, resources, volumes).
set -eu
kubectl create deployment checkout --image=registry.k8s.io/pause:3.9 --replicas=3 \
	--dry-run=client -o json | jq '
	.metadata.labels += {"app.kubernetes.io/name":"checkout","app.kubernetes.io/part-of":"shop","app.kubernetes.io/version":"4.2.1"}
	| .spec.template.spec.containers[0] += {
		ports: [{containerPort: 8080, name: "http"}, {containerPort: 9090, name: "metrics"}],
		env: [range(0; 40) | {name: ("SETTING_\(.)"), value: ("value-for-setting-number-\(.)-with-some-text")}],
		resources: {requests: {cpu: "100m", memory: "128Mi"}, limits: {cpu: "1", memory: "512Mi"}},
		readinessProbe: {httpGet: {path: "/ready", port: 8080}, periodSeconds: 5},
		livenessProbe: {httpGet: {path: "/live", port: 8080}, periodSeconds: 10},
		volumeMounts: [{name: "config", mountPath: "/etc/checkout"}, {name: "tmp", mountPath: "/tmp"}],
		securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: ["ALL"]}}}
	| .spec.template.spec.containers += [{name: "proxy", image: "registry.k8s.io/pause:3.9",
		args: ["--listen=:8443", "--upstream=http://127.0.0.1:8080", "--tls-cert=/tls/tls.crt", "--tls-key=/tls/tls.key"],
		ports: [{containerPort: 8443, name: "https"}]}]
	| .spec.template.spec.initContainers = [{name: "migrate", image: "registry.k8s.io/pause:3.9", args: ["migrate", "--to=latest"]}]
	| .spec.template.spec.volumes = [{name: "config", configMap: {name: "checkout"}}, {name: "tmp", emptyDir: {}}]
	| .spec.template.metadata.annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}' \
	| jq -c --arg uid 3f1e2d4c-5b6a-4789-9abc-def012345678 '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {uid: $uid, kind: {group: "apps", version: "v1", kind: "Deployment"},
		resource: {group: "apps", version: "v1", resource: "deployments"},
		name: .metadata.name, namespace: "shop", operation: "CREATE",
		userInfo: {username: "system:serviceaccount:argocd:argocd-application-controller", groups: ["system:serviceaccounts", "system:authenticated"]},
		object: (.metadata.namespace = "shop"), oldObject: null, dryRun: false,
		options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions", fieldManager: "argocd-controller"}}}'
