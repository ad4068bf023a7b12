"""Plain-text tables that fit a width: cells wrap inside their column, or rows become records. Pure Python."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Collection, Sequence

GAP = 2
LONGEST_UNBROKEN = 20  # words up to this long are never broken; longer ones (paths) may be


def terminal_width() -> int | None:
    """The terminal's columns when stdout is one (or ``$COLUMNS`` is set); None when piped: no wrapping."""
    if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def render(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, width: int | None = None, right: Collection[int] = ()
) -> str:
    """``header`` and ``rows`` as aligned columns (``right``: indexes of right-aligned columns).

    With ``width`` (a terminal's columns), the widest columns wrap until the table fits; when even
    the narrowest wrapping cannot fit, each row is printed as a record of ``name: value`` lines.
    """
    count = len(header)
    natural = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    widths = list(natural)
    if width is not None and _total(widths) > width:
        floor = [min(natural[i], _longest_word(column)) for i, column in enumerate(zip(header, *rows, strict=True))]
        while _total(widths) > width:
            i = max(range(count), key=lambda k: widths[k] - floor[k])
            if widths[i] <= floor[i]:
                return records(header, rows)
            widths[i] -= 1
    lines = _lines(header, widths, right)
    lines.append((" " * GAP).join("-" * w for w in widths))
    for row in rows:
        lines += _lines(row, widths, right)
    return "\n".join(line.rstrip() for line in lines)


def records(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """One ``name: value`` line per column, a blank line between rows: readable at any width."""
    key = max(len(h) for h in header)
    return "\n\n".join(
        "\n".join(f"{h.rjust(key)}: {cell}" for h, cell in zip(header, row, strict=True)) for row in rows
    )


def _longest_word(column: Sequence[str]) -> int:
    longest = max((len(word) for cell in column[1:] for word in cell.split()), default=1)
    return max(min(longest, LONGEST_UNBROKEN), *(len(word) for word in column[0].split()))


def _total(widths: Sequence[int]) -> int:
    return sum(widths) + GAP * (len(widths) - 1)


def _lines(cells: Sequence[str], widths: Sequence[int], right: Collection[int]) -> list[str]:
    wrapped = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(cells, widths, strict=True)]
    height = max(len(parts) for parts in wrapped)
    return [
        (" " * GAP).join(
            (parts[j] if j < len(parts) else "").rjust(w)
            if i in right
            else (parts[j] if j < len(parts) else "").ljust(w)
            for i, (parts, w) in enumerate(zip(wrapped, widths, strict=True))
        )
        for j in range(height)
    ]
