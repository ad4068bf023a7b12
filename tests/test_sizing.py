"""Pure sizing logic: timeout from p99, Memory presets, Power Tuning strategies, sizing files."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lambda_constructs import ConfigurationError, Memory, Sizing, timeout_seconds_from_p99_ms
from lambda_constructs.core.sizing import balanced_scores, parse_power_tuning, pick_power

NAN = float("nan")
FIXTURE = Path(__file__).parent / "fixtures" / "power_tuning.json"


@pytest.mark.parametrize(
    ("p99_ms", "multiplier", "expected_s"),
    [
        (1, 3, 1),  # never below Lambda's 1 s minimum
        (80, 3, 1),  # "Lambda in Production": p99 80 ms -> a 2 s timeout is generous; 3 x rounds up to 1 s
        (333, 3, 1),  # 999 ms -> 1 s
        (334, 3, 2),  # 1002 ms -> rounds UP to 2 s
        (1000, 3, 3),  # exactly 3 s, no float drift to 4
        (1000.1, 3, 4),
        (3800, 2.5, 10),  # "Lambda in Production" Terraform example: p99 3.8 s, timeout 10 s
        (3800, 3, 12),
        (100, 2, 1),
        (300_000, 3, 900),  # exactly the 900 s maximum is allowed
        (0.1, 1, 1),
    ],
)
def test_timeout_from_p99_table(p99_ms: float, multiplier: float, expected_s: int) -> None:
    assert timeout_seconds_from_p99_ms(p99_ms, multiplier) == expected_s


def test_timeout_above_900_suggests_step_functions() -> None:
    with pytest.raises(ConfigurationError, match=r"p99='300001 ms'.*<= 900 s \(got 901 s\).*Step Functions"):
        timeout_seconds_from_p99_ms(300_001, 3)


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf"), "100", True])
def test_timeout_refuses_non_positive_p99(bad: object) -> None:
    with pytest.raises(ConfigurationError, match=r"p99="):
        timeout_seconds_from_p99_ms(bad, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0.5, 11, 0])
def test_timeout_refuses_multiplier_out_of_range(bad: float) -> None:
    with pytest.raises(ConfigurationError, match=rf"multiplier={bad!r} is invalid; allowed: 1\.\.10 x p99"):
        timeout_seconds_from_p99_ms(100, bad)


def test_memory_presets_follow_the_seed_figures() -> None:
    assert Memory.io_bound().size_mb == 1024
    assert Memory.cpu_bound().size_mb == 1769
    assert Memory.mb(2048).size_mb == 2048
    assert Memory.io_bound().metadata() == {"sizeMb": 1024, "source": "io_bound"}


@pytest.mark.parametrize(("size", "ok"), [(127, False), (128, True), (10240, True), (10241, False), (50, False)])
def test_memory_range(size: int, ok: bool) -> None:
    problems = Memory.mb(size).problems()
    assert (problems == []) is ok
    if not ok:
        assert problems[0].describe().startswith(f"memory={size} is invalid; allowed: 128..10240 MB")


@pytest.mark.parametrize(
    ("strategy", "weight", "expected_mb"),
    [
        ("cost", 0.5, 1024),  # lowest averagePrice
        ("speed", 0.5, 3008),  # lowest averageDuration
        ("balanced", 0.5, 1024),
        ("balanced", 0.1, 1769),  # leaning towards speed
        ("balanced", 0.0, 3008),  # all speed
        ("balanced", 1.0, 1024),  # all cost
    ],
)
def test_power_tuning_strategies(strategy: str, weight: float, expected_mb: int) -> None:
    memory = Memory.from_power_tuning(FIXTURE, strategy=strategy, weight=weight)
    assert memory.size_mb == expected_mb
    assert memory.source == "power_tuning"
    assert memory.strategy == strategy


def test_balanced_score_is_power_tunings_formula() -> None:
    points = parse_power_tuning(FIXTURE)
    scores = balanced_scores(points, 0.5)
    max_price = max(p.average_price for p in points)
    max_duration = max(p.average_duration_ms for p in points)
    p1024 = next(p for p in points if p.memory_mb == 1024)
    expected = 0.5 * p1024.average_price / max_price + 0.5 * p1024.average_duration_ms / max_duration
    assert scores[points.index(p1024)] == pytest.approx(expected)


def test_cost_ties_break_on_duration() -> None:
    # 128, 256 and 512 MB cost the same in "AWS Lambda in production: patterns" table; the fastest of them wins
    data = json.loads(FIXTURE.read_text())
    data["stats"] = data["stats"][:3]
    del data["power"]  # the run's own pick (1024) is no longer among the rows
    assert Memory.from_power_tuning(data).size_mb == 512


def test_power_tuning_accepts_mapping_json_text_and_path() -> None:
    text = FIXTURE.read_text()
    assert Memory.from_power_tuning(json.loads(text)).size_mb == 1024
    assert Memory.from_power_tuning(text).size_mb == 1024
    assert Memory.from_power_tuning(str(FIXTURE)).size_mb == 1024


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"power": 1024}, r"power_tuning=.* allowed: Power Tuning output with a non-empty 'stats' list"),
        ({"stats": []}, r"non-empty 'stats' list"),
        (
            {"stats": [{"value": 64, "averagePrice": 1e-6, "averageDuration": 5}]},
            r"power_tuning\.stats\[0\]\.value=64 is invalid; allowed: 128\.\.10240 MB",
        ),
        (
            {"stats": [{"value": 128, "averagePrice": -1, "averageDuration": 5}]},
            r"power_tuning\.stats\[0\]\.averagePrice=-1",
        ),
        # Power Tuning drops a row without durations (a branch that produced none): nothing is left
        ({"stats": [{"value": 128, "averagePrice": 1e-6}]}, r"power_tuning.stats='1 rows'.*averageDuration > 0"),
        ({"stats": ["128"]}, r"power_tuning\.stats\[0\]='128'"),
        ("{not json", r"allowed: valid JSON"),
        ("/no/such/file.json", r"power_tuning='/no/such/file.json' is invalid; allowed: a readable JSON file"),
    ],
)
def test_malformed_power_tuning_output(payload: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Memory.from_power_tuning(payload)  # type: ignore[arg-type]


def test_unknown_strategy() -> None:
    with pytest.raises(ConfigurationError, match=r"strategy='cheapest' is invalid; allowed: cost \| speed \| balanced"):
        Memory.from_power_tuning(FIXTURE, strategy="cheapest")


def test_balanced_weight_range() -> None:
    with pytest.raises(ConfigurationError, match=r"weight=1\.5 is invalid; allowed: 0\.\.1"):
        pick_power(parse_power_tuning(FIXTURE), "balanced", 1.5)


def _sizing(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "function": "orders-api:live",
        "p99_ms": 120.0,
        "p999_ms": 310.0,
        "sample_count": 250_000,
        "window_days": 14,
        "peak_concurrency": 37,
        "measured_at": "2026-11-20T10:00:00+00:00",
    }
    data.update(overrides)
    return data


def test_sizing_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(_sizing()))
    sizing = Sizing.from_file(path)
    assert sizing.p99_ms == 120.0
    assert sizing.measured_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert sizing.age_days(datetime(2026, 12, 20, 10, tzinfo=UTC)) == 30
    assert Sizing.from_dict(sizing.to_dict()) == sizing  # every field survives, the source and throttles too
    assert sizing.source == str(path) and sizing.to_dict()["source"] == str(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _sizing(sample_count=999),
            r"sizing\.sample_count=999 is invalid; allowed: >= 1000 invocations\. "
            r"a p99 from fewer invocations is noise",
        ),
        (_sizing(p99_ms=0), r"sizing\.p99_ms=0 is invalid; allowed: a number > 0"),
        (_sizing(measured_at="yesterday"), r"sizing\.measured_at='yesterday'"),
        ({"p99_ms": 5}, r"missing or null: function, sample_count, window_days, measured_at"),
    ],
)
def test_sizing_refuses_bad_files(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Sizing.from_dict(data)


def test_pure_modules_import_no_cdk() -> None:
    """Sizing, limits, pricing, plans, rules, report and the CLI start without aws-cdk-lib / jsii / Node."""
    import subprocess
    import sys
    from pathlib import Path

    import lambda_constructs

    root = Path(lambda_constructs.__file__).parent
    # every module under core/, core/plans/ included
    pure = sorted(
        ".".join(("lambda_constructs", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        for p in (root / "core").rglob("*.py")
    )
    assert "lambda_constructs.core.plans.function" in pure
    pure += [
        "lambda_constructs",
        "lambda_constructs.checks.rules",
        "lambda_constructs.cli",
        "lambda_constructs.cli.ops",
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {pure!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs', 'cdk_nag')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ parity with Power Tuning's analyzer

ROWS = [
    {"value": 128, "averagePrice": 2.0e-7, "averageDuration": 0},  # a branch with no durations: dropped
    {"value": "256", "averagePrice": 4.0e-7, "averageDuration": 90.0},  # value as a string
    None,  # a null row: skipped
    {"value": 512, "averagePrice": 5.0e-7, "averageDuration": 50.0},
]


@pytest.mark.parametrize(("strategy", "expected"), [("cost", 256), ("speed", 512), ("balanced", 512)])
def test_power_tuning_reads_rows_as_its_analyzer_does(strategy: str, expected: int) -> None:
    points = parse_power_tuning({"stats": ROWS})
    assert [p.memory_mb for p in points] == [256, 512]
    assert pick_power(points, strategy).memory_mb == expected  # 128 MB is never picked: it had no durations


def test_power_tuning_accepts_a_describe_execution_response() -> None:
    output = json.dumps({"power": 256, "cost": 4e-7, "duration": 90.0, "stats": ROWS})
    response = {"executionArn": "arn:aws:states:...:execution:x", "status": "SUCCEEDED", "output": output}
    assert Memory.from_power_tuning(response).size_mb == 256
    assert Memory.from_power_tuning(json.dumps(response)).size_mb == 256


def test_power_tuning_cross_checks_its_own_pick() -> None:
    with pytest.raises(ConfigurationError, match=r"power_tuning.power=128 is invalid; allowed: one of the stats rows"):
        parse_power_tuning({"power": 128, "stats": ROWS})


def test_power_tuning_weight_nan_and_all_zero_prices() -> None:
    points = parse_power_tuning({"stats": ROWS})
    with pytest.raises(ConfigurationError, match=r"weight=nan"):
        pick_power(points, "balanced", NAN)
    free = parse_power_tuning(
        {
            "stats": [
                {"value": 128, "averagePrice": 0, "averageDuration": 900},
                {"value": 1024, "averagePrice": 0, "averageDuration": 100},
            ]
        }
    )
    # the documented difference: Power Tuning would return the first row (NaN scores); the fastest wins here
    assert pick_power(free, "balanced").memory_mb == 1024
    assert math.isfinite(pick_power(free, "cost").average_duration_ms)


# ------------------------------------------------------------------ errors name the file (issue 22)


def test_a_field_error_in_a_sizing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sizing" / "orders.json"
    path.parent.mkdir()
    path.write_text(json.dumps(_sizing(p99_ms=0, sample_count=10)))
    with pytest.raises(ConfigurationError) as info:
        Sizing.from_file(path)
    assert [p.prop for p in info.value.problems] == ["sizing.p99_ms", "sizing.sample_count"]
    assert f"sizing.p99_ms=0 is invalid; allowed: a number > 0. read from {path}" in str(info.value)
    assert f"read from {path}; a p99 from fewer invocations is noise" in str(info.value)


def test_a_field_error_in_a_power_tuning_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tuning.json"
    path.write_text(json.dumps({"stats": [{"value": 64, "averagePrice": 1e-7, "averageDuration": 10}]}))
    with pytest.raises(
        ConfigurationError,
        match=rf"power_tuning\.stats\[0\]\.value=64 is invalid; allowed: 128\.\.10240 MB\. read from {path}$",
    ):
        Memory.from_power_tuning(path)
    with pytest.raises(ConfigurationError, match=rf"power_tuning\.stats\[0\]\.value=64 .* read from {path}$"):
        Memory.from_power_tuning(str(path))


def test_a_mapping_names_no_file() -> None:
    with pytest.raises(
        ConfigurationError, match=r"power_tuning\.stats\[0\]\.value=64 is invalid; allowed: 128\.\.10240 MB$"
    ):
        Memory.from_power_tuning({"stats": [{"value": 64, "averagePrice": 1e-7, "averageDuration": 10}]})


@pytest.mark.parametrize(
    ("load", "prop"),
    [(Sizing.from_file, "sizing"), (Memory.from_power_tuning, "power_tuning"), (parse_power_tuning, "power_tuning")],
    ids=["sizing", "memory", "parse"],
)
def test_a_nul_byte_in_a_path_is_a_configuration_error(load: object, prop: str) -> None:
    with pytest.raises(
        ConfigurationError, match=rf"^{prop}='sizing/a\\x00b.json' is invalid; allowed: a path without a NUL"
    ):
        load("sizing/a\0b.json")  # type: ignore[operator]
    with pytest.raises(ConfigurationError, match=r"a path without a NUL byte"):
        load(Path("sizing/a\0b.json"))  # type: ignore[operator]
