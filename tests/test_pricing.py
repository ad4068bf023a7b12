"""Per-function cost: one test per price component, the regional table and its assumption, the AWS
Price List API (botocore Stubber on a recorded response shape), and `report --sizing` on a real cdk.out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambda_constructs.cli import main
from lambda_constructs.cli.cost import PriceListError, fetch_prices
from lambda_constructs.core.pricing import (
    DEFAULT_PRICES,
    PLATFORM_LOG_BYTES,
    PRICES_DATE,
    SECONDS_PER_MONTH,
    Prices,
    Usage,
    cost_components,
    prices_for,
)

BASE = Usage(memory_mb=1024, architecture="arm64", invocations=1_000_000, duration_ms=100)


def _cost(**kwargs: Any) -> dict[str, float]:
    return cost_components(Usage(**{**BASE.__dict__, **kwargs}))


# ---------------------------------------------------------------- one test per component


def test_duration_on_demand_per_architecture() -> None:
    # 1 GB x 0.1 s x 1M = 100,000 GB-s
    assert _cost()["duration"] == pytest.approx(100_000 * 0.0000133334)
    assert _cost(architecture="x86_64")["duration"] == pytest.approx(100_000 * 0.0000166667)


def test_requests() -> None:
    assert _cost()["requests"] == pytest.approx(0.20)
    assert _cost(invocations=30)["requests"] == pytest.approx(30 / 1_000_000 * 0.20)


def test_provisioned_concurrency_and_its_duration_rate() -> None:
    cost = _cost(provisioned_min=2)
    assert cost["provisioned"] == pytest.approx(2 * 1 * SECONDS_PER_MONTH * 0.0000033334)  # ~ $17.52
    assert cost["duration"] == pytest.approx(100_000 * 0.0000077778)  # "duration while provisioned"
    assert _cost()["provisioned"] == 0


def test_ephemeral_storage_above_512_mb() -> None:
    assert _cost()["ephemeral_storage"] == 0  # 512 MB is included
    assert _cost(ephemeral_mb=512)["ephemeral_storage"] == 0
    # 2,048 MB: 1.5 GB above the free 512 MB, for the 100,000 s of duration
    assert _cost(ephemeral_mb=2048)["ephemeral_storage"] == pytest.approx(1.5 * 100_000 * 0.0000000309)


def test_snapstart_cache_and_restores() -> None:
    assert _cost()["snapstart"] == 0
    cost = _cost(snap_start=True, cold_start_rate=0.02)
    cache = 1 * SECONDS_PER_MONTH * 0.0000015046  # one active version, 1 GB, all month
    restores = 1_000_000 * 0.02 * 1 * 0.0001397998  # 20,000 restores of 1 GB
    assert cost["snapstart"] == pytest.approx(cache + restores)


def test_alarms() -> None:
    assert _cost(alarms=7)["alarms"] == pytest.approx(0.70)


def test_log_ingestion_json_is_larger_than_text() -> None:
    text, json_logs = _cost(log_format="Text")["log_ingestion"], _cost(log_format="JSON")["log_ingestion"]
    assert text == pytest.approx(1_000_000 * PLATFORM_LOG_BYTES["Text"] / 1024**3 * 0.50)
    assert json_logs == pytest.approx(1_000_000 * PLATFORM_LOG_BYTES["JSON"] / 1024**3 * 0.50)
    assert PLATFORM_LOG_BYTES["JSON"] > 2 * PLATFORM_LOG_BYTES["Text"]
    with_app = _cost(log_format="JSON", app_log_bytes=1000)["log_ingestion"]
    assert with_app == pytest.approx(1_000_000 * (PLATFORM_LOG_BYTES["JSON"] + 1000) / 1024**3 * 0.50)


# ---------------------------------------------------------------- the table and its regions


def test_us_east_1_is_the_dated_table_and_other_regions_are_said_to_be_assumed() -> None:
    assert prices_for("us-east-1") is DEFAULT_PRICES and PRICES_DATE in DEFAULT_PRICES.basis
    frankfurt = prices_for("eu-central-1")
    assert frankfurt.region == "eu-central-1" and frankfurt.arm64 == DEFAULT_PRICES.arm64
    assert frankfurt.basis.startswith("eu-central-1: assumed equal to us-east-1 (not verified;")


def test_price_overrides_cover_every_component() -> None:
    prices = Prices.from_dict({"ephemeral_gb_s": 1, "snapstart_restore_gb": 2, "log_ingestion_gb": 3})
    assert (prices.ephemeral_gb_s, prices.snapstart_restore_gb, prices.log_ingestion_gb) == (1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match=r"price log_ingestion_gb=-1 is invalid"):
        Prices.from_dict({"log_ingestion_gb": -1})


# ---------------------------------------------------------------- the AWS Price List API


def _product(group: str, usd: str, tiers: bool = False) -> str:
    dimensions = {"A.1": {"beginRange": "0", "endRange": "6000000000", "pricePerUnit": {"USD": usd}}}
    if tiers:
        dimensions["A.2"] = {"beginRange": "6000000000", "endRange": "15000000000", "pricePerUnit": {"USD": "0.000001"}}
    return json.dumps(
        {
            "product": {"attributes": {"group": group, "regionCode": "eu-central-1"}},
            "terms": {"OnDemand": {"SKU.T": {"priceDimensions": dimensions}}},
        }
    )


def _pricing(pages: list[list[str]]) -> tuple[Any, Stubber]:
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for index, page in enumerate(pages):
        params: dict[str, Any] = {
            "ServiceCode": "AWSLambda",
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-central-1"}],
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if index:
            params["NextToken"] = f"page{index}"
        response: dict[str, Any] = {"PriceList": page, "FormatVersion": "aws_v1"}
        if index + 1 < len(pages):
            response["NextToken"] = f"page{index + 1}"
        stub.add_response("get_products", response, params)
    return client, stub


def test_price_list_api_gives_the_regions_figures() -> None:
    client, stub = _pricing(
        [
            [
                _product("AWS-Lambda-Duration", "0.0000166667", tiers=True),
                _product("AWS-Lambda-Duration-ARM", "0.0000133334", tiers=True),
                _product("AWS-Lambda-Requests", "0.0000002"),
                _product("AWS-Lambda-Edge-Requests", "0.0000006"),  # not a figure this report uses
            ],
            [
                _product("AWS-Lambda-Provisioned-Concurrency", "0.0000048467"),
                _product("AWS-Lambda-Provisioned-Concurrency-ARM", "0.0000038774"),
                _product("AWS-Lambda-Duration-Provisioned", "0.0000108407"),
                _product("AWS-Lambda-Duration-Provisioned-ARM", "0.0000086726"),
            ],
        ]
    )
    with stub:
        prices = fetch_prices(client, "eu-central-1")
    stub.assert_no_pending_responses()
    assert prices.arm64.duration_gb_s == 0.0000133334  # the first tier, not the 6-billion-GB-s one
    assert prices.arm64.provisioned_gb_s == 0.0000038774 and prices.x86_64.provisioned_duration_gb_s == 0.0000108407
    assert prices.requests_per_million == pytest.approx(0.20)
    assert prices.region == "eu-central-1" and prices.basis.startswith("eu-central-1: AWS Price List API")
    assert prices.log_ingestion_gb == DEFAULT_PRICES.log_ingestion_gb  # not read from the API: the table's


def test_price_list_api_missing_a_figure_is_an_error() -> None:
    client, stub = _pricing([[_product("AWS-Lambda-Duration", "0.0000166667")]])
    with stub, pytest.raises(PriceListError, match=r"no AWS-Lambda-Duration-ARM, .* price for eu-central-1"):
        fetch_prices(client, "eu-central-1")


# ---------------------------------------------------------------- report --sizing on a real cdk.out


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from lambda_constructs import Invocation, Memory, ProductionFunction
    from tests.conftest import INLINE

    out = tmp_path_factory.mktemp("cost") / "cdk.out"
    app = cdk.App(outdir=str(out), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Svc", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    ProductionFunction(
        stack,
        "Nightly",
        code=INLINE,
        handler="index.handler",
        p99=cdk.Duration.seconds(40),
        memory=Memory.cpu_bound(),
        invocation=Invocation.ASYNC,
    )
    lambda_.Function(
        stack,
        "Snap",
        function_name="svc-snap",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=INLINE,
        memory_size=2048,
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
    )
    lambda_.Function(  # SnapStart and more than 512 MB of /tmp do not go together (AWS): a second function
        stack,
        "Scratch",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=INLINE,
        ephemeral_storage_size=cdk.Size.mebibytes(4096),
    )
    app.synth()
    return out


def _sizing(directory: Path, name: str, **values: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    base = {"sample_count": 1000, "window_days": 30, "measured_at": "2026-11-30T00:00:00+00:00", "p99_ms": 100}
    (directory / f"{name}.json").write_text(json.dumps({**base, **values}))


def test_report_prices_each_function_from_its_own_traffic(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sizing = tmp_path / "sizing"
    # the nightly job runs 30 times a month for 30 s: not 5 M invocations
    _sizing(sizing, "nightly", function="Nightly", invocations_per_month=30, average_duration_ms=30_000)
    args = ["report", str(assembly), "--format", "json", "--sizing", str(sizing), "--invocations-per-month", "5000000"]
    assert main(args) == 0
    rows = {r["path"].split("/")[1]: r for r in json.loads(capsys.readouterr().out)["functions"]}
    nightly, snap = rows["Nightly"], rows["Snap"]
    usage = Usage(
        memory_mb=1769,
        architecture="arm64",
        invocations=30,
        duration_ms=30_000,
        alarms=nightly["alarm_count"],
        log_format="JSON",
    )
    assert nightly["monthly_cost_usd"] == round(sum(cost_components(usage, prices_for("eu-west-1")).values()), 2)
    assert nightly["monthly_cost_usd"] < 1.5  # ~ $0.02 of duration + its alarms
    assert nightly["extra"]["cost_basis"]["invocations"] == "measured"
    assert nightly["extra"]["cost_basis"]["duration"] == "measured (average)"
    assert nightly["extra"]["prices"]["region"] == "eu-west-1"  # the stack's region, from the manifest
    assert "assumed equal to us-east-1" in nightly["extra"]["prices"]["basis"]
    # raw functions have no sizing file: the given figure, said to be assumed; SnapStart and /tmp priced
    assert snap["extra"]["cost_basis"]["invocations"] == "assumed (--invocations-per-month)"
    assert snap["extra"]["cost_basis"]["cold_start_rate"] == "assumed 1%"
    assert snap["extra"]["cost"]["snapstart"] > 0 and snap["extra"]["cost"]["ephemeral_storage"] == 0
    scratch = rows["Scratch"]["extra"]["cost"]
    assert scratch["ephemeral_storage"] > 0 and scratch["snapstart"] == 0


def test_report_region_flag_and_no_traffic(assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sizing = tmp_path / "sizing"
    _sizing(sizing, "snap", function="svc-snap")  # an old sizing file: no traffic recorded
    assert main(["report", str(assembly), "--format", "json", "--sizing", str(sizing), "--region", "us-east-1"]) == 0
    rows = {r["path"].split("/")[1]: r for r in json.loads(capsys.readouterr().out)["functions"]}
    assert rows["Snap"]["monthly_cost_usd"] is None
    assert rows["Snap"]["cost_basis"].startswith("not estimated: no invocations")


def test_the_generated_service_readme_states_its_idle_cost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The standing charge in the starter's README is what `report --invocations-per-month 0` computes."""
    import importlib.util

    from lambda_constructs.cli.new import generate

    service = tmp_path / "svc"
    generate("orders-api", service)
    spec = importlib.util.spec_from_file_location("starter_app_idle", service / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.build_app().synth().directory
    assert main(["report", out, "--invocations-per-month", "0", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["functions"]
    provisioned = sum(r["extra"]["cost"]["provisioned"] for r in rows)
    assert provisioned > 0 and all(r["extra"]["cost"]["requests"] == 0 for r in rows)
    readme = (service / "README.md").read_text()
    assert f"**${provisioned:.2f} a month**" in readme
    assert "`--invocations-per-month 0` prints the idle charges per function" in readme
