"""``lambda-constructs diff OLD_CDK_OUT NEW_CDK_OUT``: what a deploy would destroy, before it does.

Exit 0 when nothing unacknowledged loses data or traffic (retained, acknowledged and harmless
changes are listed), 1 when something would (the report is on stdout), 2 for bad usage: a path
that is not a cloud assembly, a manifest or template that is not JSON, a malformed acknowledgement.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lambda_constructs.cli.errors import Findings, UserError


def add_parser(commands: Any) -> None:
    from lambda_constructs.core.changes import ACK_FILE

    diff = commands.add_parser(
        "diff",
        help="list the stateful and traffic-serving resources a deploy would replace or delete; exit 1 on loss",
        description="Compare the cloud assembly deployed now (OLD_CDK_OUT, e.g. cdk synth of the base branch) "
        "with the one about to be deployed (NEW_CDK_OUT) and list every SQS queue, S3 bucket, DynamoDB table, "
        "Kinesis stream, log group, function with provisioned concurrency, alias, event source mapping, "
        "Function URL and API Gateway API or stage that would be replaced, deleted or moved to another stack, "
        "with what it holds and what happens to it. Exit 1 when one would lose data or traffic and is neither "
        "retained (DeletionPolicy / UpdateReplacePolicy Retain) nor acknowledged.",
        epilog="Exit status: 0 nothing lost, 1 something would be lost (unacknowledged), 2 bad usage or input.",
    )
    diff.add_argument("old", metavar="OLD_CDK_OUT", help="the cloud assembly of what is deployed now")
    diff.add_argument("new", metavar="NEW_CDK_OUT", help="the cloud assembly about to be deployed")
    diff.add_argument(
        "--ack",
        action="append",
        default=[],
        metavar="STACK/LOGICAL_ID:CHANGE",
        help="acknowledge one intended change, by the key the report prints (repeatable)",
    )
    diff.add_argument(
        "--ack-file",
        default=None,
        metavar="FILE",
        help=f'acknowledgements with reasons, {{"acknowledged": [{{"key": ..., "reason": ...}}]}} '
        f"(default: {ACK_FILE} in the current directory, when there is one)",
    )
    diff.set_defaults(run=run)


def run(args: argparse.Namespace) -> str:
    """The table, or with ``--json`` the JSON document (main prints a command's own JSON as it is)."""
    from lambda_constructs.core.changes import ACK_FILE, diff, load_acks, load_assembly, parse_ack, rows, summary
    from lambda_constructs.core.report import AssemblyError
    from lambda_constructs.core.table import render, terminal_width

    acks = []
    for key in args.ack:
        try:
            acks.append(parse_ack(key))
        except ValueError as exc:
            raise UserError(f"--ack: {exc}") from None
    ack_file = args.ack_file or (ACK_FILE if Path(ACK_FILE).is_file() else None)
    if ack_file is not None:
        try:
            acks += load_acks(ack_file)
        except OSError as exc:
            raise UserError(f"cannot read the acknowledgements file {ack_file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UserError(str(exc)) from None
    try:
        old = load_assembly(args.old)
        new = load_assembly(args.new)
    except AssemblyError as exc:  # a missing or unreadable file is the user's input too: exit 2, never 1
        raise UserError(str(exc)) from None
    result = diff(old, new, acks)
    data = result.to_dict() | {"old": args.old, "new": args.new, "ack_file": ack_file}
    if args.json:
        text = json.dumps(data, indent=2, sort_keys=True)
    elif result.changes:
        header = ["resource", "what", "change", "holds", "outcome", "status"]
        text = render(header, rows(result), width=terminal_width()) + "\n\n" + summary(result)
    else:
        text = summary(result)
    if result.blocking:
        raise Findings(text)
    return text
