"""Safe deployments (CodeDeploy on the live alias) and the service dashboard."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from lambda_constructs import (
    ConfigurationError,
    Deployment,
    Invocation,
    ProductionFunction,
    ProductionReadinessChecks,
    ProvisionedConcurrency,
    ServiceDashboard,
)
from lambda_constructs.function.dashboard import COLD_WARM_QUERY
from tests.conftest import INLINE, only


def pf(stack: cdk.Stack, id: str, **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.millis(400))
    return ProductionFunction(stack, id, code=INLINE, handler="index.handler", **kw)


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProductionFunction, Template, cdk.App]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("canary")))
    stack = cdk.Stack(app, "Canary")
    hook = pf(stack, "PreTraffic", provisioned_concurrency=None)
    fn = pf(
        stack,
        "Api",
        provisioned_concurrency=ProvisionedConcurrency(3, 30),
        deployment=Deployment.canary(percent=10, minutes=5, pre_traffic_hook=hook),
    )
    return fn, Template.from_stack(stack), app


def test_canary_config_and_rollback_on_the_functions_alarms(
    canary: tuple[ProductionFunction, Template, cdk.App],
) -> None:
    fn, tpl, _ = canary
    assert only(tpl, "AWS::CodeDeploy::DeploymentConfig")["TrafficRoutingConfig"] == {
        "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10},
        "Type": "TimeBasedCanary",
    }
    group = only(tpl, "AWS::CodeDeploy::DeploymentGroup")
    assert group["AutoRollbackConfiguration"] == {
        "Enabled": True,
        "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    alarm_ids = {a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]}
    alarms = tpl.find_resources("AWS::CloudWatch::Alarm")
    assert {k.split("Deployment")[1][:6] for k in alarm_ids} == {"Errors", "Durati"}
    for logical_id in alarm_ids:
        props = alarms[logical_id]["Properties"]
        # judged on the version being deployed, through live: not the old version's errors
        dimensions = {d["Name"] for d in props["Dimensions"]}
        assert dimensions == {"FunctionName", "Resource", "ExecutedVersion"}
        assert (props["EvaluationPeriods"], props["DatapointsToAlarm"], props["Period"]) == (3, 2, 60)
        if props["MetricName"] == "Duration":
            assert props["EvaluateLowSampleCountPercentile"] == "ignore" and props["ExtendedStatistic"] == "p99"
    assert fn.deployment_group is not None
    assert {a.node.id for a in fn.alarms} >= {"DeploymentErrorsAlarm", "DeploymentDurationAlarm"}


def test_alias_update_goes_through_codedeploy_with_the_hook(
    canary: tuple[ProductionFunction, Template, cdk.App],
) -> None:
    _, tpl, _ = canary
    alias = next(r for k, r in tpl.find_resources("AWS::Lambda::Alias").items() if k.startswith("ApiLiveAlias"))
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    hook = json.dumps(update["BeforeAllowTrafficHook"])
    assert "PreTrafficLiveAlias" in hook and ":live" in hook  # the hook's live alias, not its $LATEST


def test_weighted_alias_never_carries_provisioned_concurrency(
    canary: tuple[ProductionFunction, Template, cdk.App],
) -> None:
    """SAM#1296 / terraform#24957: Lambda refuses to change provisioned concurrency on a weighted alias.
    With a deployment, the alias has no static value; the scalable target (min 3) owns it alone."""
    _, tpl, _ = canary
    alias = next(r for k, r in tpl.find_resources("AWS::Lambda::Alias").items() if k.startswith("ApiLiveAlias"))
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 3, "MaxCapacity": 30})


def test_without_deployment_the_alias_keeps_its_static_value() -> None:
    stack = cdk.Stack(cdk.App(), "Plain")
    pf(stack, "Api", provisioned_concurrency=ProvisionedConcurrency(3, 30))
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 3}}
    )


def test_linear_and_all_at_once() -> None:
    stack = cdk.Stack(cdk.App(), "Kinds")
    pf(stack, "Linear", deployment=Deployment.linear(percent=20, minutes=2))
    pf(stack, "AllAtOnce", deployment=Deployment.all_at_once())
    tpl = Template.from_stack(stack)
    assert only(tpl, "AWS::CodeDeploy::DeploymentConfig")["TrafficRoutingConfig"]["TimeBasedLinear"] == {
        "LinearInterval": 2,
        "LinearPercentage": 20,
    }
    tpl.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"DeploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce"}
    )


def test_deployment_is_clean_under_all_packs(canary: tuple[ProductionFunction, Template, cdk.App]) -> None:
    _, _, app = canary
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app), ProductionReadinessChecks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding


@pytest.mark.parametrize(
    ("deployment", "message"),
    [
        (Deployment.canary(percent=0), r"deployment\.percent=0 is invalid; allowed: 1\.\.99 %"),
        (Deployment.linear(minutes=3000), r"deployment\.minutes=3000 is invalid; allowed: 1\.\.2880 minutes"),
        (
            Deployment("blue_green"),
            r"deployment\.kind='blue_green' is invalid; allowed: canary \| linear \| all_at_once",
        ),
        ("canary", r"deployment='canary' is invalid; allowed: a Deployment"),
    ],
)
def test_bad_deployments(deployment: Any, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(ConfigurationError, match=r"^Bad/Api: .*" + message):
        pf(stack, "Api", deployment=deployment)


# ---------------------------------------------------------------- dashboard


@pytest.fixture(scope="module")
def widgets() -> list[dict[str, Any]]:
    """The dashboard body as data: the Fn::Join parts with references replaced by "REF"."""
    stack = cdk.Stack(cdk.App(), "Dash")
    api = pf(stack, "Api")
    worker = pf(stack, "Notifier", invocation=Invocation.ASYNC)
    ServiceDashboard(stack, "Service", functions=[api, worker])
    body = only(Template.from_stack(stack), "AWS::CloudWatch::Dashboard")["DashboardBody"]
    text = "".join(part if isinstance(part, str) else "REF" for part in body["Fn::Join"][1])
    return json.loads(text)["widgets"]


def _metric_names(widget: dict[str, Any]) -> set[str]:
    return {m[1] for m in widget["properties"].get("metrics", [])}


def test_dashboard_has_every_widget(widgets: list[dict[str, Any]]) -> None:
    titles = [w["properties"].get("title", "") for w in widgets]
    assert titles.count("Dash/Api: duration vs timeout") == 1
    duration = widgets[titles.index("Dash/Api: duration vs timeout")]
    assert [m[-1]["stat"] for m in duration["properties"]["metrics"]] == ["p50", "p99", "p99.9"]
    (line,) = duration["properties"]["annotations"]["horizontal"]
    assert line["value"] == 2000 and line["label"] == "timeout 2 s"  # 400 ms x 3 -> 2 s
    traffic = widgets[titles.index("Dash/Api: invocations, errors, throttles")]
    assert _metric_names(traffic) == {"Invocations", "Errors", "Throttles"}
    pc = widgets[titles.index("Dash/Api: provisioned concurrency")]
    assert _metric_names(pc) == {"ProvisionedConcurrencyUtilization", "ProvisionedConcurrencySpilloverInvocations"}
    assert pc["properties"]["annotations"]["horizontal"][0]["value"] == 0.7
    queue = widgets[titles.index("Dash/Notifier: failure queue depth")]
    assert _metric_names(queue) == {"ApproximateNumberOfMessagesVisible"}
    assert "Dash/Notifier: provisioned concurrency" not in titles  # ASYNC: no provisioned concurrency


def test_dashboard_splits_cold_and_warm_from_report_lines(widgets: list[dict[str, Any]]) -> None:
    logs = [w for w in widgets if w["type"] == "log"]
    assert len(logs) == 2  # one per function
    query = logs[0]["properties"]["query"]
    assert query.startswith("SOURCE 'REF' | " + COLD_WARM_QUERY.replace("\n", "\n")[:20])
    assert "ispresent(initMs) as coldStart" in query
    assert "pct(billedMs, 99) as p99BilledMs" in query and "by coldStart" in query


TEXT_REPORTS = [
    "REPORT RequestId: 1 Duration: 812.12 ms Billed Duration: 813 ms Memory Size: 1024 MB "
    "Max Memory Used: 90 MB Init Duration: 402.50 ms",
    "REPORT RequestId: 2 Duration: 20.01 ms Billed Duration: 21 ms Memory Size: 1024 MB Max Memory Used: 91 MB",
]
JSON_REPORTS = [
    '{"time":"2026-11-28T09:00:00.000Z","type":"platform.report","record":{"requestId":"1","metrics":'
    '{"durationMs":812.12,"billedDurationMs":813,"memorySizeMB":1024,"maxMemoryUsedMB":90,"initDurationMs":402.5},'
    '"status":"success"}}',
    '{"time":"2026-11-28T09:00:01.000Z","type":"platform.report","record":{"requestId":"2","metrics":'
    '{"durationMs":20.01,"billedDurationMs":21,"memorySizeMB":1024,"maxMemoryUsedMB":91},"status":"success"}}',
]


def _discovered(line: str) -> dict[str, object]:
    """The fields CloudWatch Logs Insights discovers in a Lambda log event of either format."""
    import json
    import re

    if line.startswith("{"):
        flat: dict[str, object] = {}

        def walk(prefix: str, value: object) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(f"{prefix}.{key}" if prefix else key, item)
            else:
                flat[prefix] = value

        walk("", json.loads(line))
        return flat
    fields: dict[str, object] = {"@type": line.split(" ")[0]}
    for name, label in (("@billedDuration", "Billed Duration"), ("@initDuration", "Init Duration")):
        match = re.search(rf"{label}: ([0-9.]+) ms", line)
        if match:
            fields[name] = float(match.group(1))
    return fields


def _run_query(lines: list[str]) -> list[tuple[bool, float]]:
    """Evaluate the query's filter, coalesce and ispresent steps as Logs Insights does."""
    import re

    query = COLD_WARM_QUERY
    conditions = re.findall(r'(\S+) = "([^"]+)"', query.splitlines()[0])
    billed = re.search(r"coalesce\(([^,]+), ([^)]+)\) as billedMs", query)
    init = re.search(r"coalesce\(([^,]+), ([^)]+)\) as initMs", query)
    assert conditions and billed and init
    rows = []
    for line in lines:
        fields = _discovered(line)
        if not any(fields.get(name) == value for name, value in conditions):
            continue
        billed_ms = next(fields[f] for f in billed.groups() if f in fields)
        init_ms = next((fields[f] for f in init.groups() if f in fields), None)
        rows.append((init_ms is not None, float(billed_ms)))  # type: ignore[arg-type]
    return rows


@pytest.mark.parametrize("lines", [TEXT_REPORTS, JSON_REPORTS], ids=["text", "json"])
def test_cold_warm_query_reads_both_log_formats(lines: list[str]) -> None:
    assert _run_query([*lines, "START RequestId: 3 Version: 7", '{"type":"platform.start"}']) == [
        (True, 813.0),
        (False, 21.0),
    ]


def test_dashboard_needs_functions() -> None:
    with pytest.raises(ConfigurationError, match=r"^S/D: functions=\[\] is invalid; allowed: a non-empty list"):
        ServiceDashboard(cdk.Stack(cdk.App(), "S"), "D", functions=[])


def test_single_function_dashboard_shortcut() -> None:
    stack = cdk.Stack(cdk.App(), "One")
    pf(stack, "Api").dashboard()
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Dashboard", 1)
