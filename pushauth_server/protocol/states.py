"""The challenge state machine: pending -> approved | denied | expired | cancelled, exactly once."""

from __future__ import annotations

from enum import StrEnum


class ChallengeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self is not ChallengeStatus.PENDING


class DenialReason(StrEnum):
    USER_DENIED = "user_denied"
    NOT_ME = "not_me"
    WRONG_CODE = "wrong_code"


def can_transition(current: ChallengeStatus, target: ChallengeStatus) -> bool:
    """Only a pending challenge moves, and only to a terminal state."""
    return current is ChallengeStatus.PENDING and target.is_terminal
