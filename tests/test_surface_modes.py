"""The newer Lambda surface: tenant isolation, durable execution, recursive loops, response streaming, and
canaries on functions that run rarely."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template

from lambda_constructs import (
    ConfigurationError,
    Deployment,
    HttpEndpoint,
    Invocation,
    ProductionFunction,
    ProvisionedConcurrency,
    QueueConsumer,
    RestEndpoint,
    ScheduledFunction,
)
from tests.conftest import INLINE, only


def fn(stack: cdk.Stack, id: str = "Fn", **kw: Any) -> ProductionFunction:
    kw.setdefault("p99", cdk.Duration.millis(500))
    return ProductionFunction(stack, id, code=INLINE, handler="index.handler", **kw)


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S")


# ---------------------------------------------------------------- recursive loop detection


def test_recursive_loop_is_terminate_explicitly_by_default() -> None:
    stack = new_stack()
    fn(stack)
    fn(stack, "Loop", recursive_loop=lambda_.RecursiveLoop.ALLOW)
    props = {
        k[:4]: v["Properties"] for k, v in Template.from_stack(stack).find_resources("AWS::Lambda::Function").items()
    }
    assert props["FnFu"]["RecursiveLoop"] == "Terminate"
    assert props["Loop"]["RecursiveLoop"] == "Allow"


# ---------------------------------------------------------------- tenant isolation


def test_tenancy_turns_the_default_provisioned_concurrency_off_with_info() -> None:
    stack = new_stack()
    tenant = fn(stack, tenancy_config=lambda_.TenancyConfig.PER_TENANT)
    assert tenant.provisioned_concurrency is None and tenant.scalable_target is None
    tpl = Template.from_stack(stack)
    assert only(tpl, "AWS::Lambda::Function")["TenancyConfig"] == {"TenantIsolationMode": "PER_TENANT"}
    assert "ProvisionedConcurrencyConfig" not in only(tpl, "AWS::Lambda::Alias")
    Annotations.from_stack(stack).has_info("/S/Fn", Match.string_like_regexp("tenant isolation creates execution"))


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (
            {"provisioned_concurrency": ProvisionedConcurrency()},
            r"provisioned_concurrency=.* is invalid; allowed: None with tenancy_config\. tenant isolation",
        ),
        (
            {"snap_start": lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS},
            r"snap_start=.* is invalid; allowed: None with tenancy_config",
        ),
    ],
)
def test_tenancy_refuses_what_aws_excludes(overrides: dict[str, Any], pattern: str) -> None:
    stack = new_stack()
    with pytest.raises(ConfigurationError, match=r"(?s)^S/Fn: .*" + pattern):
        fn(stack, tenancy_config=lambda_.TenancyConfig.PER_TENANT, **overrides)


def test_tenant_isolated_function_only_behind_api_gateway() -> None:
    stack = new_stack()
    tenant = fn(stack, tenancy_config=lambda_.TenancyConfig.PER_TENANT)
    HttpEndpoint(stack, "Api", function=tenant)
    RestEndpoint(stack, "Rest", function=tenant, routes=("GET /items",))
    expected = r"function\.tenancy_config='PER_TENANT' is invalid; allowed: a function without tenant isolation"
    with pytest.raises(ConfigurationError, match=r"^S/Url: " + expected):
        HttpEndpoint(stack, "Url", function=tenant, kind="function_url")
    with pytest.raises(ConfigurationError, match=r"(?s)^S/Queue: .*" + expected):
        QueueConsumer(stack, "Queue", function=tenant)


# ---------------------------------------------------------------- durable execution


def test_durable_config_reaches_the_function() -> None:
    stack = new_stack()
    fn(
        stack,
        invocation=Invocation.WORKFLOW,
        durable_config=lambda_.DurableConfig(
            execution_timeout=cdk.Duration.days(7), retention_period=cdk.Duration.days(30)
        ),
    )
    assert only(Template.from_stack(stack), "AWS::Lambda::Function")["DurableConfig"] == {
        "ExecutionTimeout": 604800,
        "RetentionPeriodInDays": 30,
    }


@pytest.mark.parametrize(
    ("config", "pattern"),
    [
        (
            {"execution_timeout": cdk.Duration.days(367)},
            r"durable_config\.execution_timeout=31708800 is invalid; allowed: 1\.\.31622400",
        ),
        (
            {"execution_timeout": cdk.Duration.hours(1), "retention_period": cdk.Duration.hours(36)},
            r"durable_config\.retention_period='129600 s' is invalid; allowed: a whole number of days, 1\.\.90",
        ),
        (
            {"execution_timeout": cdk.Duration.hours(1), "retention_period": cdk.Duration.days(91)},
            r"durable_config\.retention_period='7862400 s' is invalid",
        ),
    ],
)
def test_durable_config_ranges(config: dict[str, Any], pattern: str) -> None:
    stack = new_stack()
    with pytest.raises(ConfigurationError, match=r"(?s)^S/Fn: .*" + pattern):
        fn(stack, durable_config=lambda_.DurableConfig(**config))


# ---------------------------------------------------------------- response streaming


def test_function_url_response_streaming() -> None:
    stack = new_stack()
    node = fn(stack, "Node", runtime=lambda_.Runtime.NODEJS_22_X)
    HttpEndpoint(stack, "Stream", function=node, kind="function_url", invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM)
    assert only(Template.from_stack(stack), "AWS::Lambda::Url")["InvokeMode"] == "RESPONSE_STREAM"
    assert not Annotations.from_stack(stack).find_warning("/S/Stream", Match.string_like_regexp("RESPONSE_STREAM"))


def test_response_streaming_on_python_warns_and_http_api_refuses_it() -> None:
    stack = new_stack()
    HttpEndpoint(stack, "Url", function=fn(stack), kind="function_url", invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM)
    assert Annotations.from_stack(stack).find_warning(
        "/S/Url", Match.string_like_regexp("natively on the Node.js runtimes only")
    )
    with pytest.raises(ConfigurationError, match=r"invoke_mode=.* is invalid; allowed: None for kind='http_api'"):
        HttpEndpoint(stack, "Api", function=fn(stack, "Other"), invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM)


# ---------------------------------------------------------------- canaries on functions that run rarely


def test_canary_on_a_workflow_function_warns() -> None:
    stack = new_stack()
    fn(stack, invocation=Invocation.WORKFLOW, deployment=Deployment.canary())
    fn(stack, "Hooked", invocation=Invocation.WORKFLOW, deployment=Deployment.all_at_once())
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning(
        "/S/Fn", Match.string_like_regexp(r"Deployment\.canary\(\.\.\.\) on a function that runs rarely")
    )
    assert not annotations.find_warning("/S/Hooked", Match.string_like_regexp("runs rarely"))


def test_canary_on_a_scheduled_function_warns() -> None:
    stack = new_stack()
    nightly = fn(stack, invocation=Invocation.ASYNC, deployment=Deployment.linear(10, 1))
    ScheduledFunction(stack, "Nightly", function=nightly, schedule=events.Schedule.cron(minute="0", hour="3"))
    assert Annotations.from_stack(stack).find_warning(
        "/S/Nightly", Match.string_like_regexp(r"it runs on a schedule.*Deployment\.all_at_once\(pre_traffic_hook")
    )
