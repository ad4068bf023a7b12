"""Compare two cloud assemblies resource by resource: the raw-Python and the Node side of the fleet benchmark.

``differences(a, b)`` loads every ``*.template.json`` of two ``cdk.out`` directories, normalizes what
legitimately differs between two syntheses of the same app (the ``CDKMetadata`` resource, whose
analytics name the runtime; ``Metadata`` of resources and templates, i.e. ``aws:cdk:path`` and asset
paths; 64-hex asset hashes) and returns one line per difference: a template or a logical id on one
side only, a different resource type, or a property that differs, with its JSON path. An empty list
means the same templates, logical id for logical id, property for property.

Run: ``python bench/template_diff.py OUT_A OUT_B``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HASH = re.compile(r"\b[0-9a-f]{64}\b")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return HASH.sub("<hash>", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {HASH.sub("<hash>", k): _scrub(v) for k, v in value.items()}
    return value


def normalize(template: dict[str, Any]) -> dict[str, Any]:
    """The template without CDKMetadata, Metadata sections and asset hashes."""
    out = {k: v for k, v in template.items() if k != "Metadata"}
    resources = {
        logical_id: {k: v for k, v in resource.items() if k != "Metadata"}
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") != "AWS::CDK::Metadata"
    }
    out["Resources"] = resources
    conditions = {k: v for k, v in template.get("Conditions", {}).items() if k != "CDKMetadataAvailable"}
    if conditions:
        out["Conditions"] = conditions
    else:
        out.pop("Conditions", None)
    scrubbed: dict[str, Any] = _scrub(out)
    return scrubbed


def load(outdir: Path) -> dict[str, dict[str, Any]]:
    """Every template of an assembly, normalized, by file name (asset hashes in names scrubbed)."""
    return {
        HASH.sub("<hash>", path.name): normalize(json.loads(path.read_text()))
        for path in sorted(Path(outdir).glob("*.template.json"))
    }


def _walk(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in b:
                out.append(f"{where}.{key}: only in the first")
            elif key not in a:
                out.append(f"{where}.{key}: only in the second")
            else:
                _walk(a[key], b[key], f"{where}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}")


def differences(first: Path, second: Path) -> list[str]:
    """One line per difference between the two assemblies' templates; empty when they are the same."""
    a, b = load(first), load(second)
    out: list[str] = []
    for name in sorted(set(a) | set(b)):
        if name not in b or name not in a:
            out.append(f"{name}: template only in the {'first' if name in a else 'second'}")
            continue
        ra, rb = a[name]["Resources"], b[name]["Resources"]
        for logical_id in sorted(set(ra) | set(rb)):
            if logical_id not in rb or logical_id not in ra:
                side = "first" if logical_id in ra else "second"
                out.append(f"{name} {logical_id}: resource only in the {side}")
            elif ra[logical_id].get("Type") != rb[logical_id].get("Type"):
                out.append(f"{name} {logical_id}: type {ra[logical_id].get('Type')} != {rb[logical_id].get('Type')}")
            else:
                _walk(ra[logical_id], rb[logical_id], f"{name} {logical_id}", out)
        rest_a = {k: v for k, v in a[name].items() if k != "Resources"}
        rest_b = {k: v for k, v in b[name].items() if k != "Resources"}
        _walk(rest_a, rest_b, name, out)
    return out


def _kind(resource: dict[str, Any], names: dict[str, str]) -> str:
    """A name for a resource from what it is, not from its logical id (alarms by metric, queues by redrive)."""
    kind, props = resource["Type"].split("::")[-1], resource.get("Properties", {})
    if kind == "Alarm":
        return f"Alarm({props.get('MetricName')})"
    if kind == "Queue":
        return "Queue" if "RedrivePolicy" in props else "DeadLetterQueue"
    if kind == "QueuePolicy":
        return f"QueuePolicy({names.get(props['Queues'][0].get('Ref'), '?')})"
    return kind


def _rename(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in names:
            return {"Ref": names[value["Ref"]]}
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0] in names:
            return {"Fn::GetAtt": [names[value["Fn::GetAtt"][0]], *value["Fn::GetAtt"][1:]]}
        return {k: _rename(v, names) for k, v in value.items()}
    if isinstance(value, str) and value in names:  # e.g. an IAM Policy's PolicyName (its own logical id)
        return names[value]
    return value


def by_kind(template: dict[str, Any]) -> dict[str, Any]:
    """One worker's resources keyed by what they are, references rewritten to those keys.

    For comparing two builds of the same worker whose construct ids (so logical ids) differ: the
    library's ``W0000Function`` against the hand-written ``W0000``.
    """
    resources = normalize(template)["Resources"]
    names: dict[str, str] = {}
    for _ in range(2):  # a QueuePolicy is named after its queue: a second pass once queues have names
        names = {logical_id: _kind(r, names) for logical_id, r in resources.items()}
    if len(set(names.values())) != len(names):
        raise ValueError(f"more than one worker, or resources of one kind twice: {sorted(names.values())}")
    return {names[logical_id]: _rename(r, names) for logical_id, r in resources.items()}


def kind_differences(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """``by_kind`` of two one-worker templates compared: one line per difference."""
    out: list[str] = []
    _walk(by_kind(first), by_kind(second), "worker", out)
    return out


def resource_count(outdir: Path) -> int:
    return sum(len(t["Resources"]) for t in load(outdir).values())


if __name__ == "__main__":
    found = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) or f"the same: {resource_count(Path(sys.argv[1]))} resources")
    sys.exit(1 if found else 0)
