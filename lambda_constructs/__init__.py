"""lambda-constructs: AWS CDK v2 constructs for production Lambda functions.

The right configuration is the default and the wrong one is refused at construction time
with a :class:`ConfigurationError`. Start with :class:`ProductionFunction`.

The pure modules (errors, limits, sizing, pricing, report) import no CDK; the constructs are
loaded on first use, so ``lambda-constructs report`` and the sizing helpers start instantly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import Invocation, ProvisionedConcurrency
from .errors import ConfigurationError, Problem
from .sizing import Memory, Sizing, timeout_seconds_from_p99_ms

if TYPE_CHECKING:
    from .checks import ProductionReadinessChecks, enable_checks
    from .dashboard import ServiceDashboard
    from .deployment import Deployment
    from .function import LATEST_PYTHON, ProductionFunction, timeout_from_p99
    from .http import HttpEndpoint
    from .queue import QueueConsumer
    from .schedule import ScheduledFunction
    from .stream import StreamConsumer

_LAZY = {
    "LATEST_PYTHON": "function",
    "ProductionFunction": "function",
    "timeout_from_p99": "function",
    "Deployment": "deployment",
    "QueueConsumer": "queue",
    "StreamConsumer": "stream",
    "ScheduledFunction": "schedule",
    "HttpEndpoint": "http",
    "ProductionReadinessChecks": "checks",
    "enable_checks": "checks",
    "ServiceDashboard": "dashboard",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_constructs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "LATEST_PYTHON",
    "ConfigurationError",
    "Deployment",
    "HttpEndpoint",
    "Invocation",
    "Memory",
    "Problem",
    "ProductionFunction",
    "ProductionReadinessChecks",
    "ProvisionedConcurrency",
    "QueueConsumer",
    "ScheduledFunction",
    "ServiceDashboard",
    "Sizing",
    "StreamConsumer",
    "enable_checks",
    "timeout_from_p99",
    "timeout_seconds_from_p99_ms",
]
__version__ = "0.1.0"
