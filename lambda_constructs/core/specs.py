"""`WorkerSpec`: one fleet bundle as data (a function and its one event source), for `FunctionFleet.add_specs`.

Pure Python: a spec is the keywords of ``ProductionFunction`` and of one source construct
(``QueueConsumer``, ``StreamConsumer`` or ``ScheduledFunction``), nothing more. What it builds is
exactly what this ``fleet.add`` builds (the function's id is the spec's id, the source's id the spec's id
plus ``Queue``, ``Stream`` or ``Schedule``)::

    fleet.add(id, lambda scope, i: QueueConsumer(scope, f"{i}Queue", function=ProductionFunction(scope, i, **function),
                                                 **queue))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lambda_constructs.core.errors import Problem

SourceKind = Literal["queue", "stream", "schedule"]
SOURCE_SUFFIX: dict[str, str] = {"queue": "Queue", "stream": "Stream", "schedule": "Schedule"}


@dataclass(frozen=True)
class WorkerSpec:
    """A function and exactly one event source, as keyword dictionaries.

    Args:
        id: the bundle's id in the fleet, and the function's construct id.
        function: ``ProductionFunction`` keywords (``code``, ``handler``, ``p99`` / ``sizing`` / ``timeout``, ...).
        queue: ``QueueConsumer`` keywords (without ``function``); or
        stream: ``StreamConsumer`` keywords (without ``function``); or
        schedule: ``ScheduledFunction`` keywords (without ``function``).
    """

    id: str
    function: Mapping[str, Any] = field(default_factory=dict)
    queue: Mapping[str, Any] | None = None
    stream: Mapping[str, Any] | None = None
    schedule: Mapping[str, Any] | None = None

    @property
    def kind(self) -> SourceKind | None:
        given = self.sources()
        return given[0] if len(given) == 1 else None  # type: ignore[return-value]

    def sources(self) -> list[str]:
        return [k for k in ("queue", "stream", "schedule") if getattr(self, k) is not None]

    @property
    def source_props(self) -> Mapping[str, Any]:
        kind = self.kind
        return {} if kind is None else getattr(self, kind)

    def problems(self) -> list[Problem]:
        """What is wrong with the spec's shape (the props themselves are checked by the constructs)."""
        found: list[Problem] = []
        if not isinstance(self.id, str) or not self.id or "/" in self.id:
            found.append(Problem("id", self.id, "a non-empty string without '/'"))
        if not isinstance(self.function, Mapping):
            found.append(Problem("function", self.function, "a dict of ProductionFunction keywords"))
        given = self.sources()
        if len(given) != 1:
            found.append(
                Problem(
                    "queue/stream/schedule",
                    ", ".join(given) or "none",
                    "exactly one of queue=dict(...), stream=dict(...), schedule=dict(...)",
                )
            )
        for kind in given:
            props = getattr(self, kind)
            if not isinstance(props, Mapping):
                found.append(Problem(kind, props, f"a dict of {SOURCE_CLASS[kind]} keywords"))
            elif "function" in props:
                found.append(Problem(f"{kind}['function']", "set", "absent: the spec's function is the target"))
        return found


SOURCE_CLASS = {"queue": "QueueConsumer", "stream": "StreamConsumer", "schedule": "ScheduledFunction"}
