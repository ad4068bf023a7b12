"""What the synchronous caller constructs share (load balancer, WebSocket, AppSync, Cognito, Step Functions)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import _cdk
from lambda_constructs.core.limits import caller_timeout_problem as timeout_problem
from lambda_constructs.core.plans.callers import CallerMetrics
from lambda_constructs.core.plans.common import ALARM_PERIOD_S, AlarmPlan
from lambda_constructs.sources._base import FunctionTarget

__all__ = ["build_caller_alarms", "timeout_problem"]


def build_caller_alarms(
    scope: Construct,
    function: FunctionTarget,
    alarms: Iterable[AlarmPlan],
    metrics: CallerMetrics,
    resource: str,
    topic: sns.ITopic | None,
) -> list[cloudwatch.Alarm]:
    """The alarms a caller's plan gives it, each on its metric in ``metrics.namespace`` filtered by
    ``metrics.dimension`` = ``resource`` (the API id, alias or state machine ARN), registered with the function."""
    alarms = tuple(alarms)
    if not alarms:
        return []
    return function.add_alarms(
        *(
            _cdk.build_alarm(
                scope,
                alarm,
                cloudwatch.Metric(
                    namespace=metrics.namespace,
                    metric_name=alarm.metric,
                    dimensions_map={metrics.dimension: resource},
                    period=_cdk.ALARM_PERIOD
                    if alarm.period_s == ALARM_PERIOD_S
                    else _cdk.duration_seconds(alarm.period_s),
                    statistic=alarm.statistic,
                ),
                topic,
            )
            for alarm in alarms
        )
    )
