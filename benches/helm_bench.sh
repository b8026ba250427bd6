#!/usr/bin/env bash
# The Helm variant of the 200-app benchmark (results in benches/RESULTS.md):
#   - generates benches/gen_helm_monorepo.py's repository (200 charts x 3 environments,
#     2 cluster roots over every prod environment),
#   - times `kgate check` on it (release build) with a helm wrapper that counts the runs,
#   - times `helm template` alone on one chart, for the cost of one run.
# Usage: benches/helm_bench.sh [APPS]   (KGATE=path/to/kgate, HELM=path/to/helm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apps="${1:-200}"
kgate="${KGATE:-${CARGO_TARGET_DIR:-$here/../target}/release/kgate}"
helm="${HELM:-${KGATE_HELM:-$(bash "$here/../ci/install-helm.sh")}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 "$here/gen_helm_monorepo.py" "$work/repo" --apps "$apps"
mkdir -p "$work/repo/.git"
cat >"$work/helm" <<WRAP
#!/bin/sh
echo run >>"$work/runs"
exec "$helm" "\$@"
WRAP
chmod +x "$work/helm"

for i in 1 2 3; do
  : >"$work/runs"
  start=$(date +%s.%N)
  (cd "$work/repo" && KGATE_HELM="$work/helm" "$kgate" check . --format json >"$work/report.json" || true)
  end=$(date +%s.%N)
  python3 - "$work/report.json" "$start" "$end" "$(wc -l <"$work/runs")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(f"kgate check: {float(sys.argv[3]) - float(sys.argv[2]):.2f} s wall, roots {s['roots']}, "
      f"objects {s['objects']}, findings {s['findings']}, helm runs {sys.argv[4]}")
PY
done

chart="$work/repo/apps/app001/chart"
start=$(date +%s.%N)
for _ in $(seq 20); do "$helm" template r "$chart" -f "$work/repo/apps/app001/envs/prod/values.yaml" >/dev/null; done
end=$(date +%s.%N)
python3 -c "print(f'helm template alone: {($end - $start) / 20 * 1000:.0f} ms per run (20 runs, one chart)')"
