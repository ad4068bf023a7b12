"""StreamConsumer: Kinesis or DynamoDB Streams -> ProductionFunction, never blocked by a poison record."""

from __future__ import annotations

import typing

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk, _keys, _relations
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import common as plans_common
from lambda_constructs.core.plans import stream as streams
from lambda_constructs.core.plans.function import Reading
from lambda_constructs.core.plans.stream import StreamPlan
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources import _failure, _mapping
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_BATCH_SIZE = streams.DEFAULT_BATCH_SIZE
DEFAULT_MAX_RECORD_AGE = Duration.days(1)
DEFAULT_RETRY_ATTEMPTS = streams.DEFAULT_RETRY_ATTEMPTS  # bounded; bisecting does not consume retries (see below)
DEFAULT_ITERATOR_AGE_ALARM = Duration.minutes(5)


class StreamConsumer(Construct):
    """A stream event source mapping on the function's ``live`` alias with a bounded failure path.

    By default a stream retries a failing batch until its records expire (24 h for DynamoDB,
    up to 7 days+ for Kinesis) and a poison record blocks its shard all that time
    ("AWS Lambda Cold Starts — Why P99 Spikes to 1.2s at 9 AM").
    Here every mapping has:

    - ``retry_attempts`` (default 10) and ``max_record_age`` (default 1 day), both bounded;
      the "infinite" -1 is refused;
    - ``bisect_batch_on_error`` (default on): a failing batch is split in two and each half retried,
      until the poison record is alone. Lambda does not count a bisected retry against
      ``retry_attempts`` ("Using Lambda with Kinesis Data Streams" / "... DynamoDB Streams", AWS
      Lambda developer guide), so any retry budget isolates a record; the bound of 10 only caps how
      often the same batch is retried whole (transient errors) before it goes to the failure queue;
    - an on-failure S3 bucket (encrypted, TLS-only, public access blocked, objects expire after 14 days,
      retained): Lambda writes the whole failed batch there with its metadata. An SQS or SNS destination
      would receive only the metadata (shard, sequence numbers) and the records expire with the stream
      ("Retain discarded batch records for a Kinesis Data Streams event source in Lambda",
      https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html; "Retain discarded
      records for a DynamoDB event source in Lambda",
      https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html);
    - ReportBatchItemFailures, an IteratorAge alarm and an alarm on the first object in the bucket.

    Args:
        function: the consumer.
        stream: a Kinesis stream; or ``table``: a DynamoDB table with a stream. Exactly one.
        starting_position: default TRIM_HORIZON: a new mapping (the first deploy, a replaced mapping)
            starts at the oldest record the stream still holds, so nothing written before it polls is
            skipped. On a stream that keeps records for days, the first deploy processes that whole backlog:
            the handler must be idempotent. LATEST skips what was written before; AT_TIMESTAMP is Kinesis
            only and needs ``starting_position_timestamp`` (Unix seconds).
        batch_size: 1..10,000, default 100.
        bisect_batch_on_error: default True.
        max_record_age: 60 s..7 days, default 1 day.
        retry_attempts: 0..10,000, default 10.
        parallelization_factor: 1..10, default 1.
        max_batching_window: 0..300 s, default none.
        iterator_age_threshold: IteratorAge alarm threshold; default 5 minutes (or half of
            ``max_record_age`` when that is smaller), well before records expire.
        alarm_topic: default the function's topic.
        filters: event filtering, a list of patterns as ``aws_lambda.FilterCriteria.filter`` takes them
            (or its results); syntax and the 5-filter quota checked. A record that matches no filter is
            skipped ("Control which events Lambda sends to your function").
        tumbling_window: 0..900 s; aggregates state across invocations of a shard ("Using Lambda with
            Kinesis Data Streams", tumbling windows). Default none.
        report_batch_item_failures: default True (the handler returns ``batchItemFailures``).
        metrics_config: ``aws_lambda.MetricsConfig(metrics=[MetricType.EVENT_COUNT, ...])``.
        on_failure: ``"bucket"`` (default, the whole batch), ``"queue"`` (an encrypted, TLS-only SQS queue
            kept 14 days, which receives metadata only: a warning says so), or an ``aws_lambda.IEventSourceDlq``
            of your own (``S3OnFailureDestination``, ``SqsDlq``, ``SnsDlq``; no library alarm on it).
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the on-failure bucket (SSE-KMS with
            a Bucket Key; the role gets ``kms:GenerateDataKey``) or queue; default SSE-S3 / SSE-SQS. See
            docs/encryption.md.
        removal_policy: what happens to the on-failure bucket or queue when CloudFormation replaces it or the
            stack is deleted: default ``RemovalPolicy.RETAIN`` (it keeps what it holds; "DeletionPolicy
            attribute", AWS CloudFormation user guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY``
            otherwise. CloudFormation cannot delete a bucket that holds objects, so ``DESTROY`` fails on a
            bucket with failed batches in it until someone empties it: the library never deletes failed
            records for you. See docs/operations.md.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        stream: kinesis.IStream | None = None,
        table: dynamodb.ITable | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        starting_position_timestamp: float | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        bisect_batch_on_error: bool = True,
        max_record_age: Duration = DEFAULT_MAX_RECORD_AGE,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        parallelization_factor: int = 1,
        max_batching_window: Duration | None = None,
        iterator_age_threshold: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
        filters: typing.Sequence[typing.Mapping[str, typing.Any]] | None = None,
        tumbling_window: Duration | None = None,
        report_batch_item_failures: bool = True,
        metrics_config: lambda_.MetricsConfig | None = None,
        on_failure: typing.Literal["bucket", "queue"] | lambda_.IEventSourceDlq = "bucket",
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        planned: list[StreamPlan] = []

        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function, scope=scope):
                return
            self._check_source(problems, stream, table, starting_position)
            if not problems:
                given = typing.cast(Construct, stream if stream is not None else table)
                problems.add(
                    _relations.mapping_problem(
                        function, _source_arn(stream, table), "stream/table", _cdk.path_of(given)
                    )
                )
            problems.add(_base_topic(alarm_topic, scope=scope))
            problems.add(_cdk.foreign_problem(scope, stream if stream is not None else table, "stream/table"))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.add(_cdk.removal_policy_problem(removal_policy))
            problems.add(_failure.on_failure_problem(on_failure))
            age = _reading(
                "max_record_age", max_record_age, limits.STREAM_RECORD_AGE_MIN_S, limits.STREAM_RECORD_AGE_MAX_S
            )
            threshold = None
            if iterator_age_threshold is not None:
                problem = _cdk.duration_problem("iterator_age_threshold", iterator_age_threshold, concrete=True)
                threshold = Reading(
                    problem=problem,
                    value=None if problem else _cdk.milliseconds(typing.cast(Duration, iterator_age_threshold)),
                )
            streams.stream_problems(
                problems,
                at_timestamp=starting_position is lambda_.StartingPosition.AT_TIMESTAMP,
                starting_position_timestamp=starting_position_timestamp,
                batch_size=batch_size,
                retry_attempts=retry_attempts,
                max_record_age=age,
                parallelization_factor=parallelization_factor,
                window=(
                    None
                    if max_batching_window is None
                    else _reading("max_batching_window", max_batching_window, 0, limits.BATCHING_WINDOW_MAX_S)
                ),
                iterator_age_threshold=threshold,
                bisect_batch_on_error=bisect_batch_on_error,
            )
            _mapping.check_mapping_options(problems, "stream", filters=filters, metrics_config=metrics_config)
            problems.add(_mapping.bool_problem("report_batch_item_failures", report_batch_item_failures))
            if tumbling_window is not None:
                problems.add(
                    _cdk.duration_range_problem("tumbling_window", tumbling_window, 0, limits.TUMBLING_WINDOW_MAX_S)
                )
            if problems:
                return
            target = typing.cast(FunctionTarget, function)
            _stack, stack_name, stack_path = _cdk.stack_info(scope)
            invocation = target.invocation
            planned.append(
                streams.plan_stream(
                    streams.StreamRequest(
                        path=problems.path,
                        alarm_prefix=plans_common.alarm_prefix(stack_name, stack_path, problems.path),
                        batch_size=batch_size,
                        bisect_batch_on_error=bisect_batch_on_error,
                        retry_attempts=retry_attempts,
                        max_record_age_s=None if age.value is None else int(age.value),
                        parallelization_factor=parallelization_factor,
                        iterator_age_threshold_ms=threshold.value if threshold is not None else None,
                        function_path=target.node.path if invocation is not Invocation.STREAM else "",
                        function_invocation=invocation,
                        function_owns_role=bool(getattr(getattr(function, "plan", None), "owns_role", False)),
                        removal_policy=_cdk.removal_policy_name(removal_policy),
                        on_failure=_failure.on_failure_kind(on_failure),
                        custom_is_bucket=isinstance(on_failure, sources.S3OnFailureDestination),
                        starting_position=typing.cast(lambda_.StartingPosition, starting_position).name,
                    )
                )
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        plan = self.plan = planned[0]
        self.function = function
        self.on_failure_bucket: s3.Bucket | None = None
        self.on_failure_queue: sqs.Queue | None = None
        destination = _failure.build_destination(
            self, on_failure, plan, _keys.key_for(self, encryption_key), "the stream mapping's on-failure destination"
        )
        self.on_failure_bucket, self.on_failure_queue = destination.bucket, destination.queue
        source_arn = _source_arn(stream, table)
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=function.alias,
            event_source_arn=source_arn,
            starting_position=starting_position,
            starting_position_timestamp=starting_position_timestamp,
            batch_size=plan.batch_size,
            bisect_batch_on_error=plan.bisect_batch_on_error,
            max_record_age=max_record_age,
            retry_attempts=plan.retry_attempts,
            parallelization_factor=plan.parallelization_factor,
            max_batching_window=max_batching_window,
            report_batch_item_failures=report_batch_item_failures,
            on_failure=destination.dlq,
            filters=_mapping.filter_criteria(filters),
            tumbling_window=tumbling_window,
            metrics_config=metrics_config,
        )
        _mapping.warn_filters(self, filters, "stream")
        _relations.remember_mapping(function, source_arn, _cdk.path_of(self), "its stream")
        if stream is not None:
            stream.grant_read(function.alias)
        else:
            table.grant_stream_read(function.alias)  # type: ignore[union-attr]
        _source.annotate(self, plan.notes)
        topic = _source.alarm_topic(function, alarm_topic)
        iterator_age, *failure = plan.alarms
        period = _cdk.ALARM_PERIOD
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.build_alarm(
                self,
                iterator_age,
                function.alias.metric(iterator_age.metric, period=period, statistic=iterator_age.statistic),
                topic,
            ),
            *(_cdk.build_alarm(self, a, destination.metric(a), topic) for a in failure),
        )
        _bundle.note(self, scope, id, plan.resource_count)

    @staticmethod
    def _check_source(problems: Problems, stream: object, table: object, starting_position: object) -> None:
        given = [n for n, v in (("stream", stream), ("table", table)) if v is not None]
        if len(given) != 1:
            problems.add(
                Problem(
                    "stream/table",
                    ", ".join(given) or "none",
                    "exactly one of stream=kinesis.IStream or table=dynamodb.ITable",
                )
            )
            return
        if stream is not None and not _cdk.implements(stream, "stream_arn"):
            problems.add(Problem("stream", stream, "an aws_kinesis.IStream"))
        if table is not None:
            if not _cdk.implements(table, "table_stream_arn"):
                problems.add(Problem("table", table, "an aws_dynamodb.ITable"))
            elif _has_no_stream(table):
                problems.add(
                    Problem(
                        "table",
                        typing.cast(dynamodb.ITable, table).node.path,
                        "a table with a stream",
                        "create it with stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES",
                    )
                )
            if starting_position is lambda_.StartingPosition.AT_TIMESTAMP:
                problems.add(Problem("starting_position", "AT_TIMESTAMP", "LATEST | TRIM_HORIZON for DynamoDB Streams"))
        if not isinstance(starting_position, lambda_.StartingPosition):
            problems.add(Problem("starting_position", starting_position, "an aws_lambda.StartingPosition"))


def _source_arn(stream: object, table: object) -> str:
    """The ARN the mapping reads."""
    if stream is not None:
        return typing.cast(kinesis.IStream, stream).stream_arn
    return typing.cast(str, typing.cast(dynamodb.ITable, table).table_stream_arn)


def _has_no_stream(table: object) -> bool:
    """A Table or TableV2 made in this app without a stream (TableV2 returns a token ARN even then)."""
    if typing.cast(dynamodb.ITable, table).table_stream_arn is None:
        return True
    cfn = getattr(getattr(table, "node", None), "default_child", None)
    if isinstance(cfn, dynamodb.CfnGlobalTable):  # its stream_specification getter fails when unset: read props
        spec = Stack.of(cfn).resolve(cfn._cfn_properties).get("streamSpecification")
        return not (spec or {}).get("streamViewType")
    return False


_base_topic = _source.topic_problem
_reading = _mapping.duration_reading
