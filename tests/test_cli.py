"""The command-line conventions, held for every command: --json, --version, --help on every option,
exit 1 for failures at run time and 2 for bad usage, one-line errors, tables that fit the terminal."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import NoCredentialsError

import lambda_constructs
from lambda_constructs.cli import main
from lambda_constructs.cli.main import build_parser
from lambda_constructs.cli.ops import figure, right_size
from tests.test_ops import FIXTURE, _params, _point, _stubbed

# drift --json and diff --json: tests/test_drift.py, tests/test_diff.py
COMMANDS = ("report", "right-size", "measure", "new", "drift", "diff")
VERSION = f"lambda-constructs {lambda_constructs.__version__}"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_commands_are_the_ones_this_file_checks() -> None:
    assert set(_subparsers(build_parser())) == set(COMMANDS)


@pytest.mark.parametrize("argv", [["--version"], *([c, "--version"] for c in COMMANDS)])
def test_every_command_answers_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == VERSION


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, sub in [("lambda-constructs", parser), *_subparsers(parser).items()]
        for action in sub._actions
        if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()
    ]
    assert missing == []
    for name, sub in _subparsers(parser).items():
        options = {o for a in sub._actions for o in a.option_strings}
        assert {"--json", "--version", "--help"} <= options, name


def test_python_dash_m_runs_the_command() -> None:
    run = subprocess.run([sys.executable, "-m", "lambda_constructs", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == VERSION
    run = subprocess.run([sys.executable, "-m", "lambda_constructs", "report", "--bad"], capture_output=True, text=True)
    assert run.returncode == 2 and "unrecognized arguments: --bad" in run.stderr


# ---------------------------------------------------------------- --json on every command


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import aws_cdk as cdk

    from lambda_constructs import ProductionFunction
    from tests.conftest import INLINE

    out = tmp_path_factory.mktemp("asm") / "cdk.out"
    app = cdk.App(outdir=str(out), context={"aws:cdk:enable-path-metadata": True})
    ProductionFunction(cdk.Stack(app, "Svc"), "Api", code=INLINE, handler="i.h", p99=cdk.Duration.seconds(40))
    app.synth()
    return out


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_report_json_keeps_the_stack_resource_counts(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(["report", str(assembly), "--json"], capsys)
    assert isinstance(data, dict)
    (function,) = data["functions"]
    assert function["path"] == "Svc/Api/Function/Resource" and function["timeout_s"] == 120  # 3 x 40 s
    (stack,) = data["stacks"]
    assert stack["stack"] == "Svc" and stack["limit"] == 500 and stack["resources"] > 5
    assert data == _json(["report", str(assembly), "--format", "json"], capsys)


def test_report_shows_a_long_p99_in_seconds(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(assembly)]) == 0
    row = capsys.readouterr().out.splitlines()[2]
    assert "p99 40 s" in row and "40000" not in row and "120 s" in row


def test_right_size_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(["right-size", str(FIXTURE), "--strategy", "speed", "--json"], capsys)
    assert isinstance(data, dict)
    assert data["memory_mb"] == 3008 and data["strategy"] == "speed"
    assert [r["memory_mb"] for r in data["rows"]] == [128, 256, 512, 1024, 1769, 3008]
    assert data["rows"][-1]["picks"] == ["speed"]


def test_measure_json_has_the_throttles(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client, stub = _stubbed(
        [
            (_params("Invocations", False, Statistics=["Sum"]), _point(Sum=5000.0)),
            (
                _params("Duration", False, ExtendedStatistics=["p99", "p99.9"]),
                _point(ExtendedStatistics={"p99": 1200.0, "p99.9": 2500.0}),
            ),
            (_params("ConcurrentExecutions", False, Statistics=["Maximum"]), _point(Maximum=9.0)),
            (_params("Throttles", False, Statistics=["Sum"]), _point(Sum=3.0)),
            (_params("Duration", False, Statistics=["Average"]), _point(Average=400.0)),
        ]
    )
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stub:
        data = _json(["measure", "orders", "--no-logs", "--json"], capsys)
    assert isinstance(data, dict)
    assert (data["p99_ms"], data["throttles"], data["source"], data["sample_count"]) == (1200, 3, "cloudwatch", 5000)


def test_new_json_lists_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(["new", "orders-api", "--dir", str(tmp_path / "svc"), "--json"], capsys)
    assert isinstance(data, dict)
    assert (data["service"], data["stack"]) == ("orders-api", "OrdersApi")
    assert {"app.py", "requirements.txt", "README.md"} <= set(data["files"])


# ---------------------------------------------------------------- exit codes and one-line errors


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return code, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--format", "xml"], "argument --format: invalid choice"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["measure", "bad name!"], "FUNCTION[:ALIAS] 'bad name!' is invalid"),
        (["new", "Orders_API"], "SERVICE_NAME 'Orders_API' is invalid"),
        (["right-size", str(FIXTURE), "--plot", "cost.gif"], "--plot cost.gif: allowed file types"),
    ],
)
def test_bad_usage_exits_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _error(argv, capsys)
    assert code == 2 and message in err


def test_failures_at_run_time_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _error(["report", str(tmp_path / "missing")], capsys)
    assert code == 1 and "cannot read" in err and "manifest.json" in err
    code, err = _error(["right-size", str(tmp_path / "missing.json")], capsys)
    assert code == 1 and err.strip().endswith("missing.json: No such file or directory")
    (tmp_path / "not-an-assembly").mkdir()
    (tmp_path / "not-an-assembly" / "manifest.json").write_text("[]")
    code, err = _error(["report", str(tmp_path / "not-an-assembly")], capsys)
    assert code == 2 and "is not a cloud assembly manifest" in err  # its content: the user's to change

    class NoCredentials:
        def get_metric_statistics(self, **_: object) -> None:
            raise NoCredentialsError()

    monkeypatch.setattr(boto3, "client", lambda *a, **k: NoCredentials())
    code, err = _error(["measure", "orders", "--no-logs"], capsys)
    assert code == 1 and err.startswith("lambda-constructs measure: error: CloudWatch: Unable to locate credentials")

    code, err = _error(["measure", "orders", "--no-logs", "--json"], capsys)
    assert code == 1 and json.loads(err) == {
        "command": "measure",
        "error": "CloudWatch: Unable to locate credentials",
        "exit_code": 1,
    }


# ---------------------------------------------------------------- tables fit the terminal


def test_tables_fit_the_terminal_width(
    assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(assembly)]) == 0
    wide = capsys.readouterr().out
    assert max(len(line) for line in wide.splitlines()) > 100  # piped: one line per function, no wrapping
    for columns in (120, 80, 40):
        monkeypatch.setenv("COLUMNS", str(columns))
        for argv in (["report", str(assembly)], ["right-size", str(FIXTURE)]):
            assert main(argv) == 0
            out = capsys.readouterr().out
            assert max(len(line) for line in out.splitlines()) <= columns, out
            assert "Svc" in out or "Memory.mb(1024)" in out


def test_the_plot_legend_is_off_the_axes_and_cost_starts_at_zero() -> None:
    rows, chosen = right_size(FIXTURE)
    fig = figure(rows, chosen)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer))  # nothing it could cover: lines, pick, ticks
        assert ax.get_ylim()[0] == 0
    labels = [t.get_text() for t in legend.get_texts()]
    assert "pick: 1024 MB" in labels and len(labels) == 4
