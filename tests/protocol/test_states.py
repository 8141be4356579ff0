"""The challenge state machine: only pending moves, only to a terminal state, exactly once."""

from __future__ import annotations

import itertools

import pytest

from pushauth_server.protocol import ChallengeStatus, can_transition

TERMINAL = {
    ChallengeStatus.APPROVED,
    ChallengeStatus.DENIED,
    ChallengeStatus.EXPIRED,
    ChallengeStatus.CANCELLED,
}


def test_the_states_on_the_wire() -> None:
    assert {s.value for s in ChallengeStatus} == {
        "pending",
        "approved",
        "denied",
        "expired",
        "cancelled",
    }


@pytest.mark.parametrize("status", list(ChallengeStatus))
def test_only_pending_is_not_terminal(status: ChallengeStatus) -> None:
    assert status.is_terminal == (status in TERMINAL)


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(ChallengeStatus, ChallengeStatus))
)
def test_transition_table(current: ChallengeStatus, target: ChallengeStatus) -> None:
    allowed = current is ChallengeStatus.PENDING and target in TERMINAL
    assert can_transition(current, target) is allowed
