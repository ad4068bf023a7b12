"""What a deploy would destroy: the stateful and traffic-serving resources two cloud assemblies replace or delete.

Pure Python over JSON (no CDK import), used by ``lambda-constructs diff OLD_CDK_OUT NEW_CDK_OUT``.
CloudFormation's change sets say "Replacement: True"; this says what goes with it: the messages in a
queue, the objects in a bucket, the position of a stream consumer, the address of a Function URL.

How a change is found, for every stack of the old assembly (stacks match by artifact id, nested
stacks by their logical id path in the parent, resources by logical id):

- **deleted**: the logical id is gone from the new template (a renamed construct, a removed one),
  or its whole stack is gone (**stack deleted**). CloudFormation applies the resource's
  ``DeletionPolicy`` (default ``Delete``).
- **moved**: the same logical id and type is gone from one stack and new in another (a
  `FunctionFleet` bundle moving between nested stacks): a delete in one stack and a create in the
  other; the old one goes by its ``DeletionPolicy``, the new one starts empty.
- **replaced**: a property whose CloudFormation reference says "Update requires: Replacement"
  changed (`REPLACING`); CloudFormation creates the new resource, then deletes the old one under
  its ``UpdateReplacePolicy`` (default ``Delete``).
- **may be replaced**: such a property changed and one side is not a literal (a ``Ref``, an
  ``Fn::GetAtt``, a parameter): its deploy-time value may be equal or not, so it counts as replaced.

``Retain`` (or ``RetainExceptOnCreate``) keeps the old resource: it is reported as retained and
orphaned, and does not fail the check. Everything else that loses data or an address fails it
unless acknowledged (`Ack`): an acknowledgement names the stack, the logical id and the change,
never a whole stack or a type.

Sources: "DeletionPolicy attribute" and "UpdateReplacePolicy attribute" (AWS CloudFormation User
Guide, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html);
each type's page of the AWS CloudFormation Template Reference for "Update requires: Replacement"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lambda_constructs.core.report import AssemblyError, Template, load_templates, props, refs

RETAINING = ("Retain", "RetainExceptOnCreate")
ACK_FILE = ".lambda-constructs-diff-ack.json"
CHANGES = ("replaced", "may be replaced", "deleted", "moved", "stack deleted")
# the JSON document's schema version (docs/operations.md, "Day two")
SCHEMA_VERSION = 1

# type -> the properties whose change replaces the resource: "Update requires: Replacement" on the type's page of
# the AWS CloudFormation Template Reference (e.g. "AWS::SQS::Queue",
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html), which is
# generated from the type's registry schema: its createOnlyProperties ("Resource type schema", CloudFormation
# CLI User Guide, https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html).
# tests/test_diff.py holds this table to the schemas cfn-lint ships.
REPLACING: dict[str, tuple[str, ...]] = {
    "AWS::SQS::Queue": ("FifoQueue", "QueueName"),
    "AWS::S3::Bucket": ("BucketName", "BucketNamePrefix", "BucketNamespace"),
    "AWS::DynamoDB::Table": ("TableName", "ImportSourceSpecification"),
    "AWS::DynamoDB::GlobalTable": ("TableName",),
    "AWS::Kinesis::Stream": ("Name",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::Lambda::Function": ("FunctionName", "PackageType", "TenancyConfig"),
    "AWS::Lambda::Alias": ("Name", "FunctionName"),
    "AWS::Lambda::Version": (
        "FunctionName",
        "Description",
        "CodeSha256",
        "ProvisionedConcurrencyConfig",
        "RuntimePolicy",
    ),
    "AWS::Lambda::EventSourceMapping": (
        "EventSourceArn",
        "StartingPosition",
        "StartingPositionTimestamp",
        "SelfManagedEventSource",
    ),
    "AWS::Lambda::Url": ("TargetFunctionArn", "Qualifier"),
    "AWS::ApiGateway::RestApi": (),
    "AWS::ApiGateway::Stage": ("RestApiId", "StageName"),
    "AWS::ApiGatewayV2::Api": ("ProtocolType",),
    "AWS::ApiGatewayV2::Stage": ("StageName", "ApiId"),
}
# changes that no update can make, so they count as "may be replaced" (or fail the deploy): a table's primary
# key (DynamoDB's UpdateTable takes no KeySchema: "UpdateTable", Amazon DynamoDB API Reference,
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html)
NOT_UPDATABLE: dict[str, tuple[str, ...]] = {
    "AWS::DynamoDB::Table": ("KeySchema",),
    "AWS::DynamoDB::GlobalTable": ("KeySchema",),
}

_DAY = 86_400
# a logical id is alphanumeric ("Resources", CloudFormation User Guide): an acknowledgement cannot be a pattern
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")


@dataclass(frozen=True)
class Change:
    """One stateful or traffic-serving resource a deploy would replace or delete, and what goes with it."""

    stack: str  # the stack it was in: an artifact id, nested stacks as parent/logical id
    logical_id: str
    type: str
    what: str  # "SQS queue"
    change: str  # one of CHANGES
    because: str  # the properties that changed, the stack that is gone, where it moves to
    holds: str  # what the resource holds or serves
    outcome: str  # what happens to it, in words
    loses: str  # "data", "traffic" or "nothing"
    retained: bool
    path: str | None = None  # its construct path (aws:cdk:path), when the template records it
    moved_to: str | None = None
    acknowledged: str | None = None  # the acknowledgement's reason

    @property
    def key(self) -> str:
        """What an acknowledgement names: ``STACK/LOGICAL_ID:CHANGE``."""
        return f"{self.stack}/{self.logical_id}:{self.change}"

    @property
    def blocking(self) -> bool:
        """Loses data or traffic, is not retained and nobody acknowledged it: the check fails."""
        return self.loses != "nothing" and not self.retained and self.acknowledged is None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "key": self.key, "blocking": self.blocking}


@dataclass(frozen=True)
class Ack:
    """An approved change: the stack, the logical id and the kind of change, with the reason."""

    stack: str
    logical_id: str
    change: str
    reason: str

    @property
    def key(self) -> str:
        return f"{self.stack}/{self.logical_id}:{self.change}"


@dataclass(frozen=True)
class Diff:
    changes: list[Change]
    unused_acks: list[Ack]

    @property
    def blocking(self) -> list[Change]:
        return [c for c in self.changes if c.blocking]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "changes": [c.to_dict() for c in self.changes],
            "blocking": len(self.blocking),
            "acknowledged": sum(1 for c in self.changes if c.acknowledged is not None),
            "retained": sum(1 for c in self.changes if c.retained),
            "unused_acks": [asdict(a) | {"key": a.key} for a in self.unused_acks],
        }


# ---------------------------------------------------------------------------- acknowledgements


def parse_ack(text: str, reason: str = "acknowledged on the command line") -> Ack:
    """``STACK/LOGICAL_ID:CHANGE`` (the ``key`` the report prints) -> an `Ack`; ValueError when malformed."""
    target, sep, change = text.rpartition(":")
    stack, slash, logical_id = target.rpartition("/")
    if not sep or not slash or not stack or not _LOGICAL_ID.match(logical_id) or change not in CHANGES:
        raise ValueError(
            f"acknowledgement {text!r} is not STACK/LOGICAL_ID:CHANGE with CHANGE one of {', '.join(CHANGES)} "
            "(copy the key the report prints)"
        )
    return Ack(stack, logical_id, change, reason)


def load_acks(file: str | Path) -> list[Ack]:
    """An acknowledgements file: ``{"acknowledged": [{"key": "STACK/ID:CHANGE", "reason": "..."}]}``.

    Every entry needs a reason (it is printed beside the change: the review trail); ValueError names
    the file and the entry when one is missing or malformed; OSError when it cannot be read.
    """
    text = Path(file).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{file}: not JSON: {exc}") from None
    entries = document.get("acknowledged") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(
            f'{file}: expected {{"acknowledged": [{{"key": "STACK/LOGICAL_ID:CHANGE", "reason": "..."}}]}}'
        )
    acks = []
    for i, entry in enumerate(entries):
        key = entry.get("key") if isinstance(entry, dict) else None
        reason = entry.get("reason") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not isinstance(reason, str) or not reason.strip():
            raise ValueError(
                f"{file}: acknowledged[{i}] needs a 'key' (STACK/LOGICAL_ID:CHANGE) and a non-empty 'reason'"
            )
        try:
            acks.append(parse_ack(key, reason.strip()))
        except ValueError as exc:
            raise ValueError(f"{file}: acknowledged[{i}]: {exc}") from None
    return acks


# ---------------------------------------------------------------------------- what each type holds


@dataclass(frozen=True)
class _Kind:
    what: str
    loses: str  # "data" / "traffic" / "nothing"
    holds: Callable[[Template, str, Mapping[str, Any]], str]
    contents: str  # what is kept or lost: a noun ("its messages"), for traffic a clause ("its URL stops answering")
    fresh: str  # what replaces it: "a new empty queue"


def _seconds(value: Any, default: int) -> str:
    seconds = value if isinstance(value, int) else default
    if seconds % _DAY == 0:
        return f"{seconds // _DAY} days"
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds} s"


def _queue_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    # MessageRetentionPeriod: 60 s to 14 days, default 4 days ("AWS::SQS::Queue", CloudFormation Template Reference)
    retention = _seconds(p.get("MessageRetentionPeriod"), 4 * _DAY)
    for rid, res in template.get("Resources", {}).items():
        if res.get("Type") == "AWS::SQS::Queue" and logical_id in set(refs(props(res).get("RedrivePolicy"))):
            return f"the failed messages parked from {rid} (dead-letter queue), kept up to {retention}"
    return f"in-flight and parked messages, kept up to {retention}"


def _stream_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    hours = p.get("RetentionPeriodHours", 24)  # default 24 ("AWS::Kinesis::Stream")
    return f"its records, kept {hours} h"


def _bucket_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    rules = (p.get("LifecycleConfiguration") or {}).get("Rules") or []
    scoped = ("Prefix", "TagFilters", "ObjectSizeGreaterThan", "ObjectSizeLessThan")  # rules for some objects only
    whole = [r for r in rules if isinstance(r, Mapping) and r.get("Status") == "Enabled" and not set(scoped) & set(r)]
    days = [d for d in (r.get("ExpirationInDays") for r in whole) if isinstance(d, int)]
    return f"its objects, each kept {min(days)} days" if days else "its objects"


def _log_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    days = p.get("RetentionInDays")
    return f"log events, kept {days} days" if days is not None else "log events, kept forever"


def _mapping_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    position = p.get("StartingPosition")
    if position is None:
        return "nothing (messages stay in the queue; polling pauses while the mapping is recreated)"
    if position == "TRIM_HORIZON":
        return "its position in the stream: a new mapping starts at TRIM_HORIZON and processes every record kept again"
    return (
        f"its position in the stream: a new mapping starts at {position} and skips the records written before it polls"
    )


def _pc_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    config = p.get("ProvisionedConcurrencyConfig")
    count = config.get("ProvisionedConcurrentExecutions") if isinstance(config, Mapping) else None
    if count is not None:
        return f"{_instances(count)}: the new one serves cold until its own are ready"
    return "its ARN, which callers invoke (outside this app they must change to the new one)"


def _function_holds(template: Template, logical_id: str, p: Mapping[str, Any]) -> str:
    counts = [
        props(res)["ProvisionedConcurrencyConfig"].get("ProvisionedConcurrentExecutions")
        for res in template.get("Resources", {}).values()
        if res.get("Type") in ("AWS::Lambda::Alias", "AWS::Lambda::Version")
        and isinstance(props(res).get("ProvisionedConcurrencyConfig"), Mapping)
        and logical_id in set(refs(props(res).get("FunctionName")))
    ]
    warm = " + ".join(str(c) for c in counts)
    return f"provisioned concurrency ({warm} warm), asynchronous events queued in Lambda"


def _instances(count: Any) -> str:
    return "1 provisioned (warm) instance" if count == 1 else f"{count} provisioned (warm) instances"


def _const(text: str) -> Callable[[Template, str, Mapping[str, Any]], str]:
    return lambda _template, _id, _p: text


KINDS: dict[str, _Kind] = {
    "AWS::SQS::Queue": _Kind("SQS queue", "data", _queue_holds, "its messages", "a new empty queue"),
    "AWS::S3::Bucket": _Kind("S3 bucket", "data", _bucket_holds, "its objects", "a new empty bucket"),
    "AWS::DynamoDB::Table": _Kind("DynamoDB table", "data", _const("its items"), "its items", "a new empty table"),
    "AWS::DynamoDB::GlobalTable": _Kind(
        "DynamoDB global table", "data", _const("its items, in every replica"), "its items", "a new empty table"
    ),
    "AWS::Kinesis::Stream": _Kind("Kinesis stream", "data", _stream_holds, "its records", "a new empty stream"),
    "AWS::Logs::LogGroup": _Kind("log group", "data", _log_holds, "its log events", "a new empty log group"),
    "AWS::Lambda::Function": _Kind(
        "function with provisioned concurrency",
        "traffic",
        _function_holds,
        "its provisioned instances are released",
        "a new function",
    ),
    "AWS::Lambda::Alias": _Kind("alias", "traffic", _pc_holds, "its ARN stops resolving", "a new alias"),
    "AWS::Lambda::Version": _Kind(
        "version with provisioned concurrency",
        "traffic",
        _pc_holds,
        "its provisioned instances are released",
        "a new version",
    ),
    "AWS::Lambda::EventSourceMapping": _Kind(
        "event source mapping", "data", _mapping_holds, "its position", "a new mapping"
    ),
    "AWS::Lambda::Url": _Kind(
        "Function URL",
        "traffic",
        _const("its URL: callers of the old address get errors"),
        "its URL stops answering",
        "a new URL",
    ),
    "AWS::ApiGateway::RestApi": _Kind(
        "REST API",
        "traffic",
        _const("its endpoint (the API id in the URL)"),
        "its endpoint stops answering",
        "a new endpoint",
    ),
    "AWS::ApiGateway::Stage": _Kind(
        "REST API stage", "traffic", _const("its invoke URL"), "its invoke URL stops answering", "a new stage"
    ),
    "AWS::ApiGatewayV2::Api": _Kind(
        "HTTP/WebSocket API",
        "traffic",
        _const("its endpoint (the API id in the URL)"),
        "its endpoint stops answering",
        "a new endpoint",
    ),
    "AWS::ApiGatewayV2::Stage": _Kind(
        "API stage", "traffic", _const("its invoke URL"), "its invoke URL stops answering", "a new stage"
    ),
}


def _relevant(template: Template, logical_id: str, resource: Mapping[str, Any]) -> bool:
    """Stateful or serving traffic: functions and versions only with provisioned concurrency."""
    type_ = resource.get("Type")
    if type_ not in KINDS:
        return False
    if type_ == "AWS::Lambda::Version":
        return isinstance(props(resource).get("ProvisionedConcurrencyConfig"), Mapping)
    if type_ == "AWS::Lambda::Function":
        return any(
            res.get("Type") in ("AWS::Lambda::Alias", "AWS::Lambda::Version")
            and isinstance(props(res).get("ProvisionedConcurrencyConfig"), Mapping)
            and logical_id in set(refs(props(res).get("FunctionName")))
            for res in template.get("Resources", {}).values()
        )
    return True


def _mapping_loses(resource: Mapping[str, Any]) -> str:
    # an SQS mapping holds nothing (the messages stay in the queue); a stream mapping holds its position
    return "data" if props(resource).get("StartingPosition") is not None else "nothing"


# ---------------------------------------------------------------------------- the diff


def load_assembly(directory: str | Path) -> dict[str, Template]:
    """Stack -> template (nested stacks as parent/logical id); `AssemblyError` when it is not a cloud assembly."""
    root = Path(directory)
    if not root.is_dir():
        raise AssemblyError(f"{directory} is not a directory (a cloud assembly: what cdk synth writes to cdk.out)")
    templates = load_templates(root)
    if not templates:  # an empty manifest, or the wrong directory: comparing with it would report every stack
        raise AssemblyError(f"{root / 'manifest.json'} is not a cloud assembly manifest with stacks (it lists none)")
    return templates


def diff(old: Mapping[str, Template], new: Mapping[str, Template], acks: Iterable[Ack] = ()) -> Diff:
    """Every stateful or traffic-serving resource of ``old`` that deploying ``new`` replaces or deletes."""
    created: dict[tuple[str, str], list[str]] = {}  # (logical id, type) -> stacks where it is new
    for stack, template in new.items():
        before = old.get(stack, {}).get("Resources", {})
        for rid, res in template.get("Resources", {}).items():
            if rid not in before or before[rid].get("Type") != res.get("Type"):
                created.setdefault((rid, str(res.get("Type"))), []).append(stack)
    found: list[Change] = []
    for stack, template in sorted(old.items()):
        after = new.get(stack)
        for rid, res in sorted(template.get("Resources", {}).items()):
            if not isinstance(res, Mapping) or not _relevant(template, rid, res):
                continue
            type_ = str(res.get("Type"))
            change: Change | None
            if after is None:
                gone = _gone_stack(stack, new)
                change = _moved_or_gone(template, stack, rid, res, created, "stack deleted", f"stack {gone} is gone")
            elif rid not in after.get("Resources", {}) or after["Resources"][rid].get("Type") != type_:
                because = "its logical id is gone from the new template"
                renamed = _renamed_to(res, after, template)
                if renamed is not None:
                    because += f"; new in this stack: {renamed} (a renamed construct?)"
                change = _moved_or_gone(template, stack, rid, res, created, "deleted", because)
            else:
                change = _replaced(template, stack, rid, res, after["Resources"][rid])
            if change is not None:
                found.append(change)
    by_key = {a.key: a for a in acks}
    used = set()
    result = []
    for found_change in found:
        ack = by_key.get(found_change.key)
        if ack is not None:
            used.add(ack.key)
            found_change = Change(**{**asdict(found_change), "acknowledged": ack.reason})
        result.append(found_change)
    return Diff(result, [a for k, a in by_key.items() if k not in used])


def _path(resource: Mapping[str, Any]) -> list[str] | None:
    metadata = resource.get("Metadata")
    path = metadata.get("aws:cdk:path") if isinstance(metadata, Mapping) else None
    return path.split("/") if isinstance(path, str) else None


def _renamed_to(resource: Mapping[str, Any], after: Template, before: Template) -> str | None:
    """The one new resource of the same type whose construct path differs from this one's in one segment."""
    old_path = _path(resource)
    if old_path is None:
        return None
    candidates = []
    for rid, res in after.get("Resources", {}).items():
        new_path = _path(res) if isinstance(res, Mapping) else None
        if res.get("Type") != resource.get("Type") or rid in before.get("Resources", {}) or new_path is None:
            continue
        if len(new_path) == len(old_path) and sum(a != b for a, b in zip(old_path, new_path, strict=True)) == 1:
            candidates.append(rid)
    return candidates[0] if len(candidates) == 1 else None


def _gone_stack(stack: str, new: Mapping[str, Template]) -> str:
    """The outermost stack of ``stack``'s path that is missing from ``new``."""
    parts = stack.split("/")
    for i in range(1, len(parts) + 1):
        if "/".join(parts[:i]) not in new:
            return "/".join(parts[:i])
    return stack


def _moved_or_gone(
    template: Template,
    stack: str,
    rid: str,
    res: Mapping[str, Any],
    created: Mapping[tuple[str, str], list[str]],
    change: str,
    because: str,
) -> Change:
    targets = [s for s in created.get((rid, str(res.get("Type"))), []) if s != stack]
    moved_to = targets[0] if len(targets) == 1 else None
    policy = res.get("DeletionPolicy", "Delete")
    if moved_to is not None:
        return _change(
            template, stack, rid, res, "moved", f"it moves to {moved_to}", policy, "DeletionPolicy", moved_to
        )
    return _change(template, stack, rid, res, change, because, policy, "DeletionPolicy")


def _replaced(
    template: Template, stack: str, rid: str, res: Mapping[str, Any], now: Mapping[str, Any]
) -> Change | None:
    before, after = props(res), props(now)
    type_ = str(res.get("Type"))
    changed = [p for p in REPLACING.get(type_, ()) if before.get(p) != after.get(p)]
    unsure = [p for p in NOT_UPDATABLE.get(type_, ()) if before.get(p) != after.get(p)]
    if not changed and not unsure:
        return None
    literal = not unsure and all(_literal(before.get(p)) and _literal(after.get(p)) for p in changed)
    changed += unsure
    because = ", ".join(f"{p}: {_show(before.get(p))} -> {_show(after.get(p))}" for p in changed)
    policy = res.get("UpdateReplacePolicy", "Delete")
    kind = "replaced" if literal else "may be replaced"
    return _change(template, stack, rid, res, kind, because, policy, "UpdateReplacePolicy")


def _change(
    template: Template,
    stack: str,
    rid: str,
    res: Mapping[str, Any],
    change: str,
    because: str,
    policy: Any,
    attribute: str,
    moved_to: str | None = None,
) -> Change:
    type_ = str(res.get("Type"))
    kind = KINDS[type_]
    loses = _mapping_loses(res) if type_ == "AWS::Lambda::EventSourceMapping" else kind.loses
    retained = policy in RETAINING
    fresh = (
        f"; {kind.fresh} is created" + (f" in {moved_to}" if moved_to else "")
        if change != "deleted" and change != "stack deleted"
        else ""
    )
    if loses == "nothing":
        outcome = f"{change}: nothing is lost{fresh}"
    elif retained:
        outcome = f"retained ({attribute} {policy}): orphaned outside the stack, keeps {kind.contents}{fresh}"
    elif loses == "data":
        outcome = f"deleted with {kind.contents}{fresh}"
    else:
        outcome = f"deleted: {kind.contents}{fresh}"
    metadata = res.get("Metadata")
    path = metadata.get("aws:cdk:path") if isinstance(metadata, Mapping) else None
    return Change(
        stack=stack,
        logical_id=rid,
        type=type_,
        what=kind.what,
        change=change,
        because=because,
        holds=kind.holds(template, rid, props(res)),
        outcome=outcome,
        loses=loses,
        retained=retained,
        path=path if isinstance(path, str) else None,
        moved_to=moved_to,
    )


def _literal(value: Any) -> bool:
    """No intrinsic function or Ref anywhere inside: the deploy-time value is the template's."""
    if isinstance(value, Mapping):
        return not any(k == "Ref" or k.startswith("Fn::") for k in value) and all(_literal(v) for v in value.values())
    if isinstance(value, list):
        return all(_literal(v) for v in value)
    return True


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------- output


HEADER = ("resource", "what", "change", "holds", "outcome", "status")


def status(change: Change) -> str:
    if change.acknowledged is not None:
        return f"acknowledged: {change.acknowledged}"
    if change.retained:
        return "retained"
    return "LOSS" if change.blocking else "ok"


def rows(result: Diff) -> list[list[str]]:
    return [[c.key, c.what, f"{c.change} ({c.because})", c.holds, c.outcome, status(c)] for c in result.changes]


def summary(result: Diff) -> str:
    blocking = result.blocking
    acked = sum(1 for c in result.changes if c.acknowledged is not None)
    retained = sum(1 for c in result.changes if c.retained)
    lines = [
        f"{len(result.changes)} stateful or traffic-serving resources replaced or deleted: "
        f"{len(blocking)} would lose data or traffic, {retained} retained, {acked} acknowledged"
    ]
    if blocking:
        lines.append(
            "to deploy anyway, acknowledge each one: --ack KEY, or an entry "
            '{"key": KEY, "reason": "..."} in the acknowledgements file (lambda-constructs operations guide, "Day two")'
        )
    for ack in result.unused_acks:
        lines.append(f"acknowledgement {ack.key} matches no change (remove it)")
    return "\n".join(lines)
