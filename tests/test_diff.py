"""``lambda-constructs diff``: what a deploy would destroy, from two real cloud assemblies and from dict templates.

The acceptance scenarios synthesize the library's constructs before and after a change (a rename, a
replacing property, a fleet bundle moving between nested stacks, a deleted stack) and assert what the
check reports for each resource. The library's own queues carry whatever deletion policy the library
gives them, so the expected outcome is read from the old template's policy; raw aws-cdk-lib queues with
an explicit RemovalPolicy pin both outcomes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from lambda_constructs import FunctionFleet, Invocation, ProductionFunction, QueueConsumer, StreamConsumer
from lambda_constructs.cli.main import main
from lambda_constructs.core.changes import (
    KINDS,
    NOT_UPDATABLE,
    REPLACING,
    Ack,
    Change,
    diff,
    load_acks,
    parse_ack,
)
from lambda_constructs.core.report import load_templates
from tests.conftest import INLINE

RETAINED_MESSAGES = "retained (DeletionPolicy Retain): orphaned outside the stack, keeps its messages"


def _synth(directory: Path, build: Callable[[cdk.App], None]) -> Path:
    app = cdk.App(outdir=str(directory), context={"aws:cdk:enable-path-metadata": True})
    build(app)
    app.synth()
    return directory


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _report(old: Path, new: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = _run(["diff", str(old), str(new), "--json", *extra], capsys)
    return code, json.loads(out)


def _by_key(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in report["changes"]}


def _ids(template: dict[str, Any], type_: str, fragment: str) -> list[str]:
    return sorted(
        rid
        for rid, res in template["Resources"].items()
        if res["Type"] == type_ and fragment in res.get("Metadata", {}).get("aws:cdk:path", "")
    )


def _expected_deleted_queue(resource: dict[str, Any]) -> tuple[str, bool]:
    """What the check must say about a deleted queue: from the deletion policy the template carries."""
    if resource.get("DeletionPolicy", "Delete") in ("Retain", "RetainExceptOnCreate"):
        return (
            f"retained (DeletionPolicy {resource['DeletionPolicy']}): orphaned outside the stack, keeps its messages",
            False,
        )
    return "deleted with its messages", True


# ---------------------------------------------------------------- (1) a renamed construct


def _renamed(suffix: str) -> Callable[[cdk.App], None]:
    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Svc")
        worker = ProductionFunction(
            stack, "Worker", code=INLINE, handler="i.h", invocation=Invocation.QUEUE, p99=cdk.Duration.seconds(1)
        )
        QueueConsumer(stack, f"Orders{suffix}", function=worker)
        sqs.Queue(stack, f"Kept{suffix}", removal_policy=cdk.RemovalPolicy.RETAIN)
        sqs.Queue(stack, f"Gone{suffix}", removal_policy=cdk.RemovalPolicy.DESTROY)
        ProductionFunction(stack, f"Api{suffix}", code=INLINE, handler="i.h", p99=cdk.Duration.millis(200))

    return build


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("renamed")
    return _synth(root / "old", _renamed("")), _synth(root / "new", _renamed("V2"))


def test_a_renamed_queue_consumer_deletes_its_queues(
    renamed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = renamed
    template = load_templates(old)["Svc"]
    (queue,) = _ids(dict(template), "AWS::SQS::Queue", "Svc/Orders/Queue/")
    (dlq,) = _ids(dict(template), "AWS::SQS::Queue", "Svc/Orders/DeadLetterQueue/")
    (mapping,) = _ids(dict(template), "AWS::Lambda::EventSourceMapping", "Svc/Orders/")
    code, report = _report(old, new, capsys)
    changes = _by_key(report)

    outcome, loses = _expected_deleted_queue(template["Resources"][queue])
    got = changes[f"Svc/{queue}:deleted"]
    assert got["what"] == "SQS queue" and got["change"] == "deleted"
    (renamed_to,) = _ids(dict(load_templates(new)["Svc"]), "AWS::SQS::Queue", "Svc/OrdersV2/Queue/")
    assert got["because"] == (
        f"its logical id is gone from the new template; new in this stack: {renamed_to} (a renamed construct?)"
    )
    assert got["holds"] == "in-flight and parked messages, kept up to 4 days"
    assert got["outcome"] == outcome and got["blocking"] is loses
    assert got["path"] == "Svc/Orders/Queue/Resource"
    dlq_outcome, _ = _expected_deleted_queue(template["Resources"][dlq])
    got = changes[f"Svc/{dlq}:deleted"]
    assert got["holds"] == f"the failed messages parked from {queue} (dead-letter queue), kept up to 14 days"
    assert got["outcome"] == dlq_outcome
    # the mapping of an SQS queue holds nothing: the messages are in the queue
    got = changes[f"Svc/{mapping}:deleted"]
    assert got["loses"] == "nothing" and got["outcome"] == "deleted: nothing is lost" and got["blocking"] is False

    # raw aws-cdk-lib queues pin both outcomes
    (kept,) = _ids(dict(template), "AWS::SQS::Queue", "Svc/Kept/")
    (gone,) = _ids(dict(template), "AWS::SQS::Queue", "Svc/Gone/")
    assert changes[f"Svc/{kept}:deleted"]["outcome"] == RETAINED_MESSAGES
    assert changes[f"Svc/{kept}:deleted"]["retained"] is True and changes[f"Svc/{kept}:deleted"]["blocking"] is False
    assert changes[f"Svc/{gone}:deleted"]["outcome"] == "deleted with its messages"
    assert changes[f"Svc/{gone}:deleted"]["blocking"] is True

    # the SYNC function has provisioned concurrency on its alias: a rename drops it, and the alias
    (api,) = _ids(dict(template), "AWS::Lambda::Function", "Svc/Api/")
    (alias,) = _ids(dict(template), "AWS::Lambda::Alias", "Svc/Api/")
    pc = template["Resources"][alias]["Properties"]["ProvisionedConcurrencyConfig"]["ProvisionedConcurrentExecutions"]
    got = changes[f"Svc/{api}:deleted"]
    assert got["what"] == "function with provisioned concurrency" and got["loses"] == "traffic"
    assert got["holds"] == f"provisioned concurrency ({pc} warm), asynchronous events queued in Lambda"
    assert got["outcome"] == "deleted: its provisioned instances are released" and got["blocking"] is True
    got = changes[f"Svc/{alias}:deleted"]
    assert got["what"] == "alias"
    instances = "1 provisioned (warm) instance" if pc == 1 else f"{pc} provisioned (warm) instances"
    assert got["holds"] == f"{instances}: the new one serves cold until its own are ready"
    assert got["outcome"] == "deleted: its ARN stops resolving"
    assert code == 1 and report["blocking"] == sum(c["blocking"] for c in report["changes"]) >= 3


def test_the_table_names_each_loss_and_exits_1(renamed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old, new = renamed
    code, out, err = _run(["diff", str(old), str(new)], capsys)
    assert code == 1 and err == ""
    header = out.splitlines()[0].split()
    assert header == ["resource", "what", "change", "holds", "outcome", "status"]
    gone = next(line for line in out.splitlines() if line.startswith("Svc/Gone"))
    assert "SQS queue" in gone and "deleted with its messages" in gone and gone.rstrip().endswith("LOSS")
    kept = next(line for line in out.splitlines() if line.startswith("Svc/Kept"))
    assert kept.rstrip().endswith("retained")
    assert "would lose data or traffic" in out and "--ack KEY" in out


def test_acknowledging_every_loss_passes_and_says_why(
    renamed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = renamed
    _, report = _report(old, new, capsys)
    blocking = [c["key"] for c in report["changes"] if c["blocking"]]
    ack_file = tmp_path / "acks.json"
    entries = [{"key": key, "reason": "renamed on purpose, queues drained (PR 42)"} for key in blocking]
    entries.append({"key": "Svc/NoSuchQueue:deleted", "reason": "stale"})
    ack_file.write_text(json.dumps({"acknowledged": entries}))
    code, report = _report(old, new, capsys, "--ack-file", str(ack_file))
    assert code == 0 and report["blocking"] == 0 and report["acknowledged"] == len(blocking)
    assert {c["acknowledged"] for c in report["changes"] if c["key"] in blocking} == {
        "renamed on purpose, queues drained (PR 42)"
    }
    assert [a["key"] for a in report["unused_acks"]] == ["Svc/NoSuchQueue:deleted"]
    # one --ack short of all of them: still fails
    code, report = _report(old, new, capsys, *(f"--ack={key}" for key in blocking[1:]))
    assert code == 1 and report["blocking"] == 1
    assert [c["key"] for c in report["changes"] if c["blocking"]] == blocking[:1]
    # an ack names the change too: acknowledging a replacement does not cover a deletion
    code, report = _report(old, new, capsys, *(f"--ack={key.replace(':deleted', ':replaced')}" for key in blocking))
    assert code == 1 and report["blocking"] == len(blocking)


# ---------------------------------------------------------------- (2) a replacing property


def _replacing(fifo: bool, position: lambda_.StartingPosition) -> Callable[[cdk.App], None]:
    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Svc")
        worker = ProductionFunction(
            stack, "Worker", code=INLINE, handler="i.h", invocation=Invocation.QUEUE, p99=cdk.Duration.seconds(1)
        )
        QueueConsumer(stack, "Orders", function=worker, fifo=fifo)
        reader = ProductionFunction(
            stack, "Reader", code=INLINE, handler="i.h", invocation=Invocation.STREAM, p99=cdk.Duration.seconds(1)
        )
        StreamConsumer(
            stack, "Clicks", function=reader, stream=kinesis.Stream(stack, "Stream"), starting_position=position
        )

    return build


def test_a_replacing_property_replaces_the_queue_and_the_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _synth(tmp_path / "old", _replacing(False, lambda_.StartingPosition.LATEST))
    new = _synth(tmp_path / "new", _replacing(True, lambda_.StartingPosition.TRIM_HORIZON))
    template = load_templates(old)["Svc"]
    (queue,) = _ids(dict(template), "AWS::SQS::Queue", "Svc/Orders/Queue/")
    (stream_mapping,) = _ids(dict(template), "AWS::Lambda::EventSourceMapping", "Svc/Clicks/")
    code, report = _report(old, new, capsys)
    changes = _by_key(report)

    got = changes[f"Svc/{queue}:replaced"]
    assert got["because"].startswith("FifoQueue: (unset) -> true")
    policy = template["Resources"][queue].get("UpdateReplacePolicy", "Delete")
    if policy in ("Retain", "RetainExceptOnCreate"):
        assert got["outcome"] == (
            f"retained (UpdateReplacePolicy {policy}): orphaned outside the stack, keeps its messages; "
            "a new empty queue is created"
        )
    else:
        assert got["outcome"] == "deleted with its messages; a new empty queue is created" and got["blocking"]
    got = changes[f"Svc/{stream_mapping}:replaced"]
    assert got["what"] == "event source mapping" and got["loses"] == "data" and got["blocking"] is True
    assert got["because"] == 'StartingPosition: "LATEST" -> "TRIM_HORIZON"'
    assert got["holds"] == (
        "its position in the stream: a new mapping starts at LATEST and skips the records written before it polls"
    )
    assert got["outcome"] == "deleted with its position; a new mapping is created"
    assert code == 1


# ---------------------------------------------------------------- (3) a fleet bundle moving between nested stacks


def _fleet(placement: Path) -> Callable[[cdk.App], None]:
    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Fleet")
        fleet = FunctionFleet(stack, "Workers", placement_file=placement)

        def worker(scope: Any, id: str) -> ProductionFunction:
            fn = ProductionFunction(
                scope, id, code=INLINE, handler="i.h", invocation=Invocation.QUEUE, p99=cdk.Duration.seconds(1)
            )
            QueueConsumer(scope, f"{id}Queue", function=fn)
            return fn

        for id in ("A", "B"):
            fleet.add(id, worker)

    return build


def test_a_fleet_bundle_moving_to_another_nested_stack_is_a_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    placement = tmp_path / "placement.json"
    old = _synth(tmp_path / "old", _fleet(placement))
    record = json.loads(placement.read_text())
    (key,) = record["fleets"]
    assert record["fleets"][key]["stacks"] == {"A": "Stack1", "B": "Stack1"}
    record["fleets"][key]["stacks"]["B"] = "Stack2"  # the record says B lives in Stack2 now: it moves there
    placement.write_text(json.dumps(record))
    new = _synth(tmp_path / "new", _fleet(placement))
    templates = load_templates(old)
    (stack1,) = [name for name in templates if name.startswith("Fleet/") and "Stack1" in name]
    (stack2,) = [name for name in load_templates(new) if name.startswith("Fleet/") and "Stack2" in name]
    (queue,) = _ids(dict(templates[stack1]), "AWS::SQS::Queue", "/BQueue/Queue/")
    code, report = _report(old, new, capsys)
    changes = _by_key(report)

    got = changes[f"{stack1}/{queue}:moved"]
    assert got["moved_to"] == stack2 and got["because"] == f"it moves to {stack2}"
    outcome, loses = _expected_deleted_queue(dict(templates[stack1]["Resources"][queue]))
    assert got["outcome"] == f"{outcome}; a new empty queue is created in {stack2}"
    assert got["blocking"] is loses
    # A stays where it was: nothing of it is reported
    assert not [k for k in changes if "/AQueue" in (changes[k]["path"] or "")]
    assert {c["change"] for c in report["changes"]} == {"moved"}
    # the alias serves traffic: its ARN stops resolving when it moves, so the move blocks even when the
    # queues are retained (the library's default)
    (alias,) = [c for c in report["changes"] if c["type"] == "AWS::Lambda::Alias"]
    assert alias["blocking"] is True
    assert code == 1


# ---------------------------------------------------------------- (4) a deleted stack


def _stacks(with_billing: bool) -> Callable[[cdk.App], None]:
    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Orders")
        sqs.Queue(stack, "Inbox", removal_policy=cdk.RemovalPolicy.DESTROY)
        if with_billing:
            billing = cdk.Stack(app, "Billing")
            worker = ProductionFunction(
                billing, "Worker", code=INLINE, handler="i.h", invocation=Invocation.QUEUE, p99=cdk.Duration.seconds(1)
            )
            QueueConsumer(billing, "Invoices", function=worker)
            sqs.Queue(
                billing, "Archive", removal_policy=cdk.RemovalPolicy.RETAIN, retention_period=cdk.Duration.days(14)
            )

    return build


def test_a_deleted_stack_takes_its_queues(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _synth(tmp_path / "old", _stacks(True))
    new = _synth(tmp_path / "new", _stacks(False))
    template = load_templates(old)["Billing"]
    (queue,) = _ids(dict(template), "AWS::SQS::Queue", "Billing/Invoices/Queue/")
    (archive,) = _ids(dict(template), "AWS::SQS::Queue", "Billing/Archive/")
    code, report = _report(old, new, capsys)
    changes = _by_key(report)

    assert {c["stack"] for c in report["changes"]} == {"Billing"}
    assert {c["change"] for c in report["changes"]} == {"stack deleted"}
    got = changes[f"Billing/{queue}:stack deleted"]
    assert got["because"] == "stack Billing is gone"
    outcome, loses = _expected_deleted_queue(template["Resources"][queue])
    assert got["outcome"] == outcome and got["blocking"] is loses
    got = changes[f"Billing/{archive}:stack deleted"]
    assert got["holds"] == "in-flight and parked messages, kept up to 14 days" and got["outcome"] == RETAINED_MESSAGES
    expected_code = 1 if any(c["blocking"] for c in report["changes"]) else 0
    assert code == expected_code
    # acknowledged by the key the report prints, with a space in it
    keys = [f"--ack={c['key']}" for c in report["changes"] if c["blocking"]]
    assert _report(old, new, capsys, *keys)[0] == 0


# ---------------------------------------------------------------- the pure core, on dict templates


def _tpl(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def _queue(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def test_the_replacing_properties_are_the_create_only_properties_of_the_registry_schemas() -> None:
    """Held to the registry schemas cfn-lint ships: createOnlyProperties are "Update requires: Replacement"."""
    import cfnlint.data.schemas

    root = Path(cfnlint.data.schemas.__file__).parent / "providers"
    index = json.loads((root / "us-east-1.json").read_text())
    for type_, replacing in REPLACING.items():
        schema = json.loads((root.parent / "resources" / f"{index[type_]}.json").read_text())
        create_only = [p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])]
        assert sorted(replacing) == sorted(p for p in create_only if "/" not in p), type_
    assert set(REPLACING) == set(KINDS)
    assert not set(NOT_UPDATABLE["AWS::DynamoDB::Table"]) & set(REPLACING["AWS::DynamoDB::Table"])


def test_a_literal_change_replaces_and_a_token_change_may_replace() -> None:
    old = {"S": _tpl(Q=_queue(QueueName="a"), P=_queue(QueueName={"Ref": "Name"}))}
    new = {"S": _tpl(Q=_queue(QueueName="b"), P=_queue(QueueName={"Ref": "Other"}))}
    got = {c.logical_id: c for c in diff(old, new).changes}
    assert got["Q"].change == "replaced" and got["Q"].because == 'QueueName: "a" -> "b"'
    assert got["P"].change == "may be replaced" and got["P"].blocking
    assert got["P"].because == 'QueueName: {"Ref":"Name"} -> {"Ref":"Other"}'


def test_unchanged_and_non_replacing_changes_are_not_reported() -> None:
    old = {"S": _tpl(Q=_queue(VisibilityTimeout=30), T={"Type": "AWS::SNS::Topic"})}
    new = {"S": _tpl(Q=_queue(VisibilityTimeout=60))}
    assert diff(old, new).changes == []  # a topic holds nothing; VisibilityTimeout updates in place


def test_retain_policies_keep_the_resource_and_do_not_block() -> None:
    old = {
        "S": _tpl(
            Kept={**_queue(QueueName="a"), "UpdateReplacePolicy": "Retain"},
            Snap={**_queue(QueueName="a"), "UpdateReplacePolicy": "Snapshot"},
            Gone={**_queue(), "DeletionPolicy": "RetainExceptOnCreate"},
        )
    }
    new = {"S": _tpl(Kept=_queue(QueueName="b"), Snap=_queue(QueueName="b"))}
    got = {c.logical_id: c for c in diff(old, new).changes}
    assert got["Kept"].retained and not got["Kept"].blocking
    assert got["Kept"].outcome == (
        "retained (UpdateReplacePolicy Retain): orphaned outside the stack, keeps its messages; "
        "a new empty queue is created"
    )
    assert got["Snap"].blocking  # SQS has no snapshot: Snapshot is not Retain
    assert got["Gone"].outcome == (
        "retained (DeletionPolicy RetainExceptOnCreate): orphaned outside the stack, keeps its messages"
    )
    # DeletionPolicy governs a removal, UpdateReplacePolicy a replacement: not the other way round
    old = {"S": _tpl(Q={**_queue(QueueName="a"), "DeletionPolicy": "Retain"})}
    assert diff(old, {"S": _tpl(Q=_queue(QueueName="b"))}).changes[0].blocking


def test_what_each_resource_holds() -> None:
    stream = {"Type": "AWS::Kinesis::Stream", "Properties": {"RetentionPeriodHours": 168}}
    logs = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    forever = {"Type": "AWS::Logs::LogGroup", "Properties": {}}
    url = {"Type": "AWS::Lambda::Url", "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["F", "Arn"]}}}
    plain = {"Type": "AWS::Lambda::Function", "Properties": {}}
    rule = {"ExpirationInDays": 14, "Status": "Enabled"}
    scoped = {"ExpirationInDays": 1, "Status": "Enabled", "Prefix": "tmp/"}
    failures = {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {"Rules": [rule, scoped]}}}
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {}}
    old = {
        "S": _tpl(
            St=stream, L=logs, Fv=forever, U=url, F=plain, Q=_queue(MessageRetentionPeriod=3600), B=failures, Bk=bucket
        )
    }
    got = {c.logical_id: c for c in diff(old, {}).changes}
    assert got["B"].holds == "its objects, each kept 14 days"  # the prefix rule is for some objects only
    assert got["Bk"].holds == "its objects"
    assert got["St"].holds == "its records, kept 168 h" and got["St"].outcome == "deleted with its records"
    assert got["L"].holds == "log events, kept 30 days" and got["Fv"].holds == "log events, kept forever"
    assert got["U"].what == "Function URL" and got["U"].loses == "traffic"
    assert got["U"].outcome == "deleted: its URL stops answering"
    assert got["Q"].holds == "in-flight and parked messages, kept up to 1 h"
    assert "F" not in got  # a function without provisioned concurrency serves no warm traffic of its own
    assert {c.change for c in got.values()} == {"stack deleted"} and got["Q"].because == "stack S is gone"


def test_a_nested_stack_removed_from_its_parent_names_the_outermost_missing_stack() -> None:
    old = {"P": _tpl(), "P/N": _tpl(), "P/N/M": _tpl(Q=_queue())}
    (change,) = diff(old, {"P": _tpl()}).changes
    assert change.stack == "P/N/M" and change.because == "stack P/N is gone" and change.key == "P/N/M/Q:stack deleted"


def test_a_key_schema_change_may_replace_the_table() -> None:
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}
    changed = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]},
    }
    (change,) = diff({"S": _tpl(T=table)}, {"S": _tpl(T=changed)}).changes
    assert change.change == "may be replaced" and change.because.startswith("KeySchema: ")
    assert change.outcome == "deleted with its items; a new empty table is created"


def test_acks_are_specific() -> None:
    assert parse_ack("Svc/Nested.NestedStack/Q1:stack deleted") == Ack(
        "Svc/Nested.NestedStack", "Q1", "stack deleted", "acknowledged on the command line"
    )
    for bad in ("Svc/Q1", "Q1:deleted", "Svc/Q1:gone", "/Q1:deleted", "Svc/:deleted", "Svc/*:deleted", ""):
        with pytest.raises(ValueError, match="is not STACK/LOGICAL_ID:CHANGE"):
            parse_ack(bad)
    old = {"S": _tpl(Q=_queue(), R=_queue())}
    result = diff(old, {"S": _tpl()}, [parse_ack("S/Q:deleted")])
    assert [c.logical_id for c in result.blocking] == ["R"] and result.unused_acks == []


def test_the_ack_file_needs_a_reason(tmp_path: Path) -> None:
    file = tmp_path / "acks.json"
    file.write_text(json.dumps({"acknowledged": [{"key": "S/Q:deleted", "reason": " drained "}]}))
    assert load_acks(file) == [Ack("S", "Q", "deleted", "drained")]
    for document, message in [
        ({"acknowledged": [{"key": "S/Q:deleted"}]}, r"acknowledged\[0\] needs a 'key'"),
        ({"acknowledged": [{"key": "S/Q:deleted", "reason": ""}]}, r"acknowledged\[0\] needs a 'key'"),
        ({"acknowledged": [{"key": "S/Q", "reason": "x"}]}, r"acknowledged\[0\]: acknowledgement 'S/Q' is not"),
        ([], "expected"),
    ]:
        file.write_text(json.dumps(document))
        with pytest.raises(ValueError, match=message):
            load_acks(file)
    file.write_text("{")
    with pytest.raises(ValueError, match="not JSON"):
        load_acks(file)


def test_a_change_serializes_with_its_key_and_verdict() -> None:
    change = Change("S", "Q", "AWS::SQS::Queue", "SQS queue", "deleted", "b", "h", "o", "data", False)
    assert change.to_dict()["key"] == "S/Q:deleted" and change.to_dict()["blocking"] is True


# ---------------------------------------------------------------- usage and input errors: exit 2, one line


def _assembly(root: Path, manifest: Any, templates: dict[str, Any] | None = None) -> Path:
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    for name, text in (templates or {}).items():
        (root / name).write_text(text if isinstance(text, str) else json.dumps(text))
    return root


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = {
        "artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}}
    }
    good = _assembly(tmp_path / "good", stack, {"S.template.json": _tpl(Q=_queue())})
    cases = [
        ([str(tmp_path / "missing"), str(good)], "missing is not a directory"),
        ([str(_assembly(tmp_path / "nomanifest", "{}")), str(good)], "is not a cloud assembly manifest"),
        ([str(good), str(_assembly(tmp_path / "badjson", "{"))], "badjson/manifest.json"),
        ([str(good), str(_assembly(tmp_path / "notpl", stack))], "cannot read"),
        ([str(good), str(_assembly(tmp_path / "badtpl", stack, {"S.template.json": "[]"}))], "is not a CloudFormation"),
        ([str(good), str(good), "--ack", "S/Q"], "--ack: acknowledgement 'S/Q' is not"),
        ([str(good), str(good), "--ack-file", str(tmp_path / "none.json")], "cannot read the acknowledgements file"),
    ]
    for argv, message in cases:
        code, out, err = _run(["diff", *argv], capsys)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (argv, err)
        assert err.startswith("lambda-constructs diff: error: ") and message in err, (argv, err)
    code, _, err = _run(["diff", str(good)], capsys)
    assert code == 2 and "NEW_CDK_OUT" in err
    code, _, err = _run(["diff", str(tmp_path / "missing"), str(good), "--json"], capsys)
    assert code == 2 and json.loads(err)["exit_code"] == 2


def test_the_ack_file_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = {
        "artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}}}
    }
    old = _assembly(tmp_path / "old", stack, {"S.template.json": _tpl(Q=_queue())})
    new = _assembly(tmp_path / "new", stack, {"S.template.json": _tpl()})
    monkeypatch.chdir(tmp_path)
    assert _run(["diff", str(old), str(new)], capsys)[0] == 1
    (tmp_path / ".lambda-constructs-diff-ack.json").write_text(
        json.dumps({"acknowledged": [{"key": "S/Q:deleted", "reason": "empty since March"}]})
    )
    code, out, _ = _run(["diff", str(old), str(new)], capsys)
    assert code == 0 and "acknowledged: empty since March" in out
    code, report = _report(old, new, capsys)
    assert report["ack_file"] == ".lambda-constructs-diff-ack.json" and report["schema_version"] == 1
    code, out, _ = _run(["diff", str(new), str(new)], capsys)
    assert code == 0 and out.startswith("0 stateful or traffic-serving resources replaced or deleted")


def test_a_rename_is_named_only_when_one_path_segment_differs() -> None:
    def queue(path: str) -> dict[str, Any]:
        return {**_queue(), "Metadata": {"aws:cdk:path": path}}

    old = {"S": _tpl(A=queue("S/Jobs/Queue/Resource"), B=queue("S/Mail/Queue/Resource"))}
    new = {"S": _tpl(A2=queue("S/OrderJobs/Queue/Resource"), X=queue("S/Other/Nested/Queue/Resource"))}
    got = {c.logical_id: c.because for c in diff(old, new).changes}
    # A and B both differ from A2 in one segment: A2 is one new queue, so both get the hint; X is deeper
    assert (
        got["A"]
        == got["B"]
        == "its logical id is gone from the new template; new in this stack: A2 (a renamed construct?)"
    )
    new["S"]["Resources"]["B2"] = queue("S/NewMail/Queue/Resource")
    got = {c.logical_id: c.because for c in diff(old, new).changes}
    assert got["A"] == "its logical id is gone from the new template"  # two candidates: no guess


# ---------------------------------------------------------------- (5) a stream consumer moving to the on-failure bucket


def _stream(upgraded: bool) -> Callable[[cdk.App], None]:
    def build(app: cdk.App) -> None:
        stack = cdk.Stack(app, "Svc")
        reader = ProductionFunction(
            stack, "Reader", code=INLINE, handler="i.h", invocation=Invocation.STREAM, p99=cdk.Duration.seconds(1)
        )
        old: dict[str, Any] = {"on_failure": "queue", "starting_position": lambda_.StartingPosition.LATEST}
        StreamConsumer(
            stack, "Clicks", function=reader, stream=kinesis.Stream(stack, "Stream"), **({} if upgraded else old)
        )

    return build


def test_upgrading_a_stream_consumer_to_the_bucket_and_trim_horizon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a team upgrading sees: the old on-failure queue leaves the stack but is retained with its messages (not
    blocking), and the mapping is replaced because its starting position changed (blocking: acknowledge it)."""
    old = _synth(tmp_path / "old", _stream(False))
    new = _synth(tmp_path / "new", _stream(True))
    template = dict(load_templates(old)["Svc"])
    (queue,) = _ids(template, "AWS::SQS::Queue", "Svc/Clicks/OnFailureQueue/")
    (mapping,) = _ids(template, "AWS::Lambda::EventSourceMapping", "Svc/Clicks/")
    code, report = _report(old, new, capsys)
    changes = _by_key(report)
    got = changes[f"Svc/{queue}:deleted"]
    assert got["outcome"] == RETAINED_MESSAGES and got["blocking"] is False
    got = changes[f"Svc/{mapping}:replaced"]
    assert got["because"] == 'StartingPosition: "LATEST" -> "TRIM_HORIZON"' and got["blocking"] is True
    assert code == 1
