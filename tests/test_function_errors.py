"""Every invalid ProductionFunction input raises ConfigurationError naming path, prop, value, range."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from lambda_constructs import ConfigurationError, Invocation, Memory, ProductionFunction, ProvisionedConcurrency
from tests.conftest import INLINE

OK: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.millis(200)}


def build(**overrides: Any) -> cdk.Stack:
    stack = cdk.Stack(cdk.App(), "Svc")
    props = {**OK, **overrides}
    props = {k: v for k, v in props.items() if v is not _DROP}
    ProductionFunction(stack, "Orders", **props)
    return stack


_DROP = object()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"memory": Memory.mb(50)}, r"memory=50 is invalid; allowed: 128\.\.10240 MB"),
        ({"memory": 10241}, r"memory=10241 is invalid; allowed: 128\.\.10240 MB"),
        ({"memory": "big"}, r"memory='big' is invalid; allowed: a Memory"),
        ({"p99": cdk.Duration.millis(0)}, r"p99='0 ms' is invalid; allowed: a duration > 0 ms"),
        ({"p99": 200}, r"p99=200 is invalid; allowed: an aws_cdk\.Duration"),
        ({"p99": cdk.Duration.minutes(6)}, r"p99='360000 ms'.*<= 900 s \(got 1080 s\).*Step Functions"),
        (
            {"timeout": cdk.Duration.seconds(10)},
            r"p99/sizing/timeout='p99, timeout' is invalid; allowed: exactly one of p99=Duration",
        ),
        ({"p99": _DROP}, r"p99/sizing/timeout='none' is invalid"),
        ({"p99": _DROP, "timeout": cdk.Duration.seconds(1000)}, r"timeout=1000 is invalid; allowed: 1\.\.899 s"),
        (
            {"p99": _DROP, "timeout": cdk.Duration.millis(1500)},
            r"timeout='1500 ms' is invalid; allowed: a whole number of seconds",
        ),
        ({"timeout_multiplier": 20}, r"multiplier=20 is invalid; allowed: 1\.\.10 x p99"),
        (
            {"provisioned_concurrency": ProvisionedConcurrency(min_capacity=10, max_capacity=5)},
            r"provisioned_concurrency\.min_capacity=10 is invalid; allowed: <= max_capacity \(5\)",
        ),
        (
            {"provisioned_concurrency": ProvisionedConcurrency(target_utilization=1.0)},
            r"provisioned_concurrency\.target_utilization=1\.0 is invalid; allowed: strictly between 0 and 1",
        ),
        ({"provisioned_concurrency": ProvisionedConcurrency(target_utilization=0)}, r"target_utilization=0 is invalid"),
        (
            {"provisioned_concurrency": ProvisionedConcurrency(min_capacity=0)},
            r"provisioned_concurrency\.min_capacity=0 is invalid; allowed: a whole number in 1\.\.10000|"
            r"provisioned_concurrency\.min_capacity=0 is invalid; allowed: 1\.\.10000",
        ),
        ({"provisioned_concurrency": 5}, r"provisioned_concurrency=5 is invalid; allowed: a ProvisionedConcurrency"),
        (
            {"provisioned_concurrency": ProvisionedConcurrency(1, 20), "reserved_concurrency": 10},
            r"reserved_concurrency=10 is invalid; allowed: >= provisioned_concurrency\.max_capacity \(20\)",
        ),
        ({"reserved_concurrency": 0}, r"reserved_concurrency=0 is invalid; allowed: 1\.\.100000"),
        # {"BIG":"x...x"}: 3 + 4090 + 7 bytes of JSON = 4100 > 4096, though keys + values are only 4093
        ({"environment": {"BIG": "x" * 4090}}, r"environment='4100 bytes' is invalid; allowed: <= 4096 bytes"),
        ({"environment": {"AWS_REGION": "eu-west-1"}}, r"environment\['AWS_REGION'\]='AWS_REGION' is invalid"),
        ({"environment": {"1BAD": "x"}}, r"environment\['1BAD'\]='1BAD' is invalid; allowed: a name matching"),
        ({"environment": {"NUM": 5}}, r"environment\['NUM'\]=5 is invalid; allowed: a string"),
        ({"handler": ""}, r"handler='' is invalid; allowed: a non-empty string"),
        ({"function_name": "orders api"}, r"function_name='orders api' is invalid; allowed: 1\.\.64 characters"),
        ({"function_name": "x" * 65}, r"function_name='x{65}' is invalid"),
        ({"code": "index.py"}, r"code='index.py' is invalid; allowed: an aws_lambda\.Code"),
        ({"invocation": "sync"}, r"invocation='sync' is invalid; allowed: Invocation\.SYNC"),
        ({"invocation": Invocation.ASYNC, "retry_attempts": 3}, r"retry_attempts=3 is invalid; allowed: 0\.\.2"),
        (
            {"invocation": Invocation.ASYNC, "max_event_age": cdk.Duration.seconds(30)},
            r"max_event_age=30 is invalid; allowed: 60\.\.21600 s",
        ),
        (
            {"invocation": Invocation.ASYNC, "max_event_age": cdk.Duration.hours(7)},
            r"max_event_age=25200 is invalid; allowed: 60\.\.21600 s",
        ),
        # a path is read by the construct, so a missing file is reported at its path, as prop sizing
        (
            {"sizing": "sizing/orders.json", "p99": _DROP},
            r"sizing='sizing/orders\.json' is invalid; allowed: a readable JSON",
        ),
        ({"sizing": 42, "p99": _DROP}, r"sizing=42 is invalid; allowed: a Sizing"),
    ],
)
def test_bad_input_is_refused_with_path_prop_value_and_range(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^Svc/Orders: .*" + message) as info:
        build(**overrides)
    assert isinstance(info.value, ValueError)
    assert info.value.path == "Svc/Orders"


def test_nothing_is_half_built() -> None:
    stack = cdk.Stack(cdk.App(), "Svc")
    with pytest.raises(ConfigurationError):
        ProductionFunction(stack, "Orders", **{**OK, "memory": 50})
    assert stack.node.try_find_child("Orders") is None
    assert cdk.assertions.Template.from_stack(stack).to_json().get("Resources", {}) == {}
    # the id is free: a corrected construct can take it
    ProductionFunction(stack, "Orders", **OK)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        build(memory=50, reserved_concurrency=0, environment={"AWS_REGION": "x"})
    props = [p.prop for p in info.value.problems]
    assert props == ["memory", "reserved_concurrency", "environment['AWS_REGION']"]
    assert str(info.value).startswith("Svc/Orders: 3 invalid properties:\n  - memory=50")


def test_raw_l2_only_warns_where_we_refuse() -> None:
    """aws-cdk-lib accepts memory 50 / timeout 1000 with at most a warning; we refuse both."""
    from aws_cdk import aws_lambda as lambda_

    stack = cdk.Stack(cdk.App(), "Raw")
    try:
        lambda_.Function(
            stack,
            "F",
            code=INLINE,
            handler="i.h",
            runtime=lambda_.Runtime.PYTHON_3_14,
            memory_size=50,
            timeout=cdk.Duration.seconds(1000),
        )
        l2_accepted = True
    except Exception:
        l2_accepted = False
    with pytest.raises(ConfigurationError, match="memory=50"):
        build(memory=50)
    with pytest.raises(ConfigurationError, match="timeout=1000"):
        build(p99=_DROP, timeout=cdk.Duration.seconds(1000))
    assert l2_accepted  # if this flips, aws-cdk-lib started refusing them too: update docs/defaults.md


def test_tokens_are_left_to_deploy_time() -> None:
    """A CloudFormation parameter is not a number we can range-check: it is passed through."""
    stack = cdk.Stack(cdk.App(), "Svc")
    reserved = cdk.CfnParameter(stack, "Reserved", type="Number", default=50).value_as_number
    ProductionFunction(stack, "Orders", **OK, reserved_concurrency=reserved)  # default PC max 10: not comparable
    cdk.assertions.Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"ReservedConcurrentExecutions": {"Ref": "Reserved"}}
    )
