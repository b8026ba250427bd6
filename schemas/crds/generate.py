#!/usr/bin/env python3
"""Regenerate schemas/crds/catalog.json.gz (and schemas/crds/LICENSE) from datreeio/CRDs-catalog.

Usage:
    git clone https://github.com/datreeio/CRDs-catalog /tmp/CRDs-catalog
    git -C /tmp/CRDs-catalog checkout <commit>        # the commit in schemas/README.md
    python3 schemas/crds/generate.py /tmp/CRDs-catalog [REV]

The first argument is any git repository of the catalog (a work tree or a bare mirror);
files are read with `git show REV:path` (REV defaults to HEAD), so the work tree state does
not matter. The catalog stores one JSON Schema per custom resource version as
`<group>/<kind-lowercase>_<version>.json`.

The bundle is
    {"source": {"repository", "commit", "license", "files": {KEY: catalog path}},
     "schemas": {KEY: schema}}
with KEY = "<group>/<version>|<Kind>". Each schema is the catalog file with its
documentation removed by the same rule as schemas/generate.py (string `description`
keywords dropped, properties *named* description kept). Output is deterministic: keys
sorted, compact separators, gzip level 9, mtime 0. Python 3.11, standard library only.
"""

import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# The stripping rule and the deterministic writer are shared with schemas/generate.py.
_spec = importlib.util.spec_from_file_location("kube_generate", os.path.join(os.path.dirname(HERE), "generate.py"))
_kube = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kube)
count_descriptions, dump_gz, strip_docs = _kube.count_descriptions, _kube.dump_gz, _kube.strip_docs

DEFAULT_REPO = "/work/.mirror/datreeio+CRDs-catalog/repo"
REPOSITORY = "https://github.com/datreeio/CRDs-catalog"

# (group, CamelCase kind, versions). The catalog files carry no kind enum, so the kind's
# spelling comes from here; the file name is the kind lowercased.
WANTED = [
    # Argo CD
    ("argoproj.io", "Application", ["v1alpha1"]),
    ("argoproj.io", "ApplicationSet", ["v1alpha1"]),
    ("argoproj.io", "AppProject", ["v1alpha1"]),
    # Flux
    ("kustomize.toolkit.fluxcd.io", "Kustomization", ["v1", "v1beta2"]),
    ("helm.toolkit.fluxcd.io", "HelmRelease", ["v2", "v2beta2", "v2beta1"]),
    ("source.toolkit.fluxcd.io", "GitRepository", ["v1", "v1beta2"]),
    ("source.toolkit.fluxcd.io", "HelmRepository", ["v1", "v1beta2"]),
    ("source.toolkit.fluxcd.io", "OCIRepository", ["v1", "v1beta2"]),
    ("source.toolkit.fluxcd.io", "HelmChart", ["v1", "v1beta2"]),
    ("source.toolkit.fluxcd.io", "Bucket", ["v1", "v1beta2"]),
    ("notification.toolkit.fluxcd.io", "Alert", ["v1beta3"]),
    ("notification.toolkit.fluxcd.io", "Provider", ["v1beta3"]),
    ("notification.toolkit.fluxcd.io", "Receiver", ["v1"]),
    ("image.toolkit.fluxcd.io", "ImagePolicy", ["v1", "v1beta2"]),
    ("image.toolkit.fluxcd.io", "ImageRepository", ["v1", "v1beta2"]),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation", ["v1", "v1beta2"]),
    # cert-manager
    ("cert-manager.io", "Certificate", ["v1"]),
    ("cert-manager.io", "Issuer", ["v1"]),
    ("cert-manager.io", "ClusterIssuer", ["v1"]),
    ("cert-manager.io", "CertificateRequest", ["v1"]),
    # Istio
    ("networking.istio.io", "VirtualService", ["v1", "v1beta1", "v1alpha3"]),
    ("networking.istio.io", "DestinationRule", ["v1", "v1beta1", "v1alpha3"]),
    ("networking.istio.io", "Gateway", ["v1", "v1beta1", "v1alpha3"]),
    ("networking.istio.io", "ServiceEntry", ["v1", "v1beta1", "v1alpha3"]),
    ("networking.istio.io", "Sidecar", ["v1", "v1beta1", "v1alpha3"]),
    ("security.istio.io", "AuthorizationPolicy", ["v1", "v1beta1"]),
    ("security.istio.io", "PeerAuthentication", ["v1", "v1beta1"]),
    ("security.istio.io", "RequestAuthentication", ["v1", "v1beta1"]),
    # Prometheus operator
    ("monitoring.coreos.com", "ServiceMonitor", ["v1"]),
    ("monitoring.coreos.com", "PodMonitor", ["v1"]),
    ("monitoring.coreos.com", "PrometheusRule", ["v1"]),
    # External Secrets (newest version only) and Bitnami Sealed Secrets
    ("external-secrets.io", "ExternalSecret", ["v1"]),
    ("external-secrets.io", "SecretStore", ["v1"]),
    ("external-secrets.io", "ClusterSecretStore", ["v1"]),
    ("bitnami.com", "SealedSecret", ["v1alpha1"]),
]


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True).stdout


def main(argv):
    repo = argv[1] if len(argv) > 1 else DEFAULT_REPO
    rev = argv[2] if len(argv) > 2 else "HEAD"
    commit = git(repo, "rev-parse", f"{rev}^{{commit}}").decode().strip()
    present = set(git(repo, "ls-tree", "-r", "--name-only", commit).decode().splitlines())

    schemas, files, missing = {}, {}, []
    for group, kind, versions in WANTED:
        for version in versions:
            path = f"{group}/{kind.lower()}_{version}.json"
            if path not in present:
                missing.append(path)
                continue
            doc = json.loads(git(repo, "show", f"{commit}:{path}"))
            assert isinstance(doc, dict) and isinstance(doc.get("properties"), dict), f"{path}: not an object schema"
            enum = doc["properties"].get("kind", {}).get("enum")
            assert enum in (None, [kind]), f"{path}: kind enum {enum!r} is not [{kind!r}]"
            enum = doc["properties"].get("apiVersion", {}).get("enum")
            assert enum in (None, [f"{group}/{version}"]), f"{path}: apiVersion enum {enum!r}"
            stripped = strip_docs(doc)
            assert count_descriptions(stripped) == 0, f"{path}: descriptions left"
            key = f"{group}/{version}|{kind}"
            schemas[key] = stripped
            files[key] = path

    bundle = {
        "source": {
            "repository": REPOSITORY,
            "commit": commit,
            "license": "MIT",
            "files": files,
        },
        "schemas": schemas,
    }
    dest = os.path.join(HERE, "catalog.json.gz")
    raw, size = dump_gz(bundle, dest)
    with open(os.path.join(HERE, "LICENSE"), "wb") as f:
        f.write(git(repo, "show", f"{commit}:LICENSE"))

    for key in sorted(schemas):
        print(f"{key:<60} {files[key]}")
    print(f"{len(schemas)} schemas from {REPOSITORY} @ {commit}: {raw} bytes JSON -> {size} bytes gzip ({os.path.relpath(dest)})")
    if missing:
        print("not in the catalog: " + ", ".join(missing))


if __name__ == "__main__":
    main(sys.argv)
