#!/usr/bin/env python3
"""Extract the inline cases of kustomize's own Go tests into directories.

    python3 tools/realworld/krusty_extract.py KUSTOMIZE_GIT_DIR DEST [--commit REV]

Reads api/krusty/*_test.go from a (bare) clone of kubernetes-sigs/kustomize
and, for every `func TestX(t *testing.T)` whose body only writes files with
literal th.WriteK / th.WriteC / th.WriteF calls and builds one directory with
th.Run(dir, th.MakeDefaultOptions()) or th.RunWithErr(dir, ...), writes the
files under DEST/<File>_<TestX>/ and the built directory (relative) into
DEST/<File>_<TestX>/.roots, which measure.py reads, followed by every other
kustomization directory the case writes (its bases, overlays and components
are roots too). Table-driven tests in the shape of component_test.go (a map
of cases with `input: []FileGen{...}` and a run path) give one directory per
row. The Go test's expected
string is kept as .go-expected.yaml for reference only: the measurement
compares kgate with kubectl, not with the Go expectation.

Everything else is counted as skipped, by reason (non-default options such as
plugins or load restrictions, table-driven tests, computed file contents, ...).
Nothing extracted here may be committed to kgate: the cases are kustomize's
test data; kgate's own tests hold hand-written reductions instead.
"""
import argparse
import collections
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys

GO_STR = r'(?:`[^`]*`|"(?:[^"\\\n]|\\.)*")'
# A file content may also be a package-level string constant, resolved by name.
CONTENT = r'(?:' + GO_STR + r'|[A-Za-z_]\w*)'
WRITE = re.compile(r'th\.(WriteK|WriteC|WriteF)\(\s*(' + GO_STR + r')\s*,\s*(' + CONTENT + r')\s*,?\s*\)')
RUN = re.compile(r'th\.(Run|RunWithErr)\(\s*(' + GO_STR + r')\s*,\s*(?:th\.MakeDefaultOptions\(\)|opts|options)\s*\)')
OPTS = re.compile(r'(?:opts|options) := th\.MakeDefaultOptions\(\)')
EXPECT = re.compile(r'th\.AssertActualEqualsExpected\(\s*m\s*,\s*(' + CONTENT + r')\s*\)')
FUNC = re.compile(r'^func (Test\w+)\(t \*testing\.T\) \{\n(.*?)^\}\n', re.M | re.S)
HELPER = re.compile(r'^func (\w+)\(th \*?kusttest_test\.Harness\) \{\n(.*?)^\}\n', re.M | re.S)
CONST = re.compile(r'^\s*(?:const |var )?(\w+)\s*=\s*(' + GO_STR + r')\s*$', re.M)
HEADER = {
    "WriteK": "\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
    "WriteC": "\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
}
# Anything still present once the recognised calls are removed marks a case
# this extractor does not understand; the first match names the skip reason.
UNSUPPORTED = [
    ("plugins or non-default options", re.compile(
        r'MakeOptionsPlugins|MakeEnhancedHarness|PluginConfig|LoadRestrictions|'
        r'Options\{|opts\.|options\.|BuildHelm|ErrIfNoHelm|HelmConfig|MakeHarnessWithFs|'
        r'fsslice|filesys\.|th\.GetFSys')),
    ("table-driven", re.compile(r'\bfor\b|\brange\b|t\.Run\(|testCases|tests :=|tc\.')),
    ("computed inputs", re.compile(r'Sprintf|strings\.|th\.Join|th\.GetRoot|th\.MkDir|th\.Reset|'
                                   r'WriteLegacyConfigs|\+\s*`|`\s*\+|\+\s*"|"\s*\+')),
    ("other harness calls", re.compile(r'th\.\w+')),
]


CONSTANTS = {}


def go_string(lit):
    if lit in CONSTANTS:
        return CONSTANTS[lit]
    if not lit.startswith(("`", '"')):
        raise KeyError(lit)
    if lit.startswith("`"):
        return lit[1:-1]
    return json.loads(lit)


def case_files(body):
    files = {}
    for m in WRITE.finditer(body):
        kind, path, content = m.group(1), go_string(m.group(2)), go_string(m.group(3))
        if kind in HEADER:
            path = posixpath.join(path, "kustomization.yaml")
            content = HEADER[kind] + content
        path = posixpath.normpath(path.lstrip("/"))
        if path.startswith(".."):
            return None
        files[path] = content
    return files


def classify(body):
    """(files, root, go_expected) for a supported test body, else a skip reason."""
    runs = RUN.findall(body)
    rest = WRITE.sub("", body)
    rest = RUN.sub("", rest)
    rest = EXPECT.sub("", rest)
    rest = OPTS.sub("", rest)
    rest = re.sub(r'th := kusttest_test\.MakeHarness\(t\)', "", rest)
    for reason, pattern in UNSUPPORTED:
        if pattern.search(rest):
            return reason
    if len(runs) != 1:
        return "not exactly one th.Run with default options"
    try:
        files = case_files(body)
    except KeyError:
        return "computed inputs"
    if not files:
        return "no literal inputs"
    root = posixpath.normpath(go_string(runs[0][1]).lstrip("/") or ".")
    expected = EXPECT.search(body)
    try:
        expected = go_string(expected.group(1)) if expected else None
    except KeyError:
        expected = None
    return files, root, expected


def inline_helpers(body, helpers):
    """Replaces calls such as writeBase(th) by the helper's body (one level)."""
    def repl(m):
        return helpers.get(m.group(1), m.group(0))
    return re.sub(r'\b(\w+)\(th\)', repl, body)


TABLE_RUN = re.compile(r'th\.(?:Run|RunWithErr)\(tc\.(\w+), th\.MakeDefaultOptions\(\)\)')
TABLE_CASE = re.compile(r'^\t\t"([^"\n]+)": \{\n', re.M)


def table_cases(body, helpers):
    """Cases of a table-driven test in the form of component_test.go: a map of
    cases whose `input: []FileGen{...}` lists writeK/writeC/writeF(...) calls
    and helper names, run with th.Run(tc.<pathField>, th.MakeDefaultOptions()).
    Yields (case name, files, root); other table shapes yield nothing."""
    run = TABLE_RUN.search(body)
    loop = body.find("for tn, tc := range")
    if not run or loop < 0 or "f(th)" not in body[loop:]:
        return
    marks = list(TABLE_CASE.finditer(body[:loop]))
    for i, m in enumerate(marks):
        chunk = body[m.end():marks[i + 1].start() if i + 1 < len(marks) else loop]
        root = re.search(run.group(1) + r':\s*(' + GO_STR + r')', chunk)
        inputs = re.search(r'input:\s*\[\]FileGen\{(.*?)\n?\s*\},\n', chunk, re.S)
        if not root or not inputs:
            continue
        text = re.sub(r'\bwrite([KCF])\(', r'th.Write\1(', inputs.group(1))
        for name in re.findall(r'(?<![\w.])([a-z]\w+)(?=\s*,|\s*$)', text):
            if name in helpers:
                text += "\n" + helpers[name]
        try:
            files = case_files(text)
        except KeyError:
            continue
        if files:
            yield m.group(1), files, posixpath.normpath(go_string(root.group(1)).lstrip("/") or ".")


def write_case(case, files, root, expected):
    shutil.rmtree(case, ignore_errors=True)
    for path, content in files.items():
        target = os.path.join(case, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(content)
    os.makedirs(os.path.join(case, root), exist_ok=True)
    # The directory the Go test builds comes first; every other kustomization
    # directory of the case (bases, overlays, components) is a root as well.
    others = sorted({posixpath.dirname(p) or "." for p in files
                     if posixpath.basename(p) == "kustomization.yaml"} - {root})
    with open(os.path.join(case, ".roots"), "w") as f:
        f.write("".join(r + "\n" for r in [root] + others))
    if expected is not None:
        with open(os.path.join(case, ".go-expected.yaml"), "w") as f:
            f.write(expected)


def extract(git_dir, rev, dest):
    names = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "--name-only", rev, "api/krusty/"],
                           check=True, capture_output=True, text=True).stdout.split()
    done, skipped = 0, collections.Counter()
    sources = {}
    for name in sorted(n for n in names if n.endswith("_test.go")):
        sources[name] = subprocess.run(["git", "--git-dir", git_dir, "show", f"{rev}:{name}"],
                                       check=True, capture_output=True, text=True).stdout
    helpers = {}
    for src in sources.values():
        helpers.update((m.group(1), m.group(2)) for m in HELPER.finditer(src))
        CONSTANTS.update((m.group(1), go_string(m.group(2))) for m in CONST.finditer(src))
    for name, src in sources.items():
        stem = posixpath.basename(name)[:-len("_test.go")]
        for fn in FUNC.finditer(src):
            test, body = fn.group(1), inline_helpers(fn.group(2), helpers)
            if "MakeHarness" not in body and "MakeEnhancedHarness" not in body:
                continue
            got = classify(body)
            if got == "table-driven":
                rows = list(table_cases(body, helpers))
                for row, files, root in rows:
                    slug = re.sub(r"[^A-Za-z0-9]+", "-", row).strip("-")
                    write_case(os.path.join(dest, f"{stem}_{test}_{slug}"), files, root, None)
                done += len(rows)
                if rows:
                    continue
            if isinstance(got, str):
                skipped[got] += 1
                continue
            files, root, expected = got
            write_case(os.path.join(dest, f"{stem}_{test}"), files, root, expected)
            done += 1
    return done, skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git_dir")
    ap.add_argument("dest")
    ap.add_argument("--commit", default="HEAD")
    a = ap.parse_args()
    os.makedirs(a.dest, exist_ok=True)
    done, skipped = extract(a.git_dir, a.commit, a.dest)
    print(f"extracted {done} cases; skipped {sum(skipped.values())}:")
    for reason, n in skipped.most_common():
        print(f"  {n:4d}  {reason}")


if __name__ == "__main__":
    main()
