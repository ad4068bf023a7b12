"""QueueConsumer, StreamConsumer, ScheduledFunction, HttpEndpoint: derived limits and validation."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as lambda_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from lambda_constructs import (
    ConfigurationError,
    HttpEndpoint,
    Invocation,
    ProductionFunction,
    QueueConsumer,
    ScheduledFunction,
    StreamConsumer,
)
from tests.conftest import INLINE, only


def fn(stack: cdk.Stack, id: str, invocation: Invocation, **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.millis(3334))  # 3334 x 3 = 10,002 ms -> 11 s
    if "timeout" in kw:
        kw.pop("p99")
    return ProductionFunction(stack, id, code=INLINE, handler="index.handler", invocation=invocation, **kw)


def by_path(tpl: Template, type_: str, fragment: str) -> dict[str, Any]:
    found = [r for r in tpl.find_resources(type_).values() if fragment in r.get("Metadata", {}).get("aws:cdk:path", "")]
    assert len(found) == 1, f"{type_} under {fragment}: {len(found)}"
    return found[0]


# ---------------------------------------------------------------- QueueConsumer


@pytest.fixture(scope="module")
def queues() -> tuple[dict[str, Any], Template]:
    app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Queues")
    ten = fn(stack, "Ten", Invocation.QUEUE, timeout=cdk.Duration.seconds(10))
    made = {
        "default": QueueConsumer(stack, "Default", function=fn(stack, "W", Invocation.QUEUE)),
        # the example: a 10 s function with a 5 s batching window -> 65 s
        "window": QueueConsumer(
            stack,
            "Window",
            function=ten,
            batch_size=100,
            max_batching_window=cdk.Duration.seconds(5),
            max_concurrency=20,
            max_receive_count=8,
        ),
        "fifo": QueueConsumer(stack, "Fifo", function=fn(stack, "F", Invocation.QUEUE), fifo=True),
        "given": QueueConsumer(
            stack,
            "Given",
            function=ten,
            queue=sqs.Queue(stack, "Existing", visibility_timeout=cdk.Duration.seconds(60)),
        ),
    }
    return made, Template.from_stack(stack)


def test_visibility_timeout_is_six_times_function_timeout(queues: tuple[dict[str, Any], Template]) -> None:
    made, tpl = queues
    queue = by_path(tpl, "AWS::SQS::Queue", "Default/Queue/")
    assert queue["Properties"]["VisibilityTimeout"] == 66  # 6 x 11 s
    assert made["default"].visibility_timeout.to_seconds() == 66


def test_visibility_timeout_adds_the_batching_window(queues: tuple[dict[str, Any], Template]) -> None:
    made, tpl = queues
    assert by_path(tpl, "AWS::SQS::Queue", "Window/Queue/")["Properties"]["VisibilityTimeout"] == 65
    assert made["window"].visibility_timeout.to_seconds() == 65


def test_queues_encrypted_tls_only_with_redrive(queues: tuple[dict[str, Any], Template]) -> None:
    _, tpl = queues
    source = by_path(tpl, "AWS::SQS::Queue", "Window/Queue/")["Properties"]
    dlq = by_path(tpl, "AWS::SQS::Queue", "Window/DeadLetterQueue/")["Properties"]
    assert source["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    assert source["RedrivePolicy"]["maxReceiveCount"] == 8
    assert dlq["MessageRetentionPeriod"] == 1_209_600
    policies = [
        p for p in tpl.find_resources("AWS::SQS::QueuePolicy").values() if "Window" in p["Metadata"]["aws:cdk:path"]
    ]
    assert len(policies) == 2
    for policy in policies:
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_default_redrive_is_five_receives(queues: tuple[dict[str, Any], Template]) -> None:
    _, tpl = queues
    assert by_path(tpl, "AWS::SQS::Queue", "Default/Queue/")["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5


def test_mapping_targets_alias_with_batch_failures(queues: tuple[dict[str, Any], Template]) -> None:
    _, tpl = queues
    props = by_path(tpl, "AWS::Lambda::EventSourceMapping", "Window/")["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 100
    assert props["MaximumBatchingWindowInSeconds"] == 5
    assert props["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert props["FunctionName"]["Fn::Join"][1][1] == ":live"


def test_fifo_queues(queues: tuple[dict[str, Any], Template]) -> None:
    _, tpl = queues
    assert by_path(tpl, "AWS::SQS::Queue", "Fifo/Queue/")["Properties"]["FifoQueue"] is True
    assert by_path(tpl, "AWS::SQS::Queue", "Fifo/DeadLetterQueue/")["Properties"]["FifoQueue"] is True


def test_given_queue_without_dlq_gets_one(queues: tuple[dict[str, Any], Template]) -> None:
    made, tpl = queues
    existing = by_path(tpl, "AWS::SQS::Queue", "Queues/Existing/")["Properties"]
    assert existing["RedrivePolicy"]["maxReceiveCount"] == 5
    assert made["given"].dead_letter_queue is not None


def test_queue_alarms_join_the_function(queues: tuple[dict[str, Any], Template]) -> None:
    made, tpl = queues
    consumer = made["window"]
    assert [a.node.id for a in consumer.alarms] == ["OldestMessageAlarm", "DeadLetterQueueAlarm"]
    assert all(a in consumer.function.alarms for a in consumer.alarms)
    oldest = by_path(tpl, "AWS::CloudWatch::Alarm", "Window/OldestMessageAlarm")["Properties"]
    assert oldest["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert oldest["Threshold"] == 65  # one visibility cycle
    depth = by_path(tpl, "AWS::CloudWatch::Alarm", "Window/DeadLetterQueueAlarm")["Properties"]
    assert depth["MetricName"] == "ApproximateNumberOfMessagesVisible" and depth["Threshold"] == 0


QUEUE_ERRORS = [
    ({"batch_size": 11}, r"batch_size=11 is invalid; allowed: <= 10 without a batching window"),
    (
        {"batch_size": 10_001, "max_batching_window": cdk.Duration.seconds(1)},
        r"batch_size=10001 is invalid; allowed: 1\.\.10000",
    ),
    ({"fifo": True, "batch_size": 11}, r"batch_size=11 is invalid; allowed: 1\.\.10\. FIFO queues allow at most 10"),
    ({"max_batching_window": cdk.Duration.seconds(301)}, r"max_batching_window=301 is invalid; allowed: 0\.\.300 s"),
    ({"max_receive_count": 0}, r"max_receive_count=0 is invalid; allowed: 1\.\.1000"),
    ({"max_concurrency": 1}, r"max_concurrency=1 is invalid; allowed: 2\.\.1000"),
    ({"max_concurrency": 1001}, r"max_concurrency=1001 is invalid; allowed: 2\.\.1000"),
    ({"queue": "orders"}, r"queue='orders' is invalid; allowed: an aws_sqs\.IQueue"),
    ({"function": "orders-fn"}, r"function='orders-fn' is invalid; allowed: a ProductionFunction"),
]


@pytest.mark.parametrize(("overrides", "message"), QUEUE_ERRORS)
def test_queue_consumer_refuses_bad_input(overrides: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Q")
    props: dict[str, Any] = {"function": fn(stack, "W", Invocation.QUEUE), **overrides}
    with pytest.raises(ConfigurationError, match=r"^Q/Consumer: .*" + message):
        QueueConsumer(stack, "Consumer", **props)
    assert stack.node.try_find_child("Consumer") is None


def test_given_queue_with_short_visibility_states_the_required_value() -> None:
    stack = cdk.Stack(cdk.App(), "Q")
    worker = fn(stack, "W", Invocation.QUEUE, timeout=cdk.Duration.seconds(10))
    short = sqs.Queue(stack, "Short")  # SQS default 30 s
    with pytest.raises(
        ConfigurationError,
        match=r"queue\.visibility_timeout='30 s' is invalid; allowed: >= 65 s "
        r"\(6 x function timeout 10 s \+ batching window 5 s\).*"
        r"visibility_timeout=Duration\.seconds\(65\)",
    ):
        QueueConsumer(stack, "Consumer", function=worker, queue=short, max_batching_window=cdk.Duration.seconds(5))


def test_derived_visibility_above_sqs_maximum_is_refused() -> None:
    # unreachable with Lambda's 900 s cap (6 x 900 + 300 = 5,700 s); the pure check still guards it
    from lambda_constructs.core.limits import sqs_visibility_problem

    assert sqs_visibility_problem(900, 300) is None
    problem = sqs_visibility_problem(7200, 1)
    assert problem is not None
    assert problem.describe().startswith(
        "function.timeout='7200 s' is invalid; allowed: 6 x timeout + batching "
        "window <= 43200 s (SQS maximum visibility timeout); this needs 43201 s"
    )


def test_max_concurrency_above_reserved_warns() -> None:
    stack = cdk.Stack(cdk.App(), "Q")
    worker = fn(stack, "W", Invocation.QUEUE, reserved_concurrency=10)
    QueueConsumer(stack, "Consumer", function=worker, max_concurrency=20)
    assert Annotations.from_stack(stack).find_warning(
        "/Q/Consumer", Match.string_like_regexp("max_concurrency=20 exceeds the function's reserved_concurrency=10")
    )


def test_low_receive_count_and_wrong_invocation_warn() -> None:
    stack = cdk.Stack(cdk.App(), "Q")
    QueueConsumer(stack, "Consumer", function=fn(stack, "W", Invocation.SYNC), max_receive_count=2)
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning("/Q/Consumer", Match.string_like_regexp("AWS recommends at least 5"))
    assert annotations.find_warning("/Q/Consumer", Match.string_like_regexp("should use Invocation.QUEUE"))


# ---------------------------------------------------------------- StreamConsumer


@pytest.fixture(scope="module")
def streams() -> tuple[dict[str, Any], Template]:
    app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Streams")
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    )
    stream = kinesis.Stream(stack, "Stream")
    made = {
        "table": StreamConsumer(stack, "FromTable", function=fn(stack, "T", Invocation.STREAM), table=table),
        "kinesis": StreamConsumer(
            stack,
            "FromKinesis",
            function=fn(stack, "K", Invocation.STREAM),
            stream=stream,
            batch_size=500,
            retry_attempts=3,
            parallelization_factor=4,
            max_record_age=cdk.Duration.hours(2),
            starting_position=lambda_.StartingPosition.LATEST,
        ),
        "queue": StreamConsumer(
            stack, "ToQueue", function=fn(stack, "Q", Invocation.STREAM), stream=stream, on_failure="queue"
        ),
        "custom": StreamConsumer(
            stack,
            "ToOwnBucket",
            function=fn(stack, "O", Invocation.STREAM),
            stream=stream,
            on_failure=lambda_sources.S3OnFailureDestination(s3.Bucket(stack, "OwnBucket")),
        ),
        "keyed": StreamConsumer(
            stack,
            "Keyed",
            function=fn(stack, "KK", Invocation.STREAM),
            stream=stream,
            encryption_key=kms.Key(stack, "Key"),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        ),
    }
    return made, Template.from_stack(stack)


def _id(tpl: Template, type_: str, fragment: str) -> str:
    return next(
        k for k, v in tpl.find_resources(type_).items() if fragment in v.get("Metadata", {}).get("aws:cdk:path", "")
    )


def test_stream_defaults(streams: tuple[dict[str, Any], Template]) -> None:
    made, tpl = streams
    props = by_path(tpl, "AWS::Lambda::EventSourceMapping", "FromTable/")["Properties"]
    bucket_id = _id(tpl, "AWS::S3::Bucket", "FromTable/OnFailureBucket/")
    assert props["StartingPosition"] == "TRIM_HORIZON"  # a new mapping skips nothing the stream still holds
    assert props["BatchSize"] == 100
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRecordAgeInSeconds"] == 86_400
    assert props["MaximumRetryAttempts"] == 10
    assert props["ParallelizationFactor"] == 1
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [bucket_id, "Arn"]}}}
    assert props["FunctionName"]["Fn::Join"][1][1] == ":live"
    assert made["table"].on_failure_queue is None and made["table"].on_failure_bucket is not None
    assert made["table"].plan.on_failure == "bucket" and made["table"].plan.failure_expiration_days == 14
    assert made["table"].plan.starting_position == "TRIM_HORIZON"


def test_stream_on_failure_bucket(streams: tuple[dict[str, Any], Template]) -> None:
    """The whole failed batch lands in an encrypted, TLS-only, private, retained bucket that expires it in 14 days."""
    _, tpl = streams
    bucket = by_path(tpl, "AWS::S3::Bucket", "FromTable/OnFailureBucket/")
    bucket_id = _id(tpl, "AWS::S3::Bucket", "FromTable/OnFailureBucket/")
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert bucket["Properties"] == {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
        "LifecycleConfiguration": {
            "Rules": [{"ExpirationInDays": 14, "Id": "ExpireFailedBatches", "Status": "Enabled"}]
        },
        "MetricsConfigurations": [{"Id": "OnFailureWrites"}],
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
    }  # no VersioningConfiguration: objects are written once and expired by the rule
    policy = by_path(tpl, "AWS::S3::BucketPolicy", "FromTable/OnFailureBucket/")["Properties"]
    arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": [arn, {"Fn::Join": ["", [arn, "/*"]]}],
        }
    ]
    role_policy = by_path(tpl, "AWS::IAM::Policy", "/T/")["Properties"]["PolicyDocument"]["Statement"]
    s3_grants = [st for st in role_policy if str(st["Action"]).startswith("s3:")]
    assert s3_grants == [
        {"Action": "s3:PutObject", "Effect": "Allow", "Resource": {"Fn::Join": ["", [arn, "/*"]]}},
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn},
    ]  # what Lambda needs for an S3 destination, nothing to read or delete
    alarm = by_path(tpl, "AWS::CloudWatch::Alarm", "FromTable/OnFailureBucketAlarm/")["Properties"]
    assert {
        k: alarm[k] for k in ("Namespace", "MetricName", "Statistic", "Period", "Threshold", "ComparisonOperator")
    } == {
        "Namespace": "AWS/S3",
        "MetricName": "PutRequests",
        "Statistic": "Sum",
        "Period": 300,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    assert alarm["Dimensions"] == [
        {"Name": "BucketName", "Value": {"Ref": bucket_id}},
        {"Name": "FilterId", "Value": "OnFailureWrites"},  # the bucket's metrics configuration
    ]
    assert alarm["TreatMissingData"] == "notBreaching"


def test_stream_on_failure_choices(streams: tuple[dict[str, Any], Template]) -> None:
    """on_failure="queue" keeps the old queue (metadata only, a warning says so); a user's own S3 destination
    gets no library bucket or alarm; a key encrypts the bucket and the role may generate data keys with it."""
    made, tpl = streams
    queue_id = _id(tpl, "AWS::SQS::Queue", "ToQueue/OnFailureQueue/")
    queue = by_path(tpl, "AWS::SQS::Queue", "ToQueue/OnFailureQueue/")
    assert queue["Properties"]["SqsManagedSseEnabled"] is True and queue["DeletionPolicy"] == "Retain"
    mapping = by_path(tpl, "AWS::Lambda::EventSourceMapping", "ToQueue/")["Properties"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}
    assert [a.node.id for a in made["queue"].alarms] == ["IteratorAgeAlarm", "OnFailureQueueAlarm"]
    warnings = Annotations.from_stack(cdk.Stack.of(made["queue"])).find_warning("/Streams/ToQueue", Match.any_value())
    assert any("Lambda sends it only the failed batch's metadata" in str(w.entry.data) for w in warnings)
    assert made["queue"].plan.resource_count == 5

    own = by_path(tpl, "AWS::Lambda::EventSourceMapping", "ToOwnBucket/")["Properties"]
    own_id = _id(tpl, "AWS::S3::Bucket", "Streams/OwnBucket/")
    assert own["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [own_id, "Arn"]}}}
    assert [a.node.id for a in made["custom"].alarms] == ["IteratorAgeAlarm"]
    assert made["custom"].on_failure_bucket is None and made["custom"].on_failure_queue is None
    assert made["custom"].plan.resource_count == 2
    own_warnings = Annotations.from_stack(cdk.Stack.of(made["custom"])).find_warning(
        "/Streams/ToOwnBucket", Match.string_like_regexp("metadata")
    )
    assert own_warnings == []  # an S3 destination keeps the records

    keyed = by_path(tpl, "AWS::S3::Bucket", "Keyed/OnFailureBucket/")
    key_id = _id(tpl, "AWS::KMS::Key", "Streams/Key/")
    assert keyed["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {
                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                "SSEAlgorithm": "aws:kms",
            },
        }
    ]
    # DESTROY deletes an empty bucket; one holding failed batches makes the stack deletion fail (no auto-delete)
    assert (keyed["DeletionPolicy"], keyed["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert not tpl.find_resources("Custom::S3AutoDeleteObjects")
    keyed_role = by_path(tpl, "AWS::IAM::Policy", "/KK/")["Properties"]["PolicyDocument"]["Statement"]
    assert {
        "Action": "kms:GenerateDataKey",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
    } in keyed_role


def test_stream_on_failure_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError, match=r"S/C: on_failure='sqs' is invalid; allowed: \"bucket\" \(the whole"):
        StreamConsumer(
            stack, "C", function=fn(stack, "F", Invocation.STREAM), stream=kinesis.Stream(stack, "K"), on_failure="sqs"
        )  # type: ignore[arg-type]


def test_stream_overrides_and_alarms(streams: tuple[dict[str, Any], Template]) -> None:
    made, tpl = streams
    props = by_path(tpl, "AWS::Lambda::EventSourceMapping", "FromKinesis/")["Properties"]
    assert (props["BatchSize"], props["MaximumRetryAttempts"], props["ParallelizationFactor"]) == (500, 3, 4)
    assert props["MaximumRecordAgeInSeconds"] == 7200 and props["StartingPosition"] == "LATEST"
    age = by_path(tpl, "AWS::CloudWatch::Alarm", "FromTable/IteratorAgeAlarm")["Properties"]
    assert age["MetricName"] == "IteratorAge" and age["Threshold"] == 300_000  # 5 minutes in ms
    assert [a.node.id for a in made["table"].alarms] == ["IteratorAgeAlarm", "OnFailureBucketAlarm"]
    # bisected retries do not count against retry_attempts: a budget of 3 with a batch of 500 is fine
    warnings = Annotations.from_stack(cdk.Stack.of(made["kinesis"])).find_warning(
        "/Streams/FromKinesis", Match.any_value()
    )
    # the one warning is that its alarms notify nobody (no alarm_topic in this fixture), not about retries
    assert [str(w.entry.data).split(":")[0] for w in warnings] == [
        "the alarms of Streams/FromKinesis notify nobody (no alarm action)"
    ]


STREAM_ERRORS = [
    ({"retry_attempts": -1}, r"retry_attempts=-1 is invalid; allowed: 0\.\.10000\. -1 .*refused"),
    ({"max_record_age": cdk.Duration.seconds(30)}, r"max_record_age=30 is invalid; allowed: 60\.\.604800 s"),
    ({"max_record_age": cdk.Duration.days(8)}, r"max_record_age=691200 is invalid"),
    ({"parallelization_factor": 11}, r"parallelization_factor=11 is invalid; allowed: 1\.\.10"),
    ({"batch_size": 0}, r"batch_size=0 is invalid; allowed: 1\.\.10000"),
    ({"table": None}, r"stream/table='none' is invalid; allowed: exactly one of"),
    (
        {"starting_position": lambda_.StartingPosition.AT_TIMESTAMP, "starting_position_timestamp": 1_700_000_000},
        r"starting_position='AT_TIMESTAMP' is invalid; allowed: LATEST \| TRIM_HORIZON for DynamoDB Streams",
    ),
    ({"max_batching_window": cdk.Duration.minutes(6)}, r"max_batching_window=360 is invalid; allowed: 0\.\.300 s"),
]


@pytest.mark.parametrize(("overrides", "message"), STREAM_ERRORS)
def test_stream_consumer_refuses_bad_input(overrides: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    props: dict[str, Any] = {"function": fn(stack, "F", Invocation.STREAM), "table": table, **overrides}
    with pytest.raises(ConfigurationError, match=r"^S/Consumer: .*" + message):
        StreamConsumer(stack, "Consumer", **props)


def test_table_v2_without_stream_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    table = dynamodb.TableV2(
        stack, "T", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    with pytest.raises(ConfigurationError, match=r"table='S/T' is invalid; allowed: a table with a stream"):
        StreamConsumer(stack, "C", function=fn(stack, "F", Invocation.STREAM), table=table)
    assert stack.node.try_find_child("C") is None


def test_kinesis_at_timestamp_needs_the_timestamp() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    stream = kinesis.Stream(stack, "K")
    function = fn(stack, "F", Invocation.STREAM)
    with pytest.raises(ConfigurationError, match=r"starting_position_timestamp=None is invalid; allowed: a Unix time"):
        StreamConsumer(
            stack, "C", function=function, stream=stream, starting_position=lambda_.StartingPosition.AT_TIMESTAMP
        )
    StreamConsumer(
        stack,
        "C",
        function=function,
        stream=stream,
        starting_position=lambda_.StartingPosition.AT_TIMESTAMP,
        starting_position_timestamp=1_700_000_000,
    )
    mapping = Template.from_stack(stack).find_resources("AWS::Lambda::EventSourceMapping")
    assert next(iter(mapping.values()))["Properties"]["StartingPositionTimestamp"] == 1_700_000_000


def test_table_without_stream_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    table = dynamodb.Table(stack, "T", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    with pytest.raises(ConfigurationError, match=r"table='S/T' is invalid; allowed: a table with a stream"):
        StreamConsumer(stack, "C", function=fn(stack, "F", Invocation.STREAM), table=table)


# ---------------------------------------------------------------- ScheduledFunction


@pytest.fixture(scope="module")
def scheduled() -> tuple[ScheduledFunction, Template]:
    stack = cdk.Stack(cdk.App(), "Sched")
    job = fn(stack, "Job", Invocation.ASYNC)
    made = ScheduledFunction(stack, "Nightly", function=job, schedule=events.Schedule.cron(minute="0", hour="3"))
    return made, Template.from_stack(stack)


def test_schedule_targets_alias_with_retry_policy_and_dlq(scheduled: tuple[ScheduledFunction, Template]) -> None:
    made, tpl = scheduled
    rule = only(tpl, "AWS::Events::Rule")
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    (target,) = rule["Targets"]
    alias_id = next(iter(tpl.find_resources("AWS::Lambda::Alias")))
    assert target["Arn"] == {"Ref": alias_id}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    dlq_arn = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert tpl.to_json()["Resources"][dlq_arn]["Properties"]["SqsManagedSseEnabled"] is True
    # the function's own async failure path exists as well
    assert made.function.failure_queue is not None
    tpl.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage"})]
                )
            }
        },
    )


def test_schedule_alarms(scheduled: tuple[ScheduledFunction, Template]) -> None:
    made, tpl = scheduled
    assert [a.node.id for a in made.alarms] == ["FailedInvocationsAlarm", "DeadLetterQueueAlarm"]
    tpl.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"Namespace": "AWS/Events", "MetricName": "FailedInvocations", "Threshold": 1}
    )


@pytest.mark.parametrize(
    ("invocation", "overrides", "message"),
    [
        (Invocation.SYNC, {}, r"function\.invocation='Invocation\.SYNC' is invalid; allowed: Invocation\.ASYNC"),
        (Invocation.ASYNC, {"retry_attempts": 186}, r"retry_attempts=186 is invalid; allowed: 0\.\.185"),
        (
            Invocation.ASYNC,
            {"max_event_age": cdk.Duration.hours(25)},
            r"max_event_age=90000 is invalid; allowed: 60\.\.86400",
        ),
        (Invocation.ASYNC, {"schedule": "daily"}, r"schedule='daily' is invalid; allowed: an aws_events\.Schedule"),
    ],
)
def test_scheduled_function_refuses_bad_input(invocation: Invocation, overrides: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    props: dict[str, Any] = {
        "function": fn(stack, "F", invocation),
        "schedule": events.Schedule.rate(cdk.Duration.hours(1)),
        **overrides,
    }
    with pytest.raises(ConfigurationError, match=r"^S/Sched: .*" + message):
        ScheduledFunction(stack, "Sched", **props)


# ---------------------------------------------------------------- HttpEndpoint


@pytest.fixture(scope="module")
def http() -> tuple[dict[str, Any], Template]:
    app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Http")
    made = {
        "api": HttpEndpoint(stack, "Api", function=fn(stack, "A", Invocation.SYNC)),
        "url": HttpEndpoint(
            stack,
            "Url",
            function=fn(stack, "U", Invocation.SYNC, timeout=cdk.Duration.seconds(120)),
            kind="function_url",
        ),
    }
    return made, Template.from_stack(stack)


def test_http_api_proxies_to_alias_with_iam_auth_logs_and_throttling(http: tuple[dict[str, Any], Template]) -> None:
    _, tpl = http
    integration = only(tpl, "AWS::ApiGatewayV2::Integration")
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    alias_id = next(
        k for k, v in tpl.find_resources("AWS::Lambda::Alias").items() if "Http/A/" in v["Metadata"]["aws:cdk:path"]
    )
    assert integration["IntegrationUri"] == {"Ref": alias_id}
    tpl.has_resource_properties("AWS::ApiGatewayV2::Route", {"AuthorizationType": "AWS_IAM"})
    stage = only(tpl, "AWS::ApiGatewayV2::Stage")
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 500, "ThrottlingRateLimit": 1000}
    assert '"requestId":"$context.requestId"' in stage["AccessLogSettings"]["Format"]


def test_http_api_alarms(http: tuple[dict[str, Any], Template]) -> None:
    made, tpl = http
    assert [a.node.id for a in made["api"].alarms] == ["ServerErrorsAlarm", "ClientErrorsAlarm", "LatencyAlarm"]
    latency = by_path(tpl, "AWS::CloudWatch::Alarm", "Api/LatencyAlarm")["Properties"]
    assert latency["ExtendedStatistic"] == "p99" and latency["Threshold"] == 8800  # 80 % of 11 s
    assert by_path(tpl, "AWS::CloudWatch::Alarm", "Api/ServerErrorsAlarm")["Properties"]["MetricName"] == "5xx"
    assert by_path(tpl, "AWS::CloudWatch::Alarm", "Api/ClientErrorsAlarm")["Properties"]["Threshold"] == 100


def test_function_url_defaults_to_iam_on_the_alias(http: tuple[dict[str, Any], Template]) -> None:
    _, tpl = http
    url = only(tpl, "AWS::Lambda::Url")
    assert url["AuthType"] == "AWS_IAM"
    assert url["Qualifier"] == "live"


def test_function_url_none_only_when_explicit() -> None:
    stack = cdk.Stack(cdk.App(), "Pub")
    HttpEndpoint(
        stack,
        "Url",
        function=fn(stack, "U", Invocation.SYNC),
        kind="function_url",
        auth_type=lambda_.FunctionUrlAuthType.NONE,
    )
    assert only(Template.from_stack(stack), "AWS::Lambda::Url")["AuthType"] == "NONE"


@pytest.mark.parametrize(
    ("fn_kw", "overrides", "message"),
    [
        (
            {"timeout": cdk.Duration.seconds(30)},
            {},
            r"function\.timeout='30 s' is invalid; allowed: < 30 s, the API Gateway HTTP API integration timeout.*"
            r"cold start.*30 s timeout reaches API Gateway's 30 s",
        ),
        ({"p99": cdk.Duration.seconds(11)}, {}, r"function\.timeout='33 s'"),
        ({}, {"kind": "rest_api"}, r"kind='rest_api' is invalid; allowed: 'http_api' \| 'function_url'"),
        ({}, {"throttle_rate_limit": 0}, r"throttle_rate_limit=0 is invalid; allowed: 1\.\.10000 requests/s"),
        ({}, {"latency_threshold_ms": 20_000}, r"latency_threshold_ms=20000 is invalid; allowed: 1\.\.11000 ms"),
        (
            {},
            {"kind": "function_url", "authorizer": object()},
            r"authorizer=.* is invalid; allowed: None for kind='function_url'",
        ),
    ],
)
def test_http_endpoint_refuses_bad_input(fn_kw: dict[str, Any], overrides: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "H")
    with pytest.raises(ConfigurationError, match=r"^H/Endpoint: .*" + message):
        HttpEndpoint(stack, "Endpoint", function=fn(stack, "F", Invocation.SYNC, **fn_kw), **overrides)
    assert stack.node.try_find_child("Endpoint") is None


# ---------------------------------------------------------------- plans against the built tree


def _resources(construct: Any) -> int:
    return sum(1 for c in construct.node.find_all() if isinstance(c, cdk.CfnResource))


@pytest.mark.parametrize("name", ["default", "window", "fifo", "given"])
def test_queue_plan_resource_count_matches_the_tree(queues: tuple[dict[str, Any], Template], name: str) -> None:
    consumer = queues[0][name]
    assert consumer.plan.resource_count == _resources(consumer)
    assert [a.node.id for a in consumer.alarms] == [a.id for a in consumer.plan.alarms]


@pytest.mark.parametrize("name", ["table", "kinesis"])
def test_stream_plan_resource_count_matches_the_tree(streams: tuple[dict[str, Any], Template], name: str) -> None:
    consumer = streams[0][name]
    assert consumer.plan.resource_count == _resources(consumer)


def test_schedule_plan_resource_count_matches_the_tree(scheduled: tuple[ScheduledFunction, Template]) -> None:
    made, _ = scheduled
    # the permission EventBridge needs to invoke live is made under the rule, so it counts here
    permissions = [c for c in made.node.find_all() if isinstance(c, lambda_.CfnPermission)]
    assert made.plan.resource_count == _resources(made) and len(permissions) == 1
