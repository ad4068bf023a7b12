"""ProductionReadinessChecks: the production-readiness rules as a cdk-nag 3 rule pack.

Checks every Lambda function, event source mapping, alias and version in an app, whether
our constructs made them or not::

    from lambda_constructs import enable_checks
    enable_checks(app)   # = Validations.of(app).add_plugins(ProductionReadinessChecks(app))

A finding fails synthesis with its rule id (``LambdaProduction-Arm64`` ...), the explanation
and the fix. Acknowledge one for a construct, with a reason, through CDK's own API::

    Validations.of(legacy_fn).acknowledge(Acknowledgment(id="LambdaProduction-Arm64",
                                                         reason="x86-only native dependency"))
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import CfnResource, Stack, Stage, Validations
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from lambda_constructs.checks.rules import RULES, Rule

PACK_NAME = "LambdaProduction"


def _template_of(stack: Stack) -> dict[str, Any]:
    """The stack's template as it will be deployed, raw overrides (``add_property_override``) included.

    cdk-nag 3 runs as a validation plugin after synthesis has written every template, so the file in
    the cloud assembly is read (one JSON parse per stack). Should it not exist (a pack run outside
    synthesis), each L1 is rendered from its properties instead: that form lacks raw overrides.
    """
    path = Path(Stage.of(stack).outdir) / stack.template_file  # type: ignore[union-attr]
    try:
        return typing.cast(dict[str, Any], json.loads(path.read_text()))
    except (OSError, ValueError):
        pass
    resources: dict[str, Any] = {}
    for child in stack.node.find_all():
        if (
            isinstance(child, CfnResource)
            and child.cfn_resource_type.startswith(_READ_TYPES)
            and Stack.of(child) is stack
        ):
            logical_id = stack.resolve(child.logical_id)
            # the L1's own renderer (camelCase -> CloudFormation names), on resolved values
            rendered = child._render_properties(stack.resolve(child._cfn_properties))
            resources[logical_id] = {
                "Type": child.cfn_resource_type,
                "Properties": stack.resolve(rendered) or {},
                "Metadata": {"aws:cdk:path": child.node.path},
            }
    return {"Resources": resources}


# the resource types the rules read; others are never rendered
_READ_TYPES = (
    "AWS::Lambda::",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::Events::Rule",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGateway::Method",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::Kinesis::Stream",
    "AWS::DynamoDB::",
)


@jsii.implements(IApplyRule)
class _Apply:
    """One rule applied to one resource; cdk-nag reads these fields through jsii, so all are properties."""

    def __init__(self, rule: Rule, node: CfnResource, verdict: bool | None) -> None:
        self._rule, self._node, self._verdict = rule, node, verdict

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.id

    @property
    def info(self) -> str:
        # cdk-nag prints `info` on the console and in validation-report.json: the fix goes there too
        return f"{self._rule.info} Fix: {self._rule.fix}"

    @property
    def explanation(self) -> str:
        return f"Fix: {self._rule.fix}"

    @property
    def level(self) -> NagMessageLevel:
        return NagMessageLevel.ERROR

    @property
    def node(self) -> CfnResource:
        return self._node

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        if self._verdict is None:
            return NagRuleCompliance.NOT_APPLICABLE
        return NagRuleCompliance.COMPLIANT if self._verdict else NagRuleCompliance.NON_COMPLIANT


class ProductionReadinessChecks(NagPack):
    """cdk-nag rule pack ``LambdaProduction``: see ``lambda_constructs.rules.RULES`` and docs/checks.md."""

    def __init__(self, scope: IConstruct | None = None, *, verbose: bool | None = None) -> None:
        super().__init__(scope, verbose=verbose)
        self._pack_name = PACK_NAME
        self._templates: dict[str, dict[str, Any]] = {}

    @property
    def name(self) -> str:
        return PACK_NAME

    def _check_resource(self, node: CfnResource) -> None:
        rules = [r for r in RULES if r.resource_type == node.cfn_resource_type]
        if not rules:
            return
        stack = Stack.of(node)
        template = self._templates.get(stack.node.addr)
        if template is None:
            template = self._templates[stack.node.addr] = _template_of(stack)
        logical_id = stack.resolve(node.logical_id)
        for rule in rules:
            # _Apply implements the jsii interface with read-only properties, which is all cdk-nag reads
            self._apply_rule(typing.cast(IApplyRule, _Apply(rule, node, rule.judge(template, logical_id))))


def enable_checks(scope: IConstruct) -> ProductionReadinessChecks:
    """Run the production-readiness rules on every stack under ``scope`` (usually the app) at synth."""
    from constructs import Construct

    from lambda_constructs.core.errors import ConfigurationError, Problem

    if not isinstance(scope, Construct):
        raise ConfigurationError([Problem("scope", repr(scope)[:80], "a construct, usually the App")], "enable_checks")
    pack = ProductionReadinessChecks(scope)
    Validations.of(scope).add_plugins(pack)
    return pack
