"""FunctionFleet: nested stacks under CloudFormation's limits, stable placement, shared things."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_constructs import (
    ConfigurationError,
    FunctionFleet,
    Invocation,
    ProductionFunction,
    QueueConsumer,
    TopicConsumer,
)
from lambda_constructs.cli import main
from lambda_constructs.core.report import load_templates, stack_sizes
from tests.conftest import INLINE

ROOT = Path(__file__).resolve().parents[1]
WORKER_RESOURCES = 16  # 9 for the function (role, policy, log group, function, version, alias, 3 alarms) + 7 queue side


def _app(tmp_path: Path, ids: list[str], *, limit: int = 100, shared_code: bool = True) -> dict[str, Any]:
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Fleet")
    topic = sns.Topic(stack, "Alarms")
    code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"), exclude=["__pycache__"])
    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=limit, placement_file=tmp_path / "placement.json")

    def worker(scope: Construct, id: str) -> ProductionFunction:
        fn = ProductionFunction(
            scope,
            id,
            code=code if shared_code else lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker")),
            handler="app.handler",
            p99=cdk.Duration.seconds(1),
            invocation=Invocation.QUEUE,
            alarm_topic=topic,
        )
        QueueConsumer(scope, f"{id}Queue", function=fn)
        return fn

    built = {i: fleet.add(i, worker) for i in ids}
    dashboard = cloudwatch.Dashboard(stack, "Dashboard")
    dashboard.add_widgets(cloudwatch.GraphWidget(left=[f.metric_errors() for f in list(built.values())[:3]]))
    return {"app": app, "fleet": fleet, "built": built, "stack": stack}


def test_bundles_fill_nested_stacks_under_the_limit(tmp_path: Path) -> None:
    made = _app(tmp_path, [f"W{i:02d}" for i in range(13)])
    fleet: FunctionFleet = made["fleet"]
    # 100 resources a stack, 16 a worker: 6 per stack -> 6, 6, 1
    assert fleet.resource_counts == {"Stack1": 96, "Stack2": 96, "Stack3": 16}
    assert fleet.placement["W00"] == "Stack1" and fleet.placement["W06"] == "Stack2"
    assert isinstance(made["built"]["W00"], ProductionFunction)  # add returns what build returned
    made["app"].synth()
    sizes = stack_sizes(load_templates(tmp_path / "out"))
    nested = {k: v for k, v in sizes.items() if "/" in k}
    assert sorted(nested.values()) == [16, 96, 96] and max(sizes.values()) <= 100
    record = json.loads((tmp_path / "placement.json").read_text())
    assert record["fleets"]["Fleet/Workers"]["stacks"]["W12"] == "Stack3"


def test_placement_is_stable_when_functions_come_and_go(tmp_path: Path) -> None:
    first = _app(tmp_path, [f"W{i:02d}" for i in range(13)])
    first["app"].synth()
    before = dict(first["fleet"].placement)
    # remove three (one from each stack), add four new ones
    ids = [i for i in before if i not in ("W01", "W07", "W12")] + ["N1", "N2", "N3", "N4"]
    second = _app(tmp_path, ids)
    after = second["fleet"].placement
    assert {k: after[k] for k in before if k in after} == {k: v for k, v in before.items() if k in after}
    assert all(after[n] in ("Stack3", "Stack4") for n in ("N1", "N2", "N3", "N4"))  # never into older stacks' holes
    assert max(second["fleet"].resource_counts.values()) <= 100


def test_shared_code_and_topic_work_across_stacks(tmp_path: Path) -> None:
    made = _app(tmp_path, [f"W{i:02d}" for i in range(8)])
    assembly = made["app"].synth()  # would fail with "Asset is already associated with another stack"
    parent = assembly.get_stack_by_name("Fleet").template
    nested = [r for r in parent["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"]
    assert len(nested) == 2
    assert any(
        "AlarmsTopic" in json.dumps(n["Properties"].get("Parameters", {})) or "Alarms" in json.dumps(n) for n in nested
    )
    assets = [p for p in (tmp_path / "out").iterdir() if p.name.startswith("asset.")]
    assert len(assets) == 1  # one copy of the shared code
    for nested_stack in made["fleet"].stacks.values():  # one Asset per stack, not one per function
        bound = [c for c in nested_stack.node.find_all() if isinstance(c, s3_assets.Asset)]
        assert len(bound) == 1


def test_topic_consumers_subscribe_to_the_parent_stack_s_topic(tmp_path: Path) -> None:
    # aws-cdk-lib's SqsSubscription makes the queue's stack depend on the topic's: a nested stack cannot depend on
    # its parent (CannotDependOnParent), so the subscription goes through the ARN, which a parameter carries
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Fleet")
    topic = sns.Topic(stack, "Orders")
    fleet = FunctionFleet(stack, "Workers", placement_file=tmp_path / "placement.json")

    def consumer(scope: Construct, id: str) -> TopicConsumer:
        fn = ProductionFunction(
            scope, id, code=INLINE, handler="index.handler", p99=cdk.Duration.seconds(1), invocation=Invocation.QUEUE
        )
        return TopicConsumer(scope, f"{id}Sub", function=fn, topic=topic)

    built = [fleet.add(f"T{i}", consumer) for i in range(2)]
    assembly = app.synth()
    parent = assembly.get_stack_by_name("Fleet").template
    (nested_resource,) = [r for r in parent["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"]
    ((parameter, value),) = nested_resource["Properties"]["Parameters"].items()
    assert value == {"Ref": stack.get_logical_id(topic.node.default_child)}
    (nested,) = fleet.stacks.values()
    resources = json.loads((Path(assembly.directory) / nested.template_file).read_text())["Resources"]
    subscriptions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert len(subscriptions) == 2
    assert all(s["TopicArn"] == {"Ref": parameter} and s["Protocol"] == "sqs" for s in subscriptions)
    assert [b.plan.resource_count for b in built] == [len(_resources_under(b)) for b in built]


def _resources_under(construct: Construct) -> list[cdk.CfnResource]:
    return [c for c in construct.node.find_all() if isinstance(c, cdk.CfnResource)]


def test_a_bundle_too_big_for_any_stack_is_refused_whole(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Fleet")
    fleet = FunctionFleet(stack, "F", max_resources_per_stack=10, placement_file=tmp_path / "p.json")

    def big(scope: Construct, id: str) -> None:
        for n in range(12):
            sns.Topic(scope, f"{id}T{n}")

    with pytest.raises(
        ConfigurationError, match=r"F/Big: build='12 resources' is invalid; allowed: a bundle of at most"
    ):
        fleet.add("Big", big)
    assert fleet.stacks == {} and fleet.node.try_find_child("Stack1") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_resources_per_stack": 600}, r"max_resources_per_stack=600 is invalid; allowed: 10\.\.500"),
        ({"max_resources_per_stack": True}, r"max_resources_per_stack=True is invalid"),
    ],
)
def test_fleet_options_are_validated(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError, match=message):
        FunctionFleet(stack, "F", placement_file=tmp_path / "p.json", **kwargs)
    assert stack.node.try_find_child("F") is None


def test_duplicate_bundle_id_and_broken_record(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    fleet = FunctionFleet(stack, "F", placement_file=tmp_path / "p.json")
    fleet.add("A", lambda scope, id: sns.Topic(scope, id))
    with pytest.raises(ConfigurationError, match=r"S/F/A: id='A' is invalid; allowed: an id not added"):
        fleet.add("A", lambda scope, id: sns.Topic(scope, id))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"placement_file=.*bad.json' is invalid"):
        FunctionFleet(stack, "G", placement_file=tmp_path / "bad.json")


def test_report_shows_each_stack_and_its_resources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    made = _app(tmp_path, [f"W{i:02d}" for i in range(7)])
    made["app"].synth()
    assert main(["report", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    table, stacks = out.split("\n\n")[:2]  # then the account concurrency ledger
    rows = table.splitlines()[2:]
    assert len(rows) == 7 and {r.split()[0].split("/")[0] for r in rows} == {"Fleet"}
    assert len({r.split()[0] for r in rows}) == 2  # two nested stacks named in the stack column
    assert [line.split()[1] for line in stacks.splitlines()[2:]][1:] == ["96", "16"]


def test_default_record_keeps_placement_without_a_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default record (under pytest: beside the nearest cdk.json above the working directory, else
    in it), a second app keeps every recorded function where it was, even when the first app was never
    synthesized."""
    monkeypatch.chdir(tmp_path)

    def build(ids: list[str]) -> dict[str, str]:
        stack = cdk.Stack(cdk.App(), "S")
        fleet = FunctionFleet(stack, "F", max_resources_per_stack=10)
        for i in ids:
            fleet.add(i, lambda scope, id: [sns.Topic(scope, f"{id}{n}") for n in range(3)])  # 3 resources each
        return fleet.placement

    first = build([f"T{i}" for i in range(9)])  # 3 per stack: Stack1..Stack3
    second = build([f"T{i}" for i in range(9) if i != 1] + ["N0"])
    assert {k: second[k] for k in first if k in second} == {k: v for k, v in first.items() if k in second}
    assert second["N0"] == "Stack4"  # never into Stack1's hole


def test_the_record_is_written_once_at_exit_without_a_synth(tmp_path: Path) -> None:
    """A process that builds a fleet and never synthesizes still leaves the record (written at exit, once)."""
    script = (
        "import aws_cdk as cdk\n"
        "from aws_cdk import aws_sns as sns\n"
        "from lambda_constructs import FunctionFleet\n"
        "stack = cdk.Stack(cdk.App(), 'S')\n"
        "fleet = FunctionFleet(stack, 'F', max_resources_per_stack=10, placement_file='p.json')\n"
        "for i in range(5):\n"
        "    fleet.add(f'T{i}', lambda scope, id: [sns.Topic(scope, f'{id}{n}') for n in range(3)])\n"
        "import os, shutil\n"
        "assert not os.path.exists('p.json')  # not written at every add\n"
        "os.mkdir('gone')\n"
        "other = FunctionFleet(stack, 'G', placement_file='gone/p.json')\n"
        "other.add('X', lambda scope, id: sns.Topic(scope, id))\n"
        "shutil.rmtree('gone')  # like a temporary directory removed before the process ends\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=120)
    assert not (tmp_path / "gone").exists()  # a removed directory is not recreated at exit
    record = json.loads((tmp_path / "p.json").read_text())
    assert record["fleets"]["S/F"]["stacks"] == {
        "T0": "Stack1",
        "T1": "Stack1",
        "T2": "Stack1",
        "T3": "Stack2",
        "T4": "Stack2",
    }
    assert record["fleets"]["S/F"]["resources"] == {f"T{i}": 3 for i in range(5)}


def _topics(fleet: FunctionFleet, sizes: dict[str, int]) -> dict[str, str]:
    """Add one bundle of ``n`` SNS topics per id (n resources each); returns the placement."""
    for bundle, size in sizes.items():
        fleet.add(bundle, lambda scope, id, n=size: [sns.Topic(scope, f"{id}{k}") for k in range(n)])
    return fleet.placement


def _warnings(stack: cdk.Stack, pattern: str) -> list[str]:
    from aws_cdk.assertions import Annotations, Match

    return [
        str(w.entry.data) for w in Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(pattern))
    ]


def test_a_grown_recorded_bundle_stays_in_its_stack_and_is_reported(tmp_path: Path) -> None:
    record = tmp_path / "p.json"

    def build(sizes: dict[str, int]) -> tuple[FunctionFleet, cdk.Stack]:
        stack = cdk.Stack(cdk.App(), "S")
        fleet = FunctionFleet(stack, "F", max_resources_per_stack=10, placement_file=record)
        _topics(fleet, sizes)
        return fleet, stack

    first, _ = build({"A": 3, "B": 3, "C": 3})
    assert set(first.placement.values()) == {"Stack1"}
    second, stack = build({"A": 3, "B": 6, "C": 3})  # B grew: Stack1 holds 12 > 10
    assert second.placement == {"A": "Stack1", "B": "Stack1", "C": "Stack1"}  # nothing moved on its own
    (over,) = _warnings(stack, "Stack1 holds 12 resources")
    assert "max_resources_per_stack=10" in over and "fleet.move(id)" in over
    assert _warnings(stack, "is moved from") == []


def test_a_bundle_past_cloudformations_limit_in_its_recorded_stack_asks_for_a_move(tmp_path: Path) -> None:
    record = tmp_path / "p.json"
    first = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record)
    assert _topics(first, {"A": 200, "B": 200}) == {"A": "Stack1", "B": "Stack1"}
    fleet = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record)
    _topics(fleet, {"A": 200})
    with pytest.raises(ConfigurationError, match=r"fleet.move\('B'\)") as info:
        fleet.add("B", lambda scope, id: [sns.Topic(scope, f"{id}{k}") for k in range(350)])  # 550 > 500
    assert info.value.problems[0].value == "350 resources"
    assert "B" not in fleet.placement  # refused whole


def test_move_moves_only_the_bundle_asked_for(tmp_path: Path) -> None:
    record = tmp_path / "p.json"
    sizes = {"A": 3, "B": 3, "C": 3, "D": 3}
    first = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", max_resources_per_stack=10, placement_file=record)
    assert _topics(first, sizes) == {"A": "Stack1", "B": "Stack1", "C": "Stack1", "D": "Stack2"}
    first.save_placement()

    stack = cdk.Stack(cdk.App(), "S")
    fleet = FunctionFleet(stack, "F", max_resources_per_stack=10, placement_file=record)
    fleet.move("A")  # to the newest stack with room: Stack2
    fleet.move("B", to="Stack5")  # to a stack named by the user
    assert _topics(fleet, sizes) == {"A": "Stack2", "B": "Stack5", "C": "Stack1", "D": "Stack2"}
    moved = _warnings(stack, "is moved from")
    assert sorted(m.split(" as ")[0] for m in moved) == [
        "A is moved from Stack1 to Stack2,",
        "B is moved from Stack1 to Stack5,",
    ]
    fleet.save_placement()
    again = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", max_resources_per_stack=10, placement_file=record)
    assert _topics(again, sizes) == {"A": "Stack2", "B": "Stack5", "C": "Stack1", "D": "Stack2"}  # recorded


@pytest.mark.parametrize(
    ("id", "to", "prop", "allowed"),
    [
        ("Nope", None, "id", "a bundle id in the placement record"),
        ("A", "Other", "to", "None or a nested stack id 'StackN' (N >= 1)"),
        ("A", "Stack0", "to", "None or a nested stack id 'StackN' (N >= 1)"),
    ],
)
def test_move_refuses_bad_input(tmp_path: Path, id: str, to: str | None, prop: str, allowed: str) -> None:
    record = tmp_path / "p.json"
    _topics(FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record), {"A": 3})
    fleet = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record)
    with pytest.raises(ConfigurationError) as info:
        fleet.move(id, to=to)
    assert [(p.prop, p.allowed) for p in info.value.problems] == [(prop, allowed)]


def test_move_after_add_and_into_a_full_stack_are_refused(tmp_path: Path) -> None:
    record = tmp_path / "p.json"
    first = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", max_resources_per_stack=10, placement_file=record)
    _topics(first, {"A": 3, "B": 3, "C": 3, "D": 6})  # Stack1: A B C (9), Stack2: D (6)
    first.save_placement()
    fleet = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", max_resources_per_stack=10, placement_file=record)
    _topics(fleet, {"A": 3})
    with pytest.raises(ConfigurationError, match=r"before fleet.add\(id\)"):
        fleet.move("A")
    fleet.move("D", to="Stack1")  # 6 more in a stack holding 6 of its 10 (A, plus B and C promised)
    with pytest.raises(ConfigurationError) as info:
        _topics(fleet, {"D": 6})
    assert (info.value.problems[0].prop, info.value.problems[0].value) == ("to", "Stack1")
    assert "D" not in fleet.placement or fleet.placement["D"] != "Stack1"


def test_changing_max_resources_per_stack_keeps_recorded_bundles(tmp_path: Path) -> None:
    record = tmp_path / "p.json"
    ids = {f"T{i}": 5 for i in range(6)}

    def build(limit: int, sizes: dict[str, int]) -> tuple[dict[str, str], cdk.Stack]:
        stack = cdk.Stack(cdk.App(), "S")
        fleet = FunctionFleet(stack, "F", max_resources_per_stack=limit, placement_file=record)
        placement = _topics(fleet, sizes)
        fleet.save_placement()
        return placement, stack

    first, _ = build(20, ids)
    assert first == {"T0": "Stack1", "T1": "Stack1", "T2": "Stack1", "T3": "Stack1", "T4": "Stack2", "T5": "Stack2"}
    raised, _ = build(30, {**ids, "N0": 5})  # more room: nothing recorded moves, the new one uses the room
    assert {k: raised[k] for k in first} == first and raised["N0"] == "Stack2"
    lowered, stack = build(10, {**ids, "N0": 5, "N1": 5})  # less room: recorded stacks over it are reported
    assert {k: lowered[k] for k in raised} == raised and lowered["N1"] == "Stack3"
    reported = _warnings(stack, "holds .* resources, more than max_resources_per_stack=10")
    assert [r.split(" resources")[0] for r in reported] == ["Stack1 holds 20", "Stack2 holds 15"]
    assert list(json.loads(record.read_text())["fleets"]) == ["S/F"]


def test_a_version_1_record_keyed_by_the_limit_is_read_and_migrated(tmp_path: Path) -> None:
    record = tmp_path / "p.json"
    old = {"stacks": {"A": "Stack2", "B": "Stack1"}, "resources": {"A": 3, "B": 3}}
    record.write_text(json.dumps({"version": 1, "fleets": {"S/F|10": old, "S/G|10": old}}))
    fleet = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", max_resources_per_stack=30, placement_file=record)
    assert _topics(fleet, {"A": 3, "B": 3}) == {"A": "Stack2", "B": "Stack1"}
    fleet.save_placement()
    written = json.loads(record.read_text())
    assert written["version"] == 2 and sorted(written["fleets"]) == ["S/F", "S/G|10"]


def test_in_ci_a_fleet_without_a_record_is_an_error_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "p.json"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ConfigurationError) as info:
        FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record)
    (problem,) = info.value.problems
    assert problem.prop == "placement_file" and problem.value == str(record)
    assert "Commit the record" in problem.hint and "new_placement=True" in problem.hint
    started = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record, new_placement=True)
    _topics(started, {"A": 3})
    started.save_placement()
    again = FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=record)  # recorded: fine in CI
    assert _topics(again, {"A": 3}) == {"A": "Stack1"}
    monkeypatch.setenv("CI", "false")
    FunctionFleet(cdk.Stack(cdk.App(), "S"), "G", placement_file=tmp_path / "other.json")  # not CI


def test_new_placement_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        FunctionFleet(cdk.Stack(cdk.App(), "S"), "F", placement_file=tmp_path / "p.json", new_placement="yes")  # type: ignore[arg-type]
    assert [(p.prop, p.allowed) for p in info.value.problems] == [("new_placement", "True or False")]


APP_SCRIPT = """
import sys
import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from lambda_constructs import FunctionFleet
app = cdk.App(outdir=sys.argv[2])
fleet = FunctionFleet(cdk.Stack(app, "S"), "Workers", max_resources_per_stack=10)
for name in sys.argv[1].split(","):
    fleet.add(name, lambda scope, id: [sns.Topic(scope, f"{id}{n}") for n in range(3)])
app.synth()
print(",".join(f"{k}={v}" for k, v in fleet.placement.items()))
"""


def test_synthesizing_from_another_directory_moves_no_worker(tmp_path: Path) -> None:
    """The reproduction: 7 workers placed, 2 removed, the app synthesized again from another working
    directory. With the record in the working directory, two of the five moved (W3 and W6 into the holes)."""
    app_dir, elsewhere = tmp_path / "service", tmp_path / "elsewhere"
    app_dir.mkdir()
    elsewhere.mkdir()
    (app_dir / "cdk.json").write_text('{"app": "python3 app.py"}')
    (app_dir / "app.py").write_text(APP_SCRIPT)

    def synth(cwd: Path, names: list[str]) -> dict[str, str]:
        run = subprocess.run(
            [sys.executable, str(app_dir / "app.py"), ",".join(names), str(tmp_path / "out")],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            env={k: v for k, v in os.environ.items() if k != "CI"},
        )
        assert run.returncode == 0, run.stderr[-3000:]
        return dict(pair.split("=") for pair in run.stdout.strip().splitlines()[-1].split(","))

    first = synth(app_dir, [f"W{i}" for i in range(7)])  # 3 per stack: W0-W2, W3-W5, W6
    assert (app_dir / "lambda-constructs.placement.json").is_file()
    survivors = [f"W{i}" for i in (0, 2, 3, 5, 6)]
    second = synth(elsewhere, survivors)
    assert second == {w: first[w] for w in survivors}  # W3 stays in Stack2, W6 in Stack3
    assert not (elsewhere / "lambda-constructs.placement.json").exists()


def test_planned_bundles_are_sized_without_walking_their_trees(tmp_path: Path) -> None:
    """A bundle of planned constructs is sized by their plans; the templates hold exactly that many."""
    made = _app(tmp_path, [f"W{i:02d}" for i in range(7)])
    fleet: FunctionFleet = made["fleet"]
    fn: ProductionFunction = made["built"]["W00"]
    consumer = fleet.stack_of("W00").node.find_child("W00Queue")
    assert fn.plan.resource_count + consumer.plan.resource_count == WORKER_RESOURCES
    made["app"].synth()
    nested = {k.rsplit("/", 1)[-1]: v for k, v in stack_sizes(load_templates(tmp_path / "out")).items() if "/" in k}
    assert sorted(nested.values()) == sorted(fleet.resource_counts.values()) == [16, 96]


def test_metadata_is_written_once_when_the_bundle_is_built(tmp_path: Path) -> None:
    """Inside a bundle the record waits for the consumer's alarms: one write, and the count includes them."""
    made = _app(tmp_path, ["W00"])
    fn: ProductionFunction = made["built"]["W00"]
    assert fn._metadata_written and fn._metadata["alarms"] == 5  # 3 of the function + 2 of its queue
    template = cdk.assertions.Template.from_stack(made["fleet"].stack_of("W00"))
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert function["Metadata"]["lambda-constructs"]["alarms"] == 5


def test_a_build_that_fails_leaves_no_record_unwritten(tmp_path: Path) -> None:
    app = cdk.App()
    fleet = FunctionFleet(cdk.Stack(app, "F"), "Workers", placement_file=tmp_path / "p.json")
    built: list[ProductionFunction] = []

    def broken(scope: Construct, id: str) -> None:
        built.append(ProductionFunction(scope, id, code=_INLINE, handler="a.h", p99=cdk.Duration.seconds(1)))
        raise RuntimeError("the user's build failed")

    with pytest.raises(RuntimeError, match="the user's build failed"):
        fleet.add("W00", broken)
    assert built[0]._metadata_written


_INLINE = lambda_.Code.from_inline("def h(e, c):\n    return e\n")


def test_a_planned_construct_changed_directly_is_recounted_at_synthesis(tmp_path: Path) -> None:
    """fn.alias.add_function_url() bypasses the plan: synthesis counts that stack again and records the real size."""
    app = cdk.App(outdir=str(tmp_path / "out"))
    fleet = FunctionFleet(cdk.Stack(app, "F"), "Workers", placement_file=tmp_path / "p.json")

    def worker(scope: Construct, id: str) -> None:
        fn = ProductionFunction(scope, id, code=_INLINE, handler="a.h", p99=cdk.Duration.seconds(1))
        fn.alias.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)  # one resource the plan cannot see

    fleet.add("W00", worker)
    planned = fleet.resource_counts["Stack1"]
    app.synth()
    assert fleet.resource_counts["Stack1"] == planned + 1
    record = json.loads((tmp_path / "p.json").read_text())
    assert record["fleets"]["F/Workers"]["resources"]["W00"] == planned + 1


def test_the_function_url_method_makes_the_fleet_count_the_bundle(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"))
    fleet = FunctionFleet(cdk.Stack(app, "F"), "Workers", placement_file=tmp_path / "p.json")

    def worker(scope: Construct, id: str) -> None:
        ProductionFunction(scope, id, code=_INLINE, handler="a.h", p99=cdk.Duration.seconds(1)).add_function_url()

    fleet.add("W00", worker)
    app.synth()
    template = json.loads(next((tmp_path / "out").glob("*Stack1*.template.json")).read_text())
    assert fleet.resource_counts["Stack1"] == len(template["Resources"])


def test_a_bundle_that_raises_halfway_leaves_nothing_behind(tmp_path: Path) -> None:
    """Its children go, the nested stack it opened goes, and the next bundle lands as if it never ran."""

    def fleet_of(path: Path, *, failing: bool) -> FunctionFleet:
        stack = cdk.Stack(cdk.App(), "S")
        fleet = FunctionFleet(stack, "F", max_resources_per_stack=10, placement_file=path)

        def topics(count: int) -> Any:
            return lambda scope, id: [sns.Topic(scope, f"{id}T{n}") for n in range(count)]

        def half_then_raise(scope: Construct, id: str) -> None:
            sns.Topic(scope, f"{id}Made")  # a valid construct before the error
            QueueConsumer(scope, f"{id}Bad", function="not a function")  # type: ignore[arg-type]

        fleet.add("A", topics(4))  # Stack1: 4 of 10
        if failing:
            with pytest.raises(ConfigurationError, match=r"S/F/Stack1/BHalfBad: function='not a function'"):
                fleet.add("BHalf", half_then_raise)  # in Stack1, beside A
        fleet.add("C", topics(4))  # Stack1: 8 of 10
        if failing:
            with pytest.raises(ConfigurationError, match=r"S/F/Stack2/BNewBad: function='not a function'"):
                fleet.add("BNew", half_then_raise)  # opens Stack2, which must go again
        fleet.add("D", topics(4))  # Stack2, as if BNew never ran
        return fleet

    failed = fleet_of(tmp_path / "failed.json", failing=True)
    control = fleet_of(tmp_path / "control.json", failing=False)
    assert failed.placement == control.placement == {"A": "Stack1", "C": "Stack1", "D": "Stack2"}
    assert failed.resource_counts == control.resource_counts == {"Stack1": 8, "Stack2": 4}
    children = [c.node.id for c in failed.stacks["Stack1"].node.children]
    assert not [c for c in children if c.startswith("B")], children
    assert sorted(failed.stacks) == ["Stack1", "Stack2"]
    # retrying the refused id works, and the record never names it
    failed.add("BHalf", lambda scope, id: sns.Topic(scope, id))
    failed.save_placement()
    assert "BNew" not in json.loads((tmp_path / "failed.json").read_text())["fleets"]["S/F"]["stacks"]


def test_placement_file_with_a_nul_byte_is_refused(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(
        ConfigurationError, match=r"^S/F: placement_file='a\\x00b.json' is invalid; allowed: a path without"
    ):
        FunctionFleet(stack, "F", placement_file="a\0b.json")
