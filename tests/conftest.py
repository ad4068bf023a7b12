"""Shared test helpers. Each test module synthesizes its stacks once (module-scoped fixtures)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

# tests never reach AWS: no instance-metadata credential probing, no real credentials
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# the suite's fleets start fresh placements on purpose; with CI set they would need new_placement=True
# (tests/test_fleet.py sets CI itself where it tests that)
os.environ.pop("CI", None)
for _key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_key, None)

INLINE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")
ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")

ROOT = Path(__file__).resolve().parents[1]


def new_stack(name: str = "Test") -> cdk.Stack:
    return cdk.Stack(cdk.App(), name)


def template(stack: cdk.Stack) -> Template:
    return Template.from_stack(stack)


def resources(tpl: Template, type_: str) -> dict[str, Any]:
    return tpl.find_resources(type_)


def only(tpl: Template, type_: str, predicate: Callable[[dict[str, Any]], bool] = lambda _: True) -> dict[str, Any]:
    """The one resource of ``type_`` matching ``predicate`` (its properties)."""
    found = [r.get("Properties", {}) for r in tpl.find_resources(type_).values() if predicate(r.get("Properties", {}))]
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]


def raw_l2_service(stack: cdk.Stack) -> lambda_.Function:
    """A service written with plain aws-cdk-lib before adopting the library: the classic mistakes
    (x86, 900 s timeout, 60 s SQS visibility without redrive, SNS-invoked without a failure path)."""
    from aws_cdk import aws_lambda_event_sources as sources
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sns_subscriptions as subs
    from aws_cdk import aws_sqs as sqs

    fn = lambda_.Function(
        stack,
        "Fn",
        code=INLINE,
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
        timeout=cdk.Duration.seconds(900),
    )
    fn.add_event_source(sources.SqsEventSource(sqs.Queue(stack, "Q", visibility_timeout=cdk.Duration.seconds(60))))
    sns.Topic(stack, "T").add_subscription(subs.LambdaSubscription(fn))
    return fn


def normalize_assets(value: Any) -> Any:
    """Replace asset hashes (64 hex digits) and nothing else, so snapshots survive handler edits."""
    return json.loads(ASSET_HASH.sub("ASSET_HASH", json.dumps(value)))


def lint_template(tpl: dict[str, Any]) -> list[str]:
    """cfn-lint (real CloudFormation schemas) on a template; returns its findings as text."""
    from cfnlint.api import ManualArgs, lint

    # nothing ignored: W3005 (a DependsOn a GetAtt already implies) included, which the library's functions
    # no longer carry (lambda_constructs/_cdk/dependencies.py)
    matches = lint(json.dumps(tpl), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches]


def cli_context() -> dict[str, Any]:
    """What `cdk synth` gives the app: cdk.json's context (the feature flags) plus path and asset metadata."""
    flags = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    return {**flags, "aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}


@pytest.fixture(scope="session")
def example_app() -> cdk.App:
    import app as example

    # the context the CDK CLI passes: cdk.json's feature flags, path and asset metadata on
    return example.build_app(context=cli_context())


@pytest.fixture(scope="session")
def example_templates(example_app: cdk.App) -> dict[str, dict[str, Any]]:
    """Every stack of the example app, synthesized once for the whole session."""
    assembly = example_app.synth()
    return {s.stack_name: s.template for s in assembly.stacks}


def pytest_configure(config: pytest.Config) -> None:
    """``LC_RECORD_TEMPLATES=<dir>``: record every synthesized template (tests/template_identity.py)."""
    directory = os.environ.get("LC_RECORD_TEMPLATES")
    if not directory:
        return
    from hypothesis import settings

    from tests import template_identity

    # the same examples on every run, so two recordings can be compared
    settings.register_profile("template-identity", derandomize=True, database=None)
    settings.load_profile("template-identity")
    recorder = template_identity.install(Path(directory))
    config.pluginmanager.register(template_identity.pytest_hooks(recorder), "template-identity")
