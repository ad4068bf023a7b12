"""Shared fixtures: the synthesized template (once per session) and a Lambda context for handler tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

import app as service

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """The stack as `cdk synth` makes it: cdk.json's feature flags are the app's context."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    stack = service.build_app(context=context).synth().get_stack_by_name("{{stack}}")
    result: dict[str, Any] = stack.template
    return result


def lambda_context(name: str = "Api") -> LambdaContext:
    """A LambdaContext with the fields Powertools' Logger reads, as Lambda passes it."""
    context = LambdaContext()
    context._function_name = f"{{stack}}-{name}"
    context._function_version = "1"
    context._memory_limit_in_mb = 1024
    context._invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{{stack}}-{name}:live"
    context._aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    return context


@pytest.fixture
def context() -> LambdaContext:
    return lambda_context()


def event(name: str) -> dict[str, Any]:
    """A sample event from events/ (the same files `sam local invoke -e` reads)."""
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded
