{{/* Names ------------------------------------------------------------------------------- */}}

{{- define "epc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name; leaves room for the longest suffix ("-autoscaler"). */}}
{{- define "epc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "epc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "epc.extender.fullname" -}}{{ include "epc.fullname" . }}-extender{{- end -}}
{{- define "epc.autoscaler.fullname" -}}{{ include "epc.fullname" . }}-autoscaler{{- end -}}
{{- define "epc.scheduler.fullname" -}}{{ include "epc.fullname" . }}-scheduler{{- end -}}
{{- define "epc.config.name" -}}{{ include "epc.fullname" . }}-config{{- end -}}

{{/* Labels ------------------------------------------------------------------------------ */}}

{{- define "epc.labels" -}}
helm.sh/chart: {{ include "epc.chart" . }}
app.kubernetes.io/name: {{ include "epc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: epc-scheduler
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "extender") */}}
{{- define "epc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "epc.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "epc.componentLabels" -}}
{{ include "epc.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Images ------------------------------------------------------------------------------ */}}

{{- define "epc.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* ServiceAccount names ---------------------------------------------------------------- */}}

{{- define "epc.extender.serviceAccountName" -}}
{{- if .Values.extender.serviceAccount.create -}}
{{- default (include "epc.extender.fullname" .) .Values.extender.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.extender.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "epc.autoscaler.serviceAccountName" -}}
{{- if .Values.autoscaler.serviceAccount.create -}}
{{- default (include "epc.autoscaler.fullname" .) .Values.autoscaler.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.autoscaler.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "epc.scheduler.serviceAccountName" -}}
{{- if .Values.scheduler.serviceAccount.create -}}
{{- default (include "epc.scheduler.fullname" .) .Values.scheduler.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.scheduler.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The extender endpoint ---------------------------------------------------------------- */}}

{{- define "epc.extender.scheme" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end -}}
{{- end -}}

{{/* The Service's in-cluster DNS name: what the TLS certificate must be valid for. */}}
{{- define "epc.extender.serviceHost" -}}
{{- printf "%s.%s.svc" (include "epc.extender.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* kube-scheduler's urlPrefix: scheme://service:port<extender.urlPrefix> */}}
{{- define "epc.extender.url" -}}
{{- printf "%s://%s:%d%s" (include "epc.extender.scheme" .) (include "epc.extender.serviceHost" .) (int .Values.extender.port) .Values.extender.urlPrefix -}}
{{- end -}}

{{- define "epc.tlsMountPath" -}}/etc/epc/tls{{- end -}}
{{- define "epc.configMountPath" -}}/etc/epc{{- end -}}

{{/* The shared configuration file: .Values.config plus the extender's server keys and the
     autoscaler's lease (name and namespace, which its RBAC names). ------------------------ */}}
{{- define "epc.configYaml" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $ext := dict -}}
{{- if hasKey $cfg "extender" -}}{{- $ext = deepCopy (get $cfg "extender") -}}{{- end -}}
{{- $_ := set $ext "bindAddress" .Values.extender.bindAddress -}}
{{- $_ := set $ext "port" (int .Values.extender.port) -}}
{{- $_ := set $ext "urlPrefix" .Values.extender.urlPrefix -}}
{{- if .Values.tls.enabled -}}
{{- $dir := include "epc.tlsMountPath" . -}}
{{- $_ := set $ext "tls" (dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir)) -}}
{{- end -}}
{{- $_ := set $cfg "extender" $ext -}}
{{- if .Values.autoscaler.enabled -}}
{{- /* The autoscaler's lease lives where its Role allows it: the release namespace. */ -}}
{{- $as := dict -}}
{{- if hasKey $cfg "autoscaler" -}}{{- $as = deepCopy (get $cfg "autoscaler") -}}{{- end -}}
{{- $le := dict -}}
{{- if hasKey $as "leaderElection" -}}{{- $le = deepCopy (get $as "leaderElection") -}}{{- end -}}
{{- $_ := set $le "leaseName" (include "epc.autoscaler.leaseName" .) -}}
{{- $_ := set $le "leaseNamespace" .Release.Namespace -}}
{{- $_ := set $as "leaderElection" $le -}}
{{- $_ := set $cfg "autoscaler" $as -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* Hardened pod and container security contexts. -------------------------------------- */}}
{{- define "epc.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "epc.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Default topology spread: one replica per node (hard), across zones (soft).
     (dict "ctx" $ "component" "extender" "override" .Values.extender.topologySpreadConstraints) */}}
{{- define "epc.topologySpread" -}}
{{- if kindIs "slice" .override -}}
{{- toYaml .override -}}
{{- else -}}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: DoNotSchedule
  labelSelector:
    matchLabels:
      {{- include "epc.selectorLabels" . | nindent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "epc.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* Checks that cross keys (the schema checks each key on its own). */}}
{{- define "epc.validate" -}}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) -}}
{{- fail "tls.enabled is true but tls.secretName is empty: name the Secret holding tls.crt, tls.key and ca.crt" -}}
{{- end -}}
{{- if and .Values.autoscaler.enabled (gt (int .Values.autoscaler.replicaCount) 1) (not .Values.autoscaler.leaderElect) -}}
{{- fail "autoscaler.replicaCount > 1 needs autoscaler.leaderElect: true (two active autoscalers would fight)" -}}
{{- end -}}
{{- if eq (include "epc.scheduler.leaseName" .) "kube-scheduler" -}}
{{- fail "scheduler.leaderElection.resourceName must not be kube-scheduler: that is the default scheduler's lease" -}}
{{- end -}}
{{- if eq .Values.scheduler.schedulerName "default-scheduler" -}}
{{- fail "scheduler.schedulerName must not be default-scheduler: the chart runs a second scheduler beside the default one" -}}
{{- end -}}
{{- end -}}

{{- define "epc.autoscaler.leaseName" -}}
{{- include "epc.autoscaler.fullname" . -}}
{{- end -}}

{{/* The autoscaler's sync period (config autoscaler.syncPeriodSeconds, default 15). */}}
{{- define "epc.autoscaler.syncPeriodSeconds" -}}
{{- dig "autoscaler" "syncPeriodSeconds" 15 .Values.config | int -}}
{{- end -}}

{{- define "epc.scheduler.leaseName" -}}
{{- default (include "epc.scheduler.fullname" .) .Values.scheduler.leaderElection.resourceName -}}
{{- end -}}

{{/* "true" when the extender serves the bind verb (config.extender.enableBind), else "". */}}
{{- define "epc.bindEnabled" -}}
{{- if dig "extender" "enableBind" false .Values.config -}}true{{- end -}}
{{- end -}}
