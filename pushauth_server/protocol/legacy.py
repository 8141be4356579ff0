"""Protocol version 1, kept only to recognise it: a v1 request proof is refused with a clear
``unsupported_protocol_version`` instead of a bare ``invalid_signature``.

Version 1 signed neither the query string nor the body. Nothing here is ever accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pushauth_server.protocol.encoding import FieldValue


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
