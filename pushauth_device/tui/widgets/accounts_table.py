"""The accounts on this device, each with its connection state in a few words.

The full reason of a problem (and what to do) is not squeezed into a cell: the home screen shows
it below the table, wrapped (:func:`problem_lines`).
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.widgets import DataTable

from pushauth_device.accounts import Account
from pushauth_device.tui.formatting import clock_time
from pushauth_device.tui.state import ConnectionState
from pushauth_device.visible import visible

__all__ = ["AccountsTable", "describe_connection", "problem_lines"]

_STYLES = {
    "connected": "green",
    "connecting": "dim",
    "reconnecting": "yellow",
    "offline": "red",
    "locked": "cyan",
    "revoked": "bold red",
    "disabled": "bold red",
}
_SHORT = {
    "locked": "locked: press u",
    "offline": "offline: see below",
    "revoked": "revoked: see below",
    "disabled": "disabled: see below",
}


def describe_connection(state: ConnectionState, *, now_ms: int) -> Text:
    if state.kind == "reconnecting" and state.next_attempt_ms is not None:
        wait_s = max(0, round((state.next_attempt_ms - now_ms) / 1000))
        label = f"retry {state.attempt} in {wait_s} s"
    else:
        label = _SHORT.get(state.kind, state.kind)
    return Text(f"● {label}", style=_STYLES.get(state.kind, ""))


def problem_lines(
    accounts: list[Account],
    states: dict[str, ConnectionState],
    *,
    tz: tzinfo | None,
) -> list[Text]:
    """One wrapped paragraph per reason an account cannot receive requests, naming the accounts
    it applies to (a locked keyring is said once, not once per account), and what to do."""
    grouped: dict[tuple[str, str], list[Account]] = {}
    for account in accounts:
        state = states.get(account.credential_id)
        if state is None or state.kind in ("connected", "connecting"):
            continue
        if state.kind == "locked":
            detail = state.detail or "asks for its PIN: press u and type it to receive requests."
        elif state.kind == "reconnecting" and state.next_attempt_ms is not None:
            at = clock_time(state.next_attempt_ms, tz)
            detail = f"reconnecting (retry {state.attempt} at {at}; r retries now): {state.detail}"
        else:
            detail = state.detail
        grouped.setdefault((state.kind, detail.strip()), []).append(account)
    lines: list[Text] = []
    for (kind, detail), which in grouped.items():
        names = ", ".join(a.label for a in which)
        line = Text(f"● {names}: ", style=_STYLES.get(kind, ""))
        line.append(detail)
        lines.append(line)
    return lines


class AccountsTable(DataTable[Text]):
    """One row per account; the row key is the credential id."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row")
        # Most important first: on a narrow terminal the last columns are the ones cut.
        # The application it enrolled through before the server: that is how a person tells
        # their accounts apart; the server's URL is in every request too.
        self.add_columns("User", "Connection", "App", "Server", "PIN", "Device")

    def show(
        self,
        accounts: list[Account],
        states: dict[str, ConnectionState],
        *,
        now_ms: int,
    ) -> None:
        row = self.cursor_row
        self.clear()
        for account in accounts:
            state = states.get(account.credential_id, ConnectionState(kind="connecting"))
            self.add_row(
                Text(visible(account.user_id)),
                describe_connection(state, now_ms=now_ms),
                Text(account.app_title),
                Text(visible(account.server_url)),
                Text("yes" if account.require_pin else "no"),
                Text(visible(account.device_name)),
                key=account.credential_id,
            )
        if accounts:
            self.move_cursor(row=min(row, len(accounts) - 1))

    @property
    def selected(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return key.value
