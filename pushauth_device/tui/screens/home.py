"""Home: whether requests can arrive, the accounts with their connection, and recent decisions."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from pushauth_device.accounts import Account
from pushauth_device.tui.history import DecisionRecord
from pushauth_device.tui.state import ConnectionState
from pushauth_device.tui.widgets.accounts_table import AccountsTable, problem_lines
from pushauth_device.tui.widgets.decisions_table import DecisionsTable

__all__ = ["HomeScreen", "banner"]

EMPTY = "No accounts yet. Press a to add one."


def banner(accounts: list[Account], states: dict[str, ConnectionState]) -> tuple[str, str]:
    """What the top line says, and its style class (``ok``, ``wait`` or ``bad``).

    It says "waiting for sign-in requests" only when some account can receive them, and names
    what to do otherwise: a PIN account does nothing until it is unlocked with u.
    """
    if not accounts:
        return EMPTY, "wait"
    kinds = {
        a.credential_id: states.get(a.credential_id, ConnectionState(kind="connecting")).kind
        for a in accounts
    }
    connected = [a for a in accounts if kinds[a.credential_id] == "connected"]
    locked = [a for a in accounts if kinds[a.credential_id] == "locked"]
    unlock = ""
    if locked:
        names = ", ".join(a.label for a in locked)
        unlock = f"Press u to unlock {names} with its PIN and receive its requests."
    if connected:
        text = "Waiting for sign-in requests. They open here by themselves."
        if locked:
            text += f" {unlock}"
        return text, "ok"
    if locked:
        return f"Not receiving requests yet. {unlock}", "wait"
    if any(kind in ("connecting", "reconnecting") for kind in kinds.values()):
        return "Connecting… Requests open here once an account is connected.", "wait"
    return "No account can receive sign-in requests: see why below.", "bad"


class HomeScreen(Screen[None]):
    BINDINGS = [
        # Short words, so that all of them (Quit too) fit in the footer at 80 columns.
        Binding("a", "app.add_account", "Add"),
        Binding("x", "app.remove_account", "Revoke"),
        Binding("u", "app.unlock_account", "Unlock PIN"),
        Binding("r", "app.retry_now", "Reconnect"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY, id="idle", markup=False)
        with VerticalScroll(id="home-body"):
            yield Static("Accounts", classes="section")
            yield AccountsTable(id="accounts")
            yield Static("", id="problems")
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
        problem: str = "",
    ) -> None:
        idle = next(self.query("#idle").results(Static), None)
        problems = next(self.query("#problems").results(Static), None)
        table = next(self.query(AccountsTable).results(), None)
        history = next(self.query(DecisionsTable).results(), None)
        if idle is None or problems is None or table is None or history is None:
            return  # being composed or torn down (app quitting): the next refresh shows it
        if problem:
            text, style = problem, "bad"
        else:
            text, style = banner(accounts, states)
        idle.update(text)
        idle.set_classes(style)
        lines = problem_lines(accounts, states, tz=tz)
        problems.update(Text("\n").join(lines))
        problems.display = bool(lines)
        table.show(accounts, states, now_ms=now_ms)
        history.show(decisions, tz=tz)

    @property
    def selected_account(self) -> str | None:
        return self.query_one(AccountsTable).selected
