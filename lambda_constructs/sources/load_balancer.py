"""LoadBalancerTarget: an Application Load Balancer listener rule -> a Lambda target group on ``live``."""

from __future__ import annotations

import typing
from collections.abc import Sequence

from aws_cdk import Annotations, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elb_targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.config import Invocation
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

LAMBDA_TARGETS_PAGE = (
    "'Use Lambda functions as targets of an Application Load Balancer' "
    "(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html)"
)


class LoadBalancerTarget(Construct):
    """A listener rule on an Application Load Balancer forwarding to a Lambda target group on ``live``.

    The load balancer invokes the function synchronously and waits; it passes the request as JSON
    and expects a JSON response. Its limits for Lambda targets ("Use Lambda functions as targets of an
    Application Load Balancer", Elastic Load Balancing user guide): a request body
    of at most 1 MB and a response JSON of at most 1 MB. Neither is visible at synthesis (they are
    payloads), so they are alarmed: a request or response over 1 MB is counted by the load balancer
    as ``LambdaUserError`` and the client gets a 502. The function timeout is checked against the load
    balancer's idle timeout (60 s unless the load balancer made in this app sets another): a function
    still running when the load balancer stops waiting answers nobody.

    Alarms: the target group's ``HTTPCode_Target_5XX_Count`` (the function returned 5xx, or failed),
    ``LambdaUserError`` (permissions, malformed or oversized JSON) and ``LambdaInternalError``.

    Args:
        function: a ProductionFunction, normally ``Invocation.SYNC``.
        listener: the ALB listener (``aws_elasticloadbalancingv2.IApplicationListener``).
        priority: the rule priority, 1..50,000, unique on the listener.
        conditions: 1..5 ``elbv2.ListenerCondition`` (path patterns, host headers, ...).
        multi_value_headers: the load balancer passes repeated headers and query parameters as lists
            (``multiValueHeaders``); the handler must then answer with ``multiValueHeaders`` too. Default False.
        server_error_threshold: HTTPCode_Target_5XX_Count per 5 minutes that alarms; default 1.
        alarm_topic: default the function's topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: FunctionTarget,
        listener: elbv2.IApplicationListener,
        priority: int,
        conditions: Sequence[elbv2.ListenerCondition],
        multi_value_headers: bool = False,
        server_error_threshold: int = 1,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        def check(problems: Problems) -> None:
            if not _source.check_function(problems, function):
                return
            problems.add(_source.topic_problem(alarm_topic))
            if not _is_listener(listener):
                problems.add(
                    Problem("listener", _cdk.short(listener), "an aws_elasticloadbalancingv2.IApplicationListener")
                )
            problems.add(
                limits.check_int_range(
                    "priority",
                    priority,
                    limits.Range(limits.ALB_RULE_PRIORITY_MIN, limits.ALB_RULE_PRIORITY_MAX),
                    "each rule on a listener needs its own priority (lower is evaluated first)",
                )
            )
            problem = _source.sequence_problem(
                "conditions", conditions, elbv2.ListenerCondition, "a list of 1..5 elbv2.ListenerCondition"
            )
            if problem is None and not 1 <= len(conditions) <= limits.ALB_RULE_CONDITIONS_MAX:
                problem = Problem(
                    "conditions",
                    f"{len(conditions)} conditions",
                    f"1..{limits.ALB_RULE_CONDITIONS_MAX} (a rule needs a condition; ALB evaluates at most 5)",
                )
            problems.add(problem)
            if not isinstance(multi_value_headers, bool):
                problems.add(Problem("multi_value_headers", _cdk.short(multi_value_headers), "True or False"))
            problems.add(
                limits.check_int_range("server_error_threshold", server_error_threshold, limits.Range(1, 1_000_000))
            )
            _check_same_stack(problems, function, listener)

        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.function = function
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "TargetGroup",
            target_type=elbv2.TargetType.LAMBDA,
            targets=[elb_targets.LambdaTarget(function.alias)],
            multi_value_headers_enabled=multi_value_headers or None,
        )
        self.rule = elbv2.ApplicationListenerRule(
            self,
            "Rule",
            listener=listener,
            priority=priority,
            conditions=list(conditions),
            action=elbv2.ListenerAction.forward([self.target_group]),
        )
        self._warn_idle_timeout(function, listener)
        _source.warn_invocation(self, function, Invocation.SYNC, "load balancer")
        topic = _source.alarm_topic(function, alarm_topic)
        path = _cdk.path_of(self)
        metrics = self.target_group.metrics
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            _cdk.make_alarm(
                self,
                "Target5xxAlarm",
                metric=metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=_cdk.ALARM_PERIOD, statistic="Sum"
                ),
                threshold=server_error_threshold,
                topic=topic,
                description=f"{path}: the function answered the load balancer with 5xx, or failed.",
            ),
            _cdk.make_alarm(
                self,
                "LambdaUserErrorAlarm",
                metric=metrics.custom("LambdaUserError", period=_cdk.ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                topic=topic,
                description=f"{path}: the load balancer could not use the function's answer: a request or "
                "response over 1 MB, malformed JSON, or a missing permission (clients got 502).",
            ),
            _cdk.make_alarm(
                self,
                "LambdaInternalErrorAlarm",
                metric=metrics.custom("LambdaInternalError", period=_cdk.ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                topic=topic,
                description=f"{path}: requests to the function failed inside the load balancer or Lambda.",
            ),
        )

    def _warn_idle_timeout(self, function: FunctionTarget, listener: object) -> None:
        idle = _idle_timeout_s(listener)
        if idle is not None and function.timeout_seconds >= idle:
            Annotations.of(self).add_warning_v2(
                "lambda-constructs:alb-idle-timeout",
                f"{function.node.path} times out after {function.timeout_seconds} s but the load balancer stops "
                f"waiting after its idle timeout of {idle} s: the client gets a 504 while the function keeps "
                "running. Shorten the function, or raise idle_timeout on the load balancer.",
            )


def _check_same_stack(problems: Problems, function: FunctionTarget, listener: object) -> None:
    """The target group and the function must be in the same account and Region (same page)."""
    if not _is_listener(listener):
        return
    fn_stack, lb_stack = Stack.of(function.alias), Stack.of(typing.cast(Construct, listener))
    for what in ("account", "region"):
        a, b = getattr(fn_stack, what), getattr(lb_stack, what)
        if not _cdk.is_token(a) and not _cdk.is_token(b) and a != b:
            problems.add(
                Problem(
                    f"listener.{what}",
                    b,
                    f"the function's {what} ({a})",
                    "a Lambda target must be in the same account and Region as its load balancer",
                )
            )


def _is_listener(listener: object) -> bool:
    """An ApplicationListener, or an imported one (a jsii interface proxy: its type has no attributes)."""
    if _cdk.implements(listener, "listener_arn"):
        return True
    return type(listener).__name__ == "InterfaceDynamicProxy" and hasattr(listener, "listener_arn")


def _idle_timeout_s(listener: object) -> int | None:
    """The idle timeout of the listener's load balancer when it is made in this app, else None."""
    balancer = getattr(listener, "load_balancer", None)
    if not isinstance(balancer, elbv2.ApplicationLoadBalancer):
        return None
    cfn = typing.cast(elbv2.CfnLoadBalancer, balancer.node.default_child)
    attributes = Stack.of(balancer).resolve(cfn.load_balancer_attributes) or []
    for attribute in attributes:
        if isinstance(attribute, dict) and attribute.get("key") == "idle_timeout.timeout_seconds":
            value = attribute.get("value")
            return int(value) if isinstance(value, str) and value.isdigit() else None
    return limits.ALB_DEFAULT_IDLE_TIMEOUT_S
