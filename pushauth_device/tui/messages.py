"""Messages the workers post to the app: small dataclasses, one per thing that happened."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from pushauth_device.accounts import Account
from pushauth_device.tui.state import ConnectionState
from pushauth_server.client import PendingChallenge

__all__ = ["ChallengeArrived", "ChallengeResolved", "ConnectionChanged", "RequestAnswered"]


@dataclass
class ChallengeArrived(Message):
    """A challenge is pending for ``account`` (live, or found when the stream (re)connected)."""

    account: Account
    challenge: PendingChallenge


@dataclass
class ChallengeResolved(Message):
    """The server settled a challenge (answered elsewhere, expired or cancelled)."""

    challenge_id: str
    status: str
    reason: str | None


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
