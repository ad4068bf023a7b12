"""The operations loop: measure p99 in CloudWatch, right-size memory from Power Tuning output.

``measure`` needs boto3 (``pip install lambda-constructs[ops]``) and the user's normal credential
chain; ``right_size`` and ``plot`` need only the Power Tuning JSON (matplotlib for the plot).
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lambda_constructs.core.pricing import DEFAULT_PRICES, Prices, duration_cost_per_million
from lambda_constructs.core.sizing import (
    MIN_SAMPLES_FOR_P99,
    STRATEGIES,
    PowerTuningPoint,
    Sizing,
    parse_power_tuning,
    pick_power,
)


class MeasureError(Exception):
    """Not enough data for a meaningful figure (the message says what was found)."""


def _stat(
    client: Any,
    name: str,
    dims: list[dict[str, str]],
    start: datetime,
    end: datetime,
    *,
    statistic: str | None = None,
    extended: list[str] | None = None,
) -> dict[str, float]:
    """One datapoint covering the whole window: CloudWatch computes the percentile over it exactly."""
    kwargs: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": name,
        "Dimensions": dims,
        "StartTime": start,
        "EndTime": end,
        "Period": int((end - start).total_seconds()),
    }
    if extended:
        kwargs["ExtendedStatistics"] = extended
    else:
        kwargs["Statistics"] = [statistic]
    points = client.get_metric_statistics(**kwargs)["Datapoints"]
    if not points:
        return {}
    point = points[0]
    if extended:
        return {k: float(v) for k, v in point.get("ExtendedStatistics", {}).items()}
    assert statistic is not None
    return {statistic: float(point[statistic])}


DAYS_PER_MONTH = 730 / 24  # AWS's pricing examples use a 730-hour month
# Logs Insights over the REPORT records: Text logs carry @type / @maxMemoryUsed / @memorySize (both in
# bytes: their ratio is used, not a unit) / @initDuration ("AWS Lambda Operator Guide", Useful Insights
# queries); JSON logs carry the same figures in the platform.report event's record.metrics (MB, ms).
REPORT_QUERY_TEXT = (
    'filter @type = "REPORT" | stats count(*) as reports, sum(strcontains(@message, "Init Duration")) as cold, '
    "max(@maxMemoryUsed / @memorySize) as usedFraction, pct(@initDuration, 99) as initP99"
)
REPORT_QUERY_JSON = (
    'filter type = "platform.report" | stats count(*) as reports, sum(ispresent(record.metrics.initDurationMs)) '
    "as cold, max(record.metrics.maxMemoryUsedMB / record.metrics.memorySizeMB) as usedFraction, "
    "pct(record.metrics.initDurationMs, 99) as initP99"
)
QUERY_POLL_S = 1.0
QUERY_MAX_POLLS = 120


@dataclass(frozen=True)
class LogSource:
    """Where a function's REPORT records are: its log group, the format it logs in, its memory (MB)."""

    log_group: str
    log_format: str = "Text"
    memory_mb: int | None = None


def log_source(lambda_client: Any, name: str) -> LogSource:
    """The function's log group (its own or /aws/lambda/NAME), log format and memory from its configuration."""
    config = lambda_client.get_function_configuration(FunctionName=name)
    logging = config.get("LoggingConfig") or {}
    return LogSource(
        log_group=logging.get("LogGroup") or f"/aws/lambda/{name}",
        log_format=logging.get("LogFormat") or "Text",
        memory_mb=config.get("MemorySize"),
    )


def report_records(
    logs: Any, source: LogSource, start: datetime, end: datetime, *, sleep: Any = None
) -> dict[str, float]:
    """Cold-start rate, p99 init duration and max memory used, from the REPORT records of the window."""
    import time

    query = REPORT_QUERY_JSON if source.log_format.upper() == "JSON" else REPORT_QUERY_TEXT
    query_id = logs.start_query(
        logGroupName=source.log_group,
        startTime=int(start.timestamp()),
        endTime=int(end.timestamp()),
        queryString=query,
    )["queryId"]
    for _ in range(QUERY_MAX_POLLS):
        result = logs.get_query_results(queryId=query_id)
        if result["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            break
        (sleep or time.sleep)(QUERY_POLL_S)
    else:
        raise MeasureError(f"Logs Insights query on {source.log_group} did not finish in {QUERY_MAX_POLLS} s")
    if result["status"] != "Complete":
        raise MeasureError(f"Logs Insights query on {source.log_group}: {result['status']}")
    rows = result.get("results") or []
    values = {cell["field"]: cell.get("value") for cell in (rows[0] if rows else [])}
    found: dict[str, float] = {}
    reports = _float(values.get("reports"))
    if reports:
        found["cold_start_rate"] = (_float(values.get("cold")) or 0.0) / reports
    init = _float(values.get("initP99"))
    if init is not None:
        found["init_duration_p99_ms"] = init
    used = _float(values.get("usedFraction"))
    if used is not None and source.memory_mb:
        found["max_memory_used_mb"] = round(used * source.memory_mb, 1)
    return found


def _float(value: object) -> float | None:
    try:
        return None if value in (None, "") else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def measure(
    client: Any,
    function: str,
    *,
    days: float = 14,
    now: datetime | None = None,
    logs: Any = None,
    source: LogSource | None = None,
    sleep: Any = None,
) -> Sizing:
    """Measure ``FUNCTION[:ALIAS]`` over the last ``days``; refuse a p99 from < 1,000 invocations.

    CloudWatch metrics give the p99 / p99.9, invocations (and the monthly rate), average duration,
    peak concurrency, throttles and, with an alias, provisioned utilization and spillover. With
    ``logs`` (a CloudWatch Logs client) and the function's ``source``, a Logs Insights query over the
    REPORT records adds the max memory used, the cold-start rate and the p99 init duration.
    """
    name, _, alias = function.partition(":")
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    dims = [{"Name": "FunctionName", "Value": name}]
    if alias:
        dims.append({"Name": "Resource", "Value": f"{name}:{alias}"})
    invocations = _stat(client, "Invocations", dims, start, end, statistic="Sum").get("Sum", 0.0)
    if invocations < MIN_SAMPLES_FOR_P99:
        raise MeasureError(
            f"{function}: {invocations:.0f} invocations in the last {days:g} days; a p99 needs at "
            f"least {MIN_SAMPLES_FOR_P99}. Measure over more days or after more traffic."
        )
    percentiles = _stat(client, "Duration", dims, start, end, extended=["p99", "p99.9"])
    if "p99" not in percentiles:
        raise MeasureError(f"{function}: CloudWatch returned no Duration p99 for the window")
    peak = _stat(client, "ConcurrentExecutions", dims, start, end, statistic="Maximum").get("Maximum")
    utilization = None
    if alias:
        utilization = _stat(client, "ProvisionedConcurrencyUtilization", dims, start, end, statistic="Maximum").get(
            "Maximum"
        )
    throttles = _stat(client, "Throttles", dims, start, end, statistic="Sum").get("Sum", 0.0)
    average = _stat(client, "Duration", dims, start, end, statistic="Average").get("Average")
    spillover = None
    if alias:
        spillover = _stat(client, "ProvisionedConcurrencySpilloverInvocations", dims, start, end, statistic="Sum").get(
            "Sum", 0.0
        )
    records = report_records(logs, source, start, end, sleep=sleep) if logs is not None and source else {}
    sizing = Sizing(
        function=function,
        p99_ms=percentiles["p99"],
        p999_ms=percentiles.get("p99.9"),
        sample_count=int(invocations),
        window_days=days,
        peak_concurrency=peak,
        measured_at=end,
        provisioned_utilization_max=utilization,
        source="cloudwatch",
        throttles=int(throttles),
        invocations_per_month=round(invocations / days * DAYS_PER_MONTH, 1),
        average_duration_ms=average,
        provisioned_spillover=spillover,
        **records,
    )
    return sizing


@dataclass(frozen=True)
class SizeRow:
    memory_mb: int
    duration_ms: float
    cost_arm64: float
    cost_x86_64: float
    picks: tuple[str, ...]


def right_size(
    result: Any, *, strategy: str = "cost", weight: float = 0.5, prices: Prices = DEFAULT_PRICES
) -> tuple[list[SizeRow], PowerTuningPoint]:
    """A row per memory size (duration, duration cost per 1M invocations per architecture, which
    strategies pick it) and the pick of ``strategy``: the same code as ``Memory.from_power_tuning``."""
    points = sorted(parse_power_tuning(result), key=lambda p: p.memory_mb)
    chosen = pick_power(points, strategy, weight)
    picks = {s: pick_power(points, s, weight).memory_mb for s in STRATEGIES}
    rows = [
        SizeRow(
            p.memory_mb,
            p.average_duration_ms,
            duration_cost_per_million(p.memory_mb, p.average_duration_ms, "arm64", prices),
            duration_cost_per_million(p.memory_mb, p.average_duration_ms, "x86_64", prices),
            tuple(s for s, mb in picks.items() if mb == p.memory_mb),
        )
        for p in points
    ]
    return rows, chosen


def format_right_size(rows: list[SizeRow], chosen: PowerTuningPoint, strategy: str, width: int | None = None) -> str:
    """A row per memory size, numbers right-aligned, the pick marked ``<-``; fits ``width`` when given."""
    from lambda_constructs.core.table import render

    header = ["memory", "duration", "$/1M arm64", "$/1M x86_64", "picked by"]
    body = [
        [
            f"{r.memory_mb} MB",
            f"{r.duration_ms:.1f} ms",
            f"{r.cost_arm64:.2f}",
            f"{r.cost_x86_64:.2f}",
            (", ".join(r.picks) or "-") + (" <-" if r.memory_mb == chosen.memory_mb else ""),
        ]
        for r in rows
    ]
    table = render(header, body, width=width, right={0, 1, 2, 3})
    pick = (
        f"{strategy}: Memory.mb({chosen.memory_mb})  (duration cost only, requests excluded; "
        "arm64 is what ProductionFunction deploys)"
    )
    return f"{table}\n\n" + ("\n".join(textwrap.wrap(pick, width)) if width else pick)


def plot(rows: list[SizeRow], chosen: PowerTuningPoint, path: str | os.PathLike[str]) -> None:
    """Write `figure()` to ``path`` (PNG, SVG or PDF by its suffix) via the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = figure(rows, chosen)
    fig.savefig(path, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)


def figure(rows: list[SizeRow], chosen: PowerTuningPoint) -> Any:
    """Cost (arm64, x86_64) and duration against memory, the pick marked.

    The cost axis starts at 0 (so a small difference does not look large) and the legend sits below
    the axes, where it cannot cover a line or the pick.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mem = [r.memory_mb for r in rows]
    fig, cost_ax = plt.subplots(figsize=(8, 5), dpi=100)
    cost_ax.plot(mem, [r.cost_arm64 for r in rows], "o-", color="tab:green", label="$ / 1M invocations, arm64")
    cost_ax.plot(mem, [r.cost_x86_64 for r in rows], "o--", color="tab:gray", label="$ / 1M invocations, x86_64")
    cost_ax.set_xscale("log", base=2)
    cost_ax.set_xticks(mem, [str(m) for m in mem])
    cost_ax.set_xlabel("memory (MB)")
    cost_ax.set_ylabel("duration cost per 1M invocations (USD)")
    cost_ax.set_ylim(bottom=0)
    duration_ax = cost_ax.twinx()
    duration_ax.plot(mem, [r.duration_ms for r in rows], "s-", color="tab:blue", label="average duration (ms)")
    duration_ax.set_ylabel("average duration (ms)")
    duration_ax.set_ylim(bottom=0)
    cost_ax.axvline(chosen.memory_mb, color="tab:red", linestyle=":", label=f"pick: {chosen.memory_mb} MB")
    handles = cost_ax.get_legend_handles_labels()
    more = duration_ax.get_legend_handles_labels()
    fig.legend(handles[0] + more[0], handles[1] + more[1], loc="lower center", ncols=2, fontsize=8, frameon=False)
    cost_ax.set_title("Power Tuning: cost and duration against memory")
    fig.tight_layout(rect=(0, 0.12, 1, 1))  # the bottom 12 % holds the legend, outside both axes
    return fig
