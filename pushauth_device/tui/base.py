"""What the app's parts share: its state, and the few methods they call on one another.

:class:`~.app.AuthenticatorApp` is assembled from :class:`~.connections.ConnectionsMixin` (the
streams) and :class:`~.answering.AnsweringMixin` (signing and sending answers); both see the app
through this base, so each file holds one concept and ``mypy`` still checks every attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.app import App

from pushauth_device.accounts import Account, AccountStore
from pushauth_device.tui.history import DecisionLog, Outcome
from pushauth_device.tui.screens.home import HomeScreen
from pushauth_device.tui.screens.request import RequestScreen
from pushauth_device.tui.state import ConnectionState, QueuedRequest, RequestQueue

__all__ = ["AuthenticatorBase"]


class AuthenticatorBase(App[None]):
    store: AccountStore
    clock: Callable[[], int]
    tz: tzinfo | None
    decisions: DecisionLog
    states: dict[str, ConnectionState]
    connect: bool
    reconnect_delay: Callable[[int], float]
    accounts: list[Account]
    requests: RequestQueue
    keys: dict[str, Ed25519PrivateKey]
    answering: set[str]
    home: HomeScreen

    # Declared here so the mixins type-check; AuthenticatorApp implements each one.

    def refresh_home(self) -> None:
        raise NotImplementedError

    def account(self, credential_id: str | None) -> Account | None:
        raise NotImplementedError

    def request_screen(self) -> RequestScreen | None:
        raise NotImplementedError

    def close_request(self, challenge_id: str, text: str, *, severity: str = "information") -> None:
        raise NotImplementedError

    def record(self, queued: QueuedRequest, outcome: Outcome) -> None:
        raise NotImplementedError

    def start_stream(self, account: Account) -> None:
        raise NotImplementedError
