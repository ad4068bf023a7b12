"""cfn-lint W3005: the library's functions do not DependsOn the role their ``Role`` Fn::GetAtt already orders
first; every other edge (the role's default policy, what a user or aws-cdk-lib adds) stays. One app."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from lambda_constructs import LATEST_PYTHON, EdgeFunction, ProductionFunction
from tests.conftest import INLINE, lint_template


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="us-east-1"))
    common: dict[str, Any] = {"code": INLINE, "handler": "index.handler", "p99": cdk.Duration.seconds(1)}
    plain = ProductionFunction(stack, "Plain", **common)
    extra = ProductionFunction(stack, "Extra", **common)
    extra.function.node.add_dependency(sqs.Queue(stack, "Before"))  # a user's edge stays
    given = iam.Role(stack, "Given", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    ProductionFunction(stack, "GivenRole", role=given, **common)
    EdgeFunction(
        stack,
        "Edge",
        code=INLINE,
        handler="index.handler",
        runtime=LATEST_PYTHON,
        event_type=cloudfront.LambdaEdgeEventType.VIEWER_REQUEST,
        p99=cdk.Duration.millis(500),
    )
    assert plain.role is not given
    template = app.synth().get_stack_by_name("S").template
    return {"template": template, "resources": template["Resources"]}


def _function(resources: dict[str, Any], prefix: str) -> dict[str, Any]:
    (found,) = [r for lid, r in resources.items() if lid.startswith(prefix) and r["Type"] == "AWS::Lambda::Function"]
    return found


def _policy_of(resources: dict[str, Any], role: str) -> str:
    (found,) = [
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": role}] and "Default" in lid
    ]
    return found


def test_the_library_s_own_role_edge_is_gone_and_the_policy_edge_stays(resources: dict[str, Any]) -> None:
    res = resources["resources"]
    for prefix in ("PlainFunction", "EdgeFunction"):
        fn = _function(res, prefix)
        role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        assert fn["DependsOn"] == [_policy_of(res, role)], prefix


def test_an_added_dependency_stays(resources: dict[str, Any]) -> None:
    res = resources["resources"]
    fn = _function(res, "ExtraFunction")
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    before = next(lid for lid in res if lid.startswith("Before"))
    assert fn["DependsOn"] == [before, _policy_of(res, role)]  # by construct path, as aws-cdk-lib orders them


def test_a_given_role_is_rendered_as_aws_cdk_lib_renders_it(resources: dict[str, Any]) -> None:
    res = resources["resources"]
    fn = _function(res, "GivenRoleFunction")
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    assert role.startswith("Given")
    assert fn["DependsOn"] == [_policy_of(res, role), role]


def test_cfn_lint_w3005_only_on_the_given_role(resources: dict[str, Any]) -> None:
    w3005 = [f for f in lint_template(resources["template"]) if f.startswith("W3005 ")]
    assert len(w3005) == 1
    assert "Resources/GivenRoleFunction" in w3005[0]


def test_the_overflow_policies_aws_cdk_lib_splits_off_at_synthesis_stay() -> None:
    # a default policy over IAM's inline size is split into managed policies under the role, in an aspect at
    # synthesis: the function must still wait for them (its grants), so they are in its DependsOn
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    fn = ProductionFunction(stack, "Big", code=INLINE, handler="index.handler", p99=cdk.Duration.seconds(1))
    for i in range(120):
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[f"s3:GetObjectVersion{i}"],
                resources=[f"arn:aws:s3:::a-bucket-with-a-long-name-for-overflow-{i:03d}/some/prefix/*"],
            )
        )
    res = app.synth().get_stack_by_name("S").template["Resources"]
    overflow = sorted(lid for lid, r in res.items() if r["Type"] == "AWS::IAM::ManagedPolicy")
    assert overflow and all("OverflowPolicy" in lid for lid in overflow)
    function = _function(res, "BigFunction")
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert role not in function["DependsOn"]
    assert set(function["DependsOn"]) == {_policy_of(res, role), *overflow}
