#!/bin/sh
# Rebuilds vendor/regorus/ from the regorus crate published on crates.io plus
# vendor/regorus.patch. See vendor/README.md for why the fork exists.
#
#   sh vendor/regorus.sh          # from the repository root
#
# The .crate comes through cargo itself (a throwaway project that depends on the
# exact version, `cargo fetch`), and its sha256 must be the checksum Cargo.lock
# recorded for regorus 0.14.1 before the fork.
set -eu

VERSION=0.14.1
SHA256=ec9c3ac0d614c8f87448b86c8ddef36c8affce3d2c5deea81b7c28c812e4bfb8

here=$(cd "$(dirname "$0")" && pwd)
dest="$here/regorus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/fetch/src"
cat >"$tmp/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-regorus"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
regorus = { version = "=$VERSION", default-features = false }

[workspace]
TOML
: >"$tmp/fetch/src/lib.rs"
cargo fetch --quiet --manifest-path "$tmp/fetch/Cargo.toml"

crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"regorus-$VERSION.crate" | head -n 1)
echo "$SHA256  $crate" | sha256sum -c -

tar -xzf "$crate" -C "$tmp"
src="$tmp/regorus-$VERSION"

rm -rf "$dest"
mkdir -p "$dest"
# Only what the build needs: the manifest, build script, sources, the licence
# (MIT, with the BSD-3-Clause and Apache-2.0 notices of derived code) and the
# README (src/lib.rs includes it as the crate documentation).
cp "$src/Cargo.toml" "$src/build.rs" "$src/LICENSE" "$src/README.md" "$dest/"
cp -R "$src/src" "$dest/src"
# Targets whose files are not vendored (tests, benches, examples).
awk '
  /^\[\[(example|test|bench)\]\]$/ { skip = 1; next }
  /^\[/ { skip = 0 }
  !skip { print }
' "$src/Cargo.toml" >"$dest/Cargo.toml"

patch -s -p1 -d "$dest" <"$here/regorus.patch"
echo "vendor/regorus: regorus $VERSION + regorus.patch"
