#!/usr/bin/env python3
"""Regenerate schemas/crds/catalog.json.gz (and schemas/crds/LICENSE) from npm packages.

Usage:
    mkdir -p /tmp/kgate-crds && cd /tmp/kgate-crds
    npm pack @kubernetes-models/argo-cd@2.5.0 ...     # every PACKAGES entry below
    python3 schemas/crds/generate.py /tmp/kgate-crds

The source is the MIT-licensed `@kubernetes-models/*` packages of the npm registry, at the
exact versions in PACKAGES (each tarball's sha256 is checked). Those versions ship, for every
custom resource `<group>/<version>/<Kind>.js`, the CRD's `openAPIV3Schema` as a plain object
literal (`const schema = {...};`), converted by the package generator as follows, which this
script undoes so that kgate applies to the catalog exactly the conversion it applies to a
repository's own CRDs (`src/validate/crd.rs`):

- an optional field `S` is written `{"oneOf": [S, {"type": "null"}]}`: back to `S` with
  `"nullable": true`;
- `x-kubernetes-int-or-string` is written `"anyOf": [{"type": "integer"}, {"type": "string"}]`:
  the marker is set again (the anyOf stays, as in a structural schema);
- `metadata` is a `$ref` to the package's ObjectMeta: `{"type": "object"}`, as kgate declares
  it for every CRD.

The generator dropped `description`, `x-kubernetes-preserve-unknown-fields` and
`x-kubernetes-validations`: an object that preserved unknown fields is `{"type": "object"}`
with no properties (it accepts anything, as before), and the CEL rules are not in the catalog.
Later major versions of these packages ship ajv-compiled validators instead, and cannot be
used (schemas/README.md).

The bundle is
    {"source": {"registry", "license", "packages": {NAME: {"version", "sha256"}},
                "files": {KEY: "NAME@VERSION:path"}},
                "aliases": {KEY: KEY it copies}},
     "schemas": {KEY: schema}}
with KEY = "<group>/<version>|<Kind>", apiVersion and kind read from the schema's enums.
Output is deterministic: keys sorted, compact separators, gzip level 9, mtime 0.
Python 3.11, standard library only.
"""

import hashlib
import importlib.util
import json
import os
import re
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))

# The stripping rule and the deterministic writer are shared with schemas/generate.py.
_spec = importlib.util.spec_from_file_location("kube_generate", os.path.join(os.path.dirname(HERE), "generate.py"))
_kube = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kube)
count_descriptions, dump_gz, strip_docs = _kube.count_descriptions, _kube.dump_gz, _kube.strip_docs

# (npm package, version, sha256 of the tarball `npm pack` writes). Each is the newest version
# of the package whose modules are plain schemas (newer ones are compiled validators).
PACKAGES = [
    ("@kubernetes-models/argo-cd", "2.5.0", "2229d2806cb19ae279cc5691a8db128b9407011c75414dfc15464c7a1279d681"),
    ("@kubernetes-models/argo-rollouts", "0.3.2", "e90e3f33e0c815ce390b21bf51d3cc01800d05fd9f3d81324727e08ff1d790c3"),
    ("@kubernetes-models/cert-manager", "4.3.1", "bbfced6629571e030fa9b7d7024454275628104354b93323273b5f4fb7e630fd"),
    ("@kubernetes-models/flux-cd", "2.2.1", "a6df658c173467156f40067518071bbbc2f7b3e014c8c24231b28c63864e971c"),
    ("@kubernetes-models/gateway-api", "0.5.1", "3650c87c49f95ccf5fee93f29a076ea4781e2a346fbe085a1143a4da9323d156"),
    ("@kubernetes-models/istio", "2.3.0", "a6861951369d5916a2fb439eedb93de547ba19330ce0c952d024cc87d0ec7ed7"),
    ("@kubernetes-models/keda", "0.3.2", "24e4aaef8e4d8f93abdd516512b31a0083c0e386f1d8b0580aff7f3a3f767c39"),
    ("@kubernetes-models/knative", "2.3.1", "a8d48db1f7c55f539cf2d36f03ddb577bd9197f619f4e4f70e65980a6fdfbb5e"),
    ("@kubernetes-models/prometheus-operator", "4.0.0", "ba02343671d84921cc03f67f56f354fe7a791ff809a59e80edda8d51a1196ee5"),
    ("@kubernetes-models/sealed-secrets", "2.0.2", "c445e562e7b2abcee7e1a93c7ce04d089b499f24d24ffe72b502b475380d951c"),
]

# Versions the packages above predate, served by the schema of the version they promoted
# (KEY -> KEY it copies, with the apiVersion enum rewritten). Istio's v1 APIs are its v1beta1
# APIs promoted unchanged; Flux's GA versions are the last beta with deprecated fields
# removed, but the package's beta predates fields the GA version has (HelmRelease chartRef):
# an alias's spec preserves unknown fields and requires none of its own fields (HelmRelease
# v2 takes chart or chartRef), so it checks the fields the alias knows and calls none unknown. Listed in schemas/README.md.
ALIASES = {
    **{f"networking.istio.io/v1|{k}": f"networking.istio.io/v1beta1|{k}"
       for k in ("DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "VirtualService", "WorkloadEntry", "WorkloadGroup")},
    "security.istio.io/v1|PeerAuthentication": "security.istio.io/v1beta1|PeerAuthentication",
    "helm.toolkit.fluxcd.io/v2|HelmRelease": "helm.toolkit.fluxcd.io/v2beta2|HelmRelease",
    **{f"source.toolkit.fluxcd.io/v1|{k}": f"source.toolkit.fluxcd.io/v1beta2|{k}"
       for k in ("Bucket", "HelmChart", "HelmRepository", "OCIRepository")},
    "image.toolkit.fluxcd.io/v1|ImagePolicy": "image.toolkit.fluxcd.io/v1beta2|ImagePolicy",
    "image.toolkit.fluxcd.io/v1|ImageRepository": "image.toolkit.fluxcd.io/v1beta2|ImageRepository",
}

SCHEMA_LITERAL = re.compile(r"\nconst schema = (\{.*?\n\});\n", re.S)
NULL = {"type": "null"}
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


def preserve_unknown_fields(s):
    """Marks every object schema under `s` as preserving unknown fields: an alias checks the
    fields it knows, and strict mode never calls a field the newer version added unknown."""
    if isinstance(s, list):
        for x in s:
            preserve_unknown_fields(x)
    elif isinstance(s, dict):
        if s.get("type") == "object" or "properties" in s:
            s["x-kubernetes-preserve-unknown-fields"] = True
        for k, v in s.items():
            if k in ("properties", "patternProperties"):
                for p in v.values():
                    preserve_unknown_fields(p)
            elif k in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
                preserve_unknown_fields(v)


def tarball_name(package, version):
    """The file `npm pack` writes: `@scope/name` -> `scope-name-VERSION.tgz`."""
    return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


def structural(s):
    """The package's rendering of a structural schema, back to the CRD's own form."""
    if isinstance(s, list):
        return [structural(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    nullable = False
    for k, v in s.items():
        if k == "oneOf" and isinstance(v, list) and len(v) == 2 and v[1] == NULL and isinstance(v[0], dict):
            nullable = True
            for k2, v2 in structural(v[0]).items():
                out[k2] = v2
            continue
        if k == "$ref":
            assert v == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta#", f"unexpected $ref {v!r}"
            out["type"] = "object"
            continue
        if k in ("properties", "patternProperties", "definitions", "$defs") and isinstance(v, dict):
            out[k] = {name: structural(p) for name, p in v.items()}
        else:
            out[k] = structural(v)
    if nullable:
        out["nullable"] = True
    if out.get("anyOf") == INT_OR_STRING:
        out["x-kubernetes-int-or-string"] = True
    return out


def schemas_of(path, package, version, sha256):
    """KEY -> (schema, file) for every custom resource module of one package tarball."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest == sha256, f"{path}: sha256 {digest}, expected {sha256} ({package}@{version})"
    out = {}
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            name = member.name
            if not name.endswith(".js") or "/_schemas/" in name or name.endswith("index.js"):
                continue
            text = tar.extractfile(member).read().decode()
            m = SCHEMA_LITERAL.search(text)
            if not m:
                continue
            doc = json.loads(m.group(1))
            props = doc.get("properties", {})
            (api_version,) = props["apiVersion"]["enum"]
            (kind,) = props["kind"]["enum"]
            schema = strip_docs(structural(doc))
            assert count_descriptions(schema) == 0, f"{name}: descriptions left"
            out[f"{api_version}|{kind}"] = (schema, f"{package}@{version}:{name.removeprefix('package/')}")
    assert out, f"{path}: no plain schema modules"
    return out


def main(argv):
    src = argv[1] if len(argv) > 1 else "."
    schemas, files, packages, licenses = {}, {}, {}, {}
    for package, version, sha256 in PACKAGES:
        path = os.path.join(src, tarball_name(package, version))
        for key, (schema, file) in schemas_of(path, package, version, sha256).items():
            assert key not in schemas, f"{key} in {files.get(key)} and {file}"
            schemas[key], files[key] = schema, file
        packages[package] = {"version": version, "sha256": sha256}
        with tarfile.open(path) as tar:
            text = tar.extractfile("package/LICENSE").read().decode()
        licenses.setdefault(text, []).append(f"{package}@{version}")

    aliases = {}
    for key, of in ALIASES.items():
        assert key not in schemas, f"{key} is in the packages now: drop its alias"
        schema = json.loads(json.dumps(schemas[of]))
        schema["properties"]["apiVersion"]["enum"] = [key.split("|")[0]]
        spec = schema["properties"].get("spec", {})
        preserve_unknown_fields(spec)
        spec.pop("required", None)
        schemas[key], aliases[key] = schema, of

    bundle = {
        "source": {
            "registry": "npm",
            "license": "MIT",
            "packages": packages,
            "files": files,
            "aliases": aliases,
        },
        "schemas": schemas,
    }
    dest = os.path.join(HERE, "catalog.json.gz")
    raw, size = dump_gz(bundle, dest)
    with open(os.path.join(HERE, "LICENSE"), "w") as f:
        for text, names in licenses.items():
            f.write("The LICENSE file of each of the npm packages " + ", ".join(names) + ", verbatim:\n\n")
            f.write(text)
    for key in sorted(schemas):
        print(f"{key:<70} {files.get(key) or 'alias of ' + aliases[key]}")
    print(f"{len(schemas)} schemas from {len(packages)} npm packages: {raw} bytes JSON -> {size} bytes gzip ({os.path.relpath(dest)})")


if __name__ == "__main__":
    main(sys.argv)
