#!/usr/bin/env python3
"""The Helm variant of the 200-app benchmark: every app is a chart deployed per environment.

apps/appN/chart/                 a small chart (Deployment, Service, ConfigMap, a helper)
apps/appN/envs/{dev,staging,prod}/kustomization.yaml
                                 helmCharts: the app's chart with the environment's values file
clusters/prod-{eu,us}/kustomization.yaml
                                 resources: every app's prod environment

dev and staging values are identical for every other app (the content-keyed cache renders
those once); prod turns on a defect (privileged) for every tenth app.

Usage: benches/gen_helm_monorepo.py OUT [--apps 200]
"""
import argparse
import os

CHART = """apiVersion: v2
name: {name}
version: 0.1.0
"""
VALUES = """replicas: 1
image:
  repository: registry.example.com/{name}
  tag: "1.0.0"
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
resources:
  limits: {{cpu: 500m, memory: 256Mi}}
  requests: {{cpu: 100m, memory: 128Mi}}
"""
HELPERS = """{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      {{- include "app.labels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "app.labels" . | nindent 8 }}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - containerPort: 8080
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    {{- include "app.labels" . | nindent 4 }}
  ports:
    - port: 80
      targetPort: 8080
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  replicas: {{ .Values.replicas | quote }}
"""
KUSTOMIZATION = """namespace: {ns}
helmGlobals:
  chartHome: ../..
helmCharts:
  - name: chart
    releaseName: {name}
    valuesFile: values.yaml
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--apps", type=int, default=200)
    a = p.parse_args()
    for i in range(a.apps):
        name = f"app{i:03d}"
        base = os.path.join(a.out, "apps", name)
        write(f"{base}/chart/Chart.yaml", CHART.format(name=name))
        write(f"{base}/chart/values.yaml", VALUES.format(name=name))
        write(f"{base}/chart/templates/_helpers.tpl", HELPERS)
        write(f"{base}/chart/templates/deployment.yaml", DEPLOYMENT)
        write(f"{base}/chart/templates/service.yaml", SERVICE)
        write(f"{base}/chart/templates/configmap.yaml", CONFIGMAP)
        for env in ("dev", "staging", "prod"):
            replicas = 3 if env == "prod" else (1 if i % 2 == 0 or env == "dev" else 2)
            values = f"replicas: {replicas}\n"
            if env == "prod" and i % 10 == 0:
                values += "securityContext:\n  privileged: true\n"
            write(f"{base}/envs/{env}/values.yaml", values)
            write(f"{base}/envs/{env}/kustomization.yaml",
                  KUSTOMIZATION.format(ns=f"{name}-{env}", name=name))
    for cluster in ("prod-eu", "prod-us"):
        resources = "".join(
            f"  - ../../apps/app{i:03d}/envs/prod\n" for i in range(a.apps))
        write(f"{a.out}/clusters/{cluster}/kustomization.yaml",
              f"commonAnnotations:\n  cluster: {cluster}\nresources:\n{resources}")


if __name__ == "__main__":
    main()
