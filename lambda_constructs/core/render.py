"""Render a fleet's spec bundles to CloudFormation in pure Python (no CDK import).

A `Prototype` is one bundle that aws-cdk-lib really built and synthesized (in a scratch app that mirrors
the fleet's path, its context and its feature flags), under a placeholder id. `Prototype.render(id,
stack_id)` returns the resources the same bundle has under another id in another nested stack of the
same fleet: every logical id recomputed as aws-cdk-lib computes it from the construct path
(`logical_id`), every reference to it rewritten, the placeholder replaced in descriptions, alarm names and
metadata, and each ``AWS::Lambda::Version``'s name recomputed from its function's properties
(`version_hash`, calibrated against the hash aws-cdk-lib gave the prototype). So everything the
constructs decide (plans, defaults, aws-cdk-lib's own ordering) comes from the one build path, and a
change to a construct changes the rendered bundles with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HIDDEN_ID = "Default"  # aws-cdk-lib core/lib/private/uniqueid.ts
HIDDEN_FROM_HUMAN_ID = "Resource"
MAX_HUMAN_LEN = 240
MAX_ID_LEN = 255
HASH_LEN = 8
VERSION_HASH_LEN = 32
PATH_METADATA_KEY = "aws:cdk:path"

# aws-cdk-lib aws-lambda/lib/function-hash.ts: the properties a version is locked to, and their order
VERSION_LOCKED = {
    "Architectures": True,
    "Code": True,
    "DeadLetterConfig": True,
    "Description": True,
    "Environment": True,
    "EphemeralStorage": True,
    "FileSystemConfigs": True,
    "FunctionName": True,
    "Handler": True,
    "ImageConfig": True,
    "KmsKeyArn": True,
    "Layers": True,
    "MemorySize": True,
    "PackageType": True,
    "RecursiveLoop": True,
    "Role": True,
    "Runtime": True,
    "RuntimeManagementConfig": True,
    "SnapStart": True,
    "Timeout": True,
    "TracingConfig": True,
    "VpcConfig": True,
    "LoggingConfig": True,
    "CapacityProviderConfig": True,
    "FunctionScalingConfig": True,
    "PublishToLatestPublished": True,
    "DurableConfig": True,
    "CodeSigningConfigArn": False,
    "ReservedConcurrentExecutions": False,
    "Tags": False,
    "TenancyConfig": False,
}
_KNOWN_ORDER = [
    "Code",
    "Handler",
    "Role",
    "Runtime",
    "Architectures",
    "CodeSigningConfigArn",
    "DeadLetterConfig",
    "Description",
    "Environment",
    "EphemeralStorage",
    "FileSystemConfigs",
    "FunctionName",
    "ImageConfig",
    "KmsKeyArn",
    "Layers",
    "MemorySize",
    "PackageType",
    "ReservedConcurrentExecutions",
    "RuntimeManagementConfig",
    "SnapStart",
    "Tags",
    "Timeout",
    "TracingConfig",
    "VpcConfig",
]
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def logical_id(components: Sequence[str]) -> str:
    """aws-cdk-lib's ``makeUniqueId``: the logical id of the element at ``components`` (path under its stack)."""
    parts = [c for c in components if c != HIDDEN_ID]
    if not parts:
        raise ValueError("a logical id needs at least one path component")
    if len(parts) == 1:
        candidate = _NON_ALNUM.sub("", parts[0])
        if len(candidate) <= MAX_ID_LEN:
            return candidate
    digest = _md5("/".join(parts))[:HASH_LEN].upper()
    deduped: list[str] = []
    for part in parts:
        if not deduped or not deduped[-1].endswith(part):
            deduped.append(part)
    human = "".join(_NON_ALNUM.sub("", p) for p in deduped if p != HIDDEN_FROM_HUMAN_ID)
    return human[:MAX_HUMAN_LEN] + digest


def _js_json(value: Any) -> str:
    """``JSON.stringify`` of a JSON value (no spaces, non-ASCII kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def version_hash(properties: Mapping[str, Any], *, layers_suffix: bool) -> str:
    """aws-cdk-lib's ``calculateFunctionHash`` for a function without layers or hash mixins.

    ``layers_suffix``: the ``@aws-cdk/aws-lambda:recognizeLayerVersion`` flag (the layers' hash, of none,
    appended); which one applies is calibrated against a real version (`Prototype`).
    """
    unknown = [k for k, v in properties.items() if v is not None and k not in VERSION_LOCKED]
    if unknown:
        raise ValueError(f"properties aws-cdk-lib does not classify for a version: {unknown}")
    kept = {k: v for k, v in properties.items() if VERSION_LOCKED.get(k)}
    ordered = {k: kept.get(k) for k in _KNOWN_ORDER}
    ordered.update({k: kept[k] for k in sorted(set(kept) - set(_KNOWN_ORDER))})
    ordered = {k: v for k, v in ordered.items() if v is not None}  # JSON.stringify drops undefined
    text = _js_json(ordered)
    if layers_suffix:
        text += _md5("{}")
    return _md5(text)


class RenderError(ValueError):
    """The prototype cannot be rendered under other ids (the caller builds such bundles construct by construct)."""


def _remap(value: Any, ids: Mapping[str, str]) -> Any:
    """``value`` with every reference to a logical id in ``ids`` rewritten (Ref, Fn::GetAtt, Fn::Sub, DependsOn)."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref" and isinstance(inner, str):
                return {"Ref": ids.get(inner, inner)}
            if key == "Fn::GetAtt" and isinstance(inner, list) and inner and isinstance(inner[0], str):
                return {"Fn::GetAtt": [ids.get(inner[0], inner[0]), *inner[1:]]}
            if key == "Fn::GetAtt" and isinstance(inner, str):
                head, _, tail = inner.partition(".")
                return {"Fn::GetAtt": f"{ids.get(head, head)}.{tail}"}
            if key == "Fn::Sub":
                text, variables = (inner, None) if isinstance(inner, str) else (inner[0], inner[1])
                text = re.sub(r"\$\{([^}!.]+)", lambda m: "${" + ids.get(m.group(1), m.group(1)), text)
                return {"Fn::Sub": text if variables is None else [text, _remap(variables, ids)]}
        return {k: _remap(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_remap(v, ids) for v in value]
    if isinstance(value, str):
        return ids.get(value, value)  # a logical id as a value: a policy's PolicyName is its own
    return value


def _remap_resources(resources: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    """Resources renamed by ``ids``, with every reference and ``DependsOn`` entry to them rewritten."""
    out: dict[str, Any] = {}
    for lid, resource in resources.items():
        renamed = _remap(resource, ids)
        depends = renamed.get("DependsOn")
        if isinstance(depends, str):
            renamed["DependsOn"] = ids.get(depends, depends)
        elif isinstance(depends, list):
            renamed["DependsOn"] = [ids.get(d, d) for d in depends]
        out[ids.get(lid, lid)] = renamed
    return out


@dataclass
class Prototype:
    """One synthesized bundle, ready to be rendered under other ids.

    Args:
        resources: the bundle's resources from its nested stack's template (logical id -> resource).
        placeholder: the construct id the bundle was built under (unique: it occurs nowhere else).
        stack_id: the nested stack it was built in (its path ``<fleet path>/<stack_id>``).
        fleet_path: the fleet's construct path (the same in the scratch app and the real one).
        parameters: the template's parameters the bundle references (parent references: the caller maps them).
        keep_path_metadata: keep ``aws:cdk:path`` (the app enables path metadata) or drop it.
    """

    resources: Mapping[str, Any]
    placeholder: str
    stack_id: str
    fleet_path: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    keep_path_metadata: bool = False

    def __post_init__(self) -> None:
        prefix = f"{self.fleet_path}/{self.stack_id}/"
        self._paths: dict[str, list[str]] = {}
        self._versions: dict[str, str] = {}  # version logical id -> its function's logical id
        for lid, resource in self.resources.items():
            path = (resource.get("Metadata") or {}).get(PATH_METADATA_KEY)
            if not isinstance(path, str) or not path.startswith(prefix):
                raise RenderError(f"{lid} has no {PATH_METADATA_KEY} under {prefix}")
            components = path[len(prefix) :].split("/")
            if self.placeholder not in components[0]:
                raise RenderError(f"{lid} ({path}) is not under the bundle's id")
            self._paths[lid] = components
            if resource.get("Type") == "AWS::Lambda::Version":
                target = (resource.get("Properties") or {}).get("FunctionName")
                if not (isinstance(target, dict) and set(target) == {"Ref"} and target["Ref"] in self.resources):
                    raise RenderError(f"{lid}: a version of a function outside the bundle")
                self._versions[lid] = target["Ref"]
        for lid, components in self._paths.items():
            expected = logical_id(components)
            if lid in self._versions:
                base = expected[-(MAX_ID_LEN - VERSION_HASH_LEN) :]
                if not lid.startswith(base) or len(lid) != len(base) + VERSION_HASH_LEN:
                    raise RenderError(f"{lid}: not a current version's logical id")
            elif lid != expected:
                raise RenderError(f"{lid}: its logical id is not derived from its path ({expected})")
        self._uniques = self._embedded_unique_ids()
        self._layers_suffix = self._calibrate()
        text = _js_json(dict(self.resources))
        if self.keep_path_metadata is False:
            stripped = {lid: self._strip_path(r) for lid, r in self.resources.items()}
            text = _js_json(stripped)
        self._text = text

    def _embedded_unique_ids(self) -> list[tuple[str, list[str]]]:
        """Unique ids of the bundle's constructs found in its resources (``AllowEventRule<alias's unique id>``, a
        policy's ``PolicyName``).

        aws-cdk-lib names some constructs after their target's ``Names.nodeUniqueId`` (its path from the app,
        hashed): those ids change with the bundle's id and stack, so they are recomputed as well.
        """
        root = [*self.fleet_path.split("/"), self.stack_id]
        found: dict[str, list[str]] = {}
        every = _js_json(dict(self.resources))  # in construct ids and in values (a policy's PolicyName)
        for components in self._paths.values():
            for end in range(1, len(components) + 1):
                full = [*root, *components[:end]]
                unique = logical_id(full)
                if self.placeholder in unique and unique in every and unique not in self.resources:
                    found[unique] = full
        return sorted(found.items(), key=lambda kv: -len(kv[0]))

    @staticmethod
    def _strip_path(resource: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(resource)
        metadata = {k: v for k, v in (out.get("Metadata") or {}).items() if k != PATH_METADATA_KEY}
        if metadata:
            out["Metadata"] = metadata
        else:
            out.pop("Metadata", None)
        return out

    def _calibrate(self) -> bool:
        """Which hash aws-cdk-lib gave the prototype's versions (with or without the layers' suffix)."""
        found: set[bool] = set()
        for version, function in self._versions.items():
            props = self.resources[function].get("Properties") or {}
            actual = version[-VERSION_HASH_LEN:]
            matches = [flag for flag in (True, False) if version_hash(props, layers_suffix=flag) == actual]
            if not matches:
                raise RenderError(f"{version}: its hash is not the one computed from {function}'s properties")
            found.add(matches[0])
        return found.pop() if found else True

    @property
    def resource_count(self) -> int:
        return len(self.resources)

    def render(self, id: str, stack_id: str) -> dict[str, Any]:
        """The bundle's resources under construct id ``id`` in nested stack ``stack_id`` of the same fleet."""
        return self.render_ids(id, stack_id)[0]

    def under(self, path: str) -> list[str]:
        """The prototype's logical ids at or under construct ``path`` (relative to its nested stack)."""
        return [
            lid
            for lid, components in self._paths.items()
            if "/".join(components) == path or "/".join(components).startswith(path + "/")
        ]

    def render_ids(self, id: str, stack_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """`render()`, and each prototype logical id's rendered one."""
        old_prefix = f"{self.fleet_path}/{self.stack_id}/{self.placeholder}"
        new_prefix = f"{self.fleet_path}/{stack_id}/{id}"
        text = self._text
        uniques: dict[str, str] = {}
        for unique, full in self._uniques:
            moved = [*full[: len(self.fleet_path.split("/"))], stack_id, *full[len(self.fleet_path.split("/")) + 1 :]]
            uniques[unique] = logical_id([c.replace(self.placeholder, id) for c in moved])
            text = text.replace(unique, uniques[unique])

        def rename(component: str) -> str:
            for unique, new in uniques.items():
                component = component.replace(unique, new)
            return component.replace(self.placeholder, id)

        text = text.replace(old_prefix, new_prefix).replace(self.placeholder, id)

        def placeholder_id(lid: str) -> str:
            for unique, new in uniques.items():
                lid = lid.replace(unique, new)
            return lid.replace(self.placeholder, id)

        placeholder_ids = {lid: placeholder_id(lid) for lid in self.resources}
        ids: dict[str, str] = {}
        for lid, components in self._paths.items():
            if lid not in self._versions:
                ids[placeholder_ids[lid]] = logical_id([rename(c) for c in components])
        resources = _remap_resources(json.loads(text), ids)
        versions: dict[str, str] = {}
        for lid, function in self._versions.items():
            base = logical_id([rename(c) for c in self._paths[lid]])
            base = base[-(MAX_ID_LEN - VERSION_HASH_LEN) :]
            props = resources[ids[placeholder_ids[function]]].get("Properties") or {}
            versions[placeholder_ids[lid]] = base + version_hash(props, layers_suffix=self._layers_suffix)
        if versions:
            resources = _remap_resources(resources, versions)
        final = {lid: versions.get(placeholder_ids[lid], ids.get(placeholder_ids[lid], lid)) for lid in self.resources}
        return resources, final


def template(resources: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A template of ``resources`` with the parameters they reference (replaced by the caller's values)."""
    out: dict[str, Any] = {}
    if parameters:
        out["Parameters"] = dict(parameters)
    out["Resources"] = dict(resources)
    return out
