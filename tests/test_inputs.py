"""Bad and edge inputs, by class: every one a ConfigurationError (path, prop, value, range), nothing half-built."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs

from lambda_constructs import (
    ConfigurationError,
    Deployment,
    HttpEndpoint,
    Invocation,
    Memory,
    ProductionFunction,
    ProvisionedConcurrency,
    QueueConsumer,
    ScheduledFunction,
    Sizing,
    StreamConsumer,
    timeout_from_p99,
)
from tests.conftest import INLINE

NAN, INF = float("nan"), float("inf")


def _fn(scope: Any, id: str = "Fn", **kw: Any) -> ProductionFunction:
    props: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.millis(200)}
    props.update(kw)
    return ProductionFunction(scope, id, **props)


def _refused(build: Any, prop: str) -> ConfigurationError:
    stack = cdk.Stack(cdk.App(), "S")
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as info:
        build(stack)
    assert len(stack.node.children) == before, "half-built"
    assert any(p.prop.startswith(prop) for p in info.value.problems), info.value
    return info.value


# ------------------------------------------------------------------ NaN, infinity, wrong types: ProductionFunction


@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"memory": NAN}, "memory"),
        ({"memory": Memory.mb(INF)}, "memory"),  # type: ignore[arg-type]
        ({"memory": True}, "memory"),
        ({"reserved_concurrency": NAN}, "reserved_concurrency"),
        ({"reserved_concurrency": True}, "reserved_concurrency"),
        ({"timeout_multiplier": NAN}, "timeout_multiplier"),
        ({"timeout_multiplier": INF}, "timeout_multiplier"),
        ({"provisioned_concurrency": ProvisionedConcurrency(min_capacity=NAN)}, "provisioned_concurrency.min_capacity"),  # type: ignore[arg-type]
        ({"provisioned_concurrency": ProvisionedConcurrency(max_capacity=INF)}, "provisioned_concurrency.max_capacity"),  # type: ignore[arg-type]
        ({"provisioned_concurrency": ProvisionedConcurrency(target_utilization=NAN)}, "provisioned_concurrency.target"),
        ({"runtime": "python3.12"}, "runtime"),
        ({"architecture": "arm64"}, "architecture"),
        ({"log_retention": 30}, "log_retention"),
        ({"role": "arn:aws:iam::1:role/x"}, "role"),
        ({"alarm_topic": "arn:aws:sns:us-east-1:1:t"}, "alarm_topic"),
        ({"description": "x" * 257}, "description"),
        ({"handler": "h" * 129}, "handler"),
        ({"invocation": "sync"}, "invocation"),
        ({"environment": {"KEY": 1}}, "environment"),
        ({"deployment": Deployment.canary(pre_traffic_hook="hook")}, "deployment.pre_traffic_hook"),  # type: ignore[arg-type]
        ({"timeout": cdk.Duration.seconds(900), "p99": None}, "timeout"),
    ],
)
def test_production_function_refuses(overrides: dict[str, Any], prop: str) -> None:
    _refused(lambda s: _fn(s, **overrides), prop)


@pytest.mark.parametrize(
    ("scope", "id"), [(None, "Fn"), ("stack", "Fn"), (cdk.App(), ""), (cdk.App(), "a/b"), (cdk.App(), 7)]
)
def test_scope_and_id_are_checked(scope: Any, id: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"(scope|id)="):
        _fn(scope, id)


def test_duplicate_id_is_a_configuration_error() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack)
    with pytest.raises(
        ConfigurationError, match=r"^S/Fn: id='Fn' is invalid; allowed: an id not used by another child of S"
    ):
        _fn(stack)


def test_nan_never_reaches_jsii() -> None:
    """After a refused NaN the kernel still works (a NaN sent to jsii kills its Node process)."""
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError):
        _fn(stack, "A", memory=NAN)
    _fn(stack, "B")  # the jsii kernel is alive
    assert stack.node.try_find_child("B") is not None


def test_timeout_from_p99_wants_a_duration() -> None:
    with pytest.raises(ConfigurationError, match=r"^p99=200 is invalid; allowed: an aws_cdk.Duration"):
        timeout_from_p99(200)  # type: ignore[arg-type]
    assert timeout_from_p99(cdk.Duration.millis(120)).to_seconds() == 1


# ------------------------------------------------------------------ tokens go to deploy time


def test_tokens_are_left_to_deploy_time() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    memory = cdk.CfnParameter(stack, "Memory", type="Number", default=1024)
    reserved = cdk.CfnParameter(stack, "Reserved", type="Number", default=50)
    age = cdk.CfnParameter(stack, "Age", type="Number", default=3600)
    fn = _fn(
        stack,
        memory=Memory.mb(memory.value_as_number),  # type: ignore[arg-type]
        reserved_concurrency=reserved.value_as_number,  # type: ignore[arg-type]
        invocation=Invocation.ASYNC,
        max_event_age=cdk.Duration.seconds(age.value_as_number),
    )
    props = cdk.assertions.Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    mine = next(r for k, r in props.items() if k.startswith("Fn"))["Properties"]
    assert mine["MemorySize"] == {"Ref": "Memory"} and mine["ReservedConcurrentExecutions"] == {"Ref": "Reserved"}
    assert fn.failure_queue is not None


def test_a_token_timeout_says_why_it_must_be_concrete() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    seconds = cdk.CfnParameter(stack, "T", type="Number", default=10)
    with pytest.raises(
        ConfigurationError, match=r"timeout='a deploy-time token' is invalid; allowed: a concrete Duration"
    ):
        _fn(stack, p99=None, timeout=cdk.Duration.seconds(seconds.value_as_number))


# ------------------------------------------------------------------ event sources: wrong types, FIFO, schedules


def test_event_sources_refuse_wrong_types_without_children() -> None:
    def stream(s: cdk.Stack) -> None:
        table = dynamodb.Table(
            s,
            "T",
            partition_key=dynamodb.Attribute(name="k", type=dynamodb.AttributeType.STRING),
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        fn = _fn(s, invocation=Invocation.STREAM)
        n = len(s.node.children)
        try:
            StreamConsumer(s, "C", function=fn, table=table, batch_size=NAN, bisect_batch_on_error="yes")  # type: ignore[arg-type]
        finally:
            assert len(s.node.children) == n

    with pytest.raises(ConfigurationError, match=r"batch_size=nan(.|\n)*bisect_batch_on_error='yes'"):
        stream(cdk.Stack(cdk.App(), "S"))
    stack = cdk.Stack(cdk.App(), "S2")
    fn = _fn(stack, invocation=Invocation.ASYNC)
    with pytest.raises(ConfigurationError, match=r"enabled='no' is invalid; allowed: True or False"):
        ScheduledFunction(stack, "Sch", function=fn, schedule=events.Schedule.rate(cdk.Duration.hours(1)), enabled="no")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"schedule='cron\(0 25 \* \* \? \*\)' is invalid"):
        ScheduledFunction(stack, "Sch", function=fn, schedule=events.Schedule.expression("cron(0 25 * * ? *)"))
    api_fn = _fn(stack, "Api")
    with pytest.raises(
        ConfigurationError, match=r"auth_type='NONE' is invalid; allowed: an aws_lambda.FunctionUrlAuthType"
    ):
        HttpEndpoint(stack, "U", function=api_fn, kind="function_url", auth_type="NONE")  # type: ignore[arg-type]
    assert [c.node.id for c in stack.node.children] == ["Fn", "Api"]


def test_fifo_rules() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, invocation=Invocation.QUEUE)
    with pytest.raises(
        ConfigurationError, match=r"max_batching_window='5 s' is invalid; allowed: None for a FIFO queue"
    ):
        QueueConsumer(stack, "A", function=fn, fifo=True, max_batching_window=cdk.Duration.seconds(5))
    given = sqs.Queue(stack, "Given", fifo=True, visibility_timeout=cdk.Duration.seconds(60))
    with pytest.raises(ConfigurationError, match=r"None for a FIFO queue"):
        QueueConsumer(stack, "B", function=fn, queue=given, max_batching_window=cdk.Duration.seconds(1))
    consumer = QueueConsumer(stack, "C", function=fn, queue=given)
    dlq = consumer.dead_letter_queue
    assert dlq is not None and dlq.fifo is True  # a FIFO source gets a FIFO dead-letter queue
    with pytest.raises(ConfigurationError, match=r"fifo='no' is invalid; allowed: True or False"):
        QueueConsumer(stack, "D", function=fn, fifo="no")  # type: ignore[arg-type]
    standard = QueueConsumer(stack, "E", function=fn)
    assert standard.queue.fifo is False


def test_given_queue_dlq_must_keep_messages_as_long_as_the_source() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fn = _fn(stack, invocation=Invocation.QUEUE)
    short = sqs.Queue(stack, "ShortDlq", retention_period=cdk.Duration.days(1))
    source = sqs.Queue(
        stack,
        "Source",
        visibility_timeout=cdk.Duration.seconds(60),
        retention_period=cdk.Duration.days(4),
        dead_letter_queue=sqs.DeadLetterQueue(queue=short, max_receive_count=5),
    )
    with pytest.raises(ConfigurationError, match=r"queue.dead_letter_queue.retention_period='86400 s' is invalid"):
        QueueConsumer(stack, "C", function=fn, queue=source)


def test_reserved_concurrency_equal_to_provisioned_max_is_allowed() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack, "Ok", reserved_concurrency=10, provisioned_concurrency=ProvisionedConcurrency(1, 10))
    with pytest.raises(ConfigurationError, match=r"reserved_concurrency=9 is invalid; allowed: >= provisioned"):
        _fn(stack, "Low", reserved_concurrency=9, provisioned_concurrency=ProvisionedConcurrency(1, 10))


# ------------------------------------------------------------------ files: sizing and Power Tuning


def _sizing(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "function": "orders",
        "p99_ms": 120.0,
        "p999_ms": 300.0,
        "sample_count": 5000,
        "window_days": 14,
        "measured_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", r"sizing='.*' is invalid; allowed: a UTF-8 JSON file"),
        (b"", r"sizing=.* the file is empty"),
        (b"[1, 2]", r"sizing=\[1, 2\] is invalid; allowed: a JSON object"),
        (json.dumps(_sizing(p99_ms=None)).encode(), r"missing or null: p99_ms"),
        (json.dumps(_sizing(p99_ms="fast")).encode(), r"sizing.p99_ms='fast' is invalid"),
        (
            b'{"function": "f", "p99_ms": NaN, "sample_count": 5000, "window_days": 1, "measured_at": "2026-01-01"}',
            r"sizing.p99_ms=nan",
        ),
        (json.dumps(_sizing(window_days=-3)).encode(), r"sizing.window_days=-3 is invalid"),
        (json.dumps(_sizing(p999_ms=100.0)).encode(), r"sizing.p999_ms=100.0 is invalid; allowed: >= p99_ms"),
        (json.dumps(_sizing(function="")).encode(), r"sizing.function='' is invalid"),
        (
            json.dumps(_sizing(measured_at=(datetime.now(UTC) + timedelta(days=3)).isoformat())).encode(),
            r"measured in the future",
        ),
        (json.dumps(_sizing(sample_count="5000")).encode(), r"sizing.sample_count='5000' is invalid"),
    ],
)
def test_sizing_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "sizing.json"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match=message):
        Sizing.from_file(path)
    # given to a construct as a path, the same problem names the construct and the prop sizing
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError, match=r"^S/Fn: (.|\n)*sizing"):
        _fn(stack, p99=None, sizing=str(path))
    assert stack.node.try_find_child("Fn") is None


def test_a_good_sizing_file_through_the_construct(tmp_path: Path) -> None:
    path = tmp_path / "sizing.json"
    path.write_text(json.dumps(_sizing()))
    fn = _fn(cdk.Stack(cdk.App(), "S"), p99=None, sizing=path)
    assert fn.timeout_seconds == 1 and fn.sizing is not None and fn.sizing.function == "orders"


# ------------------------------------------------------------------ the command line: exit 2, one line, no traceback


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {
        "binary": b"\xff\xfe\x00",
        "empty": b"",
        "list": b"[1, 2]",
        "scalar_prices": b'{"arm64": 5}',
        "list_prices": b"[]",
        "inf_prices": b'{"requests_per_million": Infinity}',
        "nan_row": b'{"stats": [{"value": 128, "averagePrice": NaN, "averageDuration": 5}]}',
    }
    out = {}
    for name, content in files.items():
        out[name] = tmp / f"{name}.json"
        out[name].write_bytes(content)
    for name, manifest, template in (
        ("asm_list", "[1]", None),
        ("asm_noprops", '{"artifacts": {"S": {"type": "aws:cloudformation:stack"}}}', None),
        (
            "asm_res_list",
            '{"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.json"}}}}',
            '{"Resources": []}',
        ),
        (
            "asm_empty",
            '{"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.json"}}}}',
            '{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}',
        ),
    ):
        folder = tmp / name
        folder.mkdir()
        (folder / "manifest.json").write_text(manifest)
        if template is not None:
            (folder / "S.json").write_text(template)
        out[name] = folder
    return out


BAD_COMMANDS = [
    ["report", "{asm_list}"],
    ["report", "{asm_noprops}"],
    ["report", "{asm_res_list}"],
    ["report", "{asm_empty}"],
    ["report", "{asm_empty}", "--prices", "{list_prices}"],
    ["report", "{asm_empty}", "--prices", "{scalar_prices}"],
    ["report", "{asm_empty}", "--prices", "{inf_prices}"],
    ["report", "{asm_empty}", "--prices", "{binary}"],
    ["report", "--invocations-per-month", "inf"],
    ["report", "--invocations-per-month", "nan"],
    ["report", "--invocations-per-month", "-5"],
    ["report", "--format", "xml"],
    ["right-size", "{binary}"],
    ["right-size", "{empty}"],
    ["right-size", "{list}"],
    ["right-size", "{nan_row}"],
    ["right-size", "tests/fixtures/power_tuning.json", "--plot", "cost.txt"],
    ["right-size", "tests/fixtures/power_tuning.json", "--weight", "2", "--strategy", "balanced"],
    ["right-size", "tests/fixtures/power_tuning.json", "--weight", "nan", "--strategy", "balanced"],
    ["measure", ""],
    ["measure", "orders", "--days", "1e9"],
    ["measure", "orders", "--days", "inf"],
    ["measure", "bad name!"],
    ["new", "Bad_Name"],
    ["new"],
    ["frobnicate"],
]


@pytest.mark.parametrize("argv", BAD_COMMANDS, ids=[" ".join(a) for a in BAD_COMMANDS])
def test_bad_command_lines(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from lambda_constructs.cli import main

    files = _bad_files(tmp_path)
    args = [a.format(**files) for a in argv]
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.strip().count("\n") <= 2 and "error:" in err


def test_report_into_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """`lambda-constructs report | head -1`: the reader leaves early; no BrokenPipeError traceback."""
    import subprocess
    import sys

    import app as example

    out = tmp_path / "cdk.out"
    example.build_app(outdir=str(out)).synth()
    cmd = f"'{sys.executable}' -m lambda_constructs.cli report '{out}' | head -1"
    env = {**os.environ, "COLUMNS": "200"}  # the wide table (a narrow terminal gets one "key: value" block per row)
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True, timeout=60, env=env
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.stdout.startswith("stack")


def test_environment_is_counted_as_lambda_counts_it() -> None:
    from lambda_constructs.core.limits import environment_size_bytes

    assert environment_size_bytes({"A": "b"}) == len('{"A":"b"}') == 9
    assert environment_size_bytes({"K1": "v", "K2": "w"}) == len('{"K1":"v","K2":"w"}')
    assert environment_size_bytes({"Q": 'say "hi"'}) == len('{"Q":"say \\"hi\\""}')  # escapes count
    ok = {"BIG": "x" * (4096 - 10)}  # exactly 4,096 bytes as JSON
    assert environment_size_bytes(ok) == 4096
    _fn(cdk.Stack(cdk.App(), "S"), environment=ok)
