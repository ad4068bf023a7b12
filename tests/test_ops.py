"""The operations loop: measure (botocore Stubber and moto), right-size, report cost, CLI errors.

Which backend for which call: moto's CloudWatch answers GetMetricStatistics with Statistics
(Sum / Maximum) from data put with PutMetricData, but does not compute ExtendedStatistics
(percentiles); so the full `measure` is tested against botocore's Stubber, and the Sum/Maximum
path also against moto.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambda_constructs import Sizing
from lambda_constructs.cli import main
from lambda_constructs.cli.ops import MeasureError, _stat, measure, right_size
from lambda_constructs.core.pricing import PLATFORM_LOG_BYTES, duration_cost_per_million, monthly_cost
from lambda_constructs.core.sizing import Memory
from tests.conftest import cli_context

FIXTURE = Path(__file__).parent / "fixtures" / "power_tuning.json"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_cost_table_of_aws_lambda_in_production_patterns() -> None:
    """128 MB x 800 ms and 1,024 MB x 80 ms on arm64: $1.33 and $1.07 per million (duration only)."""
    assert round(duration_cost_per_million(128, 800, "arm64"), 2) == 1.33
    assert round(duration_cost_per_million(1024, 80, "arm64"), 2) == 1.07
    assert round(duration_cost_per_million(256, 400, "arm64"), 2) == 1.33
    assert round(duration_cost_per_million(512, 200, "arm64"), 2) == 1.33


def test_monthly_cost_with_provisioned_concurrency() -> None:
    cost = monthly_cost(memory_mb=1024, duration_ms=120, invocations=10_000_000, provisioned_min=2)
    assert cost.requests == pytest.approx(2.0)
    assert cost.provisioned == pytest.approx(2 * 730 * 3600 * 0.0000033334)  # ~ $17.52
    assert cost.duration == pytest.approx(10_000_000 * 0.12 * 0.0000077778)


def _stubbed(responses: list[tuple[dict, dict]]) -> tuple[object, Stubber]:
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for params, response in responses:
        stub.add_response("get_metric_statistics", response, params)
    return client, stub


def _params(metric: str, alias: bool, **stat: object) -> dict:
    dims = [{"Name": "FunctionName", "Value": "orders"}]
    if alias:
        dims.append({"Name": "Resource", "Value": "orders:live"})
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": dims,
        "StartTime": ANY,
        "EndTime": ANY,
        "Period": 14 * 86_400,
        **stat,
    }


def _point(**values: object) -> dict:
    return {"Datapoints": [{"Timestamp": NOW, **values}]}


def test_measure_with_stubber_reads_every_metric() -> None:
    client, stub = _stubbed(
        [
            (_params("Invocations", True, Statistics=["Sum"]), _point(Sum=250_000.0)),
            (
                _params("Duration", True, ExtendedStatistics=["p99", "p99.9"]),
                _point(ExtendedStatistics={"p99": 118.5, "p99.9": 301.0}),
            ),
            (_params("ConcurrentExecutions", True, Statistics=["Maximum"]), _point(Maximum=37.0)),
            (_params("ProvisionedConcurrencyUtilization", True, Statistics=["Maximum"]), _point(Maximum=0.82)),
            (_params("Throttles", True, Statistics=["Sum"]), _point(Sum=0.0)),
            (_params("Duration", True, Statistics=["Average"]), _point(Average=61.5)),
            (_params("ProvisionedConcurrencySpilloverInvocations", True, Statistics=["Sum"]), _point(Sum=3.0)),
        ]
    )
    with stub:
        sizing = measure(client, "orders:live", days=14, now=NOW)
    stub.assert_no_pending_responses()
    assert (sizing.p99_ms, sizing.p999_ms, sizing.sample_count) == (118.5, 301.0, 250_000)
    assert (sizing.peak_concurrency, sizing.provisioned_utilization_max) == (37.0, 0.82)
    assert sizing.window_days == 14 and sizing.measured_at == NOW
    # 250,000 in 14 days -> per 730-hour month: 250,000 / 14 x 30.4167
    assert sizing.invocations_per_month == round(250_000 / 14 * 730 / 24, 1)
    assert (sizing.average_duration_ms, sizing.provisioned_spillover) == (61.5, 3.0)
    assert sizing.max_memory_used_mb is None and sizing.cold_start_rate is None  # no Logs client given
    assert Sizing.from_dict(sizing.to_dict(), source=sizing.source) == sizing  # the new fields round-trip
    assert sizing.throttles == 0 and sizing.source == "cloudwatch"
    assert Sizing.from_dict(sizing.to_dict()) == sizing  # the source and throttle count reach the file too


def test_measure_refuses_too_few_invocations() -> None:
    client, stub = _stubbed([(_params("Invocations", False, Statistics=["Sum"]), _point(Sum=999.0))])
    with stub, pytest.raises(MeasureError, match=r"999 invocations in the last 14 days; a p99 needs at least 1000"):
        measure(client, "orders", days=14, now=NOW)


def test_sum_statistics_against_moto() -> None:
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-east-1")
        dims = [{"Name": "FunctionName", "Value": "orders"}]
        for minutes in range(5):
            client.put_metric_data(
                Namespace="AWS/Lambda",
                MetricData=[
                    {
                        "MetricName": "Invocations",
                        "Dimensions": dims,
                        "Value": 300.0,
                        "Timestamp": NOW - timedelta(minutes=minutes + 1),
                    }
                ],
            )
        start = NOW - timedelta(days=1)
        assert _stat(client, "Invocations", dims, start, NOW, statistic="Sum") == {"Sum": 1500.0}
        assert _stat(client, "Throttles", dims, start, NOW, statistic="Sum") == {}


def test_moto_computes_no_percentiles_which_is_why_stubber_is_used() -> None:
    """Tripwire: if moto starts computing ExtendedStatistics, move the p99 test onto it."""
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-east-1")
        dims = [{"Name": "FunctionName", "Value": "orders"}]
        client.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Duration",
                    "Dimensions": dims,
                    "Value": float(v),
                    "Timestamp": NOW - timedelta(minutes=1),
                }
                for v in range(100)
            ],
        )
        assert _stat(client, "Duration", dims, NOW - timedelta(days=1), NOW, extended=["p99"]) == {}


def test_right_size_uses_the_same_picks_as_memory() -> None:
    for strategy in ("cost", "speed", "balanced"):
        _, chosen = right_size(FIXTURE, strategy=strategy)
        assert chosen.memory_mb == Memory.from_power_tuning(FIXTURE, strategy=strategy).size_mb
    rows, _ = right_size(FIXTURE)
    row = next(r for r in rows if r.memory_mb == 1024)
    assert round(row.cost_arm64, 2) == 1.07 and round(row.cost_x86_64, 2) == 1.33
    assert row.picks == ("cost", "balanced")


def test_right_size_cli_prints_table_and_writes_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "cost.png"
    assert main(["right-size", str(FIXTURE), "--strategy", "speed", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "3008 MB   58.0 ms        2.27         2.84  speed <-" in out
    assert "speed: Memory.mb(3008)" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["right-size", str(FIXTURE), "--weight", "2"], "weight=2.0 is invalid; allowed: 0..1"),
        (["measure", "orders", "--days", "0"], "argument --days: '0' must be a finite number > 0"),
        (["report", "--format", "xml"], "argument --format: invalid choice"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_sizing_file_drives_the_timeout(tmp_path: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Annotations, Match, Template

    from lambda_constructs import ProductionFunction
    from tests.conftest import INLINE

    path = tmp_path / "orders.json"
    path.write_text(
        json.dumps(
            {
                "function": "orders:live",
                "p99_ms": 1200,
                "p999_ms": 2500,
                "sample_count": 5000,
                "window_days": 14,
                "peak_concurrency": 9,
                "measured_at": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    stack = cdk.Stack(cdk.App(), "S")
    fn = ProductionFunction(stack, "F", code=INLINE, handler="i.h", sizing=Sizing.from_file(path))
    assert fn.timeout_seconds == 4  # 1,200 ms x 3 = 3.6 s -> 4 s
    resource = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()))
    meta = resource["Metadata"]["lambda-constructs"]
    assert meta["timeout"] == {"seconds": 4, "source": "sizing", "p99Ms": 1200, "multiplier": 3}
    assert meta["sizing"]["file"] == str(path) and meta["sizing"]["sample_count"] == 5000
    # measured in January: older than 90 days -> a warning
    assert Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("re-run 'lambda-constructs measure'")
    )


# ---------------------------------------------------------------- report


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import app as example

    out = tmp_path_factory.mktemp("asm") / "cdk.out"
    example.build_app(outdir=str(out), context=cli_context()).synth()
    return out


def test_report_table_has_every_function(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(assembly)]) == 0
    output = capsys.readouterr().out
    lines, stacks = output.split("\n\n")[0].splitlines(), output.split("\n\n")[1].splitlines()
    assert stacks[0].split() == ["stack", "resources"] and stacks[2].startswith("OrdersService ")
    assert int(stacks[2].split()[1]) > 100  # resources in the example stack, of CloudFormation's 500
    assert lines[0].split() == [
        "stack",
        "function",
        "memory",
        "arch",
        "timeout",
        "from",
        "alias",
        "provisioned",
        "reserved",
        "failure",
        "path",
        "sqs",
        "visibility",
        "alarms",
        "$/month",
        "traffic",
    ]
    assert {line.split()[0] for line in lines[2:]} == {"OrdersService"}
    rows = {line.split()[1].split("/")[0]: line for line in lines[2:]}
    assert set(rows) == {
        "OrdersApi",
        "Notifier",
        "OrderWorker",
        "NightlyCleanup",
        "OrderEvents",
        "Thumbnailer",
        "LedgerSync",
        "Billing",
        "ReportExport",  # a plain aws_lambda.Function, given the library's defaults by ProductionDefaults
        "OrderUpdates",
        "Storefront",
        "ValidateOrder",
        "ChargeOrder",
        "PaymentEvents",
    }  # aws-cdk-lib's BucketNotificationsHandler and VPC custom resource are left out
    assert rows["ReportExport"].split()[2:6] == ["512", "MB", "arm64", "10"]
    assert "2..20@0.7" in rows["OrdersApi"] and "p99 120 ms" in rows["OrdersApi"]
    assert "SQS redrive" in rows["OrderWorker"] and "41 s" in rows["OrderWorker"]  # 6 x 6 s + 5 s window
    assert "stream onFailure" in rows["OrderEvents"]
    assert "onFailure" in rows["NightlyCleanup"] and "1769 MB" in rows["NightlyCleanup"]
    assert "caller (sync)" in rows["OrdersApi"]
    assert "caller (workflow)" in rows["ValidateOrder"] and " live   -  " in rows["ValidateOrder"]  # no PC
    assert "stream onFailure" in rows["PaymentEvents"]
    assert rows["OrdersApi"].split()[-3] == "7"  # 4 function alarms + 3 HTTP API alarms


def test_report_cost_estimate_json(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(assembly), "--format", "json", "--invocations-per-month", "10000000"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["path"].split("/")[1]: r for r in report["functions"]}
    # the stack resource counts the table shows, against CloudFormation's 500
    (stack,) = report["stacks"]
    assert stack["stack"] == "OrdersService" and 100 < stack["resources"] <= stack["limit"] == 500
    api = rows["OrdersApi"]
    expected = monthly_cost(memory_mb=1024, duration_ms=120, invocations=10_000_000, provisioned_min=2)
    # 7 alarms (4 function + 3 HTTP API) at $0.10 a month each (Amazon CloudWatch pricing); JSON logs:
    # Lambda's own records, 749 bytes an invocation, at $0.50 per GB ingested
    logs = 10_000_000 * PLATFORM_LOG_BYTES["JSON"] / 1024**3 * 0.50
    assert api["alarm_count"] == 7
    assert api["monthly_cost_usd"] == round(expected.total + 0.70 + logs, 2)
    assert api["extra"]["cost"] == {
        "duration": round(expected.duration, 2),
        "requests": 2.0,
        "provisioned": round(expected.provisioned, 2),
        "ephemeral_storage": 0.0,
        "snapstart": 0.0,
        "alarms": 0.70,
        "log_ingestion": round(logs, 2),
    }
    assert api["extra"]["cost_basis"]["invocations"] == "assumed (--invocations-per-month)"
    assert api["extra"]["prices"]["region"] == "us-east-1"
    worker = rows["OrderWorker"]
    assert worker["monthly_cost_usd"] == round(
        monthly_cost(memory_mb=1024, duration_ms=2000, invocations=10_000_000).total
        + worker["alarm_count"] * 0.10
        + logs,
        2,
    )


def test_report_markdown_and_price_overrides(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"requests_per_million": 1.0, "arm64": {"duration_gb_s": 0}, "log_ingestion_gb": 0}))
    assert (
        main(
            [
                "report",
                str(assembly),
                "--format",
                "markdown",
                "--invocations-per-month",
                "1000000",
                "--prices",
                str(prices),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| stack | function | memory |") and out[1].startswith("|---|")
    notifier = next(line for line in out if line.startswith("| OrdersService | Notifier"))
    alarms = int(notifier.split("|")[-4])
    # duration and logs free, 1M requests at $1.00, alarms; the traffic figure was assumed
    assert notifier.endswith(f"| {1.00 + alarms * 0.10:.2f} | assumed |")
    prices.write_text(json.dumps({"arm": {}}))
    assert main(["report", str(assembly), "--prices", str(prices)]) == 2
    assert "unknown price keys ['arm']" in capsys.readouterr().err


def test_measure_cli_writes_the_sizing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console command end to end, with boto3.client answering from a Stubber."""
    client, stub = _stubbed(
        [
            (_params("Invocations", False, Statistics=["Sum"]), _point(Sum=5000.0)),
            (
                _params("Duration", False, ExtendedStatistics=["p99", "p99.9"]),
                _point(ExtendedStatistics={"p99": 1200.0, "p99.9": 2500.0}),
            ),
            (_params("ConcurrentExecutions", False, Statistics=["Maximum"]), _point(Maximum=9.0)),
            (_params("Throttles", False, Statistics=["Sum"]), _point(Sum=2.0)),
            (_params("Duration", False, Statistics=["Average"]), _point(Average=400.0)),
        ]
    )
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    out = tmp_path / "sizing" / "orders.json"
    with stub:
        assert main(["measure", "orders", "--days", "14", "--no-logs", "--out", str(out)]) == 0
    assert f"sizing=Sizing.from_file('{out}')" in capsys.readouterr().out
    sizing = Sizing.from_file(out)
    assert (sizing.p99_ms, sizing.p999_ms, sizing.sample_count, sizing.peak_concurrency) == (1200, 2500, 5000, 9)
    written = json.loads(out.read_text())
    assert (written["throttles"], written["source"]) == (2, "cloudwatch")  # the throttle count reaches the file
    assert sizing.throttles == 2 and sizing.source == str(out)  # loaded: the file is the source


def test_measure_cli_too_few_invocations_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client, stub = _stubbed([(_params("Invocations", False, Statistics=["Sum"]), {"Datapoints": []})])
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stub:
        assert main(["measure", "orders", "--no-logs"]) == 1  # a failure at run time (too little data), not bad usage
    err = capsys.readouterr().err
    assert err.startswith("lambda-constructs measure: error: orders: 0 invocations in the last 14 days")
    assert len(err.strip().splitlines()) == 1


def test_report_reads_functions_our_constructs_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import aws_cdk as cdk

    from tests.conftest import raw_l2_service

    app = cdk.App(outdir=str(tmp_path / "raw"), context={"aws:cdk:enable-path-metadata": True})
    raw_l2_service(cdk.Stack(app, "Raw"))
    app.synth()
    assert main(["report", str(tmp_path / "raw"), "--format", "json", "--invocations-per-month", "1000"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["functions"]
    assert (row["memory_mb"], row["architecture"], row["timeout_s"]) == (128, "x86_64", 900)
    assert row["timeout_source"] == "unknown" and row["p99_ms"] is None and row["alias"] is None
    assert row["failure_path"] == "SQS (no redrive!)" and row["sqs_visibility_s"] == 60
    assert row["alarm_count"] == 0
    assert row["cost_basis"] == "timeout/3 (no p99 recorded)"
