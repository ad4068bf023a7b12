"""Right-sizing logic: timeouts from a measured p99, memory presets, Power Tuning results.

Pure Python, no CDK imports, so it is fast to test and usable from the CLI. Figures:
- timeout = 2-3 x measured p99 ("a timeout is a contract", "Lambda in Production"); we use 3 x by default;
- I/O-bound functions: 512-1,024 MB is typically sufficient ("Lambda in Production") -> 1,024 MB;
- CPU-bound functions: 1,769 MB is exactly one vCPU (AWS Lambda developer guide, "Lambda in Production");
- Power Tuning strategies cost / speed / balanced as in alexcasalboni/aws-lambda-power-tuning.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lambda_constructs.core import limits
from lambda_constructs.core.errors import ConfigurationError, Problem, concrete_problem, short

DEFAULT_TIMEOUT_MULTIPLIER = 3
TIMEOUT_MULTIPLIER_RANGE = limits.Range(1, 10, "x p99")
IO_BOUND_MB = 1024
CPU_BOUND_MB = 1769
STRATEGIES = ("cost", "speed", "balanced")
DEFAULT_BALANCED_WEIGHT = 0.5
SIZING_MAX_AGE_DAYS = 90
MIN_SAMPLES_FOR_P99 = 1000


def timeout_seconds_from_p99_ms(p99_ms: float, multiplier: float = DEFAULT_TIMEOUT_MULTIPLIER) -> int:
    """``p99_ms x multiplier``, rounded UP to whole seconds, at least 1 s.

    Decimal arithmetic, so that 1,000 ms x 3 is exactly 3 s and not 3.0000000000000004.
    Raises [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] for p99 <= 0, a multiplier outside
    1..10, and a result above Lambda's 900 s maximum (with a pointer to Step Functions, "Lambda in Production").
    """
    found: list[Problem] = []
    token = concrete_problem("multiplier", multiplier, "the timeout is computed from it at synthesis")
    if token:
        raise ConfigurationError([token])
    if isinstance(p99_ms, bool) or not isinstance(p99_ms, int | float) or not p99_ms > 0:
        found.append(Problem("p99", _ms(p99_ms), "a duration > 0 ms"))
    elif not math.isfinite(p99_ms):
        found.append(Problem("p99", _ms(p99_ms), "a finite duration > 0 ms"))
    problem = limits.check_range(
        "multiplier", multiplier, TIMEOUT_MULTIPLIER_RANGE, "'Lambda in Production' recommends 2-3 x the measured p99"
    )
    if problem:
        found.append(problem)
    if found:  # both at once: a user sees every mistake in one run
        raise ConfigurationError(found)
    seconds = math.ceil(Decimal(str(p99_ms)) * Decimal(str(multiplier)) / 1000)
    seconds = max(limits.TIMEOUT_MIN_S, seconds)
    if seconds > limits.TIMEOUT_MAX_S:
        raise ConfigurationError(
            [
                Problem(
                    "p99",
                    _ms(p99_ms),
                    f"p99 x {multiplier} <= {limits.TIMEOUT_MAX_S} s (got {seconds} s)",
                    "Work this long belongs in a Step Functions workflow of short Lambda steps "
                    "(one-year execution window), not in one Lambda invocation",
                )
            ]
        )
    return seconds


def _ms(value: object) -> object:
    return f"{value} ms" if isinstance(value, int | float) and not isinstance(value, bool) else value


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class PowerTuningPoint:
    """One row of Power Tuning's ``stats``: memory, average price (USD), average duration (ms)."""

    memory_mb: int
    average_price: float
    average_duration_ms: float


def parse_power_tuning(
    result: Mapping[str, Any] | str | os.PathLike[str], prop: str = "power_tuning"
) -> list[PowerTuningPoint]:
    """Read Power Tuning's state-machine output: a mapping, a JSON string, or a file path.

    Accepted shapes: the state machine's output (run with ``includeOutputResults`` so it carries
    ``stats``); the same nested under ``output`` or ``results``; and a Step Functions
    ``describe-execution`` response, whose ``output`` is the output as a JSON string.

    Rows are read as Power Tuning's own analyzer reads them (lambda/analyzer.js,
    ``extractStatistics``): a null row, or one whose ``averageDuration`` is 0 or missing (a branch
    that produced no durations) is left out; ``value`` may be a number or a numeric string. When the
    output names its own pick (``power``), it must be one of the remaining rows.
    """
    if isinstance(result, os.PathLike) or (isinstance(result, str) and not result.lstrip().startswith(("{", "["))):
        with naming_the_file(result):
            return _parse_power_tuning(_load_json(result, prop), prop)
    return _parse_power_tuning(_load_json(result, prop), prop)


@contextlib.contextmanager
def naming_the_file(path: object) -> Iterator[None]:
    """Problems found in a file's fields say which file: one sizing.p99_ms=0 among thirty files is findable."""
    try:
        yield
    except ConfigurationError as error:
        where = f"read from {os.fspath(path) if isinstance(path, str | os.PathLike) else path}"
        raise ConfigurationError(
            [Problem(p.prop, p.value, p.allowed, f"{where}; {p.hint}" if p.hint else where) for p in error.problems],
            error.path,
        ) from None


def _parse_power_tuning(data: Any, prop: str) -> list[PowerTuningPoint]:
    for _ in range(3):  # unwrap describe-execution / wrapper objects
        if not isinstance(data, Mapping) or "stats" in data:
            break
        inner = data.get("output", data.get("results"))
        if isinstance(inner, str):
            data = _load_json(inner, prop)
        elif isinstance(inner, Mapping):
            data = inner
        else:
            break
    stats = data.get("stats") if isinstance(data, Mapping) else None
    if not isinstance(stats, list) or not stats:
        raise ConfigurationError(
            [
                Problem(
                    prop,
                    short(data),
                    "Power Tuning output with a non-empty 'stats' list",
                    "run the state machine with includeOutputResults=true",
                )
            ]
        )
    points = [_point(i, row, prop) for i, row in enumerate(stats) if _has_durations(row)]
    if not points:
        raise ConfigurationError(
            [Problem(f"{prop}.stats", f"{len(stats)} rows", "at least one row with averageDuration > 0")]
        )
    power = data.get("power") if isinstance(data, Mapping) else None
    if power is not None and _as_number(power) not in {p.memory_mb for p in points}:
        raise ConfigurationError(
            [
                Problem(
                    f"{prop}.power",
                    power,
                    f"one of the stats rows' memory sizes ({', '.join(str(p.memory_mb) for p in points)})",
                    "the output's own pick is not among its rows: the file was edited or mixes two runs",
                )
            ]
        )
    return points


def _has_durations(row: object) -> bool:
    """Power Tuning keeps ``stat && stat.averageDuration``: truthy row, non-zero duration."""
    if not isinstance(row, Mapping):
        return row is not None and row != 0 and row != ""  # kept, then refused as malformed by _point
    duration = row.get("averageDuration")
    return duration not in (None, 0, "", False) and _as_number(duration) != 0


def _as_number(value: object) -> float | None:
    """A JSON number, or a numeric string (JavaScript compares and subtracts them as numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _load_json(result: Mapping[str, Any] | str | os.PathLike[str], prop: str) -> Any:
    if isinstance(result, Mapping):
        return result
    text: str
    if isinstance(result, os.PathLike) or (isinstance(result, str) and not result.lstrip().startswith(("{", "["))):
        if "\0" in os.fspath(result):
            raise ConfigurationError([Problem(prop, os.fspath(result), "a path without a NUL byte")])
        path = Path(result)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                [Problem(prop, str(path), "a readable JSON file", exc.strerror or str(exc))]
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigurationError([Problem(prop, str(path), "a UTF-8 JSON file", str(exc))]) from None
    elif isinstance(result, str):
        text = result
    else:
        raise ConfigurationError([Problem(prop, short(result), "a mapping, a JSON string or a path")])
    if not text.strip():
        raise ConfigurationError([Problem(prop, short(str(result)), "a JSON document", "the file is empty")])
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigurationError([Problem(prop, short(text), "valid JSON", f"JSON error: {exc}")]) from None


def _point(index: int, row: object, prop: str = "power_tuning") -> PowerTuningPoint:
    where = f"{prop}.stats[{index}]"
    if not isinstance(row, Mapping):
        raise ConfigurationError([Problem(where, short(row), "an object with value, averagePrice, averageDuration")])
    value, price, duration = (_as_number(row.get(k)) for k in ("value", "averagePrice", "averageDuration"))
    memory = (
        int(value) if value is not None and math.isfinite(value) and float(value).is_integer() else row.get("value")
    )
    problems = [
        limits.check_int_range(
            f"{where}.value", memory, limits.Range(limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB, "MB")
        ),
        _non_negative(f"{where}.averagePrice", price if price is not None else row.get("averagePrice")),
        _non_negative(f"{where}.averageDuration", duration if duration is not None else row.get("averageDuration")),
    ]
    found = [p for p in problems if p]
    if found:
        raise ConfigurationError(found)
    return PowerTuningPoint(int(memory), float(price), float(duration))  # type: ignore[arg-type]


def _non_negative(prop: str, value: object) -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0 <= value < math.inf):
        return Problem(prop, value, "a finite number >= 0")
    return None


def balanced_scores(points: Sequence[PowerTuningPoint], weight: float) -> list[float]:
    """Power Tuning's balanced score: weight x price/max price + (1-weight) x duration/max duration.

    The one deliberate difference from Power Tuning's analyzer: when every price is 0 (a
    free-tier or hand-made result), Power Tuning divides by a zero maximum, every score is NaN and
    it returns the first row; here the price term is 0 and the fastest row wins.
    """
    max_price = max(p.average_price for p in points) or 1.0
    max_duration = max(p.average_duration_ms for p in points) or 1.0
    return [weight * p.average_price / max_price + (1 - weight) * p.average_duration_ms / max_duration for p in points]


def pick_power(
    points: Sequence[PowerTuningPoint], strategy: str = "cost", weight: float = DEFAULT_BALANCED_WEIGHT
) -> PowerTuningPoint:
    """Pick a memory size the way Power Tuning's strategies do.

    ``cost``: lowest average price, ties broken by duration. ``speed``: lowest average
    duration, ties broken by price. ``balanced``: lowest `balanced_scores()` value, with
    ``weight`` in 0..1 (1 = all cost, 0 = all speed; Power Tuning's default 0.5).
    """
    if strategy not in STRATEGIES:
        raise ConfigurationError([Problem("strategy", strategy, " | ".join(STRATEGIES))])
    problem = limits.check_range("weight", weight, limits.Range(0, 1))
    if problem:
        raise ConfigurationError([problem])
    if not points:
        raise ConfigurationError([Problem("power_tuning", [], "a non-empty 'stats' list")])
    if strategy == "cost":
        return min(points, key=lambda p: (p.average_price, p.average_duration_ms))
    if strategy == "speed":
        return min(points, key=lambda p: (p.average_duration_ms, p.average_price))
    scores = balanced_scores(points, weight)
    return points[min(range(len(points)), key=lambda i: scores[i])]


@dataclass(frozen=True)
class Memory:
    """How much memory a function gets, and where that number came from.

    Use the factories: [`mb()`][lambda_constructs.core.sizing.Memory.mb],
    [`io_bound()`][lambda_constructs.core.sizing.Memory.io_bound],
    [`cpu_bound()`][lambda_constructs.core.sizing.Memory.cpu_bound],
    [`from_power_tuning()`][lambda_constructs.core.sizing.Memory.from_power_tuning]. The value is checked against
    Lambda's 128..10,240 MB range when a construct uses it, so the error can name the construct path.
    """

    size_mb: int
    source: str = "explicit"
    strategy: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @staticmethod
    def mb(size: int) -> Memory:
        """Exactly ``size`` MB (Lambda allows 128..10,240 in 1 MB steps)."""
        return Memory(size, "explicit")

    @staticmethod
    def io_bound() -> Memory:
        """1,024 MB: the top of "Lambda in Production" 512-1,024 MB band for I/O-bound functions."""
        return Memory(IO_BOUND_MB, "io_bound")

    @staticmethod
    def cpu_bound() -> Memory:
        """1,769 MB: exactly one full vCPU (AWS Lambda developer guide; "Lambda in Production")."""
        return Memory(CPU_BOUND_MB, "cpu_bound")

    @staticmethod
    def from_power_tuning(
        result: Mapping[str, Any] | str | os.PathLike[str],
        strategy: str = "cost",
        weight: float = DEFAULT_BALANCED_WEIGHT,
    ) -> Memory:
        """The memory Power Tuning's ``strategy`` would pick from its output ``result``.

        ``result`` is the state machine's output (mapping, JSON text or file path) with its
        ``stats`` list. Raises [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] for an unknown
        strategy or malformed output; a construct re-raises it with its own path.
        """
        points = parse_power_tuning(result)
        chosen = pick_power(points, strategy, weight)
        details: dict[str, Any] = {
            "averageDurationMs": chosen.average_duration_ms,
            "averagePrice": chosen.average_price,
            "candidates": len(points),
        }
        if strategy == "balanced":
            details["weight"] = weight
        return Memory(chosen.memory_mb, "power_tuning", strategy, details)

    def problems(self) -> list[Problem]:
        """Problems with this value (empty when it is within Lambda's range)."""
        problem = limits.check_int_range(
            "memory",
            self.size_mb,
            limits.Range(limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB, "MB"),
            "use Memory.io_bound() (1024 MB), Memory.cpu_bound() (1769 MB) or Memory.mb(n)",
        )
        return [problem] if problem else []

    def metadata(self) -> dict[str, Any]:
        """How the size was chosen, for the function resource's CloudFormation Metadata."""
        data: dict[str, Any] = {"sizeMb": self.size_mb, "source": self.source}
        if self.strategy:
            data["strategy"] = self.strategy
        data.update(self.details)
        return data


# --------------------------------------------------------------------------- sizing files


@dataclass(frozen=True)
class Sizing:
    """A production measurement written by ``lambda-constructs measure``.

    ``p99_ms`` feeds the timeout; the rest is recorded in the template Metadata and shown by
    ``lambda-constructs report``.
    """

    function: str
    p99_ms: float
    p999_ms: float | None
    sample_count: int
    window_days: float
    peak_concurrency: float | None
    measured_at: datetime
    source: str | None = None
    provisioned_utilization_max: float | None = None
    # traffic, recorded by `measure` since 0.3 (older files load without them): per function cost and drift
    invocations_per_month: float | None = None
    average_duration_ms: float | None = None
    max_memory_used_mb: float | None = None  # the largest "Max Memory Used" of the REPORT records
    cold_start_rate: float | None = None  # REPORT records with an Init Duration / all REPORT records
    init_duration_p99_ms: float | None = None
    provisioned_spillover: float | None = None  # ProvisionedConcurrencySpilloverInvocations, sum over the window
    throttles: int | None = None

    @staticmethod
    def from_file(path: str | os.PathLike[str]) -> Sizing:
        """Load a sizing file; [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] (prop
        ``sizing``) if it is missing or malformed; a field's error ends with ``read from <file>``."""
        data = _load_json(Path(path) if isinstance(path, str | os.PathLike) else path, "sizing")
        with naming_the_file(path):
            return Sizing.from_dict(data, source=str(path))

    @staticmethod
    def from_dict(data: Any, source: str | None = None, now: datetime | None = None) -> Sizing:
        """Validate a sizing mapping field by field; every problem is reported at once."""
        prop = "sizing"
        if not isinstance(data, Mapping):
            raise ConfigurationError(
                [Problem(prop, short(data), "a JSON object written by 'lambda-constructs measure'")]
            )
        required = ("function", "p99_ms", "sample_count", "window_days", "measured_at")
        missing = [k for k in required if data.get(k) is None]
        if missing:
            raise ConfigurationError(
                [
                    Problem(
                        prop,
                        source or short(data),
                        f"an object with keys {', '.join(required)}",
                        f"missing or null: {', '.join(missing)}",
                    )
                ]
            )
        problems: list[Problem | None] = []
        function = data["function"]
        if not isinstance(function, str) or not function.strip():
            problems.append(Problem(f"{prop}.function", short(function), "the measured function's name"))
        measured_at: datetime | None = None
        try:
            measured_at = datetime.fromisoformat(str(data["measured_at"]))
        except ValueError:
            problems.append(Problem(f"{prop}.measured_at", short(data["measured_at"]), "an ISO 8601 timestamp"))
        if measured_at is not None:
            if measured_at.tzinfo is None:
                measured_at = measured_at.replace(tzinfo=UTC)
            if measured_at > (now or datetime.now(UTC)) + timedelta(minutes=5):
                problems.append(
                    Problem(f"{prop}.measured_at", data["measured_at"], "a time in the past", "measured in the future?")
                )
        p99 = data["p99_ms"]
        problems.append(_positive(f"{prop}.p99_ms", p99))
        p999 = data.get("p999_ms")
        if p999 is not None:
            problem = _positive(f"{prop}.p999_ms", p999)
            if problem is None and _positive(f"{prop}.p99_ms", p99) is None and p999 < p99:
                problem = Problem(
                    f"{prop}.p999_ms", p999, f">= p99_ms ({p99})", "a p99.9 below the p99 is not a measurement"
                )
            problems.append(problem)
        problems.append(
            limits.check_int_range(
                f"{prop}.sample_count",
                data["sample_count"],
                limits.Range(MIN_SAMPLES_FOR_P99, math.inf, "invocations"),
                "a p99 from fewer invocations is noise",
            )
        )
        problems.append(_positive(f"{prop}.window_days", data["window_days"]))
        for optional in ("peak_concurrency", "provisioned_utilization_max", *TRAFFIC_FIELDS, "throttles"):
            value = data.get(optional)
            if value is not None and _non_negative(f"{prop}.{optional}", value) is not None:
                problems.append(_non_negative(f"{prop}.{optional}", value))
        rate = data.get("cold_start_rate")
        if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 1:
            problems.append(Problem(f"{prop}.cold_start_rate", rate, "a fraction 0..1 (cold starts / invocations)"))
        memory = data.get("max_memory_used_mb")
        if isinstance(memory, int | float) and not isinstance(memory, bool) and memory > limits.MEMORY_MAX_MB:
            problems.append(Problem(f"{prop}.max_memory_used_mb", memory, f"<= {limits.MEMORY_MAX_MB} MB"))
        found = [p for p in problems if p]
        if found:
            raise ConfigurationError(found)
        assert measured_at is not None
        return Sizing(
            function=function,
            p99_ms=float(p99),
            p999_ms=_opt_float(p999),
            sample_count=int(data["sample_count"]),
            window_days=float(data["window_days"]),
            peak_concurrency=_opt_float(data.get("peak_concurrency")),
            measured_at=measured_at,
            source=source if source is not None else _opt_str(data.get("source")),
            provisioned_utilization_max=_opt_float(data.get("provisioned_utilization_max")),
            **{name: _opt_float(data.get(name)) for name in TRAFFIC_FIELDS},
            throttles=None if data.get("throttles") is None else int(data["throttles"]),
        )

    def to_dict(self) -> dict[str, Any]:
        traffic = {name: getattr(self, name) for name in TRAFFIC_FIELDS if getattr(self, name) is not None}
        return {
            "function": self.function,
            "p99_ms": self.p99_ms,
            "p999_ms": self.p999_ms,
            "sample_count": self.sample_count,
            "window_days": self.window_days,
            "peak_concurrency": self.peak_concurrency,
            "provisioned_utilization_max": self.provisioned_utilization_max,
            "measured_at": self.measured_at.isoformat(),
            **traffic,
            "throttles": self.throttles,
            "source": self.source,
        }

    def age_days(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        return (now - self.measured_at).total_seconds() / 86_400


TRAFFIC_FIELDS = (
    "invocations_per_month",
    "average_duration_ms",
    "max_memory_used_mb",
    "cold_start_rate",
    "init_duration_p99_ms",
    "provisioned_spillover",
)


def _positive(prop: str, value: object) -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0 < value < math.inf):
        return Problem(prop, value, "a number > 0")
    return None


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
