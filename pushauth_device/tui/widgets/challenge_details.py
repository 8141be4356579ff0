"""Who and what a request is about: everything the device displays (and signs the hash of)."""

from __future__ import annotations

from datetime import tzinfo

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from pushauth_device.accounts import NO_APP, Account
from pushauth_device.tui.formatting import date_time
from pushauth_device.visible import visible
from pushauth_server.client import PendingChallenge
from pushauth_server.protocol import CONTEXT_FIELDS

__all__ = ["ChallengeDetails", "asking", "detail_rows", "summary"]


def summary(challenge: PendingChallenge) -> str:
    """One line for the decisions list, as sent: pass it through ``visible`` to show it."""
    parts = [challenge.shown.get(spec.name, "") for spec in CONTEXT_FIELDS if spec.summary]
    return " · ".join(p for p in parts if p) or "—"


def asking(challenge: PendingChallenge) -> list[tuple[str, str]]:
    """The fields the server supplies (the asking application), as sent: always shown, first;
    a dash when the server named none (a request created before it did)."""
    return [
        (spec.label, challenge.shown.get(spec.name, "") or NO_APP)
        for spec in CONTEXT_FIELDS
        if spec.server_supplied
    ]


def detail_rows(
    account: Account, challenge: PendingChallenge, tz: tzinfo | None
) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order shown: the asking application first, then who and
    what; empty context fields are left out.

    Every value (and every custom field's name) is made visible: what a relying party sends is
    shown exactly as sent, escapes and all, never interpreted."""
    c = challenge
    rows = asking(c)
    rows += [("User", c.user_id), ("Server", account.server_url), ("Action", c.action)]
    optional = (
        (spec.label, c.shown.get(spec.name, ""))
        for spec in CONTEXT_FIELDS
        if not spec.server_supplied
    )
    rows.extend((label, value) for label, value in optional if value)
    rows.extend(sorted(c.custom.items()))
    rows = [(visible(label), visible(value)) for label, value in rows]
    rows.append(("Requested", date_time(c.created_at_ms, tz)))
    return rows


class ChallengeDetails(Static):
    def __init__(
        self, account: Account, challenge: PendingChallenge, *, tz: tzinfo | None, id: str
    ) -> None:
        super().__init__(id=id)
        self.rows = detail_rows(account, challenge, tz)
        self.prominent = len(asking(challenge))  # the first rows: which application asks

    def on_mount(self) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for n, (label, value) in enumerate(self.rows):
            # Text, not markup: what a relying party sends is shown exactly as sent.
            style = "bold reverse" if n < self.prominent else ""
            table.add_row(Text(label), Text(value, style=style, overflow="fold"))
            if n == self.prominent - 1:
                table.add_row("", "")  # set apart from who and what
        self.update(table)
