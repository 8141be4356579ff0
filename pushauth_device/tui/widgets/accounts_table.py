"""The accounts on this device, each with its connection state."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.widgets import DataTable

from pushauth_device.accounts import Account
from pushauth_device.tui.formatting import clock_time
from pushauth_device.tui.state import ConnectionState

__all__ = ["AccountsTable", "describe_connection"]

_STYLES = {
    "connected": "green",
    "connecting": "dim",
    "reconnecting": "yellow",
    "offline": "red",
    "locked": "cyan",
    "revoked": "bold red",
    "disabled": "bold red",
}


def describe_connection(state: ConnectionState, *, now_ms: int, tz: tzinfo | None) -> Text:
    if state.kind == "reconnecting" and state.next_attempt_ms is not None:
        wait_s = max(0, round((state.next_attempt_ms - now_ms) / 1000))
        label = (
            f"reconnecting: retry {state.attempt} at "
            f"{clock_time(state.next_attempt_ms, tz)} (in {wait_s} s)"
        )
    else:
        label = state.kind
    text = Text(f"● {label}", style=_STYLES.get(state.kind, ""))
    if state.detail and state.kind != "reconnecting":  # the retry time says enough there
        text.append(f": {state.detail}", style="dim")
    return text


class AccountsTable(DataTable[Text]):
    """One row per account; the row key is the credential id."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row")
        self.add_columns("User", "Server", "Device", "PIN", "Connection")

    def show(
        self,
        accounts: list[Account],
        states: dict[str, ConnectionState],
        *,
        now_ms: int,
        tz: tzinfo | None,
    ) -> None:
        row = self.cursor_row
        self.clear()
        for account in accounts:
            state = states.get(account.credential_id, ConnectionState(kind="connecting"))
            self.add_row(
                Text(account.user_id),
                Text(account.server_url),
                Text(account.device_name),
                Text("yes" if account.require_pin else "no"),
                describe_connection(state, now_ms=now_ms, tz=tz),
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
