"""Inputs handled with a clear result (issue 22, fix at the root): tokens where a number is needed, NUL bytes
in paths, imported layers, layer architectures, Runtime.FROM_IMAGE, sub-minute schedules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Template

from lambda_constructs import (
    ConfigurationError,
    Invocation,
    Memory,
    ProductionFunction,
    ProvisionedConcurrency,
    QueueConsumer,
    ScheduledFunction,
    StreamConsumer,
)
from lambda_constructs.core.errors import Problem
from tests.conftest import INLINE

ROOT = Path(__file__).resolve().parents[1]
LAYER_DIR = str(ROOT / "layers" / "imaging")
PLACEHOLDER = r"e\+2\d\d"  # a number token's placeholder (-1.888e+289) must never be shown


def _fn(scope: Any, id: str = "Fn", **overrides: Any) -> ProductionFunction:
    props: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.seconds(1)}
    props.update(overrides)
    return ProductionFunction(scope, id, **props)


def _stack() -> tuple[cdk.Stack, float]:
    stack = cdk.Stack(cdk.App(), "S")
    return stack, cdk.CfnParameter(stack, "N", type="Number").value_as_number


# ------------------------------------------------------------------ tokens


@pytest.mark.parametrize(
    ("overrides", "prop", "why"),
    [
        ({"timeout_multiplier": "TOKEN"}, "timeout_multiplier", "the timeout is computed from it at synthesis"),
        (
            {"provisioned_concurrency": ProvisionedConcurrency},
            "provisioned_concurrency.min_capacity",
            "auto scaling, the reserved-concurrency check and the report use it",
        ),
        ({"p99": None, "timeout": cdk.Duration.seconds}, "timeout", "alarm thresholds and queue visibility"),
        ({"p99": cdk.Duration.millis}, "p99", "alarm thresholds and queue visibility"),
    ],
    ids=["multiplier", "provisioned", "timeout", "p99"],
)
def test_a_token_where_the_library_needs_a_number_says_so(overrides: dict[str, Any], prop: str, why: str) -> None:
    stack, token = _stack()
    wrap = {
        "TOKEN": token,
        Memory.mb: Memory.mb(token),  # type: ignore[arg-type]
        ProvisionedConcurrency: ProvisionedConcurrency(min_capacity=token),  # type: ignore[arg-type]
        cdk.Duration.seconds: cdk.Duration.seconds(token),
        cdk.Duration.millis: cdk.Duration.millis(token),
    }
    given = {k: wrap.get(v, v) if not isinstance(v, type(None)) else None for k, v in overrides.items()}
    with pytest.raises(ConfigurationError) as info:
        _fn(stack, **given)
    message = str(info.value)
    assert f"S/Fn: {prop}='a deploy-time token' is invalid; allowed: a concrete" in message
    assert why in message
    assert not re.search(PLACEHOLDER, message), message


def test_a_token_in_a_queue_window_or_stream_age_says_so() -> None:
    stack, token = _stack()
    queue_fn = _fn(stack, invocation=Invocation.QUEUE)
    with pytest.raises(ConfigurationError, match=r"^S/Q: max_batching_window='a deploy-time token' is invalid; "):
        QueueConsumer(stack, "Q", function=queue_fn, max_batching_window=cdk.Duration.seconds(token))
    stream_fn = _fn(stack, "Stream", invocation=Invocation.STREAM)
    from aws_cdk import aws_kinesis as kinesis

    with pytest.raises(
        ConfigurationError, match=r"^S/K: max_record_age='a deploy-time token' is invalid; allowed: a conc"
    ):
        StreamConsumer(
            stack,
            "K",
            function=stream_fn,
            stream=kinesis.Stream(stack, "KS"),
            max_record_age=cdk.Duration.seconds(token),
        )


def test_tokens_the_library_passes_through_give_no_placeholder_warning() -> None:
    stack, token = _stack()
    fn = _fn(stack, invocation=Invocation.QUEUE, reserved_concurrency=token, provisioned_concurrency=None, memory=token)
    QueueConsumer(stack, "Q", function=fn, max_receive_count=token, max_concurrency=5, batch_size=token)
    warnings = Annotations.from_stack(stack).find_warning("*", cdk.assertions.Match.any_value())
    assert not [w for w in warnings if re.search(PLACEHOLDER, str(w))], warnings
    mapping = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::EventSourceMapping").values()))
    assert mapping["Properties"]["BatchSize"] == {"Ref": "N"}
    function = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))
    assert function["Properties"]["MemorySize"] == {"Ref": "N"}  # memory=<number token> passes, as Memory.mb does


def test_a_problem_never_shows_a_token_placeholder() -> None:
    stack, token = _stack()
    assert Problem("x", token, "1..10").describe() == "x='a deploy-time token' is invalid; allowed: 1..10"
    assert Problem("x", stack.account, "a").describe().startswith("x='a deploy-time token'")
    assert Problem("x", 1e300, "a").describe() == "x=1e+300 is invalid; allowed: a"  # only encoded tokens


# ------------------------------------------------------------------ paths


def test_a_function_sizing_path_with_a_nul_byte() -> None:
    stack, _ = _stack()
    with pytest.raises(
        ConfigurationError, match=r"^S/Fn: sizing='sizing/a\\x00.json' is invalid; allowed: a path without a NUL byte$"
    ):
        _fn(stack, p99=None, sizing="sizing/a\0.json")


def test_a_function_sizing_file_field_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(
        json.dumps(
            {"function": "f", "p99_ms": 0, "sample_count": 5000, "window_days": 7, "measured_at": "2026-11-01T00:00:00"}
        )
    )
    stack, _ = _stack()
    with pytest.raises(
        ConfigurationError, match=rf"^S/Fn: sizing\.p99_ms=0 is invalid; allowed: a number > 0\. read from {path}$"
    ):
        _fn(stack, p99=None, sizing=path)


# ------------------------------------------------------------------ layers and runtimes


def test_an_imported_layer_is_accepted() -> None:
    stack, _ = _stack()
    layer = lambda_.LayerVersion.from_layer_version_arn(
        stack, "Shared", "arn:aws:lambda:us-east-1:123456789012:layer:shared:3"
    )
    _fn(stack, layers=[layer])
    props = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))["Properties"]
    assert props["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:shared:3"]


def test_a_layer_for_the_other_architecture_is_refused() -> None:
    stack, _ = _stack()
    x86 = lambda_.LayerVersion(
        stack,
        "Imaging",
        code=lambda_.Code.from_asset(LAYER_DIR),
        compatible_architectures=[lambda_.Architecture.X86_64],
    )
    with pytest.raises(
        ConfigurationError,
        match=r"^S/Fn: layers\[0\]='S/Imaging' is invalid; allowed: a layer compatible with arm64 \(it lists x86_64\)",
    ):
        _fn(stack, layers=[x86])
    _fn(stack, "X86", layers=[x86], architecture=lambda_.Architecture.X86_64)  # matching: accepted


def test_a_layer_listing_both_architectures_or_none_is_accepted() -> None:
    stack, _ = _stack()
    both = lambda_.LayerVersion(
        stack,
        "Both",
        code=lambda_.Code.from_asset(LAYER_DIR),
        compatible_architectures=[lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64],
    )
    unspecified = lambda_.LayerVersion(stack, "Any", code=lambda_.Code.from_asset(LAYER_DIR))
    _fn(stack, layers=[both, unspecified])


def test_runtime_from_image_given_explicitly_with_an_image_is_accepted() -> None:
    stack, _ = _stack()
    repo = ecr.Repository.from_repository_name(stack, "Repo", "orders")
    _fn(stack, code=lambda_.Code.from_ecr_image(repo), handler=None, runtime=lambda_.Runtime.FROM_IMAGE)
    props = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))["Properties"]
    assert props["PackageType"] == "Image" and "Runtime" not in props


def test_runtime_from_image_with_zip_code_is_refused() -> None:
    stack, _ = _stack()
    with pytest.raises(
        ConfigurationError,
        match=r"^S/Fn: runtime='FROM_IMAGE' is invalid; allowed: a zip runtime such as Runtime.PYTHON_3_14",
    ):
        _fn(stack, runtime=lambda_.Runtime.FROM_IMAGE)


# ------------------------------------------------------------------ schedules


@pytest.mark.parametrize("expression", ["rate(30 seconds)", "rate(1 second)"])
def test_a_sub_minute_rate_is_refused_with_the_reason(expression: str) -> None:
    stack, _ = _stack()
    fn = _fn(stack, invocation=Invocation.ASYNC)
    with pytest.raises(
        ConfigurationError,
        match=rf"^S/Tick: schedule='{re.escape(expression)}' is invalid; allowed: rate\(N unit\) with unit "
        r"minute\(s\) \| hour\(s\) \| day\(s\): at most once a minute\. "
        r"EventBridge schedules have a granularity of one minute",
    ):
        ScheduledFunction(stack, "Tick", function=fn, schedule=events.Schedule.expression(expression))
