"""QueueConsumer: SQS -> ProductionFunction with a visibility timeout derived from the function."""

from __future__ import annotations

import typing

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_BATCH_SIZE = 10
_SQS_DEFAULT_RETENTION = Duration.days(4)  # SQS's default, stated explicitly
DEFAULT_MAX_RECEIVE_COUNT = 5  # AWS recommends at least 5 for a Lambda source queue (with-sqs)


class QueueConsumer(Construct):
    """An SQS queue, its dead-letter queue and an event source mapping to the function's ``live`` alias.

    Every limit follows from the function:

    - source queue visibility timeout = 6 x function timeout + max batching window (AWS Lambda
      developer guide, with-sqs). A queue passed in with a shorter one is refused with the value
      it needs; Lambda would otherwise reject the mapping at deploy time, or redeliver messages
      still being processed (aws-cdk#20527, SAM#1424).
    - redrive to a dead-letter queue after ``max_receive_count`` receives (default 5, AWS's
      recommended minimum); DLQ retention 14 days (SQS maximum). Both queues SSE-SQS encrypted
      and TLS-only.
    - ReportBatchItemFailures on, so one bad message does not re-run its whole batch
      ("AWS Lambda — Patterns and Production").

    Args:
        function: the consumer.
        queue: an existing queue; default a new one. A queue made in this app is checked (visibility
            timeout) and given a DLQ if it has none; an imported queue cannot be checked (warning).
        batch_size: default 10; standard queues 1..10,000 (above 10 needs a batching window),
            FIFO 1..10.
        max_batching_window: 0..300 s; default none.
        max_receive_count: 1..1,000; default 5.
        max_concurrency: ScalingConfig.MaximumConcurrency 2..1,000; default none (no cap).
        fifo: create FIFO queues (ignored for a queue passed in: its own type counts).
        max_message_age: alarm threshold for ApproximateAgeOfOldestMessage; default the visibility
            timeout (a message older than one full visibility cycle is not being worked off).
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        queue: sqs.IQueue | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        max_concurrency: int | None = None,
        fifo: bool = False,
        max_message_age: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        is_fifo = _is_fifo(queue, fifo)
        derived: dict[str, int] = {}

        def check(problems: Problems) -> None:
            derived.update(
                check_queue_options(
                    problems,
                    function,
                    queue=queue,
                    fifo=fifo,
                    batch_size=batch_size,
                    max_batching_window=max_batching_window,
                    max_receive_count=max_receive_count,
                    max_concurrency=max_concurrency,
                    max_message_age=max_message_age,
                    alarm_topic=alarm_topic,
                )
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.visibility_timeout = Duration.seconds(derived["visibility"])
        self.dead_letter_queue: sqs.IQueue | None
        self.queue: sqs.IQueue
        self.queue, self.dead_letter_queue = self._build_queues(queue, is_fifo, max_receive_count)
        self.event_source_mapping = lambda_.EventSourceMapping(
            self,
            "EventSourceMapping",
            target=function.alias,
            event_source_arn=self.queue.queue_arn,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            report_batch_item_failures=True,
            max_concurrency=max_concurrency,
        )
        self.queue.grant_consume_messages(function.alias)
        _cdk.acknowledge_all(
            self,
            [
                (
                    "Serverless-LambdaEventSourceMappingDestination",
                    "SQS event source mappings do not support OnFailure destinations; the source queue's redrive "
                    "policy to its dead-letter queue is the failure path.",
                ),
                *self._dlq_acks,
            ],
        )
        _source.warn_invocation(self, function, Invocation.QUEUE, "queue")
        reserved = getattr(function, "reserved_concurrency", None)
        if max_concurrency is not None and reserved is not None and max_concurrency > reserved:
            Annotations.of(self).add_warning_v2(
                "lambda-constructs:max-concurrency-above-reserved",
                f"max_concurrency={max_concurrency} exceeds the function's reserved_concurrency={reserved}: the "
                "mapping would be throttled and messages returned to the queue; keep max_concurrency <= reserved.",
            )
        if max_receive_count < limits.SQS_MAX_RECEIVE_RECOMMENDED:
            Annotations.of(self).add_warning_v2(
                "lambda-constructs:max-receive-count",
                f"max_receive_count={max_receive_count}: AWS recommends at least 5 for a Lambda source queue, "
                "so throttled batches are not dead-lettered.",
            )
        topic = _source.alarm_topic(function, alarm_topic)
        path = _cdk.path_of(self)
        age_s = _cdk.seconds(max_message_age) if max_message_age is not None else derived["visibility"]
        alarms = [
            _cdk.make_alarm(
                self,
                "OldestMessageAlarm",
                metric=self.queue.metric_approximate_age_of_oldest_message(
                    period=_cdk.ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=age_s,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                topic=topic,
                description=f"{path}: the oldest message is older than {age_s} s (one visibility "
                "cycle): the consumer is not keeping up, or messages keep failing.",
            )
        ]
        if self.dead_letter_queue is not None:
            alarms.append(
                _cdk.queue_depth_alarm(
                    self, "DeadLetterQueueAlarm", self.dead_letter_queue, f"{path} dead-letter queue", topic
                )
            )
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(*alarms)

    def _build_queues(
        self, queue: sqs.IQueue | None, fifo: bool, max_receive_count: int
    ) -> tuple[sqs.IQueue, sqs.IQueue | None]:
        self._dlq_acks = _cdk.dead_letter_target_acks("The DeadLetterQueue (the source queue's dead-letter queue)")
        if queue is None:
            dlq = _cdk.secure_queue(self, "DeadLetterQueue", fifo=fifo)
            source = _cdk.secure_queue(
                self,
                "Queue",
                fifo=fifo,
                visibility_timeout=self.visibility_timeout,
                retention=_SQS_DEFAULT_RETENTION,
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
            )
            return source, dlq
        if isinstance(queue, sqs.Queue):
            if queue.dead_letter_queue is not None:
                return queue, queue.dead_letter_queue.queue
            dlq = _cdk.secure_queue(self, "DeadLetterQueue", fifo=queue.fifo is True)
            cfn: sqs.CfnQueue = queue.node.default_child  # type: ignore[assignment]
            cfn.redrive_policy = {"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": max_receive_count}
            return queue, dlq
        Annotations.of(self).add_warning_v2(
            "lambda-constructs:imported-queue",
            f"{queue.node.path}: an imported queue's visibility timeout and redrive policy cannot be checked; "
            f"make sure the visibility timeout is >= {_cdk.seconds(self.visibility_timeout)} s and it has a DLQ.",
        )
        return queue, None


def _is_fifo(queue: object, fifo: object) -> bool:
    """A given queue's own type counts; otherwise only ``fifo=True`` (not a truthy string) makes FIFO."""
    if queue is not None and _cdk.implements(queue, "queue_arn"):
        return getattr(queue, "fifo", False) is True
    return fifo is True


def check_queue_options(
    problems: Problems,
    function: object,
    *,
    queue: object = None,
    fifo: object = False,
    batch_size: object = DEFAULT_BATCH_SIZE,
    max_batching_window: object = None,
    max_receive_count: object = DEFAULT_MAX_RECEIVE_COUNT,
    max_concurrency: object = None,
    max_message_age: object = None,
    alarm_topic: object = None,
) -> dict[str, int]:
    """Validate a queue consumer's options (QueueConsumer, and the queue side of S3 and SNS consumers).

    Returns the derived figures: ``visibility`` (6 x function timeout + window) and ``window``.
    """
    is_fifo = _is_fifo(queue, fifo)
    if not _source.check_function(problems, function):
        return {}
    target = typing.cast(FunctionTarget, function)
    if not isinstance(fifo, bool):
        problems.add(Problem("fifo", _cdk.short(fifo), "True or False"))
    problems.add(_source.topic_problem(alarm_topic))
    window_s = _check_window(problems, max_batching_window)
    if is_fifo and max_batching_window is not None:
        problems.add(
            Problem(
                "max_batching_window",
                f"{window_s} s" if window_s is not None else "set",
                "None for a FIFO queue",
                "Lambda does not support a batching window on FIFO queues (Using Lambda with Amazon SQS)",
            )
        )
    batch_max = limits.SQS_BATCH_MAX_FIFO if is_fifo else limits.SQS_BATCH_MAX_STANDARD
    problems.add(
        limits.check_int_range(
            "batch_size",
            batch_size,
            limits.Range(1, batch_max),
            "FIFO queues allow at most 10" if is_fifo else "",
        )
    )
    if (
        isinstance(batch_size, int)
        and batch_size > limits.SQS_BATCH_MAX_WITHOUT_WINDOW
        and (max_batching_window is None or window_s == 0)  # an invalid window is its own problem
        and not is_fifo
    ):
        problems.add(
            Problem(
                "batch_size",
                batch_size,
                "<= 10 without a batching window",
                "set max_batching_window to at least 1 second",
            )
        )
    problems.add(
        limits.check_int_range(
            "max_receive_count",
            max_receive_count,
            limits.Range(limits.SQS_MAX_RECEIVE_MIN, limits.SQS_MAX_RECEIVE_MAX),
        )
    )
    problems.add(
        limits.check_int_range(
            "max_concurrency",
            max_concurrency,
            limits.Range(limits.SQS_MAX_CONCURRENCY_MIN, limits.SQS_MAX_CONCURRENCY_MAX),
        )
    )
    if max_message_age is not None:
        problems.add(_cdk.duration_problem("max_message_age", max_message_age))
    if queue is not None and not _cdk.implements(queue, "queue_arn"):
        problems.add(Problem("queue", queue, "an aws_sqs.IQueue or None"))
    visibility = limits.sqs_visibility_timeout_s(target.timeout_seconds, window_s or 0)
    derived = {"visibility": visibility, "window": window_s or 0}
    problems.add(limits.sqs_visibility_problem(target.timeout_seconds, window_s or 0))
    if isinstance(queue, sqs.Queue):
        problems.add(_queue_visibility_problem(queue, visibility, target.timeout_seconds, derived["window"]))
        problems.add(_dlq_retention_problem(queue))

    return derived


def _check_window(problems: Problems, window: object) -> int | None:
    if window is None:
        return None
    problem = _cdk.duration_range_problem("max_batching_window", window, 0, limits.BATCHING_WINDOW_MAX_S)
    problems.add(problem)
    if problem or typing.cast(Duration, window).is_unresolved():
        return None
    return _cdk.seconds(typing.cast(Duration, window))


def _retention_s(queue: sqs.Queue) -> float | None:
    cfn: sqs.CfnQueue = queue.node.default_child  # type: ignore[assignment]
    value = cfn.message_retention_period
    if value is None:
        return 345_600  # SQS default: 4 days
    return value if isinstance(value, int | float) and not _cdk.is_token(value) else None


def _dlq_retention_problem(queue: sqs.Queue) -> Problem | None:
    """A given queue's own DLQ must keep messages at least as long as the source queue.

    A standard queue keeps a message's original enqueue timestamp when it moves to the DLQ, so a
    DLQ with a shorter retention deletes redriven messages early (Amazon SQS developer guide,
    "Using dead-letter queues").
    """
    if queue.dead_letter_queue is None or not isinstance(queue.dead_letter_queue.queue, sqs.Queue):
        return None
    source, dlq = _retention_s(queue), _retention_s(queue.dead_letter_queue.queue)
    if source is None or dlq is None or dlq >= source:
        return None
    return Problem(
        "queue.dead_letter_queue.retention_period",
        f"{dlq:g} s",
        f">= the source queue's retention ({source:g} s)",
        "a standard queue keeps the original enqueue time, so a shorter DLQ loses redriven messages; "
        "use retention_period=Duration.days(14)",
    )


def _queue_visibility_problem(queue: sqs.Queue, required_s: int, timeout_s: int, window_s: int) -> Problem | None:
    cfn: sqs.CfnQueue = queue.node.default_child  # type: ignore[assignment]
    current = cfn.visibility_timeout if cfn.visibility_timeout is not None else 30  # SQS default
    if not isinstance(current, int | float) or current >= required_s:
        return None
    return Problem(
        "queue.visibility_timeout",
        f"{current:g} s",
        f">= {required_s} s (6 x function timeout {timeout_s} s + batching window {window_s} s)",
        f"create the queue with visibility_timeout=Duration.seconds({required_s}) or omit queue= to let "
        "QueueConsumer create it",
    )
