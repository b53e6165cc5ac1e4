{{/*
Helpers of the provgate chart.  Every object is named provgate.fullname:
the release name unless fullnameOverride is set, so installing release
"provgate" in namespace "provgate" gives the Service DNS name
provgate.provgate.svc that certs/gen-certs.sh uses.
*/}}

{{/* The name of every object of the release. */}}
{{- define "provgate.fullname" -}}
{{- if .Values.fullnameOverride }}{{ .Values.fullnameOverride }}{{ else }}{{ .Release.Name }}{{ end }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "provgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.name }}{{ .Values.serviceAccount.name }}{{ else }}{{ include "provgate.fullname" . }}{{ end }}
{{- end }}

{{/* Labels that select the provgate pods (must never change after install). */}}
{{- define "provgate.selectorLabels" -}}
app.kubernetes.io/name: provgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the chart (the standard Helm set). */}}
{{- define "provgate.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{ include "provgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: admission-webhook
app.kubernetes.io/part-of: provgate
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Namespaces never sent to provgate: its own, the excluded list, and
cert-manager's when cert-manager issues the serving certificate (a webhook
that covers cert-manager could never get its certificate renewed). */}}
{{- define "provgate.namespaceSelector" -}}
{{- /* provgate's own namespace is never checked (its pods must start
without it): the namespace workloads use by default must not be it. */ -}}
{{- if eq .Release.Namespace "default" }}
{{- required "install provgate into a namespace of its own (helm install -n provgate --create-namespace): the release namespace is excluded from admission, and every workload in namespace default would run unchecked" nil }}
{{- end }}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        - {{ .Release.Namespace }}
        {{- range .Values.webhook.excludedNamespaces }}
        - {{ . }}
        {{- end }}
        {{- if .Values.certManager.enabled }}
        - {{ .Values.certManager.namespace }}
        {{- end }}
{{- end }}

{{/* Makes a webhook configuration a post-install/post-upgrade hook: Helm
(with --wait) creates it only once the Deployment is ready, so a broken
first install or upgrade never rejects objects cluster-wide. */}}
{{- define "provgate.activation" -}}
{{- if .Values.webhook.activateAfterReady -}}
helm.sh/hook: post-install,post-upgrade
helm.sh/hook-delete-policy: before-hook-creation
{{- end }}
{{- end }}
