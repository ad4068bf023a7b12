"""KafkaConsumer, and the mapping options on QueueConsumer / StreamConsumer: filters, pollers, metrics, windows."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Annotations, Match, Template

from lambda_constructs import (
    ConfigurationError,
    Invocation,
    KafkaConsumer,
    ProductionFunction,
    QueueConsumer,
    StreamConsumer,
)
from lambda_constructs.core.filters import filters_problems
from tests.conftest import INLINE, only

CLUSTER = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/6a3f1c2e-0b1d-4e5f-9a8b-7c6d5e4f3a2b-2"


def fn(stack: cdk.Stack, id: str, invocation: Invocation = Invocation.STREAM, **kw: Any) -> ProductionFunction:
    return ProductionFunction(
        stack, id, code=INLINE, handler="index.handler", invocation=invocation, p99=cdk.Duration.millis(500), **kw
    )


def stack_of(name: str) -> cdk.Stack:
    return cdk.Stack(cdk.App(context={"aws:cdk:enable-path-metadata": True}), name)


def mapping(tpl: Template, fragment: str) -> dict[str, Any]:
    found = [
        r["Properties"]
        for r in tpl.find_resources("AWS::Lambda::EventSourceMapping").values()
        if fragment in r["Metadata"]["aws:cdk:path"]
    ]
    assert len(found) == 1
    return found[0]


# ---------------------------------------------------------------- filter patterns (pure)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([{"body": {"type": "order"}}], r"filters\[0\]\.body\.type='order' is invalid; allowed: a list of values"),
        ([{"body": {"type": []}}], r"filters\[0\]\.body\.type='\[\]' is invalid; allowed: a non-empty list"),
        ([{"eventName": [{"prefix": 3}]}], r'filters\[0\]\.eventName=.* is invalid; allowed: \{"prefix": "<string>"\}'),
        ([{"n": [{"numeric": [">", "x"]}]}], r"filters\[0\]\.n=.* is invalid; allowed: \{\"numeric\": \[op, number"),
        ([{"n": [{"exists": "yes"}]}], r'allowed: \{"exists": true\} or \{"exists": false\}'),
        ([{"n": [{"regex": "a.*"}]}], r"allowed: a matcher among prefix, suffix"),
        ([{"pattern": "not json"}], r"filters\[0\]='not json' is invalid; allowed: a JSON object"),
        ([{}] * 11, r"filters='11 filters' is invalid; allowed: at most 10 per event source mapping"),
        ("body", r"filters='body' is invalid; allowed: a list of filter patterns"),
    ],
)
def test_filter_patterns_are_checked(filters: object, message: str) -> None:
    problems = filters_problems("filters", filters)
    assert problems, "expected a problem"
    assert any(__import__("re").search(message, p.describe()) for p in problems), [p.describe() for p in problems]


def test_valid_filter_patterns_pass() -> None:
    good = [
        lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")}),
        {"body": {"price": [{"numeric": [">", 0, "<=", 100]}], "region": [{"anything-but": ["eu-west-1"]}]}},
        {"data": {"kind": [{"prefix": "order-"}, {"exists": True}, None, 3]}},
    ]
    assert filters_problems("filters", good) == []


# ---------------------------------------------------------------- QueueConsumer / StreamConsumer options


@pytest.fixture(scope="module")
def options() -> Template:
    stack = stack_of("Opts")
    QueueConsumer(
        stack,
        "Orders",
        function=fn(stack, "Q", Invocation.QUEUE),
        filters=[{"body": {"type": ["order"]}}],
        provisioned_poller_config=lambda_.ProvisionedPollerConfig(minimum_pollers=2, maximum_pollers=20),
        metrics_config=lambda_.MetricsConfig(metrics=[lambda_.MetricType.EVENT_COUNT]),
    )
    StreamConsumer(
        stack,
        "Clicks",
        function=fn(stack, "S"),
        stream=kinesis.Stream(stack, "Stream"),
        filters=[lambda_.FilterCriteria.filter({"data": {"kind": lambda_.FilterRule.is_equal("click")}})],
        tumbling_window=cdk.Duration.seconds(60),
        report_batch_item_failures=False,
        metrics_config=lambda_.MetricsConfig(metrics=[lambda_.MetricType.ERROR_COUNT]),
    )
    return Template.from_stack(stack)


def test_queue_mapping_has_filters_pollers_and_metrics(options: Template) -> None:
    props = mapping(options, "Orders/")
    assert props["FilterCriteria"] == {"Filters": [{"Pattern": '{"body":{"type":["order"]}}'}]}
    assert props["ProvisionedPollerConfig"] == {"MinimumPollers": 2, "MaximumPollers": 20}
    assert props["MetricsConfig"] == {"Metrics": ["EventCount"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "ScalingConfig" not in props


def test_stream_mapping_has_filters_window_and_the_batch_failures_switch(options: Template) -> None:
    props = mapping(options, "Clicks/")
    assert json.loads(props["FilterCriteria"]["Filters"][0]["Pattern"]) == {"data": {"kind": ["click"]}}
    assert props["TumblingWindowInSeconds"] == 60
    assert "FunctionResponseTypes" not in props
    assert props["MetricsConfig"] == {"Metrics": ["ErrorCount"]}


def test_queue_defaults_have_no_filters_or_provisioned_mode() -> None:
    stack = stack_of("Plain")
    QueueConsumer(stack, "Q", function=fn(stack, "F", Invocation.QUEUE))
    props = mapping(Template.from_stack(stack), "Q/")
    assert not {"FilterCriteria", "ProvisionedPollerConfig", "MetricsConfig"} & set(props)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"provisioned_poller_config": lambda_.ProvisionedPollerConfig(minimum_pollers=2), "max_concurrency": 10},
            r"max_concurrency=10 is invalid; allowed: None with provisioned_poller_config\. maximum concurrency and "
            r"provisioned mode are mutually exclusive",
        ),
        (
            {"provisioned_poller_config": lambda_.ProvisionedPollerConfig(minimum_pollers=1)},
            r"provisioned_poller_config\.minimum_pollers=1 is invalid; allowed: 2\.\.200",
        ),
        (
            {"provisioned_poller_config": lambda_.ProvisionedPollerConfig(minimum_pollers=50, maximum_pollers=10)},
            r"provisioned_poller_config\.minimum_pollers=50 is invalid; allowed: <= maximum_pollers \(10\)",
        ),
        (
            {"metrics_config": lambda_.MetricsConfig(metrics=[lambda_.MetricType.KAFKA_METRICS])},
            r"metrics_config\.metrics='KAFKA_METRICS' is invalid; allowed: EVENT_COUNT \| ERROR_COUNT",
        ),
        ({"filters": [{"body": "x"}]}, r"filters\[0\]\.body='x' is invalid"),
        ({"report_batch_item_failures": "yes"}, r"report_batch_item_failures='yes' is invalid; allowed: True or False"),
    ],
)
def test_queue_mapping_options_refused(overrides: dict[str, Any], message: str) -> None:
    stack = stack_of("Q")
    with pytest.raises(ConfigurationError, match=r"(?s)^Q/C: .*" + message):
        QueueConsumer(stack, "C", function=fn(stack, "F", Invocation.QUEUE), **overrides)


def test_stream_refuses_pollers_and_a_long_tumbling_window() -> None:
    stack = stack_of("S")
    stream = kinesis.Stream(stack, "Stream")
    with pytest.raises(ConfigurationError, match=r"tumbling_window=901 is invalid; allowed: 0\.\.900 s"):
        StreamConsumer(stack, "C", function=fn(stack, "F"), stream=stream, tumbling_window=cdk.Duration.seconds(901))


def test_more_than_five_filters_warn_about_the_quota() -> None:
    stack = stack_of("Many")
    QueueConsumer(
        stack, "C", function=fn(stack, "F", Invocation.QUEUE), filters=[{"body": {"n": [i]}} for i in range(6)]
    )
    assert Annotations.from_stack(stack).find_warning(
        "/Many/C", Match.string_like_regexp("6 filters: Lambda allows 5 per event source mapping unless")
    )


# ---------------------------------------------------------------- KafkaConsumer


@pytest.fixture(scope="module")
def kafka() -> tuple[dict[str, KafkaConsumer], Template]:
    stack = stack_of("Kafka")
    made = {
        "msk": KafkaConsumer(stack, "Msk", function=fn(stack, "M"), topic="orders", cluster_arn=CLUSTER),
        "provisioned": KafkaConsumer(
            stack,
            "Fast",
            function=fn(stack, "P"),
            topic="payments",
            cluster_arn=CLUSTER,
            consumer_group_id="payments-lambda",
            batch_size=500,
            provisioned_poller_config=lambda_.ProvisionedPollerConfig(minimum_pollers=1, maximum_pollers=10),
            filters=[{"value": {"type": ["payment"]}}],
            metrics_config=lambda_.MetricsConfig(metrics=[lambda_.MetricType.KAFKA_METRICS]),
        ),
        "self": KafkaConsumer(
            stack,
            "SelfManaged",
            function=fn(stack, "S"),
            topic="clicks",
            bootstrap_servers=["b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096"],
            secret=secretsmanager.Secret(stack, "BrokerSecret"),
            starting_position=lambda_.StartingPosition.LATEST,
            on_failure="queue",
        ),
    }
    return made, Template.from_stack(stack)


def test_msk_mapping_defaults(kafka: Any) -> None:
    _, tpl = kafka
    props = mapping(tpl, "Msk/")
    assert props["EventSourceArn"] == CLUSTER and props["Topics"] == ["orders"]
    assert props["StartingPosition"] == "TRIM_HORIZON" and props["BatchSize"] == 100  # earliest retained offset
    bucket_id = next(
        iter(
            tpl.find_resources("AWS::S3::Bucket", {"Metadata": {"aws:cdk:path": "Kafka/Msk/OnFailureBucket/Resource"}})
        )
    )
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [bucket_id, "Arn"]}}}
    bucket = tpl.find_resources("AWS::S3::Bucket")[bucket_id]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 14
    role = json.dumps(tpl.find_resources("AWS::IAM::Policy"))
    assert '"s3:PutObject"' in role and '"s3:ListBucket"' in role and "s3:GetObject" not in role
    assert not {"MaximumRetryAttempts", "BisectBatchOnFunctionError", "ProvisionedPollerConfig"} & set(props)
    assert "AmazonManagedKafkaEventSourceConfig" not in props


def test_provisioned_kafka_bounds_retries_and_bisects(kafka: Any) -> None:
    _, tpl = kafka
    props = mapping(tpl, "Fast/")
    assert props["ProvisionedPollerConfig"] == {"MinimumPollers": 1, "MaximumPollers": 10}
    assert props["MaximumRetryAttempts"] == 10 and props["MaximumRecordAgeInSeconds"] == 86400
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["AmazonManagedKafkaEventSourceConfig"] == {"ConsumerGroupId": "payments-lambda"}
    assert props["MetricsConfig"] == {"Metrics": ["KafkaMetrics"]}
    assert props["FilterCriteria"]["Filters"] == [{"Pattern": '{"value":{"type":["payment"]}}'}]


def test_self_managed_kafka_uses_the_secret(kafka: Any) -> None:
    _, tpl = kafka
    props = mapping(tpl, "SelfManaged/")
    assert props["SelfManagedEventSource"] == {
        "Endpoints": {"KafkaBootstrapServers": ["b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096"]}
    }
    secret_id = next(iter(tpl.find_resources("AWS::SecretsManager::Secret")))
    assert props["SourceAccessConfigurations"] == [{"Type": "SASL_SCRAM_512_AUTH", "URI": {"Ref": secret_id}}]
    assert props["StartingPosition"] == "LATEST"
    queue_id = next(
        iter(
            tpl.find_resources(
                "AWS::SQS::Queue", {"Metadata": {"aws:cdk:path": "Kafka/SelfManaged/OnFailureQueue/Resource"}}
            )
        )
    )
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}


def test_msk_role_gets_cluster_permissions(kafka: Any) -> None:
    _, tpl = kafka
    statements = [
        s
        for p in tpl.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Resource") == CLUSTER
    ]
    assert statements and statements[0]["Action"] == [
        "kafka:DescribeCluster",
        "kafka:GetBootstrapBrokers",
        "kafka:ListScramSecrets",
    ]
    managed = json.dumps(
        [r["Properties"].get("ManagedPolicyArns") for r in tpl.find_resources("AWS::IAM::Role").values()]
    )
    assert managed.count("AWSLambdaMSKExecutionRole") == 2  # the two MSK consumers' roles


def test_kafka_alarms_on_offset_lag(kafka: Any) -> None:
    made, tpl = kafka
    assert [a.node.id for a in made["msk"].alarms] == ["OffsetLagAlarm", "OnFailureBucketAlarm"]
    assert [a.node.id for a in made["self"].alarms] == ["OffsetLagAlarm", "OnFailureQueueAlarm"]
    assert made["self"].failure_plan.notes[0].id == "lambda-constructs:on-failure-metadata-only"
    assert made["msk"].failure_plan.notes == () and made["msk"].on_failure_queue is None
    lags = {
        r["Metadata"]["aws:cdk:path"].split("/")[1]: r["Properties"]
        for r in tpl.find_resources("AWS::CloudWatch::Alarm").values()
        if r["Properties"]["MetricName"] == "OffsetLag"
    }
    assert lags["Msk"]["Threshold"] == 1000 and lags["Fast"]["Threshold"] == 5000  # 10 batches
    assert lags["Msk"]["Statistic"] == "Maximum"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, r"cluster_arn/bootstrap_servers='neither' is invalid; allowed: exactly one"),
        (
            {"cluster_arn": "orders-cluster"},
            r"cluster_arn='orders-cluster' is invalid; allowed: an Amazon MSK cluster ARN",
        ),
        ({"bootstrap_servers": ["broker:9096"]}, r"secret=None is invalid; allowed: an aws_secretsmanager\.ISecret"),
        (
            {"bootstrap_servers": ["broker"], "secret": "s"},
            r"bootstrap_servers\[0\]='broker' is invalid; allowed: 'host:port'",
        ),
        (
            {"cluster_arn": CLUSTER, "retry_attempts": 3},
            r"retry_attempts=3 is invalid; allowed: None without provisioned_poller_config\. Kafka error-handling "
            r"controls need provisioned mode",
        ),
        (
            {
                "cluster_arn": CLUSTER,
                "provisioned_poller_config": lambda_.ProvisionedPollerConfig(minimum_pollers=1),
                "retry_attempts": -1,
            },
            r"retry_attempts=-1 is invalid; allowed: 0\.\.10000\. -1 \(retry until the record expires\) is refused",
        ),
        (
            {
                "cluster_arn": CLUSTER,
                "provisioned_poller_config": lambda_.ProvisionedPollerConfig(maximum_pollers=2001),
            },
            r"provisioned_poller_config\.maximum_pollers=2001 is invalid; allowed: 1\.\.2000",
        ),
        ({"cluster_arn": CLUSTER, "topic": "bad topic"}, r"topic='bad topic' is invalid"),
        (
            {"cluster_arn": CLUSTER, "starting_position": lambda_.StartingPosition.AT_TIMESTAMP},
            r"starting_position_timestamp=None is invalid; allowed: a Unix time in seconds",
        ),
    ],
)
def test_kafka_refuses_bad_input(overrides: dict[str, Any], message: str) -> None:
    stack = stack_of("K")
    props: dict[str, Any] = {"function": fn(stack, "F"), "topic": "orders", **overrides}
    with pytest.raises(ConfigurationError, match=r"(?s)^K/C: .*" + message):
        KafkaConsumer(stack, "C", **props)
    assert stack.node.try_find_child("C") is None


def test_self_managed_kafka_in_a_vpc_gets_network_permissions() -> None:
    stack = stack_of("Vpc")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    KafkaConsumer(
        stack,
        "C",
        function=fn(stack, "F"),
        topic="orders",
        bootstrap_servers=["10.0.0.10:9096"],
        secret=secretsmanager.Secret(stack, "S"),
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
    )
    tpl = Template.from_stack(stack)
    types = [c["Type"] for c in mapping(tpl, "C/")["SourceAccessConfigurations"]]
    assert types == ["SASL_SCRAM_512_AUTH", "VPC_SECURITY_GROUP", "VPC_SUBNET", "VPC_SUBNET"]
    actions = [
        s["Action"]
        for p in tpl.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Resource") == "*" and isinstance(s["Action"], list) and "ec2:CreateNetworkInterface" in s["Action"]
    ]
    assert len(actions) == 1


def test_kafka_on_a_sync_function_warns() -> None:
    stack = stack_of("W")
    KafkaConsumer(stack, "C", function=fn(stack, "F", Invocation.SYNC), topic="orders", cluster_arn=CLUSTER)
    assert Annotations.from_stack(stack).find_warning("/W/C", Match.string_like_regexp("should use Invocation.STREAM"))
    encryption = only(Template.from_stack(stack), "AWS::S3::Bucket")["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {
                "Topics": ["orders"],
                "StartingPosition": "LATEST",
                "DestinationConfig": {"OnFailure": {"Destination": "q"}},
            },
            True,
        ),
        ({"Topics": ["orders"], "StartingPosition": "LATEST"}, False),
        (
            {
                "Topics": ["orders"],
                "StartingPosition": "LATEST",
                "ProvisionedPollerConfig": {"MinimumPollers": 1},
                "DestinationConfig": {"OnFailure": {"Destination": "q"}},
            },
            False,  # provisioned mode has the retry controls: they must be bounded and bisect on
        ),
    ],
)
def test_rule_pack_stream_failure_path_on_kafka(props: dict[str, Any], expected: bool) -> None:
    from lambda_constructs.checks.rules import stream_failure_path

    template = {"Resources": {"M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": props}}}
    assert stream_failure_path(template, "M") is expected
