#!/usr/bin/env bash
# Builds the static musl binary the release ships (x86_64) and runs it on the examples, as
# the release workflow does. Needs `rustup target add x86_64-unknown-linux-musl` and Debian's
# musl-tools (mimalloc's C code is compiled with musl-gcc). Not part of .ci/run: a second
# full build of every dependency takes minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
rustup target add "$target" >/dev/null
cargo build --locked --target "$target" "$@"
profile=debug
[[ " $* " == *" --release "* ]] && profile=release
bin="${CARGO_TARGET_DIR:-target}/$target/$profile/kgate"
file "$bin" | grep -q "static" || { echo "$bin is not static" >&2; exit 1; }
"$bin" --version
"$bin" check examples/clean >/dev/null
if "$bin" check examples/defective >/dev/null; then
  echo "the defective example passed" >&2
  exit 1
fi
echo "ok: $bin is static and gates the examples"
