"""ProductionFunction: every default and every derived value, asserted on the template.

One stack per scenario, synthesized once for the module.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from lambda_constructs import (
    Invocation,
    Memory,
    ProductionFunction,
    ProvisionedConcurrency,
    timeout_from_p99,
)
from tests.conftest import INLINE, new_stack, only


@pytest.fixture(scope="module")
def sync() -> tuple[ProductionFunction, Template]:
    """All defaults: a synchronous function with a measured p99 of 250 ms."""
    stack = new_stack("Sync")
    fn = ProductionFunction(stack, "Api", code=INLINE, handler="index.handler", p99=cdk.Duration.millis(250))
    return fn, Template.from_stack(stack)


@pytest.fixture(scope="module")
def async_fn() -> tuple[ProductionFunction, Template]:
    stack = new_stack("Async")
    topic = sns.Topic(stack, "Topic")
    fn = ProductionFunction(
        stack,
        "Notifier",
        code=INLINE,
        handler="index.handler",
        p99=cdk.Duration.seconds(2),
        invocation=Invocation.ASYNC,
        alarm_topic=topic,
        retry_attempts=1,
        max_event_age=cdk.Duration.hours(1),
    )
    return fn, Template.from_stack(stack)


@pytest.fixture(scope="module")
def custom() -> tuple[ProductionFunction, Template]:
    """Overrides: fixed timeout, CPU-bound memory, explicit provisioned concurrency, reserved."""
    stack = new_stack("Custom")
    fn = ProductionFunction(
        stack,
        "Worker",
        code=INLINE,
        handler="index.handler",
        timeout=cdk.Duration.seconds(30),
        memory=Memory.cpu_bound(),
        provisioned_concurrency=ProvisionedConcurrency(5, 100, 0.5),
        reserved_concurrency=200,
        environment={"TABLE": "orders"},
        log_retention=logs.RetentionDays.ONE_WEEK,
        architecture=lambda_.Architecture.X86_64,
    )
    return fn, Template.from_stack(stack)


# ---------------------------------------------------------------- function defaults


def test_function_defaults(sync: tuple[ProductionFunction, Template]) -> None:
    _, tpl = sync
    tpl.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Architectures": ["arm64"],
            "Runtime": "python3.14",
            "MemorySize": 1024,
            "Timeout": 1,  # 250 ms x 3 = 750 ms, rounded up to 1 s
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("ApiLogGroup")}},
            "ReservedConcurrentExecutions": Match.absent(),
        },
    )


def test_attributes_expose_derived_values(sync: tuple[ProductionFunction, Template]) -> None:
    fn, _ = sync
    assert fn.timeout.to_seconds() == 1
    assert fn.timeout_seconds == 1
    assert fn.memory_size == 1024
    assert fn.p99 is not None and fn.p99.to_milliseconds() == 250
    assert fn.alias.alias_name == "live"
    assert fn.failure_queue is None
    assert fn.scalable_target is not None
    assert isinstance(fn.function, lambda_.Function)


def test_log_group_has_one_month_retention(sync: tuple[ProductionFunction, Template]) -> None:
    sync[1].has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_role_is_least_privilege(sync: tuple[ProductionFunction, Template]) -> None:
    tpl = sync[1]
    tpl.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})
    policy = only(tpl, "AWS::IAM::Policy")
    statements = policy["PolicyDocument"]["Statement"]
    assert statements[0] == {
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [statements[0]["Resource"]["Fn::GetAtt"][0], "Arn"]},
    }
    assert len(statements) == 1  # X-Ray is the role's own inline policy (acknowledged alone), not here
    role = only(tpl, "AWS::IAM::Role")
    assert role["Policies"] == [
        {
            "PolicyName": "XRayTracing",
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                        "Effect": "Allow",
                        "Resource": "*",
                    }
                ],
                "Version": "2012-10-17",
            },
        }
    ]


def test_timeout_from_p99_helper() -> None:
    assert timeout_from_p99(cdk.Duration.millis(1001)).to_seconds() == 4
    assert timeout_from_p99(cdk.Duration.seconds(5), multiplier=2).to_seconds() == 10


# ---------------------------------------------------------------- alias and provisioned concurrency


def test_live_alias_on_published_version(sync: tuple[ProductionFunction, Template]) -> None:
    tpl = sync[1]
    tpl.resource_count_is("AWS::Lambda::Version", 1)
    tpl.has_resource_properties(
        "AWS::Lambda::Alias",
        {
            "Name": "live",
            "FunctionVersion": {"Fn::GetAtt": [Match.string_like_regexp("ApiFunctionCurrentVersion"), "Version"]},
            # static value equals the scalable target's min (aws-cdk#30503: no drift)
            "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 1},
        },
    )


def test_sync_defaults_to_provisioned_concurrency_with_target_tracking(
    sync: tuple[ProductionFunction, Template],
) -> None:
    tpl = sync[1]
    target = tpl.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    ((target_id, target_res),) = target.items()
    assert target_res["Properties"]["MinCapacity"] == 1
    assert target_res["Properties"]["MaxCapacity"] == 10
    assert target_res["Properties"]["ScalableDimension"] == "lambda:function:ProvisionedConcurrency"
    assert target_res["Properties"]["ServiceNamespace"] == "lambda"
    join = target_res["Properties"]["ResourceId"]["Fn::Join"][1]
    assert join[0] == "function:" and join[2] == ":live"
    alias_id = next(iter(tpl.find_resources("AWS::Lambda::Alias")))
    assert target_res["DependsOn"] == [alias_id]  # aws-cdk#7903
    assert "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency" in str(target_res["Properties"]["RoleARN"])
    tpl.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"},
                "TargetValue": 0.7,
            },
        },
    )


@pytest.mark.parametrize("invocation", [Invocation.ASYNC, Invocation.QUEUE, Invocation.STREAM])
def test_non_sync_invocations_default_to_no_provisioned_concurrency(invocation: Invocation) -> None:
    stack = new_stack()
    fn = ProductionFunction(stack, "F", code=INLINE, handler="i.h", p99=cdk.Duration.seconds(1), invocation=invocation)
    tpl = Template.from_stack(stack)
    assert fn.scalable_target is None
    tpl.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    tpl.has_resource_properties("AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": Match.absent()})


def test_provisioned_concurrency_none_turns_it_off() -> None:
    stack = new_stack()
    fn = ProductionFunction(
        stack, "F", code=INLINE, handler="i.h", p99=cdk.Duration.seconds(1), provisioned_concurrency=None
    )
    assert fn.scalable_target is None and fn.provisioned_concurrency is None
    tpl = Template.from_stack(stack)
    tpl.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    assert "SpilloverAlarm" not in {a.node.id for a in fn.alarms}


def test_explicit_provisioned_concurrency_and_reserved(custom: tuple[ProductionFunction, Template]) -> None:
    _, tpl = custom
    tpl.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 5, "MaxCapacity": 100})
    tpl.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {"TargetTrackingScalingPolicyConfiguration": Match.object_like({"TargetValue": 0.5})},
    )
    tpl.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 5}}
    )
    tpl.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "ReservedConcurrentExecutions": 200,
            "MemorySize": 1769,
            "Timeout": 30,
            "Architectures": ["x86_64"],
            "Environment": {"Variables": {"TABLE": "orders"}},
        },
    )
    tpl.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 7})


def test_fixed_timeout_warns_that_it_was_not_measured(custom: tuple[ProductionFunction, Template]) -> None:
    fn, _ = custom
    warnings = Annotations.from_stack(cdk.Stack.of(fn)).find_warning(
        "*", Match.string_like_regexp("timeout=30 s was not derived from a measured p99")
    )
    assert len(warnings) == 1


def test_measured_timeout_has_no_warning(sync: tuple[ProductionFunction, Template]) -> None:
    fn, _ = sync
    assert Annotations.from_stack(cdk.Stack.of(fn)).find_warning("*", Match.string_like_regexp("timeout")) == []


# ---------------------------------------------------------------- async failure path


def test_async_failure_queue_is_encrypted_and_kept_14_days(async_fn: tuple[ProductionFunction, Template]) -> None:
    fn, tpl = async_fn
    assert fn.failure_queue is not None
    tpl.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1_209_600})
    tpl.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_async_on_failure_destination_on_function_and_alias(async_fn: tuple[ProductionFunction, Template]) -> None:
    _, tpl = async_fn
    configs = tpl.find_resources("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 2
    queue_id = next(iter(tpl.find_resources("AWS::SQS::Queue")))
    qualifiers = []
    for cfg in configs.values():
        p = cfg["Properties"]
        assert p["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}
        assert p["MaximumRetryAttempts"] == 1
        assert p["MaximumEventAgeInSeconds"] == 3600
        qualifiers.append(p["Qualifier"])
    assert "$LATEST" in qualifiers  # direct invokes of the function name are covered too


def test_async_defaults_set_explicitly() -> None:
    stack = new_stack()
    ProductionFunction(stack, "F", code=INLINE, handler="i.h", p99=cdk.Duration.seconds(1), invocation=Invocation.ASYNC)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21_600}
    )


def test_function_may_send_to_failure_queue(async_fn: tuple[ProductionFunction, Template]) -> None:
    _, tpl = async_fn
    queue_id = next(iter(tpl.find_resources("AWS::SQS::Queue")))
    tpl.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["sqs:SendMessage"]),
                                "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                            }
                        )
                    ]
                )
            }
        },
    )


# ---------------------------------------------------------------- alarms


def _alarms(tpl: Template) -> dict[str, dict]:
    return {
        r["Properties"]["MetricName"]: r["Properties"] for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
    }


def test_sync_alarms(sync: tuple[ProductionFunction, Template]) -> None:
    fn, tpl = sync
    alarms = _alarms(tpl)
    assert set(alarms) == {"Errors", "Throttles", "Duration", "ProvisionedConcurrencySpilloverInvocations"}
    assert len(fn.alarms) == 4
    for props in alarms.values():
        assert props["TreatMissingData"] == "notBreaching"
        assert props["AlarmName"].startswith("Sync-Api-")
        assert props["AlarmDescription"].startswith("Sync/Api: ")
        assert "AlarmActions" not in props  # no topic given
    assert alarms["Duration"]["ExtendedStatistic"] == "p99"
    assert alarms["Duration"]["Threshold"] == 800  # 80 % of the 1 s timeout, in ms
    assert alarms["Duration"]["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarms["Errors"]["Threshold"] == 1 and alarms["Errors"]["Statistic"] == "Sum"
    spill = alarms["ProvisionedConcurrencySpilloverInvocations"]
    assert {d["Name"] for d in spill["Dimensions"]} == {"FunctionName", "Resource"}


def test_async_alarms_include_failure_queue_depth_and_go_to_topic(
    async_fn: tuple[ProductionFunction, Template],
) -> None:
    _, tpl = async_fn
    alarms = _alarms(tpl)
    assert set(alarms) == {"Errors", "Throttles", "Duration", "ApproximateNumberOfMessagesVisible"}
    depth = alarms["ApproximateNumberOfMessagesVisible"]
    assert depth["Threshold"] == 0 and depth["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarms["Duration"]["Threshold"] == 4800  # 2 s x 3 = 6 s timeout; 80 % = 4.8 s
    topic_id = next(iter(tpl.find_resources("AWS::SNS::Topic")))
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": topic_id}]


# ---------------------------------------------------------------- metadata for tools


def test_sizing_inputs_recorded_in_metadata(sync: tuple[ProductionFunction, Template]) -> None:
    fn = only(sync[1], "AWS::Lambda::Function")
    assert fn["Handler"] == "index.handler"
    resource = next(iter(sync[1].find_resources("AWS::Lambda::Function").values()))
    assert resource["Metadata"]["lambda-constructs"] == {
        "timeout": {"seconds": 1, "source": "p99", "p99Ms": 250, "multiplier": 3},
        "memory": {"sizeMb": 1024, "source": "io_bound"},
        "invocation": "sync",
        "alias": "live",
        "provisionedConcurrency": {"min": 1, "max": 10, "targetUtilization": 0.7},
        "alarms": 4,  # counted at synthesis, so event-source alarms added later are included
    }


def test_power_tuning_choice_recorded(tmp_path) -> None:
    from tests.test_sizing import FIXTURE

    stack = new_stack()
    fn = ProductionFunction(
        stack,
        "F",
        code=INLINE,
        handler="i.h",
        p99=cdk.Duration.millis(80),
        memory=Memory.from_power_tuning(FIXTURE, strategy="speed"),
    )
    assert fn.memory_size == 3008
    resource = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))
    assert resource["Properties"]["MemorySize"] == 3008
    memory = resource["Metadata"]["lambda-constructs"]["memory"]
    assert memory["source"] == "power_tuning" and memory["strategy"] == "speed" and memory["candidates"] == 6


def test_event_sources_attach_to_the_alias() -> None:
    from aws_cdk import aws_lambda_event_sources as sources
    from aws_cdk import aws_sqs as sqs

    stack = new_stack()
    fn = ProductionFunction(
        stack, "F", code=INLINE, handler="i.h", p99=cdk.Duration.seconds(1), invocation=Invocation.QUEUE
    )
    fn.add_event_source(sources.SqsEventSource(sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(18))))
    mapping = only(Template.from_stack(stack), "AWS::Lambda::EventSourceMapping")
    # "<function name>:live" -- the alias, never $LATEST
    assert mapping["FunctionName"]["Fn::Join"][1][1] == ":live"


def test_a_given_role_is_granted_the_log_group() -> None:
    from aws_cdk import aws_iam as iam

    stack = new_stack()
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    fn = ProductionFunction(stack, "F", code=INLINE, handler="i.h", p99=cdk.Duration.seconds(1), role=role)
    assert fn.role is role
    tpl = Template.from_stack(stack)
    tpl.resource_count_is("AWS::IAM::Role", 1)
    log_group_id = next(iter(tpl.find_resources("AWS::Logs::LogGroup")))
    tpl.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
                        }
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize("fixture", ["sync", "async_fn", "custom"])
def test_plan_resource_count_matches_the_tree(fixture: str, request: pytest.FixtureRequest) -> None:
    """The plan's resource count is what the build really creates (what FunctionFleet relies on)."""
    fn, tpl = request.getfixturevalue(fixture)
    made = [c for c in fn.node.find_all() if isinstance(c, cdk.CfnResource)]
    assert fn.plan.resource_count == len(made)
    assert len(tpl.find_resources("AWS::CloudWatch::Alarm")) == len(fn.plan.alarms) == len(fn.alarms)
