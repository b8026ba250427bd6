#!/bin/sh
# Installs a kgate release binary: picks the archive for this OS and architecture, checks its
# SHA-256 against the release's checksum file, and puts `kgate` (plus its completions and
# man pages, when the archive has them) under PREFIX. No Rust toolchain needed.
#
# Usage: ci/install.sh [VERSION] [PREFIX]
#   VERSION  a release tag such as v0.2.0, or "latest" (default)
#   PREFIX   where to install (default: $HOME/.local); the binary goes to PREFIX/bin
# Environment:
#   KGATE_DOWNLOAD_URL  base URL of the release assets (default: the GitHub release of
#                       VERSION); file:// works, for mirrors and tests
#   KGATE_TARGET        override the detected target triple
set -eu

version="${1:-latest}"
prefix="${2:-${HOME:-/usr/local}/.local}"
repo="https://github.com/kgate/kgate"

fail() {
  echo "kgate install: $*" >&2
  exit 1
}

detect_target() {
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) fail "no release binary for the architecture $arch; build from source: cargo install --locked --git $repo kgate" ;;
  esac
  case "$os" in
    Linux) echo "$arch-unknown-linux-musl" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) echo "$arch-pc-windows-msvc" ;;
    *) fail "no release binary for the OS $os; build from source: cargo install --locked --git $repo kgate" ;;
  esac
}

fetch() { # URL DEST
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,file' --fail --silent --show-error --location --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --output-document "$2" "$1"
  else
    fail "needs curl or wget"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fail "needs sha256sum or shasum to verify the download"
  fi
}

target="${KGATE_TARGET:-$(detect_target)}"
case "$target" in
  *windows*) archive="kgate-$target.zip" ;;
  *) archive="kgate-$target.tar.xz" ;;
esac
if [ -n "${KGATE_DOWNLOAD_URL:-}" ]; then
  base="${KGATE_DOWNLOAD_URL%/}"
elif [ "$version" = latest ]; then
  base="$repo/releases/latest/download"
else
  base="$repo/releases/download/$version"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fetch "$base/$archive" "$tmp/$archive" || fail "cannot download $base/$archive"
fetch "$base/$archive.sha256" "$tmp/$archive.sha256" || fail "cannot download $base/$archive.sha256"
want="$(cut -d' ' -f1 <"$tmp/$archive.sha256" | tr -d '\r\n')"
got="$(sha256 "$tmp/$archive")"
[ -n "$want" ] && [ "$want" = "$got" ] || fail "checksum mismatch for $archive: expected $want, got $got"

mkdir -p "$tmp/x"
case "$archive" in
  *.zip) (cd "$tmp/x" && unzip -q "../$archive") ;;
  *) tar -xJf "$tmp/$archive" -C "$tmp/x" ;;
esac
bin="$(find "$tmp/x" -type f \( -name kgate -o -name kgate.exe \) | head -n 1)"
[ -n "$bin" ] || fail "$archive holds no kgate binary"
mkdir -p "$prefix/bin"
cp "$bin" "$prefix/bin/"
chmod +x "$prefix/bin/$(basename "$bin")"
dir="$(dirname "$bin")"
if [ -d "$dir/man" ]; then
  mkdir -p "$prefix/share/man/man1"
  cp "$dir"/man/*.1 "$prefix/share/man/man1/"
fi
if [ -d "$dir/completions" ]; then
  mkdir -p "$prefix/share/kgate/completions"
  cp "$dir"/completions/* "$prefix/share/kgate/completions/"
fi
echo "installed $("$prefix/bin/$(basename "$bin")" --version 2>/dev/null || echo kgate) to $prefix/bin"
