"""Powertools: the layer ARN from Powertools' public SSM parameter at deploy time, a pinned release or
layer version as options, every runtime it publishes a layer for, and partitions where it publishes none."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from lambda_constructs import ConfigurationError, Powertools, ProductionFunction
from lambda_constructs.function.powertools import NODE_VERSIONS, PYTHON_VERSIONS, partition_of
from tests.conftest import INLINE


def _layers(region: str | None, runtime: lambda_.Runtime, powertools: Powertools, **kwargs: Any) -> dict[str, Any]:
    env = cdk.Environment(account="123456789012", region=region) if region else None
    stack = cdk.Stack(cdk.App(), "S", env=env)
    ProductionFunction(
        stack,
        "F",
        code=INLINE,
        handler="index.handler",
        runtime=runtime,
        powertools=powertools,
        p99=cdk.Duration.millis(100),
        **kwargs,
    )
    tpl = Template.from_stack(stack).to_json()
    fn = next(r for r in tpl["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    return {"layers": fn["Properties"]["Layers"], "parameters": tpl.get("Parameters", {}), "stack": stack}


def _parameter(found: dict[str, Any]) -> str:
    (layer,) = found["layers"]
    return str(found["parameters"][layer["Ref"]]["Default"])


@pytest.mark.parametrize("version", PYTHON_VERSIONS)
@pytest.mark.parametrize("arm64", [True, False])
def test_every_python_runtime_resolves_its_ssm_parameter(version: str, arm64: bool) -> None:
    arch = "arm64" if arm64 else "x86_64"
    name = f"python{version}"
    assert Powertools("svc").ssm_parameter(name, arm64) == f"/aws/service/powertools/python/{arch}/{name}/latest"


@pytest.mark.parametrize("version", NODE_VERSIONS)
def test_every_node_runtime_resolves_the_typescript_parameter(version: str) -> None:
    assert (
        Powertools("svc").ssm_parameter(f"nodejs{version}.x", True)
        == "/aws/service/powertools/typescript/generic/all/latest"
    )


def test_default_is_the_latest_parameter_resolved_at_deploy_time() -> None:
    found = _layers("eu-west-1", lambda_.Runtime.PYTHON_3_13, Powertools("orders"))
    (layer,) = found["layers"]
    assert found["parameters"][layer["Ref"]] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": "/aws/service/powertools/python/arm64/python3.13/latest",
    }


def test_a_release_pins_its_own_parameter() -> None:
    found = _layers("eu-west-1", lambda_.Runtime.NODEJS_22_X, Powertools("web", version="2.14.0"))
    assert _parameter(found) == "/aws/service/powertools/typescript/generic/all/2.14.0"


def test_a_layer_version_pins_the_arn_without_ssm() -> None:
    found = _layers("eu-west-1", lambda_.Runtime.PYTHON_3_13, Powertools("orders", layer_version=27))
    assert not any("Ssm" in k for k in found["parameters"])
    arn = found["stack"].resolve(found["layers"][0])
    assert "017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27" in str(arn)


def test_an_environment_agnostic_stack_still_resolves_in_its_region() -> None:
    found = _layers(None, lambda_.Runtime.PYTHON_3_14, Powertools("orders"))
    assert _parameter(found) == "/aws/service/powertools/python/arm64/python3.14/latest"


@pytest.mark.parametrize(
    ("region", "account"),
    [("cn-north-1", "498634801083"), ("us-gov-east-1", "165087284144"), ("us-gov-west-1", "165093116878")],
)
def test_china_and_govcloud_need_a_pinned_layer_from_their_own_account(region: str, account: str) -> None:
    with pytest.raises(
        ConfigurationError,
        match=rf"powertools.layer_version=None is invalid; allowed: a pinned layer version in {region}.*"
        "SSM parameters in commercial regions only",
    ):
        _layers(region, lambda_.Runtime.PYTHON_3_13, Powertools("orders"))
    found = _layers(region, lambda_.Runtime.PYTHON_3_13, Powertools("orders", layer_version=27))
    arn = str(found["stack"].resolve(found["layers"][0]))
    assert f":{region}:{account}:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27" in arn


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("cn-northwest-1", "aws-cn"),
    ],
)
def test_partitions_without_a_layer_are_refused(region: str, partition: str) -> None:
    assert partition_of(region) == partition
    with pytest.raises(ConfigurationError, match=rf"region='{region}' is invalid; allowed: a region where Powertools"):
        _layers(region, lambda_.Runtime.PYTHON_3_13, Powertools("orders", layer_version=27))


@pytest.mark.parametrize(
    ("powertools", "message"),
    [
        (Powertools("x", version="latest-ish"), r"powertools.version='latest-ish' is invalid; allowed: a Powertools"),
        (Powertools("x", version="3.23.0", layer_version=27), r"powertools.layer_version=27 is invalid; allowed: not"),
    ],
)
def test_bad_version_settings(powertools: Powertools, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _layers("eu-west-1", lambda_.Runtime.PYTHON_3_13, powertools)
