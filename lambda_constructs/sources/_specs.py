"""`FunctionFleet.add_specs`: spec bundles rendered in Python and handed to aws-cdk-lib once per nested stack.

For each distinct spec (same keywords, any id) the library builds one prototype bundle, the same code
path ``fleet.add`` runs, in a scratch app that mirrors the fleet's path, context and feature flags, and
synthesizes it; `lambda_constructs.core.render.Prototype` then renders it under every spec id of that
shape in pure Python. Each nested stack receives its rendered bundles in one
``cloudformation_include.CfnInclude`` (real ``CfnResource`` s in the tree: Aspects, cdk-nag and the rule
pack see them), the alarm topic as a parameter replaced by the topic's own ARN token (aws-cdk-lib makes
the cross-stack reference, as it does for the construct path), and the code asset bound once per stack.

A stream spec's ``stream=`` (a ``kinesis.Stream``) or ``table=`` (a ``dynamodb.Table`` with a stream), made in
the app in the fleet's account and region, is mirrored the same way: the prototype reads a scratch stream
(and a scratch key when the stream or table is encrypted with a customer-managed key), and each rendered
bundle's stream ARN (and key ARN) parameter is replaced by its own stream's token. So specs that differ
only in the stream they read share one prototype.

A spec whose keywords hold something the scratch app cannot mirror (a construct other than an alarm
topic, a ``Code.from_asset`` or such a stream or table: a VPC, a layer, an imported stream, a role...) is
built by ``fleet.add`` itself: the same resources, without the speed.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import tempfile
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import cloudformation_include as cfn_inc
from constructs import Construct, IValidation

from lambda_constructs import _cdk
from lambda_constructs._cdk import alarms, recording
from lambda_constructs.core import render
from lambda_constructs.core.errors import ConfigurationError, Problem
from lambda_constructs.core.plans.common import Note
from lambda_constructs.core.specs import SOURCE_CLASS, SOURCE_SUFFIX, WorkerSpec
from lambda_constructs.function import code as code_module
from lambda_constructs.function.production_function import ProductionFunction
from lambda_constructs.sources.queue import QueueConsumer
from lambda_constructs.sources.schedule import ScheduledFunction
from lambda_constructs.sources.stream import StreamConsumer

FunctionFleet = Any  # the fleet (function/fleet.py imports this module: its class is type(fleet))
PLACEHOLDER = "LcSpecPrototype"
CFN_MAX_RESOURCES = 500  # the prototype's scratch fleet: one bundle, any size a stack can hold
_CLASSES: dict[str, type] = {"queue": QueueConsumer, "stream": StreamConsumer, "schedule": ScheduledFunction}


def _keywords(cls: type, drop: tuple[str, ...]) -> frozenset[str]:
    params = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return frozenset(n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n not in drop)


_FUNCTION_KEYS = _keywords(ProductionFunction, ())
_SOURCE_KEYS = {kind: _keywords(cls, ("function",)) for kind, cls in _CLASSES.items()}


def build_spec(spec: WorkerSpec) -> Callable[[Construct, str], Any]:
    """The ``fleet.add`` build callback a spec stands for (what ``add_specs`` renders)."""
    kind = typing.cast(str, spec.kind)
    cls = _CLASSES[kind]

    def build(scope: Construct, id: str) -> Any:
        fn = ProductionFunction(scope, id, **dict(spec.function))
        return cls(scope, f"{id}{SOURCE_SUFFIX[kind]}", function=fn, **dict(spec.source_props))

    return build


# ---------------------------------------------------------------------------------------------- validation


def check_specs(fleet: FunctionFleet, specs: object, taken: set[str]) -> list[WorkerSpec]:
    """The specs' shapes, ids and keywords; a ConfigurationError naming the fleet, the bundle and the prop."""
    fleet_path = _cdk.path_of(fleet)
    if isinstance(specs, str | bytes) or not isinstance(specs, Sequence):
        raise ConfigurationError([Problem("specs", _cdk.short(specs), "a list of WorkerSpec")], fleet_path)
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if not isinstance(spec, WorkerSpec):
            raise ConfigurationError(
                [Problem(f"specs[{index}]", _cdk.short(spec), "a lambda_constructs.WorkerSpec")], fleet_path
            )
        problems = spec.problems()
        if not problems and (spec.id in taken or spec.id in seen):
            problems.append(Problem("id", spec.id, "an id not added to this fleet before"))
        if isinstance(spec.function, Mapping):
            problems += [
                Problem(f"function[{k!r}]", k, "a keyword of ProductionFunction")
                for k in spec.function
                if k not in _FUNCTION_KEYS
            ]
        kind = spec.kind
        if kind is not None and isinstance(spec.source_props, Mapping):
            problems += [
                Problem(f"{kind}[{k!r}]", k, f"a keyword of {SOURCE_CLASS[kind]}")
                for k in spec.source_props
                if k not in _SOURCE_KEYS[kind] and k != "function"
            ]
        if problems:
            where = (
                f"{fleet_path}/{spec.id}" if isinstance(spec.id, str) and spec.id else f"{fleet_path}/specs[{index}]"
            )
            raise ConfigurationError(problems, where)
        seen.add(spec.id)
    return list(specs)


# ---------------------------------------------------------------------------------------------- shapes


class _Unsupported(Exception):
    """A value the scratch app cannot mirror: the spec is built by ``fleet.add``."""


def _is_topic(value: object) -> bool:
    return hasattr(value, "topic_arn") and hasattr(value, "node")


def _key(value: object) -> object:
    """A hashable key equal for values that build the same thing (else the object's identity)."""
    if value is None or isinstance(value, str | int | float | bool):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        return ("seq", tuple(_key(v) for v in value))
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _key(v)) for k, v in value.items())))
    if isinstance(value, cdk.Duration) and not value.is_unresolved():
        return ("Duration", value.to_iso_string())
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    if type(value).__module__.startswith(("aws_cdk", "constructs", "jsii")) and not isinstance(value, type):
        import enum

        if not isinstance(value, enum.Enum):
            return ("id", id(value))
    return ("value", value)


STREAM_PROPS = ("stream", "table")  # StreamConsumer's keywords that take the stream the mapping reads
# a spec -> (the identity of its real value, a function returning that value's token: one jsii call, made once)
Provider = Callable[[WorkerSpec], tuple[object, Callable[[], object]]]


def shape_key(spec: WorkerSpec) -> object:
    source = dict(spec.source_props)
    if spec.kind == "stream":
        for prop in STREAM_PROPS:
            form = _stream_form(source.get(prop))
            if form is not None:
                source[prop] = form  # which stream is a parameter's value, not part of the shape
    return (spec.kind, _key(dict(spec.function)), _key(source))


def _env(construct: object) -> tuple[str, str]:
    stack = cdk.Stack.of(typing.cast(Construct, construct))
    return (stack.account, stack.region)


def _stream_form(value: object) -> tuple[object, ...] | None:
    """What of a stream or table the bundle's template depends on (beyond its ARNs); None: not mirrorable.

    A ``kinesis.Stream`` or a ``dynamodb.Table`` with a stream, made in the app, whose customer-managed key
    (if any) is a ``kms.Key`` made in the app: its class, whether it has a key, its app and the account and
    region of its stack and its key's stack (IAM and KMS grant across accounts differently).
    """
    if isinstance(value, kinesis.Stream):
        kind = "kinesis.Stream"
    elif isinstance(value, dynamodb.Table) and value.table_stream_arn is not None:
        kind = "dynamodb.Table"
    else:
        return None
    key = value.encryption_key
    if key is not None and not isinstance(key, kms.Key):
        return None
    key_env = _env(key) if key is not None else None
    return (kind, key is not None, id(value.node.root), _env(value), key_env)


def _mirror_stream(
    fleet: FunctionFleet, prop: str, value: object, refs: dict[str, Provider], stack: cdk.Stack
) -> Construct:
    """A scratch stream (or table) the template references as the real one's would be: its ARNs as parameters."""
    form = _stream_form(value)
    if form is None:
        where = _cdk.path_of(typing.cast(Construct, value)) if hasattr(value, "node") else type(value).__name__
        raise _Unsupported(f"{prop}={where}: not a kinesis.Stream or a dynamodb.Table with a stream made in the app")
    _kind, has_key, root, env, key_env = form
    if root != id(_cdk.node_of(fleet).root):
        raise _Unsupported(f"{prop} of another app")
    fleet_env = _env(fleet)
    if env != fleet_env or (key_env is not None and key_env != fleet_env):
        raise _Unsupported(f"{prop} in another account or region than the fleet (its grants differ)")
    n = len(refs)
    key = kms.Key(stack, f"LcMirrorKey{n}") if has_key else None

    def real(spec: WorkerSpec) -> Any:
        return spec.source_props[prop]

    mirror: kinesis.Stream | dynamodb.Table
    if isinstance(value, kinesis.Stream):
        mirror = kinesis.Stream(
            stack,
            f"LcMirrorStream{n}",
            encryption=kinesis.StreamEncryption.KMS if key is not None else None,
            encryption_key=key,
        )
        refs[json.dumps(stack.resolve(mirror.stream_arn))] = lambda spec: (
            (id(real(spec)), "stream_arn"),
            lambda: real(spec).stream_arn,
        )
    else:
        mirror = dynamodb.Table(
            stack,
            f"LcMirrorTable{n}",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED if key is not None else None,
            encryption_key=key,
        )
        refs[json.dumps(stack.resolve(mirror.table_stream_arn))] = lambda spec: (
            (id(real(spec)), "table_stream_arn"),
            lambda: real(spec).table_stream_arn,
        )
    if key is not None:
        refs[json.dumps(stack.resolve(key.key_arn))] = lambda spec: (
            (id(real(spec)), "encryption_key.key_arn"),
            lambda: real(spec).encryption_key.key_arn,
        )
    return mirror


def _mirror(value: object, topics: dict[int, tuple[object, sns.Topic]], stack: cdk.Stack) -> object:
    """``value`` for the scratch app: topics replaced by a scratch topic, code assets re-made; else as given."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_mirror(v, topics, stack) for v in value)
    if isinstance(value, Mapping):
        return {k: _mirror(v, topics, stack) for k, v in value.items()}
    if _is_topic(value):
        entry = topics.get(id(value))
        if entry is None:
            entry = topics[id(value)] = (value, sns.Topic(stack, f"LcMirrorTopic{len(topics)}"))
        return entry[1]
    if isinstance(value, lambda_.AssetCode):
        return code_module._copy(value)  # the same asset (same hash), for the scratch app's stack
    if hasattr(value, "node") or isinstance(value, lambda_.Code):
        raise _Unsupported(f"{type(value).__name__} (a construct of the app)")
    return value


class Shape:
    """One prototype: its rendering, the parent references it needs, its code assets, acknowledgements, notes."""

    def __init__(
        self,
        prototype: render.Prototype,
        parameters: dict[str, Provider],
        codes: Sequence[object],
        recorded: list[tuple[str, str, object]],
    ) -> None:
        self.prototype = prototype
        self.parameters = parameters  # template parameter -> the real value (topic, stream, key ARN) of a spec
        self.codes = list(codes)
        self.acks: dict[str, list[tuple[str, str]]] = {}  # prototype logical id -> its acknowledgements
        self.notes: list[tuple[str, list[Note]]] = []  # (prototype logical id, notes made on its construct)
        for kind, path, payload in recorded:
            lids = prototype.under(path)
            if kind == "ack":
                for lid in lids:
                    self.acks.setdefault(lid, []).extend(typing.cast("list[tuple[str, str]]", payload))
            elif lids:
                self.notes.append((lids[0], typing.cast("list[Note]", payload)))


def _scratch_parents(fleet: FunctionFleet, app: cdk.App) -> tuple[Construct, cdk.Stack]:
    """The fleet's scopes, mirrored in ``app``: plain constructs and its one (top-level) stack."""
    scopes = _cdk.node_of(fleet).scopes
    parent: Construct = app
    stack: cdk.Stack | None = None
    for scope in scopes[1:-1]:
        if isinstance(scope, cdk.NestedStack | cdk.Stage):
            raise _Unsupported("a fleet inside a nested stack or a stage")
        node_id = _cdk.id_of(scope)
        if isinstance(scope, cdk.Stack):
            env = {}
            for key in ("account", "region"):
                value = getattr(scope, key)
                if not cdk.Token.is_unresolved(value):
                    env[key] = value
            parent = stack = cdk.Stack(
                parent,
                node_id,
                stack_name=scope.stack_name,
                env=cdk.Environment(**env) if env else None,
                synthesizer=cdk.DefaultStackSynthesizer(),
            )
        else:
            parent = Construct(parent, node_id)
    if stack is None:
        raise _Unsupported("a fleet outside a stack")
    return parent, stack


def prototype(fleet: FunctionFleet, spec: WorkerSpec) -> Shape | None:
    """Build ``spec`` once in a scratch app and synthesize it; None when it cannot be rendered (use ``add``).

    A ConfigurationError of the spec's constructs is raised as they raise it, at the spec's real path.
    """
    real_app = _cdk.node_of(fleet).root
    context = dict(_cdk.node_of(real_app).get_all_context())
    keep_path = bool(context.get("aws:cdk:enable-path-metadata"))
    context["aws:cdk:enable-path-metadata"] = True
    with tempfile.TemporaryDirectory(prefix="lc-spec-") as tmp:
        app = cdk.App(outdir=tmp, context=context, analytics_reporting=False)
        try:
            parent, stack = _scratch_parents(fleet, app)
            topics: dict[int, tuple[object, sns.Topic]] = {}
            given = dict(spec.function)
            default = alarms.default_topic(fleet)  # default_alarm_topic of the fleet's stack, stage or app
            if default is not None and given.get("alarm_topic") is None:
                given["alarm_topic"] = default  # what the construct path would find there
            function = _mirror(given, topics, stack)
            source = dict(spec.source_props)
            streams = {p: source.pop(p) for p in STREAM_PROPS if spec.kind == "stream" and source.get(p) is not None}
            source = typing.cast("dict[str, object]", _mirror(source, topics, stack))
            refs: dict[str, Provider] = {}
            for prop, value in streams.items():
                source[prop] = _mirror_stream(fleet, prop, value, refs, stack)
        except _Unsupported as error:
            return _fallback(spec, str(error))
        scratch = type(fleet)(
            parent,
            _cdk.id_of(fleet),
            max_resources_per_stack=CFN_MAX_RESOURCES,
            placement_file=Path(tmp) / "placement.json",
        )
        mirrored = WorkerSpec(PLACEHOLDER, **{"function": function, spec.kind: source})  # type: ignore[arg-type]
        try:
            with recording.recording() as recorded:
                scratch.add(PLACEHOLDER, build_spec(mirrored))
        except ConfigurationError as error:
            raise _at(error, spec.id) from None
        prefix = f"{_cdk.path_of(fleet)}/Stack1/"
        recorded = [(k, p[len(prefix) :], v) for k, p, v in recorded if p.startswith(prefix)]
        nested = scratch.stacks["Stack1"]
        for real, mirror in topics.values():
            refs[json.dumps(stack.resolve(mirror.topic_arn))] = _fixed(real)
        assembly = app.synth()
        parent_template = assembly.get_stack_by_name(stack.stack_name).template
        nested_template = json.loads((Path(tmp) / nested.template_file).read_text())
    stack_resource = next(
        r for r in parent_template["Resources"].values() if r.get("Type") == "AWS::CloudFormation::Stack"
    )
    parameters: dict[str, Provider] = {}
    for name, value in (stack_resource.get("Properties", {}).get("Parameters") or {}).items():
        provider = refs.get(json.dumps(value))
        if provider is None:
            return _fallback(spec, f"a parent reference that is not an alarm topic, stream, table or key: {name}")
        parameters[name] = provider
    if set(nested_template) - {"Resources", "Parameters", "Metadata", "Description", "AWSTemplateFormatVersion"}:
        return _fallback(spec, f"template sections {sorted(nested_template)}")
    if set(nested_template.get("Parameters", {})) != set(parameters):
        return _fallback(spec, f"parameters {sorted(nested_template.get('Parameters', {}))}")
    resources = {lid: r for lid, r in nested_template["Resources"].items() if r.get("Type") != "AWS::CDK::Metadata"}
    fleet_path = _cdk.path_of(fleet)
    try:
        proto = render.Prototype(
            resources=resources,
            placeholder=PLACEHOLDER,
            stack_id="Stack1",
            fleet_path=fleet_path,
            parameters={n: nested_template["Parameters"][n] for n in parameters},
            keep_path_metadata=keep_path,
        )
    except render.RenderError as error:
        return _fallback(spec, str(error))
    codes = [v for v in _flatten([spec.function, spec.source_props]) if isinstance(v, lambda_.AssetCode)]
    return Shape(proto, parameters, codes, recorded)


def _fixed(topic: object) -> Provider:
    """The topic's ARN for every spec of a shape (a topic's identity is part of the shape)."""
    return lambda spec: ((id(topic), "topic_arn"), lambda: typing.cast(sns.ITopic, topic).topic_arn)


FALLBACKS: dict[str, str] = {}  # spec id -> why its shape is built by add (the last add_specs; for tests and docs)


def _fallback(spec: WorkerSpec, why: str) -> Shape | None:
    FALLBACKS[spec.id] = why
    return None


def _flatten(value: object) -> list[object]:
    if isinstance(value, Mapping):
        return [x for v in value.values() for x in _flatten(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _at(error: ConfigurationError, id: str) -> ConfigurationError:
    """A prototype's error at the spec's own path (the placeholder id replaced by the spec's)."""

    def fix(value: object) -> object:  # the scratch stack's name is not the real one: fleet path and bundle id
        return (
            value.replace(f"/Stack1/{PLACEHOLDER}", f"/{id}").replace(PLACEHOLDER, id)
            if isinstance(value, str)
            else value
        )

    problems = [
        Problem(typing.cast(str, fix(p.prop)), fix(p.value), typing.cast(str, fix(p.allowed)), fix(p.hint))  # type: ignore[arg-type]
        for p in error.problems
    ]
    path = typing.cast(str, fix(error.path)) if error.path else None
    return ConfigurationError(problems, path)


# ---------------------------------------------------------------------------------------------- include


def include(stack: cdk.NestedStack, include_id: str, entries: list[tuple[WorkerSpec, Shape]], stack_id: str) -> Any:
    """One CfnInclude of ``entries`` rendered for ``stack``; the code assets bound once; returns the include."""
    resources: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    values: dict[str, object] = {}
    named: dict[object, str] = {}  # a real value's identity -> its parameter in this include
    codes: dict[int, object] = {}
    acks: dict[str, list[tuple[str, str]]] = {}
    notes: list[tuple[str, list[Note], str]] = []
    for spec, shape in entries:
        rendered, ids = shape.prototype.render_ids(spec.id, stack_id)
        renames: dict[str, str] = {}
        for name, provider in shape.parameters.items():
            identity, token = provider(spec)
            final = named.get(identity)
            if final is None:  # one parameter per real value: prototypes name theirs after their scratch objects
                final = name
                while final in values:
                    final = f"{name}{len(values)}"
                named[identity] = final
                values[final] = token()
                parameters[final] = shape.prototype.parameters[name]
            if final != name:
                renames[name] = final
        if renames:
            rendered = {lid: render._remap(resource, renames) for lid, resource in rendered.items()}
        resources.update(rendered)
        for lid, rules in shape.acks.items():
            acks[ids[lid]] = rules
        notes += [(ids[lid], found, spec.id) for lid, found in shape.notes]
        for code in shape.codes:
            codes.setdefault(id(code), code)
    fd, path = tempfile.mkstemp(prefix="lc-specs-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(render.template(resources, parameters), handle)
        included = cfn_inc.CfnInclude(stack, include_id, template_file=path, parameters=values or None)
    finally:
        os.unlink(path)
    for code in codes.values():
        code_module.for_stack(code, included).bind(included)
    for lid, resource in resources.items():
        depends = resource.get("DependsOn")
        if isinstance(depends, list) and len(depends) > 1:
            # aws-cdk-lib orders DependsOn by the targets' construct paths, which differ in an include:
            # the construct path's order is kept as rendered
            included.get_resource(lid).add_override("DependsOn", depends)
    for lid, found, spec_id in notes:  # the constructs' annotations, on the bundle's resource
        _cdk.annotate(included.get_resource(lid), [_renamed(note, spec_id, stack_id) for note in found])
    if acks:
        _Acknowledgements.attach(included, acks)
    return included


def _renamed(note: Note, id: str, stack_id: str) -> Note:
    message = note.message.replace(f"/Stack1/{PLACEHOLDER}", f"/{stack_id}/{id}").replace(PLACEHOLDER, id)
    return Note(note.level, note.id, message)


@jsii.implements(IValidation)
class _Acknowledgements:
    """The prototype's rule-pack acknowledgements, on each included resource they covered.

    Only read by cdk-nag's plugins, so applied (one jsii call per resource) at synthesis and only when
    ``cdk_nag`` has been imported, like the constructs' own (`_cdk.acknowledge_all`)."""

    def __init__(self, included: Any, acks: dict[str, list[tuple[str, str]]]) -> None:
        self._included = included
        self._acks = acks

    @classmethod
    def attach(cls, included: Any, acks: dict[str, list[tuple[str, str]]]) -> None:
        pending = cls(included, acks)
        if "cdk_nag" in sys.modules:
            pending.validate()
        else:
            _cdk.node_of(included).add_validation(pending)

    def validate(self) -> list[str]:
        if "cdk_nag" in sys.modules:
            acks, self._acks = self._acks, {}
            for lid, rules in acks.items():
                cdk.Validations.of(self._included.get_resource(lid)).acknowledge(
                    *(cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in dict(rules).items())
                )
        return []
