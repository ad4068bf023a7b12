"""Count (and list) the requests the Python side sends to the jsii kernel: each one is a round trip.

Shared by ``bench/fleet_bench.py`` and ``bench/sync_bench.py``: ``count_kernel_calls()`` wraps every request
method of the kernel's provider once per process and returns the live counter.
"""

from __future__ import annotations

from typing import Any

REQUESTS = ("create", "get", "set", "sget", "sset", "invoke", "sinvoke", "complete", "sync_complete")


def where(request: Any) -> str:
    """``Class.member`` of one kernel request (the class from the object reference, or the static fqn)."""
    member = getattr(request, "method", None) or getattr(request, "property", None) or ""
    objref = getattr(request, "objref", None)
    owner = objref.ref.rsplit("@", 1)[0] if objref is not None else getattr(request, "fqn", "")
    owner = owner.replace("aws-cdk-lib.", "").replace("constructs.", "")
    if type(request).__name__ == "CreateRequest":
        overrides = len(getattr(request, "overrides", None) or ())
        return f"{owner} (new{f', {overrides} overrides' if overrides else ''})"
    return f"{owner}.{member}"


def count_kernel_calls(trace: list[tuple[str, str]] | None = None) -> dict[str, int]:
    """Count (and with ``trace``, list) every request the Python side sends to the jsii kernel."""
    import jsii

    provider = type(jsii.kernel.provider)
    counter = {"calls": 0}
    for name in REQUESTS:
        original = getattr(provider, name, None)
        if original is None:
            continue

        def wrapped(self: Any, request: Any = None, *args: Any, _o: Any = original, _n: str = name, **kw: Any) -> Any:
            counter["calls"] += 1
            if trace is not None:
                trace.append((_n, where(request)))
            return _o(self, request, *args, **kw)

        setattr(provider, name, wrapped)
    return counter
