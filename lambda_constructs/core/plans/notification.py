"""The plans of S3Consumer and TopicConsumer: notifications delivered to a function, directly or through a queue.

Both reuse the queue pieces (`queue_problems()` validates the queue options, `plan_queue()` decides the
queue side): where they deliver through SQS, the plan holds the nested QueueConsumer's
[`QueuePlan`][lambda_constructs.core.plans.queue.QueuePlan] and adds what the construct decides itself
(the events and filters, the subscription's dead-letter queue and its alarm, the acknowledgements on
aws-cdk-lib's notification handler) and the resources it creates.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_constructs.core.plans.common import (
    Acknowledgement,
    AlarmPlan,
    Note,
    RemovalPolicyName,
    dead_letter_target_acks,
    queue_depth_alarm,
)
from lambda_constructs.core.plans.queue import QueuePlan

# aws-cdk-lib's own framework function (a singleton at the stack root) that a bucket notification brings in
FRAMEWORK_HANDLERS = ("BucketNotificationsHandler",)
FRAMEWORK_REASON = (
    "aws-cdk-lib's own BucketNotificationsHandler: a framework custom resource that writes the bucket's "
    "notification configuration once per deploy. Its code, role and runtime are aws-cdk-lib's, not this service's."
)
FRAMEWORK_ACKNOWLEDGED = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM5[Resource::*]",
    "Serverless-LambdaDLQ",
    "Serverless-LambdaDefaultMemorySize",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaTracing",
    "Serverless-LambdaAsyncFailureDestination",
    "AwsSolutions-L1",
)
FRAMEWORK_ACKNOWLEDGEMENTS: tuple[Acknowledgement, ...] = tuple(
    (rule, FRAMEWORK_REASON) for rule in FRAMEWORK_ACKNOWLEDGED
)


@dataclass(frozen=True)
class S3Plan:
    """Every decision of one S3Consumer.

    ``queue``: the nested QueueConsumer's plan (``via_queue=True``), else None (S3 invokes ``live``
    asynchronously and the function's own onFailure queue and its alarm keep what fails).
    """

    path: str
    via_queue: bool
    events: tuple[str, ...]  # aws_s3.EventType member names, one notification each
    filters: int  # key filters on every notification
    queue: QueuePlan | None
    framework_acknowledgements: tuple[Acknowledgement, ...]  # on aws-cdk-lib's BucketNotificationsHandler

    @property
    def alarms(self) -> tuple[AlarmPlan, ...]:
        return self.queue.alarms if self.queue is not None else ()

    @property
    def notes(self) -> tuple[Note, ...]:
        return self.queue.notes if self.queue is not None else ()

    @property
    def resource_count(self) -> int | None:
        """Resources under the construct: the queue side's, or none (aws-cdk-lib makes the notification
        configuration and the permission to invoke ``live`` under the bucket, in the bucket's stack)."""
        return self.queue.resource_count if self.queue is not None else 0


def plan_s3(path: str, *, events: tuple[str, ...], filters: int, queue: QueuePlan | None) -> S3Plan:
    """The plan of one S3Consumer whose props were checked (``queue``: the queue side's plan, if via a queue)."""
    return S3Plan(
        path=path,
        via_queue=queue is not None,
        events=events,
        filters=filters,
        queue=queue,
        framework_acknowledgements=FRAMEWORK_ACKNOWLEDGEMENTS,
    )


@dataclass(frozen=True)
class TopicPlan:
    """Every decision of one TopicConsumer: SNS -> its queue side (the nested QueueConsumer's plan) -> the function.

    The subscription has a dead-letter queue of its own (SNS redrive policy) with a depth alarm, created with
    the queue side's removal policy.
    """

    path: str
    raw_message_delivery: bool
    filter_policy: tuple[str, ...]  # the message attributes filtered on (none: every message)
    queue: QueuePlan
    subscription_dead_letter_queue_alarm: AlarmPlan
    subscription_dead_letter_queue_acknowledgements: tuple[Acknowledgement, ...]
    removal_policy: RemovalPolicyName  # of the three queues it creates

    @property
    def alarms(self) -> tuple[AlarmPlan, ...]:
        return (*self.queue.alarms, self.subscription_dead_letter_queue_alarm)

    @property
    def notes(self) -> tuple[Note, ...]:
        return self.queue.notes

    @property
    def resource_count(self) -> int | None:
        """The queue side's, the subscription's dead-letter queue and its TLS-only policy, the subscription
        (aws-cdk-lib makes it under the subscribed queue) and the dead-letter queue's alarm."""
        return None if self.queue.resource_count is None else self.queue.resource_count + 4


def plan_topic(
    path: str,
    alarm_prefix: str,
    *,
    raw_message_delivery: bool,
    filter_policy: tuple[str, ...],
    queue: QueuePlan,
) -> TopicPlan:
    """The plan of one TopicConsumer whose props were checked (``queue``: its queue side's plan)."""
    alarm = queue_depth_alarm(
        "SubscriptionDeadLetterQueueAlarm",
        alarm_prefix,
        f"{path} subscription dead-letter queue (SNS could not deliver to the queue)",
        "subscription_dead_letter_queue",
    )
    return TopicPlan(
        path=path,
        raw_message_delivery=raw_message_delivery,
        filter_policy=filter_policy,
        queue=queue,
        subscription_dead_letter_queue_alarm=alarm,
        subscription_dead_letter_queue_acknowledgements=tuple(
            dead_letter_target_acks("This queue (the SNS subscription's DLQ)")
        ),
        removal_policy=queue.removal_policy,
    )
