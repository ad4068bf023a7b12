"""Per-scope defaults (an alarm topic, an encryption key) found from any construct by walking up to its App.

``default_alarm_topic(scope, topic)`` and ``default_encryption_key(scope, key)`` record a value on an App,
Stage or Stack; a construct takes the nearest one above it. The registry is keyed by the Python object's
id (jsii hands back the same Python object for the same construct, so identity is enough). The walk
happens once per stack (``node.scope`` per level) and its result is kept on the stack under ``attr``; a
generation counter invalidates those caches when a default is set, and no jsii round trip happens at
all while no default was ever set.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from lambda_constructs._cdk.paths import node_of, stack_of

T = TypeVar("T")


class ScopeDefaults(Generic[T]):
    """One kind of default: ``set(scope, value)`` records it, ``nearest(construct)`` finds it."""

    def __init__(self, attr: str) -> None:
        self._attr = attr  # the per-stack cache attribute
        self._values: dict[int, tuple[Any, T]] = {}
        self._generation = 0

    def set(self, scope: Any, value: T) -> T | None:
        """Record ``value`` as the default of ``scope`` unless it already has another one (one default per scope).

        Returns None when ``value`` is now the default, else the other value, left in place.
        """
        previous = self._values.get(id(scope))
        if previous is not None and previous[0] is scope:
            return None if previous[1] is value else previous[1]
        self._values[id(scope)] = (scope, value)
        self._generation += 1
        return None

    def nearest(self, scope: Any) -> T | None:
        """The default of ``scope``'s stack, a parent stack, its stage or its app; None when there is none."""
        if not self._values:
            return None
        stack = stack_of(scope)
        cached: tuple[int, T | None] | None = getattr(stack, self._attr, None)
        if cached is not None and cached[0] == self._generation:
            return cached[1]
        found: T | None = None
        current: Any = stack
        while current is not None:
            entry = self._values.get(id(current))
            if entry is not None and entry[0] is current:
                found = entry[1]
                break
            current = node_of(current).scope
        object.__setattr__(stack, self._attr, (self._generation, found))
        return found
