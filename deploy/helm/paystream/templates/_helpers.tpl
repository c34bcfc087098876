{{/* The image of one service: pinned, never latest. */}}
{{- define "paystream.image" -}}
{{- $prefix := required "image.repositoryPrefix is required (e.g. registry.example.com/paystream-)" .root.Values.image.repositoryPrefix -}}
{{- $tag := required "image.tag is required (a release tag or sha256:… digest)" .root.Values.image.tag -}}
{{- if eq $tag "latest" }}{{ fail "image.tag must be pinned, not latest" }}{{ end -}}
{{- if hasPrefix "sha256:" $tag -}}
{{ $prefix }}{{ .name }}@{{ $tag }}
{{- else -}}
{{ $prefix }}{{ .name }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "paystream.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: paystream
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
{{- end -}}

{{- define "paystream.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* A key of the existing Secret, as an env var. */}}
{{- define "paystream.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.existingSecret is required: create a Secret with the keys under secrets.keys" .root.Values.secrets.existingSecret }}
      key: {{ index .root.Values.secrets.keys .key }}
{{- end -}}
