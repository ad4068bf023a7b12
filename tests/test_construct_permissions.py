"""What the library's own roles are given: ENI actions in a VPC, X-Ray alone in its acknowledged policy.

aws-cdk-lib's ``Function`` attaches ``service-role/AWSLambdaVPCAccessExecutionRole`` only to a role it
creates itself; a ProductionFunction brings its own role, so it must attach the policy (CreateFunction fails
without the ENI actions). And the acknowledgement of cdk-nag's AwsSolutions-IAM5 for X-Ray's ``Resource: *``
must cover the X-Ray statement alone: a later wildcard grant is reported as on a plain ``aws_lambda.Function``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from lambda_constructs import ProductionFunction, enable_checks
from tests.conftest import INLINE

VPC_POLICY = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"],
    ]
}
XRAY = {"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Effect": "Allow", "Resource": "*"}


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )


def _fn(stack: cdk.Stack, id: str = "Fn", **kwargs: Any) -> ProductionFunction:
    return ProductionFunction(
        stack, id, code=INLINE, handler="index.handler", timeout=cdk.Duration.seconds(10), **kwargs
    )


def _roles(stack: cdk.Stack) -> dict[str, Any]:
    return Template.from_stack(stack).find_resources("AWS::IAM::Role")


def _role_of(stack: cdk.Stack, prefix: str) -> dict[str, Any]:
    found = [r["Properties"] for k, r in _roles(stack).items() if k.startswith(prefix)]
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- VPC: the ENI actions


def test_a_vpc_function_s_own_role_gets_aws_lambda_vpc_access_execution_role() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack, vpc=_vpc(stack))
    assert _role_of(stack, "FnServiceRole")["ManagedPolicyArns"] == [VPC_POLICY]


def test_without_a_vpc_the_role_has_no_managed_policy() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack)
    assert "ManagedPolicyArns" not in _role_of(stack, "FnServiceRole")


def test_the_library_role_matches_what_aws_cdk_lib_gives_its_own_vpc_role() -> None:
    """The same managed policy aws-cdk-lib attaches to a role it creates for a VPC function (besides basic logging,
    which the library replaces by a statement on the function's own log group)."""
    stack = cdk.Stack(cdk.App(), "S")
    vpc = _vpc(stack)
    lambda_.Function(stack, "Raw", code=INLINE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_13, vpc=vpc)
    _fn(stack, vpc=vpc)
    raw = _role_of(stack, "RawServiceRole")["ManagedPolicyArns"]
    assert VPC_POLICY in raw and len(raw) == 2  # AWSLambdaBasicExecutionRole + AWSLambdaVPCAccessExecutionRole
    assert _role_of(stack, "FnServiceRole")["ManagedPolicyArns"] == [VPC_POLICY]


def test_a_given_role_is_left_as_aws_cdk_lib_leaves_it() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    _fn(stack, vpc=_vpc(stack), role=role)
    assert "ManagedPolicyArns" not in _role_of(stack, "Mine")


def test_the_example_app_s_vpc_function_can_create_its_enis(example_templates: dict[str, dict[str, Any]]) -> None:
    vpc_functions = 0
    for template in example_templates.values():
        resources = template.get("Resources", {})
        for function in resources.values():
            if function["Type"] != "AWS::Lambda::Function" or "VpcConfig" not in function["Properties"]:
                continue
            vpc_functions += 1
            role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
            assert resources[role_id]["Properties"]["ManagedPolicyArns"] == [VPC_POLICY]
    assert vpc_functions >= 1


# ---------------------------------------------------------------- X-Ray: its own policy, acknowledged alone


def test_the_x_ray_statement_is_the_role_s_inline_policy_and_tracing_is_active() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack)
    template = Template.from_stack(stack)
    role = _role_of(stack, "FnServiceRole")
    assert role["Policies"] == [
        {"PolicyDocument": {"Statement": [XRAY], "Version": "2012-10-17"}, "PolicyName": "XRayTracing"}
    ]
    (default,) = template.find_resources("AWS::IAM::Policy").values()
    assert XRAY not in default["Properties"]["PolicyDocument"]["Statement"]
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert any(d.startswith("FnServiceRole") for d in function["DependsOn"])


def test_pass_through_and_disabled_tracing() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    _fn(stack, "Pass", tracing=lambda_.Tracing.PASS_THROUGH)
    _fn(stack, "Off", tracing=lambda_.Tracing.DISABLED)
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    modes = {k[:4]: f["Properties"].get("TracingConfig") for k, f in functions.items()}
    assert modes == {"Pass": {"Mode": "PassThrough"}, "OffF": None}
    assert _role_of(stack, "PassServiceRole")["Policies"][0]["PolicyDocument"]["Statement"] == [XRAY]
    assert "Policies" not in _role_of(stack, "OffServiceRole")


def test_a_given_role_gets_aws_cdk_lib_s_x_ray_statement() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    _fn(stack, role=role)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    assert XRAY in policy["Properties"]["PolicyDocument"]["Statement"]


def _iam5(tmp_path: Path, build: Any) -> list[str]:
    """Paths cdk-nag's AwsSolutions pack reports AwsSolutions-IAM5 on, for the stack ``build`` fills."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    build(stack)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except Exception as error:
        if "ValidationFailed" not in str(error):
            raise
    report_file = Path(app.outdir) / "validation-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {"pluginReports": []}
    return sorted(
        c["constructPath"]
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        if v["ruleName"].startswith("AwsSolutions-IAM5")
        for c in v["violatingConstructs"]
    )


WILDCARD_GET = iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])


def test_x_ray_alone_is_acknowledged(tmp_path: Path) -> None:
    assert _iam5(tmp_path, lambda stack: _fn(stack)) == []


def test_a_later_wildcard_grant_is_reported_as_on_a_plain_function(tmp_path: Path) -> None:
    def ours(stack: cdk.Stack) -> None:
        _fn(stack).add_to_role_policy(WILDCARD_GET)

    def plain(stack: cdk.Stack) -> None:
        fn = lambda_.Function(stack, "Fn", code=INLINE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_13)
        fn.add_to_role_policy(WILDCARD_GET)

    assert _iam5(tmp_path / "ours", ours) == ["S/Fn/ServiceRole/DefaultPolicy/Resource"]
    assert _iam5(tmp_path / "plain", plain) == ["S/Fn/ServiceRole/DefaultPolicy/Resource"]


def test_a_wildcard_grant_through_the_role_is_reported(tmp_path: Path) -> None:
    def ours(stack: cdk.Stack) -> None:
        _fn(stack).role.add_to_principal_policy(WILDCARD_GET)

    assert _iam5(tmp_path, ours) == ["S/Fn/ServiceRole/DefaultPolicy/Resource"]


# ---------------------------------------------------------------- aws-cdk-lib's log_retention


def test_the_rule_pack_accepts_aws_cdk_lib_s_log_retention(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    lambda_.Function(
        stack,
        "Raw",
        code=INLINE,
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        log_retention=logs.RetentionDays.ONE_MONTH,
    )
    lambda_.Function(stack, "Bare", code=INLINE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_13)
    enable_checks(app)
    try:
        app.synth()
    except Exception as error:
        if "ValidationFailed" not in str(error):
            raise
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    flagged = sorted(
        c["constructPath"]
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        if v["ruleName"] == "LambdaProduction-LogRetention"
        for c in v["violatingConstructs"]
    )
    assert flagged == ["S/Bare/Resource"]


# ---------------------------------------------------------------- Lambda@Edge under the packs


def _edge_report(tmp_path: Path, account: str | None) -> dict[str, list[str]]:
    from aws_cdk import aws_cloudfront as cloudfront

    from lambda_constructs import LATEST_PYTHON, EdgeFunction

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S", env=cdk.Environment(region="us-east-1", account=account))
    EdgeFunction(
        stack,
        "Edge",
        code=INLINE,
        handler="index.handler",
        runtime=LATEST_PYTHON,
        event_type=cloudfront.LambdaEdgeEventType.VIEWER_RESPONSE,
        p99=cdk.Duration.millis(100),
        alarm_topic=sns.Topic(stack, "Alarms", enforce_ssl=True),
    )
    enable_checks(app)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except Exception as error:
        if "ValidationFailed" not in str(error):
            raise
    report_file = Path(app.outdir) / "validation-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {"pluginReports": []}
    found: dict[str, list[str]] = {}
    for plugin in report["pluginReports"]:
        for v in plugin["violations"]:
            found.setdefault(v["ruleName"], []).extend(c["constructPath"] for c in v["violatingConstructs"])
    return found


def test_enable_checks_passes_the_library_s_edge_function(tmp_path: Path) -> None:
    """Lambda@Edge runs x86_64 only: LambdaProduction-Arm64 does not apply; the replica-log wildcard (region '*')
    is acknowledged finding by finding on its own policy, with a concrete account and env-agnostic."""
    assert _edge_report(tmp_path / "a", "123456789012") == {}
    assert _edge_report(tmp_path / "b", None) == {}


def test_the_arm64_rule_still_applies_to_every_other_x86_function() -> None:
    from lambda_constructs.checks.rules import arm64

    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}
                ]
            }
        },
    }
    edge_role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
                    }
                ]
            }
        },
    }
    fn = {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["R", "Arn"]}}}
    assert arm64({"Resources": {"R": role, "F": fn}}, "F") is False
    assert arm64({"Resources": {"R": edge_role, "F": fn}}, "F") is None
