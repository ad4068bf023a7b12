"""The deploy contract (lambda_constructs.checks.deploy), tested both ways.

(a) A table of deliberately broken raw aws-cdk-lib setups (plain ``aws_lambda.Function`` and friends,
none of this library's constructs), each caught by exactly its rule and by no other deploy rule.
(b) Correct raw setups that pass. All of them are synthesized in one App (one account per row, so the
app-wide rules see only the row's own stacks) and judged from the cloud assembly on disk, as
``lambda-constructs report`` reads it; a few go through cdk-nag (``enable_checks``) as well.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secrets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from lambda_constructs.checks import deploy

INLINE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
BASIC = "service-role/AWSLambdaBasicExecutionRole"


def fn(scope: Any, id_: str = "Fn", **kwargs: Any) -> lambda_.Function:
    kwargs.setdefault("runtime", lambda_.Runtime.PYTHON_3_12)
    return lambda_.Function(scope, id_, code=INLINE, handler="index.handler", **kwargs)


def bare_role(scope: Any, id_: str = "Role") -> iam.Role:
    """A role with AWSLambdaBasicExecutionRole only: logs, nothing else."""
    return iam.Role(
        scope,
        id_,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(BASIC)],
    )


def override(function: lambda_.Function, path: str, value: Any) -> None:
    function.node.default_child.add_property_override(path, value)  # type: ignore[union-attr]


Builder = Callable[[cdk.App, str, cdk.Environment], None]


def one(build: Callable[[cdk.Stack], None]) -> Builder:
    """A row in one stack."""

    def builder(app: cdk.App, name: str, env: cdk.Environment) -> None:
        build(cdk.Stack(app, name, env=env))

    return builder


# ------------------------------------------------------------------ (a) broken setups


def vpc_custom_role(s: cdk.Stack) -> None:
    vpc = ec2.Vpc(
        s,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    fn(s, vpc=vpc, role=bare_role(s))  # aws-cdk-lib attaches the VPC policy only to roles it creates


def sqs_mapping_without_grant(s: cdk.Stack) -> None:
    fn(s).add_event_source_mapping("M", event_source_arn=sqs.Queue(s, "Q").queue_arn)


def kinesis_mapping_without_grant(s: cdk.Stack) -> None:
    stream = kinesis.Stream(s, "S")
    fn(s).add_event_source_mapping(
        "M", event_source_arn=stream.stream_arn, starting_position=lambda_.StartingPosition.LATEST
    )


def dynamodb_mapping_without_grant(s: cdk.Stack) -> None:
    table = ddb.Table(
        s,
        "T",
        partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
        stream=ddb.StreamViewType.NEW_IMAGE,
    )
    fn(s).add_event_source_mapping(
        "M", event_source_arn=table.table_stream_arn, starting_position=lambda_.StartingPosition.LATEST
    )


def msk_mapping_without_grant(s: cdk.Stack) -> None:
    lambda_.CfnEventSourceMapping(
        s,
        "M",
        function_name=fn(s).function_name,
        topics=["orders"],
        starting_position="LATEST",
        event_source_arn="arn:aws:kafka:us-east-1:111111111111:cluster/c/11111111-1111-1111-1111-111111111111-1",
    )


def sqs_dlq_by_override(s: cdk.Stack) -> None:
    override(fn(s), "DeadLetterConfig.TargetArn", sqs.Queue(s, "Dlq").queue_arn)


def sns_dlq_by_override(s: cdk.Stack) -> None:
    override(fn(s), "DeadLetterConfig.TargetArn", sns.Topic(s, "T").topic_arn)


def async_on_failure_queue_raw(s: cdk.Stack) -> None:
    f = fn(s)
    lambda_.CfnEventInvokeConfig(
        s,
        "Cfg",
        function_name=f.function_name,
        qualifier="$LATEST",
        destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
            on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=sqs.Queue(s, "Q").queue_arn)
        ),
    )


def async_on_success_function_raw(s: cdk.Stack) -> None:
    f, other = fn(s), fn(s, "Other")
    lambda_.CfnEventInvokeConfig(
        s,
        "Cfg",
        function_name=f.function_name,
        qualifier="$LATEST",
        destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
            on_success=lambda_.CfnEventInvokeConfig.OnSuccessProperty(destination=other.function_arn)
        ),
    )


def async_on_failure_bus_raw(s: cdk.Stack) -> None:
    f = fn(s)
    lambda_.CfnEventInvokeConfig(
        s,
        "Cfg",
        function_name=f.function_name,
        qualifier="$LATEST",
        destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
            on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=events.EventBus(s, "B").event_bus_arn)
        ),
    )


def tracing_by_override(s: cdk.Stack) -> None:
    override(fn(s), "TracingConfig", {"Mode": "Active"})


def efs_by_override(s: cdk.Stack) -> None:
    ap = "arn:aws:elasticfilesystem:us-east-1:111111111111:access-point/fsap-0123456789abcdef0"
    override(fn(s), "FileSystemConfigs", [{"Arn": ap, "LocalMountPath": "/mnt/data"}])


def encrypted_queue_without_decrypt(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q", encryption_master_key=kms.Key(s, "K"))
    f = fn(s)
    f.add_to_role_policy(
        iam.PolicyStatement(
            actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources=[queue.queue_arn]
        )
    )
    f.add_event_source_mapping("M", event_source_arn=queue.queue_arn)


def stream_on_failure_bucket_raw(s: cdk.Stack) -> None:
    stream = kinesis.Stream(s, "S")
    f = fn(s)
    stream.grant_read(f)
    m = f.add_event_source_mapping(
        "M", event_source_arn=stream.stream_arn, starting_position=lambda_.StartingPosition.LATEST
    )
    m.node.default_child.add_property_override(  # type: ignore[union-attr]
        "DestinationConfig.OnFailure.Destination", s3.Bucket(s, "B").bucket_arn
    )


def grant_on_another_queue(s: cdk.Stack) -> None:
    read, other = sqs.Queue(s, "Read"), sqs.Queue(s, "Other")
    f = fn(s)
    other.grant_consume_messages(f)
    f.add_event_source_mapping("M", event_source_arn=read.queue_arn)


def literal_arn_not_covered(s: cdk.Stack) -> None:
    f = fn(s)
    f.add_to_role_policy(
        iam.PolicyStatement(actions=["sqs:*"], resources=["arn:aws:sqs:us-east-1:111111111111:other-*"])
    )
    f.add_event_source_mapping("M", event_source_arn="arn:aws:sqs:us-east-1:111111111111:orders")


def kafka_secret_without_grant(s: cdk.Stack) -> None:
    lambda_.CfnEventSourceMapping(
        s,
        "M",
        function_name=fn(s).function_name,
        topics=["orders"],
        starting_position="LATEST",
        self_managed_event_source=lambda_.CfnEventSourceMapping.SelfManagedEventSourceProperty(
            endpoints=lambda_.CfnEventSourceMapping.EndpointsProperty(kafka_bootstrap_servers=["b-1.example.com:9092"])
        ),
        source_access_configurations=[
            lambda_.CfnEventSourceMapping.SourceAccessConfigurationProperty(
                type="SASL_SCRAM_512_AUTH", uri=secrets.Secret(s, "Secret").secret_arn
            )
        ],
    )


def log_group_key_without_logs(s: cdk.Stack) -> None:
    logs.LogGroup(s, "Logs", encryption_key=kms.Key(s, "K"))  # the key policy: the account root only


def sns_to_kms_queue_without_sns(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q", encryption_master_key=kms.Key(s, "K"))
    sns.CfnSubscription(s, "Sub", protocol="sqs", topic_arn=sns.Topic(s, "T").topic_arn, endpoint=queue.queue_arn)


def rule_to_kms_queue_without_events(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q", encryption_master_key=kms.Key(s, "K"))
    events.CfnRule(
        s,
        "Rule",
        schedule_expression="rate(5 minutes)",
        targets=[events.CfnRule.TargetProperty(id="q", arn=queue.queue_arn)],
    )


def s3_to_kms_queue_without_s3(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q", encryption_master_key=kms.Key(s, "K"))
    s3.CfnBucket(
        s,
        "B",
        notification_configuration=s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=queue.queue_arn)
            ]
        ),
    )


def visibility_below_timeout(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q", visibility_timeout=cdk.Duration.seconds(10))
    fn(s, timeout=cdk.Duration.seconds(60)).add_event_source(sources.SqsEventSource(queue))


def default_visibility_below_timeout(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q")  # 30 s
    fn(s, timeout=cdk.Duration.seconds(31)).add_event_source(sources.SqsEventSource(queue))


def sqs_mapped_twice(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q")
    f = fn(s)
    queue.grant_consume_messages(f)
    f.add_event_source_mapping("M1", event_source_arn=queue.queue_arn)
    f.add_event_source_mapping("M2", event_source_arn=queue.queue_arn, batch_size=5)


def kinesis_mapped_twice(s: cdk.Stack) -> None:
    stream = kinesis.Stream(s, "S")
    f = fn(s)
    stream.grant_read(f)
    for i in (1, 2):
        f.add_event_source_mapping(
            f"M{i}", event_source_arn=stream.stream_arn, starting_position=lambda_.StartingPosition.LATEST
        )


def two_urls_latest(s: cdk.Stack) -> None:
    f = fn(s)
    lambda_.FunctionUrl(s, "U1", function=f)
    lambda_.FunctionUrl(s, "U2", function=f, auth_type=lambda_.FunctionUrlAuthType.NONE)


def two_urls_alias(s: cdk.Stack) -> None:
    live = lambda_.Alias(s, "Live", alias_name="live", version=fn(s).current_version)
    lambda_.FunctionUrl(s, "U1", function=live)
    lambda_.FunctionUrl(s, "U2", function=live)


def provisioned_on_latest(s: cdk.Stack) -> None:
    lambda_.CfnAlias(
        s,
        "Latest",
        function_name=fn(s).function_name,
        function_version="$LATEST",
        name="latest",
        provisioned_concurrency_config=lambda_.CfnAlias.ProvisionedConcurrencyConfigurationProperty(
            provisioned_concurrent_executions=2
        ),
    )


def provisioned_above_reserved(s: cdk.Stack) -> None:
    f = fn(s, reserved_concurrent_executions=10)
    lambda_.Alias(s, "Live", alias_name="live", version=f.current_version, provisioned_concurrent_executions=20)


def provisioned_split_above_reserved(s: cdk.Stack) -> None:
    f = fn(s, reserved_concurrent_executions=10)
    v1 = lambda_.Version(s, "V1", lambda_=f, provisioned_concurrent_executions=6)
    lambda_.Alias(s, "Live", alias_name="live", version=v1)
    lambda_.Version(s, "V2", lambda_=f, provisioned_concurrent_executions=6, description="second")


def snapstart_node(s: cdk.Stack) -> None:
    f = fn(s, runtime=lambda_.Runtime.NODEJS_22_X)  # aws-cdk-lib refuses snap_start= here; a raw override does not
    override(f, "SnapStart", {"ApplyOn": "PublishedVersions"})


def snapstart_python311(s: cdk.Stack) -> None:
    f = fn(s, runtime=lambda_.Runtime.PYTHON_3_11)
    override(f, "SnapStart", {"ApplyOn": "PublishedVersions"})


def snapstart_big_storage(s: cdk.Stack) -> None:
    f = fn(s, snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS)  # aws-cdk-lib refuses > 512 MiB with it
    override(f, "EphemeralStorage", {"Size": 1024})


def snapstart_with_provisioned(s: cdk.Stack) -> None:
    f = fn(s, snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS)
    lambda_.Alias(s, "Live", alias_name="live", version=f.current_version, provisioned_concurrent_executions=2)


def function_name_two_stacks(app: cdk.App, name: str, env: cdk.Environment) -> None:
    fn(cdk.Stack(app, name, env=env), function_name="orders-handler")
    fn(cdk.Stack(app, name + "b", env=env), function_name="orders-handler")


def function_name_nested(app: cdk.App, name: str, env: cdk.Environment) -> None:
    parent = cdk.Stack(app, name, env=env)
    fn(parent, function_name="billing-handler")
    fn(cdk.NestedStack(parent, "Workers"), function_name="billing-handler")


def function_name_agnostic_and_concrete(app: cdk.App, name: str, env: cdk.Environment) -> None:
    fn(cdk.Stack(app, name, env=env), function_name="agnostic-clash")
    fn(cdk.Stack(app, name + "b"), function_name="agnostic-clash")  # env-agnostic: may land in the same account


def alarm_name_two_stacks(app: cdk.App, name: str, env: cdk.Environment) -> None:
    for stack in (cdk.Stack(app, name, env=env), cdk.Stack(app, name + "b", env=env)):
        fn(stack).metric_errors().create_alarm(stack, "A", alarm_name="errors", threshold=1, evaluation_periods=1)


def alarm_name_of_intrinsics_one_stack(s: cdk.Stack) -> None:
    f = fn(s)
    name = cdk.Fn.join("-", [cdk.Aws.STACK_NAME, "errors"])
    for i in (1, 2):
        cw.Alarm(s, f"A{i}", metric=f.metric_errors(), alarm_name=name, threshold=i, evaluation_periods=1)


def alarm_name_one_stack(s: cdk.Stack) -> None:
    f = fn(s)
    for i in (1, 2):
        cw.Alarm(s, f"A{i}", metric=f.metric_errors(), alarm_name="dup", threshold=i, evaluation_periods=1)


def ledger_reserved(app: cdk.App, name: str, env: cdk.Environment) -> None:
    fn(cdk.Stack(app, name, env=env), reserved_concurrent_executions=500)
    fn(cdk.Stack(app, name + "b", env=env), reserved_concurrent_executions=450)  # 50 unreserved left


def ledger_provisioned(s: cdk.Stack) -> None:
    lambda_.Alias(s, "Live", alias_name="live", version=fn(s).current_version, provisioned_concurrent_executions=901)


def ledger_nested(app: cdk.App, name: str, env: cdk.Environment) -> None:
    parent = cdk.Stack(app, name, env=env)
    for i in range(3):
        fn(cdk.NestedStack(parent, f"Fleet{i}"), reserved_concurrent_executions=310)


BROKEN: list[tuple[str, Builder, str]] = [
    ("vpc function, custom role without ENI actions", one(vpc_custom_role), deploy.ROLE.id),
    ("SQS mapping, no sqs grant", one(sqs_mapping_without_grant), deploy.ROLE.id),
    ("Kinesis mapping, no kinesis grant", one(kinesis_mapping_without_grant), deploy.ROLE.id),
    ("DynamoDB stream mapping, no grant", one(dynamodb_mapping_without_grant), deploy.ROLE.id),
    ("MSK mapping, no kafka/ec2 grant", one(msk_mapping_without_grant), deploy.ROLE.id),
    ("SQS DLQ by raw override", one(sqs_dlq_by_override), deploy.ROLE.id),
    ("SNS DLQ by raw override", one(sns_dlq_by_override), deploy.ROLE.id),
    ("async OnFailure queue, raw EventInvokeConfig", one(async_on_failure_queue_raw), deploy.ROLE.id),
    ("async OnSuccess function, raw EventInvokeConfig", one(async_on_success_function_raw), deploy.ROLE.id),
    ("async OnFailure event bus, raw EventInvokeConfig", one(async_on_failure_bus_raw), deploy.ROLE.id),
    ("active tracing by raw override", one(tracing_by_override), deploy.ROLE.id),
    ("EFS by raw override", one(efs_by_override), deploy.ROLE.id),
    ("KMS-encrypted queue, no kms:Decrypt", one(encrypted_queue_without_decrypt), deploy.ROLE.id),
    ("stream OnFailure bucket, no s3 grant", one(stream_on_failure_bucket_raw), deploy.ROLE.id),
    ("grant on another queue than the mapped one", one(grant_on_another_queue), deploy.ROLE.id),
    ("literal ARN grant not covering the literal source", one(literal_arn_not_covered), deploy.ROLE.id),
    ("self-managed Kafka SASL secret, no secretsmanager grant", one(kafka_secret_without_grant), deploy.ROLE.id),
    ("log group key without a CloudWatch Logs statement", one(log_group_key_without_logs), deploy.KEY_POLICY.id),
    ("SNS subscription to a KMS queue, no sns statement", one(sns_to_kms_queue_without_sns), deploy.KEY_POLICY.id),
    ("rule target a KMS queue, no events statement", one(rule_to_kms_queue_without_events), deploy.KEY_POLICY.id),
    ("S3 notification to a KMS queue, no s3 statement", one(s3_to_kms_queue_without_s3), deploy.KEY_POLICY.id),
    ("visibility 10 s < timeout 60 s", one(visibility_below_timeout), deploy.SQS_VISIBILITY.id),
    ("default visibility 30 s < timeout 31 s", one(default_visibility_below_timeout), deploy.SQS_VISIBILITY.id),
    ("SQS queue mapped twice to one function", one(sqs_mapped_twice), deploy.DUPLICATE_MAPPING.id),
    ("Kinesis stream mapped twice to one function", one(kinesis_mapped_twice), deploy.DUPLICATE_MAPPING.id),
    ("two Function URLs on $LATEST", one(two_urls_latest), deploy.DUPLICATE_URL.id),
    ("two Function URLs on one alias", one(two_urls_alias), deploy.DUPLICATE_URL.id),
    ("provisioned concurrency on an alias of $LATEST", one(provisioned_on_latest), deploy.PROVISIONED.id),
    ("provisioned 20 > reserved 10", one(provisioned_above_reserved), deploy.PROVISIONED.id),
    ("provisioned 6 + 6 on two versions > reserved 10", one(provisioned_split_above_reserved), deploy.PROVISIONED.id),
    ("SnapStart on Node.js", one(snapstart_node), deploy.SNAPSTART.id),
    ("SnapStart on Python 3.11", one(snapstart_python311), deploy.SNAPSTART.id),
    ("SnapStart with 1024 MB ephemeral storage", one(snapstart_big_storage), deploy.SNAPSTART.id),
    ("SnapStart with provisioned concurrency", one(snapstart_with_provisioned), deploy.SNAPSTART.id),
    ("one function name in two stacks", function_name_two_stacks, deploy.FUNCTION_NAME.id),
    ("one function name in a stack and its nested stack", function_name_nested, deploy.FUNCTION_NAME.id),
    (
        "one function name, env-agnostic and concrete stack",
        function_name_agnostic_and_concrete,
        deploy.FUNCTION_NAME.id,
    ),
    ("one alarm name in two stacks", alarm_name_two_stacks, deploy.ALARM_NAME.id),
    ("one alarm name of intrinsics twice in a stack", one(alarm_name_of_intrinsics_one_stack), deploy.ALARM_NAME.id),
    ("one alarm name twice in a stack", one(alarm_name_one_stack), deploy.ALARM_NAME.id),
    ("reserved 500 + 450 of 1,000", ledger_reserved, deploy.LEDGER.id),
    ("provisioned 901 outside any reservation", one(ledger_provisioned), deploy.LEDGER.id),
    ("reserved 3 x 310 in nested stacks", ledger_nested, deploy.LEDGER.id),
]

# ------------------------------------------------------------------ (b) correct setups


def ok_vpc(s: cdk.Stack) -> None:
    vpc = ec2.Vpc(
        s,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    fn(s, vpc=vpc)


def ok_vpc_custom_role_with_policy(s: cdk.Stack) -> None:
    role = bare_role(s)
    role.add_managed_policy(
        iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
    )
    vpc = ec2.Vpc(
        s,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    fn(s, vpc=vpc, role=role)


def ok_sources(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q", encryption_master_key=kms.Key(s, "K"), visibility_timeout=cdk.Duration.seconds(60))
    stream = kinesis.Stream(s, "S")
    table = ddb.Table(
        s,
        "T",
        partition_key=ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
        stream=ddb.StreamViewType.NEW_IMAGE,
    )
    f = fn(s, timeout=cdk.Duration.seconds(10))
    f.add_event_source(sources.SqsEventSource(queue))
    f.add_event_source(
        sources.KinesisEventSource(
            stream,
            starting_position=lambda_.StartingPosition.LATEST,
            on_failure=sources.S3OnFailureDestination(s3.Bucket(s, "B")),
        )
    )
    f.add_event_source(
        sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.LATEST,
            on_failure=sources.SqsDlq(sqs.Queue(s, "StreamDlq")),
        )
    )
    f.add_event_source(
        sources.ManagedKafkaEventSource(
            cluster_arn="arn:aws:kafka:us-east-1:111111111111:cluster/c/11111111-1111-1111-1111-111111111111-1",
            topic="orders",
            starting_position=lambda_.StartingPosition.LATEST,
        )
    )


def ok_destinations(s: cdk.Stack) -> None:
    fn(s, "A", dead_letter_queue_enabled=True, tracing=lambda_.Tracing.ACTIVE)
    fn(s, "B", dead_letter_topic=sns.Topic(s, "T"))
    fn(
        s,
        "C",
        on_failure=destinations.SqsDestination(sqs.Queue(s, "F")),
        on_success=destinations.EventBridgeDestination(events.EventBus(s, "Bus")),
    )
    fn(s, "D", on_success=destinations.LambdaDestination(fn(s, "Next")))


def ok_urls_and_concurrency(s: cdk.Stack) -> None:
    f = fn(s, reserved_concurrent_executions=20)
    live = lambda_.Alias(s, "Live", alias_name="live", version=f.current_version, provisioned_concurrent_executions=20)
    f.add_function_url()
    live.add_function_url()
    snap = fn(s, "Snap", snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS)
    lambda_.Alias(s, "SnapLive", alias_name="live", version=snap.current_version)


def ok_names(app: cdk.App, name: str, env: cdk.Environment) -> None:
    other = cdk.Environment(account=env.account, region="eu-west-1")
    for stack in (cdk.Stack(app, name, env=env), cdk.Stack(app, name + "b", env=other)):
        f = fn(stack, function_name="same-name-other-region", reserved_concurrent_executions=450)
        f.metric_errors().create_alarm(stack, "A", alarm_name="errors", threshold=1, evaluation_periods=1)
    fn(cdk.Stack(app, name + "c", env=env), reserved_concurrent_executions=450)  # 1,000 - 900 = 100 left: allowed


def ok_imported_role(s: cdk.Stack) -> None:
    role = iam.Role.from_role_arn(s, "Imported", "arn:aws:iam::111111111111:role/existing")
    vpc = ec2.Vpc(
        s,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    fn(s, vpc=vpc, role=role)  # not in the template: skipped (the role's owner answers for it)


def ok_keys(s: cdk.Stack) -> None:
    # an environment key needs no IAM statement: Lambda creates a KMS grant for the execution role
    fn(s, "EnvironmentKey", environment={"TABLE": "orders"}, environment_encryption=kms.Key(s, "EnvKey"))
    # a queue key's kms:Decrypt granted by the key policy alone, naming the role
    role = bare_role(s, "KeyPolicyRole")
    key = kms.Key(s, "QueueKey")
    key.add_to_resource_policy(iam.PolicyStatement(actions=["kms:Decrypt"], principals=[role], resources=["*"]))
    queue = sqs.Queue(s, "Q", encryption_master_key=key)
    consumer = fn(s, "ByKeyPolicy", role=role)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources=[queue.queue_arn]
        )
    )
    consumer.add_event_source_mapping("M", event_source_arn=queue.queue_arn)


def ok_self_managed_kafka(s: cdk.Stack) -> None:
    fn(s).add_event_source(
        sources.SelfManagedKafkaEventSource(
            bootstrap_servers=["b-1.example.com:9092"],
            topic="orders",
            starting_position=lambda_.StartingPosition.LATEST,
            secret=secrets.Secret(s, "Secret"),
            authentication_method=sources.AuthenticationMethod.SASL_SCRAM_512_AUTH,
        )
    )


def ok_distinct_intrinsic_names(s: cdk.Stack) -> None:
    f = fn(s)
    for i in (1, 2):
        name = cdk.Fn.join("-", [cdk.Aws.STACK_NAME, f"errors{i}"])
        cw.Alarm(s, f"A{i}", metric=f.metric_errors(), alarm_name=name, threshold=i, evaluation_periods=1)


def ok_one_queue_two_aliases(s: cdk.Stack) -> None:
    queue = sqs.Queue(s, "Q")
    f = fn(s)
    queue.grant_consume_messages(f)
    for name in ("blue", "green"):  # two qualified function ARNs: two distinct pairs
        alias = lambda_.Alias(s, name.title(), alias_name=name, version=f.current_version)
        alias.add_event_source_mapping("M", event_source_arn=queue.queue_arn)


def ok_key_policies(s: cdk.Stack) -> None:
    from aws_cdk import aws_s3_notifications as notifications
    from aws_cdk import aws_sns_subscriptions as subscriptions

    key = kms.Key(s, "LogKey")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{s.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )
    logs.LogGroup(s, "Logs", encryption_key=key)
    # aws-cdk-lib's own subscription, rule target and notification add the senders' statements
    queue = sqs.Queue(s, "Q", encryption_master_key=kms.Key(s, "QueueKey"))
    sns.Topic(s, "T").add_subscription(subscriptions.SqsSubscription(queue))
    events.Rule(s, "Rule", schedule=events.Schedule.rate(cdk.Duration.minutes(5)), targets=[targets.SqsQueue(queue)])
    s3.Bucket(s, "B").add_event_notification(s3.EventType.OBJECT_CREATED, notifications.SqsDestination(queue))
    logs.LogGroup(
        s, "Imported", encryption_key=kms.Key.from_key_arn(s, "Ext", "arn:aws:kms:us-east-1:111111111111:key/1")
    )


def ok_managed_policies(s: cdk.Stack) -> None:
    vpc = ec2.Vpc(
        s,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    queue = sqs.Queue(s, "Q")
    for name, policy in (("Admin", "AdministratorAccess"), ("Unknown", "service-role/SomeTeamPolicy")):
        role = bare_role(s, f"{name}Role")
        role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(policy))  # unknown: not judged
        fn(s, name, vpc=vpc, role=role).add_event_source_mapping("M", event_source_arn=queue.queue_arn)
    role = bare_role(s, "EniRole")
    role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaENIManagementAccess"))
    fn(s, "Eni", vpc=vpc, role=role)


CORRECT: list[tuple[str, Builder]] = [
    ("AdministratorAccess, AWSLambdaENIManagementAccess; an unknown managed policy", one(ok_managed_policies)),
    (
        "key policies: logs statement; aws-cdk-lib's SNS, EventBridge and S3 senders; an imported key",
        one(ok_key_policies),
    ),
    ("one queue mapped to two aliases of one function", one(ok_one_queue_two_aliases)),
    ("environment key without a statement; queue key granted by its key policy", one(ok_keys)),
    ("self-managed Kafka with its secret", one(ok_self_managed_kafka)),
    ("alarm names of distinct intrinsics", one(ok_distinct_intrinsic_names)),
    ("vpc with the role aws-cdk-lib creates", one(ok_vpc)),
    ("vpc with a custom role and the VPC managed policy", one(ok_vpc_custom_role_with_policy)),
    ("SQS (KMS), Kinesis (S3 on failure), DynamoDB (SQS on failure), MSK event sources", one(ok_sources)),
    ("DLQ, SNS DLQ, tracing, async destinations", one(ok_destinations)),
    ("URL on $LATEST and on an alias, provisioned = reserved, SnapStart on Python 3.12", one(ok_urls_and_concurrency)),
    ("same names in another region, 100 unreserved left", ok_names),
    ("imported role", one(ok_imported_role)),
]


def account(row: int, broken: bool = True) -> str:
    """The account of a row (each row its own, so the app-wide rules see only the row's stacks)."""
    return f"{(100000000000 if broken else 200000000000) + row}"


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every row synthesized in one App, written to one cdk.out."""
    out = tmp_path_factory.mktemp("deploy") / "cdk.out"
    # aws-cdk-lib's own CloudFormation validation and stack traces: not what is tested here, most of the time
    app = cdk.App(outdir=str(out), builtin_cloud_formation_validation=False, stack_traces=False, tree_metadata=False)
    for i, (_, build, _) in enumerate(BROKEN):
        build(app, f"Broken{i:02d}", cdk.Environment(account=account(i), region="us-east-1"))
    for i, (_, build) in enumerate(CORRECT):
        build(app, f"Correct{i:02d}", cdk.Environment(account=account(i, broken=False), region="us-east-1"))
    app.synth()
    return out


@pytest.fixture(scope="module")
def assembly(cloud_assembly: Path) -> dict[str, set[str]]:
    """The deploy-rule ids that fire, per row."""
    out = cloud_assembly
    rows = {f"Broken{i:02d}": f"broken:{i}" for i in range(len(BROKEN))}
    rows |= {f"Correct{i:02d}": f"correct:{i}" for i in range(len(CORRECT))}
    fired: dict[str, set[str]] = {key: set() for key in rows.values()}
    findings = deploy.evaluate_assembly(out)
    for finding in findings:
        # "Broken07", "Broken07b", "Broken07/Workers..." are row 7's stacks
        row = (
            finding.stack[: len("Broken00")]
            if finding.stack.startswith("Broken")
            else finding.stack[: len("Correct00")]
        )
        fired[rows[row]].add(finding.rule)
    fired["findings"] = {f"{f.rule} {f.stack} {f.logical_id}: {f.detail}" for f in findings}
    return fired


@pytest.mark.parametrize(("row", "expected"), [(i, r[2]) for i, r in enumerate(BROKEN)], ids=[r[0] for r in BROKEN])
def test_broken_setup_caught_by_exactly_its_rule(assembly: dict[str, set[str]], row: int, expected: str) -> None:
    assert assembly[f"broken:{row}"] == {expected}


@pytest.mark.parametrize("row", range(len(CORRECT)), ids=[r[0] for r in CORRECT])
def test_correct_setup_passes(assembly: dict[str, set[str]], row: int) -> None:
    assert assembly[f"correct:{row}"] == set(), sorted(assembly["findings"])


def test_table_covers_every_deploy_rule() -> None:
    assert {r[2] for r in BROKEN} == {r.id for r in deploy.DEPLOY_RULES}
    assert len(BROKEN) >= 25


def test_the_rule_pack_reports_deploy_rules_with_source_and_fix(tmp_path: Path) -> None:
    """Through cdk-nag (enable_checks): a per-stack rule and an app-wide one, each on its resource, citing AWS."""
    import json

    from aws_cdk import Acknowledgment, Validations

    from lambda_constructs import enable_checks

    app = cdk.App(outdir=str(tmp_path / "out"))
    env = cdk.Environment(account="111111111111", region="us-east-1")
    visibility_below_timeout(cdk.Stack(app, "Mapping", env=env))
    alarm_name_two_stacks(app, "Alarms", env)
    acknowledged = cdk.Stack(app, "Acknowledged", env=env)
    default_visibility_below_timeout(acknowledged)
    Validations.of(acknowledged).acknowledge(
        Acknowledgment(id="LambdaProduction-DeploySqsVisibilityTimeout", reason="a test of the acknowledgement path")
    )
    enable_checks(app)
    with pytest.raises(Exception, match=r"ValidationFailed|Validation failed"):
        app.synth()
    report = json.loads((tmp_path / "out" / "validation-report.json").read_text())
    found: dict[str, list[str]] = {}
    info: dict[str, str] = {}
    for plugin in report["pluginReports"]:
        for v in plugin["violations"]:
            if v["ruleName"].startswith("LambdaProduction-Deploy"):
                found.setdefault(v["ruleName"], []).extend(c["constructPath"] for c in v["violatingConstructs"])
                info[v["ruleName"]] = v["description"]
    assert {k: sorted(v) for k, v in found.items()} == {
        "LambdaProduction-DeploySqsVisibilityTimeout": ["Mapping/Fn/SqsEventSource:MappingQBFB96FE8/Resource"],
        "LambdaProduction-DeployUniqueAlarmName": ["Alarms/A/Resource", "Alarmsb/A/Resource"],
    }
    visibility = info["LambdaProduction-DeploySqsVisibilityTimeout"]
    assert "VisibilityTimeout 10 s < function" in visibility and "Timeout 60 s" in visibility
    assert "Fix: Set the queue's VisibilityTimeout" in visibility
    assert (
        "Source: Using Lambda with Amazon SQS, https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html" in visibility
    )
    assert "also used by Alarmsb/" in info["LambdaProduction-DeployUniqueAlarmName"]


def _row(name: str) -> int:
    return next(i for i, r in enumerate(BROKEN) if r[0] == name)


def test_report_shows_the_concurrency_ledger(cloud_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`lambda-constructs report`: the ledger per account and region, in JSON and as a table, and the findings."""
    import json

    from lambda_constructs.cli.main import main

    assert main(["report", str(cloud_assembly), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ledger = {e["environment"]: e for e in data["concurrency"]}
    reserved = ledger[f"{account(_row('reserved 500 + 450 of 1,000'))}/us-east-1"]
    assert {k: reserved[k] for k in ("account_concurrency", "reserved", "unreserved_left", "fits")} == {
        "account_concurrency": 1000,
        "reserved": 950,
        "unreserved_left": 50,
        "fits": False,
    }
    assert reserved["stacks"][:2] == [
        f"Broken{_row('reserved 500 + 450 of 1,000'):02d}",
        f"Broken{_row('reserved 500 + 450 of 1,000'):02d}b",
    ]
    provisioned = ledger[f"{account(_row('provisioned 901 outside any reservation'))}/us-east-1"]
    assert (provisioned["provisioned"], provisioned["provisioned_outside_reservations"]) == (901, 901)
    assert provisioned["unreserved_left"] == 99 and not provisioned["fits"]
    nested = ledger[f"{account(_row('reserved 3 x 310 in nested stacks'))}/us-east-1"]
    assert nested["reserved"] == 930 and nested["unreserved_left"] == 70
    # provisioned inside a reservation comes out of it, not out of the unreserved pool
    ok_row = next(i for i, r in enumerate(CORRECT) if "provisioned = reserved" in r[0])
    within = ledger[f"{account(ok_row, broken=False)}/us-east-1"]
    assert (within["reserved"], within["provisioned"], within["unreserved_left"]) == (20, 20, 980)
    rules = {(f["rule"], f["stack"]) for f in data["deploy_findings"]}
    assert ("LambdaProduction-DeployConcurrencyLedger", f"Broken{_row('reserved 500 + 450 of 1,000'):02d}b") in rules
    visibility = next(f for f in data["deploy_findings"] if f["rule"] == "LambdaProduction-DeploySqsVisibilityTimeout")
    assert (
        visibility["source"]
        == "Using Lambda with Amazon SQS, https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"
    )

    assert main(["report", str(cloud_assembly)]) == 0
    text = capsys.readouterr().out
    row = next(
        line for line in text.splitlines() if line.startswith(f"{account(_row('reserved 500 + 450 of 1,000'))}/")
    )
    assert row.split()[1:5] == ["1,000", "950", "0", "0"] and row.endswith("50 (< 100: refused)")
    assert "environment" in text and "unreserved left" in text
    assert "deploy contract: " in text and "LambdaProduction-DeployConcurrencyLedger  Broken" in text


def test_report_reads_the_account_concurrency(cloud_assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--account-concurrency, else the context key in cdk.json next to the assembly; a bad value is exit 2."""
    import json

    from lambda_constructs.cli.main import main

    env = f"{account(_row('reserved 500 + 450 of 1,000'))}/us-east-1"

    def entry(*argv: str) -> dict[str, Any]:
        assert main(["report", str(cloud_assembly), "--json", *argv]) == 0
        return next(e for e in json.loads(capsys.readouterr().out)["concurrency"] if e["environment"] == env)

    assert entry("--account-concurrency", "2000")["unreserved_left"] == 1050
    cdk_json = cloud_assembly.parent / "cdk.json"
    try:
        cdk_json.write_text(json.dumps({"app": "python app.py", "context": {deploy.ACCOUNT_CONCURRENCY_CONTEXT: 1500}}))
        assert entry()["account_concurrency"] == 1500
        assert entry("--account-concurrency", "1000")["fits"] is False  # the flag wins
        cdk_json.write_text(json.dumps({"context": {deploy.ACCOUNT_CONCURRENCY_CONTEXT: "lots"}}))
        assert main(["report", str(cloud_assembly)]) == 2
        assert "lambda-constructs:account-concurrency is 'lots'; expected an integer >= 100" in capsys.readouterr().err
    finally:
        cdk_json.unlink()
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error
        main(["report", str(cloud_assembly), "--account-concurrency", "99"])
    assert usage.value.code == 2
    assert "expected an integer >= 100, got '99'" in capsys.readouterr().err


def test_account_concurrency_context_sets_the_pack_s_ledger(tmp_path: Path) -> None:
    """The context key moves the pack's ledger; a value that is not an integer >= 100 is a ConfigurationError."""
    from lambda_constructs.checks.pack import account_concurrency
    from lambda_constructs.core.errors import ConfigurationError

    assert account_concurrency(cdk.App()) == 1000
    assert account_concurrency(cdk.App(context={deploy.ACCOUNT_CONCURRENCY_CONTEXT: 3000})) == 3000
    assert account_concurrency(cdk.App(context={deploy.ACCOUNT_CONCURRENCY_CONTEXT: "3000"})) == 3000
    for bad in (99, "many", True, -5):
        with pytest.raises(ConfigurationError, match="lambda-constructs:account-concurrency"):
            account_concurrency(cdk.App(context={deploy.ACCOUNT_CONCURRENCY_CONTEXT: bad}))
    templates = {
        "S": {"Resources": {"F": {"Type": deploy.FUNCTION, "Properties": {"ReservedConcurrentExecutions": 950}}}}
    }
    assert [f.rule for f in deploy.evaluate_app(templates)] == [deploy.LEDGER.id]
    assert deploy.evaluate_app(templates, account_concurrency=3000) == []
