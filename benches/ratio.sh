#!/usr/bin/env bash
# The whole gate against the reference it replaces, in the same run (results in
# benches/RESULTS.md): `kgate check` on the generated 200-app monorepo (5 runs, wall and CPU),
# without the render cache (the untimed first run would otherwise fill it and the timed runs
# would measure cached runs; CI starts without one), then the `kubectl kustomize` loop over
# the same kustomization roots (components excluded, as benches/common/mod.rs counts them),
# then the ratio of the loop to kgate's median wall.
# Usage: benches/ratio.sh [APPS]   (KGATE=path/to/kgate; KUBECTL_ROOTS=N times only the first
# N roots and extrapolates). Run it on an otherwise idle machine: both sides share its cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apps="${1:-200}"
kgate="${KGATE:-${CARGO_TARGET_DIR:-$here/../target}/release/kgate}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 "$here/gen_monorepo.py" "$work/repo" --apps "$apps" --seed 11 >/dev/null
# One untimed run first: the files were just written, and the first runs measured the
# page cache's writeback (0.70 s against 0.50 s for the same binary on the same repository
# written earlier); the kubectl loop below reads them warm too.
sync
"$kgate" check "$work/repo" --no-cache --format json >/dev/null 2>&1 || true
: >"$work/times"
for _ in 1 2 3 4 5; do
  /usr/bin/time -a -o "$work/times" -f '%e %U %S %M' \
    "$kgate" check "$work/repo" --no-cache --format json >/dev/null || true
done

find "$work/repo" -name kustomization.yaml -print0 | sort -z |
  while IFS= read -r -d '' k; do
    grep -q 'kind: Component' "$k" || dirname "$k"
  done >"$work/roots"
total=$(wc -l <"$work/roots")
limit="${KUBECTL_ROOTS:-$total}"
start=$(date +%s.%N)
head -n "$limit" "$work/roots" | while read -r root; do
  kubectl kustomize "$root" >/dev/null 2>&1 || true
done
end=$(date +%s.%N)

python3 - "$work/times" "$start" "$end" "$limit" "$total" <<'PY'
import statistics, sys
# Lines /usr/bin/time adds for a non-zero exit (kgate exits 1 on findings) are skipped.
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l[:1].isdigit()]
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] + r[2] for r in rows)
rss = statistics.median(r[3] for r in rows) / 1024
limit, total = int(sys.argv[4]), int(sys.argv[5])
loop = (float(sys.argv[3]) - float(sys.argv[2])) * total / max(limit, 1)
print(f"kgate check --no-cache: median {wall:.2f} s wall ({min(r[0] for r in rows):.2f}-{max(r[0] for r in rows):.2f}), "
      f"{cpu:.2f} s CPU, {rss:.0f} MB peak")
print(f"kubectl kustomize loop: {loop:.1f} s over {total} roots ({limit} timed)")
print(f"ratio: {loop / wall:.0f}x")
PY
