"""Ed25519 keys: generation, raw encodings, signing and verification."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pushauth_server.protocol.curve import (
    decode_point,
    has_small_order,
    public_key_problem,
    signature_problem,
)
from pushauth_server.protocol.encoding import b64url_decode, b64url_encode
from pushauth_server.protocol.messages import SignedMessage, signed_bytes

PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return b64url_encode(raw)


def sign(private_key: Ed25519PrivateKey, message: SignedMessage) -> str:
    """Sign ``message``; returns the signature as unpadded base64url."""
    return b64url_encode(private_key.sign(signed_bytes(message)))


@lru_cache(maxsize=4096)
def _public_key(public_key: str) -> Ed25519PublicKey | None:
    """The parsed key (parsed once per key, not once per verification), or None if malformed
    or weak: a non-canonical or small-order point verifies nothing (see :mod:`.curve`)."""
    try:
        key_bytes = b64url_decode(public_key)
        if len(key_bytes) != PUBLIC_KEY_LENGTH:
            return None
        point = decode_point(key_bytes)
        if point is None or has_small_order(point):
            return None
        return Ed25519PublicKey.from_public_bytes(key_bytes)
    except ValueError:
        return None


def verify(*, public_key: str, message: SignedMessage, signature: str) -> bool:
    """True when ``signature`` is ``public_key``'s signature over ``message``; never raises.

    Strict: besides the RFC 8032 equation, the key must be a canonical point of large order,
    ``R`` a canonical point of large order and ``S < L`` (see :mod:`.curve`), so no forged
    "universal" signature verifies under a weak key and no signature has a second spelling.
    """
    key = _public_key(public_key)
    if key is None:
        return False
    try:
        sig_bytes = b64url_decode(signature)
        if len(sig_bytes) != SIGNATURE_LENGTH:
            return False
        if signature_problem(sig_bytes) is not None:
            return False
        key.verify(sig_bytes, signed_bytes(message))
    except (ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyRejection:
    """Why a public key is refused: malformed text, or a weak point (``weak=True``)."""

    problem: str
    weak: bool


def public_key_rejection(public_key: str) -> KeyRejection | None:
    """``None`` for a key pushauth accepts at registration; otherwise why it is refused."""
    try:
        raw = b64url_decode(public_key)
    except ValueError:
        return KeyRejection(problem="not unpadded base64url", weak=False)
    if len(raw) != PUBLIC_KEY_LENGTH:
        return KeyRejection(problem=f"not {PUBLIC_KEY_LENGTH} bytes", weak=False)
    # A weak key (small order, torsion, or a second spelling) is refused before it is stored.
    problem = public_key_problem(raw)
    return None if problem is None else KeyRejection(problem=problem, weak=True)


def is_valid_public_key(public_key: str) -> bool:
    return public_key_rejection(public_key) is None
