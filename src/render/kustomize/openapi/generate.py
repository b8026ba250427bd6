#!/usr/bin/env python3
"""Regenerate kubernetes-v1.21.2.json: the parts of the Kubernetes OpenAPI that strategic merge
reads, from the schema kustomize v5.5 (kyaml) compiles in.

kyaml embeds the Kubernetes v1.21.2 OpenAPI (kyaml/openapi/kubernetesapi/v1_21_2) and merges
lists by the `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key` and
`x-kubernetes-list-map-keys` of the field's schema, found by walking `properties`, `items`,
`additionalProperties` and `$ref` from the resource's `x-kubernetes-group-version-kind`.
This keeps exactly that (types, references, the three extensions, the GVK index) and drops
descriptions, formats and the rest.

Usage: generate.py [BUNDLE.json.gz]
  Without an argument, reads the bundle from a kustomize checkout via `git show`:
  KUSTOMIZE_GIT=/path/to/kustomize/.git (the JSON bundle of the same v1.21.2 schema,
  kyaml/openapi/kubernetesapi/data/kubernetes-openapi-union-v1.21.2.bundle-v1.json.gz).
"""
import gzip
import json
import os
import subprocess
import sys

BUNDLE = "kyaml/openapi/kubernetesapi/data/kubernetes-openapi-union-v1.21.2.bundle-v1.json.gz"
EXT = {
    "x-kubernetes-patch-strategy": "strategy",
    "x-kubernetes-patch-merge-key": "mergeKey",
    "x-kubernetes-list-map-keys": "listMapKeys",
}


def compact(schema):
    out = {}
    if "$ref" in schema:
        out["ref"] = schema["$ref"].removeprefix("#/definitions/")
    t = schema.get("type")
    if t:
        out["type"] = t
    for k, v in EXT.items():
        if k in schema:
            out[v] = schema[k]
    if "items" in schema and isinstance(schema["items"], dict):
        out["items"] = compact(schema["items"])
    ap = schema.get("additionalProperties")
    if isinstance(ap, dict):
        out["additionalProperties"] = compact(ap)
    if "properties" in schema:
        out["properties"] = {k: compact(v) for k, v in sorted(schema["properties"].items())}
    return out


def main():
    if len(sys.argv) > 1:
        raw = open(sys.argv[1], "rb").read()
    else:
        git = os.environ.get("KUSTOMIZE_GIT", "kustomize/.git")
        raw = subprocess.check_output(["git", "--git-dir", git, "show", "HEAD:" + BUNDLE])
    bundle = json.loads(gzip.decompress(raw))
    assert bundle["coverage"] == {"floor": "v1.21.2", "ceiling": "v1.21.2"}, bundle["coverage"]
    defs = bundle["definitions"]
    gvk = {}
    for name, d in sorted(defs.items()):
        for g in d.get("x-kubernetes-group-version-kind", []):
            api = g["version"] if not g.get("group") else g["group"] + "/" + g["version"]
            gvk[api + "|" + g["kind"]] = name
    out = {
        "source": "kustomize kyaml embedded Kubernetes OpenAPI v1.21.2",
        "gvk": dict(sorted(gvk.items())),
        "definitions": {k: compact(v) for k, v in sorted(defs.items())},
    }
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kubernetes-v1.21.2.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
