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
from aws_cdk import CfnResource, Stack, Stage, Token, Validations
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from lambda_constructs.checks import deploy
from lambda_constructs.checks.rules import RULES, Rule
from lambda_constructs.core.report import is_framework_function

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
    "AWS::IAM::",
    "AWS::KMS::Key",
    "AWS::SNS::Subscription",
    "AWS::S3::Bucket",
    "Custom::S3BucketNotifications",
)


@jsii.implements(IApplyRule)
class _Apply:
    """One rule applied to one resource; cdk-nag reads these fields through jsii, so all are properties."""

    def __init__(
        self, rule: Rule | deploy.DeployRule, node: CfnResource, verdict: bool | None, detail: str = ""
    ) -> None:
        self._rule, self._node, self._verdict, self._detail = rule, node, verdict, detail

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.id

    @property
    def info(self) -> str:
        # cdk-nag prints `info` on the console and in validation-report.json: the fix goes there too
        text = self._rule.info + (f" ({self._detail})" if self._detail else "")
        if isinstance(self._rule, deploy.DeployRule):
            return f"{text} Fix: {self._rule.fix} Source: {self._rule.source_title}, {self._rule.source_url}"
        return f"{text} Fix: {self._rule.fix}"

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
        self._deploy: dict[tuple[str, str, str], str] | None = None

    @property
    def name(self) -> str:
        return PACK_NAME

    def _template(self, stack: Stack) -> dict[str, Any]:
        template = self._templates.get(stack.node.addr)
        if template is None:
            template = self._templates[stack.node.addr] = _template_of(stack)
        return template

    def _check_resource(self, node: CfnResource) -> None:
        rules = [r for r in RULES if r.resource_type == node.cfn_resource_type]
        deploy_rules = [r for r in deploy.DEPLOY_RULES if node.cfn_resource_type in r.resource_types]
        if not rules and not deploy_rules:
            return
        stack = Stack.of(node)
        template = self._template(stack)
        logical_id = stack.resolve(node.logical_id)
        for rule in rules:
            # _Apply implements the jsii interface with read-only properties, which is all cdk-nag reads
            self._apply_rule(typing.cast(IApplyRule, _Apply(rule, node, rule.judge(template, logical_id))))
        if not deploy_rules:
            return
        findings = self._deploy_findings(node)
        framework = node.cfn_resource_type == deploy.FUNCTION and is_framework_function(template, logical_id)
        for deploy_rule in deploy_rules:
            detail = findings.get((deploy_rule.id, stack.node.path, logical_id))
            verdict = None if framework else detail is None
            self._apply_rule(typing.cast(IApplyRule, _Apply(deploy_rule, node, verdict, detail or "")))

    def _deploy_findings(self, node: IConstruct) -> dict[tuple[str, str, str], str]:
        """The deploy contract over the whole app, once: every stack and nested stack, with its environment.

        cdk-nag calls the pack per resource; the app-wide rules (names, the concurrency ledger) need all
        stacks, which are all synthesized by the time validation plugins run.
        """
        if self._deploy is None:
            root = node.node.root
            stacks = [c for c in root.node.find_all() if isinstance(c, Stack)]
            templates = {s.node.path: self._template(s) for s in stacks}
            envs = {s.node.path: _environment(s) for s in stacks}
            concurrency = account_concurrency(root)
            self._deploy = {
                (f.rule, f.stack, f.logical_id): f.detail for f in deploy.evaluate_app(templates, envs, concurrency)
            }
        return self._deploy


def _environment(stack: Stack) -> str | None:
    """``account/region`` of the stack (a nested stack: its root's), None when either is decided at deploy time."""
    while stack.nested_stack_parent is not None:
        stack = stack.nested_stack_parent
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return None
    return f"{stack.account}/{stack.region}"


def account_concurrency(scope: IConstruct) -> int:
    """The account's concurrency from the context key ``lambda-constructs:account-concurrency`` (default 1,000)."""
    from lambda_constructs.core.errors import ConfigurationError, Problem

    value = scope.node.try_get_context(deploy.ACCOUNT_CONCURRENCY_CONTEXT)
    if value is None:
        return deploy.DEFAULT_ACCOUNT_CONCURRENCY
    number = deploy.concurrency_value(value)
    if number is None:
        raise ConfigurationError(
            [
                Problem(
                    f"context {deploy.ACCOUNT_CONCURRENCY_CONTEXT}",
                    value,
                    f"an integer >= {deploy.UNRESERVED_MINIMUM} (the account's Lambda concurrency quota)",
                )
            ],
            "enable_checks",
        )
    return number


def enable_checks(scope: IConstruct) -> ProductionReadinessChecks:
    """Run the production-readiness rules on every stack under ``scope`` (usually the app) at synth."""
    from constructs import Construct

    from lambda_constructs.core.errors import ConfigurationError, Problem

    if not isinstance(scope, Construct):
        raise ConfigurationError([Problem("scope", repr(scope)[:80], "a construct, usually the App")], "enable_checks")
    pack = ProductionReadinessChecks(scope)
    Validations.of(scope).add_plugins(pack)
    return pack
