"""ServiceDashboard: one CloudWatch dashboard per service, a row of widgets per function.

What it shows is decided in pure Python (a ``DashboardPlan``, ``core/plans/dashboard.py``); this module turns
each planned widget into its aws-cdk-lib widget.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import dashboard as plans
from lambda_constructs.core.plans.dashboard import (
    COLD_WARM_QUERY,
    DashboardMetric,
    DashboardPlan,
    FunctionPanel,
    Widget,
)
from lambda_constructs.function._protocol import LiveFunction, is_live_function

__all__ = ["COLD_WARM_QUERY", "PERIOD", "ServiceDashboard"]

PERIOD = Duration.minutes(plans.PERIOD_MINUTES)

# the function's own metric methods, as a hand-written dashboard calls them (the same metric JSON)
_FUNCTION_METRICS = {
    "Invocations": "metric_invocations",
    "Errors": "metric_errors",
    "Throttles": "metric_throttles",
    "Duration": "metric_duration",
}


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

    ``.plan`` is its ``DashboardPlan`` (``lambda_constructs.core.plans.dashboard``): each function's rows and
    every widget's metrics, statistics and annotations.
    """

    def __init__(
        self, scope: Construct, id: str, *, functions: Sequence[LiveFunction], dashboard_name: str | None = None
    ) -> None:
        planned: list[DashboardPlan] = []

        def check(problems: Problems) -> None:
            if not functions or not all(is_live_function(f) for f in functions):
                problems.add(Problem("functions", functions, "a non-empty list of ProductionFunction"))
            problems.add(plans.dashboard_name_problem(dashboard_name))
            if not problems:
                panels = tuple(_panel(f) for f in functions)
                planned.append(plans.plan_dashboard(problems.path, panels, dashboard_name))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: DashboardPlan = planned[0]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        for function, rows in zip(functions, self.plan.functions, strict=True):
            for row in rows:
                self.dashboard.add_widgets(*(_widget(function, w) for w in row))


def _panel(fn: LiveFunction) -> FunctionPanel:
    pc = fn.provisioned_concurrency
    return FunctionPanel(
        path=fn.node.path,
        memory_mb=fn.memory_size,
        timeout_s=fn.timeout_seconds,
        target_utilization=None if pc is None else pc.target_utilization,
        failure_queue=fn.failure_queue is not None,
    )


def _metric(fn: LiveFunction, m: DashboardMetric) -> cloudwatch.IMetric:
    if m.source == "function":
        method = getattr(fn.function, _FUNCTION_METRICS[m.name])
        return typing.cast(cloudwatch.IMetric, method(period=PERIOD, statistic=m.statistic, label=m.label))
    if m.source == "alias":
        return fn.alias.metric(m.name, period=PERIOD, statistic=m.statistic)
    assert fn.failure_queue is not None and m.name == "ApproximateNumberOfMessagesVisible"
    return fn.failure_queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic=m.statistic)


def _widget(fn: LiveFunction, w: Widget) -> cloudwatch.IWidget:
    if w.kind == "text":
        return cloudwatch.TextWidget(markdown=w.markdown or "", width=w.width, height=w.height)
    if w.kind == "log_query":
        return cloudwatch.LogQueryWidget(
            title=w.title,
            width=w.width,
            log_group_names=[fn.log_group.log_group_name],
            query_string=w.query,
            view=cloudwatch.LogQueryVisualizationType.TABLE,
        )
    return cloudwatch.GraphWidget(
        title=w.title,
        width=w.width,
        left=[_metric(fn, m) for m in w.left],
        left_annotations=[
            cloudwatch.HorizontalAnnotation(
                value=a.value, label=a.label, color=cloudwatch.Color.RED if a.color == "RED" else None
            )
            for a in w.left_annotations
        ]
        or None,
        right=[_metric(fn, m) for m in w.right] or None,
    )
