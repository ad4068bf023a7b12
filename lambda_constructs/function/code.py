"""What the function's code is: a zip asset (and its size), or a container image (and its platform).

aws-cdk-lib does not expose the ``platform`` an image asset was created with (it only feeds the
asset hash), so on import the library records it on the object that ``Code.from_asset_image`` /
``DockerImageCode.from_image_asset`` return, with the call itself unchanged. An image built for
the wrong platform deploys and then fails on every invoke with "exec format error".
"""

from __future__ import annotations

import functools
import os
import weakref
import zipfile
from pathlib import Path
from typing import Any

from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_ecr_assets import Platform

from lambda_constructs.core.errors import Problem

PACKAGE_WARN_MB = 10  # "Deployment package > 10 MB: externalize dependencies to a Lambda Layer"
PACKAGE_MAX_UNZIPPED_MB = 250  # Lambda quota: function plus layers, unzipped
_UNKNOWN = object()
_PLATFORM_ATTR = "_lambda_constructs_platform"


def _recording(factory: Any) -> Any:
    @functools.wraps(factory)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        code = factory(*args, **kwargs)
        platform = kwargs.get("platform")
        object.__setattr__(code, _PLATFORM_ATTR, platform.platform if isinstance(platform, Platform) else None)
        return code

    wrapper.__lambda_constructs_wrapped__ = True  # type: ignore[attr-defined]
    return staticmethod(wrapper)


_FACTORY_ATTR = "_lambda_constructs_factory"


def _remembering(factory: Any) -> Any:
    """Record how a ``Code.from_asset`` was made, so it can be made again for another stack."""

    @functools.wraps(factory)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        code = factory(*args, **kwargs)
        object.__setattr__(code, _FACTORY_ATTR, (factory, args, kwargs))
        return code

    wrapper.__lambda_constructs_wrapped__ = True  # type: ignore[attr-defined]
    return staticmethod(wrapper)


for _cls, _name in ((lambda_.Code, "from_asset_image"), (lambda_.DockerImageCode, "from_image_asset")):
    if not getattr(getattr(_cls, _name), "__lambda_constructs_wrapped__", False):
        setattr(_cls, _name, _recording(getattr(_cls, _name)))
if not getattr(lambda_.Code.from_asset, "__lambda_constructs_wrapped__", False):
    lambda_.Code.from_asset = _remembering(lambda_.Code.from_asset)  # type: ignore[method-assign]

_COPIES: weakref.WeakKeyDictionary[Any, dict[int, tuple[Any, Any]]] = weakref.WeakKeyDictionary()


def for_stack(code: Any, scope: Any) -> Any:
    """``code`` for a function in the stack of ``scope``: the same object in the first stack that uses it,
    one fresh copy of the same asset per other stack (an asset belongs to one stack; aws-cdk-lib otherwise
    fails with "Asset is already associated with another stack"). The copies share one hash, so cdk.out
    and the bootstrap bucket hold the asset once."""
    if not isinstance(code, lambda_.AssetCode):
        return code
    from lambda_constructs import _cdk

    stack = _cdk.stack_of(scope)  # jsii hands back the same Python object for the same stack
    copies = _COPIES.setdefault(code, {})
    if not copies:
        copies[id(stack)] = (stack, code)
    entry = copies.get(id(stack))
    if entry is None or entry[0] is not stack:
        entry = copies[id(stack)] = (stack, _copy(code))
    return entry[1]


def _copy(code: Any) -> Any:
    recipe = getattr(code, _FACTORY_ATTR, None)
    if recipe is None:  # made before lambda_constructs was imported: same path, default options
        return lambda_.Code.from_asset(code.path)
    factory, args, kwargs = recipe
    return factory(*args, **kwargs)


def is_image(code: object) -> bool:
    """True for container-image code: an image asset, an ECR image, or a DockerImageCode."""
    return isinstance(code, lambda_.AssetImageCode | lambda_.EcrImageCode | lambda_.DockerImageCode)


def image_platform_problem(code: object, arm64: bool) -> Problem | None:
    """A problem when an image asset's platform is missing or does not match the architecture."""
    if isinstance(code, lambda_.EcrImageCode):
        return None  # a pushed image: its platform cannot be read here (documented; a warning is added)
    platform = getattr(code, _PLATFORM_ATTR, _UNKNOWN)
    wanted = "linux/arm64" if arm64 else "linux/amd64"
    fix = f"platform=Platform.{'LINUX_ARM64' if arm64 else 'LINUX_AMD64'} (from aws_cdk.aws_ecr_assets)"
    if platform is _UNKNOWN or platform is None:
        return Problem(
            "code.platform",
            None,
            wanted,
            f"an image built for the host's platform fails on invoke ('exec format error'); pass {fix}",
        )
    if platform != wanted:
        return Problem(
            "code.platform",
            platform,
            f"{wanted} (the function's architecture is {'arm64' if arm64 else 'x86_64'})",
            f"pass {fix}, or set architecture to match the image",
        )
    return None


@functools.lru_cache(maxsize=256)
def _directory_bytes(path: str, _mtime: float) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def asset_unzipped_bytes(code: object) -> int | None:
    """Unzipped bytes of a ``Code.from_asset`` directory or zip file; None when not measurable."""
    if not isinstance(code, lambda_.AssetCode):
        return None
    path_text: str | None = getattr(code, "_lc_asset_path", None)
    if path_text is None:  # read from jsii once per Code object (it is often shared by many functions)
        path_text = code.path
        object.__setattr__(code, "_lc_asset_path", path_text)
    path = Path(path_text)
    try:
        if path.is_dir():
            return _directory_bytes(str(path), path.stat().st_mtime)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return sum(info.file_size for info in archive.infolist())
    except OSError:
        return None
    return None


def package_size_problem(size_bytes: int | None) -> Problem | None:
    if size_bytes is None or size_bytes <= PACKAGE_MAX_UNZIPPED_MB * 1024 * 1024:
        return None
    return Problem(
        "code",
        f"{size_bytes / 1024 / 1024:.1f} MB unzipped",
        f"<= {PACKAGE_MAX_UNZIPPED_MB} MB unzipped (Lambda quota, function plus layers)",
        "move dependencies to layers or use a container image (up to 10 GB)",
    )
