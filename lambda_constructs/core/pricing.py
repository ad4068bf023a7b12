"""Lambda prices and cost arithmetic, in one table that a user can override.

Pure Python. Prices are us-east-1, first tier (AWS Lambda pricing page; the arm64 provisioned
figures are published per region on the same page and vary). Pass your own :class:`Prices` where
your region or contract differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECONDS_PER_MONTH = 730 * 3600  # AWS's pricing examples use 730 hours a month


@dataclass(frozen=True)
class ArchPrices:
    duration_gb_s: float
    provisioned_gb_s: float
    provisioned_duration_gb_s: float


@dataclass(frozen=True)
class Prices:
    x86_64: ArchPrices = ArchPrices(0.0000166667, 0.0000041667, 0.0000097222)
    arm64: ArchPrices = ArchPrices(0.0000133334, 0.0000033334, 0.0000077778)
    requests_per_million: float = 0.20
    # a standard-resolution CloudWatch alarm on one metric (Amazon CloudWatch pricing)
    alarm_per_month: float = 0.10

    def for_arch(self, architecture: str) -> ArchPrices:
        arch = architecture.lower().replace("-", "_")
        if arch in ("arm64", "arm_64"):
            return self.arm64
        if arch in ("x86_64", "x86"):
            return self.x86_64
        raise ValueError(f"architecture={architecture!r} is invalid; allowed: arm64 | x86_64")

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Prices:
        """Prices from a mapping such as ``{"arm64": {"duration_gb_s": 0.0000133334}, "requests_per_million": 0.2}``;
        unnamed figures keep their defaults. Raises ValueError naming an unknown key or a non-number."""
        base = Prices()
        if not isinstance(data, Mapping):
            raise ValueError(f"a price table is a JSON object, not {type(data).__name__}")
        known = {"x86_64", "arm64", "requests_per_million", "alarm_per_month"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown price keys {sorted(unknown)}; allowed: {sorted(known)}")
        values: dict[str, Any] = {}
        for arch in ("x86_64", "arm64"):
            override = data.get(arch) or {}
            if not isinstance(override, Mapping):
                raise ValueError(f"{arch} prices are a JSON object, not {type(override).__name__}")
            fields = {
                f: getattr(getattr(base, arch), f)
                for f in ("duration_gb_s", "provisioned_gb_s", "provisioned_duration_gb_s")
            }
            bad = set(override) - set(fields)
            if bad:
                raise ValueError(f"unknown {arch} price keys {sorted(bad)}; allowed: {sorted(fields)}")
            fields.update({k: _price(f"{arch}.{k}", v) for k, v in override.items()})
            values[arch] = ArchPrices(**fields)
        values["requests_per_million"] = _price(
            "requests_per_million", data.get("requests_per_million", base.requests_per_million)
        )
        values["alarm_per_month"] = _price("alarm_per_month", data.get("alarm_per_month", base.alarm_per_month))
        return Prices(**values)


DEFAULT_PRICES = Prices()


def _price(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise ValueError(f"price {name}={value!r} is invalid; allowed: a number >= 0")
    return float(value)


def gb_seconds(memory_mb: float, duration_ms: float) -> float:
    return memory_mb / 1024 * duration_ms / 1000


def duration_cost_per_million(
    memory_mb: float, duration_ms: float, architecture: str = "arm64", prices: Prices = DEFAULT_PRICES
) -> float:
    """USD of duration for one million invocations (requests excluded).

    As in the cost table of "AWS Lambda in production: patterns".

    128 MB x 800 ms on arm64 -> $1.33; 1,024 MB x 80 ms -> $1.07.
    """
    return gb_seconds(memory_mb, duration_ms) * prices.for_arch(architecture).duration_gb_s * 1_000_000


@dataclass(frozen=True)
class MonthlyCost:
    duration: float
    requests: float
    provisioned: float

    @property
    def total(self) -> float:
        return self.duration + self.requests + self.provisioned


def monthly_cost(
    *,
    memory_mb: float,
    duration_ms: float,
    invocations: float,
    architecture: str = "arm64",
    provisioned_min: int = 0,
    prices: Prices = DEFAULT_PRICES,
) -> MonthlyCost:
    """Estimated monthly cost: duration + requests + provisioned concurrency at ``provisioned_min``.

    With provisioned concurrency, invocations are charged the lower "duration while provisioned"
    rate (assumes the warm pool serves the traffic, which auto scaling at 0.7 aims for).
    """
    arch = prices.for_arch(architecture)
    rate = arch.provisioned_duration_gb_s if provisioned_min else arch.duration_gb_s
    duration = gb_seconds(memory_mb, duration_ms) * rate * invocations
    requests = invocations / 1_000_000 * prices.requests_per_million
    provisioned = provisioned_min * memory_mb / 1024 * SECONDS_PER_MONTH * arch.provisioned_gb_s
    return MonthlyCost(duration, requests, provisioned)
