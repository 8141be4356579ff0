"""Tables never cut an id: at 80 and 120 columns the least useful columns are left out first."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from pushauth_cli.tables import Column, fit, render

COLUMNS = (
    Column("user", is_id=True),
    Column("name"),
    Column("credential id", is_id=True),
    Column("state", wraps=False),
    Column("last used", priority=1, min_width=19),
    Column("enrolled", priority=2, min_width=19),
)
ID = "cr_-U9ZBrXqbfxLw2mWb3kJ8Q"  # the length the server's ids have (25)


def rows(user: str = "alice") -> list[list[Text]]:
    return [
        [
            Text(user),
            Text("Alice's work laptop with a long name"),
            Text(ID),
            Text("active"),
            Text("2026-11-24 10:02:33 CET"),
            Text("2026-11-20 08:00:00 CET"),
        ]
    ]


def printed(width: int, table_rows: list[list[Text]]) -> tuple[str, str]:
    out, notes = io.StringIO(), io.StringIO()
    render(
        Console(file=out, width=width, no_color=True),
        COLUMNS,
        table_rows,
        notes=Console(file=notes, width=width, no_color=True),
    )
    return out.getvalue(), notes.getvalue()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_ids_are_printed_whole_within_the_width(width: int) -> None:
    table, _ = printed(width, rows())
    assert ID in table
    assert "…" not in table
    assert max(len(line) for line in table.splitlines()) <= width


def test_ids_are_printed_whole_even_when_they_alone_are_too_wide() -> None:
    long_user = "a" * 40 + "@example.com"
    table, _ = printed(60, rows(long_user))
    assert ID in table
    assert long_user in table
    assert "…" not in table


def test_less_useful_columns_are_left_out_first_and_that_is_said() -> None:
    table, notes = printed(80, rows())
    assert "enrolled" not in table
    assert "last used" in table
    assert "Left out at 80 columns: enrolled" in notes
    wide, wide_notes = printed(120, rows())
    assert "enrolled" in wide
    assert wide_notes == ""


def test_fit_keeps_priority_zero_columns_even_when_nothing_fits() -> None:
    assert fit(COLUMNS, rows(), 10) == [0, 1, 2, 3]


def test_a_dropped_column_comes_back_when_it_fits_whole() -> None:
    columns = (
        Column("id", is_id=True),
        Column("detail", priority=1, min_width=40),
        Column("user", is_id=True, priority=2),
    )
    row = [[Text(ID), Text("x" * 60), Text("bob")]]
    # "detail" cannot fit at 60 columns; once it is left out, "user" fits whole and stays.
    assert fit(columns, row, 60) == [0, 2]
