"""Lambda prices and cost arithmetic, in one table that a user can override.

Pure Python. One table, dated (`PRICES_DATE`): us-east-1 list prices, first duration tier, from
the AWS Lambda pricing page (https://aws.amazon.com/lambda/pricing/: requests, duration, provisioned
concurrency, ephemeral storage, SnapStart) and the Amazon CloudWatch pricing page
(https://aws.amazon.com/cloudwatch/pricing/: a standard-resolution alarm, log ingestion). The arm64
provisioned-concurrency figures are published per region on the same page and vary.

Other regions: `prices_for()` returns the us-east-1 figures **marked as assumed** (the pricing page
renders regional prices in the browser; they were not verified here). For a region's real figures,
``lambda-constructs report --price-list`` reads them from the AWS Price List API, or pass your own
table with ``--prices``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

SECONDS_PER_MONTH = 730 * 3600  # AWS's pricing examples use 730 hours a month


@dataclass(frozen=True)
class ArchPrices:
    duration_gb_s: float
    provisioned_gb_s: float
    provisioned_duration_gb_s: float


PRICES_DATE = "2026-12-02"
PRICES_SOURCE = "AWS Lambda pricing and Amazon CloudWatch pricing pages, us-east-1 list prices"
FREE_EPHEMERAL_MB = 512  # 512 MB of ephemeral storage is included (AWS Lambda pricing)
VERIFIED_REGIONS = frozenset({"us-east-1"})
SCALARS = (
    "requests_per_million",
    "alarm_per_month",
    "ephemeral_gb_s",
    "snapstart_cache_gb_s",
    "snapstart_restore_gb",
    "log_ingestion_gb",
)


@dataclass(frozen=True)
class Prices:
    x86_64: ArchPrices = ArchPrices(0.0000166667, 0.0000041667, 0.0000097222)
    arm64: ArchPrices = ArchPrices(0.0000133334, 0.0000033334, 0.0000077778)
    requests_per_million: float = 0.20
    # a standard-resolution CloudWatch alarm on one metric (Amazon CloudWatch pricing)
    alarm_per_month: float = 0.10
    # ephemeral storage above the free 512 MB, per GB-second of duration (AWS Lambda pricing)
    ephemeral_gb_s: float = 0.0000000309
    # SnapStart (Python, .NET): the snapshot cache per GB-second while a version is active, and each
    # restore per GB restored (AWS Lambda pricing, SnapStart; Java managed runtimes are not charged)
    snapstart_cache_gb_s: float = 0.0000015046
    snapstart_restore_gb: float = 0.0001397998
    # CloudWatch Logs standard ingestion per GB: what a function's log lines cost (Amazon CloudWatch pricing)
    log_ingestion_gb: float = 0.50
    region: str = "us-east-1"
    basis: str = f"{PRICES_SOURCE}, table of {PRICES_DATE}"

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
        known = {"x86_64", "arm64", *SCALARS}
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
        for name in SCALARS:
            values[name] = _price(name, data.get(name, getattr(base, name)))
        return Prices(**values, basis="a price table given with --prices")


DEFAULT_PRICES = Prices()


def prices_for(region: str | None) -> Prices:
    """The table's prices for ``region``: us-east-1 as published; any other region the same figures,
    marked as assumed equal to us-east-1 (not verified) in ``basis``."""
    if region is None or region in VERIFIED_REGIONS:
        return DEFAULT_PRICES if region in (None, "us-east-1") else replace(DEFAULT_PRICES, region=region)
    return replace(
        DEFAULT_PRICES,
        region=region,
        basis=f"{region}: assumed equal to us-east-1 (not verified; use --price-list or --prices), "
        f"table of {PRICES_DATE}",
    )


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


# ------------------------------------------------------------------ per-function components

# bytes Lambda writes per invocation for its own records at INFO system level, from the formats of the
# START / END / REPORT lines (Text) and the platform.start / platform.runtimeDone / platform.report
# events (JSON, "Configuring advanced logging controls"): JSON logs are larger
_REQUEST_ID = "7f3a1c2b-5d4e-4f6a-8b9c-0d1e2f3a4b5c"
_TEXT_RECORDS = (
    f"START RequestId: {_REQUEST_ID} Version: $LATEST\n",
    f"END RequestId: {_REQUEST_ID}\n",
    f"REPORT RequestId: {_REQUEST_ID}\tDuration: 312.45 ms\tBilled Duration: 313 ms\tMemory Size: 1024 MB\t"
    "Max Memory Used: 89 MB\t\n",
)
_SPANS = [
    {"name": "responseLatency", "start": "2026-12-02T07:00:00.001Z", "durationMs": 312.1},
    {"name": "responseDuration", "start": "2026-12-02T07:00:00.313Z", "durationMs": 0.1},
]
_JSON_RECORDS = tuple(
    json.dumps(record, separators=(",", ":")) + "\n"
    for record in (
        {
            "time": "2026-12-02T07:00:00.000Z",
            "type": "platform.start",
            "record": {"requestId": _REQUEST_ID, "version": "$LATEST"},
        },
        {
            "time": "2026-12-02T07:00:00.313Z",
            "type": "platform.runtimeDone",
            "record": {
                "requestId": _REQUEST_ID,
                "status": "success",
                "spans": _SPANS,
                "metrics": {"durationMs": 312.45, "producedBytes": 42},
            },
        },
        {
            "time": "2026-12-02T07:00:00.314Z",
            "type": "platform.report",
            "record": {
                "requestId": _REQUEST_ID,
                "metrics": {"durationMs": 312.45, "billedDurationMs": 313, "memorySizeMB": 1024, "maxMemoryUsedMB": 89},
                "status": "success",
            },
        },
    )
)
PLATFORM_LOG_BYTES = {"Text": sum(len(r) for r in _TEXT_RECORDS), "JSON": sum(len(r) for r in _JSON_RECORDS)}


@dataclass(frozen=True)
class Usage:
    """One function's month, each figure with where it came from (``measured`` / ``assumed`` / ``template``)."""

    memory_mb: int
    architecture: str
    invocations: float
    duration_ms: float
    provisioned_min: float = 0
    ephemeral_mb: int = FREE_EPHEMERAL_MB
    snap_start: bool = False
    cold_start_rate: float = 0.0
    alarms: int = 0
    log_format: str = "Text"
    app_log_bytes: float = 0.0  # the function's own log lines per invocation (0: not known)


def cost_components(usage: Usage, prices: Prices = DEFAULT_PRICES) -> dict[str, float]:
    """Monthly USD per price component for one function (each tested alone in tests/test_pricing.py).

    duration (on-demand, or the "duration while provisioned" rate when a warm pool serves the traffic),
    requests, provisioned concurrency (its GB-seconds for the whole month), ephemeral storage above 512 MB
    (per GB-second of duration), SnapStart (the cache for one active version all month, plus a restore
    of the memory size for each cold start), alarms, log ingestion (Lambda's own records per invocation,
    larger in JSON, plus the application's lines when known).
    """
    arch = prices.for_arch(usage.architecture)
    gb = usage.memory_mb / 1024
    seconds = usage.invocations * usage.duration_ms / 1000
    rate = arch.provisioned_duration_gb_s if usage.provisioned_min else arch.duration_gb_s
    extra_storage_gb = max(0, usage.ephemeral_mb - FREE_EPHEMERAL_MB) / 1024
    log_bytes = usage.invocations * (
        PLATFORM_LOG_BYTES.get(usage.log_format, PLATFORM_LOG_BYTES["Text"]) + usage.app_log_bytes
    )
    return {
        "duration": gb * seconds * rate,
        "requests": usage.invocations / 1_000_000 * prices.requests_per_million,
        "provisioned": usage.provisioned_min * gb * SECONDS_PER_MONTH * arch.provisioned_gb_s,
        "ephemeral_storage": extra_storage_gb * seconds * prices.ephemeral_gb_s,
        "snapstart": (
            gb * SECONDS_PER_MONTH * prices.snapstart_cache_gb_s
            + usage.invocations * usage.cold_start_rate * gb * prices.snapstart_restore_gb
        )
        if usage.snap_start
        else 0.0,
        "alarms": usage.alarms * prices.alarm_per_month,
        "log_ingestion": log_bytes / 1024**3 * prices.log_ingestion_gb,
    }
