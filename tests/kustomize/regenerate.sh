#!/usr/bin/env bash
# Regenerate the expected outputs of the Kustomize conformance corpus.
#
# For every case directory <case>/ containing an input/ directory, run
#   kubectl kustomize <case>/input
# (the reference renderer, kubectl v1.32 / Kustomize v5.5.0) and write
#   <case>/expected.yaml        exact stdout, when kubectl exits 0
#   <case>/expected-error.txt   stderr, when kubectl exits non-zero
#   <case>/origins.txt          on success, the origin kubectl records for every object
#                               (the input built again with `buildMetadata:
#                               [originAnnotations]`), one line per object:
#                               <kind> <namespace or -> <name> <file>; the oracle for the
#                               object-level provenance test
# removing whichever no longer applies.
#
# Only the exit code decides success: kubectl prints deprecation warnings
# ("# Warning: 'commonLabels' is deprecated ...") on stderr even when it
# succeeds; those are never stored. In expected-error.txt such warning lines
# are dropped and the absolute corpus path is replaced by "<corpus>" so the
# files do not depend on where the repository is checked out; Go pointer
# values (0xc000520b60) that some messages print are zeroed for the same reason.
#
# Usage: tests/kustomize/regenerate.sh [case ...]
#   KUBECTL=/path/to/kubectl   override the kubectl binary
#   TIMEOUT=30                 per-case timeout in seconds (remote bases
#                              make kubectl try the network)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kubectl="${KUBECTL:-kubectl}"
timeout_s="${TIMEOUT:-30}"

want_kustomize="v5.5.0"
got_kustomize="$("$kubectl" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p' || true)"
if [[ "$got_kustomize" != "$want_kustomize" ]]; then
  echo "warning: expected Kustomize $want_kustomize in kubectl, found '${got_kustomize:-unknown}'" >&2
fi

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

# kubectl >= 1.30 reports errors through klog, e.g.
#   E1123 20:40:38.128492   21962 run.go:72] "command failed" err="msg"
#   E1123 20:40:38.578586   22213 run.go:72] "command failed" err=<
#   <TAB>line 1
#    >
# The timestamp and pid change on every run, so rewrite these records to the
# stable form "error: msg" (multi-line messages keep their lines, unindented).
normalize_stderr() {
  awk '
    function unescape(s) { gsub(/\\"/, "\"", s); gsub(/\\\\/, "\\", s); return s }
    inblock && /^ >$/ { inblock = 0; next }
    inblock { sub(/^\t/, ""); print; next }
    /^[EWIF][0-9][0-9][0-9][0-9] [0-9:.]+ +[0-9]+ [^]]*\] "command failed" err=<$/ {
      printf "error: "; inblock = 1; next
    }
    /^[EWIF][0-9][0-9][0-9][0-9] [0-9:.]+ +[0-9]+ [^]]*\] "command failed" err="/ {
      msg = $0
      sub(/^[^]]*\] "command failed" err="/, "", msg)
      sub(/"$/, "", msg)
      print "error: " unescape(msg); next
    }
    { print }
  '
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Builds a copy of <case>/input with `buildMetadata: [originAnnotations]` added to its
# kustomization and prints "<kind> <namespace|-> <name> <path or configuredIn>" per object.
origins() {
  rm -rf "$tmp/origin" && cp -r "$1/input" "$tmp/origin"
  local k
  for k in kustomization.yaml kustomization.yml Kustomization; do
    [[ -f "$tmp/origin/$k" ]] && break
  done
  if grep -q '^buildMetadata: \[' "$tmp/origin/$k"; then
    sed -i 's/^buildMetadata: \[/buildMetadata: [originAnnotations, /' "$tmp/origin/$k"
  else
    printf '\nbuildMetadata: [originAnnotations]\n' >>"$tmp/origin/$k"
  fi
  timeout "$timeout_s" "$kubectl" kustomize "$tmp/origin" 2>/dev/null </dev/null | python3 -c '
import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if not d:
        continue
    m = d.get("metadata") or {}
    o = yaml.safe_load((m.get("annotations") or {}).get("config.kubernetes.io/origin") or "{}") or {}
    print(d.get("kind"), m.get("namespace") or "-", m.get("name"), o.get("path") or o.get("configuredIn") or "?")
'
}

ok=0
failed=0
for case in "${cases[@]}"; do
  if [[ ! -d "$case/input" ]]; then
    echo "skip: $case has no input/ directory" >&2
    continue
  fi
  rc=0
  timeout "$timeout_s" "$kubectl" kustomize "$case/input" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null || rc=$?
  if [[ $rc -eq 0 ]]; then
    cp "$tmp/stdout" "$case/expected.yaml"
    rm -f "$case/expected-error.txt"
    origins "$case" >"$case/origins.txt"
    ok=$((ok + 1))
    printf 'ok     %s\n' "$case"
  else
    { grep -v '^# Warning: ' "$tmp/stderr" || true; } \
      | normalize_stderr \
      | sed -E -e "s#${here}#<corpus>#g" -e 's/0xc[0-9a-f]{6,}/0xc000000000/g' >"$case/expected-error.txt"
    if [[ $rc -eq 124 ]]; then
      echo "(kubectl timed out after ${timeout_s}s)" >>"$case/expected-error.txt"
    fi
    rm -f "$case/expected.yaml" "$case/origins.txt"
    failed=$((failed + 1))
    printf 'error  %s: %s\n' "$case" "$(head -n 1 "$case/expected-error.txt")"
  fi
done

echo "cases: $((ok + failed)) (succeeded: $ok, errored: $failed)"
