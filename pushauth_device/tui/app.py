"""The full-screen authenticator: ``pushauth-device`` with no arguments plays the phone.

The app holds the state (accounts, connection states, the request queue, recent decisions) and
turns worker messages into screens. Streams run in :mod:`.connections`; signing and sending an
answer in :mod:`.answering`; every error is put into words by :mod:`.problems`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import tzinfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.app import App

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.service import backoff_delay
from pushauth_device.tui.answering import AnsweringMixin
from pushauth_device.tui.connections import ConnectionsMixin
from pushauth_device.tui.history import HISTORY_FILE, DecisionLog, DecisionRecord, Outcome
from pushauth_device.tui.messages import ChallengeArrived, ChallengeResolved, ConnectionChanged
from pushauth_device.tui.screens.enroll import EnrollScreen
from pushauth_device.tui.screens.home import HomeScreen
from pushauth_device.tui.screens.request import RequestScreen
from pushauth_device.tui.state import ConnectionState, QueuedRequest, RequestQueue
from pushauth_device.tui.widgets.challenge_details import summary
from pushauth_server.clock import now_ms

__all__ = ["AuthenticatorApp", "run_app"]


class AuthenticatorApp(ConnectionsMixin, AnsweringMixin, App[None]):
    """``clock`` (ms), ``tz``, ``decisions`` and ``states`` are injectable for fixed snapshots;
    ``connect=False`` opens no stream; ``reconnect_delay(attempt)`` gives the backoff."""

    CSS_PATH = "app.tcss"
    TITLE = "pushauth"
    SUB_TITLE = "authenticator"

    def __init__(
        self,
        store: AccountStore,
        *,
        clock: Callable[[], int] = now_ms,
        tz: tzinfo | None = None,
        decisions: DecisionLog | None = None,
        states: dict[str, ConnectionState] | None = None,
        connect: bool = True,
        reconnect_delay: Callable[[int], float] = backoff_delay,
        device_name: str | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.clock = clock
        self.tz = tz
        self.decisions = decisions or DecisionLog(store.home / HISTORY_FILE)
        self.states: dict[str, ConnectionState] = dict(states or {})
        self.connect = connect
        self.reconnect_delay = reconnect_delay
        self.device_name = device_name or socket.gethostname()
        self.accounts: list[Account] = []
        self.requests = RequestQueue()
        self.keys: dict[str, Ed25519PrivateKey] = {}  # unlocked PIN accounts, this session only
        self.answering: set[str] = set()
        self.last_notice = ""  # the short message the last closed request left
        self.home = HomeScreen()

    def on_mount(self) -> None:
        self.accounts = self.store.load()
        self.push_screen(self.home)
        self.call_after_refresh(self.refresh_home)
        self.set_interval(1.0, self.refresh_home)  # the "next attempt in N s" countdowns
        if not self.accounts:
            self.action_add_account()
        for account in self.accounts:
            self.start_stream(account)

    def refresh_home(self) -> None:
        if self.home.is_mounted:
            self.home.show(
                self.accounts,
                self.states,
                self.decisions.records,
                now_ms=self.clock(),
                tz=self.tz,
            )

    def account(self, credential_id: str | None) -> Account | None:
        return next((a for a in self.accounts if a.credential_id == credential_id), None)

    # Accounts -----------------------------------------------------------------------------

    def action_add_account(self) -> None:
        server = self.accounts[-1].server_url if self.accounts else ""
        screen = EnrollScreen(self.store, device_name=self.device_name, server_url=server)
        self.push_screen(screen, self._enrolled)

    def _enrolled(self, account: Account | None) -> None:
        if account is None:
            return
        self.accounts = self.store.load()
        self.notify(f"Enrolled {account.user_id} on {account.server_url}.")
        if account.require_pin:
            # Enrolling just proved the PIN: unlock without asking again is not possible (the
            # key is not kept), so ask once to start listening.
            self.states[account.credential_id] = ConnectionState(kind="locked")
        self.start_stream(account)
        self.refresh_home()

    # Requests -----------------------------------------------------------------------------

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.states[message.credential_id] = message.state
        self.refresh_home()

    def on_challenge_arrived(self, message: ChallengeArrived) -> None:
        if message.challenge.expires_at_ms <= self.clock():
            return  # expired while it travelled: nothing to answer
        if self.requests.add(QueuedRequest(account=message.account, challenge=message.challenge)):
            self.bell()
            self.show_next_request()

    def on_challenge_resolved(self, message: ChallengeResolved) -> None:
        if message.challenge_id in self.answering:
            return  # our own answer: the answer worker reports it
        queued = self.requests.get(message.challenge_id)
        if queued is None:
            return
        outcome: Outcome
        if message.status == "expired":
            outcome, text = "expired", f"The request for {queued.account.user_id} expired."
        else:
            outcome = "resolved elsewhere"
            text = f"The request for {queued.account.user_id} was {message.status} elsewhere."
        self.record(queued, outcome)
        self.close_request(message.challenge_id, text)

    def request_screen(self) -> RequestScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, RequestScreen)), None)

    def show_next_request(self) -> None:
        current = self.request_screen()
        if current is not None:
            current.set_waiting(len(self.requests) - 1)
            return
        first = self.requests.first()
        if first is not None:
            waiting = len(self.requests) - 1
            self.push_screen(RequestScreen(first, clock=self.clock, tz=self.tz, waiting=waiting))

    def close_request(self, challenge_id: str, text: str, *, severity: str = "information") -> None:
        self.requests.pop(challenge_id)
        screen = self.request_screen()
        if screen is not None and screen.challenge_id == challenge_id:
            while self.screen_stack[-1] is not screen:  # a PIN prompt above it goes too
                self.pop_screen()
            self.pop_screen()
        self.last_notice = text
        self.notify(text, severity=severity)  # type: ignore[arg-type]
        self.show_next_request()
        self.refresh_home()

    def record(self, queued: QueuedRequest, outcome: Outcome) -> None:
        challenge = queued.challenge
        self.decisions.add(
            DecisionRecord(
                at_ms=self.clock(),
                outcome=outcome,
                user_id=challenge.user_id,
                server_url=queued.account.server_url,
                action=challenge.action,
                context=summary(challenge),
            )
        )


def run_app(store: AccountStore) -> None:
    AuthenticatorApp(store).run()
