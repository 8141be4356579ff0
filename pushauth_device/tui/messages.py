"""Messages the app's components and screens post to it: small dataclasses, one per event."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.message import Message

from pushauth_device.accounts import Account
from pushauth_device.tui.state import ConnectionState, QueuedRequest
from pushauth_server.client import PendingChallenge, ResponseResult

__all__ = [
    "AccountRemoved",
    "AnswerFailed",
    "AnswerSent",
    "ChallengeArrived",
    "ChallengeResolved",
    "ConnectionChanged",
    "KeyUnlocked",
    "RequestAnswered",
    "UnlockFailed",
]


@dataclass
class ChallengeArrived(Message):
    """A challenge is pending for ``account`` (live, or found when the stream (re)connected)."""

    account: Account
    challenge: PendingChallenge


@dataclass
class ChallengeResolved(Message):
    """The server settled a challenge (answered elsewhere, expired or cancelled).

    ``replaced_by`` is the newer challenge that cancelled this one, when the server says so.
    """

    challenge_id: str
    status: str
    reason: str | None
    replaced_by: str | None = None


@dataclass
class ConnectionChanged(Message):
    credential_id: str
    state: ConnectionState


@dataclass
class RequestAnswered(Message):
    """The request screen's choice: ``approve`` with the typed number, ``deny`` or ``not_me``."""

    challenge_id: str
    choice: str
    code: str = ""


@dataclass
class AnswerSent(Message):
    """The server took the answer to ``request``; ``result`` is how the challenge ended."""

    request: QueuedRequest
    result: ResponseResult


@dataclass
class AnswerFailed(Message):
    """The answer to ``request`` was not taken; ``answer`` is what was tried, to ask again."""

    request: QueuedRequest
    answer: RequestAnswered
    error: Exception


@dataclass
class KeyUnlocked(Message):
    account: Account
    key: Ed25519PrivateKey


@dataclass
class UnlockFailed(Message):
    account: Account
    error: Exception


@dataclass
class AccountRemoved(Message):
    """The account is gone from this device; ``error`` says why it could not be revoked first
    (its key was gone), or why nothing was removed when ``removed`` is false."""

    account: Account
    removed: bool
    error: Exception | None = None
