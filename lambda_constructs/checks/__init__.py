"""The rule pack: pure production-readiness rules (`rules`) and their cdk-nag 3 pack (`pack`).

``rules`` imports no CDK; the pack (and cdk-nag) loads only when ``ProductionReadinessChecks`` or
``enable_checks`` is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_constructs.checks.pack import PACK_NAME, ProductionReadinessChecks, enable_checks


def __getattr__(name: str) -> Any:
    if name in ("PACK_NAME", "ProductionReadinessChecks", "enable_checks"):
        return getattr(importlib.import_module("lambda_constructs.checks.pack"), name)
    raise AttributeError(f"module 'lambda_constructs.checks' has no attribute {name!r}")


__all__ = ["PACK_NAME", "ProductionReadinessChecks", "enable_checks"]
