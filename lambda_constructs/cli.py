"""The ``lambda-constructs`` command: report, right-size, measure.

User errors (bad arguments, unreadable files, too few samples) print one line to stderr and
exit 2; there is never a traceback for them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import ConfigurationError

EXIT_USAGE = 2


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _report(args: argparse.Namespace) -> str:
    from .report import AssemblyError, build_report, format_json, format_markdown, format_table

    try:
        reports = build_report(args.assembly, invocations=args.invocations_per_month)
    except AssemblyError as exc:
        raise UserError(str(exc)) from None
    if args.format == "json":
        return format_json(reports)
    if args.format == "markdown":
        return format_markdown(reports)
    return format_table(reports)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lambda-constructs",
        description="Close the loop on production Lambda sizing: measure p99 in CloudWatch, "
        "right-size memory from Power Tuning results, and report what a cdk.out deploys.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    report = commands.add_parser(
        "report",
        help="describe every Lambda function in a synthesized cloud assembly",
        description="Read cdk.out and print, per function: memory, architecture, timeout and the p99 it "
        "came from, alias, provisioned concurrency, reserved concurrency, failure path, SQS "
        "visibility timeout, alarm count and (with --invocations-per-month) a monthly cost estimate.",
    )
    report.add_argument("assembly", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)")
    report.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format (default: table; markdown for CI comments)",
    )
    report.add_argument(
        "--invocations-per-month",
        type=_positive_float,
        default=None,
        metavar="N",
        help="estimate monthly cost for N invocations of each function",
    )
    report.set_defaults(run=_report)
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        output = args.run(args)
    except (UserError, ConfigurationError) as exc:
        print(f"lambda-constructs {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
