#!/usr/bin/env python3
"""Export a fetched bare git snapshot into a plain tree for measure.py.

    python3 tools/realworld/export.py GIT_DIR DEST [--commit REV]

`git archive` stops at the first blob a snapshot lacks (the snapshot store
drops files of 4 MiB and more), so this walks `git ls-tree` and writes every
blob that is present, skipping the absent ones (they are never Kustomize
inputs). Symlinks are written as symlinks; nothing outside DEST is touched.
"""
import argparse
import os
import subprocess
import sys


def tree_entries(git_dir, rev):
    out = subprocess.run(
        ["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", rev],
        check=True, capture_output=True).stdout
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, sha = meta.split(b" ")
        if kind == b"blob":
            yield mode.decode(), sha.decode(), os.fsdecode(path)


def export(git_dir, dest, rev):
    entries = list(tree_entries(git_dir, rev))
    proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    written = missing = 0
    root = os.path.realpath(dest)
    for mode, sha, path in entries:
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing += 1
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)
        target = os.path.join(dest, path)
        if not os.path.realpath(os.path.dirname(target)).startswith(root):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if mode == "120000":
            if not os.path.lexists(target):
                os.symlink(os.fsdecode(data), target)
        else:
            with open(target, "wb") as f:
                f.write(data)
            if mode == "100755":
                os.chmod(target, 0o755)
        written += 1
    proc.stdin.close()
    proc.wait()
    return written, missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git_dir")
    ap.add_argument("dest")
    ap.add_argument("--commit", default="HEAD")
    a = ap.parse_args()
    os.makedirs(a.dest, exist_ok=True)
    written, missing = export(a.git_dir, a.dest, a.commit)
    print(f"{a.dest}: {written} files, {missing} absent blobs skipped", file=sys.stderr)


if __name__ == "__main__":
    main()
