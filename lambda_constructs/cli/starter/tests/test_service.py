"""Fine-grained assertions on the synthesized template, and a syrupy snapshot of all of it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Template
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def _functions(template: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v["Properties"]
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::Lambda::Function" and k.startswith(("Api", "Worker"))
    }


def test_functions_are_arm64_with_measured_timeouts(template: dict[str, Any]) -> None:
    fns = _functions(template)
    assert {p["Architectures"][0] for p in fns.values()} == {"arm64"}
    assert sorted(p["Timeout"] for p in fns.values()) == [1, 3]  # 3 x p99: 200 ms -> 1 s, 1 s -> 3 s
    assert all(p["LoggingConfig"]["LogFormat"] == "JSON" for p in fns.values())


def test_queue_visibility_is_six_times_the_worker_timeout(template: dict[str, Any]) -> None:
    queues = Template.from_json(template).find_resources("AWS::SQS::Queue")
    assert 18 in [q["Properties"].get("VisibilityTimeout") for q in queues.values()]  # 6 x 3 s


def test_worker_reports_batch_item_failures(template: dict[str, Any]) -> None:
    mappings = Template.from_json(template).find_resources("AWS::Lambda::EventSourceMapping")
    assert [m["Properties"]["FunctionResponseTypes"] for m in mappings.values()] == [["ReportBatchItemFailures"]]


def test_api_has_provisioned_concurrency_on_live(template: dict[str, Any]) -> None:
    aliases = Template.from_json(template).find_resources("AWS::Lambda::Alias")
    configs = [a["Properties"].get("ProvisionedConcurrencyConfig") for a in aliases.values()]
    assert {"ProvisionedConcurrentExecutions": 1} in configs


def test_outputs_and_the_optional_alarm_email(template: dict[str, Any]) -> None:
    assert {"ApiUrl", "JobsQueueUrl", "AlarmTopicArn"} <= set(template["Outputs"])
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_template_matches_the_snapshot(template: dict[str, Any], snapshot_json: SnapshotAssertion) -> None:
    """`make snapshot` records tests/__snapshots__/ (commit it); a change to the template fails here until
    it is re-recorded, so every infrastructure change shows up in review. Asset hashes are masked."""
    assert json.loads(ASSET_HASH.sub("ASSET_HASH", json.dumps(template))) == snapshot_json
