"""FunctionFleet: nested stacks under CloudFormation's limits, stable placement, shared things."""

from __future__ import annotations

import json
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

from lambda_constructs import ConfigurationError, FunctionFleet, Invocation, ProductionFunction, QueueConsumer
from lambda_constructs.cli import main
from lambda_constructs.core.report import load_templates, stack_sizes

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
    assert record["fleets"]["Fleet/Workers|100"]["stacks"]["W12"] == "Stack3"


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
    table, stacks = out.split("\n\n")
    rows = table.splitlines()[2:]
    assert len(rows) == 7 and {r.split()[0].split("/")[0] for r in rows} == {"Fleet"}
    assert len({r.split()[0] for r in rows}) == 2  # two nested stacks named in the stack column
    assert [line.split()[1] for line in stacks.splitlines()[2:]][1:] == ["96", "16"]


def test_default_record_keeps_placement_without_a_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default record (in the working directory), a second app built in the same directory keeps
    every recorded function where it was, even when the first app was never synthesized."""
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
    assert record["fleets"]["S/F|10"]["stacks"] == {
        "T0": "Stack1",
        "T1": "Stack1",
        "T2": "Stack1",
        "T3": "Stack2",
        "T4": "Stack2",
    }
    assert record["fleets"]["S/F|10"]["resources"] == {f"T{i}": 3 for i in range(5)}


def test_a_grown_recorded_bundle_moves_with_a_warning_and_nothing_else_moves(tmp_path: Path) -> None:
    from aws_cdk.assertions import Annotations, Match

    record = tmp_path / "p.json"

    def build(sizes: dict[str, int]) -> tuple[FunctionFleet, cdk.Stack]:
        stack = cdk.Stack(cdk.App(), "S")
        fleet = FunctionFleet(stack, "F", max_resources_per_stack=10, placement_file=record)
        for bundle, size in sizes.items():
            fleet.add(bundle, lambda scope, id, n=size: [sns.Topic(scope, f"{id}{k}") for k in range(n)])
        return fleet, stack

    first, _ = build({"A": 3, "B": 3, "C": 3})
    assert set(first.placement.values()) == {"Stack1"}
    second, stack = build({"A": 3, "B": 6, "C": 3})  # B grew: Stack1 would hold 12
    assert second.placement == {"A": "Stack1", "B": "Stack2", "C": "Stack1"}
    Annotations.from_stack(stack).has_warning("/S/F", Match.string_like_regexp("B is recorded in Stack1"))


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
    assert record["fleets"]["F/Workers|450"]["resources"]["W00"] == planned + 1


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
    assert "BNew" not in json.loads((tmp_path / "failed.json").read_text())["fleets"]["S/F|10"]["stacks"]


def test_placement_file_with_a_nul_byte_is_refused(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(
        ConfigurationError, match=r"^S/F: placement_file='a\\x00b.json' is invalid; allowed: a path without"
    ):
        FunctionFleet(stack, "F", placement_file="a\0b.json")
