"""S3Consumer: S3 event notifications -> ProductionFunction, directly (async) or through a queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import notification as notifications
from lambda_constructs.core.plans.notification import S3Plan, plan_s3
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base
from lambda_constructs.sources import queue as queue_source
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
# via_queue=True with a bucket in another stack: the bucket's notification (its stack) depends on the queue
# policy (this stack), and the queue policy names the bucket's ARN
NOTIFY_CYCLE = (
    "the bucket's notification would depend on this construct's queue policy while the policy names the bucket, "
    "so each stack would reference the other (a dependency cycle at synthesis)"
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
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the queues (``via_queue=True`` only;
            the direct path creates none) this construct creates, with the key-policy statements S3 and the consumer
            need (see docs/encryption.md); default SSE-SQS.
        removal_policy: what happens to the queues (``via_queue=True`` only) when CloudFormation replaces them
            or the stack is deleted: default ``RemovalPolicy.RETAIN`` (they keep their messages; "DeletionPolicy
            attribute", AWS CloudFormation user guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY`` otherwise.
            See docs/operations.md.
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
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        planned: list[S3Plan] = []

        def check(problems: Problems) -> None:
            if not isinstance(via_queue, bool):
                problems.add(Problem("via_queue", _cdk.short(via_queue), "True or False"))
                return
            derived: dict[str, int] = {}
            if via_queue:
                _base.check_function(problems, function, scope=scope, requires=Invocation.QUEUE, why=QUEUE_WHY)
                derived = check_queue_options(
                    problems,
                    function,
                    batch_size=batch_size,
                    max_batching_window=max_batching_window,
                    max_receive_count=max_receive_count,
                    max_concurrency=max_concurrency,
                    alarm_topic=alarm_topic,
                )
                problems.add(_cdk.foreign_problem(scope, alarm_topic, "alarm_topic"))
            else:
                _base.check_function(problems, function, scope=scope, requires=Invocation.ASYNC, why=DIRECT_WHY)
                problems.add(_base.topic_problem(alarm_topic, scope=scope))
                for name, value, default in (
                    ("batch_size", batch_size, DEFAULT_BATCH_SIZE),
                    ("max_batching_window", max_batching_window, None),
                    ("max_receive_count", max_receive_count, DEFAULT_MAX_RECEIVE_COUNT),
                    ("max_concurrency", max_concurrency, None),
                    ("encryption_key", encryption_key, None),
                    ("removal_policy", removal_policy, RemovalPolicy.RETAIN),
                ):
                    if value is not default and value != default:
                        problems.add(Problem(name, _cdk.short(value), "the default unless via_queue=True"))
            problems.add(_keys.key_problem(encryption_key, scope=scope if via_queue else None))
            if via_queue:
                problems.add(_cdk.removal_policy_problem(removal_policy))
            if not _cdk.implements(bucket, "bucket_arn"):
                problems.add(Problem("bucket", _cdk.short(bucket), "an aws_s3.IBucket"))
            else:
                problems.add(
                    _cdk.foreign_problem(scope, bucket, "bucket", same_stack_why=NOTIFY_CYCLE if via_queue else "")
                )
            if not isinstance(events, list | tuple) or not events:
                problems.add(Problem("events", _cdk.short(events), "a non-empty list of aws_s3.EventType"))
            else:
                problems.add(_base.sequence_problem("events", events, s3.EventType, "a list of aws_s3.EventType"))
            problems.add(
                _base.sequence_problem(
                    "filters", filters, (s3.NotificationKeyFilter, Mapping), "a list of aws_s3.NotificationKeyFilter"
                )
            )
            if not problems:
                planned.append(
                    plan_s3(
                        problems.path,
                        events=tuple(event.name for event in events),
                        filters=len(filters),
                        queue=queue_source.nested_plan(
                            scope,
                            f"{problems.path}/Queue",
                            function,
                            derived,
                            batch_size=batch_size,
                            max_receive_count=max_receive_count,
                            max_concurrency=max_concurrency,
                            removal_policy=removal_policy,
                        )
                        if via_queue
                        else None,
                    )
                )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: S3Plan = planned[0]
        self.function = function
        self.bucket = bucket
        self.queue_consumer: QueueConsumer | None = None
        self.queue: sqs.IQueue | None = None
        key_filters = [s3.NotificationKeyFilter(**f) if isinstance(f, Mapping) else f for f in filters]
        if self.plan.via_queue:
            self.queue_consumer = QueueConsumer(
                self,
                "Queue",
                function=function,
                batch_size=batch_size,
                max_batching_window=max_batching_window,
                max_receive_count=max_receive_count,
                max_concurrency=max_concurrency,
                alarm_topic=alarm_topic,
                encryption_key=encryption_key,
                removal_policy=removal_policy,
            )
            self.queue = self.queue_consumer.queue
            destination: s3.IBucketNotificationDestination = _QueueDestination(self.queue)
            self.alarms: list[cloudwatch.Alarm] = list(self.queue_consumer.alarms)
        else:
            destination = s3n.LambdaDestination(function.alias)
            self.alarms = []  # the function's FailureQueueAlarm watches what fails after retries
        for event in events:
            bucket.add_event_notification(event, destination, *key_filters)
        _acknowledge_framework_handlers(self, self.plan)
        _bundle.note(self, scope, id, self.plan.resource_count)


def _acknowledge_framework_handlers(scope: Construct, plan: S3Plan) -> None:
    """Acknowledge cdk-nag findings on aws-cdk-lib's framework functions a bucket notification brings in."""
    for child in _cdk.stack_of(scope).node.children:
        if child.node.id.startswith(notifications.FRAMEWORK_HANDLERS):
            _cdk.acknowledge_all(child, list(plan.framework_acknowledgements))


@jsii.implements(s3.IBucketNotificationDestination)
class _QueueDestination:
    """aws-cdk-lib's ``s3n.SqsDestination`` with the confused-deputy guard AWS recommends.

    ``SqsDestination`` lets ``s3.amazonaws.com`` send when ``aws:SourceArn`` is the bucket's ARN, but a
    bucket ARN carries no account: anyone's bucket of that name could send. AWS's walkthrough adds
    ``aws:SourceAccount`` beside it ("Walkthrough: Configuring a bucket for notifications (SNS topic or SQS
    queue)", Amazon S3 user guide: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html).
    The account is the bucket's own (an imported bucket's, else the stack's).
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, scope: Construct, bucket: Any) -> s3.BucketNotificationDestinationConfig:
        bucket_arn = getattr(bucket, "bucket_arn", None) or bucket.bucket_ref.bucket_arn
        account = getattr(getattr(bucket, "env", None), "account", None) or Stack.of(scope).account
        conditions = {"ArnLike": {"aws:SourceArn": bucket_arn}, "StringEquals": {"aws:SourceAccount": account}}
        key = self._queue.encryption_master_key
        # a key of another stack naming this bucket's ARN would make the two stacks reference each other: the
        # queue policy alone names the bucket then (grant_send_messages would also grant the key with it)
        same = key is None or _keys.same_stack(key, self._queue, bucket)
        if same:
            self._queue.grant_send_messages(iam.ServicePrincipal("s3.amazonaws.com", conditions=conditions))
        else:
            self._queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("s3.amazonaws.com", conditions=conditions)],
                    actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                    resources=[self._queue.queue_arn],
                )
            )
        if key is not None:  # S3 encrypts what it sends with the queue's key (Amazon SQS "Key management")
            _keys.allow_service(
                key,
                "s3.amazonaws.com",
                ["kms:GenerateDataKey*", "kms:Decrypt"],
                conditions if same else {"StringEquals": conditions["StringEquals"]},
                what="S3 event notifications to an SSE-KMS queue",
            )
        return s3.BucketNotificationDestinationConfig(
            arn=self._queue.queue_arn, type=s3.BucketNotificationDestinationType.QUEUE, dependencies=[self._queue]
        )
