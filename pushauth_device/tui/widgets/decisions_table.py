"""Recent decisions: when, what, for whom, and the context it was about."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.widgets import DataTable

from pushauth_device.tui.formatting import date_time
from pushauth_device.tui.history import DecisionRecord
from pushauth_device.visible import visible

__all__ = ["DecisionsTable"]

_STYLES = {
    "approved": "green",
    "denied": "yellow",
    "reported": "bold red",
    "failed": "red",
    "expired": "dim",
    "cancelled": "dim",
    "replaced": "dim",
    "approved elsewhere": "green",
    "denied elsewhere": "yellow",
    "failed elsewhere": "red",
    "resolved elsewhere": "dim",
}


class DecisionsTable(DataTable[Text]):
    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="none")
        self.add_columns("Time", "Decision", "User", "Action", "Context")

    def show(self, records: list[DecisionRecord], *, tz: tzinfo | None) -> None:
        self.clear()
        for record in records:
            self.add_row(
                Text(date_time(record.at_ms, tz)),
                Text(record.outcome, style=_STYLES.get(record.outcome, "")),
                Text(visible(record.user_id)),
                Text(visible(record.action)),
                Text(visible(record.context)),
            )
