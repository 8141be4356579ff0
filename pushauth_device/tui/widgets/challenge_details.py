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

__all__ = ["ChallengeDetails", "about", "detail_rows", "request_title", "summary"]


def summary(challenge: PendingChallenge, *, application: bool = True) -> str:
    """One line for the decisions list, as sent (the asking application first, unless
    ``application`` is false): pass it through ``visible`` to show it."""
    parts = [
        challenge.shown.get(spec.name, "")
        for spec in CONTEXT_FIELDS
        if spec.summary and (application or not spec.server_supplied)
    ]
    return " · ".join(p for p in parts if p) or "—"


def about(challenge: PendingChallenge) -> str:
    """One line saying which application asks for what, as sent: pass it through ``visible``."""
    asking = challenge.shown.get("application", "") or NO_APP
    return f"Request from {asking}: {challenge.action} · {summary(challenge, application=False)}"


def request_title(challenge: PendingChallenge) -> Text:
    """The request's title: which application asks, as the server names it (from its records,
    never from the relying party) and signed with the rest; first and prominent."""
    application = challenge.shown.get("application", "")
    if not application:  # a request created before the server named applications
        return Text(f"Sign-in request (application: {NO_APP})")
    title = Text("Sign-in request from ")
    title.append(visible(application), style="underline")
    return title


def detail_rows(
    account: Account, challenge: PendingChallenge, tz: tzinfo | None
) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order shown, under the title that names the asking
    application (:func:`request_title`); empty context fields are left out.

    Every value (and every custom field's name) is made visible: what a relying party sends is
    shown exactly as sent, escapes and all, never interpreted."""
    c = challenge
    rows = [("User", c.user_id), ("Server", account.server_url), ("Action", c.action)]
    optional = (
        (spec.label, c.shown.get(spec.name, ""))
        for spec in CONTEXT_FIELDS
        if not spec.server_supplied
    )
    rows.extend((label, value) for label, value in optional if value)
    # The relying party names its custom fields: marked, so a field it calls "Server" or
    # "Application" never passes for one the server supplies.
    rows.extend((f"{key} (custom)", value) for key, value in sorted(c.custom.items()))
    rows = [(visible(label), visible(value)) for label, value in rows]
    rows.append(("Requested", date_time(c.created_at_ms, tz)))
    return rows


class ChallengeDetails(Static):
    def __init__(
        self, account: Account, challenge: PendingChallenge, *, tz: tzinfo | None, id: str
    ) -> None:
        super().__init__(id=id)
        self.rows = detail_rows(account, challenge, tz)

    def on_mount(self) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for label, value in self.rows:
            # Text, not markup: what a relying party sends is shown exactly as sent.
            table.add_row(Text(label), Text(value, overflow="fold"))
        self.update(table)
