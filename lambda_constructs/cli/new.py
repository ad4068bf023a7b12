"""``lambda-constructs new``: a service repository a platform team can push on day one. Pure Python."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata, resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from lambda_constructs.cli.errors import CommandFailed, UserError
from lambda_constructs.core.pricing import DEFAULT_PRICES, SECONDS_PER_MONTH

CDK_CLI_VERSION = "2.1148.1"  # the npm aws-cdk this release is tested with (package.json; a test keeps them equal)
NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
DISTRIBUTION = "lambda-constructs"
# the running library's dependencies, pinned in the service at the versions it runs with here
PINNED_WITH = ("aws-cdk-lib", "constructs", "cdk-nag")
# files whose names the templates cannot carry as they are (a packaged dotfile is easy to lose)
RENAMES = {"gitignore": ".gitignore"}
API_MEMORY_MB = 1024  # ProductionFunction's default memory (Memory.io_bound()), for the README's idle cost


def stack_name(service: str) -> str:
    """``orders-api`` -> ``OrdersApi``: the CloudFormation stack and construct id."""
    return "".join(part.capitalize() for part in service.split("-"))


def logical_id(*path: str) -> str:
    """aws-cdk-lib's logical id for a construct path below the stack (``Api/Function/Resource``):
    the path without ``Resource``/``Default`` and repeats, then 8 hex digits of the path's MD5."""
    human: list[str] = []
    for part in path:
        if part not in ("Resource", "Default") and (not human or human[-1] != part):
            human.append(part)
    digest = hashlib.md5("/".join(path).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    return "".join(human) + digest


def requirement(distribution: str = DISTRIBUTION) -> str:
    """The requirement line that installs the running library from where it was installed from.

    PEP 610 (``direct_url.json``, "Recording the Direct URL Origin of installed distributions")
    records a wheel file, a directory, an archive URL or a VCS commit; an install from an index
    (PyPI or a private one, which pip does not record) gets ``name==version``.
    """
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from lambda_constructs import __version__

        return f"{distribution}=={__version__}"
    raw = dist.read_text("direct_url.json")
    info = json.loads(raw) if raw else None
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        return f"{distribution}=={dist.version}"
    url: str = info["url"]
    fragment = f"#subdirectory={info['subdirectory']}" if info.get("subdirectory") else ""
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        return f"{distribution} @ {vcs['vcs']}+{url}@{vcs['commit_id']}{fragment}  # {dist.version}"
    directory = info.get("dir_info")
    if isinstance(directory, dict):
        if directory.get("editable"):
            return f"-e {unquote(urlparse(url).path) if url.startswith('file:') else url}  # {dist.version}, editable"
        return f"{distribution} @ {url}{fragment}  # {dist.version}"
    return f"{distribution} @ {url}{fragment}  # {dist.version}"


def local_source(line: str) -> str | None:
    """The path on this machine ``line`` installs from (a ``file:`` URL or an editable checkout), else None.

    A generated service pushed with such a line fails in its own CI and cannot be updated by
    Dependabot or Renovate: neither can reach a path on the machine that ran ``new``.
    """
    spec = line.split("  #", 1)[0].strip()
    if spec.startswith("-e "):
        target = spec[3:].strip()
        return None if "://" in target and not target.startswith("file:") else unquote(urlparse(target).path)
    _, at, url = spec.partition(" @ ")
    if at and url.startswith("file:"):
        return unquote(urlparse(url.split("#", 1)[0]).path)
    return None


def requirements() -> str:
    """requirements.txt's lines: the library as it was installed here, and its CDK dependencies pinned."""
    lines = [requirement()]
    for name in PINNED_WITH:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return "\n".join(lines)


def generate(service: str, directory: Path) -> list[Path]:
    """Write the starter for ``service`` into ``directory`` (new or empty); returns the files written."""
    from lambda_constructs import __version__

    if not isinstance(service, str) or not NAME.match(service):
        raise UserError(
            f"SERVICE_NAME {service!r} is invalid; allowed: 2..40 characters of a-z, 0-9 and '-', "
            "starting with a letter (it names the stack and the Powertools service)"
        )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UserError(f"{directory} exists and is not an empty directory; choose another with --dir")
    gb = API_MEMORY_MB / 1024
    values = {
        "{{service}}": service,
        "{{stack}}": stack_name(service),
        "{{version}}": __version__,
        "{{cdk_cli}}": CDK_CLI_VERSION,
        "{{requirements}}": requirements(),
        "{{api_id}}": logical_id("Api", "Function", "Resource"),
        "{{worker_id}}": logical_id("Worker", "Function", "Resource"),
        "{{api_memory_gb}}": f"{gb:g}",
        "{{pc_gb_s}}": f"{DEFAULT_PRICES.arm64.provisioned_gb_s:.10f}".rstrip("0"),
        "{{pc_month}}": f"{DEFAULT_PRICES.arm64.provisioned_gb_s * gb * SECONDS_PER_MONTH:.2f}",
    }
    root = resources.files("lambda_constructs.cli").joinpath("starter")
    written: list[Path] = []
    for source in _walk(root):
        relative = Path(*source.relative_parts)
        relative = relative.with_name(RENAMES.get(relative.name, relative.name))
        target = directory / relative
        text = source.traversable.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandFailed(f"cannot write {target}: {exc.strerror or exc}") from None
        written.append(target)
    return written


class _Entry:
    def __init__(self, traversable: resources.abc.Traversable, parts: tuple[str, ...]) -> None:
        self.traversable, self.relative_parts = traversable, parts


def _walk(node: resources.abc.Traversable, parts: tuple[str, ...] = ()) -> list[_Entry]:
    found: list[_Entry] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name in ("__pycache__", ".mypy_cache", ".pytest_cache") or child.name.endswith(".pyc"):
            continue
        if child.is_dir():
            found.extend(_walk(child, (*parts, child.name)))
        else:
            found.append(_Entry(child, (*parts, child.name)))
    return found
