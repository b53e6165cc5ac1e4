{{/*
Helpers of the provgate chart.  Deliberately few: every object is named after
the release, so installing release "provgate" in namespace "provgate" gives
the Service DNS name provgate.provgate.svc that certs/gen-certs.sh uses.
*/}}

{{/* Labels that select the provgate pods (must never change after install). */}}
{{- define "provgate.selectorLabels" -}}
app.kubernetes.io/name: provgate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the chart. */}}
{{- define "provgate.labels" -}}
{{ include "provgate.selectorLabels" . }}
app.kubernetes.io/part-of: provgate
app.kubernetes.io/managed-by: Helm
{{- end }}
