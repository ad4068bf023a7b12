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
        "DeploySqsVisibilityTimeout",  # 60 s < 900 s: Lambda refuses this mapping at deploy
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
        "AwsSolutions-APIG4",  # WebSocket routes other than $connect: authorization happens on $connect only
        "AwsSolutions-SQS3",
        "AwsSolutions-S1",  # the stream / Kafka on-failure bucket: no server access logs (its writes are alarmed)
        "Serverless-SQSRedrivePolicy",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaEventSourceMappingDestination",
        # on aws-cdk-lib's own BucketNotificationsHandler only (S3Consumer brings it in)
        "AwsSolutions-L1",
        "Serverless-LambdaAsyncFailureDestination",
        "Serverless-LambdaDefaultMemorySize",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaTracing",
        "Serverless-LambdaStarPermissions",  # the role's inline XRayTracing policy alone
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
    # 30 s still reaches the 30 s integration timeout (cold start included): the constructs refuse it too
    t["Resources"]["Fn"] = {**FN, "Properties": {**FN["Properties"], "Timeout": 30}}
    assert ("TimeoutApiGateway", "Fn") in evaluate(t)
    t["Resources"]["Fn"] = {**FN, "Properties": {**FN["Properties"], "Timeout": 29}}
    assert ("TimeoutApiGateway", "Fn") not in evaluate(t)


@pytest.mark.parametrize(
    ("integration_ms", "timeout_s", "finding"),
    [(None, 29, True), (None, 28, False), (60_000, 45, False), (60_000, 60, True)],
)
def test_rest_api_timeout_reads_the_integration(integration_ms: int | None, timeout_s: int, finding: bool) -> None:
    integration: dict[str, Any] = {"Uri": {"Fn::Join": ["", ["arn:", {"Fn::GetAtt": ["Fn", "Arn"]}, "/invocations"]]}}
    if integration_ms is not None:
        integration["TimeoutInMillis"] = integration_ms
    t = _tpl(
        {
            "Fn": {**FN, "Properties": {**FN["Properties"], "Timeout": timeout_s}},
            "M": {"Type": "AWS::ApiGateway::Method", "Properties": {"Integration": integration}},
        }
    )
    assert (("TimeoutApiGateway", "Fn") in evaluate(t)) is finding


@pytest.mark.parametrize(
    ("mapping", "finding"),
    [
        ({"StartingPosition": "LATEST", "EventSourceArn": "arn:aws:kinesis:x"}, True),
        (
            {
                "StartingPosition": "LATEST",
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:x"}},
                "MaximumRetryAttempts": 10,
                "MaximumRecordAgeInSeconds": 86_400,
            },
            False,
        ),
        (  # bisect and a destination, but retries until the record expires: the shard still blocks
            {
                "StartingPosition": "LATEST",
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:x"}},
                "MaximumRetryAttempts": -1,
                "MaximumRecordAgeInSeconds": -1,
            },
            True,
        ),
        (
            {
                "StartingPosition": "LATEST",
                "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:x"}},
            },
            True,
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


# ---------------------------------------------------------------- legacy setups the pack must judge right


def _fixed_legacy_app(tmp_path: Path) -> cdk.App:
    """A legacy service whose owner fixed things the aws-cdk-lib ways: raw overrides, add_auto_scaling,
    an S3 trigger (aws-cdk-lib's BucketNotificationsHandler) and a bucket with auto_delete_objects."""
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_s3_notifications as s3n

    from tests.conftest import INLINE

    app = cdk.App(outdir=str(tmp_path / "fixed"), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Fixed")
    fn = lambda_.Function(
        stack,
        "Fn",
        code=INLINE,
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
        timeout=cdk.Duration.seconds(10),
        log_group=logs.LogGroup(stack, "Logs", retention=logs.RetentionDays.ONE_WEEK),
    )
    fn.node.default_child.add_property_override("Architectures", ["arm64"])  # type: ignore[union-attr]
    from aws_cdk import aws_cloudwatch_actions as cw_actions
    from aws_cdk import aws_sns as sns

    alarm = cloudwatch.Alarm(stack, "Errors", metric=fn.metric_errors(), threshold=1, evaluation_periods=1)
    alarm.add_alarm_action(cw_actions.SnsAction(sns.Topic(stack, "Alarms")))  # AlarmActions
    alias = lambda_.Alias(
        stack, "Live", alias_name="live", version=fn.current_version, provisioned_concurrent_executions=1
    )
    alias.add_auto_scaling(min_capacity=1, max_capacity=5).scale_on_utilization(utilization_target=0.7)
    bucket = s3.Bucket(stack, "Bucket", auto_delete_objects=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(alias))
    lambda_.EventInvokeConfig(stack, "Async", function=fn, qualifier="live", on_failure=None, retry_attempts=0)
    enable_checks(app)
    return app


def test_pack_judges_the_deployed_template_and_skips_framework_functions(tmp_path: Path) -> None:
    found = violations(_fixed_legacy_app(tmp_path))
    ours = {k.removeprefix("LambdaProduction-"): v for k, v in found.items() if k.startswith("LambdaProduction-")}
    # Arm64 fixed by a raw override; add_auto_scaling recognised; the BucketNotificationsHandler and the
    # auto-delete-objects provider are aws-cdk-lib's and left out; only the real gap remains
    assert set(ours) == {"AsyncFailurePath"}, ours
    assert ours["AsyncFailurePath"] == ["Fixed/Fn/Resource"]


def test_findings_carry_the_fix(tmp_path: Path) -> None:
    violations(legacy_app(tmp_path))
    report = json.loads((tmp_path / "legacy" / "validation-report.json").read_text())
    descriptions = [v["description"] for p in report["pluginReports"] for v in p["violations"]]
    arm = [d for d in descriptions if "arm64" in d]
    assert arm and "Fix: Set architecture=ARM_64" in arm[0]


def test_enable_checks_needs_a_construct() -> None:
    from lambda_constructs import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"^enable_checks: scope='None' is invalid; allowed: a construct"):
        enable_checks(None)  # type: ignore[arg-type]


_DEFERRED_ACKS = """
import json, sys
from pathlib import Path
import aws_cdk as cdk
from aws_cdk import Validations
from aws_cdk import aws_lambda as lambda_
from lambda_constructs import Invocation, ProductionFunction

def build(outdir):
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "S")
    fn = ProductionFunction(stack, "Api", code=lambda_.Code.from_inline("def handler(e, c): return e"),
                            handler="index.handler", p99=cdk.Duration.seconds(1), invocation=Invocation.SYNC)
    return app, fn

def acks(fn):
    return [r for m in fn.node.metadata if m.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY for r in m.data]

assert "cdk_nag" not in sys.modules
app, fn = build("without")
app.synth()
assert acks(fn) == [], acks(fn)  # no cdk-nag in the process: nothing sent, nothing recorded

app, fn = build("with")
assert acks(fn) == []  # deferred while cdk_nag is not imported
import cdk_nag
Validations.of(app).add_plugins(cdk_nag.ServerlessChecks(app))
try:
    app.synth()
except Exception as error:
    assert "ValidationFailed" in str(error), error
written = Path("with/validation-report.json")
report = json.loads(written.read_text()) if written.exists() else {"pluginReports": []}
rules = [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]
assert not any("LambdaDLQ" in r for r in rules), rules  # applied at synthesis, before the plugin ran
assert any("Serverless-LambdaDLQ" in r for r in acks(fn.cfn_function)), acks(fn.cfn_function)
"""


def test_acknowledgements_wait_for_cdk_nag(tmp_path: Path) -> None:
    """Acknowledgements cost nothing in a process without cdk-nag and still reach a pack imported late."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", _DEFERRED_ACKS], cwd=tmp_path, check=True, timeout=180)
