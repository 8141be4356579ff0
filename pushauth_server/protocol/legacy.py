"""Protocol versions 1 and 2, kept only to recognise them and to verify old receipts.

A device that still signs an older version is refused with a clear
``unsupported_protocol_version`` instead of a bare ``invalid_signature``; nothing signed under an
older version is ever accepted as a new request, proof or answer. Answers signed before an upgrade
stay verifiable in the audit trail under the version their receipt carries.

* Version 1 signed neither the query string nor the body of a request proof.
* Version 2 did not put the asking application in the context hash.

Otherwise the messages are the same: the same fields under an older version byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pushauth_server.protocol.context import ChallengeContext
from pushauth_server.protocol.encoding import FieldValue, canonical_bytes
from pushauth_server.protocol.messages import ChallengeResponse, EnrollmentProof, RequestProof

_ADDED_IN_V3 = frozenset({"application"})
M = TypeVar("M")


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestProofV1:
    KIND: ClassVar[str] = "request-proof"
    VERSION: ClassVar[int] = 1
    origin: str
    method: str
    path: str
    timestamp_ms: int
    nonce: str
    credential_id: str

    def fields(self) -> tuple[tuple[str, FieldValue], ...]:
        return (
            ("origin", self.origin),
            ("method", self.method.upper()),
            ("path", self.path),
            ("timestamp_ms", self.timestamp_ms),
            ("nonce", self.nonce),
            ("credential_id", self.credential_id),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestProofV2(RequestProof):
    VERSION: ClassVar[int] = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class EnrollmentProofV2(EnrollmentProof):
    VERSION: ClassVar[int] = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class ChallengeResponseV1(ChallengeResponse):
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class ChallengeResponseV2(ChallengeResponse):
    VERSION: ClassVar[int] = 2


RESPONSE_BY_VERSION: dict[int, type[ChallengeResponse]] = {
    1: ChallengeResponseV1,
    2: ChallengeResponseV2,
}


def legacy_context_hash(context: ChallengeContext, *, version: int) -> str:
    """The context hash as version 1 or 2 computed it: without the application, whose own
    version byte it carries."""
    fields = tuple((name, value) for name, value in context.fields() if name not in _ADDED_IN_V3)
    encoded = canonical_bytes("challenge-context", fields, version=version)
    return hashlib.sha256(encoded).hexdigest()


def as_older(older: type[M], message: Any, **changes: Any) -> M:
    """``message``'s fields (with ``changes``) as the older message class ``older``."""
    fields = {field.name: getattr(message, field.name) for field in dataclasses.fields(message)}
    return older(**{**fields, **changes})
