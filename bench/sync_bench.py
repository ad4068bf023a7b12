"""Benchmark: N SYNC ProductionFunctions in one stack against the same 12 resources hand-written in aws-cdk-lib Python.

A SYNC ``ProductionFunction`` (``p99=Duration.millis(200)``, the default provisioned concurrency with
target tracking at 0.7, four alarms on one SNS topic) is 12 resources: role, its default policy, log
group, function, version, ``live`` alias, scalable target, scaling policy and the errors, throttles,
p99-duration and spillover alarms. The ``raw`` side (``build_raw``) writes the same 12 resources with
aws-cdk-lib's L2 constructs as a team would by hand, each function under a plain ``Construct`` of the
same id, so both sides produce the **same template**, logical id for logical id and property for
property (only the library's ``Metadata`` record differs; ``tests/test_bench_node.py`` checks it with
``bench/template_diff.py``). Hoisted as a hand-written loop would hoist them: one ``SnsAction``, one
code asset, one five-minute ``Duration`` and the scaling service-linked role's ARN, per stack.

Each run is its own process (the jsii kernel never frees objects), the sides interleaved in a rotating
order; per side it prints the medians (and minimums) of the whole-process CPU seconds (user + system of
the process tree, from ``getrusage``: the steadier figure on a shared machine), the construction CPU
and wall time per function, synthesis time, and jsii round trips per function during construction.

``--trace`` instead lists, in one process, every round trip of one SYNC function and of one queue worker
(after warm-up ones, so one-time costs such as the asset or the shared ``SnsAction`` are not in it):
request kind and the class and method or property, library beside hand-written.

``--baseline DIR`` adds a third side, ``baseline``: the library side importing the ``lambda_constructs`` package
in ``DIR`` (another commit's: ``git archive COMMIT lambda_constructs | tar -x -C DIR``), for before/after tables.

Run: ``python bench/sync_bench.py --n 200 --repeat 3`` or ``python bench/sync_bench.py --trace``.
"""

from __future__ import annotations

import argparse
import collections
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
CODE_DIR = ROOT / "handlers" / "order_worker"
SIDES = ("raw", "library")
P99_MS = 200  # timeout 1 s (3 x p99, rounded up), so the duration alarm's threshold is 800 ms


class RawContext:
    """What a hand-written loop creates once per stack and shares: the alarm action, the code, the period, the ARN."""

    def __init__(self, stack: Any, topic: Any) -> None:
        import aws_cdk as cdk
        from aws_cdk import aws_cloudwatch_actions as actions
        from aws_cdk import aws_lambda as lambda_

        self.stack = stack
        self.stack_name = "Bench"  # the stack's name, as a hand-written app knows it
        self.action = actions.SnsAction(topic)
        self.code = lambda_.Code.from_asset(str(CODE_DIR), exclude=["__pycache__"])
        self.period = cdk.Duration.minutes(5)
        self.timeout = cdk.Duration.seconds(1)
        self.scaling_role_arn = stack.format_arn(
            service="iam",
            region="",
            resource="role/aws-service-role/lambda.application-autoscaling.amazonaws.com",
            resource_name="AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency",
        )


def build_raw(ctx: RawContext, name: str) -> None:
    """One SYNC function's 12 resources by hand with aws-cdk-lib L2s: the library's template, less its Metadata."""
    from aws_cdk import aws_applicationautoscaling as appscaling
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from constructs import Construct

    scope = Construct(ctx.stack, name)
    log_group = logs.LogGroup(scope, "LogGroup", retention=logs.RetentionDays.ONE_MONTH)
    role = iam.Role(
        scope,
        "ServiceRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="Execution role: writes to its own log group only",
        inline_policies={
            "XRayTracing": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
                ]
            )
        },
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn])
    )
    fn = lambda_.Function(
        scope,
        "Function",
        code=ctx.code,
        handler="app.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        memory_size=1024,
        timeout=ctx.timeout,
        tracing=lambda_.Tracing.DISABLED,  # the role has the X-Ray statement: the mode is set below
        recursive_loop=lambda_.RecursiveLoop.TERMINATE,
        log_group=log_group,
        role=role,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.INFO,
    )
    cfn = fn.node.default_child
    cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")  # type: ignore[union-attr]
    # DependsOn the role's default policy, not the role its GetAtt implies (cfn-lint W3005), as the library
    policy = role.node.find_child("DefaultPolicy").node.default_child
    cfn.add_override("DependsOn", [ctx.stack.get_logical_id(policy)])  # type: ignore[union-attr,arg-type]
    alias = lambda_.Alias(
        scope, "LiveAlias", alias_name="live", version=fn.current_version, provisioned_concurrent_executions=1
    )
    target = appscaling.ScalableTarget(
        scope,
        "ProvisionedConcurrencyScaling",
        service_namespace=appscaling.ServiceNamespace.LAMBDA,
        scalable_dimension="lambda:function:ProvisionedConcurrency",
        resource_id=f"function:{fn.function_name}:live",
        min_capacity=1,
        max_capacity=10,
        role=iam.Role.from_role_arn(scope, "ScalingRole", ctx.scaling_role_arn),
    )
    target.node.add_dependency(alias)  # aws-cdk#7903: the alias must exist first
    target.scale_to_track_metric(
        "Utilization",
        target_value=0.7,
        predefined_metric=appscaling.PredefinedMetric.LAMBDA_PROVISIONED_CONCURRENCY_UTILIZATION,
    )
    where = f"{ctx.stack_name}/{name}"
    alarms = (
        ("ErrorsAlarm", fn.metric_errors(period=ctx.period, statistic="Sum"), 1, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD",
         f"{where}: the function raised errors in the last 5 minutes."),
        ("ThrottlesAlarm", fn.metric_throttles(period=ctx.period, statistic="Sum"), 1,
         "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", f"{where}: invocations were throttled (concurrency limit reached)."),
        ("DurationAlarm", fn.metric_duration(period=ctx.period, statistic="p99"), 800, "GREATER_THAN_THRESHOLD",
         f"{where}: p99 duration above 80% of the 1 s timeout: invocations are close to timing out."),
        ("SpilloverAlarm", alias.metric("ProvisionedConcurrencySpilloverInvocations", period=ctx.period,
                                        statistic="Sum"), 1, "GREATER_THAN_OR_EQUAL_TO_THRESHOLD",
         f"{where}: invocations spilled over provisioned concurrency onto cold starts; auto scaling reacts to "
         "3-minute averages, so raise min/max capacity."),
    )  # fmt: skip
    for id, metric, threshold, operator, description in alarms:
        alarm = cloudwatch.Alarm(
            scope,
            id,
            alarm_name=f"{ctx.stack_name}-{name}-{id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator[operator],
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(ctx.action)


def build_library(stack: Any, topic: Any, code: Any, p99: Any, name: str) -> Any:
    """One SYNC ProductionFunction; ``code`` and ``p99`` shared, as the hand-written side shares code and timeout."""
    from lambda_constructs import ProductionFunction

    return ProductionFunction(stack, name, code=code, handler="app.handler", p99=p99, alarm_topic=topic)


def app_of(kind: str, n: int, outdir: str, **app_props: Any) -> tuple[Any, float, float, int]:
    """The app with ``n`` functions of ``kind``: (app, construction wall s, construction CPU s, round trips)."""
    from lambda_constructs import ProductionFunction  # noqa: F401  (Node.js selection before jsii starts)

    counter = count_kernel_calls()
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns

    # one stack of N x 12 resources: more than CloudFormation's 500 from N = 42, so the check is off (never deployed)
    app = cdk.App(outdir=outdir, context={"@aws-cdk/core:stackResourceLimit": 0}, **app_props)
    stack = cdk.Stack(app, "Bench")
    topic = sns.Topic(stack, "Alarms")
    calls_before = counter["calls"]
    cpu0, t0 = _cpu(), time.perf_counter()
    if kind == "library":
        code = lambda_.Code.from_asset(str(CODE_DIR), exclude=["__pycache__"])
        p99 = cdk.Duration.millis(P99_MS)
        for i in range(n):
            build_library(stack, topic, code, p99, f"F{i:04d}")
    else:
        ctx = RawContext(stack, topic)
        for i in range(n):
            build_raw(ctx, f"F{i:04d}")
    return app, time.perf_counter() - t0, _cpu() - cpu0, counter["calls"] - calls_before


def _cpu() -> float:
    """CPU seconds of this process and its finished children so far (the jsii kernel is a live child: see run())."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime + _kernel_cpu()


def _kernel_cpu() -> float:
    """CPU seconds the live Node.js jsii kernel (a descendant of this process) has used, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                parents[int(entry.name)] = int(fields[1])
                cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, ValueError):
                continue
    me, total = os.getpid(), 0.0
    for pid, seconds in cpu.items():
        ancestor = parents.get(pid)
        while ancestor not in (None, 0, 1, me):
            ancestor = parents.get(ancestor)
        if ancestor == me:
            total += seconds
    return total


def child(kind: str, n: int, outdir: str) -> dict[str, Any]:
    start = time.perf_counter()
    app, construct_s, construct_cpu_s, calls = app_of(kind, n, outdir)
    t1 = time.perf_counter()
    app.synth()
    return {
        "kind": kind,
        "n": n,
        "construct_s": construct_s,
        "construct_cpu_s": construct_cpu_s,
        "synth_s": time.perf_counter() - t1,
        "process_s": time.perf_counter() - start,
        "calls_per_function": calls / n,
    }


def run(kind: str, n: int, baseline: Path | None = None) -> dict[str, Any]:
    """One run in its own process; ``baseline`` (the ``baseline`` side): the library side, importing the
    ``lambda_constructs`` package found in that directory (e.g. an earlier commit's, from ``git archive``)."""
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp) / "cdk.out"
        env = dict(os.environ)
        if kind == "baseline":
            assert baseline is not None
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(baseline), env.get("PYTHONPATH", "")) if p)
        side = "library" if kind == "baseline" else kind
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child", side, str(n), str(outdir)], capture_output=True, text=True, env=env
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # one child at a time: the delta is this run's tree
        if out.returncode:
            raise SystemExit(f"{kind} at N={n} failed ({out.returncode}):\n{out.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["kind"] = kind
        result["wall_s"] = wall
        result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        template = json.loads((outdir / "Bench.template.json").read_text())
        result["resources_per_function"] = (len(template["Resources"]) - 1) / n  # less the topic
        return result


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# ------------------------------------------------------------------ --trace: every round trip of one function


def _segments(trace: list[tuple[str, str]], marks: list[int]) -> list[list[tuple[str, str]]]:
    return [trace[a:b] for a, b in itertools.pairwise(marks)]


def trace_sync(warm: int = 2) -> dict[str, list[tuple[str, str]]]:
    """The round trips of the ``warm + 1``-th SYNC function in one stack, library and hand-written."""
    trace: list[tuple[str, str]] = []
    count_kernel_calls(trace)
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns

    out: dict[str, list[tuple[str, str]]] = {}
    for kind in SIDES:
        app = cdk.App()
        stack = cdk.Stack(app, "Bench")
        topic = sns.Topic(stack, "Alarms")
        ctx = RawContext(stack, topic) if kind == "raw" else None
        code = lambda_.Code.from_asset(str(CODE_DIR), exclude=["__pycache__"])
        p99 = cdk.Duration.millis(P99_MS)
        marks = []
        for i in range(warm + 1):
            marks.append(len(trace))
            if ctx is not None:
                build_raw(ctx, f"F{i:04d}")
            else:
                build_library(stack, topic, code, p99, f"F{i:04d}")
        marks.append(len(trace))
        out[kind] = _segments(trace, marks)[-1]
    return out


def trace_worker(warm: int = 2) -> dict[str, list[tuple[str, str]]]:
    """The round trips of the ``warm + 1``-th queue worker: through ``FunctionFleet``, and ``fleet_spec.build_raw``."""
    trace: list[tuple[str, str]] = []
    count_kernel_calls(trace)
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sns as sns

    from lambda_constructs import FunctionFleet, Invocation, ProductionFunction, QueueConsumer

    out: dict[str, list[tuple[str, str]]] = {}
    # hand-written: one nested stack of warm + 1 workers; each worker starts with its LogGroup
    app = cdk.App()
    stack = cdk.Stack(app, "Bench")
    topic = sns.Topic(stack, "Alarms")
    start = len(trace)
    fleet_spec.build_raw(stack, topic, fleet_spec.fleet_spec(warm + 1))
    raw = trace[start:]
    marks = [i for i, (kind, where) in enumerate(raw) if kind == "create" and where.startswith("aws_logs.LogGroup")]
    out["raw"] = raw[marks[-1] :]
    # the library: fleet.add, the benchmark's worker
    app = cdk.App()
    stack = cdk.Stack(app, "Bench")
    topic = sns.Topic(stack, "Alarms")
    fleet = FunctionFleet(stack, "Workers", max_resources_per_stack=fleet_spec.PER_STACK)
    code = lambda_.Code.from_asset(str(CODE_DIR), exclude=["__pycache__"])

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

    marks = []
    for i in range(warm + 1):
        marks.append(len(trace))
        fleet.add(f"W{i:04d}", worker)
    marks.append(len(trace))
    out["library"] = _segments(trace, marks)[-1]
    return out


def print_trace(title: str, sides: dict[str, list[tuple[str, str]]]) -> None:
    print(f"## {title}: library {len(sides['library'])} round trips, hand-written {len(sides['raw'])}")
    for kind in ("library", "raw"):
        print(f"### {kind}")
        for i, (request, where) in enumerate(sides[kind], 1):
            print(f"{i:>3} {request:8} {where}")
    lib, raw = collections.Counter(sides["library"]), collections.Counter(sides["raw"])
    print("### library minus hand-written (request, where: count)")
    for key in sorted(set(lib) | set(raw)):
        if lib[key] != raw[key]:
            print(f"  {lib[key] - raw[key]:+d} {key[0]:8} {key[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="SYNC functions per stack (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, interleaved (default 3)")
    parser.add_argument("--sides", nargs="+", choices=(*SIDES, "baseline"), help="default raw library (+ baseline)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a directory holding another lambda_constructs package (git archive COMMIT lambda_constructs | tar -x "
        "-C DIR): adds the side 'baseline', the library side run with it",
    )
    parser.add_argument("--trace", action="store_true", help="list every round trip of one function and one worker")
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, outdir = args.child
        print(json.dumps(child(kind, int(n), outdir)))
        return
    if args.trace:
        from lambda_constructs import ProductionFunction  # noqa: F401  (Node.js selection before jsii starts)

        print_trace("one SYNC function (the third in its stack)", trace_sync())
        print_trace("one queue worker (the third; library through FunctionFleet)", trace_worker())
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}; N = {args.n} SYNC functions in one stack, "
        f"{args.repeat} interleaved run(s) per side; min / median"
    )
    sides: list[str] = args.sides or [*SIDES, *(["baseline"] if args.baseline else [])]
    if "baseline" in sides and args.baseline is None:
        raise SystemExit("the baseline side needs --baseline DIR")
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in sides}
    for repeat in range(args.repeat):
        order = sides[repeat % len(sides) :] + sides[: repeat % len(sides)]
        for kind in order:
            runs[kind].append(run(kind, args.n, args.baseline))
            r = runs[kind][-1]
            print(f"  ({kind}: cpu {r['cpu_s']:.1f} s, construct cpu {r['construct_cpu_s']:.2f} s)", file=sys.stderr)
    print(
        f"{'side':8} {'process cpu s':>13} {'wall s':>11} {'constr cpu ms/fn':>16} {'constr ms/fn':>13} "
        f"{'synth s':>11} {'calls/fn':>8} {'res/fn':>6}"
    )
    med: dict[str, dict[str, float]] = {}
    for kind in sides:
        rs = runs[kind]
        keys = ("cpu_s", "wall_s", "construct_cpu_s", "construct_s", "synth_s")
        m = med[kind] = {key: _median([r[key] for r in rs]) for key in keys}
        lo = {key: min(r[key] for r in rs) for key in m}
        n = args.n
        print(
            f"{kind:8} {lo['cpu_s']:>6.1f}/{m['cpu_s']:<6.1f} {lo['wall_s']:>5.1f}/{m['wall_s']:<5.1f} "
            f"{1000 * lo['construct_cpu_s'] / n:>7.1f}/{1000 * m['construct_cpu_s'] / n:<8.1f} "
            f"{1000 * lo['construct_s'] / n:>6.1f}/{1000 * m['construct_s'] / n:<6.1f} "
            f"{lo['synth_s']:>5.1f}/{m['synth_s']:<5.1f} {rs[0]['calls_per_function']:>8.1f} "
            f"{rs[0]['resources_per_function']:>6.1f}"
        )
    for x, y in (("library", "raw"), ("baseline", "raw"), ("library", "baseline")):
        if x in med and y in med:
            a, b = med[x], med[y]
            print(
                f"{x}/{y} (medians): construction cpu {a['construct_cpu_s'] / b['construct_cpu_s']:.2f}, "
                f"construction wall {a['construct_s'] / b['construct_s']:.2f}, "
                f"process cpu {a['cpu_s'] / b['cpu_s']:.2f}, wall {a['wall_s'] / b['wall_s']:.2f}"
            )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
