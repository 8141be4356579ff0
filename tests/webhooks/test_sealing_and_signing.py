"""Endpoint secrets sealed at rest, and the Standard Webhooks headers, without a server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from standardwebhooks.webhooks import Webhook

from pushauth_server.domain.webhooks.sealing import Sealer, SecretUnreadable, new_secret
from pushauth_server.domain.webhooks.signing import signed_headers

# A fixed vector: secret, id, time and body give these exact bytes.
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
EXPECTED = "v1,SKuCXRa5Vady5XquABkK3i+BKyIO1qfgoPj05w7Aq9E="


def test_signature_is_the_standard_framing() -> None:
    headers = signed_headers(
        delivery_id="msg_1.we_1", at_seconds=1_795_000_000, body='{"a":1}', secrets=[SECRET]
    )
    digest = hmac.new(bytes(range(32)), b'msg_1.we_1.1795000000.{"a":1}', hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert headers["webhook-signature"] == EXPECTED
    assert headers["webhook-id"] == "msg_1.we_1"
    assert headers["webhook-timestamp"] == "1795000000"


def test_two_secrets_give_two_signatures_each_verifying() -> None:
    old, new = new_secret(), new_secret()
    headers = signed_headers(
        delivery_id="msg_2", at_seconds=int(time.time()), body="{}", secrets=[new, old]
    )
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify("{}", headers)
    Webhook(new).verify("{}", headers)


def test_a_sealed_secret_opens_only_for_its_endpoint_and_deployment() -> None:
    secret = new_secret()
    sealer = Sealer("deployment-one")
    sealed = sealer.seal(secret, endpoint_id="we_a")
    assert secret not in sealed
    assert sealer.open(sealed, endpoint_id="we_a") == secret
    with pytest.raises(SecretUnreadable):
        sealer.open(sealed, endpoint_id="we_b")  # moved to another endpoint's row
    with pytest.raises(SecretUnreadable):
        Sealer("deployment-two").open(sealed, endpoint_id="we_a")  # another PUSHAUTH_SECRET
    assert sealer.seal(secret, endpoint_id="we_a") != sealed  # a fresh nonce each time
