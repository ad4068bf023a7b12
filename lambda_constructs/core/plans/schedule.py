"""The plan of a ScheduledFunction (and the rule-target part EventConsumer shares), and schedule expressions.

Pure Python: `schedule_problem()` validates an EventBridge expression (EventBridge itself only
rejects a bad one at deploy time); `plan_rule_target()` decides the failure path of a rule
targeting a function's ``live`` alias (target retries and event age, an encrypted dead-letter queue,
two alarms); `plan_schedule()` adds the schedule's own decisions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans.common import (
    DEFAULT_REMOVAL_POLICY,
    Acknowledgement,
    AlarmPlan,
    RemovalPolicyName,
    alarm_name,
    dead_letter_target_acks,
    queue_depth_alarm,
)

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_S = 3600


@dataclass(frozen=True)
class RuleTargetPlan:
    """An EventBridge rule target on ``live``: its dead-letter queue, alarms and acknowledgements."""

    path: str
    retry_attempts: int
    max_event_age_s: int | None  # None: a deploy-time token
    alarms: tuple[AlarmPlan, ...]
    dead_letter_queue_acknowledgements: tuple[Acknowledgement, ...]
    # the dead-letter queue and its TLS-only policy, the rule and its permission to invoke live, two alarms
    resource_count: int = 6
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY  # of the dead-letter queue


@dataclass(frozen=True)
class SchedulePlan:
    """Every decision of one ScheduledFunction."""

    expression: str
    enabled: bool
    description: str
    target: RuleTargetPlan

    @property
    def alarms(self) -> tuple[AlarmPlan, ...]:
        return self.target.alarms

    @property
    def resource_count(self) -> int:
        return self.target.resource_count


def plan_rule_target(
    path: str,
    prefix: str,
    retry_attempts: int,
    max_event_age_s: int | None,
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY,
) -> RuleTargetPlan:
    """Two places an event can fail: EventBridge could not deliver (the target DLQ), or the function failed."""
    return RuleTargetPlan(
        removal_policy=removal_policy,
        path=path,
        retry_attempts=retry_attempts,
        max_event_age_s=max_event_age_s,
        alarms=(
            AlarmPlan(
                id="FailedInvocationsAlarm",
                name=alarm_name(prefix, "FailedInvocationsAlarm"),
                description=f"{path}: EventBridge failed to invoke the function; "
                "after retries the event goes to the rule's dead-letter queue.",
                source="rule",
                metric="FailedInvocations",
                statistic="Sum",
                threshold=1,
            ),
            queue_depth_alarm("DeadLetterQueueAlarm", prefix, f"{path} rule dead-letter queue", "dead_letter_queue"),
        ),
        dead_letter_queue_acknowledgements=tuple(
            dead_letter_target_acks("This queue (the rule target's dead-letter queue)")
        ),
    )


def plan_schedule(
    path: str,
    prefix: str,
    *,
    expression: str,
    enabled: bool,
    function_path: str,
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
    max_event_age_s: int | None = DEFAULT_MAX_EVENT_AGE_S,
    removal_policy: RemovalPolicyName = DEFAULT_REMOVAL_POLICY,
) -> SchedulePlan:
    return SchedulePlan(
        expression=expression,
        enabled=enabled,
        description=f"Schedule for {function_path} (live alias)",
        target=plan_rule_target(path, prefix, retry_attempts, max_event_age_s, removal_policy),
    )


# ------------------------------------------------------------------ schedule expressions (pure)

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (name, low, high, names) for the six EventBridge cron fields
_FIELDS = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)


def schedule_problem(expression: str) -> Problem | None:
    """A problem unless ``expression`` is a valid EventBridge ``rate(...)`` or six-field ``cron(...)``.

    Rules from the Amazon EventBridge user guide ("Schedule expressions for rules"): rate value a
    positive whole number, unit minute(s)/hour(s)/day(s) with the singular only for 1; cron has six
    fields (minutes hours day-of-month month day-of-week year) and exactly one of day-of-month /
    day-of-week is ``?``.
    """
    if limits.is_unresolved(expression):
        return None
    rate = _RATE.match(expression)
    if expression.startswith("rate("):
        if re.fullmatch(r"rate\(\d+ seconds?\)", expression):
            return Problem(
                "schedule",
                expression,
                "rate(N unit) with unit minute(s) | hour(s) | day(s): at most once a minute",
                "EventBridge schedules have a granularity of one minute and no seconds unit (Schedule expressions "
                "for rules: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html); "
                "for work every few seconds, loop inside one invocation or use a Step Functions Wait state",
            )
        if not rate or int(rate.group(1)) < 1:
            return Problem("schedule", expression, "rate(N unit) with N >= 1 and unit minute(s) | hour(s) | day(s)")
        value, unit = int(rate.group(1)), rate.group(2)
        if (value == 1) != (not unit.endswith("s")):
            return Problem(
                "schedule",
                expression,
                f"rate({value} {unit.rstrip('s') + ('' if value == 1 else 's')})",
                "EventBridge wants the singular unit for 1 and the plural otherwise",
            )
        return None
    cron = _CRON.match(expression)
    if not cron:
        return Problem("schedule", expression, "rate(...) or cron(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        return Problem(
            "schedule",
            expression,
            "cron with six fields: minutes hours day-of-month month day-of-week year",
            f"got {len(fields)} fields; EventBridge has no seconds field and needs the year (use *)",
        )
    for (name, low, high, names), field in zip(_FIELDS, fields, strict=True):
        if not _cron_field_ok(field, low, high, names, name):
            return Problem(
                "schedule",
                expression,
                f"{name} in {low}..{high} (with , - * / and the allowed wildcards)",
                f"field {name}={field!r} is out of range or malformed",
            )
    if (fields[2] == "?") == (fields[4] == "?"):
        return Problem(
            "schedule",
            expression,
            "exactly one of day-of-month and day-of-week as '?'",
            "EventBridge cannot take both (or neither)",
        )
    return None


def _cron_field_ok(field: str, low: int, high: int, names: Sequence[str], name: str) -> bool:
    if field == "?":
        return name in ("day-of-month", "day-of-week")
    if name == "day-of-month" and re.fullmatch(r"(L|LW|\d{1,2}W)", field):
        return field in ("L", "LW") or low <= int(field[:-1]) <= high
    if name == "day-of-week" and re.fullmatch(r"(\d|[A-Z]{3})(#[1-5]|L)", field):
        return _value_ok(re.split(r"[#L]", field)[0], low, high, names)
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return False
        if base == "*":
            continue
        ends = base.split("-")
        if len(ends) > 2 or not all(_value_ok(e, low, high, names) for e in ends):
            return False
    return True


def _value_ok(value: str, low: int, high: int, names: Sequence[str]) -> bool:
    if value.upper() in names:
        return True
    return value.isdigit() and low <= int(value) <= high
