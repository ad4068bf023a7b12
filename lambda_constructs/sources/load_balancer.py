"""LoadBalancerTarget: an Application Load Balancer listener rule -> a Lambda target group on ``live``."""

from __future__ import annotations

import typing
from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elb_targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem, Problems
from lambda_constructs.core.plans import endpoint as plans
from lambda_constructs.core.plans.common import AlarmPlan, alarm_prefix
from lambda_constructs.core.plans.endpoint import LAMBDA_TARGETS_PAGE, LoadBalancerPlan
from lambda_constructs.function import _bundle
from lambda_constructs.sources import _base as _source
from lambda_constructs.sources._base import FunctionTarget

__all__ = ["LAMBDA_TARGETS_PAGE", "LoadBalancerTarget"]


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
    ``LambdaUserError`` (permissions, malformed or oversized JSON) and ``LambdaInternalError``. Every
    decision is in ``.plan`` (a `LoadBalancerPlan`, ``core/plans/endpoint.py``), which the construct is built from.

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
            is_listener = _is_listener(listener)
            if not is_listener:
                problems.add(
                    Problem("listener", _cdk.short(listener), "an aws_elasticloadbalancingv2.IApplicationListener")
                )
            problems.add(plans.priority_problem(priority))
            problems.add(
                _source.sequence_problem(
                    "conditions", conditions, elbv2.ListenerCondition, "a list of 1..5 elbv2.ListenerCondition"
                )
                or plans.conditions_problem(len(conditions))
            )
            problems.extend(plans.target_option_problems(multi_value_headers, server_error_threshold))
            if is_listener:
                problems.extend(
                    plans.same_environment_problems(
                        _environment(function.alias), _environment(typing.cast(Construct, listener))
                    )
                )
            if problems:
                return
            _stack, stack_name, stack_path = _cdk.stack_info(scope)
            planned.append(
                plans.plan_load_balancer(
                    plans.LoadBalancerRequest(
                        path=problems.path,
                        alarm_prefix=alarm_prefix(stack_name, stack_path, problems.path),
                        function_path=_cdk.path_of(typing.cast(Construct, function)),
                        timeout_s=function.timeout_seconds,
                        invocation=function.invocation,
                        priority=priority,
                        conditions=len(conditions),
                        multi_value_headers=multi_value_headers,
                        server_error_threshold=server_error_threshold,
                        idle_timeout_s=_idle_timeout_s(listener),
                    )
                )
            )

        planned: list[LoadBalancerPlan] = []
        _cdk.validated(scope, id, check, owner=self)
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.plan: LoadBalancerPlan = planned[0]
        plan = self.plan
        self.function = function
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "TargetGroup",
            target_type=elbv2.TargetType[plan.target_type],
            targets=[elb_targets.LambdaTarget(function.alias)],
            multi_value_headers_enabled=plan.multi_value_headers or None,
        )
        _bundle.unknown(function)  # Lambda's invoke permission is made under the alias, which its plan did not count
        self.rule = elbv2.ApplicationListenerRule(
            self,
            "Rule",
            listener=listener,
            priority=plan.priority,
            conditions=list(conditions),
            action=elbv2.ListenerAction.forward([self.target_group]),
        )
        _cdk.annotate(self, plan.notes)
        topic = _source.alarm_topic(function, alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = function.add_alarms(
            *(_cdk.build_alarm(self, alarm, self._metric(alarm), topic) for alarm in plan.alarms)
        )
        _bundle.note(self, scope, id, plan.resource_count)

    def _metric(self, alarm: AlarmPlan) -> cloudwatch.IMetric:
        """The target group metric an alarm of the plan reads."""
        metrics = self.target_group.metrics
        if alarm.metric == plans.ALB_TARGET_5XX_METRIC:
            return metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=_cdk.ALARM_PERIOD, statistic=alarm.statistic
            )
        return metrics.custom(alarm.metric, period=_cdk.ALARM_PERIOD, statistic=alarm.statistic)


def _environment(construct: Construct) -> plans.Environment:
    """The account and Region of ``construct``'s stack (None for a deploy-time token)."""
    stack = Stack.of(construct)
    account, region = stack.account, stack.region
    return (None if _cdk.is_token(account) else account, None if _cdk.is_token(region) else region)


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
