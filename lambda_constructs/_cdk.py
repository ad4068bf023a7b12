"""Small CDK helpers shared by every construct family: paths, durations, queues, alarms."""

from __future__ import annotations

import contextlib
import math
import sys
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import jsii
from aws_cdk import Acknowledgment, Duration, Stack, Token, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct, IValidation, Node

from lambda_constructs.core import limits
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.limits import Range, check_range


def is_token(value: object) -> bool:
    """True for an unresolved CDK token (a CfnParameter value, an attribute...): decided at deploy time.

    Plain Python values are recognised without a jsii round trip (each costs 100-180 us): a string
    token contains ``${Token[``, a list token ``#{Token[``, and a number token is an encoded
    double beyond 1e280; only such a number is confirmed with ``Token.is_unresolved``.
    """
    if isinstance(value, str):
        return "${Token[" in value or "#{Token[" in value
    if isinstance(value, bool | int):
        return False
    if isinstance(value, float):
        # never hand NaN or infinity to jsii: its JSON transport cannot carry them and its Node process dies
        return math.isfinite(value) and abs(value) > 1e280 and bool(Token.is_unresolved(value))
    if isinstance(value, list | tuple):
        return any(isinstance(v, str) and is_token(v) for v in value)
    return False


limits.is_unresolved = is_token  # tokens (e.g. CfnParameter values) are checked at deploy time


def short(value: object, limit: int = 80) -> object:
    """``value`` for an error message: its repr cut to ``limit`` characters."""
    text = repr(value)
    return value if len(text) <= limit else text[: limit - 3] + "..."


ALARM_PERIOD = Duration.minutes(5)
DURATION_ALARM_FRACTION = 0.8  # p99 above 80 % of the timeout: close to timing out
DLQ_RETENTION = Duration.days(14)  # SQS's maximum retention (Amazon SQS quotas): time to notice and redrive

T = TypeVar("T", bound=Construct)


def path_of(scope: IConstruct) -> str:
    """``scope.node.path``, read once per Python object (two jsii round trips saved on every later use)."""
    path: str | None = getattr(scope, "_lc_path", None)
    if path is None:
        path = node_of(scope).path
        object.__setattr__(scope, "_lc_path", path)
    return path


def node_of(scope: IConstruct) -> Node:
    """``scope.node``, read once per Python object."""
    node: Node | None = getattr(scope, "_lc_node", None)
    if node is None:
        node = scope.node
        object.__setattr__(scope, "_lc_node", node)
    return node


def id_of(construct: IConstruct) -> str:
    """A construct's id: from the path the library recorded when it made it, else from jsii."""
    path: str | None = getattr(construct, "_lc_path", None)
    return path.rsplit("/", 1)[-1] if path else node_of(construct).id


def stack_of(scope: IConstruct) -> Stack:
    """``Stack.of(scope)`` without the round trip when the construct was made directly in a stack."""
    stack = getattr(scope, "_lc_stack", None)
    if stack is None:
        stack = scope if isinstance(scope, Stack) else Stack.of(scope)
        object.__setattr__(scope, "_lc_stack", stack)
    return typing.cast(Stack, stack)


def stack_info(scope: IConstruct) -> tuple[Stack, str, str]:
    """The stack of ``scope``, its name and its path; name and path read once per stack."""
    stack = stack_of(scope)  # jsii hands back the same Python object for the same stack
    info: tuple[str, str] | None = getattr(stack, "_lc_info", None)
    if info is None:
        info = (stack.stack_name, path_of(stack))
        object.__setattr__(stack, "_lc_info", info)
    return stack, info[0], info[1]


def child_path(scope: Construct, id: str) -> str:
    """The construct path a child ``id`` of ``scope`` will have (before it exists)."""
    return "/".join(p for p in (path_of(scope), id) if p)


def validated(scope: Construct, id: str, check: Callable[[Problems], None], *, owner: object | None = None) -> str:
    """The one validation path of every construct: run ``check``, raise once, before anything is built.

    ``scope`` and ``id`` are checked first (a construct scope; a non-empty string id without ``/``),
    then ``check`` collects every problem of the props; an id a sibling already uses is refused when the
    construct is attached (:func:`unique_id`). A
    :class:`ConfigurationError` from a pure helper is reported at this path; any other exception
    from a check (a jsii error on a value of the wrong type) becomes a ConfigurationError too,
    so no foreign exception escapes and nothing is added to the tree.
    """
    if not isinstance(scope, Construct):
        raise ConfigurationError(
            [Problem("scope", short(scope), "a Construct (an App, a Stack, a construct)")], str(id)
        )
    if not isinstance(id, str) or not id or "/" in id:
        raise ConfigurationError(
            [Problem("id", short(id), "a non-empty string without '/'")], path_of(scope) or "<app>"
        )
    problems = Problems(child_path(scope, id))
    try:
        check(problems)
    except ConfigurationError as error:  # a pure helper raised: report it at this path
        problems.absorb(error)
    except Exception as error:  # a value of the wrong type reached aws-cdk-lib or Python arithmetic
        if not problems:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            problems.add(Problem("props", type(error).__name__, "values of the documented types", first))
    problems.raise_if_any()
    if owner is not None:  # the construct about to be created keeps its path and stack: no jsii reads later
        object.__setattr__(owner, "_lc_path", problems.path)
        if isinstance(scope, Stack):
            object.__setattr__(owner, "_lc_stack", scope)
    return problems.path


@contextlib.contextmanager
def unique_id(scope: Construct, id: str) -> Iterator[None]:
    """Around ``super().__init__(scope, id)``: an id a sibling already uses becomes a ConfigurationError.

    constructs itself refuses the duplicate and adds nothing to the tree; asking first
    (``node.try_find_child``) would cost a jsii round trip on every construct.
    """
    try:
        yield
    except RuntimeError as error:
        if "There is already a Construct with name" not in str(error):
            raise
        raise ConfigurationError(
            [Problem("id", id, f"an id not used by another child of {path_of(scope) or 'the app'}")],
            child_path(scope, id),
        ) from None


def duration_problem(prop: str, value: object, *, whole_seconds: bool = True, concrete: bool = False) -> Problem | None:
    """A problem if ``value`` is not a Duration (of whole seconds, when asked).

    A token Duration (``Duration.seconds(param.value_as_number)``) is left to deploy time, unless
    ``concrete``: then the library derives numbers from it (alarm thresholds, queue visibility) and
    says so.
    """
    if not isinstance(value, Duration):
        return Problem(prop, short(value), "an aws_cdk.Duration")
    if milliseconds(value) is None:
        if concrete:
            return Problem(
                prop,
                "a deploy-time token",
                "a concrete Duration",
                "alarm thresholds and queue visibility timeouts are derived from it at synthesis",
            )
        return None
    ms = typing.cast(float, milliseconds(value))
    if ms != ms or ms in (float("inf"), float("-inf")):
        return Problem(prop, f"{ms} ms", "a finite duration")
    if whole_seconds and ms % 1000:
        return Problem(prop, f"{ms:g} ms", "a whole number of seconds")
    return None


def duration_range_problem(prop: str, value: object, low_s: float, high_s: float, hint: str = "") -> Problem | None:
    """A problem unless ``value`` is a Duration of whole seconds within ``low_s..high_s`` (tokens pass)."""
    problem = duration_problem(prop, value)
    if problem or milliseconds(typing.cast(Duration, value)) is None:
        return problem
    return check_range(prop, seconds(typing.cast(Duration, value)), Range(low_s, high_s, "s"), hint)


def milliseconds(value: Duration) -> float | None:
    """The Duration in ms (None for a deploy-time token), read from jsii once per Duration object."""
    cached = getattr(value, "_lc_ms", False)
    if cached is False:
        try:  # one round trip: a token Duration either refuses the conversion or converts to a number token
            cached = value.to_milliseconds(integral=False)
        except RuntimeError:
            cached = None
        if cached is not None and is_token(cached):
            cached = None
        object.__setattr__(value, "_lc_ms", cached)
    return typing.cast("float | None", cached)


def seconds(value: Duration) -> int:
    return int(typing.cast(float, milliseconds(value)) // 1000)


def secure_queue(
    scope: Construct,
    id: str,
    *,
    retention: Duration = DLQ_RETENTION,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
    fifo: bool = False,
) -> sqs.Queue:
    """An SQS queue encrypted at rest (SSE-SQS) that refuses non-TLS requests."""
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
        fifo=True if fifo else None,
    )


def alarm_name(scope: Construct, suffix: str) -> str:
    """A readable, stable alarm name: ``<stack>-<path under the stack>-<suffix>`` (CloudWatch max 255)."""
    # the prefix costs four jsii round trips: compute it once per construct and keep it on the object
    prefix: str | None = getattr(scope, "_lc_alarm_prefix", None)
    if prefix is None:
        _stack, stack_name, stack_path = stack_info(scope)
        relative = path_of(scope)[len(stack_path) :].strip("/").replace("/", "-")
        prefix = "-".join(p for p in (stack_name, relative) if p)
        object.__setattr__(scope, "_lc_alarm_prefix", prefix)
    return f"{prefix}-{suffix}"[:255]


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
    if topic is not None:
        alarm.add_alarm_action(sns_action(topic))
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


def dead_letter_target_acks(queue: str) -> list[tuple[str, str]]:
    """A queue that *is* a failure path needs no DLQ of its own (AwsSolutions-SQS3, Serverless-SQSRedrivePolicy)."""
    reason = f"{queue} is itself a failure path; a dead-letter target needs no dead-letter queue or redrive of its own."
    return [("AwsSolutions-SQS3", reason), ("Serverless-SQSRedrivePolicy", reason)]


def acknowledge_dead_letter_target(queue: sqs.IQueue, what: str) -> None:
    """Acknowledge :func:`dead_letter_target_acks` on ``queue`` itself (``what``: the queue's role)."""
    acknowledge_all(queue, dead_letter_target_acks(f"This queue ({what})"))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge a rule-pack finding on ``scope`` (and its children), with its reason."""
    acknowledge_all(scope, [(rule_id, reason)])


def acknowledge_all(scope: IConstruct, rules: list[tuple[str, str]]) -> None:
    """Acknowledge several rule-pack findings on ``scope``, with their reasons.

    The acknowledged ids are cdk-nag rules, read only by cdk-nag's validation plugins, and a Python
    app can add such a plugin only by importing ``cdk_nag``. So while ``cdk_nag`` is not imported,
    nothing is sent to jsii (two round trips and the node metadata saved per construct): the
    acknowledgements wait in one validation per stack, which runs at synthesis, before the plugins
    read them, and applies them if ``cdk_nag`` has been imported by then.
    """
    if not rules:
        return
    if "cdk_nag" in sys.modules:
        _apply_acknowledgements(scope, rules)
        return
    stack = stack_of(scope)
    pending: _PendingAcknowledgements | None = getattr(stack, "_lc_pending_acks", None)
    if pending is None:
        pending = _PendingAcknowledgements()
        node_of(stack).add_validation(pending)
        object.__setattr__(stack, "_lc_pending_acks", pending)
    pending.entries.append((scope, rules))


def _apply_acknowledgements(scope: IConstruct, rules: list[tuple[str, str]]) -> None:
    Validations.of(scope).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in rules))


@jsii.implements(IValidation)
class _PendingAcknowledgements:
    """A stack's acknowledgements made while cdk-nag was not imported; applied at synthesis if it is by then."""

    def __init__(self) -> None:
        self.entries: list[tuple[IConstruct, list[tuple[str, str]]]] = []

    def validate(self) -> list[str]:
        if "cdk_nag" in sys.modules:
            entries, self.entries = self.entries, []
            for scope, rules in entries:
                _apply_acknowledgements(scope, rules)
        return []


def implements(value: object, attribute: str) -> bool:
    """Duck-typed check for a jsii interface (``IQueue``, ``IStream``...), which are not runtime-checkable.

    Looks the attribute up on the type: on a jsii proxy, ``hasattr(value, ...)`` would read the
    property through the kernel (a round trip per check).
    """
    if value is None or isinstance(value, str | bytes | int | float):
        return False
    return hasattr(type(value), attribute) or attribute in getattr(value, "__dict__", {})


def topic_problem(topic: object, prop: str = "alarm_topic") -> Problem | None:
    """A problem unless ``topic`` is an SNS topic (or None)."""
    if topic is None or implements(topic, "topic_arn"):
        return None
    return Problem(prop, short(topic), "an aws_sns.ITopic or None")


def function_alarms(
    scope: Construct, function: Any, timeout_seconds: int, topic: sns.ITopic | None, note: str = ""
) -> list[cloudwatch.Alarm]:
    """Errors >= 1, Throttles >= 1 and p99 Duration > 80 % of the timeout, per 5 minutes, for ``function``."""
    path = path_of(scope)
    return [
        make_alarm(
            scope,
            "ErrorsAlarm",
            metric=function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            threshold=1,
            topic=topic,
            description=f"{path}: the function raised errors in the last 5 minutes.{note}",
        ),
        make_alarm(
            scope,
            "ThrottlesAlarm",
            metric=function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
            threshold=1,
            topic=topic,
            description=f"{path}: invocations were throttled (concurrency limit reached).{note}",
        ),
        make_alarm(
            scope,
            "DurationAlarm",
            metric=function.metric_duration(period=ALARM_PERIOD, statistic="p99"),
            threshold=timeout_seconds * 1000 * DURATION_ALARM_FRACTION,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            topic=topic,
            description=f"{path}: p99 duration above 80% of the {timeout_seconds} s timeout: "
            f"invocations are close to timing out.{note}",
        ),
    ]
