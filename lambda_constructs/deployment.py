"""Safe deployments: CodeDeploy traffic shifting on the ``live`` alias with alarm rollback.

Provisioned concurrency and weighted aliases: while CodeDeploy shifts traffic, the alias is
weighted between two versions, and Lambda refuses to change provisioned concurrency on a
weighted alias ("Alias with weights can not be used with Provisioned Concurrency";
SAM#1296, terraform#24957). CloudFormation hits that when the alias resource itself carries
``ProvisionedConcurrencyConfig`` and a deploy changes it. So with a :class:`Deployment`,
ProductionFunction leaves the alias without a static provisioned-concurrency value and lets
the Application Auto Scaling target (min capacity = ``ProvisionedConcurrency.min_capacity``)
own it alone: no stack update ever writes provisioned concurrency on the alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_

from . import _cdk, limits
from .errors import Problem

if TYPE_CHECKING:
    from .function import ProductionFunction

KINDS = ("canary", "linear", "all_at_once")


@dataclass(frozen=True)
class Deployment:
    """How a new version reaches the ``live`` alias. Use the factories.

    - :meth:`canary`: ``percent`` of traffic for ``minutes``, then the rest.
    - :meth:`linear`: ``percent`` more every ``minutes``.
    - :meth:`all_at_once`: shift everything, still with alarm-based rollback.

    ``pre_traffic_hook`` / ``post_traffic_hook`` are Lambda functions CodeDeploy runs before
    and after shifting (they report back with codedeploy:PutLifecycleEventHookExecutionStatus).
    """

    kind: str
    percent: int = 0
    minutes: int = 0
    pre_traffic_hook: lambda_.IFunction | None = None
    post_traffic_hook: lambda_.IFunction | None = None

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
        if self.kind == "all_at_once":
            return []
        found = [
            limits.check_int_range("deployment.percent", self.percent, limits.Range(1, 99, "%")),
            # CodeDeploy's time-based routing interval: 1..2880 minutes (48 h)
            limits.check_int_range("deployment.minutes", self.minutes, limits.Range(1, 2880, "minutes")),
        ]
        return [p for p in found if p]


def build_deployment_group(function: ProductionFunction, deployment: Deployment) -> codedeploy.LambdaDeploymentGroup:
    """A deployment group on ``function.alias`` rolling back on the function's own alarms."""
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
        config = codedeploy.LambdaDeploymentConfig(function, "DeploymentConfig", traffic_routing=routing)
    group = codedeploy.LambdaDeploymentGroup(
        function,
        "DeploymentGroup",
        alias=function.alias,
        deployment_config=config,
        alarms=[a for a in function.alarms if a.node.id in ("ErrorsAlarm", "DurationAlarm")],
        auto_rollback=codedeploy.AutoRollbackConfig(
            failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
        ),
        pre_hook=deployment.pre_traffic_hook,
        post_hook=deployment.post_traffic_hook,
    )
    _cdk.acknowledge(
        group,
        "AwsSolutions-IAM4",
        "CodeDeploy's service role uses AWSCodeDeployRoleForLambdaLimited, AWS's own "
        "least-privilege policy for Lambda deployments (UpdateAlias, GetAlias, DescribeAlarms).",
    )
    return group
