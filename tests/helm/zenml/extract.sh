#!/usr/bin/env bash
# Re-extracts the vendored ZenML server chart (input/charts/zenml/) and its LICENSE from the
# PyPI package that ships it: zenml==0.60.0 (Apache-2.0), wheel
# zenml-0.60.0-py3-none-any.whl, sha256
# 999bb1812106800e79d41b1b2dbdc9463c70f301999850b7c5a875d18ff5d365. The chart is the wheel's
# zenml/zen_server/deploy/helm/ unchanged; the LICENSE is its zenml-0.60.0.dist-info/LICENSE.
#
# Usage: tests/helm/zenml/extract.sh   (then tests/helm/regenerate.sh zenml for expected.yaml)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=0.60.0
sha256=999bb1812106800e79d41b1b2dbdc9463c70f301999850b7c5a875d18ff5d365
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "zenml==$version"
wheel="$tmp/zenml-$version-py3-none-any.whl"
echo "$sha256  $wheel" | sha256sum --check --quiet -

rm -rf "$here/input/charts/zenml"
python3 - "$wheel" "$here" "$version" <<'PY'
import pathlib, sys, zipfile

wheel, here, version = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
prefix = "zenml/zen_server/deploy/helm/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            out = here / "input/charts/zenml" / name[len(prefix):]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(z.read(name))
    (here / "LICENSE").write_bytes(z.read(f"zenml-{version}.dist-info/LICENSE"))
PY
echo "extracted zenml $version's chart into $here/input/charts/zenml"
