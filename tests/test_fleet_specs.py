"""FunctionFleet.add_specs: spec bundles rendered in Python are the construct path's resources, resource by resource."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from lambda_constructs import (
    ConfigurationError,
    FunctionFleet,
    Invocation,
    Memory,
    ProductionReadinessChecks,
    WorkerSpec,
)
from lambda_constructs.sources import _specs
from tests.conftest import cli_context

ROOT = Path(__file__).resolve().parents[1]
SIZING = {"function": "bulk", "p99_ms": 850.0, "sample_count": 12000, "window_days": 14,
          "measured_at": "2026-11-30T00:00:00+00:00", "memory_mb": 512}  # fmt: skip
Bundle = Callable[[dict[str, Any], Any, Any], dict[str, Any]]  # (shared, topic, code) -> spec keywords


def build_app(
    tmp: Path,
    mode: str,
    kinds: list[tuple[str, Callable[[Any, Any], WorkerSpec]]],
    *,
    context: dict[str, Any] | None = None,
    checks: bool = False,
) -> tuple[cdk.App, FunctionFleet]:
    """The same fleet built through ``add`` (mode ``add``) or ``add_specs`` (mode ``specs``)."""
    app = cdk.App(outdir=str(tmp / mode), context=context or {})
    stack = cdk.Stack(app, "Svc")
    topic = sns.Topic(stack, "Alarms", enforce_ssl=True)
    code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"), exclude=["__pycache__"])
    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=100, placement_file=tmp / f"{mode}.json")
    specs = [make(topic, code) for _, make in kinds]
    if mode == "add":
        for spec in specs:
            fleet.add(spec.id, _specs.build_spec(spec))
    else:
        fleet.add_specs(specs)
    if checks:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app), ProductionReadinessChecks(app))
    return app, fleet


def templates(app: cdk.App) -> dict[str, dict[str, Any]]:
    app.synth()
    return {p.name: json.loads(p.read_text()) for p in sorted(Path(app.outdir).glob("*.template.json"))}


def _without_template_urls(template: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(template))
    for resource in out["Resources"].values():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            resource["Properties"].pop("TemplateURL", None)
    return out


def queue_worker(id: str, **queue: Any) -> Callable[[Any, Any], WorkerSpec]:
    def make(topic: Any, code: Any) -> WorkerSpec:
        return WorkerSpec(
            id,
            function=dict(
                code=code,
                handler="app.handler",
                p99=cdk.Duration.seconds(1),
                invocation=Invocation.QUEUE,
                alarm_topic=topic,
            ),
            queue=queue,
        )

    return make


def options_worker(id: str, sizing: Path) -> Callable[[Any, Any], WorkerSpec]:
    def make(topic: Any, code: Any) -> WorkerSpec:
        return WorkerSpec(
            id,
            function=dict(
                code=code,
                handler="app.handler",
                sizing=str(sizing),
                memory=Memory.mb(512),
                invocation=Invocation.QUEUE,
                reserved_concurrency=20,
                environment={"TABLE": "orders"},
                alarm_topic=topic,
            ),
            queue=dict(batch_size=50, max_batching_window=cdk.Duration.seconds(5), max_receive_count=8,
                       max_concurrency=10, fifo=False),
        )  # fmt: skip

    return make


RATE = events.Schedule.rate(cdk.Duration.minutes(5))


def schedule_worker(id: str) -> Callable[[Any, Any], WorkerSpec]:
    def make(topic: Any, code: Any) -> WorkerSpec:
        return WorkerSpec(
            id,
            function=dict(
                code=code,
                handler="app.handler",
                p99=cdk.Duration.seconds(10),
                invocation=Invocation.ASYNC,
                alarm_topic=topic,
            ),
            schedule=dict(schedule=RATE, retry_attempts=1),
        )

    return make


def mixed(tmp: Path) -> list[tuple[str, Callable[[Any, Any], WorkerSpec]]]:
    sizing = tmp / "bulk.sizing.json"
    sizing.write_text(json.dumps(SIZING))
    return [
    ("queue", queue_worker("Orders")),
    ("queue", queue_worker("Payments")),
    ("queue-options", options_worker("Bulk", sizing)),
    ("queue-options", options_worker("Bulk2", sizing)),
    ("queue-no-topic", lambda t, c: WorkerSpec("Quiet", function=dict(code=c, handler="app.handler",
                                                p99=cdk.Duration.millis(200), invocation=Invocation.QUEUE),
                                                queue={})),
    ("schedule", schedule_worker("Nightly")),
    ("schedule", schedule_worker("Hourly")),
]  # fmt: skip


@pytest.mark.parametrize("context", [{}, cli_context()], ids=["plain", "cdk-cli-context"])
def test_specs_render_the_construct_paths_templates_byte_for_byte(tmp_path: Path, context: dict[str, Any]) -> None:
    _specs.FALLBACKS.clear()
    built = {mode: build_app(tmp_path, mode, mixed(tmp_path), context=context) for mode in ("add", "specs")}
    by_add, by_specs = templates(built["add"][0]), templates(built["specs"][0])
    assert sorted(by_add) == sorted(by_specs)
    assert len(by_add) >= 3  # the parent and at least two nested stacks (100 resources per stack)
    for name, template in sorted(by_add.items(), key=lambda kv: "nested" not in kv[0]):  # parent last
        mine = by_specs[name]
        if "nested" not in name:
            template, mine = _without_template_urls(template), _without_template_urls(mine)
        assert sorted(template.get("Resources", {})) == sorted(mine.get("Resources", {})), name
        for logical_id, resource in template.get("Resources", {}).items():
            assert mine["Resources"][logical_id] == resource, (name, logical_id)
        if "nested" in name:
            assert template == mine, name  # Parameters, Outputs, Conditions, Metadata too
        else:  # the nested stacks' TemplateURLs: the hash of their bytes, whose resource order differs
            assert _without_template_urls(template) == _without_template_urls(mine)
    assert _specs.FALLBACKS == {}  # every spec here was rendered (none built by add)
    assert built["add"][1].placement == built["specs"][1].placement
    assert built["add"][1].resource_counts == built["specs"][1].resource_counts


def test_spec_bundles_are_real_resources_in_one_include_per_stack(tmp_path: Path) -> None:
    _, fleet = build_app(tmp_path, "specs", mixed(tmp_path)[:2])
    stack = fleet.stacks["Stack1"]
    children = [c.node.id for c in stack.node.children]
    assert children == ["FleetSpecs.1"]
    resources = [c for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)]
    assert len(resources) == 32 == fleet.resource_counts["Stack1"]


def test_rule_packs_pass_on_both_paths(tmp_path: Path) -> None:
    for mode in ("add", "specs"):
        with_topics = [k for k in mixed(tmp_path) if k[0] != "queue-no-topic"]  # alarms without actions are refused
        app, _ = build_app(tmp_path, mode, with_topics, context=cli_context(), checks=True)
        app.synth()  # raises ValidationFailed on any unacknowledged finding
        report = Path(app.outdir) / "validation-report.json"
        data = json.loads(report.read_text()) if report.exists() else {"pluginReports": []}
        assert all(p["violations"] == [] for p in data["pluginReports"]), (mode, data)


def test_a_bad_spec_names_the_fleet_the_bundle_and_the_prop_and_builds_nothing(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "bad"))
    stack = cdk.Stack(app, "Svc")
    code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"))
    fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / "p.json")
    good = WorkerSpec("Good", function=dict(code=code, handler="app.handler", p99=cdk.Duration.seconds(1),
                                            invocation=Invocation.QUEUE), queue={})  # fmt: skip
    bad = WorkerSpec("Bad", function=dict(good.function), queue={"batch_size": 0})
    with pytest.raises(
        ConfigurationError, match=r"^Svc/Workers/BadQueue: batch_size=0 is invalid; allowed: 1\.\.10000"
    ):
        fleet.add_specs([good, bad])
    with pytest.raises(ConfigurationError, match=r"^Svc/Workers/Typo: function\['hander'\]='hander' is invalid"):
        fleet.add_specs([WorkerSpec("Typo", function={"hander": "x"}, queue={})])
    with pytest.raises(ConfigurationError, match=r"^Svc/Workers/Two: queue/stream/schedule='queue, schedule'"):
        fleet.add_specs([WorkerSpec("Two", function={}, queue={}, schedule={})])
    assert fleet.stacks == {} and fleet.placement == {}
    fleet.add_specs([good])
    with pytest.raises(ConfigurationError, match=r"^Svc/Workers/Good: id='Good' is invalid; allowed: an id not added"):
        fleet.add_specs([good])
    assert list(fleet.placement) == ["Good"]


def test_a_spec_holding_another_construct_is_built_by_add(tmp_path: Path) -> None:
    built = {}
    for mode in ("add", "specs"):
        app = cdk.App(outdir=str(tmp_path / mode))
        stack = cdk.Stack(app, "Svc")
        code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"))
        layer_code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"))
        layer = lambda_.LayerVersion(stack, "Given", code=layer_code)  # a construct the scratch app cannot mirror
        fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / f"{mode}.json")
        spec = WorkerSpec("W", function=dict(code=code, handler="app.handler", p99=cdk.Duration.seconds(1),
                                             invocation=Invocation.QUEUE, layers=[layer]), queue={})  # fmt: skip
        if mode == "add":
            fleet.add("W", _specs.build_spec(spec))
        else:
            fleet.add_specs([spec])
            assert [c.node.id for c in fleet.stacks["Stack1"].node.children][:2] == ["W", "WQueue"]
        built[mode] = templates(app)
    assert built["add"] == built["specs"]


def test_the_constructs_warnings_are_emitted_for_a_rendered_bundle(tmp_path: Path) -> None:
    messages = {}
    for mode in ("add", "specs"):
        app = cdk.App(outdir=str(tmp_path / mode))
        stack = cdk.Stack(app, "Svc")
        code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"))
        fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / f"{mode}.json")
        function = dict(code=code, handler="app.handler", timeout=cdk.Duration.seconds(30), invocation=Invocation.QUEUE)
        spec = WorkerSpec("Fixed", function=function, queue={"max_receive_count": 2})
        if mode == "add":
            fleet.add(spec.id, _specs.build_spec(spec))
        else:
            fleet.add_specs([spec])
        assembly = app.synth()
        found = [m for a in assembly.stacks for ms in [a.messages] for m in ms]
        messages[mode] = sorted(str(m.entry.data) for m in found)
    assert messages["add"] == messages["specs"]
    assert any("timeout=30 s was not derived from a measured p99" in m for m in messages["specs"])
    assert any("max_receive_count=2" in m for m in messages["specs"])


def test_a_default_alarm_topic_reaches_rendered_bundles_as_it_reaches_add(tmp_path: Path) -> None:
    from lambda_constructs import default_alarm_topic

    built = {}
    for mode in ("add", "specs"):
        app = cdk.App(outdir=str(tmp_path / mode))
        stack = cdk.Stack(app, "Svc")
        default_alarm_topic(stack, sns.Topic(stack, "Alarms"))
        code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"))
        fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / f"{mode}.json")
        function = dict(code=code, handler="app.handler", p99=cdk.Duration.seconds(1), invocation=Invocation.QUEUE)
        spec = WorkerSpec("W", function=function, queue={})
        if mode == "add":
            fleet.add("W", _specs.build_spec(spec))
        else:
            _specs.FALLBACKS.clear()
            fleet.add_specs([spec])
            assert _specs.FALLBACKS == {}
        built[mode] = {k: v for k, v in templates(app).items() if "nested" in k}
    assert built["add"] == built["specs"]
    (nested,) = built["specs"].values()
    assert all(
        r["Properties"].get("AlarmActions")
        for r in nested["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    )


def test_specs_are_placed_by_adds_rules_record_move_grown_and_refusal(tmp_path: Path) -> None:
    """One placement for both paths: recorded bundles stay, move() is the only move, a grown stack is reported."""
    from aws_cdk.assertions import Annotations, Match

    record = tmp_path / "p.json"

    def fleet_of(max_resources: int) -> tuple[cdk.App, cdk.Stack, FunctionFleet, Callable[[str], WorkerSpec]]:
        app = cdk.App(outdir=str(tmp_path / f"out{max_resources}"))
        stack = cdk.Stack(app, "Svc")
        topic = sns.Topic(stack, "Alarms", enforce_ssl=True)
        code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"), exclude=["__pycache__"])
        fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=max_resources, placement_file=record)
        return app, stack, fleet, lambda id: queue_worker(id)(topic, code)

    def warnings(stack: cdk.Stack, pattern: str) -> list[str]:
        found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(pattern))
        return [str(w.entry.data) for w in found]

    _, _, first, spec = fleet_of(40)
    first.add_specs([spec("W1"), spec("W2"), spec("W3")])
    size = first.resource_counts["Stack1"] // 2
    assert first.placement == {"W1": "Stack1", "W2": "Stack1", "W3": "Stack2"}  # 2 x 16 in 40, the third in a new one
    first.save_placement()

    app, stack, grown, spec = fleet_of(20)  # the room shrinks: Stack1's two recorded bundles (32) stay where they are
    grown.move("W3", to="Stack4")
    grown.add_specs([spec("W1"), spec("W2"), spec("W3"), spec("W4")])
    assert grown.placement == {"W1": "Stack1", "W2": "Stack1", "W3": "Stack4", "W4": "Stack5"}  # W4: Stack4 is full
    app.synth()
    (moved,) = warnings(stack, "is moved from")
    assert moved.startswith("W3 is moved from Stack2 to Stack4, as fleet.move() asked")
    (over,) = warnings(stack, "Stack1 holds")
    assert over.startswith(f"Stack1 holds {2 * size} resources, more than max_resources_per_stack=20")
    assert json.loads(record.read_text())["fleets"]["Svc/Workers"]["stacks"] == grown.placement

    _, _, refused, spec = fleet_of(20)
    refused.move("W4", to="Stack1")  # Stack1 is full: the whole call is refused, W1 and W2 before it too
    with pytest.raises(ConfigurationError) as info:
        refused.add_specs([spec("W1"), spec("W2"), spec("W3"), spec("W4")])
    assert (info.value.problems[0].prop, info.value.problems[0].value) == ("to", "Stack1")
    assert info.value.path == "Svc/Workers/W4"
    assert refused.placement == {} and refused.resource_counts == {} and refused.stacks == {}


def stream_app(tmp: Path, mode: str) -> tuple[cdk.App, FunctionFleet, cdk.Stack]:
    """Stream specs, both paths: two on one Kinesis stream, one on another (with another alarm topic), an
    encrypted stream, a DynamoDB table's stream and an encrypted table's, and an imported stream (built by add)."""
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_kinesis as kinesis
    from aws_cdk import aws_kms as kms

    app = cdk.App(outdir=str(tmp / mode), context=cli_context())
    stack = cdk.Stack(app, "Svc")
    topics = [sns.Topic(stack, "Alarms", enforce_ssl=True), sns.Topic(stack, "Pager", enforce_ssl=True)]
    code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"), exclude=["__pycache__"])
    key = kms.Key(stack, "StreamKey", enable_key_rotation=True)
    orders = kinesis.Stream(stack, "Orders", encryption=kinesis.StreamEncryption.MANAGED)
    clicks = kinesis.Stream(stack, "Clicks", encryption=kinesis.StreamEncryption.MANAGED)
    secret = kinesis.Stream(stack, "Secret", encryption=kinesis.StreamEncryption.KMS, encryption_key=key)
    pk = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    table = dynamodb.Table(stack, "Table", partition_key=pk, stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
                           point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                               point_in_time_recovery_enabled=True))  # fmt: skip
    sealed = dynamodb.Table(stack, "Sealed", partition_key=pk, stream=dynamodb.StreamViewType.NEW_IMAGE,
                            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED, encryption_key=key,
                            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                                point_in_time_recovery_enabled=True))  # fmt: skip
    imported = kinesis.Stream.from_stream_arn(stack, "Imported", "arn:aws:kinesis:eu-west-1:111111111111:stream/x")
    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=100, placement_file=tmp / f"{mode}.json")

    def spec(id: str, topic: int = 0, **stream: Any) -> WorkerSpec:
        function = dict(code=code, handler="app.handler", p99=cdk.Duration.seconds(1), invocation=Invocation.STREAM,
                        alarm_topic=topics[topic])  # fmt: skip
        return WorkerSpec(id, function=function, stream=stream)

    specs = [
        spec("OrdersA", stream=orders),
        spec("OrdersB", stream=orders),
        spec("Clicks", stream=clicks),
        spec("ClicksPaged", topic=1, stream=clicks),
        spec("Secret", stream=secret),
        spec("Changes", table=table),
        spec("Sealed", table=sealed, batch_size=10),
        spec("Far", stream=imported),
    ]
    if mode == "add":
        for one in specs:
            fleet.add(one.id, _specs.build_spec(one))
    else:
        fleet.add_specs(specs)
    # the library's rule pack (the deploy contract among it); cdk-nag's AwsSolutions-IAM5 flags aws-cdk-lib's
    # dynamodb:ListStreams on "*" (grant_stream_read) on both paths alike
    Validations.of(app).add_plugins(ProductionReadinessChecks(app))
    return app, fleet, stack


def test_stream_specs_are_rendered_with_their_streams_as_parameters(tmp_path: Path, monkeypatch) -> None:
    _specs.FALLBACKS.clear()
    made: list[str] = []
    real_prototype = _specs.prototype

    def counted(fleet: Any, spec: WorkerSpec) -> Any:
        made.append(spec.id)
        return real_prototype(fleet, spec)

    monkeypatch.setattr(_specs, "prototype", counted)
    built = {mode: stream_app(tmp_path, mode) for mode in ("add", "specs")}
    # one prototype per shape: the stream a spec reads is a parameter's value (OrdersB, Clicks share OrdersA's)
    assert made == ["OrdersA", "ClicksPaged", "Secret", "Changes", "Sealed", "Far"]
    why = "stream=Svc/Imported: not a kinesis.Stream or a dynamodb.Table with a stream made in the app"
    assert {"Far": why} == _specs.FALLBACKS
    app, fleet, stack = built["specs"]
    assert fleet.spec_fallbacks == {"Far": why}  # the public report, and an info annotation on the fleet
    infos = Annotations.from_stack(stack).find_info(f"/{fleet.node.path}", Match.string_like_regexp("spec Far"))
    assert [i.entry.data for i in infos] == [f"spec Far is built by add: {why}"]
    by = {mode: templates(app) for mode, (app, _, _) in built.items()}  # the rule packs raise on any finding
    for mode, (app, _, _) in built.items():
        report = Path(app.outdir) / "validation-report.json"
        data = json.loads(report.read_text()) if report.exists() else {"pluginReports": []}
        assert all(p["violations"] == [] for p in data["pluginReports"]), (mode, data)
    assert sorted(by["add"]) == sorted(by["specs"]) and len(by["add"]) == 3  # the parent, two nested stacks
    placement = built["specs"][1].placement
    assert placement == built["add"][1].placement
    # one include holds specs of two shapes whose prototypes named their topic and stream parameters alike
    assert placement["OrdersA"] == placement["Clicks"] == placement["ClicksPaged"] == "Stack1"
    for name, template in by["add"].items():
        mine = by["specs"][name]
        if "nested" not in name:
            template, mine = _without_template_urls(template), _without_template_urls(mine)
        assert sorted(template["Resources"]) == sorted(mine["Resources"]), name
        for logical_id, resource in template["Resources"].items():
            assert mine["Resources"][logical_id] == resource, (name, logical_id)
        assert template == mine, name  # the nested stacks' Parameters too
    parent = by["specs"]["Svc.template.json"]["Resources"]
    passed = {
        json.dumps(value, sort_keys=True)
        for r in parent.values()
        if r["Type"] == "AWS::CloudFormation::Stack"
        for value in r["Properties"]["Parameters"].values()
    }
    assert passed == {
        json.dumps(v, sort_keys=True)
        for v in [
            {"Ref": "Alarms04B5A0BF"}, {"Ref": "Pager3330101C"},
            {"Fn::GetAtt": ["OrdersA9B65338", "Arn"]}, {"Fn::GetAtt": ["Clicks81B5095A", "Arn"]},
            {"Fn::GetAtt": ["SecretA720EF05", "Arn"]}, {"Fn::GetAtt": ["StreamKey9F296F4F", "Arn"]},
            {"Fn::GetAtt": ["TableCD117FA1", "StreamArn"]}, {"Fn::GetAtt": ["Sealed918B1559", "StreamArn"]},
        ]
    }  # fmt: skip


def test_a_rendered_spec_keeps_the_filter_quota_warning(tmp_path: Path) -> None:
    # the warning goes through the library's one annotation path, which a prototype bundle records for its renders
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "S")
    fleet = FunctionFleet(stack, "F", placement_file=tmp_path / "placement.json")
    code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"))
    filters = [lambda_.FilterCriteria.filter({"body": {"k": lambda_.FilterRule.is_equal(str(i))}}) for i in range(6)]
    function = dict(code=code, handler="app.handler", p99=cdk.Duration.seconds(1), invocation=Invocation.QUEUE)
    fleet.add_specs([WorkerSpec("W1", function=function, queue={"filters": filters})])
    assert fleet.spec_fallbacks == {}  # rendered, not built by add
    (warning,) = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("6 filters"))
    assert warning.id.startswith("/S/F/Stack1/FleetSpecs.1/W1Queue")
    assert "[ack: lambda-constructs:filter-quota]" in str(warning.entry.data)
