"""TopicConsumer: SNS -> SQS -> ProductionFunction, the fan-out the source articles recommend."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, NestedStack, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.notification import TopicPlan, plan_topic
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

QUEUE_WHY = "TopicConsumer delivers through an SQS queue: declare the function with invocation=Invocation.QUEUE"


class TopicConsumer(Construct):
    """An SNS topic fanned out to an SQS queue that feeds the function's ``live`` alias.

    "Never use SNS direct to Lambda without a queue" ("AWS Lambda in production: patterns"): the
    queue absorbs bursts, retries with backoff and keeps failures. Here:

    - the subscription has its own dead-letter queue (SNS redrive policy): a message SNS cannot
      deliver to the queue (a policy or KMS mistake) is kept 14 days, with a depth alarm;
    - the queue policy lets only this topic send (aws:SourceArn condition);
    - the queue side is [`QueueConsumer`][lambda_constructs.sources.queue.QueueConsumer]'s: visibility 6 x timeout +
      window, DLQ after 5 receives, ReportBatchItemFailures, alarms.

    Args:
        function: an ``Invocation.QUEUE`` ProductionFunction.
        topic: the ``sns.ITopic``.
        filter_policy: ``{"type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])}``;
            default every message.
        raw_message_delivery: default True (the function gets the message body, not the SNS envelope).
        batch_size: as for QueueConsumer; default 10.
        max_batching_window: as for QueueConsumer; default none.
        max_receive_count: as for QueueConsumer; default 5.
        max_concurrency: as for QueueConsumer; default none.
        alarm_topic: default the function's topic.
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the queue, its dead-letter queue and the
            subscription's dead-letter queue this construct creates, with the key-policy statements SNS and the consumer
            need (see docs/encryption.md); default SSE-SQS.
        removal_policy: what happens to the three queues this construct creates when CloudFormation replaces
            them or the stack is deleted: default ``RemovalPolicy.RETAIN`` (they keep their messages;
            "DeletionPolicy attribute", AWS CloudFormation user guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or
            ``DESTROY`` otherwise. See docs/operations.md.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        topic: sns.ITopic,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        raw_message_delivery: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        max_concurrency: int | None = None,
        alarm_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        planned: list[TopicPlan] = []

        def check(problems: Problems) -> None:
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
            problems.add(_cdk.foreign_problem(scope, topic, "topic"))
            if not _cdk.implements(topic, "topic_arn"):
                problems.add(Problem("topic", _cdk.short(topic), "an aws_sns.ITopic"))
            elif getattr(topic, "fifo", False) is True:
                problems.add(
                    Problem("topic", topic.node.path, "a standard topic", "FIFO topics need a FIFO queue consumer")
                )
            if filter_policy is not None and not (
                isinstance(filter_policy, Mapping)
                and filter_policy
                and all(isinstance(v, sns.SubscriptionFilter) for v in filter_policy.values())
            ):
                problems.add(
                    Problem(
                        "filter_policy",
                        _cdk.short(filter_policy),
                        "a non-empty mapping of attribute name to sns.SubscriptionFilter, or None",
                    )
                )
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.add(_cdk.removal_policy_problem(removal_policy))
            if not isinstance(raw_message_delivery, bool):
                problems.add(Problem("raw_message_delivery", _cdk.short(raw_message_delivery), "True or False"))
            if not problems:
                _stack, stack_name, stack_path = _cdk.stack_info(scope)
                planned.append(
                    plan_topic(
                        problems.path,
                        alarm_prefix(stack_name, stack_path, problems.path),
                        raw_message_delivery=raw_message_delivery,
                        filter_policy=tuple(filter_policy or ()),
                        queue=queue_source.nested_plan(
                            scope,
                            f"{problems.path}/Queue",
                            function,
                            derived,
                            batch_size=batch_size,
                            max_receive_count=max_receive_count,
                            max_concurrency=max_concurrency,
                            removal_policy=removal_policy,
                        ),
                    )
                )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        plan = self.plan = planned[0]
        self.function = function
        self.topic = topic
        encryption_key = _keys.key_for(self, encryption_key)
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
        self.subscription_dead_letter_queue = _cdk.secure_queue(
            self,
            "SubscriptionDeadLetterQueue",
            encryption_key=encryption_key,
            removal=plan.removal_policy,
        )
        # SNS moves undeliverable messages to this queue itself (aws-cdk-lib adds the statement for the
        # subscribed queue only): "Key management", Amazon SQS developer guide
        _keys.allow_sender(
            encryption_key,
            "sns.amazonaws.com",
            topic.topic_arn,
            self,
            "SNS sending to the subscription's DLQ",
            source=topic,
        )
        _cdk.acknowledge_all(
            _cdk.resource_of(self.subscription_dead_letter_queue),
            list(plan.subscription_dead_letter_queue_acknowledgements),
        )
        _subscribable(self, topic).add_subscription(
            subscriptions.SqsSubscription(
                self.queue,
                raw_message_delivery=plan.raw_message_delivery,
                filter_policy=dict(filter_policy) if filter_policy else None,
                dead_letter_queue=self.subscription_dead_letter_queue,
            )
        )
        self.alarms: list[cloudwatch.Alarm] = [
            *self.queue_consumer.alarms,
            *function.add_alarms(
                _cdk.build_alarm(
                    self,
                    plan.subscription_dead_letter_queue_alarm,
                    _base.queue_metric(self.subscription_dead_letter_queue, plan.subscription_dead_letter_queue_alarm),
                    _base.alarm_topic(function, alarm_topic),
                )
            ),
        ]
        _bundle.note(self, scope, id, plan.resource_count)


def _subscribable(consumer: Construct, topic: sns.ITopic) -> sns.ITopic:
    """The topic to subscribe through: ``topic``, or its ARN imported where the consumer is nested under its stack.

    aws-cdk-lib's ``SqsSubscription`` makes the queue's stack depend on an ``sns.Topic``'s stack when they differ,
    which a nested stack (a ``FunctionFleet`` bundle) cannot do on its parent: CannotDependOnParent, raised while
    the construct is half built. The nested stack already waits for the topic: its ARN reaches it as a parameter
    of the nested stack resource. The imported view adds no dependency; it is made under the consumer (path
    ``<consumer>/Topic``) so the subscription's logical id stays stable.
    """
    stack, _, consumer_stack = _cdk.stack_info(consumer)
    if not isinstance(topic, sns.Topic) or not isinstance(stack, NestedStack):  # no kernel round trip for these
        return topic
    topic_stack = _cdk.stack_info(topic)[2]
    if consumer_stack == topic_stack or not consumer_stack.startswith(f"{topic_stack}/"):
        return topic
    return sns.Topic.from_topic_arn(consumer, "Topic", topic.topic_arn)
