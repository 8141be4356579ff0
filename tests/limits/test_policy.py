"""The push-bombing rules as pure functions: every rule fails its test if it is removed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pushauth_server import errors
from pushauth_server.domain.limits.policy import (
    LimitState,
    after_outcome,
    check_create,
    unlocked,
    window_since,
)
from pushauth_server.protocol import ChallengeStatus
from tests.support.settings import TestSettings

SETTINGS = TestSettings(api_key="k")
NOW = 1_800_000_000_000
FRESH = LimitState(user_id="alice")


def create(state: LimitState, *, recent: int = 0, pending: int = 0, replace_pending: bool = False):  # type: ignore[no-untyped-def]
    return check_create(
        state,
        recent=recent,
        pending=pending,
        replace_pending=replace_pending,
        now_ms=NOW,
        settings=SETTINGS,
    )


def test_a_fresh_user_may_create() -> None:
    assert create(FRESH) is None


def test_one_pending_challenge_per_user_unless_replacing() -> None:
    refusal = create(FRESH, pending=1)
    assert refusal is not None
    assert isinstance(refusal.error, errors.PendingChallengeExists)
    assert create(FRESH, pending=1, replace_pending=True) is None


def test_sixth_challenge_in_the_window_is_refused_with_30_s() -> None:
    assert create(FRESH, recent=4) is None
    refusal = create(FRESH, recent=5)
    assert refusal is not None
    assert isinstance(refusal.error, errors.RateLimited)
    assert refusal.error.status_code == 429
    assert refusal.error.details["retry_after_seconds"] == 30
    assert refusal.state.rate_strikes == 1
    assert refusal.state.rate_blocked_until_ms == NOW + 30_000


def test_delay_doubles_up_to_one_hour() -> None:
    delays = []
    state = FRESH
    for _ in range(10):
        refusal = create(replace(state, rate_blocked_until_ms=None), recent=5)
        assert refusal is not None
        delays.append(refusal.error.details["retry_after_seconds"])
        state = refusal.state
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == 3600
    assert delays[-1] == 3600


def test_while_blocked_refusals_do_not_extend_the_block() -> None:
    blocked = replace(FRESH, rate_strikes=1, rate_blocked_until_ms=NOW + 10_000)
    refusal = create(blocked, recent=0)
    assert refusal is not None
    assert refusal.state == blocked
    assert refusal.error.details["retry_after_seconds"] == 10


def test_window_starts_at_last_approval() -> None:
    approved_recently = replace(FRESH, window_start_ms=NOW - 1_000)
    assert window_since(approved_recently, now_ms=NOW, settings=SETTINGS) == NOW - 1_000
    assert window_since(FRESH, now_ms=NOW, settings=SETTINGS) == NOW - 900_000


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ChallengeStatus.DENIED, "user_denied"),
        (ChallengeStatus.DENIED, "wrong_code"),
        (ChallengeStatus.EXPIRED, None),
    ],
)
def test_three_failures_in_a_row_lock_for_15_minutes(
    status: ChallengeStatus, reason: str | None
) -> None:
    state = FRESH
    locks = []
    for _ in range(3):
        state, locked = after_outcome(
            state, status=status, reason=reason, now_ms=NOW, settings=SETTINGS
        )
        locks.append(locked)
    assert locks == [None, None, "failures"]
    assert state.locked_until_ms == NOW + 900_000
    refusal = create(state)
    assert refusal is not None
    assert isinstance(refusal.error, errors.UserLocked)
    assert refusal.error.details["until"] is not None


def test_cancellation_is_not_a_failure_and_does_not_reset_the_count() -> None:
    state, _ = after_outcome(
        FRESH, status=ChallengeStatus.DENIED, reason="user_denied", now_ms=NOW, settings=SETTINGS
    )
    state, _ = after_outcome(
        state, status=ChallengeStatus.CANCELLED, reason=None, now_ms=NOW, settings=SETTINGS
    )
    assert state.consecutive_failures == 1


def test_approval_resets_failures_strikes_and_window() -> None:
    state = replace(FRESH, consecutive_failures=2, rate_strikes=3)
    after, locked = after_outcome(
        state, status=ChallengeStatus.APPROVED, reason=None, now_ms=NOW, settings=SETTINGS
    )
    assert locked is None
    assert after.consecutive_failures == 0
    assert after.rate_strikes == 0
    assert after.window_start_ms == NOW


def test_not_me_locks_until_unlocked_whatever_the_time() -> None:
    state, locked = after_outcome(
        FRESH, status=ChallengeStatus.DENIED, reason="not_me", now_ms=NOW, settings=SETTINGS
    )
    assert locked == "not_me"
    far_future = check_create(
        state, recent=0, pending=0, replace_pending=False, now_ms=NOW + 10**12, settings=SETTINGS
    )
    assert far_future is not None
    assert isinstance(far_future.error, errors.UserLocked)
    assert far_future.error.details["until"] is None
    assert create(unlocked(state, now_ms=NOW)) is None


def test_an_expired_failure_lock_lets_the_user_try_again() -> None:
    state = replace(FRESH, locked_until_ms=NOW - 1)
    assert create(state) is None
