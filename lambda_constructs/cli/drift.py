"""``lambda-constructs drift``: the deployed configuration (cdk.out) against fresh measurements.

Two sources of measurements: a directory of sizing files (``measure --out``), or, with
``--cloudwatch`` (the ops extra, your normal AWS credentials), a fresh ``measure`` of every function,
its deployed name looked up in CloudFormation. Exit 0 when nothing drifted, 1 when a threshold was
crossed (a table, or JSON with ``--json``), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lambda_constructs.cli.errors import Findings
from lambda_constructs.core.errors import ConfigurationError

EXIT_DRIFT = 1


class DriftFound(Findings):
    """Raised with the output when a threshold was crossed: main prints it and exits 1."""


def add_parser(commands: Any, user_error: type[Exception]) -> None:
    drift = commands.add_parser(
        "drift",
        help="compare what a cdk.out deploys with fresh measurements; exit 1 on drift",
        description="Match sizing files (or, with --cloudwatch, a fresh measurement of each function) to the "
        "functions of a cloud assembly and exit 1 when: p99 > 80%% of the timeout; the timeout > 5 x p99; max "
        "memory used < 30%% or > 90%% of memory; provisioned concurrency utilization < 0.3 or any spillover; "
        "the cold-start rate or p99 init duration moved > 50%% from the measurement the function was built from.",
    )
    drift.add_argument("assembly", metavar="CDK_OUT", help="cloud assembly directory")
    drift.add_argument("sizing", metavar="SIZING_DIR", nargs="?", help="directory of sizing files (*.json)")
    drift.add_argument("--json", action="store_true", help="print JSON instead of the table")
    drift.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a threshold, e.g. p99_timeout_fraction=0.7 (repeatable; names in docs/operations.md)",
    )
    drift.add_argument(
        "--cloudwatch", action="store_true", help="measure every function now (needs the ops extra and AWS access)"
    )
    drift.add_argument("--days", type=float, default=14.0, help="--cloudwatch window in days (default 14)")
    drift.add_argument("--region", default=None, help="--cloudwatch AWS region (default: your configuration)")
    drift.set_defaults(run=lambda args: run(args, user_error))


def run(args: argparse.Namespace, user_error: type[Exception]) -> str:
    from lambda_constructs.core.drift import (
        DriftRow,
        Thresholds,
        format_json,
        format_table,
        function_name,
        judge,
        match,
    )
    from lambda_constructs.core.report import AssemblyError, build_report, load_templates

    if bool(args.sizing) == bool(args.cloudwatch):
        raise user_error("give SIZING_DIR or --cloudwatch (one of them)")
    if not 0 < args.days <= 455:
        raise user_error(f"--days {args.days:g}: allowed 0 < days <= 455 (CloudWatch keeps metrics 15 months)")
    overrides: dict[str, str] = {}
    for item in args.threshold:
        name, sep, value = item.partition("=")
        if not sep:
            raise user_error(f"--threshold {item!r}: expected NAME=VALUE")
        overrides[name.strip()] = value.strip()
    thresholds = Thresholds.with_overrides(overrides)
    try:
        templates = load_templates(args.assembly)
        reports = build_report(args.assembly, templates=templates)
    except AssemblyError as exc:
        raise user_error(str(exc)) from None
    if not reports:
        raise user_error(f"{args.assembly} has no Lambda functions")
    functions = [(r, templates[r.stack]["Resources"][r.logical_id]) for r in reports]
    unmatched: list[Any] = []
    if args.cloudwatch:  # measured by deployed name: each measurement belongs to its function already
        measured = _measure_all(functions, args, user_error)
        pairs = [(fn, measured.get(id(fn))) for fn, _ in functions]
    else:
        pairs, unmatched = match(functions, load_sizing_dir(Path(args.sizing), user_error))
    rows = []
    for (fn, resource), (_, sizing) in zip(functions, pairs, strict=True):
        if sizing is None:
            rows.append(DriftRow(fn.stack, function_name(fn), fn.path, fn.timeout_s, fn.memory_mb))
            continue
        meta = (resource.get("Metadata") or {}).get("lambda-constructs", {})
        baseline = meta.get("sizing") if isinstance(meta, dict) and isinstance(meta.get("sizing"), dict) else None
        rows.append(judge(fn, sizing, baseline, thresholds))
    from lambda_constructs.core.table import terminal_width

    output = format_json(rows, unmatched, thresholds) if args.json else format_table(rows, unmatched, terminal_width())
    if any(r.findings for r in rows):
        raise DriftFound(output)
    return output


def load_sizing_dir(directory: Path, user_error: type[Exception]) -> list[Any]:
    from lambda_constructs.core.sizing import Sizing

    if not directory.is_dir():
        raise user_error(f"SIZING_DIR {directory} is not a directory")
    files = sorted(directory.rglob("*.json"))
    if not files:
        raise user_error(
            f"{directory} holds no sizing files (*.json); write them with 'lambda-constructs measure --out'"
        )
    sizings = []
    for file in files:
        try:
            sizings.append(Sizing.from_file(file))
        except ConfigurationError as exc:
            raise user_error(f"{file}: {exc}") from None
    return sizings


def _measure_all(
    functions: list[tuple[Any, Any]], args: argparse.Namespace, user_error: type[Exception]
) -> dict[int, Any]:
    from lambda_constructs.cli.ops import MeasureError, log_source, measure

    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise user_error("drift --cloudwatch needs boto3: pip install 'lambda-constructs[ops]'") from None
    cfn = boto3.client("cloudformation", region_name=args.region)
    cloudwatch = boto3.client("cloudwatch", region_name=args.region)
    lambda_client = boto3.client("lambda", region_name=args.region)
    logs = boto3.client("logs", region_name=args.region)
    sizings: dict[int, Any] = {}
    for fn, _ in functions:
        try:
            name = physical_name(cfn, fn.stack, fn.logical_id)
            target = f"{name}:{fn.alias}" if fn.alias else name
            sizing = measure(cloudwatch, target, days=args.days, logs=logs, source=log_source(lambda_client, name))
        except MeasureError as exc:
            print(f"lambda-constructs drift: not measured: {exc}", file=sys.stderr)  # stdout stays the table or JSON
            continue
        except (BotoCoreError, ClientError) as exc:
            raise user_error(f"{fn.stack}/{fn.logical_id}: {exc}") from None
        sizings[id(fn)] = sizing
    return sizings


def physical_name(cfn: Any, stack: str, logical_id: str) -> str:
    """The deployed name of a resource: CloudFormation's answer, through nested stacks (``parent/child``)."""
    parts = stack.split("/")
    stack_id = parts[0]
    for nested in parts[1:]:
        stack_id = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=nested)["StackResourceDetail"][
            "PhysicalResourceId"
        ]
    detail = cfn.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_id)["StackResourceDetail"]
    return str(detail["PhysicalResourceId"])
