"""KafkaConsumer's plan: decisions as pure values, problems in order, counts against the tree.

The ``plan_kafka`` and ``*_problems`` tests take no aws-cdk-lib (milliseconds each); the tree tests build
several configurations (Amazon MSK, self-managed with and without a VPC, provisioned mode, a queue and a
destination of your own) in ONE app and check each plan's resource count, alarms and mapping settings against
what the build really made; the fleet test checks a bundle of them is sized from the plans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from constructs import Construct

from lambda_constructs import ConfigurationError, FunctionFleet, Invocation, KafkaConsumer, ProductionFunction
from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import kafka as plans
from lambda_constructs.core.plans.function import Reading
from lambda_constructs.core.plans.kafka import KafkaErrorHandling, KafkaRequest, RoleStatement, plan_kafka
from tests.conftest import INLINE

CLUSTER = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/6a3f1c2e-0b1d-4e5f-9a8b-7c6d5e4f3a2b-2"
PATH = "Stack/Payments"
PREFIX = "Stack-Payments"
SERVERS = ("b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096")
MSK_ACK = "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]"


def request(**overrides: Any) -> KafkaRequest:
    values: dict[str, Any] = {"path": PATH, "alarm_prefix": PREFIX, "topic": "payments", "cluster_arn": CLUSTER}
    values.update(overrides)
    return KafkaRequest(**values)


def self_managed(**overrides: Any) -> KafkaRequest:
    return request(cluster_arn=None, bootstrap_servers=SERVERS, secret=True, **overrides)


# ---------------------------------------------------------------- plan_kafka (pure)


def test_msk_plan_defaults() -> None:
    plan = plan_kafka(request())
    assert (plan.cluster, plan.cluster_arn, plan.bootstrap_servers, plan.topic) == ("msk", CLUSTER, None, "payments")
    assert (plan.batch_size, plan.max_batching_window_s, plan.consumer_group_id) == (100, None, None)
    assert (plan.starting_position, plan.starting_position_timestamp) == ("TRIM_HORIZON", None)
    assert (plan.provisioned, plan.error_handling) == (False, None)  # Lambda's own 10 retries with a destination
    assert (plan.authentication, plan.in_vpc) == (None, False)
    assert plan.role_statements == (
        RoleStatement(("kafka:DescribeCluster", "kafka:GetBootstrapBrokers", "kafka:ListScramSecrets"), (CLUSTER,)),
    )
    assert plan.managed_policies == ("service-role/AWSLambdaMSKExecutionRole",)
    assert [rule for rule, _ in plan.role_acknowledgements] == [MSK_ACK]
    assert plan.policy_acknowledgements == ()
    assert plan.offset_lag_threshold == 1000  # 10 full batches of 100
    assert (plan.on_failure, plan.removal_policy, plan.failure.failure_expiration_days) == ("bucket", "RETAIN", 14)
    assert plan.notes == ()
    assert plan.resource_count == 5  # the mapping, the bucket and its policy, two alarms


def test_msk_plan_alarms() -> None:
    lag, bucket = plan_kafka(request(batch_size=500)).alarms
    assert (lag.id, lag.name, lag.source, lag.metric, lag.statistic) == (
        "OffsetLagAlarm",
        "Stack-Payments-OffsetLagAlarm",
        "alias",
        "OffsetLag",
        "Maximum",
    )
    assert (lag.threshold, lag.comparison, lag.period_s, lag.evaluation_periods) == (
        5000,
        "GREATER_THAN_THRESHOLD",
        300,
        1,
    )
    assert lag.description == (
        "Stack/Payments: the consumer is more than 5000 records behind the newest record of payments "
        "(OffsetLag): it is falling behind or stuck on a failing batch."
    )
    assert (bucket.id, bucket.name, bucket.metric, bucket.statistic, bucket.threshold) == (
        "OnFailureBucketAlarm",
        "Stack-Payments-OnFailureBucketAlarm",
        "PutRequests",
        "Sum",
        0,
    )
    given = plan_kafka(request(offset_lag_threshold=42))
    assert given.offset_lag_threshold == 42 and given.alarms[0].threshold == 42
    assert "more than 42 records" in given.alarms[0].description


def test_msk_plan_with_a_secret_uses_sasl_scram_512() -> None:
    assert plan_kafka(request(secret=True)).authentication == "SASL_SCRAM_512_AUTH"


def test_self_managed_plan_without_a_vpc_needs_no_statement() -> None:
    plan = plan_kafka(self_managed(authentication_method="BASIC_AUTH", starting_position="LATEST"))
    assert (plan.cluster, plan.cluster_arn, plan.bootstrap_servers) == ("self_managed", None, SERVERS)
    assert (plan.authentication, plan.in_vpc, plan.starting_position) == ("BASIC_AUTH", False, "LATEST")
    assert plan.role_statements == plan.managed_policies == plan.role_acknowledgements == ()
    assert plan.policy_acknowledgements == ()
    assert plan_kafka(self_managed()).authentication == "SASL_SCRAM_512_AUTH"  # the default


def test_self_managed_plan_in_a_vpc_with_a_queue() -> None:
    plan = plan_kafka(self_managed(vpc=True, on_failure="queue", removal_policy="DESTROY"))
    assert plan.in_vpc and plan.authentication == "SASL_SCRAM_512_AUTH"
    assert plan.role_statements == (RoleStatement(tuple(limits.KAFKA_VPC_ACTIONS), ("*",)),)
    assert "ec2:CreateNetworkInterface" in plan.role_statements[0].actions
    assert plan.managed_policies == plan.role_acknowledgements == ()
    assert [rule for rule, _ in plan.policy_acknowledgements] == ["AwsSolutions-IAM5[Resource::*]"]
    assert [a.id for a in plan.alarms] == ["OffsetLagAlarm", "OnFailureQueueAlarm"]
    assert plan.alarms[1].name == "Stack-Payments-OnFailureQueueAlarm" and plan.alarms[1].threshold == 0
    assert (plan.on_failure, plan.removal_policy, plan.failure.failure_expiration_days) == ("queue", "DESTROY", None)
    assert [n.id for n in plan.notes] == ["lambda-constructs:on-failure-metadata-only"]
    assert plan.resource_count == 5  # the mapping, the queue and its policy, two alarms


def test_provisioned_plan_sets_the_error_handling_controls() -> None:
    assert plan_kafka(request(provisioned=True)).error_handling == KafkaErrorHandling(10, 86_400, True, True)
    given = plan_kafka(
        request(
            provisioned=True,
            retry_attempts=3,
            max_record_age_s=3600,
            bisect_batch_on_error=False,
            report_batch_item_failures=False,
        )
    )
    assert given.error_handling == KafkaErrorHandling(3, 3600, False, False)
    token = plan_kafka(request(provisioned=True, max_record_age_token=True))
    assert token.error_handling is not None and token.error_handling.max_record_age_s is None  # the given Duration


def test_a_destination_of_your_own_has_no_library_alarm() -> None:
    plan = plan_kafka(request(on_failure="custom"))
    assert [a.id for a in plan.alarms] == ["OffsetLagAlarm"]
    assert plan.resource_count == 2  # the mapping and its alarm
    assert plan.notes[0].id == "lambda-constructs:on-failure-metadata-only"
    assert plan_kafka(request(on_failure="custom", custom_is_bucket=True)).notes == ()  # a bucket keeps the records


def test_a_role_the_function_does_not_own_or_have() -> None:
    assert plan_kafka(request(function_owns_role=False)).resource_count is None
    no_role = plan_kafka(request(function_has_role=False, function_owns_role=False))
    assert no_role.managed_policies == no_role.role_acknowledgements == ()
    assert no_role.role_statements  # still added through the alias
    assert plan_kafka(self_managed(vpc=True, function_has_role=False)).policy_acknowledgements == ()


def test_kafka_plan_notes_in_order() -> None:
    plan = plan_kafka(
        request(on_failure="queue", filters=6, function_path="Stack/Fn", function_invocation=Invocation.SYNC)
    )
    assert [n.id for n in plan.notes] == [
        "lambda-constructs:on-failure-metadata-only",
        "lambda-constructs:filter-quota",
        "lambda-constructs:Kafka-invocation",
    ]
    assert plan.notes[1].message.startswith("6 filters: Lambda allows 5 per event source mapping unless the account")
    assert plan.notes[2].message == (
        "Stack/Fn is declared invocation=SYNC; a Kafka consumer should use Invocation.STREAM."
    )
    assert plan_kafka(request(filters=5)).notes == ()


# ---------------------------------------------------------------- the pure checks


def cluster(**overrides: Any) -> list[Problem]:
    values: dict[str, Any] = {
        "cluster_arn": None,
        "bootstrap_servers": None,
        "secret": None,
        "secret_is_secret": False,
        "authentication_method": None,
        "authentication": None,
    }
    values.update(overrides)
    return plans.cluster_problems(**values)


def test_cluster_problems() -> None:
    assert [p.value for p in cluster()] == ["neither"]
    assert [p.value for p in cluster(cluster_arn=CLUSTER, bootstrap_servers=list(SERVERS))] == ["both"]
    assert cluster(cluster_arn=CLUSTER) == []
    assert [p.prop for p in cluster(cluster_arn="orders", secret="s", authentication_method="x")] == [
        "secret",
        "cluster_arn",
        "authentication_method",
    ]
    (msk_method,) = cluster(cluster_arn=CLUSTER, authentication_method="x", authentication="BASIC_AUTH")
    assert msk_method.allowed == "None for Amazon MSK (IAM or SASL/SCRAM secret)"
    missing = cluster(bootstrap_servers=["broker", "ok.example.com:9092", 7])
    assert [(p.prop, p.value) for p in missing] == [
        ("bootstrap_servers[0]", "broker"),
        ("bootstrap_servers[2]", 7),
        ("secret", None),
    ]
    assert missing[-1].hint == "self-managed brokers need authentication (SASL/SCRAM, basic or mutual TLS)"
    assert [p.prop for p in cluster(bootstrap_servers="b:1", secret=object(), secret_is_secret=True)] == [
        "bootstrap_servers"
    ]
    ok = {"bootstrap_servers": list(SERVERS), "secret": object(), "secret_is_secret": True}
    assert cluster(**ok, authentication_method="x", authentication="BASIC_AUTH") == []
    (method,) = cluster(**ok, authentication_method="x", authentication=None)
    assert method.prop == "authentication_method"
    assert method.allowed == "an aws_lambda_event_sources.AuthenticationMethod"


def test_vpc_problems() -> None:
    assert plans.vpc_problems(bootstrap_servers=SERVERS, given=[], types_ok=False) is None
    assert plans.vpc_problems(bootstrap_servers=None, given=["vpc_subnets"], types_ok=True) == Problem(
        "vpc_subnets", "set", "None for Amazon MSK (Lambda uses the cluster's own VPC)"
    )
    assert plans.vpc_problems(bootstrap_servers=SERVERS, given=["vpc", "security_group"], types_ok=True) == Problem(
        "vpc/vpc_subnets/security_group", "vpc, security_group", "all three for brokers inside a VPC"
    )
    everything = list(plans.VPC_PROPS)
    assert plans.vpc_problems(bootstrap_servers=SERVERS, given=everything, types_ok=False) == Problem(
        "vpc/security_group", "set", "an aws_ec2.IVpc and an aws_ec2.ISecurityGroup"
    )
    assert plans.vpc_problems(bootstrap_servers=SERVERS, given=everything, types_ok=True) is None


def test_name_and_position_problems() -> None:
    assert plans.name_problems("orders.v1_x-y", "group/a:b@c") == []
    assert [(p.prop, p.value) for p in plans.name_problems("bad topic", "")] == [
        ("topic", "bad topic"),
        ("consumer_group_id", ""),
    ]
    assert [p.prop for p in plans.name_problems("t" * 250, "g" * 201)] == ["topic", "consumer_group_id"]
    assert plans.position_problem("LATEST", None, None) == Problem(
        "starting_position", "LATEST", "an aws_lambda.StartingPosition"
    )
    assert plans.position_problem(object(), "AT_TIMESTAMP", None) == Problem(
        "starting_position_timestamp",
        None,
        "a Unix time in seconds with starting_position=AT_TIMESTAMP",
        "Lambda needs the time to start reading from",
    )
    assert plans.position_problem(object(), "AT_TIMESTAMP", 1_700_000_000) is None
    assert plans.position_problem(object(), "LATEST", 5) == Problem(
        "starting_position_timestamp", 5, "None unless starting_position=AT_TIMESTAMP"
    )
    too_late = plans.position_problem(object(), "AT_TIMESTAMP", 253_402_300_800)
    assert too_late is not None and too_late.allowed == "0..253402300799 s (Unix time)"


def test_control_problems() -> None:
    off = plans.control_problems(
        provisioned=False,
        controls={"retry_attempts": 3, "max_record_age": "1 day", "bisect_batch_on_error": None},
        max_record_age=Reading(86_400),
    )
    assert [(p.prop, p.value) for p in off] == [("retry_attempts", 3), ("max_record_age", "1 day")]
    assert off[0].allowed == "None without provisioned_poller_config"
    assert off[0].hint.startswith("Kafka error-handling controls need provisioned mode ('Configuring error handling")
    age = Problem("max_record_age", 30, "60..604800 s")
    on = plans.control_problems(
        provisioned=True,
        controls={"retry_attempts": -1, "bisect_batch_on_error": "yes", "report_batch_item_failures": 1},
        max_record_age=Reading(problem=age),
    )
    assert [(p.prop, p.allowed) for p in on] == [
        ("retry_attempts", "0..10000"),
        ("max_record_age", "60..604800 s"),
        ("bisect_batch_on_error", "True or False"),
        ("report_batch_item_failures", "True or False"),
    ]
    assert on[0].hint == "-1 (retry until the record expires) is refused: a poison record would stop its partition"


def test_kafka_problems_in_the_order_the_error_lists_them() -> None:
    problems = Problems(PATH)
    plans.kafka_problems(
        problems,
        cluster_arn=CLUSTER,
        bootstrap_servers=None,
        secret=None,
        secret_is_secret=False,
        authentication_method="x",
        authentication=None,
        vpc_given=["vpc"],
        vpc_types_ok=True,
        topic="bad topic",
        consumer_group_id=None,
        starting_position=object(),
        position="LATEST",
        starting_position_timestamp=1,
        batch_size=0,
        window=Reading(problem=Problem("max_batching_window", 301, "0..300 s")),
        mapping=[Problem("filters", "x", "a list")],
        provisioned=False,
        controls={"retry_attempts": 1},
        max_record_age=None,
        offset_lag_threshold=0,
    )
    with pytest.raises(ConfigurationError) as raised:
        problems.raise_if_any()
    assert [p.prop for p in raised.value.problems] == [
        "authentication_method",
        "vpc",
        "topic",
        "starting_position_timestamp",
        "batch_size",
        "max_batching_window",
        "filters",
        "retry_attempts",
        "offset_lag_threshold",
    ]


# ---------------------------------------------------------------- plans against the built tree


def _fn(scope: Construct, id: str, invocation: Invocation = Invocation.STREAM, **kw: Any) -> ProductionFunction:
    return ProductionFunction(
        scope, id, code=INLINE, handler="index.handler", invocation=invocation, p99=cdk.Duration.millis(400), **kw
    )


def _resources(construct: Any) -> int:
    return sum(1 for c in construct.node.find_all() if isinstance(c, cdk.CfnResource))


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, KafkaConsumer], Template]:
    """Every configuration in one app, synthesized once."""
    app = cdk.App()
    stack = cdk.Stack(app, "P")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    role = iam.Role(stack, "SharedRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    made = {
        "msk": KafkaConsumer(stack, "Msk", function=_fn(stack, "M"), topic="orders", cluster_arn=CLUSTER),
        "provisioned": KafkaConsumer(
            stack,
            "Fast",
            function=_fn(stack, "F"),
            topic="payments",
            cluster_arn=CLUSTER,
            secret=secretsmanager.Secret(stack, "MskSecret"),
            batch_size=500,
            max_batching_window=cdk.Duration.seconds(5),
            provisioned_poller_config=lambda_.ProvisionedPollerConfig(minimum_pollers=1, maximum_pollers=10),
            max_record_age=cdk.Duration.hours(2),
        ),
        "self": KafkaConsumer(
            stack,
            "SelfManaged",
            function=_fn(stack, "S"),
            topic="clicks",
            bootstrap_servers=list(SERVERS),
            secret=secretsmanager.Secret(stack, "BrokerSecret"),
            authentication_method=sources.AuthenticationMethod.SASL_SCRAM_256_AUTH,
            starting_position=lambda_.StartingPosition.LATEST,
            on_failure="queue",
        ),
        "vpc": KafkaConsumer(
            stack,
            "InVpc",
            function=_fn(stack, "V", Invocation.SYNC),
            topic="orders",
            bootstrap_servers=["10.0.0.10:9096"],
            secret=secretsmanager.Secret(stack, "VpcSecret"),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        ),
        "custom": KafkaConsumer(
            stack,
            "Own",
            function=_fn(stack, "O"),
            topic="orders",
            cluster_arn=CLUSTER,
            on_failure=sources.SqsDlq(sqs.Queue(stack, "OwnQueue")),
        ),
        "shared-role": KafkaConsumer(
            stack, "Shared", function=_fn(stack, "R", role=role), topic="orders", cluster_arn=CLUSTER
        ),
    }
    return made, Template.from_stack(stack)


def _mapping_props(tpl: Template, name: str) -> dict[str, Any]:
    (props,) = [
        r["Properties"]
        for id, r in tpl.find_resources("AWS::Lambda::EventSourceMapping").items()
        if id.startswith(name) and "EventSourceMapping" in id
    ]
    return props


@pytest.mark.parametrize(
    ("name", "construct_id"),
    [("msk", "Msk"), ("provisioned", "Fast"), ("self", "SelfManaged"), ("vpc", "InVpc"), ("custom", "Own")],
)
def test_kafka_plan_resource_count_matches_the_tree(built: Any, name: str, construct_id: str) -> None:
    made, tpl = built
    consumer = made[name]
    assert consumer.plan.resource_count == _resources(consumer)
    assert [a.node.id for a in consumer.alarms] == [a.id for a in consumer.plan.alarms]
    assert consumer.failure_plan is consumer.plan.failure
    assert consumer.offset_lag_threshold == consumer.plan.offset_lag_threshold
    for alarm in consumer.plan.alarms:
        (props,) = [
            r["Properties"]
            for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
            if r["Properties"]["AlarmName"] == alarm.name
        ]
        assert props["Threshold"] == alarm.threshold and props["AlarmDescription"] == alarm.description
    props = _mapping_props(tpl, construct_id)
    plan = consumer.plan
    assert props["BatchSize"] == plan.batch_size and props["StartingPosition"] == plan.starting_position
    assert props.get("MaximumBatchingWindowInSeconds") == plan.max_batching_window_s
    access = [c["Type"] for c in props.get("SourceAccessConfigurations", [])]
    assert access[:1] == ([plan.authentication] if plan.authentication else [])
    assert ("VPC_SECURITY_GROUP" in access) == plan.in_vpc
    handling = plan.error_handling
    assert props.get("MaximumRetryAttempts") == (handling.retry_attempts if handling else None)
    assert props.get("MaximumRecordAgeInSeconds") == (handling.max_record_age_s if handling else None)


def test_kafka_plan_holds_the_decisions(built: Any) -> None:
    made, _ = built
    provisioned, selfm, vpc = made["provisioned"].plan, made["self"].plan, made["vpc"].plan
    assert provisioned.error_handling == KafkaErrorHandling(10, 7200, True, True)
    assert (provisioned.offset_lag_threshold, provisioned.max_batching_window_s) == (5000, 5)
    assert provisioned.authentication == "SASL_SCRAM_512_AUTH"
    assert (selfm.cluster, selfm.authentication, selfm.on_failure) == ("self_managed", "SASL_SCRAM_256_AUTH", "queue")
    assert made["self"].on_failure_queue is not None and made["self"].on_failure_bucket is None
    assert (vpc.in_vpc, vpc.removal_policy) == (True, "DESTROY")
    assert [n.id for n in vpc.notes] == ["lambda-constructs:Kafka-invocation"]
    assert vpc.notes[0].message == "P/V is declared invocation=SYNC; a Kafka consumer should use Invocation.STREAM."
    assert made["msk"].plan.alarms[0].name == "P-Msk-OffsetLagAlarm"
    # a role the function does not own gains a policy: the plan says it cannot count it (the fleet walks the tree)
    assert made["shared-role"].plan.resource_count is None


def test_kafka_refusals_come_from_the_one_check_in_order() -> None:
    stack = cdk.Stack(cdk.App(), "K")
    with pytest.raises(ConfigurationError) as raised:
        KafkaConsumer(
            stack,
            "C",
            function=_fn(stack, "F"),
            topic="bad topic",
            cluster_arn=CLUSTER,
            vpc_subnets=ec2.SubnetSelection(),
            starting_position=lambda_.StartingPosition.LATEST,
            starting_position_timestamp=5,
            batch_size=0,
            max_batching_window=cdk.Duration.seconds(301),
            retry_attempts=1,
            offset_lag_threshold=0,
        )
    assert [p.prop for p in raised.value.problems] == [
        "vpc_subnets",
        "topic",
        "starting_position_timestamp",
        "batch_size",
        "max_batching_window",
        "retry_attempts",
        "offset_lag_threshold",
    ]
    assert stack.node.try_find_child("C") is None


# ---------------------------------------------------------------- a fleet sized from the plans


def test_a_fleet_bundle_of_kafka_consumers_is_sized_from_the_plans(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Fleet")
    fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / "placement.json")
    made: dict[str, Any] = {}

    def worker(scope: Construct, id: str) -> None:
        fn = _fn(scope, id)
        made[id] = (fn, KafkaConsumer(scope, f"{id}Feed", function=fn, topic="orders", cluster_arn=CLUSTER))

    fleet.add("W0", worker)
    fn, consumer = made["W0"]
    assert "Stack1" in fleet._planned_stacks  # sized by the plans, not by walking the bundle's tree
    planned = fn.plan.resource_count + consumer.plan.resource_count
    assert fleet.resource_counts["Stack1"] == planned == _resources(fleet.stack_of("W0"))
