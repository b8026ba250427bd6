#!/usr/bin/env python3
"""Regenerate schemas/kubernetes/v1.MINOR.json.gz from the kubernetes-validate package.

Usage:
    pip download kubernetes-validate==1.37.0 --no-deps -d /tmp/kv
    unzip -q -o /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl -d /tmp/kv/whl
    python3 schemas/generate.py [/tmp/kv/whl/kubernetes_validate/kubernetes-json-schema]

For every minor version 1.25..1.37 it reads `v1.MINOR.0-local/_definitions.json` (the
non-strict variant; strict mode is derived at load time by adding
`additionalProperties: false`) and writes the same JSON Schema document with its
documentation removed: every `description` key whose value is a string is dropped, except
where `description` is the *name* of a property (e.g. JSONSchemaProps.properties.description).
Data-valued keywords (default, enum, const, example, examples) and `x-*` extensions are kept
verbatim. Everything else is kept exactly.

Output is deterministic: keys sorted, compact separators, gzip level 9 with mtime 0 and no
file name in the header. Python 3.11, standard library only.
"""

import gzip
import io
import json
import os
import sys

MINORS = range(25, 38)
DEFAULT_SRC = "/tmp/kv/whl/kubernetes_validate/kubernetes-json-schema"
HERE = os.path.dirname(os.path.abspath(__file__))

# Keywords whose values map names to schemas (a key there is a name, never a keyword).
NAME_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords whose values are instance data or vendor extensions, copied untouched.
DATA_KEYWORDS = ("default", "enum", "const", "example", "examples")


def strip_docs(node):
    """Returns a copy of the schema `node` without string `description` keywords."""
    if isinstance(node, list):
        return [strip_docs(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "description" and isinstance(value, str):
            continue
        if key in DATA_KEYWORDS or key.startswith("x-"):
            out[key] = value
        elif key in NAME_MAPS and isinstance(value, dict):
            out[key] = {name: strip_docs(sub) for name, sub in value.items()}
        else:
            out[key] = strip_docs(value)
    return out


def dump_gz(doc, path):
    """Writes `doc` as sorted compact JSON, gzip level 9, mtime 0; returns the byte size."""
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(raw)
    data = buf.getvalue()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return len(raw), len(data)


def count_descriptions(node):
    if isinstance(node, list):
        return sum(count_descriptions(x) for x in node)
    if not isinstance(node, dict):
        return 0
    n = 0
    for key, value in node.items():
        if key == "description" and isinstance(value, str):
            n += 1
        if key in DATA_KEYWORDS or key.startswith("x-"):
            continue
        if key in NAME_MAPS and isinstance(value, dict):
            n += sum(count_descriptions(v) for v in value.values())
        else:
            n += count_descriptions(value)
    return n


def check(doc, minor):
    defs = doc.get("$defs")
    assert isinstance(defs, dict) and len(defs) > 500, f"1.{minor}: $defs missing or small"
    dep = defs.get("io.k8s.api.apps.v1.Deployment")
    assert dep is not None, f"1.{minor}: no io.k8s.api.apps.v1.Deployment"
    gvk = dep.get("x-kubernetes-group-version-kind")
    assert gvk == [{"group": "apps", "kind": "Deployment", "version": "v1"}], f"1.{minor}: Deployment GVK {gvk!r}"
    assert dep["properties"]["spec"]["$ref"] == "#/$defs/io.k8s.api.apps.v1.DeploymentSpec"
    assert count_descriptions(doc) == 0, f"1.{minor}: descriptions left"
    props = defs["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"]["properties"]
    assert "description" in props, f"1.{minor}: JSONSchemaProps lost its `description` property"


def main(argv):
    src = argv[1] if len(argv) > 1 else DEFAULT_SRC
    out_dir = os.path.join(HERE, "kubernetes")
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for minor in MINORS:
        path = os.path.join(src, f"v1.{minor}.0-local", "_definitions.json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        assert set(doc) == {"$defs", "$schema", "$id"}, f"{path}: unexpected top-level keys {sorted(doc)}"
        before = count_descriptions(doc)
        stripped = strip_docs(doc)
        check(stripped, minor)
        dest = os.path.join(out_dir, f"v1.{minor}.json.gz")
        raw, size = dump_gz(stripped, dest)
        total += size
        print(
            f"v1.{minor}: {len(stripped['$defs'])} definitions, {before} descriptions dropped, "
            f"{os.path.getsize(path)} -> {raw} bytes JSON -> {size} bytes gzip ({os.path.relpath(dest)})"
        )
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main(sys.argv)
