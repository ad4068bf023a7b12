"""The documentation site as readers get it: built with mkdocs (as `make docs` does), then its HTML read."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const|ref):`")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    return out


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_the_site_has_no_raw_sphinx_roles(site: Path) -> None:
    """mkdocstrings renders `[Name][path]` cross-references and backticks; a `:class:` role shows raw."""
    reference = (site / "reference" / "index.html").read_text()
    assert RAW_ROLE.findall(_text(reference)) == []
    for page in site.rglob("*.html"):
        assert RAW_ROLE.findall(_text(page.read_text())) == [], page
    # cross-references render as links to the documented object
    assert 'href="#lambda_constructs.core.errors.ConfigurationError"' in reference


def test_the_docstrings_use_no_sphinx_roles() -> None:
    """The same rule at the source, so a role is refused before the site is built."""
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "lambda_constructs").rglob("*.py"))
        for match in RAW_ROLE.finditer(path.read_text())
    ]
    assert found == []


def test_the_api_reference_shows_defaults_as_users_write_them(site: Path) -> None:
    text = _text((site / "reference" / "index.html").read_text())
    assert re.findall(r"\b_Default\b|\bDEFAULT_[A-Z_]+\b", text) == []  # no private names
    assert "Invocation.SYNC" in text and "multiplier=3" in text.replace(" ", "")
    assert "Duration.seconds(29)" in text  # a constant inside a call, too
    assert "_base" not in text  # FunctionTarget is documented where users import it from


def test_dark_mode_edit_links_and_versions(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert 'data-md-color-scheme="slate"' in index and "Switch to dark mode" in index  # the dark palette
    edit = "https://github.com/lambda-constructs/lambda-constructs/edit/main/docs/index.md"
    assert f'href="{edit}"' in index
    assert '"version": {"default": "latest", "provider": "mike"}' in index  # the version selector, via mike


def test_the_home_page_example_runs_as_written(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "index.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, re.S)
    assert code is not None
    (tmp_path / "app.py").write_text(code.group(1))
    run = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out")},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    template = (tmp_path / "cdk.out" / "Orders.template.json").read_text()
    assert '"VisibilityTimeout": 41' in template  # 6 x 6 s + 5 s, as the comment says


def test_help_shows_the_real_signature() -> None:
    """jsii's metaclass defines __call__(*args, **kwargs); the classes carry __init__'s signature instead."""
    from lambda_constructs import HttpEndpoint, ProductionFunction, QueueConsumer

    for cls in (ProductionFunction, QueueConsumer, HttpEndpoint):
        parameters = list(inspect.signature(cls).parameters)
        assert parameters[:2] == ["scope", "id"], cls
    assert "p99" in inspect.signature(ProductionFunction).parameters
    import pydoc

    assert "ProductionFunction(scope: 'Construct', id: 'str', *, code:" in pydoc.render_doc(
        ProductionFunction, renderer=pydoc.plaintext
    )
