"""What the app knows at a moment: each account's connection, and the queue of requests."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from pushauth_device.accounts import Account
from pushauth_server.client import PendingChallenge

__all__ = ["ConnectionKind", "ConnectionState", "QueuedRequest", "RequestQueue"]

ConnectionKind = Literal[
    "connecting", "connected", "reconnecting", "offline", "locked", "revoked", "disabled"
]


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionState:
    kind: ConnectionKind
    detail: str = ""
    next_attempt_ms: int | None = None  # when reconnecting
    attempt: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class QueuedRequest:
    account: Account
    challenge: PendingChallenge


class RequestQueue:
    """Pending requests in arrival order; the first is the one on screen."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, QueuedRequest] = OrderedDict()

    def add(self, request: QueuedRequest) -> bool:
        """Queue it; ``False`` if it was already there (a reconnect re-sends what is pending)."""
        challenge_id = request.challenge.challenge_id
        if challenge_id in self._items:
            return False
        self._items[challenge_id] = request
        return True

    def pop(self, challenge_id: str) -> QueuedRequest | None:
        return self._items.pop(challenge_id, None)

    def get(self, challenge_id: str) -> QueuedRequest | None:
        return self._items.get(challenge_id)

    def first(self) -> QueuedRequest | None:
        return next(iter(self._items.values()), None)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, challenge_id: object) -> bool:
        return challenge_id in self._items
