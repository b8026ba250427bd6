#!/usr/bin/env python3
"""Measure kgate's native Kustomize renderer against `kubectl kustomize`.

    python3 tools/realworld/measure.py --kgate PATH --corpus /work/corpus

CORPUS holds one directory per repository (see README.md for how to fetch
and export them); every directory below it that holds a kustomization.yaml,
kustomization.yml or Kustomization (Kustomizations and Components alike) is
a root, unless the repository directory has a `.roots` file listing its
roots (one relative path a line; krusty_extract.py writes those).

For every root, `kubectl kustomize ROOT` (the reference) and
`kgate render --root REPO ROOT` run with a timeout and no stdin. The root
agrees when both fail, or when both succeed and their outputs parse to equal
YAML object streams; byte equality is recorded separately. Differences are
grouped into classes by kgate's error message or by the first differing
field. The per-repository table and the class table go to stdout, every
root's record to --out (JSON, outside the kgate repository).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIP_DIRS = {".git", "node_modules", "vendor"}

# Issue 16's known classes, recognised so the breakdown separates them from
# new findings. (name, where: kgate-error|kubectl-error|diff, regex on detail)
KNOWN = [
    ("#1 Component rendered alone", "kgate-error", r"but got 'Component'"),
    ("#2 configurations:/openapi:/crds:", "kgate-error",
     r"does not render `(configurations|openapi|crds|imageTags)`"),
    ("#4 JSON6902 replace of missing path", "kgate-error", r"replace: path .* does not exist"),
    ("#5 generator behavior: value", "kgate-error", r"\bbehavior\b"),
    ("#6 .env line holding only a KEY", "kgate-error", r"is not KEY=VALUE \(kgate does not read the environment\)"),
]


# Classes found on this corpus, each pinned by a reduction in tests/kustomize/
# (named in brackets). Same shape as KNOWN; first match wins, KNOWN first.
FOUND = [
    ("patch finds no target: selection by previous name or `default` namespace "
     "[patch_target_matches_name_before_rename, patch_matches_intermediate_prefixed_name, "
     "patch_without_namespace_matches_default_namespace]", "kgate-error", r"no unique target for patch"),
    ("replacement source selected by original name [replacement_source_selected_by_original_name]",
     "kgate-error", r"replacement source .* matches 0 objects"),
    ("duplicate key in a kustomization [kustomization_duplicate_keys_last_wins]", "kgate-error",
     r"kustomization\.ya?ml:\d+:\d+: duplicate key"),
    ("kustomization field names are case-insensitive [kustomization_field_names_case_insensitive]",
     "kgate-error", r"invalid Kustomization: unknown field"),
    ("kustomization directory under generators outside the root "
     "[generators_kustomization_directory_outside_root]", "kgate-error", r"security; file .* is not in or below"),
    ("built-in plugin kind kgate does not render under transformers/generators "
     "[transformers_builtin_prefix_suffix_config, transformers_replacement_transformer_config]",
     "kgate-error", r"the built-in `\w+` under `(transformers|generators)`"),
    ("buildMetadata option [build_metadata_transformer_annotations]", "kgate-error", r"buildMetadata"),
    ("generator merge by prefixed name [generator_merge_by_prefixed_name]", "kgate-error",
     r"does not exist; cannot merge or replace"),
    ("labels.includeVolumeClaimTemplates is unknown to v5.5 [labels_include_volume_claim_templates_unknown_in_v5_5]",
     "kubectl-error", r'unknown field "includeVolumeClaimTemplates"'),
    ("kubectl v5.5 crashes; kgate must fail [error_patch_file_with_two_delete_directives, "
     "error_images_name_not_a_pattern]", "kubectl-error", r"^panic: "),
    ("patch file without objects [error_patch_file_without_objects]", "kubectl-error",
     r"trouble configuring builtin PatchTransformer"),
    ("ambiguous name reference [error_subject_service_account_ambiguous]", "kubectl-error",
     r"found multiple possible referrals"),
    ("namespace scope by group/version/kind [namespace_scope_by_group_version_kind]", "diff",
     r"^\.metadata\.namespace differs"),
    ("labels create volumeClaimTemplates [labels_include_templates_statefulset_without_claims]", "diff",
     r"volumeClaimTemplates only in kgate"),
    ("non-string annotation values quoted by kubectl [annotations_non_string_values_quoted]", "diff",
     r"^\.metadata\.annotations\.<key> (value|type) differs \(kubectl string\)"),
    ("final newline added to a string value [block_scalar_at_eof_without_newline; #3 generator files]",
     "diff", r"trailing newline added by kgate"),
    ("generated name hash differs [configmap_generator_without_data_hash]", "diff", r"name hash suffix differs"),
    ("name reference picks the renamed candidate across sibling bases "
     "[name_reference_across_sibling_bases_prefers_renamed]", "diff",
     r"^\.(roleRef\.name|webhooks\[\]\.clientConfig\.service\.namespace) value differs"),
]
# A patch that silently selects nothing shows up as an object difference on
# whatever field it should have set (e.g. `.spec.replicas missing in kgate`):
# those are left to the reader (see benches/RESULTS.md for this corpus).


def find_roots(repo):
    """(boundary, root) pairs: the boundary is what kgate gets as --root.

    A directory with a `.roots` file is a case of its own (krusty_extract.py):
    its listed roots are measured, with the directory as boundary, and nothing
    below it is searched further."""
    roots = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        if ".roots" in filenames:
            dirnames[:] = []
            with open(os.path.join(dirpath, ".roots")) as f:
                roots += [(dirpath, os.path.normpath(os.path.join(dirpath, line.strip())))
                          for line in f if line.strip()]
        elif any(k in filenames for k in KUSTOMIZATION_FILES):
            roots.append((repo, dirpath))
    return roots


def run(cmd, timeout):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    # Make remote bases fail fast and the same way on every machine.
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
                "GIT_TERMINAL_PROMPT": "0"})
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return 124, b"", f"timed out after {timeout}s"


def error_message(stderr):
    """The message of a failed run without klog prefixes and warning lines."""
    lines = [l for l in stderr.splitlines() if l.strip() and not l.startswith("# Warning")]
    text = "\n".join(lines)
    m = re.search(r'"command failed" err="(.*)"\s*$', text, re.S)
    if m:
        text = m.group(1).replace('\\"', '"')
    m = re.search(r'"command failed" err=<\n(.*?)\n >', text, re.S)
    if m:
        text = m.group(1)
    return text.strip()


def normalize_message(msg, corpus):
    """Shortens a message to a class key: paths, quoted names and numbers vanish."""
    msg = msg.splitlines()[0] if msg else ""
    msg = msg.replace(corpus, "<corpus>")
    msg = re.sub(r"(<corpus>|/)[^\s:'\"]*", "<path>", msg)
    msg = re.sub(r"'[^']*'", "'…'", msg)
    msg = re.sub(r'"[^"]*"', '"…"', msg)
    msg = re.sub(r"\[[^\]]*\]", "[…]", msg)
    msg = re.sub(r"\b\d+\b", "N", msg)
    return msg[:160]


class Loader(yaml.SafeLoader):
    """SafeLoader that reads a plain `=` (YAML 1.1's value tag) as the string "="."""


Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def parse_stream(data):
    try:
        return [d for d in yaml.load_all(data, Loader=Loader) if d is not None], None
    except yaml.YAMLError as e:
        return None, str(e).splitlines()[0]


def obj_id(d):
    if not isinstance(d, dict):
        return repr(d)[:40]
    m = d.get("metadata") or {}
    return f"{d.get('kind')}/{m.get('namespace') or '-'}/{m.get('name')}"


def first_difference(a, b, path=""):
    """(path, kubectl value, kgate value) of the first difference, else None."""
    if type(a) is not type(b):
        return path, a, b
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in b:
                return f"{path}.{k}", a[k], "<absent>"
            if k not in a:
                return f"{path}.{k}", "<absent>", b[k]
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        if len(a) != len(b):
            return f"{path}[len]", len(a), len(b)
        return None
    return None if a == b else (path, a, b)


def generalize(path):
    path = re.sub(r"\[\d+\]", "[]", path)
    # Keys below maps of user data are names, not structure.
    path = re.sub(r"\.(data|stringData|labels|annotations|matchLabels|selector)\.[^.\[]+",
                  r".\1.<key>", path)
    return path


def short(v):
    s = json.dumps(v, default=str) if not isinstance(v, str) else v
    return s if len(s) <= 80 else s[:77] + "..."


def canonical(doc):
    return json.dumps(doc, sort_keys=True, default=str)


def compare_streams(want, got):
    """(class key, detail) for two parsed streams that differ."""
    if len(want) != len(got):
        wi, gi = collections.Counter(map(obj_id, want)), collections.Counter(map(obj_id, got))
        miss, extra = list((wi - gi).elements()), list((gi - wi).elements())
        return (f"object count differs ({'fewer' if len(got) < len(want) else 'more'} in kgate)",
                f"kubectl {len(want)}, kgate {len(got)}; missing {miss[:3]} extra {extra[:3]}")
    if sorted(canonical(d) for d in want) == sorted(canonical(d) for d in got):
        return "object order differs", f"first at {next(i for i, (x, y) in enumerate(zip(want, got)) if x != y)}"
    for w, g in zip(want, got):
        d = first_difference(w, g)
        if d:
            path, wv, gv = d
            kind = w.get("kind") if isinstance(w, dict) else "?"
            hashed = re.compile(r"^(.*)-[a-z0-9]{10}$")
            if (path == ".metadata.name" and isinstance(wv, str) and isinstance(gv, str)
                    and hashed.match(wv) and hashed.match(gv)
                    and hashed.match(wv).group(1) == hashed.match(gv).group(1)):
                key = ".metadata.name hash suffix differs"
            elif obj_id(w) != obj_id(g) and path.startswith((".metadata.name", ".metadata.namespace", ".kind")):
                key = f"{generalize(path)} differs"
            elif isinstance(wv, str) and isinstance(gv, str) and gv == wv + "\n":
                key = f"{generalize(path)} trailing newline added by kgate"
            elif isinstance(wv, str) and not isinstance(gv, str) and gv != "<absent>" and str(gv).lower() == wv.lower():
                key = f"{generalize(path)} type differs (kubectl string)"
            elif wv == "<absent>" or gv == "<absent>":
                key = f"{generalize(path)} {'only in kgate' if wv == '<absent>' else 'missing in kgate'}"
            else:
                key = f"{generalize(path)} value differs"
            return key, f"{obj_id(w)} {path}: kubectl {short(wv)} | kgate {short(gv)} ({kind})"
    return "unknown difference", ""


def first_line_difference(want, got):
    """`line N: kubectl '...' / kgate '...'` for outputs with equal objects."""
    w, g = want.decode(errors="replace").splitlines(), got.decode(errors="replace").splitlines()
    for i, (a, b) in enumerate(zip(w, g)):
        if a != b:
            return f"line {i + 1}: kubectl {a.strip()[:60]!r} / kgate {b.strip()[:60]!r}"
    return f"line count: kubectl {len(w)} / kgate {len(g)}"


def known_class(where, detail):
    for name, w, rx in KNOWN + FOUND:
        if w == where and re.search(rx, detail, re.I):
            return name
    return None


def measure_root(kgate, repo, boundary, root, timeout, corpus):
    kc, kout, kerr = run(["kubectl", "kustomize", root], timeout)
    gc, gout, gerr = run([kgate, "render", "--root", boundary, root], timeout)
    rec = {"repo": os.path.basename(repo), "root": os.path.relpath(root, repo),
           "kubectl_rc": kc, "kgate_rc": gc}
    if kc != 0:
        rec["kubectl_error"] = error_message(kerr)[:2000]
    if gc != 0:
        rec["kgate_error"] = error_message(gerr)[:2000]
    if kc != 0 and gc != 0:
        rec["outcome"] = "agree"
        rec["status"] = "both-error"
        return rec
    if kc != 0:
        rec.update(outcome="kgate-render/kubectl-error", detail=rec["kubectl_error"].splitlines()[0][:300])
        rec["class"] = known_class("kubectl-error", rec["kubectl_error"]) or \
            "kgate renders, kubectl: " + normalize_message(rec["kubectl_error"], corpus)
        return rec
    if gc != 0:
        rec.update(outcome="kgate-error/kubectl-render", detail=rec["kgate_error"].splitlines()[0][:300] if rec["kgate_error"] else "")
        rec["class"] = known_class("kgate-error", rec["kgate_error"]) or \
            "kgate error: " + normalize_message(rec["kgate_error"], corpus)
        return rec
    rec["byte_identical"] = kout == gout
    want, werr = parse_stream(kout)
    got, perr = parse_stream(gout)
    if perr or werr:
        rec.update(outcome="differ", class_="kgate output is not YAML", detail=perr or werr)
        rec["class"] = "output not parseable: " + (perr or werr)[:80]
        return rec
    if want == got:
        rec["outcome"] = "agree"
        rec["status"] = "equal"
        if kout != gout:
            rec["byte_diff"] = first_line_difference(kout, gout)
        return rec
    key, detail = compare_streams(want, got)
    rec.update(outcome="differ", detail=detail, objects=len(want))
    rec["class"] = known_class("diff", key) or "object difference: " + key
    return rec


def report(records, out):
    by_repo = collections.OrderedDict()
    for r in records:
        by_repo.setdefault(r["repo"], []).append(r)
    cols = ["roots", "agree", "byte-identical", "kubectl-err/kgate-render",
            "kgate-err/kubectl-render", "object diffs"]
    lines = ["| repository | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    total = collections.Counter()
    for repo, rs in by_repo.items():
        c = collections.Counter()
        c["roots"] = len(rs)
        c["agree"] = sum(r["outcome"] == "agree" for r in rs)
        c["byte-identical"] = sum(bool(r.get("byte_identical")) for r in rs)
        c["kubectl-err/kgate-render"] = sum(r["outcome"] == "kgate-render/kubectl-error" for r in rs)
        c["kgate-err/kubectl-render"] = sum(r["outcome"] == "kgate-error/kubectl-render" for r in rs)
        c["object diffs"] = sum(r["outcome"] == "differ" for r in rs)
        total.update(c)
        lines.append(f"| {repo} | " + " | ".join(str(c[k]) for k in cols) + " |")
    lines.append("| **total** | " + " | ".join(f"**{total[k]}**" for k in cols) + " |")
    both = sum(r["kubectl_rc"] != 0 for r in records)
    rendered = len(records) - both
    pct = 100.0 * total["agree"] / max(1, len(records))
    lines.append("")
    lines.append(f"agree {total['agree']}/{len(records)} ({pct:.1f}%); kubectl renders {rendered} roots "
                 f"({total['byte-identical']} byte-identical in kgate), rejects {both}.")
    bytes_only = [r for r in records if r.get("byte_diff")]
    if bytes_only:
        lines += ["", "Same objects, different bytes (not a disagreement; kgate aims at byte identity):"]
        lines += [f"- {r['repo']}: {r['root']}: {r['byte_diff']}" for r in bytes_only]
    classes = collections.Counter(r["class"] for r in records if r["outcome"] != "agree")
    lines += ["", "| roots | class | example (repo: root) | detail |", "|---|---|---|---|"]
    for cls, n in classes.most_common():
        ex = next(r for r in records if r.get("class") == cls)
        detail = (ex.get("detail") or "").replace("|", "\\|").replace("\n", " ")[:200]
        lines.append(f"| {n} | {cls.replace('|', '/')} | {ex['repo']}: {ex['root']} | {detail} |")
    text = "\n".join(lines)
    print(text)
    with open(out, "w") as f:
        json.dump({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "records": records}, f, indent=1)
    return text


def strip_configurations(corpus, repos):
    """A temporary copy of the repositories without `configurations:` entries.

    Shows what the known class #2 hides: both renderers then build the same
    input without the transformer configurations. Only for looking behind the
    class; the figures of record come from the unmodified corpus."""
    import shutil
    import tempfile
    copy = tempfile.mkdtemp(prefix="kgate-realworld-")
    for repo in repos:
        shutil.copytree(os.path.join(corpus, repo), os.path.join(copy, repo), symlinks=True)
    for dirpath, _, filenames in os.walk(copy):
        for name in filenames:
            if name not in KUSTOMIZATION_FILES:
                continue
            path = os.path.join(dirpath, name)
            with open(path) as f:
                lines = f.read().split("\n")
            out, skipping = [], False
            for line in lines:
                if line.startswith("configurations:"):
                    skipping = True
                    continue
                if skipping and (line[:1] in ("-", " ", "#") or not line.strip()):
                    continue
                skipping = False
                out.append(line)
            with open(path, "w") as f:
                f.write("\n".join(out))
    return copy


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kgate", required=True, help="path to the kgate binary")
    ap.add_argument("--corpus", required=True, help="directory of exported repositories")
    ap.add_argument("--out", help="JSON result file (default: CORPUS/results.json)")
    ap.add_argument("--repo", action="append", help="measure only these repositories")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--strip-configurations", action="store_true",
                    help="measure a temporary copy without `configurations:` entries (what class #2 hides)")
    a = ap.parse_args()
    corpus = os.path.abspath(a.corpus)
    kgate = os.path.abspath(a.kgate)
    repos = sorted(d for d in os.listdir(corpus)
                   if os.path.isdir(os.path.join(corpus, d)) and (not a.repo or d in a.repo))
    out = a.out or os.path.join(corpus, "results.json")
    if a.strip_configurations:
        corpus = strip_configurations(corpus, repos)
        print(f"measuring a copy without configurations: in {corpus}", file=sys.stderr)
    work = [(os.path.join(corpus, r), b, root) for r in repos for b, root in find_roots(os.path.join(corpus, r))]
    print(f"{len(work)} roots in {len(repos)} repositories", file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        records = list(pool.map(lambda w: measure_root(kgate, *w, a.timeout, corpus), work))
    report(records, out)


if __name__ == "__main__":
    main()
