#!/usr/bin/env bash
# Seeds fuzz/corpus/<target> from the test fixtures and examples (the corpora are not kept
# in git: this rebuilds them). Run from anywhere; needs only bash and coreutils.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
corpus=$here/corpus
mkdir -p "$corpus"/{yaml_load,kustomization,kustomize_render,patches,config,suppressions,reports}

# Content-addressed names, as libFuzzer names its own finds.
put() { # target, then the seed on stdin
  local tmp; tmp=$(mktemp)
  cat > "$tmp"
  if [ -s "$tmp" ] && [ "$(stat -c %s "$tmp")" -le 65536 ]; then
    mv "$tmp" "$corpus/$1/$(sha1sum "$tmp" | cut -c1-40)"
  else
    rm -f "$tmp"
  fi
}

# Every YAML file of the fixtures and examples.
while IFS= read -r -d '' f; do
  put yaml_load < "$f"
  case "$f" in */kustomization.yaml|*/kustomization.yml|*/Kustomization) put kustomization < "$f" ;; esac
done < <(find "$repo/tests" "$repo/examples" -type f \( -name '*.yaml' -o -name '*.yml' -o -name Kustomization \) -print0)

# Each Kustomize conformance case and example root as a repository: path\0content\0...
pack() { # dir
  local d=$1
  (cd "$d" && find . -type f -print0 | sort -z | while IFS= read -r -d '' f; do
    printf '%s\0' "${f#./}"; cat "$f"; printf '\0'
  done)
}
for d in "$repo"/tests/kustomize/*/input; do pack "$d" | put kustomize_render; done
while IFS= read -r -d '' k; do pack "$(dirname "$k")" | put kustomize_render; done \
  < <(find "$repo/examples" -name kustomization.yaml -print0)

# Patches: each case's resources against each of its other YAML files (the patches).
for d in "$repo"/tests/kustomize/*/input; do
  mapfile -t files < <(find "$d" -maxdepth 1 -type f -name '*.yaml' ! -name 'kustomization.yaml' | sort | head -4)
  for a in "${files[@]}"; do for b in "${files[@]}"; do
    [ "$a" = "$b" ] || { cat "$a"; printf '\0'; cat "$b"; } | put patches
  done; done
done

# Configurations: the examples' and fixtures' .kgate.yaml, and each section alone.
while IFS= read -r -d '' f; do put config < "$f"; done < <(find "$repo" -name .kgate.yaml -not -path '*/target/*' -print0)
printf 'kubeVersion: "1.32"\nenvironments: [dev, staging, prod]\nimages:\n  allowedRegistries: [registry.example.com/platform]\n' | put config
printf 'limits:\n  maxFileSize: 1MiB\n  policyTimeout: 250ms\n  policyMemory: 512MiB\n' | put config
printf 'suppressions:\n  - rule: image-latest-tag\n    paths: ["legacy/**"]\n    reason: retired next quarter\n    expires: "2999-01-01"\nrules:\n  image-latest-tag: {severity: warning}\n  privileged-container: off\n' | put config

# Suppressions: manifests with inline comments, with and without a config.
printf 'apiVersion: v1\nkind: Pod # kgate:ignore all -- whole object\nmetadata: {name: p}\nspec:\n  containers:\n    - image: nginx:latest # kgate:ignore image-latest-tag -- pinned upstream\n      securityContext: {privileged: true}  # kgate:ignore privileged-container\n' | put suppressions
printf '# kgate:ignore image-latest-tag,privileged-container -- legacy\n---\napiVersion: v1\nkind: Pod\n\0suppressions:\n  - rule: image-latest-tag\n    paths: ["m.yaml"]\n    reason: old\n    expires: "2001-01-01"\n' | put suppressions

while IFS= read -r -d '' f; do put suppressions < "$f"; done < <(find "$repo/examples/defective" -name '*.yaml' -print0)

# Reports: fields rule\0message\0help\0path\0apiVersion\0kind\0source...
printf 'image-latest-tag\0image nginx:latest uses the latest tag\0pin a version\0apps/web/base/deployment.yaml\0apps/v1\0Deployment\0apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: nginx:latest\n' | put reports
printf 'schema-invalid\0<script>&"quotes"\x1b[31m\0help with `code` and |pipes|\0dir with spaces/ü.yaml\0v1\0Secret\0data:\n  password: aHVudGVyMg==\n\tweird\r\n' | put reports
printf 'plaintext-secret\0%%0A%%25 ::error:: text\0]]> </failure>\0a/b.yaml\0v1\0ConfigMap\0\0\0\0\0\0\0' | put reports

for t in "$corpus"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
