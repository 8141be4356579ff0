"""A stream opened with an application key ends when that key stops working.

Every request checks its key, but an audit stream is one request that lasts: a leaked admin key
revoked by the operator must not keep receiving every user's audit rows on a stream it opened
before. A real server and real HTTP; the stream is read until the server closes it.
"""

from __future__ import annotations

import time

import httpx

from tests.conftest import StartServer
from tests.integration.apps_support import enroll
from tests.support.processes import API_KEY

OPERATOR = {"Authorization": f"Bearer {API_KEY}"}
DEADLINE_SECONDS = 60  # a bound on the wait, never a timing that is asserted


def test_an_audit_stream_ends_when_its_app_is_revoked(start_server: StartServer) -> None:
    server = start_server(stream_keepalive_seconds="0.2")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        created = client.post(
            "/v1/apps", json={"name": "auditor", "scopes": ["admin"]}, headers=OPERATOR
        )
        assert created.status_code == 201, created.text
        key = {"Authorization": f"Bearer {created.json()['key']}"}
        with client.stream("GET", "/v1/audit/stream", headers=key) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("event:")) == "event: ready"
            revoked = client.post("/v1/apps/auditor/revoke", headers=OPERATOR)
            assert revoked.status_code == 200, revoked.text
            # Read until the server ends the stream (keep-alives come every 0.2 s meanwhile).
            deadline = time.monotonic() + DEADLINE_SECONDS
            for _line in lines:
                assert time.monotonic() < deadline, "the revoked key's stream is still open"
        assert client.get("/v1/audit/head", headers=key).status_code == 401


def test_a_challenge_event_stream_ends_when_its_app_is_revoked(start_server: StartServer) -> None:
    server = start_server(stream_keepalive_seconds="0.2", challenge_ttl_max_seconds="3600")
    enroll(server.url, "eve")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        created = client.post(
            "/v1/apps", json={"name": "web", "scopes": ["challenges"]}, headers=OPERATOR
        )
        assert created.status_code == 201, created.text
        key = {"Authorization": f"Bearer {created.json()['key']}"}
        asked = client.post(
            "/v1/challenges", json={"user_id": "eve", "expires_in_seconds": 3600}, headers=key
        )
        assert asked.status_code == 201, asked.text
        path = f"/v1/challenges/{asked.json()['challenge_id']}/events"
        with client.stream("GET", path, headers=key) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("event:")) == "event: status"
            revoked = client.post("/v1/apps/web/revoke", headers=OPERATOR)
            assert revoked.status_code == 200, revoked.text
            deadline = time.monotonic() + DEADLINE_SECONDS
            for _line in lines:
                assert time.monotonic() < deadline, "the revoked key's stream is still open"
        # The challenge itself is untouched: still pending for the device.
        still = client.get(f"/v1/challenges/{asked.json()['challenge_id']}", headers=OPERATOR)
        assert still.json()["status"] == "pending"
