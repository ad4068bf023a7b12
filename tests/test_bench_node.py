"""The fleet benchmark compares like with like: its three sides build the same resources.

- The TypeScript app on Node.js (``bench/node/app.ts``) and the hand-written aws-cdk-lib Python
  (``bench/fleet_spec.build_raw``) build one spec: their templates are the same files, byte for byte,
  and resource for resource (logical id, type, every property).
- One worker of that spec and one worker of the library (``FunctionFleet`` + ``ProductionFunction`` +
  ``QueueConsumer``, what ``bench/fleet_bench.py`` times) are the same 16 resources, property for
  property; only their logical ids differ.

Small sizes only: the 1,000-worker benchmark runs in ``make bench``, never here.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns

from lambda_constructs import FunctionFleet, Invocation, ProductionFunction, QueueConsumer
from lambda_constructs._node import wheel_node

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
NODE_APP = BENCH / "node" / "app.ts"
sys.path.insert(0, str(BENCH))
import fleet_spec  # noqa: E402  (bench/ is a directory of scripts, not a package)
import template_diff  # noqa: E402

WORKER_KINDS = sorted(
    [
        "LogGroup",
        "Role",
        "Policy",
        "Function",
        "Version",
        "Alias",
        "Queue",
        "DeadLetterQueue",
        "QueuePolicy(Queue)",
        "QueuePolicy(DeadLetterQueue)",
        "EventSourceMapping",
        "Alarm(Errors)",
        "Alarm(Throttles)",
        "Alarm(Duration)",
        "Alarm(ApproximateAgeOfOldestMessage)",
        "Alarm(ApproximateNumberOfMessagesVisible)",
    ]
)


def _node() -> str | None:
    """A Node.js that runs TypeScript as it is (type stripping: 22.18+), or None."""
    for candidate in (wheel_node(), shutil.which("node")):
        if candidate is None:
            continue
        out = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.match(r"v(\d+)\.(\d+)", out.strip())
        if match and (int(match.group(1)), int(match.group(2))) >= (22, 18):
            return candidate
    return None


def _synth_raw(spec: dict[str, Any], outdir: Path) -> None:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, spec["stack"])
    fleet_spec.build_raw(stack, sns.Topic(stack, spec["alarm_topic"]), spec)
    app.synth()


def _nested_template(outdir: Path) -> dict[str, Any]:
    (path,) = outdir.glob("*.nested.template.json")
    template: dict[str, Any] = json.loads(path.read_text())
    return template


@pytest.fixture(scope="module")
def two_sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """10 workers, 6 per nested stack (2 nested stacks), synthesized by raw Python and by Node.js."""
    node = _node()
    if not (BENCH / "node" / "node_modules" / "aws-cdk-lib").is_dir() or node is None:
        pytest.skip(
            "bench/node's npm packages are not installed (make setup installs them; or: cd bench/node && npm ci)"
            if node
            else "no Node.js 22.18+ (runs bench/node/app.ts as TypeScript)"
        )
    tmp = tmp_path_factory.mktemp("bench")
    spec_path = fleet_spec.write_spec(tmp / "spec.json", 10, per_stack=6 * fleet_spec.RESOURCES_PER_WORKER)
    env = dict(os.environ, CDK_VALIDATION="false")  # aws-cdk-lib's own template validation: no template change
    node_run = subprocess.Popen(
        [node, str(NODE_APP), str(spec_path), str(tmp / "node")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _synth_raw(json.loads(spec_path.read_text()), tmp / "python")  # meanwhile, in this process
    out, err = node_run.communicate(timeout=180)
    assert node_run.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["aws_cdk_lib"] == version("aws-cdk-lib")
    return tmp / "python", tmp / "node"


def test_node_and_python_build_the_same_templates_byte_for_byte(two_sides: tuple[Path, Path]) -> None:
    python, node = two_sides
    names = sorted(p.name for p in python.glob("*.template.json"))
    assert names == sorted(p.name for p in node.glob("*.template.json"))
    assert len(names) == 3  # the stack and its two nested stacks
    for name in names:
        assert (python / name).read_bytes() == (node / name).read_bytes(), name


def test_node_and_python_build_the_same_resources(two_sides: tuple[Path, Path]) -> None:
    python, node = two_sides
    assert template_diff.differences(python, node) == []
    nested = [t for name, t in template_diff.load(node).items() if name.endswith(".nested.template.json")]
    assert sorted(len(t["Resources"]) for t in nested) == [4 * 16, 6 * 16]
    # 160 worker resources + the topic + 2 nested-stack resources
    assert template_diff.resource_count(node) == 163


def test_the_node_side_pins_aws_cdk_lib_of_the_python_version() -> None:
    lock = json.loads((BENCH / "node" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk-lib"]["version"] == version("aws-cdk-lib")
    assert json.loads((BENCH / "node" / "package.json").read_text())["dependencies"]["aws-cdk-lib"] == version(
        "aws-cdk-lib"
    )


def test_a_spec_worker_is_the_library_worker_property_for_property(tmp_path: Path) -> None:
    """What the benchmark's raw side builds is what the library builds: the spec's numbers are the library's."""
    app = cdk.App(outdir=str(tmp_path / "library"))
    stack = cdk.Stack(app, "Bench")
    topic = sns.Topic(stack, "Alarms")
    code = lambda_.Code.from_asset(str(ROOT / "handlers" / "order_worker"), exclude=["__pycache__"])
    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=450, placement_file=tmp_path / "placement.json")

    def worker(scope: Any, id: str) -> None:
        fn = ProductionFunction(
            scope,
            id,
            code=code,
            handler="app.handler",
            p99=cdk.Duration.seconds(1),
            invocation=Invocation.QUEUE,
            alarm_topic=topic,
        )
        QueueConsumer(scope, f"{id}Queue", function=fn)

    fleet.add("W0000", worker)
    app.synth()
    _synth_raw(fleet_spec.fleet_spec(1), tmp_path / "raw")
    library, raw = _nested_template(tmp_path / "library"), _nested_template(tmp_path / "raw")
    assert sorted(template_diff.by_kind(library)) == WORKER_KINDS
    assert template_diff.kind_differences(library, raw) == []
    assert library["Parameters"] == raw["Parameters"]  # the alarm topic, passed the same way


def test_the_comparison_reports_each_difference(tmp_path: Path) -> None:
    """The checks above can fail: a changed property, a missing resource and a renamed one are reported."""
    _synth_raw(fleet_spec.fleet_spec(2), tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    (path,) = (tmp_path / "b").glob("*.nested.template.json")
    template = json.loads(path.read_text())
    resources = template["Resources"]
    function_id = next(k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function")
    resources[function_id]["Properties"]["MemorySize"] = 2048
    alarm_id = next(k for k in resources if k.startswith("W0001Errors"))
    resources[alarm_id.replace("W0001", "W0009")] = resources.pop(alarm_id)
    path.write_text(json.dumps(template))
    found = template_diff.differences(tmp_path / "a", tmp_path / "b")
    assert len(found) == 3, found
    assert f"{path.name} {function_id}.Properties.MemorySize: 1024 != 2048" in found
    assert f"{path.name} {alarm_id}: resource only in the first" in found
    assert f"{path.name} {alarm_id.replace('W0001', 'W0009')}: resource only in the second" in found

    one = _nested_template(tmp_path / "a")
    one["Resources"] = {k: v for k, v in one["Resources"].items() if k.startswith("W0000")}
    other = copy.deepcopy(one)
    duration = next(r for r in other["Resources"].values() if r["Properties"].get("MetricName") == "Duration")
    duration["Properties"]["Threshold"] = 2500
    assert template_diff.kind_differences(one, other) == ["worker.Alarm(Duration).Properties.Threshold: 2400 != 2500"]


def test_the_spec_layout_fills_nested_stacks_to_the_library_room() -> None:
    spec = fleet_spec.fleet_spec(1000)
    stacks = spec["nested_stacks"]
    assert [len(s["workers"]) for s in stacks] == [28] * 35 + [20]  # 28 x 16 = 448 <= 450 resources
    assert [s["id"] for s in stacks] == [f"Stack{k}" for k in range(1, 37)]
    names = [w["name"] for s in stacks for w in s["workers"]]
    assert names == [f"W{i:04d}" for i in range(1000)]
    assert stacks[35]["workers"][0]["alarms"][0]["description"].startswith("Bench/Workers/Stack36/W0980: ")


def test_the_sync_benchmark_sides_build_the_same_template(tmp_path: Path) -> None:
    """bench/sync_bench.py: two SYNC ProductionFunctions and their hand-written twins are the same 24 resources,
    logical id for logical id and property for property (only the library's Metadata record differs)."""
    import sync_bench

    for kind in ("library", "raw"):
        # without aws-cdk-lib's template validation (seconds of CPU per synthesis; cfn-lint runs elsewhere)
        app, _wall, _cpu, calls = sync_bench.app_of(
            kind, 2, str(tmp_path / kind), builtin_cloud_formation_validation=False
        )
        app.synth()
        assert calls > 0
    assert template_diff.differences(tmp_path / "library", tmp_path / "raw") == []
    template = json.loads((tmp_path / "raw" / "Bench.template.json").read_text())
    kinds = sorted(r["Type"].split("::")[-1] for r in template["Resources"].values() if r["Type"] != "AWS::SNS::Topic")
    assert kinds == sorted(
        ["Role", "Policy", "LogGroup", "Function", "Version", "Alias", "ScalableTarget", "ScalingPolicy"] * 2
        + ["Alarm"] * 8
    )
