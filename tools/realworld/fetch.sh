#!/usr/bin/env bash
# Build the corpus tree measure.py reads, from repos.txt.
#
#   tools/realworld/fetch.sh CORPUS [MIRRORS]
#
# For each repository of repos.txt, use the bare git directory
# MIRRORS/<owner>+<name>/repo when it exists (what the snapshot store's
# `fetch` gives), else `git clone --bare` it from GitHub (network needed), and
# export the listed commit (or HEAD when the mirror lacks it) to
# CORPUS/<owner>+<name>. kubernetes-sigs/kustomize becomes CORPUS/krusty/
# through krusty_extract.py. Nothing here writes inside the kgate repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="${1:?usage: fetch.sh CORPUS [MIRRORS]}"
mirrors="${2:-/work/.mirror}"
mkdir -p "$corpus"
grep -v '^#' "$here/repos.txt" | while read -r name commit _; do
  [[ -n "$name" ]] || continue
  dir="${name/\//+}"
  git_dir="$mirrors/$dir/repo"
  if [[ ! -d "$git_dir" ]]; then
    git_dir="$corpus/.git-mirrors/$dir"
    [[ -d "$git_dir" ]] || git clone --quiet --bare "https://github.com/$name" "$git_dir"
  fi
  rev="$commit"
  git --git-dir="$git_dir" cat-file -e "$rev^{commit}" 2>/dev/null || rev=HEAD
  if [[ "$name" == "kubernetes-sigs/kustomize" ]]; then
    rm -rf "$corpus/krusty"
    python3 "$here/krusty_extract.py" "$git_dir" "$corpus/krusty" --commit "$rev"
  else
    rm -rf "${corpus:?}/$dir"
    python3 "$here/export.py" "$git_dir" "$corpus/$dir" --commit "$rev"
  fi
done
