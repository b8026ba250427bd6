#!/usr/bin/env python3
"""Run `kgate check` on every repository of the real-world corpus (issue 18).

    python3 tools/realworld/check_corpus.py --kgate PATH --corpus /work/corpus \
        [--out DIR] [--repo OWNER+NAME]... [--timeout SECONDS] [--no-census]

For every repository of repos.txt exported under CORPUS (fetch.sh), two runs:

1. `kgate check REPO -f json` as a new user runs it (no .kgate.yaml): exit code
   (0 or 1 is a report; 2, a crash or the timeout is a failure of kgate), wall
   time, roots, objects, findings by rule and severity. The report is kept in
   OUT/<repo>.json for the finding-by-finding review.
2. The same check with census/.kgate.yaml, whose one conftest rule reports
   every object's apiVersion and kind: the objects rendered, by kind, and which
   of them got `schema-missing` (kgate has no schema for the kind). Each finding
   counts once per root it shows up in (a plain file's once), which is how
   `summary.objects` counts objects, so the census adds up to it.

Schema coverage is the share of those objects whose kind has a schema (the
Kubernetes API, the embedded CRD catalog or a CRD in the repository); custom
kinds are the kinds that are not in the embedded Kubernetes API of the target
version. Prints a markdown table per repository, the corpus totals and the
kinds still without schema; writes everything to OUT/summary.json.

Nothing fetched is written into the kgate repository: OUT defaults to
CORPUS/check. Helm charts render when Helm is found (PATH, or KGATE_HELM, e.g.
`KGATE_HELM=$(ci/install-helm.sh)`). Standard library only.
"""
import argparse
import collections
import gzip
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CENSUS_CONFIG = os.path.join(HERE, "census", ".kgate.yaml")
CENSUS_RULE = "main-warn"
CENSUS_PREFIX = "kgate-census "
KUBE_SCHEMAS = os.path.join(HERE, "..", "..", "schemas", "kubernetes", "v1.37.json.gz")


def corpus_repos(corpus, wanted):
    """(owner+name, directory) of every repository of repos.txt exported under corpus."""
    out = []
    with open(os.path.join(HERE, "repos.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name = line.split()[0].replace("/", "+")
            path = os.path.join(corpus, name)
            if wanted and name not in wanted:
                continue
            if os.path.isdir(path):
                out.append((name, path))
    return out


def builtin_kinds():
    """(apiVersion, kind) of every kind of the embedded Kubernetes API (1.37)."""
    with gzip.open(KUBE_SCHEMAS, "rt") as f:
        defs = json.load(f).get("$defs", {})
    kinds = set()
    for d in defs.values():
        for g in d.get("x-kubernetes-group-version-kind", []):
            api = g["version"] if not g.get("group") else f'{g["group"]}/{g["version"]}'
            kinds.add((api, g["kind"]))
    return kinds


def run(kgate, path, timeout, extra):
    cmd = [kgate, "check", path, "-f", "json", "--color", "never"] + extra
    # Remote bases and chart repositories fail fast, as in measure.py: the corpus is
    # checked offline.
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
                "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"})
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired:
        return {"rc": "timeout", "seconds": round(time.monotonic() - start, 1)}, None
    seconds = round(time.monotonic() - start, 1)
    result = {"rc": p.returncode, "seconds": seconds}
    if p.returncode not in (0, 1):
        result["stderr"] = p.stderr[-2000:]
        return result, None
    try:
        return result, json.loads(p.stdout)
    except json.JSONDecodeError as e:
        result["stderr"] = f"unparsable JSON: {e}; {p.stderr[-1000:]}"
        return result, None


def weight(finding):
    return max(1, len(finding.get("roots") or []))


def census(report, builtin):
    """Objects by (apiVersion, kind), and those without schema, from a census report."""
    objects = collections.Counter()
    missing = collections.Counter()
    for f in report["findings"]:
        if f["rule"] == CENSUS_RULE and f["message"].startswith(CENSUS_PREFIX):
            api, _, kind = f["message"][len(CENSUS_PREFIX):].partition(" ")
            objects[(api, kind)] += weight(f)
        elif f["rule"] == "schema-missing" and f.get("object"):
            o = f["object"]
            missing[(o.get("apiVersion", "?"), o.get("kind", "?"))] += weight(f)
    custom = {k: n for k, n in objects.items() if k not in builtin}
    custom_missing = sum(n for k, n in missing.items() if k not in builtin)
    return {
        "objects": sum(objects.values()),
        "without_schema": sum(missing.values()),
        "custom_objects": sum(custom.values()),
        "custom_without_schema": custom_missing,
        "kinds": {f"{a} {k}": n for (a, k), n in sorted(objects.items())},
        "missing": {f"{a} {k}": n for (a, k), n in sorted(missing.items())},
    }


def pct(have, total):
    return f"{100.0 * have / total:.1f}%" if total else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kgate", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out")
    ap.add_argument("--repo", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--no-census", action="store_true")
    args = ap.parse_args()
    kgate = os.path.abspath(args.kgate)
    out = args.out or os.path.join(args.corpus, "check")
    os.makedirs(out, exist_ok=True)
    builtin = builtin_kinds()

    rows = []
    for name, path in corpus_repos(args.corpus, set(args.repo)):
        result, report = run(kgate, path, args.timeout, [])
        row = {"repo": name, **result}
        if report is not None:
            with open(os.path.join(out, f"{name}.json"), "w") as f:
                json.dump(report, f, indent=1)
            row["summary"] = report["summary"]
            by_rule = collections.Counter((f["severity"], f["rule"]) for f in report["findings"])
            row["by_rule"] = {f"{s} {r}": n for (s, r), n in sorted(by_rule.items())}
        if not args.no_census:
            c_result, c_report = run(kgate, path, args.timeout, ["--config", CENSUS_CONFIG])
            row["census_run"] = c_result
            if c_report is not None:
                row["census"] = census(c_report, builtin)
        rows.append(row)
        s = row.get("summary", {})
        print(f"{name}: rc={row['rc']} {row['seconds']}s roots={s.get('roots')} objects={s.get('objects')} "
              f"errors={s.get('errors')} warnings={s.get('warnings')} notes={s.get('notes')}", file=sys.stderr)

    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(rows, f, indent=1)

    print("| repository | exit | s | roots | objects | errors | warnings | notes | schema coverage | custom kinds covered |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    tot = collections.Counter()
    missing = collections.Counter()
    for r in rows:
        s = r.get("summary", {})
        c = r.get("census", {})
        print(f"| {r['repo']} | {r['rc']} | {r['seconds']} | {s.get('roots', '-')} | {s.get('objects', '-')} | "
              f"{s.get('errors', '-')} | {s.get('warnings', '-')} | {s.get('notes', '-')} | "
              f"{pct(c.get('objects', 0) - c.get('without_schema', 0), c.get('objects', 0))} | "
              f"{pct(c.get('custom_objects', 0) - c.get('custom_without_schema', 0), c.get('custom_objects', 0))} |")
        for k in ("roots", "objects", "errors", "warnings", "notes"):
            tot[k] += s.get(k, 0) or 0
        for k in ("objects", "without_schema", "custom_objects", "custom_without_schema"):
            tot["c_" + k] += c.get(k, 0)
        missing.update(c.get("missing", {}))
    print(f"| **all {len(rows)}** | | | {tot['roots']} | {tot['objects']} | {tot['errors']} | {tot['warnings']} | "
          f"{tot['notes']} | {pct(tot['c_objects'] - tot['c_without_schema'], tot['c_objects'])} | "
          f"{pct(tot['c_custom_objects'] - tot['c_custom_without_schema'], tot['c_custom_objects'])} |")
    print()
    print(f"Objects {tot['c_objects']}, without schema {tot['c_without_schema']}; "
          f"custom-kind objects {tot['c_custom_objects']}, without schema {tot['c_custom_without_schema']}.")
    print()
    print("| kind without schema | objects |")
    print("|---|---:|")
    for k, n in missing.most_common():
        print(f"| {k} | {n} |")
    failed = [r["repo"] for r in rows if r["rc"] not in (0, 1)]
    if failed:
        print(f"\nNo report: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
