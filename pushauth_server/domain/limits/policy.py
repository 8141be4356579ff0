"""The push-bombing rules, as pure functions over a user's stored limit state.

The attack (Uber, 2022): with a stolen password, send approval requests until a tired user taps
Approve. Number matching is the first wall; these are the rest (NIST SP 800-63B-4 §3.1.3.2,
§3.2.2):

* one pending challenge per user, so the device never shows two at once;
* at most N challenges in a window without an approval, then refusals with a delay that doubles;
* consecutive failures (denials, wrong codes, expiries) lock push sign-in for a while — creating
  a new challenge never resets the count;
* a "this wasn't me" report locks push sign-in until an operator unlocks it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pushauth_server import errors
from pushauth_server.clock import iso
from pushauth_server.protocol import ChallengeStatus, DenialReason
from pushauth_server.settings import Settings


@dataclass(frozen=True, kw_only=True)
class LimitState:
    user_id: str
    consecutive_failures: int = 0
    locked_until_ms: int | None = None
    locked_not_me: bool = False
    rate_strikes: int = 0
    rate_blocked_until_ms: int | None = None
    window_start_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class Refusal:
    error: errors.PushAuthError
    state: LimitState  # to store: a refusal can itself change the state (a new strike)
    reason: str


def window_since(state: LimitState, *, now_ms: int, settings: Settings) -> int:
    """Count challenges created at or after this time: the window, cut at the last approval."""
    return max(state.window_start_ms, now_ms - round(settings.challenge_window_seconds * 1000))


def check_create(
    state: LimitState,
    *,
    recent: int,
    pending: int,
    replace_pending: bool,
    now_ms: int,
    settings: Settings,
    pending_of_others: int = 0,
) -> Refusal | None:
    """Whether a new challenge for this user may be created now; ``None`` when it may.

    ``pending_of_others``: of ``pending``, those a replacement may not cancel (another
    application's, for an application without ``admin``)."""
    user = state.user_id
    if state.locked_not_me:
        return Refusal(
            error=errors.UserLocked(
                f"Push sign-in for {user!r} is locked: the user reported a sign-in they did not "
                f"start. An operator must unlock it: pushauth unlock {user}",
                user_id=user,
                reason="not_me",
                until=None,
            ),
            state=state,
            reason="locked_not_me",
        )
    if state.locked_until_ms is not None and state.locked_until_ms > now_ms:
        return Refusal(
            error=errors.UserLocked(
                f"Push sign-in for {user!r} is locked after {settings.max_consecutive_failures} "
                f"failed attempts in a row, until {iso(state.locked_until_ms)}.",
                user_id=user,
                reason="failures",
                until=iso(state.locked_until_ms),
                retry_after_seconds=(state.locked_until_ms - now_ms) / 1000,
            ),
            state=state,
            reason="locked_failures",
        )
    if state.rate_blocked_until_ms is not None and state.rate_blocked_until_ms > now_ms:
        return _rate_refusal(state, state.rate_blocked_until_ms, now_ms)
    if recent >= settings.challenge_window_max:
        delay_ms = round(
            min(
                settings.rate_delay_initial_seconds * 2 ** min(state.rate_strikes, 32),
                settings.rate_delay_max_seconds,
            )
            * 1000
        )
        until = now_ms + delay_ms
        struck = replace(state, rate_strikes=state.rate_strikes + 1, rate_blocked_until_ms=until)
        return _rate_refusal(struck, until, now_ms, limit=settings.challenge_window_max)
    if replace_pending and pending_of_others >= settings.max_pending_per_user:
        # A replacement cancels only the caller's own: another app's sign-in stays pending.
        return Refusal(
            error=errors.PendingChallengeExists(
                f"{user!r} already has a pending challenge of another application, which "
                "replace_pending does not cancel; wait for it to be answered or to expire.",
                user_id=user,
            ),
            state=state,
            reason="pending",
        )
    if pending >= settings.max_pending_per_user and not replace_pending:
        return Refusal(
            error=errors.PendingChallengeExists(
                f"{user!r} already has a pending challenge; wait for it, cancel it, or ask to "
                "replace it (replace_pending).",
                user_id=user,
            ),
            state=state,
            reason="pending",
        )
    return None


def _rate_refusal(state: LimitState, until: int, now_ms: int, limit: int | None = None) -> Refusal:
    why = f"more than {limit} challenges without an approval" if limit else "too many challenges"
    return Refusal(
        error=errors.RateLimited(
            f"Too many push requests for {state.user_id!r} ({why}); refused until {iso(until)}.",
            user_id=state.user_id,
            until=iso(until),
            retry_after_seconds=(until - now_ms) / 1000,
        ),
        state=state,
        reason="rate_limited",
    )


def after_outcome(
    state: LimitState,
    *,
    status: ChallengeStatus,
    reason: str | None,
    now_ms: int,
    settings: Settings,
) -> tuple[LimitState, str | None]:
    """The state after a challenge resolved, and why the user got locked, if they did."""
    if status is ChallengeStatus.APPROVED:
        fresh = LimitState(user_id=state.user_id, window_start_ms=now_ms)
        return replace(fresh, locked_not_me=state.locked_not_me), None
    if status is ChallengeStatus.CANCELLED:
        return state, None
    failures = state.consecutive_failures + 1
    if reason == DenialReason.NOT_ME:
        return replace(state, consecutive_failures=failures, locked_not_me=True), "not_me"
    if failures >= settings.max_consecutive_failures:
        until = now_ms + round(settings.failure_lock_seconds * 1000)
        locked = replace(state, consecutive_failures=0, locked_until_ms=until)
        return locked, "failures"
    return replace(state, consecutive_failures=failures), None


def unlocked(state: LimitState, *, now_ms: int) -> LimitState:
    """An operator's unlock: every lock and strike lifted, the window restarted."""
    return LimitState(user_id=state.user_id, window_start_ms=now_ms)
