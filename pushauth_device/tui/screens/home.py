"""Home: the accounts with their connection state, and the recent decisions."""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from pushauth_device.accounts import Account
from pushauth_device.tui.history import DecisionRecord
from pushauth_device.tui.state import ConnectionState
from pushauth_device.tui.widgets.accounts_table import AccountsTable
from pushauth_device.tui.widgets.decisions_table import DecisionsTable

__all__ = ["HomeScreen"]

IDLE = "Waiting for sign-in requests. They open here by themselves."
EMPTY = "No accounts yet. Press a to add one."


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "app.add_account", "Add account"),
        Binding("x", "app.remove_account", "Revoke account"),
        Binding("u", "app.unlock_account", "Unlock (PIN)"),
        Binding("r", "app.retry_now", "Reconnect now"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(IDLE, id="idle", markup=False)
        yield Static("Accounts", classes="section")
        yield AccountsTable(id="accounts")
        yield Static("Recent decisions", classes="section")
        yield DecisionsTable(id="decisions")
        yield Footer()

    def show(
        self,
        accounts: list[Account],
        states: dict[str, ConnectionState],
        decisions: list[DecisionRecord],
        *,
        now_ms: int,
        tz: tzinfo | None,
    ) -> None:
        idle = next(self.query("#idle").results(Static), None)
        table = next(self.query(AccountsTable).results(), None)
        history = next(self.query(DecisionsTable).results(), None)
        if idle is None or table is None or history is None:
            return  # being composed or torn down (app quitting): the next refresh shows it
        idle.update(IDLE if accounts else EMPTY)
        table.show(accounts, states, now_ms=now_ms, tz=tz)
        history.show(decisions, tz=tz)

    @property
    def selected_account(self) -> str | None:
        return self.query_one(AccountsTable).selected
