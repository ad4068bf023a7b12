"""Node.js for jsii whatever is imported first: the start-up hook the wheel installs (lambda_constructs_node.pth)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_constructs._node import MIN_NODE_MAJOR, node_major, wheel_node

ROOT = Path(__file__).resolve().parents[1]
OLD_NODE = shutil.which("node", path="/usr/bin:/usr/local/bin")

# aws_cdk first, as an app.py sorted by ruff, an IDE run or pytest from an editor does it
APP = """
import os
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
app = cdk.App()
sqs.Queue(cdk.Stack(app, "S"), "Q", enforce_ssl=True)
print(len(app.synth().get_stack_by_name("S").template["Resources"]), os.environ.get("JSII_NODE"))
"""


def _env(path: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env.update(PATH=path, PYTHONDONTWRITEBYTECODE="1")
    return env


def _run(tmp_path: Path, with_hook: bool) -> subprocess.CompletedProcess[str]:
    """APP with no site-packages processing (-S): the library from this checkout, its dependencies from
    site-packages on sys.path, and, when ``with_hook``, the .pth file exactly as the wheel ships it,
    processed by site the way interpreter start-up processes site-packages."""
    (tmp_path / "lambda_constructs_node.pth").write_text((ROOT / "lambda_constructs_node.pth").read_text())
    paths = [str(ROOT), *(p for p in sys.path if p.endswith("site-packages"))]
    code = f"import sys; sys.path[:0] = {paths!r}\n"
    if with_hook:
        code += f"import site; site.addsitedir({str(tmp_path)!r})\n"
    return subprocess.run(
        [sys.executable, "-S", "-c", code + APP],
        env=_env(str(Path(OLD_NODE or "").parent)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.mark.skipif(
    OLD_NODE is None or (node_major(OLD_NODE) or MIN_NODE_MAJOR) >= MIN_NODE_MAJOR,
    reason="needs a Node.js older than 22 on the system PATH (this machine's /usr/bin/node is 20)",
)
def test_aws_cdk_imported_first_with_node_20_on_path_gets_the_wheel_node(tmp_path: Path) -> None:
    run = _run(tmp_path, with_hook=True)
    assert run.returncode == 0, run.stderr
    assert "end-of-life" not in run.stderr and "!!" not in run.stderr, run.stderr
    resources, node = run.stdout.split()
    assert resources == "2"  # the queue and its TLS-only policy
    assert node == wheel_node() and (node_major(node) or 0) >= MIN_NODE_MAJOR
    # the control: the same program without the hook runs PATH's Node.js 20 and gets jsii's banner
    control = _run(tmp_path, with_hook=False)
    assert "end-of-life" in control.stderr and control.stdout.split()[1] == "None", control.stderr[-500:]


def test_the_hook_only_acts_on_jsii_and_removes_itself() -> None:
    import _lambda_constructs_node as hook

    finder = hook.BeforeJsii()
    sys.meta_path.insert(0, finder)
    try:
        assert finder.find_spec("json") is None and finder in sys.meta_path  # any other import: untouched
        assert "jsii" in sys.modules  # the test session has loaded jsii already: ensure_node is a no-op
        assert finder.find_spec("jsii") is None and finder not in sys.meta_path
    finally:
        hook.uninstall()
    hook.install()  # jsii is loaded: too late to choose, so nothing is inserted
    assert not any(isinstance(f, hook.BeforeJsii) for f in sys.meta_path)
