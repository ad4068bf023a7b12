"""S3Consumer: S3 event notifications -> ProductionFunction, directly (async) or through a queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.sources import _base
from lambda_constructs.sources._base import FunctionTarget
from lambda_constructs.sources.queue import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_RECEIVE_COUNT,
    QueueConsumer,
    check_queue_options,
)

DIRECT_WHY = (
    "S3 invokes the function asynchronously; Invocation.ASYNC gives it the onFailure queue that keeps what fails "
    "after Lambda's retries. For bursts or large fan-in use via_queue=True with Invocation.QUEUE"
)
QUEUE_WHY = "via_queue=True delivers through SQS: declare the function with invocation=Invocation.QUEUE"


class S3Consumer(Construct):
    """S3 event notifications on ``bucket`` delivered to the function's ``live`` alias.

    - Direct (default): S3 invokes the alias asynchronously. The function must be
      ``Invocation.ASYNC``: its onFailure queue (with an alarm) keeps every event that still fails
      after Lambda's two retries ("Lambda in Production": async events without a DLQ vanish).
    - ``via_queue=True``: S3 -> an encrypted SQS queue -> the function, through the same machinery
      as [`QueueConsumer`][lambda_constructs.sources.queue.QueueConsumer] (visibility 6 x timeout + window, DLQ after 5
      receives, ReportBatchItemFailures, alarms). The reliable variant for bursts and large fan-in
      (the queue absorbs the burst, concurrency is capped with ``max_concurrency``); the function
      must be ``Invocation.QUEUE``. The queue policy lets only this bucket send.

    Args:
        function: the consumer.
        bucket: an ``s3.IBucket`` (one created in the app, or imported).
        events: default ``(s3.EventType.OBJECT_CREATED,)``.
        filters: ``s3.NotificationKeyFilter(prefix=..., suffix=...)`` items, e.g. only ``.jpg`` uploads.
        via_queue: default False.
        batch_size: the queue side (``via_queue=True`` only), as for QueueConsumer; default 10.
        max_batching_window: likewise; default none.
        max_receive_count: likewise; default 5.
        max_concurrency: likewise; default none.
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        bucket: s3.IBucket,
        events: Sequence[s3.EventType] = (s3.EventType.OBJECT_CREATED,),
        filters: Sequence[s3.NotificationKeyFilter] = (),
        via_queue: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        max_concurrency: int | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if not isinstance(via_queue, bool):
                problems.add(Problem("via_queue", _cdk.short(via_queue), "True or False"))
                return
            if via_queue:
                _base.check_function(problems, function, requires=Invocation.QUEUE, why=QUEUE_WHY)
                check_queue_options(
                    problems,
                    function,
                    batch_size=batch_size,
                    max_batching_window=max_batching_window,
                    max_receive_count=max_receive_count,
                    max_concurrency=max_concurrency,
                    alarm_topic=alarm_topic,
                )
            else:
                _base.check_function(problems, function, requires=Invocation.ASYNC, why=DIRECT_WHY)
                problems.add(_base.topic_problem(alarm_topic))
                for name, value, default in (
                    ("batch_size", batch_size, DEFAULT_BATCH_SIZE),
                    ("max_batching_window", max_batching_window, None),
                    ("max_receive_count", max_receive_count, DEFAULT_MAX_RECEIVE_COUNT),
                    ("max_concurrency", max_concurrency, None),
                ):
                    if value is not default and value != default:
                        problems.add(Problem(name, _cdk.short(value), "the default unless via_queue=True"))
            if not _cdk.implements(bucket, "bucket_arn"):
                problems.add(Problem("bucket", _cdk.short(bucket), "an aws_s3.IBucket"))
            if not isinstance(events, list | tuple) or not events:
                problems.add(Problem("events", _cdk.short(events), "a non-empty list of aws_s3.EventType"))
            else:
                problems.add(_base.sequence_problem("events", events, s3.EventType, "a list of aws_s3.EventType"))
            problems.add(
                _base.sequence_problem(
                    "filters", filters, (s3.NotificationKeyFilter, Mapping), "a list of aws_s3.NotificationKeyFilter"
                )
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.bucket = bucket
        self.queue_consumer: QueueConsumer | None = None
        self.queue: sqs.IQueue | None = None
        key_filters = [s3.NotificationKeyFilter(**f) if isinstance(f, Mapping) else f for f in filters]
        if via_queue:
            self.queue_consumer = QueueConsumer(
                self,
                "Queue",
                function=function,
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                max_receive_count=max_receive_count,
                max_concurrency=max_concurrency,
                alarm_topic=alarm_topic,
            )
            self.queue = self.queue_consumer.queue
            destination: s3.IBucketNotificationDestination = s3n.SqsDestination(self.queue)
            self.alarms: list[cloudwatch.Alarm] = list(self.queue_consumer.alarms)
        else:
            destination = s3n.LambdaDestination(function.alias)
            self.alarms = []  # the function's FailureQueueAlarm watches what fails after retries
        for event in events:
            bucket.add_event_notification(event, destination, *key_filters)
        _base.acknowledge_framework_handlers(self)
