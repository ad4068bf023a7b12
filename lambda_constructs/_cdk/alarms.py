"""Alarms with the library's conventions: named, described, missing data not breaching, one SnsAction per topic."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_constructs._cdk.defaults import ScopeDefaults
from lambda_constructs._cdk.paths import known_child, path_of, stack_info
from lambda_constructs.core.plans import common as plans

ALARM_PERIOD = Duration.minutes(5)
DURATION_ALARM_FRACTION = plans.DURATION_ALARM_FRACTION


def alarm_prefix(scope: Construct) -> str:
    """``<stack>-<path under the stack>``: computed once per construct (four jsii round trips) and kept on it."""
    prefix: str | None = getattr(scope, "_lc_alarm_prefix", None)
    if prefix is None:
        _stack, stack_name, stack_path = stack_info(scope)
        prefix = plans.alarm_prefix(stack_name, stack_path, path_of(scope))
        object.__setattr__(scope, "_lc_alarm_prefix", prefix)
    return prefix


def alarm_name(scope: Construct, suffix: str) -> str:
    """A readable, stable alarm name: ``<stack>-<path under the stack>-<suffix>`` (CloudWatch max 255)."""
    return plans.alarm_name(alarm_prefix(scope), suffix)


def make_alarm(
    scope: Construct,
    id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    topic: sns.ITopic | None,
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluation_periods: int = 1,
) -> cloudwatch.Alarm:
    """One alarm with our conventions: named, described, missing data is not breaching."""
    alarm = cloudwatch.Alarm(
        scope,
        id,
        alarm_name=alarm_name(scope, id),
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    _notify(scope, alarm, topic)
    return alarm


_SNS_ACTIONS: dict[int, tuple[sns.ITopic, cw_actions.SnsAction]] = {}


def sns_action(topic: sns.ITopic) -> cw_actions.SnsAction:
    """One SnsAction per topic, shared by every alarm that notifies it (one jsii object, not one per alarm)."""
    entry = _SNS_ACTIONS.get(id(topic))
    if entry is None or entry[0] is not topic:
        entry = _SNS_ACTIONS[id(topic)] = (topic, cw_actions.SnsAction(topic))
    return entry[1]


def queue_depth_alarm(
    scope: Construct, id: str, queue: sqs.IQueue, what: str, topic: sns.ITopic | None
) -> cloudwatch.Alarm:
    """Alarm when a dead-letter / failure queue holds any message: each one is a lost event."""
    return make_alarm(
        scope,
        id,
        metric=queue.metric_approximate_number_of_messages_visible(period=ALARM_PERIOD, statistic="Maximum"),
        threshold=0,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description=f"{what} holds messages: events failed after all retries. "
        "Inspect them, fix the cause, then redrive.",
        topic=topic,
    )


def build_function_alarms(
    scope: Construct, function: Any, alarms: Iterable[plans.AlarmPlan], topic: sns.ITopic | None
) -> list[cloudwatch.Alarm]:
    """The Errors, Throttles and p99 Duration alarms of a plan (``core.plans.function.function_alarms``), on
    ``function``'s metrics, per 5 minutes."""
    read = {
        "Errors": function.metric_errors,
        "Throttles": function.metric_throttles,
        "Duration": function.metric_duration,
    }
    return [
        build_alarm(scope, alarm, read[alarm.metric](period=ALARM_PERIOD, statistic=alarm.statistic), topic)
        for alarm in alarms
    ]


_COMPARISONS = {
    "GREATER_THAN_OR_EQUAL_TO_THRESHOLD": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "GREATER_THAN_THRESHOLD": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
}


def build_alarm(
    scope: Construct, plan: plans.AlarmPlan, metric: cloudwatch.IMetric, topic: sns.ITopic | None
) -> cloudwatch.Alarm:
    """The alarm ``plan`` describes, on ``metric``, notifying ``topic``; missing data is not breaching."""
    alarm = cloudwatch.Alarm(
        scope,
        plan.id,
        alarm_name=plan.name,
        alarm_description=plan.description,
        metric=metric,
        threshold=plan.threshold,
        comparison_operator=_COMPARISONS[plan.comparison],
        evaluation_periods=plan.evaluation_periods,
        datapoints_to_alarm=plan.datapoints_to_alarm,
        evaluate_low_sample_count_percentile=plan.evaluate_low_sample_count_percentile,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    known_child(alarm, scope, plan.id)  # its path, stack and App known: add_alarms' same-App check reads no jsii
    _notify(scope, alarm, topic)
    return alarm


# ------------------------------------------------------------------ default alarm destination

# the default alarm destination of an App, Stage or Stack (``default_alarm_topic``): _cdk/defaults.py
_DEFAULT_TOPICS: ScopeDefaults[sns.ITopic] = ScopeDefaults("_lc_default_topic")
ALARM_WITHOUT_ACTION = "lambda-constructs:alarm-without-action"


def set_default_topic(scope: Any, topic: sns.ITopic) -> sns.ITopic | None:
    """Record ``topic`` as the default of ``scope``; returns another topic it already has (left in place), else None."""
    return _DEFAULT_TOPICS.set(scope, topic)


def default_topic(scope: Construct) -> sns.ITopic | None:
    """The default alarm topic for a construct in ``scope``: its stack's, a parent stack's, a stage's or the app's.

    No jsii round trip when no default was ever set; otherwise one walk up per stack, kept on the stack.
    """
    return _DEFAULT_TOPICS.nearest(scope)


def _notify(scope: Construct, alarm: cloudwatch.Alarm, topic: sns.ITopic | None) -> None:
    """Send ``alarm`` to ``topic``, else to the default topic; warn once per construct when there is neither."""
    if topic is None:
        topic = default_topic(scope)
    if topic is not None:
        alarm.add_alarm_action(sns_action(topic))
        return
    if getattr(scope, "_lc_alarm_warned", False):
        return
    object.__setattr__(scope, "_lc_alarm_warned", True)
    message = (
        f"the alarms of {path_of(scope)} notify nobody (no alarm action): pass alarm_topic= an SNS topic, or "
        "call lambda_constructs.default_alarm_topic(app_or_stack, topic) before creating the constructs"
    )
    from lambda_constructs._cdk import recording
    from lambda_constructs.core.plans.common import Note

    recording.record("notes", scope, [Note("warning", ALARM_WITHOUT_ACTION, message)])
    Annotations.of(scope).add_warning_v2(ALARM_WITHOUT_ACTION, message)
