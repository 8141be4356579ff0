"""Judge a verified challenge response: which terminal state it leads to, and why."""

from __future__ import annotations

from dataclasses import dataclass

from pushauth_server.protocol.codes import codes_match
from pushauth_server.protocol.messages import ChallengeResponse
from pushauth_server.protocol.states import ChallengeStatus, DenialReason


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    status: ChallengeStatus
    reason: DenialReason | None


def judge_response(
    *, response: ChallengeResponse, expected_code: str, number_matching: bool
) -> Outcome:
    """Map a response whose signature is already verified to its outcome.

    A denial wins over everything (the user said no). An approval needs the right number when
    number matching is on: a wrong number fails the challenge at once — one attempt, so a
    push-bombing attacker cannot have the user guess.
    """
    if response.decision == "deny":
        reason = DenialReason.NOT_ME if response.reason == "not_me" else DenialReason.USER_DENIED
        return Outcome(status=ChallengeStatus.DENIED, reason=reason)
    if number_matching and not codes_match(expected_code, response.verification_code):
        return Outcome(status=ChallengeStatus.DENIED, reason=DenialReason.WRONG_CODE)
    return Outcome(status=ChallengeStatus.APPROVED, reason=None)
