#!/usr/bin/env python3
"""A pre-push after a one-app change, as a user runs it, for two or more kgate binaries side by
side (results in benches/RESULTS.md, sessions 14-19).

- Generates the 200-app monorepo (benches/gen_monorepo.py, seed 11) in a git repository and
  edits one base file, apps/svc-0007/base/deployment.yaml: `--edit replicas` (the default,
  `replicas: 2` -> `3`, which every overlay overrides: the clusters render as before) or
  `--edit port` (`containerPort: 8080` -> `8081`, which reaches every overlay and cluster).
- For each binary, warms a render cache on the committed tree (`kgate check .`, the edit
  stashed), then keeps REF's tree listing in it (one `kgate diff --since HEAD`).
- Times `kgate check . --changed-since HEAD` and `kgate diff --since HEAD` N times each,
  interleaved across the binaries, every run from a fresh copy of its binary's warm cache
  (what a pre-push after an edit finds). Wall p10 / p25 / median / p75, and the median CPU
  (user + sys of kgate and its git processes); then each run's `diff --since` over the same
  run's `--changed-since` (wall and CPU), p25 / median / p75, which drifts far less.

The machine's speed drifts between sets by up to a quarter on shared 2-core machines: compare
binaries within one run of this script, never across runs.

Usage: benches/warm_one_app.py BIN [BIN...] [--runs N] [--apps N] [--edit replicas|port]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EDITED = "apps/svc-0007/base/deployment.yaml"
EDITS = {
    "replicas": ("replicas: 2", "replicas: 3"),
    "port": ("containerPort: 8080", "containerPort: 8081"),
}
MODES = {
    "changed-since": ["check", ".", "--changed-since", "HEAD", "--format", "json"],
    "diff --since": ["diff", "--since", "HEAD", "--format", "json"],
}


def git(repo, *args):
    subprocess.run(
        ["git", "-c", "user.email=bench@kgate", "-c", "user.name=bench", *args],
        cwd=repo, check=True, stdout=subprocess.DEVNULL,
    )


def run(binary, args, repo, cache):
    """One run: wall ms and CPU ms (the children's rusage, git's processes included)."""
    env = dict(os.environ, KGATE_CACHE_DIR=cache)
    env.pop("CI", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([binary, *args], cwd=repo, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = 1000 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return wall, cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binaries", nargs="+")
    p.add_argument("--runs", type=int, default=21)
    p.add_argument("--apps", type=int, default=200)
    p.add_argument("--edit", choices=sorted(EDITS), default="replicas")
    a = p.parse_args()
    binaries = [os.path.abspath(b) for b in a.binaries]
    work = tempfile.mkdtemp(prefix="kgate-warm-")
    try:
        repo = os.path.join(work, "repo")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_monorepo.py"), repo,
                        "--apps", str(a.apps), "--seed", "11"],
                       check=True, stdout=subprocess.DEVNULL)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "generated")
        path = os.path.join(repo, EDITED)
        with open(path) as f:
            text = f.read()
        before, after = EDITS[a.edit]
        if before not in text:
            sys.exit(f"{EDITED}: no `{before}` to edit")
        # A checkout's files are older than the run that checks them: kgate trusts the stat
        # of a file only when it last changed two seconds before the run (source::Digests,
        # as git's racy-clean rule), so files generated a moment ago would be read and hashed
        # by every run, as no user's repository is.
        time.sleep(2.5)
        warm = []
        for i, b in enumerate(binaries):
            cache = os.path.join(work, f"warm-{i}")
            run(b, ["check", ".", "--format", "json"], repo, cache)
            warm.append(cache)
        with open(path, "w") as f:
            f.write(text.replace(before, after, 1))
        for i, b in enumerate(binaries):
            # REF's tree listing is kept by commit: a pre-push after the first has it.
            scratch = os.path.join(work, "scratch")
            shutil.copytree(warm[i], scratch, symlinks=True)
            run(b, MODES["diff --since"], repo, scratch)
            for dirpath, _, files in os.walk(scratch):
                if "ref-tree" in files:
                    rel = os.path.relpath(dirpath, scratch)
                    shutil.copy(os.path.join(dirpath, "ref-tree"), os.path.join(warm[i], rel))
            shutil.rmtree(scratch)
        times = {}
        for _ in range(a.runs):
            for mode, args in MODES.items():
                for i, b in enumerate(binaries):
                    cache = os.path.join(work, "run")
                    shutil.rmtree(cache, ignore_errors=True)
                    shutil.copytree(warm[i], cache, symlinks=True)
                    times.setdefault((mode, i), []).append(run(b, args, repo, cache))
        for (mode, i), got in times.items():
            walls = sorted(w for w, _ in got)
            q = lambda f: walls[int(f * (len(walls) - 1))]
            cpu = statistics.median(c for _, c in got)
            print(f"{mode:14} {binaries[i]}: wall p10 {q(.1):4.0f} p25 {q(.25):4.0f} "
                  f"median {q(.5):4.0f} p75 {q(.75):4.0f} ms, CPU median {cpu:4.0f} ms")
        # Each run's diff over the same run's one-app, for each binary: the two are seconds
        # apart, so the machine's drift between spells (up to a quarter) mostly cancels,
        # which the ratio of the two medians does not.
        for i, b in enumerate(binaries):
            pairs = list(zip(times[("changed-since", i)], times[("diff --since", i)]))
            for what, k in (("wall", 0), ("CPU", 1)):
                ratios = sorted(d[k] / o[k] for o, d in pairs if o[k] > 0)
                q = lambda f: ratios[int(f * (len(ratios) - 1))]
                print(f"ratio diff / one-app, each run, {what:4} {b}: p25 {q(.25):.2f} "
                      f"median {q(.5):.2f} p75 {q(.75):.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
