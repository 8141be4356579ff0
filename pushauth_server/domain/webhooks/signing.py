"""Standard Webhooks signatures, made by the maintained ``standardwebhooks`` library.

``webhook-signature`` carries one ``v1,<base64 HMAC-SHA256>`` per secret, space-separated (the
specification allows several): during a rotation's overlap both the new and the previous secret
sign, so a receiver still holding either one verifies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(
    *, delivery_id: str, at_seconds: int, body: str, secrets: Sequence[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent at ``at_seconds``."""
    at = datetime.fromtimestamp(at_seconds, tz=UTC)
    signatures = " ".join(Webhook(secret).sign(delivery_id, at, body) for secret in secrets)
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(at_seconds),
        "webhook-signature": signatures,
    }
