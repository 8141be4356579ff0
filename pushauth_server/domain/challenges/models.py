"""The server's record of a challenge, and how it becomes the protocol's context and response."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pushauth_server.protocol import (
    PROTOCOL_VERSION,
    ChallengeContext,
    ChallengeResponse,
    ChallengeStatus,
    Decision,
    DenyReason,
    context_hash,
)
from pushauth_server.protocol.legacy import legacy_context_hash
from pushauth_server.storage import tables

_COLUMNS = tuple(column.name for column in tables.challenges.c)


@dataclass(frozen=True, kw_only=True, slots=True)
class Challenge:
    challenge_id: str
    user_id: str
    action: str
    context: ChallengeContext
    nonce: str
    verification_code: str
    number_matching: bool
    status: ChallengeStatus
    reason: str | None
    created_at_ms: int
    expires_at_ms: int
    resolved_at_ms: int | None = None
    credential_id: str | None = None
    decision: str | None = None
    response_reason: str | None = None
    response_code: str | None = None
    signature: str | None = None
    app_id: str | None = None  # the application that created it (domain/apps)
    # The hash of ``context`` that the device signs: computed once, at creation, and stored.
    context_hash: str = ""

    def __post_init__(self) -> None:
        if not self.context_hash:
            object.__setattr__(self, "context_hash", context_hash(self.context))

    @classmethod
    def from_row(cls, row: Any) -> Challenge:
        values = {name: getattr(row, name) for name in _COLUMNS}
        context = json.loads(values.pop("context_json"))
        digest = context.pop("hash", "")  # rows written before the hash was stored: computed
        if "application" not in context:
            # Stored before protocol 3: its hash is a version-2 one, which no device answers
            # with any more; answers signed under it are checked by the audit (``receipt``).
            digest = ""
        values["status"] = ChallengeStatus(values["status"])
        values["number_matching"] = bool(values["number_matching"])
        context["custom"] = tuple((key, value) for key, value in context["custom"])
        return cls(context=ChallengeContext(**context), context_hash=digest, **values)

    def to_row(self) -> dict[str, Any]:
        row = {
            name: getattr(self, name)
            for name in (column.name for column in tables.challenges.c)
            if name != "context_json"
        }
        row["status"] = self.status.value
        row["context_json"] = context_json(self.context, self.context_hash)
        return row

    def receipt(self, origin: str, version: int = PROTOCOL_VERSION) -> dict[str, Any] | None:
        """The signed response as a self-contained receipt, or None if there is none.

        ``version``: the protocol version it is taken to be signed under (older versions hashed
        the context differently: :func:`~pushauth_server.protocol.legacy.legacy_context_hash`).
        """
        if self.signature is None or self.credential_id is None or self.decision is None:
            return None
        message = self.response_message(
            origin=origin,
            credential_id=self.credential_id,
            decision="approve" if self.decision == "approve" else "deny",
            reason="not_me" if self.response_reason == "not_me" else "",
            verification_code=self.response_code or "",
        )
        fields = dict(message.fields())
        if version != PROTOCOL_VERSION:
            fields["context_hash"] = legacy_context_hash(self.context, version=version)
        # The origin is among the fields; the protocol version says how they were encoded.
        return {**fields, "signature": self.signature, "protocol_version": version}

    def response_message(
        self,
        *,
        origin: str,
        credential_id: str,
        decision: Decision,
        reason: DenyReason,
        verification_code: str,
    ) -> ChallengeResponse:
        """The message the device must have signed, rebuilt from what the server stored."""
        return ChallengeResponse(
            origin=origin,
            challenge_id=self.challenge_id,
            nonce=self.nonce,
            decision=decision,
            reason=reason,
            verification_code=verification_code,
            credential_id=credential_id,
            context_hash=self.context_hash,
            expires_at_ms=self.expires_at_ms,
        )


def context_dict(context: ChallengeContext) -> dict[str, Any]:
    """The initiator context as audit rows record it."""
    return {**context.shown(), "custom": dict(context.custom)}


def context_json(context: ChallengeContext, digest: str | None = None) -> str:
    """The stored form of ``context``, with its hash (``digest``) under ``"hash"``."""
    stored: dict[str, Any] = {"hash": digest} if digest else {}
    return json.dumps(
        stored
        | {
            "user_id": context.user_id,
            "action": context.action,
            "created_at_ms": context.created_at_ms,
            **context.shown(),
            "custom": [list(item) for item in context.custom],
        },
        sort_keys=True,
    )
