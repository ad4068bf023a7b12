"""Fine-grained assertions on the synthesized template, the handlers, and a snapshot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Template
from handlers.worker.app import handler as worker_handler

import app as service

SNAPSHOT = Path(__file__).parent / "snapshots" / "{{stack}}.json"


@pytest.fixture(scope="module")
def template() -> dict:
    assembly = service.build_app().synth()
    return assembly.get_stack_by_name("{{stack}}").template


def _functions(template: dict) -> dict:
    return {
        k: v["Properties"]
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function" and k.startswith(("Api", "Worker"))
    }


def test_functions_are_arm64_with_measured_timeouts(template: dict) -> None:
    fns = _functions(template)
    assert {p["Architectures"][0] for p in fns.values()} == {"arm64"}
    timeouts = sorted(p["Timeout"] for p in fns.values())
    assert timeouts == [1, 3]  # 3 x p99: 200 ms -> 1 s, 1 s -> 3 s
    assert all(p["LoggingConfig"]["LogFormat"] == "JSON" for p in fns.values())


def test_queue_visibility_is_six_times_the_worker_timeout(template: dict) -> None:
    t = Template.from_json(template)
    queues = t.find_resources("AWS::SQS::Queue")
    visibility = [q["Properties"].get("VisibilityTimeout") for q in queues.values()]
    assert 18 in visibility  # 6 x 3 s


def test_api_has_provisioned_concurrency_on_live(template: dict) -> None:
    aliases = Template.from_json(template).find_resources("AWS::Lambda::Alias")
    configs = [a["Properties"].get("ProvisionedConcurrencyConfig") for a in aliases.values()]
    assert {"ProvisionedConcurrentExecutions": 1} in configs


def test_worker_reports_partial_batch_failures() -> None:
    event = {"Records": [{"messageId": "1", "body": '{"id": 1}'}, {"messageId": "2", "body": "{}"}]}
    assert worker_handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "2"}]}


def test_template_matches_the_committed_snapshot(template: dict) -> None:
    """The first run records tests/snapshots/ (commit it); later runs compare against it."""
    normalized = json.loads(re.sub(r"[0-9a-f]{64}", "ASSET_HASH", json.dumps(template, sort_keys=True)))
    if not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(normalized, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"recorded {SNAPSHOT.name}: commit it, later runs compare against it")
    assert normalized == json.loads(SNAPSHOT.read_text())
