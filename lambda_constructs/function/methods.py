"""The checks of ProductionFunction's public methods: the constructor's rules, applied after construction.

Every public method (``add_*``, ``grant_*``, ``metric*``, ``configure_async_invoke``,
``add_environment``) validates its arguments here before it touches the tree, and a bad argument is one
[`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError] at the function's path naming the
method and the argument (``add_event_source(source)=...``), never a jsii or aws-cdk-lib error after half the
work.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from lambda_constructs import _cdk, _relations
from lambda_constructs.core import limits
from lambda_constructs.core.errors import ConfigurationError, Problem

CREATE_MAPPING = _relations.CREATE_MAPPING

# CloudWatch: "Valid values are 1, 5, 10, 30, and any multiple of 60" (Amazon CloudWatch API reference,
# MetricStat.Period: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html)
HIGH_RESOLUTION_PERIODS_S = (1, 5, 10, 30)
SQS_RULE = (
    "Lambda refuses a mapping whose queue visibility timeout is below the function timeout (Using Lambda with "
    "Amazon SQS: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html)"
)


def refuse(owner: object, problems: list[Problem | None]) -> None:
    """Raise the problems found at ``owner``'s path, if any."""
    found = [p for p in problems if p]
    if found:
        raise ConfigurationError(found, _cdk.path_of(typing.cast(Any, owner)))


def guarded(owner: object, method: str, call: Callable[[], Any], scope: Any = None) -> Any:
    """Run ``call`` (the delegation to aws-cdk-lib); an error it still raises becomes a ConfigurationError.

    aws-cdk-lib validates some options only in a construct's constructor, after the construct joined the
    tree: whatever ``call`` added under ``scope`` is removed again, so a refused call leaves nothing behind.
    """
    before = {c.node.id for c in scope.node.children} if scope is not None else set()
    try:
        return call()
    except Exception as error:
        if scope is not None:
            for child in scope.node.children:
                if child.node.id not in before:
                    scope.node.try_remove_child(child.node.id)
        if isinstance(error, ConfigurationError) or not isinstance(error, RuntimeError | TypeError):
            raise
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        if "There is already a Construct with name" in text:
            raise ConfigurationError(
                [Problem(method, "an id in use", "an id not used by another child", first.split("Error: ", 1)[-1])],
                _cdk.path_of(typing.cast(Any, owner)),
            ) from None
        raise ConfigurationError(
            [Problem(method, "refused by aws-cdk-lib", "arguments aws-cdk-lib accepts", first)],
            _cdk.path_of(typing.cast(Any, owner)),
        ) from None


def merged(owner: object, prop: str, struct: object, kwargs: Mapping[str, Any], cls: type) -> dict[str, Any]:
    """The keyword arguments of a method's optional positional struct (``props``, ``options``) and ``kwargs``.

    The struct may be None, a mapping or an instance of ``cls`` (what aws-cdk-lib passes back); anything else
    (``fn.metric("Errors", 5)``) is refused, never silently dropped.
    """
    if struct is None or isinstance(struct, Mapping | cls):
        return _struct_kwargs(struct, dict(kwargs))
    refuse(owner, [Problem(prop, _cdk.short(struct), f"None, a mapping or an aws_cdk {cls.__name__}")])
    return {}  # unreachable: refuse raised


def _struct_kwargs(struct: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    if struct is None:
        return kwargs
    if isinstance(struct, Mapping):
        return {**struct, **kwargs}
    return {**getattr(struct, "_values", {}), **kwargs}


def struct_problem(prop: str, cls: type, kwargs: Mapping[str, Any]) -> Problem | None:
    """A problem unless ``kwargs`` build the jsii struct ``cls`` (unknown keyword, wrong type).

    NaN and infinity are refused first: jsii's JSON transport cannot carry them and its Node process dies.
    """
    for name, value in kwargs.items():
        if isinstance(value, float) and not math.isfinite(value):
            return Problem(f"{prop.split('(')[0]}({name})", value, "a finite number")
    try:
        cls(**kwargs)
    except TypeError as error:
        return Problem(prop, _cdk.short(dict(kwargs)), f"keyword arguments of {cls.__name__}", str(error))
    return None


def grantee_problem(method: str, grantee: object, arg: str = "grantee", owner: object = None) -> Problem | None:
    if _cdk.implements(grantee, "grant_principal"):
        return _relations.same_app_problem(owner, grantee, f"{method}({arg})")
    hint = ""
    if isinstance(grantee, str):
        hint = (
            "an ARN is not a grantee: pass the construct (a role imported with iam.Role.from_role_arn, a function); "
            "for a service principal use add_permission(id, principal=iam.ServicePrincipal(...))"
        )
    return Problem(f"{method}({arg})", _cdk.short(grantee), "an aws_iam.IGrantable (a role, a user, a function)", hint)


def period_problem(prop: str, period: object) -> Problem | None:
    """CloudWatch accepts a metric period of 1, 5, 10 or 30 s, or a multiple of 60 s."""
    if period is None:
        return None
    problem = _cdk.duration_problem(prop, period, whole_seconds=True, concrete=True)
    if problem:
        return problem
    seconds = _cdk.seconds(typing.cast(Duration, period))
    if seconds in HIGH_RESOLUTION_PERIODS_S or (seconds > 0 and seconds % 60 == 0):
        return None
    return Problem(
        prop,
        f"{seconds} s",
        "1, 5, 10 or 30 s, or a multiple of 60 s",
        "CloudWatch metric periods (MetricStat.Period, Amazon CloudWatch API reference)",
    )


def metric_problems(method: str, props: Mapping[str, Any], metric_name: object = "-") -> list[Problem | None]:
    found: list[Problem | None] = []
    if metric_name != "-" and not (isinstance(metric_name, str) and metric_name.strip()):
        found.append(
            Problem(f"{method}(metric_name)", _cdk.short(metric_name), "a CloudWatch metric name, e.g. 'Errors'")
        )
    problem = struct_problem(f"{method}(props)", cloudwatch.MetricOptions, props)
    if problem:
        return [*found, problem]
    found.append(period_problem(f"{method}(period)", props.get("period")))
    found.append(statistic_problem(f"{method}(statistic)", props.get("statistic")))
    return found


# CloudWatch statistics definitions (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
# Statistics-definitions.html): the five simple statistics (aws-cdk-lib also reads avg/min/max/n, any case),
# IQM, and pNN / tmNN / wmNN / tcNN / tsNN (0..100) or TM(a:b), WM, TC, TS, PR with bounds
_SIMPLE_STATISTICS = frozenset({"samplecount", "n", "sum", "average", "avg", "minimum", "min", "maximum", "max", "iqm"})
_PERCENT = re.compile(r"^(p|tm|wm|tc|ts)(\d+(?:\.\d{1,10})?)$", re.IGNORECASE)
_BOUNDS = re.compile(r"^(tm|wm|tc|ts|pr)\(\s*(\d+(?:\.\d+)?%?)?\s*:\s*(\d+(?:\.\d+)?%?)?\s*\)$", re.IGNORECASE)


def statistic_problem(prop: str, statistic: object) -> Problem | None:
    """A problem unless ``statistic`` is one CloudWatch computes (CloudWatch rejects the alarm or widget otherwise)."""
    if statistic is None or (isinstance(statistic, str) and _cdk.is_token(statistic)):
        return None
    allowed = "a CloudWatch statistic: Sum, Average, Minimum, Maximum, SampleCount, IQM, pNN (0..100), tmNN, TM(a%:b%)"
    if not isinstance(statistic, str):
        return Problem(prop, _cdk.short(statistic), allowed)
    text = statistic.strip()
    if text.lower() in _SIMPLE_STATISTICS:
        return None
    percent = _PERCENT.match(text)
    if percent and float(percent.group(2)) <= 100:
        return None
    bounds = _BOUNDS.match(text)
    if bounds and (bounds.group(2) or bounds.group(3)):
        return None
    return Problem(
        prop,
        statistic,
        allowed,
        "CloudWatch statistics definitions: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
        "Statistics-definitions.html",
    )


def alarm_problems(
    method: str, alarms: tuple[object, ...], existing: list[Any], owner: object = None
) -> list[Problem | None]:
    found: list[Problem | None] = []
    seen = {id(a) for a in existing}
    for index, alarm in enumerate(alarms):
        arg = f"{method}(alarms[{index}])" if method == "add_alarms" else f"{method}(alarm)"
        if not isinstance(alarm, cloudwatch.Alarm):
            hint = "a name is not an alarm: build one with fn.metric_errors().create_alarm(...) or cloudwatch.Alarm"
            found.append(
                Problem(arg, _cdk.short(alarm), "an aws_cloudwatch.Alarm", hint if isinstance(alarm, str) else "")
            )
        elif id(alarm) in seen:
            found.append(Problem(arg, _cdk.path_of(alarm), "an alarm not registered with this function yet"))
        else:
            found.append(_relations.same_app_problem(owner, alarm, arg))
        seen.add(id(alarm))
    return found


def event_source_arn(source: object) -> tuple[str | None, str]:
    """The ARN an aws-cdk-lib event source maps, when it exposes one, and what it is."""
    queue = getattr(source, "queue", None) if isinstance(source, _sources().SqsEventSource) else None
    if queue is not None:
        return queue.queue_arn, _cdk.path_of(queue)
    stream = getattr(source, "stream", None) if isinstance(source, _sources().KinesisEventSource) else None
    if stream is not None:
        return stream.stream_arn, _cdk.path_of(stream)
    return None, ""  # DynamoEventSource keeps its table private: its duplicate is Lambda's to refuse


def event_source_problems(function: Any, source: object) -> list[Problem | None]:
    prop = "add_event_source(source)"
    if not _cdk.implements(source, "bind"):
        hint = (
            "an ARN is not an event source: wrap the resource, e.g. SqsEventSource(sqs.Queue.from_queue_arn(...)), "
            "or use QueueConsumer / StreamConsumer"
            if isinstance(source, str)
            else ""
        )
        return [Problem(prop, _cdk.short(source), "an aws_lambda.IEventSource (aws_lambda_event_sources)", hint)]
    found: list[Problem | None] = []
    for attribute in ("queue", "stream", "bucket", "topic"):  # the resource an aws-cdk-lib source wraps
        foreign = _relations.same_app_problem(function, getattr(source, attribute, None), prop)
        if foreign:
            return [foreign]
    arn, what = event_source_arn(source)
    found.append(_relations.mapping_problem(function, arn, prop, what))
    if isinstance(source, _sources().SqsEventSource) and isinstance(source.queue, sqs.Queue):
        found.append(_visibility_problem(source.queue, function.timeout_seconds, prop))
    return found


def events_problems(events: object, timeout_s: int) -> list[Problem | None]:
    """The constructor's ``events=``: each SQS source's visibility timeout, and no source twice."""
    if not isinstance(events, list | tuple) or not timeout_s:
        return []
    found: list[Problem | None] = []
    seen: dict[str, int] = {}
    for index, source in enumerate(events):
        if not isinstance(source, _sources().SqsEventSource | _sources().KinesisEventSource):
            continue
        arn, _what = event_source_arn(source)
        if arn is not None and arn in seen:
            found.append(
                Problem(f"events[{index}]", f"the source of events[{seen[arn]}]", "each source once", CREATE_MAPPING)
            )
        if arn is not None:
            seen.setdefault(arn, index)
        if isinstance(source, _sources().SqsEventSource) and isinstance(source.queue, sqs.Queue):
            found.append(_visibility_problem(source.queue, timeout_s, f"events[{index}]"))
    return found


def _visibility_problem(queue: sqs.Queue, timeout_s: int, prop: str) -> Problem | None:
    cfn = typing.cast(sqs.CfnQueue, queue.node.default_child)
    current = cfn.visibility_timeout if cfn.visibility_timeout is not None else 30  # SQS's default
    if not isinstance(current, int | float) or _cdk.is_token(current) or current >= timeout_s:
        return None
    needed = limits.sqs_visibility_timeout_s(timeout_s)
    return Problem(
        f"{prop}.queue.visibility_timeout",
        f"{current:g} s",
        f">= the function timeout ({timeout_s} s); recommended {needed} s (6 x timeout)",
        f"{SQS_RULE}; create the queue with visibility_timeout=Duration.seconds({needed}), or use QueueConsumer",
    )


def mapping_options_problems(function: Any, id: object, kwargs: Mapping[str, Any]) -> list[Problem | None]:
    method = "add_event_source_mapping"
    found: list[Problem | None] = [id_problem(method, id)]
    found.append(struct_problem(f"{method}(options)", lambda_.EventSourceMappingOptions, kwargs))
    found.append(_relations.mapping_problem(function, kwargs.get("event_source_arn"), f"{method}(event_source_arn)"))
    return found


def id_problem(method: str, id: object) -> Problem | None:
    if isinstance(id, str) and id and "/" not in id:
        return None
    return Problem(f"{method}(id)", _cdk.short(id), "a non-empty string without '/'")


def function_url_problems(function: Any, kwargs: Mapping[str, Any]) -> list[Problem | None]:
    method = "add_function_url"
    found: list[Problem | None] = [struct_problem(f"{method}(options)", lambda_.FunctionUrlOptions, kwargs)]
    first = getattr(function, "_lc_sources", {}).get("function_url")
    if first is not None:
        found.append(
            Problem(
                method,
                "a second Function URL",
                f"one Function URL per alias (the live alias has one from {first})",
                "Lambda allows one Function URL per function alias (Lambda function URLs: "
                "https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html); use the first one's url",
            )
        )
    return found


def permission_problems(id: object, kwargs: Mapping[str, Any]) -> list[Problem | None]:
    method = "add_permission"
    found: list[Problem | None] = [id_problem(method, id)]
    if "principal" not in kwargs:
        found.append(Problem(f"{method}(principal)", None, "an aws_iam.IPrincipal, e.g. iam.ServicePrincipal(...)"))
        return found
    if not _cdk.implements(kwargs["principal"], "policy_fragment"):
        found.append(
            Problem(
                f"{method}(principal)", _cdk.short(kwargs["principal"]), "an aws_iam.IPrincipal, e.g. ServicePrincipal"
            )
        )
        return found
    found.append(struct_problem(f"{method}(permission)", lambda_.Permission, kwargs))
    return found


def _sources() -> Any:
    from aws_cdk import aws_lambda_event_sources

    return aws_lambda_event_sources


def statement_problem(statement: object) -> Problem | None:
    if isinstance(statement, iam.PolicyStatement):
        return None
    return Problem("add_to_role_policy(statement)", _cdk.short(statement), "an aws_iam.PolicyStatement")
