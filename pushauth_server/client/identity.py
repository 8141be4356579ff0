"""A device's signing identity: request proofs, enrollment proofs and challenge responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pushauth_server.client.models import PendingChallenge
from pushauth_server.clock import now_ms
from pushauth_server.protocol import (
    ChallengeResponse,
    Decision,
    DenyReason,
    EnrollmentProof,
    RequestProof,
    body_sha256,
    context_hash,
    new_request_nonce,
    public_key_b64,
    sign,
)


def enrollment_proof(
    private_key: Ed25519PrivateKey, *, origin: str, token: str, device_name: str
) -> dict[str, str]:
    """The body of a registration: the public key and its proof of possession over the token."""
    public_key = public_key_b64(private_key)
    proof = EnrollmentProof(
        origin=origin, token=token, public_key=public_key, device_name=device_name
    )
    return {
        "token": token,
        "public_key": public_key,
        "device_name": device_name,
        "signature": sign(private_key, proof),
    }


@dataclass(frozen=True, kw_only=True)
class DeviceIdentity:
    origin: str
    credential_id: str
    private_key: Ed25519PrivateKey

    def proof_headers(self, method: str, target: str, body: bytes = b"") -> dict[str, str]:
        """The four request-proof headers (protocol v2) for one request.

        ``target`` is the route path plus ``?query`` exactly as sent, without the public URL's
        prefix; ``body`` the exact body bytes sent (none for a GET).
        """
        timestamp = now_ms()
        nonce = new_request_nonce()
        proof = RequestProof(
            origin=self.origin,
            method=method,
            target=target,
            body_sha256=body_sha256(body),
            timestamp_ms=timestamp,
            nonce=nonce,
            credential_id=self.credential_id,
        )
        return {
            "X-PushAuth-Credential": self.credential_id,
            "X-PushAuth-Timestamp": str(timestamp),
            "X-PushAuth-Nonce": nonce,
            "X-PushAuth-Signature": sign(self.private_key, proof),
        }

    def response_message(
        self,
        challenge: PendingChallenge,
        *,
        decision: Decision,
        reason: DenyReason = "",
        verification_code: str = "",
    ) -> ChallengeResponse:
        return ChallengeResponse(
            origin=self.origin,
            challenge_id=challenge.challenge_id,
            nonce=challenge.nonce,
            decision=decision,
            reason=reason,
            verification_code=verification_code,
            credential_id=self.credential_id,
            context_hash=context_hash(challenge.context()),
            expires_at_ms=challenge.expires_at_ms,
        )

    def response_body(
        self,
        challenge: PendingChallenge,
        *,
        decision: Decision,
        reason: DenyReason = "",
        verification_code: str = "",
    ) -> dict[str, Any]:
        message = self.response_message(
            challenge, decision=decision, reason=reason, verification_code=verification_code
        )
        return {
            "credential_id": self.credential_id,
            "decision": decision,
            "reason": reason,
            "verification_code": verification_code,
            "signature": sign(self.private_key, message),
        }
