"""judge_response: denial wins, wrong number fails at once, plain approval only without matching."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushauth_server.protocol import (
    ChallengeResponse,
    ChallengeStatus,
    DenialReason,
    judge_response,
)

EXPECTED = "042917"
BASE = ChallengeResponse(
    origin="o",
    challenge_id="ch",
    nonce="n",
    decision="approve",
    reason="",
    verification_code=EXPECTED,
    credential_id="cr",
    context_hash="h",
    expires_at_ms=1,
)


def judge(number_matching: bool = True, **changes: str) -> tuple[ChallengeStatus, object]:
    outcome = judge_response(
        response=dataclasses.replace(BASE, **changes),  # type: ignore[arg-type]
        expected_code=EXPECTED,
        number_matching=number_matching,
    )
    return outcome.status, outcome.reason


@pytest.mark.parametrize("number_matching", [True, False])
def test_deny_is_denied(number_matching: bool) -> None:
    assert judge(number_matching, decision="deny") == (
        ChallengeStatus.DENIED,
        DenialReason.USER_DENIED,
    )


@pytest.mark.parametrize("number_matching", [True, False])
def test_not_me_is_recorded(number_matching: bool) -> None:
    assert judge(number_matching, decision="deny", reason="not_me") == (
        ChallengeStatus.DENIED,
        DenialReason.NOT_ME,
    )


def test_deny_wins_even_with_the_right_code() -> None:
    status, _ = judge(decision="deny", verification_code=EXPECTED)
    assert status is ChallengeStatus.DENIED


def test_approve_with_the_right_code_is_approved() -> None:
    assert judge() == (ChallengeStatus.APPROVED, None)


@pytest.mark.parametrize("typed", ["042918", "42917", "", "0429170", "999999"])
def test_approve_with_a_wrong_code_is_denied_wrong_code(typed: str) -> None:
    assert judge(verification_code=typed) == (ChallengeStatus.DENIED, DenialReason.WRONG_CODE)


@pytest.mark.parametrize("typed", ["", "999999"])
def test_plain_approval_only_when_number_matching_is_off(typed: str) -> None:
    assert judge(False, verification_code=typed) == (ChallengeStatus.APPROVED, None)
    assert judge(True, verification_code=typed)[0] is ChallengeStatus.DENIED


@given(
    decision=st.sampled_from(["approve", "deny"]),
    reason=st.sampled_from(["", "not_me"]),
    typed=st.text(alphabet="0123456789", max_size=8),
    number_matching=st.booleans(),
)
def test_approved_exactly_when_allowed(
    decision: str, reason: str, typed: str, number_matching: bool
) -> None:
    status, _ = judge(number_matching, decision=decision, reason=reason, verification_code=typed)
    allowed = decision == "approve" and (not number_matching or typed == EXPECTED)
    assert (status is ChallengeStatus.APPROVED) == allowed
    assert status in (ChallengeStatus.APPROVED, ChallengeStatus.DENIED)
