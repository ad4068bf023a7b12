"""The plan of a StreamConsumer: a bounded failure path and an IteratorAge alarm before records expire.

`stream_problems()` is the pure half of the validation (the construct reads the Durations and
checks the stream or table); `plan_stream()` makes every decision: the mapping's settings, the
alarm thresholds, the notes and the resource count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.common import (
    DEFAULT_REMOVAL_POLICY,
    AlarmPlan,
    Note,
    RemovalPolicyName,
    alarm_name,
    queue_depth_alarm,
)
from lambda_constructs.core.plans.function import Reading

DEFAULT_BATCH_SIZE = 100
DEFAULT_MAX_RECORD_AGE_S = 24 * 3600
DEFAULT_RETRY_ATTEMPTS = 10  # bounded; bisecting does not consume retries (see StreamConsumer)
DEFAULT_ITERATOR_AGE_ALARM_S = 5 * 60
# Where a failed batch goes. "bucket" (default): an S3 bucket the construct creates, which receives the whole
# invocation record with its metadata; "queue": an SQS queue the construct creates, which receives metadata only
# (shard or partition, sequence numbers or offsets: the records stay on the stream and expire with it);
# "custom": the user's own aws_lambda.IEventSourceDlq ("Retain discarded batch records for a Kinesis Data Streams
# event source in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
OnFailure = Literal["bucket", "queue", "custom"]
DEFAULT_ON_FAILURE: OnFailure = "bucket"
# The on-failure bucket's objects expire after 14 days: as long as every other failure path of the library keeps
# a failed event (its dead-letter queues keep messages 14 days, the SQS maximum: "Amazon SQS message quotas",
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html), so one
# runbook holds for all of them; the bucket's alarm fires on the first object, two weeks before it expires.
FAILURE_EXPIRATION_DAYS = 14
# TRIM_HORIZON: a new mapping (first deploy, a replaced mapping) starts at the oldest record the stream keeps, so
# nothing written before it starts polling is skipped; LATEST would skip those records ("Using Lambda with Kinesis
# Data Streams", https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, StartingPosition).
DEFAULT_STARTING_POSITION = "TRIM_HORIZON"
UNIX_TIME_MAX_S = 253_402_300_799  # 9999-12-31T23:59:59Z


@dataclass(frozen=True)
class StreamPlan:
    """Every decision and derived number of one StreamConsumer."""

    path: str
    batch_size: int
    bisect_batch_on_error: bool
    retry_attempts: int
    max_record_age_s: int | None  # None: a deploy-time token
    parallelization_factor: int
    iterator_age_threshold_ms: float  # given, else min(5 minutes, half of max_record_age)
    alarms: tuple[AlarmPlan, ...]
    notes: tuple[Note, ...]
    resource_count: int | None
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY  # of the on-failure bucket or queue
    on_failure: OnFailure = DEFAULT_ON_FAILURE
    failure_expiration_days: int | None = FAILURE_EXPIRATION_DAYS  # the bucket's lifecycle; None: no bucket
    starting_position: str = DEFAULT_STARTING_POSITION


def starting_timestamp_problem(at_timestamp: bool, timestamp: object) -> Problem | None:
    """``starting_position_timestamp``: a Unix time in seconds with AT_TIMESTAMP, None otherwise (StreamConsumer's
    and KafkaConsumer's)."""
    if at_timestamp and timestamp is None:
        return Problem(
            "starting_position_timestamp",
            None,
            "a Unix time in seconds with starting_position=AT_TIMESTAMP",
            "Lambda needs the time to start reading from",
        )
    if timestamp is None:
        return None
    if not at_timestamp:
        return Problem("starting_position_timestamp", timestamp, "None unless starting_position=AT_TIMESTAMP")
    return limits.check_range(
        "starting_position_timestamp", timestamp, limits.Range(0, UNIX_TIME_MAX_S, "s (Unix time)")
    )


def stream_problems(
    problems: Problems,
    *,
    at_timestamp: bool,
    starting_position_timestamp: object,
    batch_size: object,
    retry_attempts: object,
    max_record_age: Reading,
    parallelization_factor: object,
    window: Reading | None,
    iterator_age_threshold: Reading | None,
    bisect_batch_on_error: object,
) -> None:
    """The stream options' checks in the order the error lists them (after the function, source and topic)."""
    problems.add(starting_timestamp_problem(at_timestamp, starting_position_timestamp))
    problems.add(
        limits.check_int_range("batch_size", batch_size, limits.Range(limits.STREAM_BATCH_MIN, limits.STREAM_BATCH_MAX))
    )
    problems.add(
        limits.check_int_range(
            "retry_attempts",
            retry_attempts,
            limits.Range(limits.STREAM_RETRY_MIN, limits.STREAM_RETRY_MAX),
            "-1 (retry until the record expires) is refused: a poison record would block the shard",
        )
    )
    problems.add(max_record_age.problem)
    problems.add(
        limits.check_int_range(
            "parallelization_factor",
            parallelization_factor,
            limits.Range(limits.STREAM_PARALLELIZATION_MIN, limits.STREAM_PARALLELIZATION_MAX),
        )
    )
    if window is not None:
        problems.add(window.problem)
    if iterator_age_threshold is not None:
        problems.add(iterator_age_threshold.problem)
    if not isinstance(bisect_batch_on_error, bool):
        problems.add(Problem("bisect_batch_on_error", bisect_batch_on_error, "True or False"))
    if (
        not problems
        and max_record_age.value is None
        and (iterator_age_threshold is None or iterator_age_threshold.value is None)
    ):
        problems.add(
            Problem(
                "max_record_age",
                "a deploy-time token",
                "a concrete Duration, or iterator_age_threshold=",
                "the IteratorAge alarm threshold is derived from it at synthesis",
            )
        )


@dataclass(frozen=True)
class StreamRequest:
    """A StreamConsumer's checked props as plain facts."""

    path: str
    alarm_prefix: str
    batch_size: int = DEFAULT_BATCH_SIZE
    bisect_batch_on_error: bool = True
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    max_record_age_s: int | None = DEFAULT_MAX_RECORD_AGE_S
    parallelization_factor: int = 1
    iterator_age_threshold_ms: float | None = None
    function_path: str = ""
    function_invocation: Invocation = Invocation.STREAM
    function_owns_role: bool = True
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY
    on_failure: OnFailure = DEFAULT_ON_FAILURE
    custom_is_bucket: bool = False  # on_failure="custom" with an S3 destination: it keeps the records too
    starting_position: str = DEFAULT_STARTING_POSITION


def on_failure_bucket_alarm(prefix: str, what: str) -> AlarmPlan:
    """Any object written to an on-failure bucket (S3 request metrics, PUT requests): each one is a failed batch."""
    return AlarmPlan(
        id="OnFailureBucketAlarm",
        name=alarm_name(prefix, "OnFailureBucketAlarm"),
        description=f"{what} received a failed batch: records failed after all retries and were written "
        "there whole. Inspect the objects, fix the cause, then replay them; they expire after "
        f"{FAILURE_EXPIRATION_DAYS} days.",
        source="on_failure_bucket",
        metric="PutRequests",
        statistic="Sum",
        threshold=0,
        comparison="GREATER_THAN_THRESHOLD",
    )


def failure_notes(on_failure: OnFailure, path: str, custom_is_bucket: bool = False) -> list[Note]:
    """A warning when the on-failure destination keeps pointers, not the records."""
    if on_failure == "bucket" or (on_failure == "custom" and custom_is_bucket):
        return []
    what = "an SQS queue" if on_failure == "queue" else "a custom destination"
    return [
        Note(
            "warning",
            "lambda-constructs:on-failure-metadata-only",
            f"{path}: the on-failure destination is {what}. Unless it is an S3 bucket, Lambda sends it only the "
            "failed batch's metadata (shard or partition, sequence numbers or offsets); the records stay on the "
            "source and expire with its retention. on_failure='bucket' keeps the whole batch.",
        )
    ]


def invocation_notes(function_path: str, invocation: Invocation, kind: str) -> list[Note]:
    """A warning when a stream (``kind="stream"``) or Kafka (``"Kafka"``) consumer's function is declared with
    another invocation kind than ``Invocation.STREAM``."""
    if invocation is Invocation.STREAM:
        return []
    return [
        Note(
            "warning",
            f"lambda-constructs:{kind}-invocation",
            f"{function_path} is declared invocation={invocation.name}; a {kind} consumer "
            f"should use Invocation.{Invocation.STREAM.name}.",
        )
    ]


@dataclass(frozen=True)
class FailurePlan:
    """The on-failure path of a mapping (a KafkaPlan's ``failure``; StreamConsumer's is folded into its StreamPlan)."""

    on_failure: OnFailure
    failure_expiration_days: int | None  # the bucket's lifecycle; None: no bucket
    removal_policy: RemovalPolicyName
    alarm: AlarmPlan | None  # None for the user's own destination
    notes: tuple[Note, ...]
    starting_position: str


def plan_failure(
    *,
    path: str,
    alarm_prefix: str,
    on_failure: OnFailure = DEFAULT_ON_FAILURE,
    custom_is_bucket: bool = False,
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY,
    starting_position: str = DEFAULT_STARTING_POSITION,
) -> FailurePlan:
    """Where a stream or Kafka mapping's failed batches go, its alarm and its warning (plan_stream's too)."""
    alarm = (
        on_failure_bucket_alarm(alarm_prefix, f"{path} on-failure bucket")
        if on_failure == "bucket"
        else queue_depth_alarm("OnFailureQueueAlarm", alarm_prefix, f"{path} on-failure queue", "on_failure_queue")
        if on_failure == "queue"
        else None
    )
    return FailurePlan(
        on_failure=on_failure,
        failure_expiration_days=FAILURE_EXPIRATION_DAYS if on_failure == "bucket" else None,
        removal_policy=removal_policy,
        alarm=alarm,
        notes=tuple(failure_notes(on_failure, path, custom_is_bucket)),
        starting_position=starting_position,
    )


def plan_stream(request: StreamRequest) -> StreamPlan:
    r = request
    if r.iterator_age_threshold_ms is not None:
        threshold_ms: float = r.iterator_age_threshold_ms
    else:
        assert r.max_record_age_s is not None  # stream_problems refused a token age without a threshold
        threshold_ms = min(DEFAULT_ITERATOR_AGE_ALARM_S, r.max_record_age_s // 2) * 1000
    failure = plan_failure(
        path=r.path,
        alarm_prefix=r.alarm_prefix,
        on_failure=r.on_failure,
        custom_is_bucket=r.custom_is_bucket,
        removal_policy=r.removal_policy,
        starting_position=r.starting_position,
    )
    alarms = (
        AlarmPlan(
            id="IteratorAgeAlarm",
            name=alarm_name(r.alarm_prefix, "IteratorAgeAlarm"),
            description=f"{r.path}: the newest record waited over {int(threshold_ms // 1000)} s: the "
            "consumer is falling behind; records older than max_record_age go to the on-failure destination.",
            source="alias",
            metric="IteratorAge",
            statistic="Maximum",
            threshold=threshold_ms,
            comparison="GREATER_THAN_THRESHOLD",
        ),
    ) + ((failure.alarm,) if failure.alarm is not None else ())
    notes = [*failure.notes, *invocation_notes(r.function_path, r.function_invocation, "stream")]
    return StreamPlan(
        path=r.path,
        batch_size=r.batch_size,
        bisect_batch_on_error=r.bisect_batch_on_error,
        retry_attempts=r.retry_attempts,
        max_record_age_s=r.max_record_age_s,
        parallelization_factor=r.parallelization_factor,
        iterator_age_threshold_ms=threshold_ms,
        alarms=alarms,
        notes=tuple(notes),
        # the on-failure bucket (or queue) and its TLS-only policy, the mapping, two alarms; custom: mapping, alarm
        resource_count=(2 if r.on_failure == "custom" else 5) if r.function_owns_role else None,
        removal_policy=r.removal_policy,
        on_failure=r.on_failure,
        failure_expiration_days=failure.failure_expiration_days,
        starting_position=r.starting_position,
    )
