#!/usr/bin/env bash
# Regenerate the expected outputs of the Helm conformance corpus (kustomize `helmCharts`).
#
# For every case directory <case>/ with an input/ directory, run
#   kubectl kustomize --enable-helm --helm-command <helm> <case>/input
# (kubectl v1.32 / Kustomize v5.5.0, Helm v3 from ci/install-helm.sh) and write
#   <case>/expected.yaml        exact stdout, when kubectl exits 0
#   <case>/expected-error.txt   the first line of stderr, when it fails
#
# Usage: tests/helm/regenerate.sh [case ...]
#   KUBECTL=/path/to/kubectl  HELM=/path/to/helm
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kubectl="${KUBECTL:-kubectl}"
helm="${HELM:-${KGATE_HELM:-$(bash "$here/../../ci/install-helm.sh")}}"
cd "$here"

if [[ $# -gt 0 ]]; then
  cases=("${@%/}")
else
  cases=()
  for d in */; do
    d="${d%/}"
    [[ -d "$d/input" ]] && cases+=("$d")
  done
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for case in "${cases[@]}"; do
  rc=0
  "$kubectl" kustomize --enable-helm --helm-command "$helm" "$case/input" \
    >"$tmp/stdout" 2>"$tmp/stderr" </dev/null || rc=$?
  if [[ $rc -eq 0 ]]; then
    cp "$tmp/stdout" "$case/expected.yaml"
    rm -f "$case/expected-error.txt"
    printf 'ok     %s\n' "$case"
  else
    # klog's record ('E1130 14:59:27.6 1069 run.go:72] "command failed" err="msg"') to
    # 'error: msg', stable across runs.
    { grep -v '^# Warning: ' "$tmp/stderr" || true; } | head -n 1 \
      | sed -E 's/^[EWIF][0-9]{4} [0-9:.]+ +[0-9]+ [^]]*\] "command failed" err="(.*)"$/error: \1/' \
      >"$case/expected-error.txt"
    rm -f "$case/expected.yaml"
    printf 'error  %s: %s\n' "$case" "$(cat "$case/expected-error.txt")"
  fi
done
