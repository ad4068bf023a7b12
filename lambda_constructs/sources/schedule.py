"""ScheduledFunction: an EventBridge schedule -> ProductionFunction, with nothing lost on failure."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.sources import _base
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE = Duration.hours(1)
ASYNC_WHY = (
    "EventBridge invokes asynchronously; ProductionFunction(..., invocation=Invocation.ASYNC) adds the onFailure "
    "destination that catches failed runs"
)


class ScheduledFunction(Construct):
    """An EventBridge rule on ``schedule`` invoking the function's ``live`` alias asynchronously.

    Two failure paths, because there are two places an event can fail ("Lambda in Production":
    async events without a DLQ or destination vanish):

    - EventBridge could not deliver (throttling, permissions): the target retries
      ``retry_attempts`` times for at most ``max_event_age``, then sends the event to the
      target dead-letter queue (``.dead_letter_queue``, encrypted, TLS-only, 14 days).
    - Lambda accepted it but the function failed all its retries: the function's own async
      onFailure destination. So ``function`` must be ``Invocation.ASYNC``; anything else is
      refused.

    Alarms: the rule's FailedInvocations and the dead-letter queue depth. The schedule expression
    is validated at construction (cron fields and ranges, rate units and values), because
    EventBridge only rejects a bad one at deploy time.

    Args:
        function: an ``Invocation.ASYNC`` ProductionFunction.
        schedule: ``events.Schedule.cron(...)`` / ``.rate(...)`` / ``.expression(...)``.
        input: the event the function receives; default EventBridge's scheduled event.
        retry_attempts: 0..185, default 2.
        max_event_age: 60 s..24 h, default 1 h (a run older than that is better skipped than late).
        enabled: default True.
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        schedule: events.Schedule,
        input: events.RuleTargetInput | None = None,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        enabled: bool = True,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            _base.check_function(problems, function, requires=Invocation.ASYNC, why=ASYNC_WHY)
            if not isinstance(schedule, events.Schedule):
                problems.add(Problem("schedule", _cdk.short(schedule), "an aws_events.Schedule (cron or rate)"))
            else:
                problems.add(schedule_problem(schedule.expression_string))
            _base.check_rule_options(
                problems,
                input=input,
                enabled=enabled,
                alarm_topic=alarm_topic,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.rule: events.Rule
        self.alarms: list[cloudwatch.Alarm]
        self.rule, self.dead_letter_queue, self.alarms = _base.rule_to_alias(
            self,
            function,
            input=input,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            topic=_base.alarm_topic(function, alarm_topic),
            schedule=schedule,
            enabled=enabled,
            description=f"Schedule for {function.node.path} (live alias)",
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
    if _cdk.is_token(expression):
        return None
    rate = _RATE.match(expression)
    if expression.startswith("rate("):
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
