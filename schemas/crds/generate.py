#!/usr/bin/env python3
"""Regenerate schemas/crds/catalog.json.gz (and schemas/crds/LICENSE) from registry packages.

Usage:
    mkdir -p /tmp/kgate-crds && cd /tmp/kgate-crds
    npm pack @kubernetes-models/argo-cd@2.5.0 ...     # every PACKAGES entry below
    python3 schemas/crds/generate.py /tmp/kgate-crds   # runs `cargo fetch` for CRATES itself

Two sources, both package registries, at the exact versions below (sha256 checked):

1. npm, the MIT-licensed `@kubernetes-models/*` packages (PACKAGES). Those versions ship,
   for every custom resource `<group>/<version>/<Kind>.js`, the CRD's `openAPIV3Schema` as a
   plain object literal (`const schema = {...};`), converted by the package generator in
   ways this script undoes, so that kgate applies to the catalog exactly the conversion it
   applies to a repository's own CRDs (`src/validate/crd.rs`):
   - an optional field `S` is written `{"oneOf": [S, {"type": "null"}]}`: back to `S` with
     `"nullable": true`;
   - `x-kubernetes-int-or-string` is written `"anyOf": [{"type": "integer"}, {"type":
     "string"}]`: the marker is set again (the anyOf stays, as in a structural schema);
   - `metadata` is a `$ref` to the package's ObjectMeta: `{"type": "object"}`.
   The generator dropped `description`, `x-kubernetes-preserve-unknown-fields` and
   `x-kubernetes-validations`: an object that preserved unknown fields is `{"type":
   "object"}` with no properties (it accepts anything, as before); CEL rules are not there.
   Later major versions of these packages ship ajv-compiled validators instead.
2. crates.io, the 0BSD `kcr_*` crates of kube-custom-resources-rs (CRATES): kopium-generated
   Rust bindings of each project's CRDs, read back into structural schemas by kopium.py
   (properties, types, required fields, enums; no patterns, bounds or CEL rules). A key the
   npm packages have keeps the npm schema.

The bundle is
    {"source": {"license", "packages": {NAME: {"registry", "version", "sha256"}},
                "files": {KEY: "NAME@VERSION:path"}},
     "schemas": {KEY: schema}}
with KEY = "<group>/<version>|<Kind>". Output is deterministic: keys sorted, compact
separators, gzip level 9, mtime 0. Python 3.11 and cargo; standard library only.
"""

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))

# The stripping rule and the deterministic writer are shared with schemas/generate.py.
_spec = importlib.util.spec_from_file_location("kube_generate", os.path.join(os.path.dirname(HERE), "generate.py"))
_kube = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kube)
count_descriptions, dump_gz, strip_docs = _kube.count_descriptions, _kube.dump_gz, _kube.strip_docs
sys.path.insert(0, HERE)
import kopium  # noqa: E402

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

# (crate, version, sha256 as Cargo.lock records it) of the crates.io `kcr_*` crates
# (kube-custom-resources-rs, 0BSD): kopium-generated Rust bindings of each project's CRDs, read
# back into structural schemas by kopium.py. They serve the kinds and versions the npm
# packages above do not have.
CRATES = [
    ("kcr_addons_cluster_x_k8s_io", "3.20260602.213526", "b271d0ba068e9c072b867ee9dde0da4c56aa99890b3b7112748e6ed17cf32d7c"),
    ("kcr_apiextensions_crossplane_io", "3.20260530.91916", "62e4b035766fb5787dd26190bf231598208bcc1978980b3c8886a2d8ad24b1b1"),
    ("kcr_argoproj_io", "3.20260618.213614", "0057d27ac5a04d888e680598869c146a81d4703051bd6b51b5431df8ba1c2d37"),
    ("kcr_cilium_io", "3.20260619.110716", "63688196af6d821ae1f0681b70862018485a3a60141d3379ab8b6e55d5278d05"),
    ("kcr_cluster_x_k8s_io", "3.20260531.234834", "5727a3b9ea5f34c942c3939b400a003a46af8c49fa821b2f7a4bcd21330cb955"),
    ("kcr_config_gatekeeper_sh", "3.20260530.101835", "0e476adf77e9744219008a3a439207fe61ecc79ccdb12a4ca00e8d7ef40f080b"),
    ("kcr_external_secrets_io", "3.20260613.112915", "4183cd76065fe854e46e270a08236a7cd34e886c7367ca5c2506bcad772d84a2"),
    ("kcr_gateway_networking_k8s_io", "3.20260617.224905", "42f2bfb20368a079bbff3bff02de91f367796115c3c731176607967bb18f88ab"),
    ("kcr_helm_toolkit_fluxcd_io", "3.20260610.120302", "2625581c7256f1681aa13e9cfd334ab7d00eaf95e11183d27ab61933d3b11333"),
    ("kcr_image_toolkit_fluxcd_io", "3.20260601.55921", "ca38c812594aa15c2adf2d13ef3db0262b0f8bcdeae9f20dde6a159af0462abb"),
    ("kcr_infrastructure_cluster_x_k8s_io", "3.20260614.113651", "45a0091124e0229e00b39698d8f717e98941a3df5d12ceeb238a7b00dd64ec19"),
    ("kcr_ipam_cluster_x_k8s_io", "3.20260530.203743", "59c425b7cff9b0fe2628bb654bde67cef08d86745d0200f56acf6c0cbdb91b75"),
    ("kcr_jobset_x_k8s_io", "3.20260603.102353", "3d9919f81aaa150cedaf5d3767e784449fe6d4ed3e94c8d97e70be37cb7bb4f5"),
    ("kcr_kafka_strimzi_io", "3.20260604.80828", "e625359a990d778adaa52a3919e72c13e7e0bca63972d7d5df38fde744dd7d2e"),
    ("kcr_kueue_x_k8s_io", "3.20260529.113958", "1847b33550ca06c14cfa9449c8d458ac4bb6be888099e3c238db4ddf821ae5ab"),
    ("kcr_kyverno_io", "3.20260530.194302", "716b545a8b844f2ded440364bb1fdcde04c02952e4894f3799335cb14e7a6326"),
    ("kcr_monitoring_coreos_com", "3.20260613.160609", "59f18726f659e324c9750e7f967c1cf4ac9b2d694f52b9a5e16e303d491e01d2"),
    ("kcr_networking_istio_io", "3.20260614.62107", "6589798b2b11814b2384d0048907cba6f9e8365f30ddd1f8dbbf6242f65dfc08"),
    ("kcr_operator_tekton_dev", "3.20260603.124754", "f17a009d45245460d9d6b091b81ec88f8379790a01b5adb86cb233b6426eadbf"),
    ("kcr_pkg_crossplane_io", "3.20260602.124835", "817f33fdddfe7c4bb8c4dda86dca520e7169e7c871cc29e3c3fff8c7c005bb98"),
    ("kcr_ray_io", "3.20260602.235623", "e7e9afd348ffa115e1aaa24791416110059bcab153227bac6c05fdae90b9325d"),
    ("kcr_security_istio_io", "3.20260529.133437", "8f3a4c685a588d9745cc38492e923fe2dbf6f818d0f7528baa95819ff245a026"),
    ("kcr_source_toolkit_fluxcd_io", "3.20260615.185719", "0bb4f50407702ae859d27a2f0b9809a62a068ecd3a43e12ccd73e9c7dd6f51cb"),
    ("kcr_traefik_io", "3.20260603.91420", "a2136117c1ebf3bdb7f33b302c7495a83bbb7ef0aeb0921748817c116a317f72"),
    ("kcr_velero_io", "3.20260602.234415", "8212c4d53be352eb026f18d92e5496bceea299ac4c1c776a359b465b5b631652"),
    ("kcr_workload_codeflare_dev", "3.20260529.122840", "f5563164824bfde6bd0d08c3d175498e0018933a297f85ab6bf7c603c67c9bc6"),
]

SCHEMA_LITERAL = re.compile(r"\nconst schema = (\{.*?\n\});\n", re.S)
NULL = {"type": "null"}
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


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


def fetch_crates(work):
    """Source directory of every CRATES entry: `cargo fetch` of a scratch package that depends
    on each at its exact version; the sha256 Cargo.lock records must be the one above."""
    os.makedirs(os.path.join(work, "src"), exist_ok=True)
    with open(os.path.join(work, "src", "lib.rs"), "w"):
        pass
    with open(os.path.join(work, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "kgate-crd-sources"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n')
        for name, version, _ in CRATES:
            f.write(f'{name} = "={version}"\n')
    subprocess.run(["cargo", "fetch", "--quiet"], cwd=work, check=True)
    with open(os.path.join(work, "Cargo.lock"), "rb") as f:
        locked = {(p["name"], p["version"]): p.get("checksum") for p in tomllib.load(f)["package"]}
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1"], cwd=work, check=True, capture_output=True).stdout)
    dirs = {(p["name"], p["version"]): os.path.dirname(p["manifest_path"]) for p in meta["packages"]}
    out = []
    for name, version, sha256 in CRATES:
        got = locked.get((name, version))
        assert got == sha256, f"{name} {version}: sha256 {got}, expected {sha256}"
        out.append((name, version, sha256, dirs[(name, version)]))
    return out


def main(argv):
    src = argv[1] if len(argv) > 1 else "."
    schemas, files, packages, licenses = {}, {}, {}, {}
    for package, version, sha256 in PACKAGES:
        path = os.path.join(src, tarball_name(package, version))
        for key, (schema, file) in schemas_of(path, package, version, sha256).items():
            assert key not in schemas, f"{key} in {files.get(key)} and {file}"
            schemas[key], files[key] = schema, file
        packages[package] = {"registry": "npm", "version": version, "sha256": sha256}
        with tarfile.open(path) as tar:
            text = tar.extractfile("package/LICENSE").read().decode()
        licenses.setdefault(text, []).append(f"{package}@{version}")

    with tempfile.TemporaryDirectory() as work:
        for name, version, sha256, crate_dir in fetch_crates(work):
            with open(os.path.join(crate_dir, "Cargo.toml"), "rb") as f:
                license = tomllib.load(f)["package"]["license"]
            assert license == "0BSD", f"{name}: license {license}"
            for key, (schema, file) in kopium.crate_schemas(os.path.join(crate_dir, "src")).items():
                if key in schemas:
                    continue  # the npm package's full schema is kept
                schemas[key] = strip_docs(schema)
                files[key] = f"{name}@{version}:{file}"
            packages[name] = {"registry": "crates.io", "version": version, "sha256": sha256}

    bundle = {
        "source": {
            "license": "MIT (npm packages), 0BSD (crates)",
            "packages": packages,
            "files": files,
        },
        "schemas": schemas,
    }
    dest = os.path.join(HERE, "catalog.json.gz")
    raw, size = dump_gz(bundle, dest)
    with open(os.path.join(HERE, "LICENSE"), "w") as f:
        for text, names in licenses.items():
            f.write("The LICENSE file of each of the npm packages " + ", ".join(names) + ", verbatim:\n\n")
            f.write(text)
        crates = ", ".join(f"{n}@{v}" for n, v, _ in CRATES)
        f.write(f"\nThe crates {crates} declare the license 0BSD (Cargo.toml `license`) and ship no\nLICENSE file; 0BSD asks for no notice.\n")
    for key in sorted(schemas):
        print(f"{key:<70} {files[key]}")
    print(f"{len(schemas)} schemas from {len(PACKAGES)} npm packages and {len(CRATES)} crates: {raw} bytes JSON -> {size} bytes gzip ({os.path.relpath(dest)})")


if __name__ == "__main__":
    main(sys.argv)
