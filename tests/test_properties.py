"""Fuzzed props: every combination either synthesizes a template that keeps the invariants,
or raises ConfigurationError naming the prop. Never another exception, never a jsii RuntimeError.

Example count: see MAX_EXAMPLES (recorded in docs/testing.md).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import aws_cdk as cdk
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lambda_constructs import (
    ConfigurationError,
    Invocation,
    Memory,
    ProductionFunction,
    ProvisionedConcurrency,
    QueueConsumer,
)
from tests.conftest import INLINE

MAX_EXAMPLES = 250


def mostly(valid: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values most of the time, so both branches (synthesize / refuse) are well exercised."""
    return st.one_of(valid, valid, valid, anything)


memory = mostly(st.integers(128, 10_240), st.integers(-10, 12_000))
p99_ms = mostly(
    st.floats(min_value=0.5, max_value=250_000, allow_nan=False),
    st.floats(min_value=0, max_value=400_000, allow_nan=False),
)  # CDK itself refuses < 0
multiplier = mostly(st.sampled_from([2, 2.5, 3]), st.floats(min_value=0, max_value=12, allow_nan=False))
capacity = mostly(st.integers(1, 30), st.integers(-1, 30))
pc = st.one_of(
    st.none(),
    st.builds(
        ProvisionedConcurrency,
        min_capacity=capacity,
        max_capacity=capacity,
        target_utilization=mostly(st.floats(min_value=0.05, max_value=0.95), st.floats(-0.5, 1.5)),
    ),
)
queue_opts = st.fixed_dictionaries(
    {
        "batch_size": mostly(st.integers(1, 10), st.integers(0, 10_050)),
        "max_batching_window": st.one_of(st.none(), mostly(st.integers(0, 300), st.integers(0, 320))),
        "max_receive_count": mostly(st.integers(5, 1_000), st.integers(0, 1_001)),
    }
)


@st.composite
def function_props(draw: st.DrawFn) -> dict[str, Any]:
    props: dict[str, Any] = {
        "memory": Memory.mb(draw(memory)),
        "p99": cdk.Duration.millis(draw(p99_ms)),
        "timeout_multiplier": draw(multiplier),
        "invocation": draw(st.sampled_from(list(Invocation))),
        "reserved_concurrency": draw(st.one_of(st.none(), mostly(st.integers(30, 100), st.integers(-1, 40)))),
    }
    if draw(st.booleans()):
        props["provisioned_concurrency"] = draw(pc)
    return props


def _expected_timeout(p99: float, mult: float) -> int:
    return max(1, math.ceil(Decimal(str(p99)) * Decimal(str(mult)) / 1000))


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=function_props(), queue=st.one_of(st.none(), queue_opts))
def test_any_props_either_keep_the_invariants_or_name_the_prop(props: dict[str, Any], queue: dict | None) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Fuzz")
    try:
        fn = ProductionFunction(stack, "F", code=INLINE, handler="index.handler", **props)
        consumer = None
        if queue is not None:
            window = queue["max_batching_window"]
            consumer = QueueConsumer(
                stack,
                "Q",
                function=fn,
                batch_size=queue["batch_size"],
                max_receive_count=queue["max_receive_count"],
                max_batching_window=cdk.Duration.seconds(window) if window is not None else None,
            )
    except ConfigurationError as error:
        given_props = set(props) | set(queue or {}) | {"p99", "multiplier", "provisioned_concurrency", "function"}
        assert any(p.prop.split(".")[0].split("[")[0].split("/")[0] in given_props for p in error.problems), str(error)
        assert all(p.prop in str(error) for p in error.problems)
        event("refused with ConfigurationError")
        return
    event("synthesized" + (" with QueueConsumer" if queue is not None else ""))
    template = app.synth().get_stack_by_name("Fuzz").template
    _check_invariants(template, props, queue, fn, consumer)


def _of_type(template: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == type_]


def _check_invariants(
    template: dict[str, Any],
    props: dict[str, Any],
    queue: dict | None,
    fn: ProductionFunction,
    consumer: QueueConsumer | None,
) -> None:
    (function,) = _of_type(template, "AWS::Lambda::Function")
    timeout = function["Timeout"]
    assert 1 <= timeout <= 900
    assert timeout == _expected_timeout(props["p99"].to_milliseconds(integral=False), props["timeout_multiplier"])
    assert 128 <= function["MemorySize"] <= 10_240
    assert function["Architectures"] == ["arm64"]
    if props["invocation"] is Invocation.ASYNC:
        configs = _of_type(template, "AWS::Lambda::EventInvokeConfig")
        assert configs and all(c["DestinationConfig"]["OnFailure"] for c in configs)
        assert any(
            a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            for a in _of_type(template, "AWS::CloudWatch::Alarm")
        )
    for target in _of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget"):
        assert 1 <= target["MinCapacity"] <= target["MaxCapacity"]
        (policy,) = _of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
        expected = fn.provisioned_concurrency.target_utilization  # type: ignore[union-attr]
        assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == expected
        if "provisioned_concurrency" not in props:
            assert expected == 0.7
    if consumer is not None and queue is not None:
        source = next(q for q in _of_type(template, "AWS::SQS::Queue") if "RedrivePolicy" in q)
        assert source["VisibilityTimeout"] >= 6 * timeout + (queue["max_batching_window"] or 0)
        assert 1 <= source["RedrivePolicy"]["maxReceiveCount"] <= 1000
        (mapping,) = _of_type(template, "AWS::Lambda::EventSourceMapping")
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] <= 10 or mapping["MaximumBatchingWindowInSeconds"] >= 1


def test_two_synths_are_byte_identical() -> None:
    """Deterministic synthesis: the same app, synthesized twice, gives the same bytes."""
    import json

    import app as example

    first = {s.stack_name: json.dumps(s.template, sort_keys=False) for s in example.build_app().synth().stacks}
    second = {s.stack_name: json.dumps(s.template, sort_keys=False) for s in example.build_app().synth().stacks}
    assert first == second
    assert all(len(t) > 10_000 for t in first.values())
