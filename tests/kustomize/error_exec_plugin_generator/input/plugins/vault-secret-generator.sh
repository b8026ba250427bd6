#!/bin/sh
# Would read a ResourceList on stdin and emit a Secret; never executed by
# kubectl kustomize without --enable-alpha-plugins --enable-exec.
cat <<'OUT'
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
  - apiVersion: v1
    kind: Secret
    metadata:
      name: app-secrets
    stringData:
      DB_PASSWORD: from-vault
OUT
