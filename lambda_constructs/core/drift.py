"""The drift gate: a function's deployed configuration (from a cdk.out) against a fresh measurement.

Pure Python over the report of `lambda_constructs.core.report` and [`Sizing`][lambda_constructs.core.sizing.Sizing]
objects; used by ``lambda-constructs drift``. Each check is one function of (configuration, measurement,
baseline, thresholds) that returns a `Finding` or None, so each threshold is tested alone.

The default thresholds, and why (docs/operations.md, "Drift"):

- p99 above 80 % of the timeout: close to timing out; the same fraction as the function's Duration
  alarm (a timeout of 2-3 x p99 puts the p99 at 33-50 %: "Lambda in Production", "a timeout is a contract");
- timeout above 5 x p99: paying for a just-in-case timeout, well past the 2-3 x p99 rule ("Lambda in Production");
- max memory used below 30 % or above 90 % of the configured memory: the library's band. Above 90 %
  one larger payload ends in an out-of-memory kill; below 30 % the memory is paid for and unused,
  unless it buys CPU (memory and CPU are one knob: "Lambda in Production") - re-run Power Tuning
  before shrinking it;
- provisioned concurrency utilization (its maximum over the window) below 0.3: over-provisioned
  against the 0.7 target tracking aims for; any spillover invocation: the warm pool was too small;
- cold-start rate or p99 init duration moved by more than 50 % (and by at least 1 percentage point /
  100 ms) from the measurement the configuration was built from (the sizing recorded in the template).
  Init Duration is in every cold start's REPORT record ("AWS Lambda Cold Starts - Why P99 Spikes to
  1.2s at 9 AM").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from lambda_constructs.core.errors import ConfigurationError, Problem
from lambda_constructs.core.report import DEPLOY_TIME, FunctionReport
from lambda_constructs.core.sizing import Sizing


@dataclass(frozen=True)
class Thresholds:
    """When measured reality has moved away from the configuration (defaults: module docstring)."""

    p99_timeout_fraction: float = 0.8
    timeout_p99_multiple: float = 5.0
    memory_used_min_fraction: float = 0.3
    memory_used_max_fraction: float = 0.9
    provisioned_utilization_min: float = 0.3
    provisioned_spillover_max: float = 0.0
    cold_start_rate_change: float = 0.5
    cold_start_rate_min_points: float = 0.01
    init_duration_change: float = 0.5
    init_duration_min_ms: float = 100.0

    @staticmethod
    def with_overrides(values: Mapping[str, object]) -> Thresholds:
        """Defaults with ``values`` replacing some;
        [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] naming an unknown or bad one."""
        known = {f.name for f in fields(Thresholds)}
        problems = []
        parsed: dict[str, float] = {}
        for name, value in values.items():
            if name not in known:
                problems.append(Problem(f"threshold {name}", value, " | ".join(sorted(known))))
                continue
            number = _number(value)
            if number is None or number < 0 or not math.isfinite(number):
                problems.append(Problem(f"threshold {name}", value, "a finite number >= 0"))
            elif name.endswith("_fraction") and number > 1:
                problems.append(Problem(f"threshold {name}", value, "a fraction 0..1"))
            else:
                parsed[name] = number
        if problems:
            raise ConfigurationError(problems)
        result = replace(Thresholds(), **parsed)
        if result.memory_used_min_fraction >= result.memory_used_max_fraction:
            raise ConfigurationError(
                [
                    Problem(
                        "threshold memory_used_min_fraction",
                        result.memory_used_min_fraction,
                        f"below memory_used_max_fraction ({result.memory_used_max_fraction})",
                    )
                ]
            )
        return result


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Finding:
    """One threshold crossed: which check, what was measured against what, and what to do."""

    check: str
    measured: str
    configured: str
    threshold: str
    fix: str


@dataclass
class DriftRow:
    """One function: its configuration, the measurement matched to it (if any) and what crossed a threshold."""

    stack: str
    function: str
    path: str
    timeout_s: int | str
    memory_mb: int | str
    sizing_file: str | None = None
    measured_at: str | None = None
    findings: list[Finding] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.sizing_file is None:
            return "not measured"
        return "drift" if self.findings else "ok"


Check = Callable[[FunctionReport, Sizing, "Mapping[str, Any] | None", Thresholds], "Finding | str | None"]


def check_p99_near_timeout(
    fn: FunctionReport, m: Sizing, _: Mapping[str, Any] | None, t: Thresholds
) -> Finding | str | None:
    if not isinstance(fn.timeout_s, int):
        return "timeout is decided at deploy time"
    limit_ms = fn.timeout_s * 1000 * t.p99_timeout_fraction
    if m.p99_ms <= limit_ms:
        return None
    return Finding(
        "p99_near_timeout",
        f"p99 {m.p99_ms:g} ms",
        f"timeout {fn.timeout_s} s",
        f"p99 > {t.p99_timeout_fraction:.0%} of the timeout ({limit_ms:g} ms)",
        f"raise the timeout to 3 x p99 = {math.ceil(m.p99_ms * 3 / 1000)} s (sizing=Sizing.from_file(...)), "
        "or make the work faster",
    )


def check_timeout_oversized(
    fn: FunctionReport, m: Sizing, _: Mapping[str, Any] | None, t: Thresholds
) -> Finding | str | None:
    if not isinstance(fn.timeout_s, int):
        return "timeout is decided at deploy time"
    if fn.timeout_s * 1000 <= t.timeout_p99_multiple * m.p99_ms:
        return None
    return Finding(
        "timeout_oversized",
        f"p99 {m.p99_ms:g} ms",
        f"timeout {fn.timeout_s} s",
        f"timeout > {t.timeout_p99_multiple:g} x p99 ({t.timeout_p99_multiple * m.p99_ms:g} ms)",
        f"lower the timeout to 3 x p99 = {max(1, math.ceil(m.p99_ms * 3 / 1000))} s: a just-in-case timeout "
        "is paid for on every hung invocation",
    )


def check_memory_used(
    fn: FunctionReport, m: Sizing, _: Mapping[str, Any] | None, t: Thresholds
) -> Finding | str | None:
    if m.max_memory_used_mb is None:
        return "no max_memory_used_mb in the sizing file (measure records it from REPORT records)"
    if not isinstance(fn.memory_mb, int):
        return "memory is decided at deploy time"
    used = m.max_memory_used_mb / fn.memory_mb
    if used > t.memory_used_max_fraction:
        return Finding(
            "memory_high",
            f"max memory used {m.max_memory_used_mb:g} MB ({used:.0%})",
            f"memory {fn.memory_mb} MB",
            f"> {t.memory_used_max_fraction:.0%} of memory",
            f"raise memory to at least {math.ceil(m.max_memory_used_mb / 0.7)} MB (70 % used): one larger "
            "payload ends in an out-of-memory kill",
        )
    if used < t.memory_used_min_fraction:
        return Finding(
            "memory_low",
            f"max memory used {m.max_memory_used_mb:g} MB ({used:.0%})",
            f"memory {fn.memory_mb} MB",
            f"< {t.memory_used_min_fraction:.0%} of memory",
            "run Power Tuning (lambda-constructs right-size) before lowering it: memory also buys CPU",
        )
    return None


def check_provisioned(
    fn: FunctionReport, m: Sizing, _: Mapping[str, Any] | None, t: Thresholds
) -> Finding | str | None:
    if not fn.provisioned_min and not fn.provisioned_max:
        return None  # no provisioned concurrency configured: nothing to judge
    if m.provisioned_spillover is not None and m.provisioned_spillover > t.provisioned_spillover_max:
        return Finding(
            "provisioned_spillover",
            f"{m.provisioned_spillover:g} spillover invocations",
            f"provisioned {fn.provisioned_min}..{fn.provisioned_max}",
            f"spillover > {t.provisioned_spillover_max:g}",
            "raise max_capacity (or min_capacity for a burst shorter than target tracking's ~3 minutes)",
        )
    if m.provisioned_utilization_max is None:
        return "no provisioned_utilization_max in the sizing file (measure FUNCTION:ALIAS records it)"
    if m.provisioned_utilization_max < t.provisioned_utilization_min:
        return Finding(
            "provisioned_underused",
            f"utilization max {m.provisioned_utilization_max:g}",
            f"provisioned {fn.provisioned_min}..{fn.provisioned_max}",
            f"utilization < {t.provisioned_utilization_min:g}",
            "lower min_capacity: the warm pool is paid for every hour and stays mostly idle",
        )
    return None


def check_cold_starts(
    fn: FunctionReport, m: Sizing, baseline: Mapping[str, Any] | None, t: Thresholds
) -> Finding | str | None:
    if baseline is None:
        return "no baseline measurement recorded in the template (built without sizing=)"
    before, now = _number(baseline.get("cold_start_rate")), m.cold_start_rate
    if before is not None and now is not None:
        change = abs(now - before)
        if change >= t.cold_start_rate_min_points and change > t.cold_start_rate_change * max(before, 1e-9):
            return Finding(
                "cold_start_rate_moved",
                f"cold-start rate {now:.1%}",
                f"{before:.1%} when configured",
                f"moved > {t.cold_start_rate_change:.0%}",
                "traffic shape changed: re-check provisioned concurrency and re-run measure",
            )
    before_ms, now_ms = _number(baseline.get("init_duration_p99_ms")), m.init_duration_p99_ms
    if before_ms is not None and now_ms is not None:
        change = abs(now_ms - before_ms)
        if change >= t.init_duration_min_ms and change > t.init_duration_change * before_ms:
            return Finding(
                "init_duration_moved",
                f"init p99 {now_ms:g} ms",
                f"{before_ms:g} ms when configured",
                f"moved > {t.init_duration_change:.0%}",
                "the package or its imports changed: trim them, or keep instances warm",
            )
    if (before is None or now is None) and (before_ms is None or now_ms is None):
        return "no cold-start figures in both the baseline and the measurement"
    return None


CHECKS: tuple[tuple[str, Check], ...] = (
    ("p99_near_timeout", check_p99_near_timeout),
    ("timeout_oversized", check_timeout_oversized),
    ("memory", check_memory_used),
    ("provisioned", check_provisioned),
    ("cold_starts", check_cold_starts),
)


def judge(fn: FunctionReport, measured: Sizing, baseline: Mapping[str, Any] | None, t: Thresholds) -> DriftRow:
    row = DriftRow(
        stack=fn.stack,
        function=function_name(fn),
        path=fn.path,
        timeout_s=fn.timeout_s,
        memory_mb=fn.memory_mb,
        sizing_file=measured.source or measured.function,
        measured_at=measured.measured_at.isoformat(),
    )
    for name, check in CHECKS:
        result = check(fn, measured, baseline, t)
        if isinstance(result, Finding):
            row.findings.append(result)
        elif isinstance(result, str):
            row.not_checked.append(f"{name}: {result}")
    return row


def function_name(fn: FunctionReport) -> str:
    path = fn.path.removesuffix("/Resource").removesuffix("/Function")
    return path.split("/", 1)[-1] if "/" in path else path


# --------------------------------------------------------------------------- matching


def match(
    functions: Sequence[tuple[FunctionReport, Mapping[str, Any]]], sizings: Sequence[Sizing]
) -> tuple[list[tuple[FunctionReport, Sizing | None]], list[Sizing]]:
    """Pair each function with the sizing file that names it; the files that name none are returned too.

    A sizing file names a function (``FUNCTION[:ALIAS]``) by one of: its explicit FunctionName; the
    ``function`` recorded with the sizing it was built from (template Metadata); its construct path
    under the stack (``OrdersApi``) or logical id; or the name CloudFormation generates for it
    (``<stack>-<logical id, truncated>-<suffix>``).
    """
    used: set[int] = set()
    pairs: list[tuple[FunctionReport, Sizing | None]] = []
    for fn, resource in functions:
        names = _names(fn, resource)
        found = None
        for index, sizing in enumerate(sizings):
            if index in used:
                continue
            name = sizing.function.partition(":")[0]
            if name in names or _generated(fn, name):
                found = sizing
                used.add(index)
                break
        pairs.append((fn, found))
    return pairs, [s for i, s in enumerate(sizings) if i not in used]


def _names(fn: FunctionReport, resource: Mapping[str, Any]) -> set[str]:
    props = resource.get("Properties", {}) or {}
    meta = (resource.get("Metadata") or {}).get("lambda-constructs", {})
    recorded = (meta.get("sizing") or {}).get("function") if isinstance(meta, Mapping) else None
    names = {fn.logical_id, function_name(fn), function_name(fn).split("/")[0]}
    if isinstance(props.get("FunctionName"), str):
        names.add(props["FunctionName"])
    if isinstance(recorded, str):
        names.add(recorded.partition(":")[0])
    return names


def _generated(fn: FunctionReport, name: str) -> bool:
    """CloudFormation's generated physical name: stack name, logical id (both possibly truncated), suffix."""
    stack = fn.stack.split("/")[0]
    if not name.startswith(f"{stack}-") or name.count("-") < 2:
        return False
    middle = name[len(stack) + 1 :].rsplit("-", 1)[0]
    return len(middle) >= 8 and fn.logical_id.startswith(middle)


# --------------------------------------------------------------------------- output


def format_table(rows: Sequence[DriftRow], unmatched: Sequence[Sizing] = (), width: int | None = None) -> str:
    """The findings as a table (fits ``width``, a terminal's columns, when given), then the fixes."""
    import textwrap

    from lambda_constructs.core.table import render

    header = ("stack", "function", "status", "check", "measured", "configured", "threshold")
    body: list[tuple[str, ...]] = []
    for row in rows:
        if row.findings:
            for f in row.findings:
                body.append((row.stack, row.function, row.status, f.check, f.measured, f.configured, f.threshold))
        else:
            body.append((row.stack, row.function, row.status, "-", "-", f"{row.timeout_s} s, {row.memory_mb} MB", "-"))
    lines = render(header, body, width=width).split("\n")
    fixes = [f"{row.function}: {f.check}: {f.fix}" for row in rows for f in row.findings]
    if fixes:
        lines += ["", "fix:"]
        for fix in fixes:
            lines += textwrap.wrap(fix, width, initial_indent="  ", subsequent_indent="    ") if width else [f"  {fix}"]
    if unmatched:
        note = "sizing files naming no function in the assembly: " + ", ".join(_label(s) for s in unmatched)
        lines += ["", *(textwrap.wrap(note, width) if width else [note])]
    return "\n".join(lines)


def format_json(
    rows: Sequence[DriftRow], unmatched: Sequence[Sizing] = (), thresholds: Thresholds | None = None
) -> str:
    return json.dumps(
        {
            "drift": any(r.findings for r in rows),
            "thresholds": asdict(thresholds or Thresholds()),
            "functions": [{**asdict(r), "status": r.status} for r in rows],
            "unmatched_sizing_files": [_label(s) for s in unmatched],
        },
        indent=2,
        sort_keys=True,
    )


def _label(sizing: Sizing) -> str:
    return f"{sizing.source or '-'} ({sizing.function})"


__all__ = [
    "CHECKS",
    "DEPLOY_TIME",
    "DriftRow",
    "Finding",
    "Thresholds",
    "format_json",
    "format_table",
    "judge",
    "match",
]
