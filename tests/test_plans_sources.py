"""Plans of the notification and Kafka sources (S3Consumer, TopicConsumer, KafkaConsumer).

The pure tests compute plans from plain facts (no aws-cdk-lib, milliseconds); the tree tests build
several configurations in ONE app, without synthesis, and tie each plan's resource count and alarms
to the tree the construct really made; the fleet test checks a bundle of them is sized from the plans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import FunctionFleet, Invocation, ProductionFunction, S3Consumer, TopicConsumer
from lambda_constructs.core.plans import notification as notifications
from lambda_constructs.core.plans import queue as queues
from tests.conftest import INLINE

PATH = "Stack/Uploads"
PREFIX = "Stack-Uploads"


def queue_plan(path: str = f"{PATH}/Queue", **overrides: Any) -> queues.QueuePlan:
    values: dict[str, Any] = {
        "path": path,
        "alarm_prefix": path.replace("/", "-"),
        "queue": "new",
        "fifo": False,
        "visibility_timeout_s": 12,
        "batching_window_s": 0,
        "batch_size": 10,
        "max_receive_count": 5,
    }
    values.update(overrides)
    return queues.plan_queue(queues.QueueRequest(**values))


# ---------------------------------------------------------------- S3Consumer (pure)


def test_s3_direct_plan_creates_nothing_under_the_construct() -> None:
    plan = notifications.plan_s3(PATH, events=("OBJECT_CREATED",), filters=1, queue=None)
    assert (plan.via_queue, plan.events, plan.filters, plan.queue) == (False, ("OBJECT_CREATED",), 1, None)
    assert plan.alarms == () and plan.notes == ()
    # the notification configuration and the permission to invoke live are made under the bucket
    assert plan.resource_count == 0
    assert [rule for rule, _ in plan.framework_acknowledgements] == list(notifications.FRAMEWORK_ACKNOWLEDGED)


def test_s3_via_queue_plan_is_the_queue_sides() -> None:
    side = queue_plan(visibility_timeout_s=6 * 30 + 5, batching_window_s=5, removal_policy="DESTROY")
    plan = notifications.plan_s3(PATH, events=("OBJECT_CREATED", "OBJECT_REMOVED"), filters=0, queue=side)
    assert plan.via_queue and plan.queue is side and plan.events == ("OBJECT_CREATED", "OBJECT_REMOVED")
    assert [a.id for a in plan.alarms] == ["OldestMessageAlarm", "DeadLetterQueueAlarm"]
    assert plan.alarms[0].name == "Stack-Uploads-Queue-OldestMessageAlarm" and plan.alarms[0].threshold == 185
    assert side.removal_policy == "DESTROY"
    assert plan.resource_count == 7  # two queues, their policies, the mapping, two alarms
    shared = notifications.plan_s3(
        PATH, events=("OBJECT_CREATED",), filters=0, queue=queue_plan(function_owns_role=False)
    )
    assert shared.resource_count is None  # a role it does not own gains a policy the plan cannot count


# ---------------------------------------------------------------- TopicConsumer (pure)


def test_topic_plan_adds_the_subscription_dead_letter_queue() -> None:
    side = queue_plan("Stack/Orders/Queue", removal_policy="RETAIN_ON_UPDATE_OR_DELETE")
    plan = notifications.plan_topic(
        "Stack/Orders", "Stack-Orders", raw_message_delivery=True, filter_policy=("type",), queue=side
    )
    assert (plan.raw_message_delivery, plan.filter_policy, plan.queue) == (True, ("type",), side)
    assert [a.id for a in plan.alarms] == [
        "OldestMessageAlarm",
        "DeadLetterQueueAlarm",
        "SubscriptionDeadLetterQueueAlarm",
    ]
    alarm = plan.subscription_dead_letter_queue_alarm
    assert alarm.name == "Stack-Orders-SubscriptionDeadLetterQueueAlarm"
    assert (alarm.metric, alarm.statistic, alarm.threshold, alarm.comparison, alarm.period_s) == (
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        0,
        "GREATER_THAN_THRESHOLD",
        300,
    )
    assert alarm.description.startswith("Stack/Orders subscription dead-letter queue (SNS could not deliver")
    assert [rule for rule, _ in plan.subscription_dead_letter_queue_acknowledgements] == [
        "AwsSolutions-SQS3",
        "Serverless-SQSRedrivePolicy",
    ]
    assert plan.removal_policy == "RETAIN_ON_UPDATE_OR_DELETE"
    # the queue side's 7, the subscription's DLQ and its policy, the subscription, the DLQ's alarm
    assert plan.resource_count == 11
    shared = notifications.plan_topic(
        "Stack/Orders",
        "Stack-Orders",
        raw_message_delivery=False,
        filter_policy=(),
        queue=queue_plan(function_owns_role=False),
    )
    assert shared.resource_count is None


# ---------------------------------------------------------------- plans against the built tree


def _fn(scope: Construct, id: str, invocation: Invocation, **kw: Any) -> ProductionFunction:
    return ProductionFunction(
        scope, id, code=INLINE, handler="index.handler", invocation=invocation, p99=cdk.Duration.millis(400), **kw
    )


def _resources(construct: Any) -> int:
    return sum(1 for c in construct.node.find_all() if isinstance(c, cdk.CfnResource))


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """Every configuration in one app, never synthesized (the tree is what the counts are checked against)."""
    app = cdk.App()
    stack = cdk.Stack(app, "P")
    bucket = s3.Bucket(stack, "Bucket")
    made: dict[str, Any] = {"stack": stack}
    made["s3-direct"] = S3Consumer(
        stack,
        "Direct",
        function=_fn(stack, "Thumbs", Invocation.ASYNC),
        bucket=bucket,
        events=[s3.EventType.OBJECT_CREATED, s3.EventType.OBJECT_REMOVED],
        filters=[s3.NotificationKeyFilter(prefix="in/", suffix=".jpg")],
    )
    made["s3-queue"] = S3Consumer(
        stack,
        "Queued",
        function=_fn(stack, "Burst", Invocation.QUEUE),
        bucket=bucket,
        via_queue=True,
        max_batching_window=cdk.Duration.seconds(5),
        batch_size=50,
    )
    made["s3-key"] = S3Consumer(
        stack,
        "Keyed",
        function=_fn(stack, "KeyedFn", Invocation.QUEUE),
        bucket=bucket,
        via_queue=True,
        encryption_key=kms.Key(stack, "Key"),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    role = iam.Role(stack, "SharedRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    made["s3-shared-role"] = S3Consumer(
        stack, "Shared", function=_fn(stack, "SharedFn", Invocation.QUEUE, role=role), bucket=bucket, via_queue=True
    )
    orders = sns.Topic(stack, "Orders")
    made["topic"] = TopicConsumer(
        stack,
        "Fanout",
        function=_fn(stack, "Billing", Invocation.QUEUE),
        topic=orders,
        filter_policy={"type": sns.SubscriptionFilter.string_filter(allowlist=["OrderPlaced"])},
    )
    made["topic-key"] = TopicConsumer(
        stack,
        "KeyedFanout",
        function=_fn(stack, "KeyedBilling", Invocation.QUEUE),
        topic=orders,
        raw_message_delivery=False,
        encryption_key=kms.Key(stack, "TopicKey"),
        removal_policy=cdk.RemovalPolicy.DESTROY,
        max_batching_window=cdk.Duration.seconds(10),
    )
    made["topic-shared-role"] = TopicConsumer(
        stack, "SharedFanout", function=_fn(stack, "SharedBilling", Invocation.QUEUE, role=role), topic=orders
    )
    return made


@pytest.mark.parametrize("name", ["s3-direct", "s3-queue", "s3-key", "topic", "topic-key"])
def test_s3_plan_resource_count_matches_the_tree(built: dict[str, Any], name: str) -> None:
    consumer = built[name]
    assert consumer.plan.resource_count == _resources(consumer)
    assert [a.id for a in consumer.plan.alarms] == [a.node.id for a in consumer.alarms]
    if consumer.plan.queue is not None:  # the nested QueueConsumer planned the same queue side
        assert consumer.plan.queue == consumer.queue_consumer.plan


def test_s3_plan_holds_the_decisions(built: dict[str, Any]) -> None:
    direct, queued, keyed = built["s3-direct"].plan, built["s3-queue"].plan, built["s3-key"].plan
    assert (direct.via_queue, direct.events, direct.filters) == (False, ("OBJECT_CREATED", "OBJECT_REMOVED"), 1)
    assert queued.queue is not None and keyed.queue is not None
    assert (queued.queue.visibility_timeout_s, queued.queue.batching_window_s) == (6 * 2 + 5, 5)
    assert queued.queue.batch_size == 50 and keyed.queue.removal_policy == "DESTROY"
    assert queued.alarms[0].name == "P-Queued-Queue-OldestMessageAlarm"
    # a role the function does not own gains a policy: the plan says it cannot count it (the fleet walks the tree)
    assert built["s3-shared-role"].plan.resource_count is None


def test_topic_plan_holds_the_decisions(built: dict[str, Any]) -> None:
    plain, keyed = built["topic"].plan, built["topic-key"].plan
    assert (plain.raw_message_delivery, plain.filter_policy) == (True, ("type",))
    assert (keyed.raw_message_delivery, keyed.filter_policy, keyed.removal_policy) == (False, (), "DESTROY")
    assert keyed.queue.visibility_timeout_s == 6 * 2 + 10 and keyed.queue.removal_policy == "DESTROY"
    assert plain.subscription_dead_letter_queue_alarm.name == "P-Fanout-SubscriptionDeadLetterQueueAlarm"
    assert built["topic-shared-role"].plan.resource_count is None


# ---------------------------------------------------------------- a fleet sized from the plans


def test_a_fleet_bundle_of_s3_consumers_is_sized_from_the_plans(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Fleet")
    bucket = s3.Bucket.from_bucket_name(stack, "Uploads", "uploads-bucket")
    fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / "placement.json")
    made: dict[str, Any] = {}

    def worker(scope: Construct, id: str) -> None:
        fn = _fn(scope, id, Invocation.ASYNC)
        made[id] = (fn, S3Consumer(scope, f"{id}Uploads", function=fn, bucket=bucket))

    fleet.add("W0", worker)
    fn, consumer = made["W0"]
    assert "Stack1" in fleet._planned_stacks  # sized by the plans, not by walking the bundle's tree
    planned = fn.plan.resource_count + consumer.plan.resource_count
    assert fleet.resource_counts["Stack1"] == planned == _resources(fleet.stack_of("W0"))


def test_a_fleet_bundle_of_topic_consumers_is_sized_from_the_plans(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Fleet")
    # a topic of the parent stack would make the nested stack depend on its parent: an imported one does not
    orders = sns.Topic.from_topic_arn(stack, "Orders", "arn:aws:sns:eu-west-1:123456789012:orders")
    fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / "placement.json")
    made: dict[str, Any] = {}

    def worker(scope: Construct, id: str) -> None:
        fn = _fn(scope, id, Invocation.QUEUE)
        made[id] = (fn, TopicConsumer(scope, f"{id}Orders", function=fn, topic=orders))

    fleet.add("W0", worker)
    fn, consumer = made["W0"]
    assert "Stack1" in fleet._planned_stacks
    planned = fn.plan.resource_count + consumer.plan.resource_count
    assert fleet.resource_counts["Stack1"] == planned == _resources(fleet.stack_of("W0"))
