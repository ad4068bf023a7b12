"""EventConsumer: an EventBridge rule with an event pattern -> ProductionFunction, nothing lost."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk, _keys
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans.common import alarm_prefix
from lambda_constructs.core.plans.schedule import RuleTargetPlan, plan_rule_target
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base
from lambda_constructs.sources._base import FunctionTarget
from lambda_constructs.sources.schedule import ASYNC_WHY, DEFAULT_MAX_EVENT_AGE, DEFAULT_RETRY_ATTEMPTS

_PATTERN_FIELDS = ("account", "detail", "detail_type", "id", "region", "resources", "source", "time", "version")


class EventConsumer(Construct):
    """An EventBridge rule matching ``event_pattern`` on the default or a custom bus -> the ``live`` alias.

    The same failure machinery as [`ScheduledFunction`][lambda_constructs.sources.schedule.ScheduledFunction]: the
    target retries ``retry_attempts`` times within ``max_event_age`` and then dead-letters the event to an encrypted
    queue; what the function itself fails after Lambda's retries goes to its onFailure destination
    (so the function must be ``Invocation.ASYNC``). Alarms: FailedInvocations and the DLQ depth.

    Args:
        function: an ``Invocation.ASYNC`` ProductionFunction.
        event_pattern: an ``events.EventPattern`` (or its dict form) with at least one field,
            e.g. ``EventPattern(source=["orders"], detail_type=["OrderPlaced"])``. An empty pattern
            is refused: on the default bus it would match every AWS event in the account.
        event_bus: a custom bus; default the account's default bus.
        input: what the function receives; default the matched event.
        retry_attempts: 0..185, default 2.
        max_event_age: 60 s..24 h, default 1 h.
        enabled: default True.
        description: the rule description.
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
        event_pattern: events.EventPattern | Mapping[str, object],
        event_bus: events.IEventBus | None = None,
        input: events.RuleTargetInput | None = None,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        max_event_age: Duration = DEFAULT_MAX_EVENT_AGE,
        enabled: bool = True,
        description: str | None = None,
        alarm_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        pattern = event_pattern_fields(event_pattern)

        def check(problems: Problems) -> None:
            _base.check_function(problems, function, scope=scope, requires=Invocation.ASYNC, why=ASYNC_WHY)
            if pattern is None:
                problems.add(Problem("event_pattern", _cdk.short(event_pattern), "an aws_events.EventPattern"))
            elif not pattern:
                problems.add(
                    Problem(
                        "event_pattern",
                        "an empty pattern",
                        "an EventPattern with at least one field (source, detail_type, detail, ...)",
                        "an empty pattern matches nothing EventBridge accepts, and on the default bus means 'every "
                        "event'; e.g. EventPattern(source=['orders'], detail_type=['OrderPlaced'])",
                    )
                )
            if event_bus is not None and not _cdk.implements(event_bus, "event_bus_arn"):
                problems.add(Problem("event_bus", _cdk.short(event_bus), "an aws_events.IEventBus or None"))
            else:
                problems.add(_cdk.foreign_problem(scope, event_bus, "event_bus"))
            if description is not None and not (isinstance(description, str) and len(description) <= 512):
                problems.add(Problem("description", _cdk.short(description), "a string of at most 512 characters"))
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
            if not problems:
                _stack, stack_name, stack_path = _cdk.stack_info(scope)
                planned.append(
                    plan_rule_target(
                        problems.path,
                        alarm_prefix(stack_name, stack_path, problems.path),
                        retry_attempts,
                        _base.seconds_or_none(max_event_age),
                        _cdk.removal_policy_name(removal_policy),
                    )
                )

        planned: list[RuleTargetPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: RuleTargetPlan = planned[0]
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
            encryption_key=encryption_key,
            event_pattern=event_pattern
            if isinstance(event_pattern, events.EventPattern)
            else events.EventPattern(**pattern),  # type: ignore[arg-type]
            event_bus=event_bus,
            enabled=enabled,
            description=description or f"Events for {function.node.path} (live alias)",
            plan=self.plan,
        )
        _bundle.note(self, scope, id, self.plan.resource_count)


def event_pattern_fields(pattern: object) -> dict[str, object] | None:
    """The fields set in an EventPattern (struct or dict); None when it is neither."""
    if isinstance(pattern, events.EventPattern):
        return {k: getattr(pattern, k) for k in _PATTERN_FIELDS if getattr(pattern, k) is not None}
    if isinstance(pattern, Mapping) and all(k in _PATTERN_FIELDS for k in pattern):
        return {k: v for k, v in pattern.items() if v is not None}
    return None
