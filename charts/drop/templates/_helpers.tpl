{{/*
The shape Drop is installed in: knative or standalone. auto asks the cluster (through Helm's
discovery of its API versions) whether Knative Serving and Eventing are there.
*/}}
{{- define "drop.mode" -}}
{{- $mode := .Values.mode | default "auto" -}}
{{- if eq $mode "auto" -}}
{{- if and (.Capabilities.APIVersions.Has "serving.knative.dev/v1") (.Capabilities.APIVersions.Has "sources.knative.dev/v1") -}}
knative
{{- else -}}
standalone
{{- end -}}
{{- else if or (eq $mode "knative") (eq $mode "standalone") -}}
{{- $mode -}}
{{- else -}}
{{- fail (printf "mode must be auto, knative or standalone, not %q" $mode) -}}
{{- end -}}
{{- end }}

{{/* Labels on every object the chart creates, beside the app.kubernetes.io/name and component of config/. */}}
{{- define "drop.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: drop
{{- end }}

{{/* The one image every function runs. */}}
{{- define "drop.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end }}

{{/* The standalone runner's ServiceAccount. */}}
{{- define "drop.standaloneServiceAccount" -}}
{{- .Values.serviceAccount.name | default "drop-standalone" -}}
{{- end }}

{{/*
What must hold before anything is created; rendered by templates/validate.yaml, so that
`helm install` and `helm template` stop with the reason.
*/}}
{{- define "drop.validate" -}}
{{- if not .Values.image.repository -}}
{{- fail `image.repository is not set, and no Drop image is published. Build the image and push it to a registry your nodes can pull from, then install with it:
  podman build -f Containerfile -t registry.example.com/drop:0.1.0 .   # or docker build, in a checkout of Drop
  podman push registry.example.com/drop:0.1.0
  helm install drop charts/drop -n drop-system --create-namespace --set image.repository=registry.example.com/drop --set image.tag=0.1.0` -}}
{{- end -}}
{{- if ne .Release.Namespace "drop-system" -}}
{{- fail (printf "Drop runs in the namespace drop-system (its ClusterRoleBindings, Leases and pull pods are there), not %s: helm install … -n drop-system --create-namespace" .Release.Namespace) -}}
{{- end -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) -}}
{{- fail "serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the Service drop-metrics" -}}
{{- end -}}
{{- $_ := include "drop.mode" . -}}
{{- end }}
