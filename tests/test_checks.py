"""The LambdaProduction rule pack (cdk-nag 3 plugin) and the external packs on the example app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from lambda_constructs import ProductionReadinessChecks, enable_checks
from lambda_constructs.checks.rules import RULES, evaluate
from tests.conftest import cli_context, raw_l2_service


def violations(app: cdk.App) -> dict[str, list[str]]:
    """Synthesize; return rule name -> violating construct paths from CDK's validation report."""
    try:
        app.synth()
    except Exception as error:
        if "ValidationFailed" not in str(error):
            raise
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    found: dict[str, list[str]] = {}
    for plugin in report["pluginReports"]:
        for v in plugin["violations"]:
            found.setdefault(v["ruleName"], []).extend(c["constructPath"] for c in v["violatingConstructs"])
    return found


def legacy_app(tmp_path: Path, acknowledge: bool = False) -> cdk.App:
    """The raw-L2 service of conftest, with our pack enabled."""
    app = cdk.App(outdir=str(tmp_path / "legacy"))
    fn = raw_l2_service(cdk.Stack(app, "Legacy"))
    if acknowledge:
        Validations.of(fn).acknowledge(
            Acknowledgment(id="LambdaProduction-Arm64", reason="x86-only native dependency (libfoo)")
        )
    enable_checks(app)
    return app


def test_every_rule_fires_on_a_raw_l2_service(tmp_path: Path) -> None:
    found = violations(legacy_app(tmp_path))
    ours = {k.removeprefix("LambdaProduction-"): v for k, v in found.items() if k.startswith("LambdaProduction-")}
    assert set(ours) == {
        "Arm64",
        "TimeoutNotMax",
        "AsyncFailurePath",
        "LogRetention",
        "ErrorsAlarm",
        "SqsVisibility",
        "SqsBatchItemFailures",
        "SqsRedrive",
    }
    assert ours["Arm64"] == ["Legacy/Fn/Resource"]
    assert ours["SqsVisibility"][0].startswith("Legacy/Fn/SqsEventSource")


def test_findings_can_be_acknowledged_per_construct(tmp_path: Path) -> None:
    found = violations(legacy_app(tmp_path, acknowledge=True))
    assert "LambdaProduction-Arm64" not in found
    assert "LambdaProduction-TimeoutNotMax" in found


def test_example_app_is_clean_under_all_packs(tmp_path: Path) -> None:
    import app as example

    app = example.build_app(outdir=str(tmp_path / "example"), context=cli_context())
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app), ProductionReadinessChecks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding
    report = (
        json.loads((Path(app.outdir) / "validation-report.json").read_text())
        if (Path(app.outdir) / "validation-report.json").exists()
        else {"pluginReports": []}
    )
    assert all(p["violations"] == [] for p in report["pluginReports"])


def test_every_acknowledgement_carries_a_specific_reason(example_app: cdk.App) -> None:
    acknowledged = [
        (c.node.path, rule, reason)
        for c in example_app.node.find_all()
        for m in c.node.metadata
        if m.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in m.data.items()
        # aws-cdk-lib's own acknowledgements of its template validation (Vpc AZs, FlowLog) are not ours
        if not rule.startswith("CloudFormation-Validate::")
    ]
    assert len(acknowledged) >= 10
    for path, rule, reason in acknowledged:
        assert len(reason) > 60, f"{path} {rule}: the reason must say why, specifically"
    # only the findings the docs list as unavoidable or false positives are acknowledged
    rules = {rule.split("::", 1)[1].split("[")[0] for _, rule, _ in acknowledged}
    assert rules <= {
        "AwsSolutions-IAM4",  # only AWSLambdaVPCAccessExecutionRole, which aws-cdk-lib attaches to VPC functions
        "AwsSolutions-IAM5",
        "AwsSolutions-SQS3",
        "Serverless-SQSRedrivePolicy",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaEventSourceMappingDestination",
        # on aws-cdk-lib's own BucketNotificationsHandler only (S3Consumer brings it in)
        "AwsSolutions-L1",
        "Serverless-LambdaAsyncFailureDestination",
        "Serverless-LambdaDefaultMemorySize",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaTracing",
    }
    framework_only = {"AwsSolutions-L1", "Serverless-LambdaDefaultMemorySize", "Serverless-LambdaTracing"}
    for path, rule, _ in acknowledged:
        if rule.split("::", 1)[1].split("[")[0] in framework_only:
            assert "/BucketNotificationsHandler" in path, path


# ---------------------------------------------------------------- pure rules on hand-written templates


def _tpl(resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


FN = {"Type": "AWS::Lambda::Function", "Properties": {"Architectures": ["arm64"], "Timeout": 31}}


def test_rule_ids_are_unique_per_resource_type() -> None:
    keys = [(r.id, r.resource_type) for r in RULES]
    assert len(keys) == len(set(keys))
    assert all(r.info.endswith(".") and r.fix for r in RULES)


def test_timeout_above_http_api_limit() -> None:
    t = _tpl(
        {
            "Fn": FN,
            "Int": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {"IntegrationUri": {"Fn::GetAtt": ["Fn", "Arn"]}},
            },
        }
    )
    assert ("TimeoutApiGateway", "Fn") in evaluate(t)
    t["Resources"]["Fn"] = {**FN, "Properties": {**FN["Properties"], "Timeout": 30}}
    assert ("TimeoutApiGateway", "Fn") not in evaluate(t)


@pytest.mark.parametrize(
    ("mapping", "finding"),
    [
        ({"StartingPosition": "LATEST", "EventSourceArn": "arn:aws:kinesis:x"}, True),
        (
            {
                "StartingPosition": "LATEST",
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:x"}},
            },
            False,
        ),
        ({"StartingPosition": "LATEST", "DestinationConfig": {"OnFailure": {"Destination": "arn"}}}, True),
    ],
)
def test_stream_failure_path(mapping: dict[str, Any], finding: bool) -> None:
    t = _tpl(
        {
            "Fn": FN,
            "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "Fn"}, **mapping}},
        }
    )
    assert (("StreamFailurePath", "M") in evaluate(t)) is finding


def test_provisioned_concurrency_without_autoscaling() -> None:
    alias = {
        "Type": "AWS::Lambda::Alias",
        "Properties": {
            "FunctionName": {"Ref": "Fn"},
            "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 5},
        },
    }
    t = _tpl({"Fn": FN, "A": alias})
    assert ("ProvisionedConcurrencyScaling", "A") in evaluate(t)
    t["Resources"]["T"] = {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "ScalableDimension": "lambda:function:ProvisionedConcurrency",
            "ResourceId": {"Fn::Join": ["", ["function:", {"Ref": "Fn"}, ":live"]]},
        },
    }
    assert ("ProvisionedConcurrencyScaling", "A") not in evaluate(t)


def test_event_invoke_config_without_destination() -> None:
    t = _tpl(
        {
            "Fn": FN,
            "C": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {"FunctionName": {"Ref": "Fn"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 0},
            },
        }
    )
    assert ("AsyncFailurePath", "Fn") in evaluate(t)
