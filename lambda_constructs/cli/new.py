"""``lambda-constructs new``: a service repository a platform team can push on day one. Pure Python."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from lambda_constructs.cli.errors import UserError

CDK_CLI_VERSION = "2.1148.1"  # the npm aws-cdk this release is tested with (package.json; a test keeps them equal)
NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
# files whose names the templates cannot carry as they are (a packaged dotfile is easy to lose)
RENAMES = {"gitignore": ".gitignore"}


def stack_name(service: str) -> str:
    """``orders-api`` -> ``OrdersApi``: the CloudFormation stack and construct id."""
    return "".join(part.capitalize() for part in service.split("-"))


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
    values = {
        "{{service}}": service,
        "{{stack}}": stack_name(service),
        "{{version}}": __version__,
        "{{cdk_cli}}": CDK_CLI_VERSION,
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
            raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None
        written.append(target)
    return written


class _Entry:
    def __init__(self, traversable: resources.abc.Traversable, parts: tuple[str, ...]) -> None:
        self.traversable, self.relative_parts = traversable, parts


def _walk(node: resources.abc.Traversable, parts: tuple[str, ...] = ()) -> list[_Entry]:
    found: list[_Entry] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name in ("__pycache__",) or child.name.endswith(".pyc"):
            continue
        if child.is_dir():
            found.extend(_walk(child, (*parts, child.name)))
        else:
            found.append(_Entry(child, (*parts, child.name)))
    return found
