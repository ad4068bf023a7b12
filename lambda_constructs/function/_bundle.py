"""The bundle a ``FunctionFleet.add`` is building: what the library's constructs tell the fleet, in Python.

While ``build(scope, id)`` runs, the fleet keeps a `Bundle` open. The library's planned
constructs made directly in the bundle's stack note their plan's resource count there, so the fleet
need not walk their trees through jsii; a ProductionFunction defers its Metadata record there, so the
alarms its event sources add are counted before the record is written once (when ``build`` returns).
Pure Python: nothing here talks to jsii.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_OPEN: list[Bundle] = []  # bundles being built, innermost last (a build may add to another fleet)


class Bundle:
    """One ``fleet.add`` in progress."""

    def __init__(self, stack: object) -> None:
        self.stack = stack
        self.counts: dict[str, int | None] = {}  # id of a direct child of the stack -> its planned resources
        self.deferred: list[Callable[[], None]] = []  # metadata writes, run once when the bundle closes

    def close(self) -> None:
        """Run the deferred writes (also when ``build`` raised: nothing is left half-written)."""
        writes, self.deferred = self.deferred, []
        for write in writes:
            write()


def open_bundle(stack: object) -> Bundle:
    bundle = Bundle(stack)
    _OPEN.append(bundle)
    return bundle


def close_bundle(bundle: Bundle) -> None:
    _OPEN.remove(bundle)
    bundle.close()


def current() -> Bundle | None:
    """The innermost bundle being built, if any."""
    return _OPEN[-1] if _OPEN else None


def note(construct: object, scope: object, id: str, count: int | None) -> None:
    """A planned ``construct`` made as ``id`` in ``scope``: its resource count, if ``scope`` is the bundle's stack."""
    bundle = current()
    if bundle is not None and scope is bundle.stack:
        bundle.counts[id] = count
        object.__setattr__(construct, "_lc_bundle_id", id)


def unknown(construct: Any) -> None:
    """``construct`` was changed after its plan (a method that may add resources): its count is not known."""
    bundle = current()
    owner = getattr(construct, "_lc_bundle_id", None)
    if bundle is not None and owner is not None and owner in bundle.counts:
        bundle.counts[owner] = None
