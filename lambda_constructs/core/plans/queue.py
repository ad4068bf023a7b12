"""The plan of a QueueConsumer (and of the queue side of S3 and SNS consumers): limits derived from the function.

`queue_problems()` is the pure half of the queue options' validation (the construct reads the
Durations and a given queue's own settings); `plan_queue()` makes every decision of a
QueueConsumer: the visibility timeout (6 x function timeout + batching window), which queues it
creates, its alarms, acknowledgements, warnings and resource count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.common import (
    DEFAULT_REMOVAL_POLICY,
    Acknowledgement,
    AlarmPlan,
    Note,
    RemovalPolicyName,
    alarm_name,
    dead_letter_target_acks,
    queue_depth_alarm,
)
from lambda_constructs.core.plans.function import Reading

DEFAULT_BATCH_SIZE = 10
DEFAULT_MAX_RECEIVE_COUNT = 5  # AWS recommends at least 5 for a Lambda source queue (with-sqs)
SQS_DEFAULT_RETENTION_S = 4 * 24 * 3600  # SQS's default, stated explicitly on the queue it creates

QueueKind = Literal["new", "app-with-dlq", "app-without-dlq", "imported"]

ESM_DESTINATION_ACK: Acknowledgement = (
    "Serverless-LambdaEventSourceMappingDestination",
    "SQS event source mappings do not support OnFailure destinations; the source queue's redrive "
    "policy to its dead-letter queue is the failure path.",
)


@dataclass(frozen=True)
class QueuePlan:
    """Every decision and derived number of one QueueConsumer."""

    path: str
    queue: QueueKind
    fifo: bool
    visibility_timeout_s: int  # 6 x function timeout + batching window (AWS Lambda developer guide, with-sqs)
    batching_window_s: int
    batch_size: int
    max_receive_count: int
    max_concurrency: int | None
    oldest_message_alarm_s: int
    alarms: tuple[AlarmPlan, ...]
    acknowledgements: tuple[Acknowledgement, ...]
    notes: tuple[Note, ...]
    resource_count: int | None  # CloudFormation resources it creates (None: not known without jsii)
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY  # of the queues it creates (not a queue= given)


def queue_problems(
    problems: Problems,
    *,
    fifo: object,
    is_fifo: bool,
    topic_problem: Problem | None,
    window: Reading | None,
    batch_size: object,
    max_receive_count: object,
    max_concurrency: object,
    max_message_age: Reading | None,
    queue_problem: Problem | None,
    timeout_s: int,
) -> tuple[int, int]:
    """The queue options' checks in the order the error lists them; returns (visibility, window) in seconds.

    ``window`` / ``max_message_age``: the Durations as read (None when not given); ``topic_problem`` /
    ``queue_problem``: the construct's type checks of ``alarm_topic`` / ``queue``, listed in their place.
    """
    if not isinstance(fifo, bool):
        text = repr(fifo)
        problems.add(Problem("fifo", fifo if len(text) <= 80 else text[:77] + "...", "True or False"))
    problems.add(topic_problem)
    window_s: int | None = None
    if window is not None:
        problems.add(window.problem)
        window_s = None if window.value is None else int(window.value)
    if is_fifo and window is not None:
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
        and (window is None or window_s == 0)  # an invalid window is its own problem
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
        problems.add(max_message_age.problem)
    problems.add(queue_problem)
    visibility = limits.sqs_visibility_timeout_s(timeout_s, window_s or 0)
    problems.add(limits.sqs_visibility_problem(timeout_s, window_s or 0))
    return visibility, window_s or 0


@dataclass(frozen=True)
class QueueRequest:
    """A QueueConsumer's props as plain facts (validated by `queue_problems()` first)."""

    path: str
    alarm_prefix: str
    queue: QueueKind
    fifo: bool
    visibility_timeout_s: int
    batching_window_s: int
    batch_size: int
    max_receive_count: int
    max_concurrency: int | None = None
    max_message_age_s: int | None = None
    function_path: str = ""
    function_invocation: Invocation = Invocation.QUEUE
    function_reserved_concurrency: int | None = None
    function_owns_role: bool = True  # the function's role is its own (grants add no policy resource)
    queue_path: str = ""  # an imported queue's path, for its warning
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY


def plan_queue(request: QueueRequest) -> QueuePlan:
    """The plan of one QueueConsumer from its checked props."""
    r = request
    path, prefix = r.path, r.alarm_prefix
    age_s = r.max_message_age_s if r.max_message_age_s is not None else r.visibility_timeout_s
    alarms = [
        AlarmPlan(
            id="OldestMessageAlarm",
            name=alarm_name(prefix, "OldestMessageAlarm"),
            description=f"{path}: the oldest message is older than {age_s} s (one visibility "
            "cycle): the consumer is not keeping up, or messages keep failing.",
            source="queue",
            metric="ApproximateAgeOfOldestMessage",
            statistic="Maximum",
            threshold=age_s,
            comparison="GREATER_THAN_THRESHOLD",
        )
    ]
    if r.queue != "imported":
        alarms.append(
            queue_depth_alarm("DeadLetterQueueAlarm", prefix, f"{path} dead-letter queue", "dead_letter_queue")
        )
    notes = []
    if r.queue == "imported":
        notes.append(
            Note(
                "warning",
                "lambda-constructs:imported-queue",
                f"{r.queue_path}: an imported queue's visibility timeout and redrive policy cannot be checked; "
                f"make sure the visibility timeout is >= {r.visibility_timeout_s} s and it has a DLQ.",
            )
        )
    if r.function_invocation is not Invocation.QUEUE:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:queue-invocation",
                f"{r.function_path} is declared invocation={r.function_invocation.name}; a queue consumer "
                f"should use Invocation.{Invocation.QUEUE.name}.",
            )
        )
    reserved = r.function_reserved_concurrency
    if (
        r.max_concurrency is not None
        and reserved is not None
        and not limits.is_unresolved(r.max_concurrency)
        and not limits.is_unresolved(reserved)
        and r.max_concurrency > reserved
    ):
        notes.append(
            Note(
                "warning",
                "lambda-constructs:max-concurrency-above-reserved",
                f"max_concurrency={r.max_concurrency} exceeds the function's reserved_concurrency={reserved}: the "
                "mapping would be throttled and messages returned to the queue; keep max_concurrency <= reserved.",
            )
        )
    if not limits.is_unresolved(r.max_receive_count) and r.max_receive_count < limits.SQS_MAX_RECEIVE_RECOMMENDED:
        notes.append(
            Note(
                "warning",
                "lambda-constructs:max-receive-count",
                f"max_receive_count={r.max_receive_count}: AWS recommends at least 5 for a Lambda source queue, "
                "so throttled batches are not dead-lettered.",
            )
        )
    # queues and their TLS-only policies it creates, the mapping, the alarms
    queues = {"new": 4, "app-without-dlq": 2, "app-with-dlq": 0, "imported": 0}[r.queue]
    return QueuePlan(
        path=path,
        queue=r.queue,
        fifo=r.fifo,
        visibility_timeout_s=r.visibility_timeout_s,
        batching_window_s=r.batching_window_s,
        batch_size=r.batch_size,
        max_receive_count=r.max_receive_count,
        max_concurrency=r.max_concurrency,
        oldest_message_alarm_s=age_s,
        alarms=tuple(alarms),
        acknowledgements=(
            ESM_DESTINATION_ACK,
            *dead_letter_target_acks("The DeadLetterQueue (the source queue's dead-letter queue)"),
        ),
        notes=tuple(notes),
        resource_count=queues + 1 + len(alarms) if r.function_owns_role else None,
        removal_policy=r.removal_policy,
    )
