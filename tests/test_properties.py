"""Fuzzed props: every combination either synthesizes a template that keeps the invariants,
or raises ConfigurationError naming the prop. Never another exception, never a jsii RuntimeError.

Example count: see MAX_EXAMPLES (recorded in docs/testing.md).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
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
from tests.conftest import INLINE, cli_context

# deeper runs: HYPOTHESIS_EXAMPLES=2000 pytest tests/test_properties.py
MAX_EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", 150))
MAX_SOURCE_EXAMPLES = max(20, MAX_EXAMPLES * 2 // 5)


def mostly(valid: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values 5 times in 6, so both branches (synthesize / refuse) are well exercised."""
    return st.one_of(valid, valid, valid, valid, valid, anything)


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
    """ceil(p99 x multiplier / 1000 ms), at least 1 s, in exact rational arithmetic (the values as written)."""
    exact = Fraction(repr(p99)) * Fraction(repr(mult)) / 1000
    return max(1, -(-exact.numerator // exact.denominator))


def _expected_refusals(props: dict[str, Any], queue: dict | None) -> set[str]:
    """The props a correct implementation must refuse, from the AWS rules alone (an independent oracle)."""
    bad: set[str] = set()
    if not 128 <= props["memory"].size_mb <= 10_240:
        bad.add("memory")
    p99, mult = props["p99"].to_milliseconds(integral=False), props["timeout_multiplier"]
    if not 1 <= mult <= 10:
        bad.add("timeout_multiplier")
    if p99 <= 0:
        bad.add("p99")
    elif "timeout_multiplier" not in bad and _expected_timeout(p99, mult) >= 900:
        bad.add("p99")  # Lambda's maximum, and the rule pack refuses a timeout set to it
    pc = props.get("provisioned_concurrency", "default")
    if pc == "default":
        pc = ProvisionedConcurrency() if props["invocation"] is Invocation.SYNC else None
    pc_ok = pc is None or (
        1 <= pc.min_capacity <= pc.max_capacity and pc.max_capacity >= 1 and 0 < pc.target_utilization < 1
    )
    if not pc_ok:
        bad.add("provisioned_concurrency")
    reserved = props["reserved_concurrency"]
    if reserved is not None and (reserved < 1 or (pc is not None and pc_ok and reserved < pc.max_capacity)):
        bad.add("reserved_concurrency")
    if queue is not None and not bad:
        window = queue["max_batching_window"]
        if window is not None and not 0 <= window <= 300:
            bad.add("max_batching_window")
        if not 1 <= queue["batch_size"] <= 10_000 or (queue["batch_size"] > 10 and not window):
            bad.add("batch_size")
        if not 1 <= queue["max_receive_count"] <= 1_000:
            bad.add("max_receive_count")
    return bad


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
        named = {p.prop.split(".")[0].split("[")[0] for p in error.problems}
        expected = _expected_refusals(props, queue)
        # refused exactly when the oracle finds a violation: neither too lax nor too strict
        assert expected, f"refused a valid configuration: {error}"
        function_side = expected - {"max_batching_window", "batch_size", "max_receive_count"}
        assert named == (function_side or expected), f"{named} != {expected}: {error}"
        assert all(p.prop in str(error) for p in error.problems)
        event("refused with ConfigurationError")
        return
    assert _expected_refusals(props, queue) == set(), "accepted an invalid configuration"
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


def test_two_synths_are_byte_identical(tmp_path: Path) -> None:
    """Deterministic synthesis: the same app synthesized twice writes the same template bytes."""
    import app as example

    written = []
    for run in ("first", "second"):
        out = tmp_path / run
        example.build_app(outdir=str(out), context=cli_context()).synth()
        written.append({p.name: p.read_bytes() for p in sorted(out.glob("*.template.json"))})
    assert written[0] == written[1]
    assert written[0] and all(len(body) > 10_000 for body in written[0].values())


source_props = st.fixed_dictionaries(
    {
        "p99_ms": mostly(st.integers(1, 12_000), st.integers(1, 400_000)),
        "stream": st.fixed_dictionaries(
            {
                "batch_size": mostly(st.integers(1, 10_000), st.integers(-1, 10_001)),
                "retry_attempts": mostly(st.integers(0, 10_000), st.integers(-1, 10_001)),
                "parallelization_factor": mostly(st.integers(1, 10), st.integers(0, 11)),
                "max_record_age": mostly(st.integers(60, 604_800), st.integers(0, 700_000)),
            }
        ),
        "http": st.fixed_dictionaries(
            {
                "kind": mostly(st.sampled_from(["http_api", "function_url"]), st.text(max_size=8)),
                "throttle_rate_limit": mostly(st.integers(1, 10_000), st.integers(-1, 10_001)),
                "throttle_burst_limit": mostly(st.integers(1, 5_000), st.integers(-1, 5_001)),
            }
        ),
        "schedule": st.fixed_dictionaries(
            {
                "retry_attempts": mostly(st.integers(0, 185), st.integers(-1, 186)),
                "max_event_age": mostly(st.integers(60, 86_400), st.integers(0, 90_000)),
            }
        ),
    }
)


@settings(max_examples=MAX_SOURCE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=source_props)
def test_event_sources_either_keep_the_invariants_or_name_the_prop(props: dict[str, Any]) -> None:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_events as events

    from lambda_constructs import HttpEndpoint, ScheduledFunction, StreamConsumer

    app = cdk.App()
    stack = cdk.Stack(app, "Fuzz")
    table = dynamodb.Table(
        stack,
        "T",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_IMAGE,
    )
    p99 = cdk.Duration.millis(props["p99_ms"])
    step = ""
    try:
        step = "function"
        sync = ProductionFunction(stack, "Api", code=INLINE, handler="i.h", p99=p99)
        streamed = ProductionFunction(stack, "S", code=INLINE, handler="i.h", p99=p99, invocation=Invocation.STREAM)
        nightly = ProductionFunction(stack, "N", code=INLINE, handler="i.h", p99=p99, invocation=Invocation.ASYNC)
        step = "stream"
        s = props["stream"]
        StreamConsumer(
            stack,
            "Stream",
            function=streamed,
            table=table,
            batch_size=s["batch_size"],
            retry_attempts=s["retry_attempts"],
            parallelization_factor=s["parallelization_factor"],
            max_record_age=cdk.Duration.seconds(s["max_record_age"]),
        )
        step = "http"
        HttpEndpoint(stack, "Http", function=sync, **props["http"])
        step = "schedule"
        ScheduledFunction(
            stack,
            "Nightly",
            function=nightly,
            schedule=events.Schedule.rate(cdk.Duration.hours(1)),
            retry_attempts=props["schedule"]["retry_attempts"],
            max_event_age=cdk.Duration.seconds(props["schedule"]["max_event_age"]),
        )
    except ConfigurationError as error:
        names = {
            "function": {"p99"},
            "stream": set(props["stream"]),
            "http": set(props["http"]) | {"function.timeout"},
            "schedule": set(props["schedule"]),
        }[step]
        assert all(p.prop in names for p in error.problems), (step, str(error))
        event(f"refused at {step}")
        return
    event("synthesized")
    template = app.synth().get_stack_by_name("Fuzz").template
    (mapping,) = _of_type(template, "AWS::Lambda::EventSourceMapping")
    assert mapping["DestinationConfig"]["OnFailure"] and mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10_000 and 60 <= mapping["MaximumRecordAgeInSeconds"] <= 604_800
    if props["http"]["kind"] == "http_api":
        assert sync.timeout_seconds <= 30
    (rule,) = _of_type(template, "AWS::Events::Rule")
    (target,) = rule["Targets"]
    assert target["DeadLetterConfig"]["Arn"] and 0 <= target["RetryPolicy"]["MaximumRetryAttempts"] <= 185
