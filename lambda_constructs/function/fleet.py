"""FunctionFleet: many production functions in one app, placed in CloudFormation nested stacks.

CloudFormation caps a template at 500 resources (and 1 MB); one queue worker is 16 resources, so a
stack holds about 31. The fleet opens an aws-cdk-lib ``NestedStack`` whenever the current one would
pass ``max_resources_per_stack``, so CloudFormation does the deploying, in parallel per nested stack.

Placement is stable: a function's stack is recorded in a placement file (JSON, commit it like
``cdk.context.json``). On every synthesis a recorded id goes back to its recorded stack, whatever was
added or removed since; only new ids are placed, into the newest stack with room or a new one. Moving
a function to another stack would replace it (and drop its provisioned concurrency), so a recorded
bundle moves only when asked (``fleet.move(id)``); a recorded stack over the room is reported.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import json
import os
import sys
import tempfile
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import jsii
from aws_cdk import CfnElement, NestedStack
from constructs import Construct, IConstruct, IValidation

from lambda_constructs import _cdk
from lambda_constructs.core import limits
from lambda_constructs.core.errors import ConfigurationError, Problem, Problems
from lambda_constructs.core.plans.common import Note
from lambda_constructs.core.specs import WorkerSpec
from lambda_constructs.function import _bundle

T = TypeVar("T")
DEFAULT_MAX_RESOURCES = 450  # headroom under CloudFormation's 500 for outputs/parameters the references add
CFN_MAX_RESOURCES = 500
PLACEMENT_VERSION = 2  # 2: one entry per fleet path (1 keyed "path|max_resources_per_stack"; read and migrated)
DEFAULT_PLACEMENT_FILE = "lambda-constructs.placement.json"


class FunctionFleet(Construct):
    """Place many function bundles into nested stacks that each stay under CloudFormation's limits.

    ``fleet.add(id, build)`` calls ``build(scope, id)`` with the nested stack the bundle belongs in;
    ``build`` creates the function and whatever belongs with it (its QueueConsumer, alarms, ...) in
    that scope and returns anything; ``add`` returns what ``build`` returned::

        fleet = FunctionFleet(stack, "Workers", placement_file="fleet-placement.json")
        for name in names:
            fleet.add(name, lambda scope, id: worker(scope, id, topic=alarms))

    Args:
        max_resources_per_stack: 10..500, default 450 (CloudFormation allows 500 per template;
            cross-stack references add parameters and outputs, not resources).
        placement_file: the placement record, read at construction and written once: at synthesis, else
            before another fleet reads the same file, else when the process exits; default
            ``lambda-constructs.placement.json`` in the app directory (`app_directory()`: the directory of
            the ``cdk.json`` above the app's entry script), never the working directory; a relative path is
            relative to the app directory too. One file can hold several fleets (keyed by construct
            path). Commit it.
        new_placement: True to start a placement with no record where one is expected: in CI (the ``CI``
            environment variable) a fleet without a recorded entry is a ConfigurationError otherwise,
            since a fresh placement could move deployed bundles between nested stacks.

    Shared things work across the nested stacks through aws-cdk-lib's own cross-stack references:
    an alarm topic or a dashboard in the parent stack, and a ``Code.from_asset`` created once
    outside ``build`` (ProductionFunction gives each stack its own copy of the same asset).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        max_resources_per_stack: int = DEFAULT_MAX_RESOURCES,
        placement_file: str | os.PathLike[str] | None = None,
        new_placement: bool = False,
    ) -> None:
        def check(problems: Problems) -> None:
            problems.add(
                limits.check_int_range(
                    "max_resources_per_stack",
                    max_resources_per_stack,
                    limits.Range(10, CFN_MAX_RESOURCES, "resources"),
                    "CloudFormation allows 500 resources per template",
                )
            )
            if placement_file is not None and not isinstance(placement_file, str | os.PathLike):
                problems.add(Problem("placement_file", _cdk.short(placement_file), "a path or None"))
            elif placement_file is not None and "\0" in os.fspath(placement_file):
                problems.add(Problem("placement_file", os.fspath(placement_file), "a path without a NUL byte"))
            if not isinstance(new_placement, bool):
                problems.add(Problem("new_placement", _cdk.short(new_placement), "True or False"))

        path = _cdk.validated(scope, id, check, owner=self)
        given = Path(placement_file or DEFAULT_PLACEMENT_FILE)
        self._placement_path = given if given.is_absolute() else app_directory() / given
        key = path  # one entry per fleet: another max_resources_per_stack keeps what is recorded
        found, record, sizes = _read_record(self._placement_path, key)
        if not found and not new_placement and _in_ci():
            raise ConfigurationError(
                [
                    Problem(
                        "placement_file",
                        str(self._placement_path),
                        f"a placement record with an entry for {key}",
                        "CI is set and this fleet has no recorded placement: a fresh one could move deployed "
                        "bundles between nested stacks (replacing them). Commit the record the fleet writes at "
                        "synthesis, or pass new_placement=True to start a new placement",
                    )
                ],
                key,
            )
        with _cdk.unique_id(scope, id):
            super().__init__(scope, id)
        self.max_resources_per_stack: int = max_resources_per_stack
        self._key = key
        self._placement: dict[str, str] = record  # bundle id -> nested stack id, in placement order
        self._sizes: dict[str, int] = sizes  # bundle id -> resources it had when last placed
        self._stacks: dict[str, NestedStack] = {}
        self._children: dict[str, int] = {}  # nested stack id -> its number of children after the last bundle
        self._bundle_children: dict[str, list[str]] = {}  # bundle id -> the ids of the children it made
        self._planned_stacks: set[str] = set()  # stacks holding a bundle sized by its plans (checked at synthesis)
        self.resource_counts: dict[str, int] = {}  # nested stack id -> resources placed in it
        # spec id -> why add_specs built it through add (a construct it cannot mirror), also an info annotation
        self.spec_fallbacks: dict[str, str] = {}
        self._ids: set[str] = set()
        self._includes: dict[str, int] = {}  # nested stack id -> CfnIncludes of spec bundles made in it
        self._spec_sizes: dict[str, int] = {}  # spec bundle id -> its rendered resources
        self._estimate = 0  # largest bundle seen: how much room a new one needs
        # room promised to recorded bundles not added yet: per stack, their recorded sizes and how many have none
        self._reserved: dict[str, tuple[str, int | None]] = {b: (s, sizes.get(b)) for b, s in record.items()}
        self._reserved_size: dict[str, int] = {}
        self._reserved_unsized: dict[str, int] = {}
        for stack_id, size in self._reserved.values():
            self._reserve(stack_id, size, 1)
        self._newest: str | None = None  # the recorded or placed stack with the highest number
        for stack_id in record.values():
            self._note_placed(stack_id)
        self._moves: dict[str, str | None] = {}  # recorded bundle id -> the stack asked for (None: any with room)
        self._over_room: set[str] = set()  # recorded stacks over max_resources_per_stack (reported, not reshuffled)
        self.node.add_validation(_SavePlacement(self))

    # ------------------------------------------------------------------ public API

    def add(self, id: str, build: Callable[[Construct, str], T]) -> T:
        """Build one bundle in the nested stack it belongs to; returns what ``build`` returned."""
        problems = Problems(f"{_cdk.path_of(self)}/{id}")
        if not isinstance(id, str) or not id or "/" in id:
            problems.add(Problem("id", _cdk.short(id), "a non-empty string without '/'"))
        elif id in self._ids:
            problems.add(Problem("id", id, "an id not added to this fleet before"))
        if not callable(build):
            problems.add(Problem("build", _cdk.short(build), "a callable build(scope, id)"))
        problems.raise_if_any()
        built: list[tuple[T, list[str]]] = []

        def build_at(stack_id: str) -> int:
            result, count, added = self._build_in(stack_id, build, id)
            built[:] = [(result, added)]
            return count

        def undo(stack_id: str) -> None:
            self._remove(stack_id, built.pop()[1])

        self._place(id, "build", build_at, undo)
        return built[0][0]

    def _place(self, id: str, prop: str, count_at: Callable[[str], int], undo: Callable[[str], None]) -> str:
        """Place bundle ``id``: the one set of placement rules for ``add`` and ``add_specs``; returns its stack.

        ``count_at(stack_id)`` puts the bundle into that stack and returns its resources (``add`` builds it
        there; a spec bundle knows its size and only opens the stack); ``undo(stack_id)`` takes it back.
        A recorded bundle stays in its recorded stack unless ``fleet.move(id)`` asked otherwise; one that grew
        past the room stays and its stack is reported (an error above CloudFormation's 500); a new one goes
        to the newest stack with room, else a new stack. ``prop`` names the argument an error points at.
        """
        recorded = self._placement.get(id)
        moved_from: str | None = None
        target: str | None = None
        if id in self._moves:  # asked for: the recorded bundle is placed again
            moved_from, target = recorded, self._moves.pop(id)
            if id in self._reserved:
                reserved_in, size = self._reserved.pop(id)
                self._reserve(reserved_in, size, -1)
            recorded = None
            stack_id = target or self._open_stack_for_new_bundle()
        else:
            stack_id = recorded or self._open_stack_for_new_bundle()
        count = count_at(stack_id)
        if target is not None and self._room(stack_id) < count:
            undo(stack_id)
            raise ConfigurationError(
                [Problem("to", target, f"a nested stack with room for {count} resources", "move it elsewhere")],
                f"{self.node.path}/{id}",
            )
        if recorded is None and self._room(stack_id) < count:
            # the estimate was too small: this new bundle gets a stack of its own
            undo(stack_id)
            stack_id = self._new_stack_id()
            count = count_at(stack_id)
        if count > self.max_resources_per_stack:
            undo(stack_id)
            raise ConfigurationError(
                [
                    Problem(
                        prop,
                        f"{count} resources",
                        f"a bundle of at most max_resources_per_stack={self.max_resources_per_stack} resources",
                        "one bundle must fit one stack: split it into several fleet.add calls",
                    )
                ],
                f"{self.node.path}/{id}",
            )
        if recorded is not None and count > self._room(stack_id, exclude=id):
            # a recorded bundle that grew past its stack's room stays there (a move replaces its resources):
            # above CloudFormation's 500 it cannot deploy, so the fix is asked for; below, it is reported
            if self.resource_counts.get(stack_id, 0) + count > CFN_MAX_RESOURCES:
                undo(stack_id)
                raise ConfigurationError(
                    [
                        Problem(
                            prop,
                            f"{count} resources",
                            f"a bundle that fits its recorded stack {stack_id} (CloudFormation allows "
                            f"{CFN_MAX_RESOURCES} resources per template)",
                            f"move it explicitly: fleet.move({id!r}) before adding it (its resources are "
                            "replaced), or shrink it",
                        )
                    ],
                    f"{self.node.path}/{id}",
                )
            self._over_room.add(stack_id)
        if moved_from is not None and moved_from != stack_id:
            from aws_cdk import Annotations

            Annotations.of(self).add_warning_v2(
                "lambda-constructs:fleet-bundle-moved",
                f"{id} is moved from {moved_from} to {stack_id}, as fleet.move() asked: the next deploy replaces "
                "its resources (a new function, queues and provisioned concurrency; messages in a deleted queue "
                "are lost).",
            )
        self._record(id, stack_id, count, recorded)
        return stack_id

    def _record(self, id: str, stack_id: str, count: int, recorded: str | None) -> None:
        """Book ``id`` (``count`` resources) into ``stack_id``; ``recorded``: its recorded stack if unchanged."""
        total = self.resource_counts.get(stack_id, 0) + count
        self.resource_counts[stack_id] = total
        if self._sizes.get(id) != count:
            self._sizes[id] = count
            recorded = None  # a bundle of a new size: the record changes
        self._placement[id] = stack_id
        self._note_placed(stack_id)
        self._ids.add(id)
        self._estimate = max(self._estimate, count)
        if id in self._reserved:  # a recorded bundle is here now: its promised room is its real size
            reserved_in, size = self._reserved.pop(id)
            self._reserve(reserved_in, size, -1)
        if recorded is None:  # a new placement: the record changes (written later, once; see _Pending)
            _PENDING.mark(self)

    def add_specs(self, specs: Sequence[WorkerSpec]) -> None:
        """Add spec bundles: each builds what ``add`` builds for it, rendered in Python, one CfnInclude per stack.

        ``WorkerSpec(id, function=dict(...), queue=dict(...))`` (or ``stream=`` / ``schedule=``) builds
        what ``fleet.add(id, lambda scope, i: QueueConsumer(scope, f"{i}Queue", function=ProductionFunction(
        scope, i, **function), **queue))`` builds: the same logical ids and properties, so a bundle can move
        between ``add`` and ``add_specs`` without a replacement. Every spec is checked (and each distinct
        one built once, as a prototype) before anything is added; a bad one is a ConfigurationError at
        ``<fleet path>/<spec id>`` naming the prop. Placement, the record and the limits are ``add``'s.
        A stream spec's ``kinesis.Stream`` or ``dynamodb.Table`` (made in the app, in the fleet's account and
        region) is a parameter of the rendered template; a spec holding another construct (a VPC, a layer,
        an imported stream...) is built by ``add``.
        See docs/fleet.md#specs.
        """
        from lambda_constructs.sources import _specs

        checked = _specs.check_specs(self, specs, self._ids)
        keys = [_specs.shape_key(spec) for spec in checked]
        shapes: dict[object, _specs.Shape | None] = {}
        reasons: dict[object, str] = {}
        for spec, key in zip(checked, keys, strict=True):
            if key not in shapes:
                shapes[key] = _specs.prototype(self, spec)
                if shapes[key] is None:
                    reasons[key] = _specs.FALLBACKS.get(spec.id, "")
        for spec, key in zip(checked, keys, strict=True):  # before anything is placed: each fits one stack
            shape = shapes[key]
            if shape is not None and shape.prototype.resource_count > self.max_resources_per_stack:
                raise ConfigurationError(
                    [
                        Problem(
                            "spec",
                            f"{shape.prototype.resource_count} resources",
                            f"a bundle of at most max_resources_per_stack={self.max_resources_per_stack} resources",
                        )
                    ],
                    f"{self.node.path}/{spec.id}",
                )
        before = self._bookkeeping()
        fallbacks: list[str] = []
        per_stack: dict[str, list[tuple[WorkerSpec, _specs.Shape]]] = {}
        try:
            for spec, key in zip(checked, keys, strict=True):
                shape = shapes[key]
                if shape is None:  # what cannot be rendered is built by add
                    self.add(spec.id, _specs.build_spec(spec))
                    self.spec_fallbacks[spec.id] = reasons[key]
                    fallbacks.append(spec.id)
                    continue
                count = shape.prototype.resource_count
                stack_id = self._place(spec.id, "spec", functools.partial(_known, count), _nothing)
                self._bundle_children[spec.id] = []
                per_stack.setdefault(stack_id, []).append((spec, shape))
        except BaseException:  # a refused spec leaves nothing behind: neither the bundles before it nor their room
            for spec in checked:
                if spec.id in self._ids and spec.id not in before["_ids"] and self._bundle_children.get(spec.id):
                    self._remove(self._placement[spec.id], self._bundle_children[spec.id])
            for name, value in before.items():
                setattr(self, name, value)
            for id in fallbacks:
                del self.spec_fallbacks[id]
            raise
        _cdk.annotate(
            self,
            [
                Note("info", "lambda-constructs:spec-fallback", f"spec {id} is built by add: {self.spec_fallbacks[id]}")
                for id in fallbacks
            ],
        )
        for stack_id, entries in per_stack.items():
            number = self._includes.get(stack_id, 0) + 1
            self._includes[stack_id] = number
            _specs.include(self._stack(stack_id), f"FleetSpecs.{number}", entries, stack_id)
            self._children.pop(stack_id, None)  # counted afresh by the next add
            for spec, shape in entries:
                self._spec_sizes[spec.id] = shape.prototype.resource_count

    def _bookkeeping(self) -> dict[str, Any]:
        """Copies of the placement state (not the construct tree), to put back when ``add_specs`` refuses."""
        names = (
            "_placement", "_sizes", "_stacks", "_children", "_bundle_children", "_planned_stacks", "resource_counts",
            "_ids", "_reserved", "_reserved_size", "_reserved_unsized", "_moves", "_over_room",
        )  # fmt: skip
        state: dict[str, Any] = {name: copy.copy(getattr(self, name)) for name in names}
        state["_estimate"], state["_newest"] = self._estimate, self._newest
        return state

    def move(self, id: str, to: str | None = None) -> None:
        """Move recorded bundle ``id`` when it is added next: into nested stack ``to`` (``"Stack3"``, an existing or
        a new one), else into the newest stack with room or a new one. The only way a recorded bundle changes
        stack: its resources are replaced at the next deploy (a new function and provisioned concurrency; a
        replaced queue loses its messages), and a ``lambda-constructs:fleet-bundle-moved`` warning says so.
        Call it before ``fleet.add(id, ...)`` or ``fleet.add_specs([...])``: both place by the same rules.
        """
        problems = Problems(f"{_cdk.path_of(self)}/{id}")
        if not isinstance(id, str) or id not in self._placement:
            problems.add(Problem("id", _cdk.short(id), "a bundle id in the placement record", "nothing to move"))
        elif id in self._ids:
            problems.add(Problem("id", id, "a bundle not added yet", "call fleet.move(id) before fleet.add(id)"))
        if to is not None and (not isinstance(to, str) or not to.startswith("Stack") or _stack_number(to) < 1):
            problems.add(Problem("to", _cdk.short(to), "None or a nested stack id 'StackN' (N >= 1)"))
        problems.raise_if_any()
        self._moves[id] = to

    def _save_quietly(self) -> None:
        """Record the placement; keep all recorded ids (synthesis drops the removed ones)."""
        try:
            _write_record(self._placement_path, self._key, self._placement, self._sizes)
        except OSError as error:
            from aws_cdk import Annotations

            Annotations.of(self).add_warning_v2(
                "lambda-constructs:placement-not-written",
                f"cannot write the placement record {self._placement_path} ({error}); placement stays stable only "
                "if the record is written: pass placement_file= a writable path",
            )

    @property
    def stacks(self) -> dict[str, NestedStack]:
        """The nested stacks, by id, in the order they were opened."""
        return dict(self._stacks)

    @property
    def placement(self) -> dict[str, str]:
        """Bundle id -> nested stack id, for every bundle added in this synthesis."""
        return {k: v for k, v in self._placement.items() if k in self._ids}

    def stack_of(self, id: str) -> NestedStack:
        """The nested stack that holds bundle ``id`` (one added in this synthesis)."""
        if not isinstance(id, str) or id not in self._ids:
            added = ", ".join(sorted(self._ids)[:5]) + (", ..." if len(self._ids) > 5 else "")
            raise ConfigurationError(
                [Problem("stack_of(id)", _cdk.short(id), f"a bundle id added to this fleet ({added or 'none yet'})")],
                _cdk.path_of(self),
            )
        return self._stacks[self._placement[id]]

    def save_placement(self) -> Path:
        """Write the placement record now (synthesis does it too)."""
        _PENDING.discard(self)
        _write_record(self._placement_path, self._key, self.placement, self._sizes)
        return self._placement_path

    # ------------------------------------------------------------------ placement

    def _open_stack_for_new_bundle(self) -> str:
        """The newest stack with room for a bundle the size of the largest seen, else a new one."""
        if self._newest is not None and self._room(self._newest) >= self._estimate:
            return self._newest
        return self._new_stack_id()

    def _room(self, stack_id: str, exclude: str | None = None) -> int:
        """Resources still free in ``stack_id``, keeping room for recorded bundles not added yet (at the size
        recorded for them, else the largest bundle seen); ``exclude``'s own promise does not count."""
        pending = self._reserved_size.get(stack_id, 0) + self._reserved_unsized.get(stack_id, 0) * self._estimate
        if exclude in self._reserved:
            reserved_in, size = self._reserved[exclude]
            if reserved_in == stack_id:
                pending -= self._estimate if size is None else size
        return self.max_resources_per_stack - self.resource_counts.get(stack_id, 0) - pending

    def _reserve(self, stack_id: str, size: int | None, sign: int) -> None:
        if size is None:
            self._reserved_unsized[stack_id] = self._reserved_unsized.get(stack_id, 0) + sign
        else:
            self._reserved_size[stack_id] = self._reserved_size.get(stack_id, 0) + sign * size

    def _note_placed(self, stack_id: str) -> None:
        if self._newest is None or _stack_number(stack_id) > _stack_number(self._newest):
            self._newest = stack_id

    def _new_stack_id(self) -> str:
        numbers = [_stack_number(s) for s in self._stacks]
        if self._newest is not None:
            numbers.append(_stack_number(self._newest))
        return f"Stack{max(numbers, default=0) + 1}"

    def _stack(self, stack_id: str) -> NestedStack:
        stack = self._stacks.get(stack_id)
        if stack is None:
            stack = self._stacks[stack_id] = NestedStack(self, stack_id, description=f"{self.node.path} {stack_id}")
        return stack

    def _build_in(self, stack_id: str, build: Callable[[Construct, str], T], id: str) -> tuple[T, int, list[str]]:
        """Run ``build`` in the stack; returns its result, the resources it added and the children it made.

        When every child the bundle made is one of the library's planned constructs, its size is the sum
        of their plans' resource counts (no walk of their trees through jsii); otherwise each child's tree
        is counted. Synthesis checks the planned stacks' totals (`_check_planned_counts()`).
        """
        stack = self._stack(stack_id)
        node = _cdk.node_of(stack)
        before = self._children.get(stack_id)
        if before is None:  # children keep their insertion order: the new ones come last
            before = len(node.children)
        bundle = _bundle.open_bundle(stack)
        try:
            result = build(stack, id)
        except BaseException:  # a refused bundle leaves nothing behind: its children, and its stack if new
            _bundle.close_bundle(bundle)
            self._remove(stack_id, [_cdk.id_of(c) for c in node.children[before:]])
            raise
        _bundle.close_bundle(bundle)  # the deferred metadata records are written here, once
        children = node.children
        self._children[stack_id] = len(children)  # the next bundle's "before": one listing per bundle, not two
        added = children[before:]
        ids = [_cdk.id_of(c) for c in added]
        planned = [bundle.counts.get(i) for i in ids]
        if added and all(count is not None for count in planned):
            count = sum(typing.cast("list[int]", planned))
            self._planned_stacks.add(stack_id)
        else:
            count = sum(_resources(child) for child in added)
        self._bundle_children[id] = ids
        return result, count, ids

    def _check_planned_counts(self) -> list[str]:
        """At synthesis: a stack whose bundles were sized by their plans holds what was counted.

        Something may have added resources to a planned construct after it was built (``fn.alias.
        add_function_url()`` inside ``build``): then that stack's bundles are counted one by one, their
        recorded sizes corrected, and a stack past the limit reported (an error above CloudFormation's 500).
        """
        errors: list[str] = []
        for stack_id in sorted(self._planned_stacks, key=_stack_number):
            stack = self._stacks.get(stack_id)
            if stack is None or _resources(stack) == self.resource_counts.get(stack_id, 0):
                continue
            node = _cdk.node_of(stack)
            total = 0
            for bundle_id, placed in self._placement.items():
                if placed != stack_id or bundle_id not in self._ids:
                    continue
                size = self._spec_sizes.get(bundle_id) or sum(
                    _resources(node.find_child(child)) for child in self._bundle_children.get(bundle_id, [])
                )
                self._sizes[bundle_id] = size
                total += size
            self.resource_counts[stack_id] = total
            if total > CFN_MAX_RESOURCES:
                errors.append(
                    f"{_cdk.path_of(self)}/{stack_id} holds {total} resources, more than CloudFormation's "
                    f"{CFN_MAX_RESOURCES}: a bundle added resources to its constructs after they were built "
                    "(through .alias / .function directly); use the construct's own methods (fn.add_function_url(), "
                    "fn.add_event_source(), ...) so the fleet can place it"
                )
            elif total > self.max_resources_per_stack:
                from aws_cdk import Annotations

                Annotations.of(self).add_warning_v2(
                    "lambda-constructs:fleet-stack-over-limit",
                    f"{stack_id} holds {total} resources (> max_resources_per_stack={self.max_resources_per_stack}): "
                    "a bundle added resources to its constructs after they were built (through .alias / .function "
                    "directly); use the construct's own methods so the fleet can place it.",
                )
        self._planned_stacks.clear()
        return errors

    def _report_over_room(self) -> None:
        """At synthesis: each recorded stack over ``max_resources_per_stack``, reported once, never reshuffled."""
        for stack_id in sorted(self._over_room, key=_stack_number):
            from aws_cdk import Annotations

            Annotations.of(self).add_warning_v2(
                "lambda-constructs:fleet-stack-over-room",
                f"{stack_id} holds {self.resource_counts.get(stack_id, 0)} resources, more than "
                f"max_resources_per_stack={self.max_resources_per_stack}: its recorded bundles stay (moving one "
                "replaces its resources) and new bundles go to stacks with room. To move one: "
                "fleet.move(id) before fleet.add(id).",
            )
        self._over_room.clear()

    def _remove(self, stack_id: str, added: list[str]) -> None:
        """Take back what one ``build`` added (a refused bundle leaves nothing in the tree)."""
        stack = self._stacks[stack_id]
        for child_id in added:
            stack.node.try_remove_child(child_id)
        self._children.pop(stack_id, None)  # counted afresh by the next bundle
        if not stack.node.children:  # the stack was opened for this bundle: take it back too
            self.node.try_remove_child(stack_id)
            self.node.try_remove_child(f"{stack_id}.NestedStack")  # aws-cdk-lib's AWS::CloudFormation::Stack
            del self._stacks[stack_id]


class _Pending:
    """Fleets whose placement changed since their record was last written.

    A new placement must outlive the process even when the app is never synthesized, but writing the
    whole record at every ``add`` made a fleet of N bundles cost N writes of a growing file (O(N^2):
    seconds at 1,000 bundles). So each changed record is written once: at synthesis, before any fleet
    reads the same file (a second app built in this process sees the first one's placement), and when
    the process exits.
    """

    def __init__(self) -> None:
        self._fleets: dict[int, FunctionFleet] = {}
        self._at_exit = False

    def mark(self, fleet: FunctionFleet) -> None:
        self._fleets[id(fleet)] = fleet
        if not self._at_exit:
            atexit.register(self.flush_all)
            self._at_exit = True

    def discard(self, fleet: FunctionFleet) -> None:
        self._fleets.pop(id(fleet), None)

    def flush(self, path: Path) -> None:
        target = os.path.abspath(path)
        for fleet in [f for f in self._fleets.values() if os.path.abspath(f._placement_path) == target]:
            self.discard(fleet)
            fleet._save_quietly()

    def flush_all(self) -> None:
        """At exit: write what is left, quietly (the jsii kernel may be gone, so no annotations)."""
        for fleet in list(self._fleets.values()):
            self.discard(fleet)
            if not fleet._placement_path.parent.is_dir():  # its directory is gone (a removed temp dir): not recreated
                continue
            with contextlib.suppress(OSError):
                _write_record(fleet._placement_path, fleet._key, fleet._placement, fleet._sizes)


_PENDING = _Pending()


def _known(count: int, stack_id: str) -> int:
    """A spec bundle's size wherever it goes: rendered later, nothing is built to place it."""
    return count


def _nothing(stack_id: str) -> None:
    """Nothing to take back: a spec bundle is only booked until its stack's CfnInclude is made."""


def _is_resource(element: CfnElement) -> bool:
    """Not a template section's element. By class, not by name: ``aws_events.CfnRule`` (an EventBridge rule) is a
    resource, ``aws_cdk.CfnRule`` (the Rules section) is not; matching names counted a schedule bundle one short."""
    from aws_cdk import CfnCondition, CfnMapping, CfnOutput, CfnParameter, CfnRule

    return not isinstance(element, CfnOutput | CfnParameter | CfnCondition | CfnMapping | CfnRule)


def _resources(construct: IConstruct) -> int:
    """The CloudFormation resources in ``construct``'s tree (one jsii call for the walk)."""
    return sum(1 for c in _cdk.node_of(construct).find_all() if isinstance(c, CfnElement) and _is_resource(c))


def _stack_number(stack_id: str) -> int:
    digits = stack_id.removeprefix("Stack")
    return int(digits) if digits.isdigit() else 0


@jsii.implements(IValidation)
class _SavePlacement:
    """Writes the placement record when the app is synthesized (a construct validation runs then)."""

    def __init__(self, fleet: FunctionFleet) -> None:
        self._fleet = fleet

    def validate(self) -> list[str]:
        errors = self._fleet._check_planned_counts()  # before saving: the recorded sizes are then right
        self._fleet._report_over_room()
        try:
            self._fleet.save_placement()
        except OSError as error:
            return [*errors, f"cannot write the placement record {self._fleet._placement_path}: {error}"]
        return errors


def app_directory() -> Path:
    """Where the CDK app lives, so the placement record does not depend on the working directory.

    The directory of the nearest ``cdk.json`` above the entry script (``__main__``: the ``app.py`` that
    ``cdk synth`` runs), else the entry script's own directory. An entry point installed with Python (pytest,
    ``python -m``) or none (``python -c``, a REPL) is no app: then the nearest ``cdk.json`` above the working
    directory, else the working directory itself.
    """
    starts: list[Path] = []
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if isinstance(main_file, str):
        entry = Path(main_file).resolve()
        installed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        if not any(entry.is_relative_to(p) for p in installed):
            starts.append(entry.parent)
    starts.append(Path.cwd())
    for start in starts:
        for directory in (start, *start.parents):
            if (directory / "cdk.json").is_file():
                return directory
    return starts[0]


def _in_ci() -> bool:
    """The ``CI`` environment variable most CI services set (GitHub Actions, GitLab, CircleCI, ...)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _read_record(path: Path, key: str) -> tuple[bool, dict[str, str], dict[str, int]]:
    """Whether the record has this fleet, its placement (bundle id -> stack) and recorded sizes.

    A version-1 record keyed ``path|max_resources_per_stack`` is read too (the entry written last for this
    path), so changing the limit or upgrading keeps every recorded bundle where it is.
    """
    _PENDING.flush(path)  # a fleet of an earlier app in this process may not have written its placement yet
    if not path.exists():
        return False, {}, {}
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ConfigurationError(
            [Problem("placement_file", str(path), "a placement record written by FunctionFleet", str(error))], key
        ) from None
    fleets = data.get("fleets") if isinstance(data, dict) else None
    entry: Any = None
    if isinstance(fleets, dict):
        entry = fleets.get(key)
        if entry is None:
            legacy = [k for k in fleets if isinstance(k, str) and k.rsplit("|", 1)[0] == key and "|" in k]
            entry = fleets[legacy[-1]] if legacy else None
    if entry is None and isinstance(fleets, dict):
        return False, {}, {}
    stacks = entry.get("stacks", {}) if isinstance(entry, dict) else None
    sizes = entry.get("resources", {}) if isinstance(entry, dict) else None
    if (
        not isinstance(stacks, dict)
        or not isinstance(sizes, dict)
        or not all(isinstance(k, str) and isinstance(v, str) and v.startswith("Stack") for k, v in stacks.items())
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes.values())
    ):
        raise ConfigurationError(
            [
                Problem(
                    "placement_file",
                    str(path),
                    "{'fleets': {path: {'stacks': {bundle id: 'StackN'}, 'resources': {bundle id: n}}}}",
                    "edited by hand?",
                )
            ],
            key,
        )
    return True, dict(stacks), {k: v for k, v in sizes.items() if k in stacks}


def _write_record(
    path: Path,
    key: str,
    placement: dict[str, str],
    sizes: dict[str, int],
) -> None:
    """Write the record: this fleet's placement beside the other fleets' (read from the file)."""
    fleets: dict[str, Any] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(existing, dict) and isinstance(existing.get("fleets"), dict):
                fleets.update(existing["fleets"])
        except (OSError, ValueError):
            pass
    for legacy in [k for k in fleets if "|" in k and k.rsplit("|", 1)[0] == key]:
        del fleets[legacy]  # a version-1 entry of this fleet: now under its path alone
    ordered = sorted(placement.items(), key=lambda kv: (_stack_number(kv[1]), kv[0]))
    fleets[key] = {"stacks": dict(ordered), "resources": {k: sizes[k] for k, _ in ordered if k in sizes}}
    text = json.dumps({"version": PLACEMENT_VERSION, "fleets": fleets}, indent=1) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".placement-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
