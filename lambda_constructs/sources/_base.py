"""What every event-source construct shares: the function protocol, failure paths and their alarms."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, Node

from lambda_constructs import _cdk, _keys, _relations
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.common import AlarmPlan
from lambda_constructs.core.plans.schedule import RuleTargetPlan, plan_rule_target

if TYPE_CHECKING:
    pass


@runtime_checkable
class FunctionTarget(Protocol):
    """What an event source needs from a function. [`ProductionFunction`][lambda_constructs.ProductionFunction] is one.

    - ``alias``: the ``live`` alias every trigger targets (never $LATEST);
    - ``timeout_seconds``: the function timeout the source's limits derive from;
    - ``invocation``: how the function is invoked, so the source can insist on the matching failure path;
    - ``alarm_topic``: the default SNS topic for the source's alarms;
    - ``add_alarms(*alarms)``: registers the source's alarms with the function (rollback, report, dashboard).
    """

    @property
    def node(self) -> Node: ...

    @property
    def alias(self) -> lambda_.Alias: ...

    @property
    def timeout_seconds(self) -> int: ...

    @property
    def invocation(self) -> Invocation: ...

    @property
    def alarm_topic(self) -> sns.ITopic | None: ...

    def add_alarms(self, *alarms: cloudwatch.Alarm) -> list[cloudwatch.Alarm]: ...


def check_function(
    problems: Problems,
    function: object,
    *,
    requires: Invocation | None = None,
    why: str = "",
    tenant_ok: bool = False,
    scope: object = None,
) -> bool:
    """Record a problem unless ``function`` offers [`FunctionTarget`][lambda_constructs.FunctionTarget]; True when it
    does.

    With ``requires``, the function must be declared with that invocation kind (``why`` says why).
    A tenant-isolated function is refused unless ``tenant_ok`` (API Gateway only: function/modes.py).
    With ``scope`` (where the source is being built), the function must be in the same stack and app
    (``lambda_constructs._relations.same_stack_problem``).
    """
    from lambda_constructs.function.production_function import ProductionFunction

    # the Protocol check reads every member (node through jsii): the library's own class needs none of that
    if not isinstance(function, ProductionFunction) and not isinstance(function, FunctionTarget):
        problems.add(
            Problem(
                "function",
                _cdk.short(function),
                "a ProductionFunction (or an object with alias, timeout_seconds, invocation, alarm_topic, add_alarms)",
            )
        )
        return False
    if scope is not None:
        problems.add(_relations.same_stack_problem(scope, function))
    if requires is not None and function.invocation is not requires:
        problems.add(
            Problem(
                "function.invocation",
                f"Invocation.{function.invocation.name}",
                f"Invocation.{requires.name}",
                why or f"declare the function with invocation=Invocation.{requires.name}",
            )
        )
    if not tenant_ok:
        from lambda_constructs.function import modes

        problems.add(modes.tenancy_source_problem(function, "this source"))
    return True


def alarm_topic(function: FunctionTarget, topic: sns.ITopic | None) -> sns.ITopic | None:
    """The construct's own topic, else the function's."""
    return topic if topic is not None else function.alarm_topic


topic_problem = _cdk.topic_problem


def warn_invocation(scope: Construct, function: FunctionTarget, expected: Invocation, kind: str) -> None:
    """A warning when a source is wired to a function declared with another invocation kind."""
    if function.invocation is not expected:
        Annotations.of(scope).add_warning_v2(
            f"lambda-constructs:{kind}-invocation",
            f"{function.node.path} is declared invocation={function.invocation.name}; a {kind} consumer "
            f"should use Invocation.{expected.name}.",
        )


def once_per_function(problems: Problems, function: object, marker: str, what: str) -> None:
    """AWS allows one ``what`` per function: refuse a second one, naming the first."""
    existing = getattr(function, "_lc_sources", {}).get(marker)
    if existing is not None:
        problems.add(Problem("function", existing, f"a function without a {what} (AWS allows one per function)"))


remember = _relations.remember_marker


# ------------------------------------------------------------------ EventBridge rule targets


def check_rule_target(problems: Problems, retry_attempts: object, max_event_age: object) -> None:
    problems.add(
        limits.check_int_range(
            "retry_attempts",
            retry_attempts,
            limits.Range(limits.EVENTS_RETRY_MIN, limits.EVENTS_RETRY_MAX),
        )
    )
    problems.add(
        _cdk.duration_range_problem(
            "max_event_age", max_event_age, limits.EVENTS_EVENT_AGE_MIN_S, limits.EVENTS_EVENT_AGE_MAX_S
        )
    )


def rule_to_alias(
    scope: Construct,
    function: FunctionTarget,
    *,
    input: events.RuleTargetInput | None,
    retry_attempts: int,
    max_event_age: Duration,
    topic: sns.ITopic | None,
    plan: RuleTargetPlan | None = None,
    encryption_key: kms.IKey | None = None,
    **rule_props: object,
) -> tuple[events.Rule, sqs.Queue, list[cloudwatch.Alarm]]:
    """An EventBridge rule targeting ``function``'s ``live`` alias, with its failure path and alarms.

    Two places an event can fail: EventBridge could not deliver (throttling, permissions): the
    target retries ``retry_attempts`` times for at most ``max_event_age``, then sends the event to
    an encrypted target dead-letter queue; or Lambda accepted it and the function failed all its
    retries: the function's own async onFailure destination (hence ``Invocation.ASYNC``).
    ``plan``: the construct's `RuleTargetPlan`
    (default: planned here).
    """
    if plan is None:
        plan = plan_rule_target(
            _cdk.path_of(scope), _cdk.alarm_prefix(scope), retry_attempts, seconds_or_none(max_event_age)
        )
    encryption_key = _keys.key_for(scope, encryption_key)
    dlq = _cdk.secure_queue(scope, "DeadLetterQueue", encryption_key=encryption_key, removal=plan.removal_policy)
    # EventBridge sends undeliverable events itself: it must be able to use the key ("Key management", Amazon
    # SQS). No aws:SourceArn condition: the rule's ARN in the key policy would make key -> rule -> queue -> key
    # a dependency cycle; the principal is EventBridge of this account's rules only through the queue policy.
    _keys.allow_sender(encryption_key, "events.amazonaws.com", None, scope, "EventBridge sending to the rule DLQ")
    _cdk.acknowledge_all(_cdk.resource_of(dlq), list(plan.dead_letter_queue_acknowledgements))
    rule = events.Rule(
        scope,
        "Rule",
        targets=[
            targets.LambdaFunction(
                function.alias,
                event=input,
                dead_letter_queue=dlq,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
        ],
        **rule_props,  # type: ignore[arg-type]
    )
    failed_invocations, dlq_depth = plan.alarms
    failed = cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name=failed_invocations.metric,
        dimensions_map={"RuleName": rule.rule_name},
        period=_cdk.ALARM_PERIOD,
        statistic=failed_invocations.statistic,
    )
    alarms = function.add_alarms(
        _cdk.build_alarm(scope, failed_invocations, failed, topic),
        _cdk.build_alarm(scope, dlq_depth, queue_metric(dlq, dlq_depth), topic),
    )
    return rule, dlq, alarms


def seconds_or_none(duration: object) -> int | None:
    """A checked Duration in whole seconds, None for a deploy-time token."""
    if _cdk.milliseconds(typing.cast(Duration, duration)) is None:
        return None
    return _cdk.seconds(typing.cast(Duration, duration))


def queue_metric(queue: sqs.IQueue | None, alarm: AlarmPlan) -> cloudwatch.IMetric:
    """The queue metric an alarm of a plan reads (age of the oldest message, or messages visible)."""
    assert queue is not None
    read = {
        "ApproximateAgeOfOldestMessage": queue.metric_approximate_age_of_oldest_message,
        "ApproximateNumberOfMessagesVisible": queue.metric_approximate_number_of_messages_visible,
    }[alarm.metric]
    period = _cdk.ALARM_PERIOD if alarm.period_s == 300 else _cdk.duration_seconds(alarm.period_s)
    return read(period=period, statistic=alarm.statistic)


annotate = _cdk.annotate


def sequence_problem(prop: str, value: object, check: type | tuple[type, ...], expected: str) -> Problem | None:
    """A problem unless ``value`` is a list/tuple whose items are all instances of ``check``."""
    if isinstance(value, list | tuple) and all(isinstance(v, check) for v in value):
        return None
    return Problem(prop, _cdk.short(value), expected)


def build_api_alarms(
    scope: Construct,
    function: FunctionTarget,
    api: Any,
    alarms: tuple[AlarmPlan, ...],
    topic: sns.ITopic | None,
) -> list[cloudwatch.Alarm]:
    """The 5xx, 4xx and p99-latency alarms a plan gives an API Gateway API (HTTP or REST), registered with the
    function (``core.plans.endpoint.api_alarms``)."""
    read = {
        "ServerErrorsAlarm": api.metric_server_error,
        "ClientErrorsAlarm": api.metric_client_error,
        "LatencyAlarm": api.metric_latency,
    }
    return function.add_alarms(
        *(
            _cdk.build_alarm(scope, alarm, read[alarm.id](period=_cdk.ALARM_PERIOD, statistic=alarm.statistic), topic)
            for alarm in alarms
        )
    )


def check_rule_options(
    problems: Problems,
    *,
    input: object,
    enabled: object,
    alarm_topic: object,
    retry_attempts: object,
    max_event_age: object,
) -> None:
    """The options every EventBridge-rule source shares (ScheduledFunction, EventConsumer)."""
    if input is not None and not isinstance(input, events.RuleTargetInput):
        problems.add(Problem("input", _cdk.short(input), "an aws_events.RuleTargetInput"))
    if not isinstance(enabled, bool):
        problems.add(Problem("enabled", _cdk.short(enabled), "True or False"))
    problems.add(topic_problem(alarm_topic))
    check_rule_target(problems, retry_attempts, max_event_age)
