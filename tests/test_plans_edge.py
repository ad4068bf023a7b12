"""The plan of an EdgeFunction (Lambda@Edge): decisions as pure values, counts and logical ids against the tree.

The ``plan_edge`` and ``*_problems`` tests take no aws-cdk-lib (milliseconds each); the
``edge_plan_resource_count_matches_the_tree`` tests build several EdgeFunctions in ONE app and check each
plan's resource count, alarms, sizes and the function's logical id (which the replica-log
acknowledgements name) against what the build really made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from constructs import Construct

from lambda_constructs import EdgeFunction, FunctionFleet, Memory
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans import edge as plans
from lambda_constructs.core.plans.edge import EdgeRequest, plan_edge
from lambda_constructs.core.plans.function import Reading, TimeoutPlan
from lambda_constructs.function import fleet as fleet_module
from tests.conftest import INLINE

PATH = "Stack/Orders/Edge"
PREFIX = "Stack-Orders-Edge"
US_EAST_1 = cdk.Environment(account="123456789012", region="us-east-1")


def edge(**overrides: Any) -> plans.EdgePlan:
    values: dict[str, Any] = {
        "path": PATH,
        "stack_path": "Stack",
        "alarm_prefix": PREFIX,
        "event_type": "VIEWER_REQUEST",
        "p99_ms": 20.0,
    }
    values.update(overrides)
    return plan_edge(EdgeRequest(**values))


# ------------------------------------------------------------------ plan_edge, pure


def test_a_viewer_function_gets_the_viewer_quotas_128_mb_and_a_timeout_from_p99() -> None:
    p = edge()
    assert p.limits == plans.EdgeLimits("viewer", 5, 128, Memory.mb(128))
    assert p.timeout == TimeoutPlan(1, "p99", 20.0, 3)  # 3 x 20 ms, rounded up to whole seconds, at least 1 s
    assert (p.timeout_seconds, p.memory_mb, p.architecture) == (1, 128, "x86_64")
    assert p.event_type == "VIEWER_REQUEST" and not p.include_body and p.description is None
    assert p.versioned
    assert p.role_principals == ("lambda.amazonaws.com", "edgelambda.amazonaws.com")
    assert p.role_description == "Lambda@Edge execution role: writes to its own log group only"
    assert p.log_actions == ("logs:CreateLogStream", "logs:PutLogEvents")
    assert p.notes == ()
    # log group, role and its default policy, function, replica-logs policy, version, 3 alarms
    assert p.resource_count == 9


def test_origin_events_allow_30_s_and_default_to_1024_mb() -> None:
    p = edge(event_type="ORIGIN_RESPONSE", p99_ms=8_000.0)
    assert p.limits == plans.EdgeLimits("origin", 30, 10_240, Memory.io_bound())
    assert (p.timeout_seconds, p.memory_mb) == (24, 1024)
    assert edge(event_type="ORIGIN_REQUEST", memory=Memory.cpu_bound()).memory_mb == 1769
    assert edge(event_type="VIEWER_RESPONSE", memory=128).memory_mb == 128


def test_a_fixed_timeout_and_a_multiplier() -> None:
    assert edge(p99_ms=None, timeout_ms=5_000.0).timeout == TimeoutPlan(5, "fixed")
    assert edge(p99_ms=900.0, timeout_multiplier=2).timeout == TimeoutPlan(2, "p99", 900.0, 2)


def test_alarms_read_the_us_east_1_metrics_with_names_thresholds_and_periods() -> None:
    p = edge(event_type="ORIGIN_REQUEST", p99_ms=1_000.0)
    errors, throttles, duration = p.alarms
    assert [a.id for a in p.alarms] == ["ErrorsAlarm", "ThrottlesAlarm", "DurationAlarm"]
    assert [a.name for a in p.alarms] == [f"{PREFIX}-{a.id}" for a in p.alarms]
    assert (errors.metric, errors.statistic, errors.threshold) == ("Errors", "Sum", 1)
    assert (throttles.metric, throttles.threshold) == ("Throttles", 1)
    assert (duration.metric, duration.statistic, duration.threshold) == ("Duration", "p99", 2400)  # 80 % of 3 s
    assert duration.comparison == "GREATER_THAN_THRESHOLD"
    assert {a.period_s for a in p.alarms} == {300} and {a.source for a in p.alarms} == {"function"}
    assert errors.description == f"{PATH}: the function raised errors in the last 5 minutes. (us-east-1 metrics)"
    assert duration.description == (
        f"{PATH}: p99 duration above 80% of the 3 s timeout: invocations are close to timing out. (us-east-1 metrics)"
    )


def test_the_function_is_acknowledged_for_no_dlq_and_no_tracing() -> None:
    assert [rule for rule, _ in edge().acknowledgements] == ["Serverless-LambdaDLQ", "Serverless-LambdaTracing"]
    dlq, tracing = (reason for _, reason in edge().acknowledgements)
    assert dlq.startswith("Lambda@Edge supports no dead-letter queue: Lambda@Edge does not support this (")
    assert tracing.endswith("CloudFront returns the error to the viewer.")


def test_replica_logs_name_the_findings_with_pseudo_parameters_or_the_env() -> None:
    p = edge()
    assert p.function_logical_id == "OrdersEdgeFunction10F8CEDE"
    assert p.replica_logs.id == "ReplicaLogs"
    assert p.replica_logs.actions == ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
    group = "arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/aws/lambda/us-east-1.<OrdersEdgeFunction10F8CEDE>"
    assert [rule for rule, _ in p.replica_logs.acknowledgements] == [
        f"AwsSolutions-IAM5[Resource::{group}]",
        f"AwsSolutions-IAM5[Resource::{group}:*]",
    ]
    assert {reason for _, reason in p.replica_logs.acknowledgements} == {plans.REPLICA_LOGS_REASON}
    concrete = edge(partition="aws", account="123456789012")
    assert concrete.replica_logs.acknowledgements[0][0] == (
        "AwsSolutions-IAM5[Resource::arn:aws:logs:*:123456789012:log-group:/aws/lambda/us-east-1."
        "<OrdersEdgeFunction10F8CEDE>]"
    )
    assert plans.replica_log_group_arn("aws", "1", "fn") == "arn:aws:logs:*:1:log-group:/aws/lambda/us-east-1.fn"


# ------------------------------------------------------------------ the pure checks


def _surface(**overrides: Any) -> list[Problem]:
    values: dict[str, Any] = {
        "code": "zip",
        "code_shown": None,
        "handler": "index.handler",
        "runtime": "nodejs22.x",
        "runtime_shown": "nodejs22.x",
        "architecture": None,
    }
    given = overrides.pop("given", dict.fromkeys(plans.UNSUPPORTED))
    values.update(overrides)
    return plans.surface_problems(given, **values)


def test_surface_problems_name_each_restriction_in_order() -> None:
    assert _surface() == []
    assert _surface(runtime="python3.13") == []
    given = dict.fromkeys(plans.UNSUPPORTED)
    given.update(snap_start="on", environment={"A": "b"})
    found = _surface(
        given=given, code="image", handler="", runtime="java21", runtime_shown="java21", architecture="arm64"
    )
    assert [p.prop for p in found] == ["environment", "snap_start", "code", "handler", "runtime", "architecture"]
    assert found[0].describe() == (
        "environment={'A': 'b'} is invalid; allowed: None. Lambda@Edge does not support environment variables "
        "(Restrictions on Lambda@Edge (Amazon CloudFront developer guide))"
    )
    assert found[2] == Problem(
        "code",
        "a container image",
        "zip code (Code.from_asset)",
        f"Lambda@Edge does not support container images ({plans.RESTRICTIONS})",
    )
    assert found[3].allowed == "a non-empty string of at most 128 characters"
    assert (found[4].value, found[4].allowed) == ("java21", "a Node.js or Python runtime")
    assert (found[5].value, found[5].allowed) == ("arm64", "X86_64")
    assert _surface(code="other", code_shown="'x'") == [Problem("code", "'x'", "an aws_lambda.Code")]
    assert [p.prop for p in _surface(handler="h" * 129, runtime=None, runtime_shown="?")] == ["handler", "runtime"]


def test_only_us_east_1_is_accepted() -> None:
    assert plans.region_problem("us-east-1") is None
    other = plans.region_problem("eu-west-1")
    assert other is not None and other.describe().startswith("stack.region='eu-west-1' is invalid; allowed: us-east-1")
    agnostic = plans.region_problem(None)
    assert agnostic is not None and agnostic.value == "unresolved (env-agnostic stack)"


def _sizing(event: str = "VIEWER_REQUEST", **kw: Any) -> list[Problem]:
    values: dict[str, Any] = {
        "region": "us-east-1",
        "p99": Reading(20.0),
        "timeout": None,
        "multiplier": 3,
        "memory": None,
    }
    values.update(kw)
    return plans.sizing_problems(
        event, values["region"], values["p99"], values["timeout"], values["multiplier"], values["memory"]
    )


def test_sizing_problems_hold_timeout_and_memory_to_the_event_types_quotas() -> None:
    assert _sizing() == [] and _sizing("ORIGIN_REQUEST", p99=Reading(9_000.0), memory=10_240) == []
    (viewer,) = _sizing(p99=Reading(2_000.0))
    assert viewer.describe() == (
        "p99='2000 ms' is invalid; allowed: a timeout of 1..5 s for viewer events (got 6 s). "
        "the Lambda@Edge quota for viewer events (Restrictions on Lambda@Edge (Amazon CloudFront developer guide))"
    )
    (origin,) = _sizing("ORIGIN_RESPONSE", p99=None, timeout=Reading(31_000.0))
    assert (origin.prop, origin.allowed) == ("timeout", "a timeout of 1..30 s for origin events (got 31 s)")
    (memory,) = _sizing(memory=256)
    assert memory.describe().startswith("memory=256 is invalid; allowed: 128..128 MB")
    assert _sizing(memory="big") == [Problem("memory", "big", "a Memory or an int of MB")]
    assert [p.prop for p in _sizing("ORIGIN_REQUEST", memory=Memory.mb(10_241))] == ["memory"]


def test_exactly_one_of_p99_and_timeout_and_their_reading_problems() -> None:
    (both,) = _sizing(timeout=Reading(1_000.0))
    assert (both.prop, both.value) == ("p99/timeout", "p99, timeout")
    (neither,) = _sizing(p99=None)
    assert neither.value == "none"
    unread = Problem("p99", "a deploy-time token", "a concrete Duration")
    assert _sizing(p99=Reading(problem=unread)) == [unread]
    assert [p.prop for p in _sizing(multiplier=11)] == ["multiplier"]
    assert [p.prop for p in _sizing(region=None, p99=None, memory=0.5)] == ["stack.region", "p99/timeout", "memory"]


def test_option_problems() -> None:
    assert plans.option_problems(False, "headers") == []
    assert plans.option_problems("yes", "d" * 257) == [
        Problem("include_body", "yes", "True or False"),
        Problem("description", "'" + "d" * 76 + "...", "a string of at most 256 characters"),
    ]


# ------------------------------------------------------------------ against the tree (one app)


def _edge(scope: Construct, id: str, **kw: Any) -> EdgeFunction:
    kw.setdefault("p99", cdk.Duration.millis(100))
    kw.setdefault("event_type", cloudfront.LambdaEdgeEventType.VIEWER_REQUEST)
    return EdgeFunction(scope, id, code=INLINE, handler="index.handler", runtime=lambda_.Runtime.NODEJS_22_X, **kw)


def _resources(construct: Construct) -> int:
    return sum(1 for c in construct.node.find_all() if isinstance(c, cdk.CfnResource))


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], cdk.Stack, Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Edges", env=US_EAST_1)
    nested = Construct(stack, "Cdn")
    made: dict[str, Any] = {
        "viewer": _edge(stack, "Viewer"),
        "origin": _edge(
            nested,
            "Origin",
            event_type=cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
            p99=None,
            timeout=cdk.Duration.seconds(20),
            memory=2048,
            description="rewrites the origin path",
        ),
        "body": _edge(stack, "Body", include_body=True, encryption_key=kms.Key(stack, "Key", enable_key_rotation=True)),
    }
    return made, stack, Template.from_stack(stack)


@pytest.mark.parametrize("name", ["viewer", "origin", "body"])
def test_edge_plan_resource_count_matches_the_tree(
    built: tuple[dict[str, Any], cdk.Stack, Template], name: str
) -> None:
    made, stack, tpl = built
    fn: EdgeFunction = made[name]
    assert fn.plan.resource_count == _resources(fn) == 9
    assert [a.node.id for a in fn.alarms] == [a.id for a in fn.plan.alarms]
    cfn = fn.function.node.default_child
    assert fn.plan.function_logical_id == stack.resolve(stack.get_logical_id(cfn))  # type: ignore[arg-type]
    props = tpl.find_resources("AWS::Lambda::Function")[fn.plan.function_logical_id]["Properties"]
    assert (props["Timeout"], props["MemorySize"]) == (fn.plan.timeout_seconds, fn.plan.memory_mb)
    assert props.get("Description") == fn.plan.description
    assert fn.edge_lambda.include_body == fn.plan.include_body
    for alarm in fn.plan.alarms:
        (alarm_props,) = [
            r["Properties"]
            for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
            if r["Properties"]["AlarmName"] == alarm.name
        ]
        assert alarm_props["Threshold"] == alarm.threshold and alarm_props["AlarmDescription"] == alarm.description
    # the stack names its account, so cdk-nag prints it: the findings name it and the function's logical id
    (rule, _), _ = fn.plan.replica_logs.acknowledgements
    assert f":logs:*:123456789012:log-group:/aws/lambda/us-east-1.<{fn.plan.function_logical_id}>]" in rule


def test_a_fleet_sizes_an_edge_bundle_by_its_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An EdgeFunction in a FunctionFleet bundle (a nested stack of a us-east-1 stack) is sized by its plan."""
    app = cdk.App(outdir=str(tmp_path / "out"))
    fleet = FunctionFleet(cdk.Stack(app, "Cdn", env=US_EAST_1), "Edges", placement_file=tmp_path / "p.json")

    def walked(construct: object) -> int:
        raise AssertionError("the fleet walked a planned bundle's tree")

    with monkeypatch.context() as patched:
        patched.setattr(fleet_module, "_resources", walked)
        built = fleet.add("Headers", _edge)
    assert fleet.resource_counts["Stack1"] == built.plan.resource_count == _resources(fleet.stack_of("Headers"))
