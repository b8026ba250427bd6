#!/usr/bin/env bash
# A short fuzzing smoke run: every target for a few seconds on its seeded corpus, one at a
# time on one core. Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#   fuzz/smoke.sh            # 10 s per target
#   SECONDS_PER_TARGET=60 fuzz/smoke.sh yaml_load patches
# A crash leaves its input in fuzz/artifacts/<target>/ and makes this script fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
per=${SECONDS_PER_TARGET:-10}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
[ -d corpus ] || ./seed.sh >/dev/null
cargo +nightly fuzz build -O --debug-assertions
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  # A scratch copy of the corpus: a smoke run does not grow the seeded one.
  scratch=$(mktemp -d)
  if cargo +nightly fuzz run -O --debug-assertions "$t" "$scratch" "corpus/$t" -- \
      -max_total_time="$per" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 2> "$scratch.log"; then
    echo "$t: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch.log" | grep -o '[0-9]*$') runs)"
  else
    echo "$t: FAILED, see fuzz/artifacts/$t/"; tail -20 "$scratch.log"; status=1
  fi
  rm -rf "$scratch" "$scratch.log"
done
exit $status
