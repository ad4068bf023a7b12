"""The plan of a ServiceDashboard: rows and widgets as pure values, then against the dashboard built from it."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from lambda_constructs import Invocation, ProductionFunction, ServiceDashboard
from lambda_constructs.core.plans.dashboard import (
    COLD_WARM_QUERY,
    Annotation,
    DashboardMetric,
    FunctionPanel,
    dashboard_name_problem,
    function_rows,
    plan_dashboard,
)
from tests.conftest import INLINE


def panel(**overrides: Any) -> FunctionPanel:
    values: dict[str, Any] = {
        "path": "Svc/Api",
        "memory_mb": 512,
        "timeout_s": 3,
        "target_utilization": None,
        "failure_queue": False,
    }
    values.update(overrides)
    return FunctionPanel(**values)


def test_a_function_without_provisioned_concurrency_or_failure_queue_gets_two_rows() -> None:
    (heading,), (traffic, duration, cold_warm) = function_rows(panel())
    assert (heading.kind, heading.width, heading.height) == ("text", 24, 2)
    assert heading.markdown == "### Svc/Api\n512 MB, timeout 3 s, alias `live`"
    assert traffic.title == "Svc/Api: invocations, errors, throttles" and traffic.width == 8
    assert [(m.source, m.name, m.statistic) for m in traffic.left] == [
        ("function", "Invocations", "Sum"),
        ("function", "Errors", "Sum"),
        ("function", "Throttles", "Sum"),
    ]
    assert [(m.name, m.statistic, m.label) for m in duration.left] == [
        ("Duration", "p50", "p50"),
        ("Duration", "p99", "p99"),
        ("Duration", "p99.9", "p99.9"),
    ]
    assert duration.left_annotations == (Annotation(3000, "timeout 3 s", "RED"),)
    assert (cold_warm.kind, cold_warm.width, cold_warm.query) == ("log_query", 8, COLD_WARM_QUERY)


def test_provisioned_concurrency_and_the_failure_queue_share_a_third_row() -> None:
    rows = function_rows(panel(target_utilization=0.7, failure_queue=True))
    assert len(rows) == 3
    pc, queue = rows[2]
    assert (pc.title, pc.width) == ("Svc/Api: provisioned concurrency", 12)
    assert pc.left == (DashboardMetric("alias", "ProvisionedConcurrencyUtilization", "Maximum"),)
    assert pc.right == (DashboardMetric("alias", "ProvisionedConcurrencySpilloverInvocations", "Sum"),)
    assert pc.left_annotations == (Annotation(0.7, "target 0.7"),)
    assert queue.left == (DashboardMetric("failure_queue", "ApproximateNumberOfMessagesVisible", "Maximum"),)
    (only,) = function_rows(panel(failure_queue=True))[2]
    assert only.title == "Svc/Api: failure queue depth"


def test_the_plan_keeps_each_function_s_rows_in_order() -> None:
    plan = plan_dashboard("Svc/Dash", (panel(), panel(path="Svc/Worker", failure_queue=True)), "orders")
    assert [len(rows) for rows in plan.functions] == [2, 3]
    assert len(plan.rows) == 5 and plan.rows[2][0].markdown.startswith("### Svc/Worker")  # type: ignore[union-attr]
    assert plan.dashboard_name == "orders" and plan.resource_count == 1


@pytest.mark.parametrize("name", ["", "a b", "x" * 256, 7])
def test_dashboard_names_cloudwatch_refuses(name: object) -> None:
    problem = dashboard_name_problem(name)
    assert problem is not None and problem.prop == "dashboard_name"
    assert problem.allowed == "1..255 characters of A-Z a-z 0-9 - _"
    assert dashboard_name_problem("orders-service_1") is None and dashboard_name_problem(None) is None


def test_the_dashboard_is_built_from_its_plan() -> None:
    stack = cdk.Stack(cdk.App(), "Svc")
    common: dict[str, Any] = {"code": INLINE, "handler": "index.handler"}
    api = ProductionFunction(stack, "Api", p99=cdk.Duration.millis(300), **common)
    worker = ProductionFunction(stack, "Worker", p99=cdk.Duration.seconds(2), invocation=Invocation.ASYNC, **common)
    dash = ServiceDashboard(stack, "Dash", functions=[api, worker])
    assert [len(rows) for rows in dash.plan.functions] == [3, 3]  # api: provisioned concurrency; worker: its queue
    (body,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    rendered = json.dumps(stack.resolve(body["Properties"]["DashboardBody"]))
    for widget in (w for row in dash.plan.rows for w in row):
        if widget.title is not None:
            assert json.dumps(widget.title)[1:-1] in rendered
    widgets = sum(len(row) for row in dash.plan.rows)
    assert rendered.count('\\"type\\":') == widgets  # one JSON widget per planned widget
    assert sum(1 for c in dash.node.find_all() if isinstance(c, cdk.CfnResource)) == dash.plan.resource_count
