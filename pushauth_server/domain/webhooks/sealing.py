"""Endpoint secrets: made, shown once, and kept encrypted at rest.

The server must sign with an endpoint's secret, so it cannot keep only a hash (as it does for API
keys). It keeps it sealed with AES-256-GCM under a key derived from ``PUSHAUTH_SECRET``, the
endpoint id as associated data: a copy of the database alone does not let anyone forge
deliveries, and a sealed secret moved to another endpoint's row does not open.
"""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pushauth_server.redis_events import derive_key

SECRET_PREFIX = "whsec_"
_VERSION = "v1."
_PURPOSE = "webhook endpoint secrets"


class SecretUnreadable(Exception):
    """A sealed secret did not open: PUSHAUTH_SECRET changed since the endpoint was added."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class Sealer:
    """Seals and opens endpoint secrets with the deployment's secret."""

    def __init__(self, deployment_secret: str) -> None:
        self._aead = AESGCM(derive_key(deployment_secret, _PURPOSE))

    def seal(self, secret: str, *, endpoint_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), endpoint_id.encode("ascii"))
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, endpoint_id: str) -> str:
        if not sealed.startswith(_VERSION):
            raise SecretUnreadable("unknown sealing version")
        raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
        try:
            plain = self._aead.decrypt(raw[:12], raw[12:], endpoint_id.encode("ascii"))
        except InvalidTag as exc:
            raise SecretUnreadable(
                "the endpoint secret does not open with this PUSHAUTH_SECRET"
            ) from exc
        return plain.decode("ascii")
