"""Execution modes AWS added to Lambda: tenant isolation and durable execution, with what they exclude.

- Tenant isolation (``tenancy_config=lambda_.TenancyConfig.PER_TENANT``): each tenant id gets its own
  execution environments. aws-cdk-lib's TenancyConfig documents it as incompatible with SnapStart,
  provisioned concurrency, Function URLs, and every event source but API Gateway
  (aws-cdk-lib 2.275, aws_lambda.TenancyConfig; "Tenant isolation", AWS Lambda developer guide,
  https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html), and it cannot be changed
  after the function is created (TenancyConfig, AWS Lambda API reference). The plan
  (core/plans/function.py) refuses SnapStart and an explicit provisioned concurrency and turns the SYNC
  default provisioned concurrency off (with a note); the sources refuse such a function, except the
  API Gateway ones (here).
- Durable execution (``durable_config=lambda_.DurableConfig(execution_timeout=..., retention_period=...)``):
  an execution may run up to 366 days (1..31,622,400 s) and its history is kept 1..90 whole days
  (DurableConfig, AWS Lambda API reference; aws-cdk-lib's DurableConfig says a retention that is not a
  whole number of days fails at deploy). Checked here, before CloudFormation sees it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from lambda_constructs import _cdk
from lambda_constructs.core.errors import Problem

TENANCY_RULE = "tenant isolation (aws_lambda.TenancyConfig; 'Tenant isolation', AWS Lambda developer guide)"
DURABLE_TIMEOUT_MAX_S = 31_622_400
DURABLE_RETENTION_MAX_DAYS = 90


def is_tenant_isolated(function: object) -> bool:
    """True when ``function`` (a ProductionFunction or an aws_lambda function) runs in tenant isolation mode."""
    marker = getattr(function, "_lc_tenancy", None)
    if marker is not None:
        return bool(marker)
    return getattr(function, "tenancy_config", None) is not None


def tenancy_source_problem(function: object, source: str) -> Problem | None:
    """A source other than API Gateway on a tenant-isolated function."""
    if not is_tenant_isolated(function):
        return None
    return Problem(
        "function.tenancy_config",
        "PER_TENANT",
        f"a function without tenant isolation for {source}",
        f"{TENANCY_RULE} works with API Gateway only (HttpEndpoint kind='http_api', RestEndpoint): the caller must "
        "pass the tenant id",
    )


def durable_problems(durable_config: object) -> list[Problem]:
    if durable_config is None or not isinstance(durable_config, lambda_.DurableConfig):
        return []  # the type itself is checked with the forwarded options
    found = [
        _cdk.duration_range_problem(
            "durable_config.execution_timeout", durable_config.execution_timeout, 1, DURABLE_TIMEOUT_MAX_S
        )
    ]
    retention = durable_config.retention_period
    if isinstance(retention, Duration) and not retention.is_unresolved():
        days = retention.to_seconds() / 86_400
        if not days.is_integer() or not 1 <= days <= DURABLE_RETENTION_MAX_DAYS:
            found.append(
                Problem(
                    "durable_config.retention_period",
                    f"{retention.to_seconds():.0f} s",
                    f"a whole number of days, 1..{DURABLE_RETENTION_MAX_DAYS} (Duration.days(n))",
                )
            )
    return [p for p in found if p]
