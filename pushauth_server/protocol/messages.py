"""The three kinds of signed message, and the one function that turns each into bytes.

Each kind is its own frozen dataclass with its own domain label, so a signature made over an
enrollment proof can never be presented as a challenge response (and so on). Devices and the
server both call :func:`signed_bytes`; nothing else in pushauth builds signed bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from pushauth_server.protocol.encoding import PROTOCOL_VERSION, FieldValue, canonical_bytes

Decision = Literal["approve", "deny"]
DenyReason = Literal["", "not_me"]


class SignedMessage(Protocol):
    KIND: ClassVar[str]
    VERSION: ClassVar[int]

    def fields(self) -> tuple[tuple[str, FieldValue], ...]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class EnrollmentProof:
    """Proof that the device holding ``public_key`` was handed the single-use ``token``."""

    KIND: ClassVar[str] = "enrollment-proof"
    VERSION: ClassVar[int] = PROTOCOL_VERSION
    origin: str
    token: str
    public_key: str  # unpadded base64url of the raw 32-byte Ed25519 public key
    device_name: str

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        return (
            ("origin", self.origin),
            ("token", self.token),
            ("public_key", self.public_key),
            ("device_name", self.device_name),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestProof:
    """Fresh proof of key possession for a device call that is not a response.

    Binds the whole request: method, the route path with its query string (``target``), and the
    SHA-256 of the exact body bytes, so no part of a signed request can be changed in transit.
    """

    KIND: ClassVar[str] = "request-proof"
    VERSION: ClassVar[int] = PROTOCOL_VERSION
    origin: str
    method: str
    target: str  # route path, then "?" and the query string exactly as sent, if there is one
    body_sha256: str  # lowercase hex SHA-256 of the body bytes (of b"" when there is no body)
    timestamp_ms: int
    nonce: str  # >= 128 random bits, unpadded base64url (see proofs.NONCE_PATTERN)
    credential_id: str

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        return (
            ("origin", self.origin),
            ("method", self.method.upper()),
            ("target", self.target),
            ("body_sha256", self.body_sha256),
            ("timestamp_ms", self.timestamp_ms),
            ("nonce", self.nonce),
            ("credential_id", self.credential_id),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ChallengeResponse:
    """The user's answer to one challenge: the decision and what they saw are both signed."""

    KIND: ClassVar[str] = "challenge-response"
    VERSION: ClassVar[int] = PROTOCOL_VERSION
    origin: str
    challenge_id: str
    nonce: str  # the server's nonce for this challenge, >= 128 random bits, base64url
    decision: Decision
    reason: DenyReason
    verification_code: str  # the number the user typed; "" only where number matching is off
    credential_id: str
    context_hash: str  # hex SHA-256 of the context the device displayed
    expires_at_ms: int

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        return (
            ("origin", self.origin),
            ("challenge_id", self.challenge_id),
            ("nonce", self.nonce),
            ("decision", self.decision),
            ("reason", self.reason),
            ("verification_code", self.verification_code),
            ("credential_id", self.credential_id),
            ("context_hash", self.context_hash),
            ("expires_at_ms", self.expires_at_ms),
        )


def signed_bytes(message: SignedMessage) -> bytes:
    """The exact bytes a device signs and the server verifies for ``message``."""
    return canonical_bytes(message.KIND, message.fields(), version=message.VERSION)
