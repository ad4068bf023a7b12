"""ScheduledFunction: an EventBridge schedule -> ProductionFunction, with nothing lost on failure."""

from __future__ import annotations

import typing

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import common as plans_common
from lambda_constructs.core.plans import schedule as schedules
from lambda_constructs.core.plans.schedule import SchedulePlan
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base
from lambda_constructs.sources._base import FunctionTarget

DEFAULT_RETRY_ATTEMPTS = schedules.DEFAULT_RETRY_ATTEMPTS
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
        encryption_key: a customer-managed KMS key (``aws_kms.IKey``) for the rule dead-letter queue this construct
            creates, with the key-policy statements EventBridge and the function's role need (see docs/encryption.md);
            default SSE-SQS.
        removal_policy: what happens to the rule's dead-letter queue when CloudFormation replaces it or the
            stack is deleted: default ``RemovalPolicy.RETAIN`` (it keeps its messages; "DeletionPolicy attribute",
            AWS CloudFormation user guide); ``RETAIN_ON_UPDATE_OR_DELETE`` or ``DESTROY`` otherwise. See
            docs/operations.md.
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
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        planned: list[SchedulePlan] = []

        def check(problems: Problems) -> None:
            _base.check_function(problems, function, scope=scope, requires=Invocation.ASYNC, why=ASYNC_WHY)
            if not isinstance(schedule, events.Schedule):
                problems.add(Problem("schedule", _cdk.short(schedule), "an aws_events.Schedule (cron or rate)"))
            else:
                problems.add(schedule_problem(schedule.expression_string))
            problems.add(_keys.key_problem(encryption_key, scope=scope))
            problems.add(_cdk.removal_policy_problem(removal_policy))
            _base.check_rule_options(
                problems,
                input=input,
                enabled=enabled,
                alarm_topic=alarm_topic,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
            if problems:
                return
            _stack, stack_name, stack_path = _cdk.stack_info(scope)
            planned.append(
                schedules.plan_schedule(
                    problems.path,
                    plans_common.alarm_prefix(stack_name, stack_path, problems.path),
                    expression=schedule.expression_string,
                    enabled=enabled,
                    function_path=typing.cast(FunctionTarget, function).node.path,
                    retry_attempts=retry_attempts,
                    max_event_age_s=_base.seconds_or_none(max_event_age),
                    removal_policy=_cdk.removal_policy_name(removal_policy),
                )
            )

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: SchedulePlan = planned[0]
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
            plan=self.plan.target,
            encryption_key=encryption_key,
            schedule=schedule,
            enabled=enabled,
            description=self.plan.description,
        )
        _bundle.note(self, scope, id, self.plan.resource_count)
        deployment = getattr(function, "_lc_deployment", None)
        if deployment is not None and deployment.kind != "all_at_once":
            from lambda_constructs.function.deployment import warn_rare_traffic

            warn_rare_traffic(self, deployment, "it runs on a schedule")


# the schedule expression rules live in the pure plan module; these names stay importable from here
schedule_problem = schedules.schedule_problem
