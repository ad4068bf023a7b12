"""ServiceDashboard: one CloudWatch dashboard per service, a row of widgets per function."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.function._protocol import LiveFunction, is_live_function

PERIOD = Duration.minutes(1)

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


class ServiceDashboard(Construct):
    """A CloudWatch dashboard with, for each function:

    - invocations, errors, throttles;
    - duration p50 / p99 / p99.9 against a horizontal line at the timeout;
    - provisioned-concurrency utilization against the auto-scaling target, and spillover (when provisioned);
    - failure-queue depth (ASYNC);
    - a Logs Insights table of billed duration p50 / p99 / p99.9 split by cold and warm starts.

    Args:
        functions: the service's ProductionFunctions (at least one).
        dashboard_name: default CloudFormation-generated.
    """

    def __init__(
        self, scope: Construct, id: str, *, functions: Sequence[LiveFunction], dashboard_name: str | None = None
    ) -> None:
        def check(problems: Problems) -> None:
            if not functions or not all(is_live_function(f) for f in functions):
                problems.add(Problem("functions", functions, "a non-empty list of ProductionFunction"))
            if dashboard_name is not None and not (
                isinstance(dashboard_name, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,255}", dashboard_name)
            ):
                problems.add(
                    Problem("dashboard_name", _cdk.short(dashboard_name), "1..255 characters of A-Z a-z 0-9 - _")
                )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        for function in functions:
            for row in function_rows(function):
                self.dashboard.add_widgets(*row)


def function_rows(fn: LiveFunction) -> list[list[cloudwatch.IWidget]]:
    """The widgets for one function, as dashboard rows."""
    f = fn.function
    title = fn.node.path
    timeout_ms = fn.timeout_seconds * 1000
    rows: list[list[cloudwatch.IWidget]] = [
        [
            cloudwatch.TextWidget(
                markdown=f"### {title}\n{fn.memory_size} MB, timeout {fn.timeout_seconds} s, alias `live`",
                width=24,
                height=2,
            )
        ]
    ]
    traffic = cloudwatch.GraphWidget(
        title=f"{title}: invocations, errors, throttles",
        width=8,
        left=[
            f.metric_invocations(period=PERIOD, statistic="Sum"),
            f.metric_errors(period=PERIOD, statistic="Sum"),
            f.metric_throttles(period=PERIOD, statistic="Sum"),
        ],
    )
    duration = cloudwatch.GraphWidget(
        title=f"{title}: duration vs timeout",
        width=8,
        left=[f.metric_duration(period=PERIOD, statistic=s, label=s) for s in ("p50", "p99", "p99.9")],
        left_annotations=[
            cloudwatch.HorizontalAnnotation(
                value=timeout_ms, label=f"timeout {fn.timeout_seconds} s", color=cloudwatch.Color.RED
            )
        ],
    )
    cold_warm = cloudwatch.LogQueryWidget(
        title=f"{title}: billed duration, cold vs warm",
        width=8,
        log_group_names=[fn.log_group.log_group_name],
        query_string=COLD_WARM_QUERY,
        view=cloudwatch.LogQueryVisualizationType.TABLE,
    )
    rows.append([traffic, duration, cold_warm])
    extra: list[cloudwatch.IWidget] = []
    pc = fn.provisioned_concurrency
    if pc is not None:
        extra.append(
            cloudwatch.GraphWidget(
                title=f"{title}: provisioned concurrency",
                width=12,
                left=[fn.alias.metric("ProvisionedConcurrencyUtilization", period=PERIOD, statistic="Maximum")],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=pc.target_utilization, label=f"target {pc.target_utilization}"
                    )
                ],
                right=[fn.alias.metric("ProvisionedConcurrencySpilloverInvocations", period=PERIOD, statistic="Sum")],
            )
        )
    if fn.failure_queue is not None:
        extra.append(
            cloudwatch.GraphWidget(
                title=f"{title}: failure queue depth",
                width=12,
                left=[
                    fn.failure_queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
                ],
            )
        )
    if extra:
        rows.append(extra)
    return rows
