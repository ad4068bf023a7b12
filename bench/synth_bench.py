"""Benchmark: synthesis time of N ProductionFunctions vs. the same resources in raw aws-cdk-lib L2.

Both variants are built and synthesized in one process, alternating, so JIT/kernel warm-up
hits both alike. Prints the median of each and their ratio. Run: `make bench` or
`python bench/synth_bench.py --functions 20 --rounds 5`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from lambda_constructs import ProductionFunction, ProvisionedConcurrency

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return event\n")


def ours(stack: cdk.Stack, n: int) -> None:
    for i in range(n):
        ProductionFunction(
            stack,
            f"F{i}",
            code=CODE,
            handler="index.handler",
            p99=cdk.Duration.millis(200),
            provisioned_concurrency=ProvisionedConcurrency(1, 10),
        )


def raw(stack: cdk.Stack, n: int) -> None:
    """The same resources by hand: function, log group, alias with PC, scaling, four alarms."""
    for i in range(n):
        log_group = logs.LogGroup(stack, f"Logs{i}", retention=logs.RetentionDays.ONE_MONTH)
        fn = lambda_.Function(
            stack,
            f"F{i}",
            code=CODE,
            handler="index.handler",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            memory_size=1024,
            timeout=cdk.Duration.seconds(1),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
        )
        alias = lambda_.Alias(
            stack, f"Live{i}", alias_name="live", version=fn.current_version, provisioned_concurrent_executions=1
        )
        alias.add_auto_scaling(min_capacity=1, max_capacity=10).scale_on_utilization(utilization_target=0.7)
        for name, metric, threshold in (
            ("Errors", fn.metric_errors(), 1),
            ("Throttles", fn.metric_throttles(), 1),
            ("Duration", fn.metric_duration(statistic="p99"), 800),
            ("Spill", alias.metric("ProvisionedConcurrencySpilloverInvocations"), 1),
        ):
            cloudwatch.Alarm(
                stack,
                f"{name}{i}",
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
    _ = appscaling  # imported for parity of module loading


def timed(build: object, n: int) -> float:
    start = time.perf_counter()
    app = cdk.App()
    build(cdk.Stack(app, "Bench"), n)  # type: ignore[operator]
    app.synth()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    # one stack holds at most 500 resources; a SYNC ProductionFunction makes 12, so <= 40 per stack
    parser.add_argument("--functions", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    timed(raw, 1), timed(ours, 1)  # warm up the jsii kernel
    ours_s, raw_s = [], []
    for _ in range(args.rounds):
        raw_s.append(timed(raw, args.functions))
        ours_s.append(timed(ours, args.functions))
    o, r = statistics.median(ours_s), statistics.median(raw_s)
    print(f"functions per app:        {args.functions}")
    print(f"rounds:                   {args.rounds}")
    print(f"ProductionFunction synth: {o:.2f} s median ({o / args.functions * 1000:.0f} ms per function)")
    print(f"raw L2 synth:             {r:.2f} s median ({r / args.functions * 1000:.0f} ms per function)")
    print(f"ratio ours / raw:         {o / r:.2f}")


if __name__ == "__main__":
    main()
