"""The plan of a ServiceDashboard: its rows of widgets, each widget's metrics, statistics and annotations.

One dashboard per service, a block of rows per function: a heading, then traffic, duration against the
timeout and the cold / warm Logs Insights table, then (when the function has them) provisioned-concurrency
utilization against its auto-scaling target and the failure queue's depth. Every widget is a plain value
here; the construct turns each into its aws-cdk-lib widget in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lambda_constructs.core.errors import Problem, short

PERIOD_MINUTES = 1  # the dashboard's metrics are 1-minute sums / percentiles: the finest Lambda publishes
DURATION_STATISTICS = ("p50", "p99", "p99.9")
DASHBOARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")  # PutDashboard DashboardName

# "Plotting the p50/p99/p999 of Billed Duration split by cold/warm is the single most valuable Lambda
# dashboard you can build" ("Lambda in Production"). The query reads both log formats:
# - TEXT: the REPORT line; Logs Insights discovers @type = "REPORT", @billedDuration, @initDuration
#   (the last on cold starts only);
# - JSON (the library's default): a platform.report record; Logs Insights discovers its JSON keys as
#   type = "platform.report", record.metrics.billedDurationMs, record.metrics.initDurationMs.
# (Amazon CloudWatch Logs User Guide, "Supported logs and discovered fields"; AWS Lambda developer
# guide, "Configuring advanced logging controls for Lambda functions".)
COLD_WARM_QUERY = "\n".join(
    [
        'filter @type = "REPORT" or type = "platform.report"',
        "| fields coalesce(@billedDuration, record.metrics.billedDurationMs) as billedMs,",
        "  coalesce(@initDuration, record.metrics.initDurationMs) as initMs",
        "| fields ispresent(initMs) as coldStart",
        "| stats count(*) as invocations, pct(billedMs, 50) as p50BilledMs,",
        "  pct(billedMs, 99) as p99BilledMs, pct(billedMs, 99.9) as p999BilledMs,",
        "  avg(initMs) as avgInitMs by coldStart",
    ]
)

MetricSource = Literal["function", "alias", "failure_queue"]


@dataclass(frozen=True)
class DashboardMetric:
    """One line of a graph: whose metric (``function``: $LATEST and every version; ``alias``: ``live``;
    ``failure_queue``), its CloudWatch name, statistic and label (None: CloudWatch's own)."""

    source: MetricSource
    name: str
    statistic: str
    label: str | None = None


@dataclass(frozen=True)
class Annotation:
    """A horizontal line on a graph's left axis."""

    value: float
    label: str
    color: Literal["RED"] | None = None


@dataclass(frozen=True)
class Widget:
    """One dashboard widget: ``text`` (markdown), ``graph`` (metrics) or ``log_query`` (a Logs Insights table
    of the function's log group)."""

    kind: Literal["text", "graph", "log_query"]
    width: int
    height: int | None = None
    title: str | None = None
    markdown: str | None = None
    left: tuple[DashboardMetric, ...] = ()
    right: tuple[DashboardMetric, ...] = ()
    left_annotations: tuple[Annotation, ...] = ()
    query: str | None = None


@dataclass(frozen=True)
class FunctionPanel:
    """What the dashboard shows of one function, read from it."""

    path: str
    memory_mb: int
    timeout_s: int
    target_utilization: float | None  # provisioned concurrency's auto-scaling target, None without it
    failure_queue: bool  # an ASYNC function's onFailure queue


@dataclass(frozen=True)
class DashboardPlan:
    """Every decision of one ServiceDashboard: each function's rows (a tuple of widgets each), in order."""

    path: str
    dashboard_name: str | None
    functions: tuple[tuple[tuple[Widget, ...], ...], ...]  # for each function, in order: its rows
    resource_count: int = 1  # the AWS::CloudWatch::Dashboard

    @property
    def rows(self) -> tuple[tuple[Widget, ...], ...]:
        """Every row of the dashboard, top to bottom."""
        return tuple(row for rows in self.functions for row in rows)


def dashboard_name_problem(name: object) -> Problem | None:
    """A dashboard name CloudWatch accepts: 1..255 of A-Z a-z 0-9 - _ (PutDashboard, Amazon CloudWatch API
    Reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html)."""
    if name is None or (isinstance(name, str) and DASHBOARD_NAME.fullmatch(name)):
        return None
    return Problem("dashboard_name", short(name), "1..255 characters of A-Z a-z 0-9 - _")


def function_rows(panel: FunctionPanel) -> tuple[tuple[Widget, ...], ...]:
    """The rows of one function: heading; traffic, duration against the timeout, cold / warm; then provisioned
    concurrency against its target and the failure queue's depth, when the function has them."""
    title = panel.path
    heading = Widget(
        "text",
        width=24,
        height=2,
        markdown=f"### {title}\n{panel.memory_mb} MB, timeout {panel.timeout_s} s, alias `live`",
    )
    traffic = Widget(
        "graph",
        width=8,
        title=f"{title}: invocations, errors, throttles",
        left=tuple(DashboardMetric("function", name, "Sum") for name in ("Invocations", "Errors", "Throttles")),
    )
    duration = Widget(
        "graph",
        width=8,
        title=f"{title}: duration vs timeout",
        left=tuple(DashboardMetric("function", "Duration", s, label=s) for s in DURATION_STATISTICS),
        left_annotations=(Annotation(panel.timeout_s * 1000, f"timeout {panel.timeout_s} s", "RED"),),
    )
    cold_warm = Widget("log_query", width=8, title=f"{title}: billed duration, cold vs warm", query=COLD_WARM_QUERY)
    rows: list[tuple[Widget, ...]] = [(heading,), (traffic, duration, cold_warm)]
    extra: list[Widget] = []
    if panel.target_utilization is not None:
        extra.append(
            Widget(
                "graph",
                width=12,
                title=f"{title}: provisioned concurrency",
                left=(DashboardMetric("alias", "ProvisionedConcurrencyUtilization", "Maximum"),),
                left_annotations=(Annotation(panel.target_utilization, f"target {panel.target_utilization}"),),
                right=(DashboardMetric("alias", "ProvisionedConcurrencySpilloverInvocations", "Sum"),),
            )
        )
    if panel.failure_queue:
        extra.append(
            Widget(
                "graph",
                width=12,
                title=f"{title}: failure queue depth",
                left=(DashboardMetric("failure_queue", "ApproximateNumberOfMessagesVisible", "Maximum"),),
            )
        )
    if extra:
        rows.append(tuple(extra))
    return tuple(rows)


def plan_dashboard(path: str, panels: tuple[FunctionPanel, ...], dashboard_name: str | None = None) -> DashboardPlan:
    """The plan of a ServiceDashboard over ``panels`` (its functions, in order) whose props were checked."""
    return DashboardPlan(
        path=path,
        dashboard_name=dashboard_name,
        functions=tuple(function_rows(panel) for panel in panels),
    )
