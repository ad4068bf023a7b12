"""What a prototype bundle acknowledges and annotates, recorded so a rendered bundle can do the same.

``FunctionFleet.add_specs`` builds one prototype per distinct spec; the rule-pack acknowledgements and
the annotations its constructs make are tied to those constructs, which a rendered bundle does not have.
While `recording()` is open, `acknowledge_all()` and `annotate()` also note (kind, construct path,
payload) here, in pure Python; the renderer applies them to the included resources under that path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from constructs import IConstruct

from lambda_constructs._cdk.paths import path_of

_OPEN: list[list[tuple[str, str, object]]] = []


def record(kind: str, scope: IConstruct, payload: object) -> None:
    if _OPEN:
        _OPEN[-1].append((kind, path_of(scope), payload))


def is_open() -> bool:
    """Whether a prototype bundle is being recorded (`record()` notes what it is given)."""
    return bool(_OPEN)


@contextmanager
def recording() -> Iterator[list[tuple[str, str, object]]]:
    entries: list[tuple[str, str, object]] = []
    _OPEN.append(entries)
    try:
        yield entries
    finally:
        _OPEN.remove(entries)
