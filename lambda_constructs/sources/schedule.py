"""ScheduledFunction: an EventBridge schedule -> ProductionFunction, with nothing lost on failure."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.function.production_function import ProductionFunction
from lambda_constructs.sources import _base as _source

DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE = Duration.hours(1)


class ScheduledFunction(Construct):
    """An EventBridge rule on ``schedule`` invoking the function's ``live`` alias asynchronously.

    Two failure paths, because there are two places an event can fail (seed 000: async events
    without a DLQ or destination vanish):

    - EventBridge could not deliver (throttling, permissions): the target retries
      ``retry_attempts`` times for at most ``max_event_age``, then sends the event to the
      target dead-letter queue (``.dead_letter_queue``, encrypted, TLS-only, 14 days).
    - Lambda accepted it but the function failed all its retries: the function's own async
      onFailure destination. So ``function`` must be ``Invocation.ASYNC``; anything else is
      refused.

    Alarms: the rule's FailedInvocations and the dead-letter queue depth.

    Args:
        function: an ``Invocation.ASYNC`` ProductionFunction.
        schedule: ``events.Schedule.cron(...)`` / ``.rate(...)``.
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
        function: ProductionFunction,
        schedule: events.Schedule,
        input: events.RuleTargetInput | None = None,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        enabled: bool = True,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if _source.check_function(problems, function) and function.invocation is not Invocation.ASYNC:
                problems.add(
                    Problem(
                        "function.invocation",
                        f"Invocation.{function.invocation.name}",
                        "Invocation.ASYNC",
                        "EventBridge invokes asynchronously; ProductionFunction(..., invocation=Invocation.ASYNC) "
                        "adds the onFailure destination that catches failed runs",
                    )
                )
            if not isinstance(schedule, events.Schedule):
                problems.add(Problem("schedule", schedule, "an aws_events.Schedule (cron or rate)"))
            problems.add(
                limits.check_int_range(
                    "retry_attempts", retry_attempts, limits.Range(limits.EVENTS_RETRY_MIN, limits.EVENTS_RETRY_MAX)
                )
            )
            problems.add(
                _cdk.duration_range_problem(
                    "max_event_age", max_event_age, limits.EVENTS_EVENT_AGE_MIN_S, limits.EVENTS_EVENT_AGE_MAX_S
                )
            )

        _cdk.validated(scope, id, check)
        super().__init__(scope, id)
        self.function = function
        self.dead_letter_queue = _cdk.secure_queue(self, "DeadLetterQueue")
        _cdk.acknowledge_dead_letter_target(self.dead_letter_queue, "the rule target's dead-letter queue")
        self.rule = events.Rule(
            self,
            "Rule",
            schedule=schedule,
            enabled=enabled,
            description=f"Schedule for {function.node.path} (live alias)",
            targets=[
                targets.LambdaFunction(
                    function.alias,
                    event=input,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=retry_attempts,
                    max_event_age=max_event_age,
                )
            ],
        )
        topic = _source.alarm_topic(function, alarm_topic)
        failed = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="FailedInvocations",
            dimensions_map={"RuleName": self.rule.rule_name},
            period=_cdk.ALARM_PERIOD,
            statistic="Sum",
        )
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.make_alarm(
                self,
                "FailedInvocationsAlarm",
                metric=failed,
                threshold=1,
                topic=topic,
                description=f"{self.node.path}: EventBridge failed to invoke the function; "
                "after retries the event goes to the rule's dead-letter queue.",
            ),
            _cdk.queue_depth_alarm(
                self, "DeadLetterQueueAlarm", self.dead_letter_queue, f"{self.node.path} rule dead-letter queue", topic
            ),
        )
