"""The ``lambda-constructs`` command: report, right-size, measure, new.

Conventions, the same for every command (tests/test_cli.py holds each command to them):

- exit 0 on success; 2 for bad usage (an argument or input file the user must change: argparse's
  own errors, `UserError`, [`ConfigurationError`][lambda_constructs.core.errors.ConfigurationError]); 1 for a failure
  at run time (`CommandFailed`: AWS, credentials, reading or writing files). Both print one
  line to stderr, ``lambda-constructs COMMAND: error: ...``, never a traceback
  (``LAMBDA_CONSTRUCTS_DEBUG=1`` re-raises);
- ``--json`` prints one JSON document on stdout instead of text (an error is then a JSON object on
  stderr); ``--version`` and ``--help`` work on every command;
- tables fit the terminal's width when stdout is a terminal.

A new command is one function taking the parsed arguments and returning text or a `Result`,
registered in `build_parser()` with ``commands.add_parser(...)`` and ``set_defaults(run=...)``:
it gets ``--json`` and ``--version`` from the shared parent parser.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambda_constructs.cli.errors import EXIT_FAILURE, EXIT_USAGE, CommandFailed, Findings, UserError
from lambda_constructs.core.errors import ConfigurationError
from lambda_constructs.core.sizing import STRATEGIES
from lambda_constructs.core.table import terminal_width

__all__ = [
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "CommandFailed",
    "Result",
    "UserError",
    "build_parser",
    "main",
    "terminal_width",
]

MAX_DAYS = 455  # CloudWatch metric retention: 15 months
PLOT_FORMATS = (".png", ".svg", ".pdf")
_FUNCTION_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$")


@dataclass(frozen=True)
class Result:
    """What a command produced: ``text`` for people, ``data`` (JSON-serializable) for ``--json``."""

    text: str
    data: Any


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _report(args: argparse.Namespace) -> Result:
    from lambda_constructs.checks import deploy
    from lambda_constructs.core.pricing import DEFAULT_PRICES, Prices
    from lambda_constructs.core.report import (
        AssemblyError,
        AssemblyUnreadable,
        build_report,
        format_markdown,
        format_stacks,
        format_table,
        load_templates,
        report_data,
        stack_regions,
        stack_sizes,
    )

    prices = DEFAULT_PRICES
    if args.prices:
        from pathlib import Path

        try:
            prices = Prices.from_dict(json.loads(Path(args.prices).read_text(encoding="utf-8")))
        except OSError as exc:
            raise CommandFailed(f"cannot read {args.prices}: {exc.strerror or exc}") from None
        except ValueError as exc:  # JSON and UTF-8 errors are ValueErrors too
            raise UserError(f"{args.prices}: {exc}") from None
    try:
        templates = load_templates(args.assembly)
        reports = build_report(args.assembly, templates=templates)
        sizes = stack_sizes(templates)
        regions = stack_regions(args.assembly)
    except AssemblyUnreadable as exc:  # I/O
        raise CommandFailed(str(exc)) from None
    except AssemblyError as exc:  # its content: not a cloud assembly
        raise UserError(str(exc)) from None
    if not reports:
        raise UserError(f"{args.assembly} has no Lambda functions (stacks: {', '.join(sizes) or 'none'})")
    if args.invocations_per_month is not None or args.sizing:
        _price(args, reports, templates, regions, prices if args.prices else None)
    data = report_data(reports, sizes)
    entries, findings = _deploy_contract(args, templates)
    data["concurrency"] = deploy.ledger_data(entries)
    data["deploy_findings"] = deploy.findings_data(findings)
    width = terminal_width()

    def found(width: int | None) -> str:
        listed = deploy.format_findings(findings, width=width)
        return f"\n\ndeploy contract: {len(findings)} finding(s)\n{listed}" if findings else ""

    if args.format == "json":
        return Result(json.dumps(data, indent=2, sort_keys=True), data)
    if args.format == "markdown":
        ledger = deploy.format_ledger(entries, markdown=True)
        markdown = format_markdown(reports) + "\n\n" + format_stacks(sizes, markdown=True)
        return Result(markdown + "\n\n" + ledger + found(None), data)
    text = format_table(reports, width=width) + "\n\n" + format_stacks(sizes)
    return Result(text + "\n\n" + deploy.format_ledger(entries, width=width) + found(width), data)


def _deploy_contract(args: argparse.Namespace, templates: Any) -> tuple[list[Any], list[Any]]:
    """The account concurrency ledger and the deploy-contract findings of the whole assembly."""
    from lambda_constructs.checks import deploy

    concurrency = args.account_concurrency
    if concurrency is None:
        concurrency = _context_concurrency(args.assembly)
    envs = deploy.stack_environments(args.assembly)
    entries = deploy.ledger(templates, envs, concurrency)
    return entries, deploy.evaluate_app(templates, envs, concurrency)


def _context_concurrency(assembly: str) -> int:
    """The context key ``lambda-constructs:account-concurrency`` of the app that wrote the assembly.

    Read from ``cdk.context.json`` and ``cdk.json`` (its ``context``) in the assembly's parent directory,
    where ``cdk synth`` runs; 1,000 (Lambda's default quota) when neither sets it.
    """
    from pathlib import Path

    from lambda_constructs.checks import deploy

    app_dir = Path(assembly).resolve().parent
    for name, nested in (("cdk.context.json", False), ("cdk.json", True)):
        try:
            document = json.loads((app_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        context = document.get("context", {}) if nested and isinstance(document, dict) else document
        if isinstance(context, dict) and deploy.ACCOUNT_CONCURRENCY_CONTEXT in context:
            value = context[deploy.ACCOUNT_CONCURRENCY_CONTEXT]
            number = deploy.concurrency_value(value)
            if number is None:
                raise UserError(
                    f"{app_dir / name}: {deploy.ACCOUNT_CONCURRENCY_CONTEXT} is {value!r}; "
                    f"expected an integer >= {deploy.UNRESERVED_MINIMUM} (the account's Lambda concurrency)"
                )
            return number
    return deploy.DEFAULT_ACCOUNT_CONCURRENCY


def _price(args: argparse.Namespace, reports: list[Any], templates: Any, regions: Any, prices: Any) -> None:
    """Monthly cost per function: its measured traffic (--sizing) or --invocations-per-month, its region."""
    from pathlib import Path

    from lambda_constructs.cli.cost import PriceListError, price_reports
    from lambda_constructs.cli.drift import load_sizing_dir

    sizings = load_sizing_dir(Path(args.sizing), UserError) if args.sizing else []
    client = None
    if args.price_list:
        try:
            import boto3
        except ImportError:
            raise UserError("--price-list needs boto3: pip install 'lambda-constructs[ops]'") from None
        client = boto3.client("pricing", region_name="us-east-1")  # the Price List API's endpoint
    try:
        price_reports(
            reports,
            templates,
            regions,
            sizings=sizings,
            invocations=args.invocations_per_month,
            prices=prices,
            region=args.region,
            price_list=client,
        )
    except PriceListError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:
        if client is not None and type(exc).__module__.startswith("botocore"):
            raise UserError(f"Price List API: {exc}") from None
        raise


def _right_size(args: argparse.Namespace) -> Result:
    from dataclasses import asdict

    from lambda_constructs.cli.ops import format_right_size, plot, right_size

    if args.plot and not str(args.plot).lower().endswith(PLOT_FORMATS):
        raise UserError(f"--plot {args.plot}: allowed file types {', '.join(PLOT_FORMATS)}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UserError("--plot needs matplotlib: pip install 'lambda-constructs[ops]'") from None
    from pathlib import Path

    try:
        Path(args.power_tuning).stat()
    except OSError as exc:  # I/O; a file that is not Power Tuning output is a ConfigurationError (usage)
        raise CommandFailed(f"cannot read {args.power_tuning}: {exc.strerror or exc}") from None
    rows, chosen = right_size(args.power_tuning, strategy=args.strategy, weight=args.weight)
    text = format_right_size(rows, chosen, args.strategy, width=terminal_width())
    if args.plot:
        try:
            plot(rows, chosen, args.plot)
        except OSError as exc:
            raise CommandFailed(f"cannot write {args.plot}: {exc.strerror or exc}") from None
        text += f"\nplot written to {args.plot}"
    data = {
        "strategy": args.strategy,
        "weight": args.weight,
        "memory_mb": chosen.memory_mb,
        "rows": [asdict(r) for r in rows],
        "plot": args.plot,
    }
    return Result(text, data)


def _measure(args: argparse.Namespace) -> Result:
    from pathlib import Path

    if not _FUNCTION_REF.match(args.function):
        raise UserError(f"FUNCTION[:ALIAS] {args.function!r} is invalid; allowed: a function name, optionally :ALIAS")
    from lambda_constructs.cli.ops import MeasureError, measure

    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise UserError("measure needs boto3: pip install 'lambda-constructs[ops]'") from None
    try:
        client = boto3.client("cloudwatch", region_name=args.region)
        logs, source = None, None
        if not args.no_logs:  # REPORT records: max memory used, cold-start rate, init duration
            from lambda_constructs.cli.ops import log_source

            source = log_source(boto3.client("lambda", region_name=args.region), args.function.partition(":")[0])
            logs = boto3.client("logs", region_name=args.region)
        sizing = measure(client, args.function, days=args.days, logs=logs, source=source)
    except MeasureError as exc:
        raise CommandFailed(str(exc)) from None
    except (BotoCoreError, ClientError) as exc:  # credentials, permissions, network, region
        raise CommandFailed(f"CloudWatch: {exc}") from None
    data = sizing.to_dict()
    text = json.dumps(data, indent=2)
    if args.out:
        try:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(text + "\n")
        except OSError as exc:
            raise CommandFailed(f"cannot write {args.out}: {exc.strerror or exc}") from None
        return Result(
            f"{text}\nwritten to {args.out}: use ProductionFunction(..., sizing=Sizing.from_file({args.out!r}))",
            {**data, "written_to": args.out},
        )
    return Result(text, data)


def _new(args: argparse.Namespace) -> Result:
    from pathlib import Path

    from lambda_constructs import __version__
    from lambda_constructs.cli.new import generate, local_source, requirement, stack_name

    directory = Path(args.dir or args.service)
    written = generate(args.service, directory)
    line = requirement()
    local = local_source(line)
    text = (
        f"created {args.service} in {directory}/ ({len(written)} files): stack {stack_name(args.service)}, "
        f"an HTTP API and a queue worker.\nnext: cd {directory} && git init && make snapshot && make ci "
        "(its README says more)"
    )
    if local is not None:
        text += (
            f"\nnote: requirements.txt installs lambda-constructs from {local}, a path on this machine: the "
            "service's CI and Dependabot cannot reach it. Before pushing, replace that line with "
            f"lambda-constructs=={__version__} (or your index's pin)"
        )
    data = {
        "service": args.service,
        "stack": stack_name(args.service),
        "directory": str(directory),
        "files": sorted(str(p.relative_to(directory)) for p in written),
        "requirement": line,
        "local_source": local,
    }
    return Result(text, data)


class _Commands(argparse._SubParsersAction):
    """``add_parser`` with the options every command shares (``--json``, ``--version``)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("parents", [_common()])
        kwargs.setdefault("conflict_handler", "resolve")  # a command may define its own --json
        return super().add_parser(name, **kwargs)


def _version() -> str:
    from lambda_constructs import __version__

    return f"lambda-constructs {__version__}"


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout instead of text")
    common.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lambda-constructs",
        description="Close the loop on production Lambda sizing: measure p99 in CloudWatch, "
        "right-size memory from Power Tuning results, report what a cdk.out deploys, and start a service.",
        epilog="Exit status: 0 success, 1 a failure at run time (AWS, credentials, files), 2 bad usage.",
    )
    parser.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    parser.register("action", "parsers", _Commands)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    report = commands.add_parser(
        "report",
        help="describe every Lambda function in a synthesized cloud assembly",
        description="Read cdk.out and print, per function: memory, architecture, timeout and the p99 it "
        "came from, alias, provisioned concurrency, reserved concurrency, failure path, SQS "
        "visibility timeout, alarm count and (with --invocations-per-month) a monthly cost estimate; "
        "then the resources of every stack against CloudFormation's 500, the account concurrency ledger "
        "(reserved and provisioned concurrency per account and region against the account's) and the "
        "deploy-contract findings (what AWS would refuse at deploy).",
    )
    report.add_argument("assembly", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)")
    report.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format (default: table; markdown for CI comments; json is the same as --json)",
    )
    report.add_argument(
        "--invocations-per-month",
        type=_non_negative_float,
        default=None,
        metavar="N",
        help="estimate monthly cost for N invocations of each function: duration at the p99 on the function's "
        "architecture + requests + provisioned concurrency at min capacity",
    )
    report.add_argument(
        "--prices",
        metavar="PRICES.json",
        default=None,
        help='override the price table, e.g. {"arm64": {"duration_gb_s": 0.0000133334}, "requests_per_million": 0.2} '
        "(default: us-east-1 list prices, lambda_constructs/core/pricing.py)",
    )
    report.add_argument(
        "--sizing",
        metavar="SIZING_DIR",
        default=None,
        help="price each function from its own measured traffic (sizing files written by measure); "
        "--invocations-per-month is then the figure for functions without one",
    )
    report.add_argument(
        "--region",
        default=None,
        help="price every function in this region (default: each stack's region from the manifest, else us-east-1)",
    )
    report.add_argument(
        "--price-list",
        action="store_true",
        help="read the region's duration, request and provisioned prices from the AWS Price List API "
        "(ops extra, credentials with pricing:GetProducts)",
    )
    report.add_argument(
        "--account-concurrency",
        type=_account_concurrency,
        default=None,
        metavar="N",
        help="the account's Lambda concurrency for the concurrency ledger (default: the context key "
        "lambda-constructs:account-concurrency in cdk.context.json / cdk.json next to the assembly, else 1000)",
    )
    report.set_defaults(run=_report)

    size = commands.add_parser(
        "right-size",
        help="pick memory from AWS Lambda Power Tuning output, with costs per architecture",
        description="Print a row per memory size (average duration, duration cost per 1M invocations on arm64 "
        "and x86_64, which strategies pick it) and the pick of --strategy, exactly as "
        "Memory.from_power_tuning picks it.",
    )
    size.add_argument(
        "power_tuning",
        metavar="POWER_TUNING.json",
        help="the Power Tuning state machine's output (with its stats: includeOutputResults)",
    )
    size.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="cost",
        help="cost: the cheapest size; speed: the fastest; balanced: both, weighed by --weight (default: cost)",
    )
    size.add_argument(
        "--weight",
        type=float,
        default=0.5,
        help="balanced strategy weight, 0..1 (1 = all cost, 0 = all speed; default 0.5)",
    )
    size.add_argument(
        "--plot", metavar="PNG", help="write a cost/duration plot with the pick marked (.png, .svg or .pdf)"
    )
    size.set_defaults(run=_right_size)

    meas = commands.add_parser(
        "measure",
        help="measure a function's p99 in CloudWatch and write a sizing file",
        description="Read AWS/Lambda Duration p99, p99.9 and average, Invocations (and the monthly rate), "
        "Throttles, ConcurrentExecutions max and (with :ALIAS) ProvisionedConcurrencyUtilization max and "
        "spillover over the window, plus max memory used, cold-start rate and p99 init duration from the "
        "REPORT records (Logs Insights), using your normal AWS credential chain. Fewer than 1,000 "
        "invocations is an error, not a number.",
    )
    meas.add_argument(
        "function", metavar="FUNCTION[:ALIAS]", help="the function's name, optionally with its alias (orders:live)"
    )
    meas.add_argument("--days", type=_days, default=14.0, help="window in days, up to 455 (default 14)")
    meas.add_argument("--region", default=None, help="AWS region (default: your configuration)")
    meas.add_argument("--out", metavar="sizing/NAME.json", help="write the sizing file here (default: print only)")
    meas.add_argument(
        "--no-logs",
        action="store_true",
        help="skip the Logs Insights query over REPORT records (max memory used, cold-start rate, init duration)",
    )
    meas.set_defaults(run=_measure)

    new = commands.add_parser(
        "new",
        help="create a service repository with production defaults (like cdk init, with the library's defaults)",
        description="Write app.py (a ProductionFunction behind an HttpEndpoint and a QueueConsumer worker), "
        "typed Powertools handlers, sample events, tests (template assertions, handlers with bad input, a "
        "syrupy snapshot), the rule pack enabled, requirements files pinned to this library, a Makefile "
        "(make snapshot / test / synth / ci / deploy), cdk.json, a CI workflow and Dependabot.",
    )
    new.add_argument("service", metavar="SERVICE_NAME", help="e.g. orders-api (a-z, 0-9, '-')")
    new.add_argument("--dir", default=None, help="target directory (default: ./SERVICE_NAME); new or empty")
    new.set_defaults(run=_new)

    from lambda_constructs.cli.drift import add_parser as add_drift

    add_drift(commands, UserError)
    from lambda_constructs.cli.diff import add_parser as add_diff

    add_diff(commands)
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return value


def _account_concurrency(text: str) -> int:
    from lambda_constructs.checks import deploy

    number = deploy.concurrency_value(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"expected an integer >= {deploy.UNRESERVED_MINIMUM}, got {text!r}")
    return number


def _non_negative_float(text: str) -> float:
    """A count that may be 0 (an idle service: what it costs with no traffic at all)."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return _positive_float(text)


def _days(text: str) -> float:
    value = _positive_float(text)
    if value > MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is above {MAX_DAYS}: CloudWatch keeps metrics for 15 months (455 days)"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command: 0, or one line on stderr and 2 (bad usage) or 1 (failure at run time)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        output = args.run(args)
    except Findings as found:  # drift, a change that loses data: the table (or JSON) on stdout, exit 1
        print(found.output)
        return EXIT_FAILURE
    except (UserError, ConfigurationError) as exc:
        return _fail(args, str(exc), EXIT_USAGE)
    except CommandFailed as exc:
        return _fail(args, str(exc), EXIT_FAILURE)
    except Exception as exc:  # a file or value no check foresaw: still one line (LAMBDA_CONSTRUCTS_DEBUG=1 raises)
        if os.environ.get("LAMBDA_CONSTRUCTS_DEBUG"):
            raise
        return _fail(args, f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    if getattr(args, "json", False) and not (isinstance(output, str) and _is_json(output)):
        data = output.data if isinstance(output, Result) else {"output": output}
        text = json.dumps(data, indent=2, sort_keys=True, default=str)
    else:
        text = output.text if isinstance(output, Result) else output
    if text:
        try:
            print(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `report | head`: the reader left; that is not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return 0


def _is_json(text: str) -> bool:
    """A command that prints its own JSON for --json (drift): printed as it is."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    line = " ".join(message.split("\n")) if isinstance(message, str) else str(message)
    line = re.sub(r"\s+", " ", line).strip()
    if getattr(args, "json", False):
        error = {"command": args.command, "error": line, "exit_code": code}
        print(json.dumps(error, sort_keys=True), file=sys.stderr)
    else:
        print(f"lambda-constructs {args.command}: error: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
