"""Stateful resources keep their data across replacement and stack deletion (issue 20): every queue the library
creates is ``DeletionPolicy: Retain`` / ``UpdateReplacePolicy: Retain`` by default, ``removal_policy=`` on each
construct chooses otherwise, and a bad value is refused with the construct path, the prop and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from lambda_constructs import (
    ConfigurationError,
    EventConsumer,
    Invocation,
    KafkaConsumer,
    ProductionFunction,
    QueueConsumer,
    S3Consumer,
    ScheduledFunction,
    StreamConsumer,
    TopicConsumer,
)
from lambda_constructs.core.plans import queue as queue_plans
from lambda_constructs.core.plans import schedule as schedule_plans
from lambda_constructs.core.plans import stream as stream_plans
from tests.conftest import INLINE

CLUSTER = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/6a3f1c2e-0b1d-4e5f-9a8b-7c6d5e4f3a2b-2"
ALLOWED = (
    "aws_cdk.RemovalPolicy.RETAIN (the default), RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE or RemovalPolicy.DESTROY"
)


def _fn(stack: cdk.Stack, id: str, invocation: Invocation, **kw: Any) -> ProductionFunction:
    return ProductionFunction(
        stack, id, code=INLINE, handler="index.handler", invocation=invocation, p99=cdk.Duration.seconds(1), **kw
    )


def _table(stack: cdk.Stack) -> dynamodb.Table:
    return dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )


# construct name -> (builder taking (stack, extra props), the queues it creates, by logical-id prefix)
Builder = Callable[[cdk.Stack, dict[str, Any]], Any]
CONSTRUCTS: dict[str, tuple[Builder, tuple[str, ...]]] = {
    "ProductionFunction": (
        lambda st, kw: _fn(st, "Fn", Invocation.ASYNC, **kw),
        ("FnFailureQueue",),
    ),
    "QueueConsumer": (
        lambda st, kw: QueueConsumer(st, "C", function=_fn(st, "Fn", Invocation.QUEUE), **kw),
        ("CDeadLetterQueue", "CQueue"),
    ),
    "TopicConsumer": (
        lambda st, kw: TopicConsumer(
            st, "C", function=_fn(st, "Fn", Invocation.QUEUE), topic=sns.Topic(st, "Topic"), **kw
        ),
        ("CQueue", "CQueueDeadLetterQueue", "CSubscriptionDeadLetterQueue"),
    ),
    "S3Consumer": (
        lambda st, kw: S3Consumer(
            st, "C", function=_fn(st, "Fn", Invocation.QUEUE), bucket=s3.Bucket(st, "B"), via_queue=True, **kw
        ),
        ("CQueue", "CQueueDeadLetterQueue"),
    ),
    "StreamConsumer": (
        lambda st, kw: StreamConsumer(st, "C", function=_fn(st, "Fn", Invocation.STREAM), table=_table(st), **kw),
        ("COnFailureBucket",),  # the whole failed batch; on_failure="queue" is the old COnFailureQueue
    ),
    "KafkaConsumer": (
        lambda st, kw: KafkaConsumer(
            st, "C", function=_fn(st, "Fn", Invocation.STREAM), topic="orders", cluster_arn=CLUSTER, **kw
        ),
        ("COnFailureBucket",),
    ),
    "ScheduledFunction": (
        lambda st, kw: ScheduledFunction(
            st,
            "C",
            function=_fn(st, "Fn", Invocation.ASYNC),
            schedule=events.Schedule.rate(cdk.Duration.hours(1)),
            **kw,
        ),
        ("CDeadLetterQueue",),
    ),
    "EventConsumer": (
        lambda st, kw: EventConsumer(
            st, "C", function=_fn(st, "Fn", Invocation.ASYNC), event_pattern=events.EventPattern(source=["o"]), **kw
        ),
        ("CDeadLetterQueue",),
    ),
}
# the function's own failure queue (ASYNC functions) is the function's, not the construct's
FUNCTION_QUEUE = ("FnFailureQueue",)


def _policies(stack: cdk.Stack) -> dict[str, tuple[str | None, str | None]]:
    """Each queue's and on-failure bucket's (DeletionPolicy, UpdateReplacePolicy), by the logical id without its
    8-digit hash (the S3Consumer's own bucket ``B`` is the user's, not the construct's)."""
    tpl = Template.from_stack(stack)
    found = {**tpl.find_resources("AWS::SQS::Queue"), **tpl.find_resources("AWS::S3::Bucket")}
    return {
        lid[:-8]: (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) for lid, r in found.items() if lid[:-8] != "B"
    }


def _expected(name: str, queues: tuple[str, ...]) -> tuple[str, ...]:
    async_fn = name in ("ScheduledFunction", "EventConsumer")
    return tuple(sorted(queues + (FUNCTION_QUEUE if async_fn else ())))


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_every_queue_is_retained_by_default(name: str) -> None:
    build, queues = CONSTRUCTS[name]
    stack = cdk.Stack(cdk.App(), "S")
    build(stack, {})
    policies = _policies(stack)
    assert tuple(sorted(policies)) == _expected(name, queues)
    assert set(policies.values()) == {("Retain", "Retain")}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (cdk.RemovalPolicy.DESTROY, ("Delete", "Delete")),
        (cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, ("RetainExceptOnCreate", "Retain")),
        (cdk.RemovalPolicy.RETAIN, ("Retain", "Retain")),
    ],
)
def test_removal_policy_applies_to_the_constructs_own_queues(
    name: str, policy: cdk.RemovalPolicy, expected: tuple[str, str]
) -> None:
    build, queues = CONSTRUCTS[name]
    stack = cdk.Stack(cdk.App(), "S")
    build(stack, {"removal_policy": policy})
    policies = _policies(stack)
    assert {q: policies[q] for q in queues} == dict.fromkeys(queues, expected)
    # an ASYNC function's failure queue follows the function's own removal_policy (default RETAIN)
    others = {q: p for q, p in policies.items() if q not in queues}
    assert set(others.values()) <= {("Retain", "Retain")}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
@pytest.mark.parametrize(
    ("value", "shown", "hint"),
    [
        ("retain", "'retain'", ""),
        (None, "None", ""),
        (cdk.RemovalPolicy.SNAPSHOT, "<RemovalPolicy.SNAPSHOT: 'SNAPSHOT'>", ". SQS queues have no snapshots"),
    ],
)
def test_a_bad_removal_policy_is_refused_with_path_prop_value_and_allowed(
    name: str, value: object, shown: str, hint: str
) -> None:
    build, _queues = CONSTRUCTS[name]
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError) as raised:
        build(stack, {"removal_policy": value})
    message = str(raised.value)
    path = "S/Fn" if name == "ProductionFunction" else "S/C"
    assert path in message
    assert f"removal_policy={shown} is invalid; allowed: {ALLOWED}{hint}" in message
    assert stack.node.try_find_child("C") is None  # nothing half-built


def test_s3_consumer_direct_path_refuses_a_removal_policy_it_could_not_apply() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError, match=r"removal_policy=.*DESTROY.* is invalid; allowed: the default unless"):
        S3Consumer(
            stack,
            "C",
            function=_fn(stack, "Fn", Invocation.ASYNC),
            bucket=s3.Bucket(stack, "B"),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )


def test_a_queue_passed_in_keeps_its_own_policy() -> None:
    from aws_cdk import aws_sqs as sqs

    stack = cdk.Stack(cdk.App(), "S")
    given = sqs.Queue(stack, "Mine", visibility_timeout=cdk.Duration.minutes(5))
    QueueConsumer(
        stack, "C", function=_fn(stack, "Fn", Invocation.QUEUE), queue=given, removal_policy=cdk.RemovalPolicy.RETAIN
    )
    policies = _policies(stack)
    # the user's queue keeps aws-cdk-lib's default (Delete); the DLQ the construct adds is retained
    assert policies == {"Mine": ("Delete", "Delete"), "CDeadLetterQueue": ("Retain", "Retain")}


def test_log_groups_stay_retained_and_follow_log_removal_policy() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack, "Fn", Invocation.ASYNC, removal_policy=cdk.RemovalPolicy.DESTROY)
    _fn(stack, "Other", Invocation.SYNC, log_removal_policy=cdk.RemovalPolicy.DESTROY)
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")
    policies = {lid[:-8]: (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) for lid, r in groups.items()}
    assert policies == {"FnLogGroup": ("Retain", "Retain"), "OtherLogGroup": ("Delete", "Delete")}
    assert _policies(stack) == {"FnFailureQueue": ("Delete", "Delete")}


def test_plans_carry_the_removal_policy_as_a_plain_value_and_count_no_extra_resource() -> None:
    request = queue_plans.QueueRequest(
        path="S/C",
        alarm_prefix="S-C",
        queue="new",
        fifo=False,
        visibility_timeout_s=18,
        batching_window_s=0,
        batch_size=10,
        max_receive_count=5,
    )
    default = queue_plans.plan_queue(request)
    destroy = queue_plans.plan_queue(
        queue_plans.QueueRequest(**{**request.__dict__, "removal_policy": "DESTROY"})  # type: ignore[arg-type]
    )
    assert (default.removal_policy, destroy.removal_policy) == ("RETAIN", "DESTROY")
    assert default.resource_count == destroy.resource_count == 7  # 2 queues + 2 policies, mapping, 2 alarms
    stream = stream_plans.plan_stream(stream_plans.StreamRequest(path="S/C", alarm_prefix="S-C"))
    assert stream.removal_policy == "RETAIN"
    rule = schedule_plans.plan_rule_target("S/C", "S-C", 2, 3600, "RETAIN_ON_UPDATE_OR_DELETE")
    assert rule.removal_policy == "RETAIN_ON_UPDATE_OR_DELETE"
    assert rule.resource_count == 6


def test_construct_plans_record_the_chosen_policy() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, "Fn", Invocation.QUEUE)
    consumer = QueueConsumer(stack, "C", function=fn, removal_policy=cdk.RemovalPolicy.DESTROY)
    assert consumer.plan.removal_policy == "DESTROY"
    assert fn.plan.removal_policy == "RETAIN"
