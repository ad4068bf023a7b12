"""StreamConsumer: Kinesis or DynamoDB Streams -> ProductionFunction, never blocked by a poison record."""

from __future__ import annotations

import typing

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_BATCH_SIZE = 100
DEFAULT_MAX_RECORD_AGE = Duration.days(1)
DEFAULT_RETRY_ATTEMPTS = 10  # bounded; bisecting does not consume retries (see the class docstring)
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
    - an encrypted, TLS-only SQS on-failure destination, so the skipped record is kept 14 days;
    - ReportBatchItemFailures, an IteratorAge alarm and an on-failure queue depth alarm.

    Args:
        function: the consumer.
        stream: a Kinesis stream; or ``table``: a DynamoDB table with a stream. Exactly one.
        starting_position: default LATEST. AT_TIMESTAMP is Kinesis only and needs
            ``starting_position_timestamp`` (Unix seconds).
        batch_size: 1..10,000, default 100.
        bisect_batch_on_error: default True.
        max_record_age: 60 s..7 days, default 1 day.
        retry_attempts: 0..10,000, default 10.
        parallelization_factor: 1..10, default 1.
        max_batching_window: 0..300 s, default none.
        iterator_age_threshold: IteratorAge alarm threshold; default 5 minutes (or half of
            ``max_record_age`` when that is smaller), well before records expire.
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        stream: kinesis.IStream | None = None,
        table: dynamodb.ITable | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.LATEST,
        starting_position_timestamp: float | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        bisect_batch_on_error: bool = True,
        max_record_age: Duration = DEFAULT_MAX_RECORD_AGE,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        parallelization_factor: int = 1,
        max_batching_window: Duration | None = None,
        iterator_age_threshold: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            self._check_source(problems, stream, table, starting_position)
            problems.add(_base_topic(alarm_topic))
            at_timestamp = starting_position is lambda_.StartingPosition.AT_TIMESTAMP
            if at_timestamp and starting_position_timestamp is None:
                problems.add(
                    Problem(
                        "starting_position_timestamp",
                        None,
                        "a Unix time in seconds with starting_position=AT_TIMESTAMP",
                        "Lambda needs the time to start reading from",
                    )
                )
            elif starting_position_timestamp is not None:
                problems.add(
                    limits.check_range(
                        "starting_position_timestamp",
                        starting_position_timestamp,
                        limits.Range(0, 253_402_300_799, "s (Unix time)"),
                    )
                    if at_timestamp
                    else Problem(
                        "starting_position_timestamp",
                        starting_position_timestamp,
                        "None unless starting_position=AT_TIMESTAMP",
                    )
                )
            problems.add(
                limits.check_int_range(
                    "batch_size", batch_size, limits.Range(limits.STREAM_BATCH_MIN, limits.STREAM_BATCH_MAX)
                )
            )
            problems.add(
                limits.check_int_range(
                    "retry_attempts",
                    retry_attempts,
                    limits.Range(limits.STREAM_RETRY_MIN, limits.STREAM_RETRY_MAX),
                    "-1 (retry until the record expires) is refused: a poison record would block the shard",
                )
            )
            problems.add(
                _cdk.duration_range_problem(
                    "max_record_age", max_record_age, limits.STREAM_RECORD_AGE_MIN_S, limits.STREAM_RECORD_AGE_MAX_S
                )
            )
            problems.add(
                limits.check_int_range(
                    "parallelization_factor",
                    parallelization_factor,
                    limits.Range(limits.STREAM_PARALLELIZATION_MIN, limits.STREAM_PARALLELIZATION_MAX),
                )
            )
            if max_batching_window is not None:
                problems.add(
                    _cdk.duration_range_problem(
                        "max_batching_window", max_batching_window, 0, limits.BATCHING_WINDOW_MAX_S
                    )
                )
            if iterator_age_threshold is not None:
                problems.add(_cdk.duration_problem("iterator_age_threshold", iterator_age_threshold))
            if not isinstance(bisect_batch_on_error, bool):
                problems.add(Problem("bisect_batch_on_error", bisect_batch_on_error, "True or False"))

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.on_failure_queue = _cdk.secure_queue(self, "OnFailureQueue")
        _cdk.acknowledge_dead_letter_target(self.on_failure_queue, "the stream mapping's on-failure destination")
        source_arn = stream.stream_arn if stream is not None else table.table_stream_arn  # type: ignore[union-attr]
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=function.alias,
            event_source_arn=source_arn,
            starting_position=starting_position,
            starting_position_timestamp=starting_position_timestamp,
            batch_size=batch_size,
            bisect_batch_on_error=bisect_batch_on_error,
            max_record_age=max_record_age,
            retry_attempts=retry_attempts,
            parallelization_factor=parallelization_factor,
            max_batching_window=max_batching_window,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.on_failure_queue),
        )
        if stream is not None:
            stream.grant_read(function.alias)
        else:
            table.grant_stream_read(function.alias)  # type: ignore[union-attr]
        self._advise(function, batch_size, bisect_batch_on_error, retry_attempts)
        topic = _source.alarm_topic(function, alarm_topic)
        threshold = iterator_age_threshold or min(
            DEFAULT_ITERATOR_AGE_ALARM,
            Duration.seconds(_cdk.seconds(max_record_age) // 2),
            key=lambda d: d.to_seconds(),
        )
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.make_alarm(
                self,
                "IteratorAgeAlarm",
                metric=function.alias.metric("IteratorAge", period=_cdk.ALARM_PERIOD, statistic="Maximum"),
                threshold=threshold.to_milliseconds(integral=False),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                topic=topic,
                description=f"{self.node.path}: the newest record waited over {_cdk.seconds(threshold)} s: the "
                "consumer is falling behind; records older than max_record_age go to the failure queue.",
            ),
            _cdk.queue_depth_alarm(
                self, "OnFailureQueueAlarm", self.on_failure_queue, f"{self.node.path} on-failure queue", topic
            ),
        )

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

    def _advise(self, function: FunctionTarget, batch_size: int, bisect: bool, retries: int) -> None:
        _source.warn_invocation(self, function, Invocation.STREAM, "stream")


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
