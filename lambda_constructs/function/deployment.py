"""Safe deployments: CodeDeploy traffic shifting on the ``live`` alias with alarm rollback.

Provisioned concurrency and weighted aliases: while CodeDeploy shifts traffic, the alias is
weighted between two versions, and Lambda refuses to change provisioned concurrency on a
weighted alias ("Alias with weights can not be used with Provisioned Concurrency";
SAM#1296, terraform#24957). CloudFormation hits that when the alias resource itself carries
``ProvisionedConcurrencyConfig`` and a deploy changes it. So with a
[`Deployment`][lambda_constructs.function.deployment.Deployment], ProductionFunction leaves the alias without a static
provisioned-concurrency value and lets the Application Auto Scaling target (min capacity =
``ProvisionedConcurrency.min_capacity``) own it alone: no stack update ever writes provisioned concurrency on the alias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Annotations, CfnResource, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.errors import Problem
from lambda_constructs.core.plans import function as plans
from lambda_constructs.core.plans.common import AlarmPlan
from lambda_constructs.function._protocol import LiveFunction, as_construct, is_live_function

KINDS = ("canary", "linear", "all_at_once")
Hook = Any  # ProductionFunction | lambda_.IFunction (a forward reference jsii cannot express)


@dataclass(frozen=True)
class Deployment:
    """How a new version reaches the ``live`` alias. Use the factories.

    - `canary()`: ``percent`` of traffic for ``minutes``, then the rest.
    - `linear()`: ``percent`` more every ``minutes``.
    - `all_at_once()`: shift everything, still with alarm-based rollback.

    ``pre_traffic_hook`` / ``post_traffic_hook`` are Lambda functions CodeDeploy runs before
    and after shifting (they report back with codedeploy:PutLifecycleEventHookExecutionStatus).
    Pass a ProductionFunction and CodeDeploy invokes its ``live`` alias, with an IAM grant on
    that alias alone; a plain ``IFunction`` gets aws-cdk's grant on every version (``arn:*``).
    """

    kind: str
    percent: int = 0
    minutes: int = 0
    pre_traffic_hook: Hook | None = None
    post_traffic_hook: Hook | None = None

    @staticmethod
    def canary(
        percent: int = 10,
        minutes: int = 5,
        *,
        pre_traffic_hook: lambda_.IFunction | None = None,
        post_traffic_hook: lambda_.IFunction | None = None,
    ) -> Deployment:
        return Deployment("canary", percent, minutes, pre_traffic_hook, post_traffic_hook)

    @staticmethod
    def linear(
        percent: int = 10,
        minutes: int = 1,
        *,
        pre_traffic_hook: lambda_.IFunction | None = None,
        post_traffic_hook: lambda_.IFunction | None = None,
    ) -> Deployment:
        return Deployment("linear", percent, minutes, pre_traffic_hook, post_traffic_hook)

    @staticmethod
    def all_at_once(
        *, pre_traffic_hook: lambda_.IFunction | None = None, post_traffic_hook: lambda_.IFunction | None = None
    ) -> Deployment:
        return Deployment("all_at_once", 0, 0, pre_traffic_hook, post_traffic_hook)

    def problems(self) -> list[Problem]:
        if self.kind not in KINDS:
            return [Problem("deployment.kind", self.kind, " | ".join(KINDS))]
        hooks = [
            Problem(f"deployment.{name}", _cdk.short(hook), "a ProductionFunction or an aws_lambda.IFunction")
            for name, hook in (
                ("pre_traffic_hook", self.pre_traffic_hook),
                ("post_traffic_hook", self.post_traffic_hook),
            )
            if hook is not None and not _cdk.implements(hook, "function_arn")
        ]
        if hooks:
            return hooks
        if self.kind == "all_at_once":
            return []
        found = [
            limits.check_int_range("deployment.percent", self.percent, limits.Range(1, 99, "%")),
            # CodeDeploy's time-based routing interval: 1..2880 minutes (48 h)
            limits.check_int_range("deployment.minutes", self.minutes, limits.Range(1, 2880, "minutes")),
        ]
        return [p for p in found if p]


def build_deployment_group(
    function: LiveFunction, deployment: Deployment, alarms: Sequence[AlarmPlan] | None = None
) -> codedeploy.LambdaDeploymentGroup:
    """A deployment group on ``function.alias`` rolling back on the function's own alarms.

    ``alarms``: the rollback alarms of the function's plan (default: planned here, from the function).
    """
    scope = as_construct(function)
    object.__setattr__(function, "_lc_deployment", deployment)  # a ScheduledFunction warns on a canary
    config: codedeploy.ILambdaDeploymentConfig
    if deployment.kind == "all_at_once":
        config = codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
    else:
        routing: codedeploy.TrafficRouting = (
            codedeploy.TrafficRouting.time_based_canary(
                interval=Duration.minutes(deployment.minutes), percentage=deployment.percent
            )
            if deployment.kind == "canary"
            else codedeploy.TrafficRouting.time_based_linear(
                interval=Duration.minutes(deployment.minutes), percentage=deployment.percent
            )
        )
        config = codedeploy.LambdaDeploymentConfig(scope, "DeploymentConfig", traffic_routing=routing)
    pre_hook, post_hook = _hook(deployment.pre_traffic_hook), _hook(deployment.post_traffic_hook)
    group = codedeploy.LambdaDeploymentGroup(
        scope,
        "DeploymentGroup",
        alias=function.alias,
        deployment_config=config,
        alarms=function.add_alarms(*rollback_alarms(function, alarms)),
        auto_rollback=codedeploy.AutoRollbackConfig(
            failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
        ),
        pre_hook=pre_hook,
        post_hook=post_hook,
    )
    acks = [
        (
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{_CODEDEPLOY_POLICY}]",
            "aws-cdk-lib always attaches AWSCodeDeployRoleForLambdaLimited to a Lambda deployment group's role: "
            "AWS's own policy scoped to what CodeDeploy needs for Lambda (Get/UpdateAlias, DescribeAlarms).",
        )
    ]
    # the managed policy on the group's role resource, the hooks' grants on the policy they land in
    _cdk.acknowledge_all(_cdk.resource_of(group.role), acks)
    hook_acks = [ack for ack in (_hook_grant_ack(pre_hook), _hook_grant_ack(post_hook)) if ack is not None]
    _cdk.acknowledge_all(_cdk.default_policy_of(group.role) or _cdk.resource_of(group.role), hook_acks)
    return group


_CODEDEPLOY_POLICY = "AWSCodeDeployRoleForLambdaLimited"


def warn_rare_traffic(scope: Any, deployment: Deployment, why: str) -> None:
    """A canary or linear shift on a function that runs rarely never sees traffic during the shift.

    CodeDeploy sends ``percent`` of the invocations in each ``minutes`` window to the new version; a
    function invoked once a day gets none there, so the rollback alarms cannot fire and the deploy
    "succeeds" untested. Use ``Deployment.all_at_once(pre_traffic_hook=...)`` with a hook that invokes
    the new version with a representative event, or no Deployment at all.
    """
    Annotations.of(scope).add_warning_v2(
        "lambda-constructs:canary-without-traffic", plans.rare_traffic_message(deployment.kind, why)
    )


ROLLBACK_PERIOD = Duration.minutes(1)
ROLLBACK_EVALUATION_PERIODS = (
    plans.ROLLBACK_EVALUATION_PERIODS
)  # 2 of the last 3 minutes: one stray error is no rollback
ROLLBACK_DATAPOINTS = plans.ROLLBACK_DATAPOINTS


def rollback_alarms(function: LiveFunction, planned: Sequence[AlarmPlan] | None = None) -> list[cloudwatch.Alarm]:
    """Alarms that judge the new version's own traffic through ``live`` during a deployment.

    The function-wide Errors / Duration alarms would also see the old version (still serving most
    of the traffic during a canary) and a p99 over three invocations. These alarms read the
    alias's metrics for the version being deployed (``ExecutedVersion``), alarm on 2 of 3 one-minute
    periods, and ignore a percentile computed from too few samples
    (`lambda_constructs.core.plans.function.rollback_alarms()`).
    """
    scope = as_construct(function)
    if planned is None:
        planned = plans.rollback_alarms(_cdk.path_of(scope), _cdk.alarm_prefix(scope), function.timeout_seconds)
    dimensions = {
        "FunctionName": function.function.function_name,
        "Resource": f"{function.function.function_name}:{function.alias.alias_name}",
        "ExecutedVersion": function.version.version,
    }

    def metric(alarm: AlarmPlan) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=alarm.metric,
            dimensions_map=dimensions,
            period=ROLLBACK_PERIOD if alarm.period_s == 60 else _cdk.duration_seconds(alarm.period_s),
            statistic=alarm.statistic,
        )

    return [_cdk.build_alarm(scope, alarm, metric(alarm), None) for alarm in planned]


def _hook(hook: Hook | None) -> lambda_.IFunction | None:
    """The function CodeDeploy invokes: a ProductionFunction's ``live`` alias, or the IFunction given."""
    if is_live_function(hook):
        if hook.provisioned_concurrency is not None:
            Annotations.of(as_construct(hook)).add_warning_v2(
                "lambda-constructs:hook-provisioned-concurrency",
                "this function is a CodeDeploy traffic hook: it runs a few times per deploy and needs no provisioned "
                "concurrency; declare it invocation=Invocation.WORKFLOW (or pass provisioned_concurrency=None).",
            )
        return hook.alias
    return hook


def _hook_grant_ack(hook: lambda_.IFunction | None) -> tuple[str, str] | None:
    """The acknowledgement of the grant aws-cdk gives the group's role: lambda:InvokeFunction on ``<hook arn>:*``."""
    cfn = hook.node.default_child if hook is not None else None
    if not isinstance(cfn, CfnResource):
        return None  # no hook, or an imported one: no logical id to name; its finding stays visible
    stack = Stack.of(cfn)
    logical_id = stack.resolve(stack.get_logical_id(cfn))
    return (
        f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
        "aws-cdk's LambdaDeploymentGroup grants CodeDeploy invoke on every version of the traffic hook "
        "(arn:*): the hook is this deployment's own test function, invoked for the version under test.",
    )
