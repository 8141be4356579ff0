"""Hypothesis strategies for protocol values: text, ints and whole messages."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from pushauth_server.protocol import (
    ChallengeContext,
    ChallengeResponse,
    EnrollmentProof,
    RequestProof,
)

texts = st.text(max_size=40)
ints = st.integers(min_value=0, max_value=2**53)
decisions = st.sampled_from(["approve", "deny"])
reasons = st.sampled_from(["", "not_me"])


def _field_values(cls: type[Any]) -> dict[str, st.SearchStrategy[Any]]:
    """A strategy per field of a signed-message dataclass, by the field's declared type."""
    by_type: dict[str, st.SearchStrategy[Any]] = {"str": texts, "int": ints}
    special: dict[str, st.SearchStrategy[Any]] = {"decision": decisions, "reason": reasons}
    return {
        name: special[name] if name in special else by_type[str(annotation)]
        for name, annotation in cls.__annotations__.items()
        if name not in ("KIND", "VERSION")
    }


enrollment_proofs = st.builds(EnrollmentProof, **_field_values(EnrollmentProof))
request_proofs = st.builds(RequestProof, **_field_values(RequestProof))
challenge_responses = st.builds(ChallengeResponse, **_field_values(ChallengeResponse))
contexts = st.builds(
    ChallengeContext,
    user_id=texts,
    action=texts,
    created_at_ms=ints,
    application=texts,
    note=texts,
    initiator_host=texts,
    initiator_ip=texts,
    initiator_user_agent=texts,
    custom=st.dictionaries(st.text(max_size=10), texts, max_size=4).map(
        ChallengeContext.custom_items
    ),
)
