"""The drift gate: one test per threshold (just over / just under), matching, the CLI on a real cdk.out,
and the CloudWatch mode against botocore's Stubber with recorded responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambda_constructs import ConfigurationError, Sizing
from lambda_constructs.cli import main
from lambda_constructs.core.drift import Thresholds, judge, match
from lambda_constructs.core.report import FunctionReport

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _fn(**kwargs: Any) -> FunctionReport:
    base: dict[str, Any] = {
        "stack": "Svc",
        "logical_id": "ApiFunction1A2B3C4D",
        "path": "Svc/Api/Function/Resource",
        "memory_mb": 1024,
        "architecture": "arm64",
        "timeout_s": 1,
        "p99_ms": 300.0,
        "timeout_source": "p99",
    }
    return FunctionReport(**{**base, **kwargs})


def _sizing(**kwargs: Any) -> Sizing:
    base: dict[str, Any] = {
        "function": "svc-api",
        "p99_ms": 300.0,
        "p999_ms": None,
        "sample_count": 5000,
        "window_days": 14,
        "peak_concurrency": 5.0,
        "measured_at": NOW,
    }
    return Sizing(**{**base, **kwargs})


def _checks(fn: FunctionReport, sizing: Sizing, baseline: dict[str, Any] | None = None, **t: float) -> list[str]:
    return [f.check for f in judge(fn, sizing, baseline, Thresholds(**t)).findings]


# ---------------------------------------------------------------- one test per threshold


def test_p99_above_80_percent_of_the_timeout() -> None:
    assert _checks(_fn(timeout_s=1), _sizing(p99_ms=801)) == ["p99_near_timeout"]
    assert _checks(_fn(timeout_s=1), _sizing(p99_ms=800)) == []
    (finding,) = judge(_fn(timeout_s=1), _sizing(p99_ms=801), None, Thresholds()).findings
    assert finding.threshold == "p99 > 80% of the timeout (800 ms)"
    assert finding.fix.startswith("raise the timeout to 3 x p99 = 3 s")


def test_timeout_above_5_x_p99() -> None:
    assert _checks(_fn(timeout_s=10), _sizing(p99_ms=1999)) == ["timeout_oversized"]
    assert _checks(_fn(timeout_s=10), _sizing(p99_ms=2000)) == []
    (finding,) = judge(_fn(timeout_s=10), _sizing(p99_ms=1999), None, Thresholds()).findings
    assert finding.fix.startswith("lower the timeout to 3 x p99 = 6 s")


def test_max_memory_used_above_90_percent() -> None:
    assert _checks(_fn(), _sizing(max_memory_used_mb=922)) == ["memory_high"]  # 90 % of 1,024 = 921.6
    assert _checks(_fn(), _sizing(max_memory_used_mb=921)) == []
    (finding,) = judge(_fn(), _sizing(max_memory_used_mb=922), None, Thresholds()).findings
    assert finding.fix.startswith("raise memory to at least 1318 MB")  # 922 / 0.7


def test_max_memory_used_below_30_percent() -> None:
    assert _checks(_fn(), _sizing(max_memory_used_mb=307)) == ["memory_low"]  # 30 % of 1,024 = 307.2
    assert _checks(_fn(), _sizing(max_memory_used_mb=308)) == []


def test_provisioned_utilization_below_0_3() -> None:
    pc = {"provisioned_min": 2, "provisioned_max": 20}
    assert _checks(_fn(**pc), _sizing(provisioned_utilization_max=0.29)) == ["provisioned_underused"]
    assert _checks(_fn(**pc), _sizing(provisioned_utilization_max=0.3)) == []
    assert _checks(_fn(), _sizing(provisioned_utilization_max=0.01)) == []  # no provisioned concurrency


def test_provisioned_spillover() -> None:
    pc = {"provisioned_min": 2, "provisioned_max": 20}
    assert _checks(_fn(**pc), _sizing(provisioned_utilization_max=0.9, provisioned_spillover=1)) == [
        "provisioned_spillover"
    ]
    assert _checks(_fn(**pc), _sizing(provisioned_utilization_max=0.9, provisioned_spillover=0)) == []


def test_cold_start_rate_moved() -> None:
    baseline = {"cold_start_rate": 0.02}
    # 2 % -> 3.1 %: 1.1 points, more than 50 % of 2 %
    assert _checks(_fn(), _sizing(cold_start_rate=0.031), baseline) == ["cold_start_rate_moved"]
    assert _checks(_fn(), _sizing(cold_start_rate=0.029), baseline) == []
    assert _checks(_fn(), _sizing(cold_start_rate=0.009), baseline) == ["cold_start_rate_moved"]  # down moves too
    # below the 1-point floor a relative move is noise: 0.1 % -> 0.5 %
    assert _checks(_fn(), _sizing(cold_start_rate=0.005), {"cold_start_rate": 0.001}) == []


def test_init_duration_moved() -> None:
    baseline = {"init_duration_p99_ms": 300.0}
    assert _checks(_fn(), _sizing(init_duration_p99_ms=451), baseline) == ["init_duration_moved"]
    assert _checks(_fn(), _sizing(init_duration_p99_ms=449), baseline) == []
    # 50 % of 100 ms is 50 ms, but a move below 100 ms is not reported
    assert _checks(_fn(), _sizing(init_duration_p99_ms=190), {"init_duration_p99_ms": 100.0}) == []


def test_thresholds_are_configurable() -> None:
    assert _checks(_fn(timeout_s=1), _sizing(p99_ms=801), p99_timeout_fraction=0.9) == []
    t = Thresholds.with_overrides({"timeout_p99_multiple": "10", "memory_used_max_fraction": 0.95})
    assert (t.timeout_p99_multiple, t.memory_used_max_fraction, t.p99_timeout_fraction) == (10.0, 0.95, 0.8)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"p99_fraction": 1}, r"threshold p99_fraction=1 is invalid; allowed: cold_start_rate_change \|"),
        ({"timeout_p99_multiple": "-1"}, r"threshold timeout_p99_multiple='-1' is invalid; allowed: a finite number"),
        ({"memory_used_max_fraction": 1.5}, r"allowed: a fraction 0\.\.1"),
        ({"memory_used_min_fraction": 0.95}, r"allowed: below memory_used_max_fraction \(0\.9\)"),
    ],
)
def test_bad_thresholds(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Thresholds.with_overrides(values)


def test_what_could_not_be_checked_is_said() -> None:
    row = judge(_fn(timeout_s="deploy-time"), _sizing(), None, Thresholds())
    assert row.status == "ok"
    assert "p99_near_timeout: timeout is decided at deploy time" in row.not_checked
    assert any(n.startswith("memory: no max_memory_used_mb") for n in row.not_checked)
    assert any(n.startswith("cold_starts: no baseline") for n in row.not_checked)


# ---------------------------------------------------------------- matching


def test_sizing_files_match_by_the_function_they_name() -> None:
    by_name = (_fn(logical_id="AFn", path="Svc/A/Resource"), {"Properties": {"FunctionName": "orders-a"}})
    by_meta = (
        _fn(logical_id="BFn", path="Svc/B/Function/Resource"),
        {"Metadata": {"lambda-constructs": {"sizing": {"function": "orders-b:live"}}}},
    )
    by_path = (_fn(logical_id="CFnXYZ", path="Svc/Reports/Function/Resource"), {})
    generated = (_fn(logical_id="ExportJob0123ABCD", path="Svc/ExportJob/Resource"), {})
    unmeasured = (_fn(logical_id="DFn", path="Svc/D/Resource"), {})
    sizings = [
        _sizing(function="Svc-ExportJob0123-AbCdEf123456"),
        _sizing(function="orders-b:live"),
        _sizing(function="orders-a"),
        _sizing(function="Reports"),
        _sizing(function="somebody-else"),
    ]
    pairs, unmatched = match([by_name, by_meta, by_path, generated, unmeasured], sizings)
    assert [s.function if s else None for _, s in pairs] == [
        "orders-a",
        "orders-b:live",
        "Reports",
        "Svc-ExportJob0123-AbCdEf123456",
        None,
    ]
    assert [s.function for s in unmatched] == ["somebody-else"]


# ---------------------------------------------------------------- the command on a real cdk.out


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from lambda_constructs import ProductionFunction, ProvisionedConcurrency
    from tests.conftest import INLINE

    root = tmp_path_factory.mktemp("drift")
    baseline = root / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "function": "orders-api:live",
                "p99_ms": 300,
                "sample_count": 50_000,
                "window_days": 14,
                "measured_at": (NOW - timedelta(days=10)).isoformat(),
                "cold_start_rate": 0.02,
                "init_duration_p99_ms": 300,
            }
        )
    )
    out = root / "cdk.out"
    app = cdk.App(outdir=str(out), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Svc")
    ProductionFunction(
        stack,
        "Api",
        code=INLINE,
        handler="index.handler",
        sizing=Sizing.from_file(baseline),
        provisioned_concurrency=ProvisionedConcurrency(min_capacity=2, max_capacity=10),
    )
    lambda_.Function(
        stack,
        "Export",
        function_name="orders-export",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=INLINE,
        timeout=cdk.Duration.seconds(60),
    )
    app.synth()
    return out


def _write(directory: Path, name: str, **values: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    data = {"sample_count": 20_000, "window_days": 14, "measured_at": NOW.isoformat(), **values}
    (directory / f"{name}.json").write_text(json.dumps(data))


def test_drift_cli_exits_1_with_a_table(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sizing = tmp_path / "sizing"
    # Api: timeout 1 s (3 x 300 ms); now p99 850 ms, cold starts 2 % -> 6 %, 95 % of memory used
    _write(
        sizing,
        "api",
        function="orders-api:live",
        p99_ms=850,
        cold_start_rate=0.06,
        max_memory_used_mb=1000,
        provisioned_utilization_max=0.8,
        provisioned_spillover=0,
    )
    _write(sizing, "export", function="orders-export", p99_ms=2000)  # timeout 60 s = 30 x p99
    assert main(["drift", str(assembly), str(sizing)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["stack", "function", "status", "check", "measured", "configured", "threshold"]
    body = [line for line in lines[2:] if line.startswith("Svc ")]
    checks = {(line.split()[1], line.split()[3]) for line in body}
    assert checks == {
        ("Api", "p99_near_timeout"),
        ("Api", "memory_high"),
        ("Api", "cold_start_rate_moved"),
        ("Export", "timeout_oversized"),
    }
    assert "fix:" in out and "Export: timeout_oversized: lower the timeout to 3 x p99 = 6 s" in out
    monkeypatch.setenv("COLUMNS", "70")  # a terminal 70 columns wide: the same findings, within it
    assert main(["drift", str(assembly), str(sizing)]) == 1
    narrow = capsys.readouterr().out
    assert max(len(line) for line in narrow.splitlines()) <= 70 and "timeout_oversized" in narrow


def test_drift_cli_json_and_exit_0(assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sizing = tmp_path / "sizing"
    _write(
        sizing,
        "api",
        function="orders-api:live",
        p99_ms=310,
        cold_start_rate=0.021,
        provisioned_utilization_max=0.7,
        provisioned_spillover=0,
        max_memory_used_mb=500,
    )
    _write(sizing, "stranger", function="not-in-this-app", p99_ms=100)
    assert main(["drift", str(assembly), str(sizing), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["drift"] is False and data["thresholds"]["p99_timeout_fraction"] == 0.8
    status = {f["function"]: f["status"] for f in data["functions"]}
    assert status == {"Api": "ok", "Export": "not measured"}
    assert data["unmatched_sizing_files"] == [f"{sizing / 'stranger.json'} (not-in-this-app)"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threshold", "nope=1"], "threshold nope='1' is invalid"),
        (["--threshold", "p99_timeout_fraction"], "expected NAME=VALUE"),
        (["--cloudwatch"], "give SIZING_DIR or --cloudwatch (one of them)"),
    ],
)
def test_drift_usage_errors_exit_2(
    assembly: Path, tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "s", "api", function="orders-api", p99_ms=300)
    assert main(["drift", str(assembly), str(tmp_path / "s"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_drift_refuses_a_malformed_sizing_file(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"function": "x", "p99_ms": 1}))
    assert main(["drift", str(assembly), str(tmp_path)]) == 2
    assert "bad.json" in capsys.readouterr().err


# ---------------------------------------------------------------- CloudWatch mode, recorded responses


def _client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _metric(name: str, dims: list[dict[str, str]], **stat: object) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": name,
        "Dimensions": dims,
        "StartTime": ANY,
        "EndTime": ANY,
        "Period": 14 * 86_400,
        **stat,
    }


def _point(**values: object) -> dict[str, Any]:
    return {"Datapoints": [{"Timestamp": NOW, **values}]}


def test_cloudwatch_mode_measures_each_deployed_function(
    assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = json.loads((assembly / "Svc.template.json").read_text())["Resources"]
    api_id = next(
        k for k, v in templates.items() if v["Type"] == "AWS::Lambda::Function" and k.startswith("ApiFunction")
    )
    export_id = next(k for k, v in templates.items() if v["Type"] == "AWS::Lambda::Function" and k.startswith("Export"))
    clients = {s: _client(s) for s in ("cloudformation", "cloudwatch", "lambda", "logs")}
    stubs = {s: Stubber(c) for s, c in clients.items()}
    deployed = {api_id: "Svc-ApiFunction1A2B-Q1w2E3r4T5y6", export_id: "orders-export"}
    for logical_id, physical in deployed.items():  # the report's order: sorted by logical id
        alias = logical_id == api_id
        stubs["cloudformation"].add_response(
            "describe_stack_resource",
            {
                "StackResourceDetail": {
                    "StackName": "Svc",
                    "LogicalResourceId": logical_id,
                    "PhysicalResourceId": physical,
                    "ResourceType": "AWS::Lambda::Function",
                    "LastUpdatedTimestamp": NOW,
                    "ResourceStatus": "UPDATE_COMPLETE",
                }
            },
            {"StackName": "Svc", "LogicalResourceId": logical_id},
        )
        stubs["lambda"].add_response(
            "get_function_configuration",
            {
                "FunctionName": physical,
                "MemorySize": 1024 if alias else 128,
                "LoggingConfig": {"LogFormat": "JSON", "LogGroup": f"/svc/{physical}"},
            },
            {"FunctionName": physical},
        )
        dims = [{"Name": "FunctionName", "Value": physical}]
        if alias:
            dims.append({"Name": "Resource", "Value": f"{physical}:live"})
        cw = stubs["cloudwatch"]
        cw.add_response("get_metric_statistics", _point(Sum=90_000.0), _metric("Invocations", dims, Statistics=["Sum"]))
        p99 = 850.0 if alias else 2_000.0
        cw.add_response(
            "get_metric_statistics",
            _point(ExtendedStatistics={"p99": p99, "p99.9": p99 * 1.5}),
            _metric("Duration", dims, ExtendedStatistics=["p99", "p99.9"]),
        )
        cw.add_response(
            "get_metric_statistics", _point(Maximum=7.0), _metric("ConcurrentExecutions", dims, Statistics=["Maximum"])
        )
        if alias:
            cw.add_response(
                "get_metric_statistics",
                _point(Maximum=0.8),
                _metric("ProvisionedConcurrencyUtilization", dims, Statistics=["Maximum"]),
            )
        cw.add_response("get_metric_statistics", _point(Sum=0.0), _metric("Throttles", dims, Statistics=["Sum"]))
        cw.add_response(
            "get_metric_statistics", _point(Average=p99 / 3), _metric("Duration", dims, Statistics=["Average"])
        )
        if alias:
            cw.add_response(
                "get_metric_statistics",
                _point(Sum=4.0),
                _metric("ProvisionedConcurrencySpilloverInvocations", dims, Statistics=["Sum"]),
            )
        stubs["logs"].add_response(
            "start_query",
            {"queryId": f"q-{physical}"},
            {"logGroupName": f"/svc/{physical}", "startTime": ANY, "endTime": ANY, "queryString": ANY},
        )
        stubs["logs"].add_response(
            "get_query_results", {"status": "Running", "results": []}, {"queryId": f"q-{physical}"}
        )
        stubs["logs"].add_response(
            "get_query_results",
            {
                "status": "Complete",
                "results": [
                    [
                        {"field": "reports", "value": "90000"},
                        {"field": "cold", "value": "1800"},
                        {"field": "usedFraction", "value": "0.25"},
                        {"field": "initP99", "value": "320.5"},
                    ]
                ],
            },
            {"queryId": f"q-{physical}"},
        )
    monkeypatch.setattr(boto3, "client", lambda service, **_: clients[service])
    monkeypatch.setattr("lambda_constructs.cli.ops.QUERY_POLL_S", 0)
    for stub in stubs.values():
        stub.activate()
    assert main(["drift", str(assembly), "--cloudwatch", "--json"]) == 1
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    data = json.loads(capsys.readouterr().out)
    found = {f["function"]: sorted(x["check"] for x in f["findings"]) for f in data["functions"]}
    # Api: 850 ms of a 1 s timeout, 4 spillovers, 25 % of 1,024 MB used; cold starts 2 % -> 2 %: no move
    assert found == {
        "Api": ["memory_low", "p99_near_timeout", "provisioned_spillover"],
        "Export": ["memory_low", "timeout_oversized"],
    }
    api = next(f for f in data["functions"] if f["function"] == "Api")
    assert api["sizing_file"] == "cloudwatch"  # the throttle count is its own field (Sizing.throttles)


# ---------------------------------------------------------------- sizing files: old and new


def test_old_sizing_files_load_and_new_fields_are_checked() -> None:
    old = {"function": "a", "p99_ms": 100, "sample_count": 1000, "window_days": 14, "measured_at": NOW.isoformat()}
    sizing = Sizing.from_dict(old)
    assert sizing.invocations_per_month is None and sizing.cold_start_rate is None
    assert "cold_start_rate" not in sizing.to_dict()  # an old file written back stays an old file
    with pytest.raises(ConfigurationError, match=r"sizing.cold_start_rate=1.5 is invalid; allowed: a fraction 0\.\.1"):
        Sizing.from_dict({**old, "cold_start_rate": 1.5})
    with pytest.raises(ConfigurationError, match=r"sizing.max_memory_used_mb=-1 is invalid"):
        Sizing.from_dict({**old, "max_memory_used_mb": -1})


def test_cloudwatch_mode_too_little_traffic_is_said_on_stderr_and_json_stays_valid(
    assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = json.loads((assembly / "Svc.template.json").read_text())["Resources"]
    ids = sorted(k for k, v in templates.items() if v["Type"] == "AWS::Lambda::Function")
    clients = {s: _client(s) for s in ("cloudformation", "cloudwatch", "lambda", "logs")}
    stubs = {s: Stubber(c) for s, c in clients.items()}
    for logical_id in ids:
        physical = f"Svc-{logical_id[:12]}-X1"
        detail = {
            "StackName": "Svc",
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical,
            "ResourceType": "AWS::Lambda::Function",
            "LastUpdatedTimestamp": NOW,
            "ResourceStatus": "CREATE_COMPLETE",
        }
        stubs["cloudformation"].add_response("describe_stack_resource", {"StackResourceDetail": detail})
        stubs["lambda"].add_response("get_function_configuration", {"FunctionName": physical, "MemorySize": 128})
        stubs["cloudwatch"].add_response("get_metric_statistics", _point(Sum=12.0))  # Invocations: too few
    monkeypatch.setattr(boto3, "client", lambda service, **_: clients[service])
    for stub in stubs.values():
        stub.activate()
    assert main(["drift", str(assembly), "--cloudwatch", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert {f["status"] for f in data["functions"]} == {"not measured"}
    assert captured.err.count("lambda-constructs drift: not measured: ") == 2
    assert "12 invocations in the last 14 days" in captured.err
