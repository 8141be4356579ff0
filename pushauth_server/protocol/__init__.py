"""The pushauth protocol, pure Python: signed messages, keys, codes, context and states.

Imports neither Litestar nor SQLAlchemy; the device, the CLI and the server all use it.
"""

from pushauth_server.protocol.codes import codes_match, new_verification_code
from pushauth_server.protocol.context import (
    CONTEXT_FIELDS,
    RELYING_PARTY_FIELDS,
    ChallengeContext,
    ContextField,
    context_hash,
)
from pushauth_server.protocol.encoding import (
    PROTOCOL_VERSION,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
)
from pushauth_server.protocol.keys import (
    generate_private_key,
    is_valid_public_key,
    private_key_from_seed,
    public_key_b64,
    public_key_rejection,
    sign,
    verify,
)
from pushauth_server.protocol.messages import (
    ChallengeResponse,
    Decision,
    DenyReason,
    EnrollmentProof,
    RequestProof,
    SignedMessage,
    signed_bytes,
)
from pushauth_server.protocol.outcome import Outcome, judge_response
from pushauth_server.protocol.proofs import (
    NONCE_PATTERN,
    body_sha256,
    is_valid_nonce,
    new_request_nonce,
    request_target,
)
from pushauth_server.protocol.states import ChallengeStatus, DenialReason, can_transition

__all__ = [
    "CONTEXT_FIELDS",
    "NONCE_PATTERN",
    "PROTOCOL_VERSION",
    "RELYING_PARTY_FIELDS",
    "ChallengeContext",
    "ChallengeResponse",
    "ChallengeStatus",
    "ContextField",
    "Decision",
    "DenialReason",
    "DenyReason",
    "EnrollmentProof",
    "Outcome",
    "RequestProof",
    "SignedMessage",
    "b64url_decode",
    "b64url_encode",
    "body_sha256",
    "can_transition",
    "canonical_bytes",
    "codes_match",
    "context_hash",
    "generate_private_key",
    "is_valid_nonce",
    "is_valid_public_key",
    "judge_response",
    "new_request_nonce",
    "new_verification_code",
    "private_key_from_seed",
    "public_key_b64",
    "public_key_rejection",
    "request_target",
    "sign",
    "signed_bytes",
    "verify",
]
