"""A plan's notes as construct annotations (``Annotations.of`` only when there is something to say)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Annotations
from constructs import IConstruct

from lambda_constructs._cdk import recording
from lambda_constructs.core.plans.common import Note


def annotate(scope: IConstruct, notes: Iterable[Note]) -> None:
    """Add each note to ``scope``, in order: ``info`` as info, anything else as a warning with its id."""
    notes = list(notes)
    if notes:
        recording.record("notes", scope, notes)
    annotations: Annotations | None = None
    for note in notes:
        if annotations is None:
            annotations = Annotations.of(scope)
        if note.level == "info":
            annotations.add_info(note.message)
        else:
            annotations.add_warning_v2(note.id, note.message)
