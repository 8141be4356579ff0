"""Tables that fit the terminal without ever cutting an id a person must copy.

Each column says whether it holds an id (never wrapped, never shortened) and how much it matters.
When the rows do not fit, the least important columns are left out first, then the remaining
text columns wrap; ids are always printed whole. Which columns were left out is said on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

WRAPPED_MIN = 12  # a wrapping column is never narrower than this


@dataclass(frozen=True)
class Column:
    header: str
    is_id: bool = False  # printed whole, on one line, whatever the width
    priority: int = 0  # 0: always shown; higher numbers are left out first
    wraps: bool = True  # a non-id column that may wrap onto several lines
    min_width: int = WRAPPED_MIN  # the narrowest a wrapping column may become


def _natural(column: Column, cells: Sequence[Text]) -> int:
    return max([len(column.header), *(cell.cell_len for cell in cells)])


def _needed(column: Column, cells: Sequence[Text]) -> int:
    natural = _natural(column, cells)
    if column.is_id or not column.wraps:
        return natural
    return min(natural, max(column.min_width, len(column.header)))


def fit(columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int) -> list[int]:
    """The indexes of the columns to show at ``width`` cells, in their order."""
    kept = list(range(len(columns)))
    by_priority = sorted(kept, key=lambda i: columns[i].priority, reverse=True)

    def total(indexes: list[int], size: Callable[[Column, Sequence[Text]], int]) -> int:
        gaps = 2 * (len(indexes) - 1)  # right and left padding between columns
        return gaps + sum(size(columns[i], [row[i] for row in rows]) for i in indexes)

    dropped: list[int] = []
    for index in by_priority:
        if total(kept, _needed) <= width or columns[index].priority == 0:
            break
        kept.remove(index)
        dropped.append(index)
    # A less important column dropped on the way may still fit whole once a wider one is gone.
    for index in reversed(dropped):
        candidate = sorted([*kept, index])
        if total(candidate, _natural) <= width:
            kept = candidate
    return kept


def widths(
    columns: Sequence[Column], rows: Sequence[Sequence[Text]], shown: Sequence[int], width: int
) -> list[int]:
    """Each shown column's width: ids and unwrapped columns whole, the rest share what is left."""
    natural = [_natural(columns[i], [row[i] for row in rows]) for i in shown]
    needed = [_needed(columns[i], [row[i] for row in rows]) for i in shown]
    room = width - 2 * (len(shown) - 1)
    if sum(natural) <= room:
        return natural
    # What is left goes to the columns that need least to be whole, so a time is not wrapped
    # to leave a long detail column a few more cells.
    sizes = list(needed)
    spare = max(0, room - sum(needed))
    for position in sorted(range(len(shown)), key=lambda p: natural[p] - needed[p]):
        grant = min(natural[position] - needed[position], spare)
        sizes[position] += grant
        spare -= grant
    return sizes


def render(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Text]],
    *,
    title: str | None = None,
    notes: Console | None = None,
) -> None:
    """Print ``rows`` on ``console``; say on ``notes`` which columns did not fit.

    Should even the essential columns not fit, the table is printed wider than the terminal
    (which then wraps the lines): an id is never cut.
    """
    shown = fit(columns, rows, console.width)
    sizes = widths(columns, rows, shown, console.width)
    table = Table(
        title=Text(title, style="bold") if title else None,  # text, never markup
        box=None,
        pad_edge=False,
        padding=(0, 1, 0, 1),
        header_style="bold underline",
        title_justify="left",
        width=sum(sizes) + 2 * (len(shown) - 1),
    )
    for index, size in zip(shown, sizes, strict=True):
        column = columns[index]
        if column.is_id or not column.wraps:
            table.add_column(column.header, no_wrap=True, width=size, overflow="ignore")
        else:
            table.add_column(column.header, width=size, overflow="fold")
    for row in rows:
        table.add_row(*(row[index] for index in shown))
    console.print(table, crop=False)
    left_out = [columns[i].header for i in range(len(columns)) if i not in shown]
    if left_out and notes is not None:
        notes.print(
            f"[dim]Left out at {console.width} columns: {', '.join(left_out)} "
            "(widen the terminal, or use --json).[/]"
        )
